"""What every kind of Feishu due work shares: the sender its renderers use, idempotency keys, links, failures."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

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


def chat_link(services: Services, chat_id: str | None) -> str:
    """A link that opens a group chat in the Feishu (or Lark) client; Feishu has no permalinks of messages."""
    host = "applink.larksuite.com" if "larksuite" in services.settings.feishu_domain else "applink.feishu.cn"
    return f"https://{host}/client/chat/open?openChatId={quote(chat_id or '', safe='')}"


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


class FeishuFormat:
    """Times written in the reader's zone and language, links to group chats."""

    def __init__(self, out: Outbound) -> None:
        self.out = out

    def when(self, at: datetime, tz: str, lang: str, *, with_time: bool = True) -> str:
        """ "2026-12-11 (Fri) 15:00", "2026-12-11（周五）15:00"."""
        return common.when(at, tz, lang, with_time=with_time)

    def link(self, channel: str | None, ts: str | None, *, fallback: bool) -> str | None:
        """The group chat the message is in (Feishu gives no link to a message)."""
        return chat_link(self.out.services, channel) if channel or fallback else None

    def room(self, channel: str | None, code: str) -> str:
        """The incident's group chat, linked under its code."""
        return f"<{chat_link(self.out.services, channel)}|{code}>" if channel else code
