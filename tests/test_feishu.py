"""coordbot on Feishu, end to end: signed (and encrypted) callbacks over real HTTP to the running server, the work
done from the inbox, everything said through lark-oapi to the fake Feishu Open API, in the same deployment and
database as a Slack workspace."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.app import Runtime, build_runtime, build_serving, make_client
from bot.config import Settings
from bot.errors import NotFound
from bot.services.actions import ActionStatus
from bot.services.incidents import Status as IncidentStatus
from bot.services.requirements import Status
from bot.text import t
from handlers.feishu.cards import actions as action_cards
from handlers.feishu.cards import incident as incident_cards
from handlers.feishu.cards import meeting as meeting_cards
from handlers.feishu.cards import requirement as requirement_cards
from handlers.feishu.intake import EVENTS_PATH
from handlers.sandbox.feishu_api import FakeFeishu
from handlers.sandbox.feishu_driver import FeishuDriver
from handlers.sandbox.slack_api import FakeSlack
from handlers.serving.http import Server
from tests.conftest import SIGNING_SECRET, FixedClock
from tests.helpers import wait_until

ENCRYPT_KEY = "test-encrypt-key"
TOKEN = "test-verification-token"
ALICE, BOB, CAROL = "ou_alice", "ou_bob", "ou_carol"
CHAT = "oc_product"
WS = "feishu:tenant_test"


@dataclass
class FeishuBot:
    """The running deployment (Slack and Feishu), the fake Feishu and a driver that delivers events as Feishu."""

    runtime: Runtime
    fake: FakeFeishu
    slack: FakeSlack
    feishu: FeishuDriver
    clock: FixedClock
    server: Server

    def said(self, text: str, *, user: str = ALICE, chat: str = CHAT) -> dict[str, Any]:
        """@coordbot <text> in a group; the callback's answer."""
        delivery = self.feishu.message(f"@_user_1 {text}", user=user, chat=chat, mentions=[self.feishu.bot_mention()])
        assert delivery.status == 200, delivery
        return delivery.body

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

    def submit(self, form_card: dict[str, Any], user: str, values: dict[str, Any]) -> dict[str, Any]:
        """Fill in and send the form in a card (its submit button's callback value, as Feishu sends it).

        As Feishu's client does, a person picker lets one pick only whom it offers: its options, or with none the
        members of the chat the card is in (a form sent to a person: that person alone)."""
        for name, offered in pickers(form_card["content"]).items():
            chosen = values.get(name)
            picked = chosen if isinstance(chosen, list) else [chosen] if chosen else []
            group = self.fake.chats.get(form_card["chat_id"])
            allowed = offered or (list(group["members"]) if group else [user])  # a direct chat: the person
            assert set(picked) <= set(allowed), f"{name} offers {allowed}, not {picked}"
        value = submit_value(form_card["content"])
        delivery = self.feishu.card_action(
            user=user,
            chat=form_card["chat_id"],
            message_id=form_card["message_id"],
            value=value,
            form_value=values,
        )
        assert delivery.status == 200, delivery
        return delivery.body

    def action_for_bob(self, task: str, *, user: str = ALICE, parent_id: str | None = None) -> None:
        """`@coordbot 行动项 @李雷 <task>` in the group (as a reply to `parent_id`, when given)."""
        delivery = self.feishu.message(
            f"@_user_1 行动项 @_user_2 {task}",
            user=user,
            chat=CHAT,
            mentions=[self.feishu.bot_mention(), ("@_user_2", BOB, "李雷")],
            parent_id=parent_id,
        )
        assert delivery.status == 200, delivery

    def press(self, card: dict[str, Any], user: str, does: str, **detail: str) -> None:
        """Press the button of a card whose callback value does `does` (with `detail` in it, when given)."""
        value = next(
            v
            for v in button_values(self.fake.message(card["message_id"])["content"])
            if v.get("do") == does and all(v.get(k) == x for k, x in detail.items())
        )
        delivery = self.feishu.card_action(user=user, chat=card["chat_id"], message_id=card["message_id"], value=value)
        assert delivery.status == 200, delivery


def nodes(node: Any) -> Iterator[dict[str, Any]]:
    """Every object in a card, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from nodes(value)
    elif isinstance(node, list):
        for item in node:
            yield from nodes(item)


def button_values(node: Any) -> Iterator[dict[str, Any]]:
    """Every callback value of a card's buttons."""
    for found in nodes(node):
        for behaviour in found.get("behaviors") or []:
            if behaviour.get("type") == "callback":
                yield behaviour["value"]


