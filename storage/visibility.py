"""Queries for who may see what: the conversations a person's own records live in."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from storage.models import ActionItem, Meeting, MeetingParticipant, Requirement


def awaiting_channels(session: Session, *, team_id: str, user_id: str, awaiting: str) -> set[str]:
    """The channels of the records in status `awaiting` in which the user owns a side (signed or not)."""
    return set(
        session.scalars(
            select(col(Requirement.channel_id))
            .distinct()
            .where(
                col(Requirement.team_id) == team_id,
                col(Requirement.status) == awaiting,
                or_(col(Requirement.requester_owner) == user_id, col(Requirement.receiver_owner) == user_id),
            )
        ).all()
    )


def open_action_channels(session: Session, *, team_id: str, owner_id: str, closed: Collection[str]) -> set[str]:
    """The conversations of an owner's items that are not closed (done, won't do)."""
    return set(
        session.scalars(
            select(col(ActionItem.channel_id))
            .distinct()
            .where(
                col(ActionItem.team_id) == team_id,
                col(ActionItem.owner_id) == owner_id,
                col(ActionItem.status).notin_(list(closed)),
            )
        ).all()
    )


def meeting_channels(session: Session, *, team_id: str, user_id: str, after: datetime) -> set[str]:
    """The channels of the meetings the user hosts or joins that start after `after` or still lack minutes."""
    return set(
        session.scalars(
            select(col(Meeting.channel_id))
            .distinct()
            .join(MeetingParticipant, col(MeetingParticipant.meeting_id) == col(Meeting.id), isouter=True)
            .where(
                col(Meeting.team_id) == team_id,
                (col(Meeting.host_id) == user_id) | (col(MeetingParticipant.user_id) == user_id),
                or_(col(Meeting.start_at) > after, col(Meeting.minutes_at).is_(None)),
            )
        ).all()
    )
