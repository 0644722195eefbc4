"""The compiler stage on its own: triggers → conditions → shared match rules, tier rules, fact fields.

compiler/conditions.py holds the backend-neutral condition form; compiler/compiled.py turns a
checked ruleset into match rules. These tests build the conditions and a tiny ruleset by hand
and pin down the exact trees and tables that come out, without any matcher or evaluation.
"""

from __future__ import annotations

from typing import Any

import pytest

import tierrules
from tierrules.compiler.compiled import (
    PROFILE_EVENT,
    CompiledRuleset,
    Role,
    case_fact_key,
    compile_ruleset,
    required_type,
    tier_rule_name,
    tier_rules,
    trigger_condition,
)
from tierrules.compiler.conditions import AllOf, AnyOf, AtLeast, Equals, MatchRule, fields, holds
from tierrules.compiler.load import compiled
from tierrules.ruleset.model import Trigger
from tierrules.vocabulary import TIERS

from .support.tiny import TEXT, rule, tiny

# Two rules started by the same event (shared start), one with a when/applies_to start.
TINY = tiny(
    rule(
        "R1.reply",
        {"event": "complaint_registered"},
        [{"event": "complaint_replied"}, {"event": "complaint_resolved"}],
    ),
    rule(
        "R2.resolve",
        {"event": "complaint_registered"},
        {"event": "complaint_resolved"},
        cancelled_by={"event": "case_resolved"},
    ),
    rule(
        "R3.progress",
        {"event": "feedback_received", "when": {"severity": ["urgent", "important"]}},
        {"event": "progress_reported"},
        applies_to={"tier": ["gold", "platinum"]},
    ),
)


# --- conditions.py ------------------------------------------------------------------------


def test_trigger_without_when_is_a_bare_type_test() -> None:
    condition = trigger_condition(Trigger(event="complaint_registered"))
    assert condition == Equals("type", "complaint_registered")


def test_trigger_with_one_value_and_a_list_is_an_all_of_sorted_by_field() -> None:
    trigger = Trigger(event="feedback_received", when={"severity": ["urgent", "important"], "id": "f1"})
    assert trigger_condition(trigger) == AllOf(
        (
            Equals("type", "feedback_received"),
            Equals("id", "f1"),  # 'id' sorts before 'severity'
            AnyOf((Equals("severity", "urgent"), Equals("severity", "important"))),
        )
    )


def test_trigger_list_values_are_deduplicated_in_order() -> None:
    trigger = Trigger(event="feedback_received", when={"severity": ["urgent", "urgent"]})
    assert trigger_condition(trigger) == AllOf(
        (Equals("type", "feedback_received"), Equals("severity", "urgent"))
    )


def test_applies_to_tests_case_fields_after_the_event_fields() -> None:
    trigger = Trigger(event="customer_arrived", when={"vip": True})
    condition = trigger_condition(trigger, {"tier": ["gold"], "channel": ["lobby", "visit"]})
    assert condition == AllOf(
        (
            Equals("type", "customer_arrived"),
            Equals("vip", True),
            AnyOf((Equals("case_channel", "lobby"), Equals("case_channel", "visit"))),
            Equals("case_tier", "gold"),
        )
    )
    assert fields(condition) == {"type", "vip", "case_channel", "case_tier"}


def test_applies_to_alone_still_needs_the_type() -> None:
    condition = trigger_condition(Trigger(event="complaint_registered"), {"service_level": [1]})
    assert condition == AllOf((Equals("type", "complaint_registered"), Equals("case_service_level", 1)))


