"""Customer tiers (docs/policy.md T2-T8): thresholds matched by durable_rules, then overrides, VIP
cards, the soft landing, gaps and cadences in Python; and the tiers section's validation.

Everything runs on the shipped section (rulesets/default/tiers.yaml) and
matches profiles through the real durable_rules fence, as the engine will.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from dateutil import tz as dateutil_tz
from pydantic import BaseModel, ConfigDict, ValidationError

import tierrules
from tierrules.compiler.compiled import tier_rule_name as engine_rule_name
from tierrules.compiler.compiled import tier_rules
from tierrules.compiler.conditions import AllOf, AtLeast, Equals
from tierrules.decision import TierAssignment
from tierrules.errors import EngineError, Problem, best_match, problems_from_validation
from tierrules.evaluation.tiers import CadenceObligation, TierResult, _money_gap, evaluate_tiers
from tierrules.events import EventBase, parse_events
from tierrules.matching import durable as _durable
from tierrules.matching.durable import EngineRuleset, engine_ruleset
from tierrules.ruleset.reader import SourceMap, read_ruleset_files
from tierrules.ruleset.tiers import TiersSpec, check
from tierrules.vocabulary import TIERS

ROOT = Path(__file__).resolve().parents[1]
SECTION = ROOT / "rulesets" / "default" / "tiers.yaml"
DOC = ROOT / "docs" / "tiers.md"
_SHANGHAI = dateutil_tz.gettz("Asia/Shanghai")
assert _SHANGHAI is not None
SHANGHAI: dt.tzinfo = _SHANGHAI
CST = dt.timezone(dt.timedelta(hours=8))
MARKER_RULE, MARKER_TYPE = "tiers-test.session", "tiers-test.opened"


# --- Helpers (shared with test_tiers_properties.py) -------------------------------------


def load_section(path: Path = SECTION) -> tuple[dict[str, Any], SourceMap]:
    """The raw ``tiers`` mapping of a ruleset file, with its source map."""
    data, smap = read_ruleset_files(path)
    return data["tiers"], smap


def load_spec(path: Path = SECTION) -> TiersSpec:
    return TiersSpec.model_validate(load_section(path)[0])


SPEC = load_spec()


def with_soft_landing(spec: TiersSpec, **changes: Any) -> TiersSpec:
    soft = spec.soft_landing.model_validate({**spec.soft_landing.model_dump(), **changes})
    return spec.model_copy(update={"soft_landing": soft})


def fence(spec: TiersSpec) -> EngineRuleset:
    """The spec's tier conditions registered on durable_rules through tierrules' fence."""
    definition: dict[str, dict[str, Any]] = {
        name: {"all": [{"m": condition}]}
        for name, condition in ((r.name, _durable.translate(r.condition)) for r in tier_rules(spec))
    }
    definition[MARKER_RULE] = {"all": [{"m": {"type": MARKER_TYPE}}]}
    return engine_ruleset(definition, MARKER_RULE, MARKER_TYPE)


def at(text: str) -> dt.datetime:
    """'2026-01-15 10:00' in China Standard Time."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=CST)


def ordered(events: Sequence[dict[str, Any] | EventBase]) -> list[EventBase]:
    """Validated events in the engine's order: time, then content."""
    parsed = parse_events(events)
    return sorted(parsed, key=lambda e: (e.at.astimezone(dt.timezone.utc), e.model_dump_json()))


def facts(events: Sequence[EventBase]) -> list[dict[str, Any]]:
    """What the engine posts: the type and the matchable fields."""
    return [{"type": e.type, **{name: getattr(e, name) for name in e.matchable}} for e in events]


def run(
    events: Sequence[dict[str, Any] | EventBase],
    now: str | dt.datetime,
    spec: TiersSpec = SPEC,
    tz: dt.tzinfo = SHANGHAI,
) -> TierResult:
    """Evaluate the tier part the way the engine will: durable_rules matches, Python decides."""
    events_in_order = ordered(events)
    hits = fence(spec).match(facts(events_in_order))
    when = at(now) if isinstance(now, str) else now
    return evaluate_tiers(spec, events_in_order, hits, when, tz)


def profile(
    when: str,
    spend: float = 0,
    visits: int = 0,
    tenure: int = 0,
    customer: str = "c1",
    vip: bool | None = None,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "customer_profile",
        "at": at(when).isoformat(),
        "customer_id": customer,
        "spend_12m": spend,
        "visits_12m": visits,
        "tenure_months": tenure,
    }
    if vip is not None:
        event["vip_card"] = vip
    return event


def override(
    when: str, tier: str, until: str | None = None, customer: str = "c1", reason: str = "manager decision"
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "tier_override",
        "at": at(when).isoformat(),
        "customer_id": customer,
        "tier": tier,
        "reason": reason,
    }
    if until is not None:
        event["until"] = at(until).isoformat()
    return event


def contact(when: str, customer: str = "c1") -> dict[str, Any]:
    return {"type": "care_contacted", "at": at(when).isoformat(), "customer_id": customer}


# Profiles exactly at each tier's example thresholds.
AT_THRESHOLD = {
    "diamond": (1_000_000, 24, 24),
    "platinum": (300_000, 12, 12),
    "gold": (100_000, 6, 6),
    "silver": (20_000, 2, 0),
    "standard": (0, 0, 0),
}


def only(result: TierResult, customer: str = "c1") -> TierAssignment:
    [found] = [a for a in result.assignments if a.customer_id == customer]
    return found


def chain(result: TierResult, rule: str, customer: str = "c1") -> list[tuple[str, str, str, str | None]]:
    """A cadence's periods as (start, due, status, met_at) in CST, 'YYYY-MM-DD HH:MM'."""

    def fmt(value: dt.datetime | None) -> str | None:
        return value.astimezone(CST).strftime("%Y-%m-%d %H:%M") if value is not None else None

    return [
        (fmt(o.started_at) or "", fmt(o.due_at) or "", o.status, fmt(o.met_at))
        for o in result.obligations
        if o.rule == rule and o.customer_id == customer
    ]


def metric_reasons(assignment: TierAssignment) -> list[dict[str, Any]]:
    return [r for r in assignment.reasons if "metric" in r]


def notes(assignment: TierAssignment, rule: str) -> list[dict[str, Any]]:
    return [r for r in assignment.reasons if r.get("rule") == rule and "note" in r]


# --- The shipped section ---------------------------------------------------------------------


