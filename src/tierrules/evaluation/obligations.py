"""From one started clock to an obligation, its warnings, its escalations and its next checks.

A clock is started by an event (or by the change that made its rule apply) and stopped by
the first *paired* event that meets it: any of the rule's ``met_by`` events, at or after the
start, carrying the same ``pair_by`` value (the same visit) when both carry one, and reaching
the escalation level when the rule requires it. Everything here is pure Python over the
rule's calendar; the matcher has already decided which events play which role.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dateutil.relativedelta import relativedelta
from dateutil.tz import resolve_imaginary

from ..calendars import BusinessCalendar
from ..decision import DeadlineWarning, Escalation, Obligation, Status
from ..events import EventBase
from ..ruleset.model import DeadlineRule, EscalationSpec
from ..vocabulary import Duration, Text
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

__all__ = ["Outcome", "RuleContext", "Started", "Stop", "Stops", "before", "clock_outcome"]

_UTC = dt.timezone.utc
_ONE_SECOND = dt.timedelta(seconds=1)


@dataclass(frozen=True)
class RuleContext:
    """A deadline rule with its calendars and the ruleset's escalation levels resolved."""

    rule: DeadlineRule
    calendar: BusinessCalendar
    calendars: Mapping[str, BusinessCalendar]
    tz: dt.tzinfo
    levels: Mapping[int, Text] | None = None

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


@dataclass(frozen=True, slots=True)
class Started:
    """One start of a rule's clock.

    ``at`` is where counting starts (UTC); ``attached`` when the rule began to apply (later
    than ``at`` only for a retroactive start after an attribute change); ``until`` when it
    stopped applying (the attribute changed back), or None.
    """

    event: EventBase
    ordinal: int
    at: dt.datetime
    attached: dt.datetime | None = None
    until: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Stop:
    """An event that meets, cancels or reschedules a rule's clocks in its case, at a UTC instant."""

    at: dt.datetime
    event: EventBase


