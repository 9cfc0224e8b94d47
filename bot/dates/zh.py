"""Chinese rules: numerals and shorthands to fold, and the patterns for clock times, days and durations.

Each `_ZH_..._RULE` is a (pattern, handler) pair; `bot.dates` puts them in its rule tables, in priority order.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from bot.dates.core import (
    _ZH_CLOCK_PERIOD,
    _Clock,
    _Context,
    _dom,
    _hour_minute,
    _last_day,
    _md,
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

# Traditional characters read as their simplified forms (`_clean` in bot.dates folds them before any rule).
_TRADITIONAL = str.maketrans(
    "週禮後點這個內兩號時鐘頭間裡裏當過結東來紐約倫敦東京臺", "周礼后点这个内两号时钟头间里里当过结东来纽约伦敦东京台"
)

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


# ---------------------------------------------------------------------------
# Clock times
# ---------------------------------------------------------------------------


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


_POINTS_NOT_TIME = (
    r"(?!\s*(?:钟头|意见|建议|问题|要求|需求|内容|想法|原因|看法"
    r"|说明|注意|疑问|方面|事项|理由|改进|不足|收获|体会))"
)

_ZH_CLOCK_RULE = (
    _rx(
        _ZH_CLOCK_PERIOD + r"(?<![\d.:/第])(?P<h>\d{1,2})\s*[点时]"
        r"(?:\s*(?P<half>半)|\s*(?P<q>[1-3])\s*刻|\s*(?P<m>\d{1,2})(?!\d)(?:\s*分)?)?" + _POINTS_NOT_TIME
    ),
    _zh_clock,
)
_ZH_MINUTES_BEFORE_HOUR_RULE = (
    _rx(_ZH_CLOCK_PERIOD + r"差\s*(?P<d>\d{1,2})\s*分?\s*(?P<h>\d{1,2})\s*[点时](?!\s*\d)"),
    _zh_minutes_to,
)
_ZH_HOUR_LESS_MINUTES_RULE = (
    _rx(_ZH_CLOCK_PERIOD + r"(?P<h>\d{1,2})\s*[点时]\s*差\s*(?:(?P<d>\d{1,2})\s*分|(?P<q>[1-3])\s*刻)"),
    _zh_minutes_to,
)

# ---------------------------------------------------------------------------
# Days
# ---------------------------------------------------------------------------

_ZH_WEEK_PREFIX = {"下下": 2, "下": 1, "这": 0, "本": 0, "上": -1, "上上": -2, "当": 0}


def _zh_week_offset(prefix: str | None) -> int | None:
    """Weeks ahead meant by 下/下下/上/本/这 (None for a bare weekday)."""
    if not prefix:
        return None
    key = prefix.replace("个", "")
    offset = _ZH_WEEK_PREFIX[key]
    return None if offset == 0 else offset


def _zh_weekday(match: re.Match[str], ctx: _Context) -> date | None:
    """周五, 本周五, 下周五, 下下周一, 星期天."""
    return _weekday(ctx, int(match.group("wd")) - 1, _zh_week_offset(match.group("pre")))


def _zh_week_range(match: re.Match[str], ctx: _Context) -> date:
    """本周内, 这周末前, 下周, 下周内: Friday of that week."""
    offset = _zh_week_offset(match.group("pre"))
    return _week_end(ctx, offset or 0)


def _this_week_end(match: re.Match[str], ctx: _Context) -> date:
    """周末前, EOW, end of week, this week, by the weekend."""
    return _week_end(ctx, 0)


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


_ZH_MONTH_DATE_RULE = (_rx(r"(?<![\d个])(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})(?!\d)\s*[日号]?"), _md)
_ZH_DAY_OF_MONTH_RULE = (
    _rx(r"(?<![\d月/.\-:第])(?P<d>\d{1,2})\s*[号日](?![线楼房室机位门口件床店\d])"),
    _dom,
)
_ZH_WEEKDAY_RULE = (
    _rx(
        r"(?P<pre>下下个?|下个?|这个?|本|上上个?|上个?)?\s*(?<!\d)(?:周|星期|礼拜)\s*(?P<wd>[1-7])"
        r"(?!\d|\s*[次个遍回])"
    ),
    _zh_weekday,
)
_ZH_WEEK_RULE = (
    _rx(
        r"(?P<pre>下下个?|下个?|这个?|本|当|上上个?|上个?)\s*(?:1\s*)?(?:周|星期|礼拜)(?!\s*\d)"
        r"(?:\s*(?:之内|以内|内|末|结束))?"
    ),
    _zh_week_range,
)
_ZH_BEFORE_WEEKEND_RULE = (_rx(r"(?<![下这本个上\d])周末\s*(?:之前|以前|前)"), _this_week_end)
_ZH_MONTH_PART_RULE = (_rx(r"(?:(?P<pre>下个?|这个?|本|当)|(?<![\d个]))月\s*(?P<pos>底|末|初|中)"), _zh_month_range)
_ZH_NUMBERED_MONTH_PART_RULE = (_rx(r"(?<!\d)(?P<m>\d{1,2})\s*月\s*(?P<pos>底|末|初|中)"), _numbered_month_range)
_ZH_YEAR_MONTH_RULE = (
    _rx(r"(?P<yr>今年|明年|来年|下1?年)\s*(?P<m>\d{1,2})\s*月\s*(?:(?P<pos>底|末|初|中)|(?P<d>\d{1,2})\s*[日号]?)"),
    _zh_year_month,
)
_ZH_WHOLE_MONTH_RULE = (_rx(r"(?P<pre>下个?|这个?|本|当)\s*月\s*(?:份)?(?!\s*(?:[底末初中]|\d))"), _zh_whole_month)
_ZH_MONTH_DAY_RULE = (_rx(r"(?P<pre>下个?|这个?|本|当)\s*月\s*(?P<d>\d{1,2})\s*[号日]"), _zh_month_day)

# ---------------------------------------------------------------------------
# Durations
# ---------------------------------------------------------------------------

# fmt: off
_ZH_UNITS = {
    "分钟": "minutes", "分": "minutes", "小时": "hours", "钟头": "hours", "天": "days", "日": "days",
    "周": "weeks", "星期": "weeks", "礼拜": "weeks", "月": "months", "年": "years", "工作日": "bdays",
}
# fmt: on


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


_ZH_UNIT_PATTERN = r"(?P<unit>分钟|小时|钟头|工作日|天|日|周|星期|礼拜|月|年|分)"

_ZH_DURATION_RULE = (
    _rx(
        r"(?:再?过\s*)?(?<![\d月/\-.:第])(?P<n>\d+(?:\.\d+)?|半)\s*(?P<ge>个)?\s*(?P<half>半)?\s*"
        + _ZH_UNIT_PATTERN
        + r"\s*(?P<half2>半)?\s*(?:之后|以后|过后|后|之内|以内|内)"
    ),
    _zh_duration,
)
_ZH_PASSING_DURATION_RULE = (
    _rx(r"再?过\s*(?P<n>\d+(?:\.\d+)?|半)\s*(?P<ge>个)?\s*(?P<half>半)?\s*" + _ZH_UNIT_PATTERN),
    _zh_duration,
)
_ZH_QUARTER_HOURS_RULE = (
    _rx(r"(?:再?过\s*)?(?<![\d点时:])(?P<n>\d{1,3})\s*刻\s*钟?\s*(?:之后|以后|过后|后|之内|以内|内)"),
    _zh_quarter_hours,
)

# ---------------------------------------------------------------------------
# What dateparser may be shown
# ---------------------------------------------------------------------------

# The Chinese characters a phrase may hold and still go to dateparser (see `_only_date_words` in bot.dates).
_DATE_CHARS = frozenset(
    "年月日号周星期礼拜天今明后前上下午晚早中点分半刻钟小时内再过凌晨夜间初底末季度个两零〇一二三四五六七八九十百之以"
)
