"""The ``etiquette`` section of a ruleset (docs/policy.md Q1-Q9, A1): its models and checks.

How calls are judged against it lives in :mod:`tierrules.evaluation.etiquette`. Phrases are
compared after :func:`tierrules.text.normalize`, so they may be written in traditional or
simplified characters, with either width of punctuation.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from ..errors import PathPart, Problem, Rank, did_you_mean
from ..text import normalize
from ..vocabulary import ID_PATTERN, ServiceLevel, Text, clause_pattern

Severity = Literal["fail", "review"]

_Q_CLAUSE = clause_pattern("Q")
_HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


def _not_blank_phrase(value: str) -> str:
    if not value.strip():
        raise ValueError("a phrase cannot be blank")
    return value


# A phrase in a check's list: validated where it is written, so no model built from it later fails.
Phrase = Annotated[str, AfterValidator(_not_blank_phrase)]


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
    suggest: tuple[str, ...] = Field(default=(), description="Suggested replacements, for messages.")
    note: str | None = Field(default=None, description="Why the phrase, its allow-list and negations.")

    @field_validator("phrase")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a phrase cannot be blank")
        return value

    @field_validator("allow", "negations", "suggest")
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
    problems: list[Problem] = []
    ids: dict[str, int] = {}
    forbidden: dict[str, int] = {}
    for i, spec in enumerate(phrases):
        if spec.id in ids:
            problems.append(
                Problem(f"duplicate phrase id (also entry {ids[spec.id]})", (*path, i, "id"), spec.id)
            )
        ids.setdefault(spec.id, i)
        key = _key(spec.phrase)
        if not key:
            problems.append(Problem("the phrase normalises to nothing", (*path, i, "phrase"), spec.phrase))
        elif key in forbidden:
            problems.append(
                Problem(
                    f"the same phrase as {phrases[forbidden[key]].id!r} after normalisation",
                    (*path, i, "phrase"),
                    spec.phrase,
                )
            )
        else:
            forbidden[key] = i
    for i, spec in enumerate(phrases):
        key = _key(spec.phrase)
        if not key:
            continue
        located: list[tuple[tuple[PathPart, ...], str]] = [
            ((*path, i, "allow", k), context) for k, context in enumerate(spec.allow)
        ]
        located += [((*path, i, "negations", k), neg + spec.phrase) for k, neg in enumerate(spec.negations)]
        for where, context in located:
            ckey = _key(context)
            own = _occurrences(key, ckey)
            if not own or len(ckey) == len(key):
                problems.append(
                    Problem(f"must contain the phrase {spec.phrase!r} and be longer", where, context)
                )
                continue
            if ckey in forbidden:
                other = phrases[forbidden[ckey]].id
                problems.append(Problem(f"allowed here but forbidden by {other!r}", where, context))
                continue
            for okey, j in forbidden.items():
                if j == i:
                    continue
                for at in _occurrences(okey, ckey):
                    # Hiding another phrase is intended only where it overlaps this one
                    # (真的不行 allowed in a context hides the 不行 inside it).
                    if not any(at < o + len(key) and o < at + len(okey) for o in own):
                        problems.append(
                            Problem(
                                f"would also allow {phrases[j].id!r} ({phrases[j].phrase!r}) inside it",
                                where,
                                context,
                            )
                        )
                        break
    return problems


_TRY = "我们可以尝试"  # S2 语言禁忌: say 我们可以尝试 / 让我为您查询 instead
_CHECK = "让我为您查询"
# Negations of a flat statement: "not impossible" / "not without exceptions" is a concession.
_NOT = ("并非", "并不是", "不是", "绝非", "也不是", "不是说")

DEFAULT_FORBIDDEN: tuple[PhraseSpec, ...] = (
    PhraseSpec(
        id="Q5.bu-xing",
        phrase="不行",
        allow=(
            "行不行",  # asking the customer: 这样处理行不行?
            "不行的话",  # a conditional that offers an alternative: 不行的话我们可以…
            "如果不行",
            "要是不行",
            "实在不行",  # 实在不行我们给您换货: a fallback offered, not a refusal
            "不行驶",  # 不 + 行驶 / 行使: another word (车辆不行驶时, 不行使权利)
            "不行使",
        ),
        suggest=(_TRY,),
        note="直接拒绝型 flat refusal (S0 §3 2.1, S2 语言禁忌). Not flagged: the question 行不行, "
        "conditionals offering an alternative, 不 before the words 行驶/行使. Still flagged: "
        "rhetorical 不行吗 (a challenge from an agent) and 不行不行.",
    ),
    PhraseSpec(
        id="Q5.bu-ke-neng",
        phrase="不可能",
        allow=(
            "没有不可能",  # "nothing is impossible"
            "没什么不可能",
            "没有什么不可能",
            "不可能不",  # double negation: 我们不可能不管您 = we will certainly help
        ),
        negations=_NOT,
        suggest=(_TRY,),
        note="直接拒绝型 flat refusal (S0 §3 2.1, S2 语言禁忌). Negated (并非不可能) or doubly negated "
        "(不可能不管您) it is a reassurance.",
    ),
    PhraseSpec(
        id="Q5.wo-bu-zhi-dao",
        phrase="我不知道",
        allow=(
            "我不知道您是否",  # "I wonder whether you…": a polite embedded question
            "我不知道是否",
        ),
        suggest=(_CHECK,),
        note="回避型 brush-off (S2 语言禁忌). Allowed only as the polite 'I wonder whether' "
        "(我不知道您是否方便). 我们不知道 is other words and not matched.",
    ),
    PhraseSpec(
        id="Q5.zhe-ge-wo-bu-guan",
        phrase="这个我不管",
        allow=(
            "这个我不管怎样",  # 不管 as "no matter": 这个我不管怎样都会帮您处理
            "这个我不管怎么样",
            "这个我不管如何",
            "这个我不管多",
        ),
        suggest=(_CHECK,),
        note="回避型 brush-off (S0 §3 2.1). 不管 followed by 怎样/如何/多 is the conjunction 'no matter'.",
    ),
    PhraseSpec(
        id="Q5.ni-zhe-yang-zuo-bu-dui",
        phrase="你这样做不对",
        negations=("不是说", "并不是说", "并非说"),
        note="冲突型 blame (S0 §3 2.1; S2: 避免争辩或指责客户). 'Not saying you are wrong' is not blame.",
    ),
    PhraseSpec(
        id="Q5.zhe-shi-gui-ding",
        phrase="这是规定",
        allow=(
            "这是规定的办理时限",  # 规定的 + noun: informing, "this is the prescribed time limit"
            "这是规定的时限",
            "这是规定的期限",
            "这是规定的时间",
            "这是规定的流程",
            "这是规定动作",  # set phrase: the standard procedure
        ),
        note="推脱式 rule-hiding (S2 案例二). Informing the customer of a prescribed limit or procedure "
        "is not; sentence-final 这是规定的。 still is.",
    ),
    PhraseSpec(
        id="Q5.mei-you-li-wai",
        phrase="没有例外",
        negations=("并非", "不是", "也不是", "并不是"),
        note="推脱式 rule-hiding (S2 案例二). 'It is not that there are no exceptions' opens a door.",
    ),
    PhraseSpec(
        id="Q5.wo-men-gui-ding-ru-ci",
        phrase="我们规定如此",
        suggest=("我理解您赶时间，等待确实让人着急",),
        note="推脱式回应 (S2 同理心): answer with empathy instead.",
    ),
    PhraseSpec(
        id="Q5.nin-bu-liao-jie-wo-men-de-gong-zuo",
        phrase="您不了解我们的工作",
        note="否定性语言 (S2 案例二).",
    ),
    PhraseSpec(
        id="Q5.yao-me-jie-shou-yao-me-li-kai",
        phrase="要么接受要么离开",
        note="对抗性语言 (S2 案例二).",
    ),
    PhraseSpec(
        id="Q5.ni-zong-shi-zhe-yang",
        phrase="你总是这样",
        allow=("谢谢你总是这样", "感谢你总是这样"),  # thanks for always being so (supportive)
        note="情绪化表达 (S4 §4: 避免歧义与情绪化表达). Thanking the customer for always doing so is not.",
    ),
    PhraseSpec(
        id="Q5.ni-tai-bu-fu-ze",
        phrase="你太不负责",
        note="情绪化表达 (S4 §4). Also found in 你太不负责任了.",
    ),
    PhraseSpec(
        id="Q5.qing-nin-bie-zhao-ji",
        phrase="请您别着急",
        suggest=("谢谢您的耐心",),
        note="防御性语言 (S3 有效沟通): say 谢谢您的耐心 instead. Matches the Taiwan form 請您別著急.",
    ),
)


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Check(_Spec):
    id: str = Field(pattern=ID_PATTERN, description="Unique rule id, e.g. 'Q5.forbidden-phrases'.")
    source: str = Field(pattern=_Q_CLAUSE, description="The policy clause (docs/policy.md), e.g. 'Q5'.")
    description: Text
    severity: Severity = Field(default="fail", description="fail costs scorecard points; review does not.")


class GreetingSlot(_Spec):
    """From ``start`` (local HH:MM) until the next slot's start, the agent greets with ``greeting``."""

    start: str = Field(pattern=_HHMM)
    greeting: str = Field(min_length=1)

    def minutes(self) -> int:
        hours, minutes = self.start.split(":")
        return int(hours) * 60 + int(minutes)


