"""Acknowledgment latency at 16 concurrent clients: coordbot (`coordbot run`, HTTP mode) beside a bare Bolt app.

Three kinds of process: the fake Slack Web API (bench.servers fake), the app under test (`coordbot run` on a
temporary SQLite file, or bench.servers bare), and this one, whose client threads post signed requests built
by tests/fakes/driver.py and time each HTTP answer. Each client thread either keeps one HTTP/1.1 connection
(KeepAliveDriver) or, like the driver's urllib, opens a new one per request.

`coordbot run` is measured as configured by default (a serving process that verifies, validates and
acknowledges, and a worker process for the work after the acknowledgment) and, with persistent connections,
also with COORDBOT_WORKERS=0 (everything in one process). The work after the acknowledgment (views.open,
chat.postMessage, chat.update to the fake) is timed too, per request: the fake records when each Web API call
arrived (time.time(), in its process), and the client records when it sent the request (time.time(), here);
the two are matched by what identifies the request in the call (trigger_id, a mark in the sheet, the message ts).

Two ways of sending: a closed loop (each client thread sends its next request as soon as the previous one is
answered: the apps run at saturation) and a fixed arrival rate (each request has a planned send time, whatever
the answers; its latency counts from that planned time, so waiting for a free client counts too).
"""

from __future__ import annotations

import contextlib
import http.client
import inspect
import itertools
import json
import logging
import math
import os
import signal
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

from bench.common import ROOT, ChildProcess, Cpus, child_processes, free_port, percentile, proc_memory
from bench.servers import BOT_TOKEN, MARK, SIGNING_SECRET
from handlers.blocks.requirement import Ids as RequirementIds
from handlers.http_server import SlackHTTPServer
from tests.fakes.driver import Reply, SlackDriver
from tests.fakes.slack_api import ALICE, BOB, GENERAL, FakeSlack

logger = logging.getLogger(__name__)

CLIENTS = 16
KINDS = ("/requirement", "view_submission", "reaction_added")
REQUESTER = ALICE  # opens and submits every sheet; BOB, the receiving owner, signs by reaction
START_TIMEOUT = 90.0
DRAIN_TIMEOUT = 180.0  # the work may lag far behind the acknowledgments when a worker process does it
WIDE_BACKLOG = 128
OPEN_RATE = 50.0  # requests per second of one kind, in the fixed-arrival-rate runs
CHILD_GRACE = 10.0  # seconds the app's other processes get to exit after the serving process has

DEFAULT_LABEL = "coordbot (serving process + worker)"
ONE_PROCESS_LABEL = "coordbot, one process (COORDBOT_WORKERS=0)"
BARE_LABEL = "bare Bolt"
BARE_SYNC_LABEL = "bare Bolt, process_before_response=True"
BARE_LOOP_LABEL = "bare Bolt, process_before_response=True, one event loop thread"

# the Web API call that completes the work after each kind's acknowledgment, and what in it names the request
EFFECTS: dict[str, tuple[str, str, str]] = {
    "/requirement": ("views.open", "trigger_id", "`views.open` carrying the command's trigger_id"),
    "view_submission": ("chat.postMessage", "mark",
                        "`chat.postMessage` of the new sheet, found by a mark unique to the submission in its goal"),
    "reaction_added": ("chat.update", "ts", "`chat.update` of the reacted-to sheet (its message ts)"),
}
# how long Slack honours a trigger_id: the fake's own default lifetime (the benchmark's fake lifts it)
TRIGGER_LIFETIME = float(inspect.signature(FakeSlack.__init__).parameters["trigger_ttl"].default)
_marks = itertools.count(1)

Send = Callable[[], tuple[Reply, str | None]]  # sends one request; returns the answer and the request's key


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
class Sample:
    """One request answered 200: what names it, and when (wall clock, time.time()) it was sent and answered."""

    key: str | None
    sent: float  # with a fixed arrival rate: when it was planned to be sent
    answered: float


