"""Semantic checks of a ruleset: names that resolve, values that mean something, calendars that parse.

Pydantic has checked the shape (:mod:`tierrules.ruleset.model`). Everything else that can be
wrong is found here, before compiling, and reported all at once: each check is a generator
of :class:`~tierrules.Problem` with paths relative to what it checks, re-rooted on the way up
with :func:`~tierrules.errors.descend` (as python-jsonschema does), so ``$.deadlines[2].start``
is where the author looks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..calendars import END_OF_DAY, MAX_CLOSED_DAYS, BusinessCalendar, parse_hours, zones
from ..errors import Problem, Rank, descend, did_you_mean
from ..events import EVENT_TYPES, field_choices, field_kind
from ..vocabulary import CASE_ATTRIBUTES, CaseAttribute, Duration
from .etiquette import check as check_etiquette
from .model import CalendarSpec, DeadlineRule, EscalationSpec, PrioritySpec, Ruleset, Trigger
from .targets import check as check_targets
from .tiers import check as check_tiers

__all__ = ["iter_problems"]


def iter_problems(ruleset: Ruleset) -> Iterator[Problem]:
    """Every semantic problem of a validated ruleset, paths from the document root."""
    for name, spec in sorted(ruleset.calendars.items()):
        yield from descend(_calendar(name, spec), "calendars", name)
    if ruleset.default_calendar not in ruleset.calendars:
        yield _unknown("calendar", ruleset.default_calendar, ruleset.calendars, "default_calendar")
    yield from _timezone(ruleset.timezone, "timezone")
    yield from descend(_levels(ruleset.levels), "levels")
    yield from descend(_deadlines(ruleset), "deadlines")
    deadline_ids = {rule.id: i for i, rule in enumerate(ruleset.deadlines)}
    if ruleset.tiers is not None:
        yield from descend(check_tiers(ruleset.tiers), "tiers")
        for rule_id, path in ruleset.tiers.rule_ids().items():
            if rule_id in deadline_ids:
                yield Problem(
                    f"rule id also used by deadlines[{deadline_ids[rule_id]}]",
                    ("tiers", *path),
                    rule_id,
                    rank=Rank.UNKNOWN_NAME,
                )
    if ruleset.etiquette is not None:
        yield from descend(check_etiquette(ruleset.etiquette), "etiquette")
    yield from descend(check_targets(ruleset), "targets")


def _unknown(what: str, name: str, choices: Any, *path: str | int) -> Problem:
    return Problem(
        f"unknown {what}",
        path,
        name,
        suggestion=did_you_mean(str(name), map(str, choices)),
        rank=Rank.UNKNOWN_NAME,
    )


def _timezone(name: str, *path: str | int) -> Iterator[Problem]:
    try:
        zones(name, "timezone")
    except ValueError as err:
        yield Problem(str(err).removeprefix("timezone: "), path, name, rank=Rank.INVALID)


def _calendar(name: str, spec: CalendarSpec) -> Iterator[Problem]:
    if spec.always_open:
        yield from _always_open(spec)
        return
    if not spec.hours:
        yield Problem("a calendar needs opening hours or always_open: true", ("hours",), rank=Rank.INVALID)
        return
    zone = list(_timezone(spec.timezone, "timezone"))
    hours = list(_bad_hours(spec))
    yield from zone
    yield from hours
    if zone or hours:
        return
    if not any(spec.hours.values()):
        yield Problem("a calendar needs opening hours on at least one weekday", ("hours",), rank=Rank.INVALID)
        return
    try:
        calendar = spec.build(name)
    except ValueError as err:
        yield Problem(str(err), (), rank=Rank.INVALID)
        return
    run = _longest_closed_run(calendar, spec.closed_dates)
    if run is not None:
        yield Problem(
            f"closed for {run[1]} days in a row from {run[0].isoformat()}: working-time arithmetic gives up "
            f"after {MAX_CLOSED_DAYS} days without open time",
            ("closed_dates",),
            rank=Rank.INVALID,
        )


def _always_open(spec: CalendarSpec) -> Iterator[Problem]:
    if spec.hours or spec.holidays or spec.closed_dates or spec.open_dates:
        yield Problem(
            "an always-open calendar takes no hours, holidays or dates",
            ("always_open",),
            rank=Rank.INVALID,
        )
    yield from _timezone(spec.timezone, "timezone")


def _bad_hours(spec: CalendarSpec) -> Iterator[Problem]:
    """Opening-hours texts that do not parse."""
    for day, intervals in spec.hours.items():
        for i, text in enumerate(intervals):
            try:
                parse_hours(text)
            except ValueError as err:
                yield Problem(str(err), ("hours", day, i), text, rank=Rank.INVALID)


def _longest_closed_run(calendar: BusinessCalendar, closed: Sequence[dt.date]) -> tuple[dt.date, int] | None:
    """The first run of more than MAX_CLOSED_DAYS closed days that closed dates make, if any.

    Weekly hours open at least one weekday, and public holidays close a few days a year, so
    only explicit closed dates can close a calendar for years: the days around them are checked.
    """
    if len(closed) < MAX_CLOSED_DAYS // 7:
        return None
    start: dt.date | None = None
    length, previous = 0, None
    for ordinal in sorted({d.toordinal() + k for d in closed for k in range(-7, 8)}):
        if previous is None or ordinal != previous + 1:  # between windows lie open weekdays
            start, length = None, 0
        previous = ordinal
        day = dt.date.fromordinal(ordinal)
        if calendar.hours_on(day):
            start, length = None, 0
            continue
        start = start or day
        length += 1
        if length > MAX_CLOSED_DAYS:
            return start, length
    return None


MAX_WORKING_WEEKS = 10 * 52
"""A working-time target may take at most this many weeks of its calendar's weekly hours."""


