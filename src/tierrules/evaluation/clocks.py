"""Clock arithmetic for one obligation: targets, pauses, recomputation, warnings, chains.

Everything here is pure Python over :class:`BusinessCalendar`; durable_rules has already
decided which events start, stop and cancel which rules.

A target is turned into a *budget* of clock time (working time on the rule's calendar,
or elapsed time for wall-clock rules). The due time is where the budget runs out, with
paused intervals skipped. Recomputing a target keeps the start and the pauses and only
swaps the budget; an obligation already breached when the target changes stays breached.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from ..calendars import BusinessCalendar, add_wall_clock
from ..vocabulary import Duration

_ZERO = dt.timedelta(0)


_SPANS: dict[tuple[str, int], dt.timedelta] = {}


def _span(within: Duration) -> dt.timedelta:
    """``within`` as elapsed time (not for day units, which follow the local calendar)."""
    key = (within.unit, within.amount)
    found = _SPANS.get(key)
    if found is None:
        found = _SPANS[key] = dt.timedelta(**{within.unit: within.amount})
    return found


def due_time(start: dt.datetime, within: Duration, calendar: BusinessCalendar) -> dt.datetime:
    """When a clock started at ``start`` with target ``within`` falls due (no pauses)."""
    if not within.working:
        if within.unit == "days":
            return add_wall_clock(start, days=within.amount)
        if start.tzinfo is dt.timezone.utc:
            return start + _span(within)
        # Aware + timedelta is wall-clock arithmetic in Python: go through UTC.
        return (start.astimezone(dt.timezone.utc) + _span(within)).astimezone(start.tzinfo)
    if within.unit == "days":
        return calendar.add_working_days(start, within.amount)
    return calendar.add_working_time(start, dt.timedelta(**{within.unit: within.amount}))


@dataclass(frozen=True)
class Clock:
    """How a rule's time passes: on a calendar's open time, or on the wall clock."""

    calendar: BusinessCalendar
    working: bool

    def measure(self, a: dt.datetime, b: dt.datetime) -> dt.timedelta:
        if b <= a:
            return _ZERO
        return self.calendar.working_time_between(a, b) if self.working else b - a

    def add(self, t: dt.datetime, d: dt.timedelta) -> dt.datetime:
        return self.calendar.add_working_time(t, d) if self.working else t + d


@dataclass(frozen=True)
class Target:
    """A resolved target: the duration, the calendar, and where the choice came from."""

    within: Duration
    calendar: BusinessCalendar
    origin: str  # e.g. "within", "within_by severity=urgent"

    @functools.cached_property
    def within_text(self) -> str:
        return str(self.within)

    @functools.cached_property
    def _clock(self) -> Clock:
        return Clock(self.calendar, self.within.working)

    @functools.cached_property
    def _parts(self) -> dict[int, dt.timedelta]:
        """Budget shares by percentage, for targets whose budget does not depend on the start."""
        return {}

    def share(self, start: dt.datetime, percent: int) -> dt.timedelta:
        """``percent`` of the budget from ``start``, in whole seconds."""
        if self.within.unit == "days":
            budget = self.budget(start)
            return dt.timedelta(seconds=int(budget.total_seconds() * percent // 100))
        found = self._parts.get(percent)
        if found is None:
            budget = _span(self.within)
            found = self._parts[percent] = dt.timedelta(seconds=int(budget.total_seconds() * percent // 100))
        return found

    def clock(self) -> Clock:
        return self._clock

    def budget(self, start: dt.datetime) -> dt.timedelta:
        """The target as an amount of clock time from ``start``."""
        if self.within.unit == "days":
            # Day targets land on a calendar position, not a fixed amount of time.
            return self.clock().measure(start, due_time(start, self.within, self.calendar))
        return _span(self.within)


Pause = tuple[dt.datetime, dt.datetime | None]


# The explanation lists at most this many pauses (the total is still counted): a case with
# thousands of pauses must not make every pausable obligation thousands of entries long.
MAX_LISTED_PAUSES = 20


@dataclass(slots=True)
class Run:
    """Where a budget runs out, given pauses.

    ``paused_for`` is the clock time the pauses cost (working time on a working clock),
    ``paused_for_wall`` the elapsed time they lasted.
    """

    due: dt.datetime
    paused_for: dt.timedelta = _ZERO
    paused_for_wall: dt.timedelta = _ZERO
    pauses: list[Pause] = field(default_factory=list)
    pauses_omitted: int = 0  # pauses that counted but are not listed (MAX_LISTED_PAUSES)
    open_pause: bool = False  # the clock is stopped at ``now``; ``due`` assumes it resumes now

    def note_pause(
        self, p0: dt.datetime, p1: dt.datetime, clock: Clock, *, open_at: dt.datetime | None = None
    ) -> None:
        """Count one pause (``open_at``: still open, counted until then)."""
        end = p1 if open_at is None else max(open_at, p0)
        self.paused_for += clock.measure(p0, end)
        self.paused_for_wall += max(end - p0, _ZERO)
        if len(self.pauses) < MAX_LISTED_PAUSES:
            self.pauses.append((p0, None if open_at is not None else p1))
        else:
            self.pauses_omitted += 1


def run_budget(
    clock: Clock,
    start: dt.datetime,
    budget: dt.timedelta,
    pauses: Sequence[Pause],
    now: dt.datetime,
    *,
    days_target: bool = False,
) -> Run:
    """Spend ``budget`` of clock time from ``start``, skipping ``pauses``.

    The pauses in time order: the first one running at or after ``start`` (cut to start
    there), then each next one while budget is left when it begins. Where the budget runs out
    is found by bisection over running sums of the case's pauses (:class:`_PauseIndex`), so
    a case of thousands of pauses and hundreds of clocks costs each clock a logarithm, not a
    walk over every pause.
    """
    run = Run(due=start)
    cursor, remaining = start, budget
    first = _first_pause_after(pauses, start)
    if first < len(pauses):
        cursor, remaining = _spend_over_pauses(run, clock, start, budget, pauses, first, now)
    due = clock.add(cursor, remaining)
    if days_target and clock.working and run.pauses and not clock.calendar.is_open(due):
        # A day target lands on an opening, not the previous closing (same open time).
        due = clock.calendar.next_open(due)
    run.due = due
    return run


def _spend_over_pauses(
    run: Run,
    clock: Clock,
    start: dt.datetime,
    budget: dt.timedelta,
    pauses: Sequence[Pause],
    first: int,
    now: dt.datetime,
) -> tuple[dt.datetime, dt.timedelta]:
    """Note in ``run`` the pauses from ``first`` on that the budget reaches; returns where the
    clock runs again and the budget left there."""
    p0, p1 = max(pauses[first][0], start), pauses[first][1]
    available = clock.measure(start, p0)
    if budget <= available:
        return start, budget
    remaining = budget - available
    if p1 is None:  # open: the clock is stopped until now
        run.note_pause(p0, p0, clock, open_at=now)
        run.open_pause = True
        return max(now, p0), remaining
    run.note_pause(p0, p1, clock)
    index = _pause_index(pauses, clock)
    opened = index.open_time
    # Pause k is reached while the open time from the end of pause ``first`` to its start is
    # less than what is left: the first one not reached, by bisection (n: all are reached).
    n = len(pauses)
    end = bisect.bisect_left(opened, opened[first] + remaining, first + 1, n)
    remaining -= opened[end - 1] - opened[first]
    if end == n and end - 1 > first and pauses[-1][1] is None:
        index.note(run, first + 1, n - 1)
        at = index.starts[n - 1]
        run.note_pause(at, at, clock, open_at=now)
        run.open_pause = True
        return max(now, at), remaining
    index.note(run, first + 1, end)
    cursor = pauses[end - 1][1]
    assert cursor is not None  # only the last pause may be open, and it was handled above
    return cursor, remaining


@dataclass(frozen=True, slots=True)
class _PauseIndex:
    """Running sums over a case's pauses on one clock.

    ``starts[k]``: where pause k starts when reached from pause k-1 (they may touch);
    ``open_time[k]``: the clock's open time from the end of pause 0 to the start of pause k;
    ``paused[k]`` and ``wall[k]``: what the closed pauses before k cost, in clock and elapsed
    time. Sums of ``timedelta`` are exact, so these give what walking the pauses gives.
    """

    pauses: Sequence[Pause]
    starts: list[dt.datetime]
    open_time: list[dt.timedelta]
    paused: list[dt.timedelta]
    wall: list[dt.timedelta]

    @classmethod
    def build(cls, pauses: Sequence[Pause], clock: Clock) -> _PauseIndex:
        starts, open_time, paused, wall = [], [_ZERO], [_ZERO], [_ZERO]
        previous_end: dt.datetime | None = None
        for k, (p0, p1) in enumerate(pauses):
            at = p0 if previous_end is None else max(p0, previous_end)
            starts.append(at)
            if k:
                open_time.append(open_time[-1] + clock.measure(cast(dt.datetime, previous_end), at))
            closed = p1 is not None
            paused.append(paused[-1] + (clock.measure(at, p1) if p1 is not None else _ZERO))
            wall.append(wall[-1] + (max(p1 - at, _ZERO) if closed and p1 is not None else _ZERO))
            previous_end = p1
        return cls(pauses, starts, open_time, paused, wall)

    def note(self, run: Run, lo: int, hi: int) -> None:
        """Count the closed pauses ``lo`` to ``hi - 1`` in ``run``, listing what room is left."""
        if hi <= lo:
            return
        run.paused_for += self.paused[hi] - self.paused[lo]
        run.paused_for_wall += self.wall[hi] - self.wall[lo]
        listed = min(hi - lo, max(MAX_LISTED_PAUSES - len(run.pauses), 0))
        run.pauses.extend((self.starts[k], self.pauses[k][1]) for k in range(lo, lo + listed))
        run.pauses_omitted += hi - lo - listed


# Indexes of the pause lists in use, by list and clock. A decision's clocks share their
# case's list; the list itself is held so its id is not reused while it is cached.
_INDEXES: dict[tuple[int, int, bool], _PauseIndex] = {}
_INDEXES_KEPT = 256


def _pause_index(pauses: Sequence[Pause], clock: Clock) -> _PauseIndex:
    key = (id(pauses), id(clock.calendar), clock.working)
    found = _INDEXES.get(key)
    if found is None or found.pauses is not pauses or len(found.starts) != len(pauses):
        if len(_INDEXES) >= _INDEXES_KEPT:
            _INDEXES.clear()
        found = _INDEXES[key] = _PauseIndex.build(pauses, clock)
    return found


def _first_pause_after(pauses: Sequence[Pause], at: dt.datetime) -> int:
    """The index of the first pause still running at or after ``at`` (pauses are in time order
    and do not overlap, so their ends are sorted): a bisection, not a walk from the first."""
    lo, hi = 0, len(pauses)
    while lo < hi:
        mid = (lo + hi) // 2
        end = pauses[mid][1]
        if end is not None and end <= at:
            lo = mid + 1
        else:
            hi = mid
    return lo


def due_with_pauses(target: Target, start: dt.datetime, pauses: Sequence[Pause], now: dt.datetime) -> Run:
    """The due time of ``target`` from ``start``; exact day arithmetic when nothing paused."""
    if _first_pause_after(pauses, start) == len(pauses):
        return Run(due=due_time(start, target.within, target.calendar))
    clock = target.clock()
    run = run_budget(
        clock, start, target.budget(start), pauses, now, days_target=target.within.unit == "days"
    )
    if not run.pauses:
        run.due = due_time(start, target.within, target.calendar)
    return run


def warning_instants(
    target: Target, start: dt.datetime, pauses: Sequence[Pause], now: dt.datetime, percents: Sequence[int]
) -> list[tuple[int, dt.datetime]]:
    """When each percentage of the target's budget has elapsed (whole seconds, pauses skipped)."""
    clock = target.clock()
    paused = _first_pause_after(pauses, start) < len(pauses)
    out = []
    for pct in percents:
        part = target.share(start, pct)
        at = run_budget(clock, start, part, pauses, now).due if paused else clock.add(start, part)
        out.append((pct, at))
    return out