@dataclass
class Timing:
    """The answers to one kind of request, and when the work after them reached the Slack API."""

    kind: str
    elapsed: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    failures: Counter[str] = field(default_factory=Counter)
    wall: float = 0.0
    samples: list[Sample] = field(default_factory=list)
    effects: list[float] = field(default_factory=list)  # seconds from sending to the call, in the order sent
    effect_call: str = ""  # which call was matched; empty when the app does no work after acknowledging
    unmatched: int = 0  # requests answered 200 whose call was not found
    last_ack: float = math.nan  # wall clock of the batch's last acknowledgment
    last_effect: float = math.nan  # wall clock of the batch's last matched call

    @property
    def mean(self) -> float:
        """Mean answer time, seconds."""
        return sum(self.elapsed) / len(self.elapsed) if self.elapsed else math.nan

    @property
    def effect_p50(self) -> float:
        """Median time from sending to the call that completes the work, seconds."""
        return percentile(self.effects, 50)

    @property
    def effect_p99(self) -> float:
        """99th percentile of the same, seconds."""
        return percentile(self.effects, 99)

    @property
    def effect_max(self) -> float:
        """The slowest work, seconds."""
        return max(self.effects) if self.effects else math.nan

    @property
    def effect_tail(self) -> float:
        """Seconds from the batch's last acknowledgment to its last completed work."""
        return self.last_effect - self.last_ack

    def effect_quarters(self) -> tuple[float, float]:
        """Median effect latency of the first and of the last quarter of the requests, in the order sent."""
        quarter = len(self.effects) // 4
        if not quarter:
            return math.nan, math.nan
        return percentile(self.effects[:quarter], 50), percentile(self.effects[-quarter:], 50)

    def late(self, limit: float) -> int:
        """How many calls came later than `limit` seconds after their request."""
        return sum(1 for e in self.effects if e > limit)

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
class OtherProcess:
    """One of the app's processes beside the serving one (a worker, or a helper of multiprocessing)."""

    pid: int
    priority: str  # "nice N", or SCHED_IDLE
    command: str
    memory: dict[str, int] = field(default_factory=dict)


@dataclass
class AppRun:
    """One app's figures."""

    name: str
    timings: dict[str, Timing] = field(default_factory=dict)
    idle_memory: dict[str, int] = field(default_factory=dict)
    loaded_memory: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)  # settings given beyond the common ones
    others_idle: list[OtherProcess] = field(default_factory=list)
    others_loaded: list[OtherProcess] = field(default_factory=list)
    api_calls: dict[str, int] = field(default_factory=dict)  # Web API calls it made, by method
    api_failed: dict[str, int] = field(default_factory=dict)
    validation_errors: int = 0  # Block Kit the fake refused
    validation_examples: list[str] = field(default_factory=list)


@dataclass
class LatencyResult:
    """The apps of one part, and how they were driven."""

    coordbot: AppRun  # as configured by default: serving process + worker
    bare: AppRun
    requests: int
    warmup: int
    keep_alive: bool = False
    bare_wide: AppRun | None = None  # bare Bolt with a listen backlog of WIDE_BACKLOG
    coordbot_one: AppRun | None = None  # COORDBOT_WORKERS=0
    bare_sync: AppRun | None = None  # bare Bolt with process_before_response=True
    bare_loop: AppRun | None = None  # the same, served by SlackLoopServer as coordbot's serving process is
    rate: float | None = None  # None: closed loop; else requests per second of each kind, at fixed times
    cpus: str = ""  # where the load and the app ran (Cpus.describe)


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

    def call_times(self, method: str) -> list[dict[str, Any]]:
        """Every call of a method: when it arrived (`at`, the fake's time.time()) and what names its request."""
        return list(self.ask(f"calltimes {method}"))

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
        self._issued = threading.local()

    def reserve(self, user: str, count: int) -> None:
        """Fetch trigger_ids ahead, so that no request waits for the fake's control channel."""
        with self._pool_lock:
            pool = self._pool.setdefault(user, deque())
            if len(pool) < count:
                pool.extend(self._remote.ask(f"triggers {count - len(pool)} {user}"))

    def new_trigger_id(self, *, user: str | None = None, view_id: str | None = None) -> str:
        """A trigger_id the fake process will accept once."""
        who = user or ALICE
        with self._pool_lock:
            pool = self._pool.setdefault(who, deque())
            if not pool:
                pool.extend(self._remote.ask(f"triggers 200 {who}"))
            issued = pool.popleft()
        self._issued.value = issued
        return issued

    def last_trigger_id(self) -> str | None:
        """The trigger_id most recently issued on this thread."""
        return getattr(self._issued, "value", None)

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


