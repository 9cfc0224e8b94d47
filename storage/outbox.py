"""Queries for the outbox of due work: schedule, cancel, claim with a lease."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlmodel import col

from storage.models import OutboxItem

PENDING, CLAIMED, SENT, FAILED, CANCELLED = "pending", "claimed", "sent", "failed", "cancelled"
HELD = "held"  # kept, not sent, while its workspace has no token (uninstalled); a re-install makes it pending


_PLATFORM = re.compile(r"[a-z][a-z0-9_]*")  # a messenger's name; Slack's IDs are upper case (T…, E…:T…)


def platform_of(team_id: str) -> str:
    """The messenger a workspace string belongs to: `feishu:<tenant>` is Feishu's (and `<name>:<tenant>` any
    other's, so that an adapter for another messenger needs nothing new here), a bare ID Slack's."""
    prefix, sep, _ = team_id.partition(":")
    return prefix if sep and _PLATFORM.fullmatch(prefix) else "slack"


def schedule(
    session: Session,
    *,
    team_id: str,
    kind: str,
    subject: str,
    dedupe_key: str,
    due_at: datetime,
    payload: str,
    now: datetime,
) -> None:
    """Insert a row unless one with the same dedupe key exists (then nothing changes)."""
    values: dict[str, Any] = {
        "team_id": team_id[:64],
        "platform": platform_of(team_id),
        "kind": kind,
        "subject": subject,
        "dedupe_key": dedupe_key,
        "due_at": due_at,
        "payload": payload,
        "state": PENDING,
        "attempts": 0,
        "created_at": now,
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(OutboxItem).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])
    session.execute(stmt)


def cancel(session: Session, *, subject: str, kinds: tuple[str, ...] | None = None) -> int:
    """Cancel the pending rows of a subject and its sub-subjects ("req:1" covers "req:1:U1")."""
    stmt = update(OutboxItem).where(
        or_(col(OutboxItem.subject) == subject, col(OutboxItem.subject).like(subject + ":%")),
        col(OutboxItem.state) == PENDING,
    )
    if kinds:
        stmt = stmt.where(col(OutboxItem.kind).in_(kinds))
    result = session.execute(stmt.values(state=CANCELLED))
    return int(getattr(result, "rowcount", 0) or 0)


def _claimable(now: datetime) -> Any:
    return or_(
        and_(col(OutboxItem.state) == PENDING, col(OutboxItem.due_at) <= now),
        and_(col(OutboxItem.state) == CLAIMED, col(OutboxItem.lease_until) < now),
    )


def claim(session: Session, *, now: datetime, worker: str, lease: timedelta, limit: int) -> list[OutboxItem]:
    """Atomically claim up to `limit` due rows (or rows whose lease ran out) for `worker`."""
    due = select(col(OutboxItem.id)).where(_claimable(now)).order_by(col(OutboxItem.due_at)).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    # The ids are read first and then updated: as a subquery of the UPDATE, PostgreSQL may
    # run the locking SELECT again for every row it updates and so ignore the LIMIT.
    ids = list(session.scalars(due).all())
    if not ids:
        return []
    # The state test is repeated in the UPDATE so that a row taken by a concurrent claimer
    # (on SQLite, between the two statements of another process's transaction) is skipped.
    session.execute(
        update(OutboxItem)
        .where(col(OutboxItem.id).in_(ids), _claimable(now))
        .values(
            state=CLAIMED,
            claimed_by=worker,
            lease_until=now + lease,
            attempts=col(OutboxItem.attempts) + 1,
        )
        .execution_options(synchronize_session=False)
    )
    rows = session.scalars(
        select(OutboxItem)
        .where(col(OutboxItem.claimed_by) == worker, col(OutboxItem.state) == CLAIMED)
        .order_by(col(OutboxItem.due_at))
    ).all()
    return list(rows)


def finish(session: Session, *, item_id: int, worker: str, state: str, now: datetime, error: str | None = None) -> bool:
    """Mark a claimed row sent, failed or cancelled, if this worker still holds it."""
    values: dict[str, Any] = {"state": state, "lease_until": None, "last_error": error}
    if state == SENT:
        values["sent_at"] = now
    result = session.execute(
        update(OutboxItem)
        .where(col(OutboxItem.id) == item_id, col(OutboxItem.claimed_by) == worker, col(OutboxItem.state) == CLAIMED)
        .values(**values)
    )
    return bool(getattr(result, "rowcount", 0))


def release(session: Session, *, item_id: int, worker: str, due_at: datetime, error: str) -> bool:
    """Give a claimed row back for a later retry."""
    result = session.execute(
        update(OutboxItem)
        .where(col(OutboxItem.id) == item_id, col(OutboxItem.claimed_by) == worker, col(OutboxItem.state) == CLAIMED)
        .values(state=PENDING, lease_until=None, claimed_by=None, due_at=due_at, last_error=error)
    )
    return bool(getattr(result, "rowcount", 0))


def give_back(session: Session, *, item_ids: list[int], worker: str) -> int:
    """Return claimed rows this worker did not get to, unchanged (the claim did not count as an attempt)."""
    result = session.execute(
        update(OutboxItem)
        .where(col(OutboxItem.id).in_(item_ids), col(OutboxItem.claimed_by) == worker, col(OutboxItem.state) == CLAIMED)
        .values(state=PENDING, lease_until=None, claimed_by=None, attempts=col(OutboxItem.attempts) - 1)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _of_team(team_id: str | None) -> Any:
    return true() if team_id is None else col(OutboxItem.team_id) == team_id


def counts(session: Session, *, team_id: str | None = None) -> dict[tuple[str, str], int]:
    """Number of rows by (kind, state), of every workspace or of one."""
    rows = session.execute(
        select(col(OutboxItem.kind), col(OutboxItem.state), func.count())
        .where(_of_team(team_id))
        .group_by(col(OutboxItem.kind), col(OutboxItem.state))
    ).all()
    return {(k, s): int(n) for k, s, n in rows}


def recent_failures(session: Session, limit: int = 20, *, team_id: str | None = None) -> list[OutboxItem]:
    """The latest rows that failed for good, with their reasons."""
    return list(
        session.scalars(
            select(OutboxItem)
            .where(col(OutboxItem.state) == FAILED, _of_team(team_id))
            .order_by(col(OutboxItem.id).desc())
            .limit(limit)
        ).all()
    )


def next_due(session: Session, *, team_id: str | None = None) -> datetime | None:
    """When the next pending row falls due."""
    return session.scalar(
        select(func.min(col(OutboxItem.due_at))).where(col(OutboxItem.state) == PENDING, _of_team(team_id))
    )
