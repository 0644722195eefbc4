"""Call etiquette (POLICY.md Q1-Q9) and the per-case scorecard (A1).

A self-contained ruleset section, like ``_tiers``: :class:`EtiquetteSpec` is the YAML
``etiquette:`` section, :func:`check` the cross-field validation (paths relative to
``etiquette``), and :func:`evaluate_etiquette` the evaluation — pure Python over the
validated, time-ordered events of every case. Text is matched with the ``_text`` layer
(normalised: traditional or simplified, either punctuation width); every piece of evidence
is a span of the utterance *as received*: ``utterance.text[start:end] == evidence.text``.

Scoring (A1): every scorecard item names the checks it covers. An item is *not applicable*
(left out of ``max``) when none of its checks applied to the case (no transfer: Q7 is N/A);
it fails when one of its checks produced a ``fail`` violation (``review`` violations are for
a person to judge and never cost points); an ``auto_fail`` item that fails sets the score to
0 and fails the case. ``passed`` needs ``score / max * 100 >= pass_percent``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ._bilingual import Text
from ._errors import Problem, did_you_mean
from ._events import (
    CallAnswered,
    CallEnded,
    CaseOpened,
    ComplaintRegistered,
    CustomerArrived,
    EventBase,
    TransferCompleted,
    TransferRequested,
    Utterance,
)
from ._text import (
    DEFAULT_FORBIDDEN,
    Match,
    Normalized,
    PhraseMatcher,
    PhraseSpec,
    char_count,
    contains_any,
    default_matcher,
    normalize,
    phrase_problems,
)

__all__ = ["EtiquetteChecker", "EtiquetteSpec", "check", "evaluate_etiquette"]

Severity = Literal["fail", "review"]
TierLevel = Callable[[str | None, dt.datetime], int | None]

_ID = r"^[A-Za-z][A-Za-z0-9_.\-]*$"
_Q_CLAUSE = r"^Q[0-9]+$"
_HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Check(_Spec):
    id: str = Field(pattern=_ID, description="Unique rule id, e.g. 'Q5.forbidden-phrases'.")
    source: str = Field(pattern=_Q_CLAUSE, description="The POLICY.md clause, e.g. 'Q5'.")
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

    levels: tuple[int, ...] = Field(default=(1,), min_length=1)
    phrases: tuple[str, ...] = Field(default=("欢迎您再次莅临",))
    address: tuple[str, str] | None = ("尊敬的", "客户")
    max_gap: int = Field(default=10, ge=0, description="Characters allowed between the address parts.")


class GreetingCheck(_Check):
    """Q1: the agent's first turn greets by the time of day (ruleset timezone).

    The last slot runs past midnight until the first slot starts (晚上好 before 08:00).
    With ``vip``, VIP customers are expected to hear the VIP form instead.
    """

    slots: tuple[GreetingSlot, ...] = Field(min_length=1)
    vip: VipGreeting | None = None
    regular_phrases: tuple[str, ...] = Field(
        default=(),
        description="Regulars' addition (很高兴再次为您服务), expected when case_opened says returning.",
    )


class PhoneOpeningCheck(_Check):
    """Q2: answered by ring ``max_rings``; the first agent turn names the organisation and the agent."""

    max_rings: int = Field(default=3, ge=1)
    max_rings_level1: int | None = Field(
        default=None, ge=1, description="Stricter limit for service-level 1 customers (T3); optional."
    )
    require_organisation: bool = True
    require_agent_name: bool = True


class CustomerNameCheck(_Check):
    """Q4: the customer's name at least ``min_mentions`` times within ``within_seconds`` of the start."""

    min_mentions: int = Field(default=2, ge=1)
    within_seconds: float = Field(default=60, gt=0)
    male: tuple[str, ...] = Field(default=("先生",), description="Honorifics after the surname, male.")
    female: tuple[str, ...] = Field(default=("女士",), description="Honorifics after the surname, female.")
    any_gender: tuple[str, ...] = Field(default=("总",), description="Honorifics for anyone (张总).")


