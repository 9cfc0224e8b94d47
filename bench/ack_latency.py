"""What a user of coordbot feels: how soon Slack gets its answer, how soon the work shows, and what a burst does.

Three kinds of process: the fake Slack Web API (`python -m bench.servers fake`), the app under test, and this one,
whose client threads post signed requests built by handlers/sandbox/driver.py and time each HTTP answer. The app
under test is `coordbot run` (HTTP mode, its default worker process, SQLite in a temporary directory) or a bare
Bolt app whose listeners only call `ack()`, served by the same server and adapter (`handlers.serving.http.Server`:
uvicorn, h11, Bolt's ASGI adapter); see bench/servers.py. Nothing is pinned to a CPU and no process runs at a
lowered priority: every process shares the machine's CPUs, as they come.

Requests are sent at a fixed arrival rate (open loop): request i has its planned send time start + i / rate,
whatever the answers, and its time counts from that planned time, so a request waiting for a free client thread
counts that wait too. Each client thread keeps one HTTP/1.1 connection. The requests are built and encoded
before a batch starts; only signing and sending happen in it.

The work after an answer is timed per request as well: the fake records when each Web API call arrived
(time.time(), in its process) and the client when it planned each request (time.time(), here), and the two
are matched by what names the request in the call (the trigger_id, a mark in the sheet, the message ts).

coordbot is driven through these phases, on one database:

1. one kind at a time (commands, then submissions of the modals they opened, then reactions on the sheets
   those posted), at the fixed rate: the CPU time each process spent over the batch and until its work was
   done, divided by the batch's size; these batches also warm the app up and stock the modals and sheets the
   mix needs;
2. the mix of the three kinds at the fixed rate: acknowledgments and work done;
3. a burst at twice the rate the app was estimated to work off (see `work_off_estimate`), with the inbox
   counted and the app's memory read while it and its backlog last, then the time to work the backlog off;
   the rate it actually worked the burst off is measured there, and when the burst did not come at 2× to
   2.6× that, another is sent (`next_burst`; up to four bursts; the last one counts).

The bare app then gets the very same mix (the same bodies, signed anew), after a warm-up. Last, an instrumented
coordbot (bench/probe.py) may get a shorter mix, to show where an acknowledgment's time goes (`read_breakdown`).
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
import random
import signal
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

from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from bench.common import ROOT, ChildProcess, child_processes, cpu_seconds, free_port, percentile, proc_memory
from bench.servers import BOT_TOKEN, MARK, SIGNING_SECRET
from handlers.blocks.requirement import Ids as RequirementIds
from handlers.sandbox.driver import Reply, SlackDriver
from handlers.sandbox.slack_api import ALICE, BOB, GENERAL, FakeSlack
from storage.db import normalize_url

logger = logging.getLogger(__name__)

KINDS = ("/requirement", "view_submission", "reaction_added")
RATE = 50.0  # requests per second, all kinds together
CLIENTS = 16  # client threads, each with one persistent connection
OVERLOAD_FACTOR = 2.0  # the burst: this many times the rate the app works off
BURST_TRIES = 4  # bursts sent at most, until one comes at OVERLOAD_FACTOR to FACTOR_SLACK × the rate it was worked off
FACTOR_SLACK = 1.3
OVERLOAD_CAP = 3000  # requests in a burst, at most
REQUESTER = ALICE  # opens and submits every sheet; BOB, the receiving owner, signs by reaction
START_TIMEOUT = 90.0
DRAIN_TIMEOUT = 180.0  # how long the work after the answers may take to finish, at most
IDLE_SECONDS = 3.0  # how long the app's CPU time is read while it has nothing to do
SAMPLE_EVERY = 0.2  # seconds between readings of the inbox and memory during a burst
CHILD_GRACE = 10.0  # seconds the app's other processes get to exit after the serving process has
MIX_SEED = 7

COORDBOT_LABEL = "coordbot"
BARE_LABEL = "bare Bolt"
BARE_SYNC_LABEL = "bare Bolt, process_before_response=True"

# the Web API call that shows each kind's effect, and what in it names the request
EFFECTS: dict[str, tuple[str, str, str]] = {
    "/requirement": ("views.open", "trigger_id", "`views.open` carrying the command's trigger_id"),
    "view_submission": (
        "chat.postMessage",
        "mark",
        "`chat.postMessage` of the new sheet, found by a mark unique to the submission in its goal",
    ),
    "reaction_added": ("chat.update", "ts", "`chat.update` of the reacted-to sheet (its message ts)"),
}
# how long Slack honours a trigger_id: the fake's own default lifetime (the benchmark's fake lifts it)
TRIGGER_LIFETIME = float(inspect.signature(FakeSlack.__init__).parameters["trigger_ttl"].default)
_marks = itertools.count(1)


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


# -- what is sent, and what came back -------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One request, built and encoded ahead: its kind, its body, and what names it in the call showing its effect."""

    kind: str
    body: str
    content_type: str
    key: str | None


