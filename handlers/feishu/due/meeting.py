"""Due work of meetings on Feishu: the agenda and start reminders, the host's missing-minutes nudge, minutes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.markup import escape, truncate
from bot.outbox import DueWork, Outcome
from bot.services.meetings import KIND_AGENDA, KIND_MINUTES_DM, KIND_MINUTES_MISSING, KIND_START, MeetingInfo
from bot.text import t
from handlers.feishu.cards import meeting as meeting_cards
from handlers.feishu.cards.common import plain, when
from handlers.feishu.due.common import TITLE_MAX, FeishuDeliverer, Outbound, chat_link, md


def deliverers(out: Outbound) -> dict[str, FeishuDeliverer]:
    """Renderers for meetings' due work: agendas, start reminders, missing minutes, copies of the minutes."""
    services, meetings, actions, who, dm = out.services, out.services.meetings, out.services.actions, out.who, out.dm

    def upcoming_for(work: DueWork, now: datetime) -> tuple[MeetingInfo, str] | None:
        info = meetings.get(int(work.payload["meeting_id"]))
        user = str(work.payload["user_id"])
        if now >= info.start or int(info.start.timestamp()) != work.payload.get("start") or user not in info.attendees:
            return None
        return info, user

    def agenda(work: DueWork, now: datetime) -> Outcome:
        found = upcoming_for(work, now)
        if found is None:
            return Outcome.SKIPPED
        info, user = found
        lang, tz = who(user)
        intro = t(
            lang,
            "meeting.dm.agenda",
            code=info.code,
            title=escape(truncate(info.title, 200)),
            when=when(info.start, tz, lang),
        )
        shown = meeting_cards.meeting_card(lang, info, tz=tz)
        details = shown["body"]["elements"][:-1]  # the card without its buttons
        open_link = t(lang, "meeting.dm.open", link=chat_link(services, info.channel_id))
        elements = [*md(intro), *details, *md(open_link)]
        dm(work, user, shown["header"]["title"]["content"], elements, subtitle=_subtitle(shown))
        return Outcome.SENT

    def start(work: DueWork, now: datetime) -> Outcome:
        found = upcoming_for(work, now)
        if found is None:
            return Outcome.SKIPPED
        info, user = found
        lang, tz = who(user)
        where = t(lang, "meeting.dm.where", location=escape(truncate(info.location, 300))) if info.location else ""
        text = t(
            lang,
            "meeting.dm.start",
            code=info.code,
            title=escape(truncate(info.title, 200)),
            when=when(info.start, tz, lang),
            where=where,
        )
        title = t(lang, "meeting.header", code=info.code, title=info.title)
        dm(work, user, plain(title, TITLE_MAX), md(text))
        return Outcome.SENT

    def minutes_missing(work: DueWork, now: datetime) -> Outcome:
        info = meetings.get(int(work.payload["meeting_id"]))
        if info.minutes_at is not None:
            return Outcome.SKIPPED
        user = info.host_id
        lang, tz = who(user)
        text = t(
            lang,
            "meeting.dm.minutes_missing",
            code=info.code,
            title=escape(truncate(info.title, 200)),
            when=when(info.end, tz, lang),
            link=chat_link(services, info.channel_id),
        )
        title = t(lang, "meeting.header", code=info.code, title=info.title)
        dm(work, user, plain(title, TITLE_MAX), md(text), template="orange")
        return Outcome.SENT

    def minutes_copy(work: DueWork, now: datetime) -> Outcome:
        info = meetings.get(int(work.payload["meeting_id"]))
        user = str(work.payload["user_id"])
        if info.minutes_at is None or user not in info.attendees:
            return Outcome.SKIPPED
        lang, tz = who(user)
        text = t(
            lang,
            "meeting.dm.minutes",
            code=info.code,
            title=escape(truncate(info.title, 200)),
            link=chat_link(services, info.channel_id),
        )
        shown = meeting_cards.minutes_card(lang, info, actions.for_source("meeting", info.id), tz=tz, ack_button=True)
        elements = [*md(text), *shown["body"]["elements"]]
        dm(work, user, shown["header"]["title"]["content"], elements, template="green")
        return Outcome.SENT

    return {
        KIND_AGENDA: agenda,
        KIND_START: start,
        KIND_MINUTES_MISSING: minutes_missing,
        KIND_MINUTES_DM: minutes_copy,
    }


def _subtitle(card: dict[str, Any]) -> str | None:
    subtitle = card["header"].get("subtitle")
    return str(subtitle["content"]) if subtitle else None