class VipGreeting(_Spec):
    """Q1's VIP form (尊敬的XX客户，欢迎您再次莅临), expected instead of the time-of-day greeting.

    A case is VIP when the customer's service level (T3, from the tier result) is one of
    ``levels`` at the first agent turn, or a ``customer_arrived`` event of the case says
    ``vip: true``. The greeting is heard when the first agent turn contains one of ``phrases``,
    or ``address[0]`` followed by ``address[1]`` at most ``max_gap`` characters later
    (尊敬的张先生客户 ... 尊敬的客户), after normalisation.
    """

    levels: tuple[ServiceLevel, ...] = Field(default=(1,), min_length=1)
    phrases: tuple[Phrase, ...] = Field(default=("欢迎您再次莅临",))
    address: tuple[Phrase, Phrase] | None = ("尊敬的", "客户")
    max_gap: int = Field(
        default=10, ge=0, le=1_000, description="Characters allowed between the address parts."
    )


class GreetingCheck(Check):
    """Q1: the agent's first turn greets by the time of day (ruleset timezone).

    The last slot runs past midnight until the first slot starts (晚上好 before 08:00).
    With ``vip``, VIP customers are expected to hear the VIP form instead.
    """

    slots: tuple[GreetingSlot, ...] = Field(min_length=1)
    vip: VipGreeting | None = None
    regular_phrases: tuple[Phrase, ...] = Field(
        default=(),
        description="Regulars' addition (很高兴再次为您服务), expected when case_opened says returning.",
    )