@dataclass(frozen=True, slots=True)
class Stops:
    """A case's events that meet, cancel or reschedule a rule, each list in time order."""

    met: Sequence[Stop] = ()
    cancel: Sequence[Stop] = ()
    reschedule: Sequence[Stop] = ()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one started clock contributes to the decision."""

    obligation: Obligation
    warnings: tuple[DeadlineWarning, ...] = ()
    escalations: tuple[Escalation, ...] = ()
    next_checks: tuple[dt.datetime, ...] = ()


@dataclass(slots=True)
class _Clock:
    """The clock of one obligation as the target rules, pauses and reschedules make it run."""

    target: Target
    run: Run
    changes: list[dict[str, Any]]
    breach_known: dt.datetime | None  # when a change made an already-passed due time known
    explain: dict[str, Any] | None  # built once the obligation is known to be owed


@dataclass(frozen=True, slots=True)
class _Chain:
    """Where an obligation escalates: the first level, and its priority (E4 order)."""

    level: int
    priority: int | None


def clock_outcome(
    ctx: RuleContext, started: Started, case: Case, stops: Stops, now: dt.datetime
) -> Outcome | None:
    """The obligation ``started`` owes under ``ctx.rule`` and what follows from it at ``now``.

    None when it is not owed: cancelled (a paired ``cancelled_by`` event before it fell due
    or was met), or the rule stopped applying (``started.until``) before it fell due unmet.
    """
    chain = _chain(ctx, started.event) if ctx.rule.escalate is not None else None
    met = _first(stops.met, started.at, started.until, _acceptor(ctx, started.event, chain))
    met_at = met.at if met is not None else None
    pauses = case.pauses if ctx.rule.pausable else []
    clock = _clock(ctx, started, case, stops, pauses, met_at, now)
    if not _owed(ctx, started, stops, clock.run.due, met_at):
        return None
    if started.attached is not None and started.attached > started.at and clock.run.due < started.attached:
        clock.breach_known = started.attached  # a retroactive start already past its due time
    if clock.explain is None:
        clock.explain = _explain(ctx, clock.target, started.at, clock.run)
    obligation = _obligation(ctx, started, case, clock, met, now)
    return _outcome(ctx, started, chain, obligation, clock, pauses, met_at, now)


def _clock(
    ctx: RuleContext,
    started: Started,
    case: Case,
    stops: Stops,
    pauses: Sequence[Pause],
    met_at: dt.datetime | None,
    now: dt.datetime,
) -> _Clock:
    """The clock as the rule runs it: due before an instant the start event names, or for a target."""
    if ctx.rule.due_before is not None:
        reschedules = [s for s in stops.reschedule if _paired(ctx, started.event, s)]
        return _due_before_clock(ctx, started, reschedules, met_at)
    # A met clock stopped at met_at: a pause still open then ends there, not at now.
    return _running_clock(ctx, started.at, case, pauses, met_at, min(now, met_at) if met_at else now)


def _owed(
    ctx: RuleContext, started: Started, stops: Stops, due: dt.datetime, met_at: dt.datetime | None
) -> bool:
    """Not cancelled before it fell due or was met, and not out of scope before it ran out."""
    cancel = _first(stops.cancel, started.at, started.until, lambda s: _paired(ctx, started.event, s))
    if cancel is not None and cancel.at < due and (met_at is None or cancel.at < met_at):
        return False  # e.g. the customer was served before the waiting clock came due
    until = started.until
    return until is None or met_at is not None or due <= until  # else the rule stopped applying first


def _outcome(
    ctx: RuleContext,
    started: Started,
    chain: _Chain | None,
    obligation: Obligation,
    clock: _Clock,
    pauses: Sequence[Pause],
    met_at: dt.datetime | None,
    now: dt.datetime,
) -> Outcome:
    """The obligation with its warnings, escalations and the instants to look at it again."""
    until = started.until
    checks = (clock.run.due,) if obligation.status == "pending" and not obligation.paused else ()
    horizon = min(now, until) if until is not None else now
    warnings, warn_checks = _warnings(
        ctx, obligation, clock, started.at, pauses, met_at, horizon, min(now, met_at) if met_at else now
    )
    escalations, escalation_checks = _escalations(
        ctx, started, chain, obligation, clock, met_at, horizon, now
    )
    if until is not None:  # the rule stopped applying: no warning or escalation is still to come
        warn_checks, escalation_checks = (), ()
    return Outcome(obligation, warnings, escalations, (*checks, *warn_checks, *escalation_checks))


def _first(
    stops: Sequence[Stop], start: dt.datetime, until: dt.datetime | None, accepts: Callable[[Stop], bool]
) -> Stop | None:
    """The first stop at or after ``start`` (and not after ``until``) that ``accepts`` takes."""
    for stop in stops:
        if stop.at < start:
            continue
        if until is not None and stop.at > until:
            return None
        if accepts(stop):
            return stop
    return None


def _paired(ctx: RuleContext, start: EventBase, stop: Stop) -> bool:
    """With ``pair_by``, a stop carrying a value meets only the start with the same value."""
    name = ctx.rule.pair_by
    if name is None:
        return True
    mine, theirs = getattr(start, name, None), getattr(stop.event, name, None)
    return mine is None or theirs is None or mine == theirs


def _acceptor(ctx: RuleContext, start: EventBase, chain: _Chain | None) -> Callable[[Stop], bool]:
    """Which stops meet this clock: paired, and reaching the escalation level when required."""
    if not ctx.rule.met_requires_level or chain is None:
        return lambda stop: _paired(ctx, start, stop)
    level = chain.level

    def accepts(stop: Stop) -> bool:
        reached = getattr(stop.event, "to_level", None)
        return _paired(ctx, start, stop) and isinstance(reached, int) and reached >= level

    return accepts


def _anchored_due(
    anchor: dt.datetime, booked: dt.datetime, by: Duration, tz: dt.tzinfo
) -> tuple[dt.datetime, str]:
    """When a ``due_before`` clock falls due, and why: the lead time before the anchor when the
    booking leaves room for it; else the anchor itself (a too-late booking still owes the
    courtesy before the visit); else at once (the anchor had passed when it was booked)."""
    lead = before(anchor, by, tz)
    if lead >= booked:
        return lead, ""
    if anchor >= booked:
        return anchor, f"booked less than {by} ahead: due at the {anchor.astimezone(tz):%H:%M} visit itself"
    return booked, "booked after the visit's time: due at once"


def _due_before_clock(
    ctx: RuleContext, started: Started, reschedules: Sequence[Stop], met_at: dt.datetime | None
) -> _Clock:
    """A scheduling-courtesy clock (E12): due some time before an instant the event names,
    following the visit when it is rescheduled."""
    rule, tz = ctx.rule, ctx.tz
    spec = rule.due_before
    assert spec is not None
    anchor = getattr(started.event, spec.field).astimezone(_UTC)
    due, note = _anchored_due(anchor, started.at, spec.by, tz)
    changes: list[dict[str, Any]] = []
    for moved in reschedules:
        if moved.at < started.at or (met_at is not None and met_at <= moved.at):
            continue
        new_anchor = getattr(moved.event, spec.field).astimezone(_UTC)
        record: dict[str, Any] = {
            "at": moved.at.astimezone(tz).isoformat(),
            "attribute": spec.field,
            "to": new_anchor.astimezone(tz).isoformat(),
            "due_before": due.astimezone(tz).isoformat(),
        }
        if due <= moved.at:
            changes.append({**record, "applied": False, "note": "already breached; stays breached"})
            break
        anchor = new_anchor
        due, note = _anchored_due(anchor, moved.at, spec.by, tz)
        changes.append({**record, "due_after": due.astimezone(tz).isoformat(), "applied": True})
    explain: dict[str, Any] = {
        "clock": "wall",
        "target": f"{spec.by} before {spec.field}",
        "anchor": anchor.astimezone(tz).isoformat(),
        "text": f"due {spec.by} before {spec.field} {anchor.astimezone(tz):%Y-%m-%d %H:%M}"
        + (f"; {note}" if note else ""),
    }
    target = Target(spec.by, ctx.calendar, f"due_before {spec.field}")
    return _Clock(target, Run(due=due), changes, None, explain)


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
    for changed_at, name, value in _watched_changes(ctx, case, start, now):
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
        changes.append({**record, "due_after": new_run.due.astimezone(ctx.tz).isoformat(), "applied": True})
        target, run = new_target, new_run
        if run.due < changed_at:
            breach_known = changed_at
    return _Clock(target, run, changes, breach_known, None)


def _watched_changes(
    ctx: RuleContext, case: Case, start: dt.datetime, now: dt.datetime
) -> list[tuple[dt.datetime, str, Any]]:
    """Every watched attribute's changes in time order (at one instant, by name): each new
    target reads the others as they are by then."""
    return sorted(
        (changed_at, name, value)
        for name in ctx.watched
        for changed_at, value in case.changes(name, start, now)
    )


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
    if run.pauses_omitted:
        explain["pauses_omitted"] = run.pauses_omitted
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
    met: Stop | None,
    now: dt.datetime,
) -> Obligation:
    rule, tz, run = ctx.rule, ctx.tz, clock.run
    event = started.event
    agent_id, team = (event.agent_id, event.team) if event.agent_id or event.team else case.staff_at(event.at)
    met_at = met.at if met is not None else None
    return Obligation._trusted(
        {
            "id": f"{event.case_id}/{rule.id}/{started.ordinal}",
            "rule": rule.id,
            "source": rule.source,
            "case_id": event.case_id or "",
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
            "message": rule.description,
            "paused_for_wall": run.paused_for_wall,
            "start_event_id": event.id,
            "met_event_id": met.event.id if met is not None else None,
        }
    )


def _warnings(
    ctx: RuleContext,
    obligation: Obligation,
    clock: _Clock,
    start: dt.datetime,
    pauses: Sequence[Pause],
    met_at: dt.datetime | None,
    horizon: dt.datetime,
    now: dt.datetime,
) -> tuple[tuple[DeadlineWarning, ...], tuple[dt.datetime, ...]]:
    """Warnings already due by ``horizon`` (``now``, or when the rule stopped applying), and
    the instants of those still to come."""
    rule = ctx.rule
    if not rule.warn_at or rule.due_before is not None:
        return (), ()
    warnings: list[DeadlineWarning] = []
    upcoming: list[dt.datetime] = []
    watching = obligation.status == "pending" and not obligation.paused
    for pct, at in warning_instants(clock.target, start, pauses, now, rule.warn_at):
        if met_at is not None and met_at <= at:
            continue
        if _reached(at, horizon, clock.run, now):
            warnings.append(_warning(ctx, obligation, pct, at))
        elif watching and at > now:
            upcoming.append(at)
    return tuple(warnings), tuple(upcoming)


def _reached(at: dt.datetime, horizon: dt.datetime, run: Run, now: dt.datetime) -> bool:
    """Whether a warning instant has come by ``horizon`` (under an open pause, only one before ``now``)."""
    return at <= horizon and not (run.open_pause and at >= now)


def _warning(ctx: RuleContext, obligation: Obligation, percent: int, at: dt.datetime) -> DeadlineWarning:
    rule = ctx.rule
    due = obligation.due_at
    return DeadlineWarning._trusted(
        {
            "id": f"{obligation.id}/warning/{percent}",
            "obligation": obligation.id,
            "rule": rule.id,
            "source": rule.source,
            "case_id": obligation.case_id or "",
            "at": at.astimezone(ctx.tz),
            "percent": percent,
            "due_at": due,
            "message": Text(
                zh=f"{rule.source}：时限已过去 {percent}%，须在 {due:%m-%d %H:%M} 前完成："
                f"{rule.description.zh}",
                en=f"{rule.source}: {percent}% of the time has passed; due {due:%m-%d %H:%M}: "
                f"{rule.description.en}",
            ),
        }
    )


def _chain(ctx: RuleContext, event: EventBase) -> _Chain:
    """The first level an obligation escalates to (capped at ``top`` and the highest declared
    level: an agent at the top reports to the top), and its priority."""
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
    if ctx.levels:
        level = min(level, max(ctx.levels))
    return _Chain(level, priority)


def _escalations(
    ctx: RuleContext,
    started: Started,
    chain: _Chain | None,
    obligation: Obligation,
    clock: _Clock,
    met_at: dt.datetime | None,
    horizon: dt.datetime,
    now: dt.datetime,
) -> tuple[tuple[Escalation, ...], tuple[dt.datetime, ...]]:
    """Escalations raised by ``horizon`` (at start for skip-level rules, then one per chain step
    while unmet), and the next step's instant when it is still to come."""
    spec = ctx.rule.escalate
    if spec is None or chain is None or (not spec.at_start and obligation.status != "breached"):
        return (), ()
    first, level = _at_start(ctx, spec, chain, obligation, started.at)
    if obligation.status != "breached":
        return first, ()
    due = clock.run.due
    at = max(due, clock.breach_known) if clock.breach_known else due
    steps = _chain_steps(spec, ctx.calendar, at, level, step=1 if spec.at_start else 0)
    raised, upcoming = _raised(ctx, obligation, chain.priority, steps, met_at, horizon, now)
    return (*first, *raised), upcoming


