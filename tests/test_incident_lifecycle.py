"""Incidents that change as they unfold: severity, edits with their history, reopening, lifecycle times."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlmodel import col

from bot.config import Settings
from bot.services.incident_text import Severity, Status
from bot.services.incidents import IncidentInfo
from handlers.blocks import incident as blocks
from handlers.blocks.incident import Ids
from handlers.sandbox.slack_api import BOB, CAROL, DAVE, FakeSlack
from storage.models import OutboxItem
from tests.conftest import START, Bot
from tests.helpers import block_text, declare, posts, wait_until

pytestmark = pytest.mark.both_modes  # every flow here also runs split into serving process and worker

INCIDENTS = "C_INCIDENTS"
MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)


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


def dms(bot: Bot, user: str, containing: str = "") -> list[dict[str, Any]]:
    """Direct messages the bot sent a user, those whose text holds `containing`."""
    return [p for p in posts(bot, user) if containing in p["text"]]


def ephemeral_texts(bot: Bot, user: str) -> list[str]:
    """Ephemeral replies a user saw."""
    return [str(e["text"] or "") for e in bot.fake.ephemerals(user=user)]


def refused(bot: Bot, user: str, text: str) -> None:
    """Wait for an ephemeral reply to `user` that holds `text`."""
    wait_until(lambda: any(text in e for e in ephemeral_texts(bot, user)), what=f"the reply {text!r}")


def run(bot: Bot, info: IncidentInfo, text: str, *, user: str) -> None:
    """A `/incident …` command typed in the incident channel."""
    assert bot.slack.slash("/incident", text, user=user, channel=info.channel_id).status == 200


def current(bot: Bot, info: IncidentInfo) -> IncidentInfo:
    """The incident as stored now, with its timeline."""
    return bot.runtime.services.incidents.get(info.id, with_timeline=True)


def summary(bot: Bot, info: IncidentInfo) -> dict[str, Any]:
    """The pinned summary as it is now."""
    info = current(bot, info)
    return bot.fake.message(info.channel_id, info.summary_ts or "") or {}


def announcement(bot: Bot, info: IncidentInfo) -> dict[str, Any]:
    """The announcement as it is now."""
    info = current(bot, info)
    return bot.fake.message(info.announce_channel_id, info.announce_ts or "") or {}


def pending(bot: Bot, kind: str) -> list[tuple[str, Any]]:
    """(user or "", due time) of the pending outbox rows of one kind."""
    with bot.runtime.services.session_scope() as s:
        rows = s.scalars(select(OutboxItem).where(col(OutboxItem.kind) == kind, col(OutboxItem.state) == "pending"))
        return sorted((str(json.loads(r.payload).get("user_id") or ""), r.due_at) for r in rows)


def pick_severity(bot: Bot, info: IncidentInfo, severity: str, *, user: str) -> None:
    """Choose a severity in the summary's select."""
    assert (
        bot.slack.click(Ids.SEVERITY, user=user, message=summary(bot, info), value=f"{info.id}:{severity}").status
        == 200
    )


UPDATE_DUE = "No update on"


def asked_to_acknowledge(bot: Bot, user: str) -> list[dict[str, Any]]:
    """Direct messages with the Acknowledge button (the escalation, for a backup)."""
    return [p for p in posts(bot, user) if Ids.ACK in json.dumps(p.get("blocks") or [])]


# -- severity ---------------------------------------------------------------------------------------------------


