"""The ``etiquette`` section of a ruleset (docs/policy.md Q1-Q9, A1): its models and checks.

How calls are judged against it lives in :mod:`tierrules.evaluation.etiquette`. Phrases are
compared after :func:`tierrules.text.normalize`, so they may be written in traditional or
simplified characters, with either width of punctuation.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler, field_validator, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from ..errors import PathPart, Problem, Rank, descend, did_you_mean
from ..text import normalize
from ..vocabulary import ID_PATTERN, ServiceLevel, Text, clause_pattern

Severity = Literal["fail", "review"]

_Q_CLAUSE = clause_pattern("Q")
_HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class PhraseSpec(BaseModel):
    """A phrase an agent must not say, with the contexts in which the same characters are fine.

    ``allow``: longer contexts that contain the phrase and are not a violation (行不行 for 不行).
    ``negations``: words that, directly before the phrase, cancel it (并非 before 不可能); each
    is the allow context ``negation + phrase``. ``suggest``: what to say instead, for messages.
    All strings are compared after :func:`normalize`, so they may be written in traditional or
    simplified characters, with either width of punctuation.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN, description="Stable id, e.g. 'Q5.bu-xing'.")
    phrase: str = Field(min_length=1)
    allow: tuple[str, ...] = Field(default=(), description="Longer contexts in which it is not a violation.")
    negations: tuple[str, ...] = Field(
        default=(), description="Words that cancel it when directly before it."
    )
    variants: tuple[str, ...] = Field(
        default=(),
        description="Regular expressions (on the normalised text) for the same words said otherwise: "
        "您先别着急 for 请您别着急. A variant inside an allow context or a quotation is not a violation.",
    )
    allow_patterns: tuple[str, ...] = Field(
        default=(),
        description="Regular expressions for harmless constructions around the phrase: a match of the "
        "phrase (or a variant) inside one is not a violation (不可能让您白跑 is a promise).",
    )
    suggest: tuple[str, ...] = Field(default=(), description="Suggested replacements, for messages.")
    review_forms: tuple[str, ...] = Field(
        default=(),
        description="Regular expressions matched at the start of a found *variant*'s own words: a "
        "match makes it a reviewer's call (确实做不到 regrets; 根本办不到 refuses).",
    )
    review_after: tuple[str, ...] = Field(
        default=(),
        description="Regular expressions for what may follow a *variant* in the same sentence and "
        "make it a reviewer's call: a 'cannot' that goes on to explain or offer a way "
        "(确实做不到，退款只能原路返回). The finding is then for review, not a fail.",
    )
    fail_forms: tuple[str, ...] = Field(
        default=(),
        description="Regular expressions for the shapes in which the phrase (or a variant) refuses, "
        "matched on its sentence and overlapping its words (这个不可能, 不可能给您退, 不可能是我们"
        "的问题, 这个我也不知道). When given, a finding no form overlaps is a reviewer's call, not a "
        "fail: the same words also promise, reassure or apologise (我们职员是不可能看到的, 我不知道您"
        "已经跑了两趟). Empty: every finding may fail.",
    )
    in_rules: bool = Field(
        default=True,
        description="Whether the words can be part of a rule's own text (没有例外情形, 不可能), so "
        "that a rule read aloud in the same sentence makes a finding a reviewer's call. False for "
        "a comment on a rule (这是规定, 我们规定如此): no rule says it of itself.",
    )
    note: str | None = Field(default=None, description="Why the phrase, its allow-list and negations.")

    @field_validator("phrase")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a phrase cannot be blank")
        return value

    @field_validator(
        "allow", "negations", "suggest", "variants", "allow_patterns", "review_after", "review_forms"
    )
    @classmethod
    def _no_blank_items(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not item.strip() for item in value):
            raise ValueError("entries cannot be blank")
        return value

    def contexts(self) -> tuple[str, ...]:
        """Every context in which the phrase is not a violation: allow-list and negated forms."""
        return self.allow + tuple(negation + self.phrase for negation in self.negations)


@functools.lru_cache(maxsize=4096)
def _key(phrase: str) -> str:
    """A phrase's matching key: its normalised text."""
    return normalize(phrase).text


