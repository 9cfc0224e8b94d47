"""Rendering and sending due work from the outbox: reminders and overdue notices."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.errors import DeliveryFailed, NotFound
from bot.outbox import Deliver, DueWork, Outcome
from bot.services import Services
from bot.services.requirements import (
    KIND_OVERDUE,
    KIND_QUESTION_REMINDER,
    KIND_SIGN_REMINDER,
    RequirementInfo,
    Status,
)
from bot.text import t
from handlers.blocks.common import date_token, escape, mention, truncate
from handlers.directory import Directory

logger = logging.getLogger(__name__)

# Errors that will not go away by retrying: the row fails with the reason instead.
PERMANENT_ERRORS = frozenset({
    "channel_not_found", "user_not_found", "account_inactive", "not_in_channel", "is_archived",
    "cannot_dm_bot", "user_disabled", "invalid_auth", "not_authed", "token_revoked", "missing_scope",
    "invalid_blocks", "msg_too_long", "no_text", "restricted_action",
})


def classify(exc: Exception) -> DeliveryFailed:
    """Turn a Web API failure into a retryable or permanent delivery failure."""
    if isinstance(exc, SlackApiError):
        error = str(exc.response.get("error") or f"http_{exc.response.status_code}")
        if exc.response.status_code == 429:
            retry = exc.response.headers.get("retry-after") or exc.response.headers.get("Retry-After")
            try:
                return DeliveryFailed("ratelimited", permanent=False, retry_after=float(retry or 30))
            except (TypeError, ValueError):
                return DeliveryFailed("ratelimited", permanent=False)
        return DeliveryFailed(error, permanent=error in PERMANENT_ERRORS)
    return DeliveryFailed(f"{type(exc).__name__}: {exc}"[:300], permanent=False)


def permalink(client: WebClient, req: RequirementInfo) -> str | None:
    """A link to the sheet message, if it was posted."""
    if not req.message_ts:
        return None
    try:
        resp = client.chat_getPermalink(channel=req.channel_id, message_ts=req.message_ts)
    except SlackApiError as exc:
        logger.info("no permalink for %s: %s", req.code, exc.response.get("error"))
        return None
    return str(resp.get("permalink") or "") or None


def sheet_link(client: WebClient, req: RequirementInfo) -> str:
    """The permalink, or the channel when the message is unknown."""
    return permalink(client, req) or f"slack://channel?id={req.channel_id}"


def make_deliver(client: WebClient, services: Services, directory: Directory) -> Deliver:
    """The delivery function the tick hands each due row to."""
    reqs = services.requirements

    def sign_reminder(item: DueWork, now: datetime) -> Outcome:
        user = str(item.payload["user_id"])
        req = reqs.get(int(item.payload["requirement_id"]))
        if (req.status != Status.AWAITING or req.revision != item.payload.get("revision")
                or user not in req.unsigned_owners or now >= req.confirm_by):
            return Outcome.SKIPPED
        lang, tz = directory.lang_of(user, fetch=True), directory.tz_of(user, fetch=True)
        text = t(lang, "remind.sign", code=req.code, when=date_token(req.confirm_by, tz), link=sheet_link(client, req))
        client.chat_postMessage(channel=user, text=text)
        return Outcome.SENT

    def overdue(item: DueWork, now: datetime) -> Outcome:
        user = str(item.payload["user_id"])
        req = reqs.get(int(item.payload["requirement_id"]))
        if req.status != Status.AWAITING or req.revision != item.payload.get("revision") or not req.unsigned_owners:
            return Outcome.SKIPPED
        lang, tz = directory.lang_of(user, fetch=True), directory.tz_of(user, fetch=True)
        who = ", ".join(mention(u) for u in req.unsigned_owners)
        text = t(lang, "remind.overdue", code=req.code, when=date_token(req.confirm_by, tz), who=who,
                 link=sheet_link(client, req))
        client.chat_postMessage(channel=user, text=text)
        return Outcome.SENT

    def question_reminder(item: DueWork, now: datetime) -> Outcome:
        req, question = reqs.question_info(int(item.payload["question_id"]))
        if question.answered_at is not None:
            return Outcome.SKIPPED
        user = question.owner_id
        lang, tz = directory.lang_of(user, fetch=True), directory.tz_of(user, fetch=True)
        text = t(lang, "remind.question", code=req.code, when=date_token(question.deadline, tz),
                 text=escape(truncate(question.text, 500)), link=sheet_link(client, req))
        client.chat_postMessage(channel=user, text=text)
        return Outcome.SENT

    kinds: dict[str, Callable[[DueWork, datetime], Outcome]] = {
        KIND_SIGN_REMINDER: sign_reminder,
        KIND_OVERDUE: overdue,
        KIND_QUESTION_REMINDER: question_reminder,
    }

    def deliver(item: DueWork, now: datetime) -> Outcome:
        handler = kinds.get(item.kind)
        if handler is None:
            raise DeliveryFailed(f"unknown kind {item.kind}", permanent=True)
        try:
            return handler(item, now)
        except NotFound:
            return Outcome.SKIPPED
        except (SlackApiError, SlackRequestError, OSError) as exc:
            raise classify(exc) from exc

    return deliver
