"""Compile a checked ruleset: calendars built, triggers turned into match rules, fact fields chosen.

The ruleset has passed its checks (:mod:`tierrules.ruleset.checks`) before it gets here, so
compiling never meets an unknown name; what comes out is everything evaluation needs, built
once per ruleset.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from ..calendars import BusinessCalendar
from ..events import EVENT_TYPES
from ..ruleset.model import Ruleset, Trigger
from ..ruleset.tiers import METRICS, TiersSpec, plain_number
from ..vocabulary import CASE_ATTRIBUTES, TIERS, CaseAttribute
from .conditions import AllOf, AnyOf, AtLeast, Condition, Equals, MatchRule, fields

__all__ = [
    "PROFILE_EVENT",
    "CompiledRuleset",
    "Role",
    "case_fact_key",
    "compile_ruleset",
    "tier_rule_name",
]

PROFILE_EVENT = "customer_profile"
_TIER_RULE_PREFIX = "tier:"

RoleKind = Literal["start", "met", "cancel", "reschedule"]
# Fields of a start fact that can change after the event: the case attributes, and the
# event's own severity (a case_updated raises or lowers it).
_CHANGING = frozenset({"severity", *(f"case_{name}" for name in CASE_ATTRIBUTES)})


@dataclass(frozen=True, slots=True)
class Role:
    """What a match of a case rule means: start, meet, cancel or reschedule deadline ``deadline``."""

    name: str  # "<rule id>#start", "<rule id>#met", "<rule id>#met.2" ...
    kind: RoleKind
    deadline: int  # index into Ruleset.deadlines


def tier_rule_name(tier: str) -> str:
    """The match rule of a tier's thresholds (``tier:platinum``)."""
    return f"{_TIER_RULE_PREFIX}{tier}"


def case_fact_key(attribute: str) -> str:
    """The fact field carrying a case attribute (``case_severity``)."""
    return f"case_{attribute}"


def _any_of(field_name: str, values: list[str | int | bool] | list[str | int]) -> Condition:
    alternatives = tuple(Equals(field_name, v) for v in dict.fromkeys(values))
    return alternatives[0] if len(alternatives) == 1 else AnyOf(alternatives)


def trigger_condition(
    trigger: Trigger, applies_to: Mapping[CaseAttribute, list[str | int]] | None = None
) -> Condition:
    """The condition an event must satisfy to fire ``trigger`` (and ``applies_to``, on start)."""
    terms: list[Condition] = [Equals("type", trigger.event)]
    for name, wanted in sorted(trigger.when.items()):
        terms.append(_any_of(name, wanted if isinstance(wanted, list) else [wanted]))
    for name, values in sorted((applies_to or {}).items()):
        terms.append(_any_of(case_fact_key(name), values))
    return terms[0] if len(terms) == 1 else AllOf(tuple(terms))


def required_type(condition: Condition) -> str | None:
    """The event type a condition requires (``type`` equal to it, alone or in an AllOf), if any."""
    terms = condition.terms if isinstance(condition, AllOf) else (condition,)
    for term in terms:
        if isinstance(term, Equals) and term.field == "type" and isinstance(term.value, str):
            return term.value
    return None


def tier_rules(spec: TiersSpec) -> tuple[MatchRule, ...]:
    """One rule per tier: a profile matches ``tier:<t>`` when every metric reaches t's threshold.

    The standard rule matches every profile, so a profile that matched nothing reveals a
    wiring fault.
    """
    by_tier = {r.tier: r for r in spec.thresholds}
    out = []
    for tier in TIERS:
        minimum = by_tier[tier].min
        terms: list[Condition] = [Equals("type", PROFILE_EVENT)]
        if minimum is not None:
            terms += [AtLeast(m, plain_number(minimum.value(m))) for m in METRICS]
        condition = terms[0] if len(terms) == 1 else AllOf(tuple(terms))
        out.append(MatchRule(tier_rule_name(tier), condition, ("tiers", "thresholds")))
    return tuple(out)


