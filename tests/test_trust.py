"""Nobody acts or reads where they should not: who may sign, change and record; signed requests; no secrets in logs.

Already covered elsewhere, and not repeated here:
- only owners sign: test_requirement_flow (a stranger's ✅, a stranger's Confirm), test_requirement_service;
- only owners or creators change an item: test_actions (the service, someone else's click),
  test_action_capture (Blocked by a stranger), test_home (Done from a stranger's home);
- only the host or participants write minutes: test_meetings (the button and /meeting minutes, a stranger's ✅
  on the minutes), test_home (Record minutes from a stranger's home);
- a bad signature, a 10-minute-old timestamp and missing headers get 401: test_http.
What follows are the forged submissions and events those do not try, the 5-minute window's edges, and logs.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import Settings
from handlers.blocks.actions import Ids as ActionIds
from handlers.blocks.meeting import Ids as MeetingIds
from handlers.blocks.requirement import Ids as SheetIds
from handlers.sandbox.driver import SlackDriver
from handlers.sandbox.slack_api import ALICE, BOB, BOT, CAROL, DAVE, GENERAL, FakeSlack
from storage.models import Signature
from tests.conftest import SIGNING_SECRET, Bot
from tests.helpers import SHEET_VALUES, block_text, create_sheet, record, schedule, settle, wait_until

pytestmark = pytest.mark.both_modes  # every flow here also runs split into serving process and worker

ROOT = Path(__file__).resolve().parent.parent
BOT_TOKEN = "xoxb-1234567890-0987654321-NoOneShouldReadThisToken"
APP_TOKEN = "xapp-1-A0001-1234567890-NoOneShouldReadThisAppToken"
SECRETS = (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    """The fake Web API, answering only this module's recognizable bot token."""
    with FakeSlack(bot_token=BOT_TOKEN) as server:
        yield server
    assert not server.validation_errors, server.validation_errors


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The usual settings, with an app-level token too, so that it could leak as well."""
    return dataclasses.replace(settings, app_token=APP_TOKEN)


def dms(bot: Bot, user: str) -> list[str]:
    """Texts the bot sent a user directly."""
    return [c.params.get("text") or "" for c in bot.fake.calls("chat.postMessage") if c.params["channel"] == user]


def signatures(bot: Bot) -> list[tuple[str, str]]:
    """(role, user) of every stored signature."""
    with bot.runtime.services.session_scope() as s:
        return [(sig.role, sig.user_id) for sig in s.query(Signature).all()]


# -- forged submissions and events -------------------------------------------------------------------------------


def test_minutes_submitted_by_someone_who_was_not_there_record_nothing(bot: Bot) -> None:
    card = schedule(bot)  # Alice hosts; Bob and Dave take part
    bot.slack.click(MeetingIds.RECORD_MINUTES, user=BOB, message=card)
    bot.fake.wait_for("views.open")
    # Carol submits the form Bob opened (a payload Slack would never send for her)
    assert (
        bot.slack.submit_view(
            {"decisions": "Cancel the launch"}, user=CAROL, callback_id=MeetingIds.MINUTES_MODAL
        ).status
        == 200
    )
    assert wait_until(lambda: dms(bot, CAROL), what="the refusal") == [
        "Only the host or a participant of MTG-2026-001 can record its minutes."
    ]
    assert bot.runtime.services.meetings.get(1).minutes_at is None
    assert not [c for c in bot.fake.calls("chat.postMessage") if c.params.get("thread_ts") == card["ts"]]


def test_an_item_changes_only_for_its_owner_or_creator_however_it_is_asked(bot: Bot) -> None:
    bot.slack.slash("/action", "<@U_BOB|bob> write the launch post by next Friday", user=CAROL)
    card = wait_until(lambda: [m for m in bot.fake.messages(GENERAL) if "ACT-" in block_text(m)], what="card")[0]
    wait_until(lambda: bot.runtime.services.actions.get(1).message_ts == card["ts"], what="card attached")
    # a stranger's ✅ on the card
    bot.slack.react("white_check_mark", channel=GENERAL, ts=card["ts"], user=DAVE)
    wait_until(lambda: bot.fake.calls("chat.postEphemeral"), what="the refusal")
    # a Blocked form opened by the owner, submitted by a stranger
    bot.slack.click(ActionIds.BLOCKED, user=BOB, message=card)
    bot.fake.wait_for("views.open")
    bot.slack.submit_view({ActionIds.REASON: "Sabotage"}, user=DAVE, callback_id=ActionIds.BLOCKED_MODAL)
    wait_until(lambda: dms(bot, DAVE), what="the second refusal")
    item = bot.runtime.services.actions.get(1, with_history=True)
    assert (item.status, item.blocked_reason) == ("open", None)
    assert [h.action for h in item.history] == ["created"]


def test_only_owners_sign_and_a_removed_check_mark_withdraws_only_its_owners_signature(bot: Bot) -> None:
    message = create_sheet(bot)  # Alice requests, Bob receives
    bot.slack.react("white_check_mark", channel=GENERAL, ts=message["ts"], user=BOB)
    wait_until(lambda: signatures(bot) == [("receiver", BOB)], what="Bob's signature")
    bot.slack.react("white_check_mark", channel=GENERAL, ts=message["ts"], user=CAROL)
    wait_until(lambda: bot.fake.calls("chat.postEphemeral"), what="Carol told she does not sign")
    bot.slack.react("white_check_mark", channel=GENERAL, ts=message["ts"], user=CAROL, removed=True)
    bot.slack.react("white_check_mark", channel=GENERAL, ts=message["ts"], user=ALICE, removed=True)
    time.sleep(0.5)  # removals are handled after their acknowledgment and answer nothing
    assert signatures(bot) == [("receiver", BOB)]
    assert [h.action for h in bot.runtime.services.requirements.get(1, with_history=True).history] == [
        "created",
        "signed",
    ]


def test_an_edit_submitted_by_someone_else_changes_nothing(bot: Bot) -> None:
    message = create_sheet(bot)
    bot.slack.click(SheetIds.EDIT, user=ALICE, message=message)
    bot.fake.wait_for("views.open", 2)
    bot.slack.submit_view({**SHEET_VALUES, "goal": "Sign-ups +90%"}, user=DAVE)  # the form Alice opened
    assert wait_until(lambda: dms(bot, DAVE), what="the refusal")[0].startswith("只有")  # Dave reads Chinese
    row = record(bot)
    assert (row.revision, row.goal) == (1, SHEET_VALUES["goal"])


# -- signed requests ------------------------------------------------------------------------------------------


def reaction_body(user: str, channel: str, ts: str, name: str = "white_check_mark") -> str:
    """A reaction_added event as Slack sends it."""
    return json.dumps(
        {
            "token": "verification-token-test",
            "team_id": "T0001",
            "api_app_id": "A0001",
            "type": "event_callback",
            "event": {
                "type": "reaction_added",
                "user": user,
                "reaction": name,
                "event_ts": f"{time.time():.6f}",
                "item": {"type": "message", "channel": channel, "ts": ts},
                "item_user": BOT,
            },
            "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": "T0001",
                    "user_id": BOT,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
        }
    )


def test_only_requests_signed_in_the_last_five_minutes_are_heard(bot: Bot) -> None:
    help_body = (
        "command=%2Frequirement&text=help&user_id=U_CAROL&channel_id=C_GENERAL&team_id=T0001"
        "&trigger_id=1.2.3&api_app_id=A0001"
    )
    form = "application/x-www-form-urlencoded"
    now = int(time.time())
    assert bot.slack.post(help_body, form, timestamp=now - 4 * 60).status == 200
    assert bot.slack.post(help_body, form, timestamp=now - 6 * 60).status == 401
    assert bot.slack.post(help_body, form, timestamp=now + 6 * 60).status == 401  # nor from the future
    other = SlackDriver(bot.slack.endpoint_url, "another-apps-secret", bot.fake)
    assert other.post(help_body, form).status == 401

    message = create_sheet(bot)
    # Bob's ✅, signed 10 minutes ago and replayed now; then Carol's harmless ✅ with Bob's put in its place
    stale = reaction_body(BOB, GENERAL, message["ts"])
    assert bot.slack.post(stale, "application/json", timestamp=now - 600).status == 401
    harmless, forged = reaction_body(CAROL, GENERAL, message["ts"]), reaction_body(BOB, GENERAL, message["ts"])
    signature = bot.slack.headers_for(harmless, timestamp=now)["X-Slack-Signature"]
    assert bot.slack.post(forged, "application/json", timestamp=now, signature=signature).status == 401
    time.sleep(0.3)
    assert signatures(bot) == [] and bot.fake.calls("chat.update") == []
    # the same event, properly signed, does sign: the refusals above were about the signature alone
    assert bot.slack.post(forged, "application/json").status == 200
    wait_until(lambda: signatures(bot) == [("receiver", BOB)], what="Bob's signature")


# -- secrets never logged ---------------------------------------------------------------------------------------


def leaks(records: list[logging.LogRecord]) -> list[str]:
    """Every logged text (message, arguments, traceback) that holds a secret."""
    found = []
    formatter = logging.Formatter()
    for r in records:
        text = r.getMessage() + repr(r.args) + (r.exc_text or "") + (r.stack_info or "")
        if r.exc_info:
            text += formatter.formatException(r.exc_info)
        found += [f"{r.name}: {text[:200]}" for secret in SECRETS if secret in text]
    return found


def test_a_whole_flow_at_debug_logs_no_token_or_secret(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("bot", "handlers", "storage", "slack_bolt", "slack_sdk", "urllib3"):
        caplog.set_level(logging.DEBUG, logger=name)
    message = create_sheet(bot)
    for user in (ALICE, BOB):
        bot.slack.react("white_check_mark", channel=GENERAL, ts=message["ts"], user=user)
    wait_until(lambda: len(signatures(bot)) == 2, what="both signatures")
    for text in ("list", "RW-2026-001", "RW-2026-404"):
        bot.slack.slash("/requirement", text, user=CAROL)
    bot.slack.click(
        "record_history", user=CAROL, message=bot.fake.message(GENERAL, message["ts"]), value="requirement:1"
    )
    bot.slack.app_home_opened(BOB)
    bot.slack.slash("/action", "<@U_BOB|bob> write the launch post by next Friday", user=CAROL)
    bot.slack.slash("/digest", "now", user=CAROL)
    bot.fake.wait_for("views.publish")
    bot.fake.wait_for("response_url", 5)
    settle(bot)  # the digest is posted before the next post is made to fail
    bot.fake.fail("chat.postMessage", error="fatal_error")  # an unexpected failure, logged with its traceback
    bot.slack.slash("/action", "<@U_DAVE|dave> book the venue by tomorrow", user=CAROL)
    # the failure is the command's, before a tick's post could take it
    wait_until(lambda: any(r.levelno == logging.ERROR for r in caplog.records), what="the logged failure")
    bot.slack.post("command=%2Frequirement", "application/x-www-form-urlencoded", signature="v0=" + "0" * 64)
    bot.runtime.tick(bot.clock() + timedelta(days=10))  # reminders and overdue notices
    assert any(r.name.startswith("slack_sdk") and r.levelno == logging.DEBUG for r in caplog.records)
    assert any(r.name == "slack_bolt" and r.levelno == logging.DEBUG for r in caplog.records)
    assert leaks(caplog.records) == []


@pytest.mark.processes
def test_the_logging_setup_redacts_whatever_a_library_would_log() -> None:
    script = "\n".join(
        [
            "import logging",
            "from bot.cli import _logging",
            "_logging('DEBUG')",
            "log = logging.getLogger('slack_sdk.web.base_client')",
            f"log.debug('headers: %s', {{'Authorization': 'Bearer {BOT_TOKEN}'}})",
            f"log.debug('app token {APP_TOKEN}')",
            f"logging.getLogger('bot').info('secret: %s', '{SIGNING_SECRET}')",
            "log.debug('POST https://hooks.slack.com/commands/T0001/123/AbCdEfSecretPart')",
            "log.debug('connecting to wss://wss-primary.slack.com/link/?ticket=0a1b2c-secret&app_id=A0001')",
            "try:",
            f"    raise RuntimeError('refused for {BOT_TOKEN}')",
            "except RuntimeError:",
            "    logging.getLogger('handlers.serving.replies').exception('unhandled error (ref abc)')",
        ]
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "COORDBOT_"))}
    env["SLACK_SIGNING_SECRET"] = SIGNING_SECRET
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    logged = out.stderr + out.stdout
    for secret in (*SECRETS, "AbCdEfSecretPart", "0a1b2c-secret"):
        assert secret not in logged
    assert logged.count("[redacted]") == 6, logged
    assert "hooks.slack.com/[redacted]" in logged and "RuntimeError: refused for [redacted]" in logged
