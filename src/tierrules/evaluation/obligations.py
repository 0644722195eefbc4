"""From one started clock to an obligation, its warnings, its escalations and its next check."""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from dateutil.relativedelta import relativedelta
from dateutil.tz import resolve_imaginary

from ..calendar import BusinessCalendar
from ..decision import DeadlineWarning, Escalation, Obligation, Status
from ..events import EventBase
from ..ruleset.model import DeadlineRule
from ..vocabulary import Duration
from .cases import Case
from .clocks import Run, Target, as_json_pauses, due_time, due_with_pauses, explain_text, warning_instants

_UTC = dt.timezone.utc


class Sink(Protocol):
    """Where started clocks put what they contribute to the decision."""

    obligations: list[Obligation]
    warnings: list[DeadlineWarning]
    escalations: list[Escalation]
    next_checks: list[dt.datetime]


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


def compute(
    ctx: RuleContext,
    event: EventBase,
    ordinal: int,
    case: Case,
    met_times: Sequence[dt.datetime],
    cancel_times: Sequence[dt.datetime],
    now: dt.datetime,
    out: Sink,
    start: dt.datetime | None = None,
) -> None:
    """Add the obligation ``event`` started under ``ctx.rule`` to ``out``, unless it was cancelled unowed.

    ``start`` is the event's instant in UTC when the caller has it.
    """
    rule, tz = ctx.rule, ctx.tz
    if start is None:
        start = event.at.astimezone(_UTC)
    met_at = first_at_or_after(met_times, start) if met_times else None
    pauses = case.pauses if rule.pausable else []
    changes: list[dict[str, Any]] = []
    breach_known: dt.datetime | None = None

    if rule.due_before is not None:
        anchor = getattr(event, rule.due_before.field).astimezone(_UTC)
        due = max(start, before(anchor, rule.due_before.by, tz))
        run = Run(due=due)
        target = Target(rule.due_before.by, ctx.calendar, f"due_before {rule.due_before.field}")
        explain: dict[str, Any] = {
            "clock": "wall",
            "target": f"{rule.due_before.by} before {rule.due_before.field}",
            "anchor": anchor.astimezone(tz).isoformat(),
            "text": f"due {rule.due_before.by} before {rule.due_before.field} "
            f"{anchor.astimezone(tz):%Y-%m-%d %H:%M}"
            + ("; scheduled too late, due at once" if due == start else ""),
        }
    else:
        target = ctx.fixed or ctx.target(case, start)
        run = due_with_pauses(target, start, pauses, now)
        for name in ctx.watched:
            for changed_at, value in case.changes(name, start, now):
                if met_at is not None and met_at <= changed_at:
                    break
                new_target = ctx.target(case, changed_at, {name: value})
                if new_target.within == target.within and new_target.calendar is target.calendar:
                    continue
                record: dict[str, Any] = {
                    "at": changed_at.astimezone(tz).isoformat(),
                    "attribute": name,
                    "to": value,
                    "target_before": str(target.within),
                    "target_after": str(new_target.within),
                    "due_before": run.due.astimezone(tz).isoformat(),
                }
                if run.due <= changed_at:
                    changes.append({**record, "applied": False, "note": "already breached; stays breached"})
                    break
                new_run = due_with_pauses(new_target, start, pauses, now)
                changes.append(
                    {**record, "due_after": new_run.due.astimezone(tz).isoformat(), "applied": True}
                )
                target, run = new_target, new_run
                if run.due < changed_at:
                    breach_known = changed_at
        explain = {}  # filled in below, once we know the obligation is owed

    due = run.due
    cancel_at = first_at_or_after(cancel_times, start) if cancel_times else None
    if cancel_at is not None and cancel_at < due and (met_at is None or cancel_at < met_at):
        return  # e.g. the customer was served before the waiting clock came due
    local_start, local_due = start.astimezone(tz), due.astimezone(tz)
    if not explain:
        counting_from = target.calendar.next_open(start) if target.within.working else None
        within_text = target.within_text
        explain = {
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
                local_start=local_start,
                local_due=local_due,
                within_text=within_text,
            ),
        }
        if counting_from is not None:
            explain["counting_from"] = counting_from.astimezone(tz).isoformat()

    status: Status
    if met_at is not None:
        status = "met" if met_at <= due else "breached"
    elif run.open_pause:
        status = "pending"
    else:
        status = "breached" if due <= now else "pending"

    obligation = Obligation._trusted(
        {
            "id": f"{event.case_id}/{rule.id}/{ordinal}",
            "rule": rule.id,
            "source": rule.source,
            "case_id": event.case_id or "",
            "started_at": local_start,
            "due_at": local_due,
            "status": status,
            "met_at": met_at.astimezone(tz) if met_at else None,
            "customer_id": case.customer_id,
            "paused_for": run.paused_for,
            "paused": run.open_pause and met_at is None,
            "changes": changes,
            "explain": explain,
        }
    )
    out.obligations.append(obligation)
    if status == "pending" and not obligation.paused:
        out.next_checks.append(due)

    if rule.warn_at and rule.due_before is None:
        for pct, at in warning_instants(target, start, pauses, now, rule.warn_at):
            if met_at is not None and met_at <= at:
                continue
            if at <= now and not (run.open_pause and at >= now):
                out.warnings.append(
                    DeadlineWarning._trusted(
                        {
                            "obligation": obligation.id,
                            "rule": rule.id,
                            "source": rule.source,
                            "case_id": case.case_id,
                            "at": at.astimezone(tz),
                            "percent": pct,
                            "due_at": obligation.due_at,
                        }
                    )
                )
            elif status == "pending" and not obligation.paused:
                out.next_checks.append(at)

    _escalate(ctx, case.case_id, event, obligation, start, due, breach_known, met_at, now, out)


