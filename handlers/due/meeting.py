"""Due work of meetings: agenda mailings, start reminders, missing-minutes reminders, minutes copies."""

from __future__ import annotations

from datetime import datetime

from slack_sdk import WebClient

from bot.outbox import DueWork, Outcome
from bot.services import Services
from bot.services.meetings import (
    KIND_AGENDA,
    KIND_MINUTES_DM,
    KIND_MINUTES_MISSING,
    KIND_START,
)
from bot.text import t
from handlers.blocks import meeting as blocks
from handlers.blocks.common import date_token, escape, truncate
from handlers.due.outbound import Deliverer, link_or_channel
from handlers.workspace.directory import Directory


def deliverers(client: WebClient, services: Services, directory: Directory) -> dict[str, Deliverer]:
    """Renderers for the meeting feature's due work."""
    meetings = services.meetings

    def agenda(item: DueWork, now: datetime) -> Outcome:
        info = meetings.get(int(item.payload["meeting_id"]))
        user = str(item.payload["user_id"])
        if now >= info.start or int(info.start.timestamp()) != item.payload.get("start") or user not in info.attendees:
            return Outcome.SKIPPED
        lang, tz = directory.lang_of(user, fetch=True), directory.tz_of(user, fetch=True)
        card = blocks.card_blocks(lang, info, tz=tz)[:-1]  # the card without its buttons
        intro = t(
            lang,
            "meeting.dm.agenda",
            code=info.code,
            title=escape(truncate(info.title, 200)),
            when=date_token(info.start, tz),
        )
        link = link_or_channel(client, info.channel_id, info.message_ts)
        body = [blocks.section(intro), *card[1:], blocks.context(t(lang, "meeting.dm.open", link=link))]
        client.chat_postMessage(channel=user, text=intro, blocks=body)
        return Outcome.SENT

    def start(item: DueWork, now: datetime) -> Outcome:
        info = meetings.get(int(item.payload["meeting_id"]))
        user = str(item.payload["user_id"])
        if now >= info.start or int(info.start.timestamp()) != item.payload.get("start") or user not in info.attendees:
            return Outcome.SKIPPED
        lang, tz = directory.lang_of(user, fetch=True), directory.tz_of(user, fetch=True)
        where = t(lang, "meeting.dm.where", location=escape(truncate(info.location, 300))) if info.location else ""
        client.chat_postMessage(
            channel=user,
            text=t(
                lang,
                "meeting.dm.start",
                code=info.code,
                title=escape(truncate(info.title, 200)),
                when=date_token(info.start, tz),
                where=where,
            ),
        )
        return Outcome.SENT

    def minutes_missing(item: DueWork, now: datetime) -> Outcome:
        info = meetings.get(int(item.payload["meeting_id"]))
        if info.minutes_at is not None:
            return Outcome.SKIPPED
        user = info.host_id
        lang, tz = directory.lang_of(user, fetch=True), directory.tz_of(user, fetch=True)
        client.chat_postMessage(
            channel=user,
            text=t(
                lang,
                "meeting.dm.minutes_missing",
                code=info.code,
                title=escape(truncate(info.title, 200)),
                when=date_token(info.end, tz),
                link=link_or_channel(client, info.channel_id, info.message_ts),
            ),
        )
        return Outcome.SENT

    def minutes_copy(item: DueWork, now: datetime) -> Outcome:
        info = meetings.get(int(item.payload["meeting_id"]))
        user = str(item.payload["user_id"])
        if info.minutes_at is None or user not in info.attendees:
            return Outcome.SKIPPED
        lang, tz = directory.lang_of(user, fetch=True), directory.tz_of(user, fetch=True)
        text = t(
            lang,
            "meeting.dm.minutes",
            code=info.code,
            title=escape(truncate(info.title, 200)),
            link=link_or_channel(client, info.channel_id, info.minutes_ts or info.message_ts),
        )
        actions = services.actions.for_source("meeting", info.id)
        client.chat_postMessage(
            channel=user,
            text=text,
            blocks=[blocks.section(text), *blocks.minutes_blocks(lang, info, actions, tz=tz, ack_button=True)],
        )
        return Outcome.SENT

    return {
        KIND_AGENDA: agenda,
        KIND_START: start,
        KIND_MINUTES_MISSING: minutes_missing,
        KIND_MINUTES_DM: minutes_copy,
    }
