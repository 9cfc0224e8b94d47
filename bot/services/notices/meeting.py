"""When a meeting's agenda, start reminder, missing-minutes nudge and minutes go out, to whom, saying what."""

from __future__ import annotations

from datetime import datetime

from bot.notices import Extra, Link, Notice, Plan, Record, Text, Tone, Typed, When
from bot.outbox import DueWork
from bot.services.meetings import MeetingInfo, MeetingService

KIND = "meeting"


def _record(info: MeetingInfo) -> Record:
    return Record(KIND, info.id, info.code, info.title)


def _heading(info: MeetingInfo) -> Text:
    return Text.of("meeting.header", code=info.code, title=info.title)


def _upcoming_for(meetings: MeetingService, work: DueWork, now: datetime) -> tuple[MeetingInfo, str] | None:
    """The meeting and the attendee, while it is still ahead at the time planned and they still attend."""
    info = meetings.get(int(work.payload["meeting_id"]))
    user = str(work.payload["user_id"])
    if now >= info.start or int(info.start.timestamp()) != work.payload.get("start") or user not in info.attendees:
        return None
    return info, user


def agenda(meetings: MeetingService, work: DueWork, now: datetime) -> Plan:
    """The agenda, days ahead, to each attendee."""
    found = _upcoming_for(meetings, work, now)
    if found is None:
        return Plan.skip()
    info, user = found
    text = Text.of("meeting.dm.agenda", code=info.code, title=Typed(info.title, 200), when=When(info.start))
    footer = Text.of("meeting.dm.open", link=Link(info.channel_id, info.message_ts))
    return Plan((Notice(user, _record(info), text, footer=footer, extra=Extra.AGENDA, about=info),))


def start(meetings: MeetingService, work: DueWork, now: datetime) -> Plan:
    """Shortly before the start, to each attendee."""
    found = _upcoming_for(meetings, work, now)
    if found is None:
        return Plan.skip()
    info, user = found
    where = Text.of("meeting.dm.where", location=Typed(info.location, 300)) if info.location else None
    text = Text.of("meeting.dm.start", code=info.code, title=Typed(info.title, 200), when=When(info.start), where=where)
    return Plan((Notice(user, _record(info), text, heading=_heading(info)),))


def minutes_missing(meetings: MeetingService, work: DueWork, now: datetime) -> Plan:
    """The host, a day after the end, while no minutes are filed."""
    info = meetings.get(int(work.payload["meeting_id"]))
    if info.minutes_at is not None:
        return Plan.skip()
    text = Text.of(
        "meeting.dm.minutes_missing",
        code=info.code,
        title=Typed(info.title, 200),
        when=When(info.end),
        link=Link(info.channel_id, info.message_ts),
    )
    return Plan((Notice(info.host_id, _record(info), text, tone=Tone.WARN, heading=_heading(info)),))


def minutes_copy(meetings: MeetingService, work: DueWork, now: datetime) -> Plan:
    """The filed minutes, with their action items, to each attendee."""
    info = meetings.get(int(work.payload["meeting_id"]))
    user = str(work.payload["user_id"])
    if info.minutes_at is None or user not in info.attendees:
        return Plan.skip()
    text = Text.of(
        "meeting.dm.minutes",
        code=info.code,
        title=Typed(info.title, 200),
        link=Link(info.channel_id, info.minutes_ts or info.message_ts),
    )
    return Plan((Notice(user, _record(info), text, tone=Tone.DONE, extra=Extra.MINUTES, about=info),))
