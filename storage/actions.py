"""Queries for action items (行动项), their history and the reminders already sent for them."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from storage.models import ActionItem, HistoryEntry, OutboxItem
from storage.outbox import SENT

SUBJECT_TYPE = "action"


def get(session: Session, action_id: int, *, lock: bool = False) -> ActionItem | None:
    """One action item by primary key (optionally locked for update)."""
    stmt = select(ActionItem).where(col(ActionItem.id) == action_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def by_code(session: Session, *, team_id: str, code: str) -> ActionItem | None:
    """One action item by its human ID."""
    return session.scalars(
        select(ActionItem).where(col(ActionItem.team_id) == team_id, col(ActionItem.code) == code)
    ).first()


def by_message(
    session: Session, *, channel_id: str | None, message_ts: str, teams: Collection[str] | None = None
) -> ActionItem | None:
    """The action item shown by the given message (of one of `teams`, when given; in any channel when
    `channel_id` is None)."""
    stmt = select(ActionItem).where(col(ActionItem.message_ts) == message_ts)
    if channel_id is not None:
        stmt = stmt.where(col(ActionItem.channel_id) == channel_id)
    if teams is not None:
        stmt = stmt.where(col(ActionItem.team_id).in_(list(teams)))
    return session.scalars(stmt).first()


def for_source(session: Session, *, source_type: str, source_id: int) -> Sequence[ActionItem]:
    """The items that came from one source record, in creation order."""
    return session.scalars(
        select(ActionItem)
        .where(col(ActionItem.source_type) == source_type, col(ActionItem.source_id) == source_id)
        .order_by(col(ActionItem.id))
    ).all()


def for_sources(session: Session, *, sources: Collection[tuple[str, int]]) -> Sequence[ActionItem]:
    """The items that came from any of several source records (type, id), in creation order."""
    if not sources:
        return []
    return session.scalars(
        select(ActionItem)
        .where(
            or_(
                *(
                    and_(col(ActionItem.source_type) == kind, col(ActionItem.source_id) == record)
                    for kind, record in sources
                )
            )
        )
        .order_by(col(ActionItem.id))
    ).all()


def open_for_owner(
    session: Session, *, team_id: str, owner_id: str, closed: Collection[str], limit: int
) -> Sequence[ActionItem]:
    """An owner's items whose status is not one of `closed` (done, won't do), the soonest due first."""
    return session.scalars(
        select(ActionItem)
        .where(
            col(ActionItem.team_id) == team_id,
            col(ActionItem.owner_id) == owner_id,
            col(ActionItem.status).not_in(list(closed)),
        )
        .order_by(col(ActionItem.due_at), col(ActionItem.id))
        .limit(limit)
    ).all()


def add_history(session: Session, *, action_id: int, at: datetime, actor_id: str, action: str, detail: str) -> None:
    """Append one entry to an action item's history."""
    session.add(
        HistoryEntry(
            subject_type=SUBJECT_TYPE, subject_id=action_id, at=at, actor_id=actor_id, action=action, detail=detail
        )
    )


def history(session: Session, action_id: int) -> Sequence[HistoryEntry]:
    """An action item's history, oldest first."""
    return session.scalars(
        select(HistoryEntry)
        .where(col(HistoryEntry.subject_type) == SUBJECT_TYPE, col(HistoryEntry.subject_id) == action_id)
        .order_by(col(HistoryEntry.at), col(HistoryEntry.id))
    ).all()


def sent_work(session: Session, *, subject: str) -> list[tuple[str, str]]:
    """(kind, payload JSON) of the due work already sent for a subject."""
    rows = session.execute(
        select(col(OutboxItem.kind), col(OutboxItem.payload)).where(
            col(OutboxItem.subject) == subject, col(OutboxItem.state) == SENT
        )
    ).all()
    return [(str(kind), str(payload)) for kind, payload in rows]


def open_for_owner_page(
    session: Session, *, team_id: str, owner_id: str, closed: Collection[str], offset: int, limit: int
) -> Sequence[ActionItem]:
    """One page of an owner's items not `closed`, the soonest due (so the most overdue) first."""
    return session.scalars(
        select(ActionItem)
        .where(
            col(ActionItem.team_id) == team_id,
            col(ActionItem.owner_id) == owner_id,
            col(ActionItem.status).not_in(list(closed)),
        )
        .order_by(col(ActionItem.due_at), col(ActionItem.id))
        .offset(offset)
        .limit(limit)
    ).all()


def count_open_for_owner(
    session: Session, *, team_id: str, owner_id: str, closed: Collection[str], overdue_before: datetime
) -> tuple[int, int]:
    """How many of an owner's items are not `closed`, and how many of those were due before `overdue_before`."""
    total, overdue = session.execute(
        select(func.count(), func.count(case((col(ActionItem.due_at) < overdue_before, 1)))).where(
            col(ActionItem.team_id) == team_id,
            col(ActionItem.owner_id) == owner_id,
            col(ActionItem.status).not_in(list(closed)),
        )
    ).one()
    return int(total or 0), int(overdue or 0)
