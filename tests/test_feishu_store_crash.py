"""Nothing acknowledged is lost for a Feishu store app either: `coordbot run` serving two organizations, killed
with SIGKILL mid-burst.

A store app's Feishu pushes it a ticket (the only way to its app token) and tells it of organizations stopping
it; both are answered 200 only once stored. The burst mixes one-line action items from two organizations with a
new ticket (the old one no longer gets a token) and a third organization stopping the app. The whole process
group is killed halfway; a second run on the same database gets what had no 200 again, as Feishu redelivers.
Every item is made once in its own organization, with its card sent with that organization's token; the second
run gets its app token with the ticket the first one stored, not refused for a stale one; the stopped
organization is stopped.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from lark_oapi.core.token import TokenManager
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from sqlmodel import col

from handlers.sandbox.feishu_api import FakeFeishu
from handlers.sandbox.feishu_driver import FeishuDriver
from storage.db import make_engine, read_only
from storage.models import ActionItem, AppTicket, InboxItem, Workspace
from tests.test_feishu_crash import INDEX, Run, burst, redeliver, wait_for

pytestmark = pytest.mark.processes

APP_ID = "cli_store_crash"
BURST = 24
KILL_AT = BURST // 2
TICKET_AT, STOP_AT = KILL_AT - 4, KILL_AT - 2  # where the new ticket and the stop are in the burst
# per organization: who raises items, who owns them, the groups
ORGS = {
    "tenant_a": ("ou_a_lei", "ou_a_mei", ("oc_a_0", "oc_a_1")),
    "tenant_b": ("ou_b_lei", "ou_b_mei", ("oc_b_0", "oc_b_1")),
}
STOPPED = "tenant_c"  # installed, quiet, and stops the app mid-burst


def org_of(i: int) -> str:
    return ("tenant_a", "tenant_b")[i % 2]


def chat_of(i: int) -> str:
    return ORGS[org_of(i)][2][i // 2 % 2]


def _forget_tokens() -> None:
    """lark-oapi keeps tokens per process by app ID: this process's driver and fakes start without another's."""
    TokenManager.cache.set(f"isv_app_token:{APP_ID}", "", 0)


@pytest.fixture
def feishu() -> Iterator[FakeFeishu]:
    _forget_tokens()
    with FakeFeishu(app_id=APP_ID, app_secret="store-crash-secret", marketplace=True) as fake:
        for tenant, (lei, mei, chats) in ORGS.items():
            fake.install(tenant)
            fake.add_user(lei, "雷")
            fake.add_user(mei, "梅")
            for chat in chats:
                fake.add_chat(chat, f"{tenant} {chat}", [lei, mei])
        fake.install(STOPPED)
        yield fake


@pytest.fixture
def run(database_url: str, feishu: FakeFeishu, tmp_path: Path) -> Iterator[Callable[[], Run]]:
    started: list[Run] = []

    def push_ticket(ticket: str) -> None:
        """Feishu pushes the ticket to the app's callback URL (the run asking for it is starting up: Feishu tries
        again for a while when nobody answers yet)."""
        deadline = time.monotonic() + 20
        while True:
            try:
                started[-1].driver("tenant_a").deliver_app_ticket(APP_ID, ticket)
                return
            except (OSError, ValueError):  # not listening yet (or its address not known yet)
                if time.monotonic() > deadline:
                    return
                time.sleep(0.2)

    feishu.on_ticket_resend = push_ticket

    def start() -> Run:
        one = Run(database_url, feishu, tmp_path / "run.log", env={"FEISHU_APP_TYPE": "store"})
        started.append(one)
        return one.start()

    try:
        yield start
    finally:
        for one in started:
            one.stop()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    yield read_only(eng)
    eng.dispose()


def envelopes(driver: Callable[[str], FeishuDriver], ticket: str) -> list[dict[str, Any]]:
    """The burst: one-liners from both organizations, with the new ticket and the third one's stop among them."""
    prefix = uuid.uuid4().hex[:12]
    built = []
    for i in range(BURST):
        if i == TICKET_AT:
            built.append(driver("tenant_a").app_ticket_event(APP_ID, ticket))
            continue
        if i == STOP_AT:
            stop = driver("tenant_a").app_ticket_event(APP_ID, "")
            stop["event"] = {
                "app_id": APP_ID,
                "tenant_key": STOPPED,
                "type": "app_status_change",
                "status": "stop_by_tenant",
            }
            built.append(stop)
            continue
        lei, mei, _ = ORGS[org_of(i)]
        d = driver(org_of(i))
        envelope = d.message_event(
            f"@_user_1 行动项 @_user_2 任务 {i} 下周五前",
            user=lei,
            chat=chat_of(i),
            mentions=[d.bot_mention(), ("@_user_2", mei, "梅")],
            message_id=f"om_{prefix}_{i:03d}",
        )
        envelope["header"]["event_id"] = f"{prefix}-{i:03d}"
        built.append(envelope)
    return built


