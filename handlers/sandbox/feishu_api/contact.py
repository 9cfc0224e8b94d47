"""Who is who: the bot's own info (bot.info) and a person's profile (contact.user.get)."""

from __future__ import annotations

import copy
from typing import Any

from handlers.sandbox.feishu_api.calls import Call, FeishuApiFailure, _ok
from handlers.sandbox.feishu_api.workspace import Workspace


class ContactMethods(Workspace):
    """bot.info and contact.user.get."""

    def _bot_info(self, call: Call, params: dict[str, str]) -> dict[str, Any]:
        bot = {
            "activate_status": 2,
            "app_name": self.bot_name,
            "avatar_url": "",
            "ip_white_list": [],
            "open_id": self.bot_open_id,
        }
        return {"code": 0, "msg": "ok", "bot": bot}

    def _contact_user_get(self, call: Call, params: dict[str, str]) -> dict[str, Any]:
        if call.query.get("user_id_type", "open_id") != "open_id":
            raise FeishuApiFailure(99992402, "field validation failed: the fake only takes user_id_type=open_id")
        user = self.users.get(params["user_id"])
        if user is None:
            raise FeishuApiFailure(41050, "no user authority error")
        return _ok({"user": copy.deepcopy(user)})
