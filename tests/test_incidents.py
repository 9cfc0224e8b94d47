"""Emergency response end to end: declare, acknowledge, escalate, update, roles, 📌 timeline, resolve, review."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from slack_sdk.models.blocks import Block
from sqlalchemy import select

from bot.cli import main
from bot.config import ConfigError, Settings
from bot.errors import NotFound
from bot.export import KINDS
from bot.manifest import BOT_SCOPES
from bot.services.actions import ActionDraft, ActionStatus
from bot.services.incident_text import Status, channel_name, parse_command, plain_text, slug
from bot.services.incidents import IncidentInfo, ResolutionDraft
from handlers.blocks import incident as blocks
from handlers.blocks.common import ModalMeta
from handlers.blocks.incident import FIELDS, RESOLVE_FIELDS, Ids
from handlers.sandbox.slack_api import ALICE, BOB, CAROL, DAVE, GENERAL, FakeSlack
from storage.models import OutboxItem
from tests.conftest import START, Bot
from tests.helpers import DECLARATION, block_text, declare, posts, wait_until

pytestmark = pytest.mark.both_modes  # every flow here also runs split into serving process and worker

INCIDENTS = "C_INCIDENTS"
MINUTE = timedelta(minutes=1)


@pytest.fixture
def settings(settings: Settings, fake: FakeSlack) -> Settings:
    """The shared settings with an incidents channel and a backup list (Carol, then Dave)."""
    fake.set_channel(INCIDENTS, name="incidents")
    return dataclasses.replace(settings, incident_channel=INCIDENTS, incident_escalation=(CAROL, DAVE))


@pytest.fixture(autouse=True)
def no_delay(fake: FakeSlack) -> Iterator[None]:
    """A test that slows the fake down does not slow the teardown."""
    yield
    fake.set_delay(0)


# -- helpers ------------------------------------------------------------------------------------------------


def dms(bot: Bot, user: str) -> list[dict[str, Any]]:
    """Direct messages the bot sent a user (params of successful calls)."""
    return [
        c.params
        for c in bot.fake.calls("chat.postMessage")
        if c.params["channel"] == user and c.response and c.response.get("ok")
    ]


def ephemeral_texts(bot: Bot, user: str) -> list[str]:
    """Ephemeral replies a user saw (via response_url or chat.postEphemeral)."""
    return [str(e["text"] or "") for e in bot.fake.ephemerals(user=user)]


def run(bot: Bot, info: IncidentInfo, text: str, *, user: str) -> None:
    """A `/incident …` command typed in the incident channel."""
    assert bot.slack.slash("/incident", text, user=user, channel=info.channel_id).status == 200


def rows(bot: Bot, kind: str | None = None) -> list[OutboxItem]:
    """The outbox, optionally of one kind."""
    with bot.runtime.services.session_scope() as s:
        return [r for r in s.scalars(select(OutboxItem)).all() if kind is None or r.kind == kind]


def current(bot: Bot, info: IncidentInfo) -> IncidentInfo:
    """The incident as stored now, with its timeline."""
    return bot.runtime.services.incidents.get(info.id, with_timeline=True)


def kinds(bot: Bot, info: IncidentInfo) -> list[str]:
    """The timeline's kinds in order."""
    return [e.kind for e in current(bot, info).timeline]


def buttons(message: dict[str, Any]) -> list[str]:
    """The action_ids of a message's buttons."""
    return [e["action_id"] for b in message.get("blocks") or [] if b["type"] == "actions" for e in b["elements"]]


def with_button(bot: Bot, channel: str, action_id: str) -> dict[str, Any]:
    """The newest stored message of a channel (a user ID means the DM) that holds a button."""
    return next(m for m in reversed(bot.fake.messages(channel)) if action_id in buttons(m))


def summary(bot: Bot, info: IncidentInfo) -> dict[str, Any]:
    """The pinned summary as it is now."""
    info = current(bot, info)
    return bot.fake.message(info.channel_id, info.summary_ts or "") or {}


def announcement(bot: Bot, info: IncidentInfo) -> dict[str, Any]:
    """The announcement as it is now."""
    info = current(bot, info)
    return bot.fake.message(info.announce_channel_id, info.announce_ts or "") or {}


# -- declaring -------------------------------------------------------------------------------------------------


