"""Due work of the requirement sheet: sign reminders, overdue notices and open-question reminders."""

from __future__ import annotations

from datetime import datetime

from slack_sdk import WebClient

from bot.outbox import DueWork, Outcome
from bot.services import Services
from bot.services.requirements import KIND_OVERDUE, KIND_QUESTION_REMINDER, KIND_SIGN_REMINDER, Status
from bot.text import t
from handlers.blocks.common import date_token, escape, mention, truncate
from handlers.due.outbound import Deliverer, link_or_channel
from handlers.workspace.directory import Directory


def deliverers(client: WebClient, services: Services, directory: Directory) -> dict[str, Deliverer]:
    """Renderers for the requirement sheet's due work: sign reminders, overdue notices, question reminders."""
    reqs = services.requirements

    def sign_reminder(item: DueWork, now: datetime) -> Outcome:
        user = str(item.payload["user_id"])
        req = reqs.get(int(item.payload["requirement_id"]))
        if (
            req.status != Status.AWAITING
            or req.revision != item.payload.get("revision")
            or user not in req.unsigned_owners
            or now >= req.confirm_by
        ):
            return Outcome.SKIPPED
        lang, tz = directory.lang_of(user, fetch=True), directory.tz_of(user, fetch=True)
        link = link_or_channel(client, req.channel_id, req.message_ts)
        text = t(lang, "remind.sign", code=req.code, when=date_token(req.confirm_by, tz), link=link)
        client.chat_postMessage(channel=user, text=text)
        return Outcome.SENT

    def overdue(item: DueWork, now: datetime) -> Outcome:
        user = str(item.payload["user_id"])
        req = reqs.get(int(item.payload["requirement_id"]))
        if req.status != Status.AWAITING or req.revision != item.payload.get("revision") or not req.unsigned_owners:
            return Outcome.SKIPPED
        lang, tz = directory.lang_of(user, fetch=True), directory.tz_of(user, fetch=True)
        who = ", ".join(mention(u) for u in req.unsigned_owners)
        text = t(
            lang,
            "remind.overdue",
            code=req.code,
            when=date_token(req.confirm_by, tz),
            who=who,
            link=link_or_channel(client, req.channel_id, req.message_ts),
        )
        client.chat_postMessage(channel=user, text=text)
        return Outcome.SENT

    def question_reminder(item: DueWork, now: datetime) -> Outcome:
        req, question = reqs.question_info(int(item.payload["question_id"]))
        if question.answered_at is not None:
            return Outcome.SKIPPED
        user = question.owner_id
        lang, tz = directory.lang_of(user, fetch=True), directory.tz_of(user, fetch=True)
        text = t(
            lang,
            "remind.question",
            code=req.code,
            when=date_token(question.deadline, tz),
            text=escape(truncate(question.text, 500)),
            link=link_or_channel(client, req.channel_id, req.message_ts),
        )
        client.chat_postMessage(channel=user, text=text)
        return Outcome.SENT

    return {
        KIND_SIGN_REMINDER: sign_reminder,
        KIND_OVERDUE: overdue,
        KIND_QUESTION_REMINDER: question_reminder,
    }
