"""FakeSlack: the server, the workspace and every family of Web API methods in one object."""

from __future__ import annotations

import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from handlers.sandbox.slack_api.calls import Call, SlackApiFailure
from handlers.sandbox.slack_api.chat import ChatMethods
from handlers.sandbox.slack_api.conversations import ConversationMethods
from handlers.sandbox.slack_api.files import UPLOAD_METHOD, UPLOAD_PATH, FileMethods
from handlers.sandbox.slack_api.server import WebApiServer, _Answer, _header, _read, _send
from handlers.sandbox.slack_api.users import UserMethods
from handlers.sandbox.slack_api.workspace import APP_ID


class FakeSlack(WebApiServer, ChatMethods, ConversationMethods, UserMethods, FileMethods):
    """A recording, fault-injecting stand-in for https://slack.com/api/ on 127.0.0.1."""

    def __init__(
        self,
        bot_token: str = "xoxb-test",
        team_id: str = "T0001",
        *,
        app_id: str = APP_ID,
        trigger_ttl: float | None = 3.0,
    ) -> None:
        """Create the fake; ``trigger_ttl`` is how long a trigger_id stays usable (None: forever)."""
        super().__init__(bot_token=bot_token, team_id=team_id, app_id=app_id, trigger_ttl=trigger_ttl)
        self._methods = {
            "auth.test": self._auth_test,
            "team.info": self._team_info,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "chat.delete": self._chat_delete,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "conversations.create": self._conversations_create,
            "conversations.invite": self._conversations_invite,
            "conversations.join": self._conversations_join,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
            "pins.add": self._pins_add,
            "reactions.add": self._reactions_add,
            "reactions.remove": self._reactions_remove,
            "reactions.get": self._reactions_get,
            "users.info": self._users_info,
            "users.list": self._users_list,
            "apps.connections.open": self._apps_connections_open,
        }

    # ------------------------------------------------------------------ upload URLs

    def _upload_url(self, ticket: str) -> str:
        return f"{self.base_url}{UPLOAD_PATH}{ticket}"

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        """POSTs to an upload URL are taken here (recorded as ``upload``); everything else as before."""
        path = urlsplit(request.path).path
        if not path.startswith(UPLOAD_PATH):
            super()._serve(request)
            return
        arrived = time.time()
        _split, raw, headers = _read(request)
        _send(request, self._upload(request.command, path[len(UPLOAD_PATH) :], raw, headers, arrived))

    def _upload(self, verb: str, ticket: str, raw: bytes, headers: dict[str, str], arrived: float) -> _Answer:
        content_type = _header(headers, "Content-Type")
        call = Call(
            method=UPLOAD_METHOD,
            params={"ticket": ticket, "size": len(raw), "content_type": content_type},
            headers=headers,
            at=arrived,
        )
        fault = self._take_fault(UPLOAD_METHOD)
        self._pause(fault)
        if fault is not None and (fault.status != 200 or fault.error):
            status = fault.status if fault.status != 200 else 400
            return self._finish(call, _text(status, fault.error or f"http_{status}"))
        if verb != "POST":
            return self._finish(call, _text(405, "method_not_allowed"))
        try:
            answer = self._receive_upload(ticket, raw, content_type)
        except SlackApiFailure as exc:
            return self._finish(call, _text(404, exc.error))
        return self._finish(call, _text(200, answer))


def _text(status: int, text: str) -> _Answer:
    """A plain-text answer, as the upload service gives (recorded with ``ok`` set by the status)."""
    body = {"ok": status == 200, **({} if status == 200 else {"error": text})}
    return _Answer(status, body, raw=text.encode("utf-8"), content_type="text/plain; charset=utf-8")