def test_declare_creates_the_channel_invites_pins_and_announces_after_a_quick_ack(bot: Bot) -> None:
    bot.fake.set_delay(0.3)  # every Web API call takes 0.3 s
    assert bot.slack.slash("/incident", "Checkout is down", user=BOB).status == 200
    view = bot.fake.wait_for("views.open")[0].params["view"]
    assert [b.get("block_id") for b in view["blocks"] if b["type"] == "input"] == list(FIELDS)
    title = next(b for b in view["blocks"] if b.get("block_id") == "title")
    assert title["element"]["initial_value"] == "Checkout is down"
    commander = next(b for b in view["blocks"] if b.get("block_id") == "commander")
    assert commander["element"]["initial_user"] == BOB
    severities = next(b for b in view["blocks"] if b.get("block_id") == "severity")["element"]["options"]
    assert [o["value"] for o in severities] == ["SEV1", "SEV2", "SEV3", "SEV4"]
    assert all(o["description"]["text"] for o in severities)

    reply = bot.slack.submit_view(DECLARATION, user=BOB, callback_id=Ids.MODAL)
    assert reply.status == 200 and reply.json() is None and reply.acked_in_time, reply
    assert reply.elapsed < 1.0  # nothing slow happens before the acknowledgment

    info = wait_until(
        lambda: bot.runtime.services.incidents.get(1).summary_ts and bot.runtime.services.incidents.get(1),
        timeout=20,
        what="the summary",
    )
    assert info.code == "INC-2026-001" and info.severity == "SEV1" and info.status == Status.INVESTIGATING
    assert info.channel_name == "inc-20261126-checkout-is-down"
    created = bot.fake.calls("conversations.create")[0]
    assert created.params["name"] == "inc-20261126-checkout-is-down"
    assert set(bot.fake.calls("conversations.invite")[0].params["users"].split(",")) == {ALICE, DAVE, BOB}
    members = bot.runtime.client.conversations_members(channel=info.channel_id)["members"]
    assert set(members) == {"U_BOT", ALICE, DAVE, BOB}
    pinned = bot.fake.message(info.channel_id, info.summary_ts or "")
    assert pinned is not None and pinned["pinned_to"] == [info.channel_id]
    text = block_text(pinned)
    assert "🚨 INC-2026-001 · Checkout is down" in text and "SEV1 · Critical" in text and "<@U_ALICE>" in text
    assert "&lt;!channel&gt; &amp; co" in text and "<!channel>" not in text  # user text is escaped
    assert "Waiting for <@U_ALICE> to acknowledge" in text
    assert buttons(pinned) == [Ids.ACK, "incident_status_identified", "incident_status_monitoring", Ids.RESOLVE]

    shown = announcement(bot, info)
    assert info.announce_channel_id == INCIDENTS
    assert f"<#{info.channel_id}>" in block_text(shown) and "SEV1 · Critical" in block_text(shown)
    assert "<@U_ALICE>" in block_text(shown)
    ask = wait_until(lambda: dms(bot, ALICE), what="the commander's DM")[-1]
    assert "事件指挥官" in ask["text"] and "5 分钟内" in ask["text"]  # Alice reads Chinese
    assert buttons(ask) == [Ids.ACK]
    assert kinds(bot, info) == ["declared"]


def test_a_taken_channel_name_gets_a_suffix_and_a_title_without_latin_letters_its_number(bot: Bot) -> None:
    bot.fake.set_channel("C_TAKEN", name="inc-20261126-checkout-is-down")
    info = declare(bot)
    assert info.channel_name == "inc-20261126-checkout-is-down-2"
    assert [c.error for c in bot.fake.calls("conversations.create")] == ["name_taken", None]
    other = declare(bot, text="status page is down", title="支付失败", commander=BOB)
    opened = bot.fake.calls("views.open")[-1].params["view"]
    assert (
        next(b for b in opened["blocks"] if b.get("block_id") == "title")["element"]["initial_value"]
        == "status page is down"
    )  # not a status word, and not in an incident channel: a title
    assert other.code == "INC-2026-002" and other.channel_name == "inc-20261126-002"


def test_channel_names_and_commands_are_read_as_typed() -> None:
    assert slug("Checkout: 502s on /pay (EU only!)") == "checkout-502s-on-pay-eu"
    assert slug("Zoë’s café down") == "zoes-cafe-down"
    assert channel_name("INC-2026-007", "数据库宕机", START, "Asia/Shanghai") == "inc-20261126-007"
    assert channel_name("INC-2026-007", "DB down", START, "America/Los_Angeles", attempt=3) == "inc-20261125-db-down-3"
    assert len(channel_name("INC-2026-001", "x" * 200, START, "UTC", attempt=12)) <= 80
    assert parse_command("update DB is back").verb == "update"
    assert parse_command("状态 已定位").verb == "status"
    assert parse_command("Checkout is down").verb == "declare"
    assert plain_text("ping <@U_BOB|bob> &amp; &lt;b&gt;") == "ping <@U_BOB> & <b>"
    assert (
        plain_text("see <https://status.example.com|status> in <#C0123|ops>, <https://x.io>")
        == "see status (https://status.example.com) in #ops, https://x.io"
    )


def test_the_declarer_who_leads_has_acknowledged_and_nothing_escalates(bot: Bot) -> None:
    info = declare(bot, commander=BOB)
    assert info.acknowledged_by == BOB and info.acknowledged_at == START
    assert Ids.ACK not in buttons(summary(bot, info))
    assert rows(bot, "incident.escalate") == []
    assert kinds(bot, info) == ["declared", "acknowledged"]
    assert dms(bot, BOB) == []


