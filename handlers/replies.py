"""One error handler for the whole app, and the ephemeral replies it sends."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

from slack_bolt import BoltContext, BoltRequest, BoltResponse
from slack_bolt.kwargs_injection.utils import build_required_kwargs
from slack_bolt.util.utils import get_arg_names_of_callable
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.errors import CoordbotError, ValidationFailed
from bot.text import t
from handlers import dedupe, handoff
from handlers.directory import Directory

logger = logging.getLogger(__name__)


def field_errors(lang: str, exc: ValidationFailed) -> dict[str, str]:
    """Field errors in the reader's language, cut to Slack's limits."""
    out = {}
    for field, (key, params) in exc.field_errors.items():
        values = dict(params)
        out[field] = t(values.pop("_lang", None) or lang, key, **values)[:150]
    return out


def _user_of(body: dict[str, Any]) -> str | None:
    user = body.get("user")
    raw_event = body.get("event")
    event: dict[str, Any] = raw_event if isinstance(raw_event, dict) else {}
    found = (user.get("id") if isinstance(user, dict) else None) or body.get("user_id") or user or event.get("user")
    return found if isinstance(found, str) else None  # a malformed payload may carry anything there


def tell(client: WebClient, body: dict[str, Any], text: str) -> None:
    """Say something to the person behind a request, only to them, on the best surface available."""
    user = _user_of(body)
    response_url = body.get("response_url") or next(
        (r.get("response_url") for r in body.get("response_urls") or [] if r.get("response_url")), None)
    try:
        if response_url:
            WebhookClient(response_url, timeout=10).send(text=text, response_type="ephemeral",
                                                         replace_original=False)
            return
        event = body.get("event") or {}
        channel = (event.get("item") or {}).get("channel") or event.get("channel")
        if channel and user:
            client.chat_postEphemeral(channel=channel, user=user, text=text)
        elif user:
            client.chat_postMessage(channel=user, text=text)
    except (SlackApiError, OSError, ValueError) as exc:  # ValueError: a response_url that is no URL
        logger.warning("could not tell %s: %s", user, exc)


def handle_error(error: Exception, body: dict[str, Any], response: BoltResponse | None,
                 client: WebClient, directory: Directory | None = None,
                 context: BoltContext | None = None) -> BoltResponse | None:
    """Acknowledge anyway, and answer in the user's language: field errors, a refusal, or an apology."""
    user = _user_of(body) or ""
    lang = directory.lang_of(user) if directory and user else "en"
    not_acked = response is not None
    if not_acked:  # refused before anything happened: the same request may come again
        dedupe.release(context)
    if isinstance(error, ValidationFailed) and body.get("type") == "view_submission" and not_acked:


        return BoltResponse(status=200, headers={"content-type": ["application/json"]},
                            body=json.dumps({"response_action": "errors", "errors": field_errors(lang, error)}))
    if isinstance(error, CoordbotError):
        logger.info("refused %s for %s: %s", body.get("type") or body.get("command"), user, error.key)
        text = t(lang, error.key, **error.params)
    elif isinstance(error, SlackApiError) and error.response.get("error") == "expired_trigger_id":
        # the form could not open in Slack's 3 seconds: nothing was lost, so no reference to quote
        logger.warning("a form opened too late for %s (%s)", user, body.get("type") or body.get("command"))
        text = t(lang, "error.form_too_late")
    else:
        ref = uuid.uuid4().hex[:8]
        logger.exception("unhandled error (ref %s) in %s", ref, body.get("type") or body.get("command"),
                         exc_info=error)
        text = t(lang, "error.generic", ref=ref)
    if body.get("command") and not_acked:
        return BoltResponse(status=200, body=text)
    tell(client, body, text)
    return BoltResponse(status=200, body="") if not_acked else None


def refresh_modal(client: WebClient, view: dict[str, Any], new_view: Any) -> None:
    """Replace an open modal as the user types; a newer keystroke's update winning the race is fine."""
    try:
        client.views_update(view_id=view["id"], hash=view.get("hash"), view=new_view)
    except SlackApiError as exc:
        if exc.response.get("error") != "hash_conflict":
            raise


def in_view(callback_id: str) -> Callable[[dict[str, Any]], bool]:
    """A Bolt matcher: the action happened inside the modal with this callback_id (inputs share action_ids)."""

    def matches(body: dict[str, Any]) -> bool:
        return (body.get("view") or {}).get("callback_id") == callback_id

    return matches


def guarded(fn: Callable[..., None]) -> Callable[..., None]:
    """Wrap a listener so an error after its acknowledgment still reaches `handle_error`.

    Bolt runs listeners on a worker thread and returns the HTTP answer as soon as
    ack() is called; an exception raised later would otherwise only be logged (and
    can even clear the recorded acknowledgment). Before ack(), the error propagates
    so Bolt's error path answers the request itself.

    In a serving process with a worker (handlers.handoff), the listener stops at its
    acknowledgment and the request is handed to the worker, which runs it in full as
    of the time it arrived.
    """
    names = get_arg_names_of_callable(fn)

    def listener(request: BoltRequest, response: BoltResponse | None, logger: logging.Logger) -> None:
        kwargs = build_required_kwargs(logger=logger, required_arg_names=list(names), request=request,
                                       response=response, this_func=fn, next_keys_required=False)
        forwarder: handoff.Handoff | None = request.context.get(handoff.CONTEXT_KEY)
        if forwarder is not None and "ack" in kwargs:  # events went to the worker before any listener
            kwargs["ack"] = _answer_then_hand_off(kwargs["ack"], forwarder, request)
        services = request.context.get("services")
        at = handoff.received_at(request)
        try:
            with services.as_of(at) if services is not None and at is not None else nullcontext():
                fn(**kwargs)
        except handoff.HandedOff:
            return
        except Exception as exc:
            ack = request.context.ack
            if ack is None or ack.response is None:
                raise
            handle_error(exc, request.body, None, request.context.client, request.context.get("directory"))

    listener.__name__ = fn.__name__
    listener.__qualname__ = fn.__qualname__
    listener.__doc__ = fn.__doc__
    return listener


def _answer_then_hand_off(ack: Callable[..., BoltResponse], forwarder: handoff.Handoff,
                          request: BoltRequest) -> Callable[..., BoltResponse]:
    """An ack() that answers, hands the request to the worker unless the answer is field errors, and stops."""

    def answer(*args: Any, **kwargs: Any) -> BoltResponse:
        ack(*args, **kwargs)
        if not handoff.answers_with_errors(args, kwargs):
            forwarder.send(request)
        raise handoff.HandedOff

    return answer
