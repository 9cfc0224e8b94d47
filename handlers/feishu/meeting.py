"""Meetings on Feishu: the meeting form, its card in the group, minutes by form, their action items as cards."""

from __future__ import annotations

import logging
import re
from functools import partial

from bot.messenger import ButtonPressed, CommandTyped, FormSubmitted
from handlers.feishu.cards import actions as item_cards
from handlers.feishu.cards import meeting as cards
from handlers.feishu.turn import Turn

logger = logging.getLogger(__name__)

CODE_RE = re.compile(r"^MTG-\d{4}-\d{3,}$", re.IGNORECASE)


def on_command(turn: Turn, cmd: CommandTyped) -> None:
    """`会议` / `/meeting`: the meeting form (to the person, for this group)."""
    if cmd.text.strip().lower() in ("help", "帮助", "?"):
        turn.tell("feishu.help")
    elif cmd.direct or not cmd.channel:
        turn.tell("feishu.in_a_group")
    else:
        people = turn.candidates(cmd.channel)
        turn.show(
            cards.meeting_form(turn.lang, chat_id=cmd.channel, tz=turn.tz, now=turn.now, people=people), purpose="form"
        )


def on_minutes_command(turn: Turn, cmd: CommandTyped) -> None:
    """`纪要 MTG-2026-001` / `/minutes MTG-…`: that meeting's minutes form, to whoever may record them."""
    code = cmd.text.strip().upper()
    if not CODE_RE.match(code):
        turn.tell("feishu.unknown", text=cmd.text[:100] or "纪要")
        return
    open_minutes(turn, turn.services.meetings.by_code(turn.workspace, code).id)


def open_minutes(turn: Turn, meeting_id: int) -> None:
    """The minutes form of one meeting, to its host or a participant."""
    info = turn.services.meetings.get(meeting_id)
    turn.services.meetings.check_can_record(info, turn.user)
    items = turn.services.actions.for_source("meeting", info.id)
    turn.show(cards.minutes_form(turn.lang, info, tz=turn.tz, actions=items), purpose=f"minutes:{info.id}")


def on_form(turn: Turn, form: FormSubmitted) -> None:
    """The meeting form came back (checked when it arrived): store the meeting and post its card."""
    settings = turn.services.settings
    draft = cards.parse_meeting_form(
        dict(form.values),
        now=turn.now,
        tz=turn.tz,
        lang=turn.lang,
        workday_end=settings.workday_end,
        host_id=turn.user,
        chat_id=form.channel,
        members=turn.people.members(form.channel),
    )
    reviewed = form.context.get("incident")  # the form of an incident's review meeting says which
    incident_id = int(reviewed) if isinstance(reviewed, int | str) and str(reviewed).isdigit() else None
    info = turn.services.meetings.create(
        team_id=turn.workspace, creator_id=turn.user, draft=draft, now=turn.now, incident_id=incident_id
    )
    shown = turn.for_chat(info.channel_id, partial(cards.meeting_card, info=info, tz=turn.tz))
    posted = turn.post(info.channel_id, shown, ref=f"meeting:{info.id}")
    if posted is not None:
        turn.services.meetings.attach_message(info.id, channel_id=posted.channel, message_ts=posted.message)
    if info.incident_id is not None:  # the incident's card names its review meeting
        from handlers.feishu import incident  # the incident feature builds on meetings, not the other way round

        incident.refresh(turn, info.incident_id)


def on_minutes_form(turn: Turn, form: FormSubmitted) -> None:
    """The minutes came back: record them, post them in the meeting's group, and each new action item's card."""
    meetings, settings = turn.services.meetings, turn.services.settings
    meeting_id = int(form.context.get("meeting") or 0)
    info = meetings.get(meeting_id)
    draft = cards.parse_minutes_form(
        dict(form.values),
        now=turn.now,
        tz=turn.tz,
        lang=turn.lang,
        workday_end=settings.workday_end,
        members=turn.people.members(info.channel_id),
    )
    outcome = meetings.record_minutes(meeting_id, user_id=turn.user, draft=draft, now=turn.now)
    info = outcome.meeting
    items = turn.services.actions.for_source("meeting", info.id)
    shown = turn.for_chat(info.channel_id, partial(cards.minutes_card, info=info, actions=items, tz=turn.tz))
    if info.minutes_ts:  # recorded before: the card shows the new minutes
        turn.api.update_card(info.minutes_ts, shown)
    else:
        posted = turn.post(info.channel_id, shown, ref=f"minutes:{info.id}")
        if posted is not None:
            meetings.attach_minutes_message(info.id, minutes_ts=posted.message)
    for item in outcome.new_actions:
        item_card = turn.for_chat(info.channel_id, partial(item_cards.action_card, item=item, tz=turn.tz))
        card = turn.post(info.channel_id, item_card, ref=f"action:{item.id}")
        if card is not None:
            turn.services.actions.attach_message(item.id, channel_id=card.channel, message_ts=card.message)
    if info.message_ts:
        shown = turn.for_chat(info.channel_id, partial(cards.meeting_card, info=info, tz=turn.tz))
        turn.api.update_card(info.message_ts, shown)


def on_button(turn: Turn, pressed: ButtonPressed) -> None:
    """Record minutes, or acknowledge them, on a meeting's card."""
    if pressed.action == cards.DO_MINUTES:
        open_minutes(turn, pressed.record_id)
    elif pressed.action == cards.DO_ACK and turn.press(pressed).changed:
        refresh_minutes(turn, pressed.record_id)


def refresh_minutes(turn: Turn, meeting_id: int) -> None:
    """Show the minutes' acknowledgments in their card."""
    info = turn.services.meetings.get(meeting_id)
    if info.minutes_ts:
        items = turn.services.actions.for_source("meeting", info.id)
        build = partial(cards.minutes_card, info=info, actions=items, tz=turn.tz)
        turn.api.update_card(info.minutes_ts, turn.for_chat(info.channel_id, build))