def test_field_errors_come_back_on_the_modal(bot: Bot) -> None:
    bot.slack.slash("/incident", "", user=BOB)
    bot.fake.wait_for("views.open")
    reply = bot.slack.submit_view({**DECLARATION, "title": "   "}, user=BOB, callback_id=Ids.MODAL)
    assert (reply.json() or {}).get("errors") == {"title": "This field is required."}


# -- acknowledgment and escalation -------------------------------------------------------------------------------


def test_only_the_commander_acknowledges_and_then_nothing_escalates(bot: Bot) -> None:
    info = declare(bot)
    assert {(r.kind, json.loads(r.payload)["user_id"], r.due_at) for r in rows(bot, "incident.escalate")} == {
        ("incident.escalate", CAROL, START + 5 * MINUTE),
        ("incident.escalate", DAVE, START + 5 * MINUTE),
    }
    bot.slack.click(Ids.ACK, user=DAVE, message=summary(bot, info))
    wait_until(
        lambda: any("只有事件指挥官（<@U_ALICE>）可以确认接手" in e for e in ephemeral_texts(bot, DAVE)),
        what="the refusal, in Dave's language",
    )
    assert current(bot, info).acknowledged_at is None

    bot.clock.set(START + 2 * MINUTE)
    bot.slack.click(Ids.ACK, user=ALICE, message=with_button(bot, ALICE, Ids.ACK))
    done = wait_until(lambda: current(bot, info).acknowledged_at and current(bot, info), what="the acknowledgment")
    assert done.acknowledged_by == ALICE and done.acknowledged_at == START + 2 * MINUTE
    wait_until(lambda: "Acknowledged by <@U_ALICE>" in block_text(summary(bot, info)), what="the summary")
    assert Ids.ACK not in buttons(summary(bot, info))
    wait_until(lambda: "你已确认接手 INC-2026-001" in bot.fake.messages(ALICE)[-1]["text"], what="the DM replaced")
    assert buttons(bot.fake.messages(ALICE)[-1]) == []
    assert any("acknowledged INC-2026-001" in p["text"] for p in posts(bot, info.channel_id))
    assert bot.runtime.tick(START + 10 * MINUTE).sent == 0
    assert dms(bot, CAROL) == [] and dms(bot, DAVE) == []


def test_no_acknowledgment_escalates_once_at_the_window_and_a_backup_takes_it(bot: Bot) -> None:
    info = declare(bot, severity="SEV2", responders=[])
    assert bot.runtime.tick(START + 15 * MINUTE - timedelta(seconds=1)).sent == 0
    assert dms(bot, CAROL) == []
    report = bot.runtime.tick(START + 15 * MINUTE)
    assert report.sent == 2, report
    carol = dms(bot, CAROL)[-1]
    assert "not acknowledged by its commander <@U_ALICE> within 15 minutes" in carol["text"]
    assert f"<#{info.channel_id}>" in carol["text"] and buttons(carol) == [Ids.ACK]
    assert any("the backup list was called" in p["text"] for p in posts(bot, info.channel_id))
    assert bot.runtime.tick(START + 59 * MINUTE).sent == 0  # once
    assert len(dms(bot, CAROL)) == 1 and kinds(bot, info).count("escalated") == 1

    bot.clock.set(START + 17 * MINUTE)
    bot.slack.click(Ids.ACK, user=CAROL, message=with_button(bot, CAROL, Ids.ACK))
    taken = wait_until(lambda: CAROL in current(bot, info).responders and current(bot, info), what="Carol joins")
    assert taken.acknowledged_by == CAROL
    wait_until(
        lambda: any(c.params["users"] == CAROL for c in bot.fake.calls("conversations.invite")), what="Carol invited"
    )
    wait_until(lambda: "joined as a responder" in bot.fake.messages(CAROL)[-1]["text"], what="the DM replaced")
    wait_until(lambda: "Acknowledged by <@U_CAROL>" in block_text(summary(bot, info)), what="the summary")
    timeline = current(bot, info).timeline
    assert [(e.kind, e.actor_id) for e in timeline] == [
        ("declared", BOB),
        ("escalated", "coordbot"),
        ("acknowledged", CAROL),
    ]


def test_sev4_never_escalates_nor_reminds(bot: Bot) -> None:
    declare(bot, severity="SEV4")
    assert rows(bot, "incident.escalate") == [] and rows(bot, "incident.update_due") == []


# -- running -------------------------------------------------------------------------------------------------------


