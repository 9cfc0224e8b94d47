"""Queries for the inbox of answered requests: store before answering, claim with a lease, finish, park."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased
from sqlmodel import col

from storage.models import InboxEffect, InboxItem

PENDING, RUNNING, DONE, PARKED = "pending", "running", "done", "parked"
KEY_MAX = 200
ORDER_MAX = 120


def put(
    session: Session,
    *,
    team_id: str,
    kind: str,
    dedupe_key: str | None,
    order_key: str | None,
    payload: str,
    received_at: datetime,
    now: datetime,
    claimed_by: str | None = None,
    lease: timedelta | None = None,
    platform: str = "slack",
) -> int | None:
    """Insert a row unless its duplicate key is taken; its id, or None for a duplicate.

    With `claimed_by`, the row is inserted already claimed by that worker (it runs the row at once).
    """
    values: dict[str, Any] = {
        "team_id": team_id[:64],
        "platform": platform[:16],
        "kind": kind[:80],
        "payload": payload,
        "received_at": received_at,
        "dedupe_key": dedupe_key[:KEY_MAX] if dedupe_key else None,
        "order_key": order_key[:ORDER_MAX] if order_key else None,
        "state": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
    }
    if claimed_by is not None:
        values.update(state=RUNNING, attempts=1, claimed_by=claimed_by, lease_until=now + (lease or timedelta()))
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = (
        insert(InboxItem)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(col(InboxItem.id))
    )
    return session.execute(stmt).scalar()


_EARLIER = aliased(InboxItem, name="earlier")  # one alias for every call, so the statements hit SQLAlchemy's cache


def _claimable(now: datetime) -> Any:
    earlier = _EARLIER
    # rows about one message run in the order they arrived: none while an earlier one is unfinished
    blocked = exists().where(
        col(earlier.order_key) == col(InboxItem.order_key),
        col(earlier.id) < col(InboxItem.id),
        col(earlier.state).in_((PENDING, RUNNING)),
    )
    return and_(
        or_(
            and_(col(InboxItem.state) == PENDING, col(InboxItem.next_attempt_at) <= now),
            and_(col(InboxItem.state) == RUNNING, col(InboxItem.lease_until) < now),
        ),
        or_(col(InboxItem.order_key).is_(None), ~blocked),
    )


def _of_platforms(platforms: tuple[str, ...] | None) -> Any:
    return true() if platforms is None else col(InboxItem.platform).in_(platforms)


def any_claimable(session: Session, *, now: datetime, platforms: tuple[str, ...] | None = None) -> bool:
    """Whether any row (of these platforms) could be claimed now (a read: the idle poll takes no lock)."""
    found = select(col(InboxItem.id)).where(_claimable(now), _of_platforms(platforms)).limit(1)
    return session.scalar(found) is not None


def claim(
    session: Session,
    *,
    now: datetime,
    worker: str,
    lease: timedelta,
    limit: int,
    platforms: tuple[str, ...] | None = None,
) -> list[InboxItem]:
    """Atomically claim up to `limit` rows (oldest first, of these platforms) that are due, or whose worker's
    lease ran out."""
    due = (
        select(col(InboxItem.id))
        .where(_claimable(now), _of_platforms(platforms))
        .order_by(col(InboxItem.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True, of=InboxItem)
    ids = list(session.scalars(due).all())
    if not ids:
        return []
    # the test is repeated: a row another claimer took between the two statements is skipped
    session.execute(
        update(InboxItem)
        .where(col(InboxItem.id).in_(ids), _claimable(now))
        .values(state=RUNNING, claimed_by=worker, lease_until=now + lease, attempts=col(InboxItem.attempts) + 1)
        .execution_options(synchronize_session=False)
    )
    return list(
        session.scalars(
            select(InboxItem)
            .where(col(InboxItem.id).in_(ids), col(InboxItem.claimed_by) == worker, col(InboxItem.state) == RUNNING)
            .order_by(col(InboxItem.id))
        ).all()
    )


def extend(session: Session, *, item_ids: list[int], worker: str, until: datetime) -> int:
    """Renew the lease of rows this worker is still running."""
    result = session.execute(
        update(InboxItem)
        .where(col(InboxItem.id).in_(item_ids), col(InboxItem.claimed_by) == worker, col(InboxItem.state) == RUNNING)
        .values(lease_until=until)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def finish(session: Session, *, item_id: int, worker: str, now: datetime) -> bool:
    """Mark a row done, if this worker still holds it."""
    result = session.execute(
        update(InboxItem)
        .where(col(InboxItem.id) == item_id, col(InboxItem.claimed_by) == worker, col(InboxItem.state) == RUNNING)
        .values(state=DONE, done_at=now, lease_until=None, last_error=None)
    )
    return bool(getattr(result, "rowcount", 0))


def fail(session: Session, *, item_id: int, worker: str, error: str, retry_at: datetime | None) -> bool:
    """Give a failed row back for a retry at `retry_at`, or park it (None) until someone retries it."""
    values: dict[str, Any] = {"lease_until": None, "claimed_by": None, "last_error": error[:2000]}
    values.update(state=PENDING, next_attempt_at=retry_at) if retry_at is not None else values.update(state=PARKED)
    result = session.execute(
        update(InboxItem)
        .where(col(InboxItem.id) == item_id, col(InboxItem.claimed_by) == worker, col(InboxItem.state) == RUNNING)
        .values(**values)
    )
    return bool(getattr(result, "rowcount", 0))


def retry(session: Session, *, item_id: int, now: datetime) -> bool:
    """Put a parked row back in line."""
    result = session.execute(
        update(InboxItem)
        .where(col(InboxItem.id) == item_id, col(InboxItem.state) == PARKED)
        .values(state=PENDING, next_attempt_at=now, attempts=0)
    )
    return bool(getattr(result, "rowcount", 0))


def _of_team(team_id: str | None) -> Any:
    """Every row, or one workspace's."""
    return true() if team_id is None else col(InboxItem.team_id) == team_id


