"""Due work of incidents on Feishu: escalation to the backups, the commander's update and review reminders."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.markup import escape, mention, truncate
from bot.outbox import DueWork, Outcome
from bot.services.incidents import KIND_ESCALATE, KIND_REVIEW_DUE, KIND_UPDATE_DUE, IncidentInfo
from bot.text import t
from handlers.feishu.cards import incident as incident_cards
from handlers.feishu.cards.common import button, buttons, card, when
from handlers.feishu.due.common import FeishuDeliverer, Outbound, card_title, chat_link, idempotency_key, md

_DO = "incident"  # written apart: the catalog check reads "x.y" as a text key
# the review reminder's button: {"do": DO_REVIEW_MEETING, "id": incident id}; the other buttons are the cards' own
DO_REVIEW_MEETING = f"{_DO}.review_meeting"


def deliverers(out: Outbound) -> dict[str, FeishuDeliverer]:
    """Renderers for incidents' due work: escalations, update reminders and review reminders."""
    api, services, people, who, dm = out.api, out.services, out.people, out.who, out.dm
    incidents = services.incidents

    def channel(info: IncidentInfo) -> str:
        return f"<{chat_link(services, info.channel_id)}|{info.code}>" if info.channel_id else info.code

    def planned_at_another_severity(work: DueWork, info: IncidentInfo) -> bool:
        planned = work.payload.get("severity")
        return planned is not None and planned != info.severity.value

    def incident_escalate(work: DueWork, now: datetime) -> Outcome:
        info = incidents.get(int(work.payload["incident_id"]))
        if info.resolved or info.acknowledged_at is not None or planned_at_another_severity(work, info):
            return Outcome.SKIPPED
        user = str(work.payload["user_id"])
        if user == info.commander_id:  # command was handed to this backup meanwhile
            return Outcome.SKIPPED
        info, first = incidents.mark_escalated(info.id, now=now)
        minutes = _minutes(incidents.ack_window(info.severity))
        if first and info.channel_id:
            chat_lang = out.channel_lang(info.channel_id)
            backups = " ".join(mention(u) for u in incidents.backups if u != info.commander_id)
            post = t(
                chat_lang,
                "incident.post.escalated",
                commander=mention(info.commander_id),
                minutes=minutes,
                users=backups,
            )
            shown = card(card_title(info.code, info.title), md(post), template="red")
            api.send_card(chat_id=info.channel_id, card=shown, uuid=idempotency_key(work, "chat"))
            out.refreshed("incident", info.id)
        lang = people.lang_of(user, fetch=True)
        intro = t(
            lang,
            "incident.dm.escalate",
            code=info.code,
            title=escape(truncate(info.title, 200)),
            severity=incident_cards.severity_label(lang, info.severity),
            commander=mention(info.commander_id),
            minutes=minutes,
            channel=channel(info),
        )
        ack = button(
            t(lang, "incident.button.ack"),
            {"do": incident_cards.DO_ACK, "id": info.id},
            kind="primary_filled",
            name=f"{incident_cards.Names.ACK}_{info.id}",
        )
        dm(work, user, card_title(info.code, info.title), [*md(intro), buttons(ack)], template="red")
        return Outcome.SENT

    def update_due(work: DueWork, now: datetime) -> Outcome:
        info = incidents.get(int(work.payload["incident_id"]))
        if info.resolved or int(info.last_update_at.timestamp()) != work.payload.get("since"):
            return Outcome.SKIPPED
        if planned_at_another_severity(work, info):
            return Outcome.SKIPPED
        user = info.commander_id
        lang = people.lang_of(user, fetch=True)
        text = t(
            lang,
            "incident.dm.update_due",
            code=info.code,
            title=escape(truncate(info.title, 200)),
            minutes=_minutes(now - info.last_update_at),
            severity=info.severity.value,
            cadence=_minutes(incidents.update_cadence(info.severity)),
            channel=channel(info),
        )
        dm(work, user, card_title(info.code, info.title), md(text), template="orange")
        incidents.plan_next_reminder(info.id, after=work.due_at, plan=str(work.payload.get("plan") or ""), now=now)
        return Outcome.SENT

    def review_due(work: DueWork, now: datetime) -> Outcome:
        info = incidents.review_reminder_due(int(work.payload["incident_id"]), resolved=int(work.payload["resolved"]))
        if info is None or info.resolved_at is None:  # a review meeting exists, or it was reopened since
            return Outcome.SKIPPED
        user = info.commander_id
        lang, tz = who(user)
        intro = t(
            lang,
            "incident.dm.review_due",
            code=info.code,
            title=escape(truncate(info.title, 200)),
            severity=incident_cards.severity_label(lang, info.severity),
            when=when(info.resolved_at, tz, lang),
            days=incidents.review_due_days,
            channel=channel(info),
        )
        schedule = button(
            t(lang, "incident.button.review_meeting"),
            {"do": DO_REVIEW_MEETING, "id": info.id},
            kind="primary_filled",
            name=f"incident_review_meeting_{info.id}",
        )
        dm(work, user, card_title(info.code, info.title), [*md(intro), buttons(schedule)])
        return Outcome.SENT

    return {
        KIND_ESCALATE: incident_escalate,
        KIND_UPDATE_DUE: update_due,
        KIND_REVIEW_DUE: review_due,
    }


def _minutes(delta: Any) -> int:
    return int(delta.total_seconds() // 60) if delta else 0
