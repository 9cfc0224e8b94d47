"""`coordbot` with timers: where a request's time goes, for the benchmark's instrumented rerun.

    python -m bench.probe OUT_DIR run --host 127.0.0.1      (any `coordbot` command line after OUT_DIR)

Runs the coordbot command line given after OUT_DIR in this process, with timers around a few calls; the
worker processes `coordbot run` starts are started through this module too. Each process writes what it
timed to OUT_DIR/<pid>.json when it exits. Timed, each as (what, start, seconds[, where]) with
time.perf_counter():

- `dispatch`: Bolt's dispatch of one request in the serving process (handlers.serving.http.SlackASGI._dispatch), from
  the dispatch thread's start to the answer;
- `put`: storing a request in the inbox (bot.inbox.Inbox.put), the commit included;
- `begin`: a transaction's beginning on SQLite (storage.db's "begin" listener: its `BEGIN IMMEDIATE`, which
  takes the database's one write lock, and a worker's wait at the turn before it), `where` being the
  function that opened the transaction; deferred read-only transactions are not timed;
- `hold`: from that `BEGIN IMMEDIATE` to the end of the transaction (the commit or rollback): how long the
  write lock was held, and by which function.

Each timer adds a Python call or two to what it times (about a microsecond); the benchmark's goal figures
come from an uninstrumented `coordbot run`.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

Record = tuple[str, float, float, str]

_records: list[Record] = []
_lock = threading.Lock()
_local = threading.local()


def _note(what: str, start: float, seconds: float, where: str = "") -> None:
    with _lock:
        _records.append((what, start, seconds, where))


def _caller(depth: int) -> str:
    frame = sys._getframe(depth)
    return f"{Path(frame.f_code.co_filename).stem}.{frame.f_code.co_qualname}"


def install(out_dir: Path) -> None:
    """Put the timers in place and write what they timed to `out_dir` when this process exits."""
    from sqlalchemy.engine import Connection

    import bot.app
    import bot.processes
    import storage.db
    from bot.inbox import Inbox
    from handlers.serving.http import SlackASGI

    begin_impl = Connection._begin_impl  # runs the "begin" listeners: storage.db's takes SQLite's write lock

    def timed_begin(self: Connection, transaction: Any) -> Any:
        if self.get_execution_options().get(storage.db.READ_ONLY):
            return begin_impl(self, transaction)
        start = time.perf_counter()
        try:
            return begin_impl(self, transaction)
        finally:
            end = time.perf_counter()
            _note("begin", start, end - start, getattr(_local, "where", ""))
            _local.begun = end

    Connection._begin_impl = timed_begin  # type: ignore[method-assign]

    make_session_scope = storage.db.make_session_scope

    def timed_make_session_scope(engine: Any) -> Callable[[], AbstractContextManager[Any]]:
        scope = make_session_scope(engine)

        @contextmanager
        def timed_scope() -> Iterator[Any]:
            where = _caller(3)  # this generator, contextmanager's __enter__, then whoever opened the scope
            _local.where, _local.begun = where, None
            try:
                with scope() as session:
                    yield session
            finally:
                begun = getattr(_local, "begun", None)
                if begun is not None:
                    _note("hold", begun, time.perf_counter() - begun, where)
                _local.begun = None

        return timed_scope

    storage.db.make_session_scope = timed_make_session_scope
    bot.app.make_session_scope = timed_make_session_scope

    put = Inbox.put

    def timed_put(self: Inbox, **kwargs: Any) -> int | None:
        start = time.perf_counter()
        try:
            return put(self, **kwargs)
        finally:
            _note("put", start, time.perf_counter() - start, str(kwargs.get("kind", "")))

    Inbox.put = timed_put  # type: ignore[method-assign]

    dispatch = SlackASGI._dispatch

    def timed_dispatch(self: SlackASGI, raw: bytes, query: str, headers: dict[str, Any]) -> Any:
        start = time.perf_counter()
        try:
            return dispatch(self, raw, query, headers)
        finally:
            _note("dispatch", start, time.perf_counter() - start)

    SlackASGI._dispatch = timed_dispatch  # type: ignore[method-assign]

    worker_command = bot.processes.worker_command

    def probed_worker_command(*, scheduler: bool) -> list[str]:
        command = worker_command(scheduler=scheduler)
        return [command[0], "-m", "bench.probe", str(out_dir), *command[3:]]  # in place of `-m bot`

    bot.processes.worker_command = probed_worker_command

    def dump() -> None:
        with _lock:
            records = list(_records)
        role = "worker" if sys.argv[1:2] == ["work"] else "serving"  # argv is coordbot's by then
        (out_dir / f"{os.getpid()}.json").write_text(json.dumps({"role": role, "records": records}))

    atexit.register(dump)


def main() -> None:
    """Install the timers, then run the coordbot command line that follows OUT_DIR."""
    out_dir = Path(sys.argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    install(out_dir)
    from bot.cli import main as coordbot

    sys.argv = ["coordbot", *sys.argv[2:]]
    coordbot()


if __name__ == "__main__":
    main()
