"""Shared machinery for reading deadline phrases: result types, calendar and clock arithmetic, zones, matching.

The rule modules (`bot.dates.zh`, `bot.dates.en`, `bot.dates.bilingual`) build on this one and import nothing
else from the package; `bot.dates` puts their rules in order and reads phrases with them.
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TypeVar
from zoneinfo import ZoneInfo

logger = logging.getLogger(__name__)


def _rx(pattern: str) -> re.Pattern[str]:
    """Compile with ASCII word rules, so Latin words are delimited even when glued to Chinese."""
    return re.compile(pattern, re.ASCII)


MORNING_END = time(12, 0)
NOON = time(12, 0)
EVENING = time(21, 0)

# ---------------------------------------------------------------------------
# Calendar helpers
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    """Reference point for one parse: the user's local now and working-day end."""

    now: datetime
    zone: ZoneInfo
    workday_end: time

    @property
    def today(self) -> date:
        """Local calendar date of now."""
        return self.now.date()

    @property
    def monday(self) -> date:
        """Monday of the current week."""
        return self.today - timedelta(days=self.today.weekday())


@dataclass(frozen=True)
class _Clock:
    """A time of day found in the text."""

    at: time
    day_offset: int = 0
    rolls: bool = True


@dataclass(frozen=True)
class _Offset:
    """A duration counted from now, already applied."""

    result: datetime
    whole_days: bool


def _at(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """Build a valid local datetime in zone; gaps move forward, repeated hours take the first."""
    naive = datetime.combine(day, clock.replace(tzinfo=None, fold=0))
    return naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)


def _valid_date(year: int, month: int, day: int) -> date | None:
    """Return the date or None when it does not exist."""
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _last_day(year: int, month: int) -> date:
    """Last day of a month."""
    return date(year, month, calendar.monthrange(year, month)[1])


def _shift_month(year: int, month: int, months: int) -> tuple[int, int]:
    """Year and month a number of months away."""
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def _add_months(moment: datetime, months: int) -> datetime:
    """Same clock time a number of calendar months later, clamping the day."""
    year, month = _shift_month(moment.year, moment.month, months)
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _add_business_days(day: date, count: int) -> date:
    """Date after skipping count Monday-to-Friday days."""
    current = day
    remaining = count
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def _month_day(ctx: _Context, month: int, day: int, year: int | None = None) -> date | None:
    """Resolve a month-day; without a year a day already gone this year means next year."""
    if year is not None:
        return _valid_date(year, month, day)
    found = _valid_date(ctx.today.year, month, day)
    if found is not None and found >= ctx.today:
        return found
    return _valid_date(ctx.today.year + 1, month, day)


def _day_of_month(ctx: _Context, day: int) -> date | None:
    """The next date (from today) whose day of month is day."""
    if not 1 <= day <= 31:
        return None
    year, month = ctx.today.year, ctx.today.month
    for step in range(13):
        y, m = _shift_month(year, month, step)
        found = _valid_date(y, m, day)
        if found is not None and found >= ctx.today:
            return found
    return None


def _weekday(ctx: _Context, weekday: int, weeks_ahead: int | None) -> date:
    """Weekday of this week (rolling to next week once passed) or of a week weeks_ahead away."""
    if weeks_ahead is None:
        found = ctx.monday + timedelta(days=weekday)
        return found if found >= ctx.today else found + timedelta(days=7)
    return ctx.monday + timedelta(days=7 * weeks_ahead + weekday)


def _week_end(ctx: _Context, weeks_ahead: int) -> date:
    """Friday of this week (or of a later one); this week's rolls on once Friday is gone."""
    if weeks_ahead == 0:
        return _weekday(ctx, 4, None)
    return _weekday(ctx, 4, weeks_ahead)