class PaceCheck(_Check):
    """Q3: agent turns at ``min_per_minute``-``max_per_minute`` counted characters per minute."""

    severity: Severity = "review"
    min_per_minute: float = Field(default=160, gt=0)
    max_per_minute: float = Field(default=180, gt=0)
    min_duration_seconds: float = Field(default=5, ge=0, description="Shorter turns are not judged.")


class ForbiddenPhrasesCheck(_Check):
    """Q5: forbidden phrases in agent turns (``default``: the built-in list, ``_text.DEFAULT_FORBIDDEN``)."""

    phrases: Literal["default"] | tuple[PhraseSpec, ...] = "default"

    def phrase_specs(self) -> tuple[PhraseSpec, ...]:
        return DEFAULT_FORBIDDEN if self.phrases == "default" else self.phrases


class IdentityCheck(_Check):
    """Q6: before asking for identity data (``request_phrases``) the agent gives the reason."""

    reason_phrases: tuple[str, ...] = Field(min_length=1)
    request_phrases: tuple[str, ...] = Field(min_length=1)


class TransferCheck(_Check):
    """Q7: before a transfer, say why, the expected wait and ask consent; stay until picked up."""

    reason_phrases: tuple[str, ...] = Field(min_length=1)
    wait_phrases: tuple[str, ...] = Field(min_length=1)
    consent_phrases: tuple[str, ...] = Field(min_length=1)
    stay_until_picked_up: bool = True


class ClosingCheck(_Check):
    """Q8: ask whether there is anything else, thank the caller, let the customer hang up first."""

    question_phrases: tuple[str, ...] = Field(min_length=1)
    thanks_phrases: tuple[str, ...] = Field(min_length=1)
    customer_hangs_up_first: bool = True


ComplaintStep = Literal["restate", "deadline", "number", "contact", "apology"]
COMPLAINT_STEPS: tuple[ComplaintStep, ...] = ("restate", "deadline", "number", "contact", "apology")


class ComplaintConversationCheck(_Check):
    """Q9: in a call with a ``complaint_registered`` event, the agent's turns contain every step.

    Steps: ``restate`` (让我确认一下), ``deadline`` (a handling time limit), ``number`` (投诉编号 /
    工单号), ``contact`` (a contact for follow-up) and ``apology`` (thank or apologise). Judged
    once the call has ended, over all agent turns of the case (the complaint is often recorded
    after the conversation). A phrase directly after one of ``negations`` does not count
    (暂时没有工单号 is not a complaint number). Each missing step is one violation with
    ``missing: <step>``; steps in ``review_steps`` are ``review`` (no points), the rest take
    the check's ``severity``.
    """

    restate_phrases: tuple[str, ...] = Field(min_length=1)
    deadline_phrases: tuple[str, ...] = Field(min_length=1)
    number_phrases: tuple[str, ...] = Field(min_length=1)
    contact_phrases: tuple[str, ...] = Field(min_length=1)
    apology_phrases: tuple[str, ...] = Field(min_length=1)
    negations: tuple[str, ...] = ()
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


class ScoreItem(_Spec):
    """A weighted scorecard line (A1), covering one or more checks by id."""

    id: str = Field(pattern=_ID)
    description: Text
    weight: float = Field(gt=0, allow_inf_nan=False)
    checks: tuple[str, ...] = Field(min_length=1)
    auto_fail: bool = Field(default=False, description="Failing it fails the case and zeroes the score.")


class Scorecard(_Spec):
    """Per-case scorecard: item weights must add up to 100."""

    pass_percent: float = Field(default=80, ge=0, le=100)
    items: tuple[ScoreItem, ...] = Field(min_length=1)


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

    def checks(self) -> list[tuple[str, _Check]]:
        """(field name, check) for every configured check, in declaration order."""
        out: list[tuple[str, _Check]] = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, _Check):
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
                    notes=("POLICY.md A1's source table adds up to 110%; choose weights that add up to 100",),
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
                            rank=1,
                        )
                    )
    return problems


# --- evaluation ---------------------------------------------------------------------------


