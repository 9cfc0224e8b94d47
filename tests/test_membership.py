"""The bot is a member where records live: Slack sends it reactions only from conversations it is in.

In the fake, as in a new workspace, the bot starts in no channel; the driver delivers a reaction only from a
conversation the bot is a member of.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.membership import POST_AGAIN
from handlers.sandbox.driver import NOT_DELIVERED
from handlers.sandbox.slack_api import ALICE, BOB, BOT, CAROL, DAVE, GENERAL, FakeSlack
from handlers.serving.intake import order_key
from tests.conftest import Bot
from tests.helpers import (
    SHEET_VALUES,
    create_sheet,
    declare,
    open_modal,
    record,
    record_minutes,
    schedule,
    wait_until,
)
from tests.processes import ROOT

pytestmark = pytest.mark.both_modes

SECRET = "G_SECRET"  # a private channel the bot has not been invited to


@pytest.fixture(autouse=True)
def private_channel(fake: FakeSlack) -> None:
    fake.set_channel(SECRET, name="secret", members=[ALICE, BOB, CAROL], is_private=True)


def joins(bot: Bot, channel: str = GENERAL) -> int:
    return len([c for c in bot.fake.calls("conversations.join") if c.params.get("channel") == channel])


def dms(bot: Bot, user: str) -> list[dict[str, Any]]:
    return [c.params for c in bot.fake.calls("chat.postMessage") if c.params["channel"] == user]


# -- the fake tells the truth -------------------------------------------------------------------------------


def test_the_fake_bot_starts_in_no_channel_and_reactions_reach_it_only_where_it_is(fake: FakeSlack) -> None:
    client = WebClient(token=fake.bot_token, base_url=fake.api_url)

    def error(method: str, **params: Any) -> str:
        with pytest.raises(SlackApiError) as caught:
            client.api_call(method, json=params)
        return str(caught.value.response["error"])

    assert not fake.bot_is_member(GENERAL) and not client.conversations_info(channel=GENERAL)["channel"]["is_member"]
    assert client.chat_postMessage(channel=GENERAL, text="a public channel takes it without joining")["ok"]
    assert error("chat.postMessage", channel=SECRET, text="x") == "channel_not_found"
    assert error("conversations.join", channel=SECRET) == "channel_not_found"
    assert client.conversations_join(channel=GENERAL)["ok"] and fake.bot_is_member(GENERAL)
    assert BOT in client.conversations_members(channel=GENERAL)["members"]
    fake.invite_bot(SECRET)
    assert error("conversations.join", channel=SECRET) == "method_not_supported_for_channel_type"
    assert client.chat_postMessage(channel=SECRET, text="invited")["ok"]


def test_a_reaction_where_the_bot_is_not_a_member_is_not_delivered(bot: Bot) -> None:
    ts = WebClient(token=bot.fake.bot_token, base_url=bot.fake.api_url).chat_postMessage(
        channel=GENERAL, text="posted without joining"
    )["ts"]
    assert bot.slack.react("white_check_mark", channel=GENERAL, ts=ts, user=ALICE).status == NOT_DELIVERED
    bot.fake.invite_bot(GENERAL)
    assert bot.slack.react("white_check_mark", channel=GENERAL, ts=ts, user=ALICE).status == 200


# -- joining before posting, for every record people answer with reactions ------------------------------------


def test_a_sheet_joins_its_public_channel_first_and_both_owners_sign_by_reaction(bot: Bot) -> None:
    message = create_sheet(bot)
    join = bot.fake.calls("conversations.join")
    post = [c for c in bot.fake.calls("chat.postMessage") if c.params["channel"] == GENERAL]
    assert len(join) == 1 and join[0].at <= post[0].at
    create_sheet(bot, goal="A second sheet in the same channel")
    assert joins(bot) == 1  # joined once, remembered
    for user in (ALICE, BOB):
        assert bot.slack.react("white_check_mark", channel=GENERAL, ts=message["ts"], user=user).status == 200
    wait_until(lambda: record(bot).status == "confirmed", what="confirmed by reactions")


def test_a_meeting_card_joins_and_its_minutes_are_acknowledged_by_reaction(bot: Bot) -> None:
    card = schedule(bot)
    assert joins(bot) == 1
    assert record_minutes(bot, card, user=BOB, decisions="Ship it").status == 200
    thread = wait_until(
        lambda: [c for c in bot.fake.calls("chat.postMessage") if c.params.get("thread_ts") == card["ts"]],
        what="minutes",
    )[0]
    reply = bot.slack.react("white_check_mark", channel=GENERAL, ts=thread.response["ts"], user=DAVE)
    assert reply.status == 200
    wait_until(lambda: DAVE in bot.runtime.services.meetings.get(1).acked_by, what="acknowledged by ✅")


def test_an_action_item_joins_its_channel_and_is_done_by_reaction(bot: Bot) -> None:
    assert bot.slack.slash("/action", f"<@{BOB}|bob> send the budget by 2026-12-10").status == 200
    item = wait_until(lambda: bot.runtime.services.actions.by_code("T0001", "ACT-2026-001"), what="item")
    item = wait_until(lambda: (i := bot.runtime.services.actions.get(item.id)).message_ts and i, what="posted")
    assert joins(bot) == 1
    assert bot.slack.react("white_check_mark", channel=GENERAL, ts=item.message_ts, user=BOB).status == 200
    wait_until(lambda: bot.runtime.services.actions.get(item.id).status == "done", what="done by ✅")


def test_an_incident_announcement_joins_the_channel_it_is_announced_in(bot: Bot) -> None:
    info = declare(bot)  # announced where it was declared (no incidents channel is set here)
    assert info.declared_in == GENERAL and joins(bot) == 1 and bot.fake.bot_is_member(GENERAL)
    assert bot.fake.bot_is_member(info.channel_id)  # its own channel: the bot created it
    assert bot.slack.react("pushpin", channel=info.channel_id, ts=info.summary_ts or "", user=BOB).status == 200


# -- private channels -----------------------------------------------------------------------------------------


def test_the_form_refuses_a_private_channel_the_bot_is_not_in(bot: Bot) -> None:
    open_modal(bot, channel=SECRET)  # /requirement typed in the private channel: the form proposes it
    reply = bot.slack.submit_view(SHEET_VALUES)
    errors = (reply.json() or {}).get("errors") or {}
    assert "/invite @coordbot" in errors.get("channel", ""), reply.body
    assert not bot.fake.calls("chat.postMessage") and not bot.fake.calls("conversations.join")
    bot.fake.invite_bot(SECRET)  # and the form is sent again at once: the refusal is not remembered
    message = create_sheet(bot, channel=SECRET)
    assert message["channel"] == SECRET and not bot.fake.calls("conversations.join")


def test_a_typed_action_in_a_private_channel_waits_and_is_posted_again_once_invited(bot: Bot) -> None:
    assert bot.slack.slash("/action", f"<@{BOB}|bob> send the budget by 2026-12-10", channel=SECRET).status == 200
    note = wait_until(
        lambda: [d for d in dms(bot, ALICE) if POST_AGAIN in json.dumps(d.get("blocks"))], what="the author told"
    )[0]
    assert "/invite @coordbot" in note["text"] and "ACT-2026-001" in note["text"]
    item = bot.runtime.services.actions.by_code("T0001", "ACT-2026-001")
    assert item.message_ts is None and item.channel_id == SECRET  # kept, unposted
    stored = next(m for m in bot.fake.messages() if m.get("text") == note["text"])
    bot.slack.click(POST_AGAIN, user=ALICE, message=stored)  # not invited yet
    # Alice reads Chinese: "我仍不在 #secret 中。请先在频道里输入 /invite @coordbot。"
    wait_until(
        lambda: any(
            "/invite @coordbot" in (c.params.get("text") or "") and c.params.get("response_type") == "ephemeral"
            for c in bot.fake.calls("response_url")
        ),
        what="still not invited",
    )
    bot.fake.invite_bot(SECRET)
    bot.slack.click(POST_AGAIN, user=ALICE, message=stored)
    wait_until(lambda: bot.runtime.services.actions.get(item.id).message_ts, what="posted once invited")
    assert [c for c in bot.fake.calls("chat.postMessage") if c.params["channel"] == SECRET]
    assert bot.slack.click(POST_AGAIN, user=CAROL, message=stored).status == 200  # not hers: refused
    wait_until(
        lambda: (
            bot.fake.calls("chat.postEphemeral")
            or [c for c in bot.fake.calls("response_url") if "not allowed" in json.dumps(c.params)]
        ),
        what="Carol refused",
    )


# -- leaving ------------------------------------------------------------------------------------------------------


@pytest.mark.processes
def test_removing_the_bot_is_noticed_owners_are_told_and_status_lists_the_records(bot: Bot) -> None:
    create_sheet(bot)
    bot.fake.remove_bot(GENERAL)
    assert (
        bot.slack.event(
            {"type": "member_left_channel", "user": BOT, "channel": GENERAL, "channel_type": "C", "team": "T0001"}
        ).status
        == 200
    )
    for owner in (ALICE, BOB):
        wait_until(
            lambda o=owner: any("RW-2026-001" in d["text"] and "/invite @coordbot" in d["text"] for d in dms(bot, o)),
            what=f"{owner} told",
        )
    status = _status(bot)
    assert GENERAL in status and "RW-2026-001" in status
    # a second notice of the same removal tells nobody again
    told = len(dms(bot, ALICE))
    bot.slack.event({"type": "channel_left", "channel": GENERAL, "actor_id": CAROL})
    bot.fake.invite_bot(GENERAL)
    bot.slack.event(
        {"type": "member_joined_channel", "user": BOT, "channel": GENERAL, "channel_type": "C", "team": "T0001"}
    )
    wait_until(lambda: GENERAL not in _status(bot), what="back in the channel")
    assert len(dms(bot, ALICE)) == told


def test_who_left_or_joined_a_channel_is_worked_on_in_the_order_it_arrived() -> None:
    left = {"type": "event_callback", "event": {"type": "channel_left", "channel": GENERAL, "actor_id": CAROL}}
    joined = {"type": "event_callback", "event": {"type": "member_joined_channel", "user": BOT, "channel": GENERAL}}
    assert order_key(left) == order_key(joined) == f"chan:{GENERAL}"
    assert order_key({"type": "event_callback", "event": {"type": "app_home_opened", "channel": "D1"}}) is None
    assert order_key({"type": "event_callback", "event": {"type": ["channel_left"], "channel": GENERAL}}) is None


def _status(bot: Bot) -> str:
    env = {**os.environ, "DATABASE_URL": bot.runtime.settings.database_url, "SLACK_BOT_TOKEN": "xoxb-unused"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "status"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split("channels the bot was removed from")[1]
