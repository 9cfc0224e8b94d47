"""The cost of one tick: 1,000 due reminders among 100,000 pending, against 1,000 due among 1,000 pending.

Rows are seeded straight into the outbox table with bulk inserts. The tick is the bot's own
(`Services.outbox.tick`, with its batch size, lease and claim queries); the delivery function returns
Outcome.SENT without any network, so what is measured is the outbox's own work: claiming, and marking
each row sent.
"""

from __future__ import annotations

import cProfile
import json
import logging
import pstats
import time
import tracemalloc
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, text, update
from sqlmodel import col

from bench.common import Backend, StatementCounter, max_rss_kib, median, proc_memory, reset_peak_rss
from bot.config import Settings
from bot.outbox import DueWork, Outcome
from bot.services import Services
from storage.db import make_engine, make_session_scope, migrate
from storage.models import OutboxItem

logger = logging.getLogger(__name__)

NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
DUE = 1_000
KINDS = ("req.sign_reminder", "req.question_reminder", "action.reminder", "meeting.start", "meeting.agenda")
CHUNK = 10_000


@dataclass
class TickRun:
    """One scenario on one backend."""

    backend: str
    pending: int
    due: int
    seconds: list[float] = field(default_factory=list)
    statements: int = 0
    sent: int = 0
    rss_before_kib: int | None = None
    rss_peak_kib: int | None = None
    peak_source: str = ""
    heap_peak_bytes: int | None = None
    shares: dict[str, float] = field(default_factory=dict)

    @property
    def time(self) -> float:
        """The median tick time, seconds."""
        return median(self.seconds)

    @property
    def per_reminder(self) -> float:
        """SQL statements per reminder delivered."""
        return self.statements / self.sent if self.sent else float("nan")


def _rows(start: int, count: int, due: bool) -> list[dict[str, Any]]:
    rows = []
    for i in range(start, start + count):
        kind = KINDS[i % len(KINDS)]
        # due rows fall in the last hour; the rest over the coming 90 days
        due_at = NOW - timedelta(seconds=1 + (i % 3600)) if due else NOW + timedelta(minutes=10 + (i % 129_600))
        rows.append(
            {
                "kind": kind,
                "subject": f"req:{i // 3}",
                "dedupe_key": f"{kind}:req:{i}",
                "payload": json.dumps({"record": i // 3, "user": f"U{i % 500:05d}"}),
                "due_at": due_at,
                "state": "pending",
                "attempts": 0,
                "created_at": NOW - timedelta(days=1),
            }
        )
    return rows


def seed(engine: Engine, *, pending: int, due: int) -> None:
    """`pending` pending rows of which `due` are due at NOW, inserted in bulk."""
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM outbox"))
        for start in range(0, pending, CHUNK):
            count = min(CHUNK, pending - start)
            due_here = max(0, min(count, due - start))
            batch = _rows(start, due_here, True) + _rows(start + due_here, count - due_here, False)
            conn.execute(insert(OutboxItem), batch)
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE outbox"))


def rearm(engine: Engine) -> None:
    """Put the rows the last tick sent back to pending, as they were seeded."""
    with engine.begin() as conn:
        conn.execute(
            update(OutboxItem)
            .where(col(OutboxItem.state) != "pending")
            .values(state="pending", attempts=0, claimed_by=None, lease_until=None, sent_at=None, last_error=None)
        )


def sent_without_network(item: DueWork, now: datetime) -> Outcome:
    """The delivery function: every row is sent, no Web API involved."""
    return Outcome.SENT


class Scenario:
    """One seeded outbox on its own fresh database."""

    def __init__(self, backend: Backend, pending: int) -> None:
        self.url = backend.fresh(f"tick_{pending}")
        self.engine = make_engine(self.url)
        migrate(self.engine)
        scope = make_session_scope(self.engine)
        self.services = Services.build(Settings(database_url=self.url), scope, clock=lambda: NOW)
        self.counter = StatementCounter(self.engine)
        self.result = TickRun(backend.name, pending, DUE)
        seed(self.engine, pending=pending, due=DUE)

    def tick(self) -> None:
        """One timed tick, counting statements and the memory it takes; then the rows are re-armed."""
        first = not self.result.seconds
        before = proc_memory()
        reset = reset_peak_rss()
        with self.counter.counting():
            started = time.perf_counter()
            report = self.services.outbox.tick(NOW, sent_without_network)
            self.result.seconds.append(time.perf_counter() - started)
        after = proc_memory()
        self.result.statements, self.result.sent = self.counter.count, report.sent
        if first:
            self.result.rss_before_kib = before.get("VmRSS")
            self.result.rss_peak_kib = after.get("VmHWM") if reset else max_rss_kib()
            self.result.peak_source = "VmHWM" if reset else "ru_maxrss"
        if report.sent != DUE:
            logger.warning("%s tick sent %d of %d", self.result.backend, report.sent, DUE)
        rearm(self.engine)

    def examine(self) -> None:
        """An untimed tick under tracemalloc, and one under cProfile for the shares of claiming and marking."""
        tracemalloc.start()
        self.services.outbox.tick(NOW, sent_without_network)
        self.result.heap_peak_bytes = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rearm(self.engine)
        profiler = cProfile.Profile()
        profiler.enable()
        self.services.outbox.tick(NOW, sent_without_network)
        profiler.disable()
        rearm(self.engine)
        self.result.shares = _shares(profiler)

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()


def _shares(profiler: cProfile.Profile) -> dict[str, float]:
    """Cumulative seconds in the tick, its claims and its marking of rows (bot/outbox.py)."""
    stats: dict[Any, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    found: dict[str, float] = {}
    for (filename, _line, name), (_cc, _nc, _tt, cumulative, _callers) in stats.items():
        if filename.endswith(("bot/outbox.py", "bot\\outbox.py")) and name in ("tick", "claim", "_finish"):
            found[name] = found.get(name, 0.0) + cumulative
    return found


def measure(backends: list[Backend], *, repeats: int) -> list[TickRun]:
    """Both scenarios on each backend, their ticks interleaved so that noise falls on both alike."""
    runs = []
    for backend in backends:
        scenarios = [Scenario(backend, pending) for pending in (100_000, DUE)]
        try:
            for _ in range(repeats):
                for scenario in scenarios:
                    scenario.tick()
            for scenario in scenarios:
                scenario.examine()
                runs.append(scenario.result)
        finally:
            for scenario in scenarios:
                scenario.close()
    return runs