def test_update_reminders_follow_the_cadence_and_stop_when_resolved(bot: Bot) -> None:
    info = declare(bot, commander=BOB)
    assert bot.runtime.tick(START + 29 * MINUTE).sent == 0
    assert bot.runtime.tick(START + 30 * MINUTE).sent == 1
    assert "No update on *INC-2026-001 · Checkout is down* for 30 minutes" in dms(bot, BOB)[-1]["text"]
    assert bot.runtime.tick(START + 59 * MINUTE).sent == 0
    assert bot.runtime.tick(START + 60 * MINUTE).sent == 1
    assert "for 60 minutes" in dms(bot, BOB)[-1]["text"]

    bot.clock.set(START + 70 * MINUTE)
    run(bot, info, "update Rolled back the deploy; error rate falling <@U_CAROL|carol>", user=CAROL)  # anyone
    wait_until(lambda: "update" in kinds(bot, info), what="the update")
    in_channel = wait_until(
        lambda: [p for p in posts(bot, info.channel_id) if "Update on" in p["text"]], what="update in channel"
    )[-1]
    assert "Rolled back the deploy" in block_text(in_channel) and "<@U_CAROL>" in block_text(in_channel)
    thread = wait_until(
        lambda: [p for p in posts(bot, INCIDENTS) if p.get("thread_ts") == info.announce_ts],
        what="update in the announcement's thread",
    )[-1]
    assert "Rolled back the deploy" in block_text(thread)
    assert bot.runtime.tick(START + 90 * MINUTE).sent == 0  # counted from the update now
    assert bot.runtime.tick(START + 100 * MINUTE).sent == 1

    bot.clock.set(START + 110 * MINUTE)
    run(bot, info, "status monitoring", user=BOB)
    wait_until(lambda: current(bot, info).status == Status.MONITORING, what="monitoring")
    run(bot, info, "update Error rate back to normal", user=BOB)  # the same minute: one reminder still planned
    wait_until(lambda: kinds(bot, info).count("update") == 2, what="second update")
    assert bot.runtime.tick(START + 139 * MINUTE).sent == 0  # a status change counts as an update
    assert bot.runtime.tick(START + 140 * MINUTE).sent == 1
    resolve(bot, info, user=BOB, at=START + 150 * MINUTE)
    assert bot.runtime.tick(START + 10 * 60 * MINUTE).sent == 0
    assert [r.state for r in rows(bot, "incident.update_due") if r.state == "pending"] == []


def test_status_is_for_the_commander_and_responders_updates_for_anyone(bot: Bot) -> None:
    info = declare(bot)
    bot.slack.click("incident_status_identified", user=CAROL, message=summary(bot, info))
    wait_until(
        lambda: any("Only the commander (<@U_ALICE>) or a responder" in e for e in ephemeral_texts(bot, CAROL)),
        what="refusal",
    )
    assert current(bot, info).status == Status.INVESTIGATING

    bot.clock.set(START + 8 * MINUTE)
    bot.slack.click("incident_status_identified", user=DAVE, message=summary(bot, info))
    wait_until(lambda: current(bot, info).status == Status.IDENTIFIED, what="identified")
    post = wait_until(lambda: [p for p in posts(bot, info.channel_id) if "→" in p["text"]], what="status post")[-1]
    assert "Investigating → *🎯 Identified* (<@U_DAVE>)" in post["text"]
    wait_until(lambda: "🎯 Identified" in block_text(announcement(bot, info)), what="announcement updated")
    assert buttons(summary(bot, info)) == [
        Ids.ACK,
        "incident_status_investigating",
        "incident_status_monitoring",
        Ids.RESOLVE,
    ]

    run(bot, info, "status identified", user=ALICE)
    wait_until(lambda: any("已经是“已定位”" in e for e in ephemeral_texts(bot, ALICE)), what="unchanged")
    run(bot, info, "status 观察中", user=ALICE)
    wait_until(lambda: current(bot, info).status == Status.MONITORING, what="monitoring")
    run(bot, info, "status sleeping", user=ALICE)
    wait_until(lambda: any("investigating`、`identified`" in e for e in ephemeral_texts(bot, ALICE)), what="usage")

    run(bot, info, "update Users can pay again by card", user=CAROL)
    wait_until(lambda: "update" in kinds(bot, info), what="Carol's update")
    assert bot.slack.slash("/incident", "status identified", user=BOB, channel=GENERAL).status == 200
    wait_until(
        lambda: any("Run this in an incident's channel" in e for e in ephemeral_texts(bot, BOB)),
        what="outside the channel",
    )
    history = [(e.kind, e.detail.get("to")) for e in current(bot, info).timeline if e.kind == "status"]
    assert history == [("status", "identified"), ("status", "monitoring")]