@dataclass
class Sample:
    """One request sent: its answer, and (wall clock, time.time()) when it was planned, answered, and its effect."""

    kind: str
    key: str | None
    status: int  # 0: no answer (the connection failed)
    sent: float  # the planned send time
    answered: float
    failure: str | None = None
    effect: float | None = None  # when the call showing its effect reached the fake Slack API

    @property
    def ack(self) -> float:
        """Seconds from the planned send time to the answer."""
        return self.answered - self.sent

    @property
    def work(self) -> float | None:
        """Seconds from the planned send time to the call showing the effect (None: not found)."""
        return None if self.effect is None else self.effect - self.sent


@dataclass
class Batch:
    """The requests of one batch sent at a fixed rate, and what each process spent on them."""

    name: str
    rate: float
    samples: list[Sample] = field(default_factory=list)
    wall: float = 0.0  # seconds from the first planned send to the last answer
    cpu: dict[str, float] = field(default_factory=dict)  # process label -> CPU seconds, batch start to work done
    cpu_window: float = 0.0  # seconds over which `cpu` was read
    load_cpu: dict[str, float] = field(default_factory=dict)  # the fake Slack API and the clients, the same span
    window: tuple[float, float] = (math.nan, math.nan)  # time.perf_counter() at that span's start and end
    drained: float = math.nan  # seconds from the last planned send until every request's work was done

    def of(self, kind: str | None = None) -> list[Sample]:
        """The samples of one kind (all with None)."""
        return [s for s in self.samples if kind is None or s.kind == kind]

    def acks(self, kind: str | None = None) -> list[float]:
        """Answer times of the requests answered 200, seconds."""
        return [s.ack for s in self.of(kind) if s.status == 200]

    def ack_p(self, pct: float, kind: str | None = None) -> float:
        """A percentile of the answer times, seconds."""
        return percentile(self.acks(kind), pct)

    def works(self, kind: str | None = None) -> list[float]:
        """Work-done times of the requests whose effect was found, seconds."""
        return [w for s in self.of(kind) if s.status == 200 and (w := s.work) is not None]

    def work_p(self, pct: float, kind: str | None = None) -> float:
        """A percentile of the work-done times, seconds."""
        return percentile(self.works(kind), pct)

    def unmatched(self, kind: str | None = None) -> int:
        """Requests answered 200 whose effect was not found."""
        return sum(1 for s in self.of(kind) if s.status == 200 and s.effect is None)

    def late(self, limit: float, kind: str | None = None) -> int:
        """Requests whose effect came more than `limit` seconds after them."""
        return sum(1 for w in self.works(kind) if w > limit)

    def ok(self, kind: str | None = None) -> int:
        """Requests answered 200."""
        return sum(1 for s in self.of(kind) if s.status == 200)

    def statuses(self) -> Counter[str]:
        """How the requests were answered: status codes, or the connection error."""
        return Counter(s.failure or str(s.status) for s in self.samples)

    @property
    def achieved(self) -> float:
        """Requests answered per second over the batch."""
        return len(self.samples) / self.wall if self.wall else math.nan

    @property
    def worked_off(self) -> float:
        """Requests per second whose work was done: all of them ÷ the time from the first planned send to the
        last work done (NaN when the work was not waited for)."""
        if not self.samples or math.isnan(self.drained):
            return math.nan
        span = max(s.sent for s in self.samples) - min(s.sent for s in self.samples)
        return len(self.samples) / (span + self.drained)

    def cpu_per_request(self, label: str | None = None) -> float:
        """CPU seconds per request of one process (all with None)."""
        spent = sum(v for k, v in self.cpu.items() if label is None or k == label)
        return spent / len(self.samples) if self.samples else math.nan


@dataclass
class OtherProcess:
    """One of the app's processes beside the serving one (a worker)."""

    pid: int
    priority: str  # "nice N", or a scheduling policy such as SCHED_IDLE
    command: str
    memory: dict[str, int] = field(default_factory=dict)


@dataclass
class Reading:
    """The inbox and the app's memory at one moment of a burst."""

    at: float  # seconds after the burst's first planned send
    states: dict[str, int]
    backlog_bytes: int  # payload bytes of the rows not done yet
    serving_rss: int  # KiB
    worker_rss: int  # KiB, every worker process together

    @property
    def backlog(self) -> int:
        """Rows stored and not done yet."""
        return self.states.get("pending", 0) + self.states.get("running", 0)


@dataclass
class Overload:
    """The burst: its rate against the estimated and the measured rate the app works off, and what it did."""

    batch: Batch
    estimated: float  # requests/s the app was estimated to work off, before the burst
    how: str  # how that was estimated
    seconds: float  # how long the burst was planned to last
    readings: list[Reading] = field(default_factory=list)
    memory_before: dict[str, int] = field(default_factory=dict)  # serving process
    memory_after: dict[str, int] = field(default_factory=dict)
    worker_before: int = 0  # KiB RSS of the workers
    worker_after: int = 0
    done_at: float = math.nan  # seconds after the first planned send when the backlog was gone
    capped: str = ""  # why the burst holds fewer requests than rate × seconds

    @property
    def measured(self) -> float:
        """Requests/s the app worked off while the burst's backlog lasted.

        The slope of the count of rows done, from the first reading a second into the burst to the last reading
        with rows still waiting; every request over the time to do them all when there are too few readings.
        """
        busy = [r for r in self.readings if r.backlog > 0 and r.at >= 1.0]
        if len(busy) >= 5 and busy[-1].at - busy[0].at >= 2.0:
            done = busy[-1].states.get("done", 0) - busy[0].states.get("done", 0)
            return done / (busy[-1].at - busy[0].at)
        return len(self.batch.samples) / self.done_at if self.done_at else math.nan

    @property
    def factor(self) -> float:
        """The burst's rate ÷ the rate measured while it was worked off."""
        return self.batch.rate / self.measured if self.measured else math.nan

    @property
    def peak(self) -> Reading | None:
        """The reading with the most rows waiting."""
        return max(self.readings, key=lambda r: r.backlog, default=None)


