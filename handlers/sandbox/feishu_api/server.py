"""The fake served over HTTP: lifecycle, routing, tenant tokens, every call recorded, injected faults."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import parse_qsl, unquote, urlsplit

from handlers.sandbox.feishu_api.calls import Call, FeishuApiFailure, Handler, _hex, _matches
from handlers.sandbox.feishu_api.multipart import _multipart, _utf8
from handlers.sandbox.feishu_api.workspace import Workspace
from handlers.sandbox.recorded import CallLog

if TYPE_CHECKING:
    from handlers.sandbox.feishu_ws import FakeLongConnection

RATE_LIMITED = 99991400
TOKEN_MISSING = 99991661
TOKEN_INVALID = 99991663
TOKEN_TTL = 7200
TOKENLESS = frozenset(  # the calls that get a token (or the long connection's endpoint) carry none
    {
        "auth.tenant_access_token",
        "auth.app_access_token",
        "auth.isv_tenant_access_token",
        "auth.app_ticket.resend",
        "ws.endpoint",
    }
)
WS_ENDPOINT = "/callback/ws/endpoint"  # lark_oapi.ws.const.GEN_ENDPOINT_URI: where the long connection starts


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


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FeishuServer

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


class FeishuServer(CallLog[Call], Workspace):
    """Serves the workspace on 127.0.0.1: ``_routes`` names the handler of each endpoint (verb and path)."""

    def __init__(self, *, app_id: str, app_secret: str, tenant_key: str) -> None:
        super().__init__(app_id=app_id, app_secret=app_secret, tenant_key=tenant_key)
        self._calls: list[Call] = []
        self._faults: list[_Fault] = []
        self._generation = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._routes: list[tuple[str, re.Pattern[str], str, Handler]] = []
        self._then: dict[int, Callable[[], None]] = {}  # id(call) -> what to do once its answer is sent

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

    # ------------------------------------------------------------------ tenant tokens

    def _auth_tenant_access_token(self, call: Call, params: dict[str, str]) -> dict[str, Any]:
        body = call.body or {}
        if body.get("app_id") != self.app_id:
            raise FeishuApiFailure(10003, "invalid param")
        if body.get("app_secret") != self.app_secret:
            raise FeishuApiFailure(10014, "app secret invalid")
        return {"code": 0, "msg": "ok", "tenant_access_token": self.token, "expire": TOKEN_TTL}

    def expire_tokens(self) -> None:
        """Invalidate every access token issued so far, tenant and app ones (the next calls get 99991663)."""
        with self._lock:
            self._generation += 1

    @property
    def token(self) -> str:
        """The custom app's tenant_access_token currently valid."""
        digest = _hex("token", self.app_id, self.app_secret, str(self._generation), length=38)
        return f"t-g{digest}"

    def _tenant_of(self, token: str) -> str | None:
        """The tenant whose valid tenant_access_token this is (None when it is no valid one)."""
        return self.tenant_key if token == self.token else None

    # ------------------------------------------------------------------ recorded calls

    def _is(self, call: Call, which: str) -> bool:
        """An endpoint's name (``im.message.create``) or a fragment of its path."""
        return _matches(which, call.name, call.path)

    def _label(self, call: Call) -> str:
        return call.name or call.path

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
            then = self._then.pop(id(call), None)
        _send(request, answer)
        if then is not None:  # only now: the caller has its answer before what the call set off reaches it
            threading.Thread(target=then, name="fake-feishu-then", daemon=True).start()

    def _after_sending(self, call: Call, action: Callable[[], None]) -> None:
        """Run ``action`` in a thread of its own once ``call`` has been answered."""
        with self._lock:
            self._then[id(call)] = action

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
        bearer = _bearer(call.headers)
        if name not in TOKENLESS and bearer:
            call.tenant = self._tenant_of(bearer)
        fault = self._take_fault(name, call.path)
        if fault is not None:
            if fault.delay > 0:
                time.sleep(fault.delay)
            return _fault_answer(fault)
        if name not in TOKENLESS:
            if not bearer:
                return _failure(FeishuApiFailure(TOKEN_MISSING, "Missing access token for authorization.", 400))
            if call.tenant is None:
                return _failure(FeishuApiFailure(TOKEN_INVALID, "Invalid access token for authorization.", 400))
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


def _bearer(headers: dict[str, str]) -> str:
    """The token of an ``Authorization: Bearer …`` header ("" when there is none)."""
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    return value[len("Bearer ") :].strip() if value.startswith("Bearer ") else ""


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template))


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