def _horizon(rule: DeadlineRule, calendars: Mapping[str, CalendarSpec], default: str) -> Iterator[Problem]:
    """Working-time targets that a sparse calendar would stretch past ten years.

    ``100000 working hours`` on a desk open one minute a week is two thousand years away:
    the arithmetic would scan millions of days and overflow ``datetime``. Wall-clock targets
    are bounded by :class:`~tierrules.Duration` itself.
    """
    names = _calendar_names(rule, default)
    for path, target in _durations(rule):
        if not target.working:
            continue
        for name in sorted(n for n in names if n in calendars and not calendars[n].always_open):
            try:
                weeks = _weeks(target, calendars[name])
            except ValueError:  # bad hours: reported with the calendar
                continue
            if weeks > MAX_WORKING_WEEKS:
                yield Problem(
                    f"{target} on calendar {name!r} is about {weeks / 52:,.0f} years of its opening hours; "
                    f"a working-time target may take at most {MAX_WORKING_WEEKS // 52} years",
                    path,
                    str(target),
                    rank=Rank.INVALID,
                )


def _calendar_names(rule: DeadlineRule, default: str) -> set[str]:
    """Every calendar a rule's clocks may run on."""
    names = {rule.calendar or default}
    if rule.calendar_by is not None:
        names |= {name for table in rule.calendar_by.values() for name in table.values()}
    return names


def _durations(rule: DeadlineRule) -> list[tuple[tuple[str | int, ...], Duration]]:
    """Each duration a rule states (targets and the escalation step), with its path."""
    targets: list[tuple[tuple[str | int, ...], Duration]] = []
    if rule.within is not None:
        targets.append((("within",), rule.within))
    for attr, table in (rule.within_by or {}).items():
        targets += [(("within_by", attr, value), target) for value, target in table.items()]
    if rule.escalate is not None and rule.escalate.every is not None:
        targets.append((("escalate", "every"), rule.escalate.every))
    return targets


def _weeks(target: Duration, spec: CalendarSpec) -> float:
    seconds, days = _weekly_open(spec)
    if target.unit == "days":
        return target.amount / days if days else float("inf")
    per_unit = {"seconds": 1, "minutes": 60, "hours": 3600}[target.unit]
    return target.amount * per_unit / seconds if seconds else float("inf")