def test_trigger_conditions_mean_what_they_say() -> None:
    condition = trigger_condition(
        Trigger(event="feedback_received", when={"severity": ["urgent", "important"]}), {"tier": ["gold"]}
    )
    fact = {"type": "feedback_received", "severity": "urgent", "case_tier": "gold"}
    assert holds(condition, fact)
    assert not holds(condition, {**fact, "severity": "general"})
    assert not holds(condition, {**fact, "case_tier": "silver"})
    assert not holds(condition, {**fact, "type": "case_opened"})
    assert not holds(condition, {"type": "feedback_received", "severity": "urgent"})  # no case_tier


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (Equals("type", "escalated"), "escalated"),
        (AllOf((Equals("severity", "urgent"), Equals("type", "escalated"))), "escalated"),
        (AllOf((Equals("severity", "urgent"),)), None),
        (AnyOf((Equals("type", "a"), Equals("type", "b"))), None),
        (Equals("type", 3), None),
        (Equals("kind", "escalated"), None),
        (AtLeast("rings", 3), None),
    ],
)
def test_required_type(condition: Any, expected: str | None) -> None:
    assert required_type(condition) == expected


def test_case_fact_key_and_tier_rule_name() -> None:
    assert case_fact_key("severity") == "case_severity"
    assert tier_rule_name("gold") == "tier:gold"


# --- compiled.py: roles and node sharing --------------------------------------------------


def test_roles_are_named_per_rule_and_kind() -> None:
    roles = compiled(TINY).roles
    assert [(r.name, r.kind, r.deadline) for r in roles] == [
        ("R1.reply#start", "start", 0),
        ("R1.reply#met", "met", 0),
        ("R1.reply#met.2", "met", 0),
        ("R2.resolve#start", "start", 1),
        ("R2.resolve#met", "met", 1),
        ("R2.resolve#cancel", "cancel", 1),
        ("R3.progress#start", "start", 2),
        ("R3.progress#met", "met", 2),
    ]


def test_roles_with_one_condition_share_one_match_rule_named_after_the_first() -> None:
    c = compiled(TINY)
    names = [r.name for r in c.case_rules]
    # R2's start equals R1's start, R2's met equals R1's second met: 8 roles, 6 rules.
    assert names == [
        "R1.reply#start",
        "R1.reply#met",
        "R1.reply#met.2",
        "R2.resolve#cancel",
        "R3.progress#start",
        "R3.progress#met",
    ]
    assert [r.name for r in c.shared["R1.reply#start"]] == ["R1.reply#start", "R2.resolve#start"]
    assert [r.name for r in c.shared["R1.reply#met.2"]] == ["R1.reply#met.2", "R2.resolve#met"]
    assert [r.name for r in c.shared["R1.reply#met"]] == ["R1.reply#met"]
    assert len(c.unshared_rules()) == len(c.roles) == 8
    rule = c.case_rules[0]
    assert rule == MatchRule("R1.reply#start", Equals("type", "complaint_registered"), ("deadlines", 0))


def test_every_role_is_reachable_through_exactly_one_shared_rule() -> None:
    c = compiled(TINY)
    listed = [role for roles in c.shared.values() for role in roles]
    assert sorted(r.name for r in listed) == sorted(r.name for r in c.roles)
    assert set(c.shared) == {r.name for r in c.case_rules}


def test_reschedule_roles_test_the_type_only() -> None:
    rs = tiny(
        {
            "id": "R.invite",
            "source": "E12",
            "description": TEXT,
            "start": {"event": "visit_scheduled"},
            "met_by": {"event": "invitation_sent"},
            "due_before": {"field": "expected_at", "by": "1 day", "rescheduled_by": "visit_rescheduled"},
            "pair_by": "visit_id",
        }
    )
    c = compile_ruleset(rs)
    assert c.roles[-1] == Role("R.invite#reschedule", "reschedule", 0)
    assert c.conditions[-1] == Equals("type", "visit_rescheduled")


# --- compiled.py: matched types, fields ---------------------------------------------------


def test_matched_types_are_the_types_some_rule_names() -> None:
    assert compiled(TINY).matched_types() == {
        "complaint_registered",
        "complaint_replied",
        "complaint_resolved",
        "case_resolved",
        "feedback_received",
        "progress_reported",
    }


