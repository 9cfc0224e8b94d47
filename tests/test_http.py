"""The HTTP endpoint: signatures, health, timing under a slow Web API, and the error handler."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest

from handlers.sandbox.slack_api import ALICE, GENERAL
from tests.conftest import Bot
from tests.helpers import SHEET_VALUES, open_modal, record, wait_until

pytestmark = pytest.mark.both_modes  # a thread per connection, and the serving process's event loop


def get(url: str) -> tuple[int, str]:
    """GET a URL and return status and body."""
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_bad_signature_is_rejected_with_401(bot: Bot) -> None:
    body = urlencode(
        {
            "command": "/requirement",
            "text": "",
            "user_id": ALICE,
            "channel_id": GENERAL,
            "team_id": "T0001",
            "trigger_id": "1.2.3",
        }
    )
    reply = bot.slack.post(body, "application/x-www-form-urlencoded", signature="v0=" + "0" * 64)
    assert reply.status == 401
    assert bot.fake.calls("views.open") == []


def test_stale_timestamp_is_rejected_with_401(bot: Bot) -> None:
    body = urlencode({"command": "/requirement", "text": "", "user_id": ALICE, "channel_id": GENERAL})
    reply = bot.slack.post(body, "application/x-www-form-urlencoded", timestamp=int(time.time()) - 600)
    assert reply.status == 401


def test_missing_signature_headers_are_rejected(bot: Bot) -> None:
    req = urllib.request.Request(bot.server.url + "/slack/events", data=b"command=%2Frequirement", method="POST")
    try:
        status = urllib.request.urlopen(req, timeout=5).status
    except urllib.error.HTTPError as exc:
        status = exc.code
    assert status == 401


def test_healthz_and_unknown_paths(bot: Bot) -> None:
    assert get(bot.server.url + "/healthz") == (200, json.dumps({"ok": True}))
    assert get(bot.server.url + "/nope")[0] == 404


def test_url_verification_answers_the_challenge(bot: Bot) -> None:
    reply = bot.slack.url_verification("abc123")
    assert reply.status == 200 and "abc123" in reply.body


@pytest.mark.sqlite_only  # what is timed is the answer before slow Web API calls: the same on either database
def test_acknowledgments_stay_fast_when_the_web_api_is_slow(bot: Bot) -> None:
    bot.fake.set_delay(2.0)
    reply = bot.slack.slash("/requirement", "", user=ALICE)
    assert reply.acked_in_time and reply.elapsed < 1.0, reply.elapsed
    bot.fake.wait_for("views.open", timeout=10)
    reply = bot.slack.submit_view(SHEET_VALUES, user=ALICE)
    assert reply.acked_in_time and reply.elapsed < 1.0, reply.elapsed
    bot.fake.wait_for("chat.postMessage", timeout=10)
    reply = bot.slack.slash("/requirement", "list", user=ALICE)
    assert reply.acked_in_time and reply.elapsed < 1.0
    bot.fake.set_delay(0)  # the calls still waiting need not hold up the teardown


def test_unexpected_failure_gets_an_apology_with_a_reference(bot: Bot) -> None:
    open_modal(bot)
    bot.fake.fail("chat.postMessage", error="fatal_error", times=1)
    reply = bot.slack.submit_view(SHEET_VALUES, user=ALICE)
    assert reply.status == 200
    dm = wait_until(
        lambda: [
            c
            for c in bot.fake.calls("chat.postMessage")
            if c.params["channel"] == ALICE and c.response and c.response.get("ok")
        ],
        what="apology",
    )[0]
    assert "处理时出错了" in dm.params["text"] and "编号" in dm.params["text"]
    ref = dm.params["text"].split("编号 ")[1].rstrip("。")
    assert len(ref) == 8
    assert record(bot).message_ts is None  # stored, but the post failed; the record can still be viewed


def test_a_channel_the_bot_left_after_the_form_was_checked_keeps_the_sheet_for_later(bot: Bot) -> None:
    bot.fake.set_channel("G_SECRET", name="secret", is_private=True, bot_is_member=True)
    open_modal(bot, channel="G_SECRET")  # the form learns that the bot is in the channel it proposes
    wait_until(
        lambda: [c for c in bot.fake.calls("conversations.info") if c.params.get("channel") == "G_SECRET"],
        what="the channel looked up",
    )
    bot.fake.remove_bot("G_SECRET")  # and then the bot is removed, before the submission is worked on
    assert bot.slack.submit_view(SHEET_VALUES, user=ALICE).json() is None
    dm = wait_until(
        lambda: [
            c
            for c in bot.fake.calls("chat.postMessage")
            if c.params["channel"] == ALICE and c.response and c.response.get("ok")
        ],
        what="not-in-channel notice",
    )[0]
    assert "<#G_SECRET>" in dm.params["text"] and "RW-2026-001" in dm.params["text"]
    assert "record_post_again" in json.dumps(dm.params["blocks"])
    assert record(bot).message_ts is None  # kept, to be posted once the bot is invited again


def test_signed_garbage_does_not_get_a_server_error(bot: Bot) -> None:
    for body, ctype in (
        ("payload=%7Bnot-json", "application/x-www-form-urlencoded"),
        ('{"type": "event_callback"}', "application/json"),
        ("payload=" + json.dumps({"type": "block_actions", "actions": []}), "application/x-www-form-urlencoded"),
    ):
        reply = bot.slack.post(body, ctype)
        assert reply.status < 500, (body, reply.status, reply.body)
    assert get(bot.server.url + "/healthz")[0] == 200
