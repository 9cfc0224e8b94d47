"""Weekly channel digests: subscribing, what a digest says, staying within Slack's limits, once per period."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlmodel import col

from bot import text
from bot.app import Runtime
from bot.services.actions import ActionDraft, ActionStatus
from bot.services.digest_text import Schedule, parse_schedule
from bot.services.digests import Digest, Entry, OwnerGroup, Ref, Trend, next_occurrence
from bot.services.requirements import RequirementDraft
from handlers.blocks.digest import digest_blocks, digest_text
from handlers.sandbox.slack_api import ALICE, BOB, CAROL, DAVE, GENERAL
from storage import digests as digest_repo
from storage.models import ActionItem, OutboxItem
from tests.conftest import Bot
from tests.helpers import (
    MONDAY,
    TEAM,
    USER_TEXT,
    block_text,
    digests,
    leftovers,
    meeting,
    minutes,
    post_now,
    sh,
    strings,
)

pytestmark = pytest.mark.both_modes  # every flow here also runs split into serving process and worker

ROOT = Path(__file__).resolve().parent.parent
OTHER = "C_OTHER"
HEADER = re.compile(r"Weekly digest|每周进展摘要")


def stamp(moment: datetime) -> str:
    """The start of Slack's date token for a moment."""
    return f"<!date^{int(moment.timestamp())}^"


def replies(bot: Bot, count: int) -> list[str]:
    """The first `count` ephemeral replies sent through response_url."""
    calls = bot.fake.wait_for("response_url", count)
    return [str(c.params.get("text")) for c in calls]


def digest_rows(bot: Bot) -> list[OutboxItem]:
    """The outbox rows of digests, oldest first."""
    with bot.runtime.services.session_scope() as s:
        return list(
            s.scalars(
                select(OutboxItem).where(col(OutboxItem.kind) == "digest.weekly").order_by(col(OutboxItem.id))
            ).all()
        )


