"""From one started clock to an obligation, its warnings, its escalations and its next check."""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dateutil.relativedelta import relativedelta
from dateutil.tz import resolve_imaginary

from ..calendars import BusinessCalendar
from ..decision import DeadlineWarning, Escalation, Obligation, Status
from ..events import EventBase
from ..ruleset.model import DeadlineRule
from ..vocabulary import Duration
from .cases import Case
from .clocks import (
    Pause,
    Run,
    Target,
    as_json_pauses,
    due_time,
    due_with_pauses,
    explain_text,
    warning_instants,
)

_UTC = dt.timezone.utc


@dataclass(frozen=True)
class RuleContext:
    """A deadline rule with its calendars resolved."""

    rule: DeadlineRule
    calendar: BusinessCalendar
    calendars: Mapping[str, BusinessCalendar]
    tz: dt.tzinfo

    @functools.cached_property
    def fixed(self) -> Target | None:
        """The target when it depends on no case attribute (most rules)."""
        rule = self.rule
        if rule.within_by is None and rule.calendar_by is None and rule.within is not None:
            return Target(rule.within, self.calendar, "within")
        return None

    @functools.cached_property
    def watched(self) -> tuple[str, ...]:
        """Case attributes whose change recomputes this rule's target."""
        return tuple(sorted(set(self.rule.within_by or ()) | set(self.rule.calendar_by or ())))

    def target(self, case: Case, at: dt.datetime, overrides: Mapping[str, Any] | None = None) -> Target:
        """The target and calendar that apply to ``case`` at ``at``."""
        fixed = self.fixed
        if fixed is not None:
            return fixed
        rule = self.rule
        within = rule.within
        origin = "within"
        calendar = self.calendar
        if rule.within_by is not None:
            [(name, table)] = rule.within_by.items()
            value = _value(case, name, at, overrides)
            if str(value) in table:
                within, origin = table[str(value)], f"within_by {name}={value}"
        if rule.calendar_by is not None:
            [(name, names)] = rule.calendar_by.items()
            value = _value(case, name, at, overrides)
            if str(value) in names:
                calendar = self.calendars[names[str(value)]]
        assert within is not None  # the compiler refuses rules with no target for some value
        return Target(within, calendar, origin)


def _value(case: Case, name: str, at: dt.datetime, overrides: Mapping[str, Any] | None) -> Any:
    if overrides and name in overrides:
        return overrides[name]
    return case.value_at(name, at)


def before(anchor: dt.datetime, by: Duration, tz: dt.tzinfo) -> dt.datetime:
    """``by`` of wall-clock time before ``anchor`` (days: same local time, earlier days)."""
    if by.unit == "days":
        local = anchor.astimezone(tz) - relativedelta(days=by.amount)
        return resolve_imaginary(local.replace(tzinfo=tz)).astimezone(_UTC)
    return anchor - dt.timedelta(**{by.unit: by.amount})


def first_at_or_after(times: Sequence[dt.datetime], start: dt.datetime) -> dt.datetime | None:
    pos = bisect.bisect_left(times, start)
    return times[pos] if pos < len(times) else None


