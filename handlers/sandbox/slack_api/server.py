"""The fake served over HTTP: lifecycle, every call recorded, injected faults and delays, response URLs."""

from __future__ import annotations

import copy
import json
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol, Self
from urllib.parse import SplitResult, urlsplit

from handlers.sandbox.recorded import CallLog
from handlers.sandbox.slack_api.calls import Call, MethodHandler, SlackApiFailure, _parse_params, _truthy
from handlers.sandbox.slack_api.views import Views

RESPONSE_URL_MAX_USES = 5
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})  # called with the app-level token, not the bot's


@dataclass
class _Fault:
    status: int
    error: str | None
    retry_after: int | None
    delay: float
    remaining: int
    late: float = 0.0


@dataclass
class _ResponseUrl:
    url: str
    channel: str | None
    message_ts: str | None
    user: str | None
    uses: int = 0


@dataclass
class _Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # sent as is, in place of the JSON body
    content_type: str = "application/json; charset=utf-8"


class _Serving(Protocol):
    def _serve(self, request: BaseHTTPRequestHandler) -> None: ...


class _Host(Protocol):
    """What serves fakes that do not listen themselves (FakeSlackCloud): its port, and which tokens they accept."""

    @property
    def port(self) -> int: ...

    def refused(self, fake: WebApiServer, method: str, token: str) -> str | None: ...


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: _Serving

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (a closed browser tab, a timed-out poll) is not news; anything else is."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.server.fake._serve(self)

    def do_GET(self) -> None:
        self.server.fake._serve(self)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


class Listener:
    """A stdlib HTTP server on 127.0.0.1 in a daemon thread, handing each request to `_serve`."""

    _server: _Server | None = None
    _thread: threading.Thread | None = None

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        raise NotImplementedError

    def _listen(self, port: int, *, name: str) -> None:
        if self._server is not None:
            return
        server = _Server(("127.0.0.1", port), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name=name, daemon=True
        )
        self._thread.start()

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

    def start(self, port: int = 0) -> Self:
        """Listen on 127.0.0.1 (on `port`, or an ephemeral one)."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _listening_port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return int(self._server.server_address[1])

    @property
    def port(self) -> int:
        """The TCP port it listens on."""
        return self._listening_port()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` without a trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """Base URL for ``WebClient(base_url=...)``, with the trailing slash."""
        return f"{self.base_url}/api/"


class WebApiServer(CallLog[Call], Listener, Views):
    """Serves the workspace, its messages and views on 127.0.0.1; ``_methods`` names the handler of each method."""

    _methods: dict[str, MethodHandler]

    def __init__(self, *, bot_token: str, team_id: str, app_id: str, trigger_ttl: float | None) -> None:
        super().__init__(team_id=team_id, app_id=app_id, trigger_ttl=trigger_ttl)
        self.bot_token = bot_token
        self.app_token = "xapp-test"  # the app-level token (Socket Mode's apps.connections.open)
        self._calls: list[Call] = []
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._faults: dict[str, list[_Fault]] = {}
        self._delay = 0.0
        self._delay_lifted = threading.Event()
        self._host: _Host | None = None  # set when served by a FakeSlackCloud, which then listens and checks tokens

    # ------------------------------------------------------------------ lifecycle

    def start(self, port: int = 0) -> Self:
        """Listen on 127.0.0.1 (on `port`, or an ephemeral one) in a daemon thread; a hosted fake does not."""
        if self._host is None:
            self._listen(port, name="fake-slack")
        return self

    @property
    def port(self) -> int:
        """The TCP port the fake listens on (its host's, when hosted)."""
        return self._host.port if self._host is not None else self._listening_port()

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
        split, raw, headers = _read(request)
        if split.path.startswith("/api/"):
            answer = self._api(split.path[len("/api/") :], split.query, raw, headers, arrived)
        elif split.path.startswith("/response/"):
            answer = self._response_url(split.path[len("/response/") :], raw, headers, arrived)
        else:
            answer = self._other(request.command, split.path, split.query, raw, headers) or _Answer(
                404, {"ok": False, "error": "not_found"}
            )
        _send(request, answer)

    def _other(self, verb: str, path: str, query: str, raw: bytes, headers: dict[str, str]) -> _Answer | None:
        """Paths beside the Web API and response URLs (the sandbox's page); None: not found."""
        return None

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
        refused = self._refused(method, str(token))
        if refused:
            return self._finish(call, _Answer(200, {"ok": False, "error": refused}))
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

    def _refused(self, method: str, token: str) -> str | None:
        """The error a call with ``token`` gets (None: accepted); a hosted fake's host decides."""
        if self._host is not None:
            return self._host.refused(self, method, token)
        return None if token == (self.app_token if method in APP_TOKEN_METHODS else self.bot_token) else "invalid_auth"

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


def _read(request: BaseHTTPRequestHandler) -> tuple[SplitResult, bytes, dict[str, str]]:
    """A request's path, body and headers."""
    length = int(request.headers.get("Content-Length") or 0)
    raw = request.rfile.read(length) if length else b""
    return urlsplit(request.path), raw, dict(request.headers.items())


def _send(request: BaseHTTPRequestHandler, answer: _Answer) -> None:
    """Write an answer: its JSON body (or raw bytes), status and headers."""
    if answer.raw is not None:
        payload, content_type = answer.raw, answer.content_type
    else:
        payload, content_type = json.dumps(answer.body).encode("utf-8"), "application/json; charset=utf-8"
    request.send_response(answer.status)
    request.send_header("Content-Type", content_type)
    request.send_header("Content-Length", str(len(payload)))
    for name, value in answer.headers.items():
        request.send_header(name, value)
    request.end_headers()
    request.wfile.write(payload)


def _header(headers: dict[str, str], name: str) -> str:
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), "")


def _bearer(headers: dict[str, str]) -> str | None:
    value = _header(headers, "Authorization")
    return value[len("Bearer ") :].strip() if value.startswith("Bearer ") else None


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
