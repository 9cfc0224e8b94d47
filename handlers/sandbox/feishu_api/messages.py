"""Messages: the ones people sent (recorded by the driver), and the endpoints that send, reply to, update, read
and react to them."""

from __future__ import annotations

import copy
import json
import re
import time
from typing import Any

from handlers.sandbox.feishu_api.calls import Call, FeishuApiFailure, _body, _hex, _ok
from handlers.sandbox.feishu_api.content import _content, _shared, card_texts
from handlers.sandbox.feishu_api.workspace import Workspace, p2p_chat_id

MESSAGE_UUID_TTL = 3600.0  # a message uuid deduplicates for an hour


class MessageMethods(Workspace):
    """im.message.create, .reply, .patch and .get, and im.message_reaction.create; and the messages people sent."""

    def add_user_message(
        self,
        chat_id: str,
        sender: str,
        text: str,
        *,
        message_id: str | None = None,
        root_id: str | None = None,
        parent_id: str | None = None,
        mentions: list[dict[str, Any]] | None = None,
        tenant_key: str | None = None,
    ) -> dict[str, Any]:
        """Record a text message a person (of ``tenant_key``, default the fake's) sent, for the bot to read or pin."""
        tenant_key = tenant_key or self.tenant_key
        with self._lock:
            if chat_id not in self.chats:
                p2p = next((u for u in self.users if p2p_chat_id(u, self.app_id) == chat_id), None)
                if p2p is None:
                    raise ValueError(f"unknown chat {chat_id!r}: add_chat() it (or add_user() the DM's person)")
                self._p2p(p2p)
            content = {"text": text}
            message = self._store(
                chat_id,
                "text",
                content,
                json.dumps(content, ensure_ascii=False),
                sender=sender,
                root_id=root_id,
                parent_id=parent_id,
                message_id=message_id,
                tenant_key=tenant_key,
            )
            message["mentions"] = [
                {
                    "key": m["key"],
                    "id": m["id"],
                    "id_type": "open_id",
                    "name": m.get("name", ""),
                    "tenant_key": tenant_key,
                }
                for m in mentions or []
            ]
            return message

    def messages_to(self, chat_id: str | None = None, open_id: str | None = None) -> list[dict[str, Any]]:
        """Messages in a chat, or in the bot's DM with a person (all messages when neither is given)."""
        target = p2p_chat_id(open_id, self.app_id) if open_id is not None else chat_id
        with self._lock:
            return [m for m in self.messages if target is None or m["chat_id"] == target]

    def message(self, message_id: str) -> dict[str, Any]:
        """One recorded message (KeyError when there is none)."""
        with self._lock:
            return self._by_id[message_id]

    card_texts = staticmethod(card_texts)

    def _message_of(self, message_id: str) -> dict[str, Any]:
        message = self._by_id.get(message_id)
        if message is None or message["deleted"]:
            raise FeishuApiFailure(
                230001, "Your request contains an invalid request parameter, ext=invalid message_id."
            )
        if not self.chats[message["chat_id"]]["bot_in"]:
            raise FeishuApiFailure(230002, "Bot/User can NOT be out of the chat.")
        return message

    def _store(
        self,
        chat_id: str,
        msg_type: str,
        content: dict[str, Any],
        raw: str,
        *,
        sender: str | None = None,
        root_id: str | None = None,
        parent_id: str | None = None,
        uuid: str | None = None,
        message_id: str | None = None,
        tenant_key: str | None = None,
    ) -> dict[str, Any]:
        now = self._now_ms()
        message = {
            "message_id": message_id or self._new_id("om"),
            "chat_id": chat_id,
            "chat_type": self.chats[chat_id]["chat_mode"],
            "msg_type": msg_type,
            "content": content,
            "raw_content": raw,
            "sender_type": "user" if sender else "app",
            "sender_id": sender or self.app_id,
            "root_id": root_id,
            "parent_id": parent_id,
            "uuid": uuid,
            "create_time": now,
            "update_time": now,
            "updated": False,
            "deleted": False,
            "versions": [copy.deepcopy(content)],
            "mentions": [],
            "tenant_key": tenant_key or self.tenant_key,  # the sender's: a store app's, the tenant it sent for
        }
        self.messages.append(message)
        self._by_id[message["message_id"]] = message
        return message

    def _message_json(self, message: dict[str, Any]) -> dict[str, Any]:
        from_app = message["sender_type"] == "app"
        out: dict[str, Any] = {
            "message_id": message["message_id"],
            "msg_type": message["msg_type"],
            "create_time": message["create_time"],
            "update_time": message["update_time"],
            "deleted": False,
            "updated": message["updated"],
            "chat_id": message["chat_id"],
            "sender": {
                "id": message["sender_id"],
                "id_type": "app_id" if from_app else "open_id",
                "sender_type": message["sender_type"],
                "tenant_key": message["tenant_key"],
            },
            "body": {"content": message["raw_content"]},
        }
        for key in ("root_id", "parent_id"):
            if message[key]:
                out[key] = message[key]
        if message["mentions"]:
            out["mentions"] = copy.deepcopy(message["mentions"])
        return out

    def _im_message_create(self, call: Call, params: dict[str, str]) -> dict[str, Any]:
        body = _body(call, "receive_id", "msg_type", "content")
        id_type = call.query.get("receive_id_type", "")
        if id_type not in {"open_id", "chat_id", "user_id", "union_id", "email"}:
            raise FeishuApiFailure(99992402, "field validation failed: receive_id_type")
        content = _content(str(body["msg_type"]), body["content"], images=self.images)
        existing = self._dedupe(self._message_uuids, body.get("uuid"), MESSAGE_UUID_TTL)
        if existing is not None:
            return _ok(self._message_json(self._by_id[existing]))
        receive_id = str(body["receive_id"])
        if id_type == "open_id":
            if receive_id not in self.users:
                raise FeishuApiFailure(230013, "Bot has NO availability to this user.")
            chat = self._p2p(receive_id)
        elif id_type == "chat_id":
            chat = self._chat(receive_id, code=230001, bot_code=230002)
        else:
            raise FeishuApiFailure(
                230001,
                f"Your request contains an invalid request parameter, ext=the fake "
                f"only sends by open_id or chat_id, not {id_type}.",
            )
        message = self._store(
            chat["chat_id"],
            str(body["msg_type"]),
            content,
            body["content"],
            uuid=body.get("uuid"),
            tenant_key=call.tenant,
        )
        if body.get("uuid"):
            self._message_uuids[str(body["uuid"])] = (time.time(), message["message_id"])
        return _ok(self._message_json(message))

    def _im_message_reply(self, call: Call, params: dict[str, str]) -> dict[str, Any]:
        body = _body(call, "msg_type", "content")
        content = _content(str(body["msg_type"]), body["content"], images=self.images)
        existing = self._dedupe(self._message_uuids, body.get("uuid"), MESSAGE_UUID_TTL)
        if existing is not None:
            return _ok(self._message_json(self._by_id[existing]))
        parent = self._message_of(params["message_id"])
        message = self._store(
            parent["chat_id"],
            str(body["msg_type"]),
            content,
            body["content"],
            uuid=body.get("uuid"),
            root_id=parent["root_id"] or parent["message_id"],
            parent_id=parent["message_id"],
            tenant_key=call.tenant,
        )
        message["reply_in_thread"] = bool(body.get("reply_in_thread"))
        if body.get("uuid"):
            self._message_uuids[str(body["uuid"])] = (time.time(), message["message_id"])
        return _ok(self._message_json(message))

    def _im_message_patch(self, call: Call, params: dict[str, str]) -> dict[str, Any]:
        body = _body(call, "content")
        message = self._message_of(params["message_id"])
        if message["msg_type"] != "interactive":
            raise FeishuApiFailure(
                230001, "Your request contains an invalid request parameter, ext=This message is NOT a card."
            )
        if message["sender_type"] != "app":
            raise FeishuApiFailure(230027, "Lack of necessary permissions: the message was not sent by this bot.")
        card = _content("interactive", body["content"], images=self.images)
        if not (_shared(message["content"]) and _shared(card)):
            raise FeishuApiFailure(
                230001,
                "Your request contains an invalid request parameter, ext=only a shared "
                "card (config.update_multi true, before and after) can be updated.",
            )
        message["content"], message["raw_content"] = card, body["content"]
        message["versions"].append(copy.deepcopy(card))
        message["updated"], message["update_time"] = True, self._now_ms()
        return _ok({})

    def _im_message_get(self, call: Call, params: dict[str, str]) -> dict[str, Any]:
        return _ok({"items": [self._message_json(self._message_of(params["message_id"]))]})

    def _im_message_reaction_create(self, call: Call, params: dict[str, str]) -> dict[str, Any]:
        body = _body(call, "reaction_type")
        emoji = (body["reaction_type"] or {}).get("emoji_type") if isinstance(body["reaction_type"], dict) else None
        if not isinstance(emoji, str) or not re.fullmatch(r"[A-Za-z0-9_]+", emoji):
            raise FeishuApiFailure(231001, "reaction type is invalid.")
        message = self._message_of(params["message_id"])
        reaction = {
            "reaction_id": f"{_hex('reaction', str(next(self._seq)), length=24)}",
            "operator": {"operator_id": self.app_id, "operator_type": "app"},
            "action_time": self._now_ms(),
            "reaction_type": {"emoji_type": emoji},
        }
        self.reactions.append({**reaction, "message_id": message["message_id"]})
        return _ok(reaction)