def _stop(proc: subprocess.Popen[Any], others: Sequence[ChildProcess] = (), notes: list[str] | None = None) -> None:
    """Stop the app; then make sure its other processes (seen while it ran) have gone too."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + CHILD_GRACE
    while any(o.alive() for o in others) and time.monotonic() < deadline:
        time.sleep(0.1)
    for other in others:
        if other.alive():
            if notes is not None:
                notes.append(f"process {other.pid} (`{other.command[:60]}`) was still running {CHILD_GRACE:.0f} s "
                             "after the serving process had stopped; the benchmark ended it")
            with contextlib.suppress(ProcessLookupError):
                os.kill(other.pid, signal.SIGKILL)


def _record(timing: Timing, lock: threading.Lock, outcome: tuple[int, float | None, str | None, Sample | None]) -> None:
    status, elapsed, failure, sample = outcome
    with lock:
        timing.statuses[status] = timing.statuses.get(status, 0) + 1
        if failure:
            timing.failures[failure] += 1
        if elapsed is not None and status == 200:
            timing.elapsed.append(elapsed)
            if sample is not None:
                timing.samples.append(sample)


def hammer(pool: ThreadPoolExecutor, name: str, requests: Sequence[Send]) -> Timing:
    """Send the requests from the pool's client threads at once (each sends its next as soon as answered)."""
    timing = Timing(name)
    lock = threading.Lock()

    def one(send: Send) -> None:
        try:
            reply, key = send()
        except (OSError, http.client.HTTPException) as exc:  # counted as a failure, not a time
            _record(timing, lock, (0, None, type(exc).__name__, None))
            return
        answered = time.time()
        _record(timing, lock, (reply.status, reply.elapsed, None, Sample(key, answered - reply.elapsed, answered)))

    started = time.perf_counter()
    list(pool.map(one, requests))
    timing.wall = time.perf_counter() - started
    return timing


def paced(pool: ThreadPoolExecutor, name: str, requests: Sequence[Send], rate: float) -> Timing:
    """Send request i at its planned time, start + i / rate, from whichever client thread is free.

    A request's time runs from its planned send time to its answer: when every client is still waiting for an
    answer, the next request waits for a client, and that wait is part of its time.
    """
    timing = Timing(name)
    lock = threading.Lock()
    order = itertools.count()
    start = time.perf_counter() + 0.05
    wall_offset = time.time() - time.perf_counter()

    def client() -> None:
        while True:
            with lock:
                i = next(order)
            if i >= len(requests):
                return
            planned = start + i / rate
            pause = planned - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            try:
                reply, key = requests[i]()
            except (OSError, http.client.HTTPException) as exc:
                _record(timing, lock, (0, None, type(exc).__name__, None))
                continue
            done = time.perf_counter()
            _record(timing, lock, (reply.status, done - planned, None,
                                   Sample(key, planned + wall_offset, done + wall_offset)))

    futures = [pool.submit(client) for _ in range(CLIENTS)]
    for future in futures:
        future.result()
    timing.wall = time.perf_counter() - start
    return timing