@dataclass
class AppRun:
    """One app's figures."""

    name: str
    settings: dict[str, str] = field(default_factory=dict)  # environment beyond the common one
    mix: Batch | None = None
    warmup: Batch | None = None
    by_kind: dict[str, Batch] = field(default_factory=dict)  # phase 1 (coordbot only)
    overload: Overload | None = None
    overload_tries: list[Overload] = field(default_factory=list)  # every burst sent; `overload` is the last
    idle_cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per second, idle
    idle_memory: dict[str, int] = field(default_factory=dict)
    loaded_memory: dict[str, int] = field(default_factory=dict)
    others_idle: list[OtherProcess] = field(default_factory=list)
    others_loaded: list[OtherProcess] = field(default_factory=list)
    answered: int = 0  # requests answered 200 over the whole run
    stored: dict[str, int] = field(default_factory=dict)  # inbox rows by state, read after the app stopped
    stored_kinds: dict[str, int] = field(default_factory=dict)  # inbox rows by kind
    api_calls: dict[str, int] = field(default_factory=dict)  # Web API calls it made, by method
    api_failed: dict[str, int] = field(default_factory=dict)
    validation_errors: int = 0  # Block Kit the fake refused
    validation_examples: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def stored_rows(self) -> int:
        """Inbox rows, whatever their state."""
        return sum(self.stored.values())


@dataclass
class Breakdown:
    """Where the time went during the mix of an instrumented rerun (bench/probe.py's timers), by process role."""

    run: AppRun  # the rerun's own figures
    window: float  # seconds: the mix, from its first request to its last work done
    dispatch: list[float] = field(default_factory=list)  # the serving process's Bolt dispatch of each request
    put: list[float] = field(default_factory=list)  # Inbox.put, each
    put_lock: list[float] = field(default_factory=list)  # of which waiting for SQLite's write lock
    lock_waits: dict[str, list[float]] = field(default_factory=dict)  # role -> every wait for the write lock
    held: dict[str, float] = field(default_factory=dict)  # role -> seconds the write lock was held, together
    holders: list[tuple[str, str, int, float]] = field(default_factory=list)  # role, where, times, seconds held

    @property
    def held_share(self) -> dict[str, float]:
        """The share of the window each role held the write lock."""
        return {role: seconds / self.window for role, seconds in self.held.items()} if self.window else {}


def read_breakdown(probe: Path, run: AppRun) -> Breakdown:
    """What bench/probe.py timed in each of the app's processes during the rerun's mix."""
    assert run.mix is not None
    start, end = run.mix.window
    out = Breakdown(run, end - start)
    held: dict[tuple[str, str], list[float]] = {}
    for path in sorted(probe.glob("*.json")):
        found = json.loads(path.read_text())
        role = str(found["role"])
        for what, at, seconds, where in found["records"]:
            if not start <= at <= end:
                continue
            if what == "begin":
                out.lock_waits.setdefault(role, []).append(seconds)
                if role == "serving" and where.endswith("Inbox.put"):
                    out.put_lock.append(seconds)
            elif what == "hold":
                held.setdefault((role, where), []).append(seconds)
            elif what == "put" and role == "serving":
                out.put.append(seconds)
            elif what == "dispatch" and role == "serving":
                out.dispatch.append(seconds)
    for (role, _), times in held.items():
        out.held[role] = out.held.get(role, 0.0) + sum(times)
    out.holders = sorted(((role, where, len(t), sum(t)) for (role, where), t in held.items()), key=lambda h: -h[3])
    return out


@dataclass
class LatencyResult:
    """The apps, and how they were driven."""

    coordbot: AppRun
    bare: AppRun
    bare_sync: AppRun | None
    rate: float
    per_kind: int  # requests of each kind in the mix
    batch_sizes: dict[str, int] = field(default_factory=dict)  # phase 1
    breakdown: Breakdown | None = None  # the instrumented rerun


# -- the fake Slack API in its own process ----------------------------------------------------------------------


