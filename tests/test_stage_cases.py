"""The cases stage on its own: each case's attribute time lines, pauses and staff.

evaluation/cases.py reads time-ordered events (and, optionally, each customer's tier time
line) and keeps what rules may depend on: severity, channel, tier, class and level over
time, pause marks, and who was staffed. Nothing here matches or evaluates a rule.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tierrules.evaluation.cases import Case, build_cases
from tierrules.evaluation.clocks import pause_intervals
from tierrules.evaluation.facts import order_events
from tierrules.events import EventBase, parse_events

from .conftest import at, ev


def _cases(*raw: dict[str, Any], customers: Any = None) -> dict[str, Case]:
    ordered, _ = order_events(parse_events(list(raw)))
    return build_cases(ordered, customers)


def _ordered(*raw: dict[str, Any]) -> list[EventBase]:
    return order_events(parse_events(list(raw)))[0]


# --- build_cases --------------------------------------------------------------------------


def test_one_case_per_case_id_and_none_for_customer_only_events() -> None:
    cases = _cases(
        ev("case_opened", "2026-11-24 09:00", "c1", channel="phone"),
        ev("complaint_registered", "2026-11-24 09:10", "c2"),
        {
            "type": "customer_profile",
            "at": at("2026-11-24 09:00").isoformat(),
            "customer_id": "u1",
            "spend_12m": 0,
            "visits_12m": 0,
            "tenure_months": 0,
        },
    )
    assert sorted(cases) == ["c1", "c2"]
    assert cases["c2"].timelines == {}
    assert cases["c2"].customer_id is None


def test_customer_id_comes_from_the_first_case_opened_that_names_one() -> None:
    cases = _cases(
        ev("case_opened", "2026-11-24 09:00", channel="phone"),
        ev("case_opened", "2026-11-24 09:05", channel="phone", customer_id="u1"),
        ev("case_opened", "2026-11-24 09:10", channel="phone", customer_id="u2"),
    )
    assert cases["c1"].customer_id == "u1"


def test_severity_and_channel_time_lines() -> None:
    cases = _cases(
        ev("case_opened", "2026-11-24 09:00", channel="lobby", severity="important"),
        ev("case_updated", "2026-11-24 10:00", severity="urgent"),
        ev("case_updated", "2026-11-24 10:30", severity="urgent"),  # no change: not a new entry
        ev("case_updated", "2026-11-24 11:00", severity="general"),
        ev("case_opened", "2026-11-24 12:00", channel="phone", severity="critical"),  # late: ignored
    )
    case = cases["c1"]
    assert case.timelines["severity"] == [
        (at("2026-11-24 09:00"), "important"),
        (at("2026-11-24 10:00"), "urgent"),
        (at("2026-11-24 11:00"), "general"),
    ]
    assert case.timelines["channel"] == [(at("2026-11-24 09:00"), "lobby")]
    # Every case_updated is a severity update, repeated or not; a case_opened is not.
    assert case.severity_updates == [
        (at("2026-11-24 10:00"), "urgent"),
        (at("2026-11-24 10:30"), "urgent"),
        (at("2026-11-24 11:00"), "general"),
    ]


def test_a_case_updated_before_the_case_opened_keeps_its_severity() -> None:
    cases = _cases(
        ev("case_updated", "2026-11-24 08:00", severity="critical"),
        ev("case_opened", "2026-11-24 09:00", channel="phone", severity="general"),
    )
    assert cases["c1"].timelines["severity"] == [(at("2026-11-24 08:00"), "critical")]
    assert cases["c1"].timelines["channel"] == [(at("2026-11-24 09:00"), "phone")]


def test_pause_marks_and_staff() -> None:
    cases = _cases(
        ev("case_opened", "2026-11-24 09:00", channel="phone", agent_id="a1", team="t1"),
        ev("case_paused", "2026-11-24 10:00", reason="waiting"),
        ev("case_resumed", "2026-11-24 11:00", agent_id="a2"),
        ev("complaint_registered", "2026-11-24 11:30", team="t2"),
    )
    case = cases["c1"]
    assert case.pause_marks == [(at("2026-11-24 10:00"), "pause"), (at("2026-11-24 11:00"), "resume")]
    assert case.staff == [
        (at("2026-11-24 09:00"), "a1", "t1"),
        (at("2026-11-24 11:00"), "a2", None),
        (at("2026-11-24 11:30"), None, "t2"),
    ]


def test_customer_attributes_come_from_the_customer_time_line() -> None:
    asked: list[str] = []

    def customers(customer_id: str) -> list[tuple[dt.datetime, dict[str, Any]]]:
        asked.append(customer_id)
        return [
            (at("2026-11-01 00:00"), {"tier": "gold", "service_class": "B", "service_level": 2}),
            (at("2026-11-24 10:00"), {"tier": "platinum", "service_class": "A", "service_level": 1}),
        ]

    cases = _cases(
        ev("case_opened", "2026-11-24 09:00", "c1", channel="phone", customer_id="u1"),
        ev("case_opened", "2026-11-24 09:00", "c2", channel="phone"),
        customers=customers,
    )
    assert asked == ["u1"]  # c2 has no customer
    case = cases["c1"]
    assert case.timelines["tier"] == [(at("2026-11-01 00:00"), "gold"), (at("2026-11-24 10:00"), "platinum")]
    assert case.value_at("service_level", at("2026-11-24 09:59")) == 2
    assert case.value_at("service_class", at("2026-11-24 10:00")) == "A"
    assert "tier" not in cases["c2"].timelines


# --- Case queries -------------------------------------------------------------------------


def _severity_case() -> Case:
    case = Case("c1")
    case.set("severity", at("2026-11-24 09:00"), "important")
    case.set("severity", at("2026-11-24 10:00"), "urgent")
    case.set("severity", at("2026-11-24 11:00"), "general")
    return case


def test_value_at_is_the_last_value_at_or_before_else_the_default() -> None:
    case = _severity_case()
    assert case.value_at("severity", at("2026-11-24 08:59")) == "general"  # the default
    assert case.value_at("severity", at("2026-11-24 09:00")) == "important"
    assert case.value_at("severity", at("2026-11-24 10:59")) == "urgent"
    assert case.value_at("severity", at("2026-11-24 11:00")) == "general"
    assert case.value_at("channel", at("2026-11-24 12:00")) is None
    assert case.value_at("tier", at("2026-11-24 12:00")) == "standard"
    assert case.value_at("service_level", at("2026-11-24 12:00")) == 3


def test_set_ignores_a_repeated_value() -> None:
    case = Case("c1")
    case.set("tier", at("2026-11-24 09:00"), "gold")
    case.set("tier", at("2026-11-24 10:00"), "gold")
    assert case.timelines["tier"] == [(at("2026-11-24 09:00"), "gold")]


def test_changes_are_strictly_after_and_up_to_until() -> None:
    case = _severity_case()
    assert case.changes("severity", at("2026-11-24 09:00"), at("2026-11-24 11:00")) == [
        (at("2026-11-24 10:00"), "urgent"),
        (at("2026-11-24 11:00"), "general"),
    ]
    assert case.changes("severity", at("2026-11-24 10:00"), at("2026-11-24 10:59")) == []
    assert case.changes("channel", at("2026-11-24 00:00"), at("2026-11-25 00:00")) == []


def test_change_instants_of_case_fields_and_own_severity() -> None:
    case = _severity_case()
    case.severity_updates.append((at("2026-11-24 10:30"), "critical"))
    window = (at("2026-11-24 09:00"), at("2026-11-24 12:00"))
    assert case.change_instants({"case_severity"}, *window) == {
        at("2026-11-24 10:00"),
        at("2026-11-24 11:00"),
    }
    assert case.change_instants({"severity"}, *window) == {at("2026-11-24 10:30")}
    assert case.change_instants({"case_tier"}, *window) == frozenset()


def test_severity_since_takes_the_last_update_after_start_up_to_at() -> None:
    case = Case("c1")
    case.severity_updates += [
        (at("2026-11-24 09:00"), "critical"),  # at the start itself: does not count
        (at("2026-11-24 10:00"), "urgent"),
        (at("2026-11-24 11:00"), "important"),
    ]
    start = at("2026-11-24 09:00")
    assert case.severity_since(start, at("2026-11-24 09:59"), "general") == "general"
    assert case.severity_since(start, at("2026-11-24 10:00"), "general") == "urgent"
    assert case.severity_since(start, at("2026-11-24 12:00"), "general") == "important"


def test_staff_at_is_the_latest_staffed_event_at_or_before() -> None:
    case = _cases(
        ev("case_opened", "2026-11-24 09:00", channel="phone", agent_id="a1", team="t1"),
        ev("complaint_registered", "2026-11-24 10:00", agent_id="a2"),
    )["c1"]
    assert case.staff_at(at("2026-11-24 08:59")) == (None, None)
    assert case.staff_at(at("2026-11-24 09:00")) == ("a1", "t1")
    assert case.staff_at(at("2026-11-24 09:59")) == ("a1", "t1")
    assert case.staff_at(at("2026-11-24 10:00")) == ("a2", None)


# --- pauses -------------------------------------------------------------------------------


def test_pauses_pair_pause_and_resume_marks() -> None:
    case = _cases(
        ev("case_paused", "2026-11-24 09:00"),
        ev("case_paused", "2026-11-24 09:30"),  # already paused: ignored
        ev("case_resumed", "2026-11-24 10:00"),
        ev("case_resumed", "2026-11-24 10:30"),  # not paused: ignored
        ev("case_paused", "2026-11-24 11:00"),
    )["c1"]
    assert case.pauses == [(at("2026-11-24 09:00"), at("2026-11-24 10:00")), (at("2026-11-24 11:00"), None)]
    assert case.pauses is case.pauses  # computed once


def test_an_empty_pause_is_dropped() -> None:
    t = at("2026-11-24 09:00")
    assert pause_intervals([(t, "pause"), (t, "resume")]) == []
    assert pause_intervals([]) == []
    assert pause_intervals([(t, "resume"), (t + dt.timedelta(minutes=1), "pause")]) == [
        (t + dt.timedelta(minutes=1), None)
    ]


def test_pause_events_on_other_cases_do_not_pause_this_one() -> None:
    cases = _cases(
        ev("case_opened", "2026-11-24 09:00", "c1", channel="phone"),
        ev("case_paused", "2026-11-24 09:30", "c2"),
    )
    assert cases["c1"].pauses == []
    assert cases["c2"].pauses == [(at("2026-11-24 09:30"), None)]


def test_build_cases_reads_events_in_the_order_given() -> None:
    # build_cases expects time-ordered events; ordered, the late case_updated wins.
    events = _ordered(
        ev("case_updated", "2026-11-24 11:00", severity="urgent"),
        ev("case_opened", "2026-11-24 09:00", channel="phone", severity="important"),
    )
    case = build_cases(events, None)["c1"]
    assert case.value_at("severity", at("2026-11-24 10:00")) == "important"
    assert case.value_at("severity", at("2026-11-24 11:00")) == "urgent"
