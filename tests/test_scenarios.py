"""One scenario per default rule, taken from docs/policy.md E1-E3 (2026-11-24 is a Tuesday)."""

from __future__ import annotations

import tierrules

from .conftest import at, ev


def obligations(decision: tierrules.Decision, rule: str) -> list[tierrules.Obligation]:
    return [o for o in decision.obligations if o.rule == rule]


# E1: escalate within 10 minutes (wall clock), met by `escalated`.


def test_e1_pending_then_met_on_time(engine: tierrules.Engine) -> None:
    events = [ev("escalation_needed", "2026-11-24 10:00", agent_level=1)]
    d = engine.evaluate(events, now=at("2026-11-24 10:05"))
    [ob] = obligations(d, "E1.escalate")
    assert (ob.source, ob.status, ob.due_at) == ("E1", "pending", at("2026-11-24 10:10"))
    # The 80% warning (issue 11: E1-E3 warn at 50% and 80%) comes before the due time.
    assert [w.percent for w in d.warnings] == [50]
    assert d.next_check_at == at("2026-11-24 10:08")
    assert d.next_check_by_case == {"c1": at("2026-11-24 10:08")}
    assert d.escalations == []

    events.append(ev("escalated", "2026-11-24 10:09", to_level=2))
    d = engine.evaluate(events, now=at("2026-11-24 10:30"))
    [ob] = obligations(d, "E1.escalate")
    assert (ob.status, ob.met_at) == ("met", at("2026-11-24 10:09"))
    assert d.next_check_at is None


def test_e1_breach_escalates_above_agent_level(engine: tierrules.Engine) -> None:
    events = [ev("escalation_needed", "2026-11-24 22:00", agent_level=2)]  # wall clock: night counts
    d = engine.evaluate(events, now=at("2026-11-24 22:10"))
    [ob] = obligations(d, "E1.escalate")
    assert ob.status == "breached" and ob.met_at is None
    [esc] = d.escalations
    assert (esc.source, esc.to_level, esc.at, esc.case_id) == ("E1", 3, at("2026-11-24 22:10"), "c1")


def test_e1_met_late_is_breached_with_met_at(engine: tierrules.Engine) -> None:
    events = [
        ev("escalation_needed", "2026-11-24 10:00", agent_level=1),
        ev("escalated", "2026-11-24 10:11", to_level=2),
    ]
    d = engine.evaluate(events, now=at("2026-11-24 11:00"))
    [ob] = obligations(d, "E1.escalate")
    assert (ob.status, ob.met_at) == ("breached", at("2026-11-24 10:11"))
    assert [e.to_level for e in d.escalations] == [2]


# E2: complaint reply within 1 working hour (Mon-Fri 09:00-18:00, Asia/Shanghai).


def test_e2_weekday_evening_rolls_to_next_morning(engine: tierrules.Engine) -> None:
    d = engine.evaluate([ev("complaint_registered", "2026-11-24 17:30")], now=at("2026-11-24 17:31"))
    [ob] = obligations(d, "E2.complaint-reply")
    assert ob.due_at == at("2026-11-25 09:30")
    assert ob.due_at.isoformat() == "2026-11-25T09:30:00+08:00"


def test_e2_saturday_is_due_monday_ten(engine: tierrules.Engine) -> None:
    d = engine.evaluate([ev("complaint_registered", "2026-11-28 15:00")], now=at("2026-11-28 15:00"))
    assert obligations(d, "E2.complaint-reply")[0].due_at == at("2026-11-30 10:00")


def test_e2_early_morning_is_due_at_ten(engine: tierrules.Engine) -> None:
    d = engine.evaluate([ev("complaint_registered", "2026-11-24 07:00")], now=at("2026-11-24 07:00"))
    assert obligations(d, "E2.complaint-reply")[0].due_at == at("2026-11-24 10:00")


def test_e2_breach_escalates_to_supervisor(engine: tierrules.Engine) -> None:
    events = [ev("complaint_registered", "2026-11-24 10:00")]
    d = engine.evaluate(events, now=at("2026-11-24 11:00"))  # due == now: no longer pending
    [ob] = obligations(d, "E2.complaint-reply")
    assert ob.status == "breached"
    [esc] = d.escalations
    assert (esc.source, esc.to_level, esc.at) == ("E2", 2, at("2026-11-24 11:00"))
    assert "E2" in esc.reason