def _occurrences(needle: str, haystack: str) -> list[int]:
    found, at = [], haystack.find(needle)
    while at >= 0:
        found.append(at)
        at = haystack.find(needle, at + 1)
    return found


def phrase_problems(phrases: Sequence[PhraseSpec], path: tuple[PathPart, ...] = ()) -> list[Problem]:
    """What is wrong with a phrase list, each problem located at ``path + (index, field, ...)``.

    Checked after normalisation: ids are unique; phrases do not normalise to nothing; every
    allow context contains its phrase and is longer; no text is both forbidden and allowed;
    and no allow context hides another entry's phrase (a context of 不可能 must not contain
    不行 outside its own 不可能, or it would silently allow 不行 there).
    """
    forbidden: dict[str, int] = {}  # matching key -> the first entry with it
    for i, spec in enumerate(phrases):
        key = _key(spec.phrase)
        if key:
            forbidden.setdefault(key, i)
    return [*_entry_problems(phrases, path, forbidden), *_context_problems(phrases, path, forbidden)]


def _entry_problems(
    phrases: Sequence[PhraseSpec], path: tuple[PathPart, ...], forbidden: Mapping[str, int]
) -> Iterator[Problem]:
    """Duplicate ids, phrases that normalise to nothing or to an earlier entry's phrase."""
    ids: dict[str, int] = {}
    for i, spec in enumerate(phrases):
        if spec.id in ids:
            yield Problem(f"duplicate phrase id (also entry {ids[spec.id]})", (*path, i, "id"), spec.id)
        ids.setdefault(spec.id, i)
        key = _key(spec.phrase)
        if not key:
            yield Problem("the phrase normalises to nothing", (*path, i, "phrase"), spec.phrase)
        elif forbidden[key] != i:
            yield Problem(
                f"the same phrase as {phrases[forbidden[key]].id!r} after normalisation",
                (*path, i, "phrase"),
                spec.phrase,
            )


def _context_problems(
    phrases: Sequence[PhraseSpec], path: tuple[PathPart, ...], forbidden: Mapping[str, int]
) -> Iterator[Problem]:
    """What is wrong with each allow context and negation, located at the context."""
    for i, spec in enumerate(phrases):
        if not _key(spec.phrase):
            continue
        located: list[tuple[tuple[PathPart, ...], str]] = [
            ((*path, i, "allow", k), context) for k, context in enumerate(spec.allow)
        ]
        located += [((*path, i, "negations", k), neg + spec.phrase) for k, neg in enumerate(spec.negations)]
        for where, context in located:
            for message in _context_messages(phrases, i, context, forbidden):
                yield Problem(message, where, context)


def _context_messages(
    phrases: Sequence[PhraseSpec], i: int, context: str, forbidden: Mapping[str, int]
) -> Iterator[str]:
    """What is wrong with one context of entry ``i``: it must hold the phrase, be no other entry's
    phrase, and hide no other entry's phrase."""
    key, ckey = _key(phrases[i].phrase), _key(context)
    own = _occurrences(key, ckey)
    if not own or len(ckey) == len(key):
        yield f"must contain the phrase {phrases[i].phrase!r} and be longer"
        return
    if ckey in forbidden:
        yield f"allowed here but forbidden by {phrases[forbidden[ckey]].id!r}"
        return
    for okey, j in forbidden.items():
        # Hiding another phrase is intended only where it overlaps this one
        # (真的不行 allowed in a context hides the 不行 inside it).
        if j != i and any(
            not any(at < o + len(key) and o < at + len(okey) for o in own) for at in _occurrences(okey, ckey)
        ):
            yield f"would also allow {phrases[j].id!r} ({phrases[j].phrase!r}) inside it"


