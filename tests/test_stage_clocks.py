"""The clock stage on its own: clock arithmetic (clocks.py) and one clock's outcome (obligations.py).

Everything here is pure Python over a :class:`BusinessCalendar`: the matcher has already said
which events start, meet, cancel and reschedule a rule. Each test pins one behaviour the
modules' docstrings describe, with a Mon-Fri 09:00-18:00 calendar (no holidays) in China
Standard Time and small hand-built starts, stops and cases.

2026-11-23 is a Monday; 2026-11-24 a Tuesday; 2026-11-27 a Friday.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tierrules.calendars import BusinessCalendar, parse_hours
from tierrules.evaluation.cases import Case
from tierrules.evaluation.clocks import (
    MAX_LISTED_PAUSES,
    Clock,
    Run,
    Target,
    as_json_pauses,
    due_time,
    due_with_pauses,
    explain_text,
    fmt_delta,
    pause_intervals,
    run_budget,
    warning_instants,
)
from tierrules.evaluation.obligations import (
    Outcome,
    RuleContext,
    Started,
    Stop,
    Stops,
    before,
    clock_outcome,
)
from tierrules.events import EventBase, parse_event
from tierrules.ruleset.model import DeadlineRule
from tierrules.vocabulary import Duration, Text

from .conftest import CST, at, ev

UTC = dt.timezone.utc
SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = BusinessCalendar("office", "Asia/Shanghai", {d: [parse_hours("09:00-18:00")] for d in range(5)})
ALWAYS = BusinessCalendar.always_open("always", "Asia/Shanghai")
LEVELS = {n: Text(zh=f"第{n}级", en=f"level {n}") for n in (1, 2, 3, 4)}
M = dt.timedelta(minutes=1)
H = dt.timedelta(hours=1)


def d(text: str) -> Duration:
    return Duration.model_validate(text)


def utc(text: str) -> dt.datetime:
    """A CST wall time as a UTC instant (what the evaluation stage hands these modules)."""
    return at(text).astimezone(UTC)


# --- clocks.py: due_time ------------------------------------------------------------------


def test_wall_clock_hours_are_elapsed_time_across_a_dst_change() -> None:
    start = dt.datetime(2026, 3, 29, 1, 30, tzinfo=BERLIN)  # 02:00 CET jumps to 03:00 CEST
    due = due_time(start, d("1 hour"), OFFICE)
    assert due.astimezone(UTC) - start.astimezone(UTC) == H
    assert (due.hour, due.minute, due.tzinfo) == (3, 30, BERLIN)


def test_wall_clock_days_keep_the_local_time() -> None:
    start = dt.datetime(2026, 3, 28, 12, 0, tzinfo=BERLIN)
    due = due_time(start, d("1 day"), OFFICE)
    assert (due.day, due.hour) == (29, 12)
    assert due.astimezone(UTC) - start.astimezone(UTC) == 23 * H


def test_wall_clock_ignores_the_calendar() -> None:
    assert due_time(at("2026-11-27 17:30"), d("1 hour"), OFFICE) == at("2026-11-27 18:30")
    assert due_time(utc("2026-11-27 17:30"), d("30 minutes"), OFFICE) == utc("2026-11-27 18:00")


def test_working_time_counts_only_open_time() -> None:
    assert due_time(at("2026-11-24 17:30"), d("1 working hour"), OFFICE) == at("2026-11-25 09:30")
    assert due_time(at("2026-11-27 17:30"), d("1 working hour"), OFFICE) == at("2026-11-30 09:30")
    assert due_time(at("2026-11-24 20:00"), d("30 working minutes"), OFFICE) == at("2026-11-25 09:30")


def test_working_days_land_at_the_same_offset_into_the_day() -> None:
    assert due_time(at("2026-11-23 10:00"), d("5 working days"), OFFICE) == at("2026-11-30 10:00")
    assert due_time(at("2026-11-27 19:00"), d("1 working day"), OFFICE) == at("2026-12-01 09:00")


# --- clocks.py: Clock and Target ----------------------------------------------------------


def test_a_working_clock_measures_and_adds_open_time() -> None:
    working, wall = Clock(OFFICE, True), Clock(OFFICE, False)
    a, b = at("2026-11-27 17:00"), at("2026-11-30 10:00")
    assert working.measure(a, b) == 2 * H
    assert wall.measure(a, b) == 65 * H
    assert working.measure(b, a) == wall.measure(b, a) == dt.timedelta(0)
    assert working.add(a, 2 * H) == b
    assert wall.add(a, 2 * H) == at("2026-11-27 19:00")


def test_a_target_budget_is_its_span_or_for_days_the_open_time_to_the_due_day() -> None:
    hours = Target(d("2 working hours"), OFFICE, "within")
    assert hours.budget(at("2026-11-27 17:00")) == 2 * H
    days = Target(d("1 working day"), OFFICE, "within")
    # Fri 17:00 + 1 working day is Mon 17:00: Fri 17-18 and Mon 09-17 are open.
    assert days.budget(at("2026-11-27 17:00")) == 9 * H
    assert days.budget(at("2026-11-23 09:00")) == 9 * H


def test_a_target_share_is_whole_seconds() -> None:
    hour = Target(d("1 hour"), OFFICE, "within")
    assert hour.share(at("2026-11-24 10:00"), 50) == 30 * M
    assert hour.share(at("2026-11-24 10:00"), 80) == 48 * M
    minute = Target(d("1 minute"), OFFICE, "within")
    assert minute.share(at("2026-11-24 10:00"), 33) == dt.timedelta(seconds=19)  # 19.8 → 19
    day = Target(d("1 working day"), OFFICE, "within")
    assert day.share(at("2026-11-24 10:00"), 50) == dt.timedelta(hours=4, minutes=30)
    assert hour.within_text == "1 hour" and str(d("2 working days")) == "2 working days"


# --- clocks.py: run_budget, due_with_pauses -----------------------------------------------


def test_a_budget_without_pauses_is_clock_add() -> None:
    run = run_budget(Clock(OFFICE, True), at("2026-11-24 17:00"), 2 * H, [], at("2026-11-24 17:00"))
    assert run.due == at("2026-11-25 10:00")
    assert run.pauses == [] and run.paused_for == dt.timedelta(0) and not run.open_pause


def test_pauses_are_skipped_and_counted() -> None:
    start, now = at("2026-11-24 10:00"), at("2026-11-24 12:00")
    run = run_budget(Clock(OFFICE, False), start, H, [(at("2026-11-24 10:20"), at("2026-11-24 10:50"))], now)
    assert run.due == at("2026-11-24 11:30")
    assert run.pauses == [(at("2026-11-24 10:20"), at("2026-11-24 10:50"))]
    assert run.paused_for == run.paused_for_wall == 30 * M


def test_a_pause_over_a_closing_costs_working_time_but_lasts_elapsed_time() -> None:
    pause = (at("2026-11-24 17:30"), at("2026-11-25 09:30"))
    run = run_budget(Clock(OFFICE, True), at("2026-11-24 17:00"), H, [pause], at("2026-11-26 00:00"))
    assert run.paused_for == H  # 17:30-18:00 and 09:00-09:30
    assert run.paused_for_wall == 16 * H
    assert run.due == at("2026-11-25 10:00")  # 30 minutes before the pause, 30 after it


def test_a_pause_that_began_before_the_start_counts_from_the_start() -> None:
    pause = (at("2026-11-24 09:50"), at("2026-11-24 10:10"))
    run = run_budget(Clock(OFFICE, False), at("2026-11-24 10:00"), H, [pause], at("2026-11-24 12:00"))
    assert run.due == at("2026-11-24 11:10")
    assert run.pauses == [(at("2026-11-24 10:00"), at("2026-11-24 10:10"))]
    assert run.paused_for == 10 * M


def test_a_pause_after_the_budget_ran_out_does_not_count() -> None:
    pause = (at("2026-11-24 11:30"), at("2026-11-24 12:00"))
    run = run_budget(Clock(OFFICE, False), at("2026-11-24 10:00"), H, [pause], at("2026-11-24 13:00"))
    assert run.due == at("2026-11-24 11:00")
    assert run.pauses == []


def test_an_open_pause_stops_the_clock_at_now() -> None:
    pause = (at("2026-11-24 10:20"), None)
    run = run_budget(Clock(OFFICE, False), at("2026-11-24 10:00"), H, [pause], at("2026-11-24 11:00"))
    assert run.open_pause
    assert run.due == at("2026-11-24 11:40")  # assumes it resumes now, 40 minutes left
    assert run.pauses == [(at("2026-11-24 10:20"), None)]
    assert run.paused_for == run.paused_for_wall == 40 * M


def test_only_the_first_pauses_are_listed_but_all_are_counted() -> None:
    start = at("2026-11-24 10:00")
    pauses = [(start + k * 2 * M, start + (k * 2 + 1) * M) for k in range(MAX_LISTED_PAUSES + 5)]
    run = run_budget(Clock(OFFICE, False), start, 3 * H, pauses, at("2026-11-24 15:00"))
    assert len(run.pauses) == MAX_LISTED_PAUSES
    assert run.pauses_omitted == 5
    assert run.paused_for == (MAX_LISTED_PAUSES + 5) * M
    assert run.due == start + 3 * H + (MAX_LISTED_PAUSES + 5) * M


def test_note_pause_counts_an_open_pause_up_to_open_at() -> None:
    run = Run(due=at("2026-11-24 10:00"))
    run.note_pause(
        at("2026-11-24 10:00"), at("2026-11-24 10:00"), Clock(OFFICE, False), open_at=at("2026-11-24 10:15")
    )
    assert run.pauses == [(at("2026-11-24 10:00"), None)]
    assert run.paused_for == 15 * M


def test_a_paused_day_target_lands_on_an_opening_not_a_closing() -> None:
    start = at("2026-11-23 12:00")
    pauses = [(at("2026-11-23 12:00"), at("2026-11-23 18:00"))]
    clock, now = Clock(OFFICE, True), at("2026-11-26 00:00")
    budget = Target(d("1 working day"), OFFICE, "within").budget(start)
    assert run_budget(clock, start, budget, pauses, now).due == at("2026-11-24 18:00")
    assert run_budget(clock, start, budget, pauses, now, days_target=True).due == at("2026-11-25 09:00")


def test_due_with_pauses_is_exact_day_arithmetic_when_nothing_paused() -> None:
    target = Target(d("5 working days"), OFFICE, "within")
    start = at("2026-11-23 10:00")
    before_start = [(at("2026-11-20 10:00"), at("2026-11-20 11:00"))]
    for pauses in ([], before_start):
        run = due_with_pauses(target, start, pauses, at("2026-11-23 10:00"))
        assert run.due == due_time(start, target.within, OFFICE) == at("2026-11-30 10:00")
        assert run.pauses == []


def test_due_with_pauses_skips_a_pause() -> None:
    target = Target(d("1 working hour"), OFFICE, "within")
    pauses = [(at("2026-11-24 10:10"), at("2026-11-24 10:40"))]
    run = due_with_pauses(target, at("2026-11-24 10:00"), pauses, at("2026-11-24 12:00"))
    assert run.due == at("2026-11-24 11:30")
    assert run.paused_for == 30 * M


def test_warning_instants_are_shares_of_the_budget_with_pauses_skipped() -> None:
    target = Target(d("1 hour"), OFFICE, "within")
    start, now = at("2026-11-24 10:00"), at("2026-11-24 10:00")
    assert warning_instants(target, start, [], now, [50, 80]) == [
        (50, at("2026-11-24 10:30")),
        (80, at("2026-11-24 10:48")),
    ]
    paused = [(at("2026-11-24 10:10"), at("2026-11-24 10:40"))]
    assert warning_instants(target, start, paused, now, [50, 80]) == [
        (50, at("2026-11-24 11:00")),
        (80, at("2026-11-24 11:18")),
    ]
    working = Target(d("1 working hour"), OFFICE, "within")
    assert warning_instants(working, at("2026-11-24 17:30"), [], now, [50, 80]) == [
        (50, at("2026-11-24 18:00")),
        (80, at("2026-11-25 09:18")),
    ]


# --- clocks.py: the explanation -----------------------------------------------------------


def test_explain_says_where_counting_began_on_a_closed_calendar() -> None:
    target = Target(d("1 working hour"), OFFICE, "within")
    start = at("2026-11-24 07:30")
    text = explain_text(target=target, start=start, run=Run(due=at("2026-11-24 10:00")), tz=SHANGHAI)
    assert text == (
        "started 2026-11-24 07:30:00 Tue; calendar office closed; counting from 2026-11-24 09:00 Tue; "
        "target 1 working hour (within); due 2026-11-24 10:00:00 Tue"
    )


def test_explain_on_an_open_calendar_and_on_the_wall_clock() -> None:
    run = Run(due=at("2026-11-24 11:00"))
    working = Target(d("1 working hour"), OFFICE, "within_by severity=urgent")
    text = explain_text(target=working, start=at("2026-11-24 10:00"), run=run, tz=SHANGHAI)
    assert "; calendar office open; target 1 working hour (within_by severity=urgent);" in text
    wall = Target(d("1 hour"), OFFICE, "within")
    text = explain_text(target=wall, start=at("2026-11-24 10:00"), run=run, tz=SHANGHAI)
    assert "; wall clock (calendar ignored); " in text


def test_explain_lists_pauses_and_what_they_cost() -> None:
    run = Run(
        due=at("2026-11-24 11:30"),
        paused_for=30 * M,
        pauses=[(at("2026-11-24 10:10"), at("2026-11-24 10:40")), (at("2026-11-24 11:00"), None)],
        pauses_omitted=3,
    )
    target = Target(d("1 hour"), OFFICE, "within")
    text = explain_text(target=target, start=at("2026-11-24 10:00"), run=run, tz=SHANGHAI)
    assert (
        "; paused 11-24 10:10–11-24 10:40, 11-24 11:00–(still paused) and 3 more, 0h30m not counted; " in text
    )


def test_fmt_delta_and_json_pauses() -> None:
    assert fmt_delta(dt.timedelta(hours=26, minutes=5)) == "26h05m"
    assert fmt_delta(dt.timedelta(seconds=30)) == "0h00m30s"
    pauses = [(utc("2026-11-24 10:10"), utc("2026-11-24 10:40")), (utc("2026-11-24 11:00"), None)]
    assert as_json_pauses(pauses, CST) == [
        {"from": "2026-11-24T10:10:00+08:00", "to": "2026-11-24T10:40:00+08:00"},
        {"from": "2026-11-24T11:00:00+08:00", "to": None},
    ]
    assert as_json_pauses([], CST) == []


def test_pause_intervals_pair_marks() -> None:
    t = at("2026-11-24 10:00")
    marks = [
        (t, "pause"),
        (t + M, "pause"),
        (t + 2 * M, "resume"),
        (t + 3 * M, "resume"),
        (t + 4 * M, "pause"),
    ]
    assert pause_intervals(marks) == [(t, t + 2 * M), (t + 4 * M, None)]


# --- obligations.py -----------------------------------------------------------------------

_TEXT = {"zh": "说明", "en": "text"}


def rule(**fields: Any) -> DeadlineRule:
    base: dict[str, Any] = {
        "id": "R.reply",
        "source": "E2",
        "description": _TEXT,
        "start": {"event": "complaint_registered"},
        "met_by": {"event": "complaint_replied"},
        "within": "1 hour",
    }
    return DeadlineRule.model_validate({**base, **fields})


def ctx(**fields: Any) -> RuleContext:
    return RuleContext(rule(**fields), OFFICE, {"office": OFFICE, "always": ALWAYS}, SHANGHAI, LEVELS)


def event(event_type: str, when: str, **fields: Any) -> EventBase:
    return parse_event(ev(event_type, when, **fields), 0)


def start(when: str = "2026-11-24 10:00", event_type: str = "complaint_registered", **fields: Any) -> Started:
    return Started(event(event_type, when, **fields), 1, utc(when))


def stop(event_type: str, when: str, **fields: Any) -> Stop:
    return Stop(utc(when), event(event_type, when, **fields))


def outcome(
    context: RuleContext,
    started: Started,
    now: str,
    stops: Stops = Stops(),  # noqa: B008  (frozen)
    case: Case | None = None,
) -> Outcome:
    found = clock_outcome(context, started, case or Case("c1"), stops, utc(now))
    assert found is not None
    return found


def test_a_fixed_target_and_the_watched_attributes() -> None:
    plain = ctx()
    assert plain.fixed == Target(d("1 hour"), OFFICE, "within")
    assert plain.watched == ()
    by = ctx(
        within_by={"severity": {"urgent": "30 minutes"}},
        calendar_by={"service_level": {"1": "always"}},
    )
    assert by.fixed is None
    assert by.watched == ("service_level", "severity")


def test_the_target_follows_the_case_attributes_and_overrides() -> None:
    context = ctx(
        within="2 working hours",
        within_by={"severity": {"urgent": "1 working hour"}},
        calendar_by={"service_level": {"1": "always"}},
    )
    case = Case("c1")
    t0 = utc("2026-11-24 10:00")
    assert context.target(case, t0) == Target(d("2 working hours"), OFFICE, "within")
    case.set("severity", t0, "urgent")
    case.set("service_level", t0, 1)
    assert context.target(case, t0) == Target(d("1 working hour"), ALWAYS, "within_by severity=urgent")
    overridden = context.target(case, t0, {"severity": "general"})
    assert overridden.within == d("2 working hours") and overridden.calendar is ALWAYS


def test_before_is_wall_clock_time_before_an_anchor() -> None:
    anchor = utc("2026-11-24 10:00")
    assert before(anchor, d("30 minutes"), SHANGHAI) == utc("2026-11-24 09:30")
    assert before(anchor, d("2 days"), SHANGHAI) == utc("2026-11-22 10:00")
    berlin = dt.datetime(2026, 3, 30, 12, 0, tzinfo=BERLIN).astimezone(UTC)
    assert before(berlin, d("2 days"), BERLIN) == dt.datetime(2026, 3, 28, 12, 0, tzinfo=BERLIN)


def test_a_clock_met_on_time() -> None:
    stops = Stops(met=(stop("complaint_replied", "2026-11-24 10:40", id="reply"),))
    found = outcome(ctx(), start(id="reg"), "2026-11-24 12:00", stops)
    ob = found.obligation
    assert (ob.id, ob.status, ob.met_at, ob.due_at) == (
        "c1/R.reply/1",
        "met",
        at("2026-11-24 10:40"),
        at("2026-11-24 11:00"),
    )
    assert (ob.start_event_id, ob.met_event_id) == ("reg", "reply")
    assert found.next_checks == ()
    assert [w.percent for w in found.warnings] == [50]  # 10:30 passed before the 10:40 reply


def test_the_first_met_at_or_after_the_start_meets_it_and_late_is_breached() -> None:
    stops = Stops(
        met=(
            stop("complaint_replied", "2026-11-24 09:00"),  # before the start: not this clock's
            stop("complaint_replied", "2026-11-24 11:30"),
            stop("complaint_replied", "2026-11-24 11:40"),
        )
    )
    ob = outcome(ctx(), start(), "2026-11-24 12:00", stops).obligation
    assert (ob.status, ob.met_at) == ("breached", at("2026-11-24 11:30"))


def test_a_met_event_at_the_start_instant_meets_it() -> None:
    stops = Stops(met=(stop("complaint_replied", "2026-11-24 10:00"),))
    ob = outcome(ctx(), start(), "2026-11-24 12:00", stops).obligation
    assert (ob.status, ob.met_at) == ("met", at("2026-11-24 10:00"))


def test_a_pending_clock_checks_again_at_its_due_time_and_warnings() -> None:
    found = outcome(ctx(), start(), "2026-11-24 10:35")
    assert found.obligation.status == "pending"
    assert [w.percent for w in found.warnings] == [50]
    assert found.warnings[0].at == at("2026-11-24 10:30")
    assert found.warnings[0].id == "c1/R.reply/1/warning/50"
    assert sorted(found.next_checks) == [utc("2026-11-24 10:48"), utc("2026-11-24 11:00")]


def test_an_unmet_clock_past_due_is_breached_and_checks_nothing() -> None:
    found = outcome(ctx(), start(), "2026-11-24 11:00")
    assert found.obligation.status == "breached"
    assert found.next_checks == ()
    assert found.escalations == ()  # the rule does not escalate


def test_a_cancel_before_due_means_nothing_is_owed() -> None:
    context = ctx(cancelled_by={"event": "case_resolved"})
    early = Stops(cancel=(stop("case_resolved", "2026-11-24 10:30"),))
    assert clock_outcome(context, start(), Case("c1"), early, utc("2026-11-24 12:00")) is None
    late = Stops(cancel=(stop("case_resolved", "2026-11-24 11:30"),))
    assert outcome(context, start(), "2026-11-24 12:00", late).obligation.status == "breached"


def test_a_rule_that_stopped_applying_before_due_owes_nothing() -> None:
    started = Started(event("complaint_registered", "2026-11-24 10:00"), 1, utc("2026-11-24 10:00"), None)
    ended = Started(started.event, 1, started.at, started.at, utc("2026-11-24 10:40"))
    assert clock_outcome(ctx(), ended, Case("c1"), Stops(), utc("2026-11-24 12:00")) is None
    after_due = Started(started.event, 1, started.at, started.at, utc("2026-11-24 11:10"))
    kept = outcome(ctx(), after_due, "2026-11-24 12:00")
    assert kept.obligation.status == "breached" and kept.next_checks == ()


def test_a_pausable_clock_skips_the_case_pauses() -> None:
    case = Case("c1", pause_marks=[(utc("2026-11-24 10:10"), "pause"), (utc("2026-11-24 10:40"), "resume")])
    ob = outcome(ctx(pausable=True), start(), "2026-11-24 11:10", case=case).obligation
    assert (ob.status, ob.due_at, ob.paused_for) == ("pending", at("2026-11-24 11:30"), 30 * M)
    ignored = outcome(ctx(), start(), "2026-11-24 11:10", case=case).obligation
    assert (ignored.status, ignored.due_at) == ("breached", at("2026-11-24 11:00"))


def test_a_clock_paused_now_is_pending_and_checks_nothing() -> None:
    case = Case("c1", pause_marks=[(utc("2026-11-24 10:10"), "pause")])
    found = outcome(ctx(pausable=True), start(), "2026-11-24 12:00", case=case)
    ob = found.obligation
    assert ob.paused and ob.status == "pending"
    assert ob.due_at == at("2026-11-24 12:50")  # 50 minutes left when it resumes now
    assert found.next_checks == ()


def test_a_target_change_mid_clock_retargets_it() -> None:
    context = ctx(within="2 hours", within_by={"severity": {"urgent": "30 minutes"}})
    case = Case("c1")
    case.set("severity", utc("2026-11-24 10:10"), "urgent")
    ob = outcome(context, start(), "2026-11-24 10:20", case=case).obligation
    assert ob.due_at == at("2026-11-24 10:30")
    [change] = ob.changes
    assert change["applied"] is True
    assert (change["attribute"], change["to"], change["target_before"], change["target_after"]) == (
        "severity",
        "urgent",
        "2 hours",
        "30 minutes",
    )


def test_an_obligation_breached_before_the_change_stays_breached() -> None:
    context = ctx(within="30 minutes", within_by={"severity": {"general": "2 hours"}})
    case = Case("c1")
    case.set("severity", utc("2026-11-24 09:00"), "urgent")
    case.set("severity", utc("2026-11-24 10:45"), "general")
    ob = outcome(context, start(), "2026-11-24 11:00", case=case).obligation
    assert ob.status == "breached"
    assert ob.due_at == at("2026-11-24 10:30")
    [change] = ob.changes
    assert change["applied"] is False and change["note"] == "already breached; stays breached"


def _two_attribute_rule() -> RuleContext:
    return ctx(
        within="1 working hour",
        within_by={"severity": {"urgent": "3 working hours"}},
        calendar_by={"service_level": {"1": "always"}},
    )


def test_changes_of_two_attributes_in_time_order_retarget_to_the_latest() -> None:
    # The level changes first, then the severity: the clock ends on 3 working hours, 24x7.
    case = Case("c1")
    case.set("service_level", utc("2026-11-24 17:10"), 1)
    case.set("severity", utc("2026-11-24 17:20"), "urgent")
    ob = outcome(_two_attribute_rule(), start("2026-11-24 17:00"), "2026-11-24 17:30", case=case).obligation
    assert ob.due_at == at("2026-11-24 20:00")
    assert ob.explain["calendar"] == "always"


def test_changes_of_two_attributes_out_of_name_order_retarget_to_the_latest() -> None:
    # Regression: changes were applied attribute by attribute in name order, not in time order,
    # so the 17:10 severity change read the 17:10 level and undid the 17:20 move to 24x7.
    # The same end state (urgent, level 1 by 17:20), the severity changing first this time.
    case = Case("c1")
    case.set("severity", utc("2026-11-24 17:10"), "urgent")
    case.set("service_level", utc("2026-11-24 17:20"), 1)
    ob = outcome(_two_attribute_rule(), start("2026-11-24 17:00"), "2026-11-24 17:30", case=case).obligation
    assert [c["at"] for c in ob.changes] == sorted(c["at"] for c in ob.changes)
    assert ob.explain["calendar"] == "always"
    assert ob.due_at == at("2026-11-24 20:00")


def test_a_breach_escalates_and_the_chain_climbs_each_interval() -> None:
    context = ctx(escalate={"to_level": 2, "every": "30 minutes", "top": 4})
    found = outcome(context, start(), "2026-11-24 11:40")
    assert [(e.at, e.to_level, e.step) for e in found.escalations] == [
        (at("2026-11-24 11:00"), 2, 0),
        (at("2026-11-24 11:30"), 3, 1),
    ]
    assert found.next_checks == (utc("2026-11-24 12:00"),)  # level 4, the top, still to come
    topped = outcome(context, start(), "2026-11-24 13:00")
    assert [e.to_level for e in topped.escalations] == [2, 3, 4]
    assert topped.next_checks == ()


def test_a_met_clock_climbs_no_further() -> None:
    context = ctx(escalate={"to_level": 2, "every": "30 minutes", "top": 4})
    stops = Stops(met=(stop("complaint_replied", "2026-11-24 11:15"),))
    found = outcome(context, start(), "2026-11-24 13:00", stops)
    assert [e.to_level for e in found.escalations] == [2]


def test_skip_level_rules_escalate_at_start_with_their_priority() -> None:
    context = ctx(
        start={"event": "emergency_reported"},
        met_by={"event": "incident_reviewed"},
        escalate={
            "to_level": 3,
            "at_start": True,
            "priority": {"field": "category", "order": ["personal_safety", "property"]},
        },
    )
    started = start(event_type="emergency_reported", category="property")
    found = outcome(context, started, "2026-11-24 10:30")
    [first] = found.escalations
    assert (first.at, first.to_level, first.step, first.priority) == (at("2026-11-24 10:00"), 3, 0, 2)
    other = outcome(context, start(event_type="emergency_reported", category="other"), "2026-11-24 10:30")
    assert other.escalations[0].priority == 3  # not listed: after every listed value


def test_above_field_escalates_one_level_up_capped_at_the_highest() -> None:
    context = ctx(
        start={"event": "escalation_needed"},
        met_by={"event": "escalated"},
        escalate={"above_field": "agent_level"},
        met_requires_level=True,
    )
    found = outcome(context, start(event_type="escalation_needed", agent_level=2), "2026-11-24 11:00")
    assert [e.to_level for e in found.escalations] == [3]
    capped = outcome(context, start(event_type="escalation_needed", agent_level=4), "2026-11-24 11:00")
    assert [e.to_level for e in capped.escalations] == [4]


def test_met_requires_level_ignores_a_report_below_the_level() -> None:
    context = ctx(
        start={"event": "escalation_needed"},
        met_by={"event": "escalated"},
        escalate={"above_field": "agent_level"},
        met_requires_level=True,
    )
    stops = Stops(
        met=(
            stop("escalated", "2026-11-24 10:05", to_level=2),
            stop("escalated", "2026-11-24 10:20", to_level=3),
        )
    )
    ob = outcome(context, start(event_type="escalation_needed", agent_level=2), "2026-11-24 12:00", stops)
    assert ob.obligation.met_at == at("2026-11-24 10:20")


def test_pair_by_matches_the_same_visit_or_one_without() -> None:
    context = ctx(
        start={"event": "visit_scheduled"},
        met_by={"event": "staff_in_place"},
        within="1 hour",
        pair_by="visit_id",
    )
    started = start(
        event_type="visit_scheduled", expected_at=at("2026-11-25 10:00").isoformat(), visit_id="v1"
    )
    other = Stops(met=(stop("staff_in_place", "2026-11-24 10:10", visit_id="v2"),))
    assert outcome(context, started, "2026-11-24 10:30", other).obligation.met_at is None
    same = Stops(
        met=(
            stop("staff_in_place", "2026-11-24 10:10", visit_id="v2"),
            stop("staff_in_place", "2026-11-24 10:20", visit_id="v1"),
        )
    )
    assert outcome(context, started, "2026-11-24 10:30", same).obligation.met_at == at("2026-11-24 10:20")
    unnamed = Stops(met=(stop("staff_in_place", "2026-11-24 10:15"),))
    assert outcome(context, started, "2026-11-24 10:30", unnamed).obligation.met_at == at("2026-11-24 10:15")


def _due_before(**fields: Any) -> RuleContext:
    return ctx(
        start={"event": "visit_scheduled"},
        met_by={"event": "invitation_sent"},
        within=None,
        due_before={"field": "expected_at", "by": "1 day", "rescheduled_by": "visit_rescheduled"},
        pair_by="visit_id",
        **fields,
    )


def _visit(booked: str, visit: str) -> Started:
    return start(booked, "visit_scheduled", expected_at=at(visit).isoformat(), visit_id="v1")


def test_due_before_is_the_lead_time_before_the_visit() -> None:
    found = outcome(_due_before(), _visit("2026-11-20 10:00", "2026-11-24 15:00"), "2026-11-21 10:00")
    ob = found.obligation
    assert (ob.status, ob.due_at) == ("pending", at("2026-11-23 15:00"))
    assert ob.explain["text"] == "due 1 day before expected_at 2026-11-24 15:00"
    assert found.warnings == ()  # scheduling-courtesy clocks do not warn


def test_a_booking_too_late_for_the_lead_time_is_owed_at_the_visit() -> None:
    ob = outcome(_due_before(), _visit("2026-11-24 10:00", "2026-11-24 15:00"), "2026-11-24 11:00").obligation
    assert ob.due_at == at("2026-11-24 15:00")
    assert "booked less than 1 day ahead" in ob.explain["text"]


def test_a_booking_after_the_visit_is_owed_at_once() -> None:
    ob = outcome(_due_before(), _visit("2026-11-24 16:00", "2026-11-24 15:00"), "2026-11-24 16:00").obligation
    assert ob.due_at == at("2026-11-24 16:00")
    assert ob.status == "breached"


def test_a_reschedule_moves_the_due_time_with_the_visit() -> None:
    moved = stop(
        "visit_rescheduled", "2026-11-21 10:00", visit_id="v1", expected_at=at("2026-11-27 15:00").isoformat()
    )
    stops = Stops(reschedule=(moved,))
    ob = outcome(
        _due_before(), _visit("2026-11-20 10:00", "2026-11-24 15:00"), "2026-11-22 10:00", stops
    ).obligation
    assert ob.due_at == at("2026-11-26 15:00")
    [change] = ob.changes
    assert change["applied"] is True and change["due_after"] == "2026-11-26T15:00:00+08:00"


def test_a_retroactive_start_past_due_escalates_when_it_became_known() -> None:
    context = ctx(escalate={"to_level": 2})
    started = Started(
        event("complaint_registered", "2026-11-24 10:00"), 1, utc("2026-11-24 10:00"), utc("2026-11-24 12:00")
    )
    found = outcome(context, started, "2026-11-24 12:30")
    assert found.obligation.status == "breached"
    assert found.obligation.due_at == at("2026-11-24 11:00")
    assert [e.at for e in found.escalations] == [at("2026-11-24 12:00")]


def test_the_obligation_names_the_staff_of_the_start_or_else_the_case() -> None:
    case = Case("c1", customer_id="u1", staff=[(utc("2026-11-24 09:00"), "a1", "t1")])
    ob = outcome(ctx(), start(), "2026-11-24 10:10", case=case).obligation
    assert (ob.agent_id, ob.team, ob.customer_id) == ("a1", "t1", "u1")
    own = outcome(ctx(), start(agent_id="a9"), "2026-11-24 10:10", case=case).obligation
    assert (own.agent_id, own.team) == ("a9", None)


@pytest.mark.parametrize(
    ("now", "status"), [("2026-11-24 10:59", "pending"), ("2026-11-24 11:00", "breached")]
)
def test_due_at_now_is_breached(now: str, status: str) -> None:
    assert outcome(ctx(), start(), now).obligation.status == status
