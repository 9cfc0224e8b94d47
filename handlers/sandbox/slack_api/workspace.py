"""The fake's workspace: its team, the seeded people and channels, and who is a member of what."""

from __future__ import annotations

import base64
import threading
import time
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

from handlers.sandbox.slack_api.calls import SlackApiFailure

ALICE = "U_ALICE"
BOB = "U_BOB"
CAROL = "U_CAROL"
DAVE = "U_DAVE"
BOT = "U_BOT"
BOT_ID = "B0001"
APP_ID = "A0001"
GENERAL = "C_GENERAL"
TEAM_NAME = "Coordbot Test"
TEAM_DOMAIN = "coordbot-test"

_TZ_LABELS: dict[str, tuple[str, str]] = {
    "Asia/Shanghai": ("China Standard Time", "China Standard Time"),
    "America/New_York": ("Eastern Standard Time", "Eastern Daylight Time"),
    "America/Los_Angeles": ("Pacific Standard Time", "Pacific Daylight Time"),
    "Europe/London": ("Greenwich Mean Time", "British Summer Time"),
    "UTC": ("Coordinated Universal Time", "Coordinated Universal Time"),
}


class Workspace:
    """The team, its members and channels: what users.* and conversations.* answer from."""

    def __init__(self, *, team_id: str, app_id: str) -> None:
        self.team_id = team_id
        self.app_id = app_id
        self.team_name = TEAM_NAME
        self.team_domain = TEAM_DOMAIN
        self.enterprise_id: str | None = None  # the Enterprise Grid org the workspace belongs to, if any
        self.enterprise_name: str | None = None
        self._lock = threading.RLock()
        self._users: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, dict[str, Any]] = {}
        self._open_dms: set[str] = set()
        self._channel_seq = count(1)
        self.add_user(ALICE, "alice", real_name="Alice Chen", tz="Asia/Shanghai", locale="zh-CN")
        self.add_user(BOB, "bob", real_name="Bob Smith", tz="America/New_York", locale="en-US")
        self.add_user(CAROL, "carol", real_name="Carol Li", tz="UTC", locale="en-US")
        self.add_user(DAVE, "dave", real_name="Dave Wang", tz="Asia/Shanghai", locale="zh-CN")
        self.add_user(BOT, "coordbot", real_name="Coordbot", tz="UTC", is_bot=True)
        self.set_channel(GENERAL, name="general")

    # ------------------------------------------------------------------ directory

    def add_user(
        self,
        user_id: str,
        name: str,
        real_name: str | None = None,
        display_name: str | None = None,
        tz: str = "UTC",
        locale: str = "en-US",
        is_bot: bool = False,
        deleted: bool = False,
        guest: bool = False,
    ) -> dict[str, Any]:
        """Add or replace a workspace member (``guest``: a multi-channel guest); returns its users.info JSON."""
        ZoneInfo(tz)
        with self._lock:
            self._users[user_id] = {
                "id": user_id,
                "name": name,
                "real_name": real_name or name,
                "display_name": name if display_name is None else display_name,
                "tz": tz,
                "locale": locale,
                "is_bot": is_bot,
                "deleted": deleted,
                "guest": guest,
            }
            return self._user_json(user_id, include_locale=True)

    def user(self, user_id: str) -> dict[str, Any] | None:
        """The users.info JSON of a user (with locale), or None."""
        with self._lock:
            return self._user_json(user_id, include_locale=True) if user_id in self._users else None

    def set_channel(
        self,
        channel_id: str,
        name: str | None = None,
        members: Iterable[str] | None = None,
        is_private: bool = False,
        bot_is_member: bool | None = None,
        is_archived: bool = False,
    ) -> None:
        """Register a channel; ``members=None`` means every non-bot user.

        As in a new workspace, the bot is a member of no channel until it joins one (public channels) or is
        invited (``bot_is_member=True``); re-registering a channel keeps the bot's membership unless given.
        """
        with self._lock:
            existing = self._channels.get(channel_id, {})
            self._channels[channel_id] = {
                "id": channel_id,
                "name": name or existing.get("name") or _name_from_id(channel_id),
                "is_private": is_private,
                "is_archived": is_archived,
                "members": None if members is None else [m for m in members if m != BOT],
                "bot_is_member": bool(existing.get("bot_is_member", False)) if bot_is_member is None else bot_is_member,
                "created": existing.get("created", int(time.time())),
                "creator": existing.get("creator", ALICE),
            }

    def people(self) -> list[dict[str, Any]]:
        """Every member's users.info JSON (with locale), bots included, in the order they joined."""
        with self._lock:
            return [self._user_json(u, include_locale=True) for u in self._users]

    def channel_ids(self) -> list[str]:
        """Every channel's id (not DMs), in the order they were made."""
        with self._lock:
            return list(self._channels)

    def members(self, channel_id: str) -> list[str]:
        """Who is in a conversation (the bot included when it is)."""
        with self._lock:
            return self._members(channel_id)

    def invite_bot(self, channel_id: str) -> None:
        """Someone types /invite @coordbot in the channel."""
        with self._lock:
            self._channel_record(channel_id)["bot_is_member"] = True

    def remove_bot(self, channel_id: str) -> None:
        """Someone removes the bot from the channel (/remove @coordbot)."""
        with self._lock:
            self._channel_record(channel_id)["bot_is_member"] = False

    def bot_is_member(self, channel_id: str) -> bool:
        """Whether the bot is in the conversation (it is in every direct message with it)."""
        if channel_id.startswith("D"):
            return True
        with self._lock:
            record = self._channels.get(channel_id)
            return bool(record and record["bot_is_member"])

    def channel(self, channel_id: str) -> dict[str, Any] | None:
        """The conversations.info JSON of a channel, or None if it cannot exist."""
        with self._lock:
            try:
                return self._channel_json(channel_id)
            except SlackApiFailure:
                return None

    # ------------------------------------------------------------------ helpers

    def _dm_or_id(self, channel: str) -> str:
        return "D" + channel if channel[:1] in ("U", "W") else channel

    def _resolve_channel(self, channel: Any) -> str:
        if not isinstance(channel, str) or not channel:
            raise SlackApiFailure("channel_not_found")
        if channel[:1] in ("U", "W"):
            if channel not in self._users or self._users[channel]["deleted"]:
                raise SlackApiFailure("channel_not_found")
            return "D" + channel
        if channel.startswith("D") or (channel[:1] in ("C", "G") and channel == channel.upper()):
            return channel
        name = channel.removeprefix("#")
        for info in self._channels.values():
            if info["name"] == name:
                return str(info["id"])
        raise SlackApiFailure("channel_not_found")

    def _channel_record(self, channel_id: str) -> dict[str, Any]:
        if channel_id not in self._channels:
            if channel_id[:1] not in ("C", "G") or channel_id != channel_id.upper():
                raise SlackApiFailure("channel_not_found")
            self.set_channel(channel_id)
        return self._channels[channel_id]

    def _members(self, channel_id: str) -> list[str]:
        if channel_id.startswith("D"):
            return [channel_id[1:], BOT]
        record = self._channel_record(channel_id)
        if record["members"] is None:
            people = [u for u, info in self._users.items() if not info["is_bot"] and not info["deleted"]]
        else:
            people = list(record["members"])
        return people + ([BOT] if record["bot_is_member"] else [])

    def _channel_json(self, channel_id: str) -> dict[str, Any]:
        if channel_id.startswith("D"):
            if channel_id[1:] not in self._users:
                raise SlackApiFailure("channel_not_found")
            return {
                "id": channel_id,
                "created": int(time.time()),
                "is_im": True,
                "is_org_shared": False,
                "user": channel_id[1:],
                "is_user_deleted": self._users[channel_id[1:]]["deleted"],
                "priority": 0,
            }
        record = self._channel_record(channel_id)
        private = bool(record["is_private"])
        return {
            "id": channel_id,
            "name": record["name"],
            "is_channel": not private,
            "is_group": private,
            "is_im": False,
            "is_mpim": False,
            "is_private": private,
            "created": record["created"],
            "is_archived": bool(record.get("is_archived")),
            "is_general": record["name"] == "general",
            "unlinked": 0,
            "name_normalized": record["name"],
            "is_shared": False,
            "is_org_shared": False,
            "is_member": bool(record["bot_is_member"]),
            "creator": record["creator"],
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }

    def _user_json(self, user_id: str, *, include_locale: bool) -> dict[str, Any]:
        info = self._users[user_id]
        now = datetime.now(ZoneInfo(info["tz"]))
        offset = now.utcoffset()
        labels = _TZ_LABELS.get(info["tz"])
        label = labels[1 if now.dst() else 0] if labels else (now.tzname() or info["tz"])
        profile: dict[str, Any] = {
            "real_name": info["real_name"],
            "display_name": info["display_name"],
            "real_name_normalized": _normalize(info["real_name"]),
            "display_name_normalized": _normalize(info["display_name"]),
            "status_text": "",
            "status_emoji": "",
            "team": self.team_id,
        }
        if info["is_bot"]:
            profile.update({"bot_id": BOT_ID, "api_app_id": self.app_id, "always_active": True})
        else:
            profile["email"] = f"{info['name']}@{self.team_domain}.example.com"
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": self.team_id,
            "name": info["name"],
            "deleted": info["deleted"],
            "color": "9f69e7",
            "real_name": info["real_name"],
            "tz": info["tz"],
            "tz_label": label,
            "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": bool(info.get("guest")),
            "is_ultra_restricted": False,
            "is_bot": info["is_bot"],
            "is_app_user": False,
            "updated": 1_700_000_000,
        }
        if include_locale:
            user["locale"] = info["locale"]
        return user

    def _page(self, items: list[str], params: dict[str, Any], prefix: str) -> tuple[list[str], str]:
        limit = int(params.get("limit") or 0)
        start = 0
        cursor = params.get("cursor") or ""
        if cursor:
            try:
                kind, _, item = base64.b64decode(cursor).decode("utf-8").partition(":")
                start = items.index(item)
            except ValueError as exc:
                raise SlackApiFailure("invalid_cursor") from exc
            if kind != prefix:
                raise SlackApiFailure("invalid_cursor")
        end = len(items) if limit <= 0 else min(len(items), start + limit)
        next_cursor = ""
        if end < len(items):
            next_cursor = base64.b64encode(f"{prefix}:{items[end]}".encode()).decode("ascii")
        return items[start:end], next_cursor


def _name_from_id(channel_id: str) -> str:
    return channel_id.lower().removeprefix("c_").removeprefix("g_")


def _normalize(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