def counts(session: Session, *, team_id: str | None = None) -> dict[tuple[str, str], int]:
    """Number of rows by (kind, state), of every workspace or of one."""
    rows = session.execute(
        select(col(InboxItem.kind), col(InboxItem.state), func.count())
        .where(_of_team(team_id))
        .group_by(col(InboxItem.kind), col(InboxItem.state))
    ).all()
    return {(k, s): int(n) for k, s, n in rows}


def parked(session: Session, limit: int = 20, *, team_id: str | None = None) -> list[InboxItem]:
    """The latest parked rows, with their reasons (of one workspace with `team_id`)."""
    return list(
        session.scalars(
            select(InboxItem)
            .where(col(InboxItem.state) == PARKED, _of_team(team_id))
            .order_by(col(InboxItem.id).desc())
            .limit(limit)
        ).all()
    )


def oldest_waiting(session: Session, *, team_id: str | None = None) -> datetime | None:
    """When the oldest row not yet done was received (of one workspace with `team_id`)."""
    return session.scalar(
        select(func.min(col(InboxItem.received_at))).where(
            col(InboxItem.state).in_((PENDING, RUNNING)), _of_team(team_id)
        )
    )


def prune(session: Session, *, before: datetime) -> int:
    """Forget rows done before `before` (their duplicate keys with them), and what they created."""
    old = select(col(InboxItem.id)).where(col(InboxItem.state) == DONE, col(InboxItem.done_at) < before)
    session.execute(delete(InboxEffect).where(col(InboxEffect.inbox_id).in_(old)))
    result = session.execute(delete(InboxItem).where(col(InboxItem.state) == DONE, col(InboxItem.done_at) < before))
    return int(getattr(result, "rowcount", 0) or 0)


def recall(session: Session, *, inbox_id: int, kind: str) -> int | None:
    """The record of this kind the row created on an earlier try, if any."""
    found = session.get(InboxEffect, (inbox_id, kind))
    return found.record_id if found is not None else None


def remember(session: Session, *, inbox_id: int, kind: str, record_id: int) -> None:
    """Note, in the transaction that creates it, the record this row created."""
    session.add(InboxEffect(inbox_id=inbox_id, kind=kind, record_id=record_id))
