"""The HTTP front: verification fails closed, response URLs stay Slack's, HTTP framing a proxy would refuse
is refused, limits hold. Raw sockets against the real server (uvicorn with Bolt's adapter)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import func, select

from handlers.sandbox.slack_api import ALICE, GENERAL
from handlers.serving.http import MAX_BODY, Server
from storage.models import InboxItem
from tests.conftest import Bot
from tests.helpers import settle


class Listener:
    """A TCP port that records every connection made to it (a response URL nobody should call)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/hooks/T1/B1/x"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    found = Listener()
    yield found
    found.close()


def stored(bot: Bot) -> int:
    with bot.runtime.services.session_scope() as s:
        return int(s.scalar(select(func.count()).select_from(InboxItem)) or 0)


def command_body(bot: Bot, text: str, response_url: str) -> str:
    return urlencode(
        {
            "token": "t",
            "team_id": "T0001",
            "channel_id": GENERAL,
            "user_id": ALICE,
            "command": "/requirement",
            "text": text,
            "response_url": response_url,
            "trigger_id": bot.fake.new_trigger_id(user=ALICE),
        }
    )


@pytest.mark.parametrize("timestamp", ["x", "", "1e10", "NOW.0", "-1", " 1700000000", "NOW"])
def test_unverified_requests_get_401_and_cause_nothing(bot: Bot, listener: Listener, timestamp: str) -> None:
    stamp = timestamp.replace("NOW", str(int(time.time())))
    for response_url in (listener.url, bot.fake.new_response_url(channel=GENERAL, user=ALICE)):
        body = command_body(bot, "list", response_url)
        reply = bot.slack.post(body, "application/x-www-form-urlencoded", timestamp=None, signature="v0=dummy")
        assert reply.status == 401
        # the same with the forged timestamp header itself
        status, raw = raw_request(
            bot,
            "POST",
            "/slack/events",
            body.encode(),
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": "v0=" + "0" * 64,
            },
        )
        assert status == 401, raw
        assert b"invalid request" in raw
    settle(bot, 0.3)
    assert bot.fake.calls() == [c for c in bot.fake.calls() if c.method in ("users.list", "auth.test", "team.info")]
    assert listener.connections == 0
    assert stored(bot) == 0


def test_a_signed_request_never_calls_a_response_url_outside_slack(bot: Bot, listener: Listener) -> None:
    body = command_body(bot, "list", listener.url)
    reply = bot.slack.post(body, "application/x-www-form-urlencoded")
    assert reply.status == 200
    settle(bot, 0.3)
    assert listener.connections == 0
    with bot.runtime.services.session_scope() as s:
        payloads = [json.loads(p) for p in s.scalars(select(InboxItem.payload)).all()]
    assert payloads and all("response_url" not in p for p in payloads)  # never stored either


def raw_request(
    bot: Bot, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None, *, extra: bytes = b""
) -> tuple[int, bytes]:
    """Send one request over a fresh socket and read the answer's status (0 when the server just closed)."""
    head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    return raw(bot, head.encode() + extra + b"\r\n" + body)


def raw(bot: Bot, data: bytes, timeout: float = 5.0) -> tuple[int, bytes]:
    host, port = urlsplit(bot.server.url).hostname, urlsplit(bot.server.url).port
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(data)
        got = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            got += chunk
            if b"\r\n\r\n" in got and _complete(got):
                break
    if not got.startswith(b"HTTP/1.1 "):
        return 0, got
    return int(got[9:12]), got


def _complete(data: bytes) -> bool:
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return True


FRAMING = {
    "two different lengths": b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 40\r\n"
    b"\r\nabGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
    "a signed length": b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: +10\r\n\r\n0123456789",
    "an underscored length": b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 1_0\r\n\r\n0123456789",
    "a bare LF in a header value": b"POST /slack/events HTTP/1.1\r\nHost: x\r\nX-Slack-Signature: v0=a\nb\r\n"
    b"Content-Length: 0\r\n\r\n",
    "no HTTP at all": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40 + b"\r\n\r\n",
}


@pytest.mark.parametrize("case", sorted(FRAMING))
def test_framing_a_proxy_would_disagree_with_gets_400(bot: Bot, case: str) -> None:
    status, answer = raw(bot, FRAMING[case])
    assert status == 400, (case, answer[:200])
    assert answer.count(b"HTTP/1.1 ") == 1  # nothing after the 400 ran as a second request
    status, _ = raw_request(bot, "GET", "/healthz")
    assert status == 200  # and the server goes on serving


def test_headers_over_16_kb_are_refused(bot: Bot) -> None:
    at_once = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40_000 + b"\r\n\r\n"
    assert raw(bot, at_once)[0] == 431
    host, port = urlsplit(bot.server.url).hostname, urlsplit(bot.server.url).port
    with socket.create_connection((host, port), timeout=5) as sock:  # in pieces, never finishing
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
        for _ in range(40):
            try:
                sock.sendall(b"a" * 1000)
            except OSError:  # closed on us
                break
        assert sock.recv(100).startswith((b"HTTP/1.1 400", b"HTTP/1.1 431"))
    assert raw_request(bot, "GET", "/healthz")[0] == 200


def test_a_body_over_the_limit_gets_413_and_is_not_read(bot: Bot) -> None:
    status, _ = raw(bot, b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY + 1))
    assert status == 413
    big = b"payload=" + b"a" * (MAX_BODY + 10)
    status, _ = raw(
        bot,
        b"POST /slack/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"%x\r\n" % len(big)
        + big
        + b"\r\n0\r\n\r\n",
    )
    assert status == 413
    assert stored(bot) == 0


def test_idle_connections_are_closed(bot: Bot) -> None:
    from slack_bolt import App

    app = App(signing_secret="s", token_verification_enabled=False, token="xoxb-x")
    server = Server(app, signing_secret="s", host="127.0.0.1", port=0, keep_alive=1).start_background()
    try:
        for first in (b"", b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"):  # silent from the start; idle after one
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
                started = time.monotonic()
                sock.sendall(first)
                got = b""
                while chunk := sock.recv(65536):
                    got += chunk
                assert time.monotonic() - started < 4  # closed by the server, not by our timeout
                assert got.startswith(b"HTTP/1.1 200") if first else got == b""
    finally:
        server.shutdown()
