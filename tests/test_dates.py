"""Tests for bot.dates: the phrase table, property tests, DST handling and helpers."""

from __future__ import annotations

import logging
import random
import time as _clock
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import dates
from bot.dates import find_when, format_fallback, parse_when, warm_up
from tests.date_phrases import CHAT_PHRASES, NOW_LOCAL, PHRASES, now_in
from tests.date_phrases_chat import MORE_PHRASES

logger = logging.getLogger(__name__)

ZONES = [
    "Asia/Shanghai",
    "America/New_York",
    "UTC",
    "Europe/London",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "America/Sao_Paulo",
    "Pacific/Chatham",
]

PROPERTY_SETTINGS = settings(
    max_examples=150,
    deadline=timedelta(seconds=1),
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    """Load dateparser's language data once, before anything is timed."""
    warm_up()


class _ErrorRecorder(logging.Handler):
    """Collects ERROR records that bot.dates logs (its last-resort guard logs there)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record."""
        self.records.append(record)


def _parse_checked(text: str, now: datetime, tz: str) -> datetime | None:
    """parse_when, failing the test if its internal guard had to swallow an exception."""
    recorder = _ErrorRecorder()
    dates_logger = logging.getLogger(dates.__name__)
    dates_logger.addHandler(recorder)
    try:
        result = parse_when(text, now=now, tz=tz)
    finally:
        dates_logger.removeHandler(recorder)
    assert not recorder.records, recorder.records[0].getMessage()
    return result


def _assert_valid_local(result: datetime | None, tz: str) -> None:
    """An aware datetime in tz whose wall-clock time really exists there."""
    if result is None:
        return
    zone = ZoneInfo(tz)
    assert result.utcoffset() is not None
    assert result.tzinfo == zone
    round_trip = result.astimezone(UTC).astimezone(zone)
    assert round_trip.replace(tzinfo=None) == result.replace(tzinfo=None)


def _minute(result: datetime | None) -> str | None:
    """Render a result the way the phrase table writes it."""
    return None if result is None else result.strftime("%Y-%m-%d %H:%M")


# ---------------------------------------------------------------------------
# The phrase table
# ---------------------------------------------------------------------------


ALL_PHRASES = PHRASES + MORE_PHRASES


@pytest.mark.parametrize(
    ("phrase", "tz", "expected"),
    ALL_PHRASES,
    ids=[f"{phrase!r}@{tz}" for phrase, tz, _ in ALL_PHRASES],
)
def test_phrase_table(phrase: str, tz: str, expected: str | None) -> None:
    """Every phrase in the tables resolves to its expected local minute."""
    result = _parse_checked(phrase, now_in(tz), tz)
    assert _minute(result) == expected
    _assert_valid_local(result, tz)


def test_phrase_tables_are_large_and_unique() -> None:
    """The tables cover over 500 distinct phrase/zone pairs, over 50 of them unreadable on purpose."""
    keys = [(phrase, tz) for phrase, tz, _ in ALL_PHRASES + CHAT_PHRASES]
    assert len(keys) >= 500
    assert len(set(keys)) == len(keys)
    assert sum(expected is None for _, _, expected in ALL_PHRASES) >= 50


@pytest.mark.parametrize(("phrase", "tz", "expected"), CHAT_PHRASES, ids=[p for p, _, _ in CHAT_PHRASES])
def test_a_deadline_inside_a_sentence_is_found_but_the_sentence_is_not_a_date(
    phrase: str, tz: str, expected: str
) -> None:
    assert _minute(find_when(phrase, now=now_in(tz), tz=tz)) == expected
    assert parse_when(phrase, now=now_in(tz), tz=tz) is None  # words that are not the date: not guessed past


@pytest.mark.parametrize(
    "sentence",
    ["tomorrow or Monday, whichever", "明天或者后天都行", "3pm, or maybe 5pm", "we said Friday but now Monday"],
)
def test_a_sentence_with_two_deadlines_has_none(sentence: str) -> None:
    assert find_when(sentence, now=now_in("Asia/Shanghai"), tz="Asia/Shanghai") is None


def test_common_phrases_do_not_call_dateparser(monkeypatch: pytest.MonkeyPatch) -> None:
    """The built-in rules answer table phrases without touching dateparser."""
    calls: list[str] = []
    real = dates._fallback

    def spy(cleaned: str, ctx: Any) -> datetime | None:
        calls.append(cleaned)
        return real(cleaned, ctx)

    monkeypatch.setattr(dates, "_fallback", spy)
    for phrase, tz, expected in PHRASES:
        if expected is not None:
            parse_when(phrase, now=now_in(tz), tz=tz)
    assert calls == []


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("2 days ago", "2026-11-24 18:00"),
        ("3天前", "2026-11-23 18:00"),
        ("1 week ago", "2026-11-19 14:00"),
    ],
)
def test_dateparser_fallback(phrase: str, expected: str) -> None:
    """Phrasings outside the built-in rules still reach dateparser."""
    tz = "Asia/Shanghai"
    assert _minute(_parse_checked(phrase, now_in(tz), tz)) == expected


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------