def pickers(content: dict[str, Any]) -> dict[str, list[str]]:
    """A form's person pickers by name, each with the open_ids it offers (empty: the chat's members)."""
    return {
        node["name"]: [o["value"] for o in node.get("options") or []]
        for node in nodes(content)
        if node.get("tag") in ("select_person", "multi_select_person") and node.get("name")
    }


def submit_value(content: Any) -> dict[str, Any]:
    """The callback value of a form card's submit button."""
    return next(v for v in button_values(content) if "form" in v)


@pytest.fixture
def feishu_bot(database_url: str, clock: FixedClock) -> Iterator[FeishuBot]:
    """Slack and Feishu served by one process over one database, Feishu's callbacks at /feishu/events."""
    with FakeSlack() as slack, FakeFeishu() as fake:
        for open_id, name in ((ALICE, "韩梅梅"), (BOB, "李雷"), (CAROL, "Carol")):
            fake.add_user(open_id, name)
        fake.add_chat(CHAT, "产品组", [ALICE, BOB, CAROL])
        settings = Settings(
            bot_token=slack.bot_token,
            signing_secret=SIGNING_SECRET,
            database_url=database_url,
            slack_api_url=slack.api_url,
            inbox_poll=0.02,
            tz="Asia/Shanghai",
            lang="en",
            work_hours="00:00-23:59",
            work_days="mon-sun",
            feishu_app_id=fake.app_id,
            feishu_app_secret=fake.app_secret,
            feishu_verification_token=TOKEN,
            feishu_encrypt_key=ENCRYPT_KEY,
            feishu_domain=fake.url,
        )
        with served(settings, clock) as (runtime, server):
            driver = FeishuDriver(server.url, verification_token=TOKEN, encrypt_key=ENCRYPT_KEY, fake=fake)
            yield FeishuBot(runtime, fake, slack, driver, clock, server)


@contextmanager
def served(settings: Settings, clock: FixedClock) -> Iterator[tuple[Runtime, Server]]:
    """The runtime of `settings` served over HTTP, Feishu's callbacks at /feishu/events, a worker running."""
    runtime = build_runtime(settings, clock=clock, client=make_client(settings))
    serving = build_serving(runtime, claim=True)
    assert runtime.feishu is not None
    server = Server(
        serving.app,
        signing_secret=SIGNING_SECRET,
        host="127.0.0.1",
        port=0,
        routes={EVENTS_PATH: runtime.feishu.callbacks(wake=serving.worker.wake)},
    ).start_background()
    try:
        yield runtime, server
    finally:
        server.shutdown(wait=False)
        serving.worker.stop()
        runtime.engine.dispose()


def sheet_values(**overrides: Any) -> dict[str, Any]:
    """A filled-in requirement form, as Feishu sends its form_value."""
    values: dict[str, Any] = {
        requirement_cards.Names.REQUESTER_DEPT: "产品部",
        requirement_cards.Names.REQUESTER_OWNER: ALICE,
        requirement_cards.Names.RECEIVER_DEPT: "研发部",
        requirement_cards.Names.RECEIVER_OWNER: BOB,
        requirement_cards.Names.BACKGROUND: "客户要求导出报表",
        requirement_cards.Names.GOAL: "月底前上线报表导出",
        requirement_cards.Names.DESCRIPTION: "支持 CSV 和 Excel",
        requirement_cards.Names.PRIORITY: "high",
        requirement_cards.Names.DUE: "下周五下午3点前",
        requirement_cards.Names.CONFIRM_BY: "明天下午6点",
    }
    values.update(overrides)
    return {str(k): v for k, v in values.items()}