def pattern_problems(patterns: Sequence[str], path: tuple[PathPart, ...]) -> Iterator[Problem]:
    """Regular expressions that do not compile, or that match the empty string."""
    for k, pattern in enumerate(patterns):
        try:
            compiled = re.compile(pattern)
        except re.error as err:
            yield Problem(f"not a regular expression: {err}", (*path, k), pattern, rank=Rank.INVALID)
            continue
        if compiled.fullmatch(""):
            yield Problem("a pattern that matches nothing at all would match everywhere", (*path, k), pattern)


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Wording(_Spec):
    """Ways of saying one thing: literal ``phrases`` and regular-expression ``patterns``.

    Both are matched against the normalised text (simplified characters, ASCII punctuation,
    no spaces between Chinese characters), so a phrase may be written in either script. A
    plain list in YAML is a list of phrases. QA leads extend these lists as they find the
    words their agents use.
    """

    phrases: tuple[str, ...] = Field(default=(), description="Literal phrases, any of which counts.")
    patterns: tuple[str, ...] = Field(
        default=(), description="Regular expressions on the normalised text, any of which counts."
    )

    @model_validator(mode="before")
    @classmethod
    def _from_list(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return {"phrases": tuple(value)}
        return value

    @property
    def empty(self) -> bool:
        return not self.phrases and not self.patterns

    @classmethod
    def __get_pydantic_json_schema__(cls, core: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        phrases = {"type": "array", "items": {"type": "string"}, "description": "Literal phrases."}
        return {"anyOf": [phrases, handler(core)]}


def _wording(*phrases: str, patterns: tuple[str, ...] = ()) -> Any:
    return Field(default_factory=lambda: Wording(phrases=phrases, patterns=patterns))


class Check(_Spec):
    """What every check has: a rule id, its clause, a description and the severity of a finding."""

    id: str = Field(pattern=ID_PATTERN, description="Unique rule id, e.g. 'Q5.forbidden-phrases'.")
    source: str = Field(pattern=_Q_CLAUSE, description="The policy clause (docs/policy.md), e.g. 'Q5'.")
    description: Text
    severity: Severity = Field(default="fail", description="fail costs scorecard points; review does not.")


class Opening(_Spec):
    """The agent's opening: speech recognition splits it over several turns, so it is the agent's
    turns in the first ``seconds`` of the conversation (at most ``turns`` of them, at least one)."""

    seconds: float = Field(default=20, gt=0, le=600)
    turns: int = Field(default=3, ge=1, le=20)


class GreetingSlot(_Spec):
    """From ``start`` (local HH:MM) until the next slot's start, these greetings fit the time."""

    start: str = Field(pattern=_HHMM)
    greetings: tuple[str, ...] = Field(min_length=1, description="The first is the one the policy names.")

    @model_validator(mode="before")
    @classmethod
    def _one_greeting(cls, value: Any) -> Any:
        if isinstance(value, dict) and "greeting" in value and "greetings" not in value:
            value = {**value, "greetings": [value["greeting"]]}
            del value["greeting"]
        return value

    @property
    def greeting(self) -> str:
        return self.greetings[0]

    def minutes(self) -> int:
        hours, minutes = self.start.split(":")
        return int(hours) * 60 + int(minutes)


class VipGreeting(_Spec):
    """Q1's VIP form (尊敬的XX客户，欢迎您再次莅临), an in-person greeting the policy allows (可).

    Expected only with ``strict``: a VIP customer (service level in ``levels``, or a
    ``customer_arrived`` with ``vip: true``) visiting in person. Heard when the opening contains
    one of ``phrases``, or ``address[0]`` followed by ``address[1]`` within ``max_gap`` characters.
    """

    levels: tuple[ServiceLevel, ...] = Field(default=(1,), min_length=1)
    phrases: tuple[str, ...] = Field(default=("欢迎您再次莅临",))
    address: tuple[str, str] | None = ("尊敬的", "客户")
    max_gap: int = Field(
        default=10, ge=0, le=100, description="Characters allowed between the address parts."
    )


class GreetingCheck(Check):
    """Q1: the agent's first words greet — by the time of day in person, 您好 on the phone.

    The first greeting heard in the opening decides: a generic greeting (``generic``: 您好)
    fits any hour unless ``strict`` (then, in person, only the slot's greetings do); a greeting
    of the time slot fits; a greeting of another slot is wrong (within ``boundary_minutes`` of
    a slot boundary, the neighbouring slot's greetings are fine too); no greeting at all is
    wrong. The last slot runs past midnight until the first. With ``strict``, a returning
    customer must also hear ``regular_phrases`` and an in-person VIP the VIP form.
    """

    slots: tuple[GreetingSlot, ...] = Field(min_length=1)
    generic: tuple[str, ...] = Field(default=("您好", "你好"), description="Greetings that fit any hour.")
    boundary_minutes: int = Field(default=5, ge=0, le=120)
    strict: bool = Field(default=False, description="Opt in to the strict reading (see the class docs).")
    channels: tuple[Literal["phone", "lobby"], ...] = Field(default=("phone", "lobby"))
    vip: VipGreeting | None = None
    regular_phrases: tuple[str, ...] = Field(
        default=(), description="Regulars' addition (很高兴再次为您服务), required only when strict."
    )


class PhoneOpeningCheck(Check):
    """Q2 (phone): answered by ring ``max_rings``; the opening names the organisation and the agent.

    The organisation may be said by its name, an alias the event gives, or a short form
    (its name without ``organisation_affixes``; 交行 for a bank 交通银行). The agent may say
    their full name, their given name, or a ``name_prefixes`` form (小李, 老李). A bare staff
    number (``staff_number``) instead of a name is for review.
    """

    max_rings: int = Field(default=3, ge=1, le=100)
    max_rings_level1: int | None = Field(
        default=None, ge=1, le=100, description="Stricter limit for service-level 1 customers (T3); optional."
    )
    require_organisation: bool = True
    require_agent_name: bool = True
    name_prefixes: tuple[str, ...] = Field(default=("小", "老"))
    organisation_affixes: tuple[str, ...] = Field(
        default=("中国", "股份有限公司", "有限责任公司", "有限公司", "集团", "公司", "客服中心", "服务中心"),
        description="Dropped from the organisation's name to find the short forms agents say.",
    )
    staff_number: Wording = _wording(patterns=(r"工号[0-9a-z]+", r"[0-9]+号(客服|话务员|坐席|专员)"))
    surname_introductions: tuple[str, ...] = Field(
        default=("敝姓", "我姓", "小姓", "本人姓"),
        description="Words before the agent's surname alone (Taiwan's 敝姓陈): with it, the agent's name.",
    )
    organisation_lead_ins: tuple[str, ...] = Field(
        default=("这里是", "这是", "欢迎致电", "感谢致电", "感谢您致电", "欢迎您致电", "欢迎来电"),
        description="Words right before the organisation's name in an opening (这里是XX).",
    )
    self_introductions: tuple[str, ...] = Field(
        default=("我是", "我叫", "我姓", "本人", "工号"),
        description="Words that start the agent's own introduction: the organisation comes before them.",
    )
    opening_fillers: tuple[str, ...] = Field(
        default=("很高兴为您服务", "有什么可以帮您", "请问有什么可以帮您", "让您久等了", "喂", "嗯", "啊"),
        description="Words of an opening that name nothing (skipped when finding the organisation's name).",
    )


class CustomerNameCheck(Check):
    """Q4: the customer's name, correctly, at least ``min_mentions`` times in the first
    ``within_seconds``; in a group, the leader addressed before anyone else.

    A correct mention is the full name, or the surname with an honorific that fits: ``male``
    for a man, ``female`` for a woman, ``titles`` for anyone (老师, 王总, 李经理). A compound
    surname (``compound_surnames``) stays whole: 欧先生 is not 欧阳明's name.
    """

    min_mentions: int = Field(default=2, ge=1, le=20)
    within_seconds: float = Field(default=60, gt=0, le=3600)
    male: tuple[str, ...] = Field(default=("先生",), description="Honorifics after the surname, male.")
    female: tuple[str, ...] = Field(
        default=("女士", "小姐"), description="Honorifics after the surname, female."
    )
    titles: tuple[str, ...] = Field(
        default=("老师", "总"), description="Honorifics for anyone (王总, 李经理)."
    )
    compound_surnames: tuple[str, ...] = Field(default=("欧阳", "上官", "司马", "诸葛", "慕容"))
    group_leader_first: bool = True
    familiar_addresses: tuple[str, ...] = Field(
        default=(),
        description="Familiar forms after a surname (钱姐, 王阿姨): not the customer's name for the "
        "count, but addressing anyone so before a group's leader passes the leader over.",
    )


class PaceCheck(Check):
    """Q3: the agent speaks ``min_per_minute``-``max_per_minute`` counted characters per minute,
    over all their turns that give a duration (at least ``min_duration_seconds`` long)."""

    severity: Severity = "review"
    min_per_minute: float = Field(default=160, gt=0, le=10_000)
    max_per_minute: float = Field(default=180, gt=0, le=10_000)
    min_duration_seconds: float = Field(default=5, ge=0, le=3600, description="Shorter turns are not judged.")
    fail_margin: float | None = Field(
        default=None,
        ge=0,
        le=10,
        description="Beyond the range by more than this share (0.2: 20%) the pace fails; closer, "
        "it is for review (S2's 左右: about). None: always review.",
    )


class ForbiddenPhrasesCheck(Check):
    """Q5: forbidden phrases in the agent's own words.

    ``phrases``: the list (``default``: the bundled ruleset's). Not the agent's own words, so
    never a violation: text in quotation marks, and reported speech after a ``quote_markers``
    word (您是说…, 商家回复您…) up to the end of its clause. A phrase in a sentence with a
    ``policy_reading`` marker (条款, 合同) is the agent reading a rule aloud: for review.
    """

    phrases: Literal["default"] | tuple[PhraseSpec, ...] = "default"
    quote_markers: tuple[str, ...] = Field(default=("您是说", "您说", "商家说", "对方说"))
    quote_ends: tuple[str, ...] = Field(
        default=(),
        description="Words with which the agent speaks for themself again after reported speech "
        "(我先, 我复述, 您看): the reported words end there even without punctuation (raw ASR).",
    )
    quote_speakers: tuple[str, ...] = Field(
        default=(),
        description="People other than the agent (骑手, 同事, 朋友, 佢): one followed by a "
        "``quote_verbs`` word (骑手说, 佢话) introduces their words, like a ``quote_markers`` word.",
    )
    quote_verbs: tuple[str, ...] = Field(
        default=(), description="Verbs of saying that follow a ``quote_speakers`` word (说, 讲, 回答, 话)."
    )
    policy_reading: Wording = _wording("条款", "合同")

    def phrase_specs(self) -> tuple[PhraseSpec, ...]:
        return default_phrases() if self.phrases == "default" else self.phrases

    def markers(self) -> tuple[str, ...]:
        """Every word that introduces someone else's words: ``quote_markers`` and each speaker
        followed by each verb of saying."""
        said = tuple(who + verb for who in self.quote_speakers for verb in self.quote_verbs)
        return tuple(dict.fromkeys((*self.quote_markers, *said)))


class IdentityCheck(Check):
    """Q6: the reason is given (this turn before the request, or an earlier agent turn) before
    the agent asks for identity data."""

    reason: Wording
    request: Wording
    explanation_review_chars: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="When no reason wording is found but the request's turn says at least this many "
        "characters before the request (an explanation in words the lists do not hold), the "
        "missing reason is for review, not a fail. None: always a fail.",
    )
    explanation_hints: Wording = Field(
        default_factory=Wording,
        description="What a reason talks about (身份, 本人, 安全, 规定, 信息): when given, the "
        "sentences before the request's own count for ``explanation_review_chars`` only if they "
        "say one of them (连续错误五次系统就会自动锁定 explains the lock, not the check); the "
        "request's own sentence always counts. Empty: everything said before it counts.",
    )
    asking: Wording | None = Field(
        default=None,
        description="Words that make a turn ask for something (请, 麻烦, 报一下, 吗). When set, a "
        "request phrase in a turn without any of them is a mention (您是用预留手机号打进来的), "
        "not a request.",
    )
    later: Wording = Field(
        default_factory=Wording,
        description="Words that put the request at a later visit (入住时, 到时候, 记得带): said in the "
        "request's sentence before it, the data is not asked for in this conversation.",
    )


class TransferCheck(Check):
    """Q7 (phone): before a transfer, say why, the expected wait (a time) and ask consent, in the
    agent's turns since the previous transfer (the wait and consent in the last ``window_turns``
    of them, when set); stay until the other side picks up."""

    reason: Wording
    wait: Wording
    consent: Wording
    stay_until_picked_up: bool = True
    window_turns: int | None = Field(
        default=None,
        ge=1,
        le=100,
        description="How many agent turns before a transfer request its wait and consent are looked "
        "for in (a wait or a 可以吗 said about something else earlier in the call is not the "
        "transfer's); None: every turn since the previous transfer, as for the reason.",
    )
    announcement: Wording | None = Field(
        default=None,
        description="Words that announce the transfer (我帮您转过去): with ``window_turns``, the wait "
        "and consent are looked for from the first turn that says them on.",
    )
    reason_hints: Wording = Field(
        default_factory=Wording,
        description="Who else might handle it (部, 中心, 同事, 专员, 药师): named in the agent's last "
        "turns before the transfer's announcement, a reason the ``reason`` lists do not hold may "
        "have been given, so a missing reason is for review.",
    )


class ClosingCheck(Check):
    """Q8: the close of a conversation that has ended.

    Phone: a summary (``summary`` in the closing question's turn or the ``summary_turns``
    agent turns before it; ``completion`` only in that turn or the agent turn just before it,
    with no customer turn between) before the closing question (``question``), thanks
    (``thanks``), and the customer hangs up first. In person: the closing question and thanks
    (``lobby_thanks``). A summary is hard to hear in words: a missing one is ``summary_severity``.
    """

    summary: Wording
    completion: Wording = Field(
        default_factory=Wording,
        description="'It is done' (已经为您解锁): a summary only right before the closing question.",
    )
    question: Wording
    thanks: Wording
    lobby_thanks: Wording
    customer_hangs_up_first: bool = True
    summary_severity: Severity = "fail"
    summary_turns: int = Field(
        default=2,
        ge=0,
        le=20,
        description="Agent turns before the closing question the summary may be in; turns said one "
        "after another with nobody between count as one (speech recognition splits a recap).",
    )
    summary_review_chars: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="When no summary wording is found but the closing question's turn says at least "
        "this many characters before the question (a recap in words the lists do not hold), the "
        "missing summary is for review. None: ``summary_severity`` always.",
    )
    summary_review_echo: int | None = Field(
        default=None,
        ge=1,
        le=100,
        description="When no summary wording is found but the words before the closing question "
        "repeat at least this many distinct two-character terms said earlier in the conversation "
        "(周六, 二十, 限额: the specifics of the errand, in the agent's own words), the missing "
        "summary is for review. None: not looked at.",
    )
    echo_ignores: str = Field(
        default="",
        description="Characters a repeated term may not contain (您, 的, 了, 好, 请: words of any "
        "sentence, which repeat without recapping anything).",
    )
    closing_turns: int = Field(
        default=4, ge=1, le=50, description="Agent turns at the end the close is looked for in."
    )


