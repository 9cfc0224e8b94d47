"""Action items (行动项): IDs, statuses and who may change them, reminders, the card and its buttons."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.models.blocks import Block
from sqlalchemy import select, update
from sqlmodel import col

from bot.errors import NotAllowed, NotFound, ValidationFailed
from bot.services.actions import (
    KIND_ACTION_ESCALATE,
    KIND_ACTION_OVERDUE,
    KIND_ACTION_REMINDER,
    ActionDraft,
    ActionInfo,
    ActionService,
    ActionStatus,
)
from handlers.actions import send_action_dms
from handlers.blocks.actions import Ids, action_card, action_text, shown_source_link
from handlers.reactions import offer_to_features
from handlers.sandbox.slack_api import ALICE, BOB, CAROL, DAVE, GENERAL
from storage.models import ActionItem, Counter, HistoryEntry, OutboxItem
from tests.conftest import Bot
from tests.helpers import block_text

pytestmark = pytest.mark.both_modes  # every flow here also runs split into serving process and worker

SHANGHAI, NEW_YORK = ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York")
TEAM = "T0001"
MEETING_LINK = "https://coordbot-test.slack.com/archives/C_GENERAL/p1790000000000100"


# -- helpers ------------------------------------------------------------------------------------------


def service(bot: Bot) -> ActionService:
    """The action service the app uses."""
    return bot.runtime.services.actions


def create(
    bot: Bot, *drafts: ActionDraft, creator: str = CAROL, escalate_to: str | None = None, now: datetime | None = None
) -> list[ActionInfo]:
    """Create items as if from meeting MTG-2026-001."""
    return service(bot).create_many(
        team_id=TEAM,
        creator_id=creator,
        drafts=drafts,
        now=now or bot.clock(),
        source_type="meeting",
        source_id=1,
        source_code="MTG-2026-001",
        escalate_to=escalate_to,
        channel_id=GENERAL,
    )


def draft(
    title: str = "Draft the rollout plan",
    owner: str = BOB,
    due: datetime | None = None,
    deliverable: str = "Rollout plan doc",
) -> ActionDraft:
    """A draft due in two days unless told otherwise."""
    return ActionDraft(
        title=title, owner_id=owner, due=due or datetime(2026, 11, 28, 6, 0, tzinfo=UTC), deliverable=deliverable
    )


def rows(bot: Bot, model: Any) -> list[Any]:
    """Every row of a table."""
    with bot.runtime.services.session_scope() as s:
        return list(s.scalars(select(model)).all())


def outbox(bot: Bot) -> list[OutboxItem]:
    """Every outbox row, oldest first."""
    with bot.runtime.services.session_scope() as s:
        return list(s.scalars(select(OutboxItem).order_by(col(OutboxItem.id))).all())


def due_times(bot: Bot) -> dict[tuple[str, str], datetime]:
    """When each pending reminder or notice is due, by (kind, recipient)."""
    return {(r.kind, json.loads(r.payload)["user_id"]): r.due_at for r in outbox(bot) if r.state == "pending"}


def dms(bot: Bot, user: str) -> list[str]:
    """Texts of the plain direct messages (not cards) the bot sent to a user."""
    return [
        c.params["text"]
        for c in bot.fake.calls("chat.postMessage")
        if c.params["channel"] == user and not c.params.get("blocks") and c.response and c.response.get("ok")
    ]


def card_message(bot: Bot, user: str) -> dict[str, Any]:
    """The newest card DMed to a user, as stored by Slack."""
    return [m for m in bot.fake.messages(user) if m.get("blocks")][-1]


def buttons(message: dict[str, Any]) -> list[str]:
    """The action_ids of a message's buttons."""
    return [
        e["action_id"]
        for b in message.get("blocks") or []
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "button"
    ]


