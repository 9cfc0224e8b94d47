"""The review (复盘) loop: the review meeting linked both ways, its minutes as follow-ups, done when all acknowledged,
the reminder when a SEV1/SEV2 has no review meeting, follow-ups that won't be done, and minutes stored whole."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update
from sqlmodel import col

from bot.config import Settings
from bot.errors import NotFound, ValidationFailed
from bot.export import KINDS, collect, render
from bot.services.actions import ActionStatus
from bot.services.incidents import IncidentInfo, ResolutionDraft, ReviewState
from bot.services.meetings import ActionDraftLine, MeetingDraft, MinutesDraft
from handlers.blocks import actions as action_blocks
from handlers.blocks import incident as blocks
from handlers.blocks.incident import Ids
from handlers.blocks.meeting import Ids as MeetingIds
from handlers.sandbox.slack_api import ALICE, BOB, CAROL, DAVE, FakeSlack
from storage.models import ActionItem, Counter, HistoryEntry, OutboxItem
from tests.conftest import START, Bot
from tests.helpers import block_text, declare, posts, record_minutes, wait_until

pytestmark = pytest.mark.both_modes  # every flow here also runs split into serving process and worker

INCIDENTS = "C_INCIDENTS"
MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def settings(settings: Settings, fake: FakeSlack) -> Settings:
    """The shared settings with an incidents channel."""
    fake.set_channel(INCIDENTS, name="incidents")
    return dataclasses.replace(settings, incident_channel=INCIDENTS)


@pytest.fixture(autouse=True)
def no_delay(fake: FakeSlack) -> Iterator[None]:
    """A test that slows the fake down does not slow the teardown."""
    yield
    fake.set_delay(0)


# -- helpers ------------------------------------------------------------------------------------------------


def current(bot: Bot, info: IncidentInfo) -> IncidentInfo:
    """The incident as stored now."""
    return bot.runtime.services.incidents.get(info.id, with_timeline=True)


def summary_text(bot: Bot, info: IncidentInfo) -> str:
    """The pinned summary's text as it is now."""
    info = current(bot, info)
    return block_text(bot.fake.message(info.channel_id, info.summary_ts or "") or {})


def resolve(bot: Bot, info: IncidentInfo, *, at: datetime, follow_ups: str = "") -> None:
    """Resolve through the summary's button and the modal (as the commander, Bob)."""
    bot.clock.set(at)

    def summary_with_resolve() -> dict[str, Any] | None:
        # after a reopening, the worker may still be drawing the summary's buttons back
        found = bot.fake.message(info.channel_id, current(bot, info).summary_ts or "")
        return found if found is not None and Ids.RESOLVE.value in json.dumps(found.get("blocks")) else None

    summary = wait_until(summary_with_resolve, what="the summary with its Resolve button")
    opened = len(bot.fake.calls("views.open"))
    bot.slack.click(Ids.RESOLVE, user=BOB, message=summary)
    bot.fake.wait_for("views.open", opened + 1)
    values = {"summary": "Rolled back the deploy.", **({"follow_ups": follow_ups} if follow_ups else {})}
    reply = bot.slack.submit_view(values, user=BOB, callback_id=Ids.RESOLVE_MODAL)
    assert reply.status == 200 and reply.json() is None, reply.body
    wait_until(lambda: current(bot, info).resolved_at == at, what="resolved")


def review_due_rows(bot: Bot) -> list[OutboxItem]:
    """The review reminders in the outbox."""
    with bot.runtime.services.session_scope() as s:
        return list(s.scalars(select(OutboxItem).where(col(OutboxItem.kind) == "incident.review_due")).all())


def reminded(bot: Bot, user: str) -> list[dict[str, Any]]:
    """Review reminders a commander got by DM."""
    return [p for p in posts(bot, user) if "no review meeting" in p["text"]]


def count(bot: Bot, model: Any) -> int:
    """Rows in a table."""
    with bot.runtime.services.session_scope() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


# -- the review meeting, linked both ways ---------------------------------------------------------------------


