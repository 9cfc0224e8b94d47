"""The worker processes `coordbot run` starts beside its server, restarted when they die."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

from bot.config import IDLE

logger = logging.getLogger(__name__)


def worker_command(*, scheduler: bool) -> list[str]:
    """How `coordbot run` starts a worker: this interpreter, `python -m bot work`."""
    command = [sys.executable, "-m", "bot", "work", "--parent", str(os.getpid())]
    if not scheduler:
        command.append("--no-scheduler")
    return command


QUICK_EXIT = 10.0  # seconds: a worker gone sooner than this after starting did not get going
MAX_RESTART_DELAY = 60.0


class WorkerProcesses:
    """N worker processes; each is started again (after `restart_delay`) when it exits unasked."""

    def __init__(self, command: Sequence[str], count: int, *, restart_delay: float = 1.0, grace: float = 30.0) -> None:
        self._command = list(command)
        self._count = count
        self._restart_delay = restart_delay
        self._grace = grace
        self._procs: list[subprocess.Popen[bytes] | None] = [None] * count
        self._down_since: list[float | None] = [None] * count
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._watchers: list[threading.Thread] = []

    def start(self) -> WorkerProcesses:
        """Start every worker and a thread watching each."""
        for slot in range(self._count):
            self._spawn(slot)
            watcher = threading.Thread(target=self._watch, args=(slot,), name=f"watch-worker-{slot}", daemon=True)
            watcher.start()
            self._watchers.append(watcher)
        return self

    def pids(self) -> list[int]:
        """The running workers' process ids."""
        with self._lock:
            return [p.pid for p in self._procs if p is not None and p.poll() is None]

    def healthy(self) -> bool:
        """Every worker runs, or has been gone for less than the grace period (a restart is under way)."""
        now = time.monotonic()
        with self._lock:
            return all(down is None or now - down < self._grace for down in self._down_since)

    def close(self, timeout: float = 30.0) -> None:
        """Ask every worker to finish what it is running (SIGTERM), then stop it."""
        self._closing.set()
        with self._lock:
            procs = [p for p in self._procs if p is not None]
        for proc in procs:
            with contextlib.suppress(OSError):
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in procs:
            try:
                proc.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                logger.warning("worker %s did not stop within %.0f s; killing it", proc.pid, timeout)
                proc.kill()
                proc.wait()

    def _spawn(self, slot: int) -> None:
        proc = subprocess.Popen(self._command, stdin=subprocess.DEVNULL)
        with self._lock:
            self._procs[slot] = proc
            self._down_since[slot] = None
        logger.info("worker process %s started", proc.pid)

    def _watch(self, slot: int) -> None:
        quick_exits = 0
        while True:
            proc = self._procs[slot]
            assert proc is not None
            started = time.monotonic()
            code = proc.wait()
            if self._closing.is_set():
                return
            with self._lock:
                self._down_since[slot] = time.monotonic()
            # a worker that stops at once (status 2: a setting it checked is wrong, Slack or the database out
            # of reach) is started again less and less often, so its one line is not lost in a flood of them
            quick_exits = quick_exits + 1 if time.monotonic() - started < QUICK_EXIT else 0
            delay = min(self._restart_delay * 2 ** max(quick_exits - 1, 0), MAX_RESTART_DELAY)
            logger.error("worker process %s exited with status %s; starting it again in %.0f s", proc.pid, code, delay)
            if self._closing.wait(delay):
                return
            try:
                self._spawn(slot)
            except OSError:
                logger.exception("could not start a worker process")


def lower_priority(nice: int | str) -> None:
    """Run this process at a lower CPU priority (`COORDBOT_WORKER_NICE`).

    `idle` (Linux's SCHED_IDLE): only on CPU time nothing else wants; elsewhere nice 19. A number: that
    nice value. 0, the default, leaves the priority as it is.
    """
    try:
        if nice == IDLE:
            if hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_IDLE"):
                os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
            elif hasattr(os, "nice"):
                os.nice(19)
        elif isinstance(nice, int) and nice > 0 and hasattr(os, "nice"):
            os.nice(nice)
    except OSError as exc:
        logger.warning("could not lower the worker's priority: %s", exc)
