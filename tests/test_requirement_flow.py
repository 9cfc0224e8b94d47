"""The requirement flow end to end: real Bolt app over HTTP, signed requests, fake Slack API."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handlers.blocks.requirement import FIELDS, Ids
from handlers.sandbox.slack_api import ALICE, BOB, CAROL, DAVE, GENERAL
from tests.conftest import Bot
from tests.helpers import block_text, create_sheet, history_actions, open_modal, record, wait_until

pytestmark = pytest.mark.both_modes  # every flow here also runs split into serving process and worker


def test_command_opens_modal_with_every_field(bot: Bot) -> None:
    view = open_modal(bot)
    assert view["callback_id"] == Ids.MODAL
    block_ids = [b.get("block_id") for b in view["blocks"] if b["type"] == "input"]
    assert block_ids == list(FIELDS)
    owner = next(b for b in view["blocks"] if b.get("block_id") == "requester_owner")
    assert owner["element"]["initial_user"] == ALICE
    channel = next(b for b in view["blocks"] if b.get("block_id") == "channel")
    assert channel["element"]["initial_conversation"] == GENERAL


def test_submission_posts_sheet_with_id_fields_and_buttons(bot: Bot) -> None:
    message = create_sheet(bot)
    text = block_text(message)
    assert "RW-2026-001" in text
    for value in ("Marketing", "Engineering", "Q1 campaign needs a landing page.", "Sign-ups +20% by March."):
        assert value in text
    assert f"<@{ALICE}>" in message["text"] and f"<@{BOB}>" in message["text"]  # both owners are notified
    assert "Awaiting signatures" in text
    actions = [e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert actions == [Ids.CONFIRM, Ids.REQUEST_CHANGES, Ids.EDIT, "record_history"]
    row = record(bot)
    assert row.status == "awaiting" and row.message_ts == message["ts"] and row.channel_id == GENERAL
    # confirm_by defaults to "in 24 hours", read when the form is submitted
    assert row.confirm_by == bot.clock() + timedelta(hours=24)


def test_both_owners_sign_by_reaction_and_the_record_locks(bot: Bot) -> None:
    message = create_sheet(bot)
    ts = message["ts"]
    assert bot.slack.react("white_check_mark", channel=GENERAL, ts=ts, user=ALICE).status == 200
    bot.fake.wait_for("chat.update", 1)
    assert "has not signed yet" in block_text(bot.fake.message(GENERAL, ts) or {})
    assert record(bot).status == "awaiting"
    assert bot.slack.react("white_check_mark", channel=GENERAL, ts=ts, user=BOB).status == 200
    bot.fake.wait_for("chat.update", 2)
    updated = bot.fake.message(GENERAL, ts) or {}
    text = block_text(updated)
    assert "Confirmed" in text and "has not signed yet" not in text
    assert text.count("signed") >= 2
    assert not [
        b
        for b in updated["blocks"]
        if b["type"] == "actions" and any(e["action_id"] == Ids.CONFIRM for e in b["elements"])
    ]
    row = record(bot)
    assert row.status == "confirmed" and row.confirmed_at is not None
    thread = wait_until(
        lambda: [c for c in bot.fake.calls("chat.postMessage") if c.params.get("thread_ts") == ts],
        what="confirmation note in thread",
    )
    assert "confirmed" in thread[0].params["text"]
    assert history_actions(bot, row.id or 0) == ["created", "signed", "signed", "confirmed"]
    # locked: removing a reaction afterwards changes nothing
    bot.slack.react("white_check_mark", channel=GENERAL, ts=ts, user=ALICE, removed=True)
    bot.slack.react("white_check_mark", channel=GENERAL, ts=ts, user=CAROL)
    wait_until(lambda: bot.fake.calls("chat.postEphemeral"), what="refusal to carol")
    assert record(bot).status == "confirmed"
    assert len(bot.fake.calls("chat.update")) == 2


def test_reaction_by_non_owner_changes_nothing_and_is_told(bot: Bot) -> None:
    message = create_sheet(bot)
    bot.slack.react("white_check_mark", channel=GENERAL, ts=message["ts"], user=CAROL)
    call = bot.fake.wait_for("chat.postEphemeral")[0]
    assert call.params["user"] == CAROL and "Only the two owners" in call.params["text"]
    assert bot.fake.calls("chat.update") == []
    assert history_actions(bot, record(bot).id or 0) == ["created"]


def test_other_reactions_and_other_messages_are_ignored(bot: Bot) -> None:
    message = create_sheet(bot)
    bot.slack.react("tada", channel=GENERAL, ts=message["ts"], user=ALICE)
    other = bot.fake.add_message(GENERAL, "lunch?")
    bot.slack.react("white_check_mark", channel=GENERAL, ts=other["ts"], user=ALICE)
    bot.slack.react("white_check_mark", channel=GENERAL, ts=message["ts"], user=BOB)
    bot.fake.wait_for("chat.update", 1)
    assert history_actions(bot, record(bot).id or 0) == ["created", "signed"]


def test_removing_the_reaction_before_both_signed_withdraws(bot: Bot) -> None:
    message = create_sheet(bot)
    ts = message["ts"]
    bot.slack.react("white_check_mark", channel=GENERAL, ts=ts, user=BOB)
    bot.fake.wait_for("chat.update", 1)
    assert block_text(bot.fake.message(GENERAL, ts) or {}).count("has not signed yet") == 1
    bot.slack.react("white_check_mark", channel=GENERAL, ts=ts, user=BOB, removed=True)
    bot.fake.wait_for("chat.update", 2)
    text = block_text(bot.fake.message(GENERAL, ts) or {})
    assert text.count("has not signed yet") == 2
    row = record(bot)
    assert row.status == "awaiting"
    assert history_actions(bot, row.id or 0) == ["created", "signed", "withdrawn"]


def test_confirm_button_signs_and_double_click_is_harmless(bot: Bot) -> None:
    message = create_sheet(bot)
    assert bot.slack.click(Ids.CONFIRM, user=BOB, message=message).status == 200
    bot.fake.wait_for("chat.update", 1)
    assert bot.slack.click(Ids.CONFIRM, user=BOB, message=message).status == 200
    reply = bot.fake.wait_for("response_url", 1)[0]
    assert "already signed" in reply.params["text"]
    assert history_actions(bot, record(bot).id or 0) == ["created", "signed"]
    bot.slack.click(Ids.CONFIRM, user=ALICE, message=message)
    wait_until(lambda: record(bot).status == "confirmed", what="confirmation")


def test_confirm_button_by_someone_else_is_refused(bot: Bot) -> None:
    message = create_sheet(bot)
    assert bot.slack.click(Ids.CONFIRM, user=DAVE, message=message).status == 200
    reply = bot.fake.wait_for("response_url", 1)[0]
    assert reply.params["text"] == "只有 RW-2026-001 的双方负责人可以签字。"  # Dave's Slack locale is zh-CN
    assert reply.params.get("response_type") == "ephemeral"
    assert history_actions(bot, record(bot).id or 0) == ["created"]


def test_one_person_owning_both_sides_confirms_with_one_signature(bot: Bot) -> None:
    message = create_sheet(bot, receiver_owner=ALICE)
    bot.slack.react("white_check_mark", channel=GENERAL, ts=message["ts"], user=ALICE)
    wait_until(lambda: record(bot).status == "confirmed", what="confirmation")


def test_user_text_is_escaped_in_the_sheet(bot: Bot) -> None:
    message = create_sheet(bot, background="<!channel> ping & <@U_CAROL> <https://evil.example|click>")
    text = block_text(message)
    assert "&lt;!channel&gt; ping &amp; &lt;@U_CAROL&gt; &lt;https://evil.example|click&gt;" in text
    assert "<!channel>" not in text and "<https://evil" not in text


def test_ids_increase_per_record(bot: Bot) -> None:
    create_sheet(bot)
    second = create_sheet(bot)
    assert "RW-2026-002" in block_text(second)


def test_history_is_one_click_away_on_the_sheet(bot: Bot) -> None:
    message = create_sheet(bot)
    bot.slack.react("white_check_mark", channel=GENERAL, ts=message["ts"], user=BOB)
    bot.fake.wait_for("chat.update")
    stored = bot.fake.message(GENERAL, message["ts"]) or {}
    assert bot.slack.click("record_history", user=CAROL, message=stored, value="requirement:1").status == 200
    reply = bot.fake.wait_for("response_url")[0].params
    text = block_text(reply)
    assert reply["response_type"] == "ephemeral" and "History of RW-2026-001" in text
    assert "<@U_ALICE> created revision 1" in text and "<@U_BOB> signed revision 1" in text
