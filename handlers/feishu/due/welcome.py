"""Due work of an install on Feishu: the short hello (a tenant adds the app in its admin console)."""

from __future__ import annotations

from datetime import datetime

from bot.outbox import DueWork, Outcome
from bot.services.workspaces import KIND_WELCOME
from bot.text import t
from handlers.feishu.due.common import FeishuDeliverer, Outbound, md


def deliverers(out: Outbound) -> dict[str, FeishuDeliverer]:
    """The renderer of the welcome message."""

    def welcome(work: DueWork, now: datetime) -> Outcome:
        # A Feishu tenant adds the app in its admin console, with no install flow that schedules this; should a
        # row come anyway, the person gets the short hello (the install welcome speaks of Slack).
        user = str(work.payload["user_id"])
        out.dm(work, user, "coordbot", md(t(out.people.lang_of(user, fetch=True), "feishu.hello")))
        return Outcome.SENT

    return {KIND_WELCOME: welcome}
