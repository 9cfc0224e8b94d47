"""Who is who: auth.test, team.info, users.info and users.list; and apps.connections.open (the app token's)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from handlers.sandbox.slack_api.calls import Call, SlackApiFailure, _require, _truthy
from handlers.sandbox.slack_api.workspace import BOT, BOT_ID, Workspace


class UserMethods(Workspace):
    """auth.test, team.info, users.info, users.list and apps.connections.open."""

    def _auth_test(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": "coordbot",
            "team_id": self.team_id,
            "user_id": BOT,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }
        if self.enterprise_id is not None:
            answer["enterprise_id"] = self.enterprise_id
        return answer

    def _team_info(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        team: dict[str, Any] = {
            "id": self.team_id,
            "name": self.team_name,
            "url": f"https://{self.team_domain}.slack.com/",
            "domain": self.team_domain,
            "email_domain": "",
            "is_verified": False,
            "icon": {"image_default": True},
        }
        if self.enterprise_id is not None:
            team.update({"enterprise_id": self.enterprise_id, "enterprise_name": self.enterprise_name})
        return {"team": team}

    def _users_info(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        _require(params, "user")
        user = str(params["user"])
        if user not in self._users:
            raise SlackApiFailure("user_not_found")
        return {"user": self._user_json(user, include_locale=_truthy(params.get("include_locale")))}

    def _users_list(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        page, next_cursor = self._page(list(self._users), params, "user")
        locale = _truthy(params.get("include_locale"))
        return {
            "members": [self._user_json(u, include_locale=locale) for u in page],
            "cache_ts": int(time.time()),
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _apps_connections_open(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        # a WebSocket URL nobody listens on: the fake answers the Web API only
        return {"url": f"wss://127.0.0.1:1/link/?ticket={uuid.uuid4()}&app_id={self.app_id}"}
