"""What every kind of Feishu due work shares: the sender its renderers use, idempotency keys, links, failures."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.errors import DeliveryFailed
from bot.outbox import DueWork, Outcome
from bot.services import Services
from handlers.feishu.api import FeishuApi, FeishuError
from handlers.feishu.cards import common
from handlers.feishu.people import FeishuPeople

logger = logging.getLogger(__name__)

FeishuDeliverer = Callable[[DueWork, datetime], Outcome]
TITLE_MAX = 100  # characters of a card's header


def idempotency_key(work: DueWork, part: str = "") -> str:
    """The uuid a row's message is sent with: the same row (and part) is one message, however often it is sent."""
    return f"coordbot-{work.id}" + (f"-{part}" if part else "")


def failure(exc: FeishuError) -> DeliveryFailed:
    """A refused or failed Open API call as the outbox's delivery failure (retried unless permanent)."""
    reason = f"feishu {exc.code}: {exc.msg}"[:300]
    if exc.permanent:
        return DeliveryFailed(reason, permanent=True)
    return DeliveryFailed(reason, permanent=False, retry_after=exc.retry_after)


def card_title(code: str, title: str = "") -> str:
    """A record's card header: its code, then its title, cut to fit."""
    return common.plain(f"{code} · {title}" if title else code, TITLE_MAX)


def md(*texts: str) -> list[dict[str, Any]]:
    """Catalog texts (Slack mrkdwn) as card markdown elements, empty ones left out."""
    return [common.markdown(common.lark_md(text)) for text in texts if text]


@dataclass(frozen=True)
class Outbound:
    """What one Feishu workspace's renderers send with: its API, the services, its people."""

    api: FeishuApi
    services: Services
    people: FeishuPeople

    def who(self, user: str) -> tuple[str, str]:
        """A person's language and timezone (asked of Feishu when not known yet)."""
        return self.people.lang_of(user, fetch=True), self.people.tz_of(user, fetch=True)

    def channel_lang(self, chat: str) -> str:
        """The language a group chat is written to in."""
        return self.services.prefs.channel_lang(self.people.workspace, chat) or self.people.default_lang