class _Case:
    """One case's events, split by kind, with the call start for turn offsets."""

    def __init__(self, case_id: str, events: Sequence[EventBase]) -> None:
        self.case_id = case_id
        self.opened = next((e for e in events if isinstance(e, CaseOpened)), None)
        self.answered = next((e for e in events if isinstance(e, CallAnswered)), None)
        self.ended = next((e for e in events if isinstance(e, CallEnded)), None)
        self.turns = [e for e in events if isinstance(e, Utterance)]
        self.agent = [e for e in self.turns if e.speaker == "agent"]
        self.transfers = [e for e in events if isinstance(e, TransferRequested | TransferCompleted)]
        self.complaint = next((e for e in events if isinstance(e, ComplaintRegistered)), None)
        self.vip_arrival = any(isinstance(e, CustomerArrived) and e.vip for e in events)
        self.returning = self.opened is not None and self.opened.returning
        self.events = list(events)
        start = self.answered or self.opened or (events[0] if events else None)
        self.start = start.at if start is not None else None
        self._norm: dict[int, Normalized] = {}

    def norm(self, turn: Utterance) -> Normalized:
        key = id(turn)
        if key not in self._norm:
            self._norm[key] = normalize(turn.text)
        return self._norm[key]

    def offset(self, turn: Utterance) -> float:
        """Seconds since the call started: ``offset_seconds`` when given, else from ``at``."""
        if turn.offset_seconds is not None:
            return turn.offset_seconds
        return (turn.at - self.start).total_seconds() if self.start is not None else 0.0

    @property
    def is_call(self) -> bool:
        return self.answered is not None or bool(self.turns)


class _Out:
    """Collects violations and which checks applied, for one case."""

    def __init__(self, case: _Case) -> None:
        self.case = case
        self.violations: list[dict[str, Any]] = []
        self.applied: set[str] = set()

    def add(
        self,
        rule: _Check,
        at: dt.datetime,
        zh: str,
        en: str,
        evidence: Match | None = None,
        severity: Severity | None = None,
        **extra: Any,
    ) -> None:
        self.violations.append(
            {
                "rule": rule.id,
                "source": rule.source,
                "case_id": self.case.case_id,
                "at": at,
                "severity": severity or rule.severity,
                "evidence": evidence.evidence if evidence is not None else None,
                "message": {"zh": zh, "en": en},
                **extra,
            }
        )


def _is_vip(vip: VipGreeting, case: _Case, at: dt.datetime, tier_level: TierLevel | None) -> bool:
    if case.vip_arrival:
        return True
    customer = case.opened.customer_id if case.opened is not None else None
    return tier_level is not None and customer is not None and tier_level(customer, at) in vip.levels


def _vip_greeting_heard(vip: VipGreeting, norm: Normalized) -> bool:
    if vip.phrases and contains_any(norm, vip.phrases) is not None:
        return True
    if vip.address is None:
        return False
    head, tail = (normalize(part).text for part in vip.address)
    if not head or not tail:
        return False
    pattern = re.escape(head) + f".{{0,{vip.max_gap}}}?" + re.escape(tail)
    return re.search(pattern, norm.text) is not None


def _vip_expected(vip: VipGreeting) -> str:
    if vip.address is not None:
        return f"{vip.address[0]}…{vip.address[1]}"
    return vip.phrases[0]


