"""A fake Feishu (Lark) Open API served over HTTP on 127.0.0.1 that records every call.

Point lark-oapi at it with ``lark.Client.builder().domain(fake.url)``. It answers the endpoints coordbot uses
(tenant tokens, messages, replies, card patches, image uploads, chats and their members, pins, users, reactions)
with the JSON shapes and error codes Feishu gives, checks what the bot sends (a content that is a JSON string, a
text that has ``text``, a card that Feishu would render with only image keys it issued, a patch only of the bot's
own shared cards, an upload that is a multipart form of an image), and can inject faults (``fail_next``: a rate
limit with ``x-ogw-ratelimit-reset``, a server error, a non-JSON gateway page).

Seed it with ``add_user`` and ``add_chat`` (``add_user_message`` records what a person said; the driver does
that); read ``messages`` (``messages_to``, ``card_texts``), ``chats``, ``pins``, ``reactions``, ``images``
(image_key -> the uploaded bytes) and ``calls`` (``wait_for``; an upload's form parts are in ``Call.files``).
``page_size_cap`` makes lists page; ``GET /open-apis/bot/v3/info`` gives the bot's open_id.

Tokens are derived from the app's credentials, so every fake with the same app_id and secret accepts a token
lark-oapi cached from another (the SDK's token cache is process-wide); ``expire_tokens`` invalidates them.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import parse_qsl, unquote, urlsplit

if TYPE_CHECKING:
    from handlers.sandbox.feishu_ws import FakeLongConnection

RATE_LIMITED = 99991400
TOKEN_MISSING = 99991661
TOKEN_INVALID = 99991663
TOKEN_TTL = 7200
MESSAGE_UUID_TTL = 3600.0  # a message uuid deduplicates for an hour
CHAT_UUID_TTL = 10 * 3600.0  # a chat-creation uuid for ten hours
TEXT_LIMIT = 150 * 1024  # bytes of a text message's content
CARD_LIMIT = 30 * 1024  # bytes of a card's content
IMAGE_LIMIT = 10 * 1024 * 1024  # bytes of an uploaded image
IMAGE_TYPES = frozenset({"message", "avatar"})
IMAGE_INVALID_PARAM = 234001
IMAGE_TOO_LARGE = 234006
IMAGE_EMPTY = 234010
IMAGE_UNKNOWN_FORMAT = 234011
_IMAGE_MAGIC = (  # the formats the upload takes, by their first bytes (WEBP: RIFF....WEBP)
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
    (b"\x00\x00\x01\x00", "ico"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
)
MAX_IDS = 50  # user_id_list / id_list per call
MAX_UUID = 50  # characters of an idempotency key
CARD_INVALID = "Failed to create card content, ext=ErrCode: 200621; ErrMsg: parse card json err, please check card json"
CARD_IMAGE_INVALID = "Failed to create card content, ext=ErrCode: 200570; ErrMsg: card contains invalid image keys"
_TEXT_TAGS = frozenset({"plain_text", "lark_md", "markdown"})
_V2_REMOVED_TAGS = frozenset({"action", "note"})  # card 1.0 modules that schema 2.0 rejects


class FeishuApiFailure(Exception):
    """An Open API error answer: ``{"code": code, "msg": msg}`` with an HTTP status."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.status = status


@dataclass
class Call:
    """One request the fake answered; unpacks as ``(method, path, body, query)``."""

    method: str
    path: str
    body: dict[str, Any] | None
    query: dict[str, str]
    name: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 0
    response: dict[str, Any] = field(default_factory=dict)
    at: float = 0.0
    files: dict[str, bytes] = field(default_factory=dict)  # a multipart form's parts (its text ones also in body)

    def __iter__(self) -> Iterator[Any]:
        return iter((self.method, self.path, self.body, self.query))

    @property
    def code(self) -> int | None:
        """The answer's ``code`` (0: success), None when the answer was not JSON."""
        value = self.response.get("code")
        return value if isinstance(value, int) else None


@dataclass
class _Fault:
    fragment: str
    code: int
    status: int
    msg: str
    retry_after: int | None
    remaining: int
    raw: str | None
    delay: float


