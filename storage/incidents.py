"""Queries for incidents: the record, its responders, its timeline, and follow-ups still open."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select, union_all
from sqlalchemy.orm import Session
from sqlmodel import col

from storage.models import ActionItem, Incident, IncidentResponder, IncidentTimeline, Meeting

SOURCE_INCIDENT = "incident"
SOURCE_MEETING = "meeting"


def get(session: Session, incident_id: int, *, lock: bool = False) -> Incident | None:
    """One incident by primary key."""
    stmt = select(Incident).where(col(Incident.id) == incident_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def by_code(session: Session, *, team_id: str, code: str) -> Incident | None:
    """One incident by its ID such as INC-2026-001."""
    return session.scalars(select(Incident).where(col(Incident.team_id) == team_id, col(Incident.code) == code)).first()


def by_channel(session: Session, channel_id: str) -> Incident | None:
    """The incident run in a channel (the newest, should a channel ever be reused)."""
    return session.scalars(
        select(Incident).where(col(Incident.channel_id) == channel_id).order_by(col(Incident.id).desc())
    ).first()


def responders(session: Session, incident_id: int) -> list[str]:
    """Responders' user IDs in the order they joined."""
    return list(
        session.scalars(
            select(col(IncidentResponder.user_id))
            .where(col(IncidentResponder.incident_id) == incident_id)
            .order_by(col(IncidentResponder.added_at), col(IncidentResponder.user_id))
        ).all()
    )


def add_responder(session: Session, incident_id: int, user_id: str, at: datetime) -> bool:
    """Add a responder; False when they already were one."""
    if session.get(IncidentResponder, (incident_id, user_id)) is not None:
        return False
    session.add(IncidentResponder(incident_id=incident_id, user_id=user_id, added_at=at))
    return True


def remove_responder(session: Session, incident_id: int, user_id: str) -> None:
    """Take someone off the responder list (they became the commander)."""
    session.execute(
        delete(IncidentResponder).where(
            col(IncidentResponder.incident_id) == incident_id, col(IncidentResponder.user_id) == user_id
        )
    )


def add_entry(
    session: Session,
    *,
    incident_id: int,
    at: datetime,
    actor_id: str,
    kind: str,
    text: str = "",
    detail: str = "{}",
    message_ts: str | None = None,
) -> None:
    """Append one moment to the timeline."""
    session.add(
        IncidentTimeline(
            incident_id=incident_id,
            at=at,
            actor_id=actor_id,
            kind=kind,
            text=text,
            detail=detail,
            message_ts=message_ts,
        )
    )


def timeline(session: Session, incident_id: int) -> Sequence[IncidentTimeline]:
    """The timeline, oldest first."""
    return session.scalars(
        select(IncidentTimeline)
        .where(col(IncidentTimeline.incident_id) == incident_id)
        .order_by(col(IncidentTimeline.at), col(IncidentTimeline.id))
    ).all()


def pinned(session: Session, incident_id: int, message_ts: str) -> IncidentTimeline | None:
    """The timeline entry of a 📌-marked message, if there is one."""
    return session.scalars(
        select(IncidentTimeline).where(
            col(IncidentTimeline.incident_id) == incident_id,
            col(IncidentTimeline.kind) == "pinned",
            col(IncidentTimeline.message_ts) == message_ts,
        )
    ).first()


def delete_entry(session: Session, entry_id: int) -> None:
    """Remove one timeline entry (a 📌 taken back)."""
    session.execute(delete(IncidentTimeline).where(col(IncidentTimeline.id) == entry_id))


def with_open_followups(
    session: Session, *, team_id: str, channel_id: str | None, closed: Collection[str]
) -> list[tuple[int, int]]:
    """(incident id, open follow-up count) of incidents run or announced in `channel_id` (any, when None)
    whose follow-up action items are not all closed (done or won't do), oldest incident first.

    An incident's follow-ups are the items raised from it and those of the minutes of its review meetings.
    """
    links = union_all(
        select(col(Incident.id), col(ActionItem.id)).join(
            ActionItem,
            and_(col(ActionItem.source_type) == SOURCE_INCIDENT, col(ActionItem.source_id) == col(Incident.id)),
        ),
        select(col(Meeting.incident_id), col(ActionItem.id))
        .join(
            ActionItem,
            and_(col(ActionItem.source_type) == SOURCE_MEETING, col(ActionItem.source_id) == col(Meeting.id)),
        )
        .where(col(Meeting.incident_id).is_not(None)),
    ).subquery()
    incident_id, action_id = links.c[0], links.c[1]
    stmt = (
        select(col(Incident.id), func.count(func.distinct(action_id)))
        .join(links, incident_id == col(Incident.id))
        .join(ActionItem, col(ActionItem.id) == action_id)
        .where(col(Incident.team_id) == team_id, col(ActionItem.status).not_in(list(closed)))
        .group_by(col(Incident.id))
        .order_by(col(Incident.id))
    )
    if channel_id:
        stmt = stmt.where(or_(col(Incident.channel_id) == channel_id, col(Incident.announce_channel_id) == channel_id))
    return [(int(i or 0), int(n)) for i, n in session.execute(stmt).all()]