def _greeting(
    rule: GreetingCheck, case: _Case, out: _Out, tz: dt.tzinfo, tier_level: TierLevel | None = None
) -> None:
    if not case.agent:
        return
    out.applied.add(rule.id)
    first = case.agent[0]
    if rule.vip is not None and _is_vip(rule.vip, case, first.at, tier_level):
        norm = case.norm(first)
        if _vip_greeting_heard(rule.vip, norm):
            return
        expected_vip = _vip_expected(rule.vip)
        heard_slot = contains_any(norm, [s.greeting for s in rule.slots])
        out.add(
            rule,
            first.at,
            f"贵宾客户应使用贵宾问候（“{expected_vip}”，如 尊敬的XX客户，欢迎您再次莅临）"
            + (f"，实际说了“{heard_slot.text}”" if heard_slot is not None else "，未听到贵宾问候"),
            f"a VIP customer should hear the VIP greeting ({expected_vip!r}, e.g. 尊敬的XX客户)"
            + (f"; heard {heard_slot.text!r}" if heard_slot is not None else "; no VIP greeting heard"),
            heard_slot,
            expected=expected_vip,
            heard=heard_slot.text if heard_slot is not None else None,
            vip=True,
        )
        return
    if (
        rule.regular_phrases
        and case.returning
        and contains_any(case.norm(first), rule.regular_phrases) is None
    ):
        expected_regular = rule.regular_phrases[0]
        out.add(
            rule,
            first.at,
            f"老客户问候应加上“{expected_regular}”",
            f"a returning customer's greeting should add {expected_regular!r}",
            expected=expected_regular,
            heard=None,
            regular=True,
        )
    local = first.at.astimezone(tz)
    minute = local.hour * 60 + local.minute
    expected = rule.slots[-1]  # before the first slot: the last one wraps past midnight
    for slot in rule.slots:
        if slot.minutes() <= minute:
            expected = slot
    norm = case.norm(first)
    if contains_any(norm, [expected.greeting]) is not None:
        return
    heard = contains_any(norm, [s.greeting for s in rule.slots if s.greeting != expected.greeting])
    when = local.strftime("%H:%M")
    if heard is not None:
        out.add(
            rule,
            first.at,
            f"{when} 应问候“{expected.greeting}”，实际说了“{heard.text}”",
            f"at {when} the greeting should be {expected.greeting!r}; heard {heard.text!r}",
            heard,
            expected=expected.greeting,
            heard=heard.text,
        )
    else:
        out.add(
            rule,
            first.at,
            f"{when} 首句应问候“{expected.greeting}”，未听到问候语",
            f"at {when} the first agent turn should greet with {expected.greeting!r}; no greeting heard",
            expected=expected.greeting,
            heard=None,
        )


def _phone_opening(rule: PhoneOpeningCheck, case: _Case, out: _Out, tier_level: TierLevel | None) -> None:
    if case.answered is None:
        return
    out.applied.add(rule.id)
    limit = rule.max_rings
    if rule.max_rings_level1 is not None and tier_level is not None:
        customer = case.opened.customer_id if case.opened is not None else None
        if tier_level(customer, case.answered.at) == 1:
            limit = rule.max_rings_level1
    rings = case.answered.rings
    if rings > limit:
        out.add(
            rule,
            case.answered.at,
            f"电话响铃 {rings} 声才接听，应在 {limit} 声内接听",
            f"answered after {rings} rings; the limit is {limit}",
            rings=rings,
            max_rings=limit,
        )
    if not case.agent or case.opened is None:
        return
    first = case.agent[0]
    norm = case.norm(first)
    wanted = []
    if rule.require_organisation and case.opened.organisation:
        wanted.append(("organisation", "单位名称", case.opened.organisation))
    if rule.require_agent_name and case.opened.agent_name:
        wanted.append(("agent_name", "本人姓名", case.opened.agent_name))
    for field, zh_name, value in wanted:
        if contains_any(norm, [value]) is None:
            out.add(
                rule,
                first.at,
                f"接听首句未报{zh_name}“{value}”",
                f"the first agent turn does not state the {field.replace('_', ' ')} {value!r}",
                missing=field,
            )


def _name_forms(rule: CustomerNameCheck, name: str, gender: str | None) -> list[str]:
    surname = name[0]
    honorifics = list(rule.any_gender)
    if gender != "female":
        honorifics += rule.male
    if gender != "male":
        honorifics += rule.female
    return [name, *(surname + h for h in honorifics)]