def _at_start(
    ctx: RuleContext, spec: EscalationSpec, chain: _Chain, obligation: Obligation, at: dt.datetime
) -> tuple[tuple[Escalation, ...], int]:
    """A skip-level rule's escalation at the start (none for others), and the level a breach goes to."""
    if not spec.at_start:
        return (), chain.level
    first = (_escalation(ctx, obligation, at, chain.level, 0, chain.priority),)
    if spec.top is None:
        return first, chain.level
    return first, min(spec.top, max(ctx.levels)) if ctx.levels else spec.top


def _chain_steps(
    spec: EscalationSpec, calendar: BusinessCalendar, at: dt.datetime, level: int, step: int
) -> Iterator[tuple[dt.datetime, int, int]]:
    """A breach's escalations as (instant, level, step): one, or one per ``every`` up to ``top``."""
    while True:
        yield at, level, step
        top = spec.top if spec.top is not None else level
        if spec.every is None or level >= top:
            return
        level += 1
        step += 1
        at = due_time(at, spec.every, calendar)


def _raised(
    ctx: RuleContext,
    obligation: Obligation,
    priority: int | None,
    steps: Iterator[tuple[dt.datetime, int, int]],
    met_at: dt.datetime | None,
    horizon: dt.datetime,
    now: dt.datetime,
) -> tuple[tuple[Escalation, ...], tuple[dt.datetime, ...]]:
    """The steps raised by ``horizon`` while unmet, and the next one's instant when still to come."""
    out: list[Escalation] = []
    for at, level, step in steps:
        if at > horizon or (met_at is not None and met_at <= at):
            return tuple(out), ((at,) if (met_at is None or met_at > at) and at > now else ())
        out.append(_escalation(ctx, obligation, at, level, step, priority))
    return tuple(out), ()


