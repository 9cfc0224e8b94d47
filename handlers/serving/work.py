"""Workers: claim inbox rows with a lease and run each request's listener in full.

Any number of workers, in any process on any host sharing the database, work side by side: a row is
claimed by one of them at a time (`FOR UPDATE SKIP LOCKED` on PostgreSQL, an immediate transaction on
SQLite), and rows about one message run in the order they arrived. A worker renews the leases of the rows
it is running; a row whose worker died is taken again when its lease runs out. A listener that fails for
a reason that may pass (the database or Slack unreachable, a bug) leaves its row to be tried again later;
after the last try the row is parked and the person is told, with a reference to quote.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App, BoltRequest

from bot.inbox import Inbox, Row, working_on
from bot.messenger import Platform
from handlers.serving.intake import FAILURE_KEY, RECEIVED_KEY, ROW_KEY

logger = logging.getLogger(__name__)


def request_of(row: Row) -> BoltRequest:
    """The request a row holds, as the worker's app dispatches it (verified before it was stored)."""
    body = json.loads(row.payload)
    return BoltRequest(body=body, headers={}, mode="socket_mode", context={ROW_KEY: row, RECEIVED_KEY: row.received_at})


class Worker:
    """Claims rows and runs them on a pool of threads until stopped.

    Slack's rows run through the Bolt app (`app`; None when Slack is not served); another platform's rows
    run through its adapter's runner in `runners` (raising when the row failed). A worker claims only rows of
    the platforms it can run.
    """

    def __init__(
        self,
        app: App | None,
        inbox: Inbox,
        *,
        name: str,
        threads: int = 8,
        poll: float = 0.05,
        on_parked: Callable[[Row, BaseException], None] | None = None,
        runners: Mapping[str, Callable[[Row], None]] | None = None,
    ) -> None:
        self.app = app
        self.runners = dict(runners or {})
        served = ([Platform.SLACK.value] if app is not None else []) + list(self.runners)
        # only Slack: every row, as before platforms (the query stays the one the benchmark measured)
        self.platforms: tuple[str, ...] | None = None if served == [Platform.SLACK.value] else tuple(served)
        self.inbox = inbox
        self.name = name
        self.threads = threads
        self.poll = poll
        self._on_parked = on_parked
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="work")
        self._running: set[int] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._loop: threading.Thread | None = None
        self._renew: threading.Thread | None = None
        self.handled = 0
        self._pruned_at = -3600.0

    # -- running rows -----------------------------------------------------------------------------------

    def run(self, row: Row) -> bool:
        """Run one claimed row to its end and record the outcome; True when it is done."""
        failure: BaseException | None = None
        runner = self.runners.get(row.platform)
        try:
            if runner is not None:
                with working_on(row):
                    runner(row)
            elif self.app is not None and row.platform == Platform.SLACK:
                request = request_of(row)
                with working_on(row):
                    self.app.dispatch(request)
                failure = request.context.get(FAILURE_KEY)
            else:
                raise LookupError(f"no {row.platform} adapter is configured in this process")
        except Exception as exc:  # Bolt or the adapter failed on the row; it is retried like a failed listener
            failure = exc
        if failure is None:
            self.inbox.done(self.name, row.id)
            with self._lock:
                self.handled += 1
            return True
        parked = self.inbox.failed(self.name, row, f"{type(failure).__name__}: {failure}")
        if parked and self._on_parked is not None:
            self._on_parked(row, failure)
        return False

    def submit(self, row: Row) -> None:
        """Run a row this process already claimed, on the pool (it never waits: the serving path calls this)."""
        with self._lock:
            self._running.add(row.id)
        self._pool.submit(self._run_and_release, row)

    def _run_and_release(self, row: Row) -> None:
        try:
            self.run(row)
        except Exception:  # recording the outcome failed (the database is down): the lease runs out, retried
            logger.exception("could not record the outcome of request %s", row.id)
        finally:
            with self._lock:
                self._running.discard(row.id)
            self._wake.set()

    # -- the claiming loop ------------------------------------------------------------------------------

    def start(self, *, claim: bool = True) -> Worker:
        """Renew the leases of running rows and, with `claim`, claim and run due rows, on background threads.

        A serving process with worker processes beside it does not claim: it runs only the rows it stored
        claimed (modals to open at once).
        """
        if claim:
            self._loop = threading.Thread(target=self._claim_loop, name="inbox-claim", daemon=True)
            self._loop.start()
        self._renew = threading.Thread(target=self._renew_loop, name="inbox-lease", daemon=True)
        self._renew.start()
        return self

    def wake(self) -> None:
        """Look for rows now (a row was just stored in this process)."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Claim nothing more; let the rows already running finish (their leases cover the rest)."""
        self._stop.set()
        self._wake.set()
        if self._loop is not None:
            self._loop.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=False)
        if self._renew is not None:
            self._renew.join(timeout)

    def drain(self, timeout: float = 10.0) -> int:
        """Claim and run every row that is due, on the calling thread, until none is left."""
        deadline = time.monotonic() + timeout
        ran = 0
        while time.monotonic() < deadline:
            rows = self.inbox.claim(self.name, self.threads, platforms=self.platforms)
            if not rows:
                return ran
            for row in rows:
                self.run(row)
                ran += 1
        return ran

    def _claim_loop(self) -> None:
        while not self._stop.is_set():
            free = self._free_threads()
            rows: list[Row] = []
            if free:
                try:
                    rows = self.inbox.claim(self.name, free, platforms=self.platforms)
                except Exception:
                    logger.exception("could not claim requests from the inbox")
                    self._stop.wait(1.0)
                    continue
            for row in rows:
                self.submit(row)
            if not rows or len(rows) < free:
                self._wake.wait(self.poll)
                self._wake.clear()

    def _free_threads(self) -> int:
        with self._lock:
            return max(self.threads - len(self._running), 0)

    def _prune_now_and_then(self) -> float:
        """Forget rows done a day ago, once an hour (their duplicate keys are of no use by then)."""
        if time.monotonic() - self._pruned_at < 3600:
            return self._pruned_at
        try:
            removed = self.inbox.prune()
            if removed:
                logger.info("forgot %d requests done over a day ago", removed)
        except Exception:
            logger.exception("could not prune the inbox")
        return time.monotonic()

    def _renew_loop(self) -> None:
        period = max(self.inbox.lease.total_seconds() / 3, 0.05)
        while not self._stop.wait(period):
            with self._lock:
                ids = list(self._running)
            try:
                self.inbox.extend(self.name, ids)
            except Exception:
                logger.exception("could not renew the leases of %d requests", len(ids))
            self._pruned_at = self._prune_now_and_then()
        # a last renewal covers the rows still finishing after stop()
        with self._lock:
            ids = list(self._running)
        try:
            self.inbox.extend(self.name, ids)
        except Exception:
            logger.debug("could not renew leases while stopping", exc_info=True)