def test_shipped_section_is_valid_and_names_a_clause_for_every_rule() -> None:
    assert check(SPEC) == []
    assert [r.tier for r in SPEC.thresholds] == list(TIERS)
    ids = SPEC.rule_ids()
    assert len(ids) == len(SPEC.thresholds) + 4 + len(SPEC.cadences)
    for rule in [
        *SPEC.thresholds,
        SPEC.service,
        SPEC.vip_card,
        SPEC.override,
        SPEC.soft_landing,
        *SPEC.cadences,
    ]:
        assert re.fullmatch(r"T[0-9]+", rule.source)
        assert rule.description.zh and rule.description.en
    assert (SPEC.vip_card.tier, str(SPEC.soft_landing.qualification_period)) == ("platinum", "12 months")
    assert SPEC.soft_landing.max_downgrade_steps == 1
    cadences = {(c.tier or c.service_level, c.source): str(c.every) for c in SPEC.cadences}
    assert cadences == {
        ("platinum", "T7"): "3 months",
        ("gold", "T7"): "6 months",
        ("silver", "T7"): "6 months",
        (1, "T8"): "1 month",
        (2, "T8"): "3 months",
        (3, "T8"): "6 months",
    }


def test_json_schema_accepts_the_shipped_section_and_the_text_forms() -> None:
    import jsonschema  # the test extra installs it

    schema = TiersSpec.model_json_schema()
    data = load_section()[0]
    jsonschema.validate(data, schema)
    bad = {**data, "soft_landing": {**data["soft_landing"], "qualification_period": "12 moons"}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


# --- The engine conditions and durable_rules -------------------------------------------------


def test_each_tier_compiles_to_an_all_of_gte_condition() -> None:
    rules = tier_rules(SPEC)
    conditions = {r.name: r.condition for r in rules}
    assert list(conditions) == [engine_rule_name(t) for t in TIERS]
    assert conditions["tier:platinum"] == AllOf(
        (
            Equals("type", "customer_profile"),
            AtLeast("spend_12m", 300000),
            AtLeast("visits_12m", 12),
            AtLeast("tenure_months", 12),
        )
    )
    assert conditions["tier:standard"] == Equals("type", "customer_profile")  # everyone qualifies
    assert _durable.translate(conditions["tier:platinum"])["$and"][1] == {"$gte": {"spend_12m": 300000}}
    assert list(_durable.check_limits(rules)) == []


@pytest.mark.parametrize(
    ("metrics", "matched"),
    [
        ((300_000, 12, 12), {"platinum", "gold", "silver", "standard"}),  # exactly at the thresholds
        ((299_999.99, 12, 12), {"gold", "silver", "standard"}),  # one fen short on spend
        ((300_000, 11, 12), {"gold", "silver", "standard"}),  # one visit short
        ((300_000, 12, 11), {"gold", "silver", "standard"}),  # one month short
        ((5_000_000, 1, 100), {"standard"}),  # all-of: spend alone is not enough
        ((1e12, 24, 24), set(TIERS)),
        ((0, 0, 0), {"standard"}),
        ((20_000, 2, 0), {"silver", "standard"}),
    ],
)
def test_durable_rules_matches_the_thresholds(metrics: tuple[float, int, int], matched: set[str]) -> None:
    events = ordered([profile("2026-01-01 10:00", *metrics, vip=True)])
    hits = fence(SPEC).match(facts(events))
    assert set(hits.get(0, [])) == {engine_rule_name(t) for t in matched}


def test_durable_rules_matches_each_fact_separately() -> None:
    """Identical profiles of two customers and unrelated facts in one session."""
    events = ordered(
        [
            profile("2026-01-01 10:00", *AT_THRESHOLD["gold"], customer="a"),
            profile("2026-01-01 10:00", *AT_THRESHOLD["gold"], customer="b"),
            {"type": "complaint_registered", "at": at("2026-01-01 10:00").isoformat(), "case_id": "k"},
            contact("2026-01-01 10:00"),
        ]
    )
    hits = fence(SPEC).match(facts(events))
    profiles = [i for i, e in enumerate(events) if e.type == "customer_profile"]
    assert sorted(hits) == profiles
    assert all(set(hits[i]) == {"tier:gold", "tier:silver", "tier:standard"} for i in profiles)


# --- T2 / T6: the computed tier ---------------------------------------------------------------


@pytest.mark.parametrize("tier", TIERS)
def test_t2_each_tier_from_its_thresholds(tier: str) -> None:
    a = only(run([profile("2026-01-15 10:00", *AT_THRESHOLD[tier])], "2026-01-20 10:00"))
    assert a.tier == tier
    expected_rule = "T2.standard" if tier == "standard" else f"T6.{tier}"
    assert (a.rule, a.source) == (expected_rule, expected_rule[:2])
    basis = "silver" if tier == "standard" else tier
    assert {r["tier"] for r in metric_reasons(a)} == {basis}
    assert [r["metric"] for r in metric_reasons(a)] == ["spend_12m", "visits_12m", "tenure_months"]
    assert all(r["met"] for r in metric_reasons(a)) == (tier != "standard")


def test_t2_all_of_a_big_spender_with_few_visits_is_silver() -> None:
    a = only(run([profile("2026-01-15 10:00", 2_000_000, 5, 36)], "2026-01-20 10:00"))
    assert (a.tier, a.rule) == ("silver", "T6.silver")
    assert a.next_tier is not None
    assert a.next_tier.model_dump() == {
        "tier": "gold",
        "gaps": {"spend_12m": 0, "visits_12m": 1, "tenure_months": 0},
    }


def test_t2_standard_reasons_show_the_silver_thresholds_missed() -> None:
    a = only(run([profile("2026-01-15 10:00", 19_999.5, 3, 0)], "2026-01-20 10:00"))
    assert (a.tier, a.rule, a.source) == ("standard", "T2.standard", "T2")
    assert metric_reasons(a)[0] == {
        "rule": "T6.silver",
        "tier": "silver",
        "metric": "spend_12m",
        "value": 19999.5,
        "threshold": 20000,
        "met": False,
    }
    assert a.next_tier is not None
    assert a.next_tier.gaps == {"spend_12m": 0.5, "visits_12m": 0, "tenure_months": 0}


def test_json_numbers_are_int_when_integral() -> None:
    a = only(run([profile("2026-01-15 10:00", 420000.0, 15, 30)], "2026-01-20 10:00"))
    dumped = json.dumps(a.model_dump(mode="json"))
    assert '"value": 420000,' in dumped and "420000.0" not in dumped
    assert a.next_tier is not None
    assert a.next_tier.gaps == {"spend_12m": 580000, "visits_12m": 9, "tenure_months": 0}
    assert all(type(v) is int for v in a.next_tier.gaps.values())


def test_the_assignment_has_exactly_the_contract_keys() -> None:
    a = only(run([profile("2026-01-15 10:00", *AT_THRESHOLD["gold"])], "2026-01-20 10:00"))
    assert list(a.model_dump(mode="json")) == [
        "customer_id",
        "tier",
        "service_class",
        "service_level",
        "rule",
        "source",
        "reasons",
        "next_tier",
        "message",
    ]


# --- T3 / T4 / T5: class and level ----------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "service_class", "service_level"),
    [("diamond", "A", 1), ("platinum", "A", 1), ("gold", "B", 2), ("silver", "C", 3), ("standard", "C", 3)],
)
def test_t5_default_mapping(tier: str, service_class: str, service_level: int) -> None:
    result = run([profile("2026-01-15 10:00", *AT_THRESHOLD[tier])], "2026-01-20 10:00")
    a = only(result)
    assert (a.service_class, a.service_level) == (service_class, service_level)
    state = result.level_at("c1", at("2026-01-20 10:00"))
    assert state is not None
    assert (state.tier, state.service_class, state.service_level) == (tier, service_class, service_level)


