"""Compile a validated ruleset: resolve names, build calendars and the engine's rules.

Everything that can be wrong with a ruleset is found here, at load time, and reported
all at once; evaluation never meets an unknown name or an engine limit.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ._calendar import BusinessCalendar, HolidaySource, parse_hours
from ._errors import PathPart, Problem, did_you_mean
from ._etiquette import check as check_etiquette
from ._events import EVENT_TYPES, field_choices, field_kind
from ._model import CalendarSpec, DeadlineRule, Ruleset, Trigger
from ._tiers import check as check_tiers
from ._tiers import tier_engine_conditions

# Measured limits of durable_rules 2.0.28 (../shared/DURABLE_RULES.md): 512 distinct
# values tested on one field hang posting; 31+ rules joining the same two event types
# segfault; 1,500 simple rules fail with error 303. We stay well inside them.
MAX_DISTINCT_VALUES_PER_FIELD = 511
MAX_SAME_TYPE_JOINS = 30
MAX_ENGINE_RULES = 500

SESSION_MARKER_TYPE = "tierrules.session_opened"
SESSION_MARKER_RULE = "tierrules.session"

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class EngineRule:
    """One durable_rules rule and what a match means to us."""

    name: str
    role: str  # "start", "met" or "cancel"
    deadline: int  # index into Ruleset.deadlines
    condition: dict[str, Any]


@dataclass(frozen=True)
class CompiledRuleset:
    """A ruleset ready to evaluate: calendars built, engine rules generated."""

    ruleset: Ruleset
    calendars: Mapping[str, BusinessCalendar]
    deadline_calendars: tuple[BusinessCalendar, ...]
    engine_rules: tuple[EngineRule, ...]
    # Tier threshold rules run in their own engine ruleset, before the case rules,
    # because case facts carry the customer's tier.
    tier_conditions: Mapping[str, dict[str, Any]]

    def tier_engine_definition(self) -> dict[str, dict[str, Any]]:
        """The durable_rules JSON ruleset for tier thresholds (without actions)."""
        definition = {name: {"all": [{"m": cond}]} for name, cond in self.tier_conditions.items()}
        definition[SESSION_MARKER_RULE] = {"all": [{"m": {"type": SESSION_MARKER_TYPE}}]}
        return definition

    @functools.cached_property
    def engine_nodes(self) -> Mapping[str, tuple[EngineRule, ...]]:
        """Engine rule name -> the start/met/cancel roles that share its condition.

        Rules with the same condition share one durable_rules rule (Rete node sharing): a
        complaint starting E2 and both E9 clocks costs one action callback, not three. The
        shared rule is named after the first role that has the condition.
        """
        by_condition: dict[str, list[EngineRule]] = {}
        for rule in self.engine_rules:
            by_condition.setdefault(json.dumps(rule.condition, sort_keys=True), []).append(rule)
        return {roles[0].name: tuple(roles) for roles in by_condition.values()}

    def engine_definition(self) -> dict[str, dict[str, Any]]:
        """The durable_rules JSON ruleset (without actions), one rule per distinct condition."""
        definition = {name: {"all": [{"m": roles[0].condition}]} for name, roles in self.engine_nodes.items()}
        definition[SESSION_MARKER_RULE] = {"all": [{"m": {"type": SESSION_MARKER_TYPE}}]}
        return definition

    def unshared_engine_definition(self) -> dict[str, dict[str, Any]]:
        """One durable_rules rule per start/met/cancel role: what a hand translation would post.

        Not used for evaluation; the benchmark's raw durable_rules reference runs it.
        """
        definition = {rule.name: {"all": [{"m": rule.condition}]} for rule in self.engine_rules}
        definition[SESSION_MARKER_RULE] = {"all": [{"m": {"type": SESSION_MARKER_TYPE}}]}
        return definition


def _calendar(
    name: str, spec: CalendarSpec, path: tuple[PathPart, ...]
) -> tuple[BusinessCalendar | None, list[Problem]]:
    problems: list[Problem] = []
    if spec.always_open:
        if spec.hours or spec.holidays or spec.closed_dates or spec.open_dates:
            problems.append(
                Problem(
                    "an always-open calendar takes no hours, holidays or dates",
                    (*path, "always_open"),
                    rank=2,
                )
            )
        try:
            return BusinessCalendar.always_open(name, spec.timezone), problems
        except ValueError as err:
            return None, [*problems, Problem(str(err), (*path, "timezone"), spec.timezone, rank=2)]
    week: dict[int, list[Any]] = {}
    for day, intervals in spec.hours.items():
        parsed = []
        for i, text in enumerate(intervals):
            try:
                parsed.append(parse_hours(text))
            except ValueError as err:
                problems.append(Problem(str(err), (*path, "hours", day, i), text, rank=2))
        week[_WEEKDAYS.index(day)] = parsed
    if not spec.hours:
        problems.append(
            Problem("a calendar needs opening hours or always_open: true", (*path, "hours"), rank=2)
        )
    if problems:
        return None, problems
    holidays = HolidaySource(spec.holidays.country, spec.holidays.subdiv) if spec.holidays else None
    try:
        return (
            BusinessCalendar(
                name,
                spec.timezone,
                week,
                holidays=holidays,
                closed_dates=spec.closed_dates,
                open_dates=spec.open_dates,
            ),
            [],
        )
    except ValueError as err:
        return None, [Problem(str(err), path, rank=2)]


def _condition(trigger: Trigger, path: tuple[PathPart, ...], problems: list[Problem]) -> dict[str, Any]:
    if trigger.event not in EVENT_TYPES:
        problems.append(
            Problem(
                "unknown event type",
                (*path, "event"),
                trigger.event,
                suggestion=did_you_mean(trigger.event, EVENT_TYPES),
                rank=1,
            )
        )
        return {}
    model = EVENT_TYPES[trigger.event]
    if model.scope != "case":
        problems.append(
            Problem(
                "a customer-level event cannot start or stop a case deadline",
                (*path, "event"),
                trigger.event,
                rank=2,
            )
        )
    terms: list[dict[str, Any]] = [{"type": trigger.event}]
    for fname, wanted in sorted(trigger.when.items()):
        fpath = (*path, "when", fname)
        if fname not in model.matchable:
            problems.append(
                Problem(
                    f"event {trigger.event!r} has no field to match named {fname!r}"
                    + (f" (matchable: {', '.join(model.matchable)})" if model.matchable else ""),
                    fpath,
                    suggestion=did_you_mean(fname, model.matchable),
                    rank=1,
                )
            )
            continue
        values = wanted if isinstance(wanted, list) else [wanted]
        if not values:
            problems.append(Problem("an empty list matches nothing", fpath, wanted, rank=2))
            continue
        choices = field_choices(trigger.event, fname)
        kind = field_kind(trigger.event, fname)
        for i, value in enumerate(values):
            vpath = (*fpath, i) if isinstance(wanted, list) else fpath
            if choices is not None and value not in choices:
                problems.append(
                    Problem(
                        f"not one of {', '.join(map(str, choices))}",
                        vpath,
                        value,
                        suggestion=did_you_mean(str(value), map(str, choices)),
                        rank=1,
                    )
                )
            elif kind is not None and type(value) is not kind:
                problems.append(Problem(f"must be of type {kind.__name__}", vpath, value, rank=2))
        alternatives = [{fname: v} for v in dict.fromkeys(values)]
        terms.append(alternatives[0] if len(alternatives) == 1 else {"$or": alternatives})
    return terms[0] if len(terms) == 1 else {"$and": terms}


def check_engine_limits(definition: Mapping[str, Mapping[str, Any]]) -> list[Problem]:
    """Refuse durable_rules definitions past the engine's measured limits.

    Paths point into the engine definition; callers map them back to ruleset rules.
    """
    problems: list[Problem] = []
    if len(definition) > MAX_ENGINE_RULES:
        problems.append(
            Problem(
                f"{len(definition)} engine rules; durable_rules fails past about 1,500 and "
                f"tierrules allows at most {MAX_ENGINE_RULES}",
                (),
                rank=0,
            )
        )
    values: dict[str, set[str]] = defaultdict(set)
    first_over: dict[str, str] = {}
    joins: Counter[tuple[str, ...]] = Counter()

    def collect(term: Any, rule: str) -> None:
        if isinstance(term, Mapping):
            for key, value in term.items():
                if key.startswith("$"):
                    collect(value, rule)
                else:
                    values[key].add(repr(value))
                    if len(values[key]) > MAX_DISTINCT_VALUES_PER_FIELD:
                        first_over.setdefault(key, rule)
        elif isinstance(term, list):
            for item in term:
                collect(item, rule)

    for name, rule in definition.items():
        patterns = rule.get("all") or rule.get("any") or []
        for pattern in patterns:
            for term in pattern.values():
                collect(term, name)
        if len(patterns) > 1:
            joined = sorted(_type_of(term) for pattern in patterns for term in pattern.values())
            joins[tuple(joined)] += 1
    for fname, rule_name in sorted(first_over.items()):
        problems.append(
            Problem(
                f"more than {MAX_DISTINCT_VALUES_PER_FIELD} distinct values tested on field "
                f"{fname!r} (durable_rules hangs at 512)",
                (rule_name,),
                rank=0,
            )
        )
    for types, count in sorted(joins.items()):
        if count > MAX_SAME_TYPE_JOINS:
            problems.append(
                Problem(
                    f"{count} rules join the same event types {types} (durable_rules crashes "
                    f"past {MAX_SAME_TYPE_JOINS})",
                    (),
                    rank=0,
                )
            )
    return problems


def _type_of(term: Any) -> str:
    if isinstance(term, Mapping):
        if "type" in term:
            return str(term["type"])
        for key, value in term.items():
            if key.startswith("$"):
                found = _type_of(value)
                if found:
                    return found
    if isinstance(term, list):
        for item in term:
            found = _type_of(item)
            if found:
                return found
    return ""


def compile_ruleset(ruleset: Ruleset) -> tuple[CompiledRuleset | None, list[Problem]]:
    """Resolve and compile; return every problem found (paths relative to the document root)."""
    problems: list[Problem] = []
    calendars: dict[str, BusinessCalendar] = {}
    for name, spec in sorted(ruleset.calendars.items()):
        cal, cal_problems = _calendar(name, spec, ("calendars", name))
        problems.extend(cal_problems)
        if cal is not None:
            calendars[name] = cal
    if ruleset.default_calendar not in ruleset.calendars:
        problems.append(
            Problem(
                "unknown calendar",
                ("default_calendar",),
                ruleset.default_calendar,
                suggestion=did_you_mean(ruleset.default_calendar, ruleset.calendars),
                rank=1,
            )
        )
    try:
        BusinessCalendar.always_open("timezone-check", ruleset.timezone)
    except ValueError as err:
        problems.append(Problem(str(err), ("timezone",), ruleset.timezone, rank=2))

    seen: dict[str, int] = {}
    engine_rules: list[EngineRule] = []
    deadline_calendars: list[BusinessCalendar] = []
    for i, rule in enumerate(ruleset.deadlines):
        path: tuple[PathPart, ...] = ("deadlines", i)
        if rule.id in seen:
            problems.append(
                Problem(
                    f"duplicate rule id (also deadlines[{seen[rule.id]}])", (*path, "id"), rule.id, rank=1
                )
            )
        seen.setdefault(rule.id, i)
        cal_name = rule.calendar or ruleset.default_calendar
        if rule.calendar is not None and rule.calendar not in ruleset.calendars:
            problems.append(
                Problem(
                    "unknown calendar",
                    (*path, "calendar"),
                    rule.calendar,
                    suggestion=did_you_mean(rule.calendar, ruleset.calendars),
                    rank=1,
                )
            )
        cal = calendars.get(cal_name)
        if cal is not None:
            deadline_calendars.append(cal)
        start = _condition(rule.start, (*path, "start"), problems)
        start = _with_case_terms(start, rule, path, problems)
        met = _condition(rule.met_by, (*path, "met_by"), problems)
        _check_targets(rule, path, set(ruleset.calendars), problems)
        _check_escalation(rule, path, problems)
        engine_rules.append(EngineRule(f"{rule.id}#start", "start", i, start))
        engine_rules.append(EngineRule(f"{rule.id}#met", "met", i, met))
        if rule.cancelled_by is not None:
            cancel = _condition(rule.cancelled_by, (*path, "cancelled_by"), problems)
            engine_rules.append(EngineRule(f"{rule.id}#cancel", "cancel", i, cancel))

    tier_conditions: dict[str, dict[str, Any]] = {}
    if ruleset.tiers is not None:
        problems.extend(_under("tiers", check_tiers(ruleset.tiers)))
        for rule_id, rpath in ruleset.tiers.rule_ids().items():
            if rule_id in seen:
                problems.append(
                    Problem(
                        f"rule id also used by deadlines[{seen[rule_id]}]", ("tiers", *rpath), rule_id, rank=1
                    )
                )
        tier_conditions = tier_engine_conditions(ruleset.tiers)

    if ruleset.etiquette is not None:
        problems.extend(_under("etiquette", check_etiquette(ruleset.etiquette)))

    if not problems:
        compiled = CompiledRuleset(
            ruleset, calendars, tuple(deadline_calendars), tuple(engine_rules), tier_conditions
        )
        for problem in check_engine_limits(compiled.tier_engine_definition()):
            problems.append(Problem(problem.message, ("tiers",), rank=problem.rank))
        by_name = {r.name: r for r in engine_rules}
        for problem in check_engine_limits(compiled.engine_definition()):
            target = by_name.get(str(problem.absolute_path[0])) if problem.absolute_path else None
            where: tuple[PathPart, ...] = ("deadlines", target.deadline) if target else ()
            problems.append(Problem(problem.message, where, rank=problem.rank))
        if not problems:
            return compiled, []
    return None, problems


# Values each case attribute can take; posted on facts as ``case_<name>``.
ATTRIBUTE_CHOICES: dict[str, tuple[Any, ...]] = {
    "severity": ("critical", "urgent", "important", "general"),
    "channel": ("phone", "lobby", "online", "visit"),
    "tier": ("diamond", "platinum", "gold", "silver", "standard"),
    "service_class": ("A", "B", "C"),
    "service_level": (1, 2, 3),
}


def _with_case_terms(
    condition: dict[str, Any], rule: DeadlineRule, path: tuple[PathPart, ...], problems: list[Problem]
) -> dict[str, Any]:
    """Add ``applies_to`` case-attribute tests, matched by the engine on enriched facts."""
    if not rule.applies_to or not condition:
        return condition
    terms = list(condition["$and"]) if "$and" in condition else [condition]
    for name, values in sorted(rule.applies_to.items()):
        choices = ATTRIBUTE_CHOICES[name]
        for j, value in enumerate(values):
            if value not in choices:
                problems.append(
                    Problem(
                        f"not one of {', '.join(map(str, choices))}",
                        (*path, "applies_to", name, j),
                        value,
                        suggestion=did_you_mean(str(value), map(str, choices)),
                        rank=1,
                    )
                )
        if not values:
            problems.append(Problem("an empty list matches nothing", (*path, "applies_to", name), rank=2))
            continue
        alternatives = [{f"case_{name}": v} for v in dict.fromkeys(values)]
        terms.append(alternatives[0] if len(alternatives) == 1 else {"$or": alternatives})
    return {"$and": terms}


def _check_targets(
    rule: DeadlineRule, path: tuple[PathPart, ...], calendar_names: set[str], problems: list[Problem]
) -> None:
    for key, table in (("within_by", rule.within_by), ("calendar_by", rule.calendar_by)):
        if table is None:
            continue
        [(name, mapping)] = table.items()
        choices = [str(c) for c in ATTRIBUTE_CHOICES[name]]
        for value, target in mapping.items():
            if value not in choices:
                problems.append(
                    Problem(
                        f"{name} has no value {value!r} (one of {', '.join(choices)})",
                        (*path, key, name, value),
                        suggestion=did_you_mean(value, choices),
                        rank=1,
                    )
                )
            if key == "calendar_by" and isinstance(target, str) and target not in calendar_names:
                problems.append(
                    Problem(
                        "unknown calendar",
                        (*path, key, name, value),
                        target,
                        suggestion=did_you_mean(target, calendar_names),
                        rank=1,
                    )
                )
        if key == "within_by" and rule.within is None and set(choices) - set(mapping):
            missing = ", ".join(sorted(set(choices) - set(mapping)))
            problems.append(
                Problem(
                    f"no target for {name} {missing}: add them or a fallback 'within'",
                    (*path, key, name),
                    rank=2,
                )
            )
    if rule.due_before is not None and rule.start.event in EVENT_TYPES:
        fields = EVENT_TYPES[rule.start.event].model_fields
        fname = rule.due_before.field
        if fname not in fields:
            problems.append(
                Problem(
                    f"event {rule.start.event!r} has no field {fname!r}",
                    (*path, "due_before", "field"),
                    fname,
                    suggestion=did_you_mean(fname, fields),
                    rank=1,
                )
            )
        elif fields[fname].annotation is not dt.datetime:
            problems.append(
                Problem("must name a date-time field", (*path, "due_before", "field"), fname, rank=2)
            )
        if rule.due_before.by.working:
            problems.append(
                Problem("due_before counts wall-clock time only", (*path, "due_before", "by"), rank=2)
            )
        if rule.pausable:
            problems.append(Problem("a due_before rule cannot pause", (*path, "pausable"), rank=2))


def _under(section: str, problems: list[Problem]) -> list[Problem]:
    """A section module's problems, re-rooted at the document (``$.tiers...``)."""
    return [replace(p, absolute_path=(section, *p.absolute_path)) for p in problems]