def permalink(bot: Bot, ts: str, channel: str = GENERAL) -> str:
    """Slack's own permalink of a message."""
    return str(bot.runtime.client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"])


# -- seeding a week through the services ----------------------------------------------------------------------


def requirement(
    bot: Bot,
    *,
    created: datetime,
    confirm_by: datetime,
    goal: str,
    requester: str = ALICE,
    receiver: str = BOB,
    channel: str = GENERAL,
) -> tuple[int, str]:
    """A requirement sheet posted in the channel; returns its id and message ts."""
    svc = bot.runtime.services.requirements
    info = svc.create(
        team_id=TEAM,
        author_id=requester,
        now=created,
        draft=RequirementDraft(
            requester_dept="Marketing",
            requester_owner=requester,
            receiver_dept="Engineering",
            receiver_owner=receiver,
            background="Q1 campaign",
            goal=goal,
            description="A landing page",
            priority="high",
            due=sh(20, month=12),
            confirm_by=confirm_by,
            channel_id=channel,
        ),
    )
    ts = bot.fake.add_message(channel, f"sheet {info.code}")["ts"]
    svc.attach_message(info.id, channel_id=channel, message_ts=ts)
    return info.id, ts


def set_status(bot: Bot, action_id: int, status: ActionStatus, at: datetime, reason: str = "") -> None:
    """Move an action item as its owner."""
    svc = bot.runtime.services.actions
    svc.set_status(action_id, user_id=svc.get(action_id).owner_id, status=status, now=at, reason=reason)


def escalate(bot: Bot, action_id: int, at: datetime) -> None:
    """Mark an item escalated, as the escalation notice does (only the mark matters to the digest)."""
    with bot.runtime.services.session_scope() as s:
        s.execute(update(ActionItem).where(col(ActionItem.id) == action_id).values(escalated_at=at))


@pytest.fixture
def week(bot: Bot) -> dict[str, Any]:
    """A week in #general, seen on Monday 30 Nov 09:00 (Shanghai), with last week behind it."""
    svc = bot.runtime.services
    seeded: dict[str, Any] = {}
    # last week: one sheet confirmed, one action item done
    old, _ = requirement(bot, created=sh(17), confirm_by=sh(19, 18), goal="Old goal")
    svc.requirements.sign(old, user_id=ALICE, via="button", now=sh(18))
    svc.requirements.sign(old, user_id=BOB, via="button", now=sh(18, 11))
    (prev_done,) = svc.actions.create_many(
        team_id=TEAM,
        creator_id=CAROL,
        now=sh(17),
        channel_id=GENERAL,
        drafts=[ActionDraft("Old task", CAROL, sh(19, 18))],
    )
    set_status(bot, prev_done.id, ActionStatus.DONE, sh(20))
    # this week's requirement sheets: confirmed, awaiting Bob, overdue with Carol, changes requested
    confirmed, seeded["confirmed_ts"] = requirement(bot, created=sh(24), confirm_by=sh(27, 18), goal="Landing page")
    svc.requirements.sign(confirmed, user_id=ALICE, via="button", now=sh(25))
    svc.requirements.sign(confirmed, user_id=BOB, via="reaction", now=sh(25, 11))
    awaiting, _ = requirement(bot, created=sh(27), confirm_by=sh(2, 18, month=12), goal="Pricing page")
    svc.requirements.sign(awaiting, user_id=ALICE, via="button", now=sh(27, 11))
    late, _ = requirement(bot, created=sh(25), confirm_by=sh(28, 18), goal="Signup form", receiver=CAROL)
    svc.requirements.sign(late, user_id=ALICE, via="button", now=sh(26))
    changes, _ = requirement(bot, created=sh(26), confirm_by=sh(3, 18, month=12), goal="Checkout flow")
    svc.requirements.request_changes(changes, user_id=BOB, reason="Scope is too wide", now=sh(26, 12))
    # meetings: one held with minutes and action items (sent to their owners by DM), one without minutes, one ahead
    held, seeded["held_ts"] = meeting(bot, title="Launch plan", start=sh(25))
    done, _overdue, escalated, _open, blocked = minutes(
        bot,
        held,
        sh(25, 12),
        ("Draft the launch plan", BOB, sh(27, 18)),
        ("Book the venue", DAVE, sh(28, 18)),
        ("Fix the checkout bug", DAVE, sh(29, 12)),
        ("Review the budget", BOB, sh(3, 18, month=12)),
        ("Ship the API", ALICE, sh(4, 18, month=12)),
    )
    set_status(bot, done, ActionStatus.DONE, sh(27, 16))
    set_status(bot, blocked, ActionStatus.BLOCKED, sh(28), reason="Waiting for the vendor's key")
    escalate(bot, escalated, sh(29, 18))
    meeting(bot, title="Budget review", start=sh(27, 15))
    meeting(bot, title="Retro", start=sh(2, 10, month=12))
    (posted,) = svc.actions.create_many(
        team_id=TEAM,
        creator_id=CAROL,
        now=sh(26),
        channel_id=GENERAL,
        drafts=[ActionDraft("Send the recap", CAROL, sh(28, 18))],
    )
    set_status(bot, posted.id, ActionStatus.DONE, sh(28, 9))
    # another channel's records stay out
    elsewhere, _ = meeting(bot, title="Other team sync", start=sh(26), channel=OTHER)
    minutes(bot, elsewhere, sh(26, 12), ("Secret other-channel task", BOB, sh(27, 18)))
    bot.clock.set(MONDAY)
    return seeded


# -- /digest subscribe, unsubscribe, now, help --------------------------------------------------------------------


def test_subscribe_defaults_to_monday_nine_and_echoes_the_next_digest(bot: Bot) -> None:
    assert bot.slack.slash("/digest", "subscribe", user=CAROL).status == 200
    (reply,) = replies(bot, 1)
    assert reply.startswith("<#C_GENERAL> gets the weekly digest every Monday at 09:00 (Asia/Shanghai).")
    assert f"The next one: {stamp(MONDAY)}" in reply
    (row,) = digest_rows(bot)
    assert (row.state, row.due_at, row.dedupe_key) == ("pending", MONDAY, "digest:T0001:C_GENERAL:2026-11-30")


@pytest.mark.parametrize(
    ("typed", "user", "expected", "due"),
    [
        ("fri 17:00", CAROL, "every Friday at 17:00", sh(27, 17)),
        ("Friday 5pm", BOB, "every Friday at 17:00", sh(27, 17)),
        ("周五 17:00", DAVE, "将在每周五 17:00（Asia/Shanghai）收到每周进展摘要", sh(27, 17)),
        ("thu 9:30", CAROL, "every Thursday at 09:30", sh(3, 9, 30, month=12)),  # today's 09:30 has passed
    ],
)
def test_subscribe_at_a_weekday_and_time(bot: Bot, typed: str, user: str, expected: str, due: datetime) -> None:
    bot.slack.slash("/digest", f"subscribe {typed}", user=user)
    (reply,) = replies(bot, 1)
    assert expected in reply and stamp(due) in reply
    assert [r.due_at for r in digest_rows(bot)] == [due]


def test_an_unreadable_time_is_explained(bot: Bot) -> None:
    reply = bot.slack.slash("/digest", "subscribe someday soon", user=CAROL)
    assert "couldn't read a weekday and a time in “someday soon”" in reply.body
    assert digest_rows(bot) == []


def test_moving_and_stopping_the_digest_keeps_one_pending_row(bot: Bot) -> None:
    bot.slack.slash("/digest", "subscribe", user=CAROL)
    bot.slack.slash("/digest", "subscribe fri 17:00", user=CAROL)
    replies(bot, 2)
    assert [(r.state, r.due_at) for r in digest_rows(bot)] == [("cancelled", MONDAY), ("pending", sh(27, 17))]
    bot.slack.slash("/digest", "unsubscribe", user=CAROL)
    assert replies(bot, 3)[2] == "<#C_GENERAL> will no longer get the weekly digest."
    assert {r.state for r in digest_rows(bot)} == {"cancelled"}
    bot.slack.slash("/digest", "unsubscribe", user=CAROL)
    assert replies(bot, 4)[3] == "<#C_GENERAL> has no weekly digest. Start one with /digest subscribe."
    # subscribing again brings the same period back
    bot.slack.slash("/digest", "subscribe", user=CAROL)
    replies(bot, 5)
    assert [(r.state, r.due_at) for r in digest_rows(bot)] == [("pending", MONDAY), ("cancelled", sh(27, 17))]
    assert bot.runtime.tick(MONDAY).sent == 1 and len(digests(bot)) == 1


def test_a_channel_subscribed_many_times_at_once_keeps_one_subscription_and_one_pending_digest(
    runtime: Runtime,
) -> None:
    digests_service = runtime.services.digests
    now = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)

    def subscribe(i: int) -> None:
        digests_service.subscribe(
            team_id="T0001",
            channel_id=GENERAL,
            user_id=CAROL,
            schedule=Schedule(weekday=i % 5, at=time(9 + i % 8, 0)),
            now=now,
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(subscribe, range(16)))  # none fails: on PostgreSQL they take turns on the row
    sub = digests_service.subscription("T0001", GENERAL)
    assert sub is not None and sub.next_at is not None
    with runtime.services.session_scope() as s:
        pending = s.scalars(
            select(OutboxItem).where(col(OutboxItem.kind) == "digest.weekly", col(OutboxItem.state) == "pending")
        ).all()
    assert [p.due_at for p in pending] == [sub.next_at]


