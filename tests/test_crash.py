"""Nothing answered is lost: `coordbot run` killed with SIGKILL mid-burst, then started again on its database.

Each test runs the real `coordbot run` (a server and two worker processes) against the fake Slack in this
process, on a SQLite file and on PostgreSQL when TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import urllib.error
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from sqlmodel import col

from handlers.sandbox.driver import SlackDriver
from handlers.sandbox.slack_api import ALICE, BOB, GENERAL, FakeSlack
from storage.db import make_engine
from storage.models import HistoryEntry, InboxItem, Requirement, Signature
from tests.conftest import SIGNING_SECRET
from tests.helpers import SHEET_VALUES
from tests.processes import children, start_run

pytestmark = pytest.mark.processes  # every test here starts coordbot as processes of its own

BURST = 200
KILL_AT = 100
RUN_ENV = {"COORDBOT_INBOX_LEASE_SECONDS": "2", "COORDBOT_WORKERS": "2"}


class Run:
    """`coordbot run` with its workers, in a process group of its own, logging to a file."""

    def __init__(self, database_url: str, fake: FakeSlack, log: Path) -> None:
        self.database_url = database_url
        self.fake = fake
        self.log = log
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> Run:
        with self.log.open("a") as out:
            self.proc, self.url = start_run(
                self.database_url,
                bot_token=self.fake.bot_token,
                signing_secret=SIGNING_SECRET,
                api_url=self.fake.api_url,
                env=RUN_ENV,
                new_session=True,
                output=out,
            )
        return self

    @property
    def slack(self) -> SlackDriver:
        return SlackDriver(self.url + "/slack/events", SIGNING_SECRET, self.fake, timeout=10.0)

    def kill_all(self) -> None:
        """SIGKILL the server and every worker at once."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


@pytest.fixture
def run(database_url: str, fake: FakeSlack, tmp_path: Path) -> Iterator[Callable[[], Run]]:
    started: list[Run] = []

    def start() -> Run:
        started.append(Run(database_url, fake, tmp_path / "run.log").start())
        return started[-1]

    try:
        yield start
    finally:
        for one in started:
            one.stop()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


def burst(send: Callable[[int], Any], n: int, *, kill_at: int, kill: Callable[[], None]) -> set[int]:
    """Send n requests from 8 threads; kill when `kill_at` have been answered 200. The answered ones."""
    answered: set[int] = set()
    lock = threading.Lock()
    killed = threading.Event()

    def one(i: int) -> None:
        if killed.is_set():
            return
        try:
            reply = send(i)
        except (OSError, urllib.error.URLError):  # the server is gone: not answered
            return
        if reply.status != 200:
            return
        with lock:
            answered.add(i)
            due = len(answered) == kill_at
        if due:
            killed.set()
            kill()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(n)))
    return answered


def goal(i: int) -> str:
    return f"Burst goal {i}"


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = 90.0) -> Any:
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def sheets(fake: FakeSlack) -> Counter[str]:
    """How many messages show each record (by the reference in their metadata)."""
    return Counter(
        (m.get("metadata") or {}).get("event_payload", {}).get("ref")
        for m in fake.messages(GENERAL)
        if m.get("metadata")
    )


def records(engine: Engine) -> list[Requirement]:
    with Session(engine) as s:
        return list(s.scalars(select(Requirement)).all())


def open_sheet_modal(fake: FakeSlack, slack: SlackDriver) -> dict[str, Any]:
    before = len(fake.calls("views.open"))
    assert slack.slash("/requirement", "", user=ALICE).status == 200
    return dict(fake.wait_for("views.open", before + 1, timeout=10)[-1].params["view"])