def attach_effects(timing: Timing, fake: FakeProcess) -> None:
    """Match each acknowledged request to the Web API call that completes its work; record when that came."""
    method, name, described = EFFECTS[timing.kind]
    timing.effect_call = described
    arrivals: dict[str, list[float]] = {}
    for call in fake.call_times(method):
        key = call.get(name)
        if not call.get("ok") or key is None or (method == "chat.postMessage" and call.get("thread_ts")):
            continue
        arrivals.setdefault(str(key), []).append(float(call["at"]))
    effects: list[float] = []
    for sample in sorted(timing.samples, key=lambda s: s.sent):
        # the first such call after the request was sent (a sheet's ts is updated once per reaction here)
        at = min((a for a in arrivals.get(sample.key or "", []) if a >= sample.sent), default=None)
        if at is None:
            timing.unmatched += 1
            continue
        effects.append(at - sample.sent)
        timing.last_effect = at if math.isnan(timing.last_effect) else max(timing.last_effect, at)
    timing.effects = effects
    if timing.samples:
        timing.last_ack = max(s.answered for s in timing.samples)


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
    """The three timed batches against one app, each after a warm-up batch, from one pool of client threads.

    With `rate` the requests are sent at that fixed rate (see `paced`), else in a closed loop (see `hammer`).
    """

    def __init__(self, driver: SlackDriver, n: int, warmup: int, rate: float | None = None) -> None:
        self.driver, self.n, self.warmup, self.rate = driver, n, warmup, rate
        self.values = sheet_values(date.today())
        self.pool = ThreadPoolExecutor(max_workers=CLIENTS, thread_name_prefix="client")

    def close(self) -> None:
        """Let the client threads go."""
        self.pool.shutdown()

    def _send(self, name: str, requests: Sequence[Send]) -> Timing:
        if self.rate is None:
            return hammer(self.pool, name, requests)
        return paced(self.pool, name, requests, self.rate)

    def run(self, kind: str, requests: list[Send], drain: Callable[[int], None]) -> Timing:
        """Warm up with the first requests, let their work finish, time the rest, let theirs finish."""
        warm = self._send("warm-up", requests[: self.warmup])
        drain(warm.ok)
        timed = self._send(kind, requests[self.warmup:])
        drain(warm.ok + timed.ok)
        return timed

    def _reserve(self, count: int) -> None:
        if isinstance(self.driver.fake, RemoteFake):
            self.driver.fake.reserve(REQUESTER, count)

    def _prepared(self, make: Callable[[], Reply]) -> Callable[[], Reply]:
        """Build and encode one request now; when it is timed, only signing and sending are left.

        Building a request (a submission's view is about 12 KB of JSON to encode) takes a client thread's
        interpreter for a while; done during the timed batch, it would delay other client threads reading
        their answers, and the sooner an app answers, the more of its answers would wait so.
        """
        seen: list[tuple[str, str, dict[str, Any]]] = []

        def capture(body: str, content_type: str, **kwargs: Any) -> Reply:
            seen.append((body, content_type, kwargs))
            return Reply(200, "", {}, 0.0)

        self.driver.post = capture  # type: ignore[method-assign]
        try:
            make()
        finally:
            del self.driver.post
        body, content_type, kwargs = seen[-1]
        return lambda: self.driver.post(body, content_type, **kwargs)

    def slashes(self) -> list[Send]:
        """/requirement with no text: the bot acknowledges, then opens the sheet's modal (named by trigger_id)."""
        fake = self.driver.fake

        def send() -> Send:
            post = self._prepared(lambda: self.driver.slash("/requirement", "", user=REQUESTER, channel=GENERAL))
            trigger = fake.last_trigger_id() if isinstance(fake, RemoteFake) else None
            return lambda: (post(), trigger)

        self._reserve(self.warmup + self.n)
        return [send() for _ in range(self.warmup + self.n)]

    def submissions(self, modals: list[dict[str, Any]]) -> list[Send]:
        """Each opened modal submitted once with valid values (the bot validates, acknowledges, then posts).

        Each submission's goal ends with a mark of its own, which the posted sheet then shows.
        """
        def send(view: dict[str, Any]) -> Send:
            mark = f"{MARK}{next(_marks)}"
            values = {**self.values, "goal": f"{self.values['goal']} ({mark})"}
            post = self._prepared(lambda: self.driver.submit_view(values, user=REQUESTER, view=view))
            return lambda: (post(), mark)

        chosen = modals[: self.warmup + self.n]
        self._reserve(len(chosen))
        return [send(v) for v in chosen]

    def reactions(self, sheets: list[str]) -> list[Send]:
        """✅ by the receiving owner on each posted sheet (the bot acknowledges, then signs and updates it)."""
        def send(ts: str) -> Send:
            post = self._prepared(lambda: self.driver.react("white_check_mark", channel=GENERAL, ts=ts, user=BOB))
            return lambda: (post(), ts)

        return [send(ts) for ts in sheets[: self.warmup + self.n]]


def _driver(url: str, fake: FakeProcess, keep_alive: bool) -> SlackDriver:
    endpoint = url + "/slack/events"
    if keep_alive:
        return KeepAliveDriver(endpoint, SIGNING_SECRET, RemoteFake(fake), timeout=30.0)
    return SlackDriver(endpoint, SIGNING_SECRET, RemoteFake(fake), timeout=30.0)


def _modals(fake: FakeProcess) -> list[dict[str, Any]]:
    """The sheet modals the bot opened, oldest first."""
    return list(fake.ask(f"modals {RequirementIds.MODAL}"))


def _sheets(fake: FakeProcess) -> list[str]:
    """The ts of the sheets the bot posted in the channel, oldest first."""
    return [str(ts) for ts in fake.ask(f"sheets {GENERAL}")]


