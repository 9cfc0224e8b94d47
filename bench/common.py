"""Helpers the benchmarks share: the machine, percentiles, memory and CPU readings, SQL counting, databases."""

from __future__ import annotations

import math
import os
import platform
import re
import resource
import socket
import sqlite3
import statistics
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event, text

from storage.db import normalize_url

ROOT = Path(__file__).resolve().parents[1]
PG_SCHEMA = "coordbot_bench"  # its own schema, so the test suite's `public` is left alone


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (p99 of 400 samples is the 4th largest)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    """The median, NaN when empty."""
    return statistics.median(values) if values else math.nan


def ms(seconds: float) -> str:
    """Seconds shown as milliseconds."""
    return f"{seconds * 1000:.1f} ms"


def mib(kib: int | float | None) -> str:
    """KiB (as /proc and getrusage report them) shown as MiB."""
    return "n/a" if kib is None else f"{kib / 1024:.0f} MiB"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def widen_fake_backlog() -> None:
    """Let the fake Slack API accept 128 pending connections instead of socketserver's 5.

    The fake stands in for Slack, which does not turn connections away when the bot opens several
    at once (the App Home asks for permalinks eight at a time); the app under test keeps its own server as is.
    """
    from handlers.sandbox import slack_api

    slack_api._Server.request_queue_size = 128


# -- memory --------------------------------------------------------------------------------------------


def proc_memory(pid: int | str = "self") -> dict[str, int]:
    """VmHWM (peak resident) and VmRSS (resident now) of a process, in KiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    found = {
        key: int(m.group(1))
        for key in ("VmHWM", "VmRSS")
        if (m := re.search(rf"^{key}:\s+(\d+) kB", status, re.MULTILINE))
    }
    return found


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int | str = "self") -> float:
    """CPU time a process has used so far, user + system, in seconds (/proc/<pid>/stat utime + stime).

    Counted in clock ticks (usually 10 ms): read it over batches of many requests, not one.
    """
    raw = Path(f"/proc/{pid}/stat").read_text()
    rest = raw.rsplit(")", 1)[1].split()  # the command name, in parentheses, may hold spaces
    return (int(rest[11]) + int(rest[12])) / CLOCK_TICKS


def reset_peak_rss() -> bool:
    """Reset this process's VmHWM to its current RSS (Linux /proc/self/clear_refs); False when refused."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def max_rss_kib() -> int:
    """Lifetime peak RSS of this process (getrusage), in KiB."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


# -- SQL -----------------------------------------------------------------------------------------------


class StatementCounter:
    """Counts the SQL statements an engine sends (SQLAlchemy's before_cursor_execute event)."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        self.texts: list[str] = []
        self.keep = False
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        self.count += 1
        if self.keep:
            self.texts.append(statement)

    @contextmanager
    def counting(self, *, keep: bool = False) -> Iterator[StatementCounter]:
        """Count from zero inside the block."""
        self.count, self.texts, self.keep = 0, [], keep
        try:
            yield self
        finally:
            self.keep = False


@dataclass(frozen=True)
class Backend:
    """A database server (or SQLite) to run a benchmark on; each database made on it is fresh."""

    name: str  # "SQLite" or "PostgreSQL"
    where: str  # SQLite: a directory; PostgreSQL: the server's URL

    @property
    def is_postgres(self) -> bool:
        """True for PostgreSQL."""
        return self.name == "PostgreSQL"

    def fresh(self, tag: str) -> str:
        """The URL of a new, empty database: a SQLite file, or a PostgreSQL schema of its own."""
        if not self.is_postgres:
            path = Path(self.where) / f"{tag}.db"
            for leftover in path.parent.glob(path.name + "*"):
                leftover.unlink()
            return f"sqlite:///{path}"
        return fresh_postgres(self.where, f"{PG_SCHEMA}_{tag}")


def postgres_url() -> str | None:
    """BENCH_DATABASE_URL, else TEST_DATABASE_URL, else None."""
    return os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or None


def backends(tmp: Path) -> list[Backend]:
    """SQLite in `tmp`, and PostgreSQL when a server is configured."""
    found = [Backend("SQLite", str(tmp))]
    url = postgres_url()
    if url:
        found.append(Backend("PostgreSQL", url))
    return found


def fresh_postgres(url: str, schema: str) -> str:
    """Drop and recreate a schema; return a URL whose connections use it."""
    base = normalize_url(url)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}options={quote(f'-csearch_path={schema}')}"