def history(bot: Bot, action_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    """(actor, action, detail) of an item's history."""
    return [(h.actor_id, h.action, h.detail) for h in service(bot).get(action_id, with_history=True).history]


# -- IDs and creation ----------------------------------------------------------------------------------


def test_ids_follow_a_yearly_sequence_in_the_workspace_timezone(bot: Bot) -> None:
    first = create(bot, draft("One"), draft("Two", owner=ALICE))
    third = create(bot, draft("Three"))
    assert [i.code for i in first + third] == ["ACT-2026-001", "ACT-2026-002", "ACT-2026-003"]
    # 17:00 UTC on New Year's Eve is already 2027 in Shanghai, the workspace timezone
    eve = datetime(2026, 12, 31, 17, 0, tzinfo=UTC)
    new_year = create(bot, draft(due=eve + timedelta(days=3)), now=eve)
    assert new_year[0].code == "ACT-2027-001"
    item = service(bot).by_code(TEAM, "act-2026-002", with_history=True)
    assert (item.title, item.owner_id, item.creator_id, item.status) == ("Two", ALICE, CAROL, ActionStatus.OPEN)
    assert (item.source_type, item.source_id, item.source_code) == ("meeting", 1, "MTG-2026-001")
    assert [(h.actor_id, h.action) for h in item.history] == [(CAROL, "created")]
    assert [i.code for i in service(bot).for_source("meeting", 1)] == [
        "ACT-2026-001",
        "ACT-2026-002",
        "ACT-2026-003",
        "ACT-2027-001",
    ]
    with pytest.raises(NotFound):
        service(bot).by_code(TEAM, "ACT-2026-999")
    with pytest.raises(NotFound):
        service(bot).get(999)


def test_a_batch_is_stored_in_one_transaction(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.services.actions as module

    real = module.outbox.schedule
    calls = iter(range(100))

    def failing(*args: Any, **kwargs: Any) -> None:
        if next(calls) == 3:  # while scheduling the second item's reminders
            raise RuntimeError("database went away")
        real(*args, **kwargs)

    monkeypatch.setattr(module.outbox, "schedule", failing)
    with pytest.raises(RuntimeError):
        create(bot, draft("One"), draft("Two"), draft("Three"))
    monkeypatch.setattr(module.outbox, "schedule", real)
    assert rows(bot, ActionItem) == [] and rows(bot, HistoryEntry) == [] and rows(bot, OutboxItem) == []
    assert rows(bot, Counter) == []
    assert [i.code for i in create(bot, draft("One"))] == ["ACT-2026-001"]


def test_a_bad_draft_stops_the_whole_batch(bot: Bot) -> None:
    with pytest.raises(ValidationFailed) as caught:
        create(bot, draft("One"), draft("   "), draft("Three"))
    assert caught.value.field_errors == {"action_items": ("error.action_item_title", {"line": 2})}
    with pytest.raises(ValidationFailed) as caught:
        create(bot, draft("One"), draft("Late", due=bot.clock() - timedelta(minutes=1)))
    assert caught.value.field_errors == {"action_items": ("error.action_item_past", {"line": 2})}
    with pytest.raises(ValidationFailed) as caught:
        create(bot, draft("No owner", owner=""))
    assert caught.value.field_errors["action_items"][0] == "error.action_item_owner"
    assert rows(bot, ActionItem) == []
    assert create(bot) == []


# -- statuses ---------------------------------------------------------------------------------------------


def test_only_the_owner_or_the_creator_changes_the_status(bot: Bot) -> None:
    (item,) = create(bot, draft(owner=BOB), creator=CAROL)
    now = bot.clock()
    with pytest.raises(NotAllowed) as refused:
        service(bot).set_status(item.id, user_id=DAVE, status=ActionStatus.DONE, now=now)
    assert refused.value.key == "error.action_not_allowed"
    info, changed = service(bot).set_status(item.id, user_id=BOB, status=ActionStatus.IN_PROGRESS, now=now)
    assert changed and info.status == ActionStatus.IN_PROGRESS
    info, changed = service(bot).set_status(item.id, user_id=CAROL, status=ActionStatus.DONE, now=now)
    assert changed and info.status == ActionStatus.DONE and info.done_at == now
    assert [(a, act, d.get("to")) for a, act, d in history(bot, item.id)] == [
        (CAROL, "created", None),
        (BOB, "status_changed", "in_progress"),
        (CAROL, "status_changed", "done"),
    ]


def test_blocked_needs_a_reason_and_leaving_it_clears_the_reason(bot: Bot) -> None:
    (item,) = create(bot, draft())
    now = bot.clock()
    with pytest.raises(ValidationFailed) as caught:
        service(bot).set_status(item.id, user_id=BOB, status=ActionStatus.BLOCKED, now=now, reason="  ")
    assert caught.value.field_errors == {"reason": ("error.required", {})}
    assert service(bot).get(item.id).status == ActionStatus.OPEN
    info, changed = service(bot).set_status(
        item.id, user_id=BOB, status=ActionStatus.BLOCKED, now=now, reason="Waiting for the API keys"
    )
    assert changed and (info.status, info.blocked_reason) == (ActionStatus.BLOCKED, "Waiting for the API keys")
    assert history(bot, item.id)[-1][2] == {"from": "open", "to": "blocked", "reason": "Waiting for the API keys"}
    info, _ = service(bot).set_status(item.id, user_id=BOB, status=ActionStatus.IN_PROGRESS, now=now)
    assert info.blocked_reason is None


def test_the_same_status_again_changes_nothing(bot: Bot) -> None:
    (item,) = create(bot, draft())
    info, changed = service(bot).set_status(item.id, user_id=BOB, status=ActionStatus.OPEN, now=bot.clock())
    assert not changed and info.status == ActionStatus.OPEN
    assert [a for _, a, _ in history(bot, item.id)] == ["created"]


def test_open_items_of_an_owner_soonest_first(bot: Bot) -> None:
    *_, done = create(
        bot,
        draft("Later", due=datetime(2026, 12, 5, tzinfo=UTC)),
        draft("Sooner"),
        draft("Alice's", owner=ALICE),
        draft("Finished"),
    )
    service(bot).set_status(done.id, user_id=BOB, status=ActionStatus.DONE, now=bot.clock())
    assert [i.title for i in service(bot).open_for_owner(TEAM, BOB)] == ["Sooner", "Later"]
    assert [i.title for i in service(bot).open_for_owner(TEAM, BOB, limit=1)] == ["Sooner"]


# -- reminders ---------------------------------------------------------------------------------------------


def test_the_owner_is_reminded_once_a_day_before(bot: Bot) -> None:
    (item,) = create(bot, draft(owner=BOB))
    assert bot.runtime.tick(item.due - timedelta(hours=24, minutes=1)).sent == 0
    assert bot.runtime.tick(item.due - timedelta(hours=24)).sent == 1
    (reminder,) = dms(bot, BOB)
    assert "ACT-2026-001" in reminder and "Draft the rollout plan" in reminder and "is due" in reminder
    assert f"<!date^{int(item.due.timestamp())}^" in reminder and "America/New_York" in reminder
    assert bot.runtime.tick(item.due - timedelta(hours=1)).sent == 0


def test_overdue_notice_goes_once_to_the_owner_and_to_escalate_to(bot: Bot) -> None:
    (item,) = create(bot, draft(owner=ALICE), escalate_to=BOB)
    bot.runtime.tick(item.due - timedelta(hours=2))
    assert len(dms(bot, ALICE)) == 1 and dms(bot, BOB) == []
    assert bot.runtime.tick(item.due + timedelta(minutes=1)).sent == 2
    alice, bob = dms(bot, ALICE)[-1], dms(bot, BOB)
    assert "已超过截止时间" in alice and "ACT-2026-001" in alice  # each in the reader's own language
    assert len(bob) == 1 and "owned by <@U_ALICE>" in bob[0] and "is not done yet" in bob[0]
    assert bot.runtime.tick(item.due + timedelta(days=3)).sent == 1  # the escalation, two working days on
    assert "Needs attention" in dms(bot, BOB)[-1] and service(bot).get(item.id).escalated_at is not None
    assert bot.runtime.tick(item.due + timedelta(days=30)).sent == 0


def test_escalating_to_the_owner_sends_one_notice(bot: Bot) -> None:
    (item,) = create(bot, draft(owner=BOB), escalate_to=BOB)
    assert [r.kind for r in outbox(bot)] == [KIND_ACTION_REMINDER, KIND_ACTION_OVERDUE, KIND_ACTION_ESCALATE]
    bot.runtime.tick(item.due + timedelta(hours=1))
    assert len(dms(bot, BOB)) == 1


def test_downtime_is_caught_up_with_the_overdue_notice_not_a_stale_reminder(bot: Bot) -> None:
    (item,) = create(bot, draft(owner=BOB), escalate_to=CAROL)
    report = bot.runtime.tick(item.due + timedelta(hours=5))  # the bot was down through both
    assert (report.sent, report.skipped) == (2, 1)
    assert ["was due" in t for t in dms(bot, BOB)] == [True]
    assert ["was due" in t for t in dms(bot, CAROL)] == [True]


def test_done_cancels_the_reminders_and_reopening_rearms_only_what_was_not_sent(bot: Bot) -> None:
    (item,) = create(bot, draft(owner=BOB), escalate_to=CAROL)
    bot.runtime.tick(item.due - timedelta(hours=23))  # the reminder goes out
    assert len(dms(bot, BOB)) == 1
    service(bot).set_status(item.id, user_id=BOB, status=ActionStatus.DONE, now=bot.clock())
    assert {r.state for r in outbox(bot)} == {"sent", "cancelled"}
    assert bot.runtime.tick(item.due + timedelta(days=1)).sent == 0
    service(bot).set_status(item.id, user_id=CAROL, status=ActionStatus.OPEN, now=bot.clock())
    assert set(due_times(bot)) == {
        (KIND_ACTION_OVERDUE, BOB),
        (KIND_ACTION_OVERDUE, CAROL),
        (KIND_ACTION_ESCALATE, CAROL),
    }
    assert service(bot).get(item.id).done_at is None
    assert bot.runtime.tick(item.due + timedelta(minutes=1)).sent == 2
    assert len(dms(bot, BOB)) == 2 and len(dms(bot, CAROL)) == 1


def test_a_due_row_for_an_item_already_done_is_skipped(bot: Bot) -> None:
    (item,) = create(bot, draft(owner=BOB), escalate_to=CAROL)
    with bot.runtime.services.session_scope() as s:  # done without passing through the service
        s.execute(update(ActionItem).where(col(ActionItem.id) == item.id).values(status="done"))
    report = bot.runtime.tick(item.due + timedelta(hours=1))
    assert (report.sent, report.skipped) == (0, 3)
    assert dms(bot, BOB) == [] and dms(bot, CAROL) == []


def test_no_reminder_when_the_lead_has_already_passed(bot: Bot) -> None:
    create(bot, draft(due=bot.clock() + timedelta(hours=3)))
    assert set(due_times(bot)) - {(KIND_ACTION_ESCALATE, CAROL)} == {(KIND_ACTION_OVERDUE, BOB)}


@pytest.mark.office_hours(holidays="CN")
def test_reminders_land_in_each_recipients_working_hours(bot: Bot) -> None:
    due = datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)  # Monday 10:00 in Shanghai
    (alices,) = create(bot, draft(owner=ALICE, due=due), escalate_to=BOB)
    (bobs,) = create(bot, draft(owner=BOB, due=due))
    times = {
        (kind, user, r.subject): r.due_at
        for r in outbox(bot)
        for kind, user in [(r.kind, json.loads(r.payload)["user_id"])]
    }
    # a day before is Sunday: back to the end of Friday, in each owner's own timezone
    assert times[(KIND_ACTION_REMINDER, ALICE, f"action:{alices.id}")] == datetime(2026, 11, 27, 18, 0, tzinfo=SHANGHAI)
    assert times[(KIND_ACTION_REMINDER, BOB, f"action:{bobs.id}")] == datetime(2026, 11, 27, 18, 0, tzinfo=NEW_YORK)
    # overdue never early: Alice at the due time; Bob (Sunday night in New York) when his Monday starts
    assert times[(KIND_ACTION_OVERDUE, ALICE, f"action:{alices.id}")] == due
    assert times[(KIND_ACTION_OVERDUE, BOB, f"action:{alices.id}")] == datetime(2026, 11, 30, 9, 0, tzinfo=NEW_YORK)
    assert times[(KIND_ACTION_OVERDUE, BOB, f"action:{bobs.id}")] == datetime(2026, 11, 30, 9, 0, tzinfo=NEW_YORK)
    bot.runtime.tick(datetime(2026, 11, 27, 18, 0, tzinfo=SHANGHAI))
    assert len(dms(bot, ALICE)) == 1 and dms(bot, BOB) == []
    bot.runtime.tick(datetime(2026, 11, 27, 18, 0, tzinfo=NEW_YORK))
    assert len(dms(bot, ALICE)) == 1 and len(dms(bot, BOB)) == 1
    bot.runtime.tick(due)
    assert len(dms(bot, ALICE)) == 2 and len(dms(bot, BOB)) == 1  # Bob's Monday has not started
    bot.runtime.tick(datetime(2026, 11, 30, 9, 0, tzinfo=NEW_YORK))
    assert len(dms(bot, BOB)) == 3  # the overdue notices of both items


@pytest.mark.office_hours(holidays="CN")
def test_a_reminder_that_would_land_after_the_due_time_is_skipped(bot: Bot) -> None:
    # due Sunday 08:00 in Shanghai, created Friday evening: a day before is Saturday, the end of Friday
    # is already past, and the next working period (Monday morning) would be after the due time
    bot.clock.set(datetime(2026, 11, 27, 20, 0, tzinfo=SHANGHAI))
    create(bot, draft(owner=ALICE, due=datetime(2026, 11, 29, 8, 0, tzinfo=SHANGHAI)))
    assert set(due_times(bot)) - {(KIND_ACTION_ESCALATE, CAROL)} == {(KIND_ACTION_OVERDUE, ALICE)}


# -- the card, the DMs and the buttons over HTTP ------------------------------------------------------------


def test_owners_get_their_card_by_dm_in_their_language(bot: Bot) -> None:
    alices, bobs = create(bot, draft("Book the venue", owner=ALICE, deliverable=""), draft(owner=BOB))
    send_action_dms(
        bot.runtime.client, bot.runtime.services, bot.runtime.directory, [alices, bobs], source_link=MEETING_LINK
    )
    alice, bob = card_message(bot, ALICE), card_message(bot, BOB)
    assert alice["channel"] == "DU_ALICE" and bob["channel"] == "DU_BOB"
    assert "负责人" in block_text(alice) and "截止时间" in block_text(alice) and "输出物" in block_text(alice)
    assert "Owner" in block_text(bob) and "Rollout plan doc" in block_text(bob)
    assert f"<{MEETING_LINK}|MTG-2026-001>" in block_text(bob)
    assert "Asia/Shanghai" in block_text(alice) and "America/New_York" in block_text(bob)
    assert "ACT-2026-002" in bob["text"] and "<@U_BOB>" in bob["text"]
    assert buttons(bob) == [Ids.ACCEPT, Ids.BLOCKED, Ids.DONE]
    found = service(bot).by_message("DU_BOB", bob["ts"])
    assert found is not None and found.code == "ACT-2026-002"
    bot.runtime.tick(bobs.due - timedelta(hours=1))
    permalink = f"https://coordbot-test.slack.com/archives/DU_BOB/p{bob['ts'].replace('.', '')}"
    assert permalink in dms(bot, BOB)[0]


def test_one_unreachable_owner_does_not_stop_the_others(bot: Bot) -> None:
    items = create(bot, draft(owner=ALICE), draft(owner=BOB))
    bot.fake.fail("chat.postMessage", error="user_not_found", times=1)
    send_action_dms(bot.runtime.client, bot.runtime.services, bot.runtime.directory, items, source_link=None)
    assert service(bot).get(items[0].id).message_ts is None
    assert service(bot).get(items[1].id).message_ts == card_message(bot, BOB)["ts"]
    assert "MTG-2026-001" in block_text(card_message(bot, BOB))


def test_accept_and_done_buttons_update_the_card(bot: Bot) -> None:
    (item,) = create(bot, draft(owner=BOB), escalate_to=CAROL)
    send_action_dms(bot.runtime.client, bot.runtime.services, bot.runtime.directory, [item], source_link=MEETING_LINK)
    card = card_message(bot, BOB)
    assert bot.slack.click(Ids.ACCEPT, user=BOB, message=card).acked_in_time
    bot.fake.wait_for("chat.update", 1)
    card = bot.fake.message("DU_BOB", card["ts"]) or {}
    assert "In progress" in block_text(card) and buttons(card) == [Ids.BLOCKED, Ids.DONE]
    assert f"<{MEETING_LINK}|MTG-2026-001>" in block_text(card)  # the source link survives the update
    assert bot.slack.click(Ids.DONE, user=BOB, message=card).acked_in_time
    bot.fake.wait_for("chat.update", 2)
    card = bot.fake.message("DU_BOB", card["ts"]) or {}
    assert "Done" in block_text(card) and buttons(card) == []
    assert service(bot).get(item.id).status == ActionStatus.DONE
    assert bot.runtime.tick(item.due + timedelta(days=1)).sent == 0


def test_a_channel_copy_keeps_the_dm_in_step_and_a_repeat_click_is_answered_quietly(bot: Bot) -> None:
    (item,) = create(bot, draft(owner=ALICE), creator=BOB)
    send_action_dms(bot.runtime.client, bot.runtime.services, bot.runtime.directory, [item], source_link=None)
    dm = card_message(bot, ALICE)
    copies = []
    for _ in range(2):  # the same card posted twice in a channel
        resp = bot.runtime.client.chat_postMessage(
            channel=GENERAL,
            text=action_text("en", item, "Asia/Shanghai"),
            blocks=action_card("en", item, tz="Asia/Shanghai", source_link=None),
        )
        copies.append(bot.fake.message(GENERAL, str(resp["ts"])) or {})
    bot.slack.click(Ids.ACCEPT, user=BOB, message=copies[0])  # the creator, in the channel
    bot.fake.wait_for("chat.update", 2)
    assert "In progress" in block_text(bot.fake.message(GENERAL, copies[0]["ts"]) or {})
    assert "进行中" in block_text(bot.fake.message("DU_ALICE", dm["ts"]) or {})  # the owner's DM, in Chinese
    bot.slack.click(Ids.ACCEPT, user=BOB, message=copies[1])  # a copy still showing Accept
    reply = bot.fake.wait_for("response_url", 1)[0]
    assert reply.params["text"] == "ACT-2026-001 is already In progress."
    assert reply.params.get("response_type") == "ephemeral"
    assert len(bot.fake.calls("chat.update")) == 2
    assert [a for _, a, _ in history(bot, item.id)] == ["created", "status_changed"]


def test_someone_else_clicking_is_refused_in_their_language(bot: Bot) -> None:
    (item,) = create(bot, draft(owner=BOB), creator=CAROL)
    send_action_dms(bot.runtime.client, bot.runtime.services, bot.runtime.directory, [item], source_link=None)
    bot.slack.click(Ids.DONE, user=DAVE, message=card_message(bot, BOB))
    reply = bot.fake.wait_for("response_url", 1)[0]
    assert reply.params["text"] == "只有该行动项的负责人或创建人可以更改其状态。"  # Dave's Slack locale is zh-CN
    assert reply.params.get("response_type") == "ephemeral"
    assert service(bot).get(item.id).status == ActionStatus.OPEN
    assert bot.fake.calls("chat.update") == []


def test_a_check_mark_on_the_card_marks_it_done_and_removing_it_restores_the_status(bot: Bot) -> None:
    (item,) = create(bot, draft(owner=BOB), escalate_to=CAROL)
    send_action_dms(bot.runtime.client, bot.runtime.services, bot.runtime.directory, [item], source_link=MEETING_LINK)
    card = card_message(bot, BOB)
    service(bot).set_status(item.id, user_id=BOB, status=ActionStatus.IN_PROGRESS, now=bot.clock())
    rt = bot.runtime

    def react(name: str, *, removed: bool, ts: str = card["ts"], user: str = BOB) -> bool:
        event = {
            "type": "reaction_removed" if removed else "reaction_added",
            "user": user,
            "reaction": name,
            "item": {"type": "message", "channel": "DU_BOB", "ts": ts},
        }
        return offer_to_features(event, rt.client, rt.services, rt.directory, removed=removed)

    assert react("tada", removed=False) and service(bot).get(item.id).status == ActionStatus.IN_PROGRESS
    assert not react("white_check_mark", removed=False, ts="1.000001")  # not a card
    assert react("white_check_mark", removed=False)
    shown = bot.fake.message("DU_BOB", card["ts"]) or {}
    assert service(bot).get(item.id).status == ActionStatus.DONE and buttons(shown) == []
    assert f"<{MEETING_LINK}|MTG-2026-001>" in block_text(shown)
    assert bot.runtime.tick(item.due + timedelta(hours=1)).sent == 0
    assert react("white_check_mark", removed=True)
    shown = bot.fake.message("DU_BOB", card["ts"]) or {}
    assert service(bot).get(item.id).status == ActionStatus.IN_PROGRESS and buttons(shown) == [Ids.BLOCKED, Ids.DONE]
    assert bot.runtime.tick(item.due + timedelta(hours=2)).sent == 2  # the overdue notices are back
    with pytest.raises(NotAllowed):
        react("white_check_mark", removed=False, user=DAVE)


# -- builders -------------------------------------------------------------------------------------------------


def _info(**changes: Any) -> ActionInfo:
    now = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
    base: dict[str, Any] = dict(
        id=7,
        code="ACT-2026-007",
        team_id=TEAM,
        title="Ship <!channel> & the & docs",
        owner_id=BOB,
        creator_id=CAROL,
        due=now + timedelta(days=2),
        deliverable="A <b>doc</b>",
        status=ActionStatus.OPEN,
        blocked_reason=None,
        source_type="meeting",
        source_id=1,
        source_code="MTG-2026-001",
        escalate_to=None,
        channel_id="DU_BOB",
        message_ts="1.2",
        created_at=now,
        updated_at=now,
        done_at=None,
    )
    return ActionInfo(**{**base, **changes})


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("status", list(ActionStatus))
def test_every_card_is_valid_block_kit_and_escapes_user_text(lang: str, status: ActionStatus) -> None:
    now = datetime(2026, 11, 27, tzinfo=UTC)
    for item in (
        _info(
            status=status,
            blocked_reason="No keys <yet>" if status == "blocked" else None,
            done_at=now if status == "done" else None,
        ),
        _info(status=status, title="x" * 5000, deliverable="y" * 5000, source_code=""),
    ):
        for link in (None, MEETING_LINK):
            blocks = action_card(lang, item, tz="Asia/Shanghai", source_link=link)
            dumped = [b.to_dict() for b in blocks]
            assert all(Block.parse(d) is not None for d in dumped)
            flat = block_text({"blocks": dumped})
            assert "<!channel>" not in flat and "<b>" not in flat and "<yet>" not in flat
            assert shown_source_link(dumped) == (link if item.source_code else None)
            assert (buttons({"blocks": dumped}) == []) == (status == ActionStatus.DONE)
    assert "&lt;!channel&gt; &amp; the &amp; docs" in action_text(lang, _info(), "UTC")
