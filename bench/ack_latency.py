"""Acknowledgment latency at 16 concurrent clients: coordbot (`coordbot run`, HTTP mode) beside a bare Bolt app.

Three kinds of process: the fake Slack Web API (bench.servers fake), the app under test (`coordbot run` on a
temporary SQLite file, or bench.servers bare), and this one, whose client threads post signed requests built
by tests/fakes/driver.py and time each HTTP answer. Each client thread either keeps one HTTP/1.1 connection
(KeepAliveDriver) or, like the driver's urllib, opens a new one per request. Work the bot does after
acknowledging (views.open, chat.postMessage, chat.update to the fake) is not timed, but it runs in the same
process as the acknowledging code and so competes with it, as it does in production.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from bench.common import ROOT, free_port, percentile, proc_memory
from bench.servers import BOT_TOKEN, SIGNING_SECRET
from handlers.blocks.requirement import Ids as RequirementIds
from tests.fakes.driver import Reply, SlackDriver
from tests.fakes.slack_api import ALICE, BOB, GENERAL, FakeSlack

logger = logging.getLogger(__name__)

CLIENTS = 16
KINDS = ("/requirement", "view_submission", "reaction_added")
REQUESTER = ALICE  # opens and submits every sheet; BOB, the receiving owner, signs by reaction
START_TIMEOUT = 90.0
DRAIN_TIMEOUT = 60.0
WIDE_BACKLOG = 128


def sheet_values(today: date) -> dict[str, Any]:
    """A valid requirement sheet, keyed by input block_id (due two weeks from today)."""
    return {
        "requester_dept": "Marketing",
        "receiver_dept": "Engineering",
        "receiver_owner": BOB,
        "background": "Q1 campaign needs a landing page.",
        "goal": "Sign-ups +20% by March.",
        "description": "A landing page with a sign-up form and analytics.",
        "priority": "high",
        "due": (today + timedelta(days=14)).isoformat(),
    }


@dataclass
class Timing:
    """The answers to one kind of request."""

    kind: str
    elapsed: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    failures: Counter[str] = field(default_factory=Counter)
    wall: float = 0.0

    @property
    def ok(self) -> int:
        """Requests answered 200."""
        return self.statuses.get(200, 0)

    @property
    def p50(self) -> float:
        """Median answer time, seconds."""
        return percentile(self.elapsed, 50)

    @property
    def p99(self) -> float:
        """99th percentile answer time, seconds."""
        return percentile(self.elapsed, 99)

    @property
    def worst(self) -> float:
        """Slowest answer, seconds."""
        return max(self.elapsed) if self.elapsed else float("nan")

    @property
    def rate(self) -> float:
        """Requests per second over the batch."""
        return len(self.elapsed) / self.wall if self.wall else float("nan")


@dataclass
class AppRun:
    """One app's figures."""

    name: str
    timings: dict[str, Timing] = field(default_factory=dict)
    idle_memory: dict[str, int] = field(default_factory=dict)
    loaded_memory: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class LatencyResult:
    """Both apps, and what the fake saw."""

    coordbot: AppRun
    bare: AppRun
    requests: int
    warmup: int
    fake_counts: dict[str, Any] = field(default_factory=dict)
    keep_alive: bool = False
    bare_wide: AppRun | None = None  # bare Bolt with a listen backlog of WIDE_BACKLOG


