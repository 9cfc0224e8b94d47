"""Working hours and working days: where reminders may land and how many working days a deadline is overdue."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib
from holidays.holiday_base import HolidayBase

__all__ = ["DAY_NAMES", "WorkCalendar"]

DAY_NAMES: dict[str, int] = {
    "mon": 0,
    "monday": 0,
    "tue": 1,
    "tues": 1,
    "tuesday": 1,
    "wed": 2,
    "wednesday": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "thursday": 3,
    "fri": 4,
    "friday": 4,
    "sat": 5,
    "saturday": 5,
    "sun": 6,
    "sunday": 6,
}

# No real calendar goes this long without a working day; the bound only stops a runaway search.
_MAX_SEARCH_DAYS = 3660

_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@lru_cache(maxsize=256)
def _country_year(code: str, year: int) -> HolidayBase:
    """The holiday table for one country and one year, built once (they are slow to build)."""
    # expand=False keeps the cached table immutable: lookups never add years to a shared object.
    return holidays_lib.country_holidays(code, years=year, expand=False)


def _zone(tz: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name, or ValueError."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"not an IANA timezone: {tz!r}") from exc


def _local(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The wall-clock time `clock` on `day` in `zone`; a time skipped by DST moves forward by the gap."""
    naive = datetime.combine(day, clock.replace(tzinfo=None, fold=0), tzinfo=zone)
    return naive.astimezone(UTC).astimezone(zone)


