"""Emergency response (应急响应): declare, coordinate, update, resolve, review (复盘).

An incident has a commander who acknowledges it, responders who run it, a status that moves
investigating → identified → monitoring → resolved, updates at the severity's cadence, and a
timeline that writes itself. Unacknowledged incidents escalate once to a backup list; follow-ups
after the review are action items like any other.

An incident changes as it unfolds: the commander raises or lowers its severity (its reminders follow)
and corrects what it says; a resolved incident may be reopened for a while. Its review meeting is a
meeting that names it, whose minutes' items count among its follow-ups.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot import inbox, outbox
from bot.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from bot.services.incident_text import Severity, Status
from bot.workhours import WorkCalendar
from storage import counters
from storage import incidents as repo
from storage import meetings as meeting_repo
from storage.db import SessionScope
from storage.models import Incident

if TYPE_CHECKING:
    from bot.services.actions import ActionDraft, ActionInfo, ActionService
    from bot.services.meetings import MeetingDraft

logger = logging.getLogger(__name__)

PREFIX = "INC"
SOURCE = "incident"
MAX_TITLE = 150
MAX_TEXT = 3000
MAX_DECISIONS = 30
MAX_FOLLOW_UPS = 30

KIND_ESCALATE = "incident.escalate"
KIND_UPDATE_DUE = "incident.update_due"
KIND_REVIEW_DUE = "incident.review_due"  # a SEV1/SEV2 still without a review meeting, to its commander

REVIEWED_SEVERITIES = (Severity.SEV1, Severity.SEV2)  # these get a review reminder
EDITABLE = ("title", "description", "impact")

DEFAULT_ACK_MINUTES = (5, 15, 60, 0)  # SEV1 … SEV4; 0: no escalation
DEFAULT_UPDATE_MINUTES = (30, 60, 240, 0)  # SEV1 … SEV4; 0: no update reminders


@dataclass(frozen=True)
class IncidentDraft:
    """An incident as declared, already parsed into plain values."""

    title: str
    severity: str
    commander_id: str
    description: str = ""
    impact: str = ""
    responders: tuple[str, ...] = ()


@dataclass(frozen=True)
class IncidentEdit:
    """The commander's corrections to what is written about an incident."""

    title: str
    description: str = ""
    impact: str = ""


@dataclass(frozen=True)
class ResolutionDraft:
    """How it ended: a summary, the decisions taken, and follow-up action items."""

    summary: str
    decisions: tuple[str, ...] = ()
    follow_ups: tuple[ActionDraft, ...] = ()


@dataclass(frozen=True)
class TimelineItem:
    """One moment of an incident."""

    at: datetime
    actor_id: str
    # declared, acknowledged, escalated, status, update, role, lead, decision, pinned, resolved,
    # severity, edit.title / edit.description / edit.impact (before and after in `detail`), reopened
    kind: str
    text: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    message_ts: str | None = None


class ReviewState(StrEnum):
    """How far the review (复盘) has come: no meeting, a meeting, its minutes, every attendee acknowledged them."""

    NONE = "none"
    SCHEDULED = "scheduled"
    MINUTES = "minutes"
    DONE = "done"


