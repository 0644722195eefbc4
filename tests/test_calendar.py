"""Business-hours calendars: worked examples, holidays, DST and input validation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone

import pytest
from dateutil import tz

from tierrules.calendars import (
    END_OF_DAY,
    BusinessCalendar,
    HolidaySource,
    add_wall_clock,
    parse_hours,
)

SHANGHAI = tz.gettz("Asia/Shanghai")
NEW_YORK = tz.gettz("America/New_York")
NINE_TO_SIX = [(time(9), time(18))]
WEEKDAYS = dict.fromkeys(range(5), NINE_TO_SIX)
H = timedelta(hours=1)

# 2026-03-02 is a Monday; March 2026 has no Chinese public holidays.
MON, TUE, WED, THU, FRI, SAT, SUN = (date(2026, 3, d) for d in range(2, 9))


def sh(d: date, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hour, minute, second, tzinfo=SHANGHAI)


def ny(y: int, m: int, d: int, hour: int = 0, minute: int = 0, fold: int = 0) -> datetime:
    return datetime(y, m, d, hour, minute, tzinfo=NEW_YORK, fold=fold)


def plus(d: date, days: int) -> date:
    return d + timedelta(days=days)


@pytest.fixture
def office() -> BusinessCalendar:
    """The default calendar: Monday to Friday 09:00-18:00, Asia/Shanghai, no holidays."""
    return BusinessCalendar("office", "Asia/Shanghai", WEEKDAYS)


@pytest.fixture
def cn_office() -> BusinessCalendar:
    return BusinessCalendar("cn", "Asia/Shanghai", WEEKDAYS, holidays=HolidaySource("CN"))


def elapsed(a: datetime, b: datetime) -> timedelta:
    """Absolute time from a to b (same-tzinfo subtraction in Python ignores DST)."""
    return b.astimezone(timezone.utc) - a.astimezone(timezone.utc)


def same_instant(a: datetime, b: datetime) -> None:
    """Equal instants, and ``a`` is expressed in ``b``'s zone with ``b``'s offset."""
    assert a == b
    assert a.utcoffset() == b.utcoffset()
    assert a.replace(tzinfo=None) == b.replace(tzinfo=None)


# -- parse_hours -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("09:00-18:00", (time(9), time(18))),
        ("00:00-24:00", (time(0), END_OF_DAY)),
        (" 9:30 - 12:00 ", (time(9, 30), time(12))),
        ("13:00~18:30", (time(13), time(18, 30))),
        ("08:00～20:00", (time(8), time(20))),
        ("22:00-24:00", (time(22), END_OF_DAY)),
    ],
)
def test_parse_hours(spec: str, expected: tuple[time, time]) -> None:
    assert parse_hours(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "HH:MM-HH:MM"),
        ("9-18", "HH:MM-HH:MM"),
        ("09:00", "HH:MM-HH:MM"),
        ("09:00-18:00-20:00", "HH:MM-HH:MM"),
        ("nine to six", "HH:MM-HH:MM"),
        ("18:00-09:00", "must end after"),
        ("09:00-09:00", "must end after"),
        ("25:00-26:00", "25:00 is not a time"),
        ("09:60-10:00", "09:60 is not a time"),
        ("24:00-24:00", "24:00 is not a time"),
        ("09:00-24:01", "24:01 is not a time"),
    ],
)
def test_parse_hours_rejects(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_hours(spec)


def test_end_of_day_is_the_largest_time() -> None:
    assert time(23, 59, 59) < END_OF_DAY


# -- working time on the default calendar ------------------------------------------------


def test_weekday_1730_plus_one_hour_is_0930_next_day(office: BusinessCalendar) -> None:
    same_instant(office.add_working_time(sh(TUE, 17, 30), H), sh(WED, 9, 30))


@pytest.mark.parametrize(("hour", "minute", "second"), [(0, 0, 0), (10, 0, 0), (23, 59, 59)])
def test_saturday_plus_one_hour_is_monday_1000(
    office: BusinessCalendar, hour: int, minute: int, second: int
) -> None:
    same_instant(office.add_working_time(sh(SAT, hour, minute, second), H), sh(plus(MON, 7), 10))


def test_before_opening_counts_from_opening(office: BusinessCalendar) -> None:
    same_instant(office.add_working_time(sh(WED, 7), H), sh(WED, 10))


def test_friday_1730_plus_one_hour_is_monday_0930(office: BusinessCalendar) -> None:
    same_instant(office.add_working_time(sh(FRI, 17, 30), H), sh(plus(MON, 7), 9, 30))


def test_budget_ending_at_closing_returns_closing(office: BusinessCalendar) -> None:
    same_instant(office.add_working_time(sh(THU, 17), H), sh(THU, 18))
    same_instant(office.add_working_time(sh(THU, 9), 9 * H), sh(THU, 18))


def test_closing_time_itself_is_closed(office: BusinessCalendar) -> None:
    assert office.is_open(sh(THU, 9))
    assert office.is_open(sh(THU, 17, 59, 59))
    assert not office.is_open(sh(THU, 18))
    assert not office.is_open(sh(THU, 8, 59, 59))
    same_instant(office.next_open(sh(THU, 18)), sh(FRI, 9))
    same_instant(office.add_working_time(sh(THU, 18), H), sh(FRI, 10))


def test_zero_delta_is_next_open(office: BusinessCalendar) -> None:
    same_instant(office.add_working_time(sh(THU, 12), timedelta(0)), sh(THU, 12))
    same_instant(office.add_working_time(sh(FRI, 20), timedelta(0)), sh(plus(MON, 7), 9))


def test_next_open(office: BusinessCalendar) -> None:
    same_instant(office.next_open(sh(WED, 11, 15)), sh(WED, 11, 15))
    same_instant(office.next_open(sh(WED, 3)), sh(WED, 9))
    same_instant(office.next_open(sh(SUN, 23)), sh(plus(MON, 7), 9))


def test_budget_spanning_several_days(office: BusinessCalendar) -> None:
    # 20 h from Thursday 14:00: 4 h Thursday, 9 h Friday, 7 h Monday.
    same_instant(office.add_working_time(sh(THU, 14), 20 * H), sh(plus(MON, 7), 16))
    same_instant(office.add_working_time(sh(MON, 9), 45 * H), sh(FRI, 18))


def test_sub_second_precision_is_kept(office: BusinessCalendar) -> None:
    delta = timedelta(minutes=30, microseconds=7)
    result = office.add_working_time(sh(TUE, 17, 30), delta)
    assert result == datetime(2026, 3, 4, 9, 0, 0, 7, tzinfo=SHANGHAI)


def test_results_are_in_the_calendar_zone(office: BusinessCalendar) -> None:
    start = datetime(2026, 3, 3, 1, 0, tzinfo=timezone.utc)  # 09:00 in Shanghai
    result = office.add_working_time(start, H)
    assert result.tzinfo is office.tz
    same_instant(result, sh(TUE, 10))
    other = datetime(2026, 3, 3, 3, 0, tzinfo=timezone(timedelta(hours=-5)))  # 16:00 Shanghai
    same_instant(office.add_working_time(other, 3 * H), sh(WED, 10))
    assert office.next_open(start).tzinfo is office.tz


def test_lunch_break() -> None:
    cal = BusinessCalendar(
        "lunch",
        "Asia/Shanghai",
        {day: [parse_hours("09:00-12:00"), parse_hours("13:00-18:00")] for day in range(5)},
    )
    same_instant(cal.add_working_time(sh(TUE, 11, 30), H), sh(TUE, 13, 30))
    same_instant(cal.add_working_time(sh(TUE, 12, 30), H), sh(TUE, 14))
    # Using up the budget exactly at the start of the break gives 12:00 ("by lunch").
    same_instant(cal.add_working_time(sh(TUE, 11), H), sh(TUE, 12))
    assert not cal.is_open(sh(TUE, 12, 15))
    same_instant(cal.next_open(sh(TUE, 12, 15)), sh(TUE, 13))
    assert cal.working_time_between(sh(TUE, 8), sh(TUE, 20)) == 8 * H


def test_touching_intervals_are_one_stretch() -> None:
    cal = BusinessCalendar("touch", "Asia/Shanghai", {0: [(time(9), time(12)), (time(12), time(18))]})
    assert cal.is_open(sh(MON, 12))
    same_instant(cal.add_working_time(sh(MON, 11, 30), H), sh(MON, 12, 30))


# -- working days ---------------------------------------------------------------------


def test_five_working_days_from_monday_1000(office: BusinessCalendar) -> None:
    same_instant(office.add_working_days(sh(MON, 10), 5), sh(plus(MON, 7), 10))


def test_five_working_days_from_closed_friday_evening(office: BusinessCalendar) -> None:
    # Friday 19:00 counts from Monday 09:00 (offset 0): five working days later is the
    # Monday after next, 09:00 -- the same open-time instant as the next Friday's 18:00.
    same_instant(office.add_working_days(sh(FRI, 19), 5), sh(plus(MON, 14), 9))
    assert office.working_time_between(sh(plus(FRI, 7), 18), sh(plus(MON, 14), 9)) == timedelta(0)


def test_working_days_keep_the_offset(office: BusinessCalendar) -> None:
    same_instant(office.add_working_days(sh(WED, 17, 59), 5), sh(plus(WED, 7), 17, 59))
    same_instant(office.add_working_days(sh(THU, 7), 1), sh(FRI, 9))
    same_instant(office.add_working_days(sh(FRI, 12), 1), sh(plus(MON, 7), 12))
    same_instant(office.add_working_days(sh(SAT, 12), 1), sh(plus(TUE, 7), 9))


def test_zero_working_days_is_next_open(office: BusinessCalendar) -> None:
    same_instant(office.add_working_days(sh(SAT, 12), 0), sh(plus(MON, 7), 9))
    same_instant(office.add_working_days(sh(TUE, 12), 0), sh(TUE, 12))


def test_working_days_carry_into_the_next_day_when_the_target_day_is_short() -> None:
    week = {**dict.fromkeys(range(4), NINE_TO_SIX), 4: [(time(9), time(12))]}
    cal = BusinessCalendar("short-friday", "Asia/Shanghai", week)
    # Thursday 17:00 is 8 h into the day; Friday has only 3 h, the other 5 go to Monday.
    same_instant(cal.add_working_days(sh(THU, 17), 1), sh(plus(MON, 7), 14))
    same_instant(cal.add_working_days(sh(THU, 11), 1), sh(FRI, 11))
    # Exactly a whole short day: the budget ends at Friday's closing.
    same_instant(cal.add_working_days(sh(THU, 12), 1), sh(FRI, 12))


def test_working_days_with_lunch_break_use_open_time_offset() -> None:
    cal = BusinessCalendar(
        "lunch", "Asia/Shanghai", {day: [(time(9), time(12)), (time(13), time(18))] for day in range(5)}
    )
    # 12:30 is in the break: next_open is 13:00, 3 h of open time into Monday. Three hours
    # into Wednesday run out exactly at 12:00, an interval end, which is the result.
    same_instant(cal.add_working_days(sh(MON, 12, 30), 2), sh(WED, 12))
    same_instant(cal.add_working_days(sh(MON, 13, 30), 2), sh(WED, 13, 30))


# -- working time between -------------------------------------------------------------


def test_working_time_between(office: BusinessCalendar) -> None:
    assert office.working_time_between(sh(MON, 10), sh(TUE, 10)) == 9 * H
    assert office.working_time_between(sh(FRI, 17), sh(plus(MON, 7), 10)) == 2 * H
    assert office.working_time_between(sh(SAT, 0), sh(SUN, 23)) == timedelta(0)
    assert office.working_time_between(sh(MON, 0), sh(plus(MON, 7), 0)) == 45 * H
    assert office.working_time_between(sh(TUE, 10), sh(MON, 10)) == timedelta(0)
    assert office.working_time_between(sh(TUE, 10), sh(TUE, 10)) == timedelta(0)
    utc_start = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)  # Monday 10:00 Shanghai
    assert office.working_time_between(utc_start, sh(MON, 11, 30)) == timedelta(minutes=90)


# -- Chinese holidays and make-up working days (2026) ------------------------------------


def test_cn_holiday_dates(cn_office: BusinessCalendar) -> None:
    hours = tuple(NINE_TO_SIX)
    assert cn_office.hours_on(date(2026, 2, 14)) == hours  # Saturday, make-up working day
    assert cn_office.hours_on(date(2026, 9, 20)) == hours  # Sunday, make-up working day
    assert cn_office.hours_on(date(2026, 10, 1)) == ()  # National Day
    assert cn_office.hours_on(date(2026, 10, 6)) == ()  # Tuesday, day off (调休)
    assert cn_office.hours_on(date(2026, 2, 15)) == ()  # an ordinary Sunday
    assert cn_office.hours_on(date(2026, 3, 3)) == hours  # an ordinary Tuesday
    assert cn_office.is_open(datetime(2026, 2, 14, 10, tzinfo=SHANGHAI))
    assert not cn_office.is_open(datetime(2026, 10, 6, 10, tzinfo=SHANGHAI))


def test_cn_make_up_saturday(cn_office: BusinessCalendar) -> None:
    start = datetime(2026, 2, 13, 17, 30, tzinfo=SHANGHAI)  # Friday
    same_instant(cn_office.add_working_time(start, H), datetime(2026, 2, 14, 9, 30, tzinfo=SHANGHAI))
    # From the make-up Saturday over the Spring Festival (Feb 15-23 off) to Tuesday Feb 24.
    start = datetime(2026, 2, 14, 17, 30, tzinfo=SHANGHAI)
    same_instant(cn_office.add_working_time(start, H), datetime(2026, 2, 24, 9, 30, tzinfo=SHANGHAI))


def test_cn_make_up_sunday(cn_office: BusinessCalendar) -> None:
    start = datetime(2026, 9, 18, 17, 30, tzinfo=SHANGHAI)  # Friday
    same_instant(cn_office.add_working_time(start, H), datetime(2026, 9, 20, 9, 30, tzinfo=SHANGHAI))


def test_cn_national_day_week(cn_office: BusinessCalendar) -> None:
    start = datetime(2026, 9, 30, 17, 30, tzinfo=SHANGHAI)
    same_instant(cn_office.add_working_time(start, H), datetime(2026, 10, 8, 9, 30, tzinfo=SHANGHAI))
    # Three working days from Wednesday Sep 30: Oct 8, Oct 9, Saturday Oct 10 (make-up day).
    start = datetime(2026, 9, 30, 10, tzinfo=SHANGHAI)
    same_instant(cn_office.add_working_days(start, 3), datetime(2026, 10, 10, 10, tzinfo=SHANGHAI))
    assert cn_office.working_time_between(
        datetime(2026, 10, 1, tzinfo=SHANGHAI), datetime(2026, 10, 8, tzinfo=SHANGHAI)
    ) == timedelta(0)


def test_cn_across_the_new_year(cn_office: BusinessCalendar) -> None:
    # Jan 1-2 2026 are off, Jan 3 is Saturday, Sunday Jan 4 is a make-up working day.
    start = datetime(2025, 12, 31, 17, 30, tzinfo=SHANGHAI)
    same_instant(cn_office.add_working_time(start, H), datetime(2026, 1, 4, 9, 30, tzinfo=SHANGHAI))
    assert cn_office.hours_on(date(2025, 10, 1)) == ()
    assert cn_office.hours_on(date(2025, 9, 28)) == tuple(NINE_TO_SIX)  # 2025 make-up Sunday


def test_make_up_days_use_open_date_hours() -> None:
    cal = BusinessCalendar(
        "cn", "Asia/Shanghai", WEEKDAYS, HolidaySource("CN"), open_date_hours=[(time(10), time(16))]
    )
    assert not cal.is_open(datetime(2026, 2, 14, 9, 30, tzinfo=SHANGHAI))
    assert cal.is_open(datetime(2026, 2, 14, 10, tzinfo=SHANGHAI))
    start = datetime(2026, 2, 13, 17, 30, tzinfo=SHANGHAI)
    same_instant(cal.add_working_time(start, H), datetime(2026, 2, 14, 10, 30, tzinfo=SHANGHAI))


def test_default_open_date_hours_come_from_the_first_weekday_with_hours() -> None:
    week = {1: [(time(8), time(17))], 2: NINE_TO_SIX, 5: [(time(10), time(14))]}
    cal = BusinessCalendar("tue", "Asia/Shanghai", week, open_dates=[date(2026, 3, 8)])
    assert cal.hours_on(date(2026, 3, 8)) == ((time(8), time(17)),)
    weekend = BusinessCalendar(
        "weekend", "Asia/Shanghai", {6: [(time(10), time(14))]}, open_dates=[date(2026, 3, 4)]
    )
    assert weekend.hours_on(date(2026, 3, 4)) == ((time(10), time(14)),)


def test_subdivision_holidays() -> None:
    federal = BusinessCalendar("us", "America/New_York", WEEKDAYS, HolidaySource("US"))
    new_york = BusinessCalendar("ny", "America/New_York", WEEKDAYS, HolidaySource("US", "NY"))
    lincoln = date(2026, 2, 12)  # a Thursday, a New York State holiday only
    assert federal.hours_on(lincoln) == tuple(NINE_TO_SIX)
    assert new_york.hours_on(lincoln) == ()
    assert federal.hours_on(date(2026, 7, 3)) == ()  # Independence Day (observed)


# -- explicit dates ---------------------------------------------------------------------


def test_explicit_closed_date_beats_package_make_up_day() -> None:
    cal = BusinessCalendar(
        "cn", "Asia/Shanghai", WEEKDAYS, HolidaySource("CN"), closed_dates=[date(2026, 2, 14)]
    )
    assert cal.hours_on(date(2026, 2, 14)) == ()
    start = datetime(2026, 2, 13, 17, 30, tzinfo=SHANGHAI)
    same_instant(cal.add_working_time(start, H), datetime(2026, 2, 24, 9, 30, tzinfo=SHANGHAI))


def test_explicit_open_date_beats_package_holiday() -> None:
    cal = BusinessCalendar(
        "cn", "Asia/Shanghai", WEEKDAYS, HolidaySource("CN"), open_dates=[date(2026, 10, 1)]
    )
    assert cal.hours_on(date(2026, 10, 1)) == tuple(NINE_TO_SIX)
    assert cal.hours_on(date(2026, 10, 2)) == ()
    start = datetime(2026, 9, 30, 17, 30, tzinfo=SHANGHAI)
    same_instant(cal.add_working_time(start, H), datetime(2026, 10, 1, 9, 30, tzinfo=SHANGHAI))


def test_explicit_dates_without_package(office: BusinessCalendar) -> None:
    cal = BusinessCalendar("x", "Asia/Shanghai", WEEKDAYS, closed_dates=[TUE], open_dates=[SAT])
    assert cal.hours_on(TUE) == ()
    assert cal.hours_on(SAT) == tuple(NINE_TO_SIX)
    same_instant(cal.add_working_time(sh(MON, 17, 30), H), sh(WED, 9, 30))
    same_instant(cal.add_working_time(sh(FRI, 17, 30), H), sh(SAT, 9, 30))
    assert office.hours_on(TUE) == tuple(NINE_TO_SIX)  # other calendars are unaffected


def test_date_both_open_and_closed_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"both closed and open: 2026-03-03"):
        BusinessCalendar("x", "Asia/Shanghai", WEEKDAYS, closed_dates=[TUE], open_dates=[TUE, SAT])


# -- always open ------------------------------------------------------------------------


def test_always_open() -> None:
    cal = BusinessCalendar.always_open("vip", "Asia/Shanghai")
    assert cal.name == "vip"
    start = sh(SAT, 3, 17)
    assert cal.is_open(start)
    same_instant(cal.next_open(start), start)
    same_instant(cal.add_working_time(start, 50 * H), sh(MON, 5, 17) + timedelta(days=7))
    same_instant(cal.add_working_time(sh(SUN, 23), H), sh(plus(MON, 7), 0))
    assert cal.working_time_between(sh(MON, 0), sh(plus(MON, 7), 0)) == timedelta(days=7)
    same_instant(cal.add_working_days(start, 2), sh(plus(MON, 7), 3, 17))


# -- daylight saving time (America/New_York: 2026-03-08 and 2026-11-01) -----------------


def test_weekday_calendar_across_spring_forward() -> None:
    cal = BusinessCalendar("nyc", "America/New_York", WEEKDAYS)
    result = cal.add_working_time(ny(2026, 3, 6, 17, 30), H)  # Friday, EST
    same_instant(result, ny(2026, 3, 9, 9, 30))  # Monday, EDT
    assert result.utcoffset() == timedelta(hours=-4)
    assert cal.working_time_between(ny(2026, 3, 6, 0), ny(2026, 3, 10, 0)) == 18 * H
    same_instant(cal.add_working_days(ny(2026, 3, 6, 10), 1), ny(2026, 3, 9, 10))


def test_always_open_counts_elapsed_time_across_dst() -> None:
    cal = BusinessCalendar.always_open("nyc", "America/New_York")
    same_instant(cal.add_working_time(ny(2026, 3, 7, 12), 24 * H), ny(2026, 3, 8, 13))
    assert cal.working_time_between(ny(2026, 3, 8), ny(2026, 3, 9)) == 23 * H
    assert cal.working_time_between(ny(2026, 11, 1), ny(2026, 11, 2)) == 25 * H
    # Into the repeated hour: 00:30 EDT + 1 h is 01:30 EDT, + 2 h is 01:30 EST.
    first = cal.add_working_time(ny(2026, 11, 1, 0, 30), H)
    second = cal.add_working_time(ny(2026, 11, 1, 0, 30), 2 * H)
    assert first.utcoffset() == timedelta(hours=-4)
    assert second.utcoffset() == timedelta(hours=-5)
    assert (first.hour, first.minute) == (second.hour, second.minute) == (1, 30)
    # Working days keep the open-time offset: 12 h after midnight on a 23-hour day is 13:00.
    same_instant(cal.add_working_days(ny(2026, 3, 7, 12), 1), ny(2026, 3, 8, 13))


def test_intervals_touching_the_dst_gap() -> None:
    cal = BusinessCalendar("night", "America/New_York", {6: [(time(1), time(4))]})
    # Sunday 01:00 EST to 04:00 EDT is two hours; on an ordinary Sunday three.
    assert cal.working_time_between(ny(2026, 3, 8), ny(2026, 3, 9)) == 2 * H
    assert cal.working_time_between(ny(2026, 3, 1), ny(2026, 3, 2)) == 3 * H
    # In the fall the repeated hour is worked twice: 01:00 EDT to 04:00 EST.
    assert cal.working_time_between(ny(2026, 11, 1), ny(2026, 11, 2)) == 4 * H
    same_instant(cal.add_working_time(ny(2026, 3, 8, 0), 90 * timedelta(minutes=1)), ny(2026, 3, 8, 3, 30))

    gap = BusinessCalendar("gap", "America/New_York", {6: [(time(2), time(2, 30))]})
    # 02:00-02:30 does not exist on 2026-03-08: it is shifted forward by the gap.
    assert gap.is_open(ny(2026, 3, 8, 3, 15))
    assert gap.working_time_between(ny(2026, 3, 8), ny(2026, 3, 9)) == timedelta(minutes=30)
    same_instant(gap.next_open(ny(2026, 3, 7, 12)), ny(2026, 3, 8, 3))


# -- wall-clock durations -----------------------------------------------------------------


def test_wall_clock_days_across_dst() -> None:
    start = ny(2026, 3, 7, 12)
    one_day = add_wall_clock(start, days=1)
    same_instant(one_day, ny(2026, 3, 8, 12))
    assert elapsed(start, one_day) == 23 * H
    same_instant(add_wall_clock(start, hours=24), ny(2026, 3, 8, 13))
    assert elapsed(ny(2026, 10, 31, 12), add_wall_clock(ny(2026, 10, 31, 12), days=1)) == 25 * H
    # A day later falls into the gap: moved forward by it.
    same_instant(add_wall_clock(ny(2026, 3, 7, 2, 30), days=1), ny(2026, 3, 8, 3, 30))


def test_wall_clock_minutes_and_hours_are_elapsed_time() -> None:
    result = add_wall_clock(ny(2026, 11, 1, 0, 30), minutes=90)
    assert result.utcoffset() == timedelta(hours=-5)
    assert (result.hour, result.minute) == (1, 0)
    assert elapsed(ny(2026, 11, 1, 0, 30), result) == timedelta(minutes=90)
    start = sh(FRI, 17)
    same_instant(add_wall_clock(start, hours=2, minutes=30), sh(FRI, 19, 30))
    same_instant(add_wall_clock(start, days=2, hours=1), sh(SUN, 18))
    assert add_wall_clock(start) == start


def test_wall_clock_stays_in_the_start_zone() -> None:
    start = datetime(2026, 3, 7, 12, tzinfo=timezone.utc)
    result = add_wall_clock(start, days=1)
    assert result.tzinfo is timezone.utc
    assert result == datetime(2026, 3, 8, 12, tzinfo=timezone.utc)


# -- validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "unknown time zone 'Mars/Olympus_Mons'"),
        ({"timezone": ""}, "time zone must be a zone name"),
        ({"holidays": HolidaySource("XX")}, "unknown holiday country or subdivision 'XX'"),
        ({"holidays": HolidaySource("US", "ZZ")}, "unknown holiday country or subdivision 'US/ZZ'"),
        ({"week": {0: [(time(9), time(12)), (time(11), time(18))]}}, "overlap or are not sorted"),
        ({"week": {0: [(time(13), time(18)), (time(9), time(12))]}}, "overlap or are not sorted"),
        ({"week": {0: [(time(22), time(0))]}}, "END_OF_DAY"),
        ({"week": {0: [(time(18), time(9))]}}, "must end after it starts"),
        ({"week": {7: NINE_TO_SIX}}, "weekday must be 0"),
        ({"week": {0: "09:00-18:00"}}, "parse_hours"),
        ({"week": {0: [(time(9),)]}}, "not a \\(start, end\\) pair"),
        ({"week": {0: [(time(9, tzinfo=timezone.utc), time(18))]}}, "no tzinfo"),
        ({"open_date_hours": [(time(9), time(18)), (time(10), time(11))]}, "open_date_hours"),
        ({"closed_dates": [datetime(2026, 3, 3, 9)]}, "closed_dates must contain datetime.date"),
        ({"week": {}, "open_dates": [TUE]}, "open_dates need open_date_hours"),
    ],
)
def test_invalid_calendars(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"name": "bad", "timezone": "Asia/Shanghai", "week": WEEKDAYS}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(**args)  # type: ignore[arg-type]


def test_naive_datetimes_are_rejected(office: BusinessCalendar) -> None:
    naive = datetime(2026, 3, 3, 10)
    aware = sh(TUE, 10)
    calls: list[Callable[[], object]] = [
        lambda: office.is_open(naive),
        lambda: office.next_open(naive),
        lambda: office.add_working_time(naive, H),
        lambda: office.add_working_days(naive, 1),
        lambda: office.working_time_between(naive, aware),
        lambda: office.working_time_between(aware, naive),
        lambda: add_wall_clock(naive, days=1),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="timezone-aware"):
            call()


def test_negative_budgets_are_rejected(office: BusinessCalendar) -> None:
    with pytest.raises(ValueError, match="delta must not be negative"):
        office.add_working_time(sh(TUE, 10), -H)
    with pytest.raises(ValueError, match="days must not be negative"):
        office.add_working_days(sh(TUE, 10), -1)


def test_calendar_without_open_time_raises_instead_of_looping() -> None:
    never = BusinessCalendar("never", "Asia/Shanghai", {})
    assert not never.is_open(sh(TUE, 10))
    assert never.working_time_between(sh(TUE, 10), sh(plus(TUE, 400), 10)) == timedelta(0)
    with pytest.raises(ValueError, match="'never' has no open time in the 1098 days"):
        never.next_open(sh(TUE, 10))
    with pytest.raises(ValueError, match="no open time"):
        never.add_working_time(sh(TUE, 10), H)
    with pytest.raises(ValueError, match="no open time"):
        never.add_working_days(sh(TUE, 10), 1)


def test_calendar_that_runs_out_of_open_dates_raises() -> None:
    cal = BusinessCalendar("one-day", "Asia/Shanghai", {}, open_dates=[TUE], open_date_hours=NINE_TO_SIX)
    same_instant(cal.add_working_time(sh(MON, 12), H), sh(TUE, 10))
    same_instant(cal.add_working_time(sh(MON, 12), 9 * H), sh(TUE, 18))
    with pytest.raises(ValueError, match="no open time"):
        cal.add_working_time(sh(MON, 12), 10 * H)
    with pytest.raises(ValueError, match="no open time"):
        cal.add_working_days(sh(MON, 12), 1)


def test_calendar_repr_and_tz(office: BusinessCalendar) -> None:
    assert office.name == "office"
    assert office.tz.utcoffset(datetime(2026, 3, 3)) == SHANGHAI.utcoffset(datetime(2026, 3, 3))
    assert str(office.tz) == "Asia/Shanghai"
    assert "office" in repr(office)
    assert office.holiday_source is None
