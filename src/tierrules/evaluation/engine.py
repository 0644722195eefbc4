"""Evaluation: events in, a decision out.

The matcher (durable_rules by default) decides which events trigger which rules (start,
meet, cancel or reschedule a clock, qualify for a tier); the time arithmetic, pairing within
a case, statuses and etiquette are computed in Python over the rules' business calendars.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from dateutil import tz

from ..compiler.compiled import CompiledRuleset
from ..compiler.load import compiled as compiled_form
from ..compiler.load import load_ruleset
from ..decision import Decision
from ..errors import EventError, Problem
from ..events import EVENT_TYPES, EventBase, limit_problem, validate_events
from ..limits import DEFAULT_LIMITS, Limits
from ..matching import Matcher, MatcherKind, build_matcher
from ..ruleset.model import Ruleset
from .assemble import DecisionBuilder, ViolationCache
from .cases import Case, build_cases
from .conversation import Conversation, TurnCache
from .etiquette import EtiquetteChecker, EtiquetteResult
from .facts import FactBuilder, MatchPlan, order_events, order_key
from .obligations import Outcome, RuleContext, Stops, clock_outcome
from .tiers import TierResult, evaluate_tiers

__all__ = ["Engine", "EvaluationMemo", "evaluate"]

_UTC = dt.timezone.utc
_CUSTOMER_EVENTS = frozenset(t for t, model in EVENT_TYPES.items() if model.scope == "customer")
_LEVEL_FIELDS = (("escalation_needed", "agent_level"), ("escalated", "to_level"))


class EvaluationMemo(Protocol):
    """Where :meth:`Engine.evaluate` keeps what it worked out for one case between calls.

    Any object with an ``engine_state`` attribute will do (a session's per-case cache is
    one). The engine reads and replaces ``engine_state`` only; it checks that what it kept
    still describes the events it is given, and starts again when it does not.
    """

    engine_state: Any


@dataclass
class _Part:
    """The deadline and tier part of a decision, worked out at ``now`` from the events that are
    not words (utterances only count for etiquette), and valid until ``until``."""

    version: int
    now: dt.datetime
    until: dt.datetime | None
    reusable: bool  # no clock paused: nothing moves with now before ``until``
    cases: dict[str, Case]
    outcomes: list[Outcome]
    tiers: TierResult | None


@dataclass(frozen=True)
class _Decided:
    """The last decision a memo's engine gave, and what it was made of.

    A decision is a function of the deadline and tier part, the cases with words only and the
    etiquette findings (each kept as the same object while it stands): while all of them are
    the same, so is the decision, and it is handed back instead of being assembled again (a
    call that gained a turn mostly finds nothing new). ``now`` needs no place here: a kept
    part is only used before its next change, and etiquette checks past ``now`` are in the
    findings.
    """

    part: _Part
    extra: tuple[str, ...]
    found: EtiquetteResult | None
    decision: Decision

    def holds(self, part: _Part, extra: tuple[str, ...], found: EtiquetteResult | None) -> bool:
        if part is not self.part or extra != self.extra:
            return False
        if found is None or self.found is None:
            return found is self.found
        held = self.found
        return (
            _same(found.violations, held.violations)
            and _same(found.scores, held.scores)
            and found.next_checks == held.next_checks
        )


def _same(a: Sequence[object], b: Sequence[object]) -> bool:
    return len(a) == len(b) and all(map(operator.is_, a, b))


@dataclass
class _State:
    """What an engine keeps for one memo: the events it last saw, in order, and the parts."""

    engine: int
    events: list[EventBase] = field(default_factory=list)
    ordered: list[EventBase] = field(default_factory=list)
    instants: list[dt.datetime] = field(default_factory=list)
    last_key: tuple[Any, ...] | None = None
    skeleton: list[EventBase] = field(default_factory=list)
    skeleton_instants: list[dt.datetime] = field(default_factory=list)
    version: int = 0
    part: _Part | None = None
    turns: TurnCache = field(default_factory=dict)
    by_case: dict[str, list[EventBase]] = field(default_factory=dict)
    conversations: dict[str, Conversation] = field(default_factory=dict)
    violations: ViolationCache = field(default_factory=dict)
    decided: _Decided | None = None
    # The Limits ``events`` were checked against, and the utterance characters they hold.
    limits: Limits | None = None
    text_chars: int = 0

    def follows(self, keys: list[tuple[Any, ...]]) -> bool:
        """Whether events with these order keys come, in this order, after every one held."""
        last = self.last_key
        return last is not None and all(b > a for a, b in zip([last, *keys], keys, strict=False))

    def append(
        self, added: list[EventBase], keys: list[tuple[Any, ...]], affects: Callable[[EventBase], bool]
    ) -> None:
        """Add events that sort after every one held."""
        self.ordered.extend(added)
        self.instants.extend(k[0] for k in keys)
        self._group(added)
        self.last_key = keys[-1] if keys else self.last_key
        grown = [e for e in added if affects(e)]
        if grown:
            self.skeleton.extend(grown)
            self.skeleton_instants.extend(e.at.astimezone(_UTC) for e in grown)
            self.version += 1

    def reorder(self, parsed: list[EventBase], affects: Callable[[EventBase], bool]) -> None:
        """Order ``parsed`` from scratch; what was kept of the conversations goes."""
        ordered, instants = order_events(parsed)
        self.ordered, self.instants = ordered, instants
        self.last_key = max(order_key(e, i) for i, e in enumerate(parsed)) if parsed else None
        kept = [i for i, e in enumerate(ordered) if affects(e)]
        self.skeleton = [ordered[i] for i in kept]
        self.skeleton_instants = [instants[i] for i in kept]
        self.version += 1
        self.by_case = {}
        self._group(ordered)
        self.conversations.clear()  # their events may no longer start their cases' events

    def _group(self, events: Iterable[EventBase]) -> None:
        for event in events:
            if event.case_id is not None:
                self.by_case.setdefault(event.case_id, []).append(event)


def _profile_fact(event: EventBase) -> dict[str, Any]:
    """A tier fact: the type and the matchable fields."""
    fact: dict[str, Any] = {"type": event.type}
    for name in event.matchable:
        fact[name] = getattr(event, name)
    return fact


class Engine:
    """Evaluates events against one ruleset.

    Build it once and call :meth:`evaluate` on every event: the ruleset is validated and
    compiled up front, and the engine is safe to share between threads. ``matcher`` picks
    how rule conditions are matched: ``"durable"`` (durable_rules, the default) or
    ``"python"``; ``TIERRULES_MATCHER`` sets the default.

    >>> import datetime as dt, tierrules
    >>> engine = tierrules.Engine(tierrules.load_ruleset())
    >>> decision = engine.evaluate(
    ...     [{"type": "complaint_registered", "at": "2026-11-24T17:30:00+08:00", "case_id": "c1"}],
    ...     now=dt.datetime.fromisoformat("2026-11-24T17:45:00+08:00"),
    ... )
    >>> [(o.rule, o.due_at.isoformat(), o.status) for o in decision.obligations]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('E2.complaint-reply', '2026-11-25T09:30:00+08:00', 'pending'),
     ('E9.complaint-resolution', '2026-11-26T17:30:00+08:00', 'pending'),
     ('E9.complaint-response', '2026-11-25T17:30:00+08:00', 'pending')]
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
        self._tz = _zone(self._ruleset.timezone)
        self._matcher: Matcher = build_matcher(self._compiled.case_rules, matcher)
        self._facts = FactBuilder(self._compiled)
        self._tier_matcher: Matcher | None = None
        if self._compiled.tier_rules:
            self._tier_matcher = build_matcher(self._compiled.tier_rules, self._matcher.kind)
        self._etiquette = (
            EtiquetteChecker(self._ruleset.etiquette) if self._ruleset.etiquette is not None else None
        )
        self._contexts = [
            RuleContext(rule, cal, self._compiled.calendars, self._tz, self._ruleset.levels)
            for rule, cal in zip(self._ruleset.deadlines, self._compiled.deadline_calendars, strict=True)
        ]
        # Utterances no rule matches on are words only: they leave deadlines and tiers alone.
        matched = self._compiled.matched_types()
        self._words_only = matched is None or "utterance" not in matched

    @property
    def ruleset(self) -> Ruleset:
        """The ruleset this engine enforces."""
        return self._ruleset

    @property
    def matcher(self) -> MatcherKind:
        """Which matcher decides rule matches: ``"durable"`` or ``"python"``."""
        return self._matcher.kind

    def evaluate(
        self,
        events: Iterable[Mapping[str, Any] | EventBase],
        now: dt.datetime,
        *,
        memo: EvaluationMemo | None = None,
    ) -> Decision:
        """Decide what the policy says about ``events`` at the instant ``now``.

        ``now`` must be timezone-aware and no event may lie after it. The same events and
        the same ``now`` always give the same decision; events are ordered by instant, then
        by ``seq``, then as given (so only same-instant events without ``seq`` depend on
        the order given). Raises :class:`EventError` naming the event's index and field on
        bad input.

        ``memo`` (an :class:`EvaluationMemo`: a session passes its per-case cache) lets
        repeated calls on a growing list of events pay for what is new: when ``events`` is
        the list given last time plus more, the order, the normalised words and the
        deadline part are reused. The decision is the same as without it, byte for byte.
        """
        _check_now(now)
        state = self._state(memo)
        parsed, seen = validate_events(events, self.limits, now, state.events)
        self._checked(state, parsed, seen)
        self._extend(state, parsed, seen)
        self._check_levels(parsed, seen)
        instants = state.instants
        _check_not_after(parsed, instants, now)
        # Clock comparisons are mostly against UTC instants: same-zone comparisons are cheap.
        now_utc = now.astimezone(_UTC)
        part = self._part(state, now, now_utc)
        extra = tuple(c for c in state.by_case if c not in part.cases)  # cases with words only
        found = None
        if self._etiquette is not None:
            found = self._etiquette.evaluate_cases(
                state.by_case, self._tz, _level_lookup(part.tiers), now, state.turns, state.conversations
            )
        kept = state.decided
        if kept is not None and kept.holds(part, extra, found):
            return kept.decision
        decision = self._assemble(part, extra, found, state.violations, now_utc)
        state.decided = _Decided(part, extra, found, decision)
        return decision

    def _assemble(
        self,
        part: _Part,
        extra: tuple[str, ...],
        found: EtiquetteResult | None,
        built: ViolationCache,
        now_utc: dt.datetime,
    ) -> Decision:
        """The decision of the deadline and tier part and the etiquette findings."""
        cases = {**part.cases, **{c: Case(c) for c in extra}} if extra else part.cases
        decision = DecisionBuilder(self._tz, cases)
        for outcome in part.outcomes:
            decision.add(outcome)
        if part.tiers is not None:
            decision.add_tiers(part.tiers)
        if found is not None:
            decision.add_etiquette(found, built)
        return decision.build(now_utc)

    def _state(self, memo: EvaluationMemo | None) -> _State:
        """The memo's state if it is this engine's, else a fresh one (kept in the memo)."""
        held = getattr(memo, "engine_state", None) if memo is not None else None
        if isinstance(held, _State) and held.engine == id(self):
            return held
        state = _State(id(self))
        if memo is not None:
            memo.engine_state = state
        return state

    def _checked(self, state: _State, parsed: list[EventBase], seen: int) -> None:
        """Check ``parsed`` against the limits; the first ``seen`` are the state's events.

        Seen events (the same events, in the same places, under the same limits) were
        checked then: only the new ones are. Raises EventError, leaving the state as it was.
        """
        start = seen if state.limits is self.limits else 0
        problem, chars = limit_problem(
            parsed, self.limits, start=start, text_total=state.text_chars if start else 0
        )
        if problem is not None:
            raise EventError([problem])
        state.limits, state.text_chars = self.limits, chars

    def _extend(self, state: _State, parsed: list[EventBase], seen: int) -> None:
        """Bring the state's ordered events up to ``parsed``, of which it had seen ``seen``.

        The same events plus later ones (the common case: a session appending) extend the
        order; anything else orders again from scratch.
        """
        added = parsed[seen:]
        keys = [order_key(e, seen + k) for k, e in enumerate(added)]
        if seen and state.follows(keys):
            state.append(added, keys, self._affects_clocks)
        elif added or not seen:
            state.reorder(parsed, self._affects_clocks)
        state.events = list(parsed)

    def _affects_clocks(self, event: EventBase) -> bool:
        """Whether the deadline and tier part reads the event (words only: no)."""
        return not (
            self._words_only and event.type == "utterance" and event.agent_id is None and event.team is None
        )

    # Complexity C: the reuse rule for the kept deadline part (same events; same now, or a later now
    # before its next change while no clock is paused) is one condition, then the part built anew.
    def _part(self, state: _State, now: dt.datetime, now_utc: dt.datetime) -> _Part:
        """The deadline and tier part at ``now``: the one kept, while it still holds, else anew."""
        part = state.part
        if (
            part is not None
            and part.version == state.version
            and (
                part.now == now_utc
                or (part.reusable and part.now < now_utc and (part.until is None or now_utc < part.until))
            )
        ):
            return part
        events = state.skeleton
        tiers = self._tiers(events, now)
        cases = build_cases(events, tiers.attributes if tiers is not None else None)
        plan = MatchPlan.build(
            self._compiled, self._matcher, self._facts, events, state.skeleton_instants, cases, now_utc
        )
        outcomes = list(self._outcomes(plan, cases, now_utc))
        checks = [t for o in outcomes for t in o.next_checks if t > now_utc]
        if tiers is not None:
            checks += [t for t in tiers.next_changes.values() if t > now_utc]
        part = _Part(
            version=state.version,
            now=now_utc,
            until=min(checks) if checks else None,
            reusable=not any(o.obligation.paused for o in outcomes),
            cases=cases,
            outcomes=outcomes,
            tiers=tiers,
        )
        state.part = part
        return part

    def _outcomes(self, plan: MatchPlan, cases: Mapping[str, Case], now: dt.datetime) -> Iterator[Outcome]:
        """Each started clock's outcome, rule by rule, starts in the order they started."""
        for d_index, starts in sorted(plan.starts.items()):
            ctx = self._contexts[d_index]
            for started in starts:
                case_id = started.event.case_id or ""
                stops = plan.stops.get((d_index, case_id), Stops())
                found = clock_outcome(ctx, started, cases[case_id], stops, now)
                if found is not None:
                    yield found

    def _check_levels(self, events: list[EventBase], seen: int = 0) -> None:
        """Escalation levels named by events (from ``seen`` on) must be levels the ruleset declares."""
        levels = self._ruleset.levels
        if not levels:
            return
        for i, event in enumerate(events[seen:], start=seen):
            for kind, name in _LEVEL_FIELDS:
                value = getattr(event, name, None) if event.type == kind else None
                if value is not None and value not in levels:
                    raise EventError(
                        [
                            Problem(
                                "not a level of this ruleset "
                                f"(levels: {', '.join(map(str, sorted(levels)))})",
                                (i, name),
                                value,
                            )
                        ]
                    )

    def _tiers(self, ordered: Sequence[EventBase], now: dt.datetime) -> TierResult | None:
        """Tier assignments: thresholds matched by the matcher, the rest in Python."""
        spec = self._ruleset.tiers
        if spec is None or self._tier_matcher is None:
            return None
        if not any(e.type in _CUSTOMER_EVENTS for e in ordered):
            return None  # no customer events: no tiers, and cases keep the T5 defaults
        profiles = [i for i, e in enumerate(ordered) if e.type == "customer_profile"]
        hits = self._tier_matcher.match([_profile_fact(ordered[i]) for i in profiles]) if profiles else {}
        return evaluate_tiers(spec, ordered, {profiles[k]: v for k, v in hits.items()}, now, self._tz)


def _zone(name: str) -> dt.tzinfo:
    """The ruleset's zone for reporting: the stdlib's C zoneinfo converts several times faster
    than dateutil's pure-Python tzfile, with the same offsets."""
    try:
        return ZoneInfo(name)
    except (ValueError, OSError):  # a name only dateutil knows; the compiler accepted it
        found = tz.gettz(name)
        assert found is not None
        return found


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
