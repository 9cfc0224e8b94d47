"""HTTP mode: Bolt's ASGI adapter served by uvicorn. POST /slack/events, GET /healthz, and with OAuth
GET /slack/install and GET /slack/oauth_redirect (Bolt's OAuth flow; no signature: a browser calls them).

Every POST is checked before Bolt sees it: a body over `MAX_BODY` gets 413, and a request whose
signature does not verify gets 401 whatever went wrong inside the check (a timestamp that is no number,
a missing header), so nothing downstream ever acts on an unverified body. Bolt's `App` is synchronous:
its `dispatch` runs on a thread pool, never on the event loop.

uvicorn (h11) answers malformed HTTP (conflicting or signed Content-Length, bare LF in headers) with 400,
headers over 16 KB get 431, and idle keep-alive connections are closed; a connection that sends nothing at all is
closed after the same idle time (`IdleTimeoutH11`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import uvicorn
from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.asgi import SlackRequestHandler
from slack_bolt.adapter.asgi.http_request import AsgiHttpRequest
from slack_sdk.signature import SignatureVerifier
from uvicorn.protocols.http.h11_impl import H11Protocol

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_BODY = 1_000_000  # Slack's payloads are far smaller
MAX_HEADERS = 16 * 1024  # all header names and values together
BODY_SECONDS = 10.0  # a body must arrive within this long
KEEP_ALIVE_SECONDS = 5  # an idle connection is closed after this long
MAX_CONNECTIONS = 1000  # beyond this many open connections, requests get 503
GRACE_SECONDS = 30  # SIGTERM: in-flight requests get this long to finish
Health = Callable[[], bool]
ASGIApp = Callable[[Any, Callable[..., Any], Callable[..., Any]], Awaitable[None]]


class TooLarge(Exception):
    """The body is over MAX_BODY."""


class SlackASGI(SlackRequestHandler):
    """Bolt's ASGI adapter, with the checks above, a health route, and dispatch off the event loop.

    `routes`: other messengers' callback routes by path (Feishu's `/feishu/events`), which check their own
    signatures. Without a Bolt `app` (only another messenger is served), Slack's paths answer 404.
    """

    def __init__(
        self,
        app: App | None,
        *,
        signing_secret: str,
        health: Health | None = None,
        threads: int = 16,
        routes: Mapping[str, ASGIApp] | None = None,
    ) -> None:
        super().__init__(app, path=EVENTS_PATH)  # type: ignore[arg-type]  # None: Slack is not served
        # without Slack there is no signing secret, and no Slack request is ever verified (they get 404)
        self.verifier = SignatureVerifier(signing_secret) if app is not None else None
        self.health = health or (lambda: True)
        self.routes = dict(routes or {})
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="dispatch")

    async def __call__(self, scope: Any, receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] == "http" and sum(len(k) + len(v) for k, v in scope["headers"]) > MAX_HEADERS:
            # h11 refuses headers over the limit only while they arrive; these came in one piece
            await _send(send, 431, b"request headers too large", "text/plain; charset=utf-8")
            return
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"] == HEALTH_PATH:
            ok = await asyncio.get_running_loop().run_in_executor(self.executor, self._healthy)
            await _send(send, 200 if ok else 503, json.dumps({"ok": ok}).encode(), "application/json")
            return
        route = self.routes.get(scope["path"]) if scope["type"] == "http" else None
        if route is not None:
            await route(scope, receive, send)
            return
        if self.app is None and scope["type"] == "http":
            await _send(send, 404, b"not found", "text/plain; charset=utf-8")
            return
        await super().__call__(scope, receive, send)

    async def dispatch(self, request: AsgiHttpRequest) -> BoltResponse:
        """Read the body within limits, verify it, then run Bolt's dispatch on a thread."""
        headers = request.get_headers()
        try:
            raw = await asyncio.wait_for(_read_body(request, headers), BODY_SECONDS)
        except TooLarge:
            return BoltResponse(status=413, body="payload too large")
        except TimeoutError:
            return BoltResponse(status=408, body="request body too slow")
        if not self.verified(raw, headers):
            return BoltResponse(status=401, body="invalid request")
        return await asyncio.get_running_loop().run_in_executor(
            self.executor, self._dispatch, raw, request.query_string, headers
        )

    async def handle_installation(self, request: AsgiHttpRequest) -> BoltResponse:
        """GET /slack/install (with OAuth): the install page, its state stored, off the event loop."""
        return await self._oauth(request, "handle_installation")

    async def handle_callback(self, request: AsgiHttpRequest) -> BoltResponse:
        """GET /slack/oauth_redirect (with OAuth): the code exchanged and the install stored, off the event loop."""
        return await self._oauth(request, "handle_callback")

    async def _oauth(self, request: AsgiHttpRequest, step: str) -> BoltResponse:
        flow = self.app.oauth_flow
        assert flow is not None  # the adapter routes here only when there is one
        bolt_request = BoltRequest(body="", query=request.query_string, headers=request.get_headers())

        def run() -> BoltResponse:
            try:
                return getattr(flow, step)(bolt_request)
            except Exception:  # the store unreachable, Slack unreachable: a page, not a traceback
                logger.exception("the install step %s failed", step)
                return BoltResponse(status=500, body="coordbot could not complete this step; please try again")

        return await asyncio.get_running_loop().run_in_executor(self.executor, run)

    def verified(self, raw: bytes, headers: dict[str, Any]) -> bool:
        """Whether Slack signed this request; any failure inside the check is a no."""
        if self.verifier is None:
            return False
        try:
            return bool(
                self.verifier.is_valid(
                    raw, _header(headers, "x-slack-request-timestamp"), _header(headers, "x-slack-signature")
                )
            )
        except Exception:  # a timestamp that is no whole number, a body of the wrong type, …
            return False

    def _dispatch(self, raw: bytes, query: str, headers: dict[str, Any]) -> BoltResponse:
        try:
            request = BoltRequest(body=raw.decode("utf-8"), query=query, headers=headers)
        except (ValueError, TypeError, AttributeError, RecursionError):  # not JSON, or JSON but not an object
            logger.info("malformed request body (%d bytes)", len(raw))
            return BoltResponse(status=400, body="malformed payload")
        try:
            return self.app.dispatch(request)
        except Exception:  # Bolt choked on a verified payload of an unexpected shape
            logger.exception("could not dispatch a request")
            return BoltResponse(status=400, body="malformed payload")

    def _healthy(self) -> bool:
        try:
            return bool(self.health())
        except Exception:
            logger.exception("health check failed")
            return False