def _quarter_end(ctx: _Context, quarters_ahead: int) -> date:
    """Last day of the calendar quarter quarters_ahead away."""
    quarter_start = (ctx.today.month - 1) // 3 * 3 + 1
    year, month = _shift_month(ctx.today.year, quarter_start, 3 * quarters_ahead + 2)
    return _last_day(year, month)


def _quarter_start(ctx: _Context, quarters_ahead: int) -> date:
    """First day of the calendar quarter quarters_ahead away."""
    quarter_start = (ctx.today.month - 1) // 3 * 3 + 1
    year, month = _shift_month(ctx.today.year, quarter_start, 3 * quarters_ahead)
    return date(year, month, 1)


def _month_position(year: int, month: int, position: str) -> date:
    """Start (初), middle (中) or end (底/末) of a month."""
    if position in ("底", "末", "end"):
        return _last_day(year, month)
    if position == "中":
        return date(year, month, 15)
    return date(year, month, 1)


# ---------------------------------------------------------------------------
# Clock times
# ---------------------------------------------------------------------------

_AM_WORDS = frozenset({"凌晨", "半夜", "夜里", "早上", "早晨", "清晨", "上午", "早", "am", "morning"})
_MIDNIGHT_WORDS = frozenset({"am", "凌晨", "半夜", "夜里"})
_PM_WORDS = frozenset({"下午", "午后", "傍晚", "晚上", "晚间", "夜间", "晚", "pm", "afternoon", "evening"})
_LATE_WORDS = frozenset({"晚上", "晚间", "夜间", "晚", "evening"})
_NOON_WORDS = frozenset({"中午", "noon"})

_ZH_PERIODS = r"凌晨|半夜|夜里|早上|早晨|清晨|上午|中午|午后|下午|傍晚|晚上|晚间|夜间"
_EN_PERIOD_NEAR = _rx(r"\b(morning|afternoon|evening)\b")


def _hour_minute(hour: int, minute: int, period: str | None, *, zero_padded: bool = False) -> _Clock | None:
    """Apply a day-period word (or the 1-7 means afternoon rule) to a 12/24-hour reading."""
    if minute > 59 or hour > 24:
        return None
    if hour == 24:
        return _Clock(time(0, minute), day_offset=1) if minute == 0 else None
    day_offset = 0
    if period in _AM_WORDS:
        if hour == 12 and period in _MIDNIGHT_WORDS:
            hour = 0
    elif period in _PM_WORDS:
        if hour == 12 and period in _LATE_WORDS:
            hour, day_offset = 0, 1
        elif hour < 12:
            hour += 12
    elif period in _NOON_WORDS:
        if 1 <= hour <= 5:
            hour += 12
    elif 1 <= hour <= 7 and not zero_padded:
        hour += 12
    if hour > 23:
        return None
    return _Clock(time(hour, minute), day_offset=day_offset)


def _implied_period(match: re.Match[str]) -> str | None:
    """An English day-period word next to a bare hour ('tomorrow morning at 7', '7 in the evening')."""
    window = match.string[max(0, match.start() - 20) : match.end() + 20]
    found = _EN_PERIOD_NEAR.search(window)
    return found.group(1) if found else None


# A lone 早 after 最/太/更... means "early", not morning.
_ZH_CLOCK_PERIOD = rf"(?:(?P<per>{_ZH_PERIODS}|(?<![最太很较比更稍提过])早|晚)\s*)?"

# ---------------------------------------------------------------------------
# Handlers and durations that rules in more than one module share
# ---------------------------------------------------------------------------


def _md(match: re.Match[str], ctx: _Context) -> date | None:
    """12月1日, 12/1 (month first), year inferred."""
    return _month_day(ctx, int(match.group("m")), int(match.group("d")))


def _dom(match: re.Match[str], ctx: _Context) -> date | None:
    """5号, 'by the 5th': the next such day of month."""
    return _day_of_month(ctx, int(match.group("d")))