def test_roles_and_handing_over_command(bot: Bot) -> None:
    info = declare(bot, commander=BOB, responders=[DAVE])
    run(bot, info, "lead @carol", user=DAVE)
    wait_until(
        lambda: any("只有 INC-2026-001 的事件指挥官（<@U_BOB>）" in e for e in ephemeral_texts(bot, DAVE)),
        what="refusal",
    )

    run(bot, info, "role comms @carol", user=BOB)
    wait_until(lambda: current(bot, info).comms_id == CAROL, what="comms lead")
    assert "comms lead of *INC-2026-001" in wait_until(lambda: dms(bot, CAROL), what="Carol's DM")[-1]["text"]
    wait_until(
        lambda: any(p["text"] == "📣 <@U_BOB> made <@U_CAROL> comms lead." for p in posts(bot, info.channel_id)),
        what="channel sees it",
    )
    wait_until(lambda: "<@U_CAROL>" in block_text(summary(bot, info)), what="summary shows comms")

    run(bot, info, "lead <@U_DAVE|dave>", user=BOB)
    handed = wait_until(lambda: current(bot, info).commander_id == DAVE and current(bot, info), what="hand-over")
    assert BOB in handed.responders and DAVE not in handed.responders
    assert "你现在是事件指挥官" in wait_until(lambda: dms(bot, DAVE), what="new commander told")[-1]["text"]
    assert (
        "You handed command of *INC-2026-001* to <@U_DAVE>"
        in wait_until(lambda: dms(bot, BOB), what="old commander told")[-1]["text"]
    )
    wait_until(
        lambda: any("handed command to <@U_DAVE>" in p["text"] for p in posts(bot, info.channel_id)),
        what="channel sees the hand-over",
    )
    wait_until(lambda: "<@U_DAVE>" in block_text(announcement(bot, info)), what="announcement shows the commander")
    run(bot, info, "lead @alice", user=BOB)
    wait_until(
        lambda: any("Only the incident commander (<@U_DAVE>)" in e for e in ephemeral_texts(bot, BOB)),
        what="Bob no longer leads",
    )
    run(bot, info, "role responder @alice", user=DAVE)
    wait_until(lambda: ALICE in current(bot, info).responders, what="Alice added")
    run(bot, info, "role comms @carol", user=DAVE)
    wait_until(
        lambda: any("<@U_CAROL> 已在 INC-2026-001 中担任该角色" in e for e in ephemeral_texts(bot, DAVE)),
        what="nothing to change",
    )
    run(bot, info, "role scribe @carol", user=DAVE)
    wait_until(lambda: any("/incident role comms @姓名" in e for e in ephemeral_texts(bot, DAVE)), what="usage")
    assert [
        (e.kind, e.detail.get("role") or e.detail.get("to"))
        for e in current(bot, info).timeline
        if e.kind in ("role", "lead")
    ] == [("role", "comms"), ("lead", DAVE), ("role", "responder")]


def test_pushpin_puts_a_message_on_the_timeline_with_its_author(bot: Bot) -> None:
    info = declare(bot, commander=BOB)
    bot.clock.set(START + 20 * MINUTE)
    message = bot.fake.add_message(
        info.channel_id,
        "Root cause: the TLS cert expired at 13:54 (&lt;prod&gt;, <https://wiki.example.com/tls|runbook>)",
        user=CAROL,
    )
    bot.slack.react("pushpin", channel=info.channel_id, ts=message["ts"], user=DAVE)
    pinned = wait_until(lambda: [e for e in current(bot, info).timeline if e.kind == "pinned"], what="pinned")
    assert (pinned[0].text, pinned[0].actor_id, pinned[0].detail) == (
        "Root cause: the TLS cert expired at 13:54 (<prod>, runbook (https://wiki.example.com/tls))",
        CAROL,
        {"pinned_by": DAVE},
    )
    assert START <= pinned[0].at <= START + 20 * MINUTE
    assert bot.fake.calls("conversations.history")[-1].params["latest"] == message["ts"]
    wait_until(
        lambda: any("已记入 INC-2026-001 的时间线" in e for e in ephemeral_texts(bot, DAVE)), what="confirmation"
    )
    bot.slack.react("pushpin", channel=info.channel_id, ts=message["ts"], user=BOB)  # a second 📌: still one entry
    reply = bot.fake.add_message(info.channel_id, "Renewed; watching", user=DAVE, thread_ts=message["ts"])
    bot.slack.react("pushpin", channel=info.channel_id, ts=reply["ts"], user=BOB)
    wait_until(lambda: len([e for e in current(bot, info).timeline if e.kind == "pinned"]) == 2, what="reply pinned")
    assert bot.fake.calls("conversations.replies")
    other = bot.fake.add_message(GENERAL, "unrelated", user=CAROL)
    bot.slack.react("pushpin", channel=GENERAL, ts=other["ts"], user=CAROL)
    bot.slack.react("white_check_mark", channel=info.channel_id, ts=message["ts"], user=CAROL)
    bot.slack.react("pushpin", channel=info.channel_id, ts=message["ts"], user=DAVE, removed=True)
    bot.slack.react("pushpin", channel=info.channel_id, ts=reply["ts"], user=BOB, removed=True)
    wait_until(
        lambda: [e.text for e in current(bot, info).timeline if e.kind == "pinned"] == [pinned[0].text],
        what="the reply taken off (Bob's 📌 stays)",
    )


# -- resolving and the review ------------------------------------------------------------------------------------------


