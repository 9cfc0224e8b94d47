"""Feishu's events into the inbox: by HTTP callback (signed, optionally encrypted) or by the long connection.

Verification, decryption and dispatch by event type are lark-oapi's own `EventDispatcherHandler`. The
processors registered on it run only for a request that passed its checks; they store the event in the
inbox (committed) before the answer leaves, keyed by Feishu's `event_id`, so that a redelivery (Feishu
redelivers even after success) is dropped. A request the SDK refused never reached a processor and gets
401, whatever went wrong inside the check; a failure to store gets 503, so that Feishu delivers it again.

A card's form is read and checked here, without network calls, so that field errors reach the person
within Feishu's 3 seconds as the callback's toast; only a form that passed is stored.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from datetime import datetime
from typing import Any

import lark_oapi as lark
from lark_oapi.core.model.raw_request import RawRequest
from lark_oapi.event.callback.model.p2_card_action_trigger import (
    P2CardActionTrigger,
    P2CardActionTriggerResponse,
)
from lark_oapi.event.custom import CustomizedEvent

from bot.errors import CoordbotError, ValidationFailed
from bot.inbox import Inbox, Row
from bot.messenger import Platform, workspace_key
from handlers.feishu.forms import Forms

logger = logging.getLogger(__name__)

EVENTS_PATH = "/feishu/events"
MAX_BODY = 1_000_000
MAX_SKEW_SECONDS = 300  # a signed callback older (or newer) than this is refused: a replay, or a clock off
APP_TICKET = "app_ticket"  # the v1 event that brings a store app its ticket
# v1 events of a store app's life in an organization: installed, stopped or started again, removed
APP_EVENTS = ("app_open", "app_status_change", "app_uninstalled")
EVENT_TYPES = (
    "im.message.receive_v1",
    "im.message.reaction.created_v1",
    "im.message.reaction.deleted_v1",
    "application.bot.menu_v6",
    "im.chat.access_event.bot_p2p_chat_entered_v1",
)
CARD_ACTION = "card.action.trigger"

_reached: ContextVar[bool] = ContextVar("feishu_processor_reached", default=False)


class NotStored(Exception):
    """The event could not be stored: the platform is answered with an error so that it delivers it again."""


class FeishuIntake:
    """Stores verified events as inbox rows of the Feishu platform; answers card forms within 3 seconds."""

    def __init__(
        self,
        inbox: Inbox,
        *,
        forms: Forms,
        now: Callable[[], datetime],
        wake: Callable[[], None] | None = None,
        tickets: Callable[[str, str], None] | None = None,
    ) -> None:
        self.inbox = inbox
        self.forms = forms
        self.now = now
        self.wake = wake
        self.tickets = tickets  # a store app keeps the tickets Feishu pushes (app_id, ticket)

    # -- storing -------------------------------------------------------------------------------------

    def store(self, envelope: dict[str, Any]) -> Row | None:
        """Store one event (its envelope as delivered) unless its event_id was stored before."""
        _reached.set(True)
        header = envelope.get("header") or {}  # a schema 2.0 event; a 1.0 one (an app's lifecycle) has none
        event = envelope.get("event") or {}
        event_type = str(header.get("event_type") or event.get("type") or "")
        operator = event.get("operator") or {}
        tenant = str(header.get("tenant_key") or event.get("tenant_key") or operator.get("tenant_key") or "")
        event_id = str(header.get("event_id") or envelope.get("uuid") or "")
        received = self.now()
        try:
            row_id = self.inbox.put(
                team_id=workspace_key(Platform.FEISHU, tenant),
                kind=f"feishu:{event_type}"[:80],
                dedupe_key=f"feishu:{event_id}" if event_id else None,
                order_key=_order_key(event_type, event),
                payload=json.dumps(envelope, ensure_ascii=False),
                received_at=received,
                platform=Platform.FEISHU,
            )
        except Exception as exc:  # the database is away: the platform must deliver it again
            logger.exception("could not store a Feishu event (%s)", event_type)
            raise NotStored(str(exc)) from exc
        if row_id is None:
            logger.info("Feishu event %s delivered again: dropped", event_id)
            return None
        if self.wake is not None:
            self.wake()
        return Row(
            id=row_id,
            team_id=workspace_key(Platform.FEISHU, tenant),
            kind=event_type,
            payload="",
            received_at=received,
            attempts=0,
            platform=Platform.FEISHU,
        )

    def on_event(self, data: CustomizedEvent) -> None:
        """An event processor: store the event as delivered."""
        self.store(_as_dict(data))

    def on_app_ticket(self, data: CustomizedEvent) -> None:
        """A store app's ticket, pushed by Feishu about hourly (a verified callback): kept, not queued."""
        _reached.set(True)
        event = data.event or {}
        app_id, ticket = str(event.get("app_id") or ""), str(event.get("app_ticket") or "")
        if not ticket or self.tickets is None:
            return
        try:
            self.tickets(app_id, ticket)
        except Exception as exc:  # the database is away: Feishu pushes it again (and hourly anyway)
            logger.exception("could not keep the app ticket Feishu pushed")
            raise NotStored(str(exc)) from exc

    def on_card_action(self, data: P2CardActionTrigger) -> P2CardActionTriggerResponse:
        """A button or a form in a card: a form is checked first (errors go back as a toast), then stored."""
        envelope = _as_dict(data)
        event = envelope.get("event") or {}
        action = event.get("action") or {}
        operator = event.get("operator") or {}
        workspace = workspace_key(Platform.FEISHU, str(operator.get("tenant_key") or ""))
        _reached.set(True)  # lark verified it: whatever happens now is coordbot's answer, never a 401
        try:
            accepted = self.forms.check(workspace, str(operator.get("open_id") or ""), action)
        except ValidationFailed as exc:
            return P2CardActionTriggerResponse(self.forms.errors_answer(workspace, operator, action, exc))
        except CoordbotError as exc:  # the form's record is gone, or the person may not: said at once
            return P2CardActionTriggerResponse(self.forms.refusal(workspace, operator, exc))
        except Exception:  # reading the form needed Feishu (a group's members) and it did not answer in time
            logger.exception("could not check a Feishu form on arrival; the worker reads it again")
            accepted = {}
        self.store(envelope)
        return P2CardActionTriggerResponse(accepted)

    # -- the SDK's dispatcher ---------------------------------------------------------------------------

    def dispatcher(self, *, encrypt_key: str = "", verification_token: str = "") -> lark.EventDispatcherHandler:
        """lark-oapi's dispatcher with coordbot's processors (empty keys: the long connection, already trusted)."""
        builder = lark.EventDispatcherHandler.builder(encrypt_key, verification_token)
        for event_type in EVENT_TYPES:
            builder.register_p2_customized_event(event_type, self.on_event)
        builder.register_p2_card_action_trigger(self.on_card_action)
        if self.tickets is not None:  # a store app: its ticket, and organizations installing and removing it
            builder.register_p1_customized_event(APP_TICKET, self.on_app_ticket)
            for event_type in APP_EVENTS:
                builder.register_p1_customized_event(event_type, self.on_event)
        return builder.build()


