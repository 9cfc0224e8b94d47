"""The HTTP servers at the protocol level: keep-alive, pipelining, partial reads, limits and bad requests.

`SlackLoopServer` (one event loop thread, the serving process's) parses HTTP itself, so it is driven here
over raw sockets; the behaviour both servers share is checked on both.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest
from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from handlers.http_loop import MAX_HEAD, SlackLoopServer
from handlers.http_server import MAX_BODY, SlackHTTPServer
from tests.fakes.slack_api import FakeSlack
from tests.helpers import wait_until

SECRET = "loop-signing-secret"
SERVERS = [SlackLoopServer, SlackHTTPServer]


@pytest.fixture
def held() -> threading.Event:
    """Released by a test: until then an /echo of "hold" (and a health check, where asked) waits for it."""
    return threading.Event()


@pytest.fixture
def app(fake: FakeSlack, held: threading.Event) -> App:
    bolt = App(signing_secret=SECRET, client=WebClient(token="xoxb-test", base_url=fake.api_url),
               process_before_response=True)

    @bolt.command("/echo")
    def echo(ack: Ack, command: dict[str, Any]) -> None:
        if command["text"] == "hold":
            held.wait(10)  # as a retry's claim waits on a slow database
        ack(f"echo {command['text']}")

    return bolt


@pytest.fixture(params=SERVERS, ids=["loop", "threads"])
def server(request: pytest.FixtureRequest, app: App) -> Iterator[SlackLoopServer | SlackHTTPServer]:
    healthy = {"ok": True}
    srv = request.param(app, host="127.0.0.1", port=0, health=lambda: healthy["ok"])
    srv.health_state = healthy
    with serving(srv):
        yield srv


@pytest.fixture
def loop(app: App) -> Iterator[SlackLoopServer]:
    with serving(SlackLoopServer(app, host="127.0.0.1", port=0)) as srv:
        yield srv


S = TypeVar("S", SlackLoopServer, SlackHTTPServer)


@contextmanager
def serving(srv: S) -> Iterator[S]:
    """The server answering on a background thread until the block ends."""
    srv.start_background()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


def signed_post(text: str, *, close: bool = False, http: str = "HTTP/1.1", retry: int | None = None) -> bytes:
    body = f"command=%2Fecho&text={text}&user_id=U1&team_id=T1&channel_id=C1"
    stamp = str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body)
    head = [f"POST /slack/events {http}", "Host: bot", "Content-Type: application/x-www-form-urlencoded",
            f"X-Slack-Request-Timestamp: {stamp}", f"X-Slack-Signature: {signature}",
            f"Content-Length: {len(body.encode())}"]
    if close:
        head.append("Connection: close")
    if retry is not None:
        head.append(f"X-Slack-Retry-Num: {retry}")
    return ("\r\n".join(head) + "\r\n\r\n" + body).encode()


def connect(srv: SlackLoopServer | SlackHTTPServer) -> socket.socket:
    host, port = srv.server_address[:2]
    sock = socket.create_connection((str(host), int(port)), timeout=5)
    return sock


def read_answer(sock: socket.socket, pending: bytearray | None = None) -> tuple[int, dict[str, str], bytes]:
    """One HTTP answer from the socket (what is read beyond it stays in `pending`)."""
    buffer = pending if pending is not None else bytearray()
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {bytes(buffer)!r}")
        buffer += chunk
    end = buffer.index(b"\r\n\r\n")
    lines = buffer[:end].decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(buffer) < end + 4 + length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed inside a body")
        buffer += chunk
    body = bytes(buffer[end + 4:end + 4 + length])
    del buffer[:end + 4 + length]
    return int(lines[0].split(" ")[1]), headers, body


def closed(sock: socket.socket) -> bool:
    """Whether the server closed the connection (nothing more to read)."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_requests_on_one_connection_are_answered_in_turn(server: SlackLoopServer | SlackHTTPServer) -> None:
    with connect(server) as sock:
        for word in ("one", "two", "three"):
            sock.sendall(signed_post(word))
            status, headers, body = read_answer(sock)
            assert (status, body) == (200, f"echo {word}".encode())
            assert headers["content-type"].startswith("text/plain")


def test_a_request_closing_its_connection_is_answered_first(server: SlackLoopServer | SlackHTTPServer) -> None:
    with connect(server) as sock:
        sock.sendall(signed_post("bye", close=True))
        assert read_answer(sock)[2] == b"echo bye"
        assert closed(sock)
    with connect(server) as sock:
        sock.sendall(signed_post("old", http="HTTP/1.0"))
        assert read_answer(sock)[2] == b"echo old"
        assert closed(sock)


