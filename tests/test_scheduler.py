"""The heartbeat runs the tick on its own and survives a failing tick."""

from __future__ import annotations

import threading

from bot.scheduler import start_heartbeat


def test_heartbeat_ticks_at_start_and_keeps_going_after_an_error() -> None:
    calls: list[int] = []
    done = threading.Event()

    def tick() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database unavailable")
        done.set()

    scheduler = start_heartbeat(tick, seconds=1)
    try:
        assert done.wait(5), calls
    finally:
        scheduler.shutdown(wait=False)
    assert len(calls) >= 2