ComplaintStep = Literal["restate", "deadline", "number", "contact", "apology"]
COMPLAINT_STEPS: tuple[ComplaintStep, ...] = ("restate", "deadline", "number", "contact", "apology")


class ComplaintConversationCheck(Check):
    """Q9: a complaint (a ``complaint_registered`` event, or the customer's own words:
    ``complaint_words`` not preceded by ``not_a_complaint``) is handled in the agent's turns:
    restate, a deadline, a complaint number, a contact, an apology or thanks. Judged once the
    conversation has ended. A step phrase right after one of ``negations`` does not count
    (暂时没有工单号). A restatement counts in a turn that asks for confirmation (``confirm``),
    or between the complaint and the first deadline or number. A missing ``contact`` on a phone
    call is for review (the caller has the number they rang); ``review_steps`` always are.
    """

    complaint_words: Wording = _wording("投诉")
    not_a_complaint: Wording = _wording(
        "不是要投诉", "不是投诉", "不投诉", "没想投诉", "不想投诉", "不用投诉"
    )
    threats: Wording = Field(
        default_factory=Wording,
        description="A complaint only threatened (不行我就去投诉, 再不退我就投诉): when every complaint "
        "in the customer's words is one, a person decides whether the handling was owed, so the "
        "missing steps are for review.",
    )
    restate: Wording
    # A restatement seeks the customer's confirmation (S2: 复述关键点确认理解无误): a restate
    # phrase counts in a turn that asks for it (对吗) or before the agent's feedback (a deadline
    # or number); a recap after the feedback that asks nothing is the Q8 summary instead.
    confirm: Wording = _wording(
        "对吗", "是吗", "对吧", "是吧", "对不对", "是不是", "没错吧", "是这样吗", "系咪", "系唔系", "啱唔啱"
    )
    deadline: Wording
    number: Wording
    contact: Wording
    apology: Wording
    negations: tuple[str, ...] = ()
    review_steps: tuple[ComplaintStep, ...] = ()
    contact_review_on_phone: bool = True
    contact_hints: Wording = Field(
        default_factory=Wording,
        description="Words that name a way to get in touch (电话, 名片, 找我): said by the agent "
        "after the complaint, a contact the ``contact`` lists do not hold may have been given, so "
        "a missing contact is for review.",
    )

    def step(self, name: ComplaintStep) -> Wording:
        value: Wording = getattr(self, name)
        return value


