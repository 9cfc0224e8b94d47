"""The Web API methods on messages: chat.*, reactions.* and pins.add."""

from __future__ import annotations

import copy
from typing import Any

from handlers.sandbox.slack_api.calls import Call, SlackApiFailure, _require
from handlers.sandbox.slack_api.messages import Messages, _add_reaction, _remove_reaction
from handlers.sandbox.slack_api.workspace import BOT


class ChatMethods(Messages):
    """chat.postMessage, chat.update, chat.postEphemeral, chat.getPermalink, chat.delete, pins.add, reactions.*."""

    def _chat_post_message(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        channel_id = self._resolve_channel(params.get("channel"))
        if not channel_id.startswith("D"):
            record = self._channel_record(channel_id)
            if record["is_private"] and not record["bot_is_member"]:
                raise SlackApiFailure("channel_not_found")  # a private channel the bot is not in is invisible to it
            if record.get("is_archived"):
                raise SlackApiFailure("is_archived")
            # a public channel takes the post without the bot in it (chat:write.public): Slack then delivers
            # no reactions on it to the bot, which the driver's react() honours
        if not any(params.get(k) for k in ("text", "blocks", "attachments")):
            raise SlackApiFailure("no_text")
        self._check_text("chat.postMessage", params)
        if params.get("blocks") is not None:
            self._check_message_blocks("chat.postMessage", params["blocks"])
        message = self._store_bot_message(channel_id, params)
        return {"channel": channel_id, "ts": message["ts"], "message": copy.deepcopy(message)}

    def _chat_update(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        message = self._existing_message(params.get("channel"), params.get("ts"))
        if message.get("user") != BOT:
            raise SlackApiFailure("cant_update_message")
        if not any(k in params for k in ("text", "blocks", "attachments")):
            raise SlackApiFailure("no_text")
        self._check_text("chat.update", params)
        if params.get("blocks") is not None:
            self._check_message_blocks("chat.update", params["blocks"])
        self._replace_content(message, params)
        shown = {k: v for k, v in message.items() if k != "channel"}
        return {
            "channel": message["channel"],
            "ts": message["ts"],
            "text": message["text"],
            "message": copy.deepcopy(shown),
        }

    def _chat_post_ephemeral(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        _require(params, "user")
        channel_id = self._resolve_channel(params.get("channel"))
        user = str(params["user"])
        if user not in self._users:
            raise SlackApiFailure("user_not_found")
        if user not in self._members(channel_id):
            raise SlackApiFailure("user_not_in_channel")
        if not any(params.get(k) for k in ("text", "blocks", "attachments")):
            raise SlackApiFailure("no_text")
        self._check_text("chat.postEphemeral", params)
        if params.get("blocks") is not None:
            self._check_message_blocks("chat.postEphemeral", params["blocks"])
        ts = self._next_ts()
        self._ephemerals.append(
            {
                "channel": channel_id,
                "user": user,
                "text": params.get("text") or "",
                "blocks": copy.deepcopy(params.get("blocks")),
                "ts": ts,
                "thread_ts": params.get("thread_ts"),
            }
        )
        return {"message_ts": ts}

    def _chat_get_permalink(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        message = self._existing_message(params.get("channel"), params.get("message_ts"))
        channel_id = message["channel"]
        link = f"https://{self.team_domain}.slack.com/archives/{channel_id}/p{message['ts'].replace('.', '')}"
        if message.get("thread_ts") and message["thread_ts"] != message["ts"]:
            link += f"?thread_ts={message['thread_ts']}&cid={channel_id}"
        return {"channel": channel_id, "permalink": link}

    def _chat_delete(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        message = self._existing_message(params.get("channel"), params.get("ts"))
        if message.get("user") != BOT:
            raise SlackApiFailure("cant_delete_message")
        del self._messages[(message["channel"], message["ts"])]
        return {"channel": message["channel"], "ts": message["ts"]}

    def _pins_add(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        message = self._existing_message(params.get("channel"), params.get("timestamp"))
        pinned = message.setdefault("pinned_to", [])
        if message["channel"] in pinned:
            raise SlackApiFailure("already_pinned")
        pinned.append(message["channel"])
        return {}

    def _reactions_add(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        _require(params, "name")
        message = self._existing_message(params.get("channel"), params.get("timestamp"))
        if not _add_reaction(message, str(params["name"]).strip(":"), BOT):
            raise SlackApiFailure("already_reacted")
        return {}

    def _reactions_remove(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        _require(params, "name")
        message = self._existing_message(params.get("channel"), params.get("timestamp"))
        if not _remove_reaction(message, str(params["name"]).strip(":"), BOT):
            raise SlackApiFailure("no_reaction")
        return {}

    def _reactions_get(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        message = self._existing_message(params.get("channel"), params.get("timestamp"))
        shown = copy.deepcopy({k: v for k, v in message.items() if k != "channel"})
        return {"type": "message", "channel": message["channel"], "message": shown}