aware_nows = st.builds(
    lambda naive, tz: naive.replace(tzinfo=ZoneInfo(tz), fold=0),
    st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 31)),
    st.sampled_from(ZONES),
)

any_character = st.one_of(
    st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()),
    st.integers(min_value=0xD800, max_value=0xDFFF).map(chr),
)

# fmt: off
FRAGMENTS = [
    "明天", "后天", "大后天", "今天", "下周", "下下周", "本周", "这周", "周", "星期", "礼拜",
    "一", "二", "三", "五", "日", "天", "十", "两", "半", "点", "号", "月", "年", "底", "初",
    "末", "内", "后", "前", "之前", "下午", "上午", "中午", "晚上", "凌晨", "下班", "小时",
    "分钟", "工作日", "个", "季度", "刻", "过", "today", "tomorrow", "next", "this", "last",
    "friday", "sat", "sun", "mon", "week", "month", "quarter", "year", "end of", "eod", "eow",
    "in", "within", "later", "from now", "at", "by", "before", "noon", "midnight", "morning",
    "evening", "am", "pm", "o'clock", "the", "of", "dec", "may", "1st", "3", "12", "31", "0",
    "24", "99", "2026", "9999", ":", "/", "-", ".", "T", "Z", "+08:00", " ", "，", "\n", "\x00",
    "１", "：", "💥",
]
# fmt: on
chat_like = st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join)


@PROPERTY_SETTINGS
@given(text=st.text(alphabet=any_character, max_size=300), now=aware_nows)
def test_arbitrary_text_never_raises(text: str, now: datetime) -> None:
    """Any string at all gives None or an aware, valid local datetime in the user's zone."""
    tz = str(now.tzinfo)
    _assert_valid_local(_parse_checked(text, now, tz), tz)


@PROPERTY_SETTINGS
@given(text=chat_like, now=aware_nows)
def test_date_like_fragments_never_raise(text: str, now: datetime) -> None:
    """Shuffled date vocabulary exercises every rule combination without errors."""
    tz = str(now.tzinfo)
    _assert_valid_local(_parse_checked(text, now, tz), tz)


