"""Evaluation: events in, a decision out.

durable_rules decides which events trigger which rules (start or stop a clock); the
time arithmetic, pairing within a case, and statuses are computed here in Python over
the rule's business calendar.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from dateutil import tz

from ._calendar import BusinessCalendar, add_wall_clock
from ._compile import SESSION_MARKER_RULE, SESSION_MARKER_TYPE, CompiledRuleset
from ._decision import Decision, Escalation, Obligation, Status
from ._durable import EngineRuleset, engine_ruleset
from ._errors import EventError, Problem
from ._events import EventBase, parse_events
from ._model import DeadlineRule, Duration, Ruleset
from ._ruleset import compiled as compiled_form
from ._ruleset import load_ruleset

_UTC = dt.timezone.utc


def due_time(start: dt.datetime, within: Duration, calendar: BusinessCalendar) -> dt.datetime:
    """When an obligation started at ``start`` falls due."""
    if not within.working:
        return add_wall_clock(start, **{within.unit: within.amount})
    if within.unit == "days":
        return calendar.add_working_days(start, within.amount)
    delta = dt.timedelta(**{within.unit: within.amount})
    return calendar.add_working_time(start, delta)


def _fact(event: EventBase) -> dict[str, Any]:
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
    >>> [(o.source, o.due_at.isoformat(), o.status) for o in decision.obligations]
    [('E2', '2026-11-25T09:30:00+08:00', 'pending')]
    """

    def __init__(self, ruleset: Ruleset | None = None) -> None:
        self._ruleset = ruleset if ruleset is not None else load_ruleset()
        self._compiled: CompiledRuleset = compiled_form(self._ruleset)
        tzinfo = tz.gettz(self._ruleset.timezone)
        assert tzinfo is not None  # checked at compile time
        self._tz = tzinfo
        self._engine: EngineRuleset = engine_ruleset(
            self._compiled.engine_definition(), SESSION_MARKER_RULE, SESSION_MARKER_TYPE
        )
        self._roles = {r.name: r for r in self._compiled.engine_rules}

    @property
    def ruleset(self) -> Ruleset:
        """The ruleset this engine enforces."""
        return self._ruleset

    def evaluate(self, events: Iterable[Mapping[str, Any] | EventBase], now: dt.datetime) -> Decision:
        """Decide what the policy says about ``events`` at the instant ``now``.

        ``now`` must be timezone-aware and no event may lie after it. The same events (in
        any order) and the same ``now`` always give the same decision.
        Raises :class:`EventError` naming the event's index and field on bad input.
        """
        if not isinstance(now, dt.datetime) or now.tzinfo is None or now.utcoffset() is None:
            raise EventError([Problem("now must be a timezone-aware datetime", ("now",), now)])
        parsed = parse_events(events)
        late = [(i, e) for i, e in enumerate(parsed) if e.at > now]
        if late:
            i, event = late[0]
            raise EventError(
                [Problem(f"event is after now ({now.isoformat()})", (i, "at"), event.at.isoformat())]
            )
        # A total order on content, so arrival order never changes the decision.
        keyed = sorted(((e.at.astimezone(_UTC), e.model_dump_json(), e) for e in parsed), key=lambda k: k[:2])
        ordered = [e for _, _, e in keyed]
        matches = self._engine.match([_fact(e) for e in ordered])

        starts: dict[int, list[EventBase]] = defaultdict(list)
        mets: dict[tuple[int, str], list[dt.datetime]] = defaultdict(list)
        for index in sorted(matches):
            event = ordered[index]
            for name in matches[index]:
                role = self._roles[name]
                if role.role == "start":
                    starts[role.deadline].append(event)
                else:
                    mets[(role.deadline, event.case_id)].append(event.at.astimezone(_UTC))

        obligations: list[Obligation] = []
        escalations: list[Escalation] = []
        for d_index, started in sorted(starts.items()):
            rule = self._compiled.ruleset.deadlines[d_index]
            calendar = self._compiled.deadline_calendars[d_index]
            counts: dict[str, int] = defaultdict(int)
            for event in started:
                counts[event.case_id] += 1
                ob, esc = self._obligation(
                    rule, calendar, event, counts[event.case_id], mets[(d_index, event.case_id)], now
                )
                obligations.append(ob)
                if esc is not None:
                    escalations.append(esc)

        obligations.sort(key=lambda o: (o.case_id, o.started_at, o.due_at, o.rule, o.id))
        escalations.sort(key=lambda e: (e.at, e.case_id, e.rule))
        pending = [o.due_at for o in obligations if o.status == "pending"]
        return Decision(
            obligations=obligations,
            escalations=escalations,
            next_check_at=min(pending) if pending else None,
        )

    def _obligation(
        self,
        rule: DeadlineRule,
        calendar: BusinessCalendar,
        event: EventBase,
        ordinal: int,
        met_times: list[dt.datetime],
        now: dt.datetime,
    ) -> tuple[Obligation, Escalation | None]:
        start = event.at.astimezone(_UTC)
        due = due_time(start, rule.within, calendar).astimezone(self._tz)
        # The first stop event at or after the start meets it.
        pos = bisect.bisect_left(met_times, start)
        met_at = met_times[pos].astimezone(self._tz) if pos < len(met_times) else None
        status: Status
        if met_at is not None:
            status = "met" if met_at <= due else "breached"
        else:
            status = "breached" if due <= now else "pending"
        obligation = Obligation(
            id=f"{event.case_id}/{rule.id}/{ordinal}",
            rule=rule.id,
            source=rule.source,
            case_id=event.case_id,
            started_at=start.astimezone(self._tz),
            due_at=due,
            status=status,
            met_at=met_at,
        )
        escalation = None
        if status == "breached" and rule.escalate is not None:
            spec = rule.escalate
            level = (
                spec.to_level
                if spec.to_level is not None
                else int(getattr(event, spec.above_field or "")) + 1
            )
            escalation = Escalation(
                rule=rule.id,
                source=rule.source,
                case_id=event.case_id,
                at=due,
                to_level=level,
                reason=(
                    f"{rule.source} breached: no {rule.met_by.event} within {rule.within} "
                    f"of {rule.start.event} at {obligation.started_at.isoformat()} "
                    f"(due {due.isoformat()})"
                ),
            )
        return obligation, escalation


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
