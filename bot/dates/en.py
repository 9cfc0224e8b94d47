"""English rules: number words and shorthands to fold, and the patterns for clock times, days and durations.

Each `_EN_..._RULE` is a (pattern, handler) pair; `bot.dates` puts them in its rule tables, in priority order.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from bot.dates.core import (
    NOON,
    _Clock,
    _Context,
    _dom,
    _hour_minute,
    _implied_period,
    _last_day,
    _month_day,
    _month_position,
    _Offset,
    _offset,
    _rx,
    _shift_month,
    _valid_date,
    _week_end,
    _weekday,
)

# ---------------------------------------------------------------------------
# Text normalisation
# ---------------------------------------------------------------------------

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


def _en_number(match: re.Match[str]) -> str:
    """Convert an English number word (or 'twenty-four' style pair) to digits."""
    if match.group(1):
        return str(_EN_NUMBERS[match.group(1)] + _EN_NUMBERS[match.group(2)])
    return str(_EN_NUMBERS[match.group(3)])


# ---------------------------------------------------------------------------
# Clock times
# ---------------------------------------------------------------------------


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


def _fixed(clock: time, day_offset: int = 0) -> Callable[[re.Match[str], _Context], _Clock]:
    """Handler for a word that always means one time of day (noon, midnight)."""

    def handler(match: re.Match[str], ctx: _Context) -> _Clock:
        return _Clock(clock, day_offset=day_offset)

    return handler


_EN_AMPM_RULE = (
    _rx(r"(?:(?:\bat|@)\s*)?(?<![\w:.])(?P<h>\d{1,2})(?:[:.](?P<m>\d{2}))?\s*(?P<ap>a\.?m\.?|p\.?m\.?)(?![a-z])"),
    _ampm,
)
_EN_COMPACT_RULE = (
    _rx(r"(?:\bat|@)\s*(?P<hm>\d{3,4})(?![\d:.%/])(?!\s*(?:a\.?m|p\.?m|%|percent|people|items?|x\b))"),
    _compact,
)
_EN_PAST_TO_RULE = (
    _rx(
        r"\b(?:(?P<q>(?:a\s+)?quarter)|(?P<half>half)|(?P<mm>\d{1,2})(?:\s*min(?:ute)?s?)?)\s+"
        r"(?P<rel>past|after|to|till)\s+(?P<h>\d{1,2})(?:\s*o'?clock)?(?:\s*(?P<ap>a\.?m\.?|p\.?m\.?))?"
        r"(?![\w:])"
    ),
    _past_to,
)
_EN_AT_HOUR_RULE = (
    _rx(
        r"(?:\bat|@)\s*(?P<h>\d{1,2})(?:\s*o'?clock)?(?![\d:.%/]|\s*(?:%|percent|min|hour|hr|day|week"
        r"|month|year|people|person|item|time|x\b|st\b|nd\b|rd\b|th\b))"
    ),
    _bare_hour,
)
_EN_OCLOCK_RULE = (_rx(r"(?<![\w:.])(?P<h>\d{1,2})\s*o'?clock\b"), _bare_hour)
_EN_NOON_RULE = (_rx(r"\b(?:12\s*)?(?:noon|midday)\b"), _fixed(NOON))
_EN_MIDNIGHT_RULE = (_rx(r"\b(?:12\s*)?midnight\b"), _fixed(time(0, 0), day_offset=1))

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


def _named_month_day(match: re.Match[str], ctx: _Context) -> date | None:
    """Dec 1, 1 December 2026."""
    year = int(match.group("y")) if match.group("y") else None
    return _month_day(ctx, _MONTHS[match.group("mon")], int(match.group("d")), year)


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


def _en_week_range(match: re.Match[str], ctx: _Context) -> date:
    """End of (this/next) week, next week, the coming week, last week, this/next weekend: that week's Friday."""
    text = match.group(0)
    if "last" in text:
        return _week_end(ctx, -1)
    return _week_end(ctx, 1 if "next" in text or "coming" in text else 0)


def _en_month_range(match: re.Match[str], ctx: _Context) -> date:
    """End of (this/next) month, EOM, start of next month."""
    text = match.group(0)
    ahead = 1 if "next" in text else 0
    year, month = _shift_month(ctx.today.year, ctx.today.month, ahead)
    if "begin" in text or "start" in text or "early" in text:
        return date(year, month, 1)
    return _last_day(year, month)


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


