"""Meetings end to end: schedule, agenda mailing, reminders, minutes, acknowledgments, action items."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.services.actions import ActionStatus
from handlers.blocks.meeting import FIELDS, Ids
from handlers.sandbox.slack_api import ALICE, BOB, CAROL, DAVE, GENERAL
from storage.models import OutboxItem
from tests.conftest import Bot
from tests.helpers import MEETING, block_text, record_minutes, schedule, wait_until

pytestmark = pytest.mark.both_modes  # every flow here also runs split into serving process and worker

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 12, 3, 10, 0, tzinfo=SHANGHAI)  # a week after the test clock's Thursday


def dms(bot: Bot, user: str) -> list[dict[str, Any]]:
    """Direct messages the bot sent a user (params of successful calls)."""
    return [
        c.params
        for c in bot.fake.calls("chat.postMessage")
        if c.params["channel"] == user and c.response and c.response.get("ok")
    ]


def errors_for(bot: Bot, **values: Any) -> dict[str, str]:
    """Submit the modal and return the field errors."""
    bot.slack.slash("/meeting", "", user=CAROL)
    bot.fake.wait_for("views.open", len(bot.fake.calls("views.open")) or 1)
    reply = bot.slack.submit_view({**MEETING, **values}, user=CAROL)
    body = reply.json() or {}
    assert body.get("response_action") == "errors", reply.body
    return dict(body["errors"])


def rows(bot: Bot) -> list[OutboxItem]:
    """The outbox."""
    with bot.runtime.services.session_scope() as s:
        return list(s.scalars(select(OutboxItem)).all())


def test_schedule_posts_the_card_and_plans_the_reminders(bot: Bot) -> None:
    bot.slack.slash("/meeting", "", user=ALICE)
    view = bot.fake.wait_for("views.open")[0].params["view"]
    assert [b.get("block_id") for b in view["blocks"] if b["type"] == "input"] == list(FIELDS)
    card = schedule(bot)
    text = block_text(card)
    assert "MTG-2026-001 · Q1 launch plan" in text and "Decide the launch date and owners" in text
    assert "1. Launch date — <@U_BOB> — 20 min" in text and "3. Risks — <@U_ALICE> — 10 min" in text
    actions = [e["action_id"] for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert actions == [Ids.RECORD_MINUTES, Ids.EDIT, "record_history"]
    due = {(r.kind, json.loads(r.payload)["user_id"]): r.due_at for r in rows(bot)}
    for user in (ALICE, BOB, DAVE):
        assert due[("meeting.agenda", user)] == START - timedelta(days=3)
        assert due[("meeting.start", user)] == START - timedelta(minutes=15)
    assert due[("meeting.minutes_missing", ALICE)] == START + timedelta(hours=25)


def test_agenda_goes_out_three_days_ahead_and_the_reminder_before_start(bot: Bot) -> None:
    schedule(bot)
    assert bot.runtime.tick(START - timedelta(days=3, minutes=1)).sent == 0
    assert bot.runtime.tick(START - timedelta(days=3)).sent == 3
    bob = dms(bot, BOB)[-1]
    assert "starts" in bob["text"] and "read the materials" in bob["text"]
    assert "https://docs.example.com/plan" in block_text(bob)
    assert "请提前阅读会前材料" in dms(bot, ALICE)[-1]["text"]  # Alice reads Chinese
    assert bot.runtime.tick(START - timedelta(minutes=15)).sent == 3
    assert "starts" in dms(bot, BOB)[-1]["text"]
    assert bot.runtime.tick(START + timedelta(days=1)).sent == 0  # nothing twice


def test_a_meeting_sooner_than_three_days_sends_the_agenda_at_once(bot: Bot) -> None:
    schedule(bot, start="明天下午3点")
    wait_until(lambda: dms(bot, BOB) and dms(bot, DAVE), what="agenda DMs")
    stored = bot.runtime.services.meetings.get(1)
    assert stored.start == datetime(2026, 11, 27, 15, 0, tzinfo=SHANGHAI)


def test_field_errors_follow_the_handbook(bot: Bot) -> None:
    assert errors_for(bot, duration_minutes="120") == {
        "duration_minutes": "The handbook limits meetings to 90 minutes."
    }
    assert errors_for(bot, agenda="Launch date — @bob — 25 min") == {
        "agenda": "Line 1: an agenda item may take at most 20 minutes."
    }
    assert errors_for(bot, duration_minutes="30", agenda="A — 20 min\nB — 15 min") == {
        "agenda": "The agenda takes 35 minutes but the meeting lasts 30."
    }
    assert errors_for(bot, agenda="Launch date — @bob") == {"agenda": "Line 1: write topic — @owner — N min."}
    assert errors_for(bot, start="when everyone is free") == {
        "start": "I couldn't read a date in “when everyone is free”."
    }


def test_typing_the_start_echoes_it_and_many_participants_are_warned(bot: Bot) -> None:
    bot.slack.slash("/meeting", "", user=BOB)
    bot.fake.wait_for("views.open")
    bot.slack.type_in("start", "next Monday 10am", user=BOB)
    update = bot.fake.wait_for("views.update")[0].params["view"]
    echo = next(b for b in update["blocks"] if b.get("block_id") == "start_echo")["elements"][0]["text"]
    stamp = int(datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("America/New_York")).timestamp())
    assert echo.startswith(f"→ <!date^{stamp}^")
    for n in range(12):
        bot.fake.add_user(f"U_P{n}", f"p{n}")
    crowd = [f"U_P{n}" for n in range(12)]
    bot.slack.submit_view({**MEETING, "participants": crowd}, user=BOB)
    notice = wait_until(lambda: [d for d in dms(bot, BOB) if "advises" in d["text"]], what="size warning")[0]
    assert "13 participants" in notice["text"]


def test_minutes_flow_posts_sends_and_tracks_acknowledgments(bot: Bot) -> None:
    card = schedule(bot)
    reply = record_minutes(
        bot,
        card,
        user=BOB,
        decisions="Launch on 12 January\nBudget capped at 50k",
        action_items="Draft the launch post — @alice — 2026-12-10 — blog draft\nBook the venue — <@U_DAVE> — 下周五",
        notes="Marketing joins next time.",
    )
    assert reply.status == 200 and reply.json() is None, reply.body
    thread = wait_until(
        lambda: [c for c in bot.fake.calls("chat.postMessage") if c.params.get("thread_ts") == card["ts"]],
        what="minutes in thread",
    )[0]
    minutes = block_text(thread.params)
    assert "Launch on 12 January" in minutes and "ACT-2026-001 · Draft the launch post — <@U_ALICE>" in minutes
    assert "deliverable: blog draft" in minutes and "ACT-2026-002 · Book the venue — <@U_DAVE>" in minutes
    # action owners get their item with Accept / Done, participants a copy of the minutes to acknowledge
    wait_until(lambda: any("ACT-2026-001" in block_text(d) for d in dms(bot, ALICE)), what="action DM")
    wait_until(
        lambda: all(any(Ids.ACK in json.dumps(d.get("blocks")) for d in dms(bot, u)) for u in (ALICE, BOB, DAVE)),
        what="minutes DMs",
    )
    # acknowledgments: ✅ on the thread message, or the button in the DM
    bot.slack.react("white_check_mark", channel=GENERAL, ts=thread.response["ts"], user=DAVE)
    wait_until(
        lambda: "acknowledged by <@U_DAVE> (1 of 3)" in block_text(bot.fake.message(GENERAL, card["ts"]) or {}),
        what="card shows Dave's acknowledgment",
    )
    copy = next(d for d in dms(bot, BOB) if Ids.ACK in json.dumps(d.get("blocks")))
    stored = next(m for m in bot.fake.messages() if m.get("text") == copy["text"] and m["channel"].startswith("D"))
    bot.slack.click(Ids.ACK, user=BOB, message=stored)
    wait_until(lambda: "(2 of 3)" in block_text(bot.fake.message(GENERAL, card["ts"]) or {}), what="second ack")
    # a stranger's ✅ changes nothing
    bot.slack.react("white_check_mark", channel=GENERAL, ts=thread.response["ts"], user=CAROL)
    wait_until(lambda: bot.fake.calls("chat.postEphemeral"), what="refusal")
    assert set(bot.runtime.services.meetings.get(1).acked_by) == {DAVE, BOB}


def test_only_the_host_or_participants_record_minutes(bot: Bot) -> None:
    card = schedule(bot)
    bot.slack.click(Ids.RECORD_MINUTES, user=CAROL, message=card)
    refusal = bot.fake.wait_for("response_url")[0].params["text"]
    assert refusal == "Only the host or a participant of MTG-2026-001 can record its minutes."
    bot.slack.slash("/meeting", "minutes MTG-2026-001", user=CAROL)
    wait_until(lambda: len(bot.fake.calls("response_url")) == 2, what="second refusal")
    assert len(bot.fake.calls("views.open")) == 1


def test_an_unreadable_action_line_is_named(bot: Bot) -> None:
    card = schedule(bot)
    reply = record_minutes(
        bot, card, user=ALICE, action_items="Book the venue — @dave — 下周五\nCall the printer — @bob — sometime"
    )
    assert (reply.json() or {}).get("errors") == {"action_items": "Line 2: I couldn't read a due date in “sometime”."}
    reply = bot.slack.submit_view(
        {"action_items": "Call the printer — tomorrow"}, user=ALICE, callback_id=Ids.MINUTES_MODAL
    )
    assert (reply.json() or {}).get("errors") == {"action_items": "第 1 行：请指定负责人（@姓名）。"}


def test_a_past_meeting_records_minutes_without_reminders(bot: Bot) -> None:
    card = schedule(bot, start="yesterday 10am")
    assert {r.kind for r in rows(bot)} == {"meeting.minutes_missing"}
    reply = record_minutes(bot, card, user=ALICE, decisions="Ship it")
    assert reply.status == 200 and reply.json() is None
    wait_until(lambda: bot.runtime.services.meetings.get(1).minutes_at is not None, what="minutes stored")
    assert "cancelled" in {r.state for r in rows(bot) if r.kind == "meeting.minutes_missing"}


def test_host_is_reminded_when_minutes_are_missing(bot: Bot) -> None:
    schedule(bot)
    bot.runtime.tick(START + timedelta(hours=1, minutes=1))
    assert not any("No minutes yet" in d["text"] or "尚未记录" in d["text"] for d in dms(bot, ALICE))
    bot.runtime.tick(START + timedelta(hours=25))
    assert any("尚未记录会议纪要" in d["text"] for d in dms(bot, ALICE))  # Alice hosts and reads Chinese


def test_action_items_from_minutes_are_reminded_and_escalated_to_the_host(bot: Bot) -> None:
    card = schedule(bot, host=BOB)
    record_minutes(bot, card, user=ALICE, action_items="Book the venue — @dave — 2026-12-10 18:00")
    wait_until(lambda: bot.runtime.services.actions.for_source("meeting", 1), what="action item")
    item = bot.runtime.services.actions.for_source("meeting", 1)[0]
    assert item.escalate_to == BOB and item.source_code == "MTG-2026-001"
    bot.runtime.tick(item.due - timedelta(hours=24))
    assert any("ACT-2026-001" in d["text"] for d in dms(bot, DAVE))
    before_bob = len(dms(bot, BOB))
    bot.runtime.tick(item.due + timedelta(minutes=1))
    assert len(dms(bot, BOB)) == before_bob + 1 and "ACT-2026-001" in dms(bot, BOB)[-1]["text"]
    assert bot.runtime.tick(item.due + timedelta(days=1)).sent == 0
    assert bot.runtime.tick(item.due + timedelta(days=2)).sent == 1  # two working days late: escalated to the host
    assert "Needs attention" in dms(bot, BOB)[-1]["text"]
    assert bot.runtime.tick(item.due + timedelta(days=20)).sent == 0


def test_edit_reschedules_the_reminders(bot: Bot) -> None:
    card = schedule(bot)
    bot.slack.click(Ids.EDIT, user=ALICE, message=card)
    bot.fake.wait_for("views.open", 2)
    bot.slack.submit_view({"start": "2026-12-04 15:00"}, user=ALICE)
    wait_until(
        lambda: bot.runtime.services.meetings.get(1).start == datetime(2026, 12, 4, 15, 0, tzinfo=SHANGHAI),
        what="new start",
    )
    pending = [r for r in rows(bot) if r.state == "pending" and r.kind == "meeting.start"]
    assert {r.due_at for r in pending} == {datetime(2026, 12, 4, 14, 45, tzinfo=SHANGHAI).astimezone(UTC)}
    bot.slack.click(Ids.EDIT, user=CAROL, message=card)
    assert "Only the host" in bot.fake.wait_for("response_url")[0].params["text"]


def test_owner_marks_an_action_item_done_with_a_reaction_on_its_card(bot: Bot) -> None:
    card = schedule(bot)
    record_minutes(bot, card, user=ALICE, action_items="Book the venue — @dave — 2026-12-10 18:00")
    item = wait_until(lambda: bot.runtime.services.actions.for_source("meeting", 1), what="action item")[0]
    dm = wait_until(lambda: bot.runtime.services.actions.get(item.id).message_ts, what="card DM attached")
    channel = bot.runtime.services.actions.get(item.id).channel_id
    assert bot.slack.react("white_check_mark", channel=channel, ts=dm, user=DAVE).status == 200
    wait_until(lambda: bot.runtime.services.actions.get(item.id).status == "done", what="done by ✅")
    bot.runtime.tick(item.due + timedelta(days=1))
    assert {r.state for r in rows(bot) if r.kind.startswith("action.")} <= {"cancelled"}  # no reminder, no notice


def test_history_of_a_meeting_and_of_an_action_item(bot: Bot) -> None:
    card = schedule(bot)
    record_minutes(bot, card, user=BOB, action_items="Book the venue — @dave — 2026-12-10 18:00")
    wait_until(lambda: bot.runtime.services.actions.for_source("meeting", 1), what="item")
    bot.slack.click("record_history", user=CAROL, message=bot.fake.message(GENERAL, card["ts"]), value="meeting:1")
    text = block_text(bot.fake.wait_for("response_url")[0].params)
    assert "<@U_ALICE> scheduled the meeting" in text and "<@U_BOB> recorded the minutes" in text
    actions = bot.runtime.services.actions
    wait_until(lambda: actions.get(1).message_ts, what="the item's card attached")
    item = actions.set_status(1, user_id=DAVE, status=ActionStatus.IN_PROGRESS, now=bot.clock())[0]
    dm_card = bot.fake.message(item.channel_id, item.message_ts or "")
    bot.slack.click("record_history", user=DAVE, message=dm_card, value="action:1")
    text = block_text(bot.fake.wait_for("response_url", 2)[-1].params)
    assert "ACT-2026-001 的变更记录" in text and "待开始 → 进行中" in text  # Dave reads Chinese
