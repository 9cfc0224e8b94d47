"""The inbox: every request Slack was told "received" is a row before the answer leaves.

The serving process stores a request (its payload as received, the time, its duplicate key) and commits,
and only then answers. Workers, in any process on any host sharing the database, claim rows with a lease,
run the request in full as of the time it was received, and mark the row done. A row whose worker died
is taken again once its lease runs out; a row that fails is tried again with a growing delay and, after
`max_attempts`, parked with its reason until `coordbot retry ID`.

A row may therefore run more than once (at least once, never zero times). What it creates is noted in the
same transaction as the record itself (`created` / `note_created`), so a second run finds the sheet the
first run stored instead of storing another.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from storage import inbox as q
from storage.db import SessionScope

logger = logging.getLogger(__name__)

KEEP_DONE = timedelta(days=1)  # Slack's last retry of a request comes minutes after the first delivery


def wall_now() -> datetime:
    """Leases and retry delays run on the real clock, whatever clock the domain uses."""
    return datetime.now(UTC)


def worker_name(role: str = "worker") -> str:
    """A name unique to this process and run: who holds a lease."""
    return f"{role}:{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class Row:
    """A claimed request."""

    id: int
    team_id: str
    kind: str
    payload: str
    received_at: datetime
    attempts: int
    platform: str = "slack"


@dataclass(frozen=True)
class Status:
    """What `coordbot status` shows of the inbox."""

    counts: dict[tuple[str, str], int]
    parked: list[tuple[int, str, int, str]]  # id, kind, attempts, reason
    oldest_waiting: datetime | None


_running: ContextVar[Row | None] = ContextVar("inbox_row", default=None)


def running() -> Row | None:
    """The row this thread is running (in a worker), or None (answering a request as it arrives)."""
    return _running.get()


def rerun() -> bool:
    """Whether the row being worked on was tried before (its effects may be partly there)."""
    row = _running.get()
    return row is not None and row.attempts > 1


@contextmanager
def working_on(row: Row) -> Iterator[None]:
    """Mark this thread as running `row` (services look it up to make creation idempotent)."""
    token = _running.set(row)
    try:
        yield
    finally:
        _running.reset(token)


def created(session: Session, kind: str) -> int | None:
    """The record of `kind` the current row created on an earlier try (None outside a row, or the first time)."""
    row = _running.get()
    if row is None or row.attempts <= 1:
        return None
    return q.recall(session, inbox_id=row.id, kind=kind)


def note_created(session: Session, kind: str, record_id: int) -> None:
    """Note in the creating transaction that the current row created this record."""
    row = _running.get()
    if row is not None:
        q.remember(session, inbox_id=row.id, kind=kind, record_id=record_id)


class Inbox:
    """Store, claim, finish, retry and park requests."""

    def __init__(
        self,
        scope: SessionScope,
        *,
        lease: timedelta = timedelta(seconds=30),
        max_attempts: int = 5,
        first_delay: timedelta = timedelta(seconds=2),
    ) -> None:
        self._scope = scope
        self._put_scope = scope
        self._peek_scope: SessionScope | None = None
        self.lease = lease
        self.max_attempts = max_attempts
        self.first_delay = first_delay

    def use(self, *, put_scope: SessionScope | None = None, peek_scope: SessionScope | None = None) -> None:
        """Store through `put_scope` (one that tries for a locked database often, for a bounded time, rather than
        sleeping in the database's own growing steps), and look for due rows
        through `peek_scope` (transactions that take no write lock) before claiming."""
        self._put_scope = put_scope or self._scope
        self._peek_scope = peek_scope

    def put(
        self,
        *,
        team_id: str,
        kind: str,
        dedupe_key: str | None,
        order_key: str | None,
        payload: str,
        received_at: datetime,
        claimed_by: str | None = None,
        platform: str = "slack",
    ) -> int | None:
        """Store and commit a request; its row id, or None when the same request was stored before."""
        with self._put_scope() as s:
            return q.put(
                s,
                team_id=team_id,
                kind=kind,
                dedupe_key=dedupe_key,
                order_key=order_key,
                payload=payload,
                received_at=received_at,
                now=wall_now(),
                claimed_by=claimed_by,
                lease=self.lease,
                platform=platform,
            )

    def claim(self, worker: str, limit: int, *, platforms: tuple[str, ...] | None = None) -> list[Row]:
        """Claim up to `limit` rows that are due, of these platforms (default: all), looking first without a
        lock when it can."""
        if self._peek_scope is not None:
            with self._peek_scope() as s:
                if not q.any_claimable(s, now=wall_now(), platforms=platforms):
                    return []
        with self._scope() as s:
            claimed = q.claim(s, now=wall_now(), worker=worker, lease=self.lease, limit=limit, platforms=platforms)
            return [_row(item) for item in claimed]

    def extend(self, worker: str, item_ids: list[int]) -> None:
        """Keep the rows this worker is running its own for another lease."""
        if item_ids:
            with self._scope() as s:
                q.extend(s, item_ids=item_ids, worker=worker, until=wall_now() + self.lease)

    def done(self, worker: str, item_id: int) -> bool:
        """Mark a row done (False if this worker no longer held it)."""
        with self._scope() as s:
            return q.finish(s, item_id=item_id, worker=worker, now=wall_now())

    def failed(self, worker: str, row: Row, error: str) -> bool:
        """Retry the row later with a growing delay, or park it after `max_attempts`; True when parked."""
        park = row.attempts >= self.max_attempts
        retry_at = None if park else wall_now() + self.first_delay * (4 ** (row.attempts - 1))
        with self._scope() as s:
            q.fail(s, item_id=row.id, worker=worker, error=error, retry_at=retry_at)
        if park:
            logger.error("request %s (%s) parked after %d tries: %s", row.id, row.kind, row.attempts, error)
        else:
            logger.warning("request %s (%s) failed (try %d), retrying: %s", row.id, row.kind, row.attempts, error)
        return park

    def retry(self, item_id: int) -> bool:
        """Put a parked row back in line (`coordbot retry ID`)."""
        with self._scope() as s:
            return q.retry(s, item_id=item_id, now=wall_now())

    def status(self, *, team_id: str | None = None) -> Status:
        """Rows by kind and state, the parked ones with their reasons, the oldest waiting (of one workspace
        with `team_id`)."""
        with self._scope() as s:
            return Status(
                counts=q.counts(s, team_id=team_id),
                parked=[(int(p.id or 0), p.kind, p.attempts, p.last_error or "") for p in q.parked(s, team_id=team_id)],
                oldest_waiting=q.oldest_waiting(s, team_id=team_id),
            )

    def prune(self) -> int:
        """Forget rows done over a day ago."""
        with self._scope() as s:
            return q.prune(s, before=wall_now() - KEEP_DONE)


def _row(item: object) -> Row:
    from storage.models import InboxItem

    assert isinstance(item, InboxItem)
    received = item.received_at if item.received_at.tzinfo else item.received_at.replace(tzinfo=UTC)
    return Row(
        id=int(item.id or 0),
        team_id=item.team_id,
        kind=item.kind,
        payload=item.payload,
        received_at=received,
        attempts=item.attempts,
        platform=item.platform,
    )