def _header(headers: dict[str, Any], name: str) -> str | None:
    value = headers.get(name)
    return value if isinstance(value, str) else None


async def _read_body(request: AsgiHttpRequest, headers: dict[str, Any]) -> bytes:
    declared = _header(headers, "content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise TooLarge
    chunks = bytearray()
    while True:
        message = await request.receive()
        if message["type"] != "http.request":
            break  # the client went away
        chunks.extend(message.get("body", b""))
        if len(chunks) > MAX_BODY:
            raise TooLarge
        if not message.get("more_body", False):
            break
    return bytes(chunks)


async def _send(send: Callable[..., Any], status: int, body: bytes, content_type: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class IdleTimeoutH11(H11Protocol):
    """uvicorn's h11 protocol, closing a new connection that sends nothing within the keep-alive time too
    (uvicorn starts that timer only after a first response)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)


def config(asgi: SlackASGI, *, host: str, port: int, keep_alive: int = KEEP_ALIVE_SECONDS) -> uvicorn.Config:
    """uvicorn's settings for coordbot: the limits above, coordbot's own logging."""
    return uvicorn.Config(
        asgi,
        host=host,
        port=port,
        http=IdleTimeoutH11,
        lifespan="off",
        log_config=None,
        access_log=False,
        timeout_keep_alive=keep_alive,
        limit_concurrency=MAX_CONNECTIONS,
        timeout_graceful_shutdown=GRACE_SECONDS,
        h11_max_incomplete_event_size=MAX_HEADERS,
        server_header=False,
    )


class Server:
    """uvicorn serving coordbot: in the foreground (`coordbot run`) or on a thread (tests, the sandbox)."""

    def __init__(
        self,
        app: App | None,
        *,
        signing_secret: str,
        host: str = "0.0.0.0",
        port: int = 3000,
        health: Health | None = None,
        keep_alive: int = KEEP_ALIVE_SECONDS,
        routes: Mapping[str, ASGIApp] | None = None,
    ) -> None:
        self.asgi = SlackASGI(app, signing_secret=signing_secret, health=health, routes=routes)
        self.server = uvicorn.Server(config(self.asgi, host=host, port=port, keep_alive=keep_alive))
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        """Serve until SIGTERM or SIGINT, then finish the requests in flight."""
        self.server.run()
        self.asgi.executor.shutdown(wait=True)

    def start_background(self, timeout: float = 10.0) -> Server:
        """Serve on a daemon thread; return once listening."""
        self._thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the HTTP server did not start")
            time.sleep(0.01)
        return self

    @property
    def port(self) -> int:
        """The port it listens on (the real one when 0 was asked for)."""
        sockets = [s for server in self.server.servers for s in server.sockets]
        return int(sockets[0].getsockname()[1]) if sockets else int(self.server.config.port)

    @property
    def url(self) -> str:
        """How a client on this machine reaches the server."""
        host = self.server.config.host
        return f"http://{host if host not in ('0.0.0.0', '') else '127.0.0.1'}:{self.port}"

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop a background server, letting in-flight requests finish (`wait`: until it has stopped; uvicorn
        looks for the signal every 0.1 s)."""
        self.server.should_exit = True
        if wait and self._thread is not None:
            self._thread.join(GRACE_SECONDS + 5)
        self.asgi.executor.shutdown(wait=wait)