# --- T4 / T6: VIP card ---------------------------------------------------------------------------


def test_t6_vip_card_gives_at_least_platinum() -> None:
    a = only(run([profile("2026-01-15 10:00", 5_000, 1, 1, vip=True)], "2026-01-20 10:00"))
    assert (a.tier, a.service_class, a.service_level, a.rule, a.source) == (
        "platinum",
        "A",
        1,
        "T6.vip-card",
        "T6",
    )
    [note] = notes(a, "T6.vip-card")
    assert note["applied"] is True
    assert a.next_tier is not None and a.next_tier.tier == "diamond"


def test_t6_vip_card_never_lowers_a_higher_computed_tier() -> None:
    a = only(run([profile("2026-01-15 10:00", *AT_THRESHOLD["diamond"], vip=True)], "2026-01-20 10:00"))
    assert (a.tier, a.rule) == ("diamond", "T6.diamond")
    [note] = notes(a, "T6.vip-card")
    assert note["applied"] is False
    assert a.next_tier is None


def test_t6_vip_card_counts_only_on_the_latest_profile() -> None:
    events = [profile("2026-01-15 10:00", 5_000, 1, 1, vip=True), profile("2026-02-15 10:00", 5_000, 1, 2)]
    a = only(run(events, "2026-02-20 10:00"))
    assert (a.tier, a.rule) == ("standard", "T2.standard")
    assert notes(a, "T6.vip-card") == []


def test_t6_vip_card_tier_is_configurable() -> None:
    spec = SPEC.model_copy(update={"vip_card": SPEC.vip_card.model_copy(update={"tier": "gold"})})
    a = only(run([profile("2026-01-15 10:00", 5_000, 1, 1, vip=True)], "2026-01-20 10:00", spec=spec))
    assert (a.tier, a.rule) == ("gold", "T6.vip-card")


# --- T6: overrides -------------------------------------------------------------------------------


def test_t6_override_wins_over_thresholds_and_vip_card() -> None:
    events = [
        profile("2026-01-15 10:00", *AT_THRESHOLD["diamond"], vip=True),
        override("2026-02-01 09:00", "silver", until="2026-03-01 00:00", reason="under review"),
    ]
    result = run(events, "2026-02-10 10:00")
    a = only(result)
    assert (a.tier, a.service_class, a.service_level, a.rule, a.source) == (
        "silver",
        "C",
        3,
        "T6.override",
        "T6",
    )
    [note] = notes(a, "T6.override")
    assert note["override_tier"] == "silver" and note["reason"] == "under review"
    assert note["until"] == "2026-03-01T00:00:00+08:00"
    assert result.next_change_at == at("2026-03-01 00:00")  # the expiry changes the decision


def test_t6_override_past_its_until_falls_back_and_says_so() -> None:
    events = [
        profile("2026-01-15 10:00", *AT_THRESHOLD["gold"]),
        override("2026-02-01 09:00", "diamond", until="2026-03-01 00:00", reason="launch event"),
    ]
    assert only(run(events, "2026-02-28 23:59")).tier == "diamond"
    a = only(run(events, "2026-03-01 00:00"))  # expired at its until, exactly
    assert (a.tier, a.rule) == ("gold", "T6.gold")
    [note] = notes(a, "T6.override")
    assert note["expired_at"] == "2026-03-01T00:00:00+08:00"
    assert "expired" in note["note"] and "computed tier applies" in note["note"]


def test_t6_override_without_until_lasts_and_without_profile_has_no_next_tier() -> None:
    result = run([override("2026-02-01 09:00", "gold", customer="new")], "2027-02-01 09:00")
    a = only(result, "new")
    assert (a.tier, a.rule, a.next_tier) == ("gold", "T6.override", None)
    assert {"note": "no customer_profile yet: no metrics to compare"} in a.reasons


def test_t6_latest_unexpired_override_wins_then_an_earlier_one_resumes() -> None:
    events = [
        profile("2026-01-15 10:00", *AT_THRESHOLD["silver"]),
        override("2026-02-01 09:00", "diamond", reason="board member"),
        override("2026-03-01 09:00", "gold", until="2026-04-01 09:00", reason="temporary"),
    ]
    result = run(events, "2026-05-01 09:00")
    assert [(a.isoformat(), s.tier, s.rule) for a, s in result.timeline("c1")] == [
        ("2026-01-15T10:00:00+08:00", "silver", "T6.silver"),
        ("2026-02-01T09:00:00+08:00", "diamond", "T6.override"),
        ("2026-03-01T09:00:00+08:00", "gold", "T6.override"),
        ("2026-04-01T09:00:00+08:00", "diamond", "T6.override"),
    ]
    assert only(result).tier == "diamond"


def test_t6_override_below_the_computed_tier_reports_zero_gaps() -> None:
    events = [profile("2026-01-15 10:00", *AT_THRESHOLD["diamond"]), override("2026-02-01 09:00", "gold")]
    a = only(run(events, "2026-02-10 10:00"))
    assert a.next_tier is not None
    assert a.next_tier.model_dump() == {
        "tier": "platinum",
        "gaps": {"spend_12m": 0, "visits_12m": 0, "tenure_months": 0},
    }


# --- The soft landing: upgrades at once, downgrades at the end of the period, one step -----


def test_upgrade_takes_effect_at_once() -> None:
    events = [
        profile("2025-01-15 10:00", *AT_THRESHOLD["gold"]),
        profile("2025-02-15 10:00", *AT_THRESHOLD["platinum"]),
    ]
    result = run(events, "2025-02-15 10:00")
    assert (only(result).tier, only(result).rule) == ("platinum", "T6.platinum")
    state = result.level_at("c1", at("2025-02-15 09:59"))
    assert state is not None and state.tier == "gold"


