"""coordbot on Feishu by the long connection, for real: lark-oapi's own `ws.Client` asks the fake Feishu for an
endpoint, connects to the fake gateway by websocket, pings, and answers each data frame it is pushed; the events go
through coordbot's dispatcher into the inbox and are run by the worker, whose replies reach the fake Open API.

lark's client runs on one event loop made when its module is imported and has no way to be stopped (lark-oapi
1.7.5), so a process can run one client at most: the long connection is tested as one story.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lark_oapi.ws import client as lark_ws_client

from bot.app import Runtime, build_runtime, build_serving, make_client
from bot.config import Settings
from bot.errors import NotFound
from bot.services.actions import ActionStatus
from handlers.feishu.cards import actions as action_cards
from handlers.feishu.intake import LongConnection
from handlers.sandbox.feishu_api import FakeFeishu
from handlers.sandbox.feishu_driver import FeishuDriver
from handlers.sandbox.feishu_ws import Ack, FakeLongConnection
from handlers.sandbox.slack_api import FakeSlack
from handlers.serving.work import Worker
from tests.conftest import SIGNING_SECRET, FixedClock
from tests.helpers import wait_until
from tests.test_feishu import button_values, sheet_values, submit_value

ALICE, BOB, CAROL = "ou_alice", "ou_bob", "ou_carol"
CHAT = "oc_product"
WS = "feishu:tenant_test"


@dataclass
class WsBot:
    """The running deployment receiving Feishu's events by the long connection, and the fakes around it."""

    runtime: Runtime
    worker: Worker
    fake: FakeFeishu
    gateway: FakeLongConnection
    feishu: FeishuDriver
    connection: LongConnection

    def push(self, envelope: dict[str, Any], *, parts: int = 1) -> Ack:
        """Feishu sends one event down the long connection; the client's answer."""
        return self.gateway.wait_ack(self.gateway.push(envelope, parts=parts))

    def said(self, text: str, *, user: str = ALICE, chat: str = CHAT, mentions: tuple[Any, ...] = ()) -> Ack:
        """`@coordbot <text>` in a group (recorded in the fake, so the bot can reply to it), by the long connection."""
        envelope = self.feishu.message_event(
            f"@_user_1 {text}", user=user, chat=chat, mentions=[self.feishu.bot_mention(), *mentions]
        )
        message = envelope["event"]["message"]
        self.fake.add_user_message(
            chat,
            user,
            f"@_user_1 {text}",
            message_id=message["message_id"],
            mentions=[{"key": m["key"], "id": m["id"]["open_id"], "name": m["name"]} for m in message["mentions"]],
        )
        return self.push(envelope)

    def cards_in(self, *, chat: str | None = None, to: str | None = None) -> list[dict[str, Any]]:
        """Interactive messages in a group, or in the bot's direct chat with a person."""
        return [m for m in self.fake.messages_to(chat_id=chat, open_id=to) if m["msg_type"] == "interactive"]

    def texts(self, message: dict[str, Any]) -> str:
        """All the text a card shows now."""
        return "\n".join(self.fake.card_texts(self.fake.message(message["message_id"])))

    def card_with(self, needle: str, *, chat: str | None = None, to: str | None = None) -> dict[str, Any]:
        """Wait for a card showing `needle`."""
        return wait_until(
            lambda: next((m for m in self.cards_in(chat=chat, to=to) if needle in self.texts(m)), None),
            what=f"a card with {needle!r}",
        )


@pytest.fixture
def ws_bot(tmp_path: Path, clock: FixedClock) -> Iterator[WsBot]:
    """Slack and Feishu served by one process over one database; Feishu's events by the long connection.

    On a SQLite file only: what is tested is the transport (lark-oapi runs every long-connection client on one
    event loop per process and cannot stop one, so the test runs once per process); the database behind the
    inbox is the same for every way events arrive, and the other Feishu tests run on both."""
    assert not lark_ws_client.loop.is_running(), (
        "a lark ws.Client already runs in this process: lark-oapi runs every client on one module-level "
        "event loop and cannot stop one, so only one long-connection test can run per process"
    )
    with FakeSlack() as slack, FakeFeishu() as fake, FakeLongConnection() as gateway:
        for open_id, name in ((ALICE, "韩梅梅"), (BOB, "李雷"), (CAROL, "Carol")):
            fake.add_user(open_id, name)
        fake.add_chat(CHAT, "产品组", [ALICE, BOB, CAROL])
        fake.serve_long_connection(gateway)
        settings = Settings(
            bot_token=slack.bot_token,
            signing_secret=SIGNING_SECRET,
            database_url=f"sqlite:///{tmp_path / 'coordbot.db'}",
            slack_api_url=slack.api_url,
            inbox_poll=0.02,
            tz="Asia/Shanghai",
            lang="en",
            work_hours="00:00-23:59",
            work_days="mon-sun",
            feishu_app_id=fake.app_id,
            feishu_app_secret=fake.app_secret,
            feishu_encrypt_key="",
            feishu_events="ws",
            feishu_domain=fake.url,
        )
        assert not settings.feishu_callbacks
        runtime = build_runtime(settings, clock=clock, client=make_client(settings))
        serving = build_serving(runtime, claim=True)
        assert runtime.feishu is not None
        connection = runtime.feishu.long_connection(wake=serving.worker.wake).start()
        driver = FeishuDriver("http://127.0.0.1:9", verification_token="", encrypt_key="", fake=fake)
        try:
            yield WsBot(runtime, serving.worker, fake, gateway, driver, connection)
        finally:
            gateway.stop()  # the client is told not to reconnect; its thread stays (lark has no stop)
            serving.worker.stop()
            runtime.engine.dispose()


