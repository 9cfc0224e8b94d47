"""Reminders: due and not yet due, once across processes, caught up after downtime, stopped on confirmation."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import Runtime
from handlers.sandbox.slack_api import ALICE, BOB, CAROL, GENERAL
from tests.conftest import Bot
from tests.helpers import create_sheet, outbox_rows, record, wait_until

ROOT = Path(__file__).resolve().parent.parent


def dms(bot: Bot, user: str) -> list[str]:
    """Texts of direct messages the bot sent to a user."""
    return [
        c.params["text"]
        for c in bot.fake.calls("chat.postMessage")
        if c.params["channel"] == user and c.response and c.response.get("ok")
    ]


def test_sign_reminders_go_out_before_confirm_by_not_earlier(bot: Bot) -> None:
    create_sheet(bot)
    row = record(bot)
    before = row.confirm_by - timedelta(hours=2, minutes=1)
    assert bot.runtime.tick(before).sent == 0
    assert dms(bot, ALICE) == [] and dms(bot, BOB) == []
    report = bot.runtime.tick(row.confirm_by - timedelta(hours=2))
    assert report.sent == 2
    alice, bob = dms(bot, ALICE), dms(bot, BOB)
    assert len(alice) == 1 and len(bob) == 1
    assert "RW-2026-001" in bob[0] and "awaits your signature" in bob[0]
    assert "https://coordbot-test.slack.com/archives/C_GENERAL/p" in bob[0]
    assert "需要你在" in alice[0]  # each in the reader's language
    # the same reminder is never sent twice
    assert bot.runtime.tick(row.confirm_by - timedelta(minutes=30)).sent == 0


def test_reminder_goes_only_to_the_owner_who_has_not_signed(bot: Bot) -> None:
    message = create_sheet(bot)
    bot.slack.react("white_check_mark", channel=GENERAL, ts=message["ts"], user=ALICE)
    bot.fake.wait_for("chat.update")
    row = record(bot)
    bot.runtime.tick(row.confirm_by - timedelta(hours=1))
    assert dms(bot, ALICE) == [] and len(dms(bot, BOB)) == 1


def test_overdue_notice_once_to_both_owners(bot: Bot) -> None:
    message = create_sheet(bot)
    bot.slack.react("white_check_mark", channel=GENERAL, ts=message["ts"], user=ALICE)
    bot.fake.wait_for("chat.update")
    row = record(bot)
    bot.runtime.tick(row.confirm_by - timedelta(hours=1))
    report = bot.runtime.tick(row.confirm_by + timedelta(minutes=1))
    assert report.sent == 2
    bob = dms(bot, BOB)
    assert len(bob) == 2 and "was not signed by" in bob[1] and "<@U_BOB>" in bob[1]
    assert len(dms(bot, ALICE)) == 1
    assert bot.runtime.tick(row.confirm_by + timedelta(days=3)).sent == 0


def test_downtime_catch_up_sends_the_overdue_notice_not_a_stale_reminder(bot: Bot) -> None:
    create_sheet(bot)
    row = record(bot)
    report = bot.runtime.tick(row.confirm_by + timedelta(hours=5))  # the bot was down through both
    assert report.sent == 2 and report.skipped == 2
    assert ["未能在" in text for text in dms(bot, ALICE)] == [True]
    assert ["was not signed by" in text for text in dms(bot, BOB)] == [True]


def test_reminders_stop_once_confirmed(bot: Bot) -> None:
    message = create_sheet(bot)
    for user in (ALICE, BOB):
        bot.slack.react("white_check_mark", channel=GENERAL, ts=message["ts"], user=user)
    wait_until(lambda: record(bot).status == "confirmed", what="confirmation")
    row = record(bot)
    report = bot.runtime.tick(row.confirm_by + timedelta(days=1))
    assert report.sent == 0
    assert dms(bot, ALICE) == [] and dms(bot, BOB) == []
    assert {r.state for r in outbox_rows(bot.runtime)} == {"cancelled"}


def test_question_owner_is_reminded_until_answered(bot: Bot) -> None:
    message = create_sheet(bot, open_questions="Which API version? — @carol — 2026-11-28 12:00\nHosting?")
    bot.runtime.tick(bot.clock() + timedelta(days=1, hours=21))  # 2026-11-28 11:00 Shanghai
    carol = dms(bot, CAROL)
    assert len(carol) == 1 and "Which API version?" in carol[0] and "RW-2026-001" in carol[0]
    # the second question (Bob's, default 24 h) was due earlier and went out in the same pass
    assert any("Hosting?" in text for text in dms(bot, BOB))
    from handlers.blocks.requirement import Ids

    bot.slack.click(Ids.ANSWERED, user=BOB, message=bot.fake.message(GENERAL, message["ts"]))
    bot.fake.wait_for("chat.update")
    assert bot.runtime.tick(bot.clock() + timedelta(days=5)).sent == 0
    assert len(dms(bot, CAROL)) == 1


def test_answered_question_is_not_reminded(bot: Bot) -> None:
    message = create_sheet(bot, open_questions="Which API version? — @carol — 2026-11-28 12:00")
    from handlers.blocks.requirement import Ids

    bot.slack.click(Ids.ANSWERED, user=CAROL, message=message)
    bot.fake.wait_for("chat.update")
    bot.runtime.tick(bot.clock() + timedelta(days=3))
    assert dms(bot, CAROL) == []


def test_permanent_error_fails_the_row_with_its_reason(bot: Bot) -> None:
    create_sheet(bot)
    row = record(bot)
    bot.fake.fail("chat.postMessage", error="account_inactive", times=1)
    report = bot.runtime.tick(row.confirm_by - timedelta(hours=1))
    assert report.failed == 1 and report.sent == 1
    failed = [r for r in outbox_rows(bot.runtime) if r.state == "failed"]
    assert len(failed) == 1 and failed[0].last_error == "account_inactive"


def test_transient_error_is_retried_later(bot: Bot) -> None:
    create_sheet(bot)
    row = record(bot)
    when = row.confirm_by - timedelta(hours=1)
    bot.fake.fail("chat.postMessage", status=500, times=2)  # the client retries once, then gives up
    report = bot.runtime.tick(when)
    assert report.retried == 1 and report.sent == 1
    assert bot.runtime.tick(when).sent == 0  # not before the backoff
    assert bot.runtime.tick(when + timedelta(minutes=1)).sent == 1
    assert len(dms(bot, ALICE)) == 1 and len(dms(bot, BOB)) == 1


def test_rate_limit_waits_for_retry_after(bot: Bot) -> None:
    create_sheet(bot)
    row = record(bot)
    bot.fake.fail("chat.postMessage", status=429, retry_after=1, times=1)
    report = bot.runtime.tick(row.confirm_by - timedelta(hours=1))
    assert report.sent == 2  # the client waited Retry-After and tried again
    assert len(dms(bot, ALICE)) == 1 and len(dms(bot, BOB)) == 1


def test_concurrent_ticks_in_threads_send_each_reminder_once(bot: Bot) -> None:
    for _ in range(5):
        create_sheet(bot)
    from concurrent.futures import ThreadPoolExecutor

    due = record(bot).confirm_by - timedelta(hours=1)
    with ThreadPoolExecutor(4) as pool:
        reports = list(pool.map(lambda _: bot.runtime.tick(due), range(4)))
    assert sum(r.sent for r in reports) == 10
    assert len(dms(bot, ALICE)) == 5 and len(dms(bot, BOB)) == 5


@pytest.mark.processes
def test_three_tick_processes_at_the_same_moment_send_each_reminder_once(bot: Bot) -> None:
    for _ in range(4):
        create_sheet(bot)
    due = (record(bot).confirm_by - timedelta(hours=1)).isoformat()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": bot.fake.bot_token,
        "SLACK_API_URL": bot.fake.api_url,
        "DATABASE_URL": bot.runtime.settings.database_url,
        "COORDBOT_TZ": "Asia/Shanghai",
        "COORDBOT_LOG_LEVEL": "WARNING",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "tick", "--now", due],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    sent = sum(int(out.split("sent ")[1].split(",")[0]) for out, _ in outputs)
    assert sent == 8, outputs
    assert len(dms(bot, ALICE)) == 4 and len(dms(bot, BOB)) == 4
    assert {r.state for r in outbox_rows(bot.runtime) if r.kind == "req.sign_reminder"} == {"sent"}


def test_expired_lease_is_claimed_again(runtime: Runtime, bot: Bot) -> None:
    create_sheet(bot)
    due = record(bot).confirm_by - timedelta(hours=1)
    _, claimed = runtime.services.outbox.claim(due)  # a ticker that died holding its claim
    assert len(claimed) == 2
    assert runtime.tick(due).sent == 0  # still leased
    assert runtime.tick(due + timedelta(minutes=6)).sent == 2