def test_downgrade_waits_for_the_end_of_the_qualification_period() -> None:
    events = [
        profile("2025-01-15 10:00", *AT_THRESHOLD["platinum"]),
        profile("2025-06-01 10:00", *AT_THRESHOLD["gold"]),
    ]
    result = run(events, "2025-06-02 10:00")
    a = only(result)
    assert (a.tier, a.rule, a.source) == ("platinum", "T6.soft-landing", "T6")
    [note] = notes(a, "T6.soft-landing")
    assert (note["computed_tier"], note["period_ends"]) == ("gold", "2026-01-15T10:00:00+08:00")
    # The reasons show which platinum thresholds are no longer met.
    assert [(r["tier"], r["met"]) for r in metric_reasons(a)] == [("platinum", False)] * 3


def test_downgrade_is_decided_only_by_a_profile_not_by_the_clock() -> None:
    events = [
        profile("2025-01-15 10:00", *AT_THRESHOLD["platinum"]),
        profile("2025-06-01 10:00", *AT_THRESHOLD["gold"]),
    ]
    result = run(events, "2026-03-01 10:00")  # the period ended on 2026-01-15
    assert only(result).tier == "platinum"
    assert result.next_change_at != at("2026-01-15 10:00")
    assert [(a.date().isoformat(), s.tier, s.rule) for a, s in result.timeline("c1")] == [
        ("2025-01-15", "platinum", "T6.platinum"),
        ("2025-06-01", "platinum", "T6.soft-landing"),  # the rule changed, not the tier
    ]


def test_a_profile_at_the_period_end_downgrades_by_one_tier_and_restarts_the_period() -> None:
    events = [
        profile("2025-01-15 10:00", *AT_THRESHOLD["diamond"]),
        profile("2026-01-15 10:00", 0, 0, 0),  # exactly at the end: standard computed
        profile("2026-06-01 10:00", 0, 0, 0),  # within the new period: held
        profile("2027-01-15 10:00", 0, 0, 0),  # next review
    ]
    result = run(events, "2027-02-01 10:00")
    assert [(a.astimezone(CST).date().isoformat(), s.tier) for a, s in result.timeline("c1")] == [
        ("2025-01-15", "diamond"),
        ("2026-01-15", "platinum"),
        ("2027-01-15", "gold"),
    ]
    a = only(result)
    assert (a.tier, a.rule) == ("gold", "T6.soft-landing")
    [downgraded, held] = notes(a, "T6.soft-landing")
    assert (downgraded["from_tier"], downgraded["computed_tier"]) == ("platinum", "standard")
    assert held["period_ends"] == "2028-01-15T10:00:00+08:00"


def test_a_lower_profile_one_minute_before_the_period_end_is_deferred() -> None:
    events = [
        profile("2025-01-15 10:00", *AT_THRESHOLD["gold"]),
        profile("2026-01-15 09:59", *AT_THRESHOLD["silver"]),
    ]
    assert only(run(events, "2026-01-20 10:00")).tier == "gold"


def test_a_downgrade_never_goes_below_the_computed_tier() -> None:
    events = [
        profile("2025-01-15 10:00", *AT_THRESHOLD["platinum"]),
        profile("2026-02-01 10:00", *AT_THRESHOLD["gold"]),
    ]
    a = only(run(events, "2026-02-02 10:00"))
    assert (a.tier, a.rule) == ("gold", "T6.gold")  # reached the computed tier: thresholds decide
    assert all(r["met"] for r in metric_reasons(a))


def test_an_upgrade_restarts_the_period() -> None:
    events = [
        profile("2025-01-15 10:00", *AT_THRESHOLD["gold"]),
        profile("2025-06-01 10:00", *AT_THRESHOLD["platinum"]),
        profile("2026-02-01 10:00", *AT_THRESHOLD["gold"]),  # after gold's end, before platinum's
    ]
    assert only(run(events, "2026-02-02 10:00")).tier == "platinum"


def test_requalifying_at_a_review_restarts_the_period() -> None:
    events = [
        profile("2025-01-15 10:00", *AT_THRESHOLD["platinum"]),
        profile("2026-01-20 10:00", *AT_THRESHOLD["platinum"]),  # review: still platinum
        profile("2026-06-01 10:00", *AT_THRESHOLD["gold"]),
    ]
    a = only(run(events, "2026-06-02 10:00"))
    assert a.tier == "platinum"
    [note] = notes(a, "T6.soft-landing")
    assert note["period_ends"] == "2027-01-20T10:00:00+08:00"


def test_soft_landing_steps_and_period_are_configurable() -> None:
    events = [profile("2025-01-15 10:00", *AT_THRESHOLD["diamond"]), profile("2025-03-01 10:00", 0, 0, 0)]
    assert only(run(events, "2025-03-02 10:00")).tier == "diamond"
    three = with_soft_landing(SPEC, qualification_period="1 month", max_downgrade_steps=2)
    assert only(run(events, "2025-03-02 10:00", spec=three)).tier == "gold"
    at_once = with_soft_landing(SPEC, qualification_period="0 months", max_downgrade_steps=4)
    a = only(run(events, "2025-03-02 10:00", spec=at_once))
    assert (a.tier, a.rule) == ("standard", "T2.standard")


def test_vip_card_and_override_sit_on_top_of_the_soft_landing() -> None:
    events = [
        profile("2025-01-15 10:00", *AT_THRESHOLD["diamond"]),
        profile("2025-03-01 10:00", 0, 0, 0, vip=True),  # held diamond; VIP adds nothing
    ]
    a = only(run(events, "2025-03-02 10:00"))
    assert (a.tier, a.rule) == ("diamond", "T6.soft-landing")


# --- next_tier --------------------------------------------------------------------------------


def test_next_tier_gaps_are_positive_and_null_at_the_top() -> None:
    a = only(run([profile("2026-01-15 10:00", 180_000, 9, 14)], "2026-01-20 10:00"))
    assert a.tier == "gold"
    assert a.next_tier is not None
    assert a.next_tier.model_dump() == {
        "tier": "platinum",
        "gaps": {"spend_12m": 120000, "visits_12m": 3, "tenure_months": 0},
    }
    top = only(run([profile("2026-01-15 10:00", *AT_THRESHOLD["diamond"])], "2026-01-20 10:00"))
    assert top.next_tier is None