@dataclass(frozen=True, slots=True)
class Started:
    """One start of a rule's clock: the event, the n-th start of the rule in its case, its UTC instant."""

    event: EventBase
    ordinal: int
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class Stops:
    """When a case's events met or cancelled a rule (UTC instants, in time order)."""

    met: Sequence[dt.datetime] = ()
    cancel: Sequence[dt.datetime] = ()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one started clock contributes to the decision."""

    obligation: Obligation
    warnings: tuple[DeadlineWarning, ...] = ()
    escalations: tuple[Escalation, ...] = ()
    next_checks: tuple[dt.datetime, ...] = ()


@dataclass(slots=True)
class _Clock:
    """The clock of one obligation as the target rules and pauses make it run."""

    target: Target
    run: Run
    changes: list[dict[str, Any]]
    breach_known: dt.datetime | None  # when a retarget made an already-passed due time known
    explain: dict[str, Any] | None  # built once the obligation is known to be owed


def clock_outcome(
    ctx: RuleContext, started: Started, case: Case, stops: Stops, now: dt.datetime
) -> Outcome | None:
    """The obligation ``started`` owes under ``ctx.rule`` and what follows from it at ``now``.

    None when it was cancelled unowed (a ``cancelled_by`` event before it fell due or was met).
    """
    start = started.at
    met_at = first_at_or_after(stops.met, start) if stops.met else None
    pauses = case.pauses if ctx.rule.pausable else []
    clock = _due_before_clock(ctx, started) if ctx.rule.due_before is not None else None
    if clock is None:
        clock = _running_clock(ctx, start, case, pauses, met_at, now)
    due = clock.run.due
    cancel_at = first_at_or_after(stops.cancel, start) if stops.cancel else None
    if cancel_at is not None and cancel_at < due and (met_at is None or cancel_at < met_at):
        return None  # e.g. the customer was served before the waiting clock came due
    if clock.explain is None:
        clock.explain = _explain(ctx, clock.target, start, clock.run)
    obligation = _obligation(ctx, started, case, clock, met_at, now)
    checks = [due] if obligation.status == "pending" and not obligation.paused else []
    warnings, warn_checks = _warnings(ctx, obligation, clock, start, pauses, met_at, now)
    escalations, escalation_checks = _escalations(ctx, started, obligation, clock, met_at, now)
    return Outcome(obligation, warnings, escalations, (*checks, *warn_checks, *escalation_checks))


def _due_before_clock(ctx: RuleContext, started: Started) -> _Clock:
    """A scheduling-courtesy clock (E12): due some time before an instant the event names."""
    rule, tz = ctx.rule, ctx.tz
    assert rule.due_before is not None
    anchor = getattr(started.event, rule.due_before.field).astimezone(_UTC)
    due = max(started.at, before(anchor, rule.due_before.by, tz))
    explain: dict[str, Any] = {
        "clock": "wall",
        "target": f"{rule.due_before.by} before {rule.due_before.field}",
        "anchor": anchor.astimezone(tz).isoformat(),
        "text": f"due {rule.due_before.by} before {rule.due_before.field} "
        f"{anchor.astimezone(tz):%Y-%m-%d %H:%M}"
        + ("; scheduled too late, due at once" if due == started.at else ""),
    }
    target = Target(rule.due_before.by, ctx.calendar, f"due_before {rule.due_before.field}")
    return _Clock(target, Run(due=due), [], None, explain)


def _running_clock(
    ctx: RuleContext,
    start: dt.datetime,
    case: Case,
    pauses: Sequence[Pause],
    met_at: dt.datetime | None,
    now: dt.datetime,
) -> _Clock:
    """A clock that runs from ``start`` for its target, retargeted when a watched attribute changes."""
    target = ctx.fixed or ctx.target(case, start)
    run = due_with_pauses(target, start, pauses, now)
    changes: list[dict[str, Any]] = []
    breach_known: dt.datetime | None = None
    for name in ctx.watched:
        for changed_at, value in case.changes(name, start, now):
            if met_at is not None and met_at <= changed_at:
                break
            new_target = ctx.target(case, changed_at, {name: value})
            if new_target.within == target.within and new_target.calendar is target.calendar:
                continue
            record = _change_record(ctx, name, value, changed_at, target, new_target, run)
            if run.due <= changed_at:
                changes.append({**record, "applied": False, "note": "already breached; stays breached"})
                break
            new_run = due_with_pauses(new_target, start, pauses, now)
            changes.append(
                {**record, "due_after": new_run.due.astimezone(ctx.tz).isoformat(), "applied": True}
            )
            target, run = new_target, new_run
            if run.due < changed_at:
                breach_known = changed_at
    return _Clock(target, run, changes, breach_known, None)


def _change_record(
    ctx: RuleContext,
    name: str,
    value: Any,
    changed_at: dt.datetime,
    target: Target,
    new_target: Target,
    run: Run,
) -> dict[str, Any]:
    return {
        "at": changed_at.astimezone(ctx.tz).isoformat(),
        "attribute": name,
        "to": value,
        "target_before": str(target.within),
        "target_after": str(new_target.within),
        "due_before": run.due.astimezone(ctx.tz).isoformat(),
    }


def _explain(ctx: RuleContext, target: Target, start: dt.datetime, run: Run) -> dict[str, Any]:
    """How the due time was computed, for people (``text``) and programs (the other keys)."""
    tz = ctx.tz
    counting_from = target.calendar.next_open(start) if target.within.working else None
    within_text = target.within_text
    explain: dict[str, Any] = {
        "calendar": target.calendar.name,
        "clock": "working" if target.within.working else "wall",
        "target": within_text,
        "target_from": target.origin,
        "pauses": as_json_pauses(run.pauses, tz),
        "text": explain_text(
            target=target,
            start=start,
            run=run,
            tz=tz,
            counting_from=counting_from,
            local_start=start.astimezone(tz),
            local_due=run.due.astimezone(tz),
            within_text=within_text,
        ),
    }
    if counting_from is not None:
        explain["counting_from"] = counting_from.astimezone(tz).isoformat()
    return explain


def _status(run: Run, met_at: dt.datetime | None, now: dt.datetime) -> Status:
    if met_at is not None:
        return "met" if met_at <= run.due else "breached"
    if run.open_pause:
        return "pending"
    return "breached" if run.due <= now else "pending"


def _obligation(
    ctx: RuleContext,
    started: Started,
    case: Case,
    clock: _Clock,
    met_at: dt.datetime | None,
    now: dt.datetime,
) -> Obligation:
    rule, tz, run = ctx.rule, ctx.tz, clock.run
    event = started.event
    agent_id, team = (event.agent_id, event.team) if event.agent_id or event.team else case.staff_at(event.at)
    return Obligation._trusted(
        {
            "id": f"{started.event.case_id}/{rule.id}/{started.ordinal}",
            "rule": rule.id,
            "source": rule.source,
            "case_id": started.event.case_id or "",
            "started_at": started.at.astimezone(tz),
            "due_at": run.due.astimezone(tz),
            "status": _status(run, met_at, now),
            "met_at": met_at.astimezone(tz) if met_at else None,
            "customer_id": case.customer_id,
            "paused_for": run.paused_for,
            "paused": run.open_pause and met_at is None,
            "changes": clock.changes,
            "explain": clock.explain,
            "agent_id": agent_id,
            "team": team,
        }
    )


def _warnings(
    ctx: RuleContext,
    obligation: Obligation,
    clock: _Clock,
    start: dt.datetime,
    pauses: Sequence[Pause],
    met_at: dt.datetime | None,
    now: dt.datetime,
) -> tuple[tuple[DeadlineWarning, ...], tuple[dt.datetime, ...]]:
    """Warnings already due at ``now``, and the instants of those still to come."""
    rule = ctx.rule
    if not rule.warn_at or rule.due_before is not None:
        return (), ()
    warnings: list[DeadlineWarning] = []
    upcoming: list[dt.datetime] = []
    watching = obligation.status == "pending" and not obligation.paused
    for pct, at in warning_instants(clock.target, start, pauses, now, rule.warn_at):
        if met_at is not None and met_at <= at:
            continue
        if at <= now and not (clock.run.open_pause and at >= now):
            warnings.append(_warning(ctx, obligation, pct, at))
        elif watching:
            upcoming.append(at)
    return tuple(warnings), tuple(upcoming)


def _warning(ctx: RuleContext, obligation: Obligation, percent: int, at: dt.datetime) -> DeadlineWarning:
    return DeadlineWarning._trusted(
        {
            "obligation": obligation.id,
            "rule": ctx.rule.id,
            "source": ctx.rule.source,
            "case_id": obligation.case_id or "",
            "at": at.astimezone(ctx.tz),
            "percent": percent,
            "due_at": obligation.due_at,
        }
    )


@dataclass(frozen=True, slots=True)
class _Chain:
    """Where an obligation's escalations go: the first level, its priority, the steps after."""

    level: int
    priority: int | None