def test_raising_the_severity_reschedules_the_reminders_exactly_once(bot: Bot) -> None:
    info = declare(bot, user=CAROL, commander=BOB, severity="SEV3", responders=[])  # Bob has not acknowledged
    assert pending(bot, "incident.escalate") == [(CAROL, START + 60 * MINUTE), (DAVE, START + 60 * MINUTE)]
    assert pending(bot, "incident.update_due") == [("", START + 240 * MINUTE)]

    bot.clock.set(START + 2 * MINUTE)
    pick_severity(bot, info, "SEV1", user=BOB)
    wait_until(lambda: current(bot, info).severity == Severity.SEV1, what="SEV1")
    # the old rows are cancelled and new ones planned at SEV1's windows, each once
    assert pending(bot, "incident.escalate") == [(CAROL, START + 5 * MINUTE), (DAVE, START + 5 * MINUTE)]
    assert pending(bot, "incident.update_due") == [("", START + 30 * MINUTE)]

    told = wait_until(
        lambda: [p for p in posts(bot, info.channel_id) if "changed the severity" in p["text"]], what="post"
    )
    assert "SEV3 · Moderate → *SEV1 · Critical*" in told[-1]["text"] and "Updates every 30 minutes" in told[-1]["text"]
    thread = wait_until(
        lambda: [p for p in posts(bot, INCIDENTS) if p.get("thread_ts") == info.announce_ts], what="announcement thread"
    )
    assert thread[-1]["reply_broadcast"] is True and "SEV1 · Critical" in thread[-1]["text"]
    wait_until(lambda: "SEV1 · Critical" in block_text(announcement(bot, info)), what="announcement updated in place")
    wait_until(lambda: "SEV1 · Critical" in block_text(summary(bot, info)), what="summary updated in place")
    assert [(e.kind, e.text, e.detail) for e in current(bot, info).timeline if e.kind == "severity"] == [
        ("severity", "SEV3 → SEV1", {"from": "SEV3", "to": "SEV1"})
    ]

    assert bot.runtime.tick(START + 5 * MINUTE - timedelta(seconds=1)).sent == 0
    assert bot.runtime.tick(START + 5 * MINUTE).sent == 2  # the backups, at SEV1's five minutes
    assert bot.runtime.tick(START + 30 * MINUTE).sent == 1  # the update reminder, at SEV1's cadence
    assert "(SEV1: one every 30 minutes)" in dms(bot, BOB, UPDATE_DUE)[-1]["text"]
    assert bot.runtime.tick(START + 60 * MINUTE).sent == 1  # the next update; the old escalation time brings nothing
    assert bot.runtime.tick(START + 240 * MINUTE).sent == 1  # one update reminder, not the old one as well
    assert len(asked_to_acknowledge(bot, CAROL)) == 1 and len(asked_to_acknowledge(bot, DAVE)) == 1
    assert len(dms(bot, BOB, UPDATE_DUE)) == 3
    assert len(pending(bot, "incident.update_due")) == 1


def test_lowering_the_severity_moves_the_reminders_later_and_a_stale_claimed_row_is_not_sent(bot: Bot) -> None:
    info = declare(bot, user=CAROL, commander=BOB, severity="SEV1", responders=[])
    bot.clock.set(START + 2 * MINUTE)
    run(bot, info, "severity sev3", user=BOB)
    wait_until(lambda: current(bot, info).severity == Severity.SEV3, what="SEV3")
    assert pending(bot, "incident.escalate") == [(CAROL, START + 60 * MINUTE), (DAVE, START + 60 * MINUTE)]
    assert pending(bot, "incident.update_due") == [("", START + 240 * MINUTE)]

    # a row a tick had claimed just before the change (so it was not cancelled) comes back after its lease
    with bot.runtime.services.session_scope() as s:
        s.execute(
            update(OutboxItem)
            .where(col(OutboxItem.kind) == "incident.escalate", col(OutboxItem.due_at) == START + 5 * MINUTE)
            .values(state="pending")
        )
    report = bot.runtime.tick(START + 5 * MINUTE)
    assert (report.sent, report.skipped) == (0, 2)  # planned at SEV1: skipped at delivery
    assert bot.runtime.tick(START + 30 * MINUTE).sent == 0  # SEV1's update time: nothing
    assert bot.runtime.tick(START + 59 * MINUTE).sent == 0
    assert bot.runtime.tick(START + 60 * MINUTE).sent == 2  # SEV3's hour: the backups, once each
    assert bot.runtime.tick(START + 239 * MINUTE).sent == 0
    assert bot.runtime.tick(START + 240 * MINUTE).sent == 1  # SEV3's four hours: the update reminder
    assert bot.runtime.tick(START + 241 * MINUTE).sent == 0
    assert len(asked_to_acknowledge(bot, CAROL)) == 1 and len(dms(bot, BOB, UPDATE_DUE)) == 1

    bot.clock.set(START + 250 * MINUTE)
    pick_severity(bot, info, "SEV4", user=BOB)  # SEV4 plans no reminders at all
    wait_until(lambda: current(bot, info).severity == Severity.SEV4, what="SEV4")
    assert pending(bot, "incident.update_due") == [] and pending(bot, "incident.escalate") == []