def _others(pid: int, seen: dict[int, ChildProcess]) -> list[OtherProcess]:
    """The app's processes beside the serving one, with their memory; remembered in `seen` for the cleanup."""
    found = []
    for child in child_processes(pid):
        seen.setdefault(child.pid, child)
        with contextlib.suppress(OSError):
            found.append(OtherProcess(child.pid, child.priority, child.command, proc_memory(child.pid)))
    return found


def _delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


def run_coordbot(fake: FakeProcess, tmp: Path, n: int, warmup: int, log: IO[str], *, keep_alive: bool,
                 rate: float | None = None, label: str = DEFAULT_LABEL, settings: dict[str, str] | None = None,
                 cpus: Cpus | None = None) -> tuple[AppRun, list[dict[str, Any]], list[str]]:
    """Start `coordbot run` against the fake; time the three kinds and their work; return the modals and sheets.

    `settings` are environment variables beyond the common ones (none: the defaults).
    """
    run = AppRun(label, env=dict(settings or {}))
    tag = "-".join(("keepalive" if keep_alive else "connect", "rate" if rate else "loop", *(settings or {}).values(),
                    "split" if cpus and cpus.is_split else "shared"))
    db = tmp / f"latency-{tag}.db"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "COORDBOT_", "DATABASE_URL"))}
    env.update({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": fake.api_url,
                "DATABASE_URL": f"sqlite:///{db}", "PORT": str(port), "COORDBOT_TZ": "Asia/Shanghai"})
    env.update(settings or {})
    proc = subprocess.Popen([sys.executable, "-m", "bot", "run", "--host", "127.0.0.1"], cwd=ROOT, env=env,
                            stdout=log, stderr=log, preexec_fn=(cpus or Cpus()).app_preexec())
    url = f"http://127.0.0.1:{port}"
    batches = Batches(_driver(url, fake, keep_alive), n, warmup, rate)
    seen: dict[int, ChildProcess] = {}
    try:
        _wait_healthy(url, proc)
        time.sleep(2.0)  # settle: the first scheduler beat, the member directory, the worker
        run.idle_memory = proc_memory(proc.pid)
        run.others_idle = _others(proc.pid, seen)
        before = fake.ask("counts")

        # the fake may already hold an earlier app's modals and sheets: this run's come after them
        opened, modals_before, sheets_before = fake.calls("views.open"), len(_modals(fake)), set(_sheets(fake))
        run.timings["/requirement"] = batches.run(
            "/requirement", batches.slashes(),
            lambda k: _wait_for("modals opened", lambda: fake.calls("views.open") - opened, k, run.notes))
        modals = _modals(fake)[modals_before:]
        if len(modals) < warmup + n:
            run.notes.append(f"{len(modals)} modals opened for {warmup + n} commands; as many submissions follow")

        attached = _attached(db)
        run.timings["view_submission"] = batches.run(
            "view_submission", batches.submissions(modals),
            lambda k: _wait_for("sheets posted", lambda: _attached(db) - attached, k, run.notes))
        sheets = [ts for ts in _sheets(fake) if ts not in sheets_before]
        if len(sheets) < len(modals):
            run.notes.append(f"{len(sheets)} sheets posted for {len(modals)} submissions; as many reactions follow")

        updated = fake.calls("chat.update")
        run.timings["reaction_added"] = batches.run(
            "reaction_added", batches.reactions(sheets),
            lambda k: _wait_for("sheets updated", lambda: fake.calls("chat.update") - updated, k, run.notes))
        for timing in run.timings.values():
            attach_effects(timing, fake)
        run.loaded_memory = proc_memory(proc.pid)
        run.others_loaded = _others(proc.pid, seen)
        after = fake.ask("counts")
        run.api_calls = _delta(after["calls"], before["calls"])
        run.api_failed = _delta(after["failed"], before["failed"])
        new_errors = int(after.get("validation_error_count", 0)) - int(before.get("validation_error_count", 0))
        run.validation_errors = max(0, new_errors)
        run.validation_examples = list(after.get("validation_errors") or [])[-new_errors:] if new_errors > 0 else []
    finally:
        batches.close()
        with contextlib.suppress(OSError):
            _others(proc.pid, seen)
        _stop(proc, list(seen.values()), run.notes)
    return run, modals, sheets


