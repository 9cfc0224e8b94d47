"""When a channel's weekly digest goes out: once per period, a late one marked late."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.notices import Extra, Notice, Plan
from bot.outbox import DueWork
from bot.services.digests import DigestService

logger = logging.getLogger(__name__)


def weekly(digests: DigestService, work: DueWork, now: datetime) -> Plan:
    """The digest of the row's channel, unless it was unsubscribed or moved to another day meanwhile."""
    team, channel = str(work.payload["team_id"]), str(work.payload["channel_id"])
    # the row's own due time moves when a post is retried; the payload keeps the period's
    due_at = datetime.fromisoformat(str(work.payload["due_at"]))
    period = digests.start_period(team_id=team, channel_id=channel, due_at=due_at, now=now)
    if period is None:
        return Plan.skip()
    if period.late:
        logger.info("digest for %s was due %s; posting it late", channel, due_at.isoformat())
    data = {"team_id": team, "late_due": due_at if period.late else None}
    return Plan((Notice(channel, None, None, in_channel=True, extra=Extra.DIGEST, data=data),))