def _weekly_open(spec: CalendarSpec) -> tuple[float, int]:
    """(seconds, weekdays) a calendar is open in a week, by its weekly hours."""
    seconds, days = 0.0, 0
    for spans in spec.hours.values():
        total = 0.0
        for text in spans:
            start, end = parse_hours(text)
            end_s = 86_400 if end == END_OF_DAY else end.hour * 3600 + end.minute * 60
            total += end_s - (start.hour * 3600 + start.minute * 60)
        seconds += total
        days += total > 0
    return seconds, days


def _levels(levels: Mapping[int, Any] | None) -> Iterator[Problem]:
    if levels is None:
        return
    if sorted(levels) != list(range(1, len(levels) + 1)):
        yield Problem("levels are numbered 1, 2, 3 ... without gaps", (), sorted(levels), rank=Rank.INVALID)


def _deadlines(ruleset: Ruleset) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    for i, rule in enumerate(ruleset.deadlines):
        if rule.id in seen:
            yield Problem(
                f"duplicate rule id (also deadlines[{seen[rule.id]}])",
                (i, "id"),
                rule.id,
                rank=Rank.UNKNOWN_NAME,
            )
        seen.setdefault(rule.id, i)
        yield from descend(_deadline(rule, ruleset), i)
        yield from descend(_horizon(rule, ruleset.calendars, ruleset.default_calendar), i)


def _deadline(rule: DeadlineRule, ruleset: Ruleset) -> Iterator[Problem]:
    calendars = ruleset.calendars
    if rule.calendar is not None and rule.calendar not in calendars:
        yield _unknown("calendar", rule.calendar, calendars, "calendar")
    yield from descend(_trigger(rule.start), "start")
    yield from descend(_applies_to(rule.applies_to), "applies_to")
    if isinstance(rule.met_by, list):
        for k, trigger in enumerate(rule.met_by):
            yield from descend(_trigger(trigger), "met_by", k)
    else:
        yield from descend(_trigger(rule.met_by), "met_by")
    if rule.cancelled_by is not None:
        yield from descend(_trigger(rule.cancelled_by), "cancelled_by")
    yield from _targets(rule, calendars)
    if rule.escalate is not None and rule.start.event in EVENT_TYPES:
        yield from descend(_escalation(rule.escalate, rule.start.event), "escalate")
        yield from descend(_declared_levels(rule.escalate, ruleset.levels), "escalate")
    yield from _pairing(rule)
    yield from _required_level(rule)


def _declared_levels(spec: EscalationSpec, levels: Mapping[int, Any] | None) -> Iterator[Problem]:
    if levels is None:
        return
    for key in ("to_level", "top"):
        value = getattr(spec, key)
        if value is not None and value not in levels:
            yield Problem(
                f"not a declared level (levels: {', '.join(map(str, sorted(levels)))})",
                (key,),
                value,
                rank=Rank.UNKNOWN_NAME,
            )


def _pairing(rule: DeadlineRule) -> Iterator[Problem]:
    """``pair_by`` names a field of the start event, which the paired events may carry too."""
    name = rule.pair_by
    if name is None or rule.start.event not in EVENT_TYPES:
        return
    fields = EVENT_TYPES[rule.start.event].model_fields
    if name not in fields:
        yield Problem(
            f"event {rule.start.event!r} has no field {name!r}",
            ("pair_by",),
            name,
            suggestion=did_you_mean(name, fields),
            rank=Rank.UNKNOWN_NAME,
        )
        return
    paired = [t.event for t in rule.met_triggers]
    if rule.cancelled_by is not None:
        paired.append(rule.cancelled_by.event)
    if not any(e in EVENT_TYPES and name in EVENT_TYPES[e].model_fields for e in paired):
        yield Problem(
            f"none of the met_by or cancelled_by events has a field {name!r} to pair on",
            ("pair_by",),
            name,
            rank=Rank.INVALID,
        )


