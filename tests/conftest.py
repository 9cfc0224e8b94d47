"""Fixtures: a fake Slack Web API, the real bot over HTTP, a temp database, a fixed clock."""

from __future__ import annotations

import atexit
import contextlib
import functools
import gc
import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from bot.app import Runtime, build_runtime, build_serving, build_worker, make_client
from bot.config import Settings
from handlers.sandbox.demo import Demo
from handlers.sandbox.demo import start as start_demo
from handlers.sandbox.driver import SlackDriver
from handlers.sandbox.slack_api import FakeSlack
from handlers.serving.http import Server
from handlers.serving.work import Worker
from storage.db import MIGRATIONS, make_engine, migrate, normalize_url
from tests.browser import chromium, page, static_server  # noqa: F401  (fixtures for the browser tests)

SIGNING_SECRET = "test-signing-secret"
os.environ["COORDBOT_STRICT_TEXT"] = "1"  # a text key no catalog has fails the test (here and in started processes)
# Thursday 2026-11-26 14:00 in Asia/Shanghai
START = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get("TEST_DATABASE_URL") else [])


class FixedClock:
    """A clock that only moves when a test moves it."""

    def __init__(self, start: datetime = START) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        """Jump to a time."""
        with self._lock:
            self._now = when

    def advance(self, delta: timedelta) -> datetime:
        """Move forward and return the new time."""
        with self._lock:
            self._now += delta
            return self._now


@functools.cache
def _head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head() or ""


