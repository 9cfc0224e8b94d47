"""The weekly digest's charts: what they count, uploaded in the digest's thread the Web API's way, never costing the
digest; and permalinks asked of Slack once per message."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select
from sqlmodel import col

from bot import charts
from bot.app import Runtime
from bot.config import Settings
from bot.services import charts as charts_service
from bot.services.actions import ActionDraft, ActionStatus
from handlers.due.outbound import PERMALINKS, PermalinkCache
from handlers.sandbox.slack_api import BOB, CAROL, DAVE, GENERAL
from handlers.sandbox.slack_api.files import UPLOAD_METHOD
from storage.models import Incident, OutboxItem
from tests.conftest import START, Bot
from tests.helpers import MONDAY, TEAM, action_item, open_home, post_now, posted_meeting, sh

ANNOUNCE = "C_INCIDENTS"  # COORDBOT_INCIDENT_CHANNEL here
OTHER = "C_OTHER"
STEPS = ("files.getUploadURLExternal", UPLOAD_METHOD, "files.completeUploadExternal")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings with an announcement channel for incidents."""
    return dataclasses.replace(settings, incident_channel=ANNOUNCE)


@pytest.fixture(autouse=True)
def fresh_permalinks() -> None:
    """Each test asks Slack afresh."""
    PERMALINKS.clear()


# -- seeding ----------------------------------------------------------------------------------------------------


def item(runtime: Runtime, created: datetime, *, done: datetime | None = None, channel: str = GENERAL) -> int:
    """An action item of Carol's created (and maybe done) at the given times."""
    svc = runtime.services.actions
    (info,) = svc.create_many(
        team_id=TEAM,
        creator_id=CAROL,
        now=created,
        channel_id=channel,
        drafts=[ActionDraft("Follow up", CAROL, created + timedelta(days=3))],
    )
    if done is not None:
        svc.set_status(info.id, user_id=CAROL, status=ActionStatus.DONE, now=done)
    return info.id


def eight_weeks(runtime: Runtime) -> None:
    """Items around the eight weeks before the test clock (Thursday 26 Nov 14:00; weeks end Thursdays 14:00)."""
    item(runtime, sh(1, month=9))  # open all along
    item(runtime, sh(10, month=10), done=sh(20))  # open from the week ending 15 Oct, done in the last week
    item(runtime, sh(24), done=sh(25))  # done in the last week
    item(runtime, sh(2, month=10), done=sh(7, month=10))  # done in the first week
    item(runtime, sh(1, month=8), done=sh(1, month=9))  # done before the weeks began
    item(runtime, sh(10, month=10), channel=OTHER)  # another channel's


def incident(runtime: Runtime, n: int, declared: datetime, severity: str, *, run_in: str = "") -> None:
    """An incident declared in #general, announced in the announcement channel, maybe run in a channel of its own."""
    with runtime.services.session_scope() as s:
        s.add(
            Incident(
                team_id=TEAM,
                code=f"INC-2026-{n:03d}",
                title=f"Outage {n}",
                severity=severity,
                commander_id=BOB,
                declared_by=BOB,
                declared_in=GENERAL,
                channel_id=run_in,
                announce_channel_id=ANNOUNCE,
                declared_at=declared,
                last_update_at=declared,
                created_at=declared,
                updated_at=declared,
            )
        )


def steps(bot: Bot) -> list[str]:
    """The Web API calls made so far, by method, in order."""
    return [c.method for c in bot.fake.calls()]


def digest_ts(bot: Bot, channel: str = GENERAL) -> str:
    """The ts of the (only) digest posted in a channel."""
    (call,) = [
        c
        for c in bot.fake.calls("chat.postMessage")
        if c.params["channel"] == channel and c.response and c.response.get("ok")
    ]
    assert call.response is not None
    return str(call.response["ts"])


def replied(bot: Bot, count: int = 1) -> list[str]:
    """The ephemeral replies to /digest (sent once the digest, and its charts, are done)."""
    return [str(c.params.get("text")) for c in bot.fake.wait_for("response_url", count)]


# -- what the charts count --------------------------------------------------------------------------------------


def test_open_and_done_items_week_by_week(runtime: Runtime) -> None:
    eight_weeks(runtime)
    weeks = charts_service.action_weeks(runtime.services.session_scope, team_id=TEAM, channel_id=GENERAL, now=START)
    assert weeks.ends[-1] == START and weeks.ends[0] == START - timedelta(weeks=7)
    assert weeks.open == (1, 2, 2, 2, 2, 2, 2, 1)
    assert weeks.done == (1, 0, 0, 0, 0, 0, 0, 2)
    elsewhere = charts_service.action_weeks(runtime.services.session_scope, team_id=TEAM, channel_id=OTHER, now=START)
    assert elsewhere.open == (0, 1, 1, 1, 1, 1, 1, 1) and elsewhere.done == (0,) * 8