def test_next_tier_when_held_by_the_soft_landing_is_the_tier_above_the_held_one() -> None:
    events = [
        profile("2025-01-15 10:00", *AT_THRESHOLD["platinum"]),
        profile("2025-06-01 10:00", 150_000, 8, 20),
    ]
    a = only(run(events, "2025-06-02 10:00"))
    assert a.next_tier is not None
    assert a.next_tier.model_dump() == {
        "tier": "diamond",
        "gaps": {"spend_12m": 850000, "visits_12m": 16, "tenure_months": 4},
    }


@pytest.mark.parametrize(
    ("threshold", "value", "gap"),
    [
        (300_000, 299_999.99, 0.01),
        (300_000, 120_000, 180000),
        (100, 99.999, 0.01),  # rounded up to the fen: never short
        (1.0, 0.7, 0.3),
        (72_957.46, 24_744.53, 48_212.94),  # the exact 48,212.93 falls short in floats: one fen more
        (0.3, 0.1, 0.2),
        (5, 5, 0),
        (5, 7.5, 0),
    ],
)
def test_money_gaps_are_rounded_up_to_the_fen_and_close_in_floats(
    threshold: float, value: float, gap: float
) -> None:
    found = _money_gap(threshold, value)
    assert found == gap
    assert found >= 0 and round(found * 100) == pytest.approx(found * 100)
    assert value + found >= threshold
    assert type(found) is (int if float(found).is_integer() else float)


# --- T7 / T8: cadences as obligations -------------------------------------------------------------


def test_t7_t8_a_platinum_customer_owes_quarterly_care_and_monthly_return_visits() -> None:
    result = run([profile("2026-01-15 10:00", *AT_THRESHOLD["platinum"])], "2026-01-20 10:00")
    assert chain(result, "T7.platinum-care") == [("2026-01-15 10:00", "2026-04-15 10:00", "pending", None)]
    assert chain(result, "T8.vip-return-visit") == [("2026-01-15 10:00", "2026-02-15 10:00", "pending", None)]
    assert {o.rule for o in result.obligations} == {"T7.platinum-care", "T8.vip-return-visit"}
    ob = result.obligations[0]
    assert (ob.id, ob.source, ob.case_id, ob.customer_id) == ("c1/T8.vip-return-visit/1", "T8", None, "c1")
    assert result.next_change_at == at("2026-02-15 10:00")


@pytest.mark.parametrize(
    ("tier", "rules"),
    [
        ("diamond", {"T8.vip-return-visit"}),  # T7 names no Diamond cadence; T8 monthly covers it
        ("platinum", {"T7.platinum-care", "T8.vip-return-visit"}),
        ("gold", {"T7.gold-care", "T8.important-return-visit"}),
        ("silver", {"T7.silver-care", "T8.general-return-visit"}),
        ("standard", {"T8.general-return-visit"}),
    ],
)
def test_t7_t8_which_cadences_each_tier_owes(tier: str, rules: set[str]) -> None:
    result = run([profile("2026-01-15 10:00", *AT_THRESHOLD[tier])], "2026-01-20 10:00")
    assert {o.rule for o in result.obligations} == rules


def test_t7_a_contact_meets_the_period_and_starts_the_next() -> None:
    events = [profile("2026-01-15 10:00", *AT_THRESHOLD["gold"]), contact("2026-05-02 15:30")]
    result = run(events, "2026-06-01 10:00")
    assert chain(result, "T7.gold-care") == [
        ("2026-01-15 10:00", "2026-07-15 10:00", "met", "2026-05-02 15:30"),
        ("2026-05-02 15:30", "2026-11-02 15:30", "pending", None),
    ]
    assert chain(result, "T8.important-return-visit") == [
        ("2026-01-15 10:00", "2026-04-15 10:00", "breached", "2026-05-02 15:30"),  # met late
        ("2026-04-15 10:00", "2026-07-15 10:00", "met", "2026-05-02 15:30"),  # the same contact
        ("2026-05-02 15:30", "2026-08-02 15:30", "pending", None),
    ]


def test_t8_unmet_periods_chain_from_the_due_time_and_due_at_now_is_breached() -> None:
    result = run([profile("2026-01-15 10:00", *AT_THRESHOLD["diamond"])], "2026-04-15 10:00")
    assert chain(result, "T8.vip-return-visit") == [
        ("2026-01-15 10:00", "2026-02-15 10:00", "breached", None),
        ("2026-02-15 10:00", "2026-03-15 10:00", "breached", None),
        ("2026-03-15 10:00", "2026-04-15 10:00", "breached", None),  # due exactly now, unmet
        ("2026-04-15 10:00", "2026-05-15 10:00", "pending", None),
    ]
    assert [o.id for o in result.obligations] == [f"c1/T8.vip-return-visit/{n}" for n in (1, 2, 3, 4)]


def test_t8_contacts_on_the_boundaries() -> None:
    events = [
        profile("2026-01-15 10:00", *AT_THRESHOLD["diamond"]),
        contact("2026-01-15 10:00"),  # at the start: meets the first period
        contact("2026-02-15 10:00"),  # exactly at the second due time: met
        contact("2026-02-15 10:00"),  # a duplicate at the same instant counts once
    ]
    result = run(events, "2026-03-01 10:00")
    assert chain(result, "T8.vip-return-visit") == [
        ("2026-01-15 10:00", "2026-02-15 10:00", "met", "2026-01-15 10:00"),
        ("2026-01-15 10:00", "2026-02-15 10:00", "met", "2026-02-15 10:00"),
        ("2026-02-15 10:00", "2026-03-15 10:00", "pending", None),
    ]


def test_cadences_are_wall_clock_months_clamped_to_the_month_end() -> None:
    result = run([profile("2025-01-31 18:00", *AT_THRESHOLD["diamond"])], "2025-04-01 10:00")
    assert chain(result, "T8.vip-return-visit")[:3] == [
        ("2025-01-31 18:00", "2025-02-28 18:00", "breached", None),
        ("2025-02-28 18:00", "2025-03-28 18:00", "breached", None),
        ("2025-03-28 18:00", "2025-04-28 18:00", "pending", None),
    ]


def test_cadences_keep_the_wall_clock_across_dst_in_the_ruleset_timezone() -> None:
    new_york = dateutil_tz.gettz("America/New_York")
    assert new_york is not None
    start = dt.datetime(2026, 2, 20, 10, 0, tzinfo=new_york)
    event = {**profile("2026-01-01 00:00", *AT_THRESHOLD["diamond"]), "at": start.isoformat()}
    result = run([event], dt.datetime(2026, 3, 1, 0, 0, tzinfo=new_york), tz=new_york)
    [ob] = [o for o in result.obligations if o.rule == "T8.vip-return-visit"]
    assert ob.due_at == dt.datetime(2026, 3, 20, 10, 0, tzinfo=new_york)  # 10:00 EDT, after the switch
    assert ob.due_at.utcoffset() == dt.timedelta(hours=-4)
    assert ob.started_at.utcoffset() == dt.timedelta(hours=-5)


