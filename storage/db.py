"""Engine, sessions and schema upgrades."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

try:
    import fcntl
except ImportError:  # not on Windows: there SQLite's own waiting is all there is
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"

SessionScope = Callable[[], AbstractContextManager[Session]]
MIGRATION_LOCK = 0x636F6F7264  # any constant: the advisory lock schema upgrades take on PostgreSQL


def normalize_url(url: str) -> str:
    """Use the psycopg 3 driver for plain postgresql:// URLs."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def is_sqlite(engine: Engine) -> bool:
    """True for the embedded SQLite backend."""
    return engine.dialect.name == "sqlite"


READ_ONLY = "coordbot_read_only"  # an execution option: a transaction that only reads takes no write lock
IMPATIENT = "coordbot_impatient"  # an execution option: on SQLite, try for the write lock often, for this many s


ANSWERING = "answering"  # a process that answers requests: its writes go first (`make_engine(writer=...)`)
WORKING = "working"  # a process that does stored work: its writes wait while a request is being stored
RETRY_SECONDS = 0.0005  # an answering transaction tries SQLite's write lock again this often


class Turn:
    """Requests being answered write before work, on SQLite: a lock file beside the database.

    SQLite has one write lock and no queue: a transaction that finds it taken sleeps in growing steps (up to
    100 ms) and tries again, while a busy worker, committing and beginning its next transaction within
    microseconds, takes it again first. So a request waiting to be stored could wait behind many pieces of
    work in a row. While a thread of an answering process wants the write lock it holds this file's shared
    lock; a working process's transaction passes through the exclusive lock before it begins, so it waits
    (woken by the kernel, not by polling) until every request wanting the lock has it. A process killed
    with its lock held loses it with its file descriptors.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        self._mutex = threading.Lock()  # the shared lock belongs to the process: count its threads' wants
        self._wanting = 0

    @contextmanager
    def first(self) -> Iterator[None]:
        """Hold work back while this block runs (an answering process's transaction taking the lock)."""
        with self._mutex:
            if self._wanting == 0:
                fcntl.flock(self._fd, fcntl.LOCK_SH)
            self._wanting += 1
        try:
            yield
        finally:
            with self._mutex:
                self._wanting -= 1
                if self._wanting == 0:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)

    def wait(self) -> None:
        """Return once no request is waiting for the write lock (a working process's transaction)."""
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        fcntl.flock(self._fd, fcntl.LOCK_UN)


def _turn_for(engine: Engine, writer: str | None) -> Turn | None:
    database = engine.url.database or ""
    if writer is None or fcntl is None or database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Turn(str(Path(database).resolve()) + "-turn")