def test_incidents_by_week_and_severity_where_they_were_announced_or_run(runtime: Runtime) -> None:
    incident(runtime, 1, sh(25), "SEV1", run_in="C_INC_1")
    incident(runtime, 2, sh(24), "SEV3")
    incident(runtime, 3, sh(5), "SEV2")
    incident(runtime, 4, sh(3, month=10), "SEV2")  # in the first week
    incident(runtime, 5, sh(1, month=9), "SEV1")  # before the eight weeks
    scope = runtime.services.session_scope

    def weeks(channel: str) -> charts.IncidentWeeks | None:
        return charts_service.incident_weeks(
            scope, team_id=TEAM, channel_id=channel, now=START, announcement_channel=ANNOUNCE
        )

    announced = weeks(ANNOUNCE)
    assert announced is not None
    assert announced.by_severity == {
        "SEV1": (0, 0, 0, 0, 0, 0, 0, 1),
        "SEV2": (1, 0, 0, 0, 1, 0, 0, 0),
        "SEV3": (0, 0, 0, 0, 0, 0, 0, 1),
        "SEV4": (0,) * 8,
    }
    own = weeks("C_INC_1")
    assert own is not None and own.totals == (0,) * 7 + (1,)
    assert weeks(GENERAL) is None  # declared there, but neither announced nor run there


# -- the digest with its charts --------------------------------------------------------------------------------


@pytest.mark.both_modes
def test_the_digest_gets_its_chart_in_its_thread_in_three_steps(bot: Bot) -> None:
    eight_weeks(bot.runtime)
    post_now(bot)
    (complete,) = bot.fake.wait_for("files.completeUploadExternal")
    assert replied(bot) == ["Posted the digest in <#C_GENERAL>."]
    ts = digest_ts(bot)
    # one chart (action items; #general is no incident channel), after the digest, through the three steps
    seen = steps(bot)
    assert [m for m in seen if m in ("chat.postMessage", *STEPS)] == ["chat.postMessage", *STEPS]
    (asked,) = bot.fake.calls("files.getUploadURLExternal")
    (upload,) = bot.fake.calls(UPLOAD_METHOD)
    assert asked.response is not None and asked.response["upload_url"].endswith(str(upload.params["ticket"]))
    assert int(asked.params["length"]) == upload.params["size"] > 10_000
    assert asked.params["filename"] == "coordbot-actions-2026-11-26.png"
    alt = str(asked.params["alt_txt"])
    assert alt.startswith(
        "Chart of this channel's action items over the last 8 weeks, week by week: Oct 8: 1 open, 1 done"
    )
    assert "Oct 15: 2 open, 0 done" in alt and alt.endswith("Nov 26: 1 open, 2 done.")
    assert complete.params["channel_id"] == GENERAL and complete.params["thread_ts"] == ts
    assert complete.response is not None
    (shown,) = complete.response["files"]
    assert shown["title"] == "Action items, last 8 weeks" and shown["mimetype"] == "image/png"
    assert shown["alt_txt"] == alt and shown["size"] == upload.params["size"]
    # what arrived is the chart, and it sits in the digest's thread
    (stored,) = bot.fake.uploaded_files()
    image = Image.open(io.BytesIO(stored.data or b""))
    assert (image.format, image.size) == ("PNG", (1200, 600))
    assert (stored.channel, stored.thread_ts, stored.completed) == (GENERAL, ts, True)
    reply = bot.fake.message(GENERAL, stored.message_ts or "")
    assert reply is not None and reply["thread_ts"] == ts and reply["files"][0]["id"] == stored.id
    parent = bot.fake.message(GENERAL, ts)
    assert parent is not None and parent["reply_count"] == 1


def test_the_chart_speaks_the_channels_language(bot: Bot) -> None:
    eight_weeks(bot.runtime)
    bot.slack.slash("/digest", "lang zh", user=DAVE)
    replied(bot)
    post_now(bot, user=DAVE)
    (complete,) = bot.fake.wait_for("files.completeUploadExternal")
    (asked,) = bot.fake.calls("files.getUploadURLExternal")
    assert str(asked.params["alt_txt"]).startswith("本频道最近 8 周的行动项图表，逐周：10月8日：未完成 1，完成 1；")
    assert complete.response is not None and complete.response["files"][0]["title"] == "行动项 · 最近 8 周"


def test_the_announcement_channel_gets_incidents_by_severity(bot: Bot) -> None:
    bot.fake.set_channel(ANNOUNCE, name="incidents")
    incident(bot.runtime, 1, sh(25), "SEV1", run_in="C_INC_1")
    incident(bot.runtime, 2, sh(5), "SEV2")
    post_now(bot, channel=ANNOUNCE)
    (complete,) = bot.fake.wait_for("files.completeUploadExternal")
    assert complete.params["channel_id"] == ANNOUNCE and complete.params["thread_ts"] == digest_ts(bot, ANNOUNCE)
    assert complete.response is not None
    assert [f["title"] for f in complete.response["files"]] == ["Incidents by severity, last 8 weeks"]
    (asked,) = bot.fake.calls("files.getUploadURLExternal")
    assert "Nov 5: 1 (SEV2 1)" in str(asked.params["alt_txt"]) and "Nov 26: 1 (SEV1 1)" in str(asked.params["alt_txt"])