def test_only_the_commander_changes_the_severity(bot: Bot) -> None:
    info = declare(bot, commander=BOB, responders=[DAVE])
    run(bot, info, "severity SEV2", user=DAVE)  # a responder, who reads Chinese
    refused(bot, DAVE, "只有 INC-2026-001 的事件指挥官（<@U_BOB>）可以这样做")
    pick_severity(bot, info, "SEV2", user=CAROL)
    refused(bot, CAROL, "Only the incident commander (<@U_BOB>) can do that on INC-2026-001.")
    assert current(bot, info).severity == Severity.SEV1

    run(bot, info, "severity extreme", user=BOB)
    refused(bot, BOB, "Write `/incident severity SEV1` (SEV1 to SEV4).")
    run(bot, info, "severity 1", user=BOB)
    refused(bot, BOB, "INC-2026-001 is already SEV1 · Critical.")
    run(bot, info, "严重程度 SEV2", user=BOB)
    wait_until(lambda: current(bot, info).severity == Severity.SEV2, what="SEV2 in Chinese")
    assert [e.kind for e in current(bot, info).timeline].count("severity") == 1


# -- editing -------------------------------------------------------------------------------------------------


def test_the_commander_edits_title_description_and_impact_with_history(bot: Bot) -> None:
    info = declare(bot, commander=BOB, responders=[DAVE])
    bot.slack.click(Ids.EDIT, user=DAVE, message=summary(bot, info))
    refused(bot, DAVE, "只有 INC-2026-001 的事件指挥官（<@U_BOB>）可以这样做")

    bot.clock.set(START + 7 * MINUTE)
    opened = len(bot.fake.calls("views.open"))
    bot.slack.click(Ids.EDIT, user=BOB, message=summary(bot, info))
    view = bot.fake.wait_for("views.open", opened + 1)[-1].params["view"]
    assert view["callback_id"] == Ids.EDIT_MODAL
    fields = {b["block_id"]: b["element"].get("initial_value") for b in view["blocks"] if b["type"] == "input"}
    assert list(fields) == list(blocks.EDIT_FIELDS) and fields["title"] == "Checkout is down"

    reply = bot.slack.submit_view({"title": "  "}, user=BOB, callback_id=Ids.EDIT_MODAL)
    assert (reply.json() or {}).get("errors") == {"title": "This field is required."}
    reply = bot.slack.submit_view(
        {"title": "Checkout down in the EU", "impact": "EU web customers cannot pay"},
        user=BOB,
        callback_id=Ids.EDIT_MODAL,
    )
    assert reply.status == 200 and reply.json() is None, reply.body
    edited = wait_until(
        lambda: current(bot, info).title == "Checkout down in the EU" and current(bot, info), what="edit"
    )
    assert edited.impact == "EU web customers cannot pay"
    assert edited.description == "Payments fail with 502 since 13:55."  # untouched, so not on the timeline
    history = [(e.kind, e.actor_id, e.at, e.detail) for e in edited.timeline if e.kind.startswith("edit.")]
    assert history == [
        (
            "edit.title",
            BOB,
            START + 7 * MINUTE,
            {"field": "title", "before": "Checkout is down", "after": "Checkout down in the EU"},
        ),
        (
            "edit.impact",
            BOB,
            START + 7 * MINUTE,
            {
                "field": "impact",
                "before": "All web customers cannot pay <!channel> & co",
                "after": "EU web customers cannot pay",
            },
        ),
    ]
    wait_until(lambda: "INC-2026-001 · Checkout down in the EU" in block_text(summary(bot, info)), what="summary")
    wait_until(lambda: "Checkout down in the EU" in block_text(announcement(bot, info)), what="announcement")
    assert "EU web customers cannot pay" in block_text(summary(bot, info))
    wait_until(
        lambda: any("edited *INC-2026-001*: Title, Impact" in p["text"] for p in posts(bot, info.channel_id)),
        what="the channel told",
    )
    lines = blocks.timeline_lines("en", current(bot, info), "UTC")
    assert any("changed Title: “Checkout is down” → “Checkout down in the EU”" in line for line in lines)

    opened = len(bot.fake.calls("views.open"))
    run(bot, info, "edit", user=BOB)  # the same modal from the command
    assert bot.fake.wait_for("views.open", opened + 1)[-1].params["view"]["callback_id"] == Ids.EDIT_MODAL
    bot.slack.submit_view({}, user=BOB, callback_id=Ids.EDIT_MODAL)  # nothing changed: nothing recorded
    wait_until(lambda: dms(bot, BOB, "Nothing changed in INC-2026-001"), what="nothing changed")
    assert len([e for e in current(bot, info).timeline if e.kind.startswith("edit.")]) == 2