def test_the_requirement_sheet_from_form_card_to_two_signatures(feishu_bot: FeishuBot) -> None:
    """需求 → the form in a direct chat → the sheet card in the group → 确认 and a ✅ reaction sign it → locked."""
    bot = feishu_bot
    bot.said("需求")
    form = wait_until(lambda: next(iter(bot.cards_in(to=ALICE)), None), what="the form in Alice's direct chat")
    assert submit_value(form["content"]) == {"form": "requirement", "chat": CHAT}

    # a form whose record is gone is refused at once, in words
    gone = bot.feishu.card_action(
        user=ALICE,
        chat=form["chat_id"],
        message_id=form["message_id"],
        value={"form": "minutes", "meeting": 999},
        form_value={"decisions": "x"},
    )
    assert gone.status == 200 and gone.body["toast"]["type"] == "error", gone
    # a form with a mistake is answered at once with what is wrong, and nothing is stored
    answer = bot.submit(form, ALICE, sheet_values(confirm_by="去年"))
    assert answer["toast"]["type"] == "error"
    assert bot.runtime.services.requirements.awaiting(WS, ALICE) == []

    answer = bot.submit(form, ALICE, sheet_values())
    assert answer["toast"]["type"] == "success", answer
    sheet = bot.card_with("RW-2026-001", chat=CHAT)
    req = wait_until(
        lambda: (r := bot.runtime.services.requirements.by_code(WS, "RW-2026-001")).message_ts and r,
        what="the card remembered",
    )
    assert req.message_ts == sheet["message_id"] and req.channel_id == CHAT
    assert req.requester_owner == ALICE and req.receiver_owner == BOB
    assert "<at id=ou_alice></at>" in bot.texts(sheet) and "<at id=ou_bob></at>" in bot.texts(sheet)

    # Carol is no owner: her 确认 signs nothing, and she is told so in her direct chat
    bot.press(sheet, CAROL, requirement_cards.DO_SIGN)
    bot.card_with("Only the two owners of RW-2026-001", to=CAROL)
    assert bot.runtime.services.requirements.get(req.id).status == Status.AWAITING

    bot.press(sheet, BOB, requirement_cards.DO_SIGN)
    wait_until(lambda: len(bot.runtime.services.requirements.get(req.id).signatures) == 1, what="Bob's signature")
    assert bot.feishu.react("DONE", user=ALICE, message_id=sheet["message_id"]).status == 200
    wait_until(lambda: bot.runtime.services.requirements.get(req.id).status == Status.CONFIRMED, what="confirmed")
    signed = bot.runtime.services.requirements.get(req.id)
    assert {(s.user_id, s.via) for s in signed.signatures} == {(BOB, "button"), (ALICE, "reaction")}
    # the card shows it in place, and the group is told it is locked
    wait_until(lambda: len(bot.fake.message(sheet["message_id"])["versions"]) >= 3, what="the card updated")
    bot.card_with("RW-2026-001 is confirmed", chat=CHAT)


def test_a_redelivered_event_is_run_once_and_an_unsigned_one_is_refused(feishu_bot: FeishuBot) -> None:
    """Feishu redelivers by event_id even after success; a body that does not verify gets 401 and nothing runs."""
    bot = feishu_bot
    envelope = bot.feishu.message_event(
        "@_user_1 行动项 @_user_2 提交预算方案 下周五前",
        user=ALICE,
        chat=CHAT,
        mentions=[bot.feishu.bot_mention(), ("@_user_2", BOB, "李雷")],
    )
    assert bot.feishu.post(envelope).status == 200
    assert bot.feishu.post(envelope).status == 200  # the same event_id again
    bot.card_with("ACT-2026-001", chat=CHAT)
    forged = bot.feishu.message_event("@_user_1 行动项 @_user_2 伪造 明天", user=ALICE, chat=CHAT)
    assert bot.feishu.post(forged, tamper=True).status == 401
    assert bot.feishu.post(forged, sign=False).status == 401
    old = bot.feishu.message_event("@_user_1 行动项 @_user_2 旧的 明天", user=ALICE, chat=CHAT)
    assert bot.feishu.post(old, timestamp=1_600_000_000).status == 401
    wait_until(lambda: not bot.runtime.services.inbox.status().oldest_waiting, what="the inbox worked off")
    posted = [m for m in bot.cards_in(chat=CHAT) if "ACT-2026-00" in bot.texts(m)]
    assert len(posted) == 1, [bot.texts(m) for m in posted]
    with pytest.raises(NotFound):
        bot.runtime.services.actions.by_code(WS, "ACT-2026-002")


