"""Nothing acknowledged is lost, on Feishu: `coordbot run` serving only Feishu, killed with SIGKILL mid-burst.

The real `coordbot run` (a server and two worker processes, no Slack configured) takes Feishu's signed and
encrypted HTTP callbacks from the driver and talks to the fake Feishu in this process. Halfway through a burst
of one-line action items in four groups the whole process group is killed; a second run on the same database is
sent every event that did not get a 200 (as Feishu redelivers), and some that did (Feishu redelivers even after
success). Every event ends as exactly one action item with exactly one card in its group: none lost, none doubled.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from sqlmodel import col

from handlers.sandbox.feishu_api import FakeFeishu
from handlers.sandbox.feishu_driver import FeishuDriver
from storage.db import make_engine, read_only
from storage.models import ActionItem, InboxItem
from tests.processes import CLEAN_ENV, ROOT, free_port, wait_healthy

pytestmark = pytest.mark.processes  # every test here starts coordbot as processes of its own

BURST = 64
KILL_AT = BURST // 2  # answers 200 before the kill
SENDERS = 8  # threads delivering at once, as Feishu's many connections would
PACE = 0.12  # seconds each of them waits after an answer: the burst lasts a couple of seconds
ENCRYPT_KEY = "crash-encrypt-key"
TOKEN = "crash-verification-token"
ALICE, BOB, CAROL = "ou_alice", "ou_bob", "ou_carol"
# the groups the items are raised in: coordbot sends at most 5 messages a second to one group from a process, as
# Feishu allows, so the burst in one group would take 13 s to work off, in four groups 3 s
CHATS = tuple(f"oc_crash_{n}" for n in range(4))
WS = "feishu:tenant_test"
CODE = re.compile(r"\bACT-\d{4}-\d+\b")
# the index in an item's title: the title is "任务 {i}", but the line's due phrase is not always cut where one
# expects (on a Saturday or Sunday "下周五前" and "周五前" name the same day, and the title keeps "下")
INDEX = re.compile(r"任务 (\d+)")
RUN_ENV = {
    "COORDBOT_WORKERS": "2",
    "COORDBOT_INBOX_LEASE_SECONDS": "2",
    "COORDBOT_TZ": "Asia/Shanghai",
    "COORDBOT_WORK_HOURS": "00:00-23:59",
    "COORDBOT_WORK_DAYS": "mon-sun",
    "COORDBOT_TICK_SECONDS": "1",
    "COORDBOT_STRICT_TEXT": "1",
}


class Run:
    """`coordbot run` serving only Feishu, with its workers in a process group of its own, logging to a file."""

    def __init__(self, database_url: str, fake: FakeFeishu, log: Path, env: dict[str, str] | None = None) -> None:
        self.database_url = database_url
        self.fake = fake
        self.log = log
        self.env = env or {}  # more settings (a store app's)
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> Run:
        port = free_port()
        env = {
            **{k: v for k, v in CLEAN_ENV.items() if not k.startswith("FEISHU_")},
            **RUN_ENV,
            "DATABASE_URL": self.database_url,
            "PORT": str(port),
            "FEISHU_APP_ID": self.fake.app_id,
            "FEISHU_APP_SECRET": self.fake.app_secret,
            "FEISHU_ENCRYPT_KEY": ENCRYPT_KEY,  # with the key set, events arrive as HTTP callbacks
            "FEISHU_VERIFICATION_TOKEN": TOKEN,
            "FEISHU_DOMAIN": self.fake.url,
            **self.env,
        }
        assert not any(k.startswith("SLACK_") for k in env)
        with self.log.open("a") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "run", "--host", "127.0.0.1"],
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
        self.url = f"http://127.0.0.1:{port}"
        wait_healthy(self.proc, self.url)
        return self

    def driver(self, tenant_key: str = "tenant_test") -> FeishuDriver:
        return FeishuDriver(
            self.url,
            verification_token=TOKEN,
            encrypt_key=ENCRYPT_KEY,
            tenant_key=tenant_key,
            app_id=self.fake.app_id,
            fake=self.fake,
            timeout=10.0,
        )

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
def feishu() -> Iterator[FakeFeishu]:
    """The fake Feishu with three people and the groups they talk in."""
    with FakeFeishu() as fake:
        for open_id, name in ((ALICE, "韩梅梅"), (BOB, "李雷"), (CAROL, "Carol")):
            fake.add_user(open_id, name)
        for n, chat in enumerate(CHATS):
            fake.add_chat(chat, f"交付组 {n}", [ALICE, BOB, CAROL])
        yield fake


@pytest.fixture
def run(database_url: str, feishu: FakeFeishu, tmp_path: Path) -> Iterator[Callable[[], Run]]:
    started: list[Run] = []

    def start() -> Run:
        started.append(Run(database_url, feishu, tmp_path / "run.log").start())
        return started[-1]

    try:
        yield start
    finally:
        for one in started:
            one.stop()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """Reads that take no write lock on SQLite: polling never holds up the bot."""
    eng = make_engine(database_url)
    yield read_only(eng)
    eng.dispose()


@dataclass
class Outcomes:
    """How each delivery of the burst ended."""

    answered: set[int] = field(default_factory=set)  # 200
    refused: set[int] = field(default_factory=set)  # nobody listening: the connection was refused
    unanswered: set[int] = field(default_factory=set)  # sent, and the connection died before an answer
    other: dict[int, int] = field(default_factory=dict)  # any other status: not acknowledged either
    killed: bool = False

    def summary(self) -> str:
        return (
            f"answered {len(self.answered)}, refused {len(self.refused)}, "
            f"no answer {len(self.unanswered)}, other {self.other}"
        )


def sender_of(i: int) -> str:
    return (ALICE, CAROL)[i % 2]


def chat_of(i: int) -> str:
    return CHATS[i // 2 % len(CHATS)]


def events(driver: FeishuDriver, fake: FakeFeishu) -> list[dict[str, Any]]:
    """The burst's envelopes, one event_id each, built once so that a redelivery is the same event."""
    prefix = uuid.uuid4().hex[:12]
    built = []
    for i in range(BURST):
        sender, chat = sender_of(i), chat_of(i)
        envelope = driver.message_event(
            f"@_user_1 行动项 @_user_2 任务 {i} 下周五前",
            user=sender,
            chat=chat,
            mentions=[driver.bot_mention(), ("@_user_2", BOB, "李雷")],
            message_id=f"om_{prefix}_{i:03d}",
        )
        envelope["header"]["event_id"] = f"{prefix}-{i:03d}"
        message = envelope["event"]["message"]
        fake.add_user_message(  # what the person said is in the chat, as in Feishu
            chat,
            sender,
            f"@_user_1 行动项 @_user_2 任务 {i} 下周五前",
            message_id=message["message_id"],
            mentions=[{"key": m["key"], "id": m["id"]["open_id"], "name": m["name"]} for m in message["mentions"]],
        )
        built.append(envelope)
    return built