def make_engine(url: str, *, echo: bool = False, busy_timeout_ms: int = 30_000, writer: str | None = None) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and write-intent transactions.

    On SQLite every transaction takes the write lock when it begins (BEGIN IMMEDIATE), except on a
    connection with the `READ_ONLY` execution option (`read_only`): WAL readers never wait for a writer.
    Only the inbox's idle poll reads so: the services' reads stay immediate, because many threads in
    several processes reading beside a steady writer made SQLite answer readers "busy" and send them into
    its sleeping busy handler (benchmark, 50 requests/s: acknowledgment p99 17 ms with immediate reads,
    588 ms with deferred ones).
    With `IMPATIENT` (`impatient`), a transaction tries for the lock every half millisecond, instead of
    waiting in SQLite's growing sleeps (up to 100 ms each), and gives up ("database is locked") after the
    patience given.
    `writer`: `ANSWERING` for the process that answers Slack, `WORKING` for a worker process: on a SQLite
    file, requests being stored take the write lock before work (`Turn`); None: first come, first served.
    """
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url, echo=echo, connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False}
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy's "begin" event open transactions, so they can be IMMEDIATE.
            dbapi_connection.isolation_level = None
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            if writer == ANSWERING:
                # the workers' commits copy the log back into the database; a request's commit never does
                cur.execute("PRAGMA wal_autocheckpoint=0")
            cur.close()

        turn = _turn_for(engine, writer)
        taking = threading.Lock()  # held by the one thread of this process trying for the lock in `begin_often`

        def begin_often(conn: Any, patience: float) -> None:
            # One thread at a time tries for the lock every half millisecond (the others wait for their turn in
            # this process), rather than in SQLite's growing sleeps, while work waits at the turn (if any). The
            # tries go to the DB-API connection itself: an error costs more through SQLAlchemy's wrapping.
            raw = conn.connection.dbapi_connection
            deadline = time.monotonic() + patience
            with turn.first() if turn is not None else nullcontext(), taking:
                raw.execute("PRAGMA busy_timeout=0")
                try:
                    while time.monotonic() < deadline:
                        try:
                            raw.execute("BEGIN IMMEDIATE")
                            return
                        except sqlite3.OperationalError as exc:
                            if "database is locked" not in str(exc):
                                break
                        time.sleep(RETRY_SECONDS)
                    conn.exec_driver_sql("BEGIN IMMEDIATE")  # one last try, raising as SQLAlchemy raises
                finally:
                    raw.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            # Taking the write lock up front means two processes never deadlock
            # upgrading read locks; the busy timeout makes the second one wait.
            options = conn.get_execution_options()
            if options.get(READ_ONLY):
                conn.exec_driver_sql("BEGIN")
            elif options.get(IMPATIENT) or (turn is not None and writer == ANSWERING):
                begin_often(conn, float(options.get(IMPATIENT) or busy_timeout_ms / 1000))
            else:
                if turn is not None:
                    turn.wait()
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=5, max_overflow=10)


def read_only(engine: Engine) -> Engine:
    """The same engine for transactions that only read (on SQLite they take no write lock)."""
    return engine.execution_options(**{READ_ONLY: True})


def impatient(engine: Engine, patience: float = 10.0) -> Engine:
    """The same engine for transactions that try for SQLite's write lock often, for up to `patience` seconds."""
    return engine.execution_options(**{IMPATIENT: patience})


def is_locked(exc: BaseException) -> bool:
    """Whether an error is SQLite's "database is locked" (its busy timeout ran out)."""
    return isinstance(exc, OperationalError) and "database is locked" in str(exc)


def make_session_scope(engine: Engine) -> SessionScope:
    """Return a factory of transactional scopes: commit on success, roll back on error."""
    factory = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def session_scope() -> Iterator[Session]:
        session = factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    return session_scope


def migrate(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the schema with Alembic."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        raw = connection.connection.driver_connection
        if sqlite and raw is not None:
            # a migration that changes a column rebuilds its table (SQLite's way), which the tables that refer to
            # it would refuse: their references are checked once, at the end, instead (Alembic's advice)
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    # Replicas starting together upgrade one at a time; the others wait, then find the schema
                    # current. (SQLite's BEGIN IMMEDIATE already serializes them.)
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
                cfg.attributes["connection"] = connection
                command.upgrade(cfg, revision)
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                    raise RuntimeError("the upgrade left rows that refer to rows that are not there")
        finally:
            if sqlite and raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")
    logger.info("database schema is at %s", revision)


def write_revision(message: str, *, autogenerate: bool = True) -> Path:
    """Write a new migration for what the models have and the migrations do not; the new file's path.

    The migrations are applied to a scratch SQLite database first, and Alembic compares it with the models
    (`autogenerate`); the next revision number follows the last one. Review the file before committing it:
    Alembic writes what it detected, and a rename looks to it like a drop and an add.
    """
    import tempfile

    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head() or "0"
    rev_id = f"{int(head) + 1:04d}" if head.isdigit() else None
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{Path(scratch) / 'schema.db'}")
        try:
            migrate(engine)
            with engine.begin() as connection:
                cfg.attributes["connection"] = connection
                script = command.revision(cfg, message=message, autogenerate=autogenerate, rev_id=rev_id)
        finally:
            engine.dispose()
    scripts = script if isinstance(script, list) else [script]
    return Path(scripts[0].path) if scripts and scripts[0] is not None else MIGRATIONS
