"""A global middleware that lets each request Slack delivers twice through once.

Keys: an event's `event_id` (Slack's retries carry the same one, with `X-Slack-Retry-Num`),
a submitted view's id with its hash and state (a second click on Submit sends the same), and a
block action's user, action_id and `action_ts` (the same click delivered twice). A duplicate
gets an empty 200 and reaches no listener. A submission answered with field errors gives its
key back, so the corrected (or even unchanged) form can be submitted again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, BoltRequest, BoltResponse

from bot import dedupe
from bot.services import Services
from handlers import handoff

logger = logging.getLogger(__name__)

CONTEXT_KEY = "dedupe_key"
KEY_HEADER = "x-coordbot-claimed"
_MAX_PART = 120


def register(app: App, *, worker: bool = False) -> None:
    """Install the middleware; register it before any listener.

    A worker (handlers.handoff) gets only requests its serving process has let through, and records
    their claims.
    """
    app.middleware(handoff.Direct(record_handed_off if worker else skip_duplicates))


def _part(value: Any) -> str:
    """A key component: short strings as they are, anything longer or odd as a digest."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    if len(text) <= _MAX_PART and text.isprintable():
        return text
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:40]


def request_key(body: Any) -> str | None:
    """The idempotency key of a request, or None when it has none (slash commands, shortcuts, …)."""
    if not isinstance(body, dict):
        return None
    kind = body.get("type")
    if kind == "event_callback":
        event_id = body.get("event_id")
        return f"event:{_part(event_id)}" if isinstance(event_id, str) and event_id else None
    if kind == "view_submission":
        view = body.get("view")
        if not isinstance(view, dict) or not isinstance(view.get("id"), str) or not view["id"]:
            return None
        content = _part({"hash": view.get("hash"), "state": view.get("state")})
        return f"view:{_part(view['id'])}:{content}"
    if kind == "block_actions":
        actions = body.get("actions")
        first = actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], dict) else None
        user = body.get("user")
        user_id = user.get("id") if isinstance(user, dict) else None
        if first is None or not first.get("action_ts") or not user_id:
            return None
        return f"action:{_part(user_id)}:{_part(first.get('action_id'))}:{_part(first.get('action_ts'))}"
    return None


class _ReleasingAck(Ack):
    """An acknowledgment that gives the request's key back when it answers with field errors."""

    def __init__(self, release: Callable[[], None]) -> None:
        super().__init__()
        self._release = release

    def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        if handoff.answers_with_errors(args, kwargs):
            self._release()  # before the answer leaves, so an instant resubmission is not taken for a duplicate
        return super().__call__(*args, **kwargs)


_RECENT: dict[int, dedupe.RecentRequests] = {}
_RECENT_LOCK = threading.Lock()


def _recent(services: Services) -> dedupe.RecentRequests:
    """The claims of one running bot (one set of services)."""
    with _RECENT_LOCK:
        found = _RECENT.get(id(services))
        if found is None:
            found = _RECENT[id(services)] = dedupe.RecentRequests(services.session_scope)
        return found


def skip_duplicates(request: BoltRequest, next: Callable[[], Any]) -> BoltResponse | None:
    """Claim the request's key (one insert); a request whose key is taken is acknowledged and dropped."""
    body, context = request.body, request.context
    key = request_key(body)
    services: Services | None = context.get("services")
    if key is None or services is None:
        next()
        return None
    recent = _recent(services)
    retry = (request.headers.get("x-slack-retry-num") or [""])[0]
    # with a worker, the worker records a first delivery's claim: no database write here at all
    elsewhere = context.get(handoff.CONTEXT_KEY) is not None and not retry
    if not recent.claim(key, services.now(), retry=bool(retry), record=not elsewhere):
        logger.info("duplicate request %s (retry %s) acknowledged without processing", key, retry or "-")
        return BoltResponse(status=200, body="")
    context[CONTEXT_KEY] = key
    if elsewhere:
        request.headers[KEY_HEADER] = [key]  # travels with the request to the worker
    if body.get("type") == "view_submission":
        context["ack"] = _ReleasingAck(lambda: recent.release(key))
    next()
    return None


def record_handed_off(request: BoltRequest, next: Callable[[], Any]) -> None:
    """In the worker: record the claim the serving process made in memory (for replicas that get a retry)."""
    key = (request.headers.get(KEY_HEADER) or [""])[0]
    services: Services | None = request.context.get("services")
    if key and services is not None:
        _recent(services).record(key, services.now())
    next()


def release(context: BoltContext | None) -> None:
    """Give back the key of a request that was refused before anything happened."""
    key = context.get(CONTEXT_KEY) if context is not None else None
    services: Services | None = context.get("services") if context is not None else None
    if key and services is not None:
        _recent(services).release(key)
        context.pop(CONTEXT_KEY, None)  # type: ignore[union-attr]