def burst(
    driver: FeishuDriver, envelopes: list[dict[str, Any]], *, due: Callable[[int], bool], kill: Callable[[], None]
) -> Outcomes:
    """Deliver every event from several threads, each pausing between its deliveries (people type; the workers
    get going meanwhile); SIGKILL once `due(answered so far)` holds, and go on delivering (to nobody, by then) as
    Feishu would."""
    outcomes = Outcomes()
    lock = threading.Lock()
    killing = threading.Lock()

    def one(i: int) -> None:
        try:
            status = driver.post(envelopes[i]).status
        except OSError as exc:  # refused (urllib wraps it), or reset, closed or timed out without an answer
            refused = isinstance(getattr(exc, "reason", exc), ConnectionRefusedError)
            with lock:
                (outcomes.refused if refused else outcomes.unanswered).add(i)
            return
        with lock:
            if status != 200:
                outcomes.other[i] = status
                return
            outcomes.answered.add(i)
            answered = len(outcomes.answered)
        with killing:  # one thread decides, and kills
            if not outcomes.killed and due(answered):
                outcomes.killed = True
                kill()
        time.sleep(PACE)

    with ThreadPoolExecutor(SENDERS) as pool:
        list(pool.map(one, range(len(envelopes))))
    return outcomes


def redeliver(driver: FeishuDriver, envelopes: list[dict[str, Any]], which: Iterable[int]) -> dict[int, int]:
    """Deliver these events again (freshly signed, as Feishu does each time); the status of each."""
    indices = sorted(which)
    with ThreadPoolExecutor(SENDERS) as pool:
        statuses = list(pool.map(lambda i: driver.post(envelopes[i]).status, indices))
    return dict(zip(indices, statuses, strict=True))


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def items(engine: Engine) -> list[ActionItem]:
    with Session(engine) as s:
        return list(s.scalars(select(ActionItem).where(col(ActionItem.team_id) == WS)).all())


