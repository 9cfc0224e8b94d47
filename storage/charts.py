"""Queries behind the digest's charts: a channel's action items and incidents over recent weeks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from storage.models import ActionItem, Incident, Meeting, Requirement

SOURCE_MEETING = "meeting"
SOURCE_REQUIREMENT = "requirement"


@dataclass(frozen=True)
class ActionSpan:
    """When an action item was created and how it stands now (enough to tell where it stood any week)."""

    created_at: datetime
    status: str
    done_at: datetime | None
    updated_at: datetime


def action_spans(
    session: Session, *, team_id: str | None, channel_id: str | None, since: datetime, until: datetime
) -> list[ActionSpan]:
    """The channel's action items created by `until` and not done by `since` (None: every channel, every team).

    An item belongs to the channel as in the digest: posted there, or its source meeting or requirement is
    there (items handed to their owners by DM carry the DM's channel).
    """
    where = [
        col(ActionItem.created_at) <= until,
        or_(col(ActionItem.done_at).is_(None), col(ActionItem.done_at) > since),
    ]
    if team_id is not None:
        where.append(col(ActionItem.team_id) == team_id)
    if channel_id is not None:
        where.append(
            or_(
                col(ActionItem.channel_id) == channel_id,
                col(Meeting.channel_id) == channel_id,
                col(Requirement.channel_id) == channel_id,
            )
        )
    rows = session.execute(
        select(col(ActionItem.created_at), col(ActionItem.status), col(ActionItem.done_at), col(ActionItem.updated_at))
        .outerjoin(
            Meeting, and_(col(ActionItem.source_type) == SOURCE_MEETING, col(ActionItem.source_id) == col(Meeting.id))
        )
        .outerjoin(
            Requirement,
            and_(col(ActionItem.source_type) == SOURCE_REQUIREMENT, col(ActionItem.source_id) == col(Requirement.id)),
        )
        .where(*where)
        .order_by(col(ActionItem.id))
    ).all()
    return [ActionSpan(created, str(status), done, updated) for created, status, done, updated in rows]


def _of_channel(channel_id: str) -> ColumnElement[bool]:
    """An incident run in the channel (its own) or announced there."""
    return or_(col(Incident.channel_id) == channel_id, col(Incident.announce_channel_id) == channel_id)


def has_incidents(session: Session, *, team_id: str, channel_id: str) -> bool:
    """Whether any incident was run in the channel or announced there."""
    found = session.execute(select(exists().where(col(Incident.team_id) == team_id, _of_channel(channel_id)))).scalar()
    return bool(found)


def incident_declarations(
    session: Session, *, team_id: str | None, channel_id: str | None, since: datetime, until: datetime
) -> list[tuple[datetime, str]]:
    """(declared_at, severity) of the incidents declared in (since, until]: the channel's, or every one (None);
    of one team, or of all (None)."""
    stmt = select(col(Incident.declared_at), col(Incident.severity)).where(
        col(Incident.declared_at) > since, col(Incident.declared_at) <= until
    )
    if team_id is not None:
        stmt = stmt.where(col(Incident.team_id) == team_id)
    if channel_id is not None:
        stmt = stmt.where(_of_channel(channel_id))
    return [(declared, str(severity)) for declared, severity in session.execute(stmt.order_by(col(Incident.id))).all()]