def test_the_review_meeting_links_both_ways_and_its_minutes_join_the_follow_ups(bot: Bot) -> None:
    services = bot.runtime.services
    info = declare(bot, commander=BOB, responders=[DAVE], severity="SEV2")
    resolve(bot, info, at=START + 40 * MINUTE, follow_ups="Add a canary — @dave — 2026-12-10")
    assert current(bot, info).review_state == ReviewState.NONE
    wait_until(lambda: "No review meeting yet" in summary_text(bot, info), what="the summary says so")

    draft = wait_until(
        lambda: next((m for m in reversed(bot.fake.messages(info.channel_id)) if Ids.REVIEW_MEETING in str(m)), None),
        what="the review draft",
    )
    opened = len(bot.fake.calls("views.open"))
    bot.slack.click(Ids.REVIEW_MEETING, user=BOB, message=draft)
    view = bot.fake.wait_for("views.open", opened + 1)[-1].params["view"]
    assert json.loads(view["private_metadata"])["i"] == info.id  # the incident rides along in the modal
    reply = bot.slack.submit_view({}, user=BOB, callback_id=MeetingIds.MODAL)
    assert reply.status == 200 and reply.json() is None, reply.body

    linked = wait_until(lambda: current(bot, info).review_meeting_code and current(bot, info), what="the link")
    meeting = services.meetings.get(linked.review_meeting_id or 0)
    assert (meeting.incident_id, meeting.incident_code) == (info.id, "INC-2026-001")
    assert (linked.review_meeting_code, linked.review_state) == (meeting.code, ReviewState.SCHEDULED)
    card = wait_until(
        lambda: bot.fake.message(info.channel_id, services.meetings.get(meeting.id).message_ts or ""), what="card"
    )
    assert "The review (复盘) of incident INC-2026-001" in block_text(card)
    wait_until(lambda: "Review meeting MTG-2026-001: scheduled" in summary_text(bot, info), what="summary names it")

    # the minutes: their decisions and new action items join the incident's follow-ups
    reply = record_minutes(
        bot,
        card,
        user=BOB,
        decisions="Canary every deploy",
        action_items="Write the rollback runbook — @dave — 2026-12-11\nAlert on 5xx — @bob — 2026-12-12",
    )
    assert reply.status == 200 and reply.json() is None, reply.body
    review = wait_until(
        lambda: len(services.incidents.review(info.id).follow_ups) == 3 and services.incidents.review(info.id),
        what="follow-ups",
    )
    assert [(a.code, a.source_type) for a in review.follow_ups] == [
        ("ACT-2026-001", "incident"),
        ("ACT-2026-002", "meeting"),
        ("ACT-2026-003", "meeting"),
    ]
    assert review.review_decisions == ("Canary every deploy",)
    assert [(i.code, n) for i, n in services.incidents.with_open_followups(info.team_id)] == [("INC-2026-001", 3)]
    assert current(bot, info).review_state == ReviewState.MINUTES
    shown = "\n".join(
        block_text({"blocks": [b.to_dict() for b in m]})
        for m in blocks.review_messages("en", review, tz="UTC", now=bot.clock())
    )
    assert "Canary every deploy — MTG-2026-001" in shown and "ACT-2026-003 · Alert on 5xx" in shown
    assert "Review meeting MTG-2026-001: minutes recorded" in shown

    # done once every attendee (Bob hosts, Dave takes part) acknowledged the minutes
    minutes_ts = wait_until(lambda: services.meetings.get(meeting.id).minutes_ts, what="minutes posted")
    bot.slack.react("white_check_mark", channel=info.channel_id, ts=minutes_ts, user=DAVE)
    wait_until(lambda: DAVE in services.meetings.get(meeting.id).acked_by, what="Dave's acknowledgment")
    assert current(bot, info).review_state == ReviewState.MINUTES
    bot.slack.react("white_check_mark", channel=info.channel_id, ts=minutes_ts, user=BOB)
    wait_until(lambda: current(bot, info).review_state == ReviewState.DONE, what="review done")
    wait_until(lambda: "everyone acknowledged the minutes" in summary_text(bot, info), what="summary says done")
    bot.slack.react("white_check_mark", channel=info.channel_id, ts=minutes_ts, user=BOB, removed=True)
    wait_until(lambda: current(bot, info).review_state == ReviewState.MINUTES, what="withdrawn: not done")

    # the export carries the link and the lifecycle times
    kind = KINDS["incidents"]
    data = json.loads(render(kind, collect(services, kind), "json", lang="en", zone=UTC, now=bot.clock()))
    assert data[0]["review_meeting_code"] == "MTG-2026-001" and data[0]["review_state"] == "minutes"
    assert data[0]["action_items"] == ["ACT-2026-001", "ACT-2026-002", "ACT-2026-003"]
    assert data[0]["reopened_count"] == 0 and data[0]["resolved_at"].startswith("2026-11-26T06:40")