def inbox_rows(engine: Engine) -> list[InboxItem]:
    with Session(engine) as s:
        return list(s.scalars(select(InboxItem).where(col(InboxItem.platform) == "feishu")).all())


def index_of(item: ActionItem) -> int:
    found = INDEX.search(item.title)
    assert found, item.title
    return int(found.group(1))


def cards_by_code(fake: FakeFeishu) -> tuple[Counter[str], dict[str, tuple[str, str]]]:
    """How many interactive messages in the groups name each ACT code; and the (chat_id, message_id) of each."""
    shown: Counter[str] = Counter()
    message_of: dict[str, tuple[str, str]] = {}
    for m in fake.messages_to():
        if m["msg_type"] != "interactive" or m["chat_id"] not in CHATS:
            continue
        for code in set(CODE.findall("\n".join(fake.card_texts(m)))):
            shown[code] += 1
            message_of[code] = (m["chat_id"], m["message_id"])
    return shown, message_of


# Feishu's events go into the same inbox whose SIGKILL behaviour on PostgreSQL tests/test_crash.py and
# tests/test_workspaces.py check; this test is about Feishu's side: redelivery, event_id, the uuid of each card
@pytest.mark.sqlite_only
def test_sigkill_mid_burst_of_feishu_action_items_loses_and_doubles_nothing(
    run: Callable[[], Run], feishu: FakeFeishu, engine: Engine
) -> None:
    t0 = time.monotonic()
    first = run()
    driver = first.driver()
    # the server answers as soon as it listens; the workers load for a while after. Kill them at work, not loading:
    # a person opening the bot's chat is told hello by a worker
    assert driver.enter_dm(user=ALICE).status == 200
    wait_for(lambda: feishu.messages_to(open_id=ALICE), "a worker at work", timeout=60)
    ready = time.monotonic() - t0
    envelopes = events(driver, feishu)
    event_of = {f"feishu:{e['header']['event_id']}": i for i, e in enumerate(envelopes)}

    at_kill: list[int] = []

    def due(answered: int) -> bool:
        """Half answered, and the workers have made something of them: kill."""
        if answered < KILL_AT:
            return False
        at_kill.append(len(items(engine)))
        return at_kill[-1] > 0

    t1 = time.monotonic()
    out = burst(driver, envelopes, due=due, kill=first.kill_all)
    burst_seconds = time.monotonic() - t1
    assert first.proc is not None and first.proc.poll() is not None, f"never killed: {out.summary()}"
    assert not out.other, out.summary()
    assert len(out.answered) >= KILL_AT, out.summary()
    assert out.refused or out.unanswered, f"the kill did not land mid-burst: {out.summary()}"
    assert len(out.answered) + len(out.refused) + len(out.unanswered) == BURST, out.summary()

    # what the dead processes left: every event answered 200 was stored before its answer left
    stored = {event_of[r.dedupe_key]: r.state for r in inbox_rows(engine) if r.dedupe_key in event_of}
    made = items(engine)
    unlinked = [a.code for a in made if not a.message_ts]
    counts = (
        f"{out.summary()}; stored {len(stored)} {dict(Counter(stored.values()))}, "
        f"items made before the kill {len(made)} ({len(unlinked)} without their card linked)"
    )
    assert made, counts
    assert out.answered <= set(stored), f"answered but not stored: {sorted(out.answered - set(stored))}; {counts}"
    stored_unanswered = set(stored) - out.answered

    t2 = time.monotonic()
    second = run()  # the same database: rows the dead processes left are taken again
    restarted = time.monotonic() - t2
    driver = second.driver()
    lost = set(range(BURST)) - out.answered  # Feishu delivers again what got no 200
    again = sorted(out.answered)[:: max(1, len(out.answered) // 6)]  # and some it had been answered for
    statuses = redeliver(driver, envelopes, lost | set(again))
    assert set(statuses.values()) == {200}, {i: s for i, s in statuses.items() if s != 200}
    expected = out.answered | lost

    def all_carded() -> bool:
        return {index_of(a) for a in items(engine) if a.message_ts} >= expected

    wait_for(all_carded, f"an item with its card for each of {len(expected)} events; {counts}", timeout=60)
    wait_for(
        lambda: not [r for r in inbox_rows(engine) if r.state in ("pending", "running")],
        f"the inbox to empty; {counts}",
    )
    late = redeliver(driver, envelopes, again)  # after the work is done, too
    assert set(late.values()) == {200}, late
    wait_for(
        lambda: not [r for r in inbox_rows(engine) if r.state in ("pending", "running")],
        "the inbox to empty again",
    )
    rows = [r for r in inbox_rows(engine) if r.dedupe_key in event_of]  # a redelivery stored again would show here
    recovered = time.monotonic() - t2

    made = items(engine)
    per_event = Counter(index_of(a) for a in made)
    posts = Counter((c.body or {}).get("uuid") for c in feishu.calls("im.message.create"))
    summary = (
        f"{counts}; stored unanswered {len(stored_unanswered)}, redelivered {len(lost)} + {len(again)} answered "
        f"(twice); items when due to kill {at_kill}; rows run again {sum(r.attempts > 1 for r in rows)}, "
        f"cards sent again under the same uuid {sum(n > 1 for u, n in posts.items() if u)}; first run working "
        f"after {ready:.1f}s, burst {burst_seconds:.1f}s, restart {restarted:.1f}s, all done {recovered:.1f}s after it"
    )
    print(summary)
    assert set(per_event) == expected, f"lost {sorted(expected - set(per_event))}; {summary}"
    assert all(n == 1 for n in per_event.values()), f"{ {i: n for i, n in per_event.items() if n != 1} }; {summary}"
    assert {r.state for r in rows} == {"done"}, Counter(r.state for r in rows)
    assert len(rows) == BURST, f"{len(rows)} inbox rows for {BURST} events: a redelivery was stored again"
    # rows the dead workers held were run again (their effects partly there): the kill caught them at work
    assert [r for r in rows if r.attempts > 1], summary

    refused = [(c.name, c.code, c.response.get("msg")) for c in feishu.calls() if c.code != 0]
    assert not refused, refused  # every card the bot sent is one Feishu takes
    shown, message_of = cards_by_code(feishu)
    codes = {a.code for a in made}
    assert len(codes) == len(made)
    assert set(shown) == codes, f"cards without items {set(shown) - codes}, items without cards {codes - set(shown)}"
    assert all(n == 1 for n in shown.values()), f"{ {c: n for c, n in shown.items() if n != 1} }; {summary}"
    for a in made:  # the card each item knows is the one in its group, and the item is the line's
        i = index_of(a)
        assert (a.channel_id, a.message_ts) == message_of[a.code] and a.channel_id == chat_of(i), a.code
        assert (a.owner_id, a.creator_id) == (BOB, sender_of(i)), a.code