class FakeProcess:
    """The fake Slack Web API in its own process, with its control channel."""

    def __init__(self, log: IO[str]) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "bench.servers", "fake"],
            cwd=ROOT,
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
        )
        self._lock = threading.Lock()
        hello = self._read()
        self.api_url, self.base_url = str(hello["api_url"]), str(hello["base_url"])

    @property
    def pid(self) -> int:
        """Its process id."""
        return self._proc.pid

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

    def modals(self) -> list[dict[str, Any]]:
        """The sheet modals the bot opened, oldest first."""
        return list(self.ask(f"modals {RequirementIds.MODAL}"))

    def sheets(self) -> list[str]:
        """The ts of the sheets the bot posted in the channel, oldest first."""
        return [str(ts) for ts in self.ask(f"sheets {GENERAL}")]

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
    """What the driver needs of the fake, on this side: trigger_ids and response URLs issued by the fake process."""

    def __init__(self, remote: FakeProcess) -> None:
        super().__init__(bot_token=BOT_TOKEN)
        self._remote = remote
        self._pools: dict[tuple[str, str], deque[str]] = {}
        self._pool_lock = threading.Lock()
        self._member_of: set[str] = set()
        self.last_trigger: str | None = None

    def _take(self, what: str, user: str, channel: str = GENERAL) -> str:
        with self._pool_lock:
            pool = self._pools.setdefault((what, user), deque())
            if not pool:
                command = f"triggers 500 {user}" if what == "trigger" else f"responses 500 {user} {channel}"
                pool.extend(self._remote.ask(command))
            return pool.popleft()

    def bot_is_member(self, channel_id: str) -> bool:
        """Asked of the fake process, where coordbot joined the channel before posting its sheets (kept once true)."""
        if channel_id.startswith("D") or channel_id in self._member_of:
            return True
        if self._remote.ask(f"member {channel_id}") is True:
            self._member_of.add(channel_id)
            return True
        return False

    def new_trigger_id(self, *, user: str | None = None, view_id: str | None = None) -> str:
        """A trigger_id the fake process will accept once."""
        self.last_trigger = self._take("trigger", user or ALICE)
        return self.last_trigger

    def new_response_url(
        self, *, channel: str | None = None, message_ts: str | None = None, user: str | None = None
    ) -> str:
        """A response_url the fake process answers."""
        return self._take("response", user or ALICE, channel or GENERAL)


class Builder(SlackDriver):
    """Builds the driver's requests without sending them."""

    def __init__(self, fake: FakeProcess) -> None:
        self.remote = RemoteFake(fake)
        super().__init__("http://unused/slack/events", SIGNING_SECRET, self.remote)
        self._built: tuple[str, str] | None = None
        self.values = sheet_values(date.today())

    def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
    ) -> Reply:
        """Keep the body instead of sending it."""
        self._built = (body, content_type)
        return Reply(200, "", {}, 0.0)

    def _request(self, kind: str, key: str | None) -> Request:
        assert self._built is not None
        body, content_type = self._built
        self._built = None
        return Request(kind, body, content_type, key)

    def command(self) -> Request:
        """/requirement with no text: coordbot answers, then opens the sheet's modal (named by trigger_id)."""
        self.slash("/requirement", "", user=REQUESTER, channel=GENERAL)
        return self._request("/requirement", self.remote.last_trigger)

    def submission(self, view: dict[str, Any]) -> Request:
        """A modal submitted with valid values; the goal carries a mark of its own, which the posted sheet shows."""
        mark = f"{MARK}{next(_marks)}"
        self.submit_view({**self.values, "goal": f"{self.values['goal']} ({mark})"}, user=REQUESTER, view=view)
        return self._request("view_submission", mark)

    def reaction(self, ts: str) -> Request:
        """✅ by the receiving owner on a posted sheet: coordbot signs it and updates the message."""
        self.react("white_check_mark", channel=GENERAL, ts=ts, user=BOB)
        return self._request("reaction_added", ts)


class Stock:
    """The modals opened and the sheets posted that no request has used yet."""

    def __init__(self, fake: FakeProcess) -> None:
        self.fake = fake
        self._used_views: set[str] = set()
        self._used_sheets: set[str] = set()

    def modals(self, n: int) -> list[dict[str, Any]]:
        """Up to n opened modals nobody submitted yet, oldest first."""
        found = [v for v in self.fake.modals() if v.get("id") not in self._used_views][:n]
        self._used_views.update(str(v.get("id")) for v in found)
        return found

    def sheets(self, n: int) -> list[str]:
        """Up to n posted sheets nobody reacted to yet, oldest first."""
        found = [ts for ts in self.fake.sheets() if ts not in self._used_sheets][:n]
        self._used_sheets.update(found)
        return found


def mix(builder: Builder, stock: Stock, per_kind: int, seed: int = MIX_SEED) -> list[Request]:
    """`per_kind` requests of each kind (fewer submissions or reactions when fewer modals or sheets are in stock),
    shuffled with a fixed seed."""
    requests = [builder.command() for _ in range(per_kind)]
    requests += [builder.submission(view) for view in stock.modals(per_kind)]
    requests += [builder.reaction(ts) for ts in stock.sheets(per_kind)]
    random.Random(seed).shuffle(requests)
    return requests


# -- sending ----------------------------------------------------------------------------------------------------


class KeepAliveDriver(SlackDriver):
    """The driver over one persistent HTTP/1.1 connection per client thread (no connect per request)."""

    def __init__(self, endpoint_url: str, *, timeout: float) -> None:
        super().__init__(endpoint_url, SIGNING_SECRET, FakeSlack(bot_token=BOT_TOKEN), timeout=timeout)
        parts = urlsplit(endpoint_url)
        self._host, self._port, self._path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path
        self._local = threading.local()

    def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
    ) -> Reply:
        """POST a signed body on this thread's connection (reconnecting once if the server closed it)."""
        headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            **self.headers_for(body, timestamp=timestamp),
        }
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