def test_help_lists_every_subcommand_in_the_callers_language(bot: Bot) -> None:
    body = bot.slack.slash("/digest", "help", user=CAROL).body
    for command in ("/digest subscribe", "/digest unsubscribe", "/digest now", "/digest lang zh", "/digest help"):
        assert command in body
    assert "Mondays at 09:00 (Asia/Shanghai)" in body
    assert "每周在本频道发布" in bot.slack.slash("/digest", "help", user=DAVE).body


def test_now_posts_a_digest_at_once_and_says_when_the_next_one_comes(bot: Bot) -> None:
    digest = post_now(bot)
    assert "Nothing happened in this channel in the last 7 days" in block_text(digest)
    assert replies(bot, 1) == ["Posted the digest in <#C_GENERAL>."]
    assert digest_rows(bot) == []  # posted directly, not as a period
    bot.slack.slash("/digest", "subscribe", user=CAROL)
    replies(bot, 2)
    post_now(bot, user=DAVE)
    assert replies(bot, 3)[2].startswith(f"已在 <#C_GENERAL> 发布进展摘要。下一次每周摘要：{stamp(MONDAY)}")
    assert [r.state for r in digest_rows(bot)] == ["pending"]  # the weekly one is still due


def test_now_in_a_channel_the_bot_cannot_post_in_says_so(bot: Bot) -> None:
    bot.fake.set_channel("C_PRIVATE", name="private", is_private=True)  # the bot was not invited
    bot.slack.slash("/digest", "now", user=CAROL, channel="C_PRIVATE")
    assert replies(bot, 1)[0].startswith("I can't post in <#C_PRIVATE>.")


