"""Acknowledge in one process, work in another.

Slack wants every request answered within 3 seconds, and an answer should never wait behind somebody
else's work. With `COORDBOT_WORKERS=1` (the default for `coordbot run`), the serving process runs each
listener only up to its `ack()`: the signature check, the duplicate check and the validation that decides
the answer (a modal's field errors). Once the answer is given, the listener stops there and the request
is handed, as a frame on a pipe, to a worker process that runs the same listener in full (its `ack()`
answers nobody). The worker runs at a lower CPU priority, holds the scheduler heartbeat, and is restarted
when it dies.

A frame is 4 bytes of big-endian length, then the request's parsed body, its headers, and the time the
serving process received it (the worker handles the request as of that time), in Python's `marshal`
format: both ends are the same interpreter (the worker is started with `sys.executable`), it is six
times quicker to write than JSON, and it keeps any string JSON can hold, lone surrogates included, which
UTF-8 cannot. Only the serving process writes to the pipe; nothing from outside is ever unmarshalled.
"""

from __future__ import annotations

import contextlib
import logging
import marshal
import os
import select
import struct
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import IO, Any, Protocol

try:
    import fcntl
except ImportError:  # not on Windows
    fcntl = None  # type: ignore[assignment]

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware

from bot.config import IDLE

logger = logging.getLogger(__name__)

CONTEXT_KEY = "handoff"
RECEIVED_HEADER = "x-coordbot-received-at"
_LENGTH = struct.Struct(">I")
PIPE_SIZE = 1 << 20  # bytes the pipe to the worker holds: a burst of hundreds of requests
MAX_FRAME = 8_000_000  # a frame holds one Slack payload (at most about 1 MB as received); more is a broken pipe


class Handoff(Protocol):
    """Where the serving process's listeners hand a request once it is answered."""

    def send(self, request: BoltRequest) -> None:
        """Take the request; its work happens elsewhere, later."""


class HandedOff(BaseException):  # a signal, not an error: no `except Exception` may swallow it
    """Raised from `ack()` in the serving process: the answer is given, the worker does the rest."""


class Direct(Middleware):
    """A global middleware called as `func(request, next)`.

    Bolt calls a middleware function with the arguments its signature names, looked up anew on every
    request; these run on every request, so they are called plainly instead.
    """

    def __init__(self, func: Callable[[BoltRequest, Callable[[], Any]], BoltResponse | None]) -> None:
        self.func = func

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse:
        answer = self.func(req, next)
        return resp if answer is None else answer

    @property
    def name(self) -> str:
        return f"Direct({getattr(self.func, '__name__', self.func)!r})"


def events_straight_through(request: BoltRequest, next: Callable[[], Any]) -> BoltResponse | None:
    """Middleware of a serving process: an event is all work (its answer is always an empty 200), so it goes
    to the worker without being matched against every listener here (Bolt tries each one in turn)."""
    forwarder: Handoff | None = request.context.get(CONTEXT_KEY)
    if forwarder is None or request.body.get("type") != "event_callback":
        next()
        return None
    forwarder.send(request)
    return BoltResponse(status=200, body="")


def answers_with_errors(args: Sequence[Any], kwargs: Mapping[str, Any]) -> bool:
    """Whether an ack() call answers a modal with field errors (the modal stays open, nothing else happens)."""
    whole = args[0] if args and isinstance(args[0], dict) else kwargs.get("text")
    action = kwargs.get("response_action") or (whole.get("response_action") if isinstance(whole, dict) else None)
    return bool(action == "errors")


def encode(request: BoltRequest, received_at: datetime) -> bytes:
    """One frame for the worker."""
    headers = {k: list(v) for k, v in request.headers.items() if k != RECEIVED_HEADER}
    data = marshal.dumps({"body": request.body, "headers": headers, "received_at": received_at.isoformat()})
    return _LENGTH.pack(len(data)) + data