def test_an_action_item_in_one_chinese_line_then_done_by_its_owner(feishu_bot: FeishuBot) -> None:
    """`@coordbot 行动项 @李雷 提交预算方案 下周五前`: owner, task and due read from the line; Done closes it."""
    bot = feishu_bot
    bot.action_for_bob("提交预算方案 下周五前")
    card = bot.card_with("ACT-2026-001", chat=CHAT)
    item = bot.runtime.services.actions.by_code(WS, "ACT-2026-001")
    assert (item.owner_id, item.title, item.channel_id) == (BOB, "提交预算方案", CHAT)
    # Thursday 2026-11-26 in Shanghai: 下周五 is Friday 2026-12-04, by the end of the working day
    assert item.due.astimezone(bot.runtime.settings.zone).date().isoformat() == "2026-12-04"
    bot.press(card, BOB, action_cards.DO_DONE)
    wait_until(lambda: bot.runtime.services.actions.get(item.id).status == ActionStatus.DONE, what="done")
    wait_until(lambda: len(bot.fake.message(card["message_id"])["versions"]) >= 2, what="the card updated")


def test_a_one_liner_typed_as_a_reply_makes_the_item_from_that_message(feishu_bot: FeishuBot) -> None:
    """Feishu's stand-in for Slack's message shortcut: reply to a message with `@coordbot 行动项 @李雷 下周五前`
    and the item's title is that message, which its card quotes with a link to the group."""
    bot = feishu_bot
    said = bot.fake.add_user_message(CHAT, CAROL, "客户要的导出功能需要有人跟进 <b>")
    bot.action_for_bob("下周五前", parent_id=said["message_id"])
    card = bot.card_with("ACT-2026-001", chat=CHAT)
    item = bot.runtime.services.actions.by_code(WS, "ACT-2026-001")
    assert (item.owner_id, item.title) == (BOB, "客户要的导出功能需要有人跟进 <b>")
    assert f"openChatId={CHAT}" in item.context and item.title in item.context
    quoted = next(line for line in bot.texts(card).splitlines() if "openChatId" in line)
    assert "客户要的导出功能需要有人跟进 &#60;b&#62;" in quoted  # typed markup quoted as text, not markup
    # a one-liner with its own title keeps it; the message it answers is still its context
    bot.action_for_bob("写导出的设计 下周五前", parent_id=said["message_id"])
    bot.card_with("ACT-2026-002", chat=CHAT)
    second = bot.runtime.services.actions.by_code(WS, "ACT-2026-002")
    assert second.title == "写导出的设计" and "客户要的导出功能" in second.context


def test_a_check_mark_closes_an_item_and_taking_it_off_restores_the_status_before(feishu_bot: FeishuBot) -> None:
    """The same rule as on Slack: ✅ from the owner marks done; taking it off brings back "in progress", not "open";
    a ✅ from anyone else is just a reaction."""
    bot = feishu_bot
    bot.action_for_bob("提交预算方案 下周五前")
    card = bot.card_with("ACT-2026-001", chat=CHAT)
    actions = bot.runtime.services.actions
    item = actions.by_code(WS, "ACT-2026-001")
    bot.press(card, BOB, action_cards.DO_START)
    wait_until(lambda: actions.get(item.id).status == ActionStatus.IN_PROGRESS, what="started")
    assert bot.feishu.react("DONE", user=CAROL, message_id=card["message_id"]).status == 200
    assert bot.feishu.react("DONE", user=BOB, message_id=card["message_id"]).status == 200
    wait_until(lambda: actions.get(item.id).status == ActionStatus.DONE, what="done by the owner's ✅")
    assert [e.actor_id for e in actions.get(item.id, with_history=True).history if e.action == "status_changed"] == [
        BOB,
        BOB,
    ]
    assert bot.feishu.react("DONE", user=BOB, message_id=card["message_id"], removed=True).status == 200
    wait_until(lambda: actions.get(item.id).status == ActionStatus.IN_PROGRESS, what="back in progress")


def test_reminders_reach_each_owner_by_direct_message_in_their_language(feishu_bot: FeishuBot) -> None:
    """Bob chose Chinese (语言 中文); Alice did not: the sign reminders before the deadline speak to each in theirs."""
    bot = feishu_bot
    bot.feishu.dm("语言 中文", user=BOB)
    bot.card_with("以后我用中文", to=BOB)
    bot.said("需求")
    form = wait_until(lambda: next(iter(bot.cards_in(to=ALICE)), None), what="the form")
    bot.submit(form, ALICE, sheet_values(confirm_by="tomorrow 6pm", due="next Friday 3pm"))
    bot.card_with("RW-2026-001", chat=CHAT)
    before = {who: len(bot.cards_in(to=who)) for who in (ALICE, BOB)}
    report = bot.runtime.tick(bot.clock.advance(timedelta(days=1, hours=3)))
    assert report.sent >= 2, report
    bob_new = bot.cards_in(to=BOB)[before[BOB] :]
    alice_new = bot.cards_in(to=ALICE)[before[ALICE] :]
    shown = [bot.texts(m) for m in bob_new]
    assert any("RW-2026-001" in text and "签字" in text for text in shown), shown
    assert any("RW-2026-001" in bot.texts(m) and "sign" in bot.texts(m).lower() for m in alice_new)