def paced(pool: ThreadPoolExecutor, driver: SlackDriver, name: str, requests: Sequence[Request], rate: float) -> Batch:
    """Send request i at its planned time, start + i / rate, from whichever client thread is free.

    A request's time runs from its planned send time to its answer: when every client is still waiting for an
    answer, the next request waits for a client, and that wait is part of its time.
    """
    batch = Batch(name, rate)
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
            request = requests[i]
            planned = start + i / rate
            pause = planned - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            status, failure = 0, None
            try:
                status = driver.post(request.body, request.content_type).status
            except (OSError, http.client.HTTPException) as exc:
                failure = type(exc).__name__
            done = time.perf_counter()
            with lock:
                batch.samples.append(
                    Sample(request.kind, request.key, status, planned + wall_offset, done + wall_offset, failure)
                )

    futures = [pool.submit(client) for _ in range(CLIENTS)]
    for future in futures:
        future.result()
    batch.wall = time.perf_counter() - start
    batch.samples.sort(key=lambda s: s.sent)
    return batch


def attach_effects(batch: Batch, fake: FakeProcess) -> None:
    """Match each request answered 200 to the Web API call that shows its effect; record when that came."""
    for kind in KINDS:
        method, name, _ = EFFECTS[kind]
        arrivals: dict[str, list[float]] = {}
        for call in fake.call_times(method):
            key = call.get(name)
            if not call.get("ok") or key is None or (method == "chat.postMessage" and call.get("thread_ts")):
                continue
            arrivals.setdefault(str(key), []).append(float(call["at"]))
        for sample in batch.of(kind):
            if sample.status == 200:
                # the first such call after the request was sent (a sheet is updated once per reaction here)
                sample.effect = min((a for a in arrivals.get(sample.key or "", []) if a >= sample.sent), default=None)


# -- the app's processes ---------------------------------------------------------------------------------------


