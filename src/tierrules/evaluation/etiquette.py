"""Call etiquette (docs/policy.md Q1-Q9) and the per-case scorecard (A1).

The ``etiquette`` section (:mod:`tierrules.ruleset.etiquette`) applied by
:func:`evaluate_etiquette`: pure Python over the validated, time-ordered events of every
case. Text is matched with the :mod:`tierrules.text` layer
(normalised: traditional or simplified, either punctuation width); every piece of evidence
is a span of the utterance *as received*: ``utterance.text[start:end] == evidence.text``.

Scoring (A1): every scorecard item names the checks it covers. An item is *not applicable*
(left out of ``max``) when none of its checks applied to the case (no transfer: Q7 is N/A);
it fails when one of its checks produced a ``fail`` violation (``review`` violations are for
a person to judge and never cost points); an ``auto_fail`` item that fails sets the score to
0 and fails the case. ``passed`` needs ``score / max * 100 >= pass_percent``.
"""

import datetime as dt
import functools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..events import (
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
from ..ruleset.etiquette import (
    COMPLAINT_STEPS,
    DEFAULT_FORBIDDEN,
    Check,
    ClosingCheck,
    ComplaintConversationCheck,
    CustomerNameCheck,
    EtiquetteSpec,
    ForbiddenPhrasesCheck,
    GreetingCheck,
    IdentityCheck,
    PaceCheck,
    PhoneOpeningCheck,
    PhraseSpec,
    Scorecard,
    Severity,
    TransferCheck,
    VipGreeting,
)
from ..text import Match, Normalized, PhraseMatcher, char_count, contains_any, normalize

__all__ = ["EtiquetteChecker", "EtiquetteResult", "default_matcher", "evaluate_etiquette"]

TierLevel = Callable[[str | None, dt.datetime], int | None]


@functools.cache
def default_matcher() -> PhraseMatcher:
    """The matcher for :data:`DEFAULT_FORBIDDEN`, built on first use."""
    return PhraseMatcher(DEFAULT_FORBIDDEN)


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
        # The call's agent for reports: case_opened's, else the first event that names one.
        staffed = [e for e in events if e.agent_id is not None or e.team is not None]
        staffed.sort(key=lambda e: not isinstance(e, CaseOpened))
        self.agent_id = staffed[0].agent_id if staffed else None
        self.team = staffed[0].team if staffed else None
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


@dataclass(frozen=True)
class EtiquetteResult:
    """Violations and scores of every judged case, and when a case's verdict can change
    without a new event (a name window still open closes)."""

    violations: list[dict[str, Any]]
    scores: list[dict[str, Any]]
    next_checks: dict[str, dt.datetime]


def _anchor(event: EventBase | None, at: dt.datetime) -> str:
    """What a violation is about, stable as more events arrive: the host's event id, else the
    instant (UTC) of the event or of the judgement."""
    if event is not None and event.id is not None:
        return event.id
    when = event.at if event is not None else at
    return when.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")


class _Out:
    """Collects violations and which checks applied, for one case."""

    def __init__(self, case: _Case) -> None:
        self.case = case
        self.violations: list[dict[str, Any]] = []
        self.applied: set[str] = set()
        self.next_check: dt.datetime | None = None
        self._ids: set[str] = set()

    def add(
        self,
        rule: Check,
        at: dt.datetime,
        zh: str,
        en: str,
        evidence: Match | None = None,
        severity: Severity | None = None,
        event: EventBase | None = None,
        **extra: Any,
    ) -> None:
        what = str(extra.get("missing") or extra.get("phrase") or extra.get("expected") or "")
        if evidence is not None:
            what = f"{what}@{evidence.start}"
        base = f"{self.case.case_id}/{rule.id}/{_anchor(event, at)}" + (f"/{what}" if what else "")
        key, n = base, 1
        while key in self._ids:  # two findings of one kind in one event
            n += 1
            key = f"{base}/{n}"
        self._ids.add(key)
        self.violations.append(
            {
                "id": key,
                "rule": rule.id,
                "source": rule.source,
                "case_id": self.case.case_id,
                "at": at,
                "severity": severity or rule.severity,
                "evidence": evidence.evidence if evidence is not None else None,
                "message": {"zh": zh, "en": en},
                "agent_id": self.case.agent_id,
                "team": self.case.team,
                "event_id": event.id if event is not None else None,
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
            event=first,
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
            event=first,
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
            event=first,
        )
    else:
        out.add(
            rule,
            first.at,
            f"{when} 首句应问候“{expected.greeting}”，未听到问候语",
            f"at {when} the first agent turn should greet with {expected.greeting!r}; no greeting heard",
            expected=expected.greeting,
            heard=None,
            event=first,
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
            event=case.answered,
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
                event=first,
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
        out.next_check = window_end  # the window is still open: judged when it closes
        return
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
                event=turn,
            )


def _forbidden(
    rule: ForbiddenPhrasesCheck,
    matcher: PhraseMatcher,
    specs: dict[str, PhraseSpec],
    case: _Case,
    out: _Out,
) -> None:
    if not case.agent:
        return
    out.applied.add(rule.id)
    for turn in case.agent:
        for match in matcher.find(case.norm(turn)):
            spec = specs[match.phrase_id]
            instead_zh = f"，可改说“{spec.suggest[0]}”" if spec.suggest else ""
            instead_en = f"; say {spec.suggest[0]!r} instead" if spec.suggest else ""
            out.add(
                rule,
                turn.at,
                f"服务禁语“{match.text}”{instead_zh}",
                f"forbidden phrase {match.text!r} ({spec.phrase}){instead_en}",
                match,
                phrase=match.phrase_id,
                event=turn,
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
                    event=turn,
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
                out.add(rule, request.at, zh, f"transfer without {en} first", missing=key, event=request)
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
            event=case.ended,
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
    passed = not auto_failed and percent >= card.pass_percent
    return {
        "case_id": case_id,
        "score": score,
        "max": total,
        "percent": percent,
        "passed": passed,
        "auto_failed": auto_failed,
        "items": items,
        "agent_id": out.case.agent_id,
        "team": out.case.team,
        "message": {
            "zh": f"得分 {score:g}/{total:g}（{percent:g}%），" + ("合格" if passed else "不合格"),
            "en": f"scored {score:g} of {total:g} ({percent:g}%): " + ("passed" if passed else "failed"),
        },
    }


class EtiquetteChecker:
    """An etiquette section with its phrase matchers built once, for every evaluation."""

    def __init__(self, spec: EtiquetteSpec) -> None:
        self.spec = spec
        self._matcher: PhraseMatcher | None = None
        self._phrase_specs: dict[str, PhraseSpec] = {}
        if spec.forbidden_phrases is not None:
            fp = spec.forbidden_phrases
            self._matcher = default_matcher() if fp.phrases == "default" else PhraseMatcher(fp.phrase_specs())
            self._phrase_specs = {p.id: p for p in fp.phrase_specs()}
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
    ) -> EtiquetteResult:
        """See :func:`evaluate_etiquette`."""
        spec = self.spec
        events = list(events_sorted)
        # Only calls are judged: most evaluations have none and stop here.
        calls = {
            e.case_id for e in events if isinstance(e, CallAnswered | Utterance) and e.case_id is not None
        }
        if not calls:
            return EtiquetteResult([], [], {})
        by_case: dict[str, list[EventBase]] = defaultdict(list)
        for event in events:
            if event.case_id in calls:
                by_case[event.case_id].append(event)
        violations: list[dict[str, Any]] = []
        scores: list[dict[str, Any]] = []
        next_checks: dict[str, dt.datetime] = {}
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
                _forbidden(spec.forbidden_phrases, self._matcher, self._phrase_specs, case, out)
            if spec.identity_check is not None:
                _identity(spec.identity_check, case, out)
            if spec.transfer is not None:
                _transfer(spec.transfer, case, out)
            if spec.closing is not None:
                _closing(spec.closing, case, out)
            if spec.complaint_conversation is not None:
                _complaint(spec.complaint_conversation, self._complaint_matchers, case, out)
            violations += out.violations
            if out.next_check is not None:
                next_checks[case_id] = out.next_check
            if spec.scorecard is not None:
                scores.append(_score(spec.scorecard, case_id, out))
        return EtiquetteResult(violations, scores, next_checks)


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
    found = EtiquetteChecker(spec).evaluate(events_sorted, tz, tier_level, now)
    return found.violations, found.scores
