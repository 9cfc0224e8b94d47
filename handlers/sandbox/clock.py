"""The sandbox's clock: real time plus however far people have moved it forward.

coordbot runs on this clock in the sandbox (records, reminders, the tick), so moving it forward shows what a
day or a week later would bring. It never moves back: what was sent stays sent.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.dates import parse_when

_STEP = re.compile(
    r"^\+\s*(\d{1,4})\s*(m|min|mins|minutes?|h|hrs?|hours?|d|days?|w|weeks?|分钟|小时|天|周)$", re.IGNORECASE
)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks", "分": "minutes", "小": "hours", "天": "days"}
MAX_JUMP = timedelta(days=366)


class ClockError(ValueError):
    """A move the clock refuses, said for people."""


class SandboxClock:
    """Now = the real time + an offset that only grows; the offset is kept in a file when one is given."""

    def __init__(self, state: Path | None = None, *, real: Callable[[], datetime] | None = None) -> None:
        self._real = real or (lambda: datetime.now(UTC))
        self._state = state
        self._lock = threading.Lock()
        self._offset = timedelta(0)
        if state is not None and state.exists():
            try:
                self._offset = timedelta(seconds=float(json.loads(state.read_text())["offset_seconds"]))
            except (ValueError, KeyError, TypeError):
                self._offset = timedelta(0)  # a damaged file: start from the real time

    def __call__(self) -> datetime:
        with self._lock:
            return self._real() + self._offset

    def timestamp(self) -> float:
        """Now as Unix seconds (what message ts follow)."""
        return self().timestamp()

    @property
    def offset(self) -> timedelta:
        """How far ahead of the real time the clock is."""
        with self._lock:
            return self._offset

    def move_to(self, when: datetime) -> datetime:
        """Move forward to `when` (aware); refuse the past and jumps of over a year."""
        if when.utcoffset() is None:
            raise ClockError("a time without a timezone")
        with self._lock:
            now = self._real() + self._offset
            if when <= now:
                raise ClockError(f"time only moves forward: {when.astimezone(UTC):%Y-%m-%d %H:%M} UTC is not later")
            if when - now > MAX_JUMP:
                raise ClockError("that is more than a year ahead; move in smaller steps")
            self._offset += when - now
            self._save()
            return now + (when - now)

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by `delta`."""
        return self.move_to(self() + delta)

    def _save(self) -> None:
        if self._state is not None:
            self._state.write_text(json.dumps({"offset_seconds": self._offset.total_seconds()}))


def read_move(phrase: str, *, now: datetime, tz: str) -> datetime:
    """Where a phrase points, read in the person's timezone: "+1 hour", "+2d", "tomorrow 09:00", "下周一 9点"."""
    text = phrase.strip()
    if not text:
        raise ClockError("say when: '+1 hour', 'tomorrow 09:00', 'next Monday 09:00'")
    step = _STEP.match(text)
    if step:
        unit = step[2].lower()
        name = _UNITS.get(unit[:1], "weeks") if unit != "周" else "weeks"
        return now + timedelta(**{name: int(step[1])})
    local = now.astimezone(ZoneInfo(tz))
    when = parse_when(text, now=local, tz=tz)
    if when is None:
        raise ClockError(f"could not read a time from {phrase[:60]!r}; try 'tomorrow 09:00' or '+3 days'")
    return when


def read_local(value: str, *, tz: str) -> datetime:
    """A picker's value ("2026-12-07T09:00") as the person's local time."""
    try:
        naive = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ClockError(f"not a date and time: {value[:40]!r}") from exc
    return naive.replace(tzinfo=ZoneInfo(tz)) if naive.utcoffset() is None else naive
