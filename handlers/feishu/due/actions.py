"""Due work of action items on Feishu: reminders before the due time, overdue notices, escalations."""

from __future__ import annotations

from datetime import datetime

from bot.markup import escape, mention, truncate
from bot.outbox import DueWork, Outcome
from bot.services.actions import KIND_ACTION_ESCALATE, KIND_ACTION_OVERDUE, KIND_ACTION_REMINDER, ActionInfo
from bot.text import t
from handlers.feishu.cards.common import when
from handlers.feishu.due.common import FeishuDeliverer, Outbound, card_title, chat_link, md


def deliverers(out: Outbound) -> dict[str, FeishuDeliverer]:
    """Renderers for action items' due work: reminders, overdue notices and escalations."""
    services, actions, who, dm = out.services, out.services.actions, out.who, out.dm

    def with_link(lang: str, text: str, item: ActionInfo) -> str:
        if not item.channel_id:
            return text
        return f"{text}\n{t(lang, 'action.open_message', link=chat_link(services, item.channel_id))}"

    def action_reminder(work: DueWork, now: datetime) -> Outcome:
        user = str(work.payload["user_id"])
        item = actions.get(int(work.payload["action_id"]))
        if item.status.closed or now >= item.due:
            return Outcome.SKIPPED  # finished, or the overdue notice says it better
        lang, tz = who(user)
        text = t(
            lang,
            "action.remind",
            code=item.code,
            when=when(item.due, tz, lang),
            title=escape(truncate(item.title, 500)),
        )
        dm(work, user, card_title(item.code, item.title), md(with_link(lang, text, item)))
        return Outcome.SENT

    def action_overdue(work: DueWork, now: datetime) -> Outcome:
        user = str(work.payload["user_id"])
        item = actions.get(int(work.payload["action_id"]))
        if item.status.closed:
            return Outcome.SKIPPED
        lang, tz = who(user)
        text = t(
            lang,
            "action.overdue_owner" if user == item.owner_id else "action.overdue_escalate",
            code=item.code,
            when=when(item.due, tz, lang),
            title=escape(truncate(item.title, 500)),
            owner=mention(item.owner_id),
        )
        dm(work, user, card_title(item.code, item.title), md(with_link(lang, text, item)), template="orange")
        return Outcome.SENT

    def action_escalate(work: DueWork, now: datetime) -> Outcome:
        user = str(work.payload["user_id"])
        item = actions.get(int(work.payload["action_id"]))
        if item.status.closed or item.escalated_at is not None:
            return Outcome.SKIPPED
        lang, tz = who(user)
        text = t(
            lang,
            "action.escalated",
            code=item.code,
            when=when(item.due, tz, lang),
            title=escape(truncate(item.title, 500)),
            owner=mention(item.owner_id),
            days=actions.escalation_days,
        )
        dm(work, user, card_title(item.code, item.title), md(with_link(lang, text, item)), template="red")
        actions.mark_escalated(item.id, now=now)
        out.refreshed("action", item.id)
        return Outcome.SENT

    return {
        KIND_ACTION_REMINDER: action_reminder,
        KIND_ACTION_OVERDUE: action_overdue,
        KIND_ACTION_ESCALATE: action_escalate,
    }