def test_an_incident_gets_a_group_chat_a_pinned_card_and_its_pins_on_the_timeline(feishu_bot: FeishuBot) -> None:
    """`事故 SEV2 …` declares: a group chat with the declarer, the summary card pinned there; a message pinned by a
    person is on the timeline when `事故 解决 …` resolves it in that chat."""
    bot = feishu_bot
    bot.said("事故 SEV2 支付接口超时", user=CAROL)
    info = wait_until(lambda: bot.runtime.services.incidents.by_code(WS, "INC-2026-001"), what="the incident")
    wait_until(lambda: bot.runtime.services.incidents.get(info.id).summary_ts, what="the summary card posted")
    info = bot.runtime.services.incidents.get(info.id)
    chat = bot.fake.chats[info.channel_id]
    assert CAROL in chat["members"] and info.severity.value == "SEV2" and info.commander_id == CAROL
    assert any(p["message_id"] == info.summary_ts for p in bot.fake.pins)
    bot.card_with("INC-2026-001", chat=CHAT)  # said where it was declared too
    # the commander pulls Bob in: a responder, and a member of the chat
    bot.feishu.message(
        "@_user_1 事故 拉人 @_user_2",
        user=CAROL,
        chat=info.channel_id,
        mentions=[bot.feishu.bot_mention(), ("@_user_2", BOB, "李雷")],
    )
    wait_until(lambda: BOB in bot.fake.chats[info.channel_id]["members"], what="Bob in the incident chat")
    wait_until(lambda: BOB in bot.runtime.services.incidents.get(info.id).responders, what="Bob a responder")
    # a responder's finding, pinned in the incident chat by a person
    finding = bot.fake.add_user_message(info.channel_id, CAROL, "根因：连接池耗尽，已扩容")
    bot.fake.pin_by(CAROL, finding["message_id"])
    bot.said("事故 解决 已扩容连接池，支付恢复", user=CAROL, chat=info.channel_id)
    wait_until(lambda: bot.runtime.services.incidents.get(info.id).status == IncidentStatus.RESOLVED, what="resolved")
    timeline = bot.runtime.services.incidents.get(info.id, with_timeline=True).timeline
    assert any("连接池耗尽" in (item.text or "") for item in timeline), [item.text for item in timeline]
    summary = str(info.summary_ts)
    wait_until(lambda: len(bot.fake.message(summary)["versions"]) >= 2, what="the card shows it resolved")


