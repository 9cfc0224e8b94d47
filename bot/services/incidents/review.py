"""Resolving and reviewing (复盘) an incident: the resolution, its follow-ups, the review meeting, its reminder."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from bot import outbox
from bot.errors import ValidationFailed
from bot.services.incident_text import Severity, Status
from bot.services.incidents.base import IncidentBase, _stamp, _subject
from bot.services.incidents.model import KIND_REVIEW_DUE, MAX_TEXT, SOURCE, IncidentInfo
from bot.workhours import WorkCalendar
from storage import incidents as repo
from storage import meetings as meeting_repo

if TYPE_CHECKING:
    from bot.services.actions import ActionDraft, ActionInfo
    from bot.services.meetings import MeetingDraft

logger = logging.getLogger(__name__)

MAX_DECISIONS = 30
MAX_FOLLOW_UPS = 30
REVIEWED_SEVERITIES = (Severity.SEV1, Severity.SEV2)  # these get a review reminder


@dataclass(frozen=True)
class ResolutionDraft:
    """How it ended: a summary, the decisions taken, and follow-up action items."""

    summary: str
    decisions: tuple[str, ...] = ()
    follow_ups: tuple[ActionDraft, ...] = ()


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


class IncidentReviews(IncidentBase):
    """Resolves incidents, hands their follow-ups on, and keeps their review (复盘) and its reminder."""

    @property
    def calendar(self) -> WorkCalendar:
        """The working days the review reminder counts."""
        return self._calendar or self._actions.calendar

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

    # -- reviewing -------------------------------------------------------------------------------------

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