class PhoneOpeningCheck(Check):
    """Q2: answered by ring ``max_rings``; the first agent turn names the organisation and the agent."""

    max_rings: int = Field(default=3, ge=1, le=100)
    max_rings_level1: int | None = Field(
        default=None, ge=1, le=100, description="Stricter limit for service-level 1 customers (T3); optional."
    )
    require_organisation: bool = True
    require_agent_name: bool = True


class CustomerNameCheck(Check):
    """Q4: the customer's name at least ``min_mentions`` times within ``within_seconds`` of the start."""

    min_mentions: int = Field(default=2, ge=1, le=1_000)
    within_seconds: float = Field(default=60, gt=0, le=86_400, allow_inf_nan=False)
    male: tuple[Phrase, ...] = Field(default=("先生",), description="Honorifics after the surname, male.")
    female: tuple[Phrase, ...] = Field(default=("女士",), description="Honorifics after the surname, female.")
    any_gender: tuple[Phrase, ...] = Field(default=("总",), description="Honorifics for anyone (张总).")


class PaceCheck(Check):
    """Q3: agent turns at ``min_per_minute``-``max_per_minute`` counted characters per minute."""

    severity: Severity = "review"
    min_per_minute: float = Field(default=160, gt=0, le=100_000, allow_inf_nan=False)
    max_per_minute: float = Field(default=180, gt=0, le=100_000, allow_inf_nan=False)
    min_duration_seconds: float = Field(
        default=5, ge=0, le=86_400, allow_inf_nan=False, description="Shorter turns are not judged."
    )


