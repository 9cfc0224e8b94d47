"""Due work from the outbox, as Feishu shows it, for `feishu:<tenant>` rows.

The core plans each row (`bot.services.notices`: when it is skipped, who gets it, in whose language and timezone,
what is marked afterwards); `notices.py` renders the plan's notices as cards. A person gets a card in the bot's
chat with them, a group chat gets a card in it, and every send carries an idempotency key made of the row's
ID: Feishu keeps it an hour, so a row sent and then claimed again after a crash is not shown twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.errors import DeliveryFailed, NotFound
from bot.messenger import Platform, platform_of, tenant_of
from bot.outbox import Deliver, DueWork, Outcome
from bot.services import Services
from handlers.feishu.api import FeishuApi, FeishuError
from handlers.feishu.due.common import TITLE_MAX, FeishuDeliverer, Outbound, failure, idempotency_key
from handlers.feishu.due.notices import deliverer
from handlers.feishu.formats import chat_link
from handlers.feishu.people import FeishuPeople

__all__ = [
    "TITLE_MAX",
    "FeishuDeliverer",
    "chat_link",
    "failure",
    "idempotency_key",
    "make_feishu_deliver",
]


def make_feishu_deliver(api: FeishuApi, services: Services, people_for: Callable[[str], FeishuPeople]) -> Deliver:
    """The delivery function the tick hands each Feishu workspace's due row to."""
    built: dict[str, tuple[FeishuPeople, FeishuDeliverer]] = {}

    def deliver(work: DueWork, now: datetime) -> Outcome:
        if platform_of(work.team_id) != Platform.FEISHU:
            raise DeliveryFailed(f"{work.team_id or 'no workspace'} is not a Feishu workspace", permanent=True)
        if not services.workspaces.is_active(work.team_id):  # the organization stopped using the app: kept
            return Outcome.HELD
        people = people_for(work.team_id)
        known = built.get(work.team_id)
        if known is None or known[0] is not people:
            view = api.for_tenant(tenant_of(work.team_id))  # a store app calls with the tenant's token
            known = built[work.team_id] = (people, deliverer(Outbound(view, services, people)))
        try:
            return known[1](work, now)
        except NotFound:
            return Outcome.SKIPPED
        except FeishuError as exc:
            raise failure(exc) from exc

    return deliver