# -- what a digest says -----------------------------------------------------------------------------------------


def test_the_digest_counts_lists_and_links_the_channels_week(bot: Bot, week: dict[str, Any]) -> None:
    digest = post_now(bot)
    shown = block_text(digest)
    assert len(digest["blocks"]) <= 50
    assert "*Requirement sheets* · 1 confirmed · 2 awaiting signature · 1 changes requested" in shown
    assert "*Action items* · 2 done · 1 open · 2 overdue · 1 blocked" in shown
    assert "*Meetings* · 2 held · 1 without minutes · 1 coming up" in shown
    assert "Done 2 (↑1 vs last week) · overdue 2 (↑2) · requirements confirmed 1 (±0)" in shown
    # escalated and not done, under its own heading first, its overdue owner notified
    attention = section(digest, "digest_attention")
    assert attention.startswith("🚨 *Needs attention* (1)") and "ACT-2026-004" in attention
    assert "Fix the checkout bug" in attention and "<@U_DAVE>" in attention
    # the records link to their messages; items sent by DM link to the meeting they came from
    link = permalink(bot, week["confirmed_ts"])
    assert f"<{link}|RW-2026-002> Landing page — alice, bob" in section(digest, "digest_confirmed")
    assert f"from <{permalink(bot, week['held_ts'])}|MTG-2026-001>" in section(digest, "digest_done")
    assert "`ACT-2026-002` Draft the launch plan — bob" in section(digest, "digest_done")
    awaiting = section(digest, "digest_awaiting")
    assert "Pricing page — waiting for bob · sign by" in awaiting
    assert "Signup form — waiting for <@U_CAROL> · ⚠️ signatures were due" in awaiting
    assert "Scope is too wide" in section(digest, "digest_changes")
    assert section(digest, "digest_overdue").splitlines()[1].startswith("• <@U_DAVE> — 2 overdue: `ACT-2026-003`")
    assert "Blocked: Waiting for the vendor's key" in section(digest, "digest_blocked")
    assert "Review the budget — bob · due" in section(digest, "digest_open")
    assert "Launch plan — alice" in section(digest, "digest_held") and "minutes recorded" in shown
    assert "Budget review — alice" in section(digest, "digest_minutes_missing")
    assert "Retro" in section(digest, "digest_upcoming")
    # people are named, and only overdue work notifies its people
    assert "<@U_ALICE>" not in shown and "<@U_BOB>" not in shown
    assert set(re.findall(r"<@(U_\w+)>", shown)) == {CAROL, DAVE}
    assert "Secret other-channel task" not in shown and "Other team sync" not in shown
    assert "Old goal" not in shown  # confirmed the week before: only in the trend
    assert "<@" not in digest["text"] and "2 action items done, 2 overdue" in digest["text"]


def section(message: dict[str, Any], block_id: str) -> str:
    """The mrkdwn text of one section."""
    block = next(b for b in message["blocks"] if b.get("block_id") == block_id)
    return str(block["text"]["text"])


def test_the_digest_follows_the_channels_language(bot: Bot, week: dict[str, Any]) -> None:
    bot.slack.slash("/digest", "lang zh", user=CAROL)
    replies(bot, 1)
    digest = post_now(bot, user=CAROL)
    shown = block_text(digest)
    assert "每周进展摘要" in shown and "*需求沟通与确认表* · 已确认 1 · 待签字确认 2 · 需修改 1" in shown
    assert "*行动项* · 已完成 2 · 未完成 1 · 逾期 2 · 受阻 1" in shown
    assert "已完成 2（较上周 ↑1）· 逾期 2（↑2）" in shown and "受阻原因：Waiting for the vendor's key" in shown
    assert "等待 bob 签字" in shown and "<@U_DAVE> — 逾期 2 项" in shown
    assert replies(bot, 2)[1] == "Posted the digest in <#C_GENERAL>."  # the caller reads English


