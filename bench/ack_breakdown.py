"""Where an acknowledgment's time goes: the same batches against coordbot served in-process, instrumented.

The app is built as tests/conftest.py builds it (build_runtime, create_app, SlackHTTPServer) and timed at
two points on the way to the acknowledgment: the idempotency claim (bot.dedupe.claim, one SQLite write in
the middleware, before any listener runs) and the wait for a thread of Bolt's listener pool (from submit to
start). The clients share this interpreter with the app here, so only the shares are meant to be read.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bot.dedupe
from bench.ack_latency import Batches, FakeProcess, Timing, _attached, _driver, _modals, _wait_for
from bench.common import percentile
from bench.servers import BOT_TOKEN, SIGNING_SECRET
from bot.app import build_runtime, create_app
from bot.config import Settings
from handlers.http_server import SlackHTTPServer
from tests.fakes.slack_api import GENERAL

logger = logging.getLogger(__name__)


class _Samples:
    """Durations recorded from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.values: list[float] = []

    def add(self, seconds: float) -> None:
        with self._lock:
            self.values.append(seconds)

    def take(self) -> list[float]:
        with self._lock:
            taken, self.values = self.values, []
        return taken


class TimedExecutor(ThreadPoolExecutor):
    """A thread pool that records how long each task waited for a thread."""

    def __init__(self, max_workers: int, waits: _Samples) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="listener")
        self._waits = waits

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        queued = time.perf_counter()

        def run() -> Any:
            self._waits.add(time.perf_counter() - queued)
            return fn(*args, **kwargs)

        return super().submit(run)


@dataclass
class Breakdown:
    """Per kind: the acknowledgment, the claim and the wait for a listener thread (seconds)."""

    workers: int
    acks: dict[str, Timing] = field(default_factory=dict)
    claims: dict[str, list[float]] = field(default_factory=dict)
    waits: dict[str, list[float]] = field(default_factory=dict)

    def line(self, kind: str) -> str:
        """One line of figures for a kind."""
        ack = self.acks[kind]
        parts = [f"ack p50 {ack.p50 * 1000:.0f} / p99 {ack.p99 * 1000:.0f} ms"]
        if self.claims.get(kind):
            c = self.claims[kind]
            parts.append(f"idempotency claim p50 {percentile(c, 50) * 1000:.0f} / "
                         f"p99 {percentile(c, 99) * 1000:.0f} ms")
        if self.waits.get(kind):
            w = self.waits[kind]
            parts.append(f"wait for a listener thread p50 {percentile(w, 50) * 1000:.0f} / "
                         f"p99 {percentile(w, 99) * 1000:.0f} ms")
        return "; ".join(parts)


def measure(tmp: Path, *, n: int, warmup: int) -> Breakdown:
    """Run the three batches (persistent connections) against the instrumented in-process app."""
    claims, waits = _Samples(), _Samples()
    original = bot.dedupe.claim

    def timed_claim(*args: Any, **kwargs: Any) -> bool:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            claims.add(time.perf_counter() - started)

    db = tmp / "breakdown.db"
    with open(tmp / "breakdown.log", "w") as log:
        fake = FakeProcess(log)
        bot.dedupe.claim = timed_claim
        try:
            settings = Settings(bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, database_url=f"sqlite:///{db}",
                                slack_api_url=fake.api_url, tz="Asia/Shanghai")
            runtime = build_runtime(settings)
            runtime.directory.load()
            app = create_app(runtime)
            runner = app.listener_runner
            workers = int(getattr(runner.listener_executor, "_max_workers", 5))
            executor = TimedExecutor(workers, waits)
            runner.listener_executor = executor
            runner.lazy_listener_runner.executor = executor  # type: ignore[attr-defined]
            server = SlackHTTPServer(app, host="127.0.0.1", port=0, health=runtime.healthy)
            server.start_background()
            batches = Batches(_driver(server.url, fake, True), n, warmup)
            result = Breakdown(workers)
            try:
                opened = fake.calls("views.open")
                _collect(result, "/requirement", claims, waits, lambda: batches.run(
                    "/requirement", batches.slashes(),
                    lambda k: _wait_for("modals", lambda: fake.calls("views.open") - opened, k, [])))
                modals = _modals(fake)
                _collect(result, "view_submission", claims, waits, lambda: batches.run(
                    "view_submission", batches.submissions(modals),
                    lambda k: _wait_for("sheets", lambda: _attached(db), k, [])))
                sheets = list(fake.ask(f"sheets {GENERAL}"))
                updated = fake.calls("chat.update")
                _collect(result, "reaction_added", claims, waits, lambda: batches.run(
                    "reaction_added", batches.reactions(sheets),
                    lambda k: _wait_for("updates", lambda: fake.calls("chat.update") - updated, k, [])))
            finally:
                batches.close()
                server.shutdown()
                server.server_close()
                executor.shutdown(wait=True)
                runtime.engine.dispose()
        finally:
            bot.dedupe.claim = original
            fake.stop()
    return result


def _collect(result: Breakdown, kind: str, claims: _Samples, waits: _Samples, run: Callable[[], Timing]) -> None:
    claims.take()
    waits.take()
    result.acks[kind] = run()
    # the warm-up's samples are in here too; they are few and the shares are what is read
    result.claims[kind] = claims.take()
    result.waits[kind] = [] if kind == "reaction_added" else waits.take()  # events are acknowledged before