class ForbiddenPhrasesCheck(Check):
    """Q5: forbidden phrases in agent turns (``default``: the built-in list, ``_text.DEFAULT_FORBIDDEN``)."""

    phrases: Literal["default"] | tuple[PhraseSpec, ...] = "default"

    def phrase_specs(self) -> tuple[PhraseSpec, ...]:
        return DEFAULT_FORBIDDEN if self.phrases == "default" else self.phrases


class IdentityCheck(Check):
    """Q6: before asking for identity data (``request_phrases``) the agent gives the reason."""

    reason_phrases: tuple[Phrase, ...] = Field(min_length=1)
    request_phrases: tuple[Phrase, ...] = Field(min_length=1)


class TransferCheck(Check):
    """Q7: before a transfer, say why, the expected wait and ask consent; stay until picked up."""

    reason_phrases: tuple[Phrase, ...] = Field(min_length=1)
    wait_phrases: tuple[Phrase, ...] = Field(min_length=1)
    consent_phrases: tuple[Phrase, ...] = Field(min_length=1)
    stay_until_picked_up: bool = True


class ClosingCheck(Check):
    """Q8: ask whether there is anything else, thank the caller, let the customer hang up first."""

    question_phrases: tuple[Phrase, ...] = Field(min_length=1)
    thanks_phrases: tuple[Phrase, ...] = Field(min_length=1)
    customer_hangs_up_first: bool = True


ComplaintStep = Literal["restate", "deadline", "number", "contact", "apology"]
COMPLAINT_STEPS: tuple[ComplaintStep, ...] = ("restate", "deadline", "number", "contact", "apology")


class ComplaintConversationCheck(Check):
    """Q9: in a call with a ``complaint_registered`` event, the agent's turns contain every step.

    Steps: ``restate`` (让我确认一下), ``deadline`` (a handling time limit), ``number`` (投诉编号 /
    工单号), ``contact`` (a contact for follow-up) and ``apology`` (thank or apologise). Judged
    once the call has ended, over all agent turns of the case (the complaint is often recorded
    after the conversation). A phrase directly after one of ``negations`` does not count
    (暂时没有工单号 is not a complaint number). Each missing step is one violation with
    ``missing: <step>``; steps in ``review_steps`` are ``review`` (no points), the rest take
    the check's ``severity``.
    """

    restate_phrases: tuple[Phrase, ...] = Field(min_length=1)
    deadline_phrases: tuple[Phrase, ...] = Field(min_length=1)
    number_phrases: tuple[Phrase, ...] = Field(min_length=1)
    contact_phrases: tuple[Phrase, ...] = Field(min_length=1)
    apology_phrases: tuple[Phrase, ...] = Field(min_length=1)
    negations: tuple[Phrase, ...] = ()
    review_steps: tuple[ComplaintStep, ...] = ()

    def step_phrases(self, step: ComplaintStep) -> tuple[str, ...]:
        value: tuple[str, ...] = getattr(self, f"{step}_phrases")
        return value

    def step_specs(self, step: ComplaintStep) -> tuple[PhraseSpec, ...]:
        """The step's phrases as :class:`PhraseSpec` entries carrying the negations."""
        return tuple(
            PhraseSpec(id=f"{step}.{k}", phrase=phrase, negations=self.negations)
            for k, phrase in enumerate(self.step_phrases(step))
        )


class ScorecardItem(_Spec):
    """A weighted scorecard line (A1), covering one or more checks by id."""

    id: str = Field(pattern=ID_PATTERN)
    description: Text
    weight: float = Field(gt=0, le=100, allow_inf_nan=False)
    checks: tuple[str, ...] = Field(min_length=1)
    auto_fail: bool = Field(default=False, description="Failing it fails the case and zeroes the score.")


class Scorecard(_Spec):
    """Per-case scorecard: item weights must add up to 100."""

    pass_percent: float = Field(default=80, ge=0, le=100, allow_inf_nan=False)
    items: tuple[ScorecardItem, ...] = Field(min_length=1)