@dataclass
class _Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    raw: str | None = None


Handler = Callable[[Call, dict[str, str]], dict[str, Any]]

_ROUTES = [  # (verb, path, name); the name's handler is the method "_" + name with dots as underscores
    ("POST", "/open-apis/auth/v3/tenant_access_token/internal", "auth.tenant_access_token"),
    ("GET", "/open-apis/bot/v3/info", "bot.info"),
    ("POST", "/open-apis/im/v1/messages", "im.message.create"),
    ("POST", "/open-apis/im/v1/messages/{message_id}/reply", "im.message.reply"),
    ("PATCH", "/open-apis/im/v1/messages/{message_id}", "im.message.patch"),
    ("GET", "/open-apis/im/v1/messages/{message_id}", "im.message.get"),
    ("POST", "/open-apis/im/v1/messages/{message_id}/reactions", "im.message_reaction.create"),
    ("POST", "/open-apis/im/v1/images", "im.image.create"),
    ("POST", "/open-apis/im/v1/chats", "im.chat.create"),
    ("GET", "/open-apis/im/v1/chats/{chat_id}", "im.chat.get"),
    ("POST", "/open-apis/im/v1/chats/{chat_id}/members", "im.chat_members.create"),
    ("GET", "/open-apis/im/v1/chats/{chat_id}/members", "im.chat_members.get"),
    ("POST", "/open-apis/im/v1/pins", "im.pin.create"),
    ("GET", "/open-apis/im/v1/pins", "im.pin.list"),
    ("GET", "/open-apis/contact/v3/users/{user_id}", "contact.user.get"),
]
TOKENLESS = frozenset({"auth.tenant_access_token", "ws.endpoint"})
WS_ENDPOINT = "/callback/ws/endpoint"  # lark_oapi.ws.const.GEN_ENDPOINT_URI: where the long connection starts


def _hex(*parts: str, length: int = 32) -> str:
    return hashlib.sha256(":".join(parts).encode("utf-8")).hexdigest()[:length]


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


