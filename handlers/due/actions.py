"""Due work of action items: the owner's reminder before the due time and the overdue notices after it."""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient

from bot.outbox import DueWork, Outcome
from bot.services import Services
from bot.services.actions import (
    KIND_ACTION_ESCALATE,
    KIND_ACTION_OVERDUE,
    KIND_ACTION_REMINDER,
    ActionInfo,
)
from bot.text import t
from handlers.blocks.common import date_token, escape, mention, truncate
from handlers.due.outbound import Deliverer, message_link
from handlers.workspace.directory import Directory

logger = logging.getLogger(__name__)


def deliverers(client: WebClient, services: Services, directory: Directory) -> dict[str, Deliverer]:
    """Renderers for action items' due work: reminders and overdue notices, skipped once an item is done."""
    actions = services.actions

    def with_link(lang: str, text: str, item: ActionInfo) -> str:
        link = message_link(client, item.channel_id, item.message_ts)
        return f"{text}\n{t(lang, 'action.open_message', link=link)}" if link else text

    def reminder(work: DueWork, now: datetime) -> Outcome:
        user = str(work.payload["user_id"])
        item = actions.get(int(work.payload["action_id"]))
        if item.status.closed or now >= item.due:
            return Outcome.SKIPPED  # finished, or the overdue notice says it better
        lang, tz = directory.lang_of(user, fetch=True), directory.tz_of(user, fetch=True)
        text = t(
            lang,
            "action.remind",
            code=item.code,
            when=date_token(item.due, tz),
            title=escape(truncate(item.title, 500)),
        )
        client.chat_postMessage(channel=user, text=with_link(lang, text, item))
        return Outcome.SENT

    def overdue(work: DueWork, now: datetime) -> Outcome:
        user = str(work.payload["user_id"])
        item = actions.get(int(work.payload["action_id"]))
        if item.status.closed:
            return Outcome.SKIPPED
        lang, tz = directory.lang_of(user, fetch=True), directory.tz_of(user, fetch=True)
        key = "action.overdue_owner" if user == item.owner_id else "action.overdue_escalate"
        text = t(
            lang,
            key,
            code=item.code,
            when=date_token(item.due, tz),
            title=escape(truncate(item.title, 500)),
            owner=mention(item.owner_id),
        )
        client.chat_postMessage(channel=user, text=with_link(lang, text, item))
        return Outcome.SENT

    def escalate(work: DueWork, now: datetime) -> Outcome:
        user = str(work.payload["user_id"])
        item = actions.get(int(work.payload["action_id"]))
        if item.status.closed or item.escalated_at is not None:
            return Outcome.SKIPPED
        lang, tz = directory.lang_of(user, fetch=True), directory.tz_of(user, fetch=True)
        text = t(
            lang,
            "action.escalated",
            code=item.code,
            when=date_token(item.due, tz),
            title=escape(truncate(item.title, 500)),
            owner=mention(item.owner_id),
            days=actions.escalation_days,
        )
        client.chat_postMessage(channel=user, text=with_link(lang, text, item))
        actions.mark_escalated(item.id, now=now)
        return Outcome.SENT

    return {KIND_ACTION_REMINDER: reminder, KIND_ACTION_OVERDUE: overdue, KIND_ACTION_ESCALATE: escalate}