def resolve(bot: Bot, info: IncidentInfo, *, user: str, at: Any, **values: Any) -> dict[str, Any] | None:
    """Press Resolve on the summary and submit the resolve modal; returns the modal's answer."""
    bot.clock.set(at)
    opened = len(bot.fake.calls("views.open"))
    bot.slack.click(Ids.RESOLVE, user=user, message=summary(bot, info))
    bot.fake.wait_for("views.open", opened + 1)
    reply = bot.slack.submit_view(
        {"summary": "Renewed the certificate and restarted the gateway.", **values},
        user=user,
        callback_id=Ids.RESOLVE_MODAL,
    )
    assert reply.status == 200
    answer = reply.json()
    if answer is None:
        wait_until(lambda: len(reviews(bot, info)) >= 3, timeout=10, what="the review draft")
    return answer


def reviews(bot: Bot, info: IncidentInfo) -> list[dict[str, Any]]:
    """The review draft's messages posted in the incident channel."""
    return [p for p in posts(bot, info.channel_id) if p["text"].startswith("Review draft")]


def test_resolve_posts_the_resolution_the_review_draft_and_tracks_follow_ups(bot: Bot) -> None:
    info = declare(bot, commander=BOB, responders=[DAVE])
    bot.clock.set(START + 10 * MINUTE)
    run(bot, info, "update Gateway returns 502; investigating the cert", user=DAVE)
    run(bot, info, "decision Fail over to the EU gateway", user=BOB)
    wait_until(lambda: "decision" in kinds(bot, info), what="decision")
    message = bot.fake.add_message(info.channel_id, "cert expired at 13:54", user=DAVE)
    bot.slack.react("pushpin", channel=info.channel_id, ts=message["ts"], user=BOB)
    wait_until(lambda: "pinned" in kinds(bot, info), what="pin")

    bad = resolve(bot, info, user=DAVE, at=START + 95 * MINUTE, follow_ups="Add cert alerts — @carol — someday soon")
    assert bad is not None and set(bad["errors"]) == {"follow_ups"}
    bot.slack.submit_view(
        {
            "summary": "Renewed the certificate and restarted the gateway.",
            "decisions": "Keep the EU gateway as standby",
            "follow_ups": "Add cert expiry alerts — @carol — 2026-12-10 — alert rule\n"
            "Automate cert rotation — <@U_DAVE> — 2026-12-17",
        },
        user=DAVE,
        callback_id=Ids.RESOLVE_MODAL,
    )
    done = wait_until(lambda: current(bot, info).resolved and current(bot, info), timeout=10, what="resolved")
    assert done.resolved_by == DAVE and done.resolved_at == START + 95 * MINUTE

    resolution = wait_until(
        lambda: [p for p in posts(bot, info.channel_id) if "resolved by" in p["text"]], what="resolution post"
    )[-1]
    assert "after 1 h 35 min" in resolution["text"] and "Renewed the certificate" in resolution["text"]
    wait_until(
        lambda: (
            "Resolved" in block_text(announcement(bot, info)) and "1 h 35 min" in block_text(announcement(bot, info))
        ),
        what="announcement resolved",
    )
    assert any(p.get("thread_ts") == info.announce_ts and "resolved by" in p["text"] for p in posts(bot, INCIDENTS))
    wait_until(lambda: buttons(summary(bot, info)) == [], what="summary without buttons")

    review = wait_until(lambda: len(reviews(bot, info)) >= 3 and reviews(bot, info), what="the review draft")
    text = "\n".join(block_text(p) for p in review)
    for part in (
        "Review draft (复盘) · INC-2026-001",
        "Summary",
        "Renewed the certificate",
        "Impact",
        "All web customers cannot pay",
        "Duration",
        "1 h 35 min",
        "Timeline",
        "declared the incident",
        "update: Gateway returns 502",
        "📌 cert expired at 13:54",
        "resolved (Investigating → Resolved): Renewed",
        "Decisions",
        "Fail over to the EU gateway",
        "Keep the EU gateway as standby",
        "Follow-up action items",
        "ACT-2026-001 · Add cert expiry alerts — <@U_CAROL> — due",
        "ACT-2026-002 · Automate cert rotation — <@U_DAVE>",
    ):
        assert part in text, part
    assert buttons(review[-1]) == [Ids.REVIEW_MEETING]

    items = bot.runtime.services.actions.for_source("incident", info.id)
    assert [(a.code, a.owner_id, a.escalate_to, a.source_code) for a in items] == [
        ("ACT-2026-001", CAROL, BOB, "INC-2026-001"),
        ("ACT-2026-002", DAVE, BOB, "INC-2026-001"),
    ]
    assert {r.kind for r in rows(bot) if r.subject.startswith("action:")} >= {"action.reminder", "action.overdue"}
    wait_until(lambda: [d for d in dms(bot, CAROL) if "ACT-2026-001" in d["text"]], what="Carol gets her item")

    run(bot, info, "status identified", user=BOB)
    wait_until(
        lambda: any("INC-2026-001 is already resolved" in e for e in ephemeral_texts(bot, BOB)),
        what="resolved is final",
    )

    opened = len(bot.fake.calls("views.open"))
    bot.slack.click(Ids.REVIEW_MEETING, user=BOB, message=with_button(bot, info.channel_id, Ids.REVIEW_MEETING))
    view = bot.fake.wait_for("views.open", opened + 1)[-1].params["view"]
    assert view["callback_id"] == "meeting_modal"
    values = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert values["title"]["initial_value"] == "Review (复盘) INC-2026-001: Checkout is down"
    assert values["host"]["initial_user"] == BOB and set(values["participants"]["initial_users"]) == {BOB, DAVE}
    assert values["channel"]["initial_conversation"] == info.channel_id
    assert values["start"]["initial_value"].endswith("10:00")
    reply = bot.slack.submit_view({}, user=BOB, callback_id="meeting_modal")
    assert reply.status == 200 and reply.json() is None, reply.body

    def review_meeting() -> Any:
        try:
            return bot.runtime.services.meetings.get(1)
        except NotFound:
            return None

    meeting = wait_until(review_meeting, what="review meeting")
    assert meeting.channel_id == info.channel_id and len(meeting.agenda) == 3


