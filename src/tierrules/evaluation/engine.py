"""Evaluation: events in, a decision out.

The matcher (durable_rules by default) decides which events trigger which rules (start,
meet or cancel a clock, qualify for a tier); the time arithmetic, pairing within a case,
statuses and etiquette are computed here in Python over the rule's business calendar.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import tz

from ..compiler.compiled import CompiledRuleset
from ..compiler.load import compiled as compiled_form
from ..compiler.load import load_ruleset
from ..decision import DeadlineWarning, Decision, Escalation, Obligation, Score, TierAssignment, Violation
from ..errors import EventError, Problem
from ..events import EVENT_TYPES, EventBase, parse_events
from ..limits import DEFAULT_LIMITS, Limits
from ..matching import Matcher, MatcherKind, build_matcher
from ..ruleset.model import Ruleset
from .cases import Case, build_cases
from .etiquette import EtiquetteChecker
from .obligations import Outcome, RuleContext, Started, Stops, clock_outcome
from .tiers import TierResult, evaluate_tiers

_UTC = dt.timezone.utc
_CUSTOMER_EVENTS = frozenset(t for t, model in EVENT_TYPES.items() if model.scope == "customer")


def _fact(event: EventBase) -> dict[str, Any]:
    """A tier fact: the type and the matchable fields (case facts: :meth:`Engine._fact`)."""
    fact: dict[str, Any] = {"type": event.type}
    for name in event.matchable:
        fact[name] = getattr(event, name)
    return fact


class Engine:
    """Evaluates events against one ruleset.

    Build it once and call :meth:`evaluate` on every event: the ruleset is validated and
    compiled up front, and the engine is safe to share between threads.

    >>> import datetime as dt, tierrules
    >>> engine = tierrules.Engine(tierrules.load_ruleset())
    >>> decision = engine.evaluate(
    ...     [{"type": "complaint_registered", "at": "2026-11-24T17:30:00+08:00", "case_id": "c1"}],
    ...     now=dt.datetime.fromisoformat("2026-11-24T17:45:00+08:00"),
    ... )
    >>> [(o.rule, o.due_at.isoformat(), o.status) for o in decision.obligations]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('E2.complaint-reply', '2026-11-25T09:30:00+08:00', 'pending'),
     ('E9.complaint-response', '2026-11-25T17:30:00+08:00', 'pending'),
     ('E9.complaint-resolution', '2026-11-26T17:30:00+08:00', 'pending')]
    """

    def __init__(
        self,
        ruleset: Ruleset | None = None,
        *,
        matcher: MatcherKind | None = None,
        limits: Limits | None = None,
    ) -> None:
        # How much one evaluate() accepts (tierrules.limits; docs/reliability.md).
        self.limits: Limits = limits if limits is not None else DEFAULT_LIMITS
        self._ruleset = ruleset if ruleset is not None else load_ruleset()
        self._compiled: CompiledRuleset = compiled_form(self._ruleset)
        # Reporting only (no arithmetic): the stdlib's C zoneinfo converts several times
        # faster than dateutil's pure-Python tzfile, with the same offsets.
        tzinfo: dt.tzinfo | None
        try:
            tzinfo = ZoneInfo(self._ruleset.timezone)
        except (ValueError, OSError):  # a name only dateutil knows; the compiler accepted it
            tzinfo = tz.gettz(self._ruleset.timezone)
        assert tzinfo is not None
        self._tz = tzinfo
        self._matcher: Matcher = build_matcher(self._compiled.case_rules, matcher)
        self._roles = self._compiled.shared
        # Per event type, the fields the rules test; then the case attributes they test.
        self._fact_fields = self._compiled.fact_fields()
        self._case_fields = self._compiled.case_fields()
        self._tier_matcher: Matcher | None = None
        if self._compiled.tier_rules:
            self._tier_matcher = build_matcher(self._compiled.tier_rules, self._matcher.kind)
        self._etiquette = (
            EtiquetteChecker(self._ruleset.etiquette) if self._ruleset.etiquette is not None else None
        )
        self._contexts = [
            RuleContext(rule, cal, self._compiled.calendars, tzinfo)
            for rule, cal in zip(self._ruleset.deadlines, self._compiled.deadline_calendars, strict=True)
        ]

    @property
    def ruleset(self) -> Ruleset:
        """The ruleset this engine enforces."""
        return self._ruleset

    @property
    def matcher(self) -> MatcherKind:
        """Which matcher decides rule matches: ``"durable"`` or ``"python"``."""
        return self._matcher.kind

    def evaluate(self, events: Iterable[Mapping[str, Any] | EventBase], now: dt.datetime) -> Decision:
        """Decide what the policy says about ``events`` at the instant ``now``.

        ``now`` must be timezone-aware and no event may lie after it. The same events (in
        any order) and the same ``now`` always give the same decision.
        Raises :class:`EventError` naming the event's index and field on bad input.
        """
        _check_now(now)
        parsed = parse_events(events, limits=self.limits, now=now)
        ordered, instants = _ordered(parsed)
        _check_not_after(parsed, instants, now)
        # Clock comparisons are mostly against UTC instants: same-zone comparisons are cheap.
        now_utc = now.astimezone(_UTC)
        tiers = self._tiers(ordered, now)
        cases = build_cases(ordered, tiers.attributes if tiers is not None else None)
        starts, stops = self._matches(ordered, instants, cases)
        decision = _Builder()
        for outcome in self._outcomes(ordered, instants, cases, starts, stops, now_utc):
            decision.add(outcome)
        if tiers is not None:
            decision.add_tiers(tiers, self._tz)
        if self._etiquette is not None:
            violations, scores = self._etiquette.evaluate(ordered, self._tz, _level_lookup(tiers), now)
            decision.add_etiquette(violations, scores)
        return decision.build(now_utc, self._tz)

    def _matches(
        self, ordered: list[EventBase], instants: list[dt.datetime], cases: Mapping[str, Case]
    ) -> tuple[dict[int, list[int]], dict[tuple[str, int, str], list[dt.datetime]]]:
        """Which events start which deadline rules (rule index -> event indexes), and when each
        case's events meet or cancel them ((kind, rule index, case) -> instants)."""
        facts = [self._fact(e, cases.get(e.case_id) if e.case_id else None) for e in ordered]
        matches = self._matcher.match(facts)
        starts: dict[int, list[int]] = defaultdict(list)
        stops: dict[tuple[str, int, str], list[dt.datetime]] = defaultdict(list)
        for index in sorted(matches):
            event = ordered[index]
            for name in matches[index]:
                for role in self._roles[name]:
                    if role.kind == "start":
                        starts[role.deadline].append(index)
                    elif event.case_id is not None:
                        stops[(role.kind, role.deadline, event.case_id)].append(instants[index])
        return starts, stops

    def _outcomes(
        self,
        ordered: list[EventBase],
        instants: list[dt.datetime],
        cases: Mapping[str, Case],
        starts: Mapping[int, list[int]],
        stops: Mapping[tuple[str, int, str], list[dt.datetime]],
        now: dt.datetime,
    ) -> Iterator[Outcome]:
        """Each started clock's outcome, rule by rule, starts in time order."""
        for d_index, started in sorted(starts.items()):
            ctx = self._contexts[d_index]
            counts: dict[str, int] = defaultdict(int)
            for index in started:
                event = ordered[index]
                case_id = event.case_id or ""
                counts[case_id] += 1
                case_stops = Stops(
                    stops.get(("met", d_index, case_id), ()), stops.get(("cancel", d_index, case_id), ())
                )
                found = clock_outcome(
                    ctx, Started(event, counts[case_id], instants[index]), cases[case_id], case_stops, now
                )
                if found is not None:
                    yield found

    def _fact(self, event: EventBase, case: Case | None) -> dict[str, Any]:
        """What the engine sees of a case event: its type, the fields the rules test, and
        the case attributes they test, as they were at the event."""
        fact: dict[str, Any] = {"type": event.type}
        for name in self._fact_fields[event.type]:
            fact[name] = getattr(event, name)
        if case is not None:
            for name, key in self._case_fields:
                value = case.value_at(name, event.at)
                if value is not None:
                    fact[key] = value
        return fact

    def _tiers(self, ordered: list[EventBase], now: dt.datetime) -> TierResult | None:
        """Tier assignments: thresholds matched by the engine, the rest in Python."""
        spec = self._ruleset.tiers
        if spec is None or self._tier_matcher is None:
            return None
        if not any(e.type in _CUSTOMER_EVENTS for e in ordered):
            return None  # no customer events: no tiers, and cases keep the T5 defaults
        profiles = [i for i, e in enumerate(ordered) if e.type == "customer_profile"]
        hits = self._tier_matcher.match([_fact(ordered[i]) for i in profiles]) if profiles else {}
        return evaluate_tiers(spec, ordered, {profiles[k]: v for k, v in hits.items()}, now, self._tz)