def test_matched_types_is_none_when_a_rule_has_no_type_term() -> None:
    base = compiled(TINY)
    untyped = CompiledRuleset(
        ruleset=TINY,
        calendars=base.calendars,
        deadline_calendars=base.deadline_calendars,
        roles=(Role("X#start", "start", 0), Role("X#met", "met", 0)),
        conditions=(Equals("type", "complaint_registered"), Equals("severity", "urgent")),
        tier_rules=(),
    )
    assert untyped.matched_types() is None
    typed = CompiledRuleset(
        ruleset=TINY,
        calendars=base.calendars,
        deadline_calendars=base.deadline_calendars,
        roles=(Role("X#start", "start", 0),),
        conditions=(Equals("type", "complaint_registered"),),
        tier_rules=(),
    )
    assert typed.matched_types() == {"complaint_registered"}


def test_tested_fields_and_fact_fields() -> None:
    c = compiled(TINY)
    assert c.tested_fields() == {"type", "severity", "case_tier"}
    per_type = c.fact_fields()
    assert set(per_type) == set(tierrules.events.EVENT_TYPES)
    # Only matchable fields some rule tests: severity is matchable on these three.
    assert {t: f for t, f in per_type.items() if f} == {
        "case_opened": ("severity",),
        "feedback_received": ("severity",),
        "backoffice_requested": ("severity",),
    }
    assert per_type["customer_arrived"] == ()  # vip is matchable but no rule tests it
    assert c.case_fields() == (("tier", "case_tier"),)


def test_watched_starts_are_the_changing_fields_a_start_tests() -> None:
    assert compiled(TINY).watched_starts() == (
        frozenset(),
        frozenset(),
        frozenset({"severity", "case_tier"}),
    )


def test_the_digest_changes_with_the_rules() -> None:
    other = tiny(rule("R1.reply", {"event": "complaint_registered"}, {"event": "complaint_replied"}))
    assert compiled(TINY).digest() == compile_ruleset(TINY).digest()
    assert compiled(other).digest() != compiled(TINY).digest()


# --- compiled.py: tier rules --------------------------------------------------------------


@pytest.fixture(scope="module")
def default_tiers() -> Any:
    spec = tierrules.load_ruleset().tiers
    assert spec is not None
    return spec


def test_one_tier_rule_per_tier_in_tier_order(default_tiers: Any) -> None:
    rules = tier_rules(default_tiers)
    assert [r.name for r in rules] == [f"tier:{t}" for t in TIERS]
    assert all(r.origin == ("tiers", "thresholds") for r in rules)


def test_standard_tier_rule_matches_every_profile(default_tiers: Any) -> None:
    standard = tier_rules(default_tiers)[-1]
    assert standard.name == "tier:standard"
    assert standard.condition == Equals("type", PROFILE_EVENT)
    assert holds(standard.condition, {"type": "customer_profile", "spend_12m": 0, "visits_12m": 0})


def test_threshold_tier_rules_are_all_of_the_metrics(default_tiers: Any) -> None:
    by_name = {r.name: r for r in tier_rules(default_tiers)}
    diamond = by_name["tier:diamond"].condition
    assert diamond == AllOf(
        (
            Equals("type", "customer_profile"),
            AtLeast("spend_12m", 1000000),
            AtLeast("visits_12m", 24),
            AtLeast("tenure_months", 24),
        )
    )
    # Integral thresholds are ints (JSON money as 1000000, not 1000000.0).
    assert isinstance(diamond.terms[1], AtLeast) and type(diamond.terms[1].value) is int
    profile = {"type": "customer_profile", "spend_12m": 1_000_000.0, "visits_12m": 24, "tenure_months": 24}
    assert holds(diamond, profile)
    assert not holds(diamond, {**profile, "tenure_months": 23})


def test_a_ruleset_without_tiers_has_no_tier_rules() -> None:
    assert compiled(TINY).tier_rules == ()