def test_e2_reply_before_registration_does_not_count(engine: tierrules.Engine) -> None:
    events = [
        ev("complaint_replied", "2026-11-24 09:00"),
        ev("complaint_registered", "2026-11-24 10:00"),
    ]
    d = engine.evaluate(events, now=at("2026-11-24 10:30"))
    assert obligations(d, "E2.complaint-reply")[0].status == "pending"


def test_e2_reply_in_another_case_does_not_count(engine: tierrules.Engine) -> None:
    events = [
        ev("complaint_registered", "2026-11-24 10:00", case="a"),
        ev("complaint_replied", "2026-11-24 10:10", case="b"),
    ]
    d = engine.evaluate(events, now=at("2026-11-24 10:30"))
    assert [(o.case_id, o.status) for o in obligations(d, "E2.complaint-reply")] == [("a", "pending")]


# E3: feedback response in 24 hours; progress (urgent/important) in 24 h; result (general) in 5 working days.


def test_e3_urgent_feedback_gets_response_and_progress_clocks(engine: tierrules.Engine) -> None:
    events = [ev("feedback_received", "2026-11-24 20:00", severity="urgent")]
    d = engine.evaluate(events, now=at("2026-11-24 21:00"))
    assert sorted((o.rule, o.due_at) for o in d.obligations) == [
        ("E3.feedback-response", at("2026-11-25 20:00")),
        ("E3.progress-report", at("2026-11-25 20:00")),
    ]
    assert d.next_check_at == at("2026-11-25 08:00")  # the 50% warnings


def test_e3_important_feedback_progress_met(engine: tierrules.Engine) -> None:
    events = [
        ev("feedback_received", "2026-11-24 10:00", severity="important"),
        ev("feedback_responded", "2026-11-24 12:00"),
        ev("progress_reported", "2026-11-25 09:00"),
    ]
    d = engine.evaluate(events, now=at("2026-11-26 10:00"))
    assert {o.rule: o.status for o in d.obligations} == {
        "E3.feedback-response": "met",
        "E3.progress-report": "met",
    }


def test_e3_general_feedback_result_in_five_working_days(engine: tierrules.Engine) -> None:
    events = [ev("feedback_received", "2026-11-24 10:00", severity="general")]  # Tuesday
    d = engine.evaluate(events, now=at("2026-11-24 10:00"))
    by_rule = {o.rule: o for o in d.obligations}
    assert set(by_rule) == {"E3.feedback-response", "E3.general-result"}
    assert by_rule["E3.general-result"].due_at == at("2026-12-01 10:00")  # next Tuesday
    assert by_rule["E3.feedback-response"].due_at == at("2026-11-25 10:00")


def test_e3_response_breach_raises_no_escalation(engine: tierrules.Engine) -> None:
    events = [ev("feedback_received", "2026-11-24 10:00", severity="general")]
    d = engine.evaluate(events, now=at("2026-11-26 10:00"))
    assert {o.rule: o.status for o in d.obligations}["E3.feedback-response"] == "breached"
    assert d.escalations == []  # the default ruleset names no escalation for E3


def test_two_complaints_in_one_case_get_numbered_obligations(engine: tierrules.Engine) -> None:
    events = [
        ev("complaint_registered", "2026-11-24 10:00"),
        ev("complaint_registered", "2026-11-24 11:00"),
        ev("complaint_replied", "2026-11-24 11:30"),
    ]
    d = engine.evaluate(events, now=at("2026-11-24 12:30"))
    assert [(o.id, o.status) for o in obligations(d, "E2.complaint-reply")] == [
        ("c1/E2.complaint-reply/1", "breached"),
        ("c1/E2.complaint-reply/2", "met"),
    ]


def test_decision_json_has_contract_keys(engine: tierrules.Engine) -> None:
    d = engine.evaluate([ev("complaint_registered", "2026-11-24 10:00")], now=at("2026-11-24 10:00"))
    data = d.model_dump(mode="json")
    assert set(data) >= {"obligations", "escalations", "violations", "tiers", "next_check_at"}
    assert set(data["obligations"][0]) >= {
        "id",
        "rule",
        "source",
        "case_id",
        "started_at",
        "due_at",
        "status",
        "met_at",
    }
    assert data["obligations"][0]["due_at"] == "2026-11-24T11:00:00+08:00"
    assert data["next_check_at"] == "2026-11-24T10:30:00+08:00"  # E2's 50% warning
    assert data["next_check_by_case"] == {"c1": "2026-11-24T10:30:00+08:00"}