def test_buttons_on_an_incidents_card_are_news_in_its_chat_by_the_core_rules(feishu_bot: FeishuBot) -> None:
    """Acknowledge and a status button on the pinned card do what Slack's do (the same core rules): each is a
    line in the incident's chat; pressed again, the presser alone hears that nothing
    changed; someone who is not on the incident may not move it."""
    bot = feishu_bot
    incidents = bot.runtime.services.incidents
    bot.said("事故")  # the form, in the group: Alice declares, Carol commands
    names = incident_cards.Names
    form = wait_until(
        lambda: next((m for m in bot.cards_in(to=ALICE) if names.FORM in json.dumps(m["content"])), None),
        what="the incident form",
    )
    answer = bot.submit(form, ALICE, {names.TITLE: "支付接口超时", names.SEVERITY: "SEV2", names.COMMANDER: CAROL})
    assert answer["toast"]["type"] == "success", answer
    info = wait_until(lambda: incidents.by_code(WS, "INC-2026-001"), what="the incident")
    summary = wait_until(lambda: incidents.get(info.id).summary_ts, what="the summary card posted")
    chat = str(incidents.get(info.id).channel_id)
    card = {"message_id": summary, "chat_id": chat}
    bot.press(card, CAROL, incident_cards.DO_ACK)
    bot.card_with(f"<at id={CAROL}></at> acknowledged INC-2026-001", chat=chat)
    wait_until(lambda: incidents.get(info.id).acknowledged_at, what="acknowledged")
    bot.press(card, CAROL, incident_cards.DO_STATUS, status=IncidentStatus.IDENTIFIED.value)
    moved = bot.texts(bot.card_with("Investigating → ", chat=chat))
    assert "INC-2026-001" in moved and "🎯 Identified" in moved and f"<at id={CAROL}></at>" in moved
    wait_until(lambda: incidents.get(info.id).status == IncidentStatus.IDENTIFIED, what="identified")
    wait_until(lambda: len(bot.fake.message(summary)["versions"]) >= 3, what="the card shows both changes")
    again = {"do": incident_cards.DO_STATUS, "id": info.id, "status": IncidentStatus.IDENTIFIED.value}
    bot.feishu.card_action(user=CAROL, chat=chat, message_id=summary, value=again)  # a second click, as it was
    unchanged = {
        t(lang, "incident.reply.unchanged", code="INC-2026-001", status=t(lang, "incident.status.identified"))
        for lang in ("en", "zh")
    }
    wait_until(
        lambda: any(told in bot.texts(m) for m in bot.cards_in(to=CAROL) for told in unchanged),
        what="Carol told it is identified already",
    )
    bot.press(card, ALICE, incident_cards.DO_STATUS, status=IncidentStatus.MONITORING.value)
    bot.card_with("INC-2026-001", to=ALICE)  # why not: she is not on the incident
    assert incidents.get(info.id).status == IncidentStatus.IDENTIFIED
    in_chat = [m for m in bot.cards_in(chat=chat) if "→" in bot.texts(m)]
    assert len(in_chat) == 1  # neither the repeat nor the refusal was news


def test_a_meeting_then_its_minutes_with_an_action_item_in_chinese(feishu_bot: FeishuBot) -> None:
    """会议 → form → meeting card; its 纪要 button → minutes form; the action line becomes an item with its card."""
    bot = feishu_bot
    bot.said("会议")
    form = wait_until(lambda: next(iter(bot.cards_in(to=ALICE)), None), what="the meeting form")
    answer = bot.submit(
        form,
        ALICE,
        {
            meeting_cards.Names.TITLE: "周例会",
            meeting_cards.Names.GOAL: "确定下周的优先级",
            meeting_cards.Names.START: "下周一上午10点",
            meeting_cards.Names.DURATION: "60",
            meeting_cards.Names.PARTICIPANTS: [BOB, CAROL],
            meeting_cards.Names.AGENDA: "进度回顾 — @韩梅梅 — 20 min\n风险 — @李雷 — 10 min",
        },
    )
    assert answer["toast"]["type"] == "success", answer
    card = bot.card_with("MTG-2026-001", chat=CHAT)
    bot.press(card, ALICE, meeting_cards.DO_MINUTES)
    minutes_form = bot.card_with("MTG-2026-001", to=ALICE)
    answer = bot.submit(
        minutes_form,
        ALICE,
        {meeting_cards.Names.DECISIONS: "先做导出", meeting_cards.Names.ACTION_ITEMS: "@李雷 提交预算方案 下周五前"},
    )
    assert answer["toast"]["type"] == "success", answer
    bot.card_with("ACT-2026-001", chat=CHAT)
    item = bot.runtime.services.actions.by_code(WS, "ACT-2026-001")
    assert (item.owner_id, item.source_type) == (BOB, "meeting")
    # a ✅ on the minutes card acknowledges them, as on Slack; taking it off withdraws
    meetings = bot.runtime.services.meetings
    info = meetings.by_code(WS, "MTG-2026-001")
    minutes = wait_until(lambda: meetings.get(info.id).minutes_ts, what="the minutes card linked")
    bot.feishu.react("DONE", user=CAROL, message_id=minutes)
    wait_until(lambda: CAROL in dict(meetings.get(info.id).acks), what="Carol's acknowledgment")
    wait_until(lambda: len(bot.fake.message(minutes)["versions"]) >= 2, what="the minutes card shows it")
    bot.feishu.react("DONE", user=CAROL, message_id=minutes, removed=True)
    wait_until(lambda: CAROL not in dict(meetings.get(info.id).acks), what="withdrawn")


