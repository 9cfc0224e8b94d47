"""Group chats, their members and pins: im.chat.*, im.chat_members.* and im.pin.*."""

from __future__ import annotations

import time
from typing import Any

from handlers.sandbox.feishu_api.calls import Call, FeishuApiFailure, _body, _ok
from handlers.sandbox.feishu_api.messages import MessageMethods

CHAT_UUID_TTL = 10 * 3600.0  # a chat-creation uuid for ten hours
MAX_IDS = 50  # user_id_list / id_list per call


class ChatMethods(MessageMethods):
    """im.chat.create and .get, im.chat_members.create and .get, im.pin.create and .list; and a person's pin."""

    def _im_chat_create(self, call: Call, params: dict[str, str]) -> dict[str, Any]:
        body = call.body or {}
        if call.query.get("user_id_type", "open_id") != "open_id":
            raise FeishuApiFailure(99992402, "field validation failed: the fake only takes user_id_type=open_id")
        members = [str(m) for m in body.get("user_id_list") or []]
        if len(members) > MAX_IDS or any(not m.startswith("ou_") for m in members):
            raise FeishuApiFailure(99992402, "field validation failed: user_id_list")
        existing = self._dedupe(self._chat_uuids, call.query.get("uuid"), CHAT_UUID_TTL)
        if existing is not None:
            return _ok(self._chat_json(self.chats[existing]))
        unknown = [m for m in members if m not in self.users]
        if unknown:
            raise FeishuApiFailure(232024, f"Users do not have the visibility of the app: {unknown}")
        if body.get("chat_mode", "group") != "group":
            raise FeishuApiFailure(99992402, "field validation failed: chat_mode")
        chat = self._new_chat(
            self._new_id("oc"), str(body.get("name", "")), str(body.get("description", "")), members, mode="group"
        )
        chat["chat_type"] = str(body.get("chat_type") or "private")
        if call.query.get("uuid"):
            self._chat_uuids[call.query["uuid"]] = (time.time(), chat["chat_id"])
        return _ok(self._chat_json(chat))

    def _chat_json(self, chat: dict[str, Any]) -> dict[str, Any]:
        return {
            "chat_id": chat["chat_id"],
            "name": chat["name"],
            "description": chat["description"],
            "owner_id": chat["owner_id"],
            "owner_id_type": "app_id",
            "chat_mode": chat["chat_mode"],
            "chat_type": chat["chat_type"],
            "external": False,
            "tenant_key": self.tenant_key,
            "user_count": str(len(chat["members"])),
            "bot_count": "1" if chat["bot_in"] else "0",
            "chat_status": "normal",
        }

    def _im_chat_get(self, call: Call, params: dict[str, str]) -> dict[str, Any]:
        chat = self._chat(params["chat_id"])
        return _ok({k: v for k, v in self._chat_json(chat).items() if k != "chat_id"})

    def _im_chat_members_create(self, call: Call, params: dict[str, str]) -> dict[str, Any]:
        body = _body(call, "id_list")
        chat = self._chat(params["chat_id"])
        ids = [str(i) for i in body["id_list"] or []]
        if len(ids) > MAX_IDS:
            raise FeishuApiFailure(99992402, "field validation failed: id_list")
        invalid = [i for i in ids if i not in self.users]
        if invalid and call.query.get("succeed_type", "0") != "1":  # 0 and 2 refuse the call, 1 adds the others
            raise FeishuApiFailure(232024, f"Users do not have the visibility of the app: {invalid}")
        chat["members"] = list(dict.fromkeys([*chat["members"], *(i for i in ids if i in self.users)]))
        return _ok({"invalid_id_list": invalid, "not_existed_id_list": [], "pending_approval_id_list": []})

    def _im_chat_members_get(self, call: Call, params: dict[str, str]) -> dict[str, Any]:
        chat = self._chat(params["chat_id"])
        members = [
            {
                "member_id_type": "open_id",
                "member_id": m,
                "name": self.users.get(m, {}).get("name", ""),
                "tenant_key": self.tenant_key,
            }
            for m in chat["members"]
        ]
        return _ok({**self._page(call.query, members), "member_total": len(members)})

    def pin_by(self, open_id: str, message_id: str) -> dict[str, Any]:
        """A person pins a message in its chat (as they would in Feishu's client)."""
        with self._lock:
            message = self._by_id[message_id]
            pin = {
                "message_id": message_id,
                "chat_id": message["chat_id"],
                "operator_id": open_id,
                "operator_id_type": "open_id",
                "create_time": self._now_ms(),
            }
            self.pins.append(pin)
            return dict(pin)

    def _im_pin_create(self, call: Call, params: dict[str, str]) -> dict[str, Any]:
        message = self._message_of(str(_body(call, "message_id")["message_id"]))
        pin = next((p for p in self.pins if p["message_id"] == message["message_id"]), None)
        if pin is None:
            pin = {
                "message_id": message["message_id"],
                "chat_id": message["chat_id"],
                "operator_id": self.app_id,
                "operator_id_type": "app_id",
                "create_time": self._now_ms(),
            }
            self.pins.append(pin)
        return _ok({"pin": dict(pin)})

    def _im_pin_list(self, call: Call, params: dict[str, str]) -> dict[str, Any]:
        chat = self._chat(call.query.get("chat_id", ""))
        start, end = int(call.query.get("start_time") or 0), int(call.query.get("end_time") or 2**63)
        pins = [dict(p) for p in self.pins if p["chat_id"] == chat["chat_id"] and start <= int(p["create_time"]) <= end]
        pins.sort(key=lambda p: int(p["create_time"]), reverse=True)  # Feishu lists the newest pin first
        return _ok(self._page(call.query, pins))