def _required_level(rule: DeadlineRule) -> Iterator[Problem]:
    if not rule.met_requires_level:
        return
    if rule.escalate is None:
        yield Problem(
            "met_requires_level needs an 'escalate' level to reach",
            ("met_requires_level",),
            rank=Rank.INVALID,
        )
    for k, trigger in enumerate(rule.met_triggers):
        if trigger.event in EVENT_TYPES and "to_level" not in EVENT_TYPES[trigger.event].model_fields:
            where = ("met_by", k) if isinstance(rule.met_by, list) else ("met_by",)
            yield Problem(
                f"event {trigger.event!r} has no to_level to compare",
                (*where, "event"),
                trigger.event,
                rank=Rank.INVALID,
            )


def _trigger(trigger: Trigger) -> Iterator[Problem]:
    if trigger.event not in EVENT_TYPES:
        yield _unknown("event type", trigger.event, EVENT_TYPES, "event")
        return
    model = EVENT_TYPES[trigger.event]
    if model.scope != "case":
        yield Problem(
            "a customer-level event cannot start or stop a case deadline",
            ("event",),
            trigger.event,
            rank=Rank.INVALID,
        )
    for name, wanted in sorted(trigger.when.items()):
        if name not in model.matchable:
            yield Problem(
                f"event {trigger.event!r} has no field to match named {name!r}"
                + (f" (matchable: {', '.join(model.matchable)})" if model.matchable else ""),
                ("when", name),
                suggestion=did_you_mean(name, model.matchable),
                rank=Rank.UNKNOWN_NAME,
            )
            continue
        yield from descend(_values(trigger.event, name, wanted), "when", name)


def _values(event: str, name: str, wanted: Any) -> Iterator[Problem]:
    values = wanted if isinstance(wanted, list) else [wanted]
    if not values:
        yield Problem("an empty list matches nothing", (), wanted, rank=Rank.INVALID)
        return
    choices = field_choices(event, name)
    kind = field_kind(event, name)
    for i, value in enumerate(values):
        where = (i,) if isinstance(wanted, list) else ()
        if choices is not None and value not in choices:
            yield Problem(
                f"not one of {', '.join(map(str, choices))}",
                where,
                value,
                suggestion=did_you_mean(str(value), map(str, choices)),
                rank=Rank.UNKNOWN_NAME,
            )
        elif kind is not None and type(value) is not kind:
            yield Problem(f"must be of type {kind.__name__}", where, value, rank=Rank.INVALID)


def _applies_to(applies_to: Mapping[CaseAttribute, Sequence[Any]]) -> Iterator[Problem]:
    for name, values in sorted(applies_to.items()):
        choices = CASE_ATTRIBUTES[name]
        if not values:
            yield Problem("an empty list matches nothing", (name,), rank=Rank.INVALID)
        for j, value in enumerate(values):
            if value not in choices:
                yield Problem(
                    f"not one of {', '.join(map(str, choices))}",
                    (name, j),
                    value,
                    suggestion=did_you_mean(str(value), map(str, choices)),
                    rank=Rank.UNKNOWN_NAME,
                )


def _targets(rule: DeadlineRule, calendars: Mapping[str, CalendarSpec]) -> Iterator[Problem]:
    if rule.within_by is not None:
        yield from _by_attribute("within_by", rule.within_by, calendars, fallback=rule.within is not None)
    if rule.calendar_by is not None:
        yield from _by_attribute("calendar_by", rule.calendar_by, calendars, fallback=True)
    if rule.due_before is not None and rule.start.event in EVENT_TYPES:
        yield from _due_before(rule)