def test_sigkill_of_every_process_mid_burst_loses_no_answered_submission_or_signature(
    run: Callable[[], Run], fake: FakeSlack, engine: Engine
) -> None:
    first = run()
    view = open_sheet_modal(fake, first.slack)
    slack = first.slack
    answered = burst(
        lambda i: slack.submit_view({**SHEET_VALUES, "goal": goal(i)}, user=ALICE, view=view),
        BURST,
        kill_at=KILL_AT,
        kill=first.kill_all,
    )
    assert len(answered) >= KILL_AT

    run()  # the same database: the rows the dead processes left are taken again
    wanted = {goal(i) for i in answered}

    def all_posted() -> bool:
        linked = {r.goal for r in records(engine) if r.message_ts}
        return wanted <= linked

    wait_for(all_posted, "every answered submission posted and linked")
    time.sleep(1.0)  # anything stored but unanswered finishes too
    wait_for(lambda: not pending(engine), "the inbox to empty")
    rows = records(engine)
    by_goal = Counter(r.goal for r in rows)
    assert all(by_goal[g] == 1 for g in wanted), {g: by_goal[g] for g in wanted if by_goal[g] != 1}
    assert max(by_goal.values()) == 1  # stored but unanswered ones too: once each
    shown = sheets(fake)
    assert all(n == 1 for n in shown.values()), {ref: n for ref, n in shown.items() if n != 1}
    for r in rows:  # each sheet is the one its record knows: a ✅ on it finds the record
        assert r.message_ts is not None and fake.message(GENERAL, r.message_ts) is not None, r.code
        assert (fake.message(GENERAL, r.message_ts) or {})["metadata"]["event_payload"]["ref"] == f"requirement:{r.id}"
    assert set(shown) == {f"requirement:{r.id}" for r in rows}

    # ✅ from the receiving owner on every sheet, killed again halfway
    second = run()
    targets = sorted(rows, key=lambda r: r.id or 0)
    slack = second.slack
    signed = burst(
        lambda i: slack.react(
            "white_check_mark", channel=GENERAL, ts=str(targets[i].message_ts), user=BOB, event_id=f"EvSIGN{i}"
        ),
        len(targets),
        kill_at=len(targets) // 2,
        kill=second.kill_all,
    )
    run()
    wanted_ids = {targets[i].id for i in signed}

    def all_signed() -> bool:
        return wanted_ids <= {s.requirement_id for s in signatures(engine) if s.user_id == BOB}

    wait_for(all_signed, "every answered ✅ signed")
    wait_for(lambda: not pending(engine), "the inbox to empty")
    per_record = Counter(s.requirement_id for s in signatures(engine) if s.user_id == BOB)
    assert all(n == 1 for n in per_record.values()), per_record
    with engine.connect() as conn:
        signed_entries = Counter(
            conn.execute(
                select(col(HistoryEntry.subject_id)).where(
                    col(HistoryEntry.action) == "signed", col(HistoryEntry.actor_id) == BOB
                )
            ).scalars()
        )
    assert all(n == 1 for n in signed_entries.values()), signed_entries


def signatures(engine: Engine) -> list[Signature]:
    with Session(engine) as s:
        return list(s.scalars(select(Signature)).all())


def pending(engine: Engine) -> int:
    with engine.connect() as conn:
        return len(
            conn.execute(select(col(InboxItem.id)).where(col(InboxItem.state).in_(("pending", "running")))).all()
        )


# about the message posted before the kill (found again by its metadata, not posted twice); the inbox's claim
# and lease under SIGKILL on PostgreSQL are the burst test's above
@pytest.mark.sqlite_only
def test_a_worker_killed_between_posting_a_sheet_and_linking_it_leaves_one_linked_sheet(
    run: Callable[[], Run], fake: FakeSlack, engine: Engine
) -> None:
    bot = run()
    view = open_sheet_modal(fake, bot.slack)
    fake.fail("chat.postMessage", late=30)  # the sheet is posted, and the answer does not come back in time
    reply = bot.slack.submit_view({**SHEET_VALUES, "goal": "Posted, then the worker died"}, user=ALICE, view=view)
    assert reply.status == 200
    posted = wait_for(lambda: [m for m in fake.messages(GENERAL) if m.get("metadata")], "the sheet posted")
    assert bot.proc is not None
    for pid in children(bot.proc.pid):  # the workers, not the server
        os.kill(pid, signal.SIGKILL)
    rows = wait_for(lambda: [r for r in records(engine) if r.message_ts], "the sheet linked after the restart")
    assert len(rows) == 1 and rows[0].message_ts == posted[0]["ts"]
    wait_for(lambda: not pending(engine), "the inbox to empty")
    assert sheets(fake) == Counter({f"requirement:{rows[0].id}": 1})
    assert len(records(engine)) == 1