def _chain(ctx: RuleContext, event: EventBase) -> _Chain:
    spec = ctx.rule.escalate
    assert spec is not None
    priority = None
    if spec.priority is not None:
        value = getattr(event, spec.priority.field)
        order = spec.priority.order
        priority = order.index(value) + 1 if value in order else len(order) + 1
    level = spec.to_level if spec.to_level is not None else int(getattr(event, spec.above_field or "")) + 1
    if spec.top is not None:
        level = min(level, spec.top)
    return _Chain(level, priority)


def _escalations(
    ctx: RuleContext,
    started: Started,
    obligation: Obligation,
    clock: _Clock,
    met_at: dt.datetime | None,
    now: dt.datetime,
) -> tuple[tuple[Escalation, ...], tuple[dt.datetime, ...]]:
    """Escalations raised by ``now`` (at start for skip-level rules, then one per chain step
    while unmet), and the next step's instant when it is still to come."""
    spec = ctx.rule.escalate
    if spec is None or (not spec.at_start and obligation.status != "breached"):
        return (), ()
    chain = _chain(ctx, started.event)
    level = chain.level
    out: list[Escalation] = []
    if spec.at_start:
        text = f"{ctx.rule.source}: {ctx.rule.start.event} escalates at once to level {level}"
        out.append(_escalation(ctx, obligation, started.at, level, 0, text, chain.priority))
        if spec.top is not None:
            level = spec.top
    if obligation.status != "breached":
        return tuple(out), ()
    due = clock.run.due
    at = max(due, clock.breach_known) if clock.breach_known else due
    step = 1 if spec.at_start else 0
    while at <= now and (met_at is None or met_at > at):
        out.append(
            _escalation(
                ctx, obligation, at, level, step, _breach_reason(ctx, obligation, step), chain.priority
            )
        )
        if spec.every is None or spec.top is None or level >= spec.top:
            return tuple(out), ()
        level += 1
        step += 1
        at = due_time(at, spec.every, ctx.calendar)
    upcoming = (at,) if (met_at is None or met_at > at) and at > now else ()
    return tuple(out), upcoming


def _breach_reason(ctx: RuleContext, obligation: Obligation, step: int) -> str:
    rule = ctx.rule
    return (
        f"{rule.source} breached: no {rule.met_by.event} within {obligation.explain.get('target')} "
        f"of {rule.start.event} at {obligation.started_at.isoformat()} (due {obligation.due_at.isoformat()})"
        + (f"; chain step {step}" if step else "")
    )


def _escalation(
    ctx: RuleContext,
    obligation: Obligation,
    at: dt.datetime,
    level: int,
    step: int,
    reason: str,
    priority: int | None,
) -> Escalation:
    return Escalation._trusted(
        {
            "rule": ctx.rule.id,
            "source": ctx.rule.source,
            "case_id": obligation.case_id or "",
            "at": at.astimezone(ctx.tz),
            "to_level": level,
            "reason": reason,
            "step": step,
            "priority": priority,
        }
    )
