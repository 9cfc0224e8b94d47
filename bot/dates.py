"""Turn deadline phrases typed in chat (Chinese or English) into aware datetimes."""

from __future__ import annotations

import calendar
import logging
import re
import time as _clock
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from dateparser.date import DateDataParser

logger = logging.getLogger(__name__)


def _rx(pattern: str) -> re.Pattern[str]:
    """Compile with ASCII word rules, so Latin words are delimited even when glued to Chinese."""
    return re.compile(pattern, re.ASCII)


__all__ = [
    "DATEPARSER_LANGUAGES",
    "MAX_DATEPARSER_CHARS",
    "MAX_SCAN_CHARS",
    "find_when",
    "format_fallback",
    "parse_when",
    "warm_up",
]

DATEPARSER_LANGUAGES: tuple[str, ...] = ("zh", "en")
MAX_DATEPARSER_CHARS = 200
MAX_SCAN_CHARS = 5000

MORNING_END = time(12, 0)
NOON = time(12, 0)
EVENING = time(21, 0)

# ---------------------------------------------------------------------------
# Text normalisation
# ---------------------------------------------------------------------------

_TRADITIONAL = str.maketrans(
    "週禮後點這個內兩號時鐘頭間裡裏當過結東來紐約倫敦東京臺", "周礼后点这个内两号时钟头间里里当过结东来纽约伦敦东京台"
)

_SPACES = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u2060\ufeff]+")

_ZH_EXPANSIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (_rx(r"明早"), "明天早上"),
    (_rx(r"明晚"), "明天晚上"),
    (_rx(r"今早"), "今天早上"),
    (_rx(r"今晚"), "今天晚上"),
    (_rx(r"今夜"), "今天晚上"),
    # 一点 after an adjective or before 点/儿 means "a bit", not one o'clock.
    (
        _rx(r"一点(?=[点儿])|(?<=[快早晚慢多少好高低大小长短近远轻重简细清楚真紧点有差稍再些])一点"),
        "些",
    ),
)

# fmt: off
_ZH_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3,
    "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}
# fmt: on
_ZH_WEEKDAY_WORD = _rx(r"(周|星期|礼拜)\s*([一二三四五六日天])")
_ZH_WEEKDAY_DIGIT = {"一": "1", "二": "2", "三": "3", "四": "4", "五": "5", "六": "6", "日": "7", "天": "7"}
_ZH_NUMBER = _rx(r"[零〇一二两俩三四五六七八九十百]+")

# fmt: off
_EN_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "ninety": 90,
}
# fmt: on
_EN_NUMBER = _rx(
    r"\b(twenty|thirty|forty|fifty)[- ](one|two|three|four|five|six|seven|eight|nine)\b"
    r"|\b(" + "|".join(sorted(_EN_NUMBERS, key=len, reverse=True)) + r")\b"
)
_EN_EXPANSIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (_rx(r"\b(?:tmrw|tmr|tmw|tmrow|tomorow|tommorow|tommorrow|2moro|2morrow)\b"), "tomorrow"),
    (_rx(r"\bto(?:night|nite)\b"), "today evening"),
    (_rx(r"\bthis\s+(morning|afternoon|evening)\b"), r"today \1"),
    (_rx(r"\bnight\b"), "evening"),
    (_rx(r"\ban\s+hour\s+and\s+a\s+half\b"), "90 minutes"),
    (_rx(r"\b(?:a\s+)?quarter\s+of\s+an\s+hour\b"), "15 minutes"),
    (_rx(r"\b(?:1/2|0?\.5)\s+(?:an\s+)?hour\b"), "30 minutes"),
    (_rx(r"\ban?\s+(day|week|month|year|minute)\s+and\s+a\s+half\b"), r"1.5 \1s"),
    (_rx(r"\b(?:half\s+an|a\s+half|half\s+a|half)\s+hour\b"), "30 minutes"),
    (_rx(r"\b(\d+)\s+and\s+a\s+half\s+([a-z]+)"), r"\1.5 \2"),
    (_rx(r"\ba\s+couple(?:\s+of)?\b"), "2"),
    (_rx(r"\b(?:a\s+)?fortnight\b"), "2 weeks"),
)