def _aware(value: datetime, name: str) -> datetime:
    """Return `value`, or raise ValueError if it has no timezone."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")
    return value


def _parse_clock(hh: str, mm: str, text: str) -> time:
    """One HH:MM half of a working-hours string."""
    hour, minute = int(hh), int(mm)
    if hour > 23 or minute > 59:
        raise ValueError(f"working hours must look like 09:00-18:00; {hh}:{mm} is not a time of day in {text!r}")
    return time(hour, minute)


def _parse_hours(text: str) -> tuple[time, time]:
    """Parse "09:00-18:00" into (start, end)."""
    match = _HOURS.match(text)
    if not match:
        raise ValueError(f"working hours must look like 09:00-18:00, not {text!r}")
    start = _parse_clock(match[1], match[2], text)
    end = _parse_clock(match[3], match[4], text)
    if end <= start:
        raise ValueError(f"working hours must end after they start, not {text!r}")
    return start, end


def _day_number(name: str, text: str) -> int:
    """The weekday number (Monday=0) of a day name."""
    key = name.strip().lower()
    if key not in DAY_NAMES:
        raise ValueError(f"unknown day name {name.strip()!r} in working days {text!r}; use mon, tue, ... sun")
    return DAY_NAMES[key]


def _parse_days(text: str) -> frozenset[int]:
    """Parse "mon-fri", "mon,tue,wed" or "sun-thu" (ranges wrap around the week) into weekday numbers."""
    days: set[int] = set()
    for part in text.split(","):
        if not part.strip():
            raise ValueError(f"working days must look like mon-fri or mon,tue,wed, not {text!r}")
        first, sep, last = part.partition("-")
        lo = _day_number(first, text)
        hi = _day_number(last, text) if sep else lo
        days.update((lo + step) % 7 for step in range((hi - lo) % 7 + 1))
    return frozenset(days)


@dataclass(frozen=True)
class WorkCalendar:
    """Working days (a country's public calendar, or fixed weekdays) and daily working hours.

    All datetimes returned are timezone-aware and expressed in the `tz` passed to the method.
    """

    holidays: str | None = None
    start: time = time(9, 0)
    end: time = time(18, 0)
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})

    def __post_init__(self) -> None:
        """Reject calendars that could never be used."""
        if self.holidays is not None and self.holidays not in holidays_lib.list_supported_countries():
            raise ValueError(f"unknown holiday calendar {self.holidays!r}; use a country code such as CN or US")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("working hours are wall-clock times and must not carry a timezone")
        if self.end <= self.start:
            raise ValueError(f"working hours must end after they start, not {self.start:%H:%M}-{self.end:%H:%M}")
        if not self.weekdays:
            raise ValueError("at least one weekday must be a working day")
        if not self.weekdays <= frozenset(range(7)):
            raise ValueError(f"weekdays must be numbers 0 (Monday) to 6 (Sunday), not {sorted(self.weekdays)}")

    @classmethod
    def parse(cls, holidays: str | None, hours: str = "09:00-18:00", days: str = "mon-fri") -> WorkCalendar:
        """Build a calendar from settings strings, raising ValueError that says what is wrong."""
        code = holidays.strip().upper() if holidays is not None else ""
        start, end = _parse_hours(hours)
        return cls(holidays=code or None, start=start, end=end, weekdays=_parse_days(days))

    def is_working_day(self, day: date) -> bool:
        """Whether `day` is a working day (a country's make-up working weekends count as working days)."""
        if isinstance(day, datetime):
            day = day.date()
        if self.holidays is None:
            return day.weekday() in self.weekdays
        return _country_year(self.holidays, day.year).is_working_day(day)

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        return self._step(day, 1)

    def previous_working_day(self, day: date) -> date:
        """The last working day strictly before `day`."""
        return self._step(day, -1)

    def _step(self, day: date, direction: int) -> date:
        """The nearest working day strictly after (1) or before (-1) `day`."""
        if isinstance(day, datetime):
            day = day.date()
        for offset in range(1, _MAX_SEARCH_DAYS + 1):
            candidate = day + timedelta(days=direction * offset)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError(f"no working day within {_MAX_SEARCH_DAYS} days of {day}")

    def add_working_days(self, moment: datetime, n: int, tz: str) -> datetime:
        """The same local clock time in `tz`, `n` (>= 0) working days after `moment`."""
        if n < 0:
            raise ValueError(f"n must not be negative, got {n}")
        zone = _zone(tz)
        local = _aware(moment, "moment").astimezone(zone)
        if n == 0:
            return local
        day = local.date()
        for _ in range(n):
            day = self.next_working_day(day)
        return _local(day, local.time(), zone)

    def working_days_between(self, start: datetime, end: datetime, tz: str) -> int:
        """Whole working days elapsed from `start` to `end` in `tz`; 0 when `end` is not after `start`.

        A working day counts once its local clock has passed `start`'s local clock time, so
        due Friday 18:00 and now Tuesday 18:00 (Monday working) is 2.
        """
        zone = _zone(tz)
        first = _aware(start, "start").astimezone(zone)
        last = _aware(end, "end").astimezone(zone)
        if last <= first:
            return 0
        count = 0
        day = first.date() + timedelta(days=1)
        final = last.date()
        while day < final:
            if self.is_working_day(day):
                count += 1
            day += timedelta(days=1)
        if final > first.date() and self.is_working_day(final) and _local(final, first.time(), zone) <= last:
            count += 1
        return count

    def place(
        self,
        when: datetime,
        *,
        tz: str,
        deadline: datetime | None = None,
        now: datetime | None = None,
    ) -> datetime:
        """Move a reminder into the recipient's working hours in `tz`; the result is aware, expressed in `tz`.

        Inside working hours on a working day `when` is kept (same instant). Otherwise it goes to the end
        of the latest working period before it, if that is before `deadline` and after `now` (each checked
        only when given), else to the start of the next working period.
        """
        zone = _zone(tz)
        local = _aware(when, "when").astimezone(zone)
        if deadline is not None:
            _aware(deadline, "deadline")
        if now is not None:
            _aware(now, "now")
        day, clock = local.date(), local.time()
        working = self.is_working_day(day)
        if working and self.start <= clock <= self.end:
            return local

        earlier_day = day if working and clock > self.end else self.previous_working_day(day)
        earlier = _local(earlier_day, self.end, zone)
        if (deadline is None or earlier < deadline) and (now is None or earlier > now):
            return earlier

        later_day = day if working and clock < self.start else self.next_working_day(day)
        return _local(later_day, self.start, zone)
