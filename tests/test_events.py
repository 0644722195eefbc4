"""Malformed events are refused whole, naming the event's index and the field at fault."""

from __future__ import annotations

from typing import Any

import pytest

import tierrules

from .conftest import at, ev

NOW = at("2026-11-24 12:00")


def refuse(engine: tierrules.Engine, events: list[Any]) -> tierrules.EventError:
    with pytest.raises(tierrules.EventError) as info:
        engine.evaluate(events, now=NOW)
    assert isinstance(info.value, tierrules.TierrulesError)
    return info.value


def test_naive_time_is_refused(engine: tierrules.Engine) -> None:
    bad = {"type": "complaint_registered", "at": "2026-11-24T10:00:00", "case_id": "c1"}
    err = refuse(engine, [ev("case_opened", "2026-11-24 09:00", channel="phone"), bad])
    assert (err.index, err.field) == (1, "at")
    assert "[1].at" in str(err) and "naive" in str(err)


def test_bad_severity_names_field_and_value(engine: tierrules.Engine) -> None:
    err = refuse(engine, [ev("feedback_received", "2026-11-24 10:00", severity="critcal")])
    assert (err.index, err.field) == (0, "severity")
    assert "'critcal'" in str(err)


def test_unknown_type_suggests_the_closest(engine: tierrules.Engine) -> None:
    err = refuse(engine, [{"type": "complaint_registred", "at": NOW.isoformat(), "case_id": "c"}])
    assert err.field == "type"
    assert "did you mean 'complaint_registered'" in str(err)


def test_unknown_field_is_refused_not_dropped(engine: tierrules.Engine) -> None:
    err = refuse(engine, [ev("feedback_received", "2026-11-24 10:00", severity="urgent", severty="x")])
    assert err.field == "severty"
    assert "did you mean 'severity'" in str(err)


def test_missing_required_field(engine: tierrules.Engine) -> None:
    err = refuse(engine, [ev("escalation_needed", "2026-11-24 10:00")])
    assert (err.index, err.field) == (0, "agent_level")


def test_string_number_is_not_coerced(engine: tierrules.Engine) -> None:
    # durable_rules would happily compare "1" > 0; we refuse it before it gets there.
    err = refuse(engine, [ev("escalation_needed", "2026-11-24 10:00", agent_level="1")])
    assert err.field == "agent_level"


def test_dollar_keys_are_reserved(engine: tierrules.Engine) -> None:
    err = refuse(engine, [{**ev("complaint_registered", "2026-11-24 10:00"), "$s": 1}])
    assert err.field == "$s" and "reserved" in str(err)


def test_event_after_now_is_refused(engine: tierrules.Engine) -> None:
    err = refuse(engine, [ev("complaint_registered", "2026-11-24 12:01")])
    assert (err.index, err.field) == (0, "at")


def test_naive_now_is_refused(engine: tierrules.Engine) -> None:
    with pytest.raises(tierrules.EventError, match="now"):
        engine.evaluate([], now=NOW.replace(tzinfo=None))


def test_not_a_list_is_refused(engine: tierrules.Engine) -> None:
    with pytest.raises(tierrules.EventError):
        engine.evaluate(ev("complaint_registered", "2026-11-24 10:00"), now=NOW)  # type: ignore[arg-type]


def test_case_opened_defaults_severity_to_general() -> None:
    [event] = tierrules.parse_events([ev("case_opened", "2026-11-24 10:00", channel="lobby")])
    assert event.severity == "general"


def test_other_offsets_are_accepted_and_reported_in_ruleset_timezone(engine: tierrules.Engine) -> None:
    utc = {"type": "complaint_registered", "at": "2026-11-24T02:00:00Z", "case_id": "c1"}
    d = engine.evaluate([utc], now=NOW)
    assert d.obligations[0].started_at.isoformat() == "2026-11-24T10:00:00+08:00"


def test_event_models_are_accepted(engine: tierrules.Engine) -> None:
    events = tierrules.parse_events([ev("complaint_registered", "2026-11-24 10:00")])
    assert engine.evaluate(events, now=NOW).obligations[0].rule == "E2.complaint-reply"
