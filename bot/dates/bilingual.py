"""Rules written once for both languages: numeric dates, ISO timestamps, named zones, mixed-word patterns.

A pattern here lists Chinese and English words side by side (明天|tomorrow, 下班|EOD, 季度末|EOQ) or has no
words at all (2026-12-01, 12/1, 15:00); splitting one into two rules would change which match wins. Each
`_..._RULE` is a (pattern, handler) pair for the tables in `bot.dates`; `_END_OF_DAY`, `_PERIODS` and `_ZONES`
are whole tables of their own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.dates.core import (
    _ZH_CLOCK_PERIOD,
    _ZH_PERIODS,
    EVENING,
    MORNING_END,
    _at,
    _Clock,
    _Context,
    _hour_minute,
    _implied_period,
    _last_day,
    _md,
    _quarter_end,
    _quarter_start,
    _rx,
    _valid_date,
)

# ---------------------------------------------------------------------------
# Clock times
# ---------------------------------------------------------------------------


def _hhmm(match: re.Match[str], ctx: _Context) -> _Clock | None:
    """15:00, 3:00, 下午3:30."""
    raw_hour = match.group("h")
    if match.group("per") and int(raw_hour) > 12:
        return None  # "下午15:30"
    period = match.group("per") or _implied_period(match)
    return _hour_minute(int(raw_hour), int(match.group("m")), period, zero_padded=raw_hour.startswith("0"))


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


_HHMM_RULE = (
    _rx(_ZH_CLOCK_PERIOD + r"(?:(?:\bat|@)\s*)?(?<![\w:.\-/])(?P<h>\d{1,2}):(?P<m>\d{2})(?::\d{2})?(?![\d:])"),
    _hhmm,
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


def _ymd(match: re.Match[str], ctx: _Context) -> date | None:
    """2026-12-01, 2026/12/1, 2026年12月1日."""
    return _valid_date(int(match.group("y")), int(match.group("m")), int(match.group("d")))


def _mdy(match: re.Match[str], ctx: _Context) -> date | None:
    """12/1/2026 (month first)."""
    year = int(match.group("y"))
    if year < 100:
        year += 2000
    return _valid_date(year, int(match.group("m")), int(match.group("d")))


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


_YMD_RULE = (
    _rx(r"(?<!\d)(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})(?!\d)\s*[日号]?"),
    _ymd,
)
_MDY_RULE = (_rx(r"(?<![\d/.\-])(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4}|\d{2})(?![\d/])"), _mdy)
_MD_SLASH_RULE = (_rx(r"(?<![\d/.\-:])(?P<m>\d{1,2})/(?P<d>\d{1,2})(?![\d/])"), _md)
_RELATIVE_DAY_RULE = (
    _rx(
        r"大后天|后天|后日|明天|明日|明儿|今天|今日|今儿|昨天|昨日|大前天|前天|前日"
        r"|\b(?:(?:the\s+)?day\s+after\s+tomorrow|(?:the\s+)?day\s+before\s+yesterday|tomorrow|today"
        r"|yesterday)\b"
    ),
    _relative_day,
)
_QUARTER_RULE = (
    _rx(
        r"(?:下个?|这个?|本|当)?\s*季度?\s*(?:末|底|初)"
        r"|\b(?:(?:the\s+)?end\s+of\s+(?:the\s+)?(?:this\s+|next\s+)?quarter|eoq"
        r"|(?:this\s+|next\s+)?quarter[-\s]end)\b"
    ),
    _quarter_range,
)
_NUMBERED_QUARTER_END_RULE = (
    _rx(r"第\s*(?P<q>[1-4])\s*季度?\s*(?:末|底|结束)|\bq(?P<q2>[1-4])\s*(?:末|底|end)\b"),
    _numbered_quarter_end,
)
_YEAR_RULE = (
    _rx(
        r"(?P<y>\d{4})\s*年\s*(?:底|末|初)|(?:今|明|本|下|来)?\s*年\s*(?:底|末|初)"
        r"|\b(?:(?:the\s+)?end\s+of\s+(?:the\s+)?(?:this\s+|next\s+)?year|eoy|(?:this\s+|next\s+)?year[-\s]end)\b"
    ),
    _year_range,
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