def run_bare(fake: FakeProcess, n: int, warmup: int, modals: list[dict[str, Any]], sheets: list[str],
             log: IO[str], *, keep_alive: bool, backlog: int | None = None, rate: float | None = None,
             before_response: bool = False, loop: bool = False, cpus: Cpus | None = None) -> AppRun:
    """The same requests against a Bolt app that only acknowledges (so it has no work to time).

    With `loop`, it runs listeners on the request's thread and is served from one event loop thread.
    """
    label = BARE_LOOP_LABEL if loop else BARE_SYNC_LABEL if before_response else BARE_LABEL
    run = AppRun(label + (f", listen backlog {backlog}" if backlog else ""))
    port = free_port()
    command = [sys.executable, "-m", "bench.servers", "bare", "--port", str(port), "--api-url", fake.api_url]
    if backlog:
        command += ["--backlog", str(backlog)]
    if before_response or loop:
        command.append("--before-response")
    if loop:
        command.append("--loop")
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log,
                            preexec_fn=(cpus or Cpus()).app_preexec())
    url = f"http://127.0.0.1:{port}"
    batches = Batches(_driver(url, fake, keep_alive), n, warmup, rate)
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


def measure(tmp: Path, *, n: int, warmup: int, keep_alive: bool, rate: float | None = None,
            cpus: Cpus | None = None, baselines: bool = True) -> LatencyResult:
    """Run the apps of one part against one fake Slack API process.

    Closed loop with persistent connections: coordbot as by default, coordbot in one process, bare Bolt, and
    (with `baselines`) bare Bolt configured like coordbot's serving process, on its server and on Bolt's.
    Closed loop, a connection per request: coordbot as by default, bare Bolt (and bare Bolt with a wider listen
    backlog, when SlackHTTPServer's is narrower than WIDE_BACKLOG).
    At a fixed rate (persistent connections): coordbot as by default, bare Bolt.
    `cpus` says where the clients with the fake, and the apps, run (default: split, where there are CPUs to).
    """
    cpus = Cpus.split() if cpus is None else cpus
    name = f"latency-{'keepalive' if keep_alive else 'connect'}{'-rate' if rate else ''}"
    name += "-split" if cpus.is_split else "-shared"
    restore = cpus.pin_load()  # before the fake starts: it inherits the load's CPUs
    try:
        with open(tmp / f"{name}.log", "w") as log:
            fake = FakeProcess(log)
            try:
                return _measure(fake, tmp, log, n=n, warmup=warmup, keep_alive=keep_alive, rate=rate, cpus=cpus,
                                baselines=baselines)
            finally:
                fake.stop()
    finally:
        if restore is not None:
            os.sched_setaffinity(0, restore)


def _measure(fake: FakeProcess, tmp: Path, log: IO[str], *, n: int, warmup: int, keep_alive: bool,
             rate: float | None, cpus: Cpus, baselines: bool) -> LatencyResult:
    coordbot, modals, sheets = run_coordbot(fake, tmp, n, warmup, log, keep_alive=keep_alive, rate=rate, cpus=cpus)
    one = None
    if keep_alive and rate is None and baselines:
        one, _, _ = run_coordbot(fake, tmp, n, warmup, log, keep_alive=True, label=ONE_PROCESS_LABEL,
                                 settings={"COORDBOT_WORKERS": "0"}, cpus=cpus)
    bare = run_bare(fake, n, warmup, modals, sheets, log, keep_alive=keep_alive, rate=rate, cpus=cpus)
    # the serving process answers on the request's thread: the same for the bare app, as a second baseline
    sync = None
    if keep_alive and baselines:
        sync = run_bare(fake, n, warmup, modals, sheets, log, keep_alive=True, rate=rate, before_response=True,
                        cpus=cpus)
    # and served as coordbot's serving process is, from one event loop thread
    looped = None
    if keep_alive and rate is None and baselines:
        looped = run_bare(fake, n, warmup, modals, sheets, log, keep_alive=True, loop=True, cpus=cpus)
    # with a connection per request, the same bare app once more with a wider listen backlog (when the
    # server's own is narrower): what refused connections cost
    wide = None
    if not keep_alive and SlackHTTPServer.request_queue_size < WIDE_BACKLOG:
        wide = run_bare(fake, n, warmup, modals, sheets, log, keep_alive=False, backlog=WIDE_BACKLOG, cpus=cpus)
    return LatencyResult(coordbot, bare, n, warmup, keep_alive=keep_alive, bare_wide=wide, coordbot_one=one,
                         rate=rate, bare_sync=sync, bare_loop=looped, cpus=cpus.describe())