def items(engine: Engine) -> list[ActionItem]:
    with Session(engine) as s:
        return list(s.scalars(select(ActionItem).where(col(ActionItem.team_id).like("feishu:%"))).all())


def stored_ticket(engine: Engine) -> str | None:
    with Session(engine) as s:
        row = s.get(AppTicket, ("feishu", APP_ID))
        return row.ticket if row else None


def pending(engine: Engine) -> list[InboxItem]:
    with Session(engine) as s:
        rows = s.scalars(select(InboxItem).where(col(InboxItem.state).in_(("pending", "running"))))
        return list(rows.all())


@pytest.mark.sqlite_only  # the inbox under SIGKILL on PostgreSQL: tests/test_crash.py, tests/test_workspaces.py
def test_sigkill_mid_burst_of_a_store_app_loses_no_item_ticket_or_stop(
    run: Callable[[], Run], feishu: FakeFeishu, engine: Engine
) -> None:
    first = run()
    drivers: dict[str, FeishuDriver] = {}

    def driver(tenant: str) -> FeishuDriver:
        return drivers.setdefault(tenant, current.driver(tenant))

    current = first
    lei_a = ORGS["tenant_a"][0]
    assert driver("tenant_a").enter_dm(user=lei_a).status == 200  # a worker says hello: tokens work
    wait_for(lambda: feishu.messages_to(open_id=lei_a), "a worker at work with tenant_a's token", timeout=60)
    old = stored_ticket(engine)
    assert old == feishu.app_ticket
    new = feishu.new_ticket()  # Feishu rotates it: from now on only the new one gets an app token
    burst_of = envelopes(driver, new)

    def due(answered: int) -> bool:
        return answered >= KILL_AT and bool(items(engine))

    out = burst(driver("tenant_a"), burst_of, due=due, kill=first.kill_all)
    assert first.proc is not None and first.proc.poll() is not None, f"never killed: {out.summary()}"
    assert not out.other and (out.refused or out.unanswered), out.summary()
    if TICKET_AT in out.answered:  # answered: stored before the answer left
        assert stored_ticket(engine) == new, out.summary()

    asked = len(feishu.calls("auth.app_access_token"))
    current, drivers = run(), {}  # the same database; the redeliveries go to the new run
    lost = set(range(BURST)) - out.answered
    again = sorted(out.answered)[::6]
    statuses = redeliver(driver("tenant_a"), burst_of, lost | set(again))
    assert set(statuses.values()) == {200}, statuses
    expected = set(range(BURST)) - {TICKET_AT, STOP_AT}

    def carded() -> set[int]:
        return {int(m.group(1)) for a in items(engine) if a.message_ts and (m := INDEX.search(a.title))}

    wait_for(lambda: carded() >= expected, f"an item with its card for each line; {out.summary()}", timeout=60)
    wait_for(lambda: not pending(engine), "the inbox to empty")

    made = items(engine)
    per_line = Counter(int(m.group(1)) for a in made if (m := INDEX.search(a.title)))
    assert set(per_line) == expected and set(per_line.values()) == {1}, (per_line, out.summary())
    for a in made:  # in its own organization, its card sent with that organization's token
        i = int(INDEX.search(a.title).group(1))  # type: ignore[union-attr]
        assert (a.team_id, a.channel_id) == (f"feishu:{org_of(i)}", chat_of(i)), a.code
    cards = [c for c in feishu.calls("im.message.create") if (c.body or {}).get("receive_id", "").startswith("oc_")]
    assert cards and all(c.tenant == org_of(0 if "_a_" in c.body["receive_id"] else 1) for c in cards if c.body)
    assert stored_ticket(engine) == new
    if TICKET_AT in out.answered:  # the second run got its app token with the ticket the first one stored
        second = feishu.calls("auth.app_access_token")[asked:]
        assert second and all(c.code == 0 for c in second), [(c.code, c.response) for c in second]
    with Session(engine) as s:
        stopped = s.get(Workspace, f"feishu:{STOPPED}")
        assert stopped is not None and stopped.state == "uninstalled", stopped
    _forget_tokens()
