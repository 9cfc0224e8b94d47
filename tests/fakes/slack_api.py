"""A fake Slack Web API served over HTTP on 127.0.0.1 that records every call.

Point ``slack_sdk.WebClient(base_url=fake.api_url)`` at it. Answers mimic Slack's JSON
shapes and error codes closely enough for a real Bolt app to run against it.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import json
import re
import threading
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

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

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT_LENGTH = 40_000
RESPONSE_URL_MAX_USES = 5

JSON_PARAMS = ("blocks", "attachments", "view", "users", "metadata")
"""Form-encoded params whose value is decoded when it holds a JSON object or array."""

_TS_BASE = 1_790_000_000
_TZ_LABELS: dict[str, tuple[str, str]] = {
    "Asia/Shanghai": ("China Standard Time", "China Standard Time"),
    "America/New_York": ("Eastern Standard Time", "Eastern Daylight Time"),
    "America/Los_Angeles": ("Pacific Standard Time", "Pacific Daylight Time"),
    "Europe/London": ("Greenwich Mean Time", "British Summer Time"),
    "UTC": ("Coordinated Universal Time", "Coordinated Universal Time"),
}
_TEXT_TYPES = ("plain_text", "mrkdwn")
_TEXT_FIELDS = frozenset(
    {"text", "label", "placeholder", "hint", "title", "submit", "close", "description", "confirm", "deny"}
)
_PLAIN_ONLY_FIELDS = frozenset({"label", "placeholder", "hint", "title", "submit", "close", "confirm", "deny"})
_PLAIN_TEXT_OWNERS = frozenset({"header", "button", "workflow_button"})
_OPTION_KEYS = frozenset({"options", "option_groups", "initial_option", "initial_options"})
_CHECKED_BLOCKS = frozenset(
    {"section", "divider", "image", "actions", "context", "input", "header", "video", "file", "call"}
)
_CHANNEL_NAME = re.compile(r"^[a-z0-9_-]{1,80}$")


@dataclass
class Call:
    """One request received by the fake, with what it answered."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    at: float
    status: int = 200
    response: dict[str, Any] | None = None
    error: str | None = None


@dataclass
class _Fault:
    status: int
    error: str | None
    retry_after: int | None
    delay: float
    remaining: int
    late: float = 0.0


@dataclass
class _ViewRecord:
    view: dict[str, Any]
    source: str
    user: str | None = None
    closed: bool = False


@dataclass
class _ResponseUrl:
    url: str
    channel: str | None
    message_ts: str | None
    user: str | None
    uses: int = 0


@dataclass
class _Trigger:
    issued: float
    user: str | None
    view_id: str | None
    used: bool = False


@dataclass
class _Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


APP_TOKEN_METHODS = frozenset({"apps.connections.open"})  # called with the app-level token, not the bot's