class FakeProcess:
    """The fake Slack Web API in its own process, with its control channel."""

    def __init__(self, log: IO[str]) -> None:
        self._proc = subprocess.Popen([sys.executable, "-m", "bench.servers", "fake"], cwd=ROOT, text=True,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
        self._lock = threading.Lock()
        hello = self._read()
        self.api_url, self.base_url = str(hello["api_url"]), str(hello["base_url"])

    def _read(self) -> Any:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError("the fake Slack API process exited; see its log")
        return json.loads(line)

    def ask(self, command: str) -> Any:
        """Send one command, return its JSON answer."""
        with self._lock:
            assert self._proc.stdin is not None
            self._proc.stdin.write(command + "\n")
            self._proc.stdin.flush()
            return self._read()

    def calls(self, method: str) -> int:
        """How many calls of a Web API method the fake has answered."""
        return int(self.ask("counts")["calls"].get(method, 0))

    def stop(self) -> None:
        """Ask it to quit, then make sure it has."""
        with contextlib.suppress(BrokenPipeError, RuntimeError, ValueError):
            self.ask("quit")  # answers nothing: the process closes its output and exits
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


class RemoteFake(FakeSlack):
    """What the driver needs of the fake, on this side: trigger_ids issued by the fake process."""

    def __init__(self, remote: FakeProcess) -> None:
        super().__init__(bot_token=BOT_TOKEN)
        self._remote = remote
        self._pool: dict[str, deque[str]] = {}
        self._pool_lock = threading.Lock()

    def new_trigger_id(self, *, user: str | None = None, view_id: str | None = None) -> str:
        """A trigger_id the fake process will accept once."""
        who = user or ALICE
        with self._pool_lock:
            pool = self._pool.setdefault(who, deque())
            if not pool:
                pool.extend(self._remote.ask(f"triggers 200 {who}"))
            return pool.popleft()

    def new_response_url(self, *, channel: str | None = None, message_ts: str | None = None,
                         user: str | None = None) -> str:
        """A response_url on the fake process (none of the timed requests answers through it)."""
        return f"{self._remote.base_url}/response/0"


class KeepAliveDriver(SlackDriver):
    """The driver over one persistent HTTP/1.1 connection per client thread (no connect per request)."""

    def __init__(self, endpoint_url: str, signing_secret: str, fake: FakeSlack, *, timeout: float) -> None:
        super().__init__(endpoint_url, signing_secret, fake, timeout=timeout)
        parts = urlsplit(endpoint_url)
        self._host, self._port, self._path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path
        self._local = threading.local()

    def post(self, body: str, content_type: str, *, timestamp: int | None = None,
             signature: str | None = None, retry_num: int | None = None,
             retry_reason: str = "http_timeout") -> Reply:
        """POST a signed body on this thread's connection (reconnecting once if the server closed it)."""
        headers = {"Content-Type": content_type, "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
                   **self.headers_for(body, timestamp=timestamp)}
        data = body.encode("utf-8")
        for attempt in (1, 2):
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
                conn.connect()
                self._local.conn = conn
            started = time.perf_counter()
            try:
                conn.request("POST", self._path, body=data, headers=headers)
                response = conn.getresponse()
                raw = response.read()
            except (ConnectionError, http.client.HTTPException):
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise
                continue
            elapsed = time.perf_counter() - started
            return Reply(response.status, raw.decode("utf-8", "replace"), dict(response.getheaders()), elapsed)
        raise AssertionError("unreachable")


def _wait_healthy(url: str, proc: subprocess.Popen[Any], timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with status {proc.returncode} before it was healthy")
        try:
            with opener.open(url + "/healthz", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} not healthy after {timeout:.0f} s")


def _stop(proc: subprocess.Popen[Any]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def hammer(pool: ThreadPoolExecutor, name: str, requests: Sequence[Callable[[], Reply]]) -> Timing:
    """Send the requests from the pool's client threads at once (each sends its next as soon as answered)."""
    timing = Timing(name)
    lock = threading.Lock()

    def one(send: Callable[[], Reply]) -> None:
        failure = None
        try:
            reply = send()
            status, elapsed = reply.status, reply.elapsed
        except (OSError, http.client.HTTPException) as exc:  # counted as a failure, not a time
            status, elapsed, failure = 0, None, type(exc).__name__
        with lock:
            timing.statuses[status] = timing.statuses.get(status, 0) + 1
            if failure:
                timing.failures[failure] += 1
            if elapsed is not None and status == 200:
                timing.elapsed.append(elapsed)

    started = time.perf_counter()
    list(pool.map(one, requests))
    timing.wall = time.perf_counter() - started
    return timing


def _wait_for(what: str, probe: Callable[[], int], target: int, notes: list[str]) -> None:
    """Let the work after the acknowledgments finish before the next batch is timed."""
    deadline = time.monotonic() + DRAIN_TIMEOUT
    seen = probe()
    while seen < target and time.monotonic() < deadline:
        time.sleep(0.1)
        seen = probe()
    if seen < target:
        notes.append(f"only {seen} of {target} {what} after {DRAIN_TIMEOUT:.0f} s")


def _attached(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        return int(conn.execute("SELECT count(*) FROM requirement WHERE message_ts IS NOT NULL").fetchone()[0])


class Batches:
    """The three timed batches against one app, each after a warm-up batch, from one pool of client threads."""

    def __init__(self, driver: SlackDriver, n: int, warmup: int) -> None:
        self.driver, self.n, self.warmup = driver, n, warmup
        self.values = sheet_values(date.today())
        self.pool = ThreadPoolExecutor(max_workers=CLIENTS, thread_name_prefix="client")

    def close(self) -> None:
        """Let the client threads go."""
        self.pool.shutdown()

    def run(self, kind: str, requests: list[Callable[[], Reply]], drain: Callable[[int], None]) -> Timing:
        """Warm up with the first requests, let their work finish, time the rest, let theirs finish."""
        warm = hammer(self.pool, "warm-up", requests[: self.warmup])
        drain(warm.ok)
        timed = hammer(self.pool, kind, requests[self.warmup:])
        drain(warm.ok + timed.ok)
        return timed

    def slashes(self) -> list[Callable[[], Reply]]:
        """/requirement with no text: the bot acknowledges, then opens the sheet's modal."""
        def send() -> Callable[[], Reply]:
            return lambda: self.driver.slash("/requirement", "", user=REQUESTER, channel=GENERAL)

        return [send() for _ in range(self.warmup + self.n)]

    def submissions(self, modals: list[dict[str, Any]]) -> list[Callable[[], Reply]]:
        """Each opened modal submitted once with valid values (the bot validates, acknowledges, then posts)."""
        def send(view: dict[str, Any]) -> Callable[[], Reply]:
            return lambda: self.driver.submit_view(self.values, user=REQUESTER, view=view)

        return [send(v) for v in modals[: self.warmup + self.n]]

    def reactions(self, sheets: list[str]) -> list[Callable[[], Reply]]:
        """✅ by the receiving owner on each posted sheet (the bot acknowledges, then signs and updates it)."""
        def send(ts: str) -> Callable[[], Reply]:
            return lambda: self.driver.react("white_check_mark", channel=GENERAL, ts=ts, user=BOB)

        return [send(ts) for ts in sheets[: self.warmup + self.n]]


def _driver(url: str, fake: FakeProcess, keep_alive: bool) -> SlackDriver:
    endpoint = url + "/slack/events"
    if keep_alive:
        return KeepAliveDriver(endpoint, SIGNING_SECRET, RemoteFake(fake), timeout=30.0)
    return SlackDriver(endpoint, SIGNING_SECRET, RemoteFake(fake), timeout=30.0)


def _modals(fake: FakeProcess) -> list[dict[str, Any]]:
    """The sheet modals the bot opened, oldest first."""
    return list(fake.ask(f"modals {RequirementIds.MODAL}"))


def run_coordbot(fake: FakeProcess, tmp: Path, n: int, warmup: int, log: IO[str], *,
                 keep_alive: bool) -> tuple[AppRun, list[dict[str, Any]], list[str]]:
    """Start `coordbot run` against the fake; time the three kinds; return the modals and sheets used."""
    run = AppRun("coordbot")
    tag = "keepalive" if keep_alive else "connect"
    db = tmp / f"latency-{tag}.db"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "COORDBOT_", "DATABASE_URL"))}
    env.update({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": fake.api_url,
                "DATABASE_URL": f"sqlite:///{db}", "PORT": str(port), "COORDBOT_TZ": "Asia/Shanghai"})
    proc = subprocess.Popen([sys.executable, "-m", "bot", "run", "--host", "127.0.0.1"], cwd=ROOT, env=env,
                            stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    batches = Batches(_driver(url, fake, keep_alive), n, warmup)
    try:
        _wait_healthy(url, proc)
        time.sleep(2.0)  # settle: the first scheduler beat, the member directory
        run.idle_memory = proc_memory(proc.pid)

        opened = fake.calls("views.open")
        run.timings["/requirement"] = batches.run(
            "/requirement", batches.slashes(),
            lambda k: _wait_for("modals opened", lambda: fake.calls("views.open") - opened, k, run.notes))
        modals = _modals(fake)
        if len(modals) < warmup + n:
            run.notes.append(f"{len(modals)} modals opened for {warmup + n} commands; as many submissions follow")

        run.timings["view_submission"] = batches.run(
            "view_submission", batches.submissions(modals),
            lambda k: _wait_for("sheets posted", lambda: _attached(db), k, run.notes))
        sheets = list(fake.ask(f"sheets {GENERAL}"))
        if len(sheets) < len(modals):
            run.notes.append(f"{len(sheets)} sheets posted for {len(modals)} submissions; as many reactions follow")

        updated = fake.calls("chat.update")
        run.timings["reaction_added"] = batches.run(
            "reaction_added", batches.reactions(sheets),
            lambda k: _wait_for("sheets updated", lambda: fake.calls("chat.update") - updated, k, run.notes))
        run.loaded_memory = proc_memory(proc.pid)
    finally:
        batches.close()
        _stop(proc)
    return run, modals, sheets


def run_bare(fake: FakeProcess, n: int, warmup: int, modals: list[dict[str, Any]], sheets: list[str],
             log: IO[str], *, keep_alive: bool, backlog: int | None = None) -> AppRun:
    """The same requests against a Bolt app that only acknowledges."""
    run = AppRun("bare Bolt" + (f", listen backlog {backlog}" if backlog else ""))
    port = free_port()
    command = [sys.executable, "-m", "bench.servers", "bare", "--port", str(port), "--api-url", fake.api_url]
    if backlog:
        command += ["--backlog", str(backlog)]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
    url = f"http://127.0.0.1:{port}"
    batches = Batches(_driver(url, fake, keep_alive), n, warmup)
    try:
        _wait_healthy(url, proc)
        time.sleep(1.0)
        run.idle_memory = proc_memory(proc.pid)
        run.timings["/requirement"] = batches.run("/requirement", batches.slashes(), lambda k: None)
        run.timings["view_submission"] = batches.run("view_submission", batches.submissions(modals), lambda k: None)
        run.timings["reaction_added"] = batches.run("reaction_added", batches.reactions(sheets), lambda k: None)
        run.loaded_memory = proc_memory(proc.pid)
    finally:
        batches.close()
        _stop(proc)
    return run


def measure(tmp: Path, *, n: int, warmup: int, keep_alive: bool) -> LatencyResult:
    """Run both apps against one fake Slack API process."""
    with open(tmp / f"latency-{'keepalive' if keep_alive else 'connect'}.log", "w") as log:
        fake = FakeProcess(log)
        try:
            coordbot, modals, sheets = run_coordbot(fake, tmp, n, warmup, log, keep_alive=keep_alive)
            counts = fake.ask("counts")
            bare = run_bare(fake, n, warmup, modals, sheets, log, keep_alive=keep_alive)
            # with a connection per request, the same bare app once more with a listen backlog of 128
            wide = None if keep_alive else run_bare(fake, n, warmup, modals, sheets, log, keep_alive=False,
                                                    backlog=WIDE_BACKLOG)
        finally:
            fake.stop()
    return LatencyResult(coordbot, bare, n, warmup, counts, keep_alive, wide)