def test_a_tier_change_drops_the_undecided_period_and_starts_a_new_chain() -> None:
    events = [
        profile("2026-01-15 10:00", *AT_THRESHOLD["gold"]),
        profile("2026-03-01 10:00", *AT_THRESHOLD["platinum"]),  # upgrade: gold care no longer owed
    ]
    result = run(events, "2026-03-10 10:00")
    assert chain(result, "T7.gold-care") == []
    assert chain(result, "T7.platinum-care") == [("2026-03-01 10:00", "2026-06-01 10:00", "pending", None)]
    assert chain(result, "T8.important-return-visit") == []  # level 2 -> 1 before its first due
    assert chain(result, "T8.vip-return-visit") == [("2026-03-01 10:00", "2026-04-01 10:00", "pending", None)]


def test_a_decided_period_survives_a_tier_change_and_ids_stay_stable() -> None:
    events = [profile("2026-01-15 10:00", *AT_THRESHOLD["gold"]), contact("2026-02-01 10:00")]
    before = run(events, "2026-06-01 10:00")
    events.append(profile("2026-06-10 10:00", *AT_THRESHOLD["platinum"]))
    after = run(events, "2026-06-20 10:00")
    assert chain(after, "T7.gold-care") == [
        ("2026-01-15 10:00", "2026-07-15 10:00", "met", "2026-02-01 10:00")
    ]
    # Earlier periods keep their ids and content as the log grows.
    old = {o.id: o for o in before.obligations if o.status != "pending"}
    assert old and all(o in after.obligations for o in old.values())
    assert [o.id for o in after.obligations if o.rule == "T7.gold-care"] == ["c1/T7.gold-care/1"]
    # The level-2 chain's undecided third period was dropped at the upgrade.
    assert chain(after, "T8.important-return-visit") == [
        ("2026-01-15 10:00", "2026-04-15 10:00", "met", "2026-02-01 10:00"),
        ("2026-02-01 10:00", "2026-05-01 10:00", "breached", None),
    ]
    assert [o.id for o in before.obligations if o.status == "pending"] == [
        "c1/T7.gold-care/2",
        "c1/T8.important-return-visit/3",
    ]
    assert not {o.id for o in after.obligations} & {"c1/T7.gold-care/2", "c1/T8.important-return-visit/3"}


def test_t8_level_1_chain_continues_from_platinum_to_diamond() -> None:
    events = [
        profile("2026-01-15 10:00", *AT_THRESHOLD["platinum"]),
        profile("2026-02-01 10:00", *AT_THRESHOLD["diamond"]),  # still service level 1
    ]
    result = run(events, "2026-02-20 10:00")
    assert chain(result, "T8.vip-return-visit") == [
        ("2026-01-15 10:00", "2026-02-15 10:00", "breached", None),
        ("2026-02-15 10:00", "2026-03-15 10:00", "pending", None),
    ]
    assert chain(result, "T7.platinum-care") == []


def test_an_override_window_moves_the_cadences() -> None:
    events = [
        profile("2026-01-15 10:00", *AT_THRESHOLD["silver"]),
        override("2026-02-01 10:00", "platinum", until="2026-02-10 10:00", reason="event guest"),
    ]
    result = run(events, "2026-03-01 10:00")
    assert chain(result, "T8.vip-return-visit") == []  # nine days as level 1: nothing fell due
    assert chain(result, "T7.silver-care") == [
        ("2026-02-10 10:00", "2026-08-10 10:00", "pending", None)  # a new chain after the window
    ]


def test_contacts_of_other_customers_do_not_count() -> None:
    events = [
        profile("2026-01-15 10:00", *AT_THRESHOLD["gold"]),
        contact("2026-02-01 10:00", customer="someone-else"),
    ]
    result = run(events, "2026-03-01 10:00")
    assert [o.status for o in result.obligations if o.customer_id == "c1"] == ["pending", "pending"]
    assert [a.customer_id for a in result.assignments] == ["c1"]  # a contact alone makes no tier


# --- level_at, next_change_at, many customers --------------------------------------------------------


def test_level_at_follows_the_history() -> None:
    events = [
        profile("2026-01-15 10:00", *AT_THRESHOLD["gold"]),
        override("2026-02-01 10:00", "diamond", until="2026-02-02 10:00"),
    ]
    result = run(events, "2026-03-01 10:00")

    def tier(when: str) -> str | None:
        state = result.level_at("c1", at(when))
        return state.tier if state else None

    assert tier("2026-01-15 09:59") is None
    assert tier("2026-01-15 10:00") == "gold"  # an event at the instant counts
    assert tier("2026-02-01 10:00") == "diamond"
    assert tier("2026-02-02 09:59") == "diamond"
    assert tier("2026-02-02 10:00") == "gold"
    assert result.level_at("nobody", at("2026-03-01 10:00")) is None
    state = result.level_at("c1", at("2026-02-01 12:00"))
    assert state is not None
    assert (state.service_class, state.service_level, state.rule, state.source) == (
        "A",
        1,
        "T6.override",
        "T6",
    )


def test_attributes_feed_the_case_timelines() -> None:
    events = [
        profile("2026-01-15 10:00", *AT_THRESHOLD["gold"]),
        profile("2026-02-15 10:00", *AT_THRESHOLD["silver"]),  # deferred: same attributes, other rule
        override("2026-03-01 10:00", "diamond", until="2026-03-02 10:00"),
    ]
    result = run(events, "2026-04-01 10:00")
    assert len(result.timeline("c1")) == 4
    assert result.attributes("c1") == [
        (at("2026-01-15 10:00"), {"tier": "gold", "service_class": "B", "service_level": 2}),
        (at("2026-03-01 10:00"), {"tier": "diamond", "service_class": "A", "service_level": 1}),
        (at("2026-03-02 10:00"), {"tier": "gold", "service_class": "B", "service_level": 2}),
    ]
    assert result.attributes("nobody") == []


def test_customers_are_sorted_and_independent() -> None:
    events = [
        profile("2026-01-15 10:00", *AT_THRESHOLD["silver"], customer="b"),
        profile("2026-01-15 10:00", *AT_THRESHOLD["diamond"], customer="a"),
        {
            "type": "case_opened",
            "at": at("2026-01-15 11:00").isoformat(),
            "case_id": "k1",
            "channel": "phone",
        },
        profile("2026-01-16 10:00", *AT_THRESHOLD["gold"], customer="c"),
    ]
    result = run(events, "2026-01-20 10:00")
    assert [(a.customer_id, a.tier) for a in result.assignments] == [
        ("a", "diamond"),
        ("b", "silver"),
        ("c", "gold"),
    ]
    assert [o.customer_id for o in result.obligations] == sorted(o.customer_id for o in result.obligations)