def drop_postgres_schemas() -> None:
    """Remove every schema the benchmark made."""
    url = postgres_url()
    if not url:
        return
    admin = create_engine(normalize_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        found = (
            conn.execute(text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :p"), {"p": PG_SCHEMA + "%"})
            .scalars()
            .all()
        )
        for schema in found:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


# -- the machine -----------------------------------------------------------------------------------------


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    import slack_bolt
    import slack_sdk
    import sqlalchemy

    info = {
        "CPU": f"{os.cpu_count()} cores ({cpu_model()})",
        "Memory": _mem_total(),
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "SQLAlchemy": sqlalchemy.__version__,
        "slack-bolt / slack-sdk": f"{slack_bolt.version.__version__} / {slack_sdk.version.__version__}",
    }
    url = postgres_url()
    if url:
        try:
            engine = create_engine(normalize_url(url))
            with engine.connect() as conn:
                info["PostgreSQL"] = str(conn.execute(text("SHOW server_version")).scalar())
            engine.dispose()
        except Exception as exc:  # reported, not fatal: the PostgreSQL runs will say the same
            info["PostgreSQL"] = f"unreachable ({type(exc).__name__})"
    else:
        info["PostgreSQL"] = "not configured (set BENCH_DATABASE_URL or TEST_DATABASE_URL)"
    return info


def speed_reference(n: int = 5_000_000) -> float:
    """Seconds this interpreter takes for `n` additions in a loop: how fast the machine runs Python right now.

    Read at the start and at the end of a run, it shows whether the machine's speed changed meanwhile (a
    shared virtual machine's often does), and lets runs on different machines be compared.
    """
    started = time.perf_counter()
    total = 0
    for i in range(n):
        total += i
    return time.perf_counter() - started


def _mem_total() -> str:
    try:
        found = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.MULTILINE)
    except OSError:
        return "unknown"
    return f"{int(found.group(1)) / 1024 / 1024:.1f} GiB" if found else "unknown"


# -- processes -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChildProcess:
    """A process descended from another, as /proc showed it."""

    pid: int
    started: int  # /proc/<pid>/stat starttime (clock ticks after boot): tells a reused pid apart
    priority: str  # "nice N", or the scheduling policy when it is not the normal one (SCHED_IDLE)
    command: str

    def alive(self) -> bool:
        """True while this very process (not a later one with its pid) still exists and is not a zombie."""
        found = _stat(self.pid)
        return found is not None and found[3] == self.started and found[0] != "Z"


_POLICIES = {3: "SCHED_BATCH", 5: "SCHED_IDLE", 1: "SCHED_FIFO", 2: "SCHED_RR"}


def _stat(pid: int) -> tuple[str, int, str, int] | None:
    """(state, ppid, priority, starttime) of a process, None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = raw.rsplit(")", 1)[1].split()  # the command name, in parentheses, may hold spaces
    policy = int(rest[38]) if len(rest) > 38 else 0
    priority = _POLICIES.get(policy, f"nice {int(rest[16])}")
    return rest[0], int(rest[1]), priority, int(rest[19])


def child_processes(pid: int) -> list[ChildProcess]:
    """Every living process descended from `pid`, read from /proc, oldest first."""
    parents: dict[int, int] = {}
    stats: dict[int, tuple[str, int, str, int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (found := _stat(int(entry.name))) is not None:
            stats[int(entry.name)] = found
            parents[int(entry.name)] = found[1]
    wanted: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - wanted
        wanted |= frontier
    out = []
    for child in wanted:
        state, _, priority, started = stats[child]
        if state == "Z":
            continue
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        out.append(ChildProcess(child, started, priority, command.strip()))
    return sorted(out, key=lambda c: (c.started, c.pid))
