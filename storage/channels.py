"""Queries for the channels the bot was removed from, and the open records that live in them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlmodel import col

from storage.models import ActionItem, Incident, LeftChannel, Meeting, Requirement


@dataclass(frozen=True)
class OpenRecord:
    """A record still being worked on, and the people who answer for it."""

    code: str
    channel_id: str
    people: tuple[str, ...]


def mark_left(session: Session, *, team_id: str, channel_id: str, now: datetime) -> bool:
    """Remember that the bot left the channel; False when it was known already."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = (
        insert(LeftChannel)
        .values(team_id=team_id, channel_id=channel_id, left_at=now)
        .on_conflict_do_nothing(index_elements=["team_id", "channel_id"])
        .returning(col(LeftChannel.channel_id))
    )
    return session.execute(stmt).scalar() is not None


def mark_joined(session: Session, *, team_id: str, channel_id: str) -> bool:
    """Forget that the bot had left the channel (it is back); True when it had."""
    result = session.execute(
        delete(LeftChannel).where(col(LeftChannel.team_id) == team_id, col(LeftChannel.channel_id) == channel_id)
    )
    return bool(getattr(result, "rowcount", 0))


def left_channels(session: Session, *, team_id: str | None = None) -> Sequence[LeftChannel]:
    """The channels the bot is out of, oldest first."""
    stmt = select(LeftChannel).order_by(col(LeftChannel.left_at))
    if team_id is not None:
        stmt = stmt.where(col(LeftChannel.team_id) == team_id)
    return session.scalars(stmt).all()


def open_records(session: Session, *, team_id: str, channel_ids: Sequence[str], now: datetime) -> list[OpenRecord]:
    """Sheets not yet confirmed, meetings ahead or owing minutes, open action items and unresolved incidents
    living in the channels, by code."""
    if not channel_ids:
        return []
    found: list[OpenRecord] = []
    for r in session.scalars(
        select(Requirement).where(
            col(Requirement.team_id) == team_id,
            col(Requirement.channel_id).in_(channel_ids),
            col(Requirement.status) != "confirmed",
        )
    ):
        found.append(OpenRecord(r.code, r.channel_id, (r.requester_owner, r.receiver_owner, r.author_id)))
    for m in session.scalars(
        select(Meeting).where(
            col(Meeting.team_id) == team_id,
            col(Meeting.channel_id).in_(channel_ids),
            or_(col(Meeting.start_at) > now, col(Meeting.minutes_at).is_(None)),
        )
    ):
        found.append(OpenRecord(m.code, m.channel_id, (m.host_id, m.created_by)))
    for a in session.scalars(
        select(ActionItem).where(
            col(ActionItem.team_id) == team_id,
            col(ActionItem.channel_id).in_(channel_ids),
            col(ActionItem.status).notin_(("done", "wont_do")),  # closed: done, or won't be done
        )
    ):
        found.append(OpenRecord(a.code, a.channel_id, (a.owner_id, a.creator_id)))
    for i in session.scalars(
        select(Incident).where(
            col(Incident.team_id) == team_id,
            or_(col(Incident.channel_id).in_(channel_ids), col(Incident.announce_channel_id).in_(channel_ids)),
            col(Incident.status) != "resolved",
        )
    ):
        where = i.channel_id if i.channel_id in channel_ids else i.announce_channel_id  # the channel asked about
        found.append(OpenRecord(i.code, where, (i.commander_id,)))
    return sorted(found, key=lambda r: r.code)
