"""Issue 11: deadlines that follow a case as it changes, and a decision a host can act on.

Scenario tests on the default ruleset (2026-11-24 is a Tuesday; business hours Mon-Fri
09:00-18:00, Asia/Shanghai), one group per kind of change.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import tierrules

from .conftest import at, ev

DEFAULT = tierrules.Engine(tierrules.load_ruleset())


def rules(decision: tierrules.Decision) -> dict[str, list[tierrules.Obligation]]:
    out: dict[str, list[tierrules.Obligation]] = {}
    for ob in decision.obligations:
        out.setdefault(ob.rule, []).append(ob)
    return out


def only(decision: tierrules.Decision, rule: str) -> tierrules.Obligation:
    [ob] = rules(decision)[rule]
    return ob


# --- severity and tier changes start, stop or retarget clocks -------------------------------------


def test_feedback_raised_to_urgent_starts_the_progress_report_at_the_change() -> None:
    events = [
        ev("feedback_received", "2026-11-24 10:00", severity="general"),
        ev("case_updated", "2026-11-24 11:00", severity="urgent"),
    ]
    d = DEFAULT.evaluate(events, now=at("2026-11-24 11:30"))
    progress = only(d, "E3.progress-report")
    assert (progress.started_at, progress.due_at, progress.status) == (
        at("2026-11-24 11:00"),
        at("2026-11-25 11:00"),
        "pending",
    )
    # The 5-working-day result is owed for general feedback only: it stopped at 11:00.
    assert "E3.general-result" not in rules(d)
    assert only(d, "E3.feedback-response").started_at == at("2026-11-24 10:00")


def test_feedback_lowered_to_general_stops_the_progress_report_and_starts_the_result() -> None:
    events = [
        ev("feedback_received", "2026-11-24 10:00", severity="urgent"),
        ev("case_updated", "2026-11-24 12:00", severity="general"),
    ]
    d = DEFAULT.evaluate(events, now=at("2026-11-24 12:30"))
    assert "E3.progress-report" not in rules(d)
    result = only(d, "E3.general-result")
    assert result.started_at == at("2026-11-24 12:00")
    assert result.due_at == at("2026-12-01 12:00")  # 5 working days


def test_a_clock_breached_before_the_change_stays_breached() -> None:
    events = [
        ev("feedback_received", "2026-11-24 10:00", severity="urgent"),
        ev("case_updated", "2026-11-26 10:00", severity="general"),
    ]
    d = DEFAULT.evaluate(events, now=at("2026-11-26 10:30"))
    progress = only(d, "E3.progress-report")
    assert (progress.status, progress.due_at) == ("breached", at("2026-11-25 10:00"))
    assert only(d, "E3.general-result").started_at == at("2026-11-26 10:00")


def test_raised_to_critical_starts_the_key_problem_clock() -> None:
    events = [
        ev("case_opened", "2026-11-24 10:00", channel="phone"),
        ev("case_updated", "2026-11-24 14:00", severity="critical"),
    ]
    d = DEFAULT.evaluate(events, now=at("2026-11-24 15:00"))
    key = only(d, "E10.key-problem")
    assert (key.started_at, key.due_at) == (at("2026-11-24 14:00"), at("2026-11-27 14:00"))
    # urgent -> critical keeps the same clock (both owe it): no restart.
    events.append(ev("case_updated", "2026-11-24 16:00", severity="urgent"))
    assert only(DEFAULT.evaluate(events, now=at("2026-11-24 16:30")), "E10.key-problem").started_at == at(
        "2026-11-24 14:00"
    )


def test_a_customer_becoming_diamond_after_case_opened_gets_the_top_tier_response() -> None:
    profile = {
        "type": "customer_profile",
        "at": at("2026-11-24 10:05").isoformat(),
        "customer_id": "C1",
        "spend_12m": 1_500_000,
        "visits_12m": 30,
        "tenure_months": 40,
    }
    events = [
        ev("case_opened", "2026-11-24 10:00", channel="phone", customer_id="C1", severity="urgent"),
        profile,
    ]
    d = DEFAULT.evaluate(events, now=at("2026-11-24 10:10"))
    response = only(d, "E5.response")
    assert (response.started_at, response.due_at) == (at("2026-11-24 10:05"), at("2026-11-24 10:35"))
    assert only(d, "E5.resolution").started_at == at("2026-11-24 10:05")


def test_retroactive_start_counts_from_the_start_event() -> None:
    data: dict[str, Any] = {
        "name": "retro",
        "version": "1",
        "timezone": "Asia/Shanghai",
        "default_calendar": "always",
        "calendars": {"always": {"timezone": "Asia/Shanghai", "always_open": True}},
        "deadlines": [
            {
                "id": "K.key",
                "source": "E10",
                "description": {"zh": "关键问题", "en": "key problem"},
                "applies_to": {"severity": ["critical"]},
                "start": {"event": "case_opened"},
                "met_by": {"event": "case_resolved"},
                "within": "2 hours",
                "on_attribute_change": "retroactive",
                "escalate": {"to_level": 2},
            }
        ],
    }
    engine = tierrules.Engine(tierrules.load_ruleset(data))
    events = [
        ev("case_opened", "2026-11-24 10:00", channel="phone"),
        ev("case_updated", "2026-11-24 11:00", severity="critical"),
    ]
    d = engine.evaluate(events, now=at("2026-11-24 11:30"))
    assert (only(d, "K.key").started_at, only(d, "K.key").due_at) == (
        at("2026-11-24 10:00"),
        at("2026-11-24 12:00"),
    )
    # Raised after the retroactive due time had passed: breached, escalated at the change.
    late = [
        ev("case_opened", "2026-11-24 10:00", channel="phone"),
        ev("case_updated", "2026-11-24 13:00", severity="critical"),
    ]
    d = engine.evaluate(late, now=at("2026-11-24 13:30"))
    assert only(d, "K.key").status == "breached"
    assert [e.at for e in d.escalations] == [at("2026-11-24 13:00")]


# --- several ways to meet --------------------------------------------------------------------------


def test_a_resolution_answers_the_complaint() -> None:
    events = [
        ev("complaint_registered", "2026-11-24 10:00"),
        ev("complaint_resolved", "2026-11-24 10:20", id="res-1"),
    ]
    d = DEFAULT.evaluate(events, now=at("2026-11-26 12:00"))
    for rule in ("E2.complaint-reply", "E9.complaint-response", "E9.complaint-resolution"):
        ob = only(d, rule)
        assert (ob.status, ob.met_at, ob.met_event_id) == ("met", at("2026-11-24 10:20"), "res-1"), rule
    assert d.escalations == []


def test_feedback_resolved_meets_the_response_and_the_progress_report() -> None:
    events = [
        ev("feedback_received", "2026-11-24 10:00", severity="important"),
        ev("feedback_resolved", "2026-11-24 15:00"),
    ]
    d = DEFAULT.evaluate(events, now=at("2026-11-26 12:00"))
    assert {o.rule: o.status for o in d.obligations} == {
        "E3.feedback-response": "met",
        "E3.progress-report": "met",
    }


# --- visits: pairing, reschedules, cancellations ----------------------------------------------------


def visit(when: str, expected: str, visit_id: str, **fields: Any) -> dict[str, Any]:
    return ev("visit_scheduled", when, expected_at=at(expected).isoformat(), visit_id=visit_id, **fields)


def test_a_rescheduled_visit_moves_its_clocks() -> None:
    events = [
        visit("2026-11-23 09:00", "2026-11-26 15:00", "v1", importance="important"),
        ev(
            "visit_rescheduled",
            "2026-11-24 09:00",
            visit_id="v1",
            expected_at=at("2026-11-27 15:00").isoformat(),
        ),
    ]
    d = DEFAULT.evaluate(events, now=at("2026-11-26 15:00"))
    staff = only(d, "E12.staff-ready-important")
    assert (staff.due_at, staff.status) == (at("2026-11-27 14:45"), "pending")
    assert staff.changes[0]["applied"] is True
    assert only(d, "E12.invitation").due_at == at("2026-11-26 15:00")


def test_a_reschedule_after_the_breach_does_not_undo_it() -> None:
    events = [
        visit("2026-11-23 09:00", "2026-11-26 15:00", "v1", importance="important"),
        ev(
            "visit_rescheduled",
            "2026-11-26 16:00",
            visit_id="v1",
            expected_at=at("2026-11-27 15:00").isoformat(),
        ),
    ]
    d = DEFAULT.evaluate(events, now=at("2026-11-26 16:30"))
    staff = only(d, "E12.staff-ready-important")
    assert (staff.status, staff.due_at) == ("breached", at("2026-11-26 14:45"))
    assert staff.changes[0]["applied"] is False


def test_staff_in_place_meets_only_its_own_visit() -> None:
    events = [
        visit("2026-11-23 09:00", "2026-11-26 15:00", "v1"),
        visit("2026-11-23 09:00", "2026-11-26 16:00", "v2"),
        ev("staff_in_place", "2026-11-26 15:40", visit_id="v2"),
    ]
    d = DEFAULT.evaluate(events, now=at("2026-11-26 17:00"))
    staff = {o.start_event_id or o.id: o.status for o in rules(d)["E12.staff-ready-reception"]}
    assert sorted(staff.values()) == ["breached", "met"]
    by_due = {o.due_at: o.status for o in rules(d)["E12.staff-ready-reception"]}
    assert by_due == {at("2026-11-26 14:50"): "breached", at("2026-11-26 15:50"): "met"}


def test_a_cancelled_visit_owes_nothing_more() -> None:
    events = [
        visit("2026-11-23 09:00", "2026-11-26 15:00", "v1"),
        ev("visit_cancelled", "2026-11-24 09:00", visit_id="v1"),
    ]
    d = DEFAULT.evaluate(events, now=at("2026-11-26 17:00"))
    assert [o.rule for o in d.obligations if o.source == "E12"] == []


# --- escalation levels ----------------------------------------------------------------------------


def test_escalating_to_a_lower_level_does_not_meet_the_upgrade() -> None:
    events = [
        ev("escalation_needed", "2026-11-24 10:00", agent_level=2),
        ev("escalated", "2026-11-24 10:05", to_level=1),
    ]
    d = DEFAULT.evaluate(events, now=at("2026-11-24 10:30"))
    e1 = only(d, "E1.escalate")
    assert (e1.status, e1.met_at) == ("breached", None)
    assert [e.to_level for e in d.escalations] == [3]
    events.append(ev("escalated", "2026-11-24 10:08", to_level=3))
    assert only(DEFAULT.evaluate(events, now=at("2026-11-24 10:30")), "E1.escalate").status == "met"


def test_an_emergency_is_met_only_at_the_emergency_team() -> None:
    events = [
        ev("emergency_reported", "2026-11-24 10:00", category="property"),
        ev("escalated", "2026-11-24 10:01", to_level=2),
    ]
    d = DEFAULT.evaluate(events, now=at("2026-11-24 10:30"))
    assert only(d, "E4.emergency-escalation").status == "breached"
    events.append(ev("escalated", "2026-11-24 10:02", to_level=4))
    assert (
        only(DEFAULT.evaluate(events, now=at("2026-11-24 10:30")), "E4.emergency-escalation").status == "met"
    )


def test_the_top_level_escalates_to_itself_and_undeclared_levels_are_refused() -> None:
    events = [ev("escalation_needed", "2026-11-24 10:00", agent_level=4)]
    d = DEFAULT.evaluate(events, now=at("2026-11-24 10:30"))
    assert [e.to_level for e in d.escalations] == [4]
    with pytest.raises(tierrules.EventError) as err:
        DEFAULT.evaluate(
            [ev("escalation_needed", "2026-11-24 10:00", agent_level=5)], now=at("2026-11-24 10:30")
        )
    assert (err.value.index, err.value.field) == (0, "agent_level")
    assert "not a level of this ruleset" in str(err.value)


# --- warnings and next checks --------------------------------------------------------------------


def test_the_complaint_reply_warns_at_half_and_four_fifths() -> None:
    d = DEFAULT.evaluate([ev("complaint_registered", "2026-11-24 10:00")], now=at("2026-11-24 10:50"))
    warnings = [(w.percent, w.at) for w in d.warnings if w.rule == "E2.complaint-reply"]
    assert warnings == [(50, at("2026-11-24 10:30")), (80, at("2026-11-24 10:48"))]
    assert d.next_check_at == at("2026-11-24 11:00")


def test_next_check_by_case_lists_every_case() -> None:
    events = [
        ev("complaint_registered", "2026-11-24 10:00", case="a"),
        ev("case_paused", "2026-11-24 10:00", case="b"),
    ]
    d = DEFAULT.evaluate(events, now=at("2026-11-24 10:10"))
    assert d.next_check_by_case == {"a": at("2026-11-24 10:30"), "b": None}
    assert d.next_check_at == at("2026-11-24 10:30")


def test_an_open_name_window_is_a_next_check() -> None:
    events = [
        ev(
            "case_opened",
            "2026-11-24 10:00",
            channel="phone",
            customer_name="欧阳娜娜",
            customer_gender="female",
        ),
        ev("call_answered", "2026-11-24 10:00", rings=1),
        ev("utterance", "2026-11-24 10:00:02", speaker="agent", text="您好，这里是星河银行，我是客服小李。"),
    ]
    # the opening (20 s from the agent's first turn) is still open: Q1/Q2 are judged then
    d = DEFAULT.evaluate(events, now=at("2026-11-24 10:00:20"))
    assert d.next_check_by_case["c1"] == at("2026-11-24 10:00:22")
    d = DEFAULT.evaluate(events, now=at("2026-11-24 10:00:30"))
    assert d.next_check_by_case["c1"] == at("2026-11-24 10:01")  # 60 s after the answer
    later = DEFAULT.evaluate(events, now=at("2026-11-24 10:01"))
    assert any(v.source == "Q4" for v in later.violations)


def test_paused_for_counts_working_time_with_wall_time_beside_it() -> None:
    events = [
        ev("complaint_registered", "2026-11-24 10:00"),
        ev("case_paused", "2026-11-24 17:00"),
        ev("case_resumed", "2026-11-25 10:00"),
    ]
    d = DEFAULT.evaluate(events, now=at("2026-11-25 11:00"))
    # E9 resolution is a wall clock: a pause costs its elapsed time.
    resolution = only(d, "E9.complaint-resolution")
    assert resolution.paused_for == resolution.paused_for_wall == dt.timedelta(hours=17)
    data = {
        "name": "working-pause",
        "version": "1",
        "timezone": "Asia/Shanghai",
        "default_calendar": "business",
        "calendars": {
            "business": {
                "timezone": "Asia/Shanghai",
                "hours": {d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
            }
        },
        "deadlines": [
            {
                "id": "W.plan",
                "source": "E6",
                "description": {"zh": "方案", "en": "plan"},
                "start": {"event": "plan_requested"},
                "met_by": {"event": "plan_confirmed"},
                "within": "8 working hours",
                "pausable": True,
            }
        ],
    }
    engine = tierrules.Engine(tierrules.load_ruleset(data))
    events = [
        ev("plan_requested", "2026-11-24 10:00"),
        ev("case_paused", "2026-11-24 17:00"),
        ev("case_resumed", "2026-11-25 10:00"),
    ]
    plan = only(engine.evaluate(events, now=at("2026-11-25 11:00")), "W.plan")
    assert plan.paused_for == dt.timedelta(hours=2)  # 17-18 and 09-10 were open hours
    assert plan.paused_for_wall == dt.timedelta(hours=17)


# --- stable ids, event ids, messages ---------------------------------------------------------------


def test_ids_stay_the_same_as_more_events_arrive() -> None:
    events = [
        ev("escalation_needed", "2026-11-24 10:00", agent_level=1, id="e-1"),
        ev("complaint_registered", "2026-11-24 10:01", id="e-2"),
    ]
    first = DEFAULT.evaluate(events, now=at("2026-11-24 12:00"))
    more = [*events, ev("complaint_registered", "2026-11-24 12:30", id="e-3")]
    second = DEFAULT.evaluate(more, now=at("2026-11-24 13:00"))
    ids = lambda d: {i.id for i in (*d.obligations, *d.escalations, *d.warnings)}  # noqa: E731
    assert ids(first) <= ids(second)
    assert all(i.id for i in (*second.escalations, *second.warnings))
    assert {o.start_event_id for o in second.obligations} == {"e-1", "e-2", "e-3"}
    [esc] = [e for e in first.escalations if e.rule == "E1.escalate"]
    assert esc.id == "c1/E1.escalate/1/escalation/0" and esc.obligation == "c1/E1.escalate/1"


def test_every_item_has_a_message_in_both_languages() -> None:
    events = [
        {
            "type": "customer_profile",
            "at": at("2026-11-01 10:00").isoformat(),
            "customer_id": "C1",
            "spend_12m": 420000,
            "visits_12m": 15,
            "tenure_months": 30,
        },
        ev("case_opened", "2026-11-24 10:00", channel="phone", customer_id="C1"),
        ev("escalation_needed", "2026-11-24 10:00", agent_level=1),
        ev("call_answered", "2026-11-24 10:00", rings=5),
        ev("utterance", "2026-11-24 10:00:03", speaker="agent", text="喂"),
        ev("call_ended", "2026-11-24 10:02", hung_up_by="agent", id="end-1"),
    ]
    d = DEFAULT.evaluate(events, now=at("2026-11-24 11:00"))
    items = [*d.obligations, *d.escalations, *d.warnings, *d.violations, *d.tiers, *d.scores]
    assert d.escalations and d.warnings and d.violations and d.tiers and d.scores
    for item in items:
        assert item.message is not None and item.message.zh and item.message.en, item
    assert all(v.id for v in d.violations)


def test_violation_ids_are_stable_when_the_call_goes_on() -> None:
    events = [
        ev("case_opened", "2026-11-24 10:00", channel="phone"),
        ev("call_answered", "2026-11-24 10:00", rings=1),
        ev("utterance", "2026-11-24 10:00:03", speaker="agent", text="您好，这是规定。", id="u-1"),
    ]
    first = DEFAULT.evaluate(events, now=at("2026-11-24 10:01"))
    more = [*events, ev("utterance", "2026-11-24 10:00:30", speaker="agent", text="我不知道。", id="u-2")]
    second = DEFAULT.evaluate(more, now=at("2026-11-24 10:01"))
    q5 = lambda d: {v.id: v.event_id for v in d.violations if v.source == "Q5"}  # noqa: E731
    assert set(q5(first)) < set(q5(second))
    assert set(q5(second).values()) == {"u-1", "u-2"}


# --- ordering ------------------------------------------------------------------------------------


def test_same_instant_turns_are_judged_in_the_order_sent_or_by_seq() -> None:
    morning = "2026-11-24 09:00:05"
    opened = [
        ev("case_opened", "2026-11-24 09:00", channel="lobby"),
        ev("customer_arrived", "2026-11-24 09:00"),
    ]
    hello = ev("utterance", morning, speaker="agent", text="晚上好，欢迎光临星河银行。")
    good = ev("utterance", morning, speaker="agent", text="早上好，欢迎光临星河银行。")

    def greeting_faults(events: list[dict[str, Any]]) -> int:
        d = DEFAULT.evaluate(events, now=at("2026-11-24 09:10"))
        return sum(v.source == "Q1" for v in d.violations)

    assert greeting_faults([*opened, hello, good]) == 1  # the first words were the wrong greeting
    assert greeting_faults([*opened, good, hello]) == 0
    # seq decides whatever the order sent
    assert greeting_faults([*opened, {**good, "seq": 2}, {**hello, "seq": 1}]) == 1


def test_same_instant_emergency_escalations_are_listed_most_urgent_first() -> None:
    events = [
        ev("emergency_reported", "2026-11-24 10:00", case="a", category="other"),
        ev("emergency_reported", "2026-11-24 10:00", case="b", category="personal_safety"),
        ev("emergency_reported", "2026-11-24 10:00", case="c", category="property"),
    ]
    d = DEFAULT.evaluate(events, now=at("2026-11-24 10:01"))
    assert [(e.case_id, e.priority) for e in d.escalations] == [("b", 1), ("c", 2), ("a", 4)]