class ScorecardItem(_Spec):
    """A weighted scorecard line (A1), covering one or more checks by id."""

    id: str = Field(pattern=ID_PATTERN)
    description: Text
    weight: float = Field(gt=0, le=100, allow_inf_nan=False)
    checks: tuple[str, ...] = Field(min_length=1)
    auto_fail: bool = Field(default=False, description="Failing it fails the case and zeroes the score.")


class Scorecard(_Spec):
    """Per-case scorecard: item weights must add up to 100."""

    pass_percent: float = Field(default=80, ge=0, le=100)
    items: tuple[ScorecardItem, ...] = Field(min_length=1)


class EtiquetteSpec(_Spec):
    """The ``etiquette`` ruleset section: each check is optional; absent means not checked."""

    opening: Opening = Field(default_factory=Opening)
    greeting: GreetingCheck | None = None
    phone_opening: PhoneOpeningCheck | None = None
    pace: PaceCheck | None = None
    customer_name: CustomerNameCheck | None = None
    forbidden_phrases: ForbiddenPhrasesCheck | None = None
    identity_check: IdentityCheck | None = None
    transfer: TransferCheck | None = None
    closing: ClosingCheck | None = None
    complaint_conversation: ComplaintConversationCheck | None = None
    scorecard: Scorecard | None = None

    def checks(self) -> list[tuple[str, Check]]:
        """(field name, check) for every configured check, in declaration order."""
        out: list[tuple[str, Check]] = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, Check):
                out.append((name, value))
        return out


