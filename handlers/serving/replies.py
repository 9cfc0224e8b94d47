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
from handlers.serving import intake
from handlers.workspace.directory import Directory

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


def reply_privately(
    client: WebClient, body: dict[str, Any], text: str, *, response_urls: str = intake.SLACK_RESPONSE_URLS
) -> None:
    """Say something to the person behind a request, only to them, on the best surface available.

    Only a response URL under `response_urls` (Slack's own) is ever called.
    """
    user = _user_of(body)
    response_url = body.get("response_url") or next(
        (
            r.get("response_url")
            for r in body.get("response_urls") or []
            if isinstance(r, dict) and r.get("response_url")
        ),
        None,
    )
    if not intake.allowed_url(response_url, response_urls):
        response_url = None
    try:
        if response_url:
            WebhookClient(response_url, timeout=10).send(text=text, response_type="ephemeral", replace_original=False)
            return
        raw_event = body.get("event")
        event: dict[str, Any] = raw_event if isinstance(raw_event, dict) else {}
        raw_item = event.get("item")
        item: dict[str, Any] = raw_item if isinstance(raw_item, dict) else {}
        channel = item.get("channel") or event.get("channel")
        channel = channel if isinstance(channel, str) else None
        if channel and user:
            client.chat_postEphemeral(channel=channel, user=user, text=text)
        elif user:
            client.chat_postMessage(channel=user, text=text)
    except (SlackApiError, OSError, ValueError) as exc:  # ValueError: a response_url that is no URL
        logger.warning("could not tell %s: %s", user, exc)


def handle_error(
    error: Exception,
    body: dict[str, Any],
    response: BoltResponse | None,
    client: WebClient,
    directory: Directory | None = None,
    context: BoltContext | None = None,
) -> BoltResponse | None:
    """Acknowledge anyway, and answer in the user's language: field errors, a refusal, or an apology."""
    user = _user_of(body) or ""
    lang = directory.lang_of(user) if directory and user else "en"
    not_acked = response is not None
    if isinstance(error, ValidationFailed) and body.get("type") == "view_submission" and not_acked:
        return BoltResponse(
            status=200,
            headers={"content-type": ["application/json"]},
            body=json.dumps({"response_action": "errors", "errors": field_errors(lang, error)}),
        )
    if isinstance(error, CoordbotError):
        logger.info("refused %s for %s: %s", body.get("type") or body.get("command"), user, error.key)
        text = t(lang, error.key, **error.params)
    elif isinstance(error, SlackApiError) and error.response.get("error") == "expired_trigger_id":
        # the form could not open in Slack's 3 seconds: nothing was lost, so no reference to quote
        logger.warning("a form opened too late for %s (%s)", user, body.get("type") or body.get("command"))
        text = t(lang, "error.form_too_late")
    else:
        ref = uuid.uuid4().hex[:8]
        logger.exception("unhandled error (ref %s) in %s", ref, body.get("type") or body.get("command"), exc_info=error)
        text = t(lang, "error.generic", ref=ref)
    if body.get("command") and not_acked:
        return BoltResponse(status=200, body=text)
    services = context.get("services") if context is not None else None
    reply_privately(
        client,
        body,
        text,
        response_urls=services.settings.response_urls if services is not None else intake.SLACK_RESPONSE_URLS,
    )
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


def retryable(exc: BaseException) -> bool:
    """Whether a failed row may succeed when tried again (Slack or the database was unreachable, a bug met a
    passing state), rather than a refusal the person is told about at once."""
    if isinstance(exc, CoordbotError):
        return False
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 200)
        return status >= 500 or status == 429  # an `ok: false` answer is Slack's last word
    return True


def through_inbox(fn: Callable[..., None], *, opens_view: bool = False) -> Callable[..., None]:
    """Wrap a listener for the two places it runs.

    In the serving app, the listener runs as far as its `ack()`, which stores the request in the inbox and
    answers (handlers.serving.intake); `opens_view` marks a listener that opens a modal with the request's
    `trigger_id`, whose row the serving process runs at once. An error before `ack()` propagates, so that
    Bolt's error path answers the request itself.

    In a worker (handlers.serving.work), the listener runs in full as of the time the request was received. A
    refusal is told to the person; an error that may pass is left for the worker to retry the row.
    """
    names = get_arg_names_of_callable(fn)

    def listener(request: BoltRequest, response: BoltResponse | None, logger: logging.Logger) -> None:
        kwargs = build_required_kwargs(
            logger=logger,
            required_arg_names=list(names),
            request=request,
            response=response,
            this_func=fn,
            next_keys_required=False,
        )
        context = request.context
        taking: intake.Intake | None = context.get(intake.CONTEXT_KEY)
        if taking is not None and "ack" in kwargs:  # events went to the inbox before any listener
            kwargs["ack"] = intake.store_then_answer(kwargs["ack"], taking, request, urgent=opens_view)
        services = context.get("services")
        at = context.get(intake.RECEIVED_KEY)
        in_worker = context.get(intake.ROW_KEY) is not None
        try:
            with services.as_of(at) if services is not None and at is not None else nullcontext():
                fn(**kwargs)
        except intake.Stored:
            return
        except Exception as exc:
            if in_worker and retryable(exc):
                context[intake.FAILURE_KEY] = exc  # the worker tries the row again later
                return
            ack = context.ack
            if not in_worker and (ack is None or ack.response is None):
                raise
            handle_error(exc, request.body, None, context.client, context.get("directory"), context)

    listener.__name__ = fn.__name__
    listener.__qualname__ = fn.__qualname__
    listener.__doc__ = fn.__doc__
    return listener


def tell_parked(
    client: WebClient,
    body: dict[str, Any],
    row_id: int,
    directory: Directory,
    error: BaseException,
    *,
    response_urls: str = intake.SLACK_RESPONSE_URLS,
) -> None:
    """Tell the person a request was given up on after its last try; its row number is the reference."""
    user = _user_of(body) or ""
    lang = directory.lang_of(user) if user else "en"
    logger.error("request %s given up after its last try (coordbot retry %s)", row_id, row_id, exc_info=error)
    reply_privately(client, body, t(lang, "error.generic", ref=str(row_id)), response_urls=response_urls)