@dataclass(frozen=True)
class IncidentInfo:
    """An incident as the rest of the bot sees it."""

    id: int
    code: str
    team_id: str
    title: str
    severity: Severity
    status: Status
    description: str
    impact: str
    commander_id: str
    comms_id: str | None
    responders: tuple[str, ...]
    declared_by: str
    declared_in: str
    channel_id: str
    channel_name: str
    summary_ts: str | None
    announce_channel_id: str
    announce_ts: str | None
    declared_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    escalated_at: datetime | None
    last_update_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None
    created_at: datetime
    updated_at: datetime
    timeline: tuple[TimelineItem, ...] = ()
    mitigated_at: datetime | None = None  # the first time it went to `monitoring`
    reopened_count: int = 0
    reopened_at: datetime | None = None  # the latest reopening
    review_meeting_id: int | None = None  # the (latest) meeting that reviews it
    review_meeting_code: str | None = None
    review_state: ReviewState = ReviewState.NONE

    @property
    def reported_at(self) -> datetime:
        """When it was reported: its declaration."""
        return self.declared_at

    @property
    def resolved(self) -> bool:
        """The incident is over."""
        return self.status == Status.RESOLVED

    @property
    def summary_channel(self) -> str:
        """Where the summary is: the incident channel, else (no channel could be made) the announcement's."""
        return self.channel_id or self.announce_channel_id

    @property
    def team(self) -> tuple[str, ...]:
        """Who runs it: the commander, the comms lead and the responders, without repeats."""
        return tuple(dict.fromkeys([self.commander_id, *([self.comms_id] if self.comms_id else []), *self.responders]))

    def duration(self, now: datetime) -> timedelta:
        """From declaration to resolution (or to `now` while it lasts)."""
        return (self.resolved_at or now) - self.declared_at

    @property
    def decisions(self) -> tuple[TimelineItem, ...]:
        """The decisions recorded during the incident and at its resolution."""
        return tuple(e for e in self.timeline if e.kind == "decision")

    @property
    def action_source(self) -> dict[str, Any]:
        """What links an action item to this incident (keyword arguments of ActionService.create_many)."""
        return {"source_type": SOURCE, "source_id": self.id, "source_code": self.code, "escalate_to": self.commander_id}


@dataclass(frozen=True)
class AckOutcome:
    """What pressing Acknowledge did."""

    incident: IncidentInfo
    changed: bool
    backup: bool  # pressed by someone of the backup list


@dataclass(frozen=True)
class ResolveOutcome:
    """What resolving produced."""

    incident: IncidentInfo
    follow_ups: tuple[ActionInfo, ...]


@dataclass(frozen=True)
class IncidentReview:
    """The review (复盘): the incident with its timeline, and its follow-up action items.

    Follow-ups are the items raised from the incident and those of its review meetings' minutes, whose
    decisions are `review_decisions`.
    """

    incident: IncidentInfo
    follow_ups: tuple[ActionInfo, ...]
    review_decisions: tuple[str, ...] = ()

    @property
    def kept_follow_ups(self) -> tuple[ActionInfo, ...]:
        """The follow-ups still wanted: open, in progress, blocked or done."""
        from bot.services.actions import ActionStatus

        return tuple(a for a in self.follow_ups if a.status != ActionStatus.WONT_DO)

    @property
    def dropped_follow_ups(self) -> tuple[ActionInfo, ...]:
        """The follow-ups decided against (won't do), each with its reason."""
        from bot.services.actions import ActionStatus

        return tuple(a for a in self.follow_ups if a.status == ActionStatus.WONT_DO)


def validate(draft: IncidentDraft) -> None:
    """Check a declaration; raise ValidationFailed with per-field errors."""
    errors: dict[str, tuple[str, dict[str, Any]]] = {}
    if not draft.title.strip():
        errors["title"] = ("error.required", {})
    elif len(draft.title.strip()) > MAX_TITLE:
        errors["title"] = ("error.too_long", {"max": MAX_TITLE})
    if draft.severity not in set(Severity):
        errors["severity"] = ("error.required", {})
    for name in ("description", "impact"):
        if len(getattr(draft, name)) > MAX_TEXT:
            errors[name] = ("error.too_long", {"max": MAX_TEXT})
    if not draft.commander_id:
        errors["commander"] = ("error.required", {})
    if errors:
        raise ValidationFailed(errors)


def validate_resolution(draft: ResolutionDraft) -> None:
    """Check a resolution: a summary, decisions and follow-ups within limits."""
    errors: dict[str, tuple[str, dict[str, Any]]] = {}
    if not draft.summary.strip():
        errors["summary"] = ("error.required", {})
    elif len(draft.summary) > MAX_TEXT:
        errors["summary"] = ("error.too_long", {"max": MAX_TEXT})
    if len(draft.decisions) > MAX_DECISIONS or any(len(d) > 500 for d in draft.decisions):
        errors["decisions"] = ("error.decisions_limit", {"max": MAX_DECISIONS, "chars": 500})
    if len(draft.follow_ups) > MAX_FOLLOW_UPS:
        errors["follow_ups"] = ("error.too_many_actions", {"max": MAX_FOLLOW_UPS})
    if errors:
        raise ValidationFailed(errors)