def _level_name(ctx: RuleContext, level: int) -> Text:
    name = ctx.levels.get(level) if ctx.levels else None
    return name if name is not None else Text(zh=f"第{level}级", en=f"level {level}")


def _escalation(
    ctx: RuleContext,
    obligation: Obligation,
    at: dt.datetime,
    level: int,
    step: int,
    priority: int | None,
) -> Escalation:
    rule = ctx.rule
    name = _level_name(ctx, level)
    if step == 0 and rule.escalate is not None and rule.escalate.at_start:
        reason = f"{rule.source}: {rule.start.event} escalates at once to level {level}"
        zh = f"{rule.source}：{rule.description.zh}——立即越级上报至{name.zh}（第{level}级）"
    else:
        met_by = " or ".join(t.event for t in rule.met_triggers)
        reason = (
            f"{rule.source} breached: no {met_by} within {obligation.explain.get('target')} "
            f"of {rule.start.event} at {obligation.started_at.isoformat()} "
            f"(due {obligation.due_at.isoformat()})" + (f"; chain step {step}" if step else "")
        )
        zh = f"{rule.source} 超时未完成：{rule.description.zh}——上报至{name.zh}（第{level}级）"
    return Escalation._trusted(
        {
            "id": f"{obligation.id}/escalation/{step}",
            "obligation": obligation.id,
            "rule": rule.id,
            "source": rule.source,
            "case_id": obligation.case_id or "",
            "at": at.astimezone(ctx.tz),
            "to_level": level,
            "reason": reason,
            "step": step,
            "priority": priority,
            "message": Text(zh=zh, en=f"{reason}: escalate to {name.en} (level {level})"),
        }
    )
