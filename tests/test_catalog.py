"""Scenario tests for E4-E12 on the default ruleset, and the clock mechanics they use.

2026-11-24 is a Tuesday; 2026-10-01..07 is China's National Day holiday and Sunday
2026-09-20 a make-up working day (from the `holidays` package).
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

import tierrules

from .conftest import at, ev

DEFAULT = tierrules.Engine(tierrules.load_ruleset())


def only(decision: tierrules.Decision, rule: str) -> tierrules.Obligation:
    [ob] = [o for o in decision.obligations if o.rule == rule]
    return ob


def escalations(decision: tierrules.Decision, rule: str) -> list[tierrules.Escalation]:
    return [e for e in decision.escalations if e.rule == rule]


# --- calendars: holidays and make-up days in the default business calendar ---------------


def test_e2_skips_national_day(engine: tierrules.Engine) -> None:
    d = engine.evaluate([ev("complaint_registered", "2026-09-30 17:30")], now=at("2026-09-30 17:31"))
    assert only(d, "E2.complaint-reply").due_at == at("2026-10-08 09:30")


def test_e2_counts_a_make_up_sunday(engine: tierrules.Engine) -> None:
    d = engine.evaluate([ev("complaint_registered", "2026-09-19 12:00")], now=at("2026-09-19 12:00"))
    assert only(d, "E2.complaint-reply").due_at == at("2026-09-20 10:00")  # Sunday is a working day


def test_explain_says_how_due_was_computed(engine: tierrules.Engine) -> None:
    d = engine.evaluate([ev("complaint_registered", "2026-11-28 15:00")], now=at("2026-11-28 15:00"))
    ob = only(d, "E2.complaint-reply")
    assert ob.explain["calendar"] == "business"
    assert ob.explain["clock"] == "working"
    assert ob.explain["target"] == "1 working hour"
    assert ob.explain["counting_from"] == "2026-11-30T09:00:00+08:00"
    assert "counting from 2026-11-30 09:00" in ob.explain["text"]
    assert ob.explain["text"].endswith("due 2026-11-30 10:00:00 Mon")


# --- E4 emergencies ------------------------------------------------------------------------


def test_e4_escalates_at_once_skipping_levels_with_priority(engine: tierrules.Engine) -> None:
    events = [
        ev("emergency_reported", "2026-11-24 10:00", category="property"),
        ev("emergency_reported", "2026-11-24 10:01", case="c2", category="personal_safety"),
    ]
    d = engine.evaluate(events, now=at("2026-11-24 10:02"))
    raised = escalations(d, "E4.emergency-escalation")
    assert [(e.case_id, e.at, e.to_level, e.priority) for e in raised] == [
        ("c1", at("2026-11-24 10:00"), 4, 2),
        ("c2", at("2026-11-24 10:01"), 4, 1),
    ]
    review = [o for o in d.obligations if o.rule == "E4.written-review"]
    assert {o.due_at for o in review} == {at("2026-11-25 10:00"), at("2026-11-25 10:01")}


def test_e4_written_review_met(engine: tierrules.Engine) -> None:
    events = [
        ev("emergency_reported", "2026-11-24 10:00", category="other"),
        ev("escalated", "2026-11-24 10:03", to_level=4),
        ev("incident_reviewed", "2026-11-25 09:00"),
    ]
    d = engine.evaluate(events, now=at("2026-11-26 00:00"))
    assert only(d, "E4.written-review").status == "met"
    assert only(d, "E4.emergency-escalation").status == "met"


# --- E6 plan turnaround (class C for a customer nobody has profiled) -------------------------


def test_e6_class_c_turnaround(engine: tierrules.Engine) -> None:
    d = engine.evaluate([ev("plan_requested", "2026-11-24 10:00")], now=at("2026-11-24 10:00"))
    assert only(d, "E6.first-draft").due_at == at("2026-11-24 14:00")  # 4 working hours
    assert only(d, "E6.final-plan").due_at == at("2026-11-26 16:00")  # 24 working hours: 8 + 9 + 7
    assert only(d, "E6.first-draft").explain["target_from"] == "within_by service_class=C"


# --- E7 back office --------------------------------------------------------------------------


def test_e7_targets_by_severity(engine: tierrules.Engine) -> None:
    events = [
        ev("backoffice_requested", "2026-11-24 10:00", case="a", severity="critical"),
        ev("backoffice_requested", "2026-11-24 10:00", case="b", severity="urgent"),
        ev("backoffice_requested", "2026-11-24 10:00", case="c"),
    ]
    d = engine.evaluate(events, now=at("2026-11-24 10:00"))
    dues = {o.case_id: o.due_at for o in d.obligations if o.source == "E7"}
    assert dues == {"a": at("2026-11-24 10:01"), "b": at("2026-11-24 10:05"), "c": at("2026-11-24 10:10")}


# --- E8 lobby waiting -------------------------------------------------------------------------


def test_e8_greeting_within_ten_seconds(engine: tierrules.Engine) -> None:
    arrived = ev("customer_arrived", "2026-11-24 10:00")
    late = {**ev("customer_greeted", "2026-11-24 10:00"), "at": "2026-11-24T10:00:11+08:00"}
    d = engine.evaluate([arrived, late], now=at("2026-11-24 10:01"))
    ob = only(d, "E8.greet")
    assert ob.due_at == at("2026-11-24 10:00") + dt.timedelta(seconds=10)
    assert ob.status == "breached"


def test_e8_waiting_amenities_and_cancellation(engine: tierrules.Engine) -> None:
    events = [
        ev("customer_arrived", "2026-11-24 10:00"),
        ev("customer_greeted", "2026-11-24 10:00"),
        ev("amenity_offered", "2026-11-24 10:06", kind="tea"),
        ev("customer_served", "2026-11-24 10:20"),
    ]
    d = engine.evaluate(events, now=at("2026-11-24 11:00"))
    assert only(d, "E8.water").status == "met"
    # No reading material by 10:15 while still waiting: breached; later offers were never owed.
    assert only(d, "E8.reading").status == "breached"
    assert not [o for o in d.obligations if o.rule in ("E8.progress-update", "E8.snack-or-apology")]
    # The water window opens at 5 minutes: the 50% warning.
    assert [(w.rule, w.at) for w in d.warnings if w.rule == "E8.water"] == [
        ("E8.water", at("2026-11-24 10:05"))
    ]


# --- E9 complaints ------------------------------------------------------------------------------


def test_e9_resolution_escalation_chain(engine: tierrules.Engine) -> None:
    events = [ev("complaint_registered", "2026-11-20 10:00")]  # a Friday
    d = engine.evaluate(events, now=at("2026-11-24 12:00"))
    chain = escalations(d, "E9.complaint-resolution")
    assert [(e.at, e.to_level, e.step) for e in chain] == [
        (at("2026-11-22 10:00"), 2, 0),
        (at("2026-11-23 10:00"), 3, 1),
    ]
    assert only(d, "E9.complaint-response").status == "breached"


def test_e9_waiting_two_minutes(engine: tierrules.Engine) -> None:
    events = [ev("customer_arrived", "2026-11-24 10:00"), ev("customer_served", "2026-11-24 10:02")]
    assert only(engine.evaluate(events, now=at("2026-11-24 10:30")), "E9.waiting").status == "met"


# --- E10/E11 reception and follow-ups ------------------------------------------------------------


def test_e10_key_problem_applies_to_critical_cases_only(engine: tierrules.Engine) -> None:
    events = [
        ev("case_opened", "2026-11-24 10:00", case="k", channel="visit", severity="critical"),
        ev("case_opened", "2026-11-24 10:00", case="g", channel="visit"),
    ]
    d = engine.evaluate(events, now=at("2026-11-24 10:00"))
    key = [o for o in d.obligations if o.rule == "E10.key-problem"]
    assert [(o.case_id, o.due_at) for o in key] == [("k", at("2026-11-27 10:00"))]


def test_e11_follow_ups_after_reception(engine: tierrules.Engine) -> None:
    events = [
        ev("reception_completed", "2026-11-24 16:00"),
        ev("follow_up_contacted", "2026-11-25 10:00", channel="phone"),
        ev("service_delivered", "2026-11-25 11:00", stage="initial"),
    ]
    d = engine.evaluate(events, now=at("2026-11-27 17:00"))
    assert only(d, "E11.feedback-call").status == "met"
    assert only(d, "E10.follow-up").status == "met"
    assert only(d, "E11.feedback-email").status == "breached"  # due 11-26 16:00
    assert only(d, "E11.initial-service").status == "met"
    assert only(d, "E11.mid-term-service").due_at == at("2026-12-01 16:00")
    assert only(d, "E11.tracking").due_at == at("2026-11-30 11:00")  # 3 working days, over a weekend


# --- E12 scheduling courtesy -----------------------------------------------------------------------


def test_e12_due_before_the_visit(engine: tierrules.Engine) -> None:
    expected = at("2026-11-26 15:00").isoformat()
    events = [ev("visit_scheduled", "2026-11-24 09:00", expected_at=expected, importance="important")]
    d = engine.evaluate(events, now=at("2026-11-24 09:00"))
    assert only(d, "E12.staff-ready-important").due_at == at("2026-11-26 14:45")
    assert only(d, "E12.invitation").due_at == at("2026-11-25 15:00")


def test_e12_booked_too_late_is_owed_at_the_visit(engine: tierrules.Engine) -> None:
    """Issue 11: a same-day booking was breached the instant it was made; it now owes the
    courtesy before the visit itself (staff in place by 09:05, the invitation before it)."""
    expected = at("2026-11-24 09:05").isoformat()
    d = engine.evaluate(
        [ev("visit_scheduled", "2026-11-24 09:00", expected_at=expected)], now=at("2026-11-24 09:00")
    )
    for rule in ("E12.staff-ready-reception", "E12.invitation"):
        ob = only(d, rule)
        assert ob.due_at == at("2026-11-24 09:05"), rule
        assert ob.status == "pending"
        assert "booked less than" in ob.explain["text"]


def test_e12_visit_already_past_when_booked_is_due_at_once(engine: tierrules.Engine) -> None:
    expected = at("2026-11-24 08:55").isoformat()
    d = engine.evaluate(
        [ev("visit_scheduled", "2026-11-24 09:00", expected_at=expected)], now=at("2026-11-24 09:00")
    )
    ob = only(d, "E12.staff-ready-reception")
    assert ob.due_at == ob.started_at == at("2026-11-24 09:00")
    assert ob.status == "breached"
    assert "due at once" in ob.explain["text"]


# --- pause / resume ---------------------------------------------------------------------------------


def test_pause_extends_a_pausable_clock_by_the_paused_time(engine: tierrules.Engine) -> None:
    events = [
        ev("complaint_registered", "2026-11-24 10:00"),
        ev("case_paused", "2026-11-24 12:00", reason="waiting on customer"),
        ev("case_resumed", "2026-11-24 15:30"),
    ]
    d = engine.evaluate(events, now=at("2026-11-24 16:00"))
    resolution = only(d, "E9.complaint-resolution")  # pausable, 48 hours wall clock
    assert resolution.due_at == at("2026-11-26 13:30")
    assert resolution.paused_for == dt.timedelta(hours=3, minutes=30)
    assert resolution.explain["pauses"] == [
        {"from": "2026-11-24T12:00:00+08:00", "to": "2026-11-24T15:30:00+08:00"}
    ]
    # E9's 24-hour response is not pausable: its clock ran on.
    assert only(d, "E9.complaint-response").due_at == at("2026-11-25 10:00")
    assert only(d, "E9.complaint-response").paused_for == dt.timedelta(0)


def test_open_pause_holds_the_clock(engine: tierrules.Engine) -> None:
    events = [ev("complaint_registered", "2026-11-24 10:00"), ev("case_paused", "2026-11-24 12:00")]
    d = engine.evaluate(events, now=at("2026-11-30 12:00"))
    ob = only(d, "E9.complaint-resolution")
    assert ob.status == "pending"
    assert ob.paused
    assert ob.paused_for == dt.timedelta(days=6)
    assert ob.due_at == at("2026-11-30 12:00") + dt.timedelta(hours=46)
    assert not escalations(d, "E9.complaint-resolution")


def test_pause_after_the_due_time_does_not_rescue_a_breach(engine: tierrules.Engine) -> None:
    events = [
        ev("complaint_registered", "2026-11-20 10:00"),
        ev("case_paused", "2026-11-23 10:00"),
        ev("case_resumed", "2026-11-23 11:00"),
    ]
    d = engine.evaluate(events, now=at("2026-11-23 12:00"))
    ob = only(d, "E9.complaint-resolution")
    assert (ob.status, ob.due_at, ob.paused_for) == ("breached", at("2026-11-22 10:00"), dt.timedelta(0))


# --- recompute on a severity change -------------------------------------------------------------


def _custom_engine() -> tierrules.Engine:
    """A ruleset whose target depends on severity, with warnings and a chain."""
    data = {
        "name": "custom",
        "version": "1",
        "timezone": "Asia/Shanghai",
        "default_calendar": "b",
        "calendars": {"b": {"timezone": "Asia/Shanghai", "hours": {"mon": ["09:00-18:00"]}}},
        "deadlines": [
            {
                "id": "X.respond",
                "source": "E5",
                "description": {"zh": "响应", "en": "respond"},
                "start": {"event": "case_opened"},
                "met_by": {"event": "case_responded"},
                "within_by": {"severity": {"critical": "30 minutes", "urgent": "1 hour"}},
                "within": "4 hours",
                "pausable": True,
                "warn_at": [50, 80],
                "escalate": {"to_level": 2, "every": "30 minutes", "top": 4},
            }
        ],
    }
    return tierrules.Engine(tierrules.load_ruleset(data))


def test_severity_change_recomputes_from_the_same_start() -> None:
    engine = _custom_engine()
    events = [
        ev("case_opened", "2026-11-24 10:00", channel="phone"),
        ev("case_updated", "2026-11-24 10:20", severity="urgent"),
    ]
    ob = only(engine.evaluate(events, now=at("2026-11-24 10:30")), "X.respond")
    assert ob.due_at == at("2026-11-24 11:00")
    assert ob.started_at == at("2026-11-24 10:00")
    [change] = ob.changes
    assert change["applied"] is True
    assert (change["to"], change["due_before"], change["due_after"]) == (
        "urgent",
        "2026-11-24T14:00:00+08:00",
        "2026-11-24T11:00:00+08:00",
    )


def test_stricter_target_already_passed_breaches_at_the_change() -> None:
    engine = _custom_engine()
    events = [
        ev("case_opened", "2026-11-24 10:00", channel="phone"),
        ev("case_updated", "2026-11-24 10:45", severity="critical"),
    ]
    d = engine.evaluate(events, now=at("2026-11-24 10:50"))
    ob = only(d, "X.respond")
    assert (ob.status, ob.due_at) == ("breached", at("2026-11-24 10:30"))
    [first] = d.escalations
    assert first.at == at("2026-11-24 10:45")  # the breach became known at the change


def test_breached_stays_breached_when_target_relaxes() -> None:
    engine = _custom_engine()
    events = [
        ev("case_opened", "2026-11-24 10:00", channel="phone", severity="critical"),
        ev("case_updated", "2026-11-24 11:00", severity="general"),
    ]
    ob = only(engine.evaluate(events, now=at("2026-11-24 11:30")), "X.respond")
    assert (ob.status, ob.due_at) == ("breached", at("2026-11-24 10:30"))
    assert ob.changes[0]["applied"] is False


def test_warnings_at_the_exact_minute_and_in_next_check_at() -> None:
    engine = _custom_engine()
    events = [ev("case_opened", "2026-11-24 10:00", channel="phone", severity="urgent")]
    d = engine.evaluate(events, now=at("2026-11-24 10:40"))
    assert [(w.percent, w.at) for w in d.warnings] == [(50, at("2026-11-24 10:30"))]
    assert d.next_check_at == at("2026-11-24 10:48")  # the 80% warning comes before the due time


def test_chain_climbs_one_level_per_interval_up_to_top() -> None:
    engine = _custom_engine()
    events = [ev("case_opened", "2026-11-24 10:00", channel="phone", severity="critical")]
    d = engine.evaluate(events, now=at("2026-11-24 12:00"))
    assert [(e.at, e.to_level) for e in d.escalations] == [
        (at("2026-11-24 10:30"), 2),
        (at("2026-11-24 11:00"), 3),
        (at("2026-11-24 11:30"), 4),
    ]
    assert d.next_check_at is None  # top reached: nothing more will happen


def test_chain_stops_when_met() -> None:
    engine = _custom_engine()
    events = [
        ev("case_opened", "2026-11-24 10:00", channel="phone", severity="critical"),
        ev("case_responded", "2026-11-24 10:40"),
    ]
    d = engine.evaluate(events, now=at("2026-11-24 12:00"))
    assert [e.to_level for e in d.escalations] == [2]
    assert only(d, "X.respond").met_at == at("2026-11-24 10:40")


# --- properties of pauses ------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 4000), st.integers(1, 600)), max_size=4),
)
def test_pauses_extend_a_wall_clock_target_by_exactly_the_paused_time(spans: list[tuple[int, int]]) -> None:
    """Pausing never makes a deadline earlier, and a wall-clock deadline moves by paused_for."""
    t0 = at("2026-11-24 10:00")
    now = t0 + dt.timedelta(minutes=6000)
    base = [ev("complaint_registered", "2026-11-24 10:00")]
    marks: list[dict[str, object]] = []
    for start, length in sorted(spans):
        p0 = t0 + dt.timedelta(minutes=start)
        marks.append({"type": "case_paused", "at": p0.isoformat(), "case_id": "c1"})
        marks.append(
            {"type": "case_resumed", "at": (p0 + dt.timedelta(minutes=length)).isoformat(), "case_id": "c1"}
        )
    engine = DEFAULT
    plain = only(engine.evaluate(base, now=now), "E9.complaint-resolution")
    paused = only(engine.evaluate(base + marks, now=now), "E9.complaint-resolution")
    assert paused.due_at >= plain.due_at
    assert paused.due_at - plain.due_at == paused.paused_for


# --- tiers feed the clocks: E5 for level 1, E6 by class, the 24x7 calendar ----------------------------


def _platinum(case: str = "c1") -> list[dict[str, object]]:
    profile = {
        "type": "customer_profile",
        "at": at("2026-01-10 10:00").isoformat(),
        "customer_id": "vip-1",
        "spend_12m": 420000,
        "visits_12m": 15,
        "tenure_months": 30,
    }
    return [profile]


def test_e5_applies_to_level_one_customers_by_severity(engine: tierrules.Engine) -> None:
    events = [
        *_platinum(),
        ev("case_opened", "2026-11-24 10:00", channel="phone", severity="urgent", customer_id="vip-1"),
        ev("case_opened", "2026-11-24 10:00", case="plain", channel="phone", severity="urgent"),
    ]
    d = engine.evaluate(events, now=at("2026-11-24 10:10"))
    e5 = {(o.case_id, o.rule): o.due_at for o in d.obligations if o.source == "E5"}
    assert e5 == {
        ("c1", "E5.response"): at("2026-11-24 10:30"),
        ("c1", "E5.resolution"): at("2026-11-24 14:00"),
    }
    assert [t.tier for t in d.tiers] == ["platinum"]


def test_e5_recomputes_when_severity_drops_and_escalates_in_a_chain(engine: tierrules.Engine) -> None:
    events = [
        *_platinum(),
        ev("case_opened", "2026-11-24 10:00", channel="phone", severity="critical", customer_id="vip-1"),
        ev("case_updated", "2026-11-24 10:10", severity="general"),
    ]
    d = engine.evaluate(events, now=at("2026-11-24 13:00"))
    response = only(d, "E5.response")
    assert response.due_at == at("2026-11-24 12:00")  # general: 2 hours from the same start
    assert response.changes[0]["applied"] is True
    chain = [(e.at, e.to_level) for e in escalations(d, "E5.response")]
    assert chain == [(at("2026-11-24 12:00"), 2), (at("2026-11-24 12:30"), 3), (at("2026-11-24 13:00"), 4)]


def test_level_one_complaint_runs_on_the_24x7_calendar(engine: tierrules.Engine) -> None:
    events = [
        *_platinum(),
        ev("case_opened", "2026-11-28 14:00", channel="phone", customer_id="vip-1"),
        ev("complaint_registered", "2026-11-28 15:00"),  # a Saturday
    ]
    d = engine.evaluate(events, now=at("2026-11-28 15:00"))
    ob = only(d, "E2.complaint-reply")
    assert ob.due_at == at("2026-11-28 16:00")
    assert ob.explain["calendar"] == "always"


def test_e6_class_a_turnaround(engine: tierrules.Engine) -> None:
    events = [
        *_platinum(),
        ev("case_opened", "2026-11-28 09:00", channel="visit", customer_id="vip-1"),
        ev("plan_requested", "2026-11-28 10:00"),
    ]
    d = engine.evaluate(events, now=at("2026-11-28 10:00"))
    assert only(d, "E6.first-draft").due_at == at("2026-11-28 10:30")
    assert only(d, "E6.final-plan").due_at == at("2026-11-28 12:00")  # 2 working hours on 24x7