def test_same_inputs_give_identical_results() -> None:
    events = [
        profile("2025-01-15 10:00", *AT_THRESHOLD["platinum"], vip=True),
        contact("2025-02-01 10:00"),
        override("2025-03-01 10:00", "gold", until="2025-04-01 10:00"),
        profile("2025-06-01 10:00", 50_000, 3, 17),
    ]
    first, second = run(events, "2025-07-01 10:00"), run(list(reversed(events)), "2025-07-01 10:00")
    assert first.assignments == second.assignments
    assert first.obligations == second.obligations
    assert first.next_change_at == second.next_change_at


# --- Engine disagreement is an engine failure ---------------------------------------------------------


def test_a_profile_without_engine_matches_is_an_engine_error() -> None:
    events = ordered([profile("2026-01-15 10:00", *AT_THRESHOLD["gold"])])
    with pytest.raises(EngineError, match="matched no tier rule"):
        evaluate_tiers(SPEC, events, {}, at("2026-01-20 10:00"), SHANGHAI)


def test_engine_matches_that_disagree_with_the_thresholds_are_an_engine_error() -> None:
    events = ordered([profile("2026-01-15 10:00", *AT_THRESHOLD["gold"])])
    hits = {0: ["tier:diamond", "tier:standard"]}
    with pytest.raises(EngineError, match="durable_rules matched diamond, the thresholds give gold"):
        evaluate_tiers(SPEC, events, hits, at("2026-01-20 10:00"), SHANGHAI)


def test_other_rules_in_the_hits_are_ignored() -> None:
    events = ordered([profile("2026-01-15 10:00", *AT_THRESHOLD["gold"])])
    hits = {0: ["E2.complaint-reply#start", "tier:gold", "tier:silver", "tier:standard"], 7: ["x"]}
    assert only(evaluate_tiers(SPEC, events, hits, at("2026-01-20 10:00"), SHANGHAI)).tier == "gold"


# --- Validation: shape (pydantic) -------------------------------------------------------------------


def section(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(load_section()[0]))  # a deep copy
    for dotted, value in changes.items():
        node: Any = data
        *parents, last = dotted.split("__")
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[last] = value
    return data