def reset_postgres(url: str, *, empty: bool = True) -> None:
    """Give a test an empty public schema; or (`empty=False`), when the schema is already at the newest
    revision, the same tables emptied with their sequences restarted, which is the same to the test and takes
    a fraction of the time of building the schema again."""
    engine = create_engine(normalize_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        tables = list(conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
        at_head = "alembic_version" in tables and conn.execute(
            text("SELECT version_num FROM alembic_version")
        ).scalars().all() == [_head_revision()]
        if at_head and not empty:
            names = ", ".join(f'"{t}"' for t in tables if t != "alembic_version")
            if names:
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@functools.cache
def postgres_url() -> str:
    """TEST_DATABASE_URL; under pytest-xdist, a database of each worker's own beside it (`test_gw0`, …),
    created on first use, so that workers running side by side never empty each other's tables."""
    url = make_url(normalize_url(os.environ["TEST_DATABASE_URL"]))
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url.render_as_string(hide_password=False)
    name = f"{url.database}_{worker}"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@functools.cache
def sqlite_template() -> Path:
    """A SQLite file with the newest schema, made once per test process: each test starts from a copy of it
    instead of running every migration again (a sixth of a second of CPU each, over a thousand times)."""
    folder = tempfile.mkdtemp(prefix="coordbot-schema-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # one per process: gone when it ends
    path = Path(folder) / "schema.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the file itself, none in its log
    return path


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database with the newest schema: a temp SQLite file, or PostgreSQL when TEST_DATABASE_URL is set
    (its tables emptied when an earlier test left it at the newest revision). `@pytest.mark.empty_schema` asks
    for an empty database instead."""
    empty = request.node.get_closest_marker("empty_schema") is not None
    if request.param == "postgres":
        url = postgres_url()
        reset_postgres(url, empty=empty)
        return url
    target = tmp_path / "coordbot.db"
    if not empty:
        shutil.copyfile(sqlite_template(), target)
    return f"sqlite:///{target}"


@pytest.fixture
def clock() -> FixedClock:
    """The fixed clock, starting Thursday 2026-11-26 14:00 Asia/Shanghai."""
    return FixedClock()


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    """The fake Slack Web API, recording every call."""
    with FakeSlack() as server:
        yield server
    assert not server.validation_errors, server.validation_errors


@pytest.fixture
def settings(request: pytest.FixtureRequest, database_url: str, fake: FakeSlack) -> Settings:
    """Settings pointing at the fake API and the temp database.

    Reminders are due around the clock unless a test asks for an office calendar with
    ``@pytest.mark.office_hours(holidays="CN")``, so most tests see exact due times.
    """
    office = request.node.get_closest_marker("office_hours")
    return Settings(
        bot_token=fake.bot_token,
        signing_secret=SIGNING_SECRET,
        database_url=database_url,
        slack_api_url=fake.api_url,
        response_urls=fake.base_url + "/response/",  # the fake's own, in place of https://hooks.slack.com/
        inbox_poll=0.02,
        tz="Asia/Shanghai",
        lang="en",
        holidays=office.kwargs.get("holidays", "") if office else "",
        work_hours="09:00-18:00" if office else "00:00-23:59",
        work_days="mon-fri" if office else "mon-sun",
    )


@pytest.fixture
def runtime(settings: Settings, clock: FixedClock) -> Iterator[Runtime]:
    """Services, client and directory over the temp database, the schema migrated."""
    rt = build_runtime(settings, clock=clock, client=make_client(settings))
    rt.directory.load()
    yield rt
    rt.engine.dispose()


@dataclass
class Bot:
    """The running bot and the handles a test needs."""

    runtime: Runtime
    server: Server
    slack: SlackDriver
    fake: FakeSlack
    clock: FixedClock
    worker: Worker  # the worker that claims the inbox's rows (the serving process's own in one-process mode)


MODES = ["one-process", "workers"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked `both_modes` run once per way of running the bot."""
    if "bot" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_modes"):
        metafunc.parametrize("bot_mode", MODES)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The split is a matter of processes, not of databases: on PostgreSQL it runs in one mode. A test marked
    `postgres_cases(names)` runs on PostgreSQL for those cases only (what it checks is the same SQL for the
    rest), and one marked `sqlite_only` runs on SQLite alone (the suite runs on two cores)."""
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        params = getattr(item, "callspec", None)
        p = params.params if params else {}
        on_postgres = p.get("database_url") == "postgres"
        sample = item.get_closest_marker("postgres_cases")
        dropped = on_postgres and (
            p.get("bot_mode") == "workers"
            or item.get_closest_marker("sqlite_only") is not None
            or (sample is not None and getattr(p.get("case"), "name", None) not in sample.args[0])
        )
        (drop if dropped else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
def bot_mode() -> str:
    """How the bot runs: one process that serves and works, or a server beside a separate worker.

    COORDBOT_TEST_WORKERS=1 runs every test in the second mode.
    """
    return MODES[1] if os.environ.get("COORDBOT_TEST_WORKERS") else MODES[0]


@pytest.fixture
def bot(runtime: Runtime, fake: FakeSlack, clock: FixedClock, bot_mode: str) -> Iterator[Bot]:
    """The real Bolt app served by uvicorn on 127.0.0.1, driven by signed requests, its work done from the inbox."""
    separate = bot_mode == "workers"
    serving = build_serving(runtime, claim=not separate)
    worker = build_worker(runtime).start() if separate else serving.worker
    server = Server(
        serving.app, signing_secret=SIGNING_SECRET, host="127.0.0.1", port=0, health=runtime.healthy
    ).start_background()
    driver = SlackDriver(server.url + "/slack/events", SIGNING_SECRET, fake)
    # As `coordbot run` freezes what start-up built, leave everything this test process holds by now out of
    # the collector's full passes while the bot serves: the process carries every earlier test's objects
    # (over a million), and a full pass over them paused a timed request for up to 3 s.
    gc.freeze()
    try:
        yield Bot(runtime, server, driver, fake, clock, worker)
    finally:
        gc.unfreeze()
        server.shutdown(wait=False)  # every request has had its answer; the server stops on its own
        serving.worker.stop()
        if separate:
            worker.stop()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    """`coordbot demo`: the sandbox and coordbot beside it, on a SQLite file of its own."""
    running = start_demo(tmp_path / "demo.db")
    yield running
    running.stop()
    assert not running.sandbox.validation_errors, running.sandbox.validation_errors