def test_health_unknown_paths_and_unsigned_requests(server: Any) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: bot\r\n\r\n")
        assert read_answer(sock)[::2] == (200, json.dumps({"ok": True}).encode())
        server.health_state["ok"] = False
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: bot\r\n\r\n")
        assert read_answer(sock)[0] == 503
        sock.sendall(b"GET /nope HTTP/1.1\r\nHost: bot\r\n\r\n")
        assert read_answer(sock)[0] == 404
        sock.sendall(b"POST /elsewhere HTTP/1.1\r\nHost: bot\r\nContent-Length: 2\r\n\r\n{}")
        assert read_answer(sock)[0] == 404
        sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Length: 15\r\n\r\ncommand=%2Fecho")
        assert read_answer(sock)[0] == 401  # Bolt's signature check
        sock.sendall(signed_post("still%20here"))
        assert read_answer(sock)[2] == b"echo still here"  # the connection serves on


def test_a_body_over_the_limit_is_refused_and_the_connection_closed(server: SlackLoopServer | SlackHTTPServer,
                                                                    ) -> None:
    with connect(server) as sock:
        sock.sendall(f"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Length: {MAX_BODY + 1}\r\n\r\n".encode())
        assert read_answer(sock)[0] == 413
        assert closed(sock)  # the unread body must not be taken for the next request


def test_pipelined_requests_are_answered_in_order(loop: SlackLoopServer) -> None:
    with connect(loop) as sock:
        sock.sendall(signed_post("a") + signed_post("b") + b"GET /healthz HTTP/1.1\r\n\r\n" + signed_post("c"))
        pending = bytearray()
        answers = [read_answer(sock, pending) for _ in range(4)]
    assert [a[2] for a in answers] == [b"echo a", b"echo b", json.dumps({"ok": True}).encode(), b"echo c"]


def test_a_request_arriving_a_byte_at_a_time_is_answered(loop: SlackLoopServer) -> None:
    with connect(loop) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for byte in signed_post("slow"):
            sock.send(bytes([byte]))
        assert read_answer(sock)[2] == b"echo slow"


@pytest.mark.parametrize(("request_bytes", "status"), [
    (b"NONSENSE\r\n\r\n", 400),
    (b"POST /slack/events HTTP/1.1\r\nno colon here\r\n\r\n", 400),
    (b"POST /slack/events HTTP/1.1\r\nContent-Length: lots\r\n\r\n", 413),
    (b"POST /slack/events HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 501),
    (b"PUT /slack/events HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405),
    (b"GET /healthz HTTP/1.1\r\nX-Long: " + b"x" * (MAX_HEAD + 10), 431),
], ids=["request-line", "header-line", "length", "chunked", "method", "head-too-large"])
def test_a_broken_request_gets_a_clear_answer_and_the_server_serves_on(loop: SlackLoopServer, request_bytes: bytes,
                                                                       status: int) -> None:
    with connect(loop) as sock:
        sock.sendall(request_bytes)
        assert read_answer(sock)[0] == status
        if status != 405:
            assert closed(sock)
    with connect(loop) as sock:
        sock.sendall(signed_post("after"))
        assert read_answer(sock)[2] == b"echo after"


def test_a_burst_of_connections_is_answered_whole(loop: SlackLoopServer) -> None:
    def one(i: int) -> bytes:
        with connect(loop) as sock:
            sock.sendall(signed_post(f"n{i}"))
            return read_answer(sock)[2]

    with ThreadPoolExecutor(max_workers=32) as pool:
        answers = list(pool.map(one, range(200)))
    assert answers == [f"echo n{i}".encode() for i in range(200)]


def test_a_client_that_goes_away_mid_request_costs_nothing(loop: SlackLoopServer) -> None:
    with connect(loop) as sock:
        sock.sendall(signed_post("gone")[:40])
    with connect(loop) as sock:
        sock.sendall(signed_post("here"))
        assert read_answer(sock)[2] == b"echo here"
    wait_until(lambda: not loop.connections, what="both connections let go")


def test_a_slow_health_check_holds_up_only_its_own_connection(app: App, held: threading.Event) -> None:
    with serving(SlackLoopServer(app, host="127.0.0.1", port=0, health=lambda: held.wait(10))) as srv, \
            connect(srv) as probe, connect(srv) as other:
        # the probe's health check waits for the database; the request behind it on its connection waits
        probe.sendall(b"GET /healthz HTTP/1.1\r\nHost: bot\r\n\r\n" + signed_post("after-health"))
        other.sendall(signed_post("meanwhile"))
        assert read_answer(other)[2] == b"echo meanwhile"  # everybody else is answered meanwhile
        held.set()
        pending = bytearray()
        assert read_answer(probe, pending)[0] == 200
        assert read_answer(probe, pending)[2] == b"echo after-health"  # answers keep their order


def test_a_retried_delivery_is_answered_beside_the_loop(loop: SlackLoopServer, held: threading.Event) -> None:
    with connect(loop) as retried, connect(loop) as other:
        retried.sendall(signed_post("hold", retry=1))  # its claim is checked in the database, which is slow
        other.sendall(signed_post("first"))
        assert read_answer(other)[2] == b"echo first"
        held.set()
        assert read_answer(retried)[2] == b"echo hold"
