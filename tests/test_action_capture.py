"""Quick capture of action items: /action in one line, the form, the message shortcut, statuses, escalation."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from handlers.blocks.actions import Ids
from handlers.sandbox.slack_api import ALICE, BOB, CAROL, DAVE, GENERAL
from tests.conftest import Bot
from tests.helpers import block_text, schedule, wait_until

SHANGHAI = ZoneInfo("Asia/Shanghai")


def cards(bot: Bot) -> list[dict[str, Any]]:
    """Action-item cards posted in #general."""
    return [m for m in bot.fake.messages(GENERAL) if "ACT-" in block_text(m)]


def buttons(message: dict[str, Any]) -> list[str]:
    """The action_ids of a message's buttons."""
    return [
        e["action_id"]
        for b in message.get("blocks") or []
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "button"
    ]


def test_one_line_in_english_creates_and_posts_the_item(bot: Bot) -> None:
    reply = bot.slack.slash("/action", "<@U_BOB|bob> write the launch post by next Friday 3pm", user=ALICE)
    assert reply.status == 200 and reply.acked_in_time
    card = wait_until(lambda: cards(bot), what="card")[0]
    text = block_text(card)
    assert "*ACT-2026-001* · write the launch post" in text and "<@U_BOB>" in text
    item = bot.runtime.services.actions.get(1)
    assert item.due == datetime(2026, 12, 4, 15, 0, tzinfo=SHANGHAI)  # read in Alice's timezone
    assert (item.owner_id, item.creator_id, item.channel_id) == (BOB, ALICE, GENERAL)
    assert buttons(card) == [Ids.ACCEPT, Ids.BLOCKED, Ids.DONE]


def test_one_line_in_chinese(bot: Bot) -> None:
    bot.slack.slash("/action", "<@U_DAVE|dave> 提交预算方案 下周五前", user=ALICE)
    wait_until(lambda: cards(bot), what="card")
    item = bot.runtime.services.actions.get(1)
    assert (item.title, item.owner_id) == ("提交预算方案", DAVE)
    assert item.due == datetime(2026, 12, 4, 18, 0, tzinfo=SHANGHAI)


def test_an_unreadable_due_opens_the_form_prefilled_instead_of_guessing(bot: Bot) -> None:
    assert bot.slack.slash("/action", "<@U_BOB|bob> review the deck when possible", user=CAROL).status == 200
    view = bot.fake.wait_for("views.open")[0].params["view"]
    assert view["callback_id"] == Ids.MODAL
    values = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert values["what"]["initial_value"] == "review the deck when possible"
    assert values["owner"]["initial_user"] == BOB
    said = bot.fake.wait_for("response_url")[0].params
    assert said["response_type"] == "ephemeral" and "couldn't read a due date" in said["text"]
    assert cards(bot) == []


def test_no_owner_opens_the_form(bot: Bot) -> None:
    bot.slack.slash("/action", "提交预算方案 下周五前", user=CAROL)
    bot.fake.wait_for("views.open")
    assert "请指定负责人" in bot.fake.wait_for("response_url")[0].params["text"]  # answered in the line's language


def test_the_form_with_a_meeting_as_source(bot: Bot) -> None:
    schedule(bot, host=DAVE)
    bot.slack.slash("/action", "", user=ALICE)
    bot.fake.wait_for("views.open", 2)
    bot.slack.type_in("due", "下周一上午10点", user=ALICE)
    echo = bot.fake.wait_for("views.update")[0].params["view"]
    assert any(b.get("block_id") == "due_echo" and "→ <!date^" in b["elements"][0]["text"] for b in echo["blocks"])
    reply = bot.slack.submit_view(
        {"what": "Book the venue", "owner": BOB, "due": "下周一上午10点", "source": "mtg-2026-001"},
        user=ALICE,
        callback_id=Ids.MODAL,
    )
    assert reply.status == 200 and reply.json() is None, reply.body
    wait_until(lambda: cards(bot), what="card")
    item = bot.runtime.services.actions.get(1)
    assert (item.source_type, item.source_code, item.escalate_to) == ("meeting", "MTG-2026-001", DAVE)


def test_form_field_errors(bot: Bot) -> None:
    bot.slack.slash("/action", "", user=CAROL)
    bot.fake.wait_for("views.open")
    reply = bot.slack.submit_view(
        {"what": "X", "owner": BOB, "due": "yesterday", "source": "ABC"}, user=CAROL, callback_id=Ids.MODAL
    )
    assert (reply.json() or {}).get("errors") == {
        "due": "This time has already passed.",
        "source": "There is no requirement or meeting ABC.",
    }


