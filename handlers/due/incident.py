"""Due work of incidents: the escalation to the backup list, and reminders to post an update."""

from __future__ import annotations

from datetime import datetime, timedelta

from slack_sdk import WebClient

from bot.outbox import DueWork, Outcome
from bot.services import Services
from bot.services.incidents import KIND_ESCALATE, KIND_REVIEW_DUE, KIND_UPDATE_DUE, IncidentInfo
from bot.text import t
from handlers.blocks import incident as blocks
from handlers.blocks.common import date_token, escape, mention, truncate
from handlers.due.outbound import Deliverer
from handlers.workspace.directory import Directory


def _minutes(delta: timedelta | None) -> int:
    return int(delta.total_seconds() // 60) if delta else 0


def _planned_at_another_severity(item: DueWork, info: IncidentInfo) -> bool:
    """A row planned before the severity changed (one already claimed when it was rescheduled) is not sent."""
    planned = item.payload.get("severity")
    return planned is not None and planned != info.severity.value


def deliverers(client: WebClient, services: Services, directory: Directory) -> dict[str, Deliverer]:
    """Renderers for the incident feature's due work."""
    incidents = services.incidents

    def escalate(item: DueWork, now: datetime) -> Outcome:
        info = incidents.get(int(item.payload["incident_id"]))
        if info.resolved or info.acknowledged_at is not None or _planned_at_another_severity(item, info):
            return Outcome.SKIPPED
        user = str(item.payload["user_id"])
        if user == info.commander_id:  # command was handed to this backup meanwhile
            return Outcome.SKIPPED
        info, first = incidents.mark_escalated(info.id, now=now)
        minutes = _minutes(incidents.ack_window(info.severity))
        if first and info.channel_id:
            backups = " ".join(mention(u) for u in incidents.backups if u != info.commander_id)
            client.chat_postMessage(
                channel=info.channel_id,
                text=t(
                    directory.channel_lang(info.channel_id),
                    "incident.post.escalated",
                    commander=mention(info.commander_id),
                    minutes=minutes,
                    users=backups,
                ),
            )
        lang = directory.lang_of(user, fetch=True)
        intro = t(
            lang,
            "incident.dm.escalate",
            code=info.code,
            title=escape(truncate(info.title, 200)),
            severity=blocks.severity_label(lang, info.severity),
            commander=mention(info.commander_id),
            minutes=minutes,
            channel=blocks.channel_link(info),
        )
        client.chat_postMessage(channel=user, text=intro, blocks=blocks.ack_request_blocks(lang, info, intro))
        return Outcome.SENT

    def update_due(item: DueWork, now: datetime) -> Outcome:
        info = incidents.get(int(item.payload["incident_id"]))
        if info.resolved or int(info.last_update_at.timestamp()) != item.payload.get("since"):
            return Outcome.SKIPPED
        if _planned_at_another_severity(item, info):
            return Outcome.SKIPPED
        user = info.commander_id
        lang = directory.lang_of(user, fetch=True)
        client.chat_postMessage(
            channel=user,
            text=t(
                lang,
                "incident.dm.update_due",
                code=info.code,
                title=escape(truncate(info.title, 200)),
                minutes=_minutes(now - info.last_update_at),
                severity=info.severity.value,
                cadence=_minutes(incidents.update_cadence(info.severity)),
                channel=blocks.channel_link(info),
            ),
        )
        incidents.plan_next_reminder(info.id, after=item.due_at, plan=str(item.payload.get("plan") or ""), now=now)
        return Outcome.SENT

    def review_due(item: DueWork, now: datetime) -> Outcome:
        info = incidents.review_reminder_due(int(item.payload["incident_id"]), resolved=int(item.payload["resolved"]))
        if info is None or info.resolved_at is None:  # a review meeting exists, or it was reopened since
            return Outcome.SKIPPED
        user = info.commander_id
        lang, tz = directory.lang_of(user, fetch=True), directory.tz_of(user, fetch=True)
        intro = t(
            lang,
            "incident.dm.review_due",
            code=info.code,
            title=escape(truncate(info.title, 200)),
            severity=blocks.severity_label(lang, info.severity),
            when=date_token(info.resolved_at, tz),
            days=incidents.review_due_days,
            channel=blocks.channel_link(info),
        )
        client.chat_postMessage(channel=user, text=intro, blocks=blocks.review_due_blocks(lang, info, intro))
        return Outcome.SENT

    return {KIND_ESCALATE: escalate, KIND_UPDATE_DUE: update_due, KIND_REVIEW_DUE: review_due}