def card_texts(message: dict[str, Any]) -> list[str]:
    """Every text in a recorded message: a text message's text, or each plain_text/lark_md/markdown of a card."""
    content = message.get("content") or {}
    if message.get("msg_type") == "text":
        return [str(content.get("text", ""))]
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("tag") in _TEXT_TAGS and isinstance(node.get("content"), str):
                found.append(node["content"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(content)
    return found


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeFeishu

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away is not news."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.server.fake._serve(self)

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


class FakeFeishu:
    """A recording, fault-injecting stand-in for https://open.feishu.cn on 127.0.0.1."""

    def __init__(self, app_id: str = "cli_test", app_secret: str = "secret", tenant_key: str = "tenant_test") -> None:
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
        self._calls: list[Call] = []
        self._faults: list[_Fault] = []
        self._generation = 0
        self._seq = count(1)
        self._last_ms = 0
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._routes = [
            (verb, _pattern(path), name, getattr(self, "_" + name.replace(".", "_"))) for verb, path, name in _ROUTES
        ]

    # ------------------------------------------------------------------ lifecycle

    def start(self, port: int = 0) -> Self:
        """Listen on 127.0.0.1 (on ``port``, or an ephemeral one) in a daemon thread."""
        if self._server is None:
            server = _Server(("127.0.0.1", port), _Handler)
            server.fake = self
            self._server = server
            self._thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-feishu", daemon=True
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

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The TCP port the fake listens on."""
        if self._server is None:
            raise RuntimeError("FakeFeishu is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: the domain to give lark-oapi."""
        return f"http://127.0.0.1:{self.port}"

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
    ) -> dict[str, Any]:
        """Record a text message a person sent (the driver does this so the bot can reply to, pin or read it)."""
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
            )
            message["mentions"] = [
                {
                    "key": m["key"],
                    "id": m["id"],
                    "id_type": "open_id",
                    "name": m.get("name", ""),
                    "tenant_key": self.tenant_key,
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

    def expire_tokens(self) -> None:
        """Invalidate every tenant_access_token issued so far (the next calls get 99991663)."""
        with self._lock:
            self._generation += 1

    @property
    def token(self) -> str:
        """The tenant_access_token currently valid."""
        digest = _hex("token", self.app_id, self.app_secret, str(self._generation), length=38)
        return f"t-g{digest}"

    # ------------------------------------------------------------------ recorded calls

    def calls(self, path_or_name: str | None = None) -> list[Call]:
        """A copy of the recorded calls: all, those of one endpoint name (``im.message.create``), or of a path."""
        with self._lock:
            return [c for c in self._calls if path_or_name is None or _matches(path_or_name, c.name, c.path)]

    def wait_for(self, name: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until ``name`` (an endpoint name or path fragment) has been answered ``count`` times."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.calls(name)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                seen = [c.name or c.path for c in self.calls()]
                raise AssertionError(
                    f"expected {count} call(s) of {name!r} within {timeout}s, got {len(found)}; seen: {seen or 'none'}"
                )
            time.sleep(0.005)

    def reset(self) -> None:
        """Forget recorded calls (users, chats, messages and pins stay)."""
        with self._lock:
            self._calls.clear()

    # ------------------------------------------------------------------ faults

    def fail_next(
        self,
        path_fragment: str,
        *,
        code: int = RATE_LIMITED,
        http_status: int | None = None,
        retry_after: int | None = None,
        times: int = 1,
        msg: str | None = None,
        raw: str | None = None,
        delay: float = 0.0,
    ) -> None:
        """Make the next ``times`` calls whose name or path matches fail.

        The default is Feishu's rate limit: HTTP 429, code 99991400, ``x-ogw-ratelimit-reset`` (1 s unless
        ``retry_after``). ``raw`` answers that text instead of JSON (a gateway's page); ``delay`` waits first.
        """
        if http_status is None:
            http_status = 429 if code == RATE_LIMITED else 500 if raw is not None else 400
        if code == RATE_LIMITED and retry_after is None:
            retry_after = 1
        text = msg or ("request trigger frequency limit" if code == RATE_LIMITED else "injected failure")
        with self._lock:
            self._faults.append(_Fault(path_fragment, code, http_status, text, retry_after, times, raw, delay))

    def _take_fault(self, name: str, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if _matches(fault.fragment, name, path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    # ------------------------------------------------------------------ the long connection

    def serve_long_connection(self, ws: FakeLongConnection) -> None:
        """Answer lark's ``ws.Client`` endpoint request with ``ws``'s websocket URL and client config."""

        def endpoint(call: Call, params: dict[str, str]) -> dict[str, Any]:
            body = call.body or {}
            if (body.get("AppID"), body.get("AppSecret")) != (self.app_id, self.app_secret):
                return {"code": 403, "msg": "invalid AppID or AppSecret"}  # lark stops on a client error
            return ws.endpoint()

        with self._lock:
            self._routes.append(("POST", _pattern(WS_ENDPOINT), "ws.endpoint", endpoint))

    # ------------------------------------------------------------------ HTTP plumbing

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        split = urlsplit(request.path)
        call = Call(
            method=request.command,
            path=split.path,
            body=None,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers=dict(request.headers.items()),
            at=time.time(),
        )
        answer = self._answer(call, raw)
        call.status, call.response = answer.status, answer.body
        with self._lock:
            self._calls.append(call)
        _send(request, answer)

    def _answer(self, call: Call, raw: bytes) -> _Answer:
        route = self._route(call.method, call.path)
        if route is None:
            return _Answer(404, {}, raw="404 page not found")
        name, handler, params = route
        call.name = name
        content_type = next((v for k, v in call.headers.items() if k.lower() == "content-type"), "")
        if raw and content_type.split(";")[0].strip().lower() == "multipart/form-data":
            try:
                call.files = _multipart(raw, content_type)
            except ValueError:
                return _failure(FeishuApiFailure(9499, "Bad Request"))
            call.body = {name: text for name, data in call.files.items() if (text := _utf8(data)) is not None}
        elif raw:
            try:
                call.body = json.loads(raw)
            except ValueError:
                return _failure(FeishuApiFailure(9499, "Bad Request"))
        fault = self._take_fault(name, call.path)
        if fault is not None:
            if fault.delay > 0:
                time.sleep(fault.delay)
            return _fault_answer(fault)
        if name not in TOKENLESS:
            refused = self._refused(call.headers)
            if refused is not None:
                return _failure(refused)
        try:
            with self._lock:
                return _Answer(200, handler(call, params))
        except FeishuApiFailure as exc:
            return _failure(exc)
        except Exception as exc:  # a bug in the fake shows up as a server error the test can read
            return _failure(FeishuApiFailure(1500, f"internal error: {type(exc).__name__}: {exc}", 500))

    def _route(self, verb: str, path: str) -> tuple[str, Handler, dict[str, str]] | None:
        for method, pattern, name, handler in self._routes:
            matched = pattern.fullmatch(path)
            if method == verb and matched:
                return name, handler, {k: unquote(v) for k, v in matched.groupdict().items()}
        return None

    def _refused(self, headers: dict[str, str]) -> FeishuApiFailure | None:
        value = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        if not value.startswith("Bearer ") or not value[len("Bearer ") :].strip():
            return FeishuApiFailure(TOKEN_MISSING, "Missing access token for authorization.", 400)
        if value[len("Bearer ") :].strip() != self.token:
            return FeishuApiFailure(TOKEN_INVALID, "Invalid access token for authorization.", 400)
        return None

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
                "tenant_key": self.tenant_key,
            },
            "body": {"content": message["raw_content"]},
        }
        for key in ("root_id", "parent_id"):
            if message[key]:
                out[key] = message[key]
        if message["mentions"]:
            out["mentions"] = copy.deepcopy(message["mentions"])
        return out

    def _dedupe(self, table: dict[str, tuple[float, str]], uuid: Any, ttl: float) -> str | None:
        if not uuid:
            return None
        if len(str(uuid)) > MAX_UUID:
            raise FeishuApiFailure(99992402, f"field validation failed: uuid is longer than {MAX_UUID} characters")
        seen = table.get(str(uuid))
        return seen[1] if seen is not None and time.time() - seen[0] < ttl else None

    # ------------------------------------------------------------------ endpoints

    def _auth_tenant_access_token(self, call: Call, params: dict[str, str]) -> dict[str, Any]:
        body = call.body or {}
        if body.get("app_id") != self.app_id:
            raise FeishuApiFailure(10003, "invalid param")
        if body.get("app_secret") != self.app_secret:
            raise FeishuApiFailure(10014, "app secret invalid")
        return {"code": 0, "msg": "ok", "tenant_access_token": self.token, "expire": TOKEN_TTL}

    def _bot_info(self, call: Call, params: dict[str, str]) -> dict[str, Any]:
        bot = {
            "activate_status": 2,
            "app_name": self.bot_name,
            "avatar_url": "",
            "ip_white_list": [],
            "open_id": self.bot_open_id,
        }
        return {"code": 0, "msg": "ok", "bot": bot}

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
        message = self._store(chat["chat_id"], str(body["msg_type"]), content, body["content"], uuid=body.get("uuid"))
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

    def _im_image_create(self, call: Call, params: dict[str, str]) -> dict[str, Any]:
        if not call.files:
            raise FeishuApiFailure(IMAGE_INVALID_PARAM, "Invalid request param: a multipart form is expected.")
        if (call.body or {}).get("image_type") not in IMAGE_TYPES:
            raise FeishuApiFailure(IMAGE_INVALID_PARAM, "Invalid request param: image_type.")
        image = call.files.get("image")
        if image is None:
            raise FeishuApiFailure(IMAGE_INVALID_PARAM, "Invalid request param: image.")
        if not image:
            raise FeishuApiFailure(IMAGE_EMPTY, "File's size can't be 0.")
        if len(image) > IMAGE_LIMIT:
            raise FeishuApiFailure(IMAGE_TOO_LARGE, "The file size exceed the max value.")
        if image_format(image) is None:
            raise FeishuApiFailure(IMAGE_UNKNOWN_FORMAT, "Can't regonnize the image format.")
        h = _hex("image", self.app_id, str(next(self._seq)), length=34)  # img_v3_0238_073f1823-df2b-…-e293f18abcef
        image_key = f"img_v3_02{h[:2]}_{h[2:10]}-{h[10:14]}-{h[14:18]}-{h[18:22]}-{h[22:34]}"
        self.images[image_key] = image
        return _ok({"image_key": image_key})

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

    def _contact_user_get(self, call: Call, params: dict[str, str]) -> dict[str, Any]:
        if call.query.get("user_id_type", "open_id") != "open_id":
            raise FeishuApiFailure(99992402, "field validation failed: the fake only takes user_id_type=open_id")
        user = self.users.get(params["user_id"])
        if user is None:
            raise FeishuApiFailure(41050, "no user authority error")
        return _ok({"user": copy.deepcopy(user)})

    def _page(self, query: dict[str, str], items: list[dict[str, Any]]) -> dict[str, Any]:
        size = max(1, min(int(query.get("page_size") or 20), self.page_size_cap))
        start = int(query.get("page_token") or 0)
        more = start + size < len(items)
        page: dict[str, Any] = {"items": items[start : start + size], "has_more": more}
        if more:
            page["page_token"] = str(start + size)
        return page


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template))


def _matches(fragment: str, name: str, path: str) -> bool:
    return fragment == name or fragment in path


def _ok(data: dict[str, Any]) -> dict[str, Any]:
    return {"code": 0, "msg": "success", "data": data}


def _body(call: Call, *required: str) -> dict[str, Any]:
    body = call.body or {}
    missing = [name for name in required if name not in body or body[name] is None]
    if missing:
        raise FeishuApiFailure(99992402, f"field validation failed: {', '.join(missing)} required")
    return body


def image_format(data: bytes) -> str | None:
    """The format of an image the upload takes (png, jpeg, gif, webp, bmp, ico, tiff), by its first bytes."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return next((name for magic, name in _IMAGE_MAGIC if data.startswith(magic)), None)


def _utf8(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _multipart(raw: bytes, content_type: str) -> dict[str, bytes]:
    """A multipart/form-data body's parts by name, byte for byte (ValueError when it is not one)."""
    boundary = re.search(r'boundary="?([^";]+)"?', content_type)
    if boundary is None:
        raise ValueError("no boundary")
    chunks = raw.split(b"--" + boundary.group(1).encode("latin-1"))
    if len(chunks) < 3 or not chunks[-1].startswith(b"--"):
        raise ValueError("not a closed multipart body")
    parts: dict[str, bytes] = {}
    for chunk in chunks[1:-1]:
        head, sep, data = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not sep or not data.endswith(b"\r\n"):
            raise ValueError("a part without headers")
        disposition = next(
            (line for line in head.decode("utf-8").split("\r\n") if line.lower().startswith("content-disposition:")),
            "",
        )
        name = re.search(r'\bname="([^"]*)"', disposition)
        if name is None:
            raise ValueError("a part without a name")
        parts[name.group(1)] = data[:-2]
    return parts


def _content(msg_type: str, content: Any, *, images: Collection[str] = ()) -> dict[str, Any]:
    """Parse and check a message's ``content`` as Feishu does (a card's images among ``images``); return it
    decoded."""
    if not isinstance(content, str):
        raise FeishuApiFailure(99992402, "field validation failed: content must be a string of JSON")
    limit = CARD_LIMIT if msg_type == "interactive" else TEXT_LIMIT
    if len(content.encode("utf-8")) > limit:
        raise FeishuApiFailure(230025, "The length of the message content reaches its limit.")
    try:
        decoded = json.loads(content)
    except ValueError:
        raise FeishuApiFailure(
            230001, "Your request contains an invalid request parameter, ext=invalid content."
        ) from None
    if not isinstance(decoded, dict):
        raise FeishuApiFailure(230001, "Your request contains an invalid request parameter, ext=invalid content.")
    if msg_type == "text":
        if not isinstance(decoded.get("text"), str) or not decoded["text"].strip():
            raise FeishuApiFailure(230001, "Your request contains an invalid request parameter, ext=text is empty.")
    elif msg_type == "interactive":
        _check_card(decoded, images)
    elif msg_type != "post":
        raise FeishuApiFailure(
            230001,
            f"Your request contains an invalid request parameter, ext=msg_type {msg_type} "
            "is not supported by the fake.",
        )
    return decoded


def _check_card(card: dict[str, Any], images: Collection[str] = ()) -> None:
    if card.get("type") == "template":
        if not (card.get("data") or {}).get("template_id"):
            raise FeishuApiFailure(230099, CARD_INVALID)
        return
    schema = card.get("schema")
    if schema == "2.0":
        body = card.get("body")
        if "elements" in card or not isinstance(body, dict) or not isinstance(body.get("elements"), list):
            raise FeishuApiFailure(230099, f"{CARD_INVALID}: a schema 2.0 card keeps its elements in body.elements")
        elements = body["elements"]
    elif schema is not None:
        raise FeishuApiFailure(230099, f"{CARD_INVALID}: unknown schema {schema!r}")
    elif isinstance(card.get("elements"), list):
        elements = card["elements"]
    elif isinstance(card.get("i18n_elements"), dict):
        elements = [e for locale in card["i18n_elements"].values() for e in locale]
    else:
        raise FeishuApiFailure(230099, f"{CARD_INVALID}: a card needs elements (or schema 2.0 and body.elements)")
    _check_elements(elements, v2=schema == "2.0", images=images)


def _check_elements(elements: Any, *, v2: bool, images: Collection[str]) -> None:
    if not isinstance(elements, list):
        raise FeishuApiFailure(230099, CARD_INVALID)
    for element in elements:
        if not isinstance(element, dict) or not isinstance(element.get("tag"), str):
            raise FeishuApiFailure(230099, f"{CARD_INVALID}: every element needs a tag")
        if v2 and element["tag"] in _V2_REMOVED_TAGS:
            raise FeishuApiFailure(
                230099,
                f"Failed to create card content, ext=ErrCode: 200861; ErrMsg: cards of schema V2 no longer "
                f"support this capability; ErrorValue: {element['tag']}",
            )
        if element["tag"] == "img":
            keys = [element.get("img_key")]
        elif element["tag"] == "img_combination":
            keys = [i.get("img_key") if isinstance(i, dict) else None for i in element.get("img_list") or [None]]
        else:
            keys = []
        for image_key in keys:
            if not isinstance(image_key, str) or image_key not in images:
                raise FeishuApiFailure(230099, f"{CARD_IMAGE_INVALID}; ErrorValue: image key {image_key}")
        for key in ("elements", "columns", "actions"):
            if key in element:
                _check_elements(element[key], v2=v2, images=images)


def _shared(card: dict[str, Any]) -> bool:
    """A shared card: schema 2.0 cards are unless config.update_multi is false; 1.0 cards must say true."""
    config = card.get("config") or {}
    if card.get("type") == "template" or card.get("schema") == "2.0":
        return config.get("update_multi", True) is not False
    return config.get("update_multi") is True


def _failure(exc: FeishuApiFailure) -> _Answer:
    log_id = _hex("log", str(time.time_ns()), length=34).upper()
    body = {"code": exc.code, "msg": exc.msg, "error": {"log_id": log_id}}
    return _Answer(exc.status, body, {"X-Tt-Logid": log_id})


def _fault_answer(fault: _Fault) -> _Answer:
    if fault.raw is not None:
        return _Answer(fault.status, {}, raw=fault.raw)
    answer = _failure(FeishuApiFailure(fault.code, fault.msg, fault.status))
    if fault.retry_after is not None:
        answer.headers["x-ogw-ratelimit-reset"] = str(fault.retry_after)
        answer.headers["x-ogw-ratelimit-limit"] = "50"
    return answer


def _send(request: BaseHTTPRequestHandler, answer: _Answer) -> None:
    if answer.raw is not None:
        payload, content_type = answer.raw.encode("utf-8"), "text/plain; charset=utf-8"
    else:
        payload = json.dumps(answer.body, ensure_ascii=False).encode("utf-8")
        content_type = "application/json; charset=utf-8"
    request.send_response(answer.status)
    request.send_header("Content-Type", content_type)
    request.send_header("Content-Length", str(len(payload)))
    for name, value in answer.headers.items():
        request.send_header(name, value)
    request.end_headers()
    request.wfile.write(payload)