def _escalate(
    ctx: RuleContext,
    case_id: str,
    event: EventBase,
    obligation: Obligation,
    start: dt.datetime,
    due: dt.datetime,
    breach_known: dt.datetime | None,
    met_at: dt.datetime | None,
    now: dt.datetime,
    out: Sink,
) -> None:
    spec = ctx.rule.escalate
    if spec is None or (not spec.at_start and obligation.status != "breached"):
        return
    rule, tz = ctx.rule, ctx.tz
    priority = None
    if spec.priority is not None:
        value = getattr(event, spec.priority.field)
        order = spec.priority.order
        priority = order.index(value) + 1 if value in order else len(order) + 1
    level = spec.to_level if spec.to_level is not None else int(getattr(event, spec.above_field or "")) + 1
    if spec.top is not None:
        level = min(level, spec.top)

    def raise_(at: dt.datetime, to_level: int, step: int, reason: str) -> None:
        out.escalations.append(
            Escalation._trusted(
                {
                    "rule": rule.id,
                    "source": rule.source,
                    "case_id": case_id,
                    "at": at.astimezone(tz),
                    "to_level": to_level,
                    "reason": reason,
                    "step": step,
                    "priority": priority,
                }
            )
        )

    if spec.at_start:
        raise_(start, level, 0, f"{rule.source}: {rule.start.event} escalates at once to level {level}")
        if spec.top is not None:
            level = spec.top
    if obligation.status != "breached":
        return
    at = max(due, breach_known) if breach_known else due
    step = 1 if spec.at_start else 0
    start_text = obligation.started_at.isoformat()
    while at <= now and (met_at is None or met_at > at):
        raise_(
            at,
            level,
            step,
            f"{rule.source} breached: no {rule.met_by.event} within {obligation.explain.get('target')} "
            f"of {rule.start.event} at {start_text} (due {obligation.due_at.isoformat()})"
            + (f"; chain step {step}" if step else ""),
        )
        if spec.every is None or spec.top is None or level >= spec.top:
            return
        level += 1
        step += 1
        at = due_time(at, spec.every, ctx.calendar)
    if (met_at is None or met_at > at) and at > now:
        out.next_checks.append(at)
