"""Due work of the weekly channel digest: one post per channel per period, late ones marked late."""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient

from bot.outbox import DueWork, Outcome
from bot.services import Services
from bot.services.digests import KIND_DIGEST
from handlers.digest import post_digest
from handlers.due.outbound import Deliverer
from handlers.workspace.directory import Directory

logger = logging.getLogger(__name__)


def deliverers(client: WebClient, services: Services, directory: Directory) -> dict[str, Deliverer]:
    """The renderer of weekly digests."""

    def weekly(item: DueWork, now: datetime) -> Outcome:
        team, channel = str(item.payload["team_id"]), str(item.payload["channel_id"])
        # the row's own due time moves when a post is retried; the payload keeps the period's
        due_at = datetime.fromisoformat(str(item.payload["due_at"]))
        period = services.digests.start_period(team_id=team, channel_id=channel, due_at=due_at, now=now)
        if period is None:
            return Outcome.SKIPPED  # unsubscribed, or the digest moved to another day
        if period.late:
            logger.info("digest for %s was due %s; posting it late", channel, due_at.isoformat())
        post_digest(
            client,
            services,
            directory,
            team_id=team,
            channel_id=channel,
            now=now,
            late_due=due_at if period.late else None,
        )
        return Outcome.SENT

    return {KIND_DIGEST: weekly}