# -- reopening and lifecycle times ------------------------------------------------------------------------------


def resolve(bot: Bot, info: IncidentInfo, *, user: str, at: Any) -> None:
    """Press Resolve on the summary and submit a summary."""
    bot.clock.set(at)
    opened = len(bot.fake.calls("views.open"))
    # after a reopening, the worker may still be drawing the summary's buttons back
    shown = wait_until(
        lambda: (m := summary(bot, info)) and Ids.RESOLVE.value in json.dumps(m.get("blocks")) and m,
        what="the summary with its Resolve button",
    )
    bot.slack.click(Ids.RESOLVE, user=user, message=shown)
    bot.fake.wait_for("views.open", opened + 1)
    reply = bot.slack.submit_view({"summary": "Rolled back."}, user=user, callback_id=Ids.RESOLVE_MODAL)
    assert reply.status == 200 and reply.json() is None, reply.body
    wait_until(lambda: current(bot, info).resolved_at == at, what="resolved")


def resolution_message(bot: Bot, info: IncidentInfo) -> dict[str, Any]:
    """The newest resolution message in the incident channel (the one with Reopen)."""
    return wait_until(
        lambda: next(
            (
                m
                for m in reversed(bot.fake.messages(info.channel_id))
                if Ids.REOPEN in json.dumps(m.get("blocks") or [])
            ),
            None,
        ),
        what="the resolution with Reopen",
    )


def test_mitigated_is_the_first_move_to_monitoring_and_the_summary_shows_the_lifecycle(bot: Bot) -> None:
    info = declare(bot, commander=BOB)
    for minutes, status in ((5, "identified"), (10, "monitoring"), (15, "identified"), (20, "monitoring")):
        bot.clock.set(START + minutes * MINUTE)
        run(bot, info, f"status {status}", user=BOB)
        wait_until(lambda s=status: current(bot, info).status == s, what=status)
    done = current(bot, info)
    assert done.mitigated_at == START + 10 * MINUTE  # set once, not moved by the relapse
    marks = [e.detail.get("mitigated") for e in done.timeline if e.kind == "status"]
    assert marks == [None, True, None, None]
    text = wait_until(lambda: (t := block_text(summary(bot, info))) and "mitigated" in t and t, what="summary")
    assert "Reported <!date^" in text and "acknowledged <!date^" in text
    assert f"mitigated <!date^{int((START + 10 * MINUTE).timestamp())}^" in text


