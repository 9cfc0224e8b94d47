"""Score raw dateparser and parse_when against the phrase tables: right, None and wrong, per language."""

from __future__ import annotations

import logging
import sys
import time
import warnings
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]


def raw_dateparser(phrase: str, now: datetime, tz: str) -> datetime | None:
    """dateparser.parse on its own, configured as plainly as a caller would."""
    import dateparser

    settings = {
        "RELATIVE_BASE": now.replace(tzinfo=None),
        "PREFER_DATES_FROM": "future",
        "TIMEZONE": tz,
        "RETURN_AS_TIMEZONE_AWARE": True,
    }
    try:
        found = dateparser.parse(phrase, languages=["zh", "en"], settings=settings)
    except Exception:  # count a crash as a miss
        logger.debug("dateparser raised on %r", phrase, exc_info=True)
        return None
    if found is None:
        return None
    zone = ZoneInfo(tz)
    return found.replace(tzinfo=zone) if found.tzinfo is None else found.astimezone(zone)


def minute(result: datetime | None) -> str | None:
    """Render a result as the table does."""
    return None if result is None else result.strftime("%Y-%m-%d %H:%M")


def language(phrase: str) -> str:
    """zh when the phrase has a Chinese character, else en."""
    return "zh" if any("\u3400" <= ch <= "\u9fff" for ch in phrase) else "en"


def main() -> int:
    """Run both parsers over the phrase tables and print right / None / wrong per language."""
    sys.path.insert(0, str(ROOT))
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from bot.dates import find_when, parse_when, warm_up
    from tests.date_phrases import CHAT_PHRASES, PHRASES, now_in
    from tests.date_phrases_chat import MORE_PHRASES

    warm_up()
    verbose = "-v" in sys.argv[1:]
    rows = PHRASES + MORE_PHRASES
    parsers = {
        "raw dateparser": lambda phrase, now, tz: raw_dateparser(phrase, now, tz),
        "parse_when": lambda phrase, now, tz: parse_when(phrase, now=now, tz=tz),
    }
    wrong_total = 0
    print(
        f"{len(rows)} phrases (tests/date_phrases.py and tests/date_phrases_chat.py), now = Thursday 2026-11-26 "
        "14:00 in each row's zone; 'wrong' is a time other than the expected one (a None row read as a time "
        "counts as wrong)"
    )
    print(f"{'parser':16} {'language':8} {'rows':>5} {'right':>6} {'None':>5} {'wrong':>6} {'ms/phrase':>10}")
    for name, parse in parsers.items():
        for lang in ("zh", "en"):
            mine = [r for r in rows if language(r[0]) == lang]
            right = none = wrong = 0
            seconds = 0.0
            for phrase, tz, expected in mine:
                now = now_in(tz)
                started = time.perf_counter()
                got = minute(parse(phrase, now, tz))
                seconds += time.perf_counter() - started
                if got == expected:
                    right += 1
                elif got is None:
                    none += 1
                else:
                    wrong += 1
                    if verbose and name == "parse_when":
                        print(f"  wrong: {phrase!r} [{tz}] expected {expected}, got {got}")
            if name == "parse_when":
                wrong_total += wrong
            print(f"{name:16} {lang:8} {len(mine):5} {right:6} {none:5} {wrong:6} {1000 * seconds / len(mine):10.2f}")
    found = sum(minute(find_when(p, now=now_in(tz), tz=tz)) == e for p, tz, e in CHAT_PHRASES)
    print(f"find_when on {len(CHAT_PHRASES)} sentences with a deadline inside: {found} right")
    return 0 if wrong_total == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