def decode(data: bytes) -> BoltRequest:
    """The request a frame carries, as the worker's app dispatches it.

    The serving process verified the signature; the worker reads only from its own pipe, so the request
    is built like a Socket Mode one (already parsed, nothing to verify).
    """
    frame = marshal.loads(data)
    headers: dict[str, str | Sequence[str]] = dict(frame.get("headers") or {})
    headers[RECEIVED_HEADER] = [str(frame["received_at"])]
    return BoltRequest(body=frame["body"], headers=headers, mode="socket_mode")


def received_at(request: BoltRequest) -> datetime | None:
    """When the serving process received a request the worker is handling (None outside the worker)."""
    raw = request.headers.get(RECEIVED_HEADER)
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw[0])
    except ValueError:
        return None


def read_frames(stream: IO[bytes]) -> Any:
    """Yield each frame's payload until the stream ends."""
    while True:
        head = stream.read(_LENGTH.size)
        if len(head) < _LENGTH.size:
            return
        (size,) = _LENGTH.unpack(head)
        if size > MAX_FRAME:
            raise ValueError(f"a frame of {size} bytes")
        data = stream.read(size)
        if len(data) < size:
            return
        yield data


def serve(app: App, stream: IO[bytes], *, threads: int, finish: bool = True) -> int:
    """The worker's loop: hand every frame to one of `threads` threads, which runs its listener in full.

    Reading goes on while listeners run: a listener waiting on a slow Web API call holds one thread, not
    the line. When the serving process closes the pipe, the listeners already started are let finish
    (unless `finish` is False).
    """
    handled = 0
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="work")
    try:
        for data in read_frames(stream):
            pool.submit(_dispatch, app, data)
            handled += 1
    finally:
        pool.shutdown(wait=finish)
    return handled


def _dispatch(app: App, data: bytes) -> None:
    try:
        app.dispatch(decode(data))
    except Exception:  # one bad frame must not stop the work of the others
        logger.exception("could not handle a request handed over by the serving process")