def _customer_name(rule: CustomerNameCheck, case: _Case, out: _Out, now: dt.datetime | None) -> None:
    if case.opened is None or not case.opened.customer_name or not case.is_call:
        return
    start = case.start if case.start is not None else case.events[0].at
    window_end = start + dt.timedelta(seconds=rule.within_seconds)
    if now is not None and now < window_end and case.ended is None:
        return  # the window is still open: not judged yet
    out.applied.add(rule.id)
    forms = _name_forms(rule, case.opened.customer_name, case.opened.customer_gender)
    keys = sorted({normalize(f).text for f in forms} - {""}, key=lambda k: (-len(k), k))
    pattern = re.compile("|".join(re.escape(k) for k in keys))
    mentions = 0
    for turn in case.agent:
        if case.offset(turn) <= rule.within_seconds:
            mentions += len(pattern.findall(case.norm(turn).text))
    if mentions < rule.min_mentions:
        out.add(
            rule,
            window_end if case.ended is None else min(window_end, case.ended.at),
            f"前 {rule.within_seconds:g} 秒内称呼客户姓名 {mentions} 次，"
            f"应至少 {rule.min_mentions} 次（如 {forms[1]}）",
            f"the customer's name was said {mentions} time(s) in the first {rule.within_seconds:g} s; "
            f"at least {rule.min_mentions} required (e.g. {forms[1]})",
            mentions=mentions,
        )


def _pace(rule: PaceCheck, case: _Case, out: _Out) -> None:
    for turn in case.agent:
        if turn.duration_seconds is None or turn.duration_seconds < rule.min_duration_seconds:
            continue
        out.applied.add(rule.id)
        rate = char_count(turn.text) / (turn.duration_seconds / 60)
        if not rule.min_per_minute <= rate <= rule.max_per_minute:
            word = ("过慢", "too slow") if rate < rule.min_per_minute else ("过快", "too fast")
            out.add(
                rule,
                turn.at,
                f"语速{word[0]}：每分钟 {rate:.0f} 字，"
                f"标准 {rule.min_per_minute:g}-{rule.max_per_minute:g} 字",
                f"pace {word[1]}: {rate:.0f} characters per minute, standard "
                f"{rule.min_per_minute:g}-{rule.max_per_minute:g}",
                per_minute=round(rate, 1),
            )


def _forbidden(rule: ForbiddenPhrasesCheck, matcher: PhraseMatcher, case: _Case, out: _Out) -> None:
    if not case.agent:
        return
    out.applied.add(rule.id)
    for turn in case.agent:
        for match in matcher.find(case.norm(turn)):
            spec = matcher.specs[match.phrase_id]
            instead_zh = f"，可改说“{spec.suggest[0]}”" if spec.suggest else ""
            instead_en = f"; say {spec.suggest[0]!r} instead" if spec.suggest else ""
            out.add(
                rule,
                turn.at,
                f"服务禁语“{match.text}”{instead_zh}",
                f"forbidden phrase {match.text!r} ({spec.phrase}){instead_en}",
                match,
                phrase=match.phrase_id,
            )


def _identity(rule: IdentityCheck, case: _Case, out: _Out) -> None:
    reason_given = False
    for turn in case.agent:
        norm = case.norm(turn)
        request = contains_any(norm, rule.request_phrases)
        reason = contains_any(norm, rule.reason_phrases)
        if request is not None:
            out.applied.add(rule.id)
            if not reason_given and (reason is None or reason.start > request.start):
                out.add(
                    rule,
                    turn.at,
                    "核实身份前未说明原因（如“为了保障您的账户安全”）",
                    "identity data requested before giving the reason (e.g. 为了保障您的账户安全)",
                    request,
                )
        if reason is not None:
            reason_given = True