def test_a_meeting_cannot_review_another_workspaces_incident(bot: Bot) -> None:
    info = declare(bot, commander=BOB)
    draft = MeetingDraft(
        title="Review",
        goal="Agree",
        start=START + DAY,
        duration_minutes=60,
        host_id=BOB,
        participants=(BOB,),
        channel_id=info.channel_id,
    )
    with pytest.raises(NotFound):
        bot.runtime.services.meetings.create(
            team_id="T_OTHER", creator_id=BOB, draft=draft, now=START, incident_id=info.id
        )
    plain = bot.runtime.services.meetings.create(team_id="T_OTHER", creator_id=BOB, draft=draft, now=START)
    assert plain.incident_id is None and plain.incident_code == ""


# -- the reminder when a SEV1/SEV2 has no review meeting ------------------------------------------------------


def test_a_sev1_without_a_review_meeting_reminds_its_commander_once(bot: Bot) -> None:
    info = declare(bot, commander=BOB)  # SEV1
    resolve(bot, info, at=START + 60 * MINUTE)
    due = START + 60 * MINUTE + 5 * DAY  # every day is a working day in these tests
    assert [(r.due_at, r.state) for r in review_due_rows(bot)] == [(due, "pending")]
    assert bot.runtime.tick(due - MINUTE).sent == 0
    assert bot.runtime.tick(due).sent == 1
    dm = reminded(bot, BOB)[-1]
    assert "*INC-2026-001 · Checkout is down* (SEV1 · Critical) was resolved" in dm["text"]
    assert "within 5 working days" in dm["text"]
    assert [e["action_id"] for b in dm["blocks"] if b["type"] == "actions" for e in b["elements"]] == [
        Ids.REVIEW_MEETING
    ]
    assert bot.runtime.tick(due + 3 * DAY).sent == 0  # once
    assert len(reminded(bot, BOB)) == 1


@pytest.mark.office_hours(holidays="CN")
def test_the_review_reminder_counts_working_days(bot: Bot) -> None:
    info = declare(bot, commander=BOB, severity="SEV2")
    resolved = datetime(2026, 11, 26, 15, 0, tzinfo=SHANGHAI)  # a Thursday
    resolve(bot, info, at=resolved)
    # Fri, Mon, Tue, Wed, Thu: the fifth working day, at the same time of day
    assert [r.due_at for r in review_due_rows(bot)] == [datetime(2026, 12, 3, 15, 0, tzinfo=SHANGHAI)]


def test_no_review_reminder_when_a_review_exists_after_a_reopening_or_below_sev2(bot: Bot) -> None:
    services = bot.runtime.services
    reviewed = declare(bot, commander=BOB, severity="SEV2")
    resolve(bot, reviewed, at=START + 30 * MINUTE)
    services.meetings.create(
        team_id=reviewed.team_id,
        creator_id=BOB,
        now=bot.clock(),
        incident_id=reviewed.id,
        draft=MeetingDraft(
            title="Review",
            goal="Agree",
            start=START + 2 * DAY,
            duration_minutes=60,
            host_id=BOB,
            participants=(DAVE,),
            channel_id=reviewed.channel_id,
        ),
    )
    bot.runtime.tick(START + 30 * MINUTE + 5 * DAY)  # (the review meeting's own reminders go out too)
    assert [r.state for r in review_due_rows(bot)] == ["cancelled"]  # skipped at delivery: a review meeting exists
    assert reminded(bot, BOB) == []

    reopened = declare(bot, commander=BOB, title="Search is slow")  # SEV1
    resolve(bot, reopened, at=START + DAY)
    first = {r.id for r in review_due_rows(bot) if r.state == "pending"}
    bot.clock.set(START + 2 * DAY)
    bot.slack.slash("/incident", "reopen", user=BOB, channel=reopened.channel_id)
    wait_until(lambda: current(bot, reopened).reopened_count == 1, what="reopened")
    assert {r.state for r in review_due_rows(bot) if r.id in first} == {"cancelled"}
    # were the row already claimed when it was reopened, it is still skipped at delivery
    with services.session_scope() as s:
        s.execute(update(OutboxItem).where(col(OutboxItem.id).in_(first)).values(state="pending"))
    report = bot.runtime.tick(START + DAY + 5 * DAY)
    assert report.skipped == 1 and reminded(bot, BOB) == []
    resolve(bot, reopened, at=START + 3 * DAY)  # resolved again: reminded from this resolution on
    assert bot.runtime.tick(START + 3 * DAY + 5 * DAY - MINUTE).sent == 0
    assert bot.runtime.tick(START + 3 * DAY + 5 * DAY).sent == 1
    assert [d["text"].count("INC-2026-002") for d in reminded(bot, BOB)] == [1]

    minor = declare(bot, commander=BOB, severity="SEV3", title="A typo")
    services.incidents.resolve(minor.id, user_id=BOB, draft=ResolutionDraft(summary="Fixed"), now=bot.clock())
    assert [r for r in review_due_rows(bot) if json.loads(r.payload)["incident_id"] == minor.id] == []