_EN_MONTH_NAME_DAY_RULE = (
    _rx(rf"\b(?P<mon>{_MONTH_NAMES})\.?\s*(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b(?!:)(?:,?\s*(?P<y>\d{{4}})\b)?"),
    _named_month_day,
)
_EN_DAY_MONTH_NAME_RULE = (
    _rx(
        rf"(?<![\w:.])(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s*(?:of\s+)?(?P<mon>{_MONTH_NAMES})\b\.?"
        rf"(?:,?\s*(?P<y>\d{{4}})\b)?"
    ),
    _named_month_day,
)
_EN_DAY_OF_MONTH_RULE = (
    _rx(
        r"\b(?:(?:on|by|before|until|till|due)\s+(?:the\s+)?|the\s+)(?P<d>\d{1,2})(?:st|nd|rd|th)\b"
        rf"(?!\s*(?:of\s+)?(?:{_MONTH_NAMES}|this|next|the|month)\b)"
    ),
    _dom,
)
_EN_WEEKDAY_RULE = (
    _rx(
        r"(?:\b(?P<pre>this\s+coming|coming|this|next|last|on|by|before|until|till|due)\s+)?"
        rf"(?<![\w'])(?P<wd>{_WEEKDAY_NAMES})\b\.?"
        r"(?:\s+(?P<post>after\s+next|next\s+week|this\s+week|of\s+next\s+week|of\s+this\s+week))?"
    ),
    _en_weekday,
)
_EN_WEEK_WEEKDAY_RULE = (_rx(rf"\b(?P<pre>next|this)\s+week'?s?\s+(?P<wd>{_WEEKDAY_NAMES})\b"), _en_week_weekday)
_EN_WEEK_RULE = (
    _rx(
        r"\b(?:(?:the\s+)?end\s+of\s+(?:the\s+)?(?:this\s+|next\s+|last\s+)?week|(?:this|next|last)\s+week|eow"
        r"|(?:by|before)\s+the\s+weekend|within\s+the\s+week|(?:the\s+|this\s+)?coming\s+week"
        r"|(?:this|next)\s+weekend)\b"
    ),
    _en_week_range,
)
_EN_MONTH_DAY_RULE = (
    _rx(r"\b(?:the\s+)?(?P<d>\d{1,2})(?:st|nd|rd|th)\s+of\s+(?:(?P<rel>this|next)\s+|the\s+)month\b"),
    _en_month_day,
)
_EN_NTH_WEEKDAY_RULE = (
    _rx(
        r"\b(?P<n>1st|2nd|3rd|4th|5th|last)\s+(?P<wd>" + _WEEKDAY_NAMES + r")\s+(?:of|in)\s+"
        r"(?:(?P<mon>" + _MONTH_NAMES + r")|(?:the|this)\s+month|(?P<rel>next)\s+month)\b"
    ),
    _nth_weekday,
)
_EN_WEEKDAYS_FROM_NOW_RULE = (
    _rx(r"\b(?P<n>\d{1,2})\s+(?P<wd>" + _WEEKDAY_NAMES + r")s\s+(?:from\s+(?:now|today)|later)\b"),
    _weekdays_from_now,
)
_EN_MONTH_PART_RULE = (
    _rx(
        r"\b(?:(?P<end>(?:the\s+)?end\s+of|late)|(?P<mid>mid(?:dle\s+of)?)|(?P<start>(?:the\s+)?(?:beginning|start)"
        r"\s+of|early))[\s-]*(?P<mon>" + _MONTH_NAMES + r")\b"
    ),
    _en_month_position,
)
_EN_MONTH_RULE = (
    _rx(
        r"\b(?:(?:the\s+)?end\s+of\s+(?:the\s+)?(?:this\s+|next\s+)?month|eom|(?:this\s+|next\s+)?month[-\s]end"
        r"|(?:the\s+)?(?:beginning|start)\s+of\s+(?:the\s+)?next\s+month|early\s+next\s+month"
        r"|(?:the\s+)?last\s+day\s+of\s+(?:the\s+|this\s+|next\s+)month|(?:this|next)\s+month)\b"
    ),
    _en_month_range,
)

# ---------------------------------------------------------------------------
# Durations
# ---------------------------------------------------------------------------


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


def _en_hours_minutes(match: re.Match[str], ctx: _Context) -> _Offset | None:
    """in 1h30m, within 2 hours 15 minutes."""
    return _offset(ctx, 60 * int(match.group("h")) + int(match.group("m")), "minutes")


def _en_duration(match: re.Match[str], ctx: _Context) -> _Offset | None:
    """in 2 hours, within 3 days, 3 days later, 2 weeks from now."""
    raw = match.group("n")
    amount = 1.0 if raw in ("a", "an") else float(raw)
    return _offset(ctx, amount, _en_unit(match.group("unit").replace(" ", "")))


_EN_UNIT_PATTERN = (
    r"(?P<unit>business\s*days?|working\s*days?|work\s*days?|minutes?|mins?|hours?|hrs?|days?|weeks?|wks?"
    r"|months?|mos?|years?|yrs?|m|h|d|w)"
)
_EN_AMOUNT = r"(?P<n>\d+(?:\.\d+)?|an?)"

_EN_HOURS_MINUTES_RULE = (
    _rx(
        r"\b(?:in|within|after)\s+(?P<h>\d{1,3})\s*(?:h|hrs?|hours?)\s*(?:and\s+)?(?P<m>\d{1,2})\s*"
        r"(?:m|mins?|minutes?)\b"
    ),
    _en_hours_minutes,
)
_EN_DURATION_RULE = (
    _rx(rf"\b(?:in|within|after)\s+(?:the\s+)?(?:next\s+)?{_EN_AMOUNT}\s*{_EN_UNIT_PATTERN}\b"),
    _en_duration,
)
_EN_LATER_DURATION_RULE = (
    _rx(rf"(?<![\w.]){_EN_AMOUNT}\s*{_EN_UNIT_PATTERN}\s+(?:later|from\s+now|from\s+today|hence)\b"),
    _en_duration,
)

# ---------------------------------------------------------------------------
# A count of days or weeks before a named day ('a week from Friday', read by `_own_layer`)
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# What dateparser may be shown
# ---------------------------------------------------------------------------

# The English words a phrase may hold and still go to dateparser (see `_only_date_words` in bot.dates).
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
