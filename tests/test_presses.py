"""What a record's button does, and what a one-line action item makes, is decided in the core for every
messenger: Slack's listeners and Feishu's cards both hand a `ButtonPressed` to `bot.services.presses.press`, and
a typed line to `bot.services.quick_actions.add_quick`, and show what they answer.

These tests press buttons and type lines the way a third messenger would, on `bot` alone, over a real SQLite
file, and render the answers with the plain-text formatter of `tests/test_notices.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import notices as n
from bot.errors import NotAllowed, NotFound
from bot.messenger import ButtonPressed, CommandTyped
from bot.outbox import DueWork, Outcome
from bot.services import Services, presses
from bot.services import notices as rules
from bot.services.actions import ActionDraft, ActionStatus
from bot.services.incidents import IncidentDraft, Status
from bot.services.meetings import MeetingDraft, MinutesDraft
from bot.services.quick_actions import QuickAdded, add_quick
from bot.services.requirements import QuestionDraft
from bot.services.requirements import Status as SheetStatus
from tests.conftest import START
from tests.helpers import MEMBERS, core_services, sheet_draft
from tests.test_notices import PlainFormat

WS, OTHER = "T_PLAIN", "feishu:tenant_other"
ALICE, BOB, CAROL, DAVE = "U_ALICE", "U_BOB", "U_CAROL", "U_DAVE"
GENERAL = "C_GENERAL"


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    with core_services(tmp_path) as core:
        yield core


def click(
    services: Services,
    action: str,
    record_id: int,
    user: str,
    *,
    workspace: str = WS,
    at: datetime = START,
    detail: dict[str, Any] | None = None,
) -> presses.Pressed:
    event = ButtonPressed(
        workspace=workspace,
        user=user,
        received_at=at,
        action=action,
        record_id=record_id,
        channel=GENERAL,
        message="1.5",
        detail=detail or {},
    )
    return presses.press(services, event, teams=(workspace,))


def said(text: n.Text | None, lang: str = "en") -> str:
    assert text is not None
    return n.render(text, lang, "Asia/Shanghai", PlainFormat()) or ""


def sheet(services: Services, team: str = WS) -> int:
    draft = sheet_draft(
        requester=ALICE,
        receiver=BOB,
        channel=GENERAL,
        questions=(QuestionDraft("Which markets?", CAROL, START + timedelta(hours=6)),),
    )
    return services.requirements.create(team_id=team, author_id=ALICE, draft=draft, now=START).id


def test_both_owners_sign_and_the_second_signature_locks_the_sheet(services: Services) -> None:
    rid = sheet(services)
    with pytest.raises(NotAllowed):
        click(services, presses.SIGN, rid, CAROL)  # not an owner
    first = click(services, presses.SIGN, rid, ALICE)
    assert (first.kind, first.record_id, first.changed, first.confirmed_now, first.reply) == (
        presses.SHEET,
        rid,
        True,
        False,
        None,
    )
    again = click(services, presses.SIGN, rid, ALICE)
    assert not again.changed and said(again.reply).startswith("You") and "RW-2026-001" in said(again.reply)
    assert "RW-2026-001" in said(again.reply, "zh") and said(again.reply, "zh") != said(again.reply)
    second = click(services, presses.SIGN, rid, BOB)
    assert second.changed and second.confirmed_now
    assert services.requirements.get(rid).status == SheetStatus.CONFIRMED


def test_a_question_is_answered_by_its_owner_and_the_sheet_is_shown_again(services: Services) -> None:
    rid = sheet(services)
    [question] = services.requirements.get(rid).questions
    with pytest.raises(NotAllowed):
        click(services, presses.ANSWERED, question.id, DAVE)
    done = click(services, presses.ANSWERED, question.id, CAROL)
    assert (done.kind, done.record_id, done.changed) == (presses.SHEET, rid, True)
    [answered] = services.requirements.get(rid).questions
    assert answered.answered_by == CAROL


def test_an_items_buttons_move_it_and_a_repeat_says_where_it_stands(services: Services) -> None:
    draft = ActionDraft(title="Send the budget", owner_id=BOB, due=START + timedelta(days=3))
    [item] = services.actions.create_many(team_id=WS, creator_id=ALICE, drafts=[draft], now=START, channel_id=GENERAL)
    with pytest.raises(NotAllowed):
        click(services, presses.DONE, item.id, CAROL)
    assert click(services, presses.START, item.id, BOB).changed
    assert services.actions.get(item.id).status == ActionStatus.IN_PROGRESS
    assert click(services, presses.DONE, item.id, ALICE).changed  # the creator may close it too
    repeat = click(services, presses.DONE, item.id, BOB)
    assert (repeat.kind, repeat.changed) == (presses.ACTION, False)
    assert "Done" in said(repeat.reply) and "ACT-2026-001" in said(repeat.reply)
    assert "已完成" in said(repeat.reply, "zh")
    assert click(services, presses.REOPEN, item.id, BOB).changed
    assert services.actions.get(item.id).status == ActionStatus.OPEN


def test_minutes_are_acknowledged_once_with_a_word_to_the_presser(services: Services) -> None:
    draft = MeetingDraft(
        title="Weekly",
        goal="priorities",
        start=START + timedelta(days=3),
        duration_minutes=30,
        host_id=ALICE,
        participants=(BOB,),
        channel_id=GENERAL,
    )
    info = services.meetings.create(team_id=WS, creator_id=ALICE, draft=draft, now=START)
    services.meetings.record_minutes(info.id, user_id=ALICE, draft=MinutesDraft(decisions=("ship",)), now=START)
    first = click(services, presses.MINUTES_ACK, info.id, BOB)
    second = click(services, presses.MINUTES_ACK, info.id, BOB)
    assert (first.kind, first.changed, second.changed) == (presses.MINUTES, True, False)
    assert said(first.reply) != said(second.reply) and all(info.code in said(p.reply) for p in (first, second))
    assert BOB in dict(services.meetings.get(info.id).acks)


def _escalate(services: Services, at: datetime) -> None:
    def deliver(work: DueWork, now: datetime) -> Outcome:
        plan = rules.plan(services, work, now)
        if plan.then is not None:
            plan.then()
        return Outcome.SKIPPED if plan.skipped else Outcome.SENT

    services.outbox.tick(at, deliver)


def test_an_incidents_acknowledgment_and_status_are_news_for_its_channel(services: Services) -> None:
    draft = IncidentDraft(title="Checkout down", severity="SEV1", commander_id=BOB)
    info = services.incidents.declare(team_id=WS, declarer_id=ALICE, draft=draft, origin_channel=GENERAL, now=START)
    services.incidents.attach_channel(info.id, channel_id="C_INC", channel_name="inc")
    with pytest.raises(NotAllowed):
        click(services, presses.INCIDENT_ACK, info.id, CAROL)  # a backup, before anyone escalated to them
    _escalate(services, START + timedelta(minutes=5))
    taken = click(services, presses.INCIDENT_ACK, info.id, CAROL, at=START + timedelta(minutes=6))
    assert (taken.kind, taken.changed, taken.backup, taken.joined) == (presses.INCIDENT, True, True, (CAROL,))
    assert f"<@{CAROL}>" in said(taken.news) and info.code in said(taken.news)
    moved = click(services, presses.INCIDENT_STATUS, info.id, BOB, detail={"status": Status.IDENTIFIED.value})
    assert moved.changed and moved.reply is None
    assert "Investigating → *🎯 Identified*" in said(moved.news)
    same = click(services, presses.INCIDENT_STATUS, info.id, BOB, detail={"status": Status.IDENTIFIED.value})
    assert not same.changed and same.news is None and "Identified" in said(same.reply)
    with pytest.raises(NotAllowed):
        click(services, presses.INCIDENT_STATUS, info.id, DAVE, detail={"status": Status.MONITORING.value})


def test_a_record_of_another_workspace_is_not_found_and_stays_as_it_was(services: Services) -> None:
    rid = sheet(services, team=OTHER)
    [question] = services.requirements.get(rid).questions
    [item] = services.actions.create_many(
        team_id=OTHER,
        creator_id=ALICE,
        drafts=[ActionDraft(title="x", owner_id=BOB, due=START + timedelta(days=1))],
        now=START,
        channel_id=GENERAL,
    )
    draft = IncidentDraft(title="down", severity="SEV2", commander_id=BOB)
    incident = services.incidents.declare(
        team_id=OTHER, declarer_id=ALICE, draft=draft, origin_channel=GENERAL, now=START
    )
    for action, record, user, detail in (
        (presses.SIGN, rid, ALICE, {}),
        (presses.ANSWERED, question.id, CAROL, {}),
        (presses.DONE, item.id, BOB, {}),
        (presses.INCIDENT_ACK, incident.id, BOB, {}),
        (presses.INCIDENT_STATUS, incident.id, BOB, {"status": Status.IDENTIFIED.value}),
    ):
        with pytest.raises(NotFound):
            click(services, action, record, user, detail=detail)  # the presser's workspace is WS
    assert not services.requirements.get(rid).signatures
    assert services.requirements.get(rid).questions[0].answered_at is None
    assert services.actions.get(item.id).status == ActionStatus.OPEN
    assert services.incidents.get(incident.id).acknowledged_at is None
    assert click(services, presses.SIGN, rid, ALICE, workspace=OTHER).changed  # in its own workspace it is


def test_a_button_the_core_does_not_know_is_not_found(services: Services) -> None:
    with pytest.raises(NotFound):
        click(services, "requirement.explode", 1, ALICE)


# -- an item from one typed line, the same on every messenger ----------------------------------------------------


def typed(services: Services, text: str, **more: str) -> QuickAdded:
    """Alice types `text` in #general."""
    line = CommandTyped(workspace=WS, user=ALICE, received_at=START, command="action", text=text, channel=GENERAL)
    return add_quick(services, line, members=list(MEMBERS), tz="Asia/Shanghai", **more)