# fmt: off
_LIMITS = {
    "minutes": 1_000_000, "hours": 100_000, "days": 40_000, "weeks": 5_000, "months": 1_200,
    "years": 100, "bdays": 30_000,
}
# fmt: on


def _offset(ctx: _Context, amount: float, unit: str) -> _Offset | None:
    """Apply a duration to now: hours exactly, days and longer on the wall clock."""
    if amount < 0 or amount > _LIMITS[unit]:
        return None
    whole = float(amount).is_integer()
    if unit in ("minutes", "hours"):
        delta = timedelta(minutes=amount) if unit == "minutes" else timedelta(hours=amount)
        return _Offset((ctx.now.astimezone(UTC) + delta).astimezone(ctx.zone), whole_days=False)
    if unit in ("months", "years") and whole:
        months = int(amount) * (12 if unit == "years" else 1)
        moved = _add_months(ctx.now.replace(tzinfo=None), months)
        return _Offset(_at(moved.date(), moved.time(), ctx.zone), whole_days=True)
    days = amount * {"days": 1, "weeks": 7, "months": 30, "years": 365, "bdays": 1}[unit]
    if unit == "bdays":
        if not whole:
            return None
        target = _add_business_days(ctx.today, int(amount))
        return _Offset(_at(target, ctx.now.time(), ctx.zone), whole_days=True)
    if float(days).is_integer():
        return _Offset(_at(ctx.today + timedelta(days=int(days)), ctx.now.time(), ctx.zone), whole_days=True)
    return _Offset((ctx.now.astimezone(UTC) + timedelta(days=days)).astimezone(ctx.zone), whole_days=False)


# ---------------------------------------------------------------------------
# Zones
# ---------------------------------------------------------------------------


@lru_cache(maxsize=128)
def _zone(name: str) -> ZoneInfo:
    """ZoneInfo for an IANA name, UTC when the name is unknown."""
    try:
        return ZoneInfo(name)
    except Exception:  # ZoneInfoNotFoundError, ValueError for malformed keys
        logger.warning("unknown time zone %r; using UTC", name)
        return ZoneInfo("UTC")


# ---------------------------------------------------------------------------
# Matching machinery
# ---------------------------------------------------------------------------


_T = TypeVar("_T")


def _take(
    rules: Sequence[tuple[re.Pattern[str], Callable[[re.Match[str], _Context], _T | None]]],
    text: str,
    ctx: _Context,
) -> tuple[_T | None, str, int, int]:
    """Leftmost (then longest) rule match that yields a value, the text with it blanked, its start and the rule."""
    best: tuple[int, int, int, _T] | None = None
    for index, (pattern, handler) in enumerate(rules):
        for match in pattern.finditer(text):
            if best is not None and match.start() > best[0]:
                break
            try:
                value = handler(match, ctx)
            except (ValueError, OverflowError):
                value = None
            if value is None:
                continue
            key = (match.start(), -(match.end() - match.start()), index)
            if best is None or key < best[:3]:
                best = (*key, value)
            break
    if best is None:
        return None, text, -1, -1
    start, negative_length, index = best[0], best[1], best[2]
    end = start - negative_length
    return best[3], text[:start] + " " * (end - start) + text[end:], start, index


# Words around a deadline that add nothing to it: prepositions, "please", "deadline", 前/之前/截止…
_FILLER = _rx(
    r"(?:\s|[^\w\u3400-\u9fff\uf900-\ufaff]"
    r"|\b(?:by|before|on|at|due|until|till|(?:no|not)\s+later\s+than|the|please|pls|plz|deadline|latest"
    r"|around|about|approx(?:imately)?)\b"
    r"|截止(?:到|于|日期|时间)?|截至|之前|以前|为止|最晚|最迟|左右|麻烦|务必|请|前|到|于|在|的)*"
)


class _Declined(Exception):
    """The phrase says more than the rules understood (a word left over, two dates, a contradiction)."""


def _only_filler(text: str) -> bool:
    return _FILLER.fullmatch(text) is not None
