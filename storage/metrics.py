"""Queries behind the figures (`coordbot report`, `/incident stats`): the records a window holds.

A record is in a window [since, until) by its start: an incident by `declared_at`, a requirement and an
action item by `created_at` (or an action item by `due_at`, for on-time completion), a meeting by `start_at`.
`team_id` None means every workspace; `channel_id` None every channel.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from storage.models import (
    ActionItem,
    HistoryEntry,
    Incident,
    Meeting,
    MeetingParticipant,
    MinutesAck,
    Requirement,
)

SOURCE_INCIDENT = "incident"
SOURCE_MEETING = "meeting"
CHANGES_REQUESTED = "changes_requested"  # the history action RequirementService.request_changes writes


@dataclass(frozen=True)
class Window:
    """Which records a report counts: [since, until), one workspace (None: all), one channel (None: all)."""

    since: datetime
    until: datetime
    team_id: str | None = None
    channel_id: str | None = None


def _within(stmt: Any, table: Any, start: Any, window: Window, *, channel: bool = True) -> Any:
    """`stmt` kept to the records of `table` whose `start` is in the window (and in its workspace and channel)."""
    stmt = stmt.where(start >= window.since, start < window.until)
    if window.team_id is not None:
        stmt = stmt.where(col(table.team_id) == window.team_id)
    if channel and window.channel_id:
        stmt = stmt.where(col(table.channel_id) == window.channel_id)
    return stmt


def _incident_ids(window: Window) -> Any:
    """The ids of the incidents in the window, as a subquery."""
    stmt = _within(select(col(Incident.id)), Incident, col(Incident.declared_at), window, channel=False)
    if window.channel_id:
        # declared there, announced there, or run there (its own channel)
        stmt = stmt.where(
            or_(
                col(Incident.declared_in) == window.channel_id,
                col(Incident.announce_channel_id) == window.channel_id,
                col(Incident.channel_id) == window.channel_id,
            )
        )
    return stmt


def incidents(session: Session, *, window: Window) -> Sequence[Incident]:
    """The incidents declared in the window, oldest first."""
    return session.scalars(
        select(Incident)
        .where(col(Incident.id).in_(_incident_ids(window)))
        .order_by(col(Incident.declared_at), col(Incident.id))
    ).all()


def follow_ups(session: Session, *, window: Window) -> Sequence[ActionItem]:
    """The follow-ups of the window's incidents: items created from them, or from a meeting that reviews one."""
    ids = _incident_ids(window)
    reviews = select(col(Meeting.id)).where(col(Meeting.incident_id).in_(ids))
    return session.scalars(
        select(ActionItem)
        .where(
            or_(
                and_(col(ActionItem.source_type) == SOURCE_INCIDENT, col(ActionItem.source_id).in_(ids)),
                and_(col(ActionItem.source_type) == SOURCE_MEETING, col(ActionItem.source_id).in_(reviews)),
            )
        )
        .order_by(col(ActionItem.id))
    ).all()


def requirements(session: Session, *, window: Window) -> Sequence[Requirement]:
    """The requirements posted (created) in the window, oldest first."""
    stmt = _within(select(Requirement), Requirement, col(Requirement.created_at), window)
    return session.scalars(stmt.order_by(col(Requirement.created_at), col(Requirement.id))).all()


def change_requests(session: Session, *, requirement_ids: Sequence[int]) -> dict[int, int]:
    """How many times changes were requested on each of these requirements (those with none are left out)."""
    if not requirement_ids:
        return {}
    rows = session.execute(
        select(col(HistoryEntry.subject_id), func.count())
        .where(
            col(HistoryEntry.subject_type) == "requirement",
            col(HistoryEntry.action) == CHANGES_REQUESTED,
            col(HistoryEntry.subject_id).in_(list(requirement_ids)),
        )
        .group_by(col(HistoryEntry.subject_id))
    ).all()
    return {int(subject): int(n) for subject, n in rows}


def actions_created(session: Session, *, window: Window) -> Sequence[ActionItem]:
    """The action items created in the window, oldest first."""
    stmt = _within(select(ActionItem), ActionItem, col(ActionItem.created_at), window)
    return session.scalars(stmt.order_by(col(ActionItem.created_at), col(ActionItem.id))).all()


def actions_due(session: Session, *, window: Window) -> Sequence[ActionItem]:
    """The action items due in the window, soonest due first."""
    stmt = _within(select(ActionItem), ActionItem, col(ActionItem.due_at), window)
    return session.scalars(stmt.order_by(col(ActionItem.due_at), col(ActionItem.id))).all()


def meetings(session: Session, *, window: Window) -> Sequence[Meeting]:
    """The meetings that start in the window, earliest first."""
    stmt = _within(select(Meeting), Meeting, col(Meeting.start_at), window)
    return session.scalars(stmt.order_by(col(Meeting.start_at), col(Meeting.id))).all()


def participants(session: Session, *, meeting_ids: Sequence[int]) -> dict[int, set[str]]:
    """Who is invited to each of these meetings."""
    found: dict[int, set[str]] = defaultdict(set)
    if meeting_ids:
        for meeting_id, user_id in session.execute(
            select(col(MeetingParticipant.meeting_id), col(MeetingParticipant.user_id)).where(
                col(MeetingParticipant.meeting_id).in_(list(meeting_ids))
            )
        ).all():
            found[int(meeting_id)].add(str(user_id))
    return dict(found)


def acknowledgments(session: Session, *, meeting_ids: Sequence[int]) -> dict[int, set[str]]:
    """Who acknowledged the minutes of each of these meetings."""
    found: dict[int, set[str]] = defaultdict(set)
    if meeting_ids:
        for meeting_id, user_id in session.execute(
            select(col(MinutesAck.meeting_id), col(MinutesAck.user_id)).where(
                col(MinutesAck.meeting_id).in_(list(meeting_ids))
            )
        ).all():
            found[int(meeting_id)].add(str(user_id))
    return dict(found)
