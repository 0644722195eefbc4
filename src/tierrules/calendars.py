"""Business-hours calendars for service deadlines.

A :class:`BusinessCalendar` knows when a service desk is open: weekly opening hours (several
intervals per day, e.g. with a lunch break), public holidays and make-up working days (调休)
from the ``holidays`` package, and explicit closed/open dates. It answers the questions an
SLA engine asks: is the desk open now, when does it next open, when does a budget of working
time (or working days) run out, and how much working time lies between two instants.

Time-zone rules come from ``dateutil`` only. Internally every opening interval of a local
date is turned, once, into a pair of integer microseconds since the Unix epoch; deadline
arithmetic then works on plain integers, which keeps it exact and fast. Days are built
lazily and cached per calendar; holiday years are expanded lazily and cached per
(country, subdivision, year) for the whole process.

Semantics (the same everywhere in this module):

* Opening intervals are half-open, ``[start, end)``: at 18:00 a 09:00–18:00 desk is closed.
* A working-time deadline that uses up its budget exactly at the end of an interval is that
  end (17:00 + 1 h = 18:00, "by closing"), not the next opening. Any other deadline lies in
  open time.
* Wall-clock times that do not exist on a date (inside a DST gap) are moved forward by the
  gap (``dateutil.tz.resolve_imaginary``); ambiguous wall times (DST fold) mean their first
  occurrence. Intervals that overlap because of this are merged.
* :data:`END_OF_DAY` stands for 24:00, i.e. the following midnight.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Final, TypeAlias
from zoneinfo import ZoneInfo

import holidays as _holidays
from dateutil import tz as _tz
from dateutil.relativedelta import relativedelta

__all__ = [
    "END_OF_DAY",
    "MAX_CLOSED_DAYS",
    "BusinessCalendar",
    "HolidaySource",
    "Interval",
    "add_wall_clock",
    "parse_hours",
    "zones",
]

Interval: TypeAlias = tuple[time, time]
"""An opening interval ``(start, end)`` of local wall-clock times, ``start < end``."""

END_OF_DAY: Final[time] = time.max
"""The end of an interval that runs to midnight (24:00).