def test_action_items_raised_in_the_channel_link_to_the_incident(bot: Bot) -> None:
    info = declare(bot, commander=ALICE)
    services = bot.runtime.services
    assert services.incidents.by_channel(info.channel_id) == services.incidents.get(info.id)
    assert services.incidents.source_for(GENERAL) == {}
    (item,) = services.actions.create_many(
        team_id=info.team_id,
        creator_id=DAVE,
        now=START,
        channel_id=info.channel_id,
        drafts=[ActionDraft("Write the status page post", CAROL, START + timedelta(days=1))],
        **services.incidents.source_for(info.channel_id),
    )
    assert (item.source_type, item.source_code, item.escalate_to) == ("incident", "INC-2026-001", ALICE)
    assert [a.code for a in services.incidents.review(info.id).follow_ups] == [item.code]
    assert [(i.code, n) for i, n in services.incidents.with_open_followups(info.team_id, INCIDENTS)] == [
        ("INC-2026-001", 1)
    ]


def test_the_review_exports_as_markdown_from_the_cli_and_from_slack(bot: Bot, database_url: str) -> None:
    info = declare(bot, commander=BOB)
    resolve(
        bot,
        info,
        user=BOB,
        at=START + 3 * 60 * MINUTE + 5 * MINUTE,
        follow_ups="Add cert expiry alerts — @carol — 2026-12-10",
    )
    env = {"DATABASE_URL": database_url, "COORDBOT_TZ": "Asia/Shanghai", "COORDBOT_LANG": "zh"}
    result = CliRunner().invoke(
        main, ["export", "--kind", "incidents", "--format", "md", "--id", "INC-2026-001"], env=env
    )
    assert result.exit_code == 0, result.output
    md = result.stdout_bytes.decode("utf-8")
    for part in (
        "# 事件复盘",
        "## 📝 复盘草稿 · INC-2026-001 · Checkout is down",
        "| 严重程度 | SEV1 · 严重 |",
        "| 持续时间 | 3 小时 5 分钟 |",
        "### 时间线",
        "启动应急响应（SEV1，事件指挥官 U_BOB）",
        "### 后续行动项",
        "ACT-2026-001 · Add cert expiry alerts — U_CAROL",
        "All web customers cannot pay &lt;!channel&gt; &amp; co",
    ):
        assert part in md, part
    data = json.loads(
        CliRunner().invoke(main, ["export", "--kind", "incidents", "--format", "json"], env=env).stdout_bytes
    )
    assert data[0]["code"] == "INC-2026-001" and data[0]["duration_minutes"] == 185
    assert [e["kind"] for e in data[0]["timeline"]] == ["declared", "acknowledged", "resolved"]
    assert data[0]["action_items"] == ["ACT-2026-001"]

    bot.slack.slash("/incident", "export inc-2026-001", user=CAROL)
    shown = wait_until(lambda: [t for t in ephemeral_texts(bot, CAROL) if t.startswith("```")], what="export")
    assert "## 📝 Review draft (复盘) · INC-2026-001" in shown[0] and "| Duration | 3 h 5 min |" in shown[0]
    bot.slack.slash("/incident", "export INC-2026-999", user=CAROL)
    wait_until(
        lambda: any("There is no incident INC-2026-999" in e for e in ephemeral_texts(bot, CAROL)), what="not found"
    )


# -- Block Kit, settings, manifest -----------------------------------------------------------------------------


def _valid(message: list[Block]) -> None:
    assert len(message) <= 50
    for block in message:
        block.to_dict()  # slack_sdk's own validators


