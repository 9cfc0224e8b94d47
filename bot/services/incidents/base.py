"""The incident service's base: settings, permissions, reading, and the internals its parts share."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot import outbox
from bot.errors import Conflict, NotAllowed, NotFound
from bot.services.incident_text import Severity, Status
from bot.services.incidents.model import (
    DEFAULT_ACK_MINUTES,
    DEFAULT_UPDATE_MINUTES,
    KIND_ESCALATE,
    KIND_UPDATE_DUE,
    IncidentInfo,
    ReviewState,
    TimelineItem,
)
from bot.workhours import WorkCalendar
from storage import incidents as repo
from storage import meetings as meeting_repo
from storage.db import SessionScope
from storage.models import Incident

if TYPE_CHECKING:
    from bot.services.actions import ActionService

logger = logging.getLogger(__name__)


class IncidentBase:
    """What IncidentService's parts share: its settings, who may act, reading, loading and planning reminders."""

    def __init__(
        self,
        session_scope: SessionScope,
        actions: ActionService,
        *,
        tz: str = "UTC",
        ack_minutes: Sequence[int] = DEFAULT_ACK_MINUTES,
        update_minutes: Sequence[int] = DEFAULT_UPDATE_MINUTES,
        backups: Sequence[str] = (),
        reopen_days: int = 7,
        review_due_days: int = 5,
        calendar: WorkCalendar | None = None,
    ) -> None:
        self._scope = session_scope
        self._actions = actions
        self._zone = ZoneInfo(tz)
        self.ack_minutes = tuple(ack_minutes)
        self.update_minutes = tuple(update_minutes)
        self.backups = tuple(backups)
        self.reopen_days = reopen_days
        self.review_due_days = review_due_days
        self._calendar = calendar  # None: the action items' (the workspace's working days)

    def ack_window(self, severity: Severity) -> timedelta | None:
        """How long the commander has to acknowledge before the backups hear (None: no escalation)."""
        minutes = self.ack_minutes[Severity(severity).position]
        return timedelta(minutes=minutes) if minutes > 0 else None

    def update_cadence(self, severity: Severity) -> timedelta | None:
        """How often an update is expected (None: no reminders)."""
        minutes = self.update_minutes[Severity(severity).position]
        return timedelta(minutes=minutes) if minutes > 0 else None

    # -- permissions -----------------------------------------------------------------------------------

    @staticmethod
    def check_can_run(info: IncidentInfo, user_id: str) -> None:
        """The commander, the comms lead and the responders change status, resolve and record decisions."""
        if user_id not in info.team:
            raise NotAllowed("error.incident_not_responder", code=info.code, commander=f"<@{info.commander_id}>")

    @staticmethod
    def check_commander(info: IncidentInfo, user_id: str) -> None:
        """Only the commander assigns roles and hands over command."""
        if user_id != info.commander_id:
            raise NotAllowed("error.incident_not_commander", code=info.code, commander=f"<@{info.commander_id}>")

    @staticmethod
    def check_open(info: IncidentInfo) -> None:
        """A resolved incident no longer changes."""
        if info.resolved:
            raise Conflict("error.incident_resolved", code=info.code)

    # -- reading ---------------------------------------------------------------------------------------

    def get(self, incident_id: int, *, with_timeline: bool = False) -> IncidentInfo:
        """One incident by primary key."""
        with self._scope() as s:
            return self._load(s, self._get(s, incident_id), with_timeline=with_timeline)

    def by_code(self, team_id: str, code: str, *, with_timeline: bool = False) -> IncidentInfo:
        """One incident by its ID such as INC-2026-001."""
        with self._scope() as s:
            row = repo.by_code(s, team_id=team_id, code=code.strip().upper())
            if row is None:
                raise NotFound("error.incident_not_found", code=code)
            return self._load(s, row, with_timeline=with_timeline)

    def by_channel(self, channel_id: str) -> IncidentInfo | None:
        """The incident run in this channel, if any (an `/action` there links to it)."""
        if not channel_id:
            return None
        with self._scope() as s:
            row = repo.by_channel(s, channel_id)
            return None if row is None else self._load(s, row)

    def source_for(self, channel_id: str) -> dict[str, Any]:
        """The action-item source of the incident run in this channel, or {} outside incident channels."""
        info = self.by_channel(channel_id)
        return info.action_source if info else {}

    # -- internals -------------------------------------------------------------------------------------

    def _backups_for(self, commander_id: str) -> tuple[str, ...]:
        return tuple(u for u in self.backups if u != commander_id)

    def _plan_escalation(self, s: Session, info: IncidentInfo, now: datetime, *, plan: str = "") -> None:
        """The call to the backups, the severity's window after the declaration (at once if that has passed)."""
        window = self.ack_window(info.severity)
        if info.acknowledged_at is not None or window is None:
            return
        backups = self._backups_for(info.commander_id)
        if not backups:
            logger.info("incident %s: no backup list, so no escalation is planned", info.code)
        for user in backups:
            outbox.schedule(
                s,
                team_id=info.team_id,
                kind=KIND_ESCALATE,
                subject=_subject(info.id),
                # a plan of its own after a severity change: the cancelled row keeps the first key
                key=f"inc:{info.id}:escalate:{user}" + (f":{plan}" if plan else ""),
                due_at=max(now, info.declared_at + window),
                now=now,
                payload={"incident_id": info.id, "user_id": user, "severity": info.severity.value},
            )

    def _plan_update(self, s: Session, info: IncidentInfo, now: datetime) -> None:
        """The next update reminder, a cadence after the last update or status change."""
        outbox.cancel(s, subject=_subject(info.id), kinds=(KIND_UPDATE_DUE,))
        cadence = self.update_cadence(info.severity)
        if cadence is not None and not info.resolved:
            # a fresh key each time: two changes in the same second must not meet the cancelled row's key
            self._schedule_update(s, info, info.last_update_at + cadence, now, plan=uuid.uuid4().hex[:12])

    @staticmethod
    def _schedule_update(s: Session, info: IncidentInfo, due: datetime, now: datetime, *, plan: str) -> None:
        since = int(info.last_update_at.timestamp())
        outbox.schedule(
            s,
            team_id=info.team_id,
            kind=KIND_UPDATE_DUE,
            subject=_subject(info.id),
            key=f"inc:{info.id}:update:{since}:{plan}:{int(due.timestamp())}",
            due_at=due,
            now=now,
            payload={"incident_id": info.id, "since": since, "plan": plan, "severity": info.severity.value},
        )

    def _set(self, incident_id: int, **values: Any) -> IncidentInfo:
        with self._scope() as s:
            row = self._get(s, incident_id, lock=True)
            for key, value in values.items():
                setattr(row, key, value)
            s.add(row)
            s.flush()
            return self._load(s, row)

    @staticmethod
    def _get(s: Session, incident_id: int, *, lock: bool = False) -> Incident:
        row = repo.get(s, incident_id, lock=lock)
        if row is None:
            raise NotFound("error.incident_not_found", code=str(incident_id))
        return row

    @staticmethod
    def _load(s: Session, row: Incident, *, with_timeline: bool = False) -> IncidentInfo:
        iid = int(row.id or 0)
        meeting_id, meeting_code, state = _review_of(s, iid)
        timeline = (
            tuple(
                TimelineItem(e.at, e.actor_id, e.kind, e.text, json.loads(e.detail or "{}"), e.message_ts)
                for e in repo.timeline(s, iid)
            )
            if with_timeline
            else ()
        )
        return IncidentInfo(
            id=iid,
            code=row.code,
            team_id=row.team_id,
            title=row.title,
            severity=Severity(row.severity),
            status=Status(row.status),
            description=row.description,
            impact=row.impact,
            commander_id=row.commander_id,
            comms_id=row.comms_id,
            responders=tuple(repo.responders(s, iid)),
            declared_by=row.declared_by,
            declared_in=row.declared_in,
            channel_id=row.channel_id,
            channel_name=row.channel_name,
            summary_ts=row.summary_ts,
            announce_channel_id=row.announce_channel_id,
            announce_ts=row.announce_ts,
            declared_at=row.declared_at,
            acknowledged_at=row.acknowledged_at,
            acknowledged_by=row.acknowledged_by,
            escalated_at=row.escalated_at,
            last_update_at=row.last_update_at,
            resolved_at=row.resolved_at,
            resolved_by=row.resolved_by,
            resolution=row.resolution,
            created_at=row.created_at,
            updated_at=row.updated_at,
            timeline=timeline,
            mitigated_at=row.mitigated_at,
            reopened_count=int(row.reopened_count or 0),
            reopened_at=row.reopened_at,
            review_meeting_id=meeting_id,
            review_meeting_code=meeting_code,
            review_state=state,
        )


def _subject(incident_id: int) -> str:
    return f"incident:{incident_id}"


def _stamp(info: IncidentInfo) -> int:
    """The resolution's moment as a Unix time (0 while open): what names one resolution among several."""
    return int(info.resolved_at.timestamp()) if info.resolved_at else 0


def _review_of(s: Session, incident_id: int) -> tuple[int | None, str | None, ReviewState]:
    """The latest review meeting of an incident (id, code) and how far its review has come."""
    meetings = meeting_repo.for_incident(s, incident_id)
    if not meetings:
        return None, None, ReviewState.NONE
    latest = meetings[-1]
    mid = int(latest.id or 0)
    if latest.minutes_at is None:
        return mid, latest.code, ReviewState.SCHEDULED
    attendees = {latest.host_id, *meeting_repo.participants(s, mid)}
    acked = {a.user_id for a in meeting_repo.acks(s, mid)}
    return mid, latest.code, ReviewState.DONE if attendees <= acked else ReviewState.MINUTES