# fmt: off
_EN_ORDINALS = {
    "first": 1, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9,
    "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14, "fifteenth": 15,
    "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}
# fmt: on
# "second" only where it cannot be the unit of time: "the second", "second of", "second Tuesday"
_EN_ORDINAL = _rx(
    r"\b(?:(twenty|thirty)[- ])?(" + "|".join(sorted(_EN_ORDINALS, key=len, reverse=True)) + r")\b"
    r"|\b(?:(twenty)[- ])?(second)\b(?=\s+(?:of\b|mon|tue|wed|thu|fri|sat|sun))"
    r"|(?<=\bthe )(?:(twenty)[- ])?(second)\b"
)


def _suffixed(number: int) -> str:
    if 10 <= number % 100 <= 20:
        return f"{number}th"
    return f"{number}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th') }"


def _en_ordinal(match: re.Match[str]) -> str:
    """first -> 1st, twenty-third -> 23rd, the second -> the 2nd."""
    tens_word = match.group(1) or match.group(3) or match.group(5)
    word = match.group(2) or match.group(4) or match.group(6)
    number = _EN_ORDINALS.get(word, 2) + ({"twenty": 20, "thirty": 30}[tens_word] if tens_word else 0)
    return _suffixed(number)


def _zh_number(match: re.Match[str]) -> str:
    """Convert one run of Chinese numerals to Arabic digits."""
    run = match.group(0)
    if "十" not in run and "百" not in run:
        return "".join(str(_ZH_DIGITS[ch]) for ch in run)
    total = 0
    current = 0
    for ch in run:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = _ZH_DIGITS[ch]
    return str(total + current)


def _en_number(match: re.Match[str]) -> str:
    """Convert an English number word (or 'twenty-four' style pair) to digits."""
    if match.group(1):
        return str(_EN_NUMBERS[match.group(1)] + _EN_NUMBERS[match.group(2)])
    return str(_EN_NUMBERS[match.group(3)])


def _clean(text: str) -> str:
    """Fold width, case, control characters and whitespace; keep the words as typed."""
    folded = unicodedata.normalize("NFKC", text).translate(_TRADITIONAL).lower()
    return _SPACES.sub(" ", folded).strip()


def _normalize(cleaned: str) -> str:
    """Rewrite numerals and shorthands so the phrase patterns see one spelling."""
    text = cleaned
    for pattern, replacement in _ZH_EXPANSIONS:
        text = pattern.sub(replacement, text)
    text = _ZH_WEEKDAY_WORD.sub(lambda m: f"{m.group(1)}{_ZH_WEEKDAY_DIGIT[m.group(2)]} ", text)
    text = _ZH_NUMBER.sub(_zh_number, text)
    text = _EN_ORDINAL.sub(_en_ordinal, text)
    text = _EN_NUMBER.sub(_en_number, text)
    for pattern, replacement in _EN_EXPANSIONS:
        text = pattern.sub(replacement, text)
    return text


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


def _zh_clock(match: re.Match[str], ctx: _Context) -> _Clock | None:
    """下午3点, 三点半, 早上9点15分, 3点一刻."""
    hour = int(match.group("h"))
    if match.group("half"):
        minute = 30
    elif match.group("q"):
        minute = 15 * int(match.group("q"))
    elif match.group("m"):
        minute = int(match.group("m"))
    else:
        minute = 0
    if match.group("per") and hour > 12:
        return None  # "下午15点", "上午15点": a 24-hour clock and a day period contradict or repeat each other
    return _hour_minute(hour, minute, match.group("per"))


def _hhmm(match: re.Match[str], ctx: _Context) -> _Clock | None:
    """15:00, 3:00, 下午3:30."""
    raw_hour = match.group("h")
    if match.group("per") and int(raw_hour) > 12:
        return None  # "下午15:30"
    period = match.group("per") or _implied_period(match)
    return _hour_minute(int(raw_hour), int(match.group("m")), period, zero_padded=raw_hour.startswith("0"))


def _ampm(match: re.Match[str], ctx: _Context) -> _Clock | None:
    """3pm, 11:30 a.m."""
    hour = int(match.group("h"))
    if not 1 <= hour <= 12:
        return None
    minute = int(match.group("m") or 0)
    period = "am" if match.group("ap").startswith("a") else "pm"
    if period == "am" and hour == 12:
        return _hour_minute(0, minute, None, zero_padded=True)
    return _hour_minute(hour, minute, period)


def _bare_hour(match: re.Match[str], ctx: _Context) -> _Clock | None:
    """'at 3', '3 o'clock'."""
    raw_hour = match.group("h")
    return _hour_minute(int(raw_hour), 0, _implied_period(match), zero_padded=raw_hour.startswith("0"))


def _compact(match: re.Match[str], ctx: _Context) -> _Clock | None:
    """'at 1030', 'at 0915': hours and minutes written together."""
    digits = match.group("hm")
    return _hour_minute(int(digits[:-2]), int(digits[-2:]), None, zero_padded=len(digits) == 4)


def _past_to(match: re.Match[str], ctx: _Context) -> _Clock | None:
    """quarter past 3pm, half past four, 20 to 5, ten past 9am."""
    if match.group("q"):
        minutes = 15
    elif match.group("half"):
        if match.group("rel") not in ("past", "after"):
            return None
        minutes = 30
    else:
        minutes = int(match.group("mm"))
        if not 1 <= minutes <= 59:
            return None
    ap = match.group("ap")
    period = ("am" if ap.startswith("a") else "pm") if ap else _implied_period(match)
    base = _hour_minute(int(match.group("h")), 0, period)
    if base is None:
        return None
    moment = datetime.combine(date(2000, 1, 2 + base.day_offset), base.at)
    moment += timedelta(minutes=minutes if match.group("rel") in ("past", "after") else -minutes)
    return _Clock(moment.time(), day_offset=moment.day - 2)


def _zh_minutes_to(match: re.Match[str], ctx: _Context) -> _Clock | None:
    """差五分三点, 三点差五分, 下午5点差一刻: minutes before the hour."""
    quarters = match.groupdict().get("q")
    minutes = 15 * int(quarters) if quarters else int(match.group("d"))
    if not 1 <= minutes <= 59 or (match.group("per") and int(match.group("h")) > 12):
        return None
    base = _hour_minute(int(match.group("h")), 0, match.group("per"))
    if base is None:
        return None
    moment = datetime.combine(date(2000, 1, 2 + base.day_offset), base.at) - timedelta(minutes=minutes)
    return _Clock(moment.time(), day_offset=moment.day - 2)


def _fixed(clock: time, day_offset: int = 0) -> Callable[[re.Match[str], _Context], _Clock]:
    """Handler for a word that always means one time of day (noon, midnight)."""

    def handler(match: re.Match[str], ctx: _Context) -> _Clock:
        return _Clock(clock, day_offset=day_offset)

    return handler


def _end_of_workday(match: re.Match[str], ctx: _Context) -> _Clock:
    """EOD / 下班前: the end of the working day, on today unless a day is named."""
    return _Clock(ctx.workday_end, rolls=False)


def _period_only(match: re.Match[str], ctx: _Context) -> _Clock | None:
    """A day period without an hour: the end of that period."""
    word = match.group(0)
    if word in ("上午", "早上", "早晨", "清晨", "morning", "中午"):
        return _Clock(MORNING_END)
    if word in ("下午", "午后", "傍晚", "afternoon"):
        return _Clock(ctx.workday_end)
    if word in ("晚上", "晚间", "夜间", "evening"):
        return _Clock(EVENING)
    return None


# A lone 早 after 最/太/更... means "early", not morning.
_ZH_CLOCK_PERIOD = rf"(?:(?P<per>{_ZH_PERIODS}|(?<![最太很较比更稍提过])早|晚)\s*)?"
_POINTS_NOT_TIME = (
    r"(?!\s*(?:钟头|意见|建议|问题|要求|需求|内容|想法|原因|看法"
    r"|说明|注意|疑问|方面|事项|理由|改进|不足|收获|体会))"
)

_CLOCKS: Sequence[tuple[re.Pattern[str], Callable[[re.Match[str], _Context], _Clock | None]]] = (
    (
        _rx(
            _ZH_CLOCK_PERIOD + r"(?<![\d.:/第])(?P<h>\d{1,2})\s*[点时]"
            r"(?:\s*(?P<half>半)|\s*(?P<q>[1-3])\s*刻|\s*(?P<m>\d{1,2})(?!\d)(?:\s*分)?)?" + _POINTS_NOT_TIME
        ),
        _zh_clock,
    ),
    (
        _rx(r"(?:(?:\bat|@)\s*)?(?<![\w:.])(?P<h>\d{1,2})(?:[:.](?P<m>\d{2}))?\s*(?P<ap>a\.?m\.?|p\.?m\.?)(?![a-z])"),
        _ampm,
    ),
    (
        _rx(_ZH_CLOCK_PERIOD + r"(?:(?:\bat|@)\s*)?(?<![\w:.\-/])(?P<h>\d{1,2}):(?P<m>\d{2})(?::\d{2})?(?![\d:])"),
        _hhmm,
    ),
    (_rx(r"(?:\bat|@)\s*(?P<hm>\d{3,4})(?![\d:.%/])(?!\s*(?:a\.?m|p\.?m|%|percent|people|items?|x\b))"), _compact),
    (
        _rx(
            r"\b(?:(?P<q>(?:a\s+)?quarter)|(?P<half>half)|(?P<mm>\d{1,2})(?:\s*min(?:ute)?s?)?)\s+"
            r"(?P<rel>past|after|to|till)\s+(?P<h>\d{1,2})(?:\s*o'?clock)?(?:\s*(?P<ap>a\.?m\.?|p\.?m\.?))?"
            r"(?![\w:])"
        ),
        _past_to,
    ),
    (
        _rx(_ZH_CLOCK_PERIOD + r"差\s*(?P<d>\d{1,2})\s*分?\s*(?P<h>\d{1,2})\s*[点时](?!\s*\d)"),
        _zh_minutes_to,
    ),
    (
        _rx(_ZH_CLOCK_PERIOD + r"(?P<h>\d{1,2})\s*[点时]\s*差\s*(?:(?P<d>\d{1,2})\s*分|(?P<q>[1-3])\s*刻)"),
        _zh_minutes_to,
    ),
    (
        _rx(
            r"(?:\bat|@)\s*(?P<h>\d{1,2})(?:\s*o'?clock)?(?![\d:.%/]|\s*(?:%|percent|min|hour|hr|day|week"
            r"|month|year|people|person|item|time|x\b|st\b|nd\b|rd\b|th\b))"
        ),
        _bare_hour,
    ),
    (_rx(r"(?<![\w:.])(?P<h>\d{1,2})\s*o'?clock\b"), _bare_hour),
    (_rx(r"\b(?:12\s*)?(?:noon|midday)\b"), _fixed(NOON)),
    (_rx(r"\b(?:12\s*)?midnight\b"), _fixed(time(0, 0), day_offset=1)),
)

_END_OF_DAY: Sequence[tuple[re.Pattern[str], Callable[[re.Match[str], _Context], _Clock | None]]] = (
    (
        _rx(
            r"\b(?:eod|cob|eob|end\s+of\s+(?:the\s+)?(?:business\s+|work(?:ing)?\s+)?day"
            r"|close\s+of\s+(?:business|play)|end\s+of\s+business)\b|下班"
        ),
        _end_of_workday,
    ),
)

_PERIODS: Sequence[tuple[re.Pattern[str], Callable[[re.Match[str], _Context], _Clock | None]]] = (
    (_rx(rf"{_ZH_PERIODS}|\b(?:morning|afternoon|evening)\b"), _period_only),
)

# ---------------------------------------------------------------------------
# Days
# ---------------------------------------------------------------------------

# fmt: off
_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
    "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9,
    "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}
# fmt: on
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
# fmt: off
_WEEKDAYS = {
    "monday": 0, "mon": 0, "tuesday": 1, "tues": 1, "tue": 1, "wednesday": 2, "weds": 2, "wed": 2,
    "thursday": 3, "thurs": 3, "thur": 3, "thu": 3, "friday": 4, "fri": 4, "saturday": 5, "sat": 5,
    "sunday": 6, "sun": 6,
}
# fmt: on
_WEEKDAY_NAMES = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
_ZH_WEEK_PREFIX = {"下下": 2, "下": 1, "这": 0, "本": 0, "上": -1, "上上": -2, "当": 0}


def _zh_week_offset(prefix: str | None) -> int | None:
    """Weeks ahead meant by 下/下下/上/本/这 (None for a bare weekday)."""
    if not prefix:
        return None
    key = prefix.replace("个", "")
    offset = _ZH_WEEK_PREFIX[key]
    return None if offset == 0 else offset


def _ymd(match: re.Match[str], ctx: _Context) -> date | None:
    """2026-12-01, 2026/12/1, 2026年12月1日."""
    return _valid_date(int(match.group("y")), int(match.group("m")), int(match.group("d")))


def _mdy(match: re.Match[str], ctx: _Context) -> date | None:
    """12/1/2026 (month first)."""
    year = int(match.group("y"))
    if year < 100:
        year += 2000
    return _valid_date(year, int(match.group("m")), int(match.group("d")))


def _md(match: re.Match[str], ctx: _Context) -> date | None:
    """12月1日, 12/1 (month first), year inferred."""
    return _month_day(ctx, int(match.group("m")), int(match.group("d")))


def _named_month_day(match: re.Match[str], ctx: _Context) -> date | None:
    """Dec 1, 1 December 2026."""
    year = int(match.group("y")) if match.group("y") else None
    return _month_day(ctx, _MONTHS[match.group("mon")], int(match.group("d")), year)


def _dom(match: re.Match[str], ctx: _Context) -> date | None:
    """5号, 'by the 5th': the next such day of month."""
    return _day_of_month(ctx, int(match.group("d")))


def _zh_weekday(match: re.Match[str], ctx: _Context) -> date | None:
    """周五, 本周五, 下周五, 下下周一, 星期天."""
    return _weekday(ctx, int(match.group("wd")) - 1, _zh_week_offset(match.group("pre")))


def _en_weekday(match: re.Match[str], ctx: _Context) -> date | None:
    """Friday, this Friday, next Friday, Friday next week, the Friday after next."""
    name = match.group("wd")
    prefix = (match.group("pre") or "").split()
    suffix = " ".join((match.group("post") or "").split())
    if name in ("sat", "sun") and not prefix and not suffix:
        return None
    weekday = _WEEKDAYS[name]
    if "after next" in suffix:
        return _weekday(ctx, weekday, 2)
    if "next week" in suffix:
        return _weekday(ctx, weekday, 1)
    if "this week" in suffix:
        return _weekday(ctx, weekday, 0)
    if prefix and prefix[0] == "next":
        return _weekday(ctx, weekday, 1)
    if prefix and prefix[0] == "last":
        return _weekday(ctx, weekday, -1)
    return _weekday(ctx, weekday, None)


def _en_week_weekday(match: re.Match[str], ctx: _Context) -> date | None:
    """'next week Friday', 'this week's Monday'."""
    return _weekday(ctx, _WEEKDAYS[match.group("wd")], 1 if match.group("pre") == "next" else 0)


# fmt: off
_RELATIVE_DAYS = {
    "大后天": 3, "后天": 2, "后日": 2, "明天": 1, "明日": 1, "明儿": 1, "今天": 0, "今日": 0,
    "今儿": 0, "昨天": -1, "昨日": -1, "前天": -2, "前日": -2, "大前天": -3,
    "today": 0, "tomorrow": 1, "yesterday": -1,
}
# fmt: on


def _relative_day(match: re.Match[str], ctx: _Context) -> date:
    """今天, 明天, 后天, 大后天, today, tomorrow, the day after tomorrow."""
    word = match.group(0)
    if "after" in word:
        offset = 2
    elif "before" in word:
        offset = -2
    else:
        offset = _RELATIVE_DAYS[word]
    return ctx.today + timedelta(days=offset)


def _zh_week_range(match: re.Match[str], ctx: _Context) -> date:
    """本周内, 这周末前, 下周, 下周内: Friday of that week."""
    offset = _zh_week_offset(match.group("pre"))
    return _week_end(ctx, offset or 0)


def _this_week_end(match: re.Match[str], ctx: _Context) -> date:
    """周末前, EOW, end of week, this week, by the weekend."""
    return _week_end(ctx, 0)


def _en_week_range(match: re.Match[str], ctx: _Context) -> date:
    """End of (this/next) week, next week, the coming week, last week, this/next weekend: that week's Friday."""
    text = match.group(0)
    if "last" in text:
        return _week_end(ctx, -1)
    return _week_end(ctx, 1 if "next" in text or "coming" in text else 0)


def _zh_month_range(match: re.Match[str], ctx: _Context) -> date:
    """月底, 本月底, 下个月初, 月中."""
    prefix = match.group("pre") or ""
    position = match.group("pos")
    ahead = 1 if prefix.startswith("下") else 0
    year, month = _shift_month(ctx.today.year, ctx.today.month, ahead)
    found = _month_position(year, month, position)
    if not prefix and found < ctx.today:
        year, month = _shift_month(year, month, 1)
        found = _month_position(year, month, position)
    return found


def _numbered_month_range(match: re.Match[str], ctx: _Context) -> date | None:
    """12月底, 3月初: next such month from today."""
    month = int(match.group("m"))
    if not 1 <= month <= 12:
        return None
    found = _month_position(ctx.today.year, month, match.group("pos"))
    if found < ctx.today:
        found = _month_position(ctx.today.year + 1, month, match.group("pos"))
    return found


def _en_month_range(match: re.Match[str], ctx: _Context) -> date:
    """End of (this/next) month, EOM, start of next month."""
    text = match.group(0)
    ahead = 1 if "next" in text else 0
    year, month = _shift_month(ctx.today.year, ctx.today.month, ahead)
    if "begin" in text or "start" in text or "early" in text:
        return date(year, month, 1)
    return _last_day(year, month)


def _zh_year_month(match: re.Match[str], ctx: _Context) -> date | None:
    """明年3月底, 今年12月5号, 下一年1月初."""
    year = ctx.today.year + (0 if match.group("yr") == "今年" else 1)
    month = int(match.group("m"))
    if not 1 <= month <= 12:
        return None
    if match.group("pos"):
        return _month_position(year, month, match.group("pos"))
    return _valid_date(year, month, int(match.group("d")))


def _zh_whole_month(match: re.Match[str], ctx: _Context) -> date:
    """下个月, 这个月, 本月 as a deadline: the month's last day."""
    ahead = 1 if match.group("pre").startswith("下") else 0
    year, month = _shift_month(ctx.today.year, ctx.today.month, ahead)
    return _last_day(year, month)


def _zh_month_day(match: re.Match[str], ctx: _Context) -> date | None:
    """下个月20号, 这个月30号, 本月5日."""
    ahead = 1 if match.group("pre").startswith("下") else 0
    year, month = _shift_month(ctx.today.year, ctx.today.month, ahead)
    return _valid_date(year, month, int(match.group("d")))


def _en_month_day(match: re.Match[str], ctx: _Context) -> date | None:
    """the 1st of next month, the 15th of this month."""
    year, month = _shift_month(ctx.today.year, ctx.today.month, 1 if match.group("rel") == "next" else 0)
    return _valid_date(year, month, int(match.group("d")))


def _nth_weekday(match: re.Match[str], ctx: _Context) -> date | None:
    """first Tuesday of October, last Friday of the month, 2nd Monday of next month."""
    weekday = _WEEKDAYS[match.group("wd")]
    n = match.group("n")

    def nth(year: int, month: int) -> date | None:
        days = [
            d for d in range(1, calendar.monthrange(year, month)[1] + 1) if date(year, month, d).weekday() == weekday
        ]
        if n == "last":
            return date(year, month, days[-1])
        index = int(n[0]) - 1
        return date(year, month, days[index]) if index < len(days) else None

    if match.group("mon"):
        month = _MONTHS[match.group("mon")]
        found = nth(ctx.today.year, month)
        if found is None or found < ctx.today:
            found = nth(ctx.today.year + 1, month)
        return found
    year, month = _shift_month(ctx.today.year, ctx.today.month, 1 if match.group("rel") else 0)
    return nth(year, month)


def _weekdays_from_now(match: re.Match[str], ctx: _Context) -> date | None:
    """3 Fridays from now: the third Friday after today."""
    count = int(match.group("n"))
    if not 1 <= count <= 520:
        return None
    ahead = (_WEEKDAYS[match.group("wd")] - ctx.today.weekday()) % 7 or 7
    return ctx.today + timedelta(days=ahead + 7 * (count - 1))


def _en_month_position(match: re.Match[str], ctx: _Context) -> date:
    """end of December, mid-January, early March: the next such part of that month."""
    position = "end" if match.group("end") else "中" if match.group("mid") else "初"
    month = _MONTHS[match.group("mon")]
    found = _month_position(ctx.today.year, month, position)
    return found if found >= ctx.today else _month_position(ctx.today.year + 1, month, position)


def _quarter_range(match: re.Match[str], ctx: _Context) -> date:
    """季度末, 本季度末, 下季度初, end of quarter, EOQ."""
    text = match.group(0)
    ahead = 1 if ("下" in text or "next" in text) else 0
    if "初" in text:
        this_quarter = any(word in text for word in ("本", "这", "当"))
        return _quarter_start(ctx, 0 if this_quarter else 1)
    return _quarter_end(ctx, ahead)


def _numbered_quarter_end(match: re.Match[str], ctx: _Context) -> date:
    """第四季度末, Q4 end: last day of that quarter (next year once gone)."""
    quarter = int(match.group("q") or match.group("q2"))
    found = _last_day(ctx.today.year, quarter * 3)
    return found if found >= ctx.today else _last_day(ctx.today.year + 1, quarter * 3)


def _year_range(match: re.Match[str], ctx: _Context) -> date:
    """年底, 明年初, end of year, EOY."""
    text = match.group(0)
    ahead = any(word in text for word in ("明", "下", "来", "next"))
    year = int(match.group("y")) if match.group("y") else ctx.today.year + (1 if ahead else 0)
    if "初" not in text:
        return date(year, 12, 31)
    bare = not match.group("y") and not any(word in text for word in ("今", "本", "明", "下", "来"))
    return date(year + 1 if bare else year, 1, 1)


_DAYS: Sequence[tuple[re.Pattern[str], Callable[[re.Match[str], _Context], date | None]]] = (
    (
        _rx(r"(?<!\d)(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})(?!\d)\s*[日号]?"),
        _ymd,
    ),
    (_rx(r"(?<![\d/.\-])(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4}|\d{2})(?![\d/])"), _mdy),
    (_rx(r"(?<![\d个])(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})(?!\d)\s*[日号]?"), _md),
    (_rx(r"(?<![\d/.\-:])(?P<m>\d{1,2})/(?P<d>\d{1,2})(?![\d/])"), _md),
    (
        _rx(rf"\b(?P<mon>{_MONTH_NAMES})\.?\s*(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b(?!:)(?:,?\s*(?P<y>\d{{4}})\b)?"),
        _named_month_day,
    ),
    (
        _rx(
            rf"(?<![\w:.])(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s*(?:of\s+)?(?P<mon>{_MONTH_NAMES})\b\.?"
            rf"(?:,?\s*(?P<y>\d{{4}})\b)?"
        ),
        _named_month_day,
    ),
    (
        _rx(r"(?<![\d月/.\-:第])(?P<d>\d{1,2})\s*[号日](?![线楼房室机位门口件床店\d])"),
        _dom,
    ),
    (
        _rx(
            r"\b(?:(?:on|by|before|until|till|due)\s+(?:the\s+)?|the\s+)(?P<d>\d{1,2})(?:st|nd|rd|th)\b"
            rf"(?!\s*(?:of\s+)?(?:{_MONTH_NAMES}|this|next|the|month)\b)"
        ),
        _dom,
    ),
    (
        _rx(
            r"(?P<pre>下下个?|下个?|这个?|本|上上个?|上个?)?\s*(?<!\d)(?:周|星期|礼拜)\s*(?P<wd>[1-7])"
            r"(?!\d|\s*[次个遍回])"
        ),
        _zh_weekday,
    ),
    (
        _rx(
            r"(?:\b(?P<pre>this\s+coming|coming|this|next|last|on|by|before|until|till|due)\s+)?"
            rf"(?<![\w'])(?P<wd>{_WEEKDAY_NAMES})\b\.?"
            r"(?:\s+(?P<post>after\s+next|next\s+week|this\s+week|of\s+next\s+week|of\s+this\s+week))?"
        ),
        _en_weekday,
    ),
    (_rx(rf"\b(?P<pre>next|this)\s+week'?s?\s+(?P<wd>{_WEEKDAY_NAMES})\b"), _en_week_weekday),
    (
        _rx(
            r"大后天|后天|后日|明天|明日|明儿|今天|今日|今儿|昨天|昨日|大前天|前天|前日"
            r"|\b(?:(?:the\s+)?day\s+after\s+tomorrow|(?:the\s+)?day\s+before\s+yesterday|tomorrow|today"
            r"|yesterday)\b"
        ),
        _relative_day,
    ),
    (
        _rx(
            r"(?P<pre>下下个?|下个?|这个?|本|当|上上个?|上个?)\s*(?:1\s*)?(?:周|星期|礼拜)(?!\s*\d)"
            r"(?:\s*(?:之内|以内|内|末|结束))?"
        ),
        _zh_week_range,
    ),
    (_rx(r"(?<![下这本个上\d])周末\s*(?:之前|以前|前)"), _this_week_end),
    (
        _rx(
            r"\b(?:(?:the\s+)?end\s+of\s+(?:the\s+)?(?:this\s+|next\s+|last\s+)?week|(?:this|next|last)\s+week|eow"
            r"|(?:by|before)\s+the\s+weekend|within\s+the\s+week|(?:the\s+|this\s+)?coming\s+week"
            r"|(?:this|next)\s+weekend)\b"
        ),
        _en_week_range,
    ),
    (_rx(r"(?:(?P<pre>下个?|这个?|本|当)|(?<![\d个]))月\s*(?P<pos>底|末|初|中)"), _zh_month_range),
    (_rx(r"(?<!\d)(?P<m>\d{1,2})\s*月\s*(?P<pos>底|末|初|中)"), _numbered_month_range),
    (
        _rx(r"(?P<yr>今年|明年|来年|下1?年)\s*(?P<m>\d{1,2})\s*月\s*(?:(?P<pos>底|末|初|中)|(?P<d>\d{1,2})\s*[日号]?)"),
        _zh_year_month,
    ),
    (_rx(r"(?P<pre>下个?|这个?|本|当)\s*月\s*(?:份)?(?!\s*(?:[底末初中]|\d))"), _zh_whole_month),
    (_rx(r"(?P<pre>下个?|这个?|本|当)\s*月\s*(?P<d>\d{1,2})\s*[号日]"), _zh_month_day),
    (
        _rx(r"\b(?:the\s+)?(?P<d>\d{1,2})(?:st|nd|rd|th)\s+of\s+(?:(?P<rel>this|next)\s+|the\s+)month\b"),
        _en_month_day,
    ),
    (
        _rx(
            r"\b(?P<n>1st|2nd|3rd|4th|5th|last)\s+(?P<wd>" + _WEEKDAY_NAMES + r")\s+(?:of|in)\s+"
            r"(?:(?P<mon>" + _MONTH_NAMES + r")|(?:the|this)\s+month|(?P<rel>next)\s+month)\b"
        ),
        _nth_weekday,
    ),
    (
        _rx(r"\b(?P<n>\d{1,2})\s+(?P<wd>" + _WEEKDAY_NAMES + r")s\s+(?:from\s+(?:now|today)|later)\b"),
        _weekdays_from_now,
    ),
    (
        _rx(
            r"\b(?:(?P<end>(?:the\s+)?end\s+of|late)|(?P<mid>mid(?:dle\s+of)?)|(?P<start>(?:the\s+)?(?:beginning|start)"
            r"\s+of|early))[\s-]*(?P<mon>" + _MONTH_NAMES + r")\b"
        ),
        _en_month_position,
    ),
    (
        _rx(
            r"\b(?:(?:the\s+)?end\s+of\s+(?:the\s+)?(?:this\s+|next\s+)?month|eom|(?:this\s+|next\s+)?month[-\s]end"
            r"|(?:the\s+)?(?:beginning|start)\s+of\s+(?:the\s+)?next\s+month|early\s+next\s+month"
            r"|(?:the\s+)?last\s+day\s+of\s+(?:the\s+|this\s+|next\s+)month|(?:this|next)\s+month)\b"
        ),
        _en_month_range,
    ),
    (
        _rx(
            r"(?:下个?|这个?|本|当)?\s*季度?\s*(?:末|底|初)"
            r"|\b(?:(?:the\s+)?end\s+of\s+(?:the\s+)?(?:this\s+|next\s+)?quarter|eoq"
            r"|(?:this\s+|next\s+)?quarter[-\s]end)\b"
        ),
        _quarter_range,
    ),
    (
        _rx(r"第\s*(?P<q>[1-4])\s*季度?\s*(?:末|底|结束)|\bq(?P<q2>[1-4])\s*(?:末|底|end)\b"),
        _numbered_quarter_end,
    ),
    (
        _rx(
            r"(?P<y>\d{4})\s*年\s*(?:底|末|初)|(?:今|明|本|下|来)?\s*年\s*(?:底|末|初)"
            r"|\b(?:(?:the\s+)?end\s+of\s+(?:the\s+)?(?:this\s+|next\s+)?year|eoy|(?:this\s+|next\s+)?year[-\s]end)\b"
        ),
        _year_range,
    ),
)

_WEEKDAY_RULES = frozenset(
    i for i, (_, handler) in enumerate(_DAYS) if handler in (_zh_weekday, _en_weekday, _en_week_weekday)
)

# ---------------------------------------------------------------------------
# Durations
# ---------------------------------------------------------------------------

# fmt: off
_ZH_UNITS = {
    "分钟": "minutes", "分": "minutes", "小时": "hours", "钟头": "hours", "天": "days", "日": "days",
    "周": "weeks", "星期": "weeks", "礼拜": "weeks", "月": "months", "年": "years", "工作日": "bdays",
}
# fmt: on
# fmt: off
_LIMITS = {
    "minutes": 1_000_000, "hours": 100_000, "days": 40_000, "weeks": 5_000, "months": 1_200,
    "years": 100, "bdays": 30_000,
}
# fmt: on


def _en_unit(word: str) -> str:
    """Canonical unit name for an English duration word."""
    if "day" in word and word[0] in "bw":
        return "bdays"
    head = word[:2]
    if head in ("mi", "m") or word == "m":
        return "minutes"
    if head == "mo":
        return "months"
    return {"h": "hours", "d": "days", "w": "weeks", "y": "years"}[word[0]]


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


def _zh_duration(match: re.Match[str], ctx: _Context) -> _Offset | None:
    """3天后, 24小时内, 两周内, 一个月内, 半小时后, 过两天."""
    raw = match.group("n")
    unit = match.group("unit")
    if unit == "月" and not match.group("ge"):
        return None
    amount = 0.5 if raw == "半" else float(raw)
    if match.group("half") or match.groupdict().get("half2"):
        if raw == "半" or (match.group("half") and match.groupdict().get("half2")):
            return None
        amount += 0.5
    return _offset(ctx, amount, _ZH_UNITS[unit])


def _zh_quarter_hours(match: re.Match[str], ctx: _Context) -> _Offset | None:
    """一刻钟后, 3刻钟内: quarters of an hour."""
    return _offset(ctx, 15 * int(match.group("n")), "minutes")


def _en_hours_minutes(match: re.Match[str], ctx: _Context) -> _Offset | None:
    """in 1h30m, within 2 hours 15 minutes."""
    return _offset(ctx, 60 * int(match.group("h")) + int(match.group("m")), "minutes")


def _en_duration(match: re.Match[str], ctx: _Context) -> _Offset | None:
    """in 2 hours, within 3 days, 3 days later, 2 weeks from now."""
    raw = match.group("n")
    amount = 1.0 if raw in ("a", "an") else float(raw)
    return _offset(ctx, amount, _en_unit(match.group("unit").replace(" ", "")))


_ZH_UNIT_PATTERN = r"(?P<unit>分钟|小时|钟头|工作日|天|日|周|星期|礼拜|月|年|分)"
_EN_UNIT_PATTERN = (
    r"(?P<unit>business\s*days?|working\s*days?|work\s*days?|minutes?|mins?|hours?|hrs?|days?|weeks?|wks?"
    r"|months?|mos?|years?|yrs?|m|h|d|w)"
)
_EN_AMOUNT = r"(?P<n>\d+(?:\.\d+)?|an?)"

_DURATIONS: Sequence[tuple[re.Pattern[str], Callable[[re.Match[str], _Context], _Offset | None]]] = (
    (
        _rx(
            r"(?:再?过\s*)?(?<![\d月/\-.:第])(?P<n>\d+(?:\.\d+)?|半)\s*(?P<ge>个)?\s*(?P<half>半)?\s*"
            + _ZH_UNIT_PATTERN
            + r"\s*(?P<half2>半)?\s*(?:之后|以后|过后|后|之内|以内|内)"
        ),
        _zh_duration,
    ),
    (
        _rx(r"再?过\s*(?P<n>\d+(?:\.\d+)?|半)\s*(?P<ge>个)?\s*(?P<half>半)?\s*" + _ZH_UNIT_PATTERN),
        _zh_duration,
    ),
    (
        _rx(r"(?:再?过\s*)?(?<![\d点时:])(?P<n>\d{1,3})\s*刻\s*钟?\s*(?:之后|以后|过后|后|之内|以内|内)"),
        _zh_quarter_hours,
    ),
    (
        _rx(
            r"\b(?:in|within|after)\s+(?P<h>\d{1,3})\s*(?:h|hrs?|hours?)\s*(?:and\s+)?(?P<m>\d{1,2})\s*"
            r"(?:m|mins?|minutes?)\b"
        ),
        _en_hours_minutes,
    ),
    (
        _rx(rf"\b(?:in|within|after)\s+(?:the\s+)?(?:next\s+)?{_EN_AMOUNT}\s*{_EN_UNIT_PATTERN}\b"),
        _en_duration,
    ),
    (
        _rx(rf"(?<![\w.]){_EN_AMOUNT}\s*{_EN_UNIT_PATTERN}\s+(?:later|from\s+now|from\s+today|hence)\b"),
        _en_duration,
    ),
)

# ---------------------------------------------------------------------------
# Time zones named in the phrase ("4pm CET", "10am New York time", "北京时间下午三点")
# ---------------------------------------------------------------------------

# fmt: off
_ZONE_ABBREVIATIONS = {
    "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles", "pt": "America/Los_Angeles",
    "mst": "America/Denver", "mdt": "America/Denver", "est": "America/New_York", "edt": "America/New_York",
    "et": "America/New_York", "gmt": "UTC", "utc": "UTC", "bst": "Europe/London", "cet": "Europe/Paris",
    "cest": "Europe/Paris", "jst": "Asia/Tokyo", "kst": "Asia/Seoul", "hkt": "Asia/Hong_Kong",
    "sgt": "Asia/Singapore", "aest": "Australia/Sydney", "aedt": "Australia/Sydney",
}
_ZONE_PLACES = {
    "new york": "America/New_York", "nyc": "America/New_York", "eastern": "America/New_York",
    "pacific": "America/Los_Angeles", "san francisco": "America/Los_Angeles", "sf": "America/Los_Angeles",
    "los angeles": "America/Los_Angeles", "seattle": "America/Los_Angeles", "mountain": "America/Denver",
    "chicago": "America/Chicago", "london": "Europe/London", "uk": "Europe/London", "paris": "Europe/Paris",
    "berlin": "Europe/Berlin", "central european": "Europe/Berlin", "tokyo": "Asia/Tokyo", "japan": "Asia/Tokyo",
    "seoul": "Asia/Seoul", "singapore": "Asia/Singapore", "sydney": "Australia/Sydney",
    "hong kong": "Asia/Hong_Kong", "beijing": "Asia/Shanghai", "shanghai": "Asia/Shanghai",
    "china": "Asia/Shanghai", "taipei": "Asia/Taipei", "india": "Asia/Kolkata",
    "北京": "Asia/Shanghai", "上海": "Asia/Shanghai", "中国": "Asia/Shanghai", "香港": "Asia/Hong_Kong",
    "台北": "Asia/Taipei", "东京": "Asia/Tokyo", "首尔": "Asia/Seoul", "新加坡": "Asia/Singapore",
    "纽约": "America/New_York", "旧金山": "America/Los_Angeles", "洛杉矶": "America/Los_Angeles",
    "伦敦": "Europe/London", "巴黎": "Europe/Paris", "柏林": "Europe/Berlin", "悉尼": "Australia/Sydney",
    "美东": "America/New_York", "美西": "America/Los_Angeles",
}
# fmt: on
_EN_PLACES = "|".join(sorted((k for k in _ZONE_PLACES if k.isascii()), key=len, reverse=True)).replace(" ", r"\s+")
_ZH_PLACES = "|".join(sorted((k for k in _ZONE_PLACES if not k.isascii()), key=len, reverse=True))


def _named_zone(match: re.Match[str], ctx: _Context) -> ZoneInfo | None:
    """The zone a phrase names: an abbreviation (PST, CET), a place and 'time' (New York time, 北京时间)."""
    word = match.group("abbr") or " ".join((match.group("place") or match.group("zh") or "").split())
    name = _ZONE_ABBREVIATIONS.get(word) or _ZONE_PLACES.get(word)
    return ZoneInfo(name) if name else None


_ZONES: Sequence[tuple[re.Pattern[str], Callable[[re.Match[str], _Context], ZoneInfo | None]]] = (
    (
        _rx(
            r"(?<![\w/])(?P<abbr>" + "|".join(sorted(_ZONE_ABBREVIATIONS, key=len, reverse=True)) + r")(?![\w/])"
            r"|\b(?:(?P<place>" + _EN_PLACES + r")\s+time)\b"
            r"|(?P<zh>" + _ZH_PLACES + r")\s*时间"
        ),
        _named_zone,
    ),
)

# ---------------------------------------------------------------------------
# ISO 8601 timestamps
# ---------------------------------------------------------------------------

_ISO = _rx(
    r"(?<!\d)(?P<d>\d{4}-\d{2}-\d{2})t(?P<t>\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)"
    r"\s*(?P<off>z|[+-]\d{2}(?::?\d{2})?)?(?![\d:])"
    r"|(?<!\d)(?P<d2>\d{4}-\d{2}-\d{2}) (?P<t2>\d{2}:\d{2}(?::\d{2})?)"
    r"\s*(?P<off2>z|[+-]\d{2}:?\d{2})(?![\d:])"
)


def _iso(text: str, ctx: _Context) -> datetime | None:
    """A full ISO 8601 timestamp; an offset is converted into the user's zone."""
    match = _ISO.search(text)
    if match is None:
        return None
    day = match.group("d") or match.group("d2")
    clock = match.group("t") or match.group("t2")
    offset = match.group("off") or match.group("off2")
    try:
        if offset is None:
            parsed = datetime.fromisoformat(f"{day}T{clock}")
            return _at(parsed.date(), parsed.time(), ctx.zone)
        if offset == "z":
            offset = "+00:00"
        digits = offset[1:].replace(":", "")
        offset = f"{offset[0]}{digits[:2]}:{digits[2:4] or '00'}"
        return datetime.fromisoformat(f"{day}T{clock}{offset}").astimezone(ctx.zone)
    except (ValueError, OverflowError):
        return None


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


_COUNTED_FROM = _rx(rf"(?<![\w.]){_EN_AMOUNT}\s*(?P<unit>days?|weeks?|d|w)\s+(?:from|after)\s+(?:the\s+)?$")


def _counted_from(day: date, before: str) -> tuple[date, str]:
    """Shift a named day by 'a week from' / '3 days after' written just before it; the text with that blanked."""
    match = _COUNTED_FROM.search(before)
    if match is None:
        return day, before
    raw = match.group("n")
    if not raw.isdigit() and raw not in ("a", "an"):
        return day, before
    count = 1 if raw in ("a", "an") else int(raw)
    if count > 1000:
        return day, before
    shifted = day + timedelta(days=count * (7 if match.group("unit").startswith("w") else 1))
    return shifted, before[: match.start()] + " " * (match.end() - match.start())


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


def _own_layer(text: str, ctx: _Context) -> datetime | None:
    """Resolve the phrase with the built-in Chinese/English rules; None when no rule applies at all.

    Raises _Declined when rules apply but do not account for the whole phrase: a word no rule read, a second
    day or time (`tomorrow or Friday`, `3 or 4pm`), a weekday that contradicts the date beside it.
    """
    zone, text, _, _ = _take(_ZONES, text, ctx)
    if zone is not None:
        if _take(_ZONES, text, ctx)[0] is not None:
            raise _Declined
        local = _Context(now=ctx.now.astimezone(zone), zone=zone, workday_end=ctx.workday_end)
        found = _own_layer(text, local)
        if found is None:
            raise _Declined  # a zone and nothing to place in it
        return found.astimezone(ctx.zone)
    iso = _iso(text, ctx)
    if iso is not None:
        match = _ISO.search(text)
        assert match is not None
        if not _only_filler(text[: match.start()] + " " + text[match.end() :]):
            raise _Declined
        return iso
    offset, rest, _, _ = _take(_DURATIONS, text, ctx)
    if offset is not None and _take(_DURATIONS, rest, ctx)[0] is not None:
        raise _Declined
    day, rest, day_start, rule = _take(_DAYS, rest, ctx)
    if day is not None:
        day, before = _counted_from(day, rest[:day_start])
        rest = before + rest[day_start:]
        other, rest, _, other_rule = _take(_DAYS, rest, ctx)
        if other is not None:
            day = _one_day(day, rule, other, other_rule)
    clock, rest, _, _ = _take(_CLOCKS, rest, ctx)
    if clock is not None:
        if _take(_CLOCKS, rest, ctx)[0] is not None or _take(_END_OF_DAY, rest, ctx)[0] is not None:
            raise _Declined  # "3 or 4pm", "3pm EOD"
        period, after_period, _, _ = _take(_PERIODS, rest, ctx)
        if period is not None:
            if not _agrees(period, clock):
                raise _Declined  # "tomorrow morning at 9pm"
            rest = after_period  # "tomorrow morning at 7": the period only confirms the clock
    else:
        clock, rest, _, _ = _take(_END_OF_DAY, rest, ctx)
        if clock is None:
            clock, rest, _, _ = _take(_PERIODS, rest, ctx)
            if clock is not None and _take(_PERIODS, rest, ctx)[0] is not None:
                raise _Declined  # "明天上午或下午"
    found_any = offset is not None or day is not None or clock is not None
    if not found_any:
        return None
    if not _only_filler(rest):
        raise _Declined
    if day is not None:
        if offset is not None:
            raise _Declined  # "in 3 days on Friday"
        if clock is None:
            return _at(day, ctx.workday_end, ctx.zone)
        return _at(day + timedelta(days=clock.day_offset), clock.at, ctx.zone)
    if offset is not None:
        if clock is not None:
            if not offset.whole_days:
                raise _Declined  # "in 2 hours at 5pm"
            return _at(offset.result.date() + timedelta(days=clock.day_offset), clock.at, ctx.zone)
        return offset.result
    assert clock is not None
    result = _at(ctx.today + timedelta(days=clock.day_offset), clock.at, ctx.zone)
    if clock.rolls and result <= ctx.now:
        result = _at(ctx.today + timedelta(days=clock.day_offset + 1), clock.at, ctx.zone)
    return result


def _agrees(period: _Clock, clock: _Clock) -> bool:
    """Whether a day period written beside a clock time is the period that time falls in."""
    hour = clock.at.hour + 24 * clock.day_offset
    if period.at == MORNING_END:
        return hour < 12
    if period.at == EVENING:
        return hour >= 17 or clock.day_offset > 0
    return 12 <= hour < 19  # the afternoon ends at the end of the working day


def _one_day(first: date, first_rule: int, second: date, second_rule: int) -> date:
    """Two day phrases in one: a weekday beside the date it falls on ('Thursday, Dec 3'); anything else declines."""
    weekday_first, weekday_second = first_rule in _WEEKDAY_RULES, second_rule in _WEEKDAY_RULES
    if weekday_first == weekday_second:
        raise _Declined
    weekday, the_date = (first, second) if weekday_first else (second, first)
    if weekday.weekday() != the_date.weekday():
        raise _Declined
    return the_date


# ---------------------------------------------------------------------------
# dateparser fallback
# ---------------------------------------------------------------------------

_NUMERIC_DATE = _rx(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}")
_ACCEPTED_PERIODS = frozenset({"day", "time", "week"})


def _dateparser(ctx: _Context) -> DateDataParser:
    """A DateDataParser bound to this parse's relative base and zone."""
    settings: dict[str, Any] = {
        "RELATIVE_BASE": ctx.now.replace(tzinfo=None),
        "PREFER_DATES_FROM": "future",
        "TIMEZONE": ctx.zone.key,
        "RETURN_AS_TIMEZONE_AWARE": True,
        "RETURN_TIME_AS_PERIOD": True,
    }
    return DateDataParser(languages=list(DATEPARSER_LANGUAGES), settings=settings)


# What dateparser may be asked about: phrases made only of words about dates, so that it cannot skip a word
# that changes the meaning ("zebra tomorrow", "every Friday", "Friday or Monday") and answer anyway.
_DATE_WORDS = frozenset(
    set(_MONTHS)
    | set(_WEEKDAYS)
    | set(_EN_NUMBERS)
    | set(_EN_ORDINALS)
    | {
        "second",
        "a",
        "an",
        "the",
        "of",
        "at",
        "on",
        "in",
        "by",
        "next",
        "this",
        "last",
        "coming",
        "after",
        "before",
        "from",
        "now",
        "ago",
        "and",
        "half",
        "quarter",
        "past",
        "to",
        "am",
        "pm",
        "a.m",
        "p.m",
        "o'clock",
        "noon",
        "midnight",
        "morning",
        "afternoon",
        "evening",
        "tonight",
        "today",
        "tomorrow",
        "yesterday",
        "day",
        "days",
        "week",
        "weeks",
        "weekend",
        "month",
        "months",
        "year",
        "years",
        "hour",
        "hours",
        "minute",
        "minutes",
        "mins",
        "min",
        "hr",
        "hrs",
        "st",
        "nd",
        "rd",
        "th",
        "end",
        "beginning",
        "start",
        "mid",
        "early",
        "late",
        "eod",
        "eow",
        "eom",
        "within",
        "until",
        "till",
        "due",
        "sept",
        "tues",
        "thurs",
        "weds",
    }
)
_DATE_CHARS = frozenset(
    "年月日号周星期礼拜天今明后前上下午晚早中点分半刻钟小时内再过凌晨夜间初底末季度个两零〇一二三四五六七八九十百之以"
)
_WORD = _rx(r"[a-z]+(?:['.][a-z]+)?")


def _only_date_words(cleaned: str) -> bool:
    words = _WORD.findall(re.sub(r"\d+(?:st|nd|rd|th)\b", " ", cleaned))
    cjk = [ch for ch in cleaned if "\u3400" <= ch <= "\u9fff"]
    return all(w in _DATE_WORDS for w in words) and all(ch in _DATE_CHARS for ch in cjk)


def _fallback(cleaned: str, ctx: _Context) -> datetime | None:
    """One dateparser call for phrasings the built-in rules do not know."""
    if not cleaned or len(cleaned) > MAX_DATEPARSER_CHARS:
        return None
    if not any(ch.isalpha() for ch in cleaned) and not _NUMERIC_DATE.fullmatch(cleaned):
        return None
    try:
        data = _dateparser(ctx).get_date_data(cleaned)
    except Exception:  # dateparser raises assorted errors on odd input
        logger.debug("dateparser failed on %r", cleaned, exc_info=True)
        return None
    found = data.date_obj
    if found is None or data.period not in _ACCEPTED_PERIODS:
        return None
    try:
        local = found.replace(tzinfo=ctx.zone) if found.tzinfo is None else found.astimezone(ctx.zone)
        if data.period == "day":
            return _at(local.date(), ctx.workday_end, ctx.zone)
        local = _at(local.date(), local.time(), ctx.zone)
    except (ValueError, OverflowError):
        return None
    if data.period == "time" and abs(local - ctx.now) < timedelta(minutes=1):
        return None
    return local


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


@lru_cache(maxsize=128)
def _zone(name: str) -> ZoneInfo:
    """ZoneInfo for an IANA name, UTC when the name is unknown."""
    try:
        return ZoneInfo(name)
    except Exception:  # ZoneInfoNotFoundError, ValueError for malformed keys
        logger.warning("unknown time zone %r; using UTC", name)
        return ZoneInfo("UTC")


def parse_when(text: str, *, now: datetime, tz: str, workday_end: time = time(18, 0)) -> datetime | None:
    """Read a deadline phrase as an aware datetime in tz, or None when it names no date."""
    if not isinstance(text, str) or not text:
        return None
    zone = _zone(tz)
    try:
        local_now = now.replace(tzinfo=zone) if now.utcoffset() is None else now.astimezone(zone)
        ctx = _Context(now=local_now, zone=zone, workday_end=workday_end.replace(tzinfo=None))
        cleaned = _clean(text[:MAX_SCAN_CHARS])
        try:
            found = _own_layer(_normalize(cleaned), ctx)
        except _Declined:
            return None  # the rules read part of it: a guess from the rest would be a guess
        if found is None and len(text) <= MAX_DATEPARSER_CHARS and _only_date_words(cleaned):
            found = _fallback(cleaned, ctx)
    except Exception:
        logger.exception("could not read a date from %r", text[:80])
        return None
    return found


_ALL_RULES: tuple[Sequence[tuple[re.Pattern[str], Any]], ...] = ()  # filled below, once every table exists


def find_when(text: str, *, now: datetime, tz: str, workday_end: time = time(18, 0)) -> datetime | None:
    """The deadline a sentence mentions ("can you send it by Friday?", "周四下班前发我"), or None.

    The words that make up a time (runs of them, with only filler between) are read with `parse_when`'s
    rules; other words around them are the sentence's. Two different times in one sentence are no answer.
    """
    if not isinstance(text, str) or not text.strip():
        return None
    zone = _zone(tz)
    try:
        local_now = now.replace(tzinfo=zone) if now.utcoffset() is None else now.astimezone(zone)
        ctx = _Context(now=local_now, zone=zone, workday_end=workday_end.replace(tzinfo=None))
        normalized = _normalize(_clean(text[:MAX_SCAN_CHARS]))
        spans = sorted(
            {
                m.span()
                for rules in _ALL_RULES
                for pattern, _ in rules
                for m in pattern.finditer(normalized)
                if m.end() > m.start()
            }
            | {m.span() for m in _ISO.finditer(normalized)}
        )
        runs: list[list[int]] = []
        for start, end in spans:
            if runs and (start <= runs[-1][1] or _only_filler(normalized[runs[-1][1] : start])):
                runs[-1][1] = max(runs[-1][1], end)
            else:
                runs.append([start, end])
        found: set[datetime] = set()
        for start, end in runs:
            try:
                value = _own_layer(normalized[start:end], ctx)
            except _Declined:
                continue
            if value is not None:
                found.add(value)
    except Exception:
        logger.exception("could not find a date in %r", text[:80])
        return None
    return found.pop() if len(found) == 1 else None


def warm_up() -> None:
    """Load dateparser's Chinese and English data so the first real parse is fast."""
    started = _clock.perf_counter()
    ctx = _Context(now=datetime.now(UTC), zone=ZoneInfo("UTC"), workday_end=time(18, 0))
    parser = _dateparser(ctx)
    for phrase in ("明天", "tomorrow"):
        parser.get_date_data(phrase)
    logger.debug("dateparser warmed up in %.0f ms", (_clock.perf_counter() - started) * 1000)


def format_fallback(dt: datetime, lang: str) -> str:
    """Short plain-text rendering such as '2026-12-04 18:00 (Asia/Shanghai)'."""
    stamp = f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d} {dt.hour:02d}:{dt.minute:02d}"
    label = getattr(dt.tzinfo, "key", None) or (dt.tzname() if dt.tzinfo is not None else None)
    if not label:
        return stamp
    if lang.lower().startswith("zh"):
        return f"{stamp}（{label}）"
    return f"{stamp} ({label})"


_ALL_RULES = (_ZONES, _DURATIONS, _DAYS, _CLOCKS, _END_OF_DAY, _PERIODS)
