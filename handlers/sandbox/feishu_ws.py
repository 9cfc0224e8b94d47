"""A fake Feishu long-connection endpoint: a websockets server on 127.0.0.1 that speaks lark's Frame protocol.

lark-oapi's ``lark.ws.Client`` first asks the domain for an endpoint (``POST /callback/ws/endpoint`` with the app's
ID and secret; ``FakeFeishu.serve_long_connection(fake_ws)`` answers it with this server's URL and client config),
then connects here, pings (a control frame; the answer is a pong that carries the client config) and answers
every data frame it receives with the same frame, its payload replaced by ``{"code": 200}`` (500 when the
processor raised), plus ``data``: the processor's answer as base64 JSON (a card action's toast or card).

``push(envelope)`` sends one event (``type`` event, or ``card``, which lark's Python client drops unanswered) as
one data frame, or split in ``parts`` frames that the client puts together; ``responses``, ``wait_acked`` and
``wait_ack`` read what came back. ``drop()`` closes the connection as Feishu does when it moves a client (the
client asks for an endpoint again and reconnects); ``stop()`` makes the client give up (a pong whose config allows
no reconnection, and the endpoint refused from then on) before it stops listening, because lark's client has no
stop of its own and would otherwise reconnect forever.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import count
from typing import Any, Self

from lark_oapi.ws.const import (
    DEVICE_ID,
    FORBIDDEN,
    HEADER_MESSAGE_ID,
    HEADER_SEQ,
    HEADER_SUM,
    HEADER_TRACE_ID,
    HEADER_TYPE,
    SERVICE_ID,
)
from lark_oapi.ws.enum import FrameType, MessageType
from lark_oapi.ws.pb.pbbp2_pb2 import Frame
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

logger = logging.getLogger(__name__)

FEISHU_SERVICE_ID = 33554678  # the service_id Feishu's endpoint URLs carry (the client pings with it)
RETIRE_PAUSE = 0.1  # seconds between the pong that forbids reconnecting and the close, for the client to apply it


@dataclass(frozen=True)
class Ack:
    """The client's answer to one pushed data frame."""

    message_id: str
    kind: str  # the frame's type header: "event" (or "card")
    code: int  # the status in the answer's payload: 200 handled, 500 the processor raised
    answer: Any  # the processor's answer (the payload's base64 ``data``) decoded; None when there was none
    headers: dict[str, str]  # the frame's headers as sent back (the client adds ``biz_rt``, its time in ms)