class Forwarder:
    """The serving process's end: starts the worker, writes frames to it, restarts it when it dies.

    `send` writes a frame straight into the worker's pipe when the pipe has room, without blocking and
    without waking another thread. Only when the pipe is full (the worker is behind) do frames wait in
    memory for the feeding thread, which writes them as the worker reads. A frame is written whole to one
    worker: if that worker dies partway, the next one gets the frame again from its start.
    """

    def __init__(self, command: Sequence[str], *, now: Callable[[], datetime], restart_delay: float = 1.0,
                 grace: float = 30.0) -> None:
        self._command = list(command)
        self._now = now
        self._restart_delay = restart_delay
        self._grace = grace
        self._lock = threading.Condition()
        self._waiting: deque[bytes] = deque()  # frames not yet wholly written; the first maybe in part
        self._offset = 0  # how much of the first waiting frame the current worker has
        self._proc: subprocess.Popen[bytes] | None = None
        self._pipe: int | None = None  # the current worker's standard input, non-blocking
        self._closing = False
        self._down_since: float | None = None
        self._feed = threading.Thread(target=self._feed_frames, name="handoff-feed", daemon=True)
        self._watch = threading.Thread(target=self._watch_worker, name="handoff-watch", daemon=True)

    def start(self) -> Forwarder:
        """Start the worker and the threads that feed and watch it."""
        with self._lock:
            self._spawn()
        self._feed.start()
        self._watch.start()
        return self

    def send(self, request: BoltRequest) -> None:
        """Hand a request to the worker (cheap: it never waits for the worker)."""
        frame = encode(request, self._now())
        with self._lock:
            self._waiting.append(frame)
            if len(self._waiting) > 1:
                return  # frames are already waiting: the feeding thread is at work and writes this one too
            if self._flush():
                return
            self._lock.notify_all()  # the feeding thread takes over until the pipe has room again

    def waiting(self) -> int:
        """Frames not yet wholly written to a worker."""
        with self._lock:
            return len(self._waiting)

    def healthy(self) -> bool:
        """A worker is running, or has been gone for less than the grace period (a restart is under way)."""
        with self._lock:
            down = self._down_since
        return down is None or time.monotonic() - down < self._grace

    def close(self, timeout: float = 30.0) -> None:
        """Let the worker finish what it was handed, then stop it."""
        with self._lock:
            self._closing = True
            self._lock.notify_all()
        self._feed.join(timeout)
        with self._lock:
            proc, pipe, self._pipe = self._proc, self._pipe, None
        if proc is None:
            return
        if pipe is not None:
            with contextlib.suppress(OSError):
                os.close(pipe)  # the worker reads to the end, finishes its listeners and exits
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            logger.warning("the worker did not finish within %.0f s; stopping it", timeout)
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    # -- inside ------------------------------------------------------------------------------------------

    def _spawn(self) -> None:
        """Start a worker (the caller holds the lock)."""
        proc = subprocess.Popen(self._command, stdin=subprocess.PIPE)
        assert proc.stdin is not None
        pipe = os.dup(proc.stdin.fileno())  # written with os.write only, never through a buffer
        proc.stdin.close()
        os.set_blocking(pipe, False)
        _widen(pipe)
        if self._pipe is not None:
            with contextlib.suppress(OSError):
                os.close(self._pipe)
        self._proc, self._pipe, self._offset = proc, pipe, 0
        self._down_since = None
        logger.info("worker process %s started", proc.pid)
        self._lock.notify_all()

    def _flush(self) -> bool:
        """Write waiting frames while the pipe takes them (the caller holds the lock); whether all went."""
        while self._waiting:
            if self._pipe is None:
                return False
            frame = self._waiting[0]
            try:
                written = os.write(self._pipe, memoryview(frame)[self._offset:])
            except BlockingIOError:
                return False
            except OSError:  # the worker is gone (broken pipe): the next one gets this frame from its start
                with contextlib.suppress(OSError):
                    os.close(self._pipe)
                self._pipe, self._offset = None, 0
                return False
            self._offset += written
            if self._offset < len(frame):
                return False
            self._waiting.popleft()
            self._offset = 0
        return True

    def _feed_frames(self) -> None:
        """Write what `send` could not, as the worker makes room; at close, what is left."""
        while True:
            with self._lock:
                while not self._waiting and not self._closing:
                    self._lock.wait()
                if self._flush() and self._closing:
                    return
                pipe = self._pipe
            if pipe is None or not self._writable(pipe):
                with self._lock:
                    if self._closing and (self._proc is None or self._proc.poll() is not None):
                        return  # nobody left to write to
                    self._lock.wait(0.2)  # a worker is being restarted

    @staticmethod
    def _writable(pipe: int) -> bool:
        """Wait up to 0.2 s for room in the pipe."""
        poller = select.poll()
        poller.register(pipe, select.POLLOUT)
        try:
            return bool(poller.poll(200))
        except OSError:  # closed under us by a restart
            return False

    def _watch_worker(self) -> None:
        """Restart the worker whenever it exits, unless the serving process is stopping."""
        while True:
            proc = self._proc
            assert proc is not None
            code = proc.wait()
            with self._lock:
                if self._closing:
                    return
                self._down_since = time.monotonic()
                logger.error("worker process %s exited with status %s; restarting it", proc.pid, code)
                # restarting in a tight loop would hide the cause in a flood of logs
                self._lock.wait(self._restart_delay)
                if self._closing:
                    return
                try:
                    self._spawn()
                except OSError:
                    logger.exception("could not start a worker process")


def _widen(pipe: int) -> None:
    """Let the pipe hold a burst of frames (Linux; elsewhere the default size stays)."""
    setsize = getattr(fcntl, "F_SETPIPE_SZ", 1031) if fcntl is not None else None
    if setsize is None or not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError):
        fcntl.fcntl(pipe, setsize, PIPE_SIZE)


def worker_command(*, scheduler: bool) -> list[str]:
    """How the serving process starts its worker: this interpreter, `python -m bot worker`."""
    command = [sys.executable, "-m", "bot", "worker"]
    if not scheduler:
        command.append("--no-scheduler")
    return command


def lower_priority(nice: int | str) -> None:
    """Run this process at a lower CPU priority, so that the serving process's answers come first.

    `idle` (Linux's SCHED_IDLE): this process runs only on CPU time nothing else wants, and gives way
    the moment the serving process has a request to answer; elsewhere it falls back to nice 19.
    A number: that nice value, which still takes a share of the CPU from busier processes.
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
