"""Reading a weekly time as people type it: `fri 17:00`, `周五 17:00`, `Friday 5pm`, `星期一 上午9点半`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time

from bot.workhours import DAY_NAMES

_ZH_DAYS = {
    "一": 0,
    "二": 1,
    "三": 2,
    "四": 3,
    "五": 4,
    "六": 5,
    "日": 6,
    "天": 6,
    "1": 0,
    "2": 1,
    "3": 2,
    "4": 3,
    "5": 4,
    "6": 5,
    "7": 6,
}
_ZH_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_ZH_PM = ("下午", "晚上", "傍晚")
_ZH_AM = ("上午", "早上", "早晨", "凌晨")

_ZH_DAY = re.compile(r"(?:周|星期|礼拜|週|禮拜)\s*([一二三四五六日天1-7])")
_EN_DAY = re.compile(r"\b(" + "|".join(sorted(DAY_NAMES, key=len, reverse=True)) + r")s?\b\.?")
_CLOCK = re.compile(r"(?<!\d)(\d{1,2})[:：](\d{2})\s*(am|pm|a\.m\.|p\.m\.)?")
_AMPM = re.compile(r"(?<!\d)(\d{1,2})\s*(am|pm|a\.m\.|p\.m\.)")
_ZH_CLOCK = re.compile(
    r"(上午|早上|早晨|凌晨|中午|下午|傍晚|晚上)?\s*([0-9零〇一二两三四五六七八九十]{1,3})\s*[点點时]"
    r"\s*(半|一刻|[0-9零〇一二三四五六七八九十]{1,3}\s*分?)?"
)
_FILLER = re.compile(r"\b(every|each|on|at|weekly)\b|每|的|在|,|，")


@dataclass(frozen=True)
class Schedule:
    """A weekly moment: weekday (Monday is 0) and wall-clock time."""

    weekday: int = 0
    at: time = time(9, 0)

    @property
    def time_text(self) -> str:
        """The time as HH:MM."""
        return f"{self.at:%H:%M}"


def _zh_number(text: str) -> int | None:
    """1-59 written with digits or Chinese numerals (十, 十五, 二十三)."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        high = _ZH_DIGITS.get(tens, -1) if tens else 1
        low = _ZH_DIGITS.get(ones, -1) if ones else 0
        return None if high < 0 or low < 0 else high * 10 + low
    if len(text) == 1 and text in _ZH_DIGITS:
        return _ZH_DIGITS[text]
    return None


def _twelve_hour(hour: int, marker: str | None) -> int | None:
    """Apply am/pm to an hour; None when the combination is not a time."""
    if marker is None:
        return hour if 0 <= hour <= 23 else None
    if not 1 <= hour <= 12:
        return None
    pm = marker.startswith("p")
    return (hour % 12) + (12 if pm else 0)


def _zh_time(match: re.Match[str]) -> time | None:
    period, hour_text, minute_text = match[1], match[2], match[3]
    hour = _zh_number(hour_text)
    if hour is None:
        return None
    minute = 0
    if minute_text:
        minute_text = minute_text.strip().rstrip("分").strip()
        if minute_text == "半":
            minute = 30
        elif minute_text == "一刻":
            minute = 15
        else:
            parsed = _zh_number(minute_text)
            if parsed is None:
                return None
            minute = parsed
    if period in _ZH_PM or (period == "中午" and hour < 6):
        hour = hour + 12 if hour < 12 else hour
    elif period in _ZH_AM and hour == 12:
        hour = 0
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return time(hour, minute)


def _take_time(text: str) -> tuple[time | None, str, bool]:
    """Find a time of day; returns (time, the rest of the text, whether something looked like a time)."""
    for pattern in (_CLOCK, _AMPM):
        match = pattern.search(text)
        if match:
            rest = text[: match.start()] + " " + text[match.end() :]
            hour = int(match[1])
            minute = int(match[2]) if pattern is _CLOCK else 0
            marker = match[3] if pattern is _CLOCK else match[2]
            hour24 = _twelve_hour(hour, marker[0] if marker else None)
            if hour24 is None or minute > 59:
                return None, rest, True
            return time(hour24, minute), rest, True
    match = _ZH_CLOCK.search(text)
    if match:
        return _zh_time(match), text[: match.start()] + " " + text[match.end() :], True
    return None, text, False


def _take_day(text: str) -> tuple[int | None, str]:
    """Find a weekday; returns (weekday, the rest of the text)."""
    match = _ZH_DAY.search(text)
    if match:
        return _ZH_DAYS[match[1]], text[: match.start()] + " " + text[match.end() :]
    match = _EN_DAY.search(text)
    if match:
        return DAY_NAMES[match[1]], text[: match.start()] + " " + text[match.end() :]
    return None, text


def parse_schedule(text: str, default: Schedule = Schedule()) -> Schedule | None:
    """A weekday and a time from typed text; what is left out comes from `default`; None when unreadable."""
    day, rest = _take_day(text.strip().lower())
    at, rest, looked_like_time = _take_time(rest)
    if looked_like_time and at is None:
        return None
    if _FILLER.sub(" ", rest).strip():
        return None  # words we do not understand: better to ask than to guess
    return Schedule(weekday=default.weekday if day is None else day, at=default.at if at is None else at)