def _check_escalation(rule: DeadlineRule, path: tuple[PathPart, ...], problems: list[Problem]) -> None:
    spec = rule.escalate
    if spec is None or rule.start.event not in EVENT_TYPES:
        return
    epath = (*path, "escalate")
    if spec.every is not None and spec.top is None:
        problems.append(Problem("a chain ('every') needs a 'top' level", (*epath, "every"), rank=2))
    if spec.top is not None and spec.to_level is not None and spec.to_level > spec.top:
        problems.append(Problem("to_level is above top", (*epath, "to_level"), spec.to_level, rank=2))
    if spec.priority is not None:
        fname = spec.priority.field
        choices = (
            field_choices(rule.start.event, fname)
            if fname in EVENT_TYPES[rule.start.event].model_fields
            else None
        )
        if choices is None:
            problems.append(
                Problem(
                    f"event {rule.start.event!r} has no enumerated field {fname!r}",
                    (*epath, "priority", "field"),
                    fname,
                    rank=1,
                )
            )
        else:
            for j, value in enumerate(spec.priority.order):
                if value not in choices:
                    problems.append(
                        Problem(
                            f"not one of {', '.join(map(str, choices))}",
                            (*epath, "priority", "order", j),
                            value,
                            suggestion=did_you_mean(value, map(str, choices)),
                            rank=1,
                        )
                    )
    if spec.above_field is None:
        return
    fields = EVENT_TYPES[rule.start.event].model_fields
    if spec.above_field not in fields:
        problems.append(
            Problem(
                f"event {rule.start.event!r} has no field {spec.above_field!r}",
                (*path, "escalate", "above_field"),
                spec.above_field,
                suggestion=did_you_mean(spec.above_field, fields),
                rank=1,
            )
        )
    elif field_kind(rule.start.event, spec.above_field) is not int:
        problems.append(
            Problem(
                "escalation level must come from an integer field",
                (*path, "escalate", "above_field"),
                spec.above_field,
                rank=2,
            )
        )