def _cpu_ticks(thread_id: int) -> int:
    """User and system CPU time a thread of this process has used, in clock ticks (Linux)."""
    with open(f"/proc/self/task/{thread_id}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def test_events_and_card_actions_by_the_long_connection(ws_bot: WsBot) -> None:
    """The client connects and answers every frame with 200; an event is run once however often it comes; a
    button and a form in a card reach coordbot and the form's answer goes back in the response frame; after a
    dropped connection the client reconnects; when the gateway goes away the client gives up and sleeps."""
    bot = ws_bot
    bot.gateway.wait_pinged()  # connected, its loops running
    (endpoint,) = bot.fake.calls("ws.endpoint")
    assert endpoint.body == {"AppID": bot.fake.app_id, "AppSecret": bot.fake.app_secret}

    # an action item in one Chinese line: acknowledged, stored, run; its card in the chat
    line = "行动项 @_user_2 提交预算方案 下周五前"
    envelope = bot.feishu.message_event(
        f"@_user_1 {line}", user=ALICE, chat=CHAT, mentions=[bot.feishu.bot_mention(), ("@_user_2", BOB, "李雷")]
    )
    bot.fake.add_user_message(CHAT, ALICE, f"@_user_1 {line}", message_id=envelope["event"]["message"]["message_id"])
    ack = bot.push(envelope)
    assert (ack.code, ack.answer, ack.kind) == (200, None, "event")
    card = bot.card_with("ACT-2026-001", chat=CHAT)
    item = bot.runtime.services.actions.by_code(WS, "ACT-2026-001")
    assert (item.owner_id, item.title, item.channel_id) == (BOB, "提交预算方案", CHAT)

    # the same event again (Feishu redelivers by event_id), split in two frames: acknowledged, run no more
    again = bot.push(envelope, parts=2)
    assert again.code == 200 and again.headers["sum"] == "2"
    wait_until(lambda: not bot.runtime.services.inbox.status().oldest_waiting, what="the inbox worked off")
    assert [m["message_id"] for m in bot.cards_in(chat=CHAT) if "ACT-2026-00" in bot.texts(m)] == [card["message_id"]]
    with pytest.raises(NotFound):
        bot.runtime.services.actions.by_code(WS, "ACT-2026-002")

    # Bob presses Done on the card: card.action.trigger comes as an event frame, its (empty) answer goes back
    done = next(v for v in button_values(card["content"]) if v.get("do") == action_cards.DO_DONE)
    pressed = bot.push(bot.feishu.card_action_event(user=BOB, chat=CHAT, message_id=card["message_id"], value=done))
    assert (pressed.code, pressed.answer) == (200, {})
    wait_until(lambda: bot.runtime.services.actions.get(item.id).status == ActionStatus.DONE, what="done")
    wait_until(lambda: len(bot.fake.message(card["message_id"])["versions"]) >= 2, what="the card updated")

    # a form with a mistake: the errors go back within the response frame as the toast, nothing is stored
    assert bot.said("需求").code == 200
    form = wait_until(lambda: next(iter(bot.cards_in(to=ALICE)), None), what="the form in Alice's direct chat")
    wrong = bot.feishu.card_action_event(
        user=ALICE,
        chat=form["chat_id"],
        message_id=form["message_id"],
        value=submit_value(form["content"]),
        form_value=sheet_values(confirm_by="去年"),
    )
    answered = bot.push(wrong)
    assert answered.code == 200 and answered.answer["toast"]["type"] == "error", answered
    assert bot.runtime.services.requirements.awaiting(WS, ALICE) == []

    # Feishu drops the connection: the client asks for an endpoint again, reconnects, and events flow again
    bot.gateway.drop()
    bot.gateway.wait_connected(count=2)
    assert len(bot.fake.calls("ws.endpoint")) == 2
    assert bot.said("行动项 @_user_2 更新路线图 明天", mentions=(("@_user_2", CAROL, "Carol"),)).code == 200
    bot.card_with("ACT-2026-002", chat=CHAT)
    assert bot.runtime.services.actions.by_code(WS, "ACT-2026-002").owner_id == CAROL

    # the gateway goes away: told not to reconnect, the client asks no more and its thread (which lark cannot
    # stop) sleeps instead of spinning
    bot.gateway.stop()
    thread = bot.connection.thread
    if thread.is_alive() and thread.native_id is not None and os.path.exists(f"/proc/self/task/{thread.native_id}"):
        before = _cpu_ticks(thread.native_id)
        time.sleep(1.5)  # longer than the reconnect interval the endpoint handed out (1 s)
        assert _cpu_ticks(thread.native_id) - before <= 5  # of the 150 ticks that passed
    assert len(bot.fake.calls("ws.endpoint")) == 2