def shape_errors(data: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    with pytest.raises(ValidationError) as info:
        TiersSpec.model_validate(data)
    return [(tuple(e["loc"]), e["type"]) for e in info.value.errors()]


def test_shape_unknown_metric_key() -> None:
    data = section()
    data["thresholds"][1]["min"]["spend12m"] = data["thresholds"][1]["min"].pop("spend_12m")
    assert shape_errors(data) == [
        (("thresholds", 1, "min", "spend_12m"), "missing"),
        (("thresholds", 1, "min", "spend12m"), "extra_forbidden"),
    ]


@pytest.mark.parametrize(
    ("changes", "loc", "kind"),
    [
        (
            {"soft_landing__qualification_period": "12 moons"},
            ("soft_landing", "qualification_period"),
            "value_error",
        ),
        (
            {"soft_landing__max_downgrade_steps": 0},
            ("soft_landing", "max_downgrade_steps"),
            "greater_than_equal",
        ),
        ({"cadences__0__every": "0 months"}, ("cadences", 0, "every"), "value_error"),
        ({"cadences__0__service_level": 1}, ("cadences", 0), "value_error"),  # both selectors
        ({"cadences__3__service_level": 4}, ("cadences", 3, "service_level"), "literal_error"),
        ({"thresholds__0__source": "E6"}, ("thresholds", 0, "source"), "string_pattern_mismatch"),
        (
            {"thresholds__0__min__visits_12m": -1},
            ("thresholds", 0, "min", "visits_12m"),
            "greater_than_equal",
        ),
        ({"thresholds__0__min__visits_12m": True}, ("thresholds", 0, "min", "visits_12m"), "int_type"),
        ({"thresholds__0__min__visits_12m": "24"}, ("thresholds", 0, "min", "visits_12m"), "int_type"),
        (
            {"thresholds__0__min__spend_12m": float("inf")},
            ("thresholds", 0, "min", "spend_12m"),
            "finite_number",
        ),
        (
            {"service__by_tier__gold__service_class": "D"},
            ("service", "by_tier", "gold", "service_class"),
            "literal_error",
        ),
        ({"override__description": {"zh": "人工"}}, ("override", "description", "en"), "missing"),
    ],
)
def test_shape_errors_name_the_path(changes: dict[str, Any], loc: tuple[Any, ...], kind: str) -> None:
    assert (loc, kind) in shape_errors(section(**changes))


def test_shape_errors_through_the_loader_name_file_line_path_and_suggestion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `tierrules validate` will print once Ruleset has a `tiers` field (simulated here)."""

    class Integrated(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)
        tiers: TiersSpec | None = None

    text = SECTION.read_text(encoding="utf-8").replace("visits_12m: 12,", "visit_12m: 12,", 1)
    path = tmp_path / "tiers.yaml"
    path.write_text(text, encoding="utf-8")
    data, smap = read_ruleset_files(path)
    with pytest.raises(ValidationError) as info:
        Integrated.model_validate(data)
    best = best_match(problems_from_validation(info.value, Integrated, data, place=smap.place))
    assert best is not None
    line = next(n for n, s in enumerate(text.splitlines(), 1) if "visit_12m: 12," in s)
    assert (best.json_path, best.suggestion, best.file, best.line) == (
        "$.tiers.thresholds[1].min.visit_12m",
        "visits_12m",
        path,
        line,
    )


# --- Validation: semantics (check) -------------------------------------------------------------------


def problems_of(data: dict[str, Any]) -> list[Problem]:
    return check(TiersSpec.model_validate(data))


def test_check_unknown_tier_suggests() -> None:
    [problem] = problems_of(section(thresholds__1__tier="platnum"))[:1]
    assert (problem.json_path, problem.value, problem.suggestion) == (
        "$.thresholds[1].tier",
        "platnum",
        "platinum",
    )
    assert any(
        "missing tier 'platinum'" in p.message for p in problems_of(section(thresholds__1__tier="platnum"))
    )


def test_check_missing_and_duplicate_tiers() -> None:
    data = section()
    data["thresholds"][2]["tier"] = "platinum"
    data["thresholds"][2]["id"] = "T6.platinum-again"
    found = problems_of(data)
    assert [(p.json_path, p.rank) for p in found if "twice" in p.message] == [("$.thresholds[2].tier", 1)]
    assert [p.json_path for p in found if "missing tier 'gold'" in p.message] == ["$.thresholds"]


def test_check_thresholds_are_monotone_on_every_metric() -> None:
    found = problems_of(
        section(thresholds__1__min={"spend_12m": 300000, "visits_12m": 4, "tenure_months": 12})
    )
    [problem] = found
    assert problem.json_path == "$.thresholds[1].min.visits_12m"
    assert (problem.value, problem.rank) == (4, 2)
    assert "platinum's visits_12m threshold is below gold's (6)" in problem.message


def test_check_a_tier_with_its_lower_neighbours_thresholds_is_unreachable() -> None:
    found = problems_of(
        section(thresholds__0__min={"spend_12m": 300000, "visits_12m": 12, "tenure_months": 12})
    )
    [problem] = found
    assert problem.json_path == "$.thresholds[0].min"
    assert "no profile could ever be platinum" in problem.message
    zero = problems_of(section(thresholds__3__min={"spend_12m": 0, "visits_12m": 0, "tenure_months": 0}))
    assert [p.json_path for p in zero] == ["$.thresholds[3].min"]  # silver == standard


def test_check_standard_takes_no_thresholds_and_others_need_them() -> None:
    data = section()
    data["thresholds"][4]["min"] = {"spend_12m": 1, "visits_12m": 0, "tenure_months": 0}
    del data["thresholds"][2]["min"]
    found = {p.json_path: p.message for p in problems_of(data)}
    assert "everyone qualifies" in found["$.thresholds[4].min"]
    assert "gold needs 'min'" in found["$.thresholds[2].min"]


def test_check_service_mapping() -> None:
    data = section()
    data["service"]["by_tier"]["platnum"] = data["service"]["by_tier"].pop("platinum")
    data["service"]["by_tier"]["gold"] = {"service_class": "A", "service_level": 3}
    found = problems_of(data)
    unknown = next(p for p in found if p.message == "unknown tier")
    assert (unknown.json_path, unknown.suggestion) == ("$.service.by_tier.platnum", "platinum")
    assert any(p.json_path == "$.service.by_tier" and "'platinum'" in p.message for p in found)
    data = section()
    data["service"]["by_tier"]["silver"] = {"service_class": "A", "service_level": 1}
    assert {p.json_path for p in problems_of(data)} == {
        "$.service.by_tier.gold.service_class",  # gold would get less than silver
        "$.service.by_tier.gold.service_level",
    }


def test_check_vip_tier_and_cadences() -> None:
    found = problems_of(section(vip_card__tier="platinium"))
    assert [(p.json_path, p.suggestion) for p in found] == [("$.vip_card.tier", "platinum")]
    found = problems_of(section(cadences__1__tier="gld"))
    assert [(p.json_path, p.suggestion) for p in found] == [("$.cadences[1].tier", "gold")]
    found = problems_of(section(cadences__1__tier="platinum"))
    assert [(p.json_path, p.value) for p in found] == [("$.cadences[1].tier", "platinum")]
    assert "also cadences[0]" in found[0].message


def test_check_duplicate_rule_ids() -> None:
    [problem] = problems_of(section(cadences__2__id="T6.override"))
    assert (problem.json_path, problem.value) == ("$.cadences[2].id", "T6.override")
    assert "also $.override" in problem.message


def test_check_problems_place_on_file_lines(tmp_path: Path) -> None:
    """Paths are relative to `tiers`: prefixing them finds the line in the ruleset file."""
    text = SECTION.read_text(encoding="utf-8").replace(
        "tier: platinum\n    description", "tier: platinium\n    description"
    )
    path = tmp_path / "tiers.yaml"
    path.write_text(text, encoding="utf-8")
    data, smap = read_ruleset_files(path)
    [problem] = check(TiersSpec.model_validate(data["tiers"]))
    placed = smap.place(Problem(problem.message, ("tiers", *problem.absolute_path), problem.value, rank=1))
    assert placed.file == path
    assert placed.line == next(n for n, s in enumerate(text.splitlines(), 1) if "tier: platinium" in s)


# --- The worked example in docs/tiers.md stays true ---------------------------------------------------


def doc_block(marker: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(rf"<!-- {marker} -->\s*```[a-z]*\n(.*?)```", text, re.S)
    assert match, marker
    return match.group(1)


def test_docs_worked_example() -> None:
    events = [json.loads(line) for line in doc_block("example-events").splitlines() if line.strip()]
    expected = json.loads(doc_block("example-decision"))
    result = run(events, expected["now"])
    assert [a.model_dump(mode="json") for a in result.assignments] == expected["tiers"]
    rendered = [
        {
            "rule": o.rule,
            "started_at": o.started_at.isoformat(),
            "due_at": o.due_at.isoformat(),
            "status": o.status,
            "met_at": o.met_at.isoformat() if o.met_at else None,
        }
        for o in result.obligations
        if o.rule == "T7.gold-care"
    ]
    assert rendered == expected["gold_care"]
    # The prose around it.
    same_later = {**events[-2], "at": "2027-06-10T10:00:00+08:00"}
    assert only(run([*events, same_later], "2027-06-11 10:00"), "C-88").tier == "silver"
    better = profile("2026-07-01 10:00", 300_000, 12, 12, customer="C-88")
    assert only(run([*events, better], "2026-07-01 10:00"), "C-88").tier == "platinum"
    retention = override("2026-06-20 09:00", "platinum", "2026-09-01 00:00", "C-88", "retention offer")
    a = only(run([*events, retention], "2026-07-01 10:00"), "C-88")
    assert (a.tier, a.rule) == ("platinum", "T6.override")
    a = only(run([*events, retention], "2026-09-01 00:00"), "C-88")
    assert a.tier == "gold"
    assert a.reasons[0]["note"] == (
        "override to platinum expired at 2026-09-01T00:00:00+08:00; the computed tier applies"
    )


# --- The engine carries it ---------------------------------------------------------------------------


def test_engine_decision_carries_the_assignment_and_cadences() -> None:
    events = [profile("2026-01-15 10:00", 180_000, 9, 14)]
    now = at("2026-01-20 10:00")
    decision = tierrules.Engine(tierrules.load_ruleset()).evaluate(events, now=now)
    expected = run(events, now)
    assert decision.tiers == list(expected.assignments)
    wanted: list[CadenceObligation] = expected.obligations
    assert {o.rule for o in decision.obligations} >= {o.rule for o in wanted}