def test_message_shortcut_keeps_the_message_as_context(bot: Bot) -> None:
    message = bot.fake.add_message(GENERAL, "Can someone fix the signup bug before the demo?", user=CAROL)
    assert bot.slack.shortcut(Ids.SHORTCUT, user=ALICE, message=message).status == 200
    view = bot.fake.wait_for("views.open")[0].params["view"]
    what = next(b for b in view["blocks"] if b.get("block_id") == "what")
    assert what["element"]["initial_value"] == "Can someone fix the signup bug before the demo?"
    bot.slack.submit_view({"owner": DAVE, "due": "tomorrow 5pm"}, user=ALICE, callback_id=Ids.MODAL)
    card = wait_until(lambda: cards(bot), what="card")[0]
    item = bot.runtime.services.actions.get(1)
    assert item.context.startswith("https://coordbot-test.slack.com/archives/C_GENERAL/p")
    assert "the original message" in block_text(card)


def test_blocked_asks_for_a_reason_and_tells_the_creator(bot: Bot) -> None:
    bot.slack.slash("/action", "<@U_BOB|bob> write the launch post by next Friday", user=CAROL)
    card = wait_until(lambda: cards(bot), what="card")[0]
    bot.slack.click(Ids.BLOCKED, user=DAVE, message=card)  # not the owner, not the creator
    assert bot.fake.wait_for("response_url")[0].params["text"].startswith("只有该行动项的负责人或创建人")  # Dave: zh
    bot.slack.click(Ids.BLOCKED, user=BOB, message=card)
    view = bot.fake.wait_for("views.open")[0].params["view"]
    assert view["callback_id"] == Ids.BLOCKED_MODAL
    reply = bot.slack.submit_view({}, user=BOB, callback_id=Ids.BLOCKED_MODAL, enforce_required=False)
    assert (reply.json() or {}).get("errors") == {Ids.REASON: "This field is required."}
    bot.slack.submit_view({Ids.REASON: "Waiting for legal <!here>"}, user=BOB, callback_id=Ids.BLOCKED_MODAL)
    notice = wait_until(
        lambda: [c for c in bot.fake.calls("chat.postMessage") if c.params["channel"] == CAROL], what="creator told"
    )[0]
    assert "Waiting for legal &lt;!here&gt;" in notice.params["text"]
    shown = wait_until(
        lambda: "Blocked: Waiting for legal" in block_text(cards(bot)[0]) and cards(bot)[0],
        what="card shows the reason",
    )
    assert buttons(shown) == [Ids.IN_PROGRESS, Ids.DONE]
    bot.slack.click(Ids.IN_PROGRESS, user=BOB, message=shown)
    wait_until(lambda: bot.runtime.services.actions.get(1).status == "in_progress", what="unblocked")


def test_owner_marks_done_with_a_reaction_on_the_channel_card(bot: Bot) -> None:
    bot.slack.slash("/action", "<@U_BOB|bob> write the launch post by next Friday", user=CAROL)
    card = wait_until(lambda: cards(bot), what="card")[0]
    wait_until(lambda: bot.runtime.services.actions.get(1).message_ts == card["ts"], what="card attached")
    bot.slack.react("white_check_mark", channel=GENERAL, ts=card["ts"], user=BOB)
    wait_until(lambda: bot.runtime.services.actions.get(1).status == "done", what="done")


def test_an_item_overdue_two_working_days_is_escalated_once(bot: Bot) -> None:
    bot.slack.slash("/action", "<@U_BOB|bob> write the launch post by next Friday", user=CAROL)
    wait_until(lambda: cards(bot), what="card")
    item = bot.runtime.services.actions.get(1)
    bot.runtime.tick(item.due + timedelta(days=1))
    assert not any("Needs attention" in (c.params.get("text") or "") for c in bot.fake.calls("chat.postMessage"))
    bot.runtime.tick(item.due + timedelta(days=2, minutes=1))
    escalations = [c for c in bot.fake.calls("chat.postMessage") if "Needs attention" in (c.params.get("text") or "")]
    assert [c.params["channel"] for c in escalations] == [CAROL]
    assert bot.runtime.services.actions.get(1).escalated_at is not None
    assert bot.runtime.tick(item.due + timedelta(days=9)).sent == 0