def _by_attribute(
    key: str,
    table: Mapping[CaseAttribute, Mapping[str, Any]],
    calendars: Mapping[str, CalendarSpec],
    *,
    fallback: bool,
) -> Iterator[Problem]:
    """A ``within_by``/``calendar_by`` table: known values, known calendars, every value covered
    (unless a ``fallback`` covers the rest)."""
    [(name, mapping)] = table.items()
    choices = [str(c) for c in CASE_ATTRIBUTES[name]]
    for value, target in mapping.items():
        if value not in choices:
            yield Problem(
                f"{name} has no value {value!r} (one of {', '.join(choices)})",
                (key, name, value),
                suggestion=did_you_mean(value, choices),
                rank=Rank.UNKNOWN_NAME,
            )
        if key == "calendar_by" and isinstance(target, str) and target not in calendars:
            yield _unknown("calendar", target, calendars, key, name, value)
    if not fallback and set(choices) - set(mapping):
        missing = ", ".join(sorted(set(choices) - set(mapping)))
        yield Problem(
            f"no target for {name} {missing}: add them or a fallback 'within'",
            (key, name),
            rank=Rank.INVALID,
        )


def _due_before(rule: DeadlineRule) -> Iterator[Problem]:
    assert rule.due_before is not None
    fields = EVENT_TYPES[rule.start.event].model_fields
    name = rule.due_before.field
    if name not in fields:
        yield Problem(
            f"event {rule.start.event!r} has no field {name!r}",
            ("due_before", "field"),
            name,
            suggestion=did_you_mean(name, fields),
            rank=Rank.UNKNOWN_NAME,
        )
    elif fields[name].annotation is not dt.datetime:
        yield Problem("must name a date-time field", ("due_before", "field"), name, rank=Rank.INVALID)
    if rule.due_before.by.working:
        yield Problem("due_before counts wall-clock time only", ("due_before", "by"), rank=Rank.INVALID)
    if rule.pausable:
        yield Problem("a due_before rule cannot pause", ("pausable",), rank=Rank.INVALID)
    moved_by = rule.due_before.rescheduled_by
    if moved_by is not None:
        if moved_by not in EVENT_TYPES:
            yield _unknown("event type", moved_by, EVENT_TYPES, "due_before", "rescheduled_by")
        elif name not in EVENT_TYPES[moved_by].model_fields:
            yield Problem(
                f"event {moved_by!r} has no field {name!r} to move the instant",
                ("due_before", "rescheduled_by"),
                moved_by,
                rank=Rank.INVALID,
            )
        elif rule.pair_by is None:
            yield Problem(
                "rescheduling needs pair_by (which visit moved)",
                ("due_before", "rescheduled_by"),
                moved_by,
                rank=Rank.INVALID,
            )


def _escalation(spec: EscalationSpec, event: str) -> Iterator[Problem]:
    if spec.every is not None and spec.top is None:
        yield Problem("a chain ('every') needs a 'top' level", ("every",), rank=Rank.INVALID)
    if spec.top is not None and spec.to_level is not None and spec.to_level > spec.top:
        yield Problem("to_level is above top", ("to_level",), spec.to_level, rank=Rank.INVALID)
    fields = EVENT_TYPES[event].model_fields
    if spec.priority is not None:
        yield from _priority(spec.priority, event, fields)
    if spec.above_field is not None:
        yield from _above_field(spec.above_field, event, fields)


def _priority(priority: PrioritySpec, event: str, fields: Mapping[str, Any]) -> Iterator[Problem]:
    name = priority.field
    choices = field_choices(event, name) if name in fields else None
    if choices is None:
        yield Problem(
            f"event {event!r} has no enumerated field {name!r}",
            ("priority", "field"),
            name,
            rank=Rank.UNKNOWN_NAME,
        )
        return
    for j, value in enumerate(priority.order):
        if value not in choices:
            yield Problem(
                f"not one of {', '.join(map(str, choices))}",
                ("priority", "order", j),
                value,
                suggestion=did_you_mean(value, map(str, choices)),
                rank=Rank.UNKNOWN_NAME,
            )


def _above_field(name: str, event: str, fields: Mapping[str, Any]) -> Iterator[Problem]:
    if name not in fields:
        yield Problem(
            f"event {event!r} has no field {name!r}",
            ("above_field",),
            name,
            suggestion=did_you_mean(name, fields),
            rank=Rank.UNKNOWN_NAME,
        )
    elif field_kind(event, name) is not int:
        yield Problem(
            "escalation level must come from an integer field",
            ("above_field",),
            name,
            rank=Rank.INVALID,
        )
