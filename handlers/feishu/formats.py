"""How Feishu writes a core text's values: times in the reader's zone and language, links to group chats."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from bot.services import Services
from handlers.feishu.cards import common


def chat_link(services: Services, chat_id: str | None) -> str:
    """A link that opens a group chat in the Feishu (or Lark) client; Feishu has no permalinks of messages."""
    host = "applink.larksuite.com" if "larksuite" in services.settings.feishu_domain else "applink.feishu.cn"
    return f"https://{host}/client/chat/open?openChatId={quote(chat_id or '', safe='')}"


class FeishuFormat:
    """Times written in the reader's zone and language, links to group chats."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def when(self, at: datetime, tz: str, lang: str, *, with_time: bool = True) -> str:
        """ "2026-12-11 (Fri) 15:00", "2026-12-11（周五）15:00"."""
        return common.when(at, tz, lang, with_time=with_time)

    def link(self, channel: str | None, ts: str | None, *, fallback: bool) -> str | None:
        """The group chat the message is in (Feishu gives no link to a message)."""
        return chat_link(self.services, channel) if channel or fallback else None

    def room(self, channel: str | None, code: str) -> str:
        """The incident's group chat, linked under its code."""
        return f"<{chat_link(self.services, channel)}|{code}>" if channel else code
