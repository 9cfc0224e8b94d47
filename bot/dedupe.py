"""Requests already taken on, remembered for a day so that one Slack delivers again is processed once.

Slack retries an event it believes failed (same `event_id`), and people submit a modal twice.
The first delivery claims the request's key with one insert-or-nothing; every later one finds
it taken. The claim precedes the acknowledgment by a few milliseconds: a process that dies in
between loses that one request, which is the price of never applying it twice.
"""

from __future__ import annotations

import logging
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