class EtiquetteSpec(_Spec):
    """The ``etiquette`` ruleset section: each check is optional; absent means not checked."""

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


# --- validation ---------------------------------------------------------------------------


def check(spec: EtiquetteSpec) -> list[Problem]:
    """Cross-field problems of the section, paths relative to ``etiquette``."""
    problems: list[Problem] = []
    ids: dict[str, str] = {}
    for name, rule in spec.checks():
        if rule.id in ids:
            problems.append(Problem(f"duplicate rule id (also {ids[rule.id]})", (name, "id"), rule.id))
        ids.setdefault(rule.id, name)
    if spec.greeting is not None:
        seen: dict[int, int] = {}
        for i, slot in enumerate(spec.greeting.slots):
            if slot.minutes() in seen:
                problems.append(
                    Problem(
                        "two greeting slots start at the same time",
                        ("greeting", "slots", i, "start"),
                        slot.start,
                    )
                )
            seen[slot.minutes()] = i
            if i and slot.minutes() < spec.greeting.slots[i - 1].minutes():
                problems.append(
                    Problem(
                        "greeting slots must be in time order", ("greeting", "slots", i, "start"), slot.start
                    )
                )
    if spec.pace is not None and spec.pace.min_per_minute > spec.pace.max_per_minute:
        problems.append(
            Problem(
                "min_per_minute is above max_per_minute", ("pace", "min_per_minute"), spec.pace.min_per_minute
            )
        )
    if spec.phone_opening is not None:
        level1 = spec.phone_opening.max_rings_level1
        if level1 is not None and level1 > spec.phone_opening.max_rings:
            problems.append(
                Problem(
                    "max_rings_level1 is looser than max_rings", ("phone_opening", "max_rings_level1"), level1
                )
            )
    vip = spec.greeting.vip if spec.greeting is not None else None
    if vip is not None and not vip.phrases and vip.address is None:
        problems.append(
            Problem("the VIP greeting needs phrases or an address", ("greeting", "vip", "phrases"), [])
        )
    if spec.complaint_conversation is not None:
        cc = spec.complaint_conversation
        for step in COMPLAINT_STEPS:
            for problem in phrase_problems(cc.step_specs(step)):
                index = problem.absolute_path[0] if problem.absolute_path else None
                where: tuple[Any, ...] = ("complaint_conversation", f"{step}_phrases")
                path = (*where, index) if isinstance(index, int) else where
                problems.append(Problem(problem.message, path, problem.value))
    if spec.forbidden_phrases is not None and spec.forbidden_phrases.phrases != "default":
        problems += phrase_problems(spec.forbidden_phrases.phrases, ("forbidden_phrases", "phrases"))
    for name, rule in spec.checks():
        for field, value in rule:
            if isinstance(value, tuple) and value and all(isinstance(v, str) for v in value):
                for k, phrase in enumerate(value):
                    if not normalize(phrase).text:
                        problems.append(Problem("the phrase normalises to nothing", (name, field, k), phrase))
    card = spec.scorecard
    if card is not None:
        total = sum(item.weight for item in card.items)
        if abs(total - 100) > 1e-9:
            problems.append(
                Problem(
                    f"scorecard weights add up to {total:g}, not 100",
                    ("scorecard", "items"),
                    [item.weight for item in card.items],
                    notes=("docs/policy.md A1's source table adds up to 110%; choose weights that add up to 100",),
                )
            )
        item_ids: set[str] = set()
        for i, item in enumerate(card.items):
            if item.id in item_ids:
                problems.append(
                    Problem("duplicate scorecard item id", ("scorecard", "items", i, "id"), item.id)
                )
            item_ids.add(item.id)
            for k, ref in enumerate(item.checks):
                if ref not in ids:
                    problems.append(
                        Problem(
                            "unknown check id (not configured in this section)",
                            ("scorecard", "items", i, "checks", k),
                            ref,
                            suggestion=did_you_mean(ref, ids),
                            rank=Rank.UNKNOWN_NAME,
                        )
                    )
    return problems