``datetime.time`` cannot say 24:00 and ``time(0)`` would sort before every start, so the
largest representable time stands for it; it is read as the following midnight exactly.
"""

_EPOCH: Final = datetime(1970, 1, 1)  # naive UTC; subtracting it from naive UTC gives µs
_EPOCH_UTC: Final = datetime(1970, 1, 1, tzinfo=timezone.utc)
_EPOCH_ORDINAL: Final = _EPOCH.toordinal()
_US: Final = timedelta(microseconds=1)
_DAY_US: Final = 86_400_000_000
_ONE_DAY: Final = timedelta(days=1)
_MIDNIGHT: Final = time(0)
# Give up after this many consecutive days without open time: such a calendar is broken
# (or ran past its explicit open dates), and an SLA deadline years away is meaningless.
MAX_CLOSED_DAYS: Final = 3 * 366
# Local dates lie within a day or so of the UTC date (offsets are within ±26 h); scanning
# from a few days earlier avoids an expensive local-time conversion of the start instant.
_SCAN_SLACK_DAYS: Final = 3

_Span: TypeAlias = tuple[int, int]  # [start, end) in µs since the Unix epoch
_Day: TypeAlias = tuple[_Span, ...]

_HOURS_RE: Final = re.compile(
    r"\s*(?P<h1>\d{1,2})[:：](?P<m1>\d{2})\s*[-–—~～至到]\s*(?P<h2>\d{1,2})[:：](?P<m2>\d{2})\s*"
)


def parse_hours(spec: str) -> Interval:
    """Parse ``"HH:MM-HH:MM"`` into an :data:`Interval`.

    ``"09:00-18:00"`` gives ``(time(9), time(18))``; ``"24:00"`` is accepted as an end and
    gives :data:`END_OF_DAY`, so ``"00:00-24:00"`` is the whole day. ``~``, ``～``, ``–`` and
    ``至`` are accepted as separators, as is the full-width colon. Intervals may not run past
    midnight: split ``"22:00-02:00"`` into ``"22:00-24:00"`` and ``"00:00-02:00"`` of the
    next weekday.

    Raises:
        ValueError: the text is not such an interval, a time is out of range, or the end is
            not after the start.
    """
    if not isinstance(spec, str):
        raise ValueError(f"opening hours must be a string like '09:00-18:00', got {spec!r}")
    match = _HOURS_RE.fullmatch(spec)
    if match is None:
        raise ValueError(f"opening hours {spec!r} are not in the form 'HH:MM-HH:MM', e.g. '09:00-18:00'")
    start = _parse_clock(spec, int(match["h1"]), int(match["m1"]), is_end=False)
    end = _parse_clock(spec, int(match["h2"]), int(match["m2"]), is_end=True)
    if not start < end:
        raise ValueError(
            f"opening hours {spec!r} must end after they start; an interval past midnight must be "
            "split at 24:00 into two days"
        )
    return start, end


def _parse_clock(spec: str, hour: int, minute: int, *, is_end: bool) -> time:
    if is_end and (hour, minute) == (24, 0):
        return END_OF_DAY
    if hour > 23 or minute > 59:
        allowed = "00:00-24:00" if is_end else "00:00-23:59"
        raise ValueError(f"opening hours {spec!r}: {hour:02d}:{minute:02d} is not a time in {allowed}")
    return time(hour, minute)


@dataclass(frozen=True)
class HolidaySource:
    """Where public holidays and make-up working days come from.

    ``country`` and ``subdiv`` are passed to ``holidays.country_holidays`` unchanged, e.g.
    ``HolidaySource("CN")`` or ``HolidaySource("US", "NY")``.
    """

    country: str
    subdiv: str | None = None


@functools.cache
def _check_source(country: str, subdiv: str | None) -> None:
    try:
        _holidays.country_holidays(country, subdiv=subdiv)
    except NotImplementedError as err:  # the holidays package's "unknown country/subdiv"
        where = country if subdiv is None else f"{country}/{subdiv}"
        raise ValueError(f"unknown holiday country or subdivision {where!r}: {err}") from err


@functools.cache
def _package_year(country: str, subdiv: str | None, year: int) -> tuple[frozenset[int], frozenset[int]]:
    """(holiday ordinals, make-up working-day ordinals) of one year, as the package says."""
    hols = _holidays.country_holidays(country, subdiv=subdiv, years=year)
    # weekend_workdays is an accumulated set that can also hold dates of other years.
    workdays: Iterable[date] = getattr(hols, "weekend_workdays", ())
    opened = frozenset(d.toordinal() for d in workdays if d.year == year)
    closed = frozenset(d.toordinal() for d in hols if d.year == year)
    # Mirrors HolidayBase.is_working_day: a listed make-up day is a working day.
    return closed - opened, opened


def _require_aware(at: datetime, what: str) -> int:
    """Microseconds since the epoch of an aware datetime; ValueError if it is naive."""
    if not isinstance(at, datetime):
        raise ValueError(f"{what} must be a timezone-aware datetime, got {at!r}")
    offset = at.utcoffset()
    if offset is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got naive {at.isoformat()}")
    return (at - _EPOCH_UTC) // _US


_POSIX_TZ = re.compile(r"^:?([A-Za-z]{3,})\s*([+-]?)(\d{1,2})(?::?(\d{2}))?")


def _posix_hint(name: str) -> str:
    """Why a POSIX TZ string such as ``UTC+8`` is refused, and what to write instead."""
    match = _POSIX_TZ.match(name)
    if match is None or name.startswith(("Etc/", "GMT/")):
        return "use an IANA zone name such as 'Asia/Shanghai' or 'Etc/GMT-8'"
    hours, minutes = int(match.group(3)), int(match.group(4) or 0)
    west = match.group(2) != "-"  # POSIX counts offsets west of UTC: UTC+8 is 8 hours behind
    meant = f"UTC{'-' if west else '+'}{hours:02d}:{minutes:02d}"
    other = f"UTC{'+' if west else '-'}{hours:02d}:{minutes:02d}"
    if minutes:
        names = "a city zone with that offset (e.g. 'Asia/Kolkata' is UTC+05:30)"
    else:
        names = (
            f"'Etc/GMT{'+' if west else '-'}{hours}' for {meant}, 'Etc/GMT{'-' if west else '+'}{hours}' "
            f"for {other}, or a city zone such as 'Asia/Shanghai' (UTC+08:00)"
        )
    return (
        f"{name!r} is a POSIX TZ string, in which offsets count west of UTC: it means {meant}, "
        f"not {other}. Use an IANA zone name instead: {names}"
    )


def zones(name: str, where: str) -> tuple[tzinfo, tzinfo]:
    """(dateutil tzinfo, stdlib ZoneInfo) of an IANA zone name both libraries know.

    Both are required, so that what validates also loads everywhere it is used: POSIX TZ
    strings (``UTC+8``, which means UTC−8), file paths (``/etc/localtime``) and the empty
    name (the machine's own zone) are refused with a ValueError saying what to write.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{where}: time zone must be a zone name like 'Asia/Shanghai'")
    try:
        fast: tzinfo = ZoneInfo(name)
    except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
        raise ValueError(f"{where}: unknown time zone {name!r}; {_posix_hint(name)}") from None
    zone = _tz.gettz(name)
    if zone is None:
        raise ValueError(f"{where}: time zone {name!r} is not in dateutil's database")
    return zone, fast


# One pass, a raise per way a pair can be wrong; the overlap test needs the pair checked before it.
def _check_intervals(intervals: Sequence[Interval], where: str) -> tuple[Interval, ...]:
    if isinstance(intervals, str | bytes) or not isinstance(intervals, Sequence):
        raise ValueError(
            f"{where}: expected a list of (start, end) time pairs, got {intervals!r}; "
            "use parse_hours() to turn '09:00-18:00' into a pair"
        )
    checked: list[Interval] = []
    for item in intervals:
        if not isinstance(item, tuple | list) or len(item) != 2 or not all(isinstance(t, time) for t in item):
            raise ValueError(f"{where}: {item!r} is not a (start, end) pair of datetime.time")
        # fold would pick the second occurrence of an ambiguous time; we document the first.
        start, end = item[0].replace(fold=0), item[1].replace(fold=0)
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError(f"{where}: opening times are local wall-clock times and take no tzinfo")
        if end == _MIDNIGHT:
            raise ValueError(
                f"{where}: an interval may not end at 00:00; use END_OF_DAY ('24:00') for midnight"
            )
        if not start < end:
            raise ValueError(f"{where}: interval {_fmt(start)}-{_fmt(end)} must end after it starts")
        if checked and start < checked[-1][1]:
            prev = checked[-1]
            raise ValueError(
                f"{where}: intervals overlap or are not sorted: "
                f"{_fmt(prev[0])}-{_fmt(prev[1])} then {_fmt(start)}-{_fmt(end)}"
            )
        checked.append((start, end))
    return tuple(checked)


def _fmt(t: time) -> str:
    if t == END_OF_DAY:
        return "24:00"
    return t.isoformat(timespec="minutes" if not (t.second or t.microsecond) else "auto")


def _check_dates(dates: Iterable[date], what: str) -> frozenset[int]:
    ordinals: set[int] = set()
    for d in dates:
        # datetime is a date subclass; accepting it would silently drop its time.
        if not isinstance(d, date) or isinstance(d, datetime):
            raise ValueError(f"{what} must contain datetime.date values, got {d!r}")
        ordinals.add(d.toordinal())
    return frozenset(ordinals)


class BusinessCalendar:
    """Opening hours of a service desk, with holidays, in one time zone.

    Args:
        name: how rules and messages refer to the calendar.
        timezone: an IANA zone name known to both ``zoneinfo`` and ``dateutil`` (:func:`zones`),
            e.g. ``"Asia/Shanghai"``; POSIX TZ strings such as ``"UTC+8"`` are refused.
        week: weekday (0 = Monday … 6 = Sunday) -> sorted, non-overlapping opening intervals.
            A missing weekday is closed. Touching intervals (12:00-13:00, 13:00-14:00) are fine.
        holidays: public holidays close the whole day; the package's make-up working days
            (调休, ``weekend_workdays``) are open with ``open_date_hours``.
        closed_dates: extra closed days; they win over the package's make-up days.
        open_dates: extra working days, open with ``open_date_hours``; they win over the
            package's holidays. A date may not be both closed and open.
        open_date_hours: hours of make-up/open dates. Default: the hours of the first of
            Monday…Friday that has any (then Saturday, Sunday).

    Raises:
        ValueError: unknown time zone or holiday country/subdivision, malformed, overlapping
            or unsorted intervals, a bad weekday, or a date in both ``closed_dates`` and
            ``open_dates``.
    """

    name: str

    # Public constructor: checks each argument in signature order, one message naming the calendar each.
    def __init__(
        self,
        name: str,
        timezone: str,
        week: Mapping[int, Sequence[Interval]],
        holidays: HolidaySource | None = None,
        closed_dates: Iterable[date] = (),
        open_dates: Iterable[date] = (),
        open_date_hours: Sequence[Interval] | None = None,
    ) -> None:
        self.name = name
        zone, fast = zones(timezone, f"calendar {name!r}")
        self._tz: tzinfo = zone
        # Results only: the stdlib's C zoneinfo converts several times faster than dateutil's
        # pure-Python tzfile, with the same offsets; day building stays on dateutil.
        self._out_tz: tzinfo = fast
        self._timezone_name = timezone

        hours: list[tuple[Interval, ...]] = [()] * 7
        for weekday, intervals in week.items():
            if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
                raise ValueError(
                    f"calendar {name!r}: weekday must be 0 (Monday) to 6 (Sunday), got {weekday!r}"
                )
            hours[weekday] = _check_intervals(intervals, f"calendar {name!r}, weekday {weekday}")
        self._week: tuple[tuple[Interval, ...], ...] = tuple(hours)

        if holidays is not None:
            _check_source(holidays.country, holidays.subdiv)
        self._source = holidays

        self._closed = _check_dates(closed_dates, f"calendar {name!r}: closed_dates")
        self._open = _check_dates(open_dates, f"calendar {name!r}: open_dates")
        both = sorted(self._closed & self._open)
        if both:
            listed = ", ".join(date.fromordinal(o).isoformat() for o in both)
            raise ValueError(f"calendar {name!r}: dates both closed and open: {listed}")

        if open_date_hours is None:
            # Make-up days (调休) are worked like an ordinary weekday.
            self._open_hours = next((h for h in self._week if h), ())
        else:
            self._open_hours = _check_intervals(open_date_hours, f"calendar {name!r}, open_date_hours")
        if self._open and not self._open_hours:
            raise ValueError(f"calendar {name!r}: open_dates need open_date_hours (no weekday hours to copy)")

        self._days: dict[int, _Day] = {}

    @property
    def tz(self) -> tzinfo:
        """The calendar's time zone; every result is expressed in it.

        A ``zoneinfo.ZoneInfo`` when the stdlib knows the name (same offsets as dateutil's,
        converted in C), else the dateutil tzinfo.
        """
        return self._out_tz

    @property
    def holiday_source(self) -> HolidaySource | None:
        """Where holidays come from, if anywhere."""
        return self._source

    def __repr__(self) -> str:
        return f"BusinessCalendar({self.name!r}, {self._timezone_name!r})"

    @staticmethod
    def always_open(name: str, timezone: str) -> BusinessCalendar:
        """A 24×7 calendar: working time equals elapsed time."""
        return BusinessCalendar(name, timezone, {day: [(_MIDNIGHT, END_OF_DAY)] for day in range(7)})

    # -- public queries ------------------------------------------------------------------

    def hours_on(self, day: date) -> tuple[Interval, ...]:
        """The local opening intervals of ``day`` after holidays and explicit dates."""
        if not isinstance(day, date) or isinstance(day, datetime):
            raise ValueError(f"hours_on expects a datetime.date, got {day!r}")
        return self._wall_hours(day.toordinal(), day)

    def is_open(self, at: datetime) -> bool:
        """Whether ``at`` (aware) lies in an opening interval; interval ends are closed."""
        x = _require_aware(at, "at")
        o = _EPOCH_ORDINAL + x // _DAY_US
        for ordinal in range(o - _SCAN_SLACK_DAYS, o + _SCAN_SLACK_DAYS + 1):
            for start, end in self._day(ordinal):
                if end > x:  # spans are ordered across days: the first one not over decides
                    return start <= x
        return False

    def next_open(self, at: datetime) -> datetime:
        """``at`` itself if open, else the next opening instant.

        Raises:
            ValueError: ``at`` is naive, or the calendar has no open time for years.
        """
        return self._to_datetime(self._advance(_require_aware(at, "at"), 0))

    def add_working_time(self, start: datetime, delta: timedelta) -> datetime:
        """The instant at which ``delta`` of open time, counted from ``start``, has elapsed.

        Counting starts at ``next_open(start)``; ``delta == 0`` gives ``next_open(start)``.
        When the budget runs out exactly at the end of an interval the result is that end
        (a deadline of 18:00 means "by closing"); otherwise it lies in open time.

        Raises:
            ValueError: ``start`` is naive, ``delta`` is negative, or the calendar has no
                open time for years.
        """
        x = _require_aware(start, "start")
        if not isinstance(delta, timedelta):
            raise ValueError(f"delta must be a datetime.timedelta, got {delta!r}")
        if delta < timedelta(0):
            raise ValueError(f"delta must not be negative, got {delta}")
        return self._to_datetime(self._advance(x, delta // _US))

    # Exact ordinal arithmetic: both scans share o, spans and the closed-run guard, so they stay inline.
    def add_working_days(self, start: datetime, days: int) -> datetime:
        """``days`` working days after ``start``, at the same open-time offset into the day.

        A working day is a local date with any open time. ``start`` is first moved to
        ``next_open(start)``; call its date D and the open time elapsed on D before it the
        offset. The result is the opening of the ``days``-th working day after D plus the
        offset in open time, with :meth:`add_working_time`'s convention: an offset that runs
        out exactly at an interval end gives that end. If that day has less open time than
        the offset, the rest is carried into the following working days (so on calendars
        whose days differ in length a later start can give an earlier result).
        ``days == 0`` gives ``next_open(start)``.

        On a Mon–Fri 09:00–18:00 calendar Monday 10:00 + 5 is the next Monday 10:00;
        Friday 19:00 (closed) counts as Monday 09:00, offset 0, so + 5 is the Monday after
        next, 09:00. With a 12:00–13:00 lunch break Monday 13:00 (3 h in) + 2 is Wednesday
        12:00.

        Raises:
            ValueError: ``start`` is naive, ``days`` is negative, or the calendar has no
                open time for years.
        """
        x = _require_aware(start, "start")
        if isinstance(days, bool) or not isinstance(days, int):
            raise ValueError(f"days must be an int, got {days!r}")
        if days < 0:
            raise ValueError(f"days must not be negative, got {days}")
        o = _EPOCH_ORDINAL + x // _DAY_US - _SCAN_SLACK_DAYS
        closed_run = 0
        while True:  # find next_open(start), its day and the offset into that day
            spans = self._day(o)
            found = next((max(s, x) for s, e in spans if e > x), None)
            if found is not None:
                break
            closed_run = self._closed_run(closed_run, spans, o)
            o += 1
        if not days:
            # Not via the offset: that could land on an equivalent earlier interval end.
            return self._to_datetime(found)
        offset = sum(min(e, found) - s for s, e in spans if s < found)
        closed_run = 0
        while days:
            o += 1
            spans = self._day(o)
            if spans:
                days -= 1
            closed_run = self._closed_run(closed_run, spans, o)
        return self._to_datetime(self._advance(spans[0][0], offset, o))

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Open time in ``[a, b)``; zero if ``b <= a``."""
        xa = _require_aware(a, "a")
        xb = _require_aware(b, "b")
        if xb <= xa:
            return timedelta(0)
        total = 0
        last = _EPOCH_ORDINAL + xb // _DAY_US + _SCAN_SLACK_DAYS
        for o in range(_EPOCH_ORDINAL + xa // _DAY_US - _SCAN_SLACK_DAYS, last + 1):
            for s, e in self._day(o):
                lo = max(s, xa)
                hi = min(e, xb)
                if hi > lo:
                    total += hi - lo
        return timedelta(microseconds=total)

    # -- internals -----------------------------------------------------------------------

    def _advance(self, x: int, budget: int, o: int | None = None) -> int:
        """Spend ``budget`` µs of open time from instant ``x``; scan days from ordinal ``o``.

        With ``budget == 0`` this is next_open: the first open instant at or after ``x``.
        """
        if o is None:
            o = _EPOCH_ORDINAL + x // _DAY_US - _SCAN_SLACK_DAYS
        days = self._days
        closed_run = 0
        while True:
            spans = days.get(o)
            if spans is None:
                spans = self._build_day(o)
            for s, e in spans:
                if e <= x:
                    continue
                if s < x:
                    s = x
                if budget <= e - s:
                    return s + budget
                budget -= e - s
            closed_run = self._closed_run(closed_run, spans, o)
            o += 1

    def _closed_run(self, run: int, spans: _Day, o: int) -> int:
        if spans:
            return 0
        if run >= MAX_CLOSED_DAYS:
            since = date.fromordinal(o - run).isoformat()
            raise ValueError(
                f"calendar {self.name!r} has no open time in the {MAX_CLOSED_DAYS} days from "
                f"{since}; check its weekly hours, holidays and closed dates"
            )
        return run + 1

    def _to_datetime(self, x: int) -> datetime:
        return (_EPOCH_UTC + timedelta(microseconds=x)).astimezone(self._out_tz)

    def _day(self, o: int) -> _Day:
        spans = self._days.get(o)
        return self._build_day(o) if spans is None else spans

    def _wall_hours(self, o: int, d: date) -> tuple[Interval, ...]:
        # Precedence: explicit dates, then the package's make-up days and holidays, then week.
        if o in self._open:
            return self._open_hours
        if o in self._closed:
            return ()
        if self._source is not None:
            closed, opened = _package_year(self._source.country, self._source.subdiv, d.year)
            if o in opened:
                return self._open_hours
            if o in closed:
                return ()
        return self._week[d.weekday()]

    def _build_day(self, o: int) -> _Day:
        d = date.fromordinal(o)
        walls = self._wall_hours(o, d)
        spans: list[_Span] = []
        if walls:
            # Clamping to the day's own midnights keeps days disjoint and ordered even when
            # DST shifts an imaginary wall time past midnight.
            lo = self._instant(d, _MIDNIGHT)
            hi = self._instant(d + _ONE_DAY, _MIDNIGHT)
            for start, end in walls:
                s = max(lo, self._instant(d, start))
                e = hi if end == END_OF_DAY else min(hi, self._instant(d, end))
                if e > s:
                    spans.append((s, e))
            spans.sort()
            merged: list[_Span] = []
            for s, e in spans:
                if merged and s <= merged[-1][1]:
                    merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
                else:
                    merged.append((s, e))
            spans = merged
        result = tuple(spans)
        self._days[o] = result
        return result

    def _instant(self, d: date, t: time) -> int:
        """µs since the epoch of local wall time ``t`` on ``d`` (fold 0, gaps shifted forward)."""
        local = _tz.resolve_imaginary(datetime.combine(d, t, tzinfo=self._tz))
        return _require_aware(local, "local time")


def add_wall_clock(start: datetime, *, minutes: int = 0, hours: int = 0, days: int = 0) -> datetime:
    """``start`` plus a wall-clock duration, ignoring any business calendar.

    ``days`` are calendar days in ``start``'s own time zone (``dateutil.relativedelta``): the
    same local time ``days`` later, 23 or 25 elapsed hours across a DST change; a result
    inside a DST gap is moved forward by the gap. ``hours`` and ``minutes`` are then added
    as absolute elapsed time. The result is in ``start``'s time zone.

    Raises:
        ValueError: ``start`` is naive.
    """
    _require_aware(start, "start")
    zone = start.tzinfo
    result = start
    if days:
        result = _tz.resolve_imaginary(result + relativedelta(days=days))
    if minutes or hours:
        # Aware datetime + timedelta is wall-clock arithmetic in Python; go through UTC to
        # add elapsed time instead.
        elapsed = timedelta(hours=hours, minutes=minutes)
        result = (result.astimezone(timezone.utc) + elapsed).astimezone(zone)
    return result