def test_the_weekly_digest_of_a_group(feishu_bot: FeishuBot) -> None:
    """周报 subscribes the group and shows this week's; Monday 09:00 the outbox posts the next one."""
    bot = feishu_bot
    bot.action_for_bob("提交预算方案 下周五前")
    bot.card_with("ACT-2026-001", chat=CHAT)
    before = len(bot.cards_in(chat=CHAT))
    bot.said("周报")
    wait_until(lambda: len(bot.cards_in(chat=CHAT)) >= before + 2, what="the note and this week's digest")
    digest = bot.cards_in(chat=CHAT)[-1]
    assert "ACT-2026-001" in json.dumps(digest["content"], ensure_ascii=False)
    assert bot.runtime.services.digests.subscription(WS, CHAT) is not None
    shown = len(bot.cards_in(chat=CHAT))
    report = bot.runtime.tick(bot.clock.advance(timedelta(days=4)))  # Monday 2026-11-30 14:00 in Shanghai
    assert report.sent >= 1, report
    weekly = bot.cards_in(chat=CHAT)[shown:]
    assert any("ACT-2026-001" in json.dumps(m["content"], ensure_ascii=False) for m in weekly), weekly


def test_the_same_process_still_answers_slack(feishu_bot: FeishuBot) -> None:
    """A Feishu tenant beside a Slack workspace: Slack's rows still run through Bolt, with Slack's token, and
    each platform's records keep their own numbering."""
    from handlers.sandbox.driver import SlackDriver
    from handlers.sandbox.slack_api.workspace import ALICE as SLACK_ALICE
    from handlers.sandbox.slack_api.workspace import GENERAL

    bot = feishu_bot
    bot.runtime.directory.load()
    slack = SlackDriver(bot.server.url + "/slack/events", SIGNING_SECRET, bot.slack)
    bot.action_for_bob("提交预算方案 下周五前")
    reply = slack.slash("/action", "<@U_BOB|bob> write the launch post by next Friday 3pm", user=SLACK_ALICE)
    assert reply.status == 200
    bot.slack.wait_for("chat.postMessage", 1)
    bot.card_with("ACT-2026-001", chat=CHAT)
    slack_item = wait_until(lambda: bot.runtime.services.actions.by_code(bot.slack.team_id, "ACT-2026-001"), what="x")
    feishu_item = bot.runtime.services.actions.by_code(WS, "ACT-2026-001")
    assert (slack_item.channel_id, slack_item.owner_id) == (GENERAL, "U_BOB")
    assert (feishu_item.channel_id, feishu_item.owner_id) == (CHAT, BOB)


def test_a_person_chooses_language_and_timezone_feishu_does_not_give(feishu_bot: FeishuBot) -> None:
    """`时区 …` and the settings card: dates typed by that person are read, and shown to them, in their zone."""
    bot = feishu_bot
    bot.feishu.dm("时区 Mars/Olympus", user=BOB)
    bot.card_with("Mars/Olympus", to=BOB)  # told it is no timezone, nothing stored
    assert bot.runtime.services.prefs.user_tz(WS, BOB) is None
    bot.feishu.dm("设置", user=BOB)
    settings = bot.card_with("Timezone", to=BOB)
    answer = bot.submit(settings, BOB, {"lang": "zh", "tz": "America/New_York"})
    assert answer["toast"]["type"] == "success", answer
    bot.card_with("已保存", to=BOB)  # confirmed in the language just chosen
    assert bot.runtime.services.prefs.user_tz(WS, BOB) == "America/New_York"
    assert bot.runtime.services.prefs.user_lang(WS, BOB) == "zh"
    # Bob's "tomorrow 5pm" is 5 pm in New York
    bot.feishu.message(
        "@_user_1 行动项 @_user_2 review the deck tomorrow 5pm",
        user=BOB,
        chat=CHAT,
        mentions=[bot.feishu.bot_mention(), ("@_user_2", ALICE, "韩梅梅")],
    )
    bot.card_with("ACT-2026-001", chat=CHAT)
    item = bot.runtime.services.actions.by_code(WS, "ACT-2026-001")
    local = item.due.astimezone(ZoneInfo("America/New_York"))
    assert (local.day, local.hour) == (27, 17), local  # Thursday 01:00 in New York when typed: Friday the 27th