@pytest.mark.sqlite_only  # Block Kit limits of a long digest: the same rows on either database
def test_a_channel_with_hundreds_of_records_gets_a_valid_summary(bot: Bot) -> None:
    svc = bot.runtime.services
    for n in range(120):
        requirement(bot, created=sh(24), confirm_by=sh(2, 18, month=12), goal=f"Goal {n} " + "x" * 400)
    svc.actions.create_many(
        team_id=TEAM,
        creator_id=CAROL,
        now=sh(20),
        channel_id=GENERAL,
        drafts=[
            ActionDraft(
                f"Task {n} <b>&" + "y" * 480,
                [ALICE, BOB, CAROL, DAVE][n % 4] if n % 3 else f"U_X{n}",
                sh(21, 18) + timedelta(days=n % 14),
            )
            for n in range(400)
        ],
    )
    for n in range(40):
        meeting(bot, title=f"Sync {n}", start=sh(23, 10) + timedelta(hours=n * 3))
    bot.clock.set(MONDAY)
    digest = post_now(bot)
    assert bot.fake.validation_errors == []
    assert len(digest["blocks"]) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in digest["blocks"] if b["type"] == "section")
    assert "…and 115 more — /requirement list" in section(digest, "digest_awaiting")
    overdue = section(digest, "digest_overdue")
    assert "more owners" in overdue and "+" in overdue and "&lt;b&gt;&amp;" in overdue
    assert "…and" in section(digest, "digest_open") and "…and" in section(digest, "digest_minutes_missing")


# -- due digests: once per period, late after downtime ------------------------------------------------------------


@pytest.mark.processes
def test_two_tick_processes_post_each_digest_once(bot: Bot) -> None:
    channels = [GENERAL, "C_SALES", "C_OPS", "C_HR"]
    for n, channel in enumerate(channels, start=1):
        bot.slack.slash("/digest", "subscribe", user=CAROL, channel=channel)
        replies(bot, n)
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
            [sys.executable, "-m", "bot", "tick", "--now", MONDAY.isoformat()],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    sent = sum(int(out.split("sent ")[1].split(",")[0]) for out, _ in outputs)
    assert sent == 4, outputs
    assert [len(digests(bot, channel)) for channel in channels] == [1, 1, 1, 1]
    rows = digest_rows(bot)
    assert sorted(r.state for r in rows) == ["pending"] * 4 + ["sent"] * 4
    assert {r.due_at for r in rows if r.state == "pending"} == {MONDAY + timedelta(days=7)}
    assert bot.runtime.tick(MONDAY + timedelta(hours=1)).sent == 0


def test_after_three_weeks_down_one_late_digest_then_back_on_schedule(bot: Bot) -> None:
    bot.slack.slash("/digest", "subscribe", user=CAROL)
    replies(bot, 1)
    back = sh(17, 15, month=12)  # Thursday, three Mondays missed
    bot.clock.set(back)
    assert bot.runtime.tick(back).sent == 1
    (late,) = digests(bot)
    window = block_text(late)
    assert f"(late: due {stamp(MONDAY)}" in window and "(late: due" in late["text"]
    assert [(r.state, r.due_at) for r in digest_rows(bot)] == [("sent", MONDAY), ("pending", sh(21, 9, month=12))]
    assert bot.runtime.tick(back + timedelta(hours=1)).sent == 0
    assert bot.runtime.tick(sh(21, 9, month=12)).sent == 1
    on_time = digests(bot)[-1]
    assert "late" not in block_text(on_time) and len(digests(bot)) == 2


def test_a_digest_a_few_hours_late_is_not_marked_late(bot: Bot) -> None:
    bot.slack.slash("/digest", "subscribe", user=CAROL)
    replies(bot, 1)
    assert bot.runtime.tick(MONDAY + timedelta(hours=20)).sent == 1
    assert "late" not in block_text(digests(bot)[0])


def test_a_period_row_of_a_channel_that_unsubscribed_meanwhile_is_skipped(bot: Bot) -> None:
    bot.slack.slash("/digest", "subscribe", user=CAROL)
    replies(bot, 1)
    with bot.runtime.services.session_scope() as s:  # as if it happened while the row was being claimed
        digest_repo.delete_subscription(s, team_id=TEAM, channel_id=GENERAL)
    report = bot.runtime.tick(MONDAY)
    assert (report.sent, report.skipped) == (0, 1) and digests(bot) == []
    assert [r.state for r in digest_rows(bot)] == ["cancelled"]


