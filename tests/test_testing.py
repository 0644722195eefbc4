"""tierrules.testing: the strategies feed evaluate() without errors; the invariants hold."""

from __future__ import annotations

import datetime as dt
import doctest
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tierrules
from tierrules import testing
from tierrules.events import EVENT_TYPES
from tierrules.ruleset.model import CalendarSpec

RULESET = tierrules.load_ruleset()
ENGINE = tierrules.Engine(RULESET)
STRICT = tierrules.Engine(testing.scaled(RULESET, 0.5))
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_docstring_examples() -> None:
    result = doctest.testmod(testing, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_thousands_of_generated_cases_evaluate_without_error() -> None:
    statuses: set[str] = set()
    for events, now in testing.generate_cases(RULESET, 1000, seed=11):
        decision = ENGINE.evaluate(events, now)
        statuses |= {o.status for o in decision.obligations}
    assert statuses == {"pending", "met", "breached"}


def test_generate_cases_is_deterministic_per_seed() -> None:
    assert testing.generate_cases(RULESET, 20, seed=3) == testing.generate_cases(RULESET, 20, seed=3)
    assert testing.generate_cases(RULESET, 20, seed=3) != testing.generate_cases(RULESET, 20, seed=4)


@FAST
@given(testing.events())
def test_events_are_valid(event: dict[str, Any]) -> None:
    tierrules.parse_events([event])


@FAST
@given(testing.cases(RULESET))
def test_cases_are_well_formed(events: list[dict[str, Any]]) -> None:
    first = next(e for e in events if e["type"] != "customer_profile")
    assert first["type"] == "case_opened"
    times = [dt.datetime.fromisoformat(e["at"]) for e in events]
    assert times == sorted(times)
    assert all(t.tzinfo is not None for t in times)
    tierrules.parse_events(events)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(testing.timed_cases(RULESET))
def test_invariants_hold_on_the_default_ruleset(case: tuple[list[dict[str, Any]], dt.datetime]) -> None:
    events, now = case
    testing.assert_deterministic(ENGINE, events, now)
    testing.assert_order_insensitive(ENGINE, events, now, shuffles=1)
    testing.assert_obligations_resolve(ENGINE, events, now)
    testing.assert_monotone_tiers(ENGINE, events, now)
    testing.assert_stricter_never_passes(ENGINE, STRICT, events, now)


@FAST
@given(testing.profiles())
def test_profiles_are_customer_profiles(profile: dict[str, Any]) -> None:
    [parsed] = tierrules.parse_events([profile])
    assert parsed.type == "customer_profile"


@settings(max_examples=25, deadline=None)
@given(testing.calendars())
def test_calendars_load_in_a_ruleset(spec: dict[str, Any]) -> None:
    CalendarSpec.model_validate(spec)
    data = RULESET.model_dump(mode="json")
    data["calendars"]["extra"] = spec
    tierrules.load_ruleset(data)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(testing.rulesets(RULESET, stricter_only=True), st.integers(0, 10_000))
def test_stricter_variants_never_pass_a_breach(strict: tierrules.Ruleset, seed: int) -> None:
    strict_engine = tierrules.Engine(strict)
    for events, now in testing.generate_cases(RULESET, 40, seed=seed):
        testing.assert_stricter_never_passes(ENGINE, strict_engine, events, now)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(testing.rulesets(RULESET))
def test_ruleset_variations_are_valid(variant: tierrules.Ruleset) -> None:
    engine = tierrules.Engine(variant)
    for events, now in testing.generate_cases(variant, 20, seed=1):
        engine.evaluate(events, now)


def test_scaled_e2_to_45_working_minutes() -> None:
    strict = testing.scaled(RULESET, 0.75, rules=["E2.complaint-reply"])
    e2 = next(r for r in strict.deadlines if r.id == "E2.complaint-reply")
    assert str(e2.within) == "45 working minutes"
    e9 = next(r for r in strict.deadlines if r.id == "E9.complaint-response")
    assert str(e9.within) == "24 hours"
    with pytest.raises(ValueError, match="positive"):
        testing.scaled(RULESET, 0)


def test_a_broken_engine_fails_the_invariants() -> None:
    events = [
        {"type": "complaint_registered", "at": "2026-11-24T10:00:00+08:00", "case_id": "c1"},
        {"type": "complaint_replied", "at": "2026-11-24T10:40:00+08:00", "case_id": "c1"},
    ]
    now = dt.datetime.fromisoformat("2026-11-25T10:00:00+08:00")
    # "stricter" the wrong way round: the lax one is the strict one.
    with pytest.raises(AssertionError, match="breached under the lax ruleset"):
        testing.assert_stricter_never_passes(testing.scaled(RULESET, 0.5), RULESET, events, now)

    class Flaky:
        calls = 0

        def evaluate(self, evs: Any, at: dt.datetime) -> tierrules.Decision:
            Flaky.calls += 1
            return ENGINE.evaluate(evs if Flaky.calls % 2 else evs[:1], at)

    with pytest.raises(AssertionError, match="differ"):
        testing.assert_deterministic(Flaky(), events, now)  # type: ignore[arg-type]


def test_events_rejects_unknown_types() -> None:
    with pytest.raises(ValueError, match="unknown event types"):
        testing.events(["complaint_registred"])


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_every_generated_value_of_every_event_type_is_valid(event_type: str) -> None:
    # Seeded and exhaustive where hypothesis samples: every numeric choice meets its field's bounds.
    import random

    from tierrules.testing import _event, _instant, _Seeded

    ch = _Seeded(random.Random(event_type))
    for _ in range(200):
        tierrules.parse_events([_event(ch, event_type, _instant(ch), "c1")])
