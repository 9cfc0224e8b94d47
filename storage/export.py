"""Queries for exports: which records match the filters, and the content of every requirement revision."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from storage.models import ActionItem, HistoryEntry, Incident, Meeting, Requirement, RequirementRevision

# The table behind each history subject type; a new kind of record adds its line here.
TABLES: dict[str, Any] = {
    "requirement": Requirement,
    "meeting": Meeting,
    "action": ActionItem,
    "incident": Incident,
}


def matching_ids(
    session: Session,
    subject_type: str,
    *,
    since: datetime | None = None,
    channel_id: str | None = None,
    codes: Sequence[str] = (),
    team_id: str | None = None,
) -> list[int]:
    """Primary keys of the records of one type that match every filter given, oldest first.

    `since` keeps records created, updated or with a history entry at or after that time; `team_id`
    keeps one workspace's records.
    """
    table = TABLES[subject_type]
    stmt = select(col(table.id))
    if team_id is not None:
        stmt = stmt.where(col(table.team_id) == team_id)
    if channel_id:
        stmt = stmt.where(col(table.channel_id) == channel_id)
    if codes:
        stmt = stmt.where(col(table.code).in_(list(codes)))
    if since is not None:
        changed = select(col(HistoryEntry.subject_id)).where(
            col(HistoryEntry.subject_type) == subject_type, col(HistoryEntry.at) >= since
        )
        stmt = stmt.where(
            or_(
                col(table.created_at) >= since,
                col(table.updated_at) >= since,
                col(table.id).in_(changed),
            )
        )
    stmt = stmt.order_by(col(table.created_at), col(table.id))
    return [int(i) for i in session.scalars(stmt).all()]


def revisions(session: Session, requirement_id: int) -> Sequence[RequirementRevision]:
    """Every revision kept for a requirement, in order."""
    return session.scalars(
        select(RequirementRevision)
        .where(col(RequirementRevision.requirement_id) == requirement_id)
        .order_by(col(RequirementRevision.revision))
    ).all()
