"""Due work of the weekly digest on Feishu: one card per group chat per period, late ones marked late."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.outbox import DueWork, Outcome
from bot.services.digests import KIND_DIGEST
from handlers.feishu.cards.digest import digest_card
from handlers.feishu.digest import upload_chart
from handlers.feishu.due.common import FeishuDeliverer, Outbound, idempotency_key

logger = logging.getLogger(__name__)


def deliverers(out: Outbound) -> dict[str, FeishuDeliverer]:
    """The renderer of weekly digests."""
    api, services, people = out.api, out.services, out.people

    def weekly(work: DueWork, now: datetime) -> Outcome:
        team, chat = str(work.payload["team_id"]), str(work.payload["channel_id"])
        # the row's own due time moves when a post is retried; the payload keeps the period's
        due_at = datetime.fromisoformat(str(work.payload["due_at"]))
        period = services.digests.start_period(team_id=team, channel_id=chat, due_at=due_at, now=now)
        if period is None:
            return Outcome.SKIPPED  # unsubscribed, or the digest moved to another day
        if period.late:
            logger.info("digest for %s was due %s; posting it late", chat, due_at.isoformat())
        digest = services.digests.content(
            team, chat, now=now, open_incidents=services.incidents.with_open_followups(team, chat)
        )
        lang, tz = out.channel_lang(chat), services.settings.tz
        late_due = due_at if period.late else None
        chart = upload_chart(api, services, workspace=team, chat=chat, lang=lang, tz=tz, now=now)
        card = digest_card(lang, digest, tz=tz, name_of=people.name_of, late_due=late_due, chart_key=chart)
        api.send_card(chat_id=chat, card=card, uuid=idempotency_key(work))
        logger.info("digest posted in %s", chat)
        return Outcome.SENT

    return {KIND_DIGEST: weekly}
