"""The inbox's claims: each row to one worker at a time, leases that run out, retries with backoff, parking,
order per message; and workers stopped for a while catching up in order."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from sqlalchemy import select
from sqlmodel import col

from bot.app import Runtime, build_serving, build_worker
from bot.cli import main
from bot.inbox import Inbox
from handlers.sandbox.driver import SlackDriver
from handlers.sandbox.slack_api import ALICE, BOB, GENERAL, FakeSlack
from handlers.serving.http import Server
from handlers.serving.intake import order_key, request_key
from storage.models import HistoryEntry, InboxItem
from tests.conftest import SIGNING_SECRET, Bot, FixedClock
from tests.helpers import create_sheet, record, wait_until


def put(inbox: Inbox, n: int, *, order: str | None = None, key: str | None = None) -> list[int]:
    from datetime import UTC, datetime

    ids = []
    for i in range(n):
        row_id = inbox.put(
            team_id="T1",
            kind="test",
            dedupe_key=f"{key}:{i}" if key else None,
            order_key=order,
            payload="{}",
            received_at=datetime.now(UTC),
        )
        assert row_id is not None
        ids.append(row_id)
    return ids


def fresh(runtime: Runtime, **kwargs: object) -> Inbox:
    return Inbox(runtime.services.session_scope, **kwargs)  # type: ignore[arg-type]


def test_concurrent_workers_take_each_row_exactly_once(runtime: Runtime) -> None:
    inbox = fresh(runtime)
    ids = put(inbox, 300)
    taken: list[int] = []
    lock = threading.Lock()

    def work(name: str) -> None:
        mine = fresh(runtime)  # its own claims, as another process would make them
        while True:
            rows = mine.claim(name, 7)
            if not rows:
                return
            for row in rows:
                assert mine.done(name, row.id)
            with lock:
                taken.extend(row.id for row in rows)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert Counter(taken) == Counter(ids)  # every row, none twice


def test_a_duplicate_key_is_stored_once(runtime: Runtime) -> None:
    from datetime import UTC, datetime

    inbox = fresh(runtime)
    first = inbox.put(
        team_id="T1", kind="x", dedupe_key="event:Ev1", order_key=None, payload="{}", received_at=datetime.now(UTC)
    )
    again = inbox.put(
        team_id="T1", kind="x", dedupe_key="event:Ev1", order_key=None, payload="{}", received_at=datetime.now(UTC)
    )
    assert first is not None and again is None


def test_a_row_whose_worker_died_is_taken_again_when_its_lease_runs_out(runtime: Runtime) -> None:
    short = fresh(runtime, lease=timedelta(seconds=0.3))
    (row_id,) = put(short, 1)
    assert [r.id for r in short.claim("dead", 5)] == [row_id]
    assert short.claim("alive", 5) == []  # held
    time.sleep(0.4)
    (again,) = short.claim("alive", 5)
    assert again.id == row_id and again.attempts == 2
    assert not short.done("dead", row_id)  # the dead worker's late word counts for nothing
    assert short.done("alive", row_id)


def test_a_failing_row_is_retried_with_growing_delays_then_parked_and_retried_by_hand(runtime: Runtime) -> None:
    inbox = fresh(runtime, max_attempts=3, first_delay=timedelta(seconds=0.2))
    (row_id,) = put(inbox, 1)
    (row,) = inbox.claim("w", 1)
    assert not inbox.failed("w", row, "SlackApiError: ratelimited")
    assert inbox.claim("w", 1) == []  # not before its delay
    time.sleep(0.25)
    (row,) = inbox.claim("w", 1)
    assert not inbox.failed("w", row, "OperationalError: database is locked")
    time.sleep(0.25)
    assert inbox.claim("w", 1) == []  # the second delay is four times the first
    time.sleep(0.65)
    (row,) = inbox.claim("w", 1)
    assert row.attempts == 3
    assert inbox.failed("w", row, "KeyError: 'view'")  # parked
    time.sleep(1.0)
    assert inbox.claim("w", 1) == []
    status = inbox.status()
    assert status.parked == [(row_id, "test", 3, "KeyError: 'view'")]
    assert status.counts == {("test", "parked"): 1}

    env = {"DATABASE_URL": runtime.settings.database_url}
    result = CliRunner().invoke(main, ["status"], env=env)
    assert f"parked #{row_id} test after 3 tries: KeyError: 'view'  (coordbot retry {row_id})" in result.output
    result = CliRunner().invoke(main, ["retry", str(row_id)], env=env)
    assert result.exit_code == 0 and f"request {row_id} is back in line" in result.output
    result = CliRunner().invoke(main, ["retry", str(row_id)], env=env)
    assert result.exit_code == 1 and "is not parked" in result.output
    (row,) = inbox.claim("w", 1)
    assert row.id == row_id and inbox.done("w", row_id)


def test_rows_about_one_message_run_in_the_order_they_arrived(runtime: Runtime) -> None:
    inbox = fresh(runtime)
    first, second, third = put(inbox, 3, order="msg:C1:1.0")
    (other,) = put(inbox, 1, order="msg:C1:2.0")
    claimed = inbox.claim("a", 10)
    assert [r.id for r in claimed] == [first, other]  # the later rows of the first message wait
    assert inbox.claim("b", 10) == []
    inbox.done("a", first)
    assert [r.id for r in inbox.claim("b", 10)] == [second]
    inbox.done("b", second)
    assert [r.id for r in inbox.claim("b", 10)] == [third]


def test_reactions_and_buttons_are_ordered_by_their_message_and_keyed_by_delivery() -> None:
    reaction = {
        "type": "event_callback",
        "event_id": "Ev9",
        "event": {"type": "reaction_added", "item": {"type": "message", "channel": "C1", "ts": "1.5"}},
    }
    click = {
        "type": "block_actions",
        "user": {"id": "U1"},
        "container": {"channel_id": "C1", "message_ts": "1.5"},
        "actions": [{"action_id": "req_confirm", "action_ts": "9.9"}],
    }
    assert order_key(reaction) == order_key(click) == "msg:C1:1.5"
    assert request_key(reaction) == "event:Ev9"
    assert request_key(click) == "action:U1:req_confirm:9.9"
    assert order_key({"type": "view_submission", "view": {"id": "V1"}}) is None
    # one command's uses in one channel run in the order typed; other channels and commands do not wait
    assert order_key({"command": "/digest", "channel_id": "C1", "text": "subscribe"}) == "cmd:/digest:C1"
    assert order_key({"command": "/digest", "channel_id": "C1", "text": "unsubscribe"}) == "cmd:/digest:C1"
    assert order_key({"command": "/digest", "channel_id": "C2"}) != order_key(
        {"command": "/meeting", "channel_id": "C1"}
    )


def test_a_worker_stopped_for_ten_minutes_catches_up_in_order_as_of_each_arrival(
    runtime: Runtime, fake: FakeSlack, clock: FixedClock
) -> None:
    serving = build_serving(runtime, claim=False)  # no worker claims: only forms open at once
    server = Server(
        serving.app, signing_secret=SIGNING_SECRET, host="127.0.0.1", port=0, health=runtime.healthy
    ).start_background()
    worker = build_worker(runtime).start()
    bot = Bot(runtime, server, SlackDriver(server.url + "/slack/events", SIGNING_SECRET, fake), fake, clock, worker)
    try:
        sheets = [create_sheet(bot) for _ in range(3)]
        worker.stop()
        arrived = clock()
        for message in sheets:  # ✅, withdrawn, ✅ again by the receiver; then the requester
            ts = message["ts"]
            for user, removed in ((BOB, False), (BOB, True), (BOB, False), (ALICE, False)):
                assert (
                    bot.slack.react("white_check_mark", channel=GENERAL, ts=ts, user=user, removed=removed).status
                    == 200
                )
                clock.advance(timedelta(seconds=1))
        clock.advance(timedelta(minutes=10))
        with runtime.services.session_scope() as s:
            waiting = s.scalars(select(InboxItem).where(col(InboxItem.state) == "pending")).all()
        assert len(waiting) == 12
        later = build_worker(runtime).start()
        try:
            for n in (1, 2, 3):
                req = wait_until(
                    lambda n=n: (r := record(bot, f"RW-2026-00{n}")).status == "confirmed" and r,
                    what=f"RW-2026-00{n} confirmed",
                )
                with runtime.services.session_scope() as s:
                    entries = s.execute(
                        select(col(HistoryEntry.action), col(HistoryEntry.at))
                        .where(col(HistoryEntry.subject_id) == req.id)
                        .order_by(col(HistoryEntry.id))
                    ).all()
                actions = [a for a, _ in entries]
                assert actions[-5:] == ["signed", "withdrawn", "signed", "signed", "confirmed"], actions
                times = [at for _, at in entries[-5:]]
                # as of the time each arrived, not when the worker got to it ten minutes later
                assert all(at.replace(tzinfo=arrived.tzinfo) < arrived + timedelta(minutes=1) for at in times)
        finally:
            later.stop()
    finally:
        server.shutdown()
        serving.worker.stop()


def test_socket_mode_requests_take_the_same_inbox(runtime: Runtime, fake: FakeSlack) -> None:
    """Socket Mode's adapter dispatches each envelope's payload as a `socket_mode` request and sends back the
    answer: that answer, too, leaves only after the request is stored."""
    from slack_bolt import BoltRequest

    serving = build_serving(runtime, claim=False)
    worker = build_worker(runtime)
    try:
        event = {
            "type": "event_callback",
            "team_id": "T0001",
            "event_id": "EvSOCKET1",
            "api_app_id": "A0001",
            "event": {"type": "app_home_opened", "user": ALICE, "channel": f"D{ALICE}", "tab": "home"},
        }
        response = serving.app.dispatch(BoltRequest(body=event, mode="socket_mode"))
        assert response.status == 200
        with runtime.services.session_scope() as s:
            (row,) = s.scalars(select(InboxItem)).all()
            assert (row.kind, row.state, row.dedupe_key) == ("event:app_home_opened", "pending", "event:EvSOCKET1")
        again = serving.app.dispatch(BoltRequest(body=event, mode="socket_mode"))  # redelivered
        assert again.status == 200
        assert worker.drain() == 1
        assert fake.wait_for("views.publish")[-1].params["user_id"] == ALICE
    finally:
        serving.worker.stop()


def test_a_request_that_fails_for_a_passing_reason_is_tried_again_and_creates_its_record_once(bot: Bot) -> None:
    from storage.models import Requirement
    from tests.helpers import SHEET_VALUES, open_modal

    view = open_modal(bot)
    bot.fake.fail("chat.postMessage", status=500, times=2)  # Slack is down for the first try and its retry
    reply = bot.slack.submit_view({**SHEET_VALUES, "goal": "Tried twice"}, view=view)
    assert reply.status == 200 and reply.json() is None
    posted = wait_until(
        lambda: [c for c in bot.fake.calls("chat.postMessage") if c.error is None],
        timeout=10,
        what="the sheet posted on the second try",
    )
    assert len(posted) == 1
    row = wait_until(lambda: record(bot).message_ts and record(bot), what="the sheet linked")
    assert row.message_ts == posted[0].response["ts"]

    def submission() -> InboxItem:
        with bot.runtime.services.session_scope() as s:
            (item,) = s.scalars(select(InboxItem).where(col(InboxItem.kind) == "view:requirement_modal")).all()
            return item

    # the row is marked done once the listener has returned, just after the sheet was linked
    item = wait_until(lambda: (found := submission()).state == "done" and found, what="the submission done")
    assert item.attempts == 2
    with bot.runtime.services.session_scope() as s:
        assert len(s.scalars(select(Requirement)).all()) == 1


def test_on_sqlite_idle_polls_take_no_lock_and_a_store_waits_out_another_writer(runtime: Runtime) -> None:
    import pytest

    from storage.db import is_sqlite

    if not is_sqlite(runtime.engine):
        pytest.skip("PostgreSQL locks rows, not the database")
    inbox = runtime.services.inbox
    stored: list[int | None] = []
    with runtime.engine.connect() as writer:
        writer.exec_driver_sql("SELECT 1")  # the connection's first transaction: BEGIN IMMEDIATE, the write lock
        assert inbox.claim("idle", 8) == []  # answered while another process writes

        def store() -> None:
            stored.extend(put(inbox, 1))

        thread = threading.Thread(target=store)
        thread.start()
        time.sleep(0.3)
        assert stored == [] and thread.is_alive()  # waiting, not failed
        writer.rollback()
    thread.join(5)
    assert len(stored) == 1 and stored[0] is not None


def test_on_sqlite_a_request_being_stored_writes_before_work_waiting_for_the_lock(tmp_path) -> None:
    """While a thread of the answering process waits for SQLite's write lock, a worker's next transaction does
    not even try for it; once the request is stored, the worker goes on."""
    from sqlalchemy import event, text

    from storage.db import ANSWERING, WORKING, make_engine

    url = f"sqlite:///{tmp_path / 'turn.db'}"
    answering, working = make_engine(url, writer=ANSWERING), make_engine(url, writer=WORKING)
    holder = make_engine(url, writer=WORKING)
    with answering.begin() as conn:
        conn.execute(text("CREATE TABLE t (who TEXT)"))
    began: list[str] = []

    @event.listens_for(working, "before_cursor_execute")
    def _seen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.startswith("BEGIN"):
            began.append("work")

    order: list[str] = []

    def write(engine, who: str) -> None:  # type: ignore[no-untyped-def]
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (:who)"), {"who": who})
            order.append(who)

    try:
        with holder.connect() as busy:
            busy.exec_driver_sql("SELECT 1")  # a worker's transaction holds the write lock
            request = threading.Thread(target=write, args=(answering, "request"))
            request.start()
            time.sleep(0.1)  # the request is trying for the lock by now
            work = threading.Thread(target=write, args=(working, "work"))
            work.start()
            time.sleep(0.3)
            assert began == [] and order == []  # the worker waits at the turn, not in SQLite's busy handler
            busy.rollback()
        request.join(5)
        work.join(5)
        assert order == ["request", "work"] and began == ["work"]
    finally:
        for engine in (answering, working, holder):
            engine.dispose()


def test_on_sqlite_a_request_gives_up_on_the_write_lock_after_the_busy_timeout(tmp_path) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from storage.db import ANSWERING, WORKING, is_locked, make_engine

    url = f"sqlite:///{tmp_path / 'slow.db'}"
    answering = make_engine(url, writer=ANSWERING, busy_timeout_ms=300)
    holder = make_engine(url, writer=WORKING)
    try:
        with holder.connect() as busy:
            busy.exec_driver_sql("SELECT 1")
            began = time.monotonic()
            try:
                with answering.begin() as conn:
                    conn.execute(text("SELECT 1"))
            except OperationalError as exc:
                assert is_locked(exc)
            else:
                raise AssertionError("a transaction began while another held the write lock")
            assert 0.25 < time.monotonic() - began < 5
            busy.rollback()
        with answering.begin() as conn:  # the lock is free again, and so is the turn
            assert conn.execute(text("SELECT 1")).scalar() == 1
        with holder.begin() as conn:
            assert conn.execute(text("SELECT 2")).scalar() == 2
    finally:
        answering.dispose()
        holder.dispose()


def test_one_commands_uses_in_one_channel_are_worked_off_in_the_order_typed(
    runtime: Runtime, fake: FakeSlack, clock: FixedClock
) -> None:
    """Typed while no worker runs, then worked off by a worker's many threads: the last word stands."""
    from storage.models import OutboxItem

    serving = build_serving(runtime, claim=False)
    server = Server(
        serving.app, signing_secret=SIGNING_SECRET, host="127.0.0.1", port=0, health=runtime.healthy
    ).start_background()
    driver = SlackDriver(server.url + "/slack/events", SIGNING_SECRET, fake)
    try:
        typed = ["subscribe", "subscribe fri 17:00", "unsubscribe", "subscribe", "unsubscribe", "subscribe wed 10:00"]
        for text in typed:
            assert driver.slash("/digest", text, user=ALICE).status == 200
        worker = build_worker(runtime).start()
        try:
            wait_until(lambda: len(fake.calls("response_url")) == len(typed), what="every command answered")
        finally:
            worker.stop()
        with runtime.services.session_scope() as s:
            rows = s.scalars(select(OutboxItem).where(col(OutboxItem.kind) == "digest.weekly")).all()
            pending = [r for r in rows if r.state == "pending"]
        assert len(pending) == 1
        due = pending[0].due_at
        # the last command's schedule: Wednesday 10:00 in the workspace's Asia/Shanghai, the first after the clock
        assert due.replace(tzinfo=UTC) == datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
    finally:
        server.shutdown()
        serving.worker.stop()