@dataclass(frozen=True)
class CompiledRuleset:
    """A ruleset ready to evaluate: calendars built, match rules generated."""

    ruleset: Ruleset
    calendars: Mapping[str, BusinessCalendar]
    deadline_calendars: tuple[BusinessCalendar, ...]
    roles: tuple[Role, ...]
    conditions: tuple[Condition, ...]  # conditions[i] belongs to roles[i]
    # Tier thresholds match on customer_profile facts, before the case rules, because
    # case facts carry the customer's tier.
    tier_rules: tuple[MatchRule, ...]
    shared: Mapping[str, tuple[Role, ...]] = field(init=False)
    case_rules: tuple[MatchRule, ...] = field(init=False)

    def __post_init__(self) -> None:
        # Roles with the same condition share one match rule (Rete node sharing): a complaint
        # starting E2 and both E9 clocks costs one match, not three. The shared rule is named
        # after the first role that has the condition.
        groups: dict[str, list[tuple[Role, Condition]]] = {}
        for role, condition in zip(self.roles, self.conditions, strict=True):
            groups.setdefault(repr(condition), []).append((role, condition))
        shared = {g[0][0].name: tuple(r for r, _ in g) for g in groups.values()}
        rules = tuple(
            MatchRule(g[0][0].name, g[0][1], ("deadlines", g[0][0].deadline)) for g in groups.values()
        )
        object.__setattr__(self, "shared", shared)
        object.__setattr__(self, "case_rules", rules)

    def unshared_rules(self) -> tuple[MatchRule, ...]:
        """One rule per start/met/cancel role: what a hand translation would post (benchmarks)."""
        return tuple(
            MatchRule(r.name, c, ("deadlines", r.deadline))
            for r, c in zip(self.roles, self.conditions, strict=True)
        )

    def matched_types(self) -> frozenset[str] | None:
        """The event types some case rule can match (None: a rule that matches any type).

        Facts of other types can never match, so they need not be matched at all.
        """
        found: set[str] = set()
        for rule in self.case_rules:
            wanted = required_type(rule.condition)
            if wanted is None:
                return None
            found.add(wanted)
        return frozenset(found)

    def tested_fields(self) -> frozenset[str]:
        """Every fact field some case rule tests."""
        found: set[str] = set()
        for rule in self.case_rules:
            found |= fields(rule.condition)
        return frozenset(found)

    def fact_fields(self) -> dict[str, tuple[str, ...]]:
        """Per event type, the matchable fields the case rules test (what facts carry)."""
        used = self.tested_fields()
        return {name: tuple(f for f in model.matchable if f in used) for name, model in EVENT_TYPES.items()}

    def case_fields(self) -> tuple[tuple[str, str], ...]:
        """(attribute, fact key) for every case attribute the case rules test."""
        used = self.tested_fields()
        return tuple((name, case_fact_key(name)) for name in CASE_ATTRIBUTES if case_fact_key(name) in used)

    def watched_starts(self) -> tuple[frozenset[str], ...]:
        """Per deadline rule, the changing fields its start condition tests (empty: none).

        A rule whose start depends on them starts, stops or starts again when they change.
        """
        found: list[frozenset[str]] = [frozenset()] * len(self.ruleset.deadlines)
        for role, condition in zip(self.roles, self.conditions, strict=True):
            if role.kind == "start":
                found[role.deadline] = fields(condition) & _CHANGING
        return tuple(found)

    def digest(self) -> str:
        """A stable text of the match rules, for naming engine-side rulesets."""
        return json.dumps([repr(r) for r in (*self.case_rules, *self.tier_rules)])


def compile_ruleset(ruleset: Ruleset) -> CompiledRuleset:
    """Compile a ruleset that passed its checks (names resolve, calendars parse)."""
    calendars = {name: spec.build(name) for name, spec in sorted(ruleset.calendars.items())}
    roles: list[Role] = []
    conditions: list[Condition] = []
    deadline_calendars: list[BusinessCalendar] = []
    for i, rule in enumerate(ruleset.deadlines):
        deadline_calendars.append(calendars[rule.calendar or ruleset.default_calendar])
        roles.append(Role(f"{rule.id}#start", "start", i))
        conditions.append(trigger_condition(rule.start, rule.applies_to))
        for k, trigger in enumerate(rule.met_triggers, start=1):
            roles.append(Role(f"{rule.id}#met" + (f".{k}" if k > 1 else ""), "met", i))
            conditions.append(trigger_condition(trigger))
        if rule.cancelled_by is not None:
            roles.append(Role(f"{rule.id}#cancel", "cancel", i))
            conditions.append(trigger_condition(rule.cancelled_by))
        if rule.due_before is not None and rule.due_before.rescheduled_by is not None:
            roles.append(Role(f"{rule.id}#reschedule", "reschedule", i))
            conditions.append(Equals("type", rule.due_before.rescheduled_by))
    return CompiledRuleset(
        ruleset=ruleset,
        calendars=calendars,
        deadline_calendars=tuple(deadline_calendars),
        roles=tuple(roles),
        conditions=tuple(conditions),
        tier_rules=tier_rules(ruleset.tiers) if ruleset.tiers is not None else (),
    )