@functools.cache
def default_phrases() -> tuple[PhraseSpec, ...]:
    """The forbidden phrases of the bundled default ruleset (what ``phrases: default`` means)."""
    from importlib import resources

    from .reader import SourceMap, read_yaml

    packaged = resources.files("tierrules") / "rulesets" / "default" / "etiquette.yaml"
    path = Path(str(packaged))
    if not path.is_file():
        path = Path(__file__).resolve().parents[3] / "rulesets" / "default" / "etiquette.yaml"
    data = read_yaml(path, SourceMap())
    listed = data["etiquette"]["forbidden_phrases"]["phrases"]
    return tuple(PhraseSpec.model_validate(item) for item in listed)


# --- validation ---------------------------------------------------------------------------


def check(spec: EtiquetteSpec) -> list[Problem]:
    """Cross-field problems of the section, paths relative to ``etiquette``."""
    return list(_problems(spec))


# Flat: one guarded check per optional part of the section, in field order; the branches are the parts.
def _problems(spec: EtiquetteSpec) -> Iterator[Problem]:
    yield from _duplicate_ids(spec)
    if spec.greeting is not None:
        yield from descend(_greeting(spec.greeting), "greeting")
    if spec.pace is not None and spec.pace.min_per_minute > spec.pace.max_per_minute:
        yield Problem(
            "min_per_minute is above max_per_minute", ("pace", "min_per_minute"), spec.pace.min_per_minute
        )
    if spec.phone_opening is not None:
        level1 = spec.phone_opening.max_rings_level1
        if level1 is not None and level1 > spec.phone_opening.max_rings:
            yield Problem(
                "max_rings_level1 is looser than max_rings", ("phone_opening", "max_rings_level1"), level1
            )
    if spec.forbidden_phrases is not None and spec.forbidden_phrases.phrases != "default":
        yield from descend(_phrase_list(spec.forbidden_phrases.phrases), "forbidden_phrases", "phrases")
    yield from _wordings(spec)
    if spec.scorecard is not None:
        yield from descend(_scorecard(spec.scorecard, {rule.id for _, rule in spec.checks()}), "scorecard")


