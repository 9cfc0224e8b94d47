"""Queries for meetings: participants, agenda, minutes acknowledgments and history."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from sqlmodel import col

from storage.models import AgendaItem, HistoryEntry, Meeting, MeetingParticipant, MinutesAck


def get(session: Session, meeting_id: int, *, lock: bool = False) -> Meeting | None:
    """One meeting by primary key."""
    stmt = select(Meeting).where(col(Meeting.id) == meeting_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def by_code(session: Session, *, team_id: str, code: str) -> Meeting | None:
    """One meeting by its ID such as MTG-2026-001."""
    return session.scalars(select(Meeting).where(col(Meeting.team_id) == team_id, col(Meeting.code) == code)).first()


def by_message(
    session: Session, *, channel_id: str | None, ts: str, teams: Collection[str] | None = None
) -> Meeting | None:
    """The meeting whose card or minutes is the given message (of one of `teams`, when given); `channel_id`
    None: in whichever channel (a platform whose message IDs are unique on their own)."""
    stmt = select(Meeting).where((col(Meeting.message_ts) == ts) | (col(Meeting.minutes_ts) == ts))
    if channel_id is not None:
        stmt = stmt.where(col(Meeting.channel_id) == channel_id)
    if teams is not None:
        stmt = stmt.where(col(Meeting.team_id).in_(list(teams)))
    return session.scalars(stmt).first()


def participants(session: Session, meeting_id: int) -> list[str]:
    """Participants' user IDs."""
    return list(
        session.scalars(
            select(col(MeetingParticipant.user_id))
            .where(col(MeetingParticipant.meeting_id) == meeting_id)
            .order_by(col(MeetingParticipant.user_id))
        ).all()
    )


def set_participants(session: Session, meeting_id: int, users: Sequence[str]) -> None:
    """Replace the participant list."""
    session.execute(delete(MeetingParticipant).where(col(MeetingParticipant.meeting_id) == meeting_id))
    for user in dict.fromkeys(users):
        session.add(MeetingParticipant(meeting_id=meeting_id, user_id=user))


def agenda(session: Session, meeting_id: int) -> Sequence[AgendaItem]:
    """Agenda items in order."""
    return session.scalars(
        select(AgendaItem).where(col(AgendaItem.meeting_id) == meeting_id).order_by(col(AgendaItem.position))
    ).all()


def set_agenda(session: Session, meeting_id: int, items: Sequence[tuple[str, str, int]]) -> None:
    """Replace the agenda with (topic, owner, minutes) items."""
    session.execute(delete(AgendaItem).where(col(AgendaItem.meeting_id) == meeting_id))
    for position, (topic, owner, minutes) in enumerate(items):
        session.add(AgendaItem(meeting_id=meeting_id, position=position, topic=topic, owner_id=owner, minutes=minutes))


def acks(session: Session, meeting_id: int) -> Sequence[MinutesAck]:
    """Who acknowledged the minutes, in order."""
    return session.scalars(
        select(MinutesAck)
        .where(col(MinutesAck.meeting_id) == meeting_id)
        .order_by(col(MinutesAck.at), col(MinutesAck.user_id))
    ).all()


def add_ack(session: Session, meeting_id: int, user_id: str, at: datetime) -> bool:
    """Record an acknowledgment; False when it was already there."""
    if session.get(MinutesAck, (meeting_id, user_id)) is not None:
        return False
    session.add(MinutesAck(meeting_id=meeting_id, user_id=user_id, at=at))
    return True


def remove_ack(session: Session, meeting_id: int, user_id: str) -> bool:
    """Withdraw an acknowledgment; False when there was none."""
    result = session.execute(
        delete(MinutesAck).where(col(MinutesAck.meeting_id) == meeting_id, col(MinutesAck.user_id) == user_id)
    )
    return bool(getattr(result, "rowcount", 0))


def add_history(session: Session, *, meeting_id: int, at: datetime, actor_id: str, action: str, detail: str) -> None:
    """Append one entry to a meeting's history."""
    session.add(
        HistoryEntry(
            subject_type="meeting", subject_id=meeting_id, at=at, actor_id=actor_id, action=action, detail=detail
        )
    )


def history(session: Session, meeting_id: int) -> Sequence[HistoryEntry]:
    """A meeting's history, oldest first."""
    return session.scalars(
        select(HistoryEntry)
        .where(col(HistoryEntry.subject_type) == "meeting", col(HistoryEntry.subject_id) == meeting_id)
        .order_by(col(HistoryEntry.at), col(HistoryEntry.id))
    ).all()


def upcoming_for(
    session: Session, *, team_id: str, user_id: str, after: datetime, limit: int = 20
) -> Sequence[Meeting]:
    """Meetings the user hosts or joins that start after `after`."""
    return session.scalars(
        select(Meeting)
        .join(MeetingParticipant, col(MeetingParticipant.meeting_id) == col(Meeting.id), isouter=True)
        .where(
            col(Meeting.team_id) == team_id,
            col(Meeting.start_at) > after,
            (col(Meeting.host_id) == user_id) | (col(MeetingParticipant.user_id) == user_id),
        )
        .distinct()
        .order_by(col(Meeting.start_at))
        .limit(limit)
    ).all()


def starts_for(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    after: datetime | None,
    until: datetime,
    without_minutes: bool = False,
) -> list[tuple[int, datetime, int]]:
    """(id, start, duration in minutes) of the meetings the user hosts or joins that start in (after, until].

    The earliest first; `without_minutes` keeps only those whose minutes are not recorded yet.
    """
    stmt = (
        select(col(Meeting.id), col(Meeting.start_at), col(Meeting.duration_minutes))
        .join(MeetingParticipant, col(MeetingParticipant.meeting_id) == col(Meeting.id), isouter=True)
        .where(
            col(Meeting.team_id) == team_id,
            col(Meeting.start_at) <= until,
            (col(Meeting.host_id) == user_id) | (col(MeetingParticipant.user_id) == user_id),
        )
        .distinct()
        .order_by(col(Meeting.start_at), col(Meeting.id))
    )
    if after is not None:
        stmt = stmt.where(col(Meeting.start_at) > after)
    if without_minutes:
        stmt = stmt.where(col(Meeting.minutes_at).is_(None))
    return [(int(mid or 0), start, int(minutes)) for mid, start, minutes in session.execute(stmt).all()]


def get_many(session: Session, meeting_ids: Sequence[int]) -> list[Meeting]:
    """Meetings by primary key, in the order asked for."""
    if not meeting_ids:
        return []
    found = {m.id: m for m in session.scalars(select(Meeting).where(col(Meeting.id).in_(meeting_ids))).all()}
    return [found[i] for i in meeting_ids if i in found]


def for_incident(session: Session, incident_id: int) -> Sequence[Meeting]:
    """The meetings that review (复盘) an incident, the first scheduled first."""
    return session.scalars(
        select(Meeting).where(col(Meeting.incident_id) == incident_id).order_by(col(Meeting.id))
    ).all()