class FakeLongConnection:
    """A recording stand-in for Feishu's long-connection gateway on 127.0.0.1 (``ws://``), in a thread of its own."""

    def __init__(
        self,
        *,
        ping_interval: int = 120,
        reconnect_interval: int = 1,
        reconnect_nonce: int = 0,
        reconnect_count: int = -1,
        service_id: int = FEISHU_SERVICE_ID,
    ) -> None:
        """The client config the endpoint hands out (seconds; Feishu's own: 120, 120, 30 and -1, forever)."""
        self.ping_interval = ping_interval
        self.reconnect_interval = reconnect_interval
        self.reconnect_nonce = reconnect_nonce
        self.reconnect_count = reconnect_count
        self.service_id = service_id
        self.device_id = str(secrets.randbelow(10**18))
        self.ticket = secrets.token_hex(16)
        self._cond = threading.Condition()
        self._responses: list[Ack] = []
        self._connection: ServerConnection | None = None
        self._connections = 0
        self._pings = 0
        self._serving = False
        self._seq = count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._done: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._port = 0
        self._started = threading.Event()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        """Listen on 127.0.0.1 (an ephemeral port) in a daemon thread with its own event loop."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=asyncio.run, args=(self._main(),), name="fake-feishu-ws", daemon=True
            )
            self._thread.start()
            if not self._started.wait(5.0):
                raise RuntimeError("the fake long-connection server did not start")
        return self

    def stop(self, *, retire_client: bool = True) -> None:
        """Stop listening; first (``retire_client``) tell a connected client not to reconnect, then close it."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with self._cond:
            self._serving = False  # from now on the endpoint refuses, so that a client that retries gives up
            connection = self._connection
        if retire_client and connection is not None:
            retire = {**self.client_config(), "ReconnectCount": 0, "ReconnectNonce": 0, "PingInterval": 3600}
            try:
                self._call(connection.send(self._pong(retire)), 5.0)
                time.sleep(RETIRE_PAUSE)
            except ConnectionClosed:
                pass
        if self._done is not None:
            loop.call_soon_threadsafe(self._done.set)
        thread.join(timeout=10)
        self._loop = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The TCP port the fake listens on."""
        if not self._port:
            raise RuntimeError("FakeLongConnection is not started")
        return self._port

    @property
    def url(self) -> str:
        """The websocket URL the endpoint hands out (with the device_id and service_id lark reads from it)."""
        return (
            f"ws://127.0.0.1:{self.port}/ws/v2?{DEVICE_ID}={self.device_id}"
            f"&{SERVICE_ID}={self.service_id}&ticket={self.ticket}"
        )

    def client_config(self) -> dict[str, int]:
        """The ClientConfig the endpoint and each pong carry (lark needs all four keys)."""
        return {
            "ReconnectCount": self.reconnect_count,
            "ReconnectInterval": self.reconnect_interval,
            "ReconnectNonce": self.reconnect_nonce,
            "PingInterval": self.ping_interval,
        }

    def endpoint(self) -> dict[str, Any]:
        """What Feishu answers lark's endpoint request: the URL and config; a client error once stopped."""
        with self._cond:
            serving = self._serving
        if not serving:  # lark raises on a client error and stops reconnecting
            return {"code": FORBIDDEN, "msg": "the long connection is not served (the fake is stopped)"}
        return {"code": 0, "msg": "ok", "data": {"URL": self.url, "ClientConfig": self.client_config()}}

    # ------------------------------------------------------------------ what the client did

    @property
    def connected(self) -> bool:
        """A client is connected now."""
        with self._cond:
            return self._connection is not None

    @property
    def connections(self) -> int:
        """How many times a client connected (reconnections count)."""
        with self._cond:
            return self._connections

    @property
    def pings(self) -> int:
        """How many pings the client sent (the first comes as soon as it has connected)."""
        with self._cond:
            return self._pings

    @property
    def responses(self) -> list[Ack]:
        """A copy of the client's answers so far, in the order they came."""
        with self._cond:
            return list(self._responses)

    def wait_connected(self, count: int = 1, timeout: float = 5.0) -> None:
        """Wait until a client is connected and has connected ``count`` times in all."""
        self._wait(lambda: self._connection is not None and self._connections >= count, timeout, f"connection {count}")

    def wait_pinged(self, count: int = 1, timeout: float = 5.0) -> None:
        """Wait until the client has pinged ``count`` times (its first ping: it is fully started)."""
        self._wait(lambda: self._pings >= count, timeout, f"{count} ping(s)")

    def wait_acked(self, count: int = 1, timeout: float = 5.0) -> list[Ack]:
        """Wait until the client has answered ``count`` frames; all its answers."""
        self._wait(lambda: len(self._responses) >= count, timeout, f"{count} answer(s)")
        return self.responses

    def wait_ack(self, message_id: str, timeout: float = 5.0) -> Ack:
        """Wait for the client's answer to the frame ``push`` returned ``message_id`` for."""

        def found() -> Ack | None:
            return next((a for a in self._responses if a.message_id == message_id), None)

        self._wait(lambda: found() is not None, timeout, f"the answer to {message_id}")
        with self._cond:
            ack = found()
        assert ack is not None
        return ack

    # ------------------------------------------------------------------ what Feishu does

    def push(self, event_json: Mapping[str, Any], *, kind: str = "event", parts: int = 1, timeout: float = 5.0) -> str:
        """Send one event envelope to the connected client as a data frame (or ``parts`` frames); its message_id."""
        connection = self._wait_connection(timeout)
        payload = json.dumps(event_json, ensure_ascii=False).encode("utf-8")
        if not 1 <= parts <= len(payload):
            raise ValueError(f"parts must be between 1 and {len(payload)}")
        message_id = f"msg_{secrets.token_hex(12)}"
        trace_id = secrets.token_hex(16)
        size = -(-len(payload) // parts)
        chunks = [payload[i : i + size] for i in range(0, len(payload), size)]
        for seq, chunk in enumerate(chunks):
            frame = self._frame(FrameType.DATA)
            for key, value in (
                (HEADER_TYPE, kind),
                (HEADER_MESSAGE_ID, message_id),
                (HEADER_SUM, str(len(chunks))),
                (HEADER_SEQ, str(seq)),
                (HEADER_TRACE_ID, trace_id),
            ):
                header = frame.headers.add()
                header.key, header.value = key, value
            frame.payload = chunk
            self._call(connection.send(frame.SerializeToString()), timeout)
        return message_id

    def drop(self, timeout: float = 5.0) -> None:
        """Close the client's connection from the server's side (the client asks for an endpoint and reconnects)."""
        with self._cond:
            connection = self._connection
        if connection is not None:
            self._call(connection.close(), timeout)
            self._wait(lambda: self._connection is not connection, timeout, "the connection closed")

    # ------------------------------------------------------------------ the server

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._done = asyncio.Event()
        server: Server
        async with serve(self._serve_client, "127.0.0.1", 0, ping_interval=None, compression=None) as server:
            self._port = int(next(iter(server.sockets)).getsockname()[1])
            with self._cond:
                self._serving = True
            self._started.set()
            await self._done.wait()

    async def _serve_client(self, connection: ServerConnection) -> None:
        with self._cond:
            self._connection = connection
            self._connections += 1
            self._cond.notify_all()
        try:
            async for message in connection:
                if isinstance(message, bytes):
                    await self._receive(connection, Frame.FromString(message))
        except ConnectionClosed:
            pass
        finally:
            with self._cond:
                if self._connection is connection:
                    self._connection = None
                self._cond.notify_all()

    async def _receive(self, connection: ServerConnection, frame: Frame) -> None:
        headers = {h.key: h.value for h in frame.headers}
        if frame.method == FrameType.CONTROL.value:
            if headers.get(HEADER_TYPE) == MessageType.PING.value:
                with self._cond:
                    self._pings += 1
                    self._cond.notify_all()
                await connection.send(self._pong(self.client_config()))
            return
        body = json.loads(frame.payload or b"{}")
        data = body.get("data")
        ack = Ack(
            message_id=headers.get(HEADER_MESSAGE_ID, ""),
            kind=headers.get(HEADER_TYPE, ""),
            code=int(body.get("code") or 0),
            answer=json.loads(base64.b64decode(data)) if data else None,
            headers=headers,
        )
        with self._cond:
            self._responses.append(ack)
            self._cond.notify_all()

    def _frame(self, method: FrameType) -> Frame:
        frame = Frame()
        frame.SeqID = next(self._seq)
        frame.LogID = frame.SeqID
        frame.service = self.service_id
        frame.method = method.value
        return frame

    def _pong(self, config: dict[str, int]) -> bytes:
        frame = self._frame(FrameType.CONTROL)
        header = frame.headers.add()
        header.key, header.value = HEADER_TYPE, MessageType.PONG.value
        frame.payload = json.dumps(config).encode("utf-8")
        return bytes(frame.SerializeToString())

    # ------------------------------------------------------------------ plumbing

    def _call(self, coroutine: Any, timeout: float) -> Any:
        if self._loop is None:
            coroutine.close()
            raise RuntimeError("FakeLongConnection is not started")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def _wait_connection(self, timeout: float) -> ServerConnection:
        self.wait_connected(timeout=timeout)
        with self._cond:
            if self._connection is None:
                raise AssertionError("the client went away")
            return self._connection

    def _wait(self, predicate: Any, timeout: float, what: str) -> None:
        with self._cond:
            if not self._cond.wait_for(predicate, timeout):
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what}: {self._connections} connection(s), "
                    f"{self._pings} ping(s), {len(self._responses)} answer(s)"
                )