# -- won't do --------------------------------------------------------------------------------------------------


def test_a_follow_up_that_wont_be_done_stops_reminding_and_counts_apart(bot: Bot) -> None:
    services = bot.runtime.services
    info = declare(bot, commander=BOB, responders=[DAVE], severity="SEV2")
    resolve(
        bot,
        info,
        at=START + 30 * MINUTE,
        follow_ups="Add a canary — @dave — 2026-12-10\nRewrite the gateway — @dave — 2026-12-20",
    )
    canary, rewrite = wait_until(
        lambda: (items := services.incidents.review(info.id).follow_ups) and all(a.message_ts for a in items) and items,
        what="the follow-ups handed out",
    )
    card = bot.fake.message(rewrite.channel_id, rewrite.message_ts or "") or {}
    accessory = [b["accessory"]["action_id"] for b in card["blocks"] if "accessory" in b]
    assert accessory == [action_blocks.Ids.WONT_DO]

    bot.slack.click(action_blocks.Ids.WONT_DO, user=CAROL, message=card)  # neither owner nor creator
    wait_until(
        lambda: any("Only the owner or the creator" in str(e["text"]) for e in bot.fake.ephemerals(user=CAROL)),
        what="refusal",
    )
    opened = len(bot.fake.calls("views.open"))
    bot.slack.click(action_blocks.Ids.WONT_DO, user=DAVE, message=card)
    view = bot.fake.wait_for("views.open", opened + 1)[-1].params["view"]
    assert view["callback_id"] == action_blocks.Ids.WONT_DO_MODAL
    reply = bot.slack.submit_view({"reason": "   "}, user=DAVE, callback_id=action_blocks.Ids.WONT_DO_MODAL)
    assert set((reply.json() or {}).get("errors") or {}) == {"reason"}
    reply = bot.slack.submit_view(
        {"reason": "The new load balancer replaces the gateway"}, user=DAVE, callback_id=action_blocks.Ids.WONT_DO_MODAL
    )
    assert reply.status == 200 and reply.json() is None, reply.body
    dropped = wait_until(
        lambda: (a := services.actions.get(rewrite.id)).status == ActionStatus.WONT_DO and a, what="won't do"
    )
    assert dropped.closed_reason == "The new load balancer replaces the gateway" and dropped.done_at is None
    with services.session_scope() as s:
        states = {
            r.state for r in s.scalars(select(OutboxItem).where(col(OutboxItem.subject) == f"action:{rewrite.id}"))
        }
    assert states == {"cancelled"}  # its reminders stop
    shown = wait_until(
        lambda: (
            (m := bot.fake.message(rewrite.channel_id, rewrite.message_ts or "")) and "不做：" in block_text(m) and m
        ),
        what="the card re-rendered",  # Dave reads Chinese
    )
    assert [
        e["action_id"]
        for b in shown["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "button"
    ] == [action_blocks.Ids.REOPEN]
    wait_until(
        lambda: [p for p in posts(bot, BOB) if "marked *ACT-2026-002* won't do" in p["text"]], what="creator told"
    )

    # counted apart from done: not in the owner's open items, shown apart in the review
    assert [a.code for a in services.actions.open_page(info.team_id, DAVE)] == [canary.code]
    assert services.actions.open_counts(info.team_id, DAVE, bot.clock()) == (1, 0)
    review = services.incidents.review(info.id)
    assert [a.code for a in review.kept_follow_ups] == [canary.code]
    assert [a.code for a in review.dropped_follow_ups] == [rewrite.code]
    text = "\n".join(
        block_text({"blocks": [b.to_dict() for b in m]})
        for m in blocks.review_messages("en", review, tz="UTC", now=bot.clock())
    )
    assert "Decided against (won't do)" in text and "won't do: The new load balancer replaces the gateway" in text
    assert [(i.code, n) for i, n in services.incidents.with_open_followups(info.team_id)] == [("INC-2026-001", 1)]
    services.actions.set_status(canary.id, user_id=DAVE, status=ActionStatus.DONE, now=bot.clock())
    assert services.incidents.with_open_followups(info.team_id) == []  # done and won't do: nothing open

    # reopening brings it back, reminders and all
    bot.slack.click(action_blocks.Ids.REOPEN, user=DAVE, message=shown)
    wait_until(lambda: services.actions.get(rewrite.id).status == ActionStatus.OPEN, what="open again")
    assert services.actions.get(rewrite.id).closed_reason is None
    with services.session_scope() as s:
        kinds = {
            r.kind
            for r in s.scalars(
                select(OutboxItem).where(
                    col(OutboxItem.subject) == f"action:{rewrite.id}", col(OutboxItem.state) == "pending"
                )
            )
        }
    assert kinds == {"action.reminder", "action.overdue", "action.escalate"}
    assert [(i.code, n) for i, n in services.incidents.with_open_followups(info.team_id)] == [("INC-2026-001", 1)]
    with pytest.raises(ValidationFailed):
        services.actions.set_status(rewrite.id, user_id=DAVE, status=ActionStatus.WONT_DO, now=bot.clock())


# -- the minutes and their action items, one unit of work -------------------------------------------------------


def test_the_minutes_and_their_action_items_are_stored_together_or_not_at_all(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.services.actions as module

    services = bot.runtime.services
    meeting = services.meetings.create(
        team_id="T0001",
        creator_id=ALICE,
        now=bot.clock(),
        draft=MeetingDraft(
            title="Launch sync",
            goal="Decide",
            start=START - 2 * 60 * MINUTE,
            duration_minutes=60,
            host_id=ALICE,
            participants=(BOB,),
            channel_id="C_GENERAL",
        ),
    )
    draft = MinutesDraft(
        decisions=("Ship on Monday",),
        actions=(
            ActionDraftLine("Write the post", BOB, START + 3 * DAY),
            ActionDraftLine("Book the room", ALICE, START + 4 * DAY),
        ),
    )
    real = module.repo.add_history
    calls = iter(range(100))

    def failing(*args: Any, **kwargs: Any) -> None:
        if next(calls) == 1:  # while creating the second item
            raise RuntimeError("database went away")
        real(*args, **kwargs)

    monkeypatch.setattr(module.repo, "add_history", failing)
    with pytest.raises(RuntimeError):
        services.meetings.record_minutes(meeting.id, user_id=ALICE, draft=draft, now=bot.clock())
    monkeypatch.setattr(module.repo, "add_history", real)

    def nothing_stored() -> None:
        after = services.meetings.get(meeting.id, with_history=True)
        assert (after.minutes_at, after.decisions) == (None, None)
        assert [h.action for h in after.history] == ["created"]
        assert count(bot, ActionItem) == 0
        with services.session_scope() as s:
            assert s.scalars(select(OutboxItem).where(col(OutboxItem.kind) == "meeting.minutes_dm")).all() == []
            assert s.scalars(select(Counter).where(col(Counter.prefix) == "ACT")).all() == []

    nothing_stored()
    late = dataclasses.replace(draft, actions=(ActionDraftLine("Too late", BOB, bot.clock() - MINUTE),))
    with pytest.raises(ValidationFailed):
        services.meetings.record_minutes(meeting.id, user_id=ALICE, draft=late, now=bot.clock())
    nothing_stored()

    outcome = services.meetings.record_minutes(meeting.id, user_id=ALICE, draft=draft, now=bot.clock())
    assert [a.code for a in outcome.new_actions] == ["ACT-2026-001", "ACT-2026-002"]
    assert services.meetings.get(meeting.id).decisions == ("Ship on Monday",)
    assert count(bot, HistoryEntry) == 4  # the meeting created and its minutes, and two items created
    again = services.meetings.record_minutes(meeting.id, user_id=ALICE, draft=draft, now=bot.clock())
    assert again.new_actions == () and count(bot, ActionItem) == 2  # an edit adds no item twice
