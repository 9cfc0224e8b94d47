"""Due work from the outbox, as Feishu shows it: the Feishu twin of `handlers/due/*` for `feishu:<tenant>` rows.

Each kind follows its Slack renderer's rules (when it is skipped, who gets it, in whose language and timezone,
what is marked afterwards); only the sending differs. A person gets a card in the bot's chat with them, a group
chat gets a card in it, and every send carries an idempotency key made of the row's ID: Feishu keeps it an
hour, so a row sent and then claimed again after a crash is not shown twice.

One renderer module per feature (requirement, meeting, actions, digest, incident, welcome), each giving its kinds'
renderers from the `Outbound` they all send with (common.py); here they are gathered and handed to the tick.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.errors import DeliveryFailed, NotFound
from bot.messenger import Platform, platform_of
from bot.outbox import Deliver, DueWork, Outcome
from bot.services import Services
from handlers.feishu.api import FeishuApi, FeishuError
from handlers.feishu.due import actions, digest, incident, meeting, requirement, welcome
from handlers.feishu.due.common import (
    TITLE_MAX,
    FeishuDeliverer,
    Outbound,
    Refresher,
    chat_link,
    failure,
    idempotency_key,
)
from handlers.feishu.due.incident import DO_REVIEW_MEETING
from handlers.feishu.people import FeishuPeople

__all__ = [
    "DO_REVIEW_MEETING",
    "TITLE_MAX",
    "FeishuDeliverer",
    "Refresher",
    "chat_link",
    "failure",
    "feishu_deliverers",
    "idempotency_key",
    "make_feishu_deliver",
]


def feishu_deliverers(
    api: FeishuApi, services: Services, people: FeishuPeople, *, refresh: Refresher
) -> dict[str, FeishuDeliverer]:
    """Renderers of every kind of due work for one Feishu workspace, by kind."""
    out = Outbound(api, services, people, refresh)
    kinds: dict[str, FeishuDeliverer] = {}
    for provider in (
        requirement.deliverers,
        meeting.deliverers,
        actions.deliverers,
        digest.deliverers,
        incident.deliverers,
        welcome.deliverers,
    ):
        kinds.update(provider(out))
    return kinds


def make_feishu_deliver(
    api: FeishuApi,
    services: Services,
    people_for: Callable[[str], FeishuPeople],
    *,
    refresh: Refresher,
) -> Deliver:
    """The delivery function the tick hands each Feishu workspace's due row to: sent by its kind."""
    built: dict[str, tuple[FeishuPeople, dict[str, FeishuDeliverer]]] = {}

    def deliver(work: DueWork, now: datetime) -> Outcome:
        if platform_of(work.team_id) != Platform.FEISHU:
            raise DeliveryFailed(f"{work.team_id or 'no workspace'} is not a Feishu workspace", permanent=True)
        people = people_for(work.team_id)
        known = built.get(work.team_id)
        if known is None or known[0] is not people:
            known = built[work.team_id] = (people, feishu_deliverers(api, services, people, refresh=refresh))
        handler = known[1].get(work.kind)
        if handler is None:
            raise DeliveryFailed(f"unknown kind {work.kind}", permanent=True)
        try:
            return handler(work, now)
        except NotFound:
            return Outcome.SKIPPED
        except FeishuError as exc:
            raise failure(exc) from exc

    return deliver
