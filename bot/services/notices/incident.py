"""When an incident's escalation, update reminders and review reminder go out, to whom, saying what."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.notices import Extra, Label, Notice, People, Person, Plan, Record, Room, Text, Tone, Typed, When
from bot.outbox import DueWork
from bot.services.incidents import IncidentInfo, IncidentService

KIND = "incident"


def _minutes(delta: timedelta | None) -> int:
    return int(delta.total_seconds() // 60) if delta else 0


def _record(info: IncidentInfo) -> Record:
    return Record(KIND, info.id, info.code, info.title)


def _planned_at_another_severity(work: DueWork, info: IncidentInfo) -> bool:
    """A row planned before the severity changed (one already claimed when it was rescheduled) is not sent."""
    planned = work.payload.get("severity")
    return planned is not None and planned != info.severity.value


def escalate(incidents: IncidentService, work: DueWork, now: datetime) -> Plan:
    """A backup, when the commander has not acknowledged within the severity's window; the first one tells
    the incident channel too. The incident is marked escalated as this is planned."""
    info = incidents.get(int(work.payload["incident_id"]))
    if info.resolved or info.acknowledged_at is not None or _planned_at_another_severity(work, info):
        return Plan.skip()
    user = str(work.payload["user_id"])
    if user == info.commander_id:  # command was handed to this backup meanwhile
        return Plan.skip()
    info, first = incidents.mark_escalated(info.id, now=now)
    minutes = _minutes(incidents.ack_window(info.severity))
    notices = []
    if first and info.channel_id:
        backups = tuple(u for u in incidents.backups if u != info.commander_id)
        post = Text.of(
            "incident.post.escalated", commander=Person(info.commander_id), minutes=minutes, users=People(backups, " ")
        )
        notices.append(Notice(info.channel_id, _record(info), post, tone=Tone.ALERT, in_channel=True, part="chat"))
    text = Text.of(
        "incident.dm.escalate",
        code=info.code,
        title=Typed(info.title, 200),
        severity=Label(f"{KIND}.severity.{info.severity.value}"),
        commander=Person(info.commander_id),
        minutes=minutes,
        channel=Room(info.channel_id, info.code),
    )
    notices.append(Notice(user, _record(info), text, tone=Tone.ALERT, extra=Extra.ACK, about=info))
    return Plan(tuple(notices))


def update_due(incidents: IncidentService, work: DueWork, now: datetime) -> Plan:
    """The commander, when no update was posted for the severity's cadence; the next reminder is planned after."""
    info = incidents.get(int(work.payload["incident_id"]))
    if info.resolved or int(info.last_update_at.timestamp()) != work.payload.get("since"):
        return Plan.skip()
    if _planned_at_another_severity(work, info):
        return Plan.skip()
    text = Text.of(
        "incident.dm.update_due",
        code=info.code,
        title=Typed(info.title, 200),
        minutes=_minutes(now - info.last_update_at),
        severity=info.severity.value,
        cadence=_minutes(incidents.update_cadence(info.severity)),
        channel=Room(info.channel_id, info.code),
    )
    due_at, plan = work.due_at, str(work.payload.get("plan") or "")

    def plan_next() -> None:
        incidents.plan_next_reminder(info.id, after=due_at, plan=plan, now=now)

    return Plan((Notice(info.commander_id, _record(info), text, tone=Tone.WARN),), then=plan_next)


def review_due(incidents: IncidentService, work: DueWork, now: datetime) -> Plan:
    """The commander, days after the resolution, while no review meeting is planned."""
    info = incidents.review_reminder_due(int(work.payload["incident_id"]), resolved=int(work.payload["resolved"]))
    if info is None or info.resolved_at is None:  # a review meeting exists, or it was reopened since
        return Plan.skip()
    text = Text.of(
        "incident.dm.review_due",
        code=info.code,
        title=Typed(info.title, 200),
        severity=Label(f"{KIND}.severity.{info.severity.value}"),
        when=When(info.resolved_at),
        days=incidents.review_due_days,
        channel=Room(info.channel_id, info.code),
    )
    return Plan((Notice(info.commander_id, _record(info), text, extra=Extra.REVIEW, about=info),))
