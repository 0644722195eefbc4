"""Properties of business-calendar arithmetic on random calendars, holidays and instants."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone, tzinfo

from dateutil import tz
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierrules.calendars import END_OF_DAY, BusinessCalendar, HolidaySource, Interval

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
US = timedelta(microseconds=1)
ZONES = ["Asia/Shanghai", "America/New_York", "Europe/London", "UTC"]
# The window holds DST changes (New York Nov 2 and Mar 8, London Oct 26 and Mar 29) and the
# Chinese New Year holidays and make-up days of 2026.
FIRST = datetime(2025, 10, 15)
LAST = datetime(2026, 4, 15)
DATES = st.dates(min_value=FIRST.date(), max_value=LAST.date())


def utc(at: datetime) -> datetime:
    """The instant in UTC: aware == in a DST fold compares wall times (same zone) or is never
    true (other zones) under PEP 495, so instants are compared in UTC."""
    return at.astimezone(timezone.utc)


def quarter(q: int) -> time:
    return END_OF_DAY if q == 96 else time(q // 4, q % 4 * 15)


@st.composite
def day_hours(draw: st.DrawFn, min_size: int = 0) -> list[Interval]:
    """Up to three sorted, disjoint intervals on a 15-minute grid, possibly up to 24:00."""
    cuts = sorted(draw(st.sets(st.integers(0, 96), min_size=min_size * 2, max_size=6)))
    cuts = cuts[: len(cuts) // 2 * 2]
    return [(quarter(cuts[i]), quarter(cuts[i + 1])) for i in range(0, len(cuts), 2)]


@st.composite
def calendars(draw: st.DrawFn, *, uniform: bool = False, zones: list[str] = ZONES) -> BusinessCalendar:
    """A random weekly calendar with random explicit dates and maybe CN public holidays.

    ``uniform``: every open day has the same hours (then working days all last as long).
    """
    zone = draw(st.sampled_from(zones))
    days = draw(st.sets(st.integers(0, 6), min_size=1, max_size=7))
    if uniform:
        hours = draw(day_hours(min_size=1))
        week = dict.fromkeys(days, hours)
        open_date_hours: list[Interval] | None = hours
    else:
        week = {day: draw(day_hours()) for day in days}
        if not any(week.values()):
            week[min(days)] = [(time(9), time(18))]
        open_date_hours = draw(st.none() | day_hours(min_size=1))
    closed = draw(st.sets(DATES, max_size=12))
    opened = draw(st.sets(DATES, max_size=6)) - closed
    source = draw(st.sampled_from([None, HolidaySource("CN")]))
    return BusinessCalendar(
        "random",
        zone,
        week,
        holidays=source,
        closed_dates=closed,
        open_dates=opened,
        open_date_hours=open_date_hours,
    )


def zones_for(cal: BusinessCalendar) -> st.SearchStrategy[tzinfo]:
    return st.sampled_from([cal.tz, timezone.utc, timezone(timedelta(hours=5, minutes=30))])


@st.composite
def instants(draw: st.DrawFn, cal: BusinessCalendar) -> datetime:
    """An aware instant in the window, in the calendar's zone or another offset."""
    naive = draw(st.datetimes(min_value=FIRST, max_value=LAST))
    # Attach UTC first: imaginary local times cannot be drawn this way.
    return naive.replace(tzinfo=timezone.utc).astimezone(draw(zones_for(cal)))


durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=60))
positive_durations = st.timedeltas(min_value=US, max_value=timedelta(hours=60))


def in_open_time_or_at_an_interval_end(cal: BusinessCalendar, at: datetime) -> bool:
    just_before = at.astimezone(timezone.utc) - US  # in UTC: not wall-clock arithmetic
    return cal.is_open(at) or (cal.is_open(just_before) and not cal.is_open(at))


@SETTINGS
@given(data=st.data(), cal=calendars(), a=durations, b=positive_durations)
def test_working_time_is_additive(
    data: st.DataObject, cal: BusinessCalendar, a: timedelta, b: timedelta
) -> None:
    start = data.draw(instants(cal))
    assert utc(cal.add_working_time(cal.add_working_time(start, a), b)) == utc(
        cal.add_working_time(start, a + b)
    )


@SETTINGS
@given(data=st.data(), cal=calendars(), delta=durations)
def test_deadline_is_open_or_an_interval_end(
    data: st.DataObject, cal: BusinessCalendar, delta: timedelta
) -> None:
    start = data.draw(instants(cal))
    due = cal.add_working_time(start, delta)
    assert due.tzinfo is cal.tz
    assert utc(due) >= utc(cal.next_open(start)) >= utc(start)
    if delta:
        assert in_open_time_or_at_an_interval_end(cal, due)
    else:
        assert cal.is_open(due)
        assert utc(due) == utc(cal.next_open(start))


@SETTINGS
@given(data=st.data(), cal=calendars(), d1=durations, d2=durations)
def test_deadlines_are_monotonic(
    data: st.DataObject, cal: BusinessCalendar, d1: timedelta, d2: timedelta
) -> None:
    s1, s2 = sorted([data.draw(instants(cal)), data.draw(instants(cal))], key=utc)
    assert utc(cal.add_working_time(s1, d1)) <= utc(cal.add_working_time(s2, d1))
    lo, hi = sorted([d1, d2])
    assert utc(cal.add_working_time(s1, lo)) <= utc(cal.add_working_time(s1, hi))


@SETTINGS
@given(data=st.data(), cal=calendars(), delta=durations)
def test_working_time_between_inverts_add_working_time(
    data: st.DataObject, cal: BusinessCalendar, delta: timedelta
) -> None:
    start = data.draw(instants(cal))
    assert cal.working_time_between(start, cal.add_working_time(start, delta)) == delta


