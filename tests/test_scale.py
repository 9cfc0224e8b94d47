"""Scale-out on PostgreSQL: two HTTP replicas and three tick processes share one database; reminders go out once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

from handlers.blocks.requirement import Ids
from handlers.sandbox.driver import SlackDriver
from handlers.sandbox.slack_api import ALICE, BOB, GENERAL, FakeSlack
from storage.db import normalize_url
from tests.conftest import SIGNING_SECRET, postgres_url, reset_postgres
from tests.helpers import SHEET_VALUES, wait_until
from tests.processes import free_port, wait_healthy

pytestmark = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL (TEST_DATABASE_URL)")

ROOT = Path(__file__).resolve().parent.parent
SHEETS = 6
ITEMS = 4
SHANGHAI = ZoneInfo("Asia/Shanghai")


def environment(fake: FakeSlack, url: str) -> dict[str, str]:
    """What every process of the deployment gets: one database, one Slack, office hours around the clock."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "COORDBOT_"))}
    return {
        **keep,
        "SLACK_BOT_TOKEN": fake.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.api_url,
        "DATABASE_URL": url,
        "COORDBOT_TZ": "Asia/Shanghai",
        "COORDBOT_WORK_HOURS": "00:00-23:59",
        "COORDBOT_WORK_DAYS": "mon-sun",
        "COORDBOT_LOG_LEVEL": "WARNING",
    }


@pytest.fixture
def database() -> str:
    """The shared PostgreSQL database, emptied."""
    url = postgres_url()
    reset_postgres(url)
    return url


@pytest.fixture
def replicas(fake: FakeSlack, database: str) -> Iterator[list[str]]:
    """Two `coordbot run --no-scheduler` processes in HTTP mode, started at the same moment."""
    ports = [free_port(), free_port()]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--no-scheduler", "--host", "127.0.0.1", "--port", str(port)],
            env=environment(fake, database),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for proc, url in zip(procs, urls, strict=True):
            wait_healthy(proc, url, what="a replica")
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        outputs = [proc.communicate(timeout=30)[0] for proc in procs]
        assert [proc.returncode for proc in procs] == [0, 0], outputs


def scalar(url: str, sql: str) -> object:
    """One value from the shared database."""
    engine = create_engine(normalize_url(url))
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar()
    finally:
        engine.dispose()


@pytest.mark.processes
def test_three_tick_processes_and_two_replicas_send_every_reminder_exactly_once(
    fake: FakeSlack, database: str, replicas: list[str]
) -> None:
    drivers = [SlackDriver(url + "/slack/events", SIGNING_SECRET, fake) for url in replicas]
    local = lambda when: when.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")  # noqa: E731  (Alice's time)
    sign_by = (datetime.now(UTC) + timedelta(hours=48)).replace(second=0, microsecond=0)
    now = sign_by - timedelta(minutes=90)  # the sign reminders (2 h before) are due, the overdue notices not yet
    values = {**SHEET_VALUES, "due": local(sign_by + timedelta(days=20)), "confirm_by": local(sign_by)}
    for n in range(SHEETS):  # opened through one replica, submitted through the other
        opener, submitter = drivers[n % 2], drivers[(n + 1) % 2]
        before = len(fake.calls("views.open"))
        assert opener.slash("/requirement", "", user=ALICE).acked_in_time
        fake.wait_for("views.open", before + 1, timeout=10)
        view = fake.last_view(Ids.MODAL)
        assert view is not None
        assert submitter.submit_view(values, user=ALICE, view=view).json() is None
    for n in range(ITEMS):  # due 12 h after the tick: its reminder (24 h before) is due then, its overdue notice not
        when = local(now + timedelta(hours=12))
        reply = drivers[n % 2].slash("/action", f"@bob write launch post {n + 1} by {when}", user=ALICE)
        assert reply.acked_in_time
    wait_until(
        lambda: (
            scalar(database, "SELECT count(*) FROM requirement WHERE message_ts IS NOT NULL") == SHEETS
            and scalar(database, "SELECT count(*) FROM action_item WHERE message_ts IS NOT NULL") == ITEMS
        ),
        timeout=30,
        what="every record stored and posted",
    )
    codes = scalar(database, "SELECT string_agg(code, ',' ORDER BY code) FROM requirement")
    assert codes == ",".join(f"RW-{datetime.now(UTC).year}-{n:03d}" for n in range(1, SHEETS + 1))
    pending = scalar(database, "SELECT string_agg(kind || ' ' || state, ', ' ORDER BY kind, state) FROM outbox")
    assert str(pending).count("req.sign_reminder pending") == 2 * SHEETS, pending
    assert str(pending).count("action.reminder pending") == ITEMS, pending

    assert scalar(database, "SELECT min(confirm_by) FROM requirement") == sign_by
    fake.reset()
    env = environment(fake, database)
    ticks = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "tick", "--now", now.isoformat()],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120) for p in ticks]
    assert [p.returncode for p in ticks] == [0, 0, 0], outputs
    sent = [int(re.search(r"sent (\d+),", out).group(1)) for out, _ in outputs]  # type: ignore[union-attr]
    dms = [
        (c.params["channel"], c.params["text"])
        for c in fake.calls("chat.postMessage")
        if c.params["channel"].startswith("U_") and c.response and c.response.get("ok")
    ]
    assert sum(sent) == len(dms) == 2 * SHEETS + ITEMS, (sent, len(dms))
    assert [key for key, n in Counter(dms).items() if n > 1] == []  # exactly once each
    assert Counter(user for user, _ in dms) == {ALICE: SHEETS, BOB: SHEETS + ITEMS}
    assert scalar(database, "SELECT count(*) FROM outbox WHERE state = 'sent'") == 2 * SHEETS + ITEMS
    assert scalar(database, "SELECT count(*) FROM outbox WHERE state IN ('claimed', 'failed')") == 0
    posts = [c for c in fake.calls("chat.postMessage") if c.params["channel"] == GENERAL]
    assert posts == []  # the ticks only sent reminders; the cards went out from the replicas before


def test_claims_skip_rows_another_process_holds(database: str) -> None:
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from storage import outbox as q
    from storage.db import make_engine, migrate

    engine = make_engine(database)
    migrate(engine)
    now = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
    with Session(engine) as s, s.begin():
        for n in range(10):
            q.schedule(
                s,
                team_id="T0001",
                kind="req.sign_reminder",
                subject=f"req:{n}",
                dedupe_key=f"k{n}",
                due_at=now,
                payload="{}",
                now=now,
            )
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    first, second = Session(engine), Session(engine)
    try:
        first.begin()
        held = [r.id for r in q.claim(first, now=now, worker="first", lease=timedelta(minutes=5), limit=4)]
        second.begin()
        second.execute(text("SET LOCAL lock_timeout = '2s'"))  # waiting on the first would fail, not hang
        started = time.monotonic()
        got = [r.id for r in q.claim(second, now=now, worker="second", lease=timedelta(minutes=5), limit=100)]
        assert time.monotonic() - started < 1.5
        second.commit()
        first.commit()
    finally:
        first.close()
        second.close()
        engine.dispose()
    assert len(held) == 4 and len(got) == 6
    assert set(held).isdisjoint(got)  # the first claim is still open: its rows were skipped, not waited for
    assert any("FOR UPDATE SKIP LOCKED" in st for st in statements), statements