class AppProcess:
    """An app under test: its serving process, its other processes, their CPU time and memory."""

    def __init__(self, proc: subprocess.Popen[Any], url: str, inbox: InboxReader | None = None) -> None:
        self.proc, self.url, self.inbox = proc, url, inbox
        self.seen: dict[int, ChildProcess] = {}

    def workers(self) -> list[ChildProcess]:
        """The app's processes beside the serving one (remembered for the cleanup)."""
        found = child_processes(self.proc.pid)
        for child in found:
            self.seen.setdefault(child.pid, child)
        return found

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far: the serving process, and every other process of the app together."""
        found = {"serving": cpu_seconds(self.proc.pid)}
        others = 0.0
        for child in self.workers():
            with contextlib.suppress(OSError, ValueError, IndexError):
                others += cpu_seconds(child.pid)
        if self.seen and self.proc.pid:
            found["worker"] = others
        return found

    def others(self) -> list[OtherProcess]:
        """The app's other processes with their memory."""
        found = []
        for child in self.workers():
            with contextlib.suppress(OSError):
                found.append(OtherProcess(child.pid, child.priority, child.command, proc_memory(child.pid)))
        return found

    def worker_rss(self) -> int:
        """KiB resident in the app's other processes together."""
        total = 0
        for child in self.workers():
            with contextlib.suppress(OSError):
                total += proc_memory(child.pid).get("VmRSS", 0)
        return total

    def stop(self, notes: list[str] | None = None) -> None:
        """Stop the app; then make sure its other processes (seen while it ran) have gone too."""
        with contextlib.suppress(OSError):
            self.workers()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        deadline = time.monotonic() + CHILD_GRACE
        while any(o.alive() for o in self.seen.values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        for other in self.seen.values():
            if other.alive():
                if notes is not None:
                    notes.append(
                        f"process {other.pid} (`{other.command[:60]}`) was still running "
                        f"{CHILD_GRACE:.0f} s after the serving process had stopped; the benchmark ended it"
                    )
                with contextlib.suppress(ProcessLookupError):
                    os.kill(other.pid, signal.SIGKILL)


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


def _idle_cpu(app: AppProcess) -> dict[str, float]:
    """CPU seconds per second each of the app's processes spends with no request to answer."""
    before, started = app.cpu(), time.monotonic()
    time.sleep(IDLE_SECONDS)
    after, seconds = app.cpu(), time.monotonic() - started
    return {k: (after[k] - before.get(k, 0.0)) / seconds for k in after}


# -- the inbox, read beside the app -------------------------------------------------------------------------------


class InboxReader:
    """Reads coordbot's inbox table beside the running app (plain reads: on SQLite they take no write lock)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(normalize_url(url), poolclass=NullPool)

    def states(self) -> tuple[dict[str, int], int]:
        """Rows by state, and the payload bytes of those not done yet."""
        with self.engine.connect() as conn:
            states = {str(s): int(n) for s, n in conn.execute(text("SELECT state, count(*) FROM inbox GROUP BY state"))}
            waiting = conn.execute(
                text("SELECT coalesce(sum(length(payload)), 0) FROM inbox WHERE state IN ('pending', 'running')")
            ).scalar()
        return states, int(waiting or 0)

    def backlog(self) -> int:
        """Rows stored and not done yet."""
        states, _ = self.states()
        return states.get("pending", 0) + states.get("running", 0)

    def kinds(self) -> dict[str, int]:
        """Rows by kind."""
        with self.engine.connect() as conn:
            return {str(k): int(n) for k, n in conn.execute(text("SELECT kind, count(*) FROM inbox GROUP BY kind"))}

    def wait_done(self, notes: list[str], what: str) -> float:
        """Wait until every stored request's work is done (no row pending or running); when that was (time.time())."""
        deadline = time.monotonic() + DRAIN_TIMEOUT
        while time.monotonic() < deadline:
            if self.backlog() == 0:
                return time.time()
            time.sleep(0.05)
        notes.append(f"{what}: {self.backlog()} requests still not done after {DRAIN_TIMEOUT:.0f} s")
        return math.nan

    def close(self) -> None:
        """Let the connections go."""
        self.engine.dispose()


# -- coordbot -------------------------------------------------------------------------------------------------------


def _start_coordbot(
    fake: FakeProcess, database: str, log: IO[str], settings: dict[str, str], probe: Path | None = None
) -> AppProcess:
    """`coordbot run` (through bench/probe.py with `probe`, a folder for its timings), once healthy."""
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "COORDBOT_")) and k not in ("DATABASE_URL", "PORT")
    }
    env.update(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url,
            "DATABASE_URL": database,
            "PORT": str(port),
            "COORDBOT_TZ": "Asia/Shanghai",
            "COORDBOT_RESPONSE_URLS": fake.base_url + "/response/",
            **settings,
        }
    )
    command = ["-m", "bench.probe", str(probe)] if probe is not None else ["-m", "bot"]
    proc = subprocess.Popen(
        [sys.executable, *command, "run", "--host", "127.0.0.1"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    app = AppProcess(proc, f"http://127.0.0.1:{port}", InboxReader(database))
    try:
        _wait_healthy(app.url, proc)
    except BaseException:
        app.stop()
        raise
    return app


class Timed:
    """Sends batches to one app and reads its CPU time until their work is done."""

    def __init__(self, app: AppProcess, fake: FakeProcess, run: AppRun) -> None:
        self.app, self.fake, self.run = app, fake, run
        self.driver = KeepAliveDriver(app.url + "/slack/events", timeout=30.0)
        self.pool = ThreadPoolExecutor(max_workers=CLIENTS, thread_name_prefix="client")

    def close(self) -> None:
        """Let the client threads go."""
        self.pool.shutdown()

    def _load_cpu(self) -> dict[str, float]:
        """CPU seconds so far of the load: the fake Slack API's process and this one (the clients)."""
        return {"fake Slack API": cpu_seconds(self.fake.pid), "clients": cpu_seconds()}

    def send(
        self,
        name: str,
        requests: Sequence[Request],
        rate: float,
        *,
        work: bool = True,
        during: Callable[[], None] | None = None,
    ) -> Batch:
        """Send at `rate`; with `work`, wait until the work is done, then match the effects.

        CPU time is read from just before the first request to the moment the work is done (or the last answer).
        """
        cpu_before, load_before, started = self.app.cpu(), self._load_cpu(), time.perf_counter()
        batch = paced(self.pool, self.driver, name, requests, rate)
        if during is not None:
            during()
        self.run.answered += batch.ok()
        if work and self.app.inbox is not None:
            done = self.app.inbox.wait_done(self.run.notes, name)
            last = max((s.sent for s in batch.samples), default=math.nan)
            batch.drained = done - last
        cpu_after, load_after = self.app.cpu(), self._load_cpu()
        batch.cpu = {k: v - cpu_before.get(k, 0.0) for k, v in cpu_after.items()}
        batch.load_cpu = {k: v - load_before.get(k, 0.0) for k, v in load_after.items()}
        batch.window = (started, time.perf_counter())
        batch.cpu_window = batch.window[1] - started
        if work:
            attach_effects(batch, self.fake)
        return batch


def sizes(per_kind: int, sample: int) -> dict[str, int]:
    """Phase 1's batch sizes: commands to open every modal later submitted, submissions to post every sheet
    later reacted to, and `sample` reactions; leaving `per_kind` modals and sheets for the mix."""
    spare = per_kind // 4  # more in stock for the burst than for the mix
    return {
        "/requirement": 2 * per_kind + sample + spare,
        "view_submission": per_kind + sample + spare,
        "reaction_added": sample,
    }


def run_coordbot(
    fake: FakeProcess,
    database: str,
    log: IO[str],
    *,
    per_kind: int,
    sample: int,
    overload_seconds: float,
    label: str = COORDBOT_LABEL,
    settings: dict[str, str] | None = None,
    probe: Path | None = None,
) -> tuple[AppRun, list[Request]]:
    """coordbot on a fresh database through its three phases; its figures, and the mix it was sent.

    `settings`: environment variables beyond the common ones (none: coordbot's defaults). `probe`: run it
    through bench/probe.py, which writes its timings there. `overload_seconds` 0: no burst.
    """
    run = AppRun(label, settings=dict(settings or {}))
    app = _start_coordbot(fake, database, log, run.settings, probe)
    assert app.inbox is not None
    timed = Timed(app, fake, run)
    builder, stock = Builder(fake), Stock(fake)
    requests: list[Request] = []
    try:
        time.sleep(2.0)  # settle: the first scheduler beat, the member directory, the worker
        run.idle_memory = proc_memory(app.proc.pid)
        run.others_idle = app.others()
        run.idle_cpu = _idle_cpu(app)
        before = fake.ask("counts")

        wanted = sizes(per_kind, sample)
        logger.info("   phase 1: one kind at a time (%s)", ", ".join(f"{n} {k}" for k, n in wanted.items()))
        run.by_kind["/requirement"] = timed.send(
            "/requirement", [builder.command() for _ in range(wanted["/requirement"])], RATE
        )
        run.by_kind["view_submission"] = timed.send(
            "view_submission", [builder.submission(v) for v in stock.modals(wanted["view_submission"])], RATE
        )
        if wanted["reaction_added"]:
            run.by_kind["reaction_added"] = timed.send(
                "reaction_added", [builder.reaction(ts) for ts in stock.sheets(wanted["reaction_added"])], RATE
            )

        logger.info("   phase 2: the mix, %d of each kind at %g requests/s", per_kind, RATE)
        requests = mix(builder, stock, per_kind)
        run.mix = timed.send("mix", requests, RATE)

        if overload_seconds > 0:
            estimated, how = work_off_estimate(run.mix)
            rate = OVERLOAD_FACTOR * estimated
            for attempt in range(1, BURST_TRIES + 1):
                logger.info("   phase 3: a burst at %.0f requests/s, try %d", rate, attempt)
                burst = _burst(timed, builder, stock, rate, estimated, how, overload_seconds, "burst")
                run.overload_tries.append(burst)
                if OVERLOAD_FACTOR <= burst.factor <= OVERLOAD_FACTOR * FACTOR_SLACK:
                    break
                rate, estimated, how = next_burst(run.overload_tries)
            run.overload = run.overload_tries[-1]

        run.loaded_memory = proc_memory(app.proc.pid)
        run.others_loaded = app.others()
        after = fake.ask("counts")
        run.api_calls = _delta(after["calls"], before["calls"])
        run.api_failed = _delta(after["failed"], before["failed"])
        new_errors = int(after.get("validation_error_count", 0)) - int(before.get("validation_error_count", 0))
        run.validation_errors = max(0, new_errors)
        run.validation_examples = list(after.get("validation_errors") or [])[-new_errors:] if new_errors > 0 else []
    finally:
        timed.close()
        app.stop(run.notes)
    # read after the app stopped: what it committed is in the database, whatever it held in memory is gone
    run.stored, _ = app.inbox.states()
    run.stored_kinds = app.inbox.kinds()
    app.inbox.close()
    return run, requests


def work_off_estimate(mix: Batch) -> tuple[float, str]:
    """Requests of the mix per second the app can work off, from the mix at the fixed rate, and how it was found.

    When the mix left work undone for over a second after its last request, the app was working flat out for
    most of it: every request ÷ the time from the first to the last work done. Otherwise one CPU second ÷ the
    worker processes' CPU time per request (the serving process's, without workers).
    """
    if mix.drained > 1.0:
        return (
            mix.worked_off,
            f"the mix's own throughput: it left {mix.drained:.1f} s of work after its last request, so "
            "the app was working flat out for most of it; its requests ÷ the time from the first request "
            "to the last work done",
        )
    label = "worker" if "worker" in mix.cpu else "serving"
    per_request = mix.cpu_per_request(label)
    if per_request > 0:
        return 1.0 / per_request, f"one CPU second ÷ the {label} process's CPU time per request in the mix"
    return RATE, "no estimate: the mix's rate"


def next_burst(tries: list[Overload]) -> tuple[float, float, str]:
    """The next burst's rate after bursts that did not come at OVERLOAD_FACTOR to FACTOR_SLACK × the rate they
    were worked off at; the rate the app is then expected to work off, and how that was found.

    The more requests arrive, the more CPU the serving process takes from the worker, so the rate worked off
    falls as the burst's rate rises. Between the densest burst that came too light and the lightest that came too
    heavy, the rate where the burst's rate ÷ the rate worked off crosses the middle of the band is interpolated;
    with bursts on one side only, the next aims at that middle of the rate the last one was worked off at.
    """
    aim = OVERLOAD_FACTOR * (1 + FACTOR_SLACK) / 2
    light = [t for t in tries if t.factor < OVERLOAD_FACTOR]
    heavy = [t for t in tries if t.factor > OVERLOAD_FACTOR * FACTOR_SLACK]
    if light and heavy:
        lo = max(light, key=lambda t: t.batch.rate)
        hi = min(heavy, key=lambda t: t.batch.rate)
        f_lo = lo.batch.rate - aim * lo.measured
        f_hi = hi.batch.rate - aim * hi.measured
        rate = lo.batch.rate + (hi.batch.rate - lo.batch.rate) * (-f_lo) / (f_hi - f_lo)
        expected = lo.measured + (hi.measured - lo.measured) * (rate - lo.batch.rate) / (hi.batch.rate - lo.batch.rate)
        return (
            rate,
            expected,
            (
                f"between bursts at {lo.batch.rate:.0f} requests/s (worked off at {lo.measured:.1f}) and "
                f"{hi.batch.rate:.0f} requests/s (worked off at {hi.measured:.1f}), interpolated"
            ),
        )
    last = tries[-1]
    return aim * last.measured, last.measured, f"the rate burst {len(tries)} was worked off at"


def _burst(
    timed: Timed,
    builder: Builder,
    stock: Stock,
    rate: float,
    estimated: float,
    how: str,
    seconds: float,
    name: str,
) -> Overload:
    """Send the mix at `rate` for `seconds` (capped), reading the inbox and memory meanwhile, until its work is done.

    `estimated`: the rate the app was thought to work off, found `how`."""
    app = timed.app
    inbox = app.inbox
    assert inbox is not None
    wanted = min(round(rate * seconds), OVERLOAD_CAP)
    requests = mix(builder, stock, round(wanted / len(KINDS)))
    capped = ""
    if len(requests) < 0.98 * rate * seconds:
        capped = f"{len(requests)} requests, not {rate * seconds:.0f}: " + (
            "the cap on a burst" if wanted == OVERLOAD_CAP else "the modals and sheets in stock"
        )
    overload = Overload(Batch(name, rate), estimated, how, seconds, capped=capped)
    overload.memory_before = proc_memory(app.proc.pid)
    overload.worker_before = app.worker_rss()
    stop = threading.Event()
    origin = time.time() + 0.05  # paced() plans its first request about this far ahead

    def sample() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError, SQLAlchemyError):
                states, waiting = inbox.states()
                overload.readings.append(
                    Reading(
                        time.time() - origin,
                        states,
                        waiting,
                        proc_memory(app.proc.pid).get("VmRSS", 0),
                        app.worker_rss(),
                    )
                )
            stop.wait(SAMPLE_EVERY)

    sampler = threading.Thread(target=sample, name="burst-sampler", daemon=True)
    sampler.start()
    try:
        overload.batch = timed.send(name, requests, rate)
    finally:
        stop.set()
        sampler.join()
    first = min((s.sent for s in overload.batch.samples), default=origin)
    overload.done_at = overload.batch.drained + max(s.sent for s in overload.batch.samples) - first
    for reading in overload.readings:
        reading.at += origin - first
    overload.memory_after = proc_memory(app.proc.pid)
    overload.worker_after = app.worker_rss()
    return overload


def _delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


# -- the bare app -----------------------------------------------------------------------------------------------------


def run_bare(
    fake: FakeProcess, requests: list[Request], log: IO[str], *, warmup: int, before_response: bool = False
) -> AppRun:
    """The same mix against a Bolt app that only acknowledges, on coordbot's server, after a warm-up."""
    run = AppRun(BARE_SYNC_LABEL if before_response else BARE_LABEL)
    port = free_port()
    command = [sys.executable, "-m", "bench.servers", "bare", "--port", str(port), "--api-url", fake.api_url]
    if before_response:
        command.append("--before-response")
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
    app = AppProcess(proc, f"http://127.0.0.1:{port}")
    timed: Timed | None = None
    try:
        _wait_healthy(app.url, proc)
        timed = Timed(app, fake, run)
        time.sleep(1.0)
        run.idle_memory = proc_memory(proc.pid)
        run.idle_cpu = _idle_cpu(app)
        run.warmup = timed.send("warm-up", requests[:warmup], RATE, work=False)
        run.mix = timed.send("mix", requests, RATE, work=False)
        run.loaded_memory = proc_memory(proc.pid)
    finally:
        if timed is not None:
            timed.close()
        app.stop(run.notes)
    return run


def measure(
    tmp: Path,
    *,
    per_kind: int,
    sample: int,
    overload_seconds: float,
    warmup: int,
    bare_sync: bool = True,
    rerun_per_kind: int = 0,
) -> LatencyResult:
    """coordbot's three phases, the bare app(s) on the same mix, and (with `rerun_per_kind`) an instrumented
    rerun of coordbot's mix, that many of each kind, all against one fake Slack API process."""
    with open(tmp / "latency.log", "w") as log:
        fake = FakeProcess(log)
        try:
            coordbot, requests = run_coordbot(
                fake,
                f"sqlite:///{tmp / 'coordbot.db'}",
                log,
                per_kind=per_kind,
                sample=sample,
                overload_seconds=overload_seconds,
            )
            logger.info("   bare Bolt (Bolt's defaults), the same mix after %d warm-up requests", warmup)
            bare = run_bare(fake, requests, log, warmup=warmup)
            sync = None
            if bare_sync:
                logger.info("   bare Bolt with process_before_response=True, the same mix")
                sync = run_bare(fake, requests, log, warmup=warmup, before_response=True)
            breakdown = None
            if rerun_per_kind:
                logger.info(
                    "   coordbot again, instrumented (bench/probe.py): a mix of %d of each kind", rerun_per_kind
                )
                probe = tmp / "probe"
                rerun, _ = run_coordbot(
                    fake,
                    f"sqlite:///{tmp / 'probed.db'}",
                    log,
                    per_kind=rerun_per_kind,
                    sample=0,
                    overload_seconds=0,
                    label="coordbot, instrumented",
                    probe=probe,
                )
                breakdown = read_breakdown(probe, rerun)
        finally:
            fake.stop()
    return LatencyResult(coordbot, bare, sync, RATE, per_kind, sizes(per_kind, sample), breakdown)