def test_a_button_pressed_before_its_card_was_linked_links_the_card_and_updates_it(feishu_bot: FeishuBot) -> None:
    """A quick click can arrive before the request that posted the card has stored which message it is: the
    pressed card, in the item's own group, is the item's, and is linked and updated."""
    from bot.services.actions import ActionDraft

    bot = feishu_bot
    services = bot.runtime.services
    (item,) = services.actions.create_many(
        team_id=WS,
        creator_id=ALICE,
        drafts=[ActionDraft(title="提交预算方案", owner_id=BOB, due=bot.clock() + timedelta(days=3))],
        now=bot.clock(),
        channel_id=CHAT,
    )
    assert bot.runtime.feishu is not None
    sent = bot.runtime.feishu.api.send_card(chat_id=CHAT, card=action_cards.action_card("zh", item, tz="Asia/Shanghai"))
    assert services.actions.get(item.id).message_ts is None  # posted, not linked yet
    card = bot.fake.message(sent.message_id)
    bot.press(card, BOB, action_cards.DO_DONE)
    wait_until(lambda: services.actions.get(item.id).message_ts == sent.message_id, what="the card linked")
    wait_until(lambda: len(bot.fake.message(sent.message_id)["versions"]) >= 2, what="the card updated")
    assert services.actions.get(item.id).status == ActionStatus.DONE


def form_defaults(content: dict[str, Any]) -> dict[str, Any]:
    """What a form sends when submitted as shown: each input's default, each picker's initial choice."""
    values: dict[str, Any] = {}
    for node in nodes(content):
        name, tag = node.get("name"), node.get("tag")
        if tag == "input" and name and node.get("default_value"):
            values[name] = node["default_value"]
        elif tag == "select_person" and name and node.get("initial_option"):
            values[name] = node["initial_option"]
        elif tag == "multi_select_person" and name and node.get("selected_values"):
            values[name] = list(node["selected_values"])
    return values


def test_the_review_reminders_button_opens_the_review_meeting_filled_in(feishu_bot: FeishuBot) -> None:
    """A resolved SEV1 with no review meeting reminds its commander; the reminder's button gives the meeting form
    filled in for the review (team, time, agenda), and the meeting it schedules is that incident's review."""
    from handlers.feishu.cards import incident as incident_cards

    bot = feishu_bot
    incidents = bot.runtime.services.incidents
    bot.said("事故 SEV1 支付接口超时", user=CAROL)
    info = wait_until(lambda: incidents.by_code(WS, "INC-2026-001"), what="the incident")
    chat = wait_until(lambda: incidents.get(info.id).channel_id, what="its group chat")
    bot.said("事故 解决 已扩容连接池", user=CAROL, chat=chat)
    wait_until(lambda: incidents.get(info.id).status == IncidentStatus.RESOLVED, what="resolved")
    bot.runtime.tick(bot.clock.advance(timedelta(days=8)))
    reminder = wait_until(
        lambda: next(
            (
                m
                for m in bot.cards_in(to=CAROL)
                if {"do": incident_cards.DO_REVIEW_MEETING, "id": info.id} in button_values(m["content"])
            ),
            None,
        ),
        what="the review reminder",
    )
    bot.press(reminder, CAROL, incident_cards.DO_REVIEW_MEETING)
    form = wait_until(
        lambda: next((m for m in bot.cards_in(to=CAROL) if submit_value_or_none(m) == "meeting"), None),
        what="the review meeting's form",
    )
    values = form_defaults(form["content"])
    assert "INC-2026-001" in values[meeting_cards.Names.TITLE] and values[meeting_cards.Names.HOST] == CAROL
    assert CAROL in values[meeting_cards.Names.PARTICIPANTS] and values[meeting_cards.Names.AGENDA]
    answer = bot.submit(form, CAROL, values)
    assert answer["toast"]["type"] == "success", answer
    meeting = wait_until(lambda: bot.runtime.services.meetings.by_code(WS, "MTG-2026-001"), what="the meeting")
    assert meeting.incident_id == info.id and meeting.channel_id == chat
    assert wait_until(lambda: incidents.get(info.id).review_meeting_code, what="the review named") == meeting.code
    summary = str(incidents.get(info.id).summary_ts)
    wait_until(lambda: "MTG-2026-001" in bot.texts({"message_id": summary}), what="the incident card names it")


def submit_value_or_none(message: dict[str, Any]) -> str | None:
    """The "form" a card's submit button sends, if it has one."""
    found = next((v for v in button_values(message["content"]) if "form" in v), None)
    return str(found["form"]) if found else None