def _phrase_list(phrases: Sequence[PhraseSpec]) -> Iterator[Problem]:
    yield from phrase_problems(phrases)
    for i, phrase in enumerate(phrases):
        yield from pattern_problems(phrase.variants, (i, "variants"))
        yield from pattern_problems(phrase.allow_patterns, (i, "allow_patterns"))


def _duplicate_ids(spec: EtiquetteSpec) -> Iterator[Problem]:
    ids: dict[str, str] = {}
    for name, rule in spec.checks():
        if rule.id in ids:
            yield Problem(
                f"duplicate rule id (also {ids[rule.id]})", (name, "id"), rule.id, rank=Rank.UNKNOWN_NAME
            )
        ids.setdefault(rule.id, name)


def _greeting(rule: GreetingCheck) -> Iterator[Problem]:
    seen: dict[int, int] = {}
    for i, slot in enumerate(rule.slots):
        if slot.minutes() in seen:
            yield Problem("two greeting slots start at the same time", ("slots", i, "start"), slot.start)
        seen[slot.minutes()] = i
        if i and slot.minutes() < rule.slots[i - 1].minutes():
            yield Problem("greeting slots must be in time order", ("slots", i, "start"), slot.start)
    if rule.vip is not None and not rule.vip.phrases and rule.vip.address is None:
        yield Problem("the VIP greeting needs phrases or an address", ("vip", "phrases"), [])