def test_builders_stay_within_block_kit_limits(bot: Bot) -> None:
    info = declare(bot, title="x" * 150, description="d" * 3000, impact="<@U_BOB> " + "i" * 2990, commander=BOB)
    services = bot.runtime.services
    for n in range(200):
        services.incidents.post_update(info.id, user_id=DAVE, text=f"step {n}: " + "y" * 590, now=START + n * MINUTE)
    services.incidents.resolve(
        info.id,
        user_id=BOB,
        now=START + 200 * MINUTE,
        draft=ResolutionDraft(summary="s" * 3000, decisions=tuple("z" * 500 for _ in range(30))),
    )
    review = services.incidents.review(info.id)
    messages = blocks.review_messages("zh", review, tz="Asia/Shanghai", now=START + 200 * MINUTE)
    assert len(messages) >= 4
    for message in messages:
        _valid(message)
    for lang in ("en", "zh"):
        _valid(blocks.summary_blocks(lang, review.incident, tz="UTC", now=START))
        _valid(blocks.announcement_blocks(lang, review.incident, tz="UTC", now=START))
        for view in (
            blocks.incident_modal(lang, meta=ModalMeta(GENERAL), user_id=BOB, title="t" * 300),
            blocks.resolve_modal(lang, review.incident, now=START),
        ):
            view.to_dict()
            assert [b.block_id for b in view.blocks if b.type == "input"] in (list(FIELDS), list(RESOLVE_FIELDS))


def test_per_severity_settings_are_read_and_checked() -> None:
    settings = Settings.from_env(
        {
            "COORDBOT_INCIDENT_CHANNEL": "C_INC",
            "COORDBOT_INCIDENT_ESCALATION": "U1, <@U2>",
            "COORDBOT_INCIDENT_ACK_MINUTES": "2,10,30,0",
            "COORDBOT_INCIDENT_UPDATE_MINUTES": "15, 30, 120, 0",
        }
    )
    assert settings.incident_channel == "C_INC" and settings.incident_escalation == ("U1", "U2")
    assert settings.incident_ack_minutes == (2, 10, 30, 0) and settings.incident_update_minutes == (15, 30, 120, 0)
    defaults = Settings.from_env({})
    assert defaults.incident_ack_minutes == (5, 15, 60, 0) and defaults.incident_update_minutes == (30, 60, 240, 0)
    for bad in ("5,15,60", "5,15,sixty,0", "5,-1,60,0"):
        with pytest.raises(ConfigError, match="COORDBOT_INCIDENT_ACK_MINUTES"):
            Settings.from_env({"COORDBOT_INCIDENT_ACK_MINUTES": bad})


def test_the_manifest_asks_for_what_incidents_need_and_no_more() -> None:
    from bot.manifest import COMMANDS

    needed = {"channels:history", "channels:manage", "pins:write"}  # history for 📌 text, create+invite, pin
    assert needed <= set(BOT_SCOPES)
    # channels:join is for posting records where reactions reach the bot (handlers.membership), files:write for
    # the weekly digest's chart; neither is for incidents, and these stay out altogether
    assert not {"channels:write", "groups:history", "groups:write", "chat:write.customize"} & set(BOT_SCOPES)
    incident = next(c for c in COMMANDS if c["command"] == "/incident")
    assert incident["should_escape"] is True  # mentions arrive as <@U…>
    assert KINDS["incidents"].subject == "incident"


def test_action_items_raised_in_the_incident_channel_link_to_it(bot: Bot) -> None:
    info = declare(bot)
    channel = info.channel_id
    assert channel
    assert (
        bot.slack.slash(
            "/action", "<@U_DAVE|dave> roll back the deploy by tomorrow 10am", user=BOB, channel=channel
        ).status
        == 200
    )
    item = wait_until(lambda: bot.runtime.services.actions.for_source("incident", info.id), what="linked item")[0]
    assert (item.source_code, item.escalate_to) == (info.code, info.commander_id)


def test_the_digest_lists_an_incident_until_its_follow_ups_are_done(bot: Bot) -> None:
    info = declare(bot)
    (item,) = bot.runtime.services.actions.create_many(
        team_id=info.team_id,
        creator_id=BOB,
        now=bot.clock(),
        source_type="incident",
        source_id=info.id,
        source_code=info.code,
        escalate_to=info.commander_id,
        channel_id=info.channel_id or "",
        drafts=[ActionDraft(title="Add a canary check", owner_id=DAVE, due=bot.clock() + timedelta(days=3))],
    )
    channel = info.channel_id or ""
    bot.slack.slash("/digest", "now", user=BOB, channel=channel)
    digest = wait_until(
        lambda: [m for m in posts(bot, channel) if "digest_incidents" in json.dumps(m)],
        what="a digest listing the incident",
    )[-1]
    assert info.code in block_text(digest) and "1 follow-ups open" in block_text(digest)
    bot.runtime.services.actions.set_status(item.id, user_id=DAVE, status=ActionStatus.DONE, now=bot.clock())
    before = len(posts(bot, channel))
    bot.slack.slash("/digest", "now", user=BOB, channel=channel)
    latest = wait_until(lambda: posts(bot, channel)[before:], what="second digest")[-1]
    assert "digest_incidents" not in json.dumps(latest)
