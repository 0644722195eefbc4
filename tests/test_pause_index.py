"""Two implementations, one answer: ``run_budget`` (bisection over running sums of a case's
pauses) against the walk over every pause it replaced, kept here as the reference.

Issue 14 asked for pause bookkeeping linear in the number of pauses: every pausable clock
of a case walked all of the case's pauses, so a case with many pauses and many clocks cost
their product. The walk below is that code, verbatim in what it computes.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from tierrules.calendars import BusinessCalendar, parse_hours
from tierrules.evaluation.clocks import Clock, Pause, Run, run_budget

OFFICE = BusinessCalendar("office", "Asia/Shanghai", {d: [parse_hours("09:00-18:00")] for d in range(5)})
SPLIT = BusinessCalendar(
    "split", "Asia/Shanghai", {d: [parse_hours("09:00-12:00"), parse_hours("13:30-17:30")] for d in range(6)}
)
CLOCKS = [Clock(OFFICE, True), Clock(OFFICE, False), Clock(SPLIT, True)]
BASE = dt.datetime(2026, 11, 23, 8, tzinfo=dt.timezone(dt.timedelta(hours=8)))  # a Monday


def walk(
    clock: Clock,
    start: dt.datetime,
    budget: dt.timedelta,
    pauses: list[Pause],
    now: dt.datetime,
    *,
    days_target: bool = False,
) -> Run:
    """The reference: every pause from the first one running at ``start``, in turn."""
    remaining, cursor, run = budget, start, Run(due=start)
    for p0, p1 in [p for p in pauses if p[1] is None or p[1] > start]:
        p0 = max(p0, cursor)
        available = clock.measure(cursor, p0)
        if remaining <= available:
            break
        remaining -= available
        if p1 is None:
            run.note_pause(p0, p0, clock, open_at=now)
            run.open_pause = True
            cursor = max(now, p0)
            break
        run.note_pause(p0, p1, clock)
        cursor = p1
    due = clock.add(cursor, remaining)
    if days_target and clock.working and run.pauses and not clock.calendar.is_open(due):
        due = clock.calendar.next_open(due)
    run.due = due
    return run


@st.composite
def pause_lists(draw: st.DrawFn) -> list[Pause]:
    """Pauses in time order that do not overlap (they may touch); the last may be open."""
    out: list[Pause] = []
    t = BASE + dt.timedelta(minutes=draw(st.integers(0, 600)))
    for _ in range(draw(st.integers(0, 60))):
        t += dt.timedelta(minutes=draw(st.sampled_from([0, 0, 1, 7, 30, 90, 600, 2000])))
        length = dt.timedelta(minutes=draw(st.sampled_from([0, 1, 5, 45, 300, 1500])))
        out.append((t, t + length))
        t += length
    if out and draw(st.booleans()):
        out[-1] = (out[-1][0], None)
    return out


@settings(max_examples=400, deadline=None)
@given(
    pauses=pause_lists(),
    clock=st.sampled_from(CLOCKS),
    start_minutes=st.integers(0, 6000),
    budget_minutes=st.integers(0, 20000),
    now_after=st.integers(0, 30000),
    days_target=st.booleans(),
)
def test_the_index_gives_what_the_walk_gives(
    pauses: list[Pause],
    clock: Clock,
    start_minutes: int,
    budget_minutes: int,
    now_after: int,
    days_target: bool,
) -> None:
    start = BASE + dt.timedelta(minutes=start_minutes)
    if pauses and pauses[-1][1] is None:
        now = max(start, pauses[-1][0]) + dt.timedelta(minutes=now_after)
    else:
        now = start + dt.timedelta(minutes=now_after)
    budget = dt.timedelta(minutes=budget_minutes)
    fast = run_budget(clock, start, budget, pauses, now, days_target=days_target)
    slow = walk(clock, start, budget, pauses, now, days_target=days_target)
    assert fast == slow


def test_many_clocks_over_many_pauses_stay_linear() -> None:
    """A case of 3,000 pauses and 1,000 clocks: each run bisects instead of walking."""
    clock = Clock(OFFICE, True)
    pauses: list[Pause] = [
        (BASE + dt.timedelta(minutes=4 * k + 1), BASE + dt.timedelta(minutes=4 * k + 2)) for k in range(3000)
    ]
    starts = [BASE + dt.timedelta(minutes=12 * k) for k in range(1000)]
    budget = dt.timedelta(days=30)
    now = BASE + dt.timedelta(days=20)
    for start in starts[::97]:  # the reference on a sample (it is the slow one)
        assert run_budget(clock, start, budget, pauses, now) == walk(clock, start, budget, pauses, now)
    runs = [run_budget(clock, start, budget, pauses, now) for start in starts]
    assert all(
        r.pauses_omitted + len(r.pauses) == sum(1 for p in pauses if p[1] is not None and p[1] > s)
        for r, s in zip(runs, starts, strict=True)
    )