def _transfer(rule: TransferCheck, case: _Case, out: _Out) -> None:
    requests = [e for e in case.transfers if isinstance(e, TransferRequested)]
    if not requests:
        return
    out.applied.add(rule.id)
    previous: dt.datetime | None = None
    for request in requests:
        said = [t for t in case.agent if t.at <= request.at and (previous is None or t.at > previous)]
        for phrases, key, zh, en in (
            (rule.reason_phrases, "reason", "转接前未说明转接原因", "giving the reason"),
            (rule.wait_phrases, "wait", "转接前未说明预计等待时间", "stating the expected wait"),
            (rule.consent_phrases, "consent", "转接前未征得客户同意", "asking the customer's consent"),
        ):
            if not any(contains_any(case.norm(t), phrases) is not None for t in said):
                out.add(rule, request.at, zh, f"transfer without {en} first", missing=key)
        previous = request.at
        if rule.stay_until_picked_up:
            done = next(
                (e for e in case.transfers if isinstance(e, TransferCompleted) and e.at >= request.at), None
            )
            if done is None or not done.picked_up:
                at = (
                    done.at if done is not None else (case.ended.at if case.ended is not None else request.at)
                )
                out.add(
                    rule,
                    at,
                    "转接未等到对方接听即离开",
                    "the agent left the transfer before it was picked up",
                    missing="picked_up",
                )


def _closing(rule: ClosingCheck, case: _Case, out: _Out) -> None:
    if case.ended is None:
        return
    out.applied.add(rule.id)
    at = case.ended.at
    for phrases, key, zh, en in (
        (
            rule.question_phrases,
            "question",
            f"结束前未询问“{rule.question_phrases[0]}”",
            f"no closing question such as {rule.question_phrases[0]!r}",
        ),
        (
            rule.thanks_phrases,
            "thanks",
            f"结束前未致谢（如“{rule.thanks_phrases[0]}”）",
            f"no thanks such as {rule.thanks_phrases[0]!r} at the close",
        ),
    ):
        if not any(contains_any(case.norm(t), phrases) is not None for t in case.agent):
            out.add(rule, at, zh, en, missing=key)
    if rule.customer_hangs_up_first and case.ended.hung_up_by != "customer":
        out.add(
            rule,
            at,
            "坐席先挂断电话，应让客户先挂机",
            "the agent hung up first; let the customer hang up first",
            missing="customer_hangs_up_first",
        )


_STEP_TEXT: dict[str, tuple[str, str]] = {
    "restate": (
        "未复述确认客户诉求（如“让我确认一下”）",
        "no restatement of the complaint (e.g. 让我确认一下)",
    ),
    "deadline": (
        "未告知处理时限（如“会在24小时内给您答复”）",
        "no handling deadline given (e.g. 会在24小时内给您答复)",
    ),
    "number": ("未告知投诉编号或工单号", "no complaint or ticket number given (投诉编号 / 工单号)"),
    "contact": ("未告知后续联系方式", "no contact for follow-up given (联系电话 / 热线)"),
    "apology": (
        "未致歉或致谢（如“非常抱歉”“感谢您的反馈”）",
        "no apology or thanks (e.g. 非常抱歉, 感谢您的反馈)",
    ),
}


def _complaint(
    rule: ComplaintConversationCheck,
    matchers: dict[str, PhraseMatcher],
    case: _Case,
    out: _Out,
) -> None:
    if case.complaint is None or case.ended is None or not case.turns:
        return
    out.applied.add(rule.id)
    for step in COMPLAINT_STEPS:
        matcher = matchers[step]
        if any(matcher.find(case.norm(t)) for t in case.agent):
            continue
        zh, en = _STEP_TEXT[step]
        out.add(
            rule,
            case.ended.at,
            f"投诉处理：{zh}",
            f"complaint handling: {en}",
            severity="review" if step in rule.review_steps else rule.severity,
            missing=step,
        )


def _score(card: Scorecard, case_id: str, out: _Out) -> dict[str, Any]:
    failed_rules = {v["rule"] for v in out.violations if v["severity"] == "fail"}
    items: list[dict[str, Any]] = []
    score = 0.0
    total = 0.0
    auto_failed = False
    for item in card.items:
        applicable = any(ref in out.applied for ref in item.checks)
        if not applicable:
            items.append({"id": item.id, "weight": item.weight, "status": "n/a", "earned": 0.0})
            continue
        failed = sorted(ref for ref in item.checks if ref in failed_rules)
        total += item.weight
        if failed:
            auto_failed = auto_failed or item.auto_fail
            items.append(
                {"id": item.id, "weight": item.weight, "status": "fail", "earned": 0.0, "failed": failed}
            )
        else:
            score += item.weight
            items.append({"id": item.id, "weight": item.weight, "status": "pass", "earned": item.weight})
    if auto_failed:
        score = 0.0
    percent = 100.0 if total == 0 else round(score / total * 100, 2)
    return {
        "case_id": case_id,
        "score": score,
        "max": total,
        "percent": percent,
        "passed": not auto_failed and percent >= card.pass_percent,
        "auto_failed": auto_failed,
        "items": items,
    }