def test_nothing_to_draw_or_charts_turned_off_uploads_nothing(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    post_now(bot)  # an empty channel: no chart of zeros
    replied(bot, 1)
    eight_weeks(bot.runtime)
    monkeypatch.setattr(
        bot.runtime.services, "settings", dataclasses.replace(bot.runtime.services.settings, digest_charts=False)
    )
    post_now(bot)
    replied(bot, 2)
    assert not set(STEPS) & set(steps(bot))


# -- failures cost the chart, never the digest -----------------------------------------------------------------


def test_a_refused_upload_url_leaves_the_digest_alone(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    eight_weeks(bot.runtime)
    bot.fake.fail("files.getUploadURLExternal", error="internal_error")
    with caplog.at_level(logging.WARNING, logger="handlers.digest"):
        digest = post_now(bot)
        assert replied(bot) == ["Posted the digest in <#C_GENERAL>."]
    assert "Action items" in str(digest["blocks"])
    assert UPLOAD_METHOD not in steps(bot) and "files.completeUploadExternal" not in steps(bot)
    assert "could not upload the digest's charts in C_GENERAL: internal_error" in caplog.text


def test_a_failed_upload_post_leaves_the_due_digest_sent_once(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    eight_weeks(bot.runtime)
    bot.slack.slash("/digest", "subscribe", user=CAROL)
    replied(bot)
    bot.fake.fail(UPLOAD_METHOD, status=500)
    bot.clock.set(MONDAY)
    with caplog.at_level(logging.WARNING, logger="handlers.digest"):
        bot.runtime.tick(MONDAY)
    (upload,) = bot.fake.calls(UPLOAD_METHOD)
    assert upload.status == 500 and "files.completeUploadExternal" not in steps(bot)
    assert len(bot.fake.calls("chat.postMessage")) >= 1 and digest_ts(bot)
    with bot.runtime.services.session_scope() as s:
        rows = s.scalars(select(OutboxItem).where(col(OutboxItem.kind) == "digest.weekly")).all()
        states = sorted((r.state, r.attempts) for r in rows)
    assert [state for state, _ in states] == ["pending", "sent"]  # sent, not retried; the next week's is waiting
    assert "could not upload the digest's charts in C_GENERAL" in caplog.text and "500" in caplog.text


def test_a_chart_that_cannot_be_drawn_leaves_the_digest_alone(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any, **kwargs: Any) -> charts.Chart:
        raise RuntimeError("no renderer")

    eight_weeks(bot.runtime)
    monkeypatch.setattr(charts, "actions_chart", broken)
    with caplog.at_level(logging.ERROR, logger="handlers.digest"):
        post_now(bot)
        assert replied(bot) == ["Posted the digest in <#C_GENERAL>."]
    assert not set(STEPS) & set(steps(bot))
    assert "could not draw the digest's charts for C_GENERAL" in caplog.text and "no renderer" in caplog.text


def test_the_fake_refuses_a_completion_without_the_bytes(bot: Bot) -> None:
    client = bot.runtime.client
    asked = client.files_getUploadURLExternal(filename="a.png", length=3)
    with pytest.raises(Exception, match="file_not_found"):
        client.files_completeUploadExternal(files=[{"id": str(asked["file_id"])}], channel_id=GENERAL)
    with pytest.raises(Exception, match="invalid_arguments"):
        client.files_getUploadURLExternal(filename="a.png", length=0)


# -- permalinks, asked once per message ------------------------------------------------------------------------


def test_the_home_asks_slack_for_each_permalink_once(bot: Bot) -> None:
    action_item(bot, owner=BOB)
    action_item(bot, owner=BOB)
    posted_meeting(bot, participants=(BOB,))
    open_home(bot, BOB)
    first = len(bot.fake.calls("chat.getPermalink"))
    assert first == 3  # two cards and a meeting card, each asked once
    view = open_home(bot, BOB)
    assert len(bot.fake.calls("chat.getPermalink")) == first
    links = set(re.findall(r"https://coordbot-test\.slack\.com/archives/[^\"|>]+", json.dumps(view)))
    assert len(links) == 3  # each record still linked, from the cache


def test_the_permalink_cache_is_bounded_and_forgets_the_least_recently_used() -> None:
    cache = PermalinkCache(size=2)
    cache.put(("w", "C1", "1.1"), "https://x/1")
    cache.put(("w", "C1", "1.2"), "https://x/2")
    assert cache.get(("w", "C1", "1.1")) == "https://x/1"  # now the most recently used
    cache.put(("w", "C1", "1.3"), "https://x/3")
    assert len(cache) == 2 and cache.get(("w", "C1", "1.2")) is None
    assert cache.get(("w", "C1", "1.1")) == "https://x/1" and cache.get(("other", "C1", "1.1")) is None