# Complexity C: one sentence from the clock's parts, each clause present only when it applies.
def explain_text(
    *,
    target: Target,
    start: dt.datetime,
    run: Run,
    tz: dt.tzinfo,
    counting_from: dt.datetime | None = None,
    local_start: dt.datetime | None = None,
    local_due: dt.datetime | None = None,
    within_text: str | None = None,
) -> str:
    """One line a person can check: start, where counting began, target, pauses, due.

    ``local_start``, ``local_due`` and ``within_text`` pass values the caller already has.
    """
    local = local_start if local_start is not None else start.astimezone(tz)
    if target.within.working:
        opening = counting_from or target.calendar.next_open(start)
        # Compared in UTC: aware == ignores or refuses DST folds (PEP 495).
        if opening.astimezone(dt.timezone.utc) != start.astimezone(dt.timezone.utc):
            clock = f"calendar {target.calendar.name} closed; counting from {_stamp(opening.astimezone(tz))}"
        else:
            clock = f"calendar {target.calendar.name} open"
    else:
        clock = "wall clock (calendar ignored)"
    paused = ""
    if run.pauses:
        spans = ", ".join(
            f"{a.astimezone(tz):%m-%d %H:%M}–{b.astimezone(tz):%m-%d %H:%M}"
            if b
            else f"{a.astimezone(tz):%m-%d %H:%M}–(still paused)"
            for a, b in run.pauses
        )
        more = f" and {run.pauses_omitted} more" if run.pauses_omitted else ""
        paused = f"; paused {spans}{more}, {fmt_delta(run.paused_for)} not counted"
    due = local_due if local_due is not None else run.due.astimezone(tz)
    return (
        f"started {_stamp(local, seconds=True)}; {clock}; "
        f"target {within_text or target.within} ({target.origin}){paused}; due {_stamp(due, seconds=True)}"
    )


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _stamp(t: dt.datetime, *, seconds: bool = False) -> str:
    """``%Y-%m-%d %H:%M[:%S] %a`` in the C locale, without strftime's cost on the hot path."""
    # %-formatting measured faster than f-strings, isoformat and strftime here.
    day = _WEEKDAYS[t.weekday()]
    if seconds:
        return "%04d-%02d-%02d %02d:%02d:%02d %s" % (t.year, t.month, t.day, t.hour, t.minute, t.second, day)  # noqa: UP031
    return "%04d-%02d-%02d %02d:%02d %s" % (t.year, t.month, t.day, t.hour, t.minute, day)  # noqa: UP031


def fmt_delta(d: dt.timedelta) -> str:
    total = int(d.total_seconds())
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    out = f"{hours}h{minutes:02d}m"
    return out + (f"{seconds:02d}s" if seconds else "")


def pause_intervals(events: Sequence[tuple[dt.datetime, str]]) -> list[Pause]:
    """Turn a case's time-ordered (at, 'pause'|'resume') marks into pause intervals."""
    out: list[Pause] = []
    opened: dt.datetime | None = None
    for at, kind in events:
        if kind == "pause" and opened is None:
            opened = at
        elif kind == "resume" and opened is not None:
            if at > opened:
                out.append((opened, at))
            opened = None
    if opened is not None:
        out.append((opened, None))
    return out


def as_json_pauses(pauses: Sequence[Pause], tz: dt.tzinfo) -> list[dict[str, Any]]:
    if not pauses:
        return []
    return [
        {"from": a.astimezone(tz).isoformat(), "to": b.astimezone(tz).isoformat() if b else None}
        for a, b in pauses
    ]
