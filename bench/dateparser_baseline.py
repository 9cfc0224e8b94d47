"""Score raw dateparser and parse_when against the phrase table in tests/date_phrases.py."""

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


def main() -> int:
    """Run both parsers over the table and print the scores."""
    sys.path.insert(0, str(ROOT))
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from bot.dates import parse_when, warm_up
    from tests.date_phrases import PHRASES, now_in

    warm_up()
    raw_correct = 0
    ours_correct = 0
    raw_seconds = 0.0
    ours_seconds = 0.0
    for phrase, tz, expected in PHRASES:
        now = now_in(tz)
        started = time.perf_counter()
        raw = minute(raw_dateparser(phrase, now, tz))
        raw_seconds += time.perf_counter() - started
        started = time.perf_counter()
        ours = minute(parse_when(phrase, now=now, tz=tz))
        ours_seconds += time.perf_counter() - started
        raw_correct += raw == expected
        ours_correct += ours == expected
        if "-v" in sys.argv[1:] and raw != expected:
            print(f"  raw miss: {phrase!r} [{tz}] expected {expected}, got {raw}")
    total = len(PHRASES)
    print(f"raw dateparser: {raw_correct}/{total} correct; parse_when: {ours_correct}/{total} correct")
    print(
        f"mean time per phrase: raw dateparser {1000 * raw_seconds / total:.2f} ms, "
        f"parse_when {1000 * ours_seconds / total:.2f} ms"
    )
    return 0 if ours_correct == total else 1


if __name__ == "__main__":
    raise SystemExit(main())
