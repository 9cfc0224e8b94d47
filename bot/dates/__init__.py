"""Turn deadline phrases typed in chat (Chinese or English) into aware datetimes.

`core` holds the shared machinery; `zh`, `en` and `bilingual` hold the rules. This module puts the rules in
order, reads a phrase with them (`parse_when`, `find_when`) and asks dateparser about what they do not know.
"""

from __future__ import annotations

import logging
import re
import time as _clock
import unicodedata
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateparser.date import DateDataParser

from bot.dates.bilingual import (
    _END_OF_DAY,
    _HHMM_RULE,
    _ISO,
    _MD_SLASH_RULE,
    _MDY_RULE,
    _NUMBERED_QUARTER_END_RULE,
    _PERIODS,
    _QUARTER_RULE,
    _RELATIVE_DAY_RULE,
    _YEAR_RULE,
    _YMD_RULE,
    _ZONES,
    _iso,
)
from bot.dates.core import (
    EVENING,
    MORNING_END,
    _at,
    _Clock,
    _Context,
    _Declined,
    _Offset,
    _only_filler,
    _rx,
    _take,
    _zone,
)
from bot.dates.en import (
    _DATE_WORDS,
    _EN_AMPM_RULE,
    _EN_AT_HOUR_RULE,
    _EN_COMPACT_RULE,
    _EN_DAY_MONTH_NAME_RULE,
    _EN_DAY_OF_MONTH_RULE,
    _EN_DURATION_RULE,
    _EN_EXPANSIONS,
    _EN_HOURS_MINUTES_RULE,
    _EN_LATER_DURATION_RULE,
    _EN_MIDNIGHT_RULE,
    _EN_MONTH_DAY_RULE,
    _EN_MONTH_NAME_DAY_RULE,
    _EN_MONTH_PART_RULE,
    _EN_MONTH_RULE,
    _EN_NOON_RULE,
    _EN_NTH_WEEKDAY_RULE,
    _EN_NUMBER,
    _EN_OCLOCK_RULE,
    _EN_ORDINAL,
    _EN_PAST_TO_RULE,
    _EN_WEEK_RULE,
    _EN_WEEK_WEEKDAY_RULE,
    _EN_WEEKDAY_RULE,
    _EN_WEEKDAYS_FROM_NOW_RULE,
    _counted_from,
    _en_number,
    _en_ordinal,
    _en_week_weekday,
    _en_weekday,
)
from bot.dates.zh import (
    _DATE_CHARS,
    _TRADITIONAL,
    _ZH_BEFORE_WEEKEND_RULE,
    _ZH_CLOCK_RULE,
    _ZH_DAY_OF_MONTH_RULE,
    _ZH_DURATION_RULE,
    _ZH_EXPANSIONS,
    _ZH_HOUR_LESS_MINUTES_RULE,
    _ZH_MINUTES_BEFORE_HOUR_RULE,
    _ZH_MONTH_DATE_RULE,
    _ZH_MONTH_DAY_RULE,
    _ZH_MONTH_PART_RULE,
    _ZH_NUMBER,
    _ZH_NUMBERED_MONTH_PART_RULE,
    _ZH_PASSING_DURATION_RULE,
    _ZH_QUARTER_HOURS_RULE,
    _ZH_WEEK_RULE,
    _ZH_WEEKDAY_DIGIT,
    _ZH_WEEKDAY_RULE,
    _ZH_WEEKDAY_WORD,
    _ZH_WHOLE_MONTH_RULE,
    _ZH_YEAR_MONTH_RULE,
    _zh_number,
    _zh_weekday,
)

logger = logging.getLogger(__name__)

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

# ---------------------------------------------------------------------------
# Text normalisation
# ---------------------------------------------------------------------------

_SPACES = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u2060\ufeff]+")


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
# The rule tables
# ---------------------------------------------------------------------------

# Each table lists its rules in priority order: where two rules match the same text at the same place, the
# earlier one wins (see `_take`), so the Chinese, English and bilingual rules stay interleaved as they are.

_CLOCKS: Sequence[tuple[re.Pattern[str], Callable[[re.Match[str], _Context], _Clock | None]]] = (
    _ZH_CLOCK_RULE,
    _EN_AMPM_RULE,
    _HHMM_RULE,
    _EN_COMPACT_RULE,
    _EN_PAST_TO_RULE,
    _ZH_MINUTES_BEFORE_HOUR_RULE,
    _ZH_HOUR_LESS_MINUTES_RULE,
    _EN_AT_HOUR_RULE,
    _EN_OCLOCK_RULE,
    _EN_NOON_RULE,
    _EN_MIDNIGHT_RULE,
)

_DAYS: Sequence[tuple[re.Pattern[str], Callable[[re.Match[str], _Context], date | None]]] = (
    _YMD_RULE,
    _MDY_RULE,
    _ZH_MONTH_DATE_RULE,
    _MD_SLASH_RULE,
    _EN_MONTH_NAME_DAY_RULE,
    _EN_DAY_MONTH_NAME_RULE,
    _ZH_DAY_OF_MONTH_RULE,
    _EN_DAY_OF_MONTH_RULE,
    _ZH_WEEKDAY_RULE,
    _EN_WEEKDAY_RULE,
    _EN_WEEK_WEEKDAY_RULE,
    _RELATIVE_DAY_RULE,
    _ZH_WEEK_RULE,
    _ZH_BEFORE_WEEKEND_RULE,
    _EN_WEEK_RULE,
    _ZH_MONTH_PART_RULE,
    _ZH_NUMBERED_MONTH_PART_RULE,
    _ZH_YEAR_MONTH_RULE,
    _ZH_WHOLE_MONTH_RULE,
    _ZH_MONTH_DAY_RULE,
    _EN_MONTH_DAY_RULE,
    _EN_NTH_WEEKDAY_RULE,
    _EN_WEEKDAYS_FROM_NOW_RULE,
    _EN_MONTH_PART_RULE,
    _EN_MONTH_RULE,
    _QUARTER_RULE,
    _NUMBERED_QUARTER_END_RULE,
    _YEAR_RULE,
)

_WEEKDAY_RULES = frozenset(
    i for i, (_, handler) in enumerate(_DAYS) if handler in (_zh_weekday, _en_weekday, _en_week_weekday)
)

_DURATIONS: Sequence[tuple[re.Pattern[str], Callable[[re.Match[str], _Context], _Offset | None]]] = (
    _ZH_DURATION_RULE,
    _ZH_PASSING_DURATION_RULE,
    _ZH_QUARTER_HOURS_RULE,
    _EN_HOURS_MINUTES_RULE,
    _EN_DURATION_RULE,
    _EN_LATER_DURATION_RULE,
)

# Every table, for find_when to spot the words that make up a time.
_ALL_RULES: tuple[Sequence[tuple[re.Pattern[str], Any]], ...] = (
    _ZONES,
    _DURATIONS,
    _DAYS,
    _CLOCKS,
    _END_OF_DAY,
    _PERIODS,
)

# ---------------------------------------------------------------------------
# Reading a phrase with the rules
# ---------------------------------------------------------------------------


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


_WORD = _rx(r"[a-z]+(?:['.][a-z]+)?")


# What dateparser may be asked about: phrases made only of words about dates, so that it cannot skip a word
# that changes the meaning ("zebra tomorrow", "every Friday", "Friday or Monday") and answer anyway.
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