class SlackApiFailure(Exception):
    """Raised inside a method handler to answer ``{"ok": false, "error": ...}``."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeSlack


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.server.fake._serve(self)

    def do_GET(self) -> None:
        self.server.fake._serve(self)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


class FakeSlack:
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
        self.bot_token = bot_token
        self.app_token = "xapp-test"  # the app-level token (Socket Mode's apps.connections.open)
        self.team_id = team_id
        self.app_id = app_id
        self.team_name = TEAM_NAME
        self.team_domain = TEAM_DOMAIN
        self.trigger_ttl = trigger_ttl
        self.validation_errors: list[str] = []
        self._lock = threading.RLock()
        self._calls: list[Call] = []
        self._users: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, dict[str, Any]] = {}
        self._messages: dict[tuple[str, str], dict[str, Any]] = {}
        self._ephemerals: list[dict[str, Any]] = []
        self._views: dict[str, _ViewRecord] = {}
        self._home: dict[str, str] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._triggers: dict[str, _Trigger] = {}
        self._open_dms: set[str] = set()
        self._faults: dict[str, list[_Fault]] = {}
        self._delay = 0.0
        self._delay_lifted = threading.Event()
        self._ts_seq = count(1)
        self._id_seq = count(1)
        self._channel_seq = count(1)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._methods: dict[str, Callable[[dict[str, Any], Call], dict[str, Any]]] = {
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
            "pins.add": self._pins_add,
            "reactions.add": self._reactions_add,
            "reactions.remove": self._reactions_remove,
            "reactions.get": self._reactions_get,
            "users.info": self._users_info,
            "users.list": self._users_list,
            "apps.connections.open": self._apps_connections_open,
        }
        self.add_user(ALICE, "alice", real_name="Alice Chen", tz="Asia/Shanghai", locale="zh-CN")
        self.add_user(BOB, "bob", real_name="Bob Smith", tz="America/New_York", locale="en-US")
        self.add_user(CAROL, "carol", real_name="Carol Li", tz="UTC", locale="en-US")
        self.add_user(DAVE, "dave", real_name="Dave Wang", tz="Asia/Shanghai", locale="zh-CN")
        self.add_user(BOT, "coordbot", real_name="Coordbot", tz="UTC", is_bot=True)
        self.set_channel(GENERAL, name="general")

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeSlack:
        """Listen on an ephemeral port of 127.0.0.1 in a daemon thread."""
        if self._server is not None:
            return self
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-slack", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and release the port."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The TCP port the fake listens on."""
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` without a trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """Base URL for ``WebClient(base_url=...)``, with the trailing slash."""
        return f"{self.base_url}/api/"

    # ------------------------------------------------------------------ recorded calls

    def calls(self, method: str | None = None) -> list[Call]:
        """A copy of the recorded calls, optionally only those of one method."""
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until ``method`` has been answered ``count`` times; return those calls."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.calls(method)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                seen = [c.method for c in self.calls()]
                raise AssertionError(
                    f"expected {count} call(s) of {method!r} within {timeout}s, got {len(found)}; "
                    f"methods seen in order: {seen or 'none'}"
                )
            time.sleep(0.005)

    def reset(self) -> None:
        """Forget recorded calls (users, channels, messages and validation_errors stay)."""
        with self._lock:
            self._calls.clear()

    # ------------------------------------------------------------------ fault injection

    def fail(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        delay: float = 0.0,
        times: int = 1,
        late: float = 0.0,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail or slow down.

        ``status=429`` answers ``ratelimited`` with a Retry-After header (default 1 second),
        ``status>=500`` a server error, ``error="..."`` an ``ok: false`` answer, and a bare
        ``delay`` only waits before answering normally; ``late`` does the call's work at once (a message is
        posted) and waits that long before answering.
        """
        if status == 200 and error is None and delay <= 0 and late <= 0:
            raise ValueError("fail() needs a status, an error, a delay or a late answer")
        if status == 429 and retry_after is None:
            retry_after = 1
        with self._lock:
            self._faults.setdefault(method, []).append(_Fault(status, error, retry_after, delay, times, late))

    def set_delay(self, seconds: float) -> None:
        """Wait this long before answering every request; lifting the delay (0) answers those waiting at once."""
        with self._lock:
            self._delay = max(0.0, seconds)
            if self._delay == 0:
                self._delay_lifted.set()
                self._delay_lifted = threading.Event()

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            queue = self._faults.get(method)
            if not queue:
                return None
            fault = queue[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                queue.pop(0)
            return fault

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

    # ------------------------------------------------------------------ messages

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The current state of a message (text, blocks, ts, channel, ...), or None."""
        with self._lock:
            found = self._messages.get((self._dm_or_id(channel), ts))
            return copy.deepcopy(found) if found is not None else None

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """All stored messages in posting order, optionally of one channel (a user id means the DM)."""
        with self._lock:
            wanted = None if channel is None else self._dm_or_id(channel)
            found = [m for m in self._messages.values() if wanted is None or m["channel"] == wanted]
            return copy.deepcopy(sorted(found, key=lambda m: _ts_key(m["ts"])))

    def ephemerals(self, channel: str | None = None, user: str | None = None) -> list[dict[str, Any]]:
        """Ephemeral messages shown so far, optionally filtered."""
        with self._lock:
            wanted = None if channel is None else self._dm_or_id(channel)
            return copy.deepcopy(
                [
                    m
                    for m in self._ephemerals
                    if (wanted is None or m["channel"] == wanted) and (user is None or m["user"] == user)
                ]
            )

    def add_message(
        self,
        channel: str,
        text: str,
        *,
        user: str = ALICE,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> dict[str, Any]:
        """Store a message as if a person had posted it; returns it."""
        with self._lock:
            channel_id = self._dm_or_id(channel)
            message: dict[str, Any] = {
                "type": "message",
                "user": user,
                "text": text,
                "ts": self._next_ts(),
                "team": self.team_id,
            }
            if blocks is not None:
                message["blocks"] = _with_block_ids(copy.deepcopy(blocks), message["ts"])
            if thread_ts:
                self._thread_reply(channel_id, thread_ts, message)
            self._messages[(channel_id, message["ts"])] = {"channel": channel_id, **message}
            return copy.deepcopy(self._messages[(channel_id, message["ts"])])

    def apply_reaction(self, channel: str, ts: str, name: str, user: str, *, removed: bool = False) -> None:
        """Reflect a person's reaction on a stored message (no-op when the message is unknown)."""
        with self._lock:
            message = self._messages.get((self._dm_or_id(channel), ts))
            if message is None:
                return
            if removed:
                _remove_reaction(message, name, user)
            else:
                _add_reaction(message, name, user)

    # ------------------------------------------------------------------ views and triggers

    def new_trigger_id(self, *, user: str | None = None, view_id: str | None = None) -> str:
        """Issue a trigger_id usable once by views.open / views.push within ``trigger_ttl``."""
        with self._lock:
            trigger_id = f"{10_000_000_000 + next(self._id_seq)}.{1_000_000_001}.{uuid.uuid4().hex}"
            self._triggers[trigger_id] = _Trigger(time.time(), user, view_id)
            return trigger_id

    def view(self, view_id: str) -> dict[str, Any] | None:
        """The current JSON of a view by id, or None."""
        with self._lock:
            record = self._views.get(view_id)
            return copy.deepcopy(record.view) if record else None

    def views(self, *, open_only: bool = False) -> list[dict[str, Any]]:
        """Every modal and home view in creation order."""
        with self._lock:
            return [copy.deepcopy(r.view) for r in self._views.values() if not (open_only and r.closed)]

    def last_view(self, callback_id: str | None = None, *, open_only: bool = True) -> dict[str, Any] | None:
        """The most recently opened or pushed modal, optionally with a given callback_id."""
        with self._lock:
            for record in reversed(list(self._views.values())):
                if record.source not in ("views.open", "views.push", "response_action"):
                    continue
                if open_only and record.closed:
                    continue
                if callback_id is None or record.view.get("callback_id") == callback_id:
                    return copy.deepcopy(record.view)
            return None

    def home_view(self, user: str) -> dict[str, Any] | None:
        """The App Home view last published for ``user``, or None."""
        with self._lock:
            view_id = self._home.get(user)
            return self.view(view_id) if view_id else None

    def is_view_open(self, view_id: str) -> bool:
        """Whether a modal is still shown to the user."""
        with self._lock:
            record = self._views.get(view_id)
            return record is not None and not record.closed

    def close_view(self, view_id: str, *, clear: bool = False) -> None:
        """Close a modal, or with ``clear`` every modal of its stack."""
        with self._lock:
            record = self._views.get(view_id)
            if record is None:
                return
            root = record.view.get("root_view_id")
            for other in self._views.values():
                if other.view["id"] == view_id or (clear and other.view.get("root_view_id") == root):
                    other.closed = True

    def apply_view_submission_response(self, view_id: str, response: dict[str, Any] | None) -> None:
        """Do what Slack does with the app's answer to a view_submission."""
        action = (response or {}).get("response_action")
        if action == "errors":
            return
        if action == "clear":
            self.close_view(view_id, clear=True)
            return
        if action not in ("update", "push"):
            self.close_view(view_id)
            return
        new_view = (response or {}).get("view")
        errors = _view_errors(new_view)
        with self._lock:
            if errors:
                self.validation_errors.extend(f"response_action {action}: {e}" for e in errors)
                return
            record = self._views.get(view_id)
            if record is None:
                return
            assert isinstance(new_view, dict)
            if action == "update":
                record.view = self._view_json(
                    new_view,
                    view_id=view_id,
                    root=record.view["root_view_id"],
                    previous=record.view.get("previous_view_id"),
                )
            else:
                pushed = self._view_json(
                    new_view, view_id=self._new_view_id(), root=record.view["root_view_id"], previous=view_id
                )
                self._views[pushed["id"]] = _ViewRecord(pushed, "response_action", record.user)

    # ------------------------------------------------------------------ response URLs

    def new_response_url(
        self, *, channel: str | None = None, message_ts: str | None = None, user: str | None = None
    ) -> str:
        """A response_url; bind it to a message to let replace_original/delete_original act on it."""
        with self._lock:
            number = next(self._id_seq)
            url = f"{self.base_url}/response/{number}"
            self._response_urls[str(number)] = _ResponseUrl(url, channel, message_ts, user)
            return url

    # ------------------------------------------------------------------ HTTP plumbing

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        arrived = time.time()
        split = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        headers = dict(request.headers.items())
        if split.path.startswith("/api/"):
            answer = self._api(split.path[len("/api/") :], split.query, raw, headers, arrived)
        elif split.path.startswith("/response/"):
            answer = self._response_url(split.path[len("/response/") :], raw, headers, arrived)
        else:
            answer = _Answer(404, {"ok": False, "error": "not_found"})
        payload = json.dumps(answer.body).encode("utf-8")
        request.send_response(answer.status)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(payload)))
        for name, value in answer.headers.items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(payload)

    def _pause(self, fault: _Fault | None) -> None:
        delay, lifted = self._delay, self._delay_lifted
        if delay > 0:
            lifted.wait(delay)
        if fault is not None and fault.delay > 0:
            time.sleep(fault.delay)

    def _api(self, method: str, query: str, raw: bytes, headers: dict[str, str], arrived: float) -> _Answer:
        call = Call(method=method, params={}, headers=headers, at=arrived)
        try:
            call.params = _parse_params(query, raw, _header(headers, "Content-Type"))
        except SlackApiFailure as exc:
            return self._finish(call, _Answer(200, {"ok": False, "error": exc.error}))
        fault = self._take_fault(method)
        self._pause(fault)
        if fault is not None and (fault.status != 200 or fault.error):
            return self._finish(call, _fault_answer(fault))
        handler = self._methods.get(method)
        if handler is None:
            unknown = {"ok": False, "error": "unknown_method", "req_method": method}
            return self._finish(call, _Answer(200, unknown))
        token = _bearer(headers) or call.params.get("token")
        if not token:
            return self._finish(call, _Answer(200, {"ok": False, "error": "not_authed"}))
        if token != (self.app_token if method in APP_TOKEN_METHODS else self.bot_token):
            return self._finish(call, _Answer(200, {"ok": False, "error": "invalid_auth"}))
        try:
            with self._lock:
                body = {"ok": True, **handler(call.params, call)}
        except SlackApiFailure as exc:
            body = {"ok": False, "error": exc.error, **exc.extra}
        except Exception as exc:
            return self._finish(
                call, _Answer(500, {"ok": False, "error": "fatal_error", "detail": f"{type(exc).__name__}: {exc}"})
            )
        if fault is not None and fault.late > 0:
            time.sleep(fault.late)
        return self._finish(call, _Answer(200, body))

    def _finish(self, call: Call, answer: _Answer) -> _Answer:
        call.status = answer.status
        call.response = answer.body
        if not answer.body.get("ok", True) or answer.status != 200:
            problems = answer.body.get("errors") or [answer.body.get("detail")]
            detail = "; ".join(str(p) for p in problems if p)
            error = str(answer.body.get("error", f"http_{answer.status}"))
            call.error = f"{error}: {detail}" if detail else error
        with self._lock:
            self._calls.append(call)
        return answer

    def _response_url(self, key: str, raw: bytes, headers: dict[str, str], arrived: float) -> _Answer:
        call = Call(method="response_url", params={}, headers=headers, at=arrived)
        try:
            params = _parse_params("", raw, _header(headers, "Content-Type"))
        except SlackApiFailure as exc:
            return self._finish(call, _Answer(400, {"ok": False, "error": exc.error}))
        if isinstance(params.get("payload"), str):
            params = json.loads(params["payload"])
        with self._lock:
            target = self._response_urls.get(key)
            call.params = {**params, "_url": target.url if target else f"{self.base_url}/response/{key}"}
        fault = self._take_fault("response_url")
        self._pause(fault)
        if fault is not None and (fault.status != 200 or fault.error):
            return self._finish(call, _fault_answer(fault))
        if target is None:
            return self._finish(call, _Answer(404, {"ok": False, "error": "no_service"}))
        with self._lock:
            target.uses += 1
            if target.uses > RESPONSE_URL_MAX_USES:
                return self._finish(call, _Answer(404, {"ok": False, "error": "used_url"}))
            try:
                self._apply_response(params, target)
            except SlackApiFailure as exc:
                return self._finish(call, _Answer(400, {"ok": False, "error": exc.error, **exc.extra}))
        return self._finish(call, _Answer(200, {"ok": True}))

    def _apply_response(self, params: dict[str, Any], target: _ResponseUrl) -> None:
        if "blocks" in params and params["blocks"] is not None:
            self._check_message_blocks("response_url", params["blocks"])
        original = self._messages.get((target.channel or "", target.message_ts or ""))
        if _truthy(params.get("delete_original")):
            if original is None:
                raise SlackApiFailure("message_not_found")
            del self._messages[(original["channel"], original["ts"])]
            return
        if _truthy(params.get("replace_original")):
            if original is None:
                raise SlackApiFailure("message_not_found")
            self._replace_content(original, params)
            return
        if target.channel is None:
            return
        if params.get("response_type") == "in_channel":
            self._store_bot_message(target.channel, params)
        else:
            self._ephemerals.append(
                {
                    "channel": target.channel,
                    "user": target.user,
                    "text": params.get("text", ""),
                    "blocks": copy.deepcopy(params.get("blocks")),
                    "ts": self._next_ts(),
                    "thread_ts": params.get("thread_ts"),
                }
            )

    # ------------------------------------------------------------------ helpers

    def _next_ts(self) -> str:
        micros = next(self._ts_seq) * 100
        return f"{_TS_BASE + micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _new_view_id(self) -> str:
        return f"V{next(self._id_seq):08d}"

    def _dm_or_id(self, channel: str) -> str:
        return "D" + channel if channel[:1] in ("U", "W") else channel

    def _require(self, params: dict[str, Any], *names: str) -> None:
        missing = [n for n in names if params.get(n) in (None, "")]
        if missing:
            raise SlackApiFailure(
                "invalid_arguments",
                response_metadata={"messages": [f"[ERROR] missing required field: {n}" for n in missing]},
            )

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

    def _invalid(self, method: str, errors: list[str]) -> SlackApiFailure:
        self.validation_errors.extend(f"{method}: {e}" for e in errors)
        return SlackApiFailure(
            "invalid_blocks", errors=errors, response_metadata={"messages": [f"[ERROR] {e}" for e in errors]}
        )

    def _check_message_blocks(self, method: str, blocks: Any) -> None:
        errors = _block_errors(blocks, limit=MAX_MESSAGE_BLOCKS, pointer="/blocks")
        if errors:
            raise self._invalid(method, errors)

    def _check_text(self, method: str, params: dict[str, Any]) -> None:
        text = params.get("text")
        if isinstance(text, str) and len(text) > MAX_TEXT_LENGTH:
            self.validation_errors.append(f"{method}: text is {len(text)} characters (max {MAX_TEXT_LENGTH})")
            raise SlackApiFailure("msg_too_long")

    def _store_bot_message(self, channel_id: str, params: dict[str, Any]) -> dict[str, Any]:
        ts = self._next_ts()
        message: dict[str, Any] = {
            "user": BOT,
            "type": "message",
            "ts": ts,
            "bot_id": BOT_ID,
            "app_id": self.app_id,
            "text": params.get("text") or "",
            "team": self.team_id,
            "bot_profile": {
                "id": BOT_ID,
                "app_id": self.app_id,
                "name": "coordbot",
                "deleted": False,
                "team_id": self.team_id,
            },
        }
        for key in ("blocks", "attachments", "metadata"):
            if params.get(key) is not None:
                message[key] = copy.deepcopy(params[key])
        if "blocks" in message:
            message["blocks"] = _with_block_ids(message["blocks"], ts)
        if params.get("thread_ts"):
            self._thread_reply(channel_id, str(params["thread_ts"]), message)
        self._messages[(channel_id, ts)] = {"channel": channel_id, **message}
        return message

    def _thread_reply(self, channel_id: str, thread_ts: str, message: dict[str, Any]) -> None:
        message["thread_ts"] = thread_ts
        parent = self._messages.get((channel_id, thread_ts))
        if parent is not None:
            parent["thread_ts"] = thread_ts
            parent["reply_count"] = parent.get("reply_count", 0) + 1
            parent["latest_reply"] = message["ts"]

    def _replace_content(self, message: dict[str, Any], params: dict[str, Any]) -> None:
        if "text" in params:
            message["text"] = params.get("text") or ""
        for key in ("blocks", "attachments", "metadata"):
            if key in params:
                if params[key]:
                    message[key] = copy.deepcopy(params[key])
                else:
                    message.pop(key, None)
        if message.get("blocks"):
            message["blocks"] = _with_block_ids(message["blocks"], message["ts"])
        message["edited"] = {"user": BOT, "ts": self._next_ts()}

    def _existing_message(self, channel: Any, ts: Any) -> dict[str, Any]:
        channel_id = self._resolve_channel(channel)
        message = self._messages.get((channel_id, str(ts or "")))
        if message is None:
            raise SlackApiFailure("message_not_found")
        return message

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

    def _use_trigger(self, params: dict[str, Any], call: Call) -> _Trigger:
        self._require(params, "trigger_id")
        trigger = self._triggers.get(str(params["trigger_id"]))
        if trigger is None:
            raise SlackApiFailure("invalid_trigger_id")
        if trigger.used:
            raise SlackApiFailure("trigger_exchanged")
        if self.trigger_ttl is not None and call.at - trigger.issued > self.trigger_ttl:
            raise SlackApiFailure("expired_trigger_id")
        trigger.used = True
        return trigger

    def _checked_view(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self._require(params, "view")
        errors = _view_errors(params["view"])
        if errors:
            raise self._invalid(method, errors)
        return dict(params["view"])

    def _view_json(
        self, view: dict[str, Any], *, view_id: str, root: str | None, previous: str | None
    ) -> dict[str, Any]:
        result: dict[str, Any] = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view["type"],
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
            "title": None,
            "clear_on_close": False,
            "notify_on_close": False,
            "close": None,
            "submit": None,
            "previous_view_id": previous,
            "root_view_id": root or view_id,
            "app_id": self.app_id,
            "external_id": "",
            "app_installed_team_id": self.team_id,
            "bot_id": BOT_ID,
        }
        for key, value in view.items():
            if key not in ("id", "hash", "state", "root_view_id", "previous_view_id", "team_id"):
                result[key] = copy.deepcopy(value)
        result["blocks"] = _with_block_ids(result["blocks"], view_id)
        return result

    def _find_view(self, params: dict[str, Any]) -> _ViewRecord:
        if params.get("view_id"):
            record = self._views.get(str(params["view_id"]))
        elif params.get("external_id"):
            record = next((r for r in self._views.values() if r.view.get("external_id") == params["external_id"]), None)
        else:
            raise SlackApiFailure("invalid_arguments")
        if record is None:
            raise SlackApiFailure("not_found")
        return record

    # ------------------------------------------------------------------ methods

    def _auth_test(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": "coordbot",
            "team_id": self.team_id,
            "user_id": BOT,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _team_info(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        return {
            "team": {
                "id": self.team_id,
                "name": self.team_name,
                "url": f"https://{self.team_domain}.slack.com/",
                "domain": self.team_domain,
                "email_domain": "",
                "is_verified": False,
                "icon": {"image_default": True},
            }
        }

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
        self._require(params, "user")
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

    def _views_open(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        view = self._checked_view("views.open", params)
        trigger = self._use_trigger(params, call)
        stored = self._view_json(view, view_id=self._new_view_id(), root=None, previous=None)
        self._views[stored["id"]] = _ViewRecord(stored, "views.open", trigger.user)
        return {"view": copy.deepcopy(stored)}

    def _views_push(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        view = self._checked_view("views.push", params)
        trigger = self._use_trigger(params, call)
        parent = self._views.get(trigger.view_id or "")
        if parent is None:
            parent_view = self.last_view()
            parent = self._views.get(parent_view["id"]) if parent_view else None
        if parent is None:
            raise SlackApiFailure("not_found")
        depth, cursor = 1, parent.view
        while cursor.get("previous_view_id") and cursor["previous_view_id"] in self._views:
            depth += 1
            cursor = self._views[cursor["previous_view_id"]].view
        if depth >= 3:
            raise SlackApiFailure("push_limit_reached")
        stored = self._view_json(
            view, view_id=self._new_view_id(), root=parent.view["root_view_id"], previous=parent.view["id"]
        )
        self._views[stored["id"]] = _ViewRecord(stored, "views.push", trigger.user)
        return {"view": copy.deepcopy(stored)}

    def _views_update(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        view = self._checked_view("views.update", params)
        record = self._find_view(params)
        if params.get("hash") and params["hash"] != record.view["hash"]:
            raise SlackApiFailure("hash_conflict")
        record.view = self._view_json(
            view,
            view_id=record.view["id"],
            root=record.view["root_view_id"],
            previous=record.view.get("previous_view_id"),
        )
        return {"view": copy.deepcopy(record.view)}

    def _views_publish(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        self._require(params, "user_id")
        user = str(params["user_id"])
        if user not in self._users:
            raise SlackApiFailure("user_not_found")
        view = self._checked_view("views.publish", params)
        if view.get("type") != "home":
            raise self._invalid("views.publish", ["must be home [json-pointer:/view/type]"])
        view_id = self._home.get(user)
        if view_id and params.get("hash") and params["hash"] != self._views[view_id].view["hash"]:
            raise SlackApiFailure("hash_conflict")
        view_id = view_id or self._new_view_id()
        stored = self._view_json(view, view_id=view_id, root=None, previous=None)
        self._views[view_id] = _ViewRecord(stored, "views.publish", user)
        self._home[user] = view_id
        return {"view": copy.deepcopy(stored)}

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
        self._require(params, "channel")
        self._visible_to_bot(str(params["channel"]))
        channel = self._channel_json(str(params["channel"]))
        if _truthy(params.get("include_num_members")) and not channel.get("is_im"):
            channel["num_members"] = len(self._members(channel["id"]))
        return {"channel": channel}

    def _conversations_members(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        self._require(params, "channel")
        channel_id = str(params["channel"])
        self._visible_to_bot(channel_id)
        self._channel_json(channel_id)
        page, next_cursor = self._page(self._members(channel_id), params, "member")
        return {"members": page, "response_metadata": {"next_cursor": next_cursor}}

    def _readable_messages(self, params: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        """The channel named by ``params`` and its stored messages, if the bot may read them."""
        self._require(params, "channel")
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
        self._require(params, "ts")
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

    def _apps_connections_open(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        # a WebSocket URL nobody listens on: the fake answers the Web API only
        return {"url": f"wss://127.0.0.1:1/link/?ticket={uuid.uuid4()}&app_id={self.app_id}"}

    def _conversations_join(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        self._require(params, "channel")
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
        self._require(params, "channel", "users")
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

    def _pins_add(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        message = self._existing_message(params.get("channel"), params.get("timestamp"))
        pinned = message.setdefault("pinned_to", [])
        if message["channel"] in pinned:
            raise SlackApiFailure("already_pinned")
        pinned.append(message["channel"])
        return {}

    def _reactions_add(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        self._require(params, "name")
        message = self._existing_message(params.get("channel"), params.get("timestamp"))
        if not _add_reaction(message, str(params["name"]).strip(":"), BOT):
            raise SlackApiFailure("already_reacted")
        return {}

    def _reactions_remove(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        self._require(params, "name")
        message = self._existing_message(params.get("channel"), params.get("timestamp"))
        if not _remove_reaction(message, str(params["name"]).strip(":"), BOT):
            raise SlackApiFailure("no_reaction")
        return {}

    def _reactions_get(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        message = self._existing_message(params.get("channel"), params.get("timestamp"))
        shown = copy.deepcopy({k: v for k, v in message.items() if k != "channel"})
        return {"type": "message", "channel": message["channel"], "message": shown}

    def _users_info(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        self._require(params, "user")
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


# ---------------------------------------------------------------------- module helpers


def _header(headers: dict[str, str], name: str) -> str:
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), "")


def _bearer(headers: dict[str, str]) -> str | None:
    value = _header(headers, "Authorization")
    return value[len("Bearer ") :].strip() if value.startswith("Bearer ") else None


def _truthy(value: Any) -> bool:
    return value is True or value == 1 or (isinstance(value, str) and value.lower() in ("1", "true"))


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, fraction = ts.partition(".")
    return int(seconds), int(fraction or 0)


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


def _name_from_id(channel_id: str) -> str:
    return channel_id.lower().removeprefix("c_").removeprefix("g_")


def _normalize(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _id_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [v.strip() for v in str(value or "").split(",") if v.strip()]


def _fault_answer(fault: _Fault) -> _Answer:
    if fault.status == 429:
        return _Answer(
            429,
            {"ok": False, "error": fault.error or "ratelimited"},
            {"Retry-After": str(fault.retry_after if fault.retry_after is not None else 1)},
        )
    if fault.status >= 500:
        return _Answer(fault.status, {"ok": False, "error": fault.error or "internal_error"})
    return _Answer(fault.status, {"ok": False, "error": fault.error or f"http_{fault.status}"})


def _parse_params(query: str, raw: bytes, content_type: str) -> dict[str, Any]:
    """Merge query string and body (form, JSON or multipart) into one dict."""
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    kind = content_type.split(";")[0].strip().lower()
    if raw:
        if kind == "application/json":
            try:
                body = json.loads(raw.decode("utf-8"))
            except ValueError as exc:
                raise SlackApiFailure("invalid_json") from exc
            if not isinstance(body, dict):
                raise SlackApiFailure("invalid_json")
            params.update(body)
        elif kind == "multipart/form-data":
            message = BytesParser(policy=policy.default).parsebytes(
                b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw
            )
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if not isinstance(name, str):
                    continue
                data = part.get_payload(decode=True)
                data = data if isinstance(data, bytes) else b""
                params[name] = data if part.get_filename() else data.decode("utf-8")
        else:
            params.update(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    for key in JSON_PARAMS:
        value = params.get(key)
        if isinstance(value, str) and value.lstrip().startswith(("[", "{")):
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params


def _short_id(seed: str) -> str:
    digest = hashlib.sha1(seed.encode()).digest()
    return base64.b64encode(digest).decode("ascii").replace("+", "").replace("/", "")[:5]


def _with_block_ids(blocks: Any, seed: str) -> Any:
    """Add the block_id / action_id Slack generates when a block or element has none."""
    if not isinstance(blocks, list):
        return blocks
    for index, block in enumerate(blocks):
        if not isinstance(block, dict):
            continue
        block.setdefault("block_id", _short_id(f"{seed}:{index}"))
        for pos, element in enumerate(_interactive_elements(block)):
            if element.get("type") != "image":
                element.setdefault("action_id", _short_id(f"{seed}:{index}:{pos}"))
    return blocks


def _interactive_elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for key in ("accessory", "element"):
        if isinstance(block.get(key), dict):
            found.append(block[key])
    if block.get("type") == "actions":
        found.extend(e for e in block.get("elements") or [] if isinstance(e, dict))
    return found


def _add_reaction(message: dict[str, Any], name: str, user: str) -> bool:
    reactions = message.setdefault("reactions", [])
    entry = next((r for r in reactions if r["name"] == name), None)
    if entry is None:
        reactions.append({"name": name, "users": [user], "count": 1})
        return True
    if user in entry["users"]:
        return False
    entry["users"].append(user)
    entry["count"] = len(entry["users"])
    return True


def _remove_reaction(message: dict[str, Any], name: str, user: str) -> bool:
    reactions = message.get("reactions", [])
    entry = next((r for r in reactions if r["name"] == name), None)
    if entry is None or user not in entry["users"]:
        return False
    entry["users"].remove(user)
    entry["count"] = len(entry["users"])
    if not entry["users"]:
        reactions.remove(entry)
    if not reactions:
        message.pop("reactions", None)
    return True


def _block_errors(blocks: Any, *, limit: int, pointer: str) -> list[str]:
    """Slack-style error strings for a list of Block Kit blocks (empty when valid)."""
    if not isinstance(blocks, list):
        return [f"must be an array [json-pointer:{pointer}]"]
    errors: list[str] = []
    if len(blocks) > limit:
        errors.append(f"no more than {limit} items allowed [json-pointer:{pointer}]")
    seen: set[str] = set()
    for index, block in enumerate(blocks):
        where = f"{pointer}/{index}"
        if not isinstance(block, dict):
            errors.append(f"must provide an object [json-pointer:{where}]")
            continue
        try:
            parsed = Block.parse(block)
            if parsed is None:
                errors.append(f"unsupported block type {block.get('type')!r} [json-pointer:{where}/type]")
                continue
            rendered = parsed.to_dict()
        except Exception as exc:
            errors.append(f"{exc} [json-pointer:{where}]")
            continue
        errors.extend(_none_errors(rendered, where))
        errors.extend(_structure_errors(block, where))
        block_id = block.get("block_id")
        if isinstance(block_id, str):
            if block_id in seen:
                errors.append(f"duplicate block_id {block_id!r} [json-pointer:{where}/block_id]")
            seen.add(block_id)
    return errors


def _none_errors(node: Any, where: str) -> list[str]:
    """Elements the SDK could not parse show up as None in its output."""
    if isinstance(node, list):
        return [
            e
            for i, item in enumerate(node)
            for e in (
                [f"unsupported element [json-pointer:{where}/{i}]"]
                if item is None
                else _none_errors(item, f"{where}/{i}")
            )
        ]
    if isinstance(node, dict):
        return [e for key, value in node.items() for e in _none_errors(value, f"{where}/{key}")]
    return []


def _structure_errors(block: dict[str, Any], where: str) -> list[str]:
    """Checks Slack enforces that the SDK models let through."""
    kind = block.get("type")
    if kind not in _CHECKED_BLOCKS:
        return []
    errors: list[str] = []
    if kind in ("actions", "context") and not block.get("elements"):
        errors.append(f"must provide at least 1 items [json-pointer:{where}/elements]")
    _walk(block, where, errors, plain_options=False)
    action_ids = [e.get("action_id") for e in _interactive_elements(block) if e.get("action_id")]
    for action_id in {a for a in action_ids if action_ids.count(a) > 1}:
        errors.append(f"duplicate action_id {action_id!r} [json-pointer:{where}]")
    return errors


def _walk(node: Any, where: str, errors: list[str], *, plain_options: bool) -> None:
    if isinstance(node, list):
        for index, item in enumerate(node):
            _walk(item, f"{where}/{index}", errors, plain_options=plain_options)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind in _TEXT_TYPES:
        _check_text_object(node, where, errors, plain=False)
        return
    if kind == "rich_text":
        return
    for key, value in node.items():
        at = f"{where}/{key}"
        if key in _TEXT_FIELDS:
            if key == "confirm" and isinstance(value, dict) and "type" not in value:
                _walk(value, at, errors, plain_options=False)
                continue
            plain_text_owner = kind in _PLAIN_TEXT_OWNERS or plain_options
            plain = key in _PLAIN_ONLY_FIELDS or (key == "text" and plain_text_owner)
            _check_text_object(value, at, errors, plain=plain)
        elif key == "fields" and isinstance(value, list):
            for index, item in enumerate(value):
                _check_text_object(item, f"{at}/{index}", errors, plain=False)
        elif isinstance(value, (dict, list)):
            select = isinstance(kind, str) and (kind.endswith("select") or kind == "overflow")
            _walk(value, at, errors, plain_options=plain_options or (select and key in _OPTION_KEYS))


def _check_text_object(value: Any, where: str, errors: list[str], *, plain: bool) -> None:
    if not isinstance(value, dict):
        errors.append(f"must provide an object [json-pointer:{where}]")
    elif value.get("type") not in _TEXT_TYPES:
        errors.append(f"must be a valid enum value [json-pointer:{where}/type]")
    elif plain and value["type"] != "plain_text":
        errors.append(f"must be plain_text [json-pointer:{where}/type]")
    elif not isinstance(value.get("text"), str) or not value["text"]:
        errors.append(f"must be more than 0 characters [json-pointer:{where}/text]")


def _view_errors(view: Any) -> list[str]:
    """Slack-style error strings for a modal or home view (empty when valid)."""
    if not isinstance(view, dict):
        return ["must provide an object [json-pointer:/view]"]
    errors: list[str] = []
    if view.get("type") not in ("modal", "home"):
        errors.append("must be a valid enum value [json-pointer:/view/type]")
    try:
        View(**view).to_dict()
    except Exception as exc:
        errors.append(f"{exc} [json-pointer:/view]")
    errors.extend(_block_errors(view.get("blocks"), limit=MAX_VIEW_BLOCKS, pointer="/view/blocks"))
    if view.get("type") == "modal":
        if "title" not in view:
            errors.append("missing required field: title [json-pointer:/view]")
        for key in ("title", "submit", "close"):
            if key in view and view[key] is not None:
                _check_text_object(view[key], f"/view/{key}", errors, plain=True)
        blocks: list[Any] = view["blocks"] if isinstance(view.get("blocks"), list) else []
        if not view.get("submit") and any(isinstance(b, dict) and b.get("type") == "input" for b in blocks):
            errors.append("must provide submit if blocks contain input [json-pointer:/view/submit]")
    return list(dict.fromkeys(errors))