def _check_now(now: object) -> None:
    if not isinstance(now, dt.datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise EventError([Problem("now must be a timezone-aware datetime", ("now",), now)])


def _check_not_after(events: list[EventBase], instants: list[dt.datetime], now: dt.datetime) -> None:
    """No event may lie after ``now`` (``instants`` are the events' UTC instants, sorted)."""
    if instants and instants[-1] > now:
        i, event = next((i, e) for i, e in enumerate(events) if e.at > now)
        raise EventError(
            [Problem(f"event is after now ({now.isoformat()})", (i, "at"), event.at.isoformat())]
        )


def _ordered(events: list[EventBase]) -> tuple[list[EventBase], list[dt.datetime]]:
    """Events by instant, then by content: a total order, so arrival order never matters.

    The same order as sorting on (instant, JSON text), whose text starts with the type; the
    JSON is only rendered for events sharing an instant and a type. Returns the events and
    their instants in UTC.
    """
    keyed = sorted(((e.at.astimezone(_UTC), e.type, i) for i, e in enumerate(events)))
    out: list[EventBase] = []
    i, n = 0, len(keyed)
    while i < n:
        j = i + 1
        while j < n and keyed[j][:2] == keyed[i][:2]:
            j += 1
        if j - i == 1:
            out.append(events[keyed[i][2]])
        else:
            out.extend(sorted((events[k[2]] for k in keyed[i:j]), key=lambda e: e.model_dump_json()))
        i = j
    return out, [k[0] for k in keyed]


class _Builder:
    """Collects outcomes and orders them deterministically."""

    def __init__(self) -> None:
        self.obligations: list[Obligation] = []
        self.escalations: list[Escalation] = []
        self.warnings: list[DeadlineWarning] = []
        self.next_checks: list[dt.datetime] = []
        self.tiers: list[TierAssignment] = []
        self.violations: list[Violation] = []
        self.scores: list[Score] = []

    def add(self, outcome: Outcome) -> None:
        self.obligations.append(outcome.obligation)
        self.warnings.extend(outcome.warnings)
        self.escalations.extend(outcome.escalations)
        self.next_checks.extend(outcome.next_checks)

    def add_etiquette(self, violations: list[dict[str, Any]], scores: list[dict[str, Any]]) -> None:
        self.violations = [Violation(**v) for v in violations]
        self.scores = [Score.model_validate(sc) for sc in scores]

    def add_tiers(self, result: TierResult, tzinfo: dt.tzinfo) -> None:
        self.tiers = list(result.assignments)
        for ob in result.obligations:
            self.obligations.append(
                Obligation(
                    id=ob.id,
                    rule=ob.rule,
                    source=ob.source,
                    case_id=ob.case_id,
                    customer_id=ob.customer_id,
                    started_at=ob.started_at.astimezone(tzinfo),
                    due_at=ob.due_at.astimezone(tzinfo),
                    status=ob.status,
                    met_at=ob.met_at.astimezone(tzinfo) if ob.met_at else None,
                    explain={
                        "clock": "wall",
                        "text": f"{ob.rule}: cadence period for customer {ob.customer_id}",
                    },
                )
            )
        if result.next_change_at is not None:
            self.next_checks.append(result.next_change_at)

    def build(self, now: dt.datetime, tzinfo: dt.tzinfo) -> Decision:
        self.obligations.sort(
            key=lambda o: (o.case_id or "", o.customer_id or "", o.started_at, o.due_at, o.rule, o.id)
        )
        self.escalations.sort(key=lambda e: (e.at, e.case_id, e.rule, e.step))
        self.warnings.sort(key=lambda w: (w.at, w.case_id, w.rule, w.obligation, w.percent))
        future = [t for t in self.next_checks if t > now]
        return Decision._trusted(
            {
                "obligations": self.obligations,
                "escalations": self.escalations,
                "violations": sorted(self.violations, key=lambda v: (v.at, v.case_id, v.rule)),
                "warnings": self.warnings,
                "tiers": self.tiers,
                "scores": sorted(self.scores, key=lambda sc: sc.case_id),
                "next_check_at": min(future).astimezone(tzinfo) if future else None,
            }
        )


def _level_lookup(tiers: TierResult | None) -> Callable[[str | None, dt.datetime], int | None] | None:
    """The customer's service level at an instant, for tier-dependent etiquette thresholds."""
    if tiers is None:
        return None

    def level(customer_id: str | None, at: dt.datetime) -> int | None:
        state = tiers.level_at(customer_id, at) if customer_id else None
        return state.service_level if state is not None else None

    return level


_default_engine: Engine | None = None


def evaluate(
    events: Iterable[Mapping[str, Any] | EventBase],
    *,
    now: dt.datetime,
    ruleset: Ruleset | None = None,
) -> Decision:
    """One-call form of :meth:`Engine.evaluate` (the bundled default ruleset unless given).

    >>> import datetime as dt, tierrules
    >>> needed = {"type": "escalation_needed", "at": "2026-11-24T10:00:00+08:00",
    ...           "case_id": "c1", "agent_level": 1}
    >>> d = tierrules.evaluate([needed], now=dt.datetime.fromisoformat("2026-11-24T10:30:00+08:00"))
    >>> d.obligations[0].status, d.escalations[0].to_level
    ('breached', 2)
    """
    global _default_engine
    if ruleset is not None:
        return Engine(ruleset).evaluate(events, now)
    if _default_engine is None:
        _default_engine = Engine()
    return _default_engine.evaluate(events, now)
