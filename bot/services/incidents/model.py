"""What an incident is: its limits and outbox kinds, its declaration, and its record as the bot sees it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.errors import ValidationFailed
from bot.services.incident_text import Severity, Status

PREFIX = "INC"
SOURCE = "incident"
MAX_TITLE = 150
MAX_TEXT = 3000

KIND_ESCALATE = "incident.escalate"
KIND_UPDATE_DUE = "incident.update_due"
KIND_REVIEW_DUE = "incident.review_due"  # a SEV1/SEV2 still without a review meeting, to its commander

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


def parse_severity(word: str) -> Severity | None:
    """A severity as typed: SEV1, sev 2, 3, P4."""
    cleaned = word.strip().upper().replace(" ", "").removeprefix("SEV").removeprefix("P")
    return Severity(f"SEV{cleaned}") if cleaned in ("1", "2", "3", "4") else None
