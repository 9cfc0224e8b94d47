"""Tests for bot.workhours: working days, holiday calendars, DST and reminder placement."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.workhours import WorkCalendar, _country_year

SH = "Asia/Shanghai"
NY = "America/New_York"
SHZ = ZoneInfo(SH)
NYZ = ZoneInfo(NY)

CN = WorkCalendar.parse("CN")
US = WorkCalendar.parse("US")
PLAIN = WorkCalendar()


def sh(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    """A wall-clock time in Shanghai."""
    return datetime(y, m, d, hh, mm, tzinfo=SHZ)


def ny(y: int, m: int, d: int, hh: int = 0, mm: int = 0, fold: int = 0) -> datetime:
    """A wall-clock time in New York."""
    return datetime(y, m, d, hh, mm, tzinfo=NYZ, fold=fold)


def wall(value: datetime, tz: str) -> tuple[date, time]:
    """The local date and clock time of an aware datetime in tz."""
    local = value.astimezone(ZoneInfo(tz))
    return local.date(), local.time()


# ---------------------------------------------------------------------------
# Shanghai placement (an ordinary week: Mon 2026-11-16 .. Sun 2026-11-22)
# ---------------------------------------------------------------------------


def test_small_hours_move_to_previous_working_day_end_before_deadline() -> None:
    placed = CN.place(sh(2026, 11, 18, 3), tz=SH, deadline=sh(2026, 11, 18, 10))
    assert placed == sh(2026, 11, 17, 18)
    assert placed.utcoffset() == timedelta(hours=8)


def test_small_hours_move_to_todays_start_when_previous_end_has_passed() -> None:
    placed = CN.place(sh(2026, 11, 18, 3), tz=SH, deadline=sh(2026, 11, 18, 10), now=sh(2026, 11, 17, 19))
    assert placed == sh(2026, 11, 18, 9)


def test_small_hours_move_to_todays_start_when_previous_end_is_not_before_deadline() -> None:
    assert CN.place(sh(2026, 11, 18, 3), tz=SH, deadline=sh(2026, 11, 17, 18)) == sh(2026, 11, 18, 9)
    assert CN.place(sh(2026, 11, 18, 3), tz=SH, deadline=sh(2026, 11, 17, 18, 1)) == sh(2026, 11, 17, 18)


def test_now_equal_to_previous_end_is_not_after_it() -> None:
    assert CN.place(sh(2026, 11, 18, 3), tz=SH, now=sh(2026, 11, 17, 18)) == sh(2026, 11, 18, 9)
    assert CN.place(sh(2026, 11, 18, 3), tz=SH, now=sh(2026, 11, 17, 17, 59)) == sh(2026, 11, 17, 18)


def test_noon_on_a_working_day_is_unchanged() -> None:
    when = datetime(2026, 11, 18, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
    placed = CN.place(when, tz=SH, deadline=sh(2026, 11, 18, 10), now=sh(2026, 11, 18, 11))
    assert placed == when
    assert placed.tzinfo == SHZ
    assert placed.hour == 12


@pytest.mark.parametrize("clock", [time(9, 0), time(18, 0), time(13, 37)])
def test_working_hours_are_inclusive(clock: time) -> None:
    when = datetime.combine(date(2026, 11, 19), clock, tzinfo=SHZ)
    assert CN.place(when, tz=SH) == when


def test_just_outside_working_hours_moves() -> None:
    assert CN.place(sh(2026, 11, 19, 18, 1), tz=SH) == sh(2026, 11, 19, 18)
    assert CN.place(sh(2026, 11, 19, 8, 59), tz=SH) == sh(2026, 11, 18, 18)


def test_evening_moves_back_to_todays_end() -> None:
    assert CN.place(sh(2026, 11, 18, 21), tz=SH, now=sh(2026, 11, 18, 17)) == sh(2026, 11, 18, 18)


def test_evening_moves_to_tomorrows_start_when_todays_end_has_passed() -> None:
    assert CN.place(sh(2026, 11, 18, 21), tz=SH, now=sh(2026, 11, 18, 18, 30)) == sh(2026, 11, 19, 9)


def test_saturday_moves_to_friday_end_if_before_deadline() -> None:
    placed = CN.place(sh(2026, 11, 21, 12), tz=SH, deadline=sh(2026, 11, 23, 12), now=sh(2026, 11, 20, 10))
    assert placed == sh(2026, 11, 20, 18)


def test_saturday_moves_to_monday_start_if_friday_end_misses_deadline() -> None:
    placed = CN.place(sh(2026, 11, 21, 12), tz=SH, deadline=sh(2026, 11, 20, 17), now=sh(2026, 11, 20, 10))
    assert placed == sh(2026, 11, 23, 9)


def test_saturday_moves_to_monday_start_if_friday_end_has_passed() -> None:
    placed = CN.place(sh(2026, 11, 21, 12), tz=SH, now=sh(2026, 11, 20, 20))
    assert placed == sh(2026, 11, 23, 9)


def test_placement_uses_the_recipients_timezone() -> None:
    # 2026-11-18 12:00 in Shanghai is 2026-11-17 23:00 in New York: noon for one, night for the other.
    when = sh(2026, 11, 18, 12)
    assert PLAIN.place(when, tz=SH) == when
    assert PLAIN.place(when, tz=NY) == ny(2026, 11, 17, 18)


# ---------------------------------------------------------------------------
# CN calendar: Mid-Autumn and National Day 2026, with make-up working weekends
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("day", [date(2026, 10, d) for d in range(1, 8)])
def test_national_day_week_is_off(day: date) -> None:
    assert _country_year("CN", 2026).is_working_day(day) is False
    assert CN.is_working_day(day) is False


@pytest.mark.parametrize("day", [date(2026, 9, 20), date(2026, 10, 10)])
def test_make_up_weekend_days_are_working_days(day: date) -> None:
    assert day.weekday() >= 5
    assert _country_year("CN", 2026).is_working_day(day) is True
    assert CN.is_working_day(day) is True
    assert PLAIN.is_working_day(day) is False


def test_mid_autumn_festival_and_ordinary_weekends_are_off() -> None:
    assert CN.is_working_day(date(2026, 9, 25)) is False  # Friday, Mid-Autumn Festival
    assert CN.is_working_day(date(2026, 9, 26)) is False
    assert CN.is_working_day(date(2026, 10, 11)) is False
    assert CN.is_working_day(date(2026, 9, 30)) is True
    assert CN.is_working_day(date(2026, 10, 8)) is True


def test_cn_next_and_previous_working_day_around_national_day() -> None:
    assert CN.next_working_day(date(2026, 9, 30)) == date(2026, 10, 8)
    assert CN.next_working_day(date(2026, 10, 3)) == date(2026, 10, 8)
    assert CN.previous_working_day(date(2026, 10, 8)) == date(2026, 9, 30)
    assert CN.next_working_day(date(2026, 10, 9)) == date(2026, 10, 10)
    assert CN.next_working_day(date(2026, 10, 10)) == date(2026, 10, 12)
    assert CN.next_working_day(date(2026, 9, 18)) == date(2026, 9, 20)
    assert CN.previous_working_day(date(2026, 9, 21)) == date(2026, 9, 20)
    assert CN.previous_working_day(date(2026, 9, 28)) == date(2026, 9, 24)


def test_cn_working_day_search_crosses_the_year_boundary() -> None:
    # 2026-01-01 and 01-02 are off; Sunday 2026-01-04 is a make-up working day.
    assert CN.next_working_day(date(2025, 12, 31)) == date(2026, 1, 4)
    assert CN.previous_working_day(date(2026, 1, 4)) == date(2025, 12, 31)


def test_holiday_week_reminder_goes_to_last_day_before_if_still_ahead() -> None:
    placed = CN.place(sh(2026, 10, 3, 12), tz=SH, deadline=sh(2026, 10, 9, 18), now=sh(2026, 9, 30, 10))
    assert placed == sh(2026, 9, 30, 18)


def test_holiday_week_reminder_goes_to_first_day_after_once_that_passed() -> None:
    placed = CN.place(sh(2026, 10, 3, 12), tz=SH, deadline=sh(2026, 10, 9, 18), now=sh(2026, 10, 1, 10))
    assert placed == sh(2026, 10, 8, 9)


def test_make_up_sunday_keeps_a_reminder_in_hours() -> None:
    assert CN.place(sh(2026, 9, 20, 15), tz=SH) == sh(2026, 9, 20, 15)
    assert PLAIN.place(sh(2026, 9, 20, 15), tz=SH) == sh(2026, 9, 18, 18)


def test_working_days_between_skips_the_holiday_week() -> None:
    due = sh(2026, 9, 30, 18)
    assert CN.working_days_between(due, sh(2026, 10, 7, 23), SH) == 0
    assert CN.working_days_between(due, sh(2026, 10, 8, 17, 59), SH) == 0
    assert CN.working_days_between(due, sh(2026, 10, 8, 18), SH) == 1
    assert CN.working_days_between(due, sh(2026, 10, 10, 18), SH) == 3
    assert CN.working_days_between(due, sh(2026, 10, 12, 18), SH) == 4
    assert PLAIN.working_days_between(due, sh(2026, 10, 12, 18), SH) == 8


def test_working_days_between_counts_make_up_sunday() -> None:
    due = sh(2026, 9, 18, 18)  # Friday
    assert CN.working_days_between(due, sh(2026, 9, 21, 18), SH) == 2
    assert PLAIN.working_days_between(due, sh(2026, 9, 21, 18), SH) == 1


def test_add_working_days_across_the_holiday_week() -> None:
    start = sh(2026, 9, 30, 10)
    assert CN.add_working_days(start, 0, SH) == start
    assert CN.add_working_days(start, 1, SH) == sh(2026, 10, 8, 10)
    assert CN.add_working_days(start, 3, SH) == sh(2026, 10, 10, 10)
    assert CN.add_working_days(start, 4, SH) == sh(2026, 10, 12, 10)
    assert PLAIN.add_working_days(start, 1, SH) == sh(2026, 10, 1, 10)


@pytest.mark.parametrize("n", range(0, 12))
def test_add_and_between_agree(n: int) -> None:
    start = sh(2026, 9, 28, 11, 30)
    later = CN.add_working_days(start, n, SH)
    assert CN.working_days_between(start, later, SH) == n
    if n:
        assert CN.working_days_between(start, later - timedelta(seconds=1), SH) == n - 1


def test_holiday_tables_are_cached_per_year() -> None:
    assert _country_year("CN", 2026) is _country_year("CN", 2026)
    assert _country_year("CN", 2026) is not _country_year("CN", 2027)
    assert 2027 not in _country_year("CN", 2026).years
    CN.is_working_day(date(2027, 3, 3))
    assert _country_year("CN", 2026).years == {2026}


# ---------------------------------------------------------------------------
# New York across DST changes
# ---------------------------------------------------------------------------


def test_fall_back_saturday_to_friday_end_in_daylight_time() -> None:
    placed = US.place(ny(2026, 10, 31, 12), tz=NY)
    local = placed.astimezone(NYZ)
    assert (local.date(), local.hour, local.minute) == (date(2026, 10, 30), 18, 0)
    assert local.utcoffset() == timedelta(hours=-4)
    assert placed == datetime(2026, 10, 30, 22, 0, tzinfo=UTC)


def test_fall_back_saturday_to_monday_start_in_standard_time() -> None:
    placed = US.place(ny(2026, 10, 31, 12), tz=NY, now=ny(2026, 10, 30, 19))
    local = placed.astimezone(NYZ)
    assert (local.date(), local.hour, local.minute) == (date(2026, 11, 2), 9, 0)
    assert local.utcoffset() == timedelta(hours=-5)
    assert placed == datetime(2026, 11, 2, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize("fold", [0, 1])
def test_fall_back_ambiguous_hour(fold: int) -> None:
    when = ny(2026, 11, 1, 1, 30, fold=fold)
    assert US.place(when, tz=NY) == datetime(2026, 10, 30, 22, 0, tzinfo=UTC)
    placed = US.place(when, tz=NY, deadline=ny(2026, 10, 30, 17))
    assert placed.astimezone(NYZ).hour == 9
    assert placed == datetime(2026, 11, 2, 14, 0, tzinfo=UTC)


def test_spring_forward_saturday_to_friday_end_in_standard_time() -> None:
    placed = US.place(ny(2026, 3, 7, 12), tz=NY)
    local = placed.astimezone(NYZ)
    assert (local.date(), local.hour) == (date(2026, 3, 6), 18)
    assert local.utcoffset() == timedelta(hours=-5)
    assert placed == datetime(2026, 3, 6, 23, 0, tzinfo=UTC)


def test_spring_forward_sunday_to_monday_start_in_daylight_time() -> None:
    when = datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # 03:30 EDT, just after the gap
    placed = US.place(when, tz=NY, now=ny(2026, 3, 7))
    local = placed.astimezone(NYZ)
    assert (local.date(), local.hour) == (date(2026, 3, 9), 9)
    assert local.utcoffset() == timedelta(hours=-4)
    assert placed == datetime(2026, 3, 9, 13, 0, tzinfo=UTC)


def test_start_inside_the_dst_gap_becomes_a_real_time() -> None:
    every_day = WorkCalendar(start=time(2, 30), end=time(18, 0), weekdays=frozenset(range(7)))
    placed = every_day.place(ny(2026, 3, 8, 1), tz=NY, deadline=ny(2026, 3, 7, 12))
    local = placed.astimezone(NYZ)
    assert (local.date(), local.hour, local.minute) == (date(2026, 3, 8), 3, 30)
    assert local.utcoffset() == timedelta(hours=-4)
    assert local.astimezone(UTC).astimezone(NYZ) == local


def test_add_working_days_keeps_local_clock_across_dst() -> None:
    fri = ny(2026, 10, 30, 10)
    mon = US.add_working_days(fri, 1, NY)
    assert (mon.date(), mon.hour, mon.utcoffset()) == (date(2026, 11, 2), 10, timedelta(hours=-5))
    assert mon.astimezone(UTC) - fri.astimezone(UTC) == timedelta(hours=73)
    fri_march = ny(2026, 3, 6, 10)
    mon_march = US.add_working_days(fri_march, 1, NY)
    assert (mon_march.hour, mon_march.utcoffset()) == (10, timedelta(hours=-4))
    assert mon_march.astimezone(UTC) - fri_march.astimezone(UTC) == timedelta(hours=71)


def test_add_working_days_into_the_gap_moves_forward() -> None:
    every_day = WorkCalendar(weekdays=frozenset(range(7)))
    landed = every_day.add_working_days(ny(2026, 3, 6, 2, 30), 2, NY)
    assert (landed.date(), landed.hour, landed.minute) == (date(2026, 3, 8), 3, 30)
    assert landed.utcoffset() == timedelta(hours=-4)


def test_working_days_between_uses_local_days_across_dst() -> None:
    due = ny(2026, 10, 30, 18).astimezone(UTC)  # Friday, EDT
    assert US.working_days_between(due, due + timedelta(hours=72), NY) == 0  # Monday 17:00 EST
    assert US.working_days_between(due, due + timedelta(hours=73), NY) == 1  # Monday 18:00 EST
    assert US.working_days_between(due, ny(2026, 11, 3, 18), NY) == 2


# ---------------------------------------------------------------------------
# UTC, weekends only, other weeks; US holidays
# ---------------------------------------------------------------------------


def utc(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    """A UTC datetime."""
    return datetime(y, m, d, hh, mm, tzinfo=UTC)


def test_weekends_only_calendar() -> None:
    assert PLAIN.is_working_day(date(2026, 10, 1)) is True  # a holiday in China, not here
    assert PLAIN.is_working_day(date(2026, 11, 26)) is True
    assert PLAIN.is_working_day(date(2026, 11, 28)) is False
    assert PLAIN.next_working_day(date(2026, 11, 27)) == date(2026, 11, 30)
    assert PLAIN.previous_working_day(date(2026, 11, 30)) == date(2026, 11, 27)
    assert PLAIN.next_working_day(date(2026, 11, 25)) == date(2026, 11, 26)


def test_utc_placement() -> None:
    assert PLAIN.place(utc(2026, 11, 28, 12), tz="UTC") == utc(2026, 11, 27, 18)
    assert PLAIN.place(utc(2026, 11, 28, 12), tz="UTC", deadline=utc(2026, 11, 27, 12)) == utc(2026, 11, 30, 9)
    assert PLAIN.place(utc(2026, 11, 30, 7), tz="UTC", now=utc(2026, 11, 29)) == utc(2026, 11, 30, 9)
    assert PLAIN.place(utc(2026, 11, 30, 7), tz="UTC").tzinfo == ZoneInfo("UTC")


def test_working_days_between_example_from_friday() -> None:
    due = utc(2026, 11, 27, 18)  # Friday
    assert PLAIN.working_days_between(due, utc(2026, 12, 1, 18), "UTC") == 2
    assert PLAIN.working_days_between(due, utc(2026, 12, 1, 17), "UTC") == 1
    assert PLAIN.working_days_between(due, utc(2026, 11, 29, 23), "UTC") == 0
    assert PLAIN.working_days_between(due, due, "UTC") == 0
    assert PLAIN.working_days_between(utc(2026, 12, 1, 18), due, "UTC") == 0


def test_working_days_between_from_a_weekend() -> None:
    assert PLAIN.working_days_between(utc(2026, 11, 28, 12), utc(2026, 11, 30, 12), "UTC") == 1
    assert PLAIN.working_days_between(utc(2026, 11, 28, 12), utc(2026, 11, 30, 11), "UTC") == 0


def test_middle_east_week() -> None:
    sun_thu = WorkCalendar.parse(None, days="sun-thu")
    assert sun_thu.weekdays == frozenset({6, 0, 1, 2, 3})
    assert sun_thu.is_working_day(date(2026, 11, 27)) is False  # Friday
    assert sun_thu.is_working_day(date(2026, 11, 29)) is True  # Sunday
    assert sun_thu.place(utc(2026, 11, 27, 12), tz="UTC") == utc(2026, 11, 26, 18)
    assert sun_thu.next_working_day(date(2026, 11, 26)) == date(2026, 11, 29)


def test_us_thanksgiving_is_not_a_working_day() -> None:
    assert _country_year("US", 2026).is_working_day(date(2026, 11, 26)) is False
    assert US.is_working_day(date(2026, 11, 26)) is False
    assert US.is_working_day(date(2026, 11, 27)) is True
    assert US.next_working_day(date(2026, 11, 25)) == date(2026, 11, 27)
    assert US.place(ny(2026, 11, 26, 12), tz=NY) == ny(2026, 11, 25, 18)
    assert US.place(ny(2026, 11, 26, 12), tz=NY, now=ny(2026, 11, 25, 19)) == ny(2026, 11, 27, 9)
    assert US.working_days_between(ny(2026, 11, 25, 18), ny(2026, 11, 27, 18), NY) == 1
    assert PLAIN.working_days_between(ny(2026, 11, 25, 18), ny(2026, 11, 27, 18), NY) == 2


# ---------------------------------------------------------------------------
# Invariants over a sweep of instants
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cal", "tz", "first"),
    [
        (CN, SH, sh(2026, 9, 15)),
        (US, NY, ny(2026, 10, 25)),
        (US, NY, ny(2026, 3, 1)),
        (PLAIN, "UTC", utc(2026, 12, 20)),
    ],
)
def test_placement_always_lands_in_working_hours(cal: WorkCalendar, tz: str, first: datetime) -> None:
    for step in range(0, 30 * 24, 5):
        when = first + timedelta(hours=step, minutes=7)
        for kwargs in ({}, {"now": when}):
            placed = cal.place(when, tz=tz, **kwargs)
            day, clock = wall(placed, tz)
            assert cal.is_working_day(day), (when, placed)
            assert cal.start <= clock <= cal.end, (when, placed)
            if "now" in kwargs:
                assert placed >= when
            else:
                assert placed <= when


# ---------------------------------------------------------------------------
# Construction and parsing
# ---------------------------------------------------------------------------


def test_parse_defaults() -> None:
    cal = WorkCalendar.parse(None)
    assert cal == WorkCalendar()
    assert (cal.holidays, cal.start, cal.end, cal.weekdays) == (None, time(9), time(18), frozenset(range(5)))


@pytest.mark.parametrize(("code", "expected"), [("CN", "CN"), ("cn", "CN"), (" us ", "US"), ("", None), ("  ", None)])
def test_parse_holiday_codes(code: str, expected: str | None) -> None:
    assert WorkCalendar.parse(code).holidays == expected


@pytest.mark.parametrize(
    ("hours", "start", "end"),
    [
        ("09:00-18:00", time(9), time(18)),
        ("9:30-17:45", time(9, 30), time(17, 45)),
        (" 08:00 - 12:00 ", time(8), time(12)),
        ("00:00-23:59", time(0), time(23, 59)),
    ],
)
def test_parse_hours(hours: str, start: time, end: time) -> None:
    cal = WorkCalendar.parse(None, hours=hours)
    assert (cal.start, cal.end) == (start, end)


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("mon,tue,wed", {0, 1, 2}),
        ("sun-thu", {6, 0, 1, 2, 3}),
        ("Mon-Wed, Fri", {0, 1, 2, 4}),
        ("fri-mon", {4, 5, 6, 0}),
        ("sat", {5}),
        ("monday-friday", {0, 1, 2, 3, 4}),
        ("mon-sun", set(range(7))),
    ],
)
def test_parse_days(days: str, expected: set[int]) -> None:
    assert WorkCalendar.parse(None, days=days).weekdays == frozenset(expected)


@pytest.mark.parametrize(
    ("holidays", "hours", "days", "message"),
    [
        ("XX", "09:00-18:00", "mon-fri", "unknown holiday calendar"),
        ("China", "09:00-18:00", "mon-fri", "unknown holiday calendar"),
        (None, "25:00-18:00", "mon-fri", "not a time of day"),
        (None, "09:60-18:00", "mon-fri", "not a time of day"),
        (None, "18:00-09:00", "mon-fri", "end after they start"),
        (None, "09:00-09:00", "mon-fri", "end after they start"),
        (None, "9-18", "mon-fri", "must look like"),
        (None, "", "mon-fri", "must look like"),
        (None, "09:00-18:00", "mon-fry", "unknown day name 'fry'"),
        (None, "09:00-18:00", "weekdays", "unknown day name"),
        (None, "09:00-18:00", "", "must look like"),
        (None, "09:00-18:00", "mon,,tue", "must look like"),
    ],
)
def test_parse_rejects_bad_input(holidays: str | None, hours: str, days: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WorkCalendar.parse(holidays, hours=hours, days=days)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"holidays": "ZZ"},
        {"start": time(18), "end": time(9)},
        {"weekdays": frozenset()},
        {"weekdays": frozenset({7})},
        {"start": time(9, tzinfo=UTC)},
    ],
)
def test_constructor_validates(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        WorkCalendar(**kwargs)  # type: ignore[arg-type]


def test_calendar_is_frozen_and_hashable() -> None:
    assert hash(WorkCalendar.parse("cn")) == hash(CN)
    assert {CN, WorkCalendar.parse("CN"), US} == {CN, US}
    with pytest.raises(dataclasses.FrozenInstanceError):
        CN.holidays = "US"  # type: ignore[misc]


def test_naive_datetimes_and_bad_arguments_are_rejected() -> None:
    naive = datetime(2026, 11, 18, 12)
    with pytest.raises(ValueError, match="timezone-aware"):
        CN.place(naive, tz=SH)
    with pytest.raises(ValueError, match="timezone-aware"):
        CN.place(sh(2026, 11, 18, 3), tz=SH, deadline=naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        CN.working_days_between(naive, sh(2026, 11, 18), SH)
    with pytest.raises(ValueError, match="timezone-aware"):
        CN.add_working_days(naive, 1, SH)
    with pytest.raises(ValueError, match="negative"):
        CN.add_working_days(sh(2026, 11, 18), -1, SH)
    with pytest.raises(ValueError, match="IANA"):
        CN.place(sh(2026, 11, 18, 3), tz="Mars/Olympus")