def _as_dict(data: Any) -> dict[str, Any]:
    """An SDK event object back as the JSON Feishu sent."""
    marshalled = lark.JSON.marshal(data)
    return json.loads(marshalled) if marshalled else {}


def _order_key(event_type: str, event: dict[str, Any]) -> str | None:
    """Events about one message (reactions, buttons on its card) run in the order they arrived."""
    if event_type.startswith("im.message.reaction"):
        return f"feishu:{event.get('message_id')}"
    if event_type == CARD_ACTION:
        message = (event.get("context") or {}).get("open_message_id")
        return f"feishu:{message}" if message else None
    return None


class FeishuCallbacks:
    """The ASGI route for Feishu's HTTP callbacks (events and card actions at one URL)."""

    def __init__(self, intake: FeishuIntake, *, encrypt_key: str, verification_token: str, threads: int = 8) -> None:
        if not encrypt_key or not verification_token:
            raise ValueError("HTTP callbacks need FEISHU_ENCRYPT_KEY and FEISHU_VERIFICATION_TOKEN")
        self.intake = intake
        self.handler = intake.dispatcher(encrypt_key=encrypt_key, verification_token=verification_token)
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="feishu")

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["method"] != "POST":
            await _send(send, 405, b"POST only", "text/plain; charset=utf-8")
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            body = await asyncio.wait_for(_read(receive), 10.0)
        except ValueError:
            await _send(send, 413, b"payload too large", "text/plain; charset=utf-8")
            return
        except TimeoutError:
            await _send(send, 408, b"request body too slow", "text/plain; charset=utf-8")
            return
        status, answer = await asyncio.get_running_loop().run_in_executor(self.executor, self.answer, body, headers)
        await _send(send, status, answer, "application/json; charset=utf-8")

    def answer(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """Verify and dispatch one callback; (status, body). Anything but a stored event or a checked form,
        or the URL check, is 401."""
        stamp = headers.get("x-lark-request-timestamp")
        if stamp is not None and not _fresh(stamp):  # signed long ago: a replay (the signature covers the time)
            return 401, b'{"msg":"invalid request"}'
        request = RawRequest()
        request.uri = EVENTS_PATH
        request.body = body
        request.headers = {
            "X-Lark-Request-Timestamp": headers.get("x-lark-request-timestamp", ""),
            "X-Lark-Request-Nonce": headers.get("x-lark-request-nonce", ""),
            "X-Lark-Signature": headers.get("x-lark-signature", ""),
            "X-Request-Id": headers.get("x-request-id", ""),
        }
        token = _reached.set(False)
        try:
            response = self.handler.do(request)
            reached = _reached.get()
        finally:
            _reached.reset(token)
        content = bytes(response.content or b"")
        if response.status_code == 200:
            if reached or b"challenge" in content[:40]:
                return 200, content
            return 401, b'{"msg":"invalid request"}'
        if reached:  # verified, but not stored: Feishu delivers it again
            return 503, b'{"msg":"try again"}'
        return 401, b'{"msg":"invalid request"}'

    def shutdown(self) -> None:
        """Let callbacks in flight finish."""
        self.executor.shutdown(wait=True)


def _fresh(timestamp: str | None) -> bool:
    try:
        return abs(time.time() - float(timestamp or "")) <= MAX_SKEW_SECONDS
    except ValueError:
        return False


async def _read(receive: Callable[..., Any]) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise ValueError("too large")
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send(send: Callable[..., Any], status: int, body: bytes, content_type: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class LongConnection:
    """lark-oapi's long-connection client on a thread of its own (it runs its own event loop)."""

    def __init__(self, intake: FeishuIntake, *, app_id: str, app_secret: str, domain: str) -> None:
        self.client = lark.ws.Client(
            app_id, app_secret, event_handler=intake.dispatcher(), domain=domain, log_level=lark.LogLevel.WARNING
        )
        self.thread = threading.Thread(target=self._run, name="feishu-ws", daemon=True)

    def start(self) -> LongConnection:
        """Connect and receive events until the process ends."""
        self.thread.start()
        return self

    def _run(self) -> None:
        try:
            self.client.start()
        except Exception:
            logger.exception("the Feishu long connection stopped")