def test_reopen_within_the_window_goes_back_and_reminds_again(bot: Bot) -> None:
    info = declare(bot, commander=BOB, responders=[DAVE])
    bot.clock.set(START + 5 * MINUTE)
    run(bot, info, "status identified", user=BOB)
    wait_until(lambda: current(bot, info).status == Status.IDENTIFIED, what="identified")
    resolve(bot, info, user=BOB, at=START + 20 * MINUTE)
    assert pending(bot, "incident.update_due") == []
    message = resolution_message(bot, info)
    assert "Reopen it within 7 days" in block_text(message)

    bot.clock.set(START + 2 * DAY)
    bot.slack.click(Ids.REOPEN, user=CAROL, message=message)  # not on the team
    refused(bot, CAROL, "Only the commander (<@U_BOB>) or a responder of INC-2026-001 can do that.")
    bot.slack.click(Ids.REOPEN, user=DAVE, message=message)
    reopened = wait_until(lambda: current(bot, info).status == Status.IDENTIFIED and current(bot, info), what="open")
    assert (reopened.reopened_count, reopened.reopened_at) == (1, START + 2 * DAY)
    assert reopened.resolved_at is None and reopened.resolution is None and not reopened.resolved
    assert [(e.kind, e.actor_id, e.detail["to"]) for e in reopened.timeline if e.kind == "reopened"] == [
        ("reopened", DAVE, "identified")
    ]
    told = wait_until(lambda: [p for p in posts(bot, info.channel_id) if "reopened *INC" in p["text"]], what="told")
    assert "back to *🎯 Identified* (reopened 1×)" in told[-1]["text"]
    wait_until(  # and in the announcement's thread (posted after the channel's)
        lambda: any("reopened *INC-2026-001*" in p["text"] for p in posts(bot, INCIDENTS)), what="announcement told"
    )
    wait_until(lambda: "Reopened by <@U_DAVE>" in block_text(resolution_message_now(bot, message)), what="button gone")
    wait_until(lambda: "reopened 1×" in block_text(summary(bot, info)), what="summary shows the reopening")
    assert Ids.RESOLVE in json.dumps(summary(bot, info)["blocks"])  # running again: its buttons are back
    # update reminders resumed, counted from the reopening
    assert pending(bot, "incident.update_due") == [("", START + 2 * DAY + 30 * MINUTE)]
    assert bot.runtime.tick(START + 2 * DAY + 30 * MINUTE).sent == 1
    assert "No update on *INC-2026-001" in dms(bot, BOB, UPDATE_DUE)[-1]["text"]

    resolve(bot, info, user=BOB, at=START + 3 * DAY)  # resolving again works
    assert current(bot, info).status == Status.RESOLVED and current(bot, info).reopened_count == 1
    bot.clock.set(START + 4 * DAY)
    run(bot, info, "reopen", user=BOB)
    wait_until(lambda: current(bot, info).reopened_count == 2, what="second reopening")
    assert current(bot, info).status == Status.IDENTIFIED  # the status before the last resolution


def resolution_message_now(bot: Bot, message: dict[str, Any]) -> dict[str, Any]:
    """A message as stored now."""
    return bot.fake.message(message["channel"], message["ts"]) or {}


def test_reopening_is_refused_after_the_window_and_while_open(bot: Bot) -> None:
    info = declare(bot, commander=BOB)
    run(bot, info, "reopen", user=BOB)
    refused(bot, BOB, "INC-2026-001 is not resolved: there is nothing to reopen.")
    resolve(bot, info, user=BOB, at=START + 30 * MINUTE)
    bot.clock.set(START + 30 * MINUTE + 7 * DAY + MINUTE)
    run(bot, info, "reopen", user=BOB)
    refused(
        bot, BOB, "INC-2026-001 was resolved more than 7 days ago, and incidents can be reopened only within 7 days"
    )
    bot.slack.click(Ids.REOPEN, user=BOB, message=resolution_message(bot, info))
    wait_until(lambda: sum("more than 7 days" in e for e in ephemeral_texts(bot, BOB)) == 2, what="button refused")
    assert current(bot, info).resolved and current(bot, info).reopened_count == 0
    assert bot.slack.slash("/incident", "reopen", user=BOB).status == 200  # outside an incident channel
    refused(bot, BOB, "Run this in an incident's channel")