@settings(max_examples=15, deadline=None, database=None)
@given(chunk=st.text(alphabet=any_character, min_size=1, max_size=40), now=aware_nows)
def test_huge_text_is_fast(chunk: str, now: datetime) -> None:
    """100 KB of repeated arbitrary text is handled quickly and safely."""
    text = (chunk * (100_000 // len(chunk) + 1))[:100_000]
    tz = str(now.tzinfo)
    started = _clock.perf_counter()
    result = _parse_checked(text, now, tz)
    assert _clock.perf_counter() - started < 0.5
    _assert_valid_local(result, tz)


def _zh_numeral(n: int) -> str:
    """Write 0-999 in Chinese numerals (十一, 二十, 一百零五)."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    if n < 100:
        return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")
    hundreds, rest = divmod(n, 100)
    head = digits[hundreds] + "百"
    if rest == 0:
        return head
    if rest < 10:
        return head + "零" + digits[rest]
    return head + digits[rest // 10] + "十" + (digits[rest % 10] if rest % 10 else "")


def _render(n: int, style: str) -> str:
    """A count as typed: Arabic, full-width or Chinese numerals."""
    if style == "chinese":
        return _zh_numeral(n)
    if style == "fullwidth":
        return "".join(chr(ord("０") + int(d)) for d in str(n))
    return str(n)


@PROPERTY_SETTINGS
@given(
    n=st.integers(min_value=0, max_value=400),
    style=st.sampled_from(["arabic", "chinese", "fullwidth"]),
    suffix=st.sampled_from(["天后", "天之后", "天以后", "天後"]),
    now=aware_nows,
)
def test_n_days_later_is_now_plus_n_days(n: int, style: str, suffix: str, now: datetime) -> None:
    """'N天后' is now + N calendar days at the same wall-clock time."""
    tz = str(now.tzinfo)
    result = _parse_checked(f"{_render(n, style)}{suffix}", now, tz)
    assert result is not None
    assert result.astimezone(UTC) == (now + timedelta(days=n)).astimezone(UTC)
    _assert_valid_local(result, tz)


@PROPERTY_SETTINGS
@given(n=st.integers(min_value=1, max_value=400), now=aware_nows)
def test_english_days_later_matches_chinese(n: int, now: datetime) -> None:
    """'in N days', 'N days later' and 'N天后' agree."""
    tz = str(now.tzinfo)
    chinese = _parse_checked(f"{n}天后", now, tz)
    assert _parse_checked(f"in {n} days", now, tz) == chinese
    assert _parse_checked(f"{n} days later", now, tz) == chinese


@PROPERTY_SETTINGS
@given(n=st.integers(min_value=1, max_value=200), now=aware_nows)
def test_n_hours_later_is_exact(n: int, now: datetime) -> None:
    """'N小时后' is exactly N elapsed hours, whatever the clocks do."""
    tz = str(now.tzinfo)
    result = _parse_checked(f"{_zh_numeral(n)}小时后", now, tz)
    assert result is not None
    assert result.astimezone(UTC) == now.astimezone(UTC) + timedelta(hours=n)


@PROPERTY_SETTINGS
@given(
    hour=st.integers(min_value=1, max_value=11),
    minute=st.integers(min_value=0, max_value=59),
    day_word=st.sampled_from(["明天", "后天", "下周三"]),
)
def test_afternoon_clock(hour: int, minute: int, day_word: str) -> None:
    """'<day>下午H点M分' is H+12:M on that day."""
    tz = "Asia/Shanghai"
    result = _parse_checked(f"{day_word}下午{_zh_numeral(hour)}点{minute}分", now_in(tz), tz)
    assert result is not None
    assert (result.hour, result.minute) == (hour + 12, minute)


@PROPERTY_SETTINGS
@given(
    weekday=st.integers(min_value=0, max_value=6),
    now=aware_nows,
)
def test_bare_weekday_is_within_the_next_week(weekday: int, now: datetime) -> None:
    """'周X' is today or one of the next six days, and '下周X' is in the following week."""
    tz = str(now.tzinfo)
    word = "一二三四五六日"[weekday]
    local_today = now.astimezone(ZoneInfo(tz)).date()
    bare = _parse_checked(f"周{word}", now, tz)
    following = _parse_checked(f"下周{word}", now, tz)
    assert bare is not None and following is not None
    assert bare.weekday() == weekday == following.weekday()
    assert 0 <= (bare.date() - local_today).days <= 6
    monday = local_today - timedelta(days=local_today.weekday())
    assert following.date() == monday + timedelta(days=7 + weekday)


# ---------------------------------------------------------------------------
# Daylight saving time
# ---------------------------------------------------------------------------

NEW_YORK = "America/New_York"


def _offset_hours(result: datetime | None) -> float:
    """UTC offset of a result in hours."""
    assert result is not None
    offset = result.utcoffset()
    assert offset is not None
    return offset.total_seconds() / 3600


def test_dst_fall_back_new_york() -> None:
    """Across 2026-11-01 in New York results are valid local times with the right offset."""
    now = datetime(2026, 10, 31, 14, 0, tzinfo=ZoneInfo(NEW_YORK))  # Saturday, EDT
    cases = {
        "tomorrow 3pm": ("2026-11-01 15:00", -5),
        "明天": ("2026-11-01 18:00", -5),
        "in 24 hours": ("2026-11-01 13:00", -5),
        "24小时内": ("2026-11-01 13:00", -5),
        "3天后": ("2026-11-03 14:00", -5),
        "tonight": ("2026-10-31 21:00", -4),
        "明天凌晨1点半": ("2026-11-01 01:30", -4),
        "next Monday": ("2026-11-02 18:00", -5),
    }
    for phrase, (minute, offset) in cases.items():
        result = _parse_checked(phrase, now, NEW_YORK)
        assert _minute(result) == minute, phrase
        assert _offset_hours(result) == offset, phrase
        _assert_valid_local(result, NEW_YORK)


def test_dst_spring_forward_new_york() -> None:
    """A wall-clock time skipped by the 2026-03-08 change moves forward to a real time."""
    now = datetime(2026, 3, 7, 14, 0, tzinfo=ZoneInfo(NEW_YORK))  # Saturday, EST
    cases = {
        "tomorrow 2:30am": ("2026-03-08 03:30", -4),
        "明天凌晨2点半": ("2026-03-08 03:30", -4),
        "in 24 hours": ("2026-03-08 15:00", -4),
        "1天后": ("2026-03-08 14:00", -4),
        "明天": ("2026-03-08 18:00", -4),
        "3pm": ("2026-03-07 15:00", -5),
    }
    for phrase, (minute, offset) in cases.items():
        result = _parse_checked(phrase, now, NEW_YORK)
        assert _minute(result) == minute, phrase
        assert _offset_hours(result) == offset, phrase
        _assert_valid_local(result, NEW_YORK)


@PROPERTY_SETTINGS
@given(
    phrase=st.sampled_from(["明天凌晨2点半", "tomorrow 1:30am", "3天后", "in 6 hours", "明天", "midnight"]),
    offset_hours=st.integers(min_value=-72, max_value=72),
    tz=st.sampled_from([NEW_YORK, "Europe/London", "Australia/Lord_Howe", "America/Sao_Paulo"]),
)
def test_results_near_transitions_are_valid(phrase: str, offset_hours: int, tz: str) -> None:
    """Around DST changes every result is an existing local time."""
    transitions = {
        NEW_YORK: datetime(2026, 3, 8, 7, 0, tzinfo=UTC),
        "Europe/London": datetime(2026, 10, 25, 1, 0, tzinfo=UTC),
        "Australia/Lord_Howe": datetime(2026, 4, 4, 15, 0, tzinfo=UTC),
        "America/Sao_Paulo": datetime(2018, 11, 4, 3, 0, tzinfo=UTC),
    }
    now = (transitions[tz] + timedelta(hours=offset_hours)).astimezone(ZoneInfo(tz))
    result = _parse_checked(phrase, now, tz)
    assert result is not None
    _assert_valid_local(result, tz)


# ---------------------------------------------------------------------------
# Inputs and options
# ---------------------------------------------------------------------------


def test_workday_end_is_configurable() -> None:
    """A named day without a time uses the given end of the working day."""
    tz = "Asia/Shanghai"
    result = parse_when("明天", now=now_in(tz), tz=tz, workday_end=time(17, 30))
    assert _minute(result) == "2026-11-27 17:30"
    assert _minute(parse_when("EOD", now=now_in(tz), tz=tz, workday_end=time(19, 0))) == "2026-11-26 19:00"


def test_now_in_another_zone_is_converted() -> None:
    """now may be given in any zone; phrases are read on the user's wall clock."""
    now_utc = now_in("Asia/Shanghai").astimezone(UTC)
    result = parse_when("明天下午3点", now=now_utc, tz="Asia/Shanghai")
    assert _minute(result) == "2026-11-27 15:00"


def test_naive_now_is_taken_as_local() -> None:
    """A naive now is read as wall-clock time in tz rather than rejected."""
    assert _minute(parse_when("明天", now=NOW_LOCAL, tz="Asia/Shanghai")) == "2026-11-27 18:00"


def test_unknown_zone_falls_back_to_utc() -> None:
    """An unknown zone name does not raise; UTC is used."""
    result = parse_when("明天", now=now_in("UTC"), tz="Mars/Olympus_Mons")
    assert result is not None
    assert result.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["sat " * 60, "next month " * 30, "December " * 30])
def test_long_text_without_phrase_skips_dateparser(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the dateparser length cap, text the built-in rules cannot read is None."""
    assert len(text) > dates.MAX_DATEPARSER_CHARS

    def forbidden(ctx: Any) -> Any:
        raise AssertionError("dateparser must not be called")

    monkeypatch.setattr(dates, "_dateparser", forbidden)
    assert parse_when(text, now=now_in("UTC"), tz="UTC") is None


def _long_inputs() -> Iterator[str]:
    """Large strings of assorted shapes."""
    rng = random.Random(20261126)
    yield "x" * 100_000
    yield "1" * 100_000
    yield "\x00\x01\x1f\x7f" * 25_000
    yield "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(100_000))
    yield "".join(
        rng.choice("一二三四五六七八九十点号月日周下午天后内前半个小时:/-0123456789 apm") for _ in range(100_000)
    )
    yield "明天" * 50_000
    yield "2026-12-01 " * 9_000
    yield "x" * 99_990 + "明天"


@pytest.mark.parametrize("text", list(_long_inputs()), ids=lambda text: f"{len(text)}:{text[:6]!r}")
def test_100kb_inputs(text: str) -> None:
    """100 KB inputs return quickly with None or a valid datetime."""
    tz = "Asia/Shanghai"
    started = _clock.perf_counter()
    result = _parse_checked(text, now_in(tz), tz)
    assert _clock.perf_counter() - started < 0.5
    _assert_valid_local(result, tz)


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def test_warm_up_is_repeatable() -> None:
    """warm_up can run more than once."""
    warm_up()
    warm_up()


def test_format_fallback() -> None:
    """The fallback text shows the minute and the zone name."""
    moment = datetime(2026, 12, 4, 18, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert format_fallback(moment, "en") == "2026-12-04 18:00 (Asia/Shanghai)"
    assert format_fallback(moment, "zh") == "2026-12-04 18:00（Asia/Shanghai）"
    fixed: tzinfo = UTC
    assert format_fallback(datetime(2026, 12, 4, 18, 0, tzinfo=fixed), "en") == "2026-12-04 18:00 (UTC)"
    assert format_fallback(datetime(2026, 12, 4, 18, 0), "en") == "2026-12-04 18:00"
