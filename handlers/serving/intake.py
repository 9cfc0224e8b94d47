"""Intake: what an answer promises is stored before the answer leaves.

In the serving app, every listener runs only as far as its `ack()`: the checks that decide the answer
(a modal's field errors, a slash command's inline reply). Unless the answer is field errors, the request
is then written to the inbox (bot.inbox) and committed, and only then answered; the listener stops there
(`Stored`), and a worker (handlers.serving.work) runs it in full later. An event's answer is always an empty 200,
so events go to the inbox without meeting any listener here.

The inbox's unique duplicate key is the duplicate check: Slack's retry of an event (same `event_id`), a
second click on a modal's Submit (same view, hash and state), the same button click delivered twice
(user, action and `action_ts`) find their key taken and are answered without being stored again.

A listener that opens a modal must do so within 3 seconds of the request (its `trigger_id` expires): its
row is stored already claimed by the serving process, which runs it at once, right after answering.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse

from bot.inbox import Inbox, Row

logger = logging.getLogger(__name__)

CONTEXT_KEY = "intake"
ROW_KEY = "inbox_row"  # in a worker's request context: the row it runs
RECEIVED_KEY = "received_at"  # ... and when the serving process received it
FAILURE_KEY = "inbox_failure"  # where a listener leaves the error its row should be tried again for
SLACK_RESPONSE_URLS = "https://hooks.slack.com/"
_MAX_PART = 120
MEMBERSHIP_EVENTS = frozenset({"member_joined_channel", "member_left_channel", "channel_left", "group_left"})


class Stored(BaseException):  # a signal, not an error: no `except Exception` may swallow it
    """Raised from `ack()` in the serving app: the request is stored and answered, a worker does the rest."""


class NotStored(Exception):
    """The inbox could not take the request: it must not be answered as received."""


class Intake:
    """The serving side of the inbox: stores requests, and runs at once those that open a modal."""

    def __init__(
        self,
        inbox: Inbox,
        *,
        now: Callable[[], datetime],
        name: str,
        run_now: Callable[[Row], None] | None = None,
        wake: Callable[[], None] | None = None,
    ) -> None:
        self.inbox = inbox
        self._now = now
        self.name = name
        self._run_now = run_now
        self._wake = wake

    def store(self, body: Mapping[str, Any], *, urgent: bool = False) -> Row | None:
        """Store and commit the request; the row (claimed by this process when urgent), None for a duplicate."""
        received = self._now()
        payload = json.dumps(body, separators=(",", ":"))
        team, kind, key = team_of(body), kind_of(body), request_key(body)
        try:
            row_id = self.inbox.put(
                team_id=team,
                kind=kind,
                dedupe_key=key,
                order_key=order_key(body),
                payload=payload,
                received_at=received,
                claimed_by=self.name if urgent else None,
            )
        except Exception as exc:
            logger.exception("could not store a %s request", kind)
            raise NotStored(str(exc)) from exc
        if row_id is None:
            logger.info("duplicate request %s answered without storing it again", key)
            return None
        row = Row(
            id=row_id, team_id=team, kind=kind, payload=payload, received_at=received, attempts=1 if urgent else 0
        )
        if not urgent and self._wake is not None:
            self._wake()
        return row

    def run_now(self, row: Row) -> None:
        """Run a row this process claimed when storing it (a modal to open within Slack's 3 seconds)."""
        if self._run_now is not None:
            self._run_now(row)


def register(app: App) -> None:
    """Serving app: events go straight to the inbox (their answer is always an empty 200)."""
    app.middleware(store_events)


def store_events(req: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse:
    """An event is all work: store it and answer, without trying every listener here."""
    intake: Intake | None = req.context.get(CONTEXT_KEY)
    if intake is None or req.body.get("type") != "event_callback":
        return next()
    try:
        intake.store(req.body)
    except NotStored:
        return BoltResponse(status=503, body="")  # Slack delivers the event again
    return BoltResponse(status=200, body="")


def answers_with_errors(args: Sequence[Any], kwargs: Mapping[str, Any]) -> bool:
    """Whether an ack() call answers a modal with field errors (the modal stays open, nothing else happens)."""
    whole = args[0] if args and isinstance(args[0], dict) else kwargs.get("text")
    action = kwargs.get("response_action") or (whole.get("response_action") if isinstance(whole, dict) else None)
    return bool(action == "errors")


def store_then_answer(
    ack: Callable[..., BoltResponse], intake: Intake, request: BoltRequest, *, urgent: bool
) -> Callable[..., BoltResponse]:
    """An ack() that stores the request (unless the answer is field errors), answers, and stops the listener."""

    def answer(*args: Any, **kwargs: Any) -> BoltResponse:
        if answers_with_errors(args, kwargs):
            return ack(*args, **kwargs)
        row = intake.store(request.body, urgent=urgent)  # committed before the answer exists
        ack(*args, **kwargs)
        if row is not None and urgent:
            intake.run_now(row)
        raise Stored

    return answer


# -- what a request is ------------------------------------------------------------------------------


def _part(value: Any) -> str:
    """A key component: short strings as they are, anything longer or odd as a digest."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    if len(text) <= _MAX_PART and text.isprintable():
        return text
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:40]


def request_key(body: Any) -> str | None:
    """The duplicate key of a request, or None when it has none (slash commands, shortcuts, …)."""
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


def order_key(body: Mapping[str, Any]) -> str | None:
    """Requests about one message (reactions on it, its buttons), who joined or left one channel, and one slash
    command's uses in one channel (`/digest subscribe` then `/digest unsubscribe`) are worked on in the order they
    arrived."""
    command, channel_id = body.get("command"), body.get("channel_id")
    if isinstance(command, str) and command and isinstance(channel_id, str) and channel_id:
        return f"cmd:{_part(command)}:{_part(channel_id)}"
    event = body.get("event")
    if isinstance(event, dict):
        item = event.get("item")
        if isinstance(item, dict) and item.get("channel") and item.get("ts"):
            return f"msg:{_part(item['channel'])}:{_part(item['ts'])}"
        kind, channel = event.get("type"), event.get("channel")
        if isinstance(kind, str) and kind in MEMBERSHIP_EVENTS and isinstance(channel, str) and channel:
            return f"chan:{_part(channel)}"  # the bot removed, then invited back: in that order
        return None
    container = body.get("container")
    if isinstance(container, dict) and container.get("message_ts") and container.get("channel_id"):
        return f"msg:{_part(container['channel_id'])}:{_part(container['message_ts'])}"
    return None


def kind_of(body: Mapping[str, Any]) -> str:
    """A short name of the request for logs and `coordbot status`: `/requirement`, `view:…`, `reaction_added`."""
    if body.get("command"):
        return str(body["command"])[:80]
    kind = body.get("type")
    if kind == "event_callback":
        event = body.get("event")
        return f"event:{event.get('type')}" if isinstance(event, dict) else "event"
    if kind in ("view_submission", "view_closed"):
        view = body.get("view")
        return f"view:{view.get('callback_id')}" if isinstance(view, dict) else str(kind)
    if kind == "block_actions":
        actions = body.get("actions")
        first = actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], dict) else {}
        return f"action:{first.get('action_id')}"[:80]
    if kind in ("message_action", "shortcut"):
        return f"shortcut:{body.get('callback_id')}"[:80]
    return str(kind or "unknown")[:80]


def team_of(body: Mapping[str, Any]) -> str:
    """The workspace a request came from (without NUL, which PostgreSQL's text cannot hold: a garbled ID
    must not keep the request from being stored)."""
    team = body.get("team")
    if isinstance(team, dict) and isinstance(team.get("id"), str):
        return str(team["id"]).replace("\x00", "")
    for found in (
        body.get("team_id"),
        (body.get("user") or {}).get("team_id") if isinstance(body.get("user"), dict) else None,
    ):
        if isinstance(found, str) and found:
            return found.replace("\x00", "")
    return ""


# -- response URLs ----------------------------------------------------------------------------------


def response_url_filter(allowed_prefix: str) -> Callable[[BoltRequest, Callable[[], BoltResponse]], BoltResponse]:
    """A middleware that drops every response URL not under `allowed_prefix` from the request.

    A response URL is where Bolt's `respond()` and the error handler post; only Slack's own are called.
    """

    def only_slack_response_urls(req: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse:
        if strip_foreign_response_urls(req.body, allowed_prefix):
            req.context.pop("response_url", None)
            req.context.pop("respond", None)
        return next()

    return only_slack_response_urls


def strip_foreign_response_urls(body: Any, allowed_prefix: str) -> bool:
    """Remove response URLs not under the prefix from a body; whether any was removed."""
    if not isinstance(body, dict):
        return False
    removed = False
    url = body.get("response_url")
    if url is not None and not allowed_url(url, allowed_prefix):
        del body["response_url"]
        removed = True
    urls = body.get("response_urls")
    if isinstance(urls, list):
        kept = [u for u in urls if isinstance(u, dict) and allowed_url(u.get("response_url"), allowed_prefix)]
        if len(kept) != len(urls):
            body["response_urls"] = kept
            removed = True
    if removed:
        logger.warning("ignored a response URL outside %s", allowed_prefix)
    return removed


def allowed_url(url: Any, allowed_prefix: str) -> bool:
    """Whether a response URL may be called."""
    return isinstance(url, str) and url.startswith(allowed_prefix)