def test_a_due_digest_is_posted_in_the_channels_language(bot: Bot) -> None:
    bot.slack.slash("/digest", "lang zh", user=CAROL)
    bot.slack.slash("/digest", "subscribe", user=CAROL)
    replies(bot, 2)
    bot.runtime.tick(MONDAY)
    assert "本频道过去 7 天没有新动态" in block_text(digests(bot)[0])


# -- schedules and builders --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("", Schedule(0, time(9, 0))),
        ("fri 17:00", Schedule(4, time(17, 0))),
        ("周五 17:00", Schedule(4, time(17, 0))),
        ("Friday 5pm", Schedule(4, time(17, 0))),
        ("every Wednesday at 9:30 am", Schedule(2, time(9, 30))),
        ("星期一 上午9点半", Schedule(0, time(9, 30))),
        ("每周日晚上8点", Schedule(6, time(20, 0))),
        ("17:00", Schedule(0, time(17, 0))),
        ("tue", Schedule(1, time(9, 0))),
        ("fri 25:00", None),
        ("fri 13pm", None),
        ("whenever", None),
    ],
)
def test_weekly_times_as_people_type_them(typed: str, expected: Schedule | None) -> None:
    assert parse_schedule(typed) == expected


def test_the_next_digest_is_strictly_later_and_keeps_the_wall_clock_across_dst() -> None:
    monday_nine = Schedule(0, time(9, 0))
    assert next_occurrence(monday_nine, "Asia/Shanghai", MONDAY) == MONDAY + timedelta(days=7)
    assert next_occurrence(monday_nine, "Asia/Shanghai", MONDAY - timedelta(seconds=1)) == MONDAY
    new_york = ZoneInfo("America/New_York")
    after = datetime(2026, 3, 2, 12, 0, tzinfo=new_york)  # a Monday; clocks go forward on 8 March
    nxt = next_occurrence(monday_nine, "America/New_York", after)
    assert nxt.astimezone(new_york) == datetime(2026, 3, 9, 9, 0, tzinfo=new_york)
    week_before = next_occurrence(monday_nine, "America/New_York", after - timedelta(days=7))
    assert nxt - week_before == timedelta(days=7, hours=-1)  # the same wall-clock time, one hour less between
    skipped = next_occurrence(Schedule(6, time(2, 30)), "America/New_York", after)  # 02:30 does not exist that day
    assert skipped.astimezone(new_york) == datetime(2026, 3, 8, 3, 30, tzinfo=new_york)


PSEUDO = "xx"


@pytest.fixture
def pseudo_catalog() -> Iterator[None]:
    """A catalog whose every string is bracketed, so catalog text can be told from anything else."""
    text.CATALOG[PSEUDO] = {key: "⟦" + value + "⟧" for key, value in text.EN.items()}
    yield
    del text.CATALOG[PSEUDO]


@pytest.mark.usefixtures("pseudo_catalog")
def test_no_digest_text_bypasses_the_catalog() -> None:
    now = MONDAY.astimezone(UTC)
    entry = Entry(Ref("RW-2026-001", "C1", "1.1"), USER_TEXT, ("U1",), now, note=USER_TEXT, source=Ref("MTG-2026-001"))
    late = Entry(Ref("RW-2026-002"), USER_TEXT, ("U1",), now, overdue=True, done=True, note=USER_TEXT)
    d = Digest(
        "C1",
        now - timedelta(days=7),
        now,
        (late,),
        (entry,),
        (entry, late),
        (entry,),
        (entry,),
        (OwnerGroup("U1", (late,) * 5),),
        (late,),
        (entry,) * 7,
        (entry, late),
        (late,),
        (entry,),
        Trend(3, 1),
        Trend(0, 2),
        Trend(1, 1),
    )
    blocks = digest_blocks(
        PSEUDO,
        d,
        tz="UTC",
        name_of=lambda _user: USER_TEXT,
        base_url="https://x.example/",
        late_due=now - timedelta(days=8),
    )
    found = [*strings([b.to_dict() for b in blocks]), digest_text(PSEUDO, d, tz="UTC", late_due=now)]
    assert len(found) > 15
    assert leftovers([s.replace("RW-2026-002", "").replace("MTG-2026-001", "") for s in found]) == []