class EtiquetteChecker:
    """An etiquette section with its phrase matchers built once, for every evaluation."""

    def __init__(self, spec: EtiquetteSpec) -> None:
        self.spec = spec
        self._matcher: PhraseMatcher | None = None
        if spec.forbidden_phrases is not None:
            fp = spec.forbidden_phrases
            self._matcher = default_matcher() if fp.phrases == "default" else PhraseMatcher(fp.phrase_specs())
        self._complaint_matchers: dict[str, PhraseMatcher] = {}
        if spec.complaint_conversation is not None:
            cc = spec.complaint_conversation
            self._complaint_matchers = {step: PhraseMatcher(cc.step_specs(step)) for step in COMPLAINT_STEPS}

    def evaluate(
        self,
        events_sorted: Iterable[EventBase],
        tz: dt.tzinfo,
        tier_level: TierLevel | None = None,
        now: dt.datetime | None = None,
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """See :func:`evaluate_etiquette`."""
        spec = self.spec
        events = list(events_sorted)
        # Only calls are judged: most evaluations have none and stop here.
        calls = {
            e.case_id for e in events if isinstance(e, CallAnswered | Utterance) and e.case_id is not None
        }
        if not calls:
            return [], []
        by_case: dict[str, list[EventBase]] = defaultdict(list)
        for event in events:
            if event.case_id in calls:
                by_case[event.case_id].append(event)
        violations: list[dict[str, Any]] = []
        scores: list[dict[str, Any]] = []
        for case_id in sorted(by_case):
            case = _Case(case_id, by_case[case_id])
            if not case.is_call:
                continue
            out = _Out(case)
            if spec.greeting is not None:
                _greeting(spec.greeting, case, out, tz, tier_level)
            if spec.phone_opening is not None:
                _phone_opening(spec.phone_opening, case, out, tier_level)
            if spec.pace is not None:
                _pace(spec.pace, case, out)
            if spec.customer_name is not None:
                _customer_name(spec.customer_name, case, out, now)
            if spec.forbidden_phrases is not None and self._matcher is not None:
                _forbidden(spec.forbidden_phrases, self._matcher, case, out)
            if spec.identity_check is not None:
                _identity(spec.identity_check, case, out)
            if spec.transfer is not None:
                _transfer(spec.transfer, case, out)
            if spec.closing is not None:
                _closing(spec.closing, case, out)
            if spec.complaint_conversation is not None:
                _complaint(spec.complaint_conversation, self._complaint_matchers, case, out)
            violations += out.violations
            if spec.scorecard is not None:
                scores.append(_score(spec.scorecard, case_id, out))
        return violations, scores


def evaluate_etiquette(
    spec: EtiquetteSpec,
    events_sorted: Iterable[EventBase],
    tz: dt.tzinfo,
    tier_level: TierLevel | None = None,
    now: dt.datetime | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Etiquette violations and per-case scores for the time-ordered events of all cases.

    Only cases that are calls (a ``call_answered`` or an ``utterance``) are judged. Returns
    ``(violations, scores)``: violations in case order then check order then time; one score
    per judged case when the section has a scorecard. ``tier_level(customer_id, at)`` gives the
    customer's service level (T3) for Q2's stricter level-1 ring limit and Q1's VIP greeting.
    With ``now``, Q4 is not judged while its window is still open on a call that has not ended.
    Builds the matchers on every call: the engine keeps an :class:`EtiquetteChecker` instead.
    """
    return EtiquetteChecker(spec).evaluate(events_sorted, tz, tier_level, now)
