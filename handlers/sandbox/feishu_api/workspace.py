"""The fake's tenant: the app and its bot, the people and chats it can see, and the state every endpoint keeps."""

from __future__ import annotations

import threading
import time
from itertools import count
from typing import Any

from handlers.sandbox.feishu_api.calls import FeishuApiFailure, _hex

MAX_UUID = 50  # characters of an idempotency key


def p2p_chat_id(open_id: str, app_id: str = "cli_test") -> str:
    """The chat_id of the bot's one-to-one chat with a person (stable, so the driver's DM events agree)."""
    return f"oc_{_hex('p2p', app_id, open_id)}"


def union_id_of(open_id: str) -> str:
    """A person's union_id, derived from the open_id."""
    return f"on_{_hex('union', open_id)}"


def user_id_of(open_id: str) -> str:
    """A person's tenant-scoped user_id, derived from the open_id."""
    return _hex("user", open_id, length=8)


def bot_open_id(app_id: str) -> str:
    """The bot's own open_id (the id in a mention of the bot)."""
    return f"ou_{_hex('bot', app_id)}"


class Workspace:
    """The app, its bot, the people and chats it can see, and what was sent, pinned, reacted and uploaded."""

    def __init__(self, *, app_id: str, app_secret: str, tenant_key: str) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.tenant_key = tenant_key
        self.bot_open_id = bot_open_id(app_id)
        self.bot_name = "coordbot"
        self.users: dict[str, dict[str, Any]] = {}
        self.chats: dict[str, dict[str, Any]] = {}
        self.messages: list[dict[str, Any]] = []
        self.pins: list[dict[str, Any]] = []
        self.reactions: list[dict[str, Any]] = []
        self.images: dict[str, bytes] = {}  # image_key -> the bytes uploaded
        self.page_size_cap = 100  # lower it to make lists page
        self._by_id: dict[str, dict[str, Any]] = {}
        self._message_uuids: dict[str, tuple[float, str]] = {}
        self._chat_uuids: dict[str, tuple[float, str]] = {}
        self._seq = count(1)
        self._last_ms = 0
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ the workspace

    def add_user(self, open_id: str, name: str, en_name: str = "", **extra: Any) -> dict[str, Any]:
        """Add a person the app can see (contact.user.get answers, DMs reach them)."""
        user = {
            "open_id": open_id,
            "union_id": union_id_of(open_id),
            "user_id": user_id_of(open_id),
            "name": name,
            "en_name": en_name,
            "avatar": {"avatar_72": f"https://example.invalid/avatar/{open_id}_72.png"},
            "status": {"is_activated": True, "is_frozen": False, "is_resigned": False},
            **extra,
        }
        with self._lock:
            self.users[open_id] = user
        return user

    def add_chat(
        self,
        chat_id: str,
        name: str,
        members: list[str] | tuple[str, ...] = (),
        *,
        bot_in: bool = True,
        description: str = "",
    ) -> dict[str, Any]:
        """Add a group chat with these members (open_ids); ``bot_in=False``: the bot is not in it."""
        with self._lock:
            chat = self._new_chat(chat_id, name, description, list(members), mode="group")
            chat["bot_in"] = bot_in
            return chat

    # ------------------------------------------------------------------ state helpers

    def _now_ms(self) -> str:
        self._last_ms = max(int(time.time() * 1000), self._last_ms + 1)
        return str(self._last_ms)

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_{_hex(prefix, self.app_id, str(next(self._seq)))}"

    def _new_chat(self, chat_id: str, name: str, description: str, members: list[str], *, mode: str) -> dict[str, Any]:
        chat = {
            "chat_id": chat_id,
            "name": name,
            "description": description,
            "members": list(dict.fromkeys(members)),
            "chat_mode": mode,
            "chat_type": "private" if mode == "group" else "p2p",
            "bot_in": True,
            "owner_id": self.app_id,
            "create_time": self._now_ms(),
        }
        self.chats[chat_id] = chat
        return chat

    def _p2p(self, open_id: str) -> dict[str, Any]:
        chat_id = p2p_chat_id(open_id, self.app_id)
        return self.chats.get(chat_id) or self._new_chat(chat_id, "", "", [open_id], mode="p2p")

    def _chat(self, chat_id: str, *, code: int = 232006, bot_code: int = 232011) -> dict[str, Any]:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise FeishuApiFailure(code, "Your request specifies a chat_id which is invalid.")
        if not chat["bot_in"]:
            raise FeishuApiFailure(bot_code, "Operator can NOT be out of the chat.")
        return chat

    def _dedupe(self, table: dict[str, tuple[float, str]], uuid: Any, ttl: float) -> str | None:
        if not uuid:
            return None
        if len(str(uuid)) > MAX_UUID:
            raise FeishuApiFailure(99992402, f"field validation failed: uuid is longer than {MAX_UUID} characters")
        seen = table.get(str(uuid))
        return seen[1] if seen is not None and time.time() - seen[0] < ttl else None

    def _page(self, query: dict[str, str], items: list[dict[str, Any]]) -> dict[str, Any]:
        size = max(1, min(int(query.get("page_size") or 20), self.page_size_cap))
        start = int(query.get("page_token") or 0)
        more = start + size < len(items)
        page: dict[str, Any] = {"items": items[start : start + size], "has_more": more}
        if more:
            page["page_token"] = str(start + size)
        return page
