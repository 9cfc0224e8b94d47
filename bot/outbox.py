"""The outbox of due work and the tick that delivers it.

Every reminder or notice is a row with a due time and a state. A tick claims due
rows atomically with a lease, hands each to a delivery function, and records the
outcome. Rows whose claimer died are claimed again once the lease runs out, so a
restart loses nothing and two ticking processes never hold the same row.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from bot.errors import DeliveryFailed
from storage import outbox as q
from storage.db import SessionScope

logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    """What a delivery function did with a row."""

    SENT = "sent"
    SKIPPED = "skipped"  # no longer relevant (record confirmed, question answered, ...)
    HELD = "held"  # its workspace has no token now (uninstalled): kept until a re-install


@dataclass(frozen=True)
class DueWork:
    """A claimed row, as handed to a delivery function."""

    id: int
    kind: str
    subject: str
    payload: dict[str, Any]
    due_at: datetime
    attempts: int
    team_id: str = ""
    platform: str = "slack"


Deliver = Callable[[DueWork, datetime], Outcome]


@dataclass
class TickReport:
    """What one tick did."""

    sent: int = 0
    skipped: int = 0
    held: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        """Rows this tick finished one way or another."""
        return self.sent + self.skipped + self.held + self.retried + self.failed


def schedule(
    session: Session,
    *,
    team_id: str,
    kind: str,
    subject: str,
    key: str,
    due_at: datetime,
    now: datetime,
    payload: dict[str, Any] | None = None,
) -> None:
    """Add due work for a workspace inside the caller's unit of work; the same key is scheduled once."""
    q.schedule(
        session,
        team_id=team_id,
        kind=kind,
        subject=subject,
        dedupe_key=key,
        due_at=due_at,
        payload=json.dumps(payload or {}, sort_keys=True),
        now=now,
    )


def cancel(session: Session, *, subject: str, kinds: tuple[str, ...] | None = None) -> int:
    """Cancel a subject's pending work inside the caller's unit of work."""
    return q.cancel(session, subject=subject, kinds=kinds)


class Outbox:
    """Claims and delivers due work."""

    def __init__(
        self,
        session_scope: SessionScope,
        *,
        lease: timedelta = timedelta(minutes=5),
        max_attempts: int = 8,
        batch: int = 100,
    ) -> None:
        self._scope = session_scope
        self.lease = lease
        self.max_attempts = max_attempts
        self.batch = batch

    def claim(self, now: datetime) -> tuple[str, list[DueWork]]:
        """Claim one batch of due rows; returns the claim token and the rows."""
        worker = uuid.uuid4().hex
        with self._scope() as s:
            rows = q.claim(s, now=now, worker=worker, lease=self.lease, limit=self.batch)
            work = [
                DueWork(
                    id=int(r.id or 0),
                    kind=r.kind,
                    subject=r.subject,
                    payload=json.loads(r.payload or "{}"),
                    due_at=r.due_at,
                    attempts=r.attempts,
                    team_id=r.team_id,
                    platform=r.platform,
                )
                for r in rows
            ]
        return worker, work

    def tick(self, now: datetime, deliver: Deliver, *, max_batches: int = 50) -> TickReport:
        """Deliver everything due as of `now`."""
        report = TickReport()
        # Every lease of this tick ends `lease` after `now`, whenever its batch was claimed. A slow
        # tick stops using its claims long before then, so that no other process can take a row
        # this one might still send: what is left goes back, due as before, for the next tick.
        deadline = time.monotonic() + self.lease.total_seconds() / 2
        for _ in range(max_batches):
            if time.monotonic() > deadline:
                break
            worker, work = self.claim(now)
            if not work:
                break
            for index, item in enumerate(work):
                if time.monotonic() > deadline:
                    self._give_back(work[index:], worker)
                    logger.warning("tick %s ran long: gave back %d rows", now.isoformat(), len(work) - index)
                    return self._log(report, now)
                self._deliver_one(item, worker, now, deliver, report)
            if len(work) < self.batch:
                break
        return self._log(report, now)

    def _give_back(self, items: list[DueWork], worker: str) -> None:
        with self._scope() as s:
            q.give_back(s, item_ids=[item.id for item in items], worker=worker)

    @staticmethod
    def _log(report: TickReport, now: datetime) -> TickReport:
        if report.handled:
            logger.info(
                "tick %s: sent=%d skipped=%d retried=%d failed=%d",
                now.isoformat(),
                report.sent,
                report.skipped,
                report.retried,
                report.failed,
            )
        return report

    def _deliver_one(self, item: DueWork, worker: str, now: datetime, deliver: Deliver, report: TickReport) -> None:
        if item.attempts > self.max_attempts:
            self._finish(item, worker, q.FAILED, now, f"gave up after {item.attempts - 1} attempts")
            report.failed += 1
            return
        try:
            outcome = deliver(item, now)
        except DeliveryFailed as exc:
            if exc.permanent or item.attempts >= self.max_attempts:
                self._finish(item, worker, q.FAILED, now, exc.reason)
                report.failed += 1
            else:
                delay = exc.retry_after if exc.retry_after is not None else self.backoff(item.attempts)
                with self._scope() as s:
                    q.release(
                        s, item_id=item.id, worker=worker, due_at=now + timedelta(seconds=delay), error=exc.reason
                    )
                report.retried += 1
            report.errors.append(f"{item.kind}#{item.id}: {exc.reason}")
            logger.warning("delivery of %s #%d failed: %s", item.kind, item.id, exc.reason)
            return
        except Exception as exc:  # a bug in one row's rendering must not stop the others
            logger.exception("delivery of %s #%d raised", item.kind, item.id)
            reason = f"{type(exc).__name__}: {exc}"[:500]
            if item.attempts >= self.max_attempts:
                self._finish(item, worker, q.FAILED, now, reason)
                report.failed += 1
            else:
                with self._scope() as s:
                    q.release(
                        s,
                        item_id=item.id,
                        worker=worker,
                        due_at=now + timedelta(seconds=self.backoff(item.attempts)),
                        error=reason,
                    )
                report.retried += 1
            report.errors.append(f"{item.kind}#{item.id}: {reason}")
            return
        if outcome is Outcome.HELD:
            self._finish(item, worker, q.HELD, now, "workspace not installed")
            report.held += 1
            return
        state = q.SENT if outcome is Outcome.SENT else q.CANCELLED
        self._finish(item, worker, state, now, None)
        if outcome is Outcome.SENT:
            report.sent += 1
        else:
            report.skipped += 1

    def _finish(self, item: DueWork, worker: str, state: str, now: datetime, error: str | None) -> None:
        with self._scope() as s:
            if not q.finish(s, item_id=item.id, worker=worker, state=state, now=now, error=error):
                logger.warning("lease on %s #%d was lost before it finished", item.kind, item.id)

    @staticmethod
    def backoff(attempts: int) -> float:
        """Seconds to wait before retry number `attempts` (30 s doubling, at most an hour)."""
        return float(min(3600, 30 * 2 ** max(0, attempts - 1)))

    def status(self, *, team_id: str | None = None) -> dict[str, Any]:
        """Counts by kind and state, the recent failures and the next due time (of one workspace, if given)."""
        with self._scope() as s:
            return {
                "counts": q.counts(s, team_id=team_id),
                "failures": [
                    {"id": r.id, "kind": r.kind, "subject": r.subject, "error": r.last_error, "due_at": r.due_at}
                    for r in q.recent_failures(s, team_id=team_id)
                ],
                "next_due": q.next_due(s, team_id=team_id),
            }
