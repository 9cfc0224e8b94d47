"""HTTP mode: Bolt's single endpoint POST /slack/events and GET /healthz, on a threaded server."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

from slack_bolt import App, BoltRequest

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
MAX_BODY = 1_000_000  # Slack's payloads are far smaller; refuse anything absurd


class SlackHTTPServer(ThreadingHTTPServer):
    """A threaded HTTP server that hands Slack's requests to a Bolt app."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # socketserver's default of 5 resets connections under a burst

    def __init__(self, app: App, *, host: str = "0.0.0.0", port: int = 3000,
                 health: Callable[[], bool] | None = None) -> None:
        self.app = app
        self.health = health or (lambda: True)
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        """The base URL the server listens on."""
        host, port = str(self.server_address[0]), int(self.server_address[1])
        return f"http://{host if host != '0.0.0.0' else '127.0.0.1'}:{port}"

    def start_background(self) -> threading.Thread:
        """Serve on a daemon thread (tests, embedding)."""
        thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, name="slack-http",
                                  daemon=True)
        thread.start()
        return thread


class _Handler(BaseHTTPRequestHandler):
    server: SlackHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def _send(self, status: int, body: str | bytes, headers: Mapping[str, Sequence[str]] | None = None) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        sent_type = False
        for name, values in (headers or {}).items():
            if name.lower() == "content-length":
                continue
            sent_type = sent_type or name.lower() == "content-type"
            for value in values:
                self.send_header(name, value)
        if not sent_type:
            self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if urlparse(self.path).path == "/healthz":
            ok = False
            try:
                ok = self.server.health()
            except Exception:
                logger.exception("health check failed")
            self._send(200 if ok else 503, json.dumps({"ok": ok}), {"Content-Type": ["application/json"]})
            return
        self._send(404, "not found")

    def do_POST(self) -> None:
        parsed = urlparse(self.path)
        if parsed.path != EVENTS_PATH:
            self._send(404, "not found")
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self._send(413, "payload too large")
            return
        raw = self.rfile.read(length).decode("utf-8", errors="replace")
        headers: dict[str, str | Sequence[str]] = {}
        for name, value in self.headers.items():
            previous = headers.get(name.lower())
            headers[name.lower()] = [*previous, value] if isinstance(previous, list) else [value]
        try:
            request = BoltRequest(body=raw, query=parsed.query, headers=headers)
        except (ValueError, TypeError, AttributeError, RecursionError):  # not JSON, or JSON but not an object
            logger.info("malformed request body (%d bytes)", len(raw))
            self._send(400, "malformed payload")
            return
        try:
            response = self.server.app.dispatch(request)
        except Exception:  # Bolt itself choked on a payload of the wrong shape
            logger.exception("could not dispatch a request")
            self._send(400, "malformed payload")
            return
        self._send(response.status, response.body or "", response.headers)