def validate_edit(draft: IncidentEdit) -> None:
    """Check an edit of the title, description and impact; raise ValidationFailed with per-field errors."""
    errors: dict[str, tuple[str, dict[str, Any]]] = {}
    if not draft.title.strip():
        errors["title"] = ("error.required", {})
    elif len(draft.title.strip()) > MAX_TITLE:
        errors["title"] = ("error.too_long", {"max": MAX_TITLE})
    for name in ("description", "impact"):
        if len(getattr(draft, name).strip()) > MAX_TEXT:
            errors[name] = ("error.too_long", {"max": MAX_TEXT})
    if errors:
        raise ValidationFailed(errors)


def parse_severity(word: str) -> Severity | None:
    """A severity as typed: SEV1, sev 2, 3, P4."""
    cleaned = word.strip().upper().replace(" ", "").removeprefix("SEV").removeprefix("P")
    return Severity(f"SEV{cleaned}") if cleaned in ("1", "2", "3", "4") else None


def _text(value: str, name: str) -> str:
    value = value.strip()
    if not value:
        raise ValidationFailed({name: ("error.required", {})})
    if len(value) > MAX_TEXT:
        raise ValidationFailed({name: ("error.too_long", {"max": MAX_TEXT})})
    return value


class IncidentService:
    """Declares incidents, keeps their roles, status, updates and timeline, and hands follow-ups on."""

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

    @property
    def calendar(self) -> WorkCalendar:
        """The working days the review reminder counts."""
        return self._calendar or self._actions.calendar

    def ack_window(self, severity: Severity) -> timedelta | None:
        """How long the commander has to acknowledge before the backups hear (None: no escalation)."""
        minutes = self.ack_minutes[Severity(severity).position]
        return timedelta(minutes=minutes) if minutes > 0 else None

    def update_cadence(self, severity: Severity) -> timedelta | None:
        """How often an update is expected (None: no reminders)."""
        minutes = self.update_minutes[Severity(severity).position]
        return timedelta(minutes=minutes) if minutes > 0 else None

    # -- declaring -------------------------------------------------------------------------------------

    def declare(
        self, *, team_id: str, declarer_id: str, draft: IncidentDraft, origin_channel: str, now: datetime
    ) -> IncidentInfo:
        """Store an incident with its ID and first timeline entries; plan escalation and update reminders."""
        validate(draft)
        with self._scope() as s:
            earlier = inbox.created(s, "incident")
            if earlier is not None:  # this request ran before and declared it: the same incident
                return self._load(s, self._get(s, earlier))
            year = now.astimezone(self._zone).year
            seq = counters.next_value(s, team_id=team_id, prefix=PREFIX, year=year)
            acked = declarer_id == draft.commander_id
            row = Incident(
                team_id=team_id,
                code=f"{PREFIX}-{year}-{seq:03d}",
                title=draft.title.strip(),
                severity=Severity(draft.severity),
                status=Status.INVESTIGATING,
                description=draft.description.strip(),
                impact=draft.impact.strip(),
                commander_id=draft.commander_id,
                declared_by=declarer_id,
                declared_in=origin_channel,
                declared_at=now,
                last_update_at=now,
                created_at=now,
                updated_at=now,
                acknowledged_at=now if acked else None,
                acknowledged_by=declarer_id if acked else None,
            )
            s.add(row)
            s.flush()
            iid = int(row.id or 0)
            inbox.note_created(s, "incident", iid)
            for user in dict.fromkeys(draft.responders):
                if user != draft.commander_id:
                    repo.add_responder(s, iid, user, now)
            repo.add_entry(
                s,
                incident_id=iid,
                at=now,
                actor_id=declarer_id,
                kind="declared",
                detail=json.dumps({"severity": row.severity, "commander": row.commander_id}),
            )
            if acked:
                repo.add_entry(
                    s,
                    incident_id=iid,
                    at=now,
                    actor_id=declarer_id,
                    kind="acknowledged",
                    detail=json.dumps({"by_declaring": True}),
                )
            s.flush()
            info = self._load(s, row)
            self._plan_escalation(s, info, now)
            self._plan_update(s, info, now)
        logger.info("incident %s (%s) declared by %s", info.code, info.severity, declarer_id)
        return info

    def attach_channel(self, incident_id: int, *, channel_id: str, channel_name: str) -> IncidentInfo:
        """Remember the incident's own channel."""
        return self._set(incident_id, channel_id=channel_id, channel_name=channel_name)

    def attach_summary(self, incident_id: int, *, ts: str) -> IncidentInfo:
        """Remember the pinned summary in the incident channel."""
        return self._set(incident_id, summary_ts=ts)

    def attach_announcement(self, incident_id: int, *, channel_id: str, ts: str) -> IncidentInfo:
        """Remember the announcement that is kept up to date."""
        return self._set(incident_id, announce_channel_id=channel_id, announce_ts=ts)

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

    # -- running ---------------------------------------------------------------------------------------

    def acknowledge(self, incident_id: int, *, user_id: str, now: datetime) -> AckOutcome:
        """The commander acknowledges; a backup who was escalated to acknowledges and joins as a responder."""
        with self._scope() as s:
            row = self._get(s, incident_id, lock=True)
            info = self._load(s, row, with_timeline=True)
            self.check_open(info)
            backup = user_id != info.commander_id
            if backup and not (user_id in self.backups and info.escalated_at is not None):
                raise NotAllowed("error.incident_ack_not_allowed", code=info.code, commander=f"<@{info.commander_id}>")
            already = any(e.kind == "acknowledged" and e.actor_id == user_id for e in info.timeline)
            if already and (not backup or user_id in info.team):
                return AckOutcome(info, False, backup)
            if row.acknowledged_at is None:
                row.acknowledged_at, row.acknowledged_by = now, user_id
            if backup:
                repo.add_responder(s, incident_id, user_id, now)
            row.updated_at = now
            s.add(row)
            repo.add_entry(
                s,
                incident_id=incident_id,
                at=now,
                actor_id=user_id,
                kind="acknowledged",
                detail=json.dumps({"backup": True} if backup else {}),
            )
            outbox.cancel(s, subject=_subject(incident_id), kinds=(KIND_ESCALATE,))
            s.flush()
            info = self._load(s, row)
        logger.info("incident %s acknowledged by %s%s", info.code, user_id, " (backup)" if backup else "")
        return AckOutcome(info, True, backup)

    def mark_escalated(self, incident_id: int, *, now: datetime) -> tuple[IncidentInfo, bool]:
        """Record that the backups were called (once); returns the incident and whether this was the first."""
        with self._scope() as s:
            row = self._get(s, incident_id, lock=True)
            first = row.escalated_at is None
            if first:
                row.escalated_at = now
                s.add(row)
                repo.add_entry(
                    s,
                    incident_id=incident_id,
                    at=now,
                    actor_id="coordbot",
                    kind="escalated",
                    detail=json.dumps({"to": list(self._backups_for(row.commander_id))}),
                )
                s.flush()
            return self._load(s, row), first

    def set_status(
        self, incident_id: int, *, user_id: str, status: Status, now: datetime
    ) -> tuple[IncidentInfo, Status | None]:
        """Move an open incident to another open status (resolving goes through `resolve`).

        Returns the incident and the status it had, or None when nothing changed.
        """
        status = Status(status)
        if status == Status.RESOLVED:
            raise Conflict("error.incident_resolve_with_summary")
        with self._scope() as s:
            row = self._get(s, incident_id, lock=True)
            info = self._load(s, row)
            self.check_can_run(info, user_id)
            self.check_open(info)
            before = Status(row.status)
            if before == status:
                return info, None
            row.status, row.last_update_at, row.updated_at = status, now, now
            detail: dict[str, Any] = {"from": before, "to": status}
            if status == Status.MONITORING and row.mitigated_at is None:
                row.mitigated_at = now  # the first time only: a later relapse does not move it
                detail["mitigated"] = True
            s.add(row)
            repo.add_entry(
                s,
                incident_id=incident_id,
                at=now,
                actor_id=user_id,
                kind="status",
                detail=json.dumps(detail),
            )
            s.flush()
            info = self._load(s, row)
            self._plan_update(s, info, now)
        logger.info("incident %s: %s -> %s by %s", info.code, before, status, user_id)
        return info, before

    def post_update(self, incident_id: int, *, user_id: str, text: str, now: datetime) -> IncidentInfo:
        """Record an update (anyone in the channel may post one); the next reminder counts from now."""
        text = _text(text, "update")
        with self._scope() as s:
            row = self._get(s, incident_id, lock=True)
            row.last_update_at, row.updated_at = now, now
            s.add(row)
            repo.add_entry(
                s,
                incident_id=incident_id,
                at=now,
                actor_id=user_id,
                kind="update",
                text=text,
                detail=json.dumps({"status": row.status}),
            )
            s.flush()
            info = self._load(s, row)
            self._plan_update(s, info, now)
            return info

    def add_decision(self, incident_id: int, *, user_id: str, text: str, now: datetime) -> IncidentInfo:
        """Record a decision taken while running the incident."""
        text = _text(text, "decision")
        with self._scope() as s:
            row = self._get(s, incident_id, lock=True)
            self.check_can_run(self._load(s, row), user_id)
            row.updated_at = now
            s.add(row)
            repo.add_entry(s, incident_id=incident_id, at=now, actor_id=user_id, kind="decision", text=text)
            s.flush()
            return self._load(s, row)

    def assign_role(
        self, incident_id: int, *, user_id: str, role: str, target_id: str, now: datetime
    ) -> tuple[IncidentInfo, str | None]:
        """The commander names the comms lead or adds a responder; returns the incident and who held the role."""
        with self._scope() as s:
            row = self._get(s, incident_id, lock=True)
            info = self._load(s, row)
            self.check_commander(info, user_id)
            self.check_open(info)
            previous: str | None = None
            if (role == "comms" and target_id == row.comms_id) or (role == "responder" and target_id in info.team):
                raise Conflict("error.incident_already_in_role", user=f"<@{target_id}>", code=info.code)
            if role == "comms":
                previous, row.comms_id = row.comms_id, target_id
            elif role == "responder":
                repo.add_responder(s, incident_id, target_id, now)
            else:
                raise Conflict("error.incident_unknown_role", role=role)
            row.updated_at = now
            s.add(row)
            repo.add_entry(
                s,
                incident_id=incident_id,
                at=now,
                actor_id=user_id,
                kind="role",
                detail=json.dumps({"role": role, "user": target_id, "previous": previous}),
            )
            s.flush()
            return self._load(s, row), previous

    def hand_over(self, incident_id: int, *, user_id: str, target_id: str, now: datetime) -> IncidentInfo:
        """The commander hands over command; they stay on as a responder."""
        with self._scope() as s:
            row = self._get(s, incident_id, lock=True)
            info = self._load(s, row)
            self.check_commander(info, user_id)
            self.check_open(info)
            if target_id == row.commander_id:
                raise Conflict("error.incident_already_commander", user=f"<@{target_id}>", code=info.code)
            previous = row.commander_id
            repo.remove_responder(s, incident_id, target_id)
            repo.add_responder(s, incident_id, previous, now)
            row.commander_id, row.updated_at = target_id, now
            s.add(row)
            repo.add_entry(
                s,
                incident_id=incident_id,
                at=now,
                actor_id=user_id,
                kind="lead",
                detail=json.dumps({"from": previous, "to": target_id}),
            )
            s.flush()
            info = self._load(s, row)
        logger.info("incident %s: command handed from %s to %s", info.code, previous, target_id)
        return info

    def pin_message(
        self,
        incident_id: int,
        *,
        message_ts: str,
        author_id: str,
        pinned_by: str,
        text: str,
        at: datetime | None,
        now: datetime,
    ) -> IncidentInfo | None:
        """Put a 📌-marked message on the timeline, at its own time; None when it is there already."""
        with self._scope() as s:
            row = self._get(s, incident_id, lock=True)
            if repo.pinned(s, incident_id, message_ts) is not None:
                return None
            # a message of the incident's channel was written between the declaration and now
            when = min(max(at or now, row.declared_at), now)
            repo.add_entry(
                s,
                incident_id=incident_id,
                at=when,
                actor_id=author_id or pinned_by,
                kind="pinned",
                text=text.strip()[:MAX_TEXT],
                detail=json.dumps({"pinned_by": pinned_by}),
                message_ts=message_ts,
            )
            row.updated_at = now
            s.add(row)
            s.flush()
            return self._load(s, row)

    def unpin_message(self, incident_id: int, *, message_ts: str) -> bool:
        """Take a message off the timeline when its last 📌 is removed."""
        with self._scope() as s:
            entry = repo.pinned(s, incident_id, message_ts)
            if entry is None:
                return False
            repo.delete_entry(s, int(entry.id or 0))
            return True

    # -- changing as it unfolds ------------------------------------------------------------------------

    def change_severity(
        self, incident_id: int, *, user_id: str, severity: Severity | str, now: datetime
    ) -> tuple[IncidentInfo, Severity | None]:
        """The commander raises or lowers the severity; the escalation and update reminders still to come are
        planned again at the new severity's cadence (the old rows cancelled, new ones scheduled, once).

        Returns the incident and the severity it had, or None when nothing changed.
        """
        try:
            new = Severity(severity)
        except ValueError:
            raise ValidationFailed({"severity": ("error.required", {})}) from None
        with self._scope() as s:
            row = self._get(s, incident_id, lock=True)
            info = self._load(s, row)
            self.check_commander(info, user_id)
            self.check_open(info)
            before = Severity(row.severity)
            if before == new:
                return info, None
            row.severity, row.updated_at = new, now
            s.add(row)
            repo.add_entry(
                s,
                incident_id=incident_id,
                at=now,
                actor_id=user_id,
                kind="severity",
                text=f"{before.value} → {new.value}",
                detail=json.dumps({"from": before, "to": new}),
            )
            s.flush()
            info = self._load(s, row)
            outbox.cancel(s, subject=_subject(incident_id), kinds=(KIND_ESCALATE, KIND_UPDATE_DUE))
            if info.escalated_at is None:  # the backups are called once, whatever the severity becomes
                self._plan_escalation(s, info, now, plan=uuid.uuid4().hex[:12])
            self._plan_update(s, info, now)
        logger.info("incident %s: severity %s -> %s by %s", info.code, before, new, user_id)
        return info, before

    def edit(
        self, incident_id: int, *, user_id: str, draft: IncidentEdit, now: datetime
    ) -> tuple[IncidentInfo, tuple[str, ...]]:
        """The commander corrects the title, description or impact; each change goes on the timeline with what
        it was and what it is now. Returns the incident and the fields that changed."""
        validate_edit(draft)
        with self._scope() as s:
            row = self._get(s, incident_id, lock=True)
            self.check_commander(self._load(s, row), user_id)
            changed: list[str] = []
            for name in EDITABLE:
                before, after = str(getattr(row, name) or ""), getattr(draft, name).strip()
                if before == after:
                    continue
                setattr(row, name, after)
                changed.append(name)
                repo.add_entry(
                    s,
                    incident_id=incident_id,
                    at=now,
                    actor_id=user_id,
                    kind=f"edit.{name}",
                    text=after,
                    detail=json.dumps({"field": name, "before": before, "after": after}, ensure_ascii=False),
                )
            if changed:
                row.updated_at = now
                s.add(row)
            s.flush()
            info = self._load(s, row)
        if changed:
            logger.info("incident %s: %s edited by %s", info.code, ", ".join(changed), user_id)
        return info, tuple(changed)

    def reopen(self, incident_id: int, *, user_id: str, now: datetime) -> IncidentInfo:
        """Reopen a resolved incident (its commander or a responder, within `reopen_days` of the resolution):
        back to the status it had before it was resolved, with update reminders again."""
        with self._scope() as s:
            row = self._get(s, incident_id, lock=True)
            info = self._load(s, row, with_timeline=True)
            self.check_can_run(info, user_id)
            if not info.resolved or info.resolved_at is None:
                raise Conflict("error.incident_not_resolved", code=info.code)
            if now - info.resolved_at > timedelta(days=self.reopen_days):
                raise Conflict("error.incident_reopen_too_late", code=info.code, days=self.reopen_days)
            back = _last_active_status(info.timeline)
            row.status = back
            row.resolved_at, row.resolved_by, row.resolution = None, None, None
            row.reopened_count = int(row.reopened_count or 0) + 1
            row.reopened_at, row.last_update_at, row.updated_at = now, now, now
            s.add(row)
            repo.add_entry(
                s,
                incident_id=incident_id,
                at=now,
                actor_id=user_id,
                kind="reopened",
                detail=json.dumps(
                    {"from": Status.RESOLVED, "to": back, "count": row.reopened_count, "resolved_at": _stamp(info)}
                ),
            )
            s.flush()
            outbox.cancel(s, subject=_subject(incident_id), kinds=(KIND_REVIEW_DUE,))
            info = self._load(s, row)
            self._plan_update(s, info, now)
        logger.info("incident %s reopened by %s (%d times), back to %s", info.code, user_id, info.reopened_count, back)
        return info

    # -- resolving -------------------------------------------------------------------------------------

    def resolve(self, incident_id: int, *, user_id: str, draft: ResolutionDraft, now: datetime) -> ResolveOutcome:
        """Close the incident with its summary and decisions, stop its reminders, and create the follow-ups."""
        validate_resolution(draft)
        with self._scope() as s:
            row = self._get(s, incident_id, lock=True)
            info = self._load(s, row)
            self.check_can_run(info, user_id)
            self.check_open(info)
            before = row.status
            row.status, row.resolved_at, row.resolved_by = Status.RESOLVED, now, user_id
            row.resolution, row.last_update_at, row.updated_at = draft.summary.strip(), now, now
            s.add(row)
            for decision in draft.decisions:
                repo.add_entry(
                    s, incident_id=incident_id, at=now, actor_id=user_id, kind="decision", text=decision.strip()
                )
            minutes = int((now - row.declared_at).total_seconds() // 60)
            repo.add_entry(
                s,
                incident_id=incident_id,
                at=now,
                actor_id=user_id,
                kind="resolved",
                text=draft.summary.strip(),
                detail=json.dumps({"from": before, "minutes": minutes}),
            )
            outbox.cancel(s, subject=_subject(incident_id))
            s.flush()
            info = self._load(s, row, with_timeline=True)
            self._plan_review_reminder(s, info, now)
        created = (
            self._actions.create_many(
                team_id=info.team_id,
                creator_id=user_id,
                drafts=list(draft.follow_ups),
                now=now,
                channel_id=info.channel_id or info.announce_channel_id,
                **info.action_source,
            )
            if draft.follow_ups
            else []
        )
        logger.info("incident %s resolved by %s after %d minutes", info.code, user_id, minutes)
        return ResolveOutcome(info, tuple(created))

    # -- due work --------------------------------------------------------------------------------------

    def plan_next_reminder(self, incident_id: int, *, after: datetime, plan: str, now: datetime) -> datetime | None:
        """After a reminder went out, the next one a cadence later (skipping any that were missed)."""
        with self._scope() as s:
            info = self._load(s, self._get(s, incident_id))
            cadence = self.update_cadence(info.severity)
            if cadence is None or info.resolved:
                return None
            due = after + cadence
            while due <= now:
                due += cadence
            self._schedule_update(s, info, due, now, plan=plan)
            return due

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

    def review(self, incident_id: int) -> IncidentReview:
        """The incident with its timeline and follow-ups: the action items raised from it and those of its
        review meetings' minutes (whose decisions come along)."""
        with self._scope() as s:
            info = self._load(s, self._get(s, incident_id), with_timeline=True)
            meetings = meeting_repo.for_incident(s, incident_id)
            decisions = tuple(d for m in meetings for d in json.loads(m.decisions or "[]"))
            sources = [(SOURCE, incident_id), *(("meeting", int(m.id or 0)) for m in meetings)]
        return IncidentReview(info, tuple(self._actions.for_sources(sources)), decisions)

    def with_open_followups(self, team_id: str, channel_id: str | None = None) -> list[tuple[IncidentInfo, int]]:
        """Incidents (run or announced in `channel_id`) with follow-ups still open (neither done nor won't do),
        and how many; follow-ups from the minutes of a review meeting count."""
        from bot.services.actions import CLOSED_STATUSES

        with self._scope() as s:
            found = repo.with_open_followups(s, team_id=team_id, channel_id=channel_id, closed=CLOSED_STATUSES)
            return [(self._load(s, self._get(s, iid)), n) for iid, n in found]

    def review_reminder_due(self, incident_id: int, *, resolved: int) -> IncidentInfo | None:
        """The incident whose commander is to be reminded of the review, or None when the reminder is moot: a
        review meeting exists, or the incident was reopened since the resolution (`resolved`, a Unix time)."""
        info = self.get(incident_id)
        if not info.resolved or info.review_meeting_id is not None or _stamp(info) != resolved:
            return None
        return info

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

    def _plan_review_reminder(self, s: Session, info: IncidentInfo, now: datetime) -> None:
        """A SEV1/SEV2 is to have its review meeting within `review_due_days` working days of its resolution."""
        if info.severity not in REVIEWED_SEVERITIES or info.resolved_at is None:
            return
        tz = self._zone.key
        calendar = self.calendar
        deadline = calendar.add_working_days(info.resolved_at, self.review_due_days, tz)
        due = calendar.place(deadline, tz=tz, now=deadline)
        outbox.schedule(
            s,
            team_id=info.team_id,
            kind=KIND_REVIEW_DUE,
            subject=_subject(info.id),
            key=f"inc:{info.id}:review_due:{_stamp(info)}",
            due_at=due,
            now=now,
            payload={"incident_id": info.id, "resolved": _stamp(info)},
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


def review_meeting_draft(info: IncidentInfo, *, lang: str, start: datetime) -> MeetingDraft:
    """The review meeting (复盘会) as a meeting draft: the team, an hour, a standard agenda led by the commander."""
    from bot.services.meetings import AgendaEntry, MeetingDraft
    from bot.text import t

    host = info.commander_id
    agenda = tuple(
        AgendaEntry(t(lang, f"incident.meeting.agenda.{part}"), host, minutes)
        for part, minutes in (("timeline", 15), ("causes", 20), ("follow_ups", 15))
    )
    return MeetingDraft(
        title=t(lang, "incident.meeting.title", code=info.code, title=info.title)[:150],
        goal=t(lang, "incident.meeting.goal", code=info.code),
        start=start,
        duration_minutes=60,
        host_id=host,
        participants=info.team,
        channel_id=info.channel_id or info.announce_channel_id,
        agenda=agenda,
    )


def _subject(incident_id: int) -> str:
    return f"incident:{incident_id}"


def _stamp(info: IncidentInfo) -> int:
    """The resolution's moment as a Unix time (0 while open): what names one resolution among several."""
    return int(info.resolved_at.timestamp()) if info.resolved_at else 0


def _last_active_status(timeline: Sequence[TimelineItem]) -> Status:
    """The status an incident had when it was last resolved, from its timeline."""
    for entry in reversed(timeline):
        if entry.kind == "resolved":
            try:
                before = Status(entry.detail.get("from") or Status.INVESTIGATING)
            except ValueError:
                break
            return before if before != Status.RESOLVED else Status.INVESTIGATING
    return Status.INVESTIGATING


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
