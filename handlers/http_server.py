"""HTTP mode: Bolt's single endpoint POST /slack/events and GET /healthz.

Two servers answer the same way (`answer`): `SlackHTTPServer`, a thread per connection, for a process
whose listeners do their work on Bolt's threads; and `handlers.http_loop.SlackLoopServer`, one event loop
thread, for a serving process that only answers and hands the work on (handlers.handoff).
"""

from __future__ import annotations

import codecs
import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from slack_bolt import App, BoltRequest

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_BODY = 1_000_000  # Slack's payloads are far smaller; refuse anything absurd
Health = Callable[[], bool]


@dataclass
class Answer:
    """An HTTP answer: status, body, and headers beyond Content-Length."""

    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def text(cls, status: int, text: str) -> Answer:
        """A plain-text answer."""
        return cls(status, text.encode(), [("Content-Type", "text/plain; charset=utf-8")])

    def head(self, *, close: bool = False) -> bytes:
        """The status line and headers, HTTP/1.1."""
        lines = [f"HTTP/1.1 {self.status} {_reason(self.status)}"]
        lines += [f"{name}: {value}" for name, value in self.headers]
        lines.append(f"Content-Length: {len(self.body)}")
        if close:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _reason(status: int) -> str:
    return BaseHTTPRequestHandler.responses.get(status, ("",))[0]


def answer_get(path: str, health: Health) -> Answer:
    """GET: the health check, or 404."""
    if urlsplit(path).path != HEALTH_PATH:
        return Answer.text(404, "not found")
    ok = False
    try:
        ok = health()
    except Exception:
        logger.exception("health check failed")
    return Answer(200 if ok else 503, json.dumps({"ok": ok}).encode(), [("Content-Type", "application/json")])


def answer_post(app: App, path: str, headers: dict[str, str | Sequence[str]], raw: bytes) -> Answer:
    """POST: a Slack request for the Bolt app, or 404; a body that is no request gets 400, never a 5xx."""
    target = urlsplit(path)
    if target.path != EVENTS_PATH:
        return Answer.text(404, "not found")
    text = raw.decode("utf-8", errors="replace")
    try:
        request = bolt_request(text, target.query, headers)
    except (ValueError, TypeError, AttributeError, RecursionError):  # not JSON, or JSON but not an object
        logger.info("malformed request body (%d bytes)", len(raw))
        return Answer.text(400, "malformed payload")
    try:
        response = app.dispatch(request)
    except Exception:  # Bolt itself choked on a payload of the wrong shape
        logger.exception("could not dispatch a request")
        return Answer.text(400, "malformed payload")
    out: list[tuple[str, str]] = []
    for name, values in response.headers.items():
        if name.lower() != "content-length":
            out += [(name, value) for value in values]
    if not any(name.lower() == "content-type" for name, _ in out):
        out.append(("Content-Type", "text/plain; charset=utf-8"))
    body = response.body or ""
    return Answer(response.status, body.encode() if isinstance(body, str) else body, out)


def bolt_request(text: str, query: str, headers: dict[str, str | Sequence[str]]) -> BoltRequest:
    """The BoltRequest Bolt would build from this body, its form fields decoded by `parse_body`.

    Bolt's own decoding of a form body (urllib's `parse_qsl`) takes about 0.6 ms for a modal submission,
    over half of what the serving process spends on one; the result is the same, signature check included
    (it reads `raw_body`). Anything `parse_body` does not return a dict for goes to Bolt's own path.
    """
    content_type = _content_type(headers)
    body = parse_body(text, content_type)
    if not isinstance(body, dict):
        return BoltRequest(body=text, query=query, headers=headers)
    request = BoltRequest(body=body, query=query, headers=headers, mode="socket_mode")
    request.raw_body, request.mode = text, "http"
    return request


def _content_type(headers: dict[str, str | Sequence[str]]) -> str | None:
    value = headers.get("content-type")
    first = value if isinstance(value, str) else (value[0] if value else None)
    return first.split(";")[0].strip().lower() if first else None


def parse_body(text: str, content_type: str | None) -> Any:
    """What `slack_bolt.request.internals.parse_body` returns for this body, with a quicker form decoder."""
    if not text:
        return {}
    if content_type == "application/json" or text.startswith("{"):
        return json.loads(text)
    fields = parse_form(text)
    if "payload" in text:
        payload = fields.get("payload")
        return json.loads(payload) if payload is not None else {}
    return fields


def parse_form(text: str) -> dict[str, str]:
    """`dict(urllib.parse.parse_qsl(text, keep_blank_values=True))`, decoding %-escapes in C where it can."""
    fields: dict[str, str] = {}
    for part in text.split("&"):
        if part:
            name, _, value = part.partition("=")
            fields[_unquote_plus(name)] = _unquote_plus(value)
    return fields


def _unquote_plus(value: str) -> str:
    value = value.replace("+", " ")
    if "%" not in value:
        return value
    if value.isascii():
        try:  # every %XX becomes \xXX for the C escape decoder (backslashes of the text itself doubled first)
            escaped = value.encode("ascii").replace(b"\\", b"\\\\").replace(b"%", b"\\x")
            return codecs.escape_decode(escaped)[0].decode("utf-8", "replace")
        except ValueError:  # a % not followed by two hex digits: urllib keeps it as it is
            pass
    return unquote(value)


def content_length(value: str | None) -> int:
    """The body's length from its header; -1 when it is not a number."""
    try:
        return int(value or 0)
    except ValueError:
        return -1


class SlackHTTPServer(ThreadingHTTPServer):
    """A threaded HTTP server that hands Slack's requests to a Bolt app."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # socketserver's default of 5 resets connections under a burst

    def __init__(self, app: App, *, host: str = "0.0.0.0", port: int = 3000, health: Health | None = None) -> None:
        self.app = app
        self.health = health or (lambda: True)
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        """The base URL the server listens on."""
        return base_url(str(self.server_address[0]), int(self.server_address[1]))

    def start_background(self) -> threading.Thread:
        """Serve on a daemon thread (tests, embedding)."""
        thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, name="slack-http",
                                  daemon=True)
        thread.start()
        return thread


def base_url(host: str, port: int) -> str:
    """How a client on this machine reaches a server bound to host:port."""
    return f"http://{host if host not in ('0.0.0.0', '') else '127.0.0.1'}:{port}"


class _Handler(BaseHTTPRequestHandler):
    server: SlackHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def _send(self, answer: Answer) -> None:
        # one write: status line, headers and body leave in one segment
        self.wfile.write(answer.head() + answer.body)
        self.log_request(answer.status, len(answer.body))

    def do_GET(self) -> None:
        self._send(answer_get(self.path, self.server.health))

    def do_POST(self) -> None:
        length = content_length(self.headers.get("Content-Length"))
        if length < 0 or length > MAX_BODY:
            self._send(Answer.text(413, "payload too large"))
            self.close_connection = True  # the unread body would be taken for the next request
            return
        raw = self.rfile.read(length)
        headers: dict[str, str | Sequence[str]] = {}
        for name, value in self.headers.items():
            previous = headers.get(name.lower())
            headers[name.lower()] = [*previous, value] if isinstance(previous, list) else [value]
        self._send(answer_post(self.server.app, self.path, headers, raw))