def _wordings(spec: EtiquetteSpec) -> Iterator[Problem]:
    """Every phrase must normalise to something; every pattern must compile."""
    for name, rule in spec.checks():
        for field_name, value in rule:
            if isinstance(value, Wording):
                yield from pattern_problems(value.patterns, (name, field_name, "patterns"))
                yield from _empty_phrases(value.phrases, (name, field_name, "phrases"))
            elif isinstance(value, tuple) and value and all(isinstance(v, str) for v in value):
                yield from _empty_phrases(value, (name, field_name))


def _empty_phrases(phrases: Sequence[str], path: tuple[PathPart, ...]) -> Iterator[Problem]:
    for k, phrase in enumerate(phrases):
        if not normalize(phrase).text:
            yield Problem("the phrase normalises to nothing", (*path, k), phrase)


def _scorecard(card: Scorecard, ids: set[str]) -> Iterator[Problem]:
    total = sum(item.weight for item in card.items)
    if abs(total - 100) > 1e-9:
        yield Problem(
            f"scorecard weights add up to {total:g}, not 100",
            ("items",),
            [item.weight for item in card.items],
            notes=("docs/policy.md A1's source table adds up to 110%; choose weights that add up to 100",),
        )
    item_ids: set[str] = set()
    for i, item in enumerate(card.items):
        if item.id in item_ids:
            yield Problem("duplicate scorecard item id", ("items", i, "id"), item.id)
        item_ids.add(item.id)
        for k, ref in enumerate(item.checks):
            if ref not in ids:
                yield Problem(
                    "unknown check id (not configured in this section)",
                    ("items", i, "checks", k),
                    ref,
                    suggestion=did_you_mean(ref, ids),
                    rank=Rank.UNKNOWN_NAME,
                )
