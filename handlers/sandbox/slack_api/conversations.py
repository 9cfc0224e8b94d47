"""The conversations.* methods: direct messages, channel info and members, history, creating and joining."""

from __future__ import annotations

import copy
import hashlib
import re
from typing import Any

from handlers.sandbox.slack_api.calls import Call, SlackApiFailure, _id_list, _require, _truthy
from handlers.sandbox.slack_api.messages import Messages, _ts_key
from handlers.sandbox.slack_api.workspace import BOT

_CHANNEL_NAME = re.compile(r"^[a-z0-9_-]{1,80}$")


class ConversationMethods(Messages):
    """conversations.open, .info, .members, .history, .replies, .create, .join and .invite."""

    def _conversations_open(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        if params.get("channel"):
            channel_id = self._resolve_channel(params["channel"])
            return {"no_op": True, "already_open": True, "channel": {"id": channel_id}}
        users = _id_list(params.get("users"))
        if not users:
            raise SlackApiFailure("users_list_not_supplied")
        for user in users:
            if user not in self._users:
                raise SlackApiFailure("user_not_found")
        channel_id = (
            "D" + users[0]
            if len(users) == 1
            else "G" + hashlib.sha1(",".join(sorted(users)).encode()).hexdigest()[:10].upper()
        )
        already = channel_id in self._open_dms
        self._open_dms.add(channel_id)
        return {"no_op": already, "already_open": already, "channel": {"id": channel_id}}

    def _visible_to_bot(self, channel_id: str) -> None:
        """Like Slack, a private channel the bot is not in does not exist for it."""
        if channel_id[:1] in ("C", "G") and channel_id in self._channels:
            record = self._channels[channel_id]
            if record["is_private"] and not record["bot_is_member"]:
                raise SlackApiFailure("channel_not_found")

    def _conversations_info(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        _require(params, "channel")
        self._visible_to_bot(str(params["channel"]))
        channel = self._channel_json(str(params["channel"]))
        if _truthy(params.get("include_num_members")) and not channel.get("is_im"):
            channel["num_members"] = len(self._members(channel["id"]))
        return {"channel": channel}

    def _conversations_members(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        _require(params, "channel")
        channel_id = str(params["channel"])
        self._visible_to_bot(channel_id)
        self._channel_json(channel_id)
        page, next_cursor = self._page(self._members(channel_id), params, "member")
        return {"members": page, "response_metadata": {"next_cursor": next_cursor}}

    def _readable_messages(self, params: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        """The channel named by ``params`` and its stored messages, if the bot may read them."""
        _require(params, "channel")
        channel_id = self._resolve_channel(params["channel"])
        if not channel_id.startswith("D") and not self._channel_record(channel_id)["bot_is_member"]:
            raise SlackApiFailure("not_in_channel")
        return channel_id, [m for m in self._messages.values() if m["channel"] == channel_id]

    def _conversations_history(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        _, stored = self._readable_messages(params)
        top = [m for m in stored if not m.get("thread_ts") or m["thread_ts"] == m["ts"]]
        found = _in_window(top, params)
        found.sort(key=lambda m: _ts_key(m["ts"]), reverse=True)  # newest first, like Slack
        limit = int(params.get("limit") or 100)
        # like Slack, message metadata only for include_all_metadata=true
        hidden = {"channel"} if _truthy(params.get("include_all_metadata")) else {"channel", "metadata"}
        shown = [{k: v for k, v in copy.deepcopy(m).items() if k not in hidden} for m in found[:limit]]
        return {
            "messages": shown,
            "has_more": len(found) > limit,
            "pin_count": 0,
            "response_metadata": {"next_cursor": ""},
        }

    def _conversations_replies(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        _require(params, "ts")
        channel_id, stored = self._readable_messages(params)
        message = self._messages.get((channel_id, str(params["ts"])))
        if message is None:
            raise SlackApiFailure("thread_not_found")
        root = str(message.get("thread_ts") or message["ts"])
        parent = self._messages.get((channel_id, root))
        replies = [m for m in stored if m.get("thread_ts") == root and m["ts"] != root]
        found = _in_window(replies, params)
        found.sort(key=lambda m: _ts_key(m["ts"]))
        limit = int(params.get("limit") or 1000)
        thread = ([parent] if parent is not None else []) + found[:limit]
        shown = [{k: v for k, v in copy.deepcopy(m).items() if k != "channel"} for m in thread]
        return {"messages": shown, "has_more": len(found) > limit, "response_metadata": {"next_cursor": ""}}

    def _conversations_create(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        name = params.get("name")
        if not name:
            raise SlackApiFailure("invalid_name_required")
        if not isinstance(name, str) or len(name) > 80:
            raise SlackApiFailure("invalid_name_maxlength")
        if not _CHANNEL_NAME.match(name):
            raise SlackApiFailure("invalid_name_specials")
        if any(c["name"] == name for c in self._channels.values()):
            raise SlackApiFailure("name_taken")
        channel_id = f"C{next(self._channel_seq):08d}"
        self.set_channel(
            channel_id, name=name, members=[], is_private=_truthy(params.get("is_private")), bot_is_member=True
        )
        self._channels[channel_id]["creator"] = BOT
        return {"channel": self._channel_json(channel_id)}

    def _conversations_join(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        _require(params, "channel")
        channel_id = str(params["channel"])
        if channel_id[:1] not in ("C", "G") or channel_id not in self._channels:
            raise SlackApiFailure("channel_not_found")
        record = self._channels[channel_id]
        if record["is_private"]:
            if not record["bot_is_member"]:
                raise SlackApiFailure("channel_not_found")
            raise SlackApiFailure("method_not_supported_for_channel_type")
        if record.get("is_archived"):
            raise SlackApiFailure("is_archived")
        answer: dict[str, Any] = {}
        if record["bot_is_member"]:
            answer["warning"] = "already_in_channel"
        record["bot_is_member"] = True
        return {"channel": self._channel_json(channel_id), **answer}

    def _conversations_invite(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        _require(params, "channel", "users")
        channel_id = str(params["channel"])
        record = self._channel_record(channel_id)
        users = _id_list(params["users"])
        for user in users:
            if user not in self._users:
                raise SlackApiFailure("user_not_found")
            if user == BOT:
                raise SlackApiFailure("cant_invite_self")
        members = self._members(channel_id)
        if all(u in members for u in users):
            raise SlackApiFailure("already_in_channel")
        record["members"] = [m for m in members if m != BOT] + [u for u in users if u not in members]
        return {"channel": self._channel_json(channel_id)}


def _in_window(messages: list[dict[str, Any]], params: dict[str, Any]) -> list[dict[str, Any]]:
    """Messages between ``oldest`` and ``latest`` (bounds included only with ``inclusive``)."""
    inclusive = _truthy(params.get("inclusive"))
    oldest = _ts_key(str(params["oldest"])) if params.get("oldest") else None
    latest = _ts_key(str(params["latest"])) if params.get("latest") else None
    kept = []
    for message in messages:
        key = _ts_key(message["ts"])
        if oldest is not None and (key < oldest or (key == oldest and not inclusive)):
            continue
        if latest is not None and (key > latest or (key == latest and not inclusive)):
            continue
        kept.append(message)
    return kept
