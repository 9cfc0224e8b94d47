"""Requests already taken on, remembered for a day so that one Slack delivers again is processed once.

Slack retries an event it believes failed (same `event_id`), and people submit a modal twice.
The first delivery claims the request's key with one insert-or-nothing; every later one finds
it taken. The claim precedes the acknowledgment by a few milliseconds: a process that dies in
between loses that one request, which is the price of never applying it twice.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from storage import dedupe as q
from storage.db import SessionScope

logger = logging.getLogger(__name__)

KEEP = timedelta(days=1)  # Slack's last retry comes about 5 minutes after the first delivery


def claim(scope: SessionScope, key: str, now: datetime) -> bool:
    """True for the first delivery of a request, False for a duplicate."""
    with scope() as s:
        return q.claim(s, key=key, at=now)


def release(scope: SessionScope, key: str) -> None:
    """Let the same request be processed again (it was refused, so nothing happened)."""
    with scope() as s:
        q.release(s, key=key)


def prune(scope: SessionScope, now: datetime) -> int:
    """Forget keys older than a day."""
    with scope() as s:
        removed = q.prune(s, before=now - KEEP)
    if removed:
        logger.debug("forgot %d processed request keys", removed)
    return removed


class RecentRequests:
    """Claims that keep the acknowledgment free of database writes in the common case.

    A first delivery is claimed in this process's memory and recorded in the database just after,
    on a background thread. A delivery Slack marks as a retry (`X-Slack-Retry-Num`), which may reach
    another replica, is checked against the database before it is processed. Two replicas receiving
    the same first delivery within those milliseconds is not something Slack does.
    """

    def __init__(self, scope: SessionScope, *, keep: timedelta = KEEP) -> None:
        self._scope = scope
        self._keep = keep
        self._seen: dict[str, datetime] = {}
        self._lock = threading.Lock()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dedupe")

    def claim(self, key: str, now: datetime, *, retry: bool, record: bool = True) -> bool:
        """True for the first delivery of a request, False for a duplicate.

        `record=False` leaves a first delivery's database record to whoever does its work (`record`).
        """
        with self._lock:
            if key in self._seen:
                return False
            self._seen[key] = now
            if len(self._seen) > 50_000:  # forget the oldest
                for old in sorted(self._seen, key=self._seen.__getitem__)[:10_000]:
                    del self._seen[old]
        if retry:
            if not claim(self._scope, key, now):
                return False
        elif record:
            self.record(key, now)
        return True

    def record(self, key: str, now: datetime) -> None:
        """Record a claim in the database, on the background thread."""
        self._writer.submit(self._record, key, now)

    def release(self, key: str) -> None:
        """Let the same request be processed again (it was refused, so nothing happened)."""
        with self._lock:
            self._seen.pop(key, None)
        self._writer.submit(release, self._scope, key)  # after any pending record of the same key

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until the database holds every claim made so far."""
        self._writer.submit(lambda: None).result(timeout=timeout)

    def _record(self, key: str, now: datetime) -> None:
        try:
            if not claim(self._scope, key, now):
                logger.info("request %s was also taken on elsewhere", key)
        except Exception:  # the request is being processed already; only its record is missing
            logger.exception("could not record request %s", key)