def test_a_clear_line_is_an_item_raised_in_its_channel(services: Services) -> None:
    added = typed(services, "<@U_BOB> send the budget by Friday")
    assert added.item is not None and added.reason == ""
    item = services.actions.get(added.item.id)
    assert (item.owner_id, item.creator_id, item.channel_id, item.title) == (BOB, ALICE, GENERAL, "send the budget")
    assert item.due is not None and item.due > START


def test_a_reply_without_a_title_takes_the_answered_message_as_title_and_context(services: Services) -> None:
    added = typed(services, "<@U_BOB> 下周五前", replied="Fix the <login> page", context="#general")
    assert added.item is not None
    item = services.actions.get(added.item.id)
    assert item.title == "Fix the <login> page" and item.context == "#general\nFix the <login> page"


def test_an_unclear_line_says_why_and_what_was_understood(services: Services) -> None:
    alone = typed(services, "<@U_BOB> 下周五前")
    assert alone.item is None and alone.reason == "action.quick_no_title"
    assert alone.understood.owner_id == BOB and alone.understood.due is not None
    no_when = typed(services, "<@U_BOB> send the <budget>")
    assert no_when.item is None and no_when.reason.startswith("action.quick_")
    assert no_when.understood.title == "send the <budget>"
    assert services.actions.open_for_owner(WS, BOB) == []  # nothing was made
