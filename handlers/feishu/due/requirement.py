"""Due work of the requirement sheet on Feishu: sign reminders, overdue notices and open-question reminders."""

from __future__ import annotations

from datetime import datetime

from bot.markup import escape, mention, truncate
from bot.outbox import DueWork, Outcome
from bot.services.requirements import KIND_OVERDUE, KIND_QUESTION_REMINDER, KIND_SIGN_REMINDER, Status
from bot.text import t
from handlers.feishu.cards.common import when
from handlers.feishu.due.common import FeishuDeliverer, Outbound, card_title, chat_link, md


def deliverers(out: Outbound) -> dict[str, FeishuDeliverer]:
    """Renderers for the requirement sheet's due work: sign reminders, overdue notices, question reminders."""
    services, reqs, who, dm = out.services, out.services.requirements, out.who, out.dm

    def sign_reminder(work: DueWork, now: datetime) -> Outcome:
        user = str(work.payload["user_id"])
        req = reqs.get(int(work.payload["requirement_id"]))
        if (
            req.status != Status.AWAITING
            or req.revision != work.payload.get("revision")
            or user not in req.unsigned_owners
            or now >= req.confirm_by
        ):
            return Outcome.SKIPPED
        lang, tz = who(user)
        link = chat_link(services, req.channel_id)
        text = t(lang, "remind.sign", code=req.code, when=when(req.confirm_by, tz, lang), link=link)
        dm(work, user, card_title(req.code), md(text))
        return Outcome.SENT

    def req_overdue(work: DueWork, now: datetime) -> Outcome:
        user = str(work.payload["user_id"])
        req = reqs.get(int(work.payload["requirement_id"]))
        if req.status != Status.AWAITING or req.revision != work.payload.get("revision") or not req.unsigned_owners:
            return Outcome.SKIPPED
        lang, tz = who(user)
        text = t(
            lang,
            "remind.overdue",
            code=req.code,
            when=when(req.confirm_by, tz, lang),
            who=", ".join(mention(u) for u in req.unsigned_owners),
            link=chat_link(services, req.channel_id),
        )
        dm(work, user, card_title(req.code), md(text), template="orange")
        return Outcome.SENT

    def question_reminder(work: DueWork, now: datetime) -> Outcome:
        req, question = reqs.question_info(int(work.payload["question_id"]))
        if question.answered_at is not None:
            return Outcome.SKIPPED
        user = question.owner_id
        lang, tz = who(user)
        text = t(
            lang,
            "remind.question",
            code=req.code,
            when=when(question.deadline, tz, lang),
            text=escape(truncate(question.text, 500)),
            link=chat_link(services, req.channel_id),
        )
        dm(work, user, card_title(req.code), md(text))
        return Outcome.SENT

    return {
        KIND_SIGN_REMINDER: sign_reminder,
        KIND_OVERDUE: req_overdue,
        KIND_QUESTION_REMINDER: question_reminder,
    }
