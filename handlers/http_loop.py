"""HTTP mode for a serving process: every request answered in turn by one event loop thread.

A serving process that hands its work to a worker (handlers.handoff) only verifies, validates and
answers: CPU work of about a millisecond, never a network call or a database write. Such work gains
nothing from a thread per connection, and loses much: each thread must win back the interpreter after
every socket read and write, and under a burst some lose it again and again, so the slowest answers
take many times the median. Here one thread reads whatever arrived, answers each complete request in
the order it came, and writes the answers; a burst of N requests is answered within N times the cost
of one.

Only for apps whose listeners return at their `ack()`: a listener that waited for the network here
would hold up every other request. The two requests that do touch the database before answering, the
health check and a delivery Slack marks as a retry (checked against the claims of every replica), are
answered on a helper thread instead, their connection paused meanwhile so that its answers keep their
order: a slow database delays them, not everybody.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App

from handlers.http_server import MAX_BODY, Answer, Health, answer_get, answer_post, base_url, content_length

logger = logging.getLogger(__name__)

MAX_HEAD = 64 * 1024  # request line and headers; Slack sends about 1 KB
BACKLOG = 128  # pending connections the kernel keeps while the loop is busy
HELPERS = 4  # threads for the requests that may wait on the database
RETRY_HEADER = "x-slack-retry-num"


class SlackLoopServer:
    """Serves POST /slack/events and GET /healthz from one event loop thread."""

    def __init__(self, app: App, *, host: str = "0.0.0.0", port: int = 3000, health: Health | None = None) -> None:
        self.app = app
        self.health = health or (lambda: True)
        self._loop = asyncio.new_event_loop()
        self._server = self._loop.run_until_complete(self._loop.create_server(
            lambda: _Connection(self), host, port, backlog=BACKLOG, reuse_address=True))
        self.server_address: tuple[str, int] = self._server.sockets[0].getsockname()[:2]
        self._thread: threading.Thread | None = None
        self.connections: set[_Connection] = set()
        self.helpers = ThreadPoolExecutor(max_workers=HELPERS, thread_name_prefix="http-helper")

    @property
    def url(self) -> str:
        """The base URL the server listens on."""
        return base_url(str(self.server_address[0]), int(self.server_address[1]))

    def serve_forever(self) -> None:
        """Answer requests until `shutdown()`."""
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def start_background(self) -> threading.Thread:
        """Serve on a daemon thread."""
        self._thread = threading.Thread(target=self.serve_forever, name="slack-http", daemon=True)
        self._thread.start()
        return self._thread

    def shutdown(self) -> None:
        """Stop serving (from another thread); requests already read are answered first."""
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._loop.stop)  # queued if the loop has not started yet
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(10)

    def server_close(self) -> None:
        """Close the listening socket and every connection."""
        self.helpers.shutdown(wait=False)
        self._server.close()
        for connection in list(self.connections):
            if connection.transport is not None:
                connection.transport.abort()
        if not self._loop.is_running() and not self._loop.is_closed():
            self._loop.run_until_complete(self._server.wait_closed())
            self._loop.close()


class _Connection(asyncio.Protocol):
    """One client connection: HTTP/1.1 with keep-alive, requests answered in the order they came."""

    def __init__(self, server: SlackLoopServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiting = False  # an answer is being worked out on a helper thread; what follows waits for it

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.server.connections.add(self)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)
        self.transport = None
        self.buffer.clear()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._answer_buffered()

    def _answer_buffered(self) -> None:
        while self.transport is not None and not self.transport.is_closing() and not self.waiting:
            if not self._one_request():
                if len(self.buffer) > MAX_HEAD + MAX_BODY:
                    self._close_with(Answer.text(413, "payload too large"))
                return

    def _one_request(self) -> bool:
        """Answer the first request in the buffer if it is complete; whether one was taken."""
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > MAX_HEAD:
                self._close_with(Answer.text(431, "request header fields too large"))
            return False
        try:
            method, target, version, headers = _parse_head(bytes(self.buffer[:end]))
        except ValueError:
            self._close_with(Answer.text(400, "bad request"))
            return False
        if "transfer-encoding" in headers:  # Slack sends a length; chunked bodies are not read here
            self._close_with(Answer.text(501, "transfer-encoding not supported"))
            return False
        length = content_length(_first(headers.get("content-length")))
        if length < 0 or length > MAX_BODY:
            self._close_with(Answer.text(413, "payload too large"))
            return False
        start = end + 4
        if len(self.buffer) < start + length:
            return False
        raw = bytes(self.buffer[start:start + length])
        del self.buffer[:start + length]
        close = version == "HTTP/1.0" or _first(headers.get("connection"), "").lower() == "close"
        app, health = self.server.app, self.server.health
        if method == "POST" and RETRY_HEADER in headers:
            self._on_helper(lambda: answer_post(app, target, headers, raw), close)
        elif method == "POST":
            self._write(answer_post(app, target, headers, raw), close=close)
        elif method == "GET":
            self._on_helper(lambda: answer_get(target, health), close)
        else:
            self._write(Answer.text(405, "method not allowed"), close=close)
        return True

    def _on_helper(self, work: Callable[[], Answer], close: bool) -> None:
        """Work the answer out on a helper thread; this connection reads nothing more until it is written."""
        assert self.transport is not None
        self.waiting = True
        self.transport.pause_reading()
        answer = asyncio.get_running_loop().run_in_executor(self.server.helpers, work)
        answer.add_done_callback(lambda done: self._helped(done, close))  # back on the loop's thread

    def _helped(self, done: asyncio.Future[Answer], close: bool) -> None:
        try:
            answer = done.result()
        except Exception:  # answer_post and answer_get answer errors themselves; this is a last resort
            logger.exception("could not answer a request")
            answer = Answer.text(500, "internal error")
        self.waiting = False
        self._write(answer, close=close)
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()
            self._answer_buffered()

    def _write(self, answer: Answer, *, close: bool = False) -> None:
        transport = self.transport
        if transport is None:
            return
        transport.write(answer.head(close=close) + answer.body)
        if close:
            transport.close()

    def _close_with(self, answer: Answer) -> None:
        self._write(answer, close=True)
        self.buffer.clear()


def _first(values: Sequence[str] | str | None, default: str | None = None) -> Any:
    if values is None:
        return default
    return values if isinstance(values, str) else (values[0] if values else default)


def _parse_head(head: bytes) -> tuple[str, str, str, dict[str, str | Sequence[str]]]:
    """Method, target, version and headers (names lowercased, each a list of values) of a request head."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise ValueError("not an HTTP/1.x request line")
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise ValueError("malformed header line")
        headers.setdefault(name.lower(), []).append(value.strip())
    return parts[0], parts[1], parts[2], dict(headers)