@SETTINGS
@given(data=st.data(), cal=calendars())
def test_working_time_between_is_additive_and_bounded(data: st.DataObject, cal: BusinessCalendar) -> None:
    a, b, c = sorted((data.draw(instants(cal)) for _ in range(3)), key=utc)
    ab, bc = cal.working_time_between(a, b), cal.working_time_between(b, c)
    assert ab + bc == cal.working_time_between(a, c)
    assert timedelta(0) <= ab <= utc(b) - utc(a)
    assert cal.working_time_between(c, a) == timedelta(0)


@SETTINGS
@given(data=st.data(), cal=calendars())
def test_next_open(data: st.DataObject, cal: BusinessCalendar) -> None:
    start = data.draw(instants(cal))
    opening = cal.next_open(start)
    assert cal.is_open(opening)
    assert cal.working_time_between(start, opening) == timedelta(0)
    assert (utc(opening) == utc(start)) == cal.is_open(start)
    assert utc(cal.next_open(opening)) == utc(opening)


@settings(max_examples=80, deadline=None)
@given(
    data=st.data(),
    week=st.dictionaries(st.integers(0, 6), day_hours(), min_size=1),
    closed=st.sets(DATES, max_size=10),
    opened=st.sets(DATES, max_size=5),
    extra=day_hours(min_size=1),
    zone=st.sampled_from(["Asia/Shanghai", "UTC"]),
)
def test_working_time_matches_a_brute_force_count(
    data: st.DataObject,
    week: dict[int, list[Interval]],
    closed: set[date],
    opened: set[date],
    extra: list[Interval],
    zone: str,
) -> None:
    """Minute by minute over a few days, in zones with a fixed offset."""
    opened -= closed
    cal = BusinessCalendar(
        "oracle", zone, week, closed_dates=closed, open_dates=opened, open_date_hours=extra
    )
    offset = timedelta(hours=8 if zone == "Asia/Shanghai" else 0)
    fixed = timezone(offset)
    first = data.draw(st.datetimes(min_value=FIRST, max_value=LAST)).replace(second=0, microsecond=0)
    minutes = data.draw(st.integers(0, 4 * 24 * 60))

    def open_at(local: datetime) -> bool:
        day = local.date()
        hours = extra if day in opened else [] if day in closed else week.get(day.weekday(), [])
        clock = local.time()
        return any(s <= clock and (e == END_OF_DAY or clock < e) for s, e in hours)

    expected = sum(open_at(first + timedelta(minutes=m)) for m in range(minutes))
    start = first.replace(tzinfo=fixed)
    assert cal.working_time_between(start, start + timedelta(minutes=minutes)) == timedelta(minutes=expected)


@SETTINGS
@given(data=st.data(), cal=calendars(), days=st.integers(0, 12))
def test_working_days_land_in_open_time(data: st.DataObject, cal: BusinessCalendar, days: int) -> None:
    start = data.draw(instants(cal))
    due = cal.add_working_days(start, days)
    assert due.tzinfo is cal.tz
    assert utc(due) >= utc(cal.next_open(start))
    if days == 0:
        assert utc(due) == utc(cal.next_open(start))
    else:
        assert in_open_time_or_at_an_interval_end(cal, due)


@SETTINGS
@given(
    data=st.data(),
    cal=calendars(uniform=True, zones=["Asia/Shanghai", "UTC"]),
    n=st.integers(0, 8),
    m=st.integers(1, 8),
)
def test_working_days_on_uniform_calendars(
    data: st.DataObject, cal: BusinessCalendar, n: int, m: int
) -> None:
    """With equally long working days (no DST), working days compose and are monotonic.

    ``m >= 1``: adding 0 days is next_open, which moves a result sitting on an interval end
    (a lunch break's start, say) to the next opening.
    """
    s1, s2 = sorted([data.draw(instants(cal)), data.draw(instants(cal))], key=utc)
    assert utc(cal.add_working_days(cal.add_working_days(s1, n), m)) == utc(cal.add_working_days(s1, n + m))
    assert utc(cal.add_working_days(s1, n)) <= utc(cal.add_working_days(s2, n))
    assert utc(cal.add_working_days(s1, min(n, m))) <= utc(cal.add_working_days(s1, max(n, m)))
    # n working days are n times a day's open time, counted from next_open(start).
    day_length = cal.working_time_between(cal.add_working_days(s1, 0), cal.add_working_days(s1, 1))
    assert cal.working_time_between(s1, cal.add_working_days(s1, n)) == n * day_length


@settings(max_examples=60, deadline=None)
@given(data=st.data(), zone=st.sampled_from(ZONES))
def test_always_open_counts_elapsed_time(data: st.DataObject, zone: str) -> None:
    cal = BusinessCalendar.always_open("24x7", zone)
    start = data.draw(instants(cal))
    delta = data.draw(durations)
    assert cal.is_open(start)
    assert utc(cal.next_open(start)) == utc(start)
    # Through UTC: aware datetime + timedelta is wall-clock arithmetic in Python.
    end = start.astimezone(timezone.utc) + delta
    assert utc(cal.add_working_time(start, delta)) == utc(end)
    assert cal.working_time_between(start, end) == delta


def test_property_strategies_cover_dst_zones() -> None:
    # Guard against the window drifting away from the DST changes the properties rely on.
    new_york = tz.gettz("America/New_York")
    assert (
        datetime(2025, 11, 1, 12, tzinfo=new_york).utcoffset()
        != datetime(2025, 11, 3, 12, tzinfo=new_york).utcoffset()
    )
    assert datetime(2025, 11, 2) > FIRST
    assert datetime(2026, 3, 8) < LAST
