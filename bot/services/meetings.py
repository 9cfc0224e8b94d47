"""Cross-department meetings (跨部门会议): agenda before, minutes after, action items followed up."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot import inbox, outbox
from bot.errors import NotAllowed, NotFound, ValidationFailed
from bot.services.actions import ActionDraft, ActionInfo, ActionService
from bot.services.requirements import HistoryItem
from bot.workhours import WorkCalendar
from storage import actions as action_repo
from storage import counters
from storage import incidents as incident_repo
from storage import meetings as repo
from storage.db import SessionScope
from storage.models import Meeting

logger = logging.getLogger(__name__)

PREFIX = "MTG"
MAX_DURATION = 90
MAX_PARTICIPANTS_ADVISED = 10
MAX_TEXT = 3000
MAX_DECISIONS = 30
MAX_ACTIONS = 30

KIND_AGENDA = "meeting.agenda"
KIND_START = "meeting.start"
KIND_MINUTES_MISSING = "meeting.minutes_missing"
KIND_MINUTES_DM = "meeting.minutes_dm"


@dataclass(frozen=True)
class AgendaEntry:
    """One agenda item: topic, owner, timebox."""

    topic: str
    owner_id: str
    minutes: int


@dataclass(frozen=True)
class MeetingDraft:
    """A meeting as entered, already parsed into plain values."""

    title: str
    goal: str
    start: datetime
    duration_minutes: int
    host_id: str
    participants: tuple[str, ...]
    channel_id: str
    location: str = ""
    materials: str = ""
    agenda: tuple[AgendaEntry, ...] = ()


@dataclass(frozen=True)
class ActionDraftLine:
    """An action item line of the minutes: what, owner, due, deliverable."""

    title: str
    owner_id: str
    due: datetime
    deliverable: str = ""


@dataclass(frozen=True)
class MinutesDraft:
    """Minutes as entered: decisions, action items, notes."""

    decisions: tuple[str, ...]
    actions: tuple[ActionDraftLine, ...] = ()
    notes: str = ""


@dataclass(frozen=True)
class MeetingInfo:
    """A meeting as the rest of the bot sees it."""

    id: int
    code: str
    team_id: str
    title: str
    goal: str
    start: datetime
    duration_minutes: int
    location: str
    materials: str
    host_id: str
    channel_id: str
    message_ts: str | None
    created_by: str
    created_at: datetime
    participants: tuple[str, ...]
    agenda: tuple[AgendaEntry, ...]
    decisions: tuple[str, ...] | None
    notes: str | None
    minutes_at: datetime | None
    minutes_by: str | None
    minutes_ts: str | None
    acks: tuple[tuple[str, datetime], ...] = ()
    history: tuple[HistoryItem, ...] = ()
    incident_id: int | None = None  # the incident this meeting reviews (复盘)
    incident_code: str = ""

    @property
    def end(self) -> datetime:
        """When the meeting is planned to end."""
        return self.start + timedelta(minutes=self.duration_minutes)

    @property
    def attendees(self) -> tuple[str, ...]:
        """Host and participants, without repeats."""
        return tuple(dict.fromkeys((self.host_id, *self.participants)))

    @property
    def acked_by(self) -> tuple[str, ...]:
        """Who acknowledged the minutes."""
        return tuple(user for user, _ in self.acks)

    @property
    def fully_acknowledged(self) -> bool:
        """The minutes are recorded and every attendee acknowledged them."""
        return self.minutes_at is not None and set(self.attendees) <= set(self.acked_by)

    def draft(self) -> MeetingDraft:
        """The current details as a draft (to prefill an edit)."""
        return MeetingDraft(
            title=self.title,
            goal=self.goal,
            start=self.start,
            duration_minutes=self.duration_minutes,
            host_id=self.host_id,
            participants=self.participants,
            channel_id=self.channel_id,
            location=self.location,
            materials=self.materials,
            agenda=self.agenda,
        )


@dataclass(frozen=True)
class MinutesOutcome:
    """What recording the minutes produced."""

    meeting: MeetingInfo
    new_actions: tuple[ActionInfo, ...]
    first_time: bool


def validate(draft: MeetingDraft) -> None:
    """Check a meeting against the handbook's rules; raise ValidationFailed with per-field errors."""
    errors: dict[str, tuple[str, dict[str, Any]]] = {}
    if not draft.title.strip():
        errors["title"] = ("error.required", {})
    elif len(draft.title) > 150:
        errors["title"] = ("error.too_long", {"max": 150})
    if not draft.goal.strip():
        errors["goal"] = ("error.required", {})
    elif len(draft.goal) > MAX_TEXT:
        errors["goal"] = ("error.too_long", {"max": MAX_TEXT})
    if draft.duration_minutes < 1:
        errors["duration_minutes"] = ("error.duration_positive", {})
    elif draft.duration_minutes > MAX_DURATION:
        errors["duration_minutes"] = ("error.meeting_too_long", {"max": MAX_DURATION})
    for name in ("location", "materials"):
        if len(getattr(draft, name)) > MAX_TEXT:
            errors[name] = ("error.too_long", {"max": MAX_TEXT})
    if not draft.host_id:
        errors["host"] = ("error.required", {})
    if not draft.channel_id:
        errors["channel"] = ("error.required", {})
    total = sum(a.minutes for a in draft.agenda)
    if "duration_minutes" not in errors and total > draft.duration_minutes:
        errors["agenda"] = ("error.agenda_over_duration", {"total": total, "duration": draft.duration_minutes})
    if len(draft.agenda) > 20:
        errors["agenda"] = ("error.agenda_too_many", {"max": 20})
    if errors:
        raise ValidationFailed(errors)


def validate_minutes(draft: MinutesDraft) -> None:
    """Check minutes: something recorded, within limits."""
    errors: dict[str, tuple[str, dict[str, Any]]] = {}
    if not draft.decisions and not draft.actions and not draft.notes.strip():
        errors["decisions"] = ("error.minutes_empty", {})
    if len(draft.decisions) > MAX_DECISIONS or any(len(d) > 500 for d in draft.decisions):
        errors["decisions"] = ("error.decisions_limit", {"max": MAX_DECISIONS, "chars": 500})
    if len(draft.actions) > MAX_ACTIONS:
        errors["action_items"] = ("error.too_many_actions", {"max": MAX_ACTIONS})
    if len(draft.notes) > MAX_TEXT:
        errors["notes"] = ("error.too_long", {"max": MAX_TEXT})
    if errors:
        raise ValidationFailed(errors)


class MeetingService:
    """Schedules meetings, records minutes and hands action items to the action service."""

    def __init__(
        self,
        session_scope: SessionScope,
        actions: ActionService,
        *,
        tz: str = "UTC",
        agenda_lead: timedelta = timedelta(days=3),
        start_lead: timedelta = timedelta(minutes=15),
        minutes_due: timedelta = timedelta(hours=24),
        calendar: WorkCalendar | None = None,
    ) -> None:
        self._scope = session_scope
        self._actions = actions
        self._zone = ZoneInfo(tz)
        self.agenda_lead = agenda_lead
        self.start_lead = start_lead
        self.minutes_due = minutes_due
        self._calendar = calendar or WorkCalendar()
        self.tz_of: Callable[[str], str] = lambda _user: tz  # the recipient's timezone; the app wires Slack's

    # -- scheduling --------------------------------------------------------------------------------

    def create(
        self, *, team_id: str, creator_id: str, draft: MeetingDraft, now: datetime, incident_id: int | None = None
    ) -> MeetingInfo:
        """Store a meeting with its ID, participants and agenda, and schedule its reminders.

        `incident_id` makes it the review (复盘) of that incident (of the same workspace).
        """
        validate(draft)
        with self._scope() as s:
            earlier = inbox.created(s, "meeting")
            if earlier is not None:  # this request ran before and stored the meeting: the same one
                return self._load(s, self._get(s, earlier))
            if incident_id is not None:
                reviewed = incident_repo.get(s, incident_id)
                if reviewed is None or reviewed.team_id != team_id:
                    raise NotFound("error.incident_not_found", code=str(incident_id))
            year = draft.start.astimezone(self._zone).year if draft.start < now else now.astimezone(self._zone).year
            seq = counters.next_value(s, team_id=team_id, prefix=PREFIX, year=year)
            row = Meeting(
                team_id=team_id,
                code=f"{PREFIX}-{year}-{seq:03d}",
                created_by=creator_id,
                created_at=now,
                updated_at=now,
                incident_id=incident_id,
                **self._fields(draft),
            )
            s.add(row)
            s.flush()
            mid = int(row.id or 0)
            inbox.note_created(s, "meeting", mid)
            repo.set_participants(s, mid, draft.participants)
            repo.set_agenda(s, mid, [(a.topic, a.owner_id, a.minutes) for a in draft.agenda])
            reviews = self._incident_code(s, row)
            detail = json.dumps({"incident": reviews} if reviews else {})
            repo.add_history(s, meeting_id=mid, at=now, actor_id=creator_id, action="created", detail=detail)
            s.flush()
            info = self._load(s, row)
            self._schedule(s, info, now)
        logger.info("meeting %s created by %s (reviews %s)", info.code, creator_id, info.incident_code or "nothing")
        return info

    def update(self, meeting_id: int, *, user_id: str, draft: MeetingDraft, now: datetime) -> MeetingInfo:
        """Edit the details (host or creator); reminders follow the new time and people."""
        validate(draft)
        with self._scope() as s:
            row = self._get(s, meeting_id, lock=True)
            self.check_can_edit(row.host_id, row.created_by, user_id)
            fields = self._fields(draft)
            if row.message_ts:
                fields.pop("channel_id")  # a posted card stays in its channel
            for key, value in fields.items():
                setattr(row, key, value)
            row.updated_at = now
            s.add(row)
            repo.set_participants(s, meeting_id, draft.participants)
            repo.set_agenda(s, meeting_id, [(a.topic, a.owner_id, a.minutes) for a in draft.agenda])
            repo.add_history(s, meeting_id=meeting_id, at=now, actor_id=user_id, action="edited", detail="{}")
            outbox.cancel(s, subject=_subject(meeting_id), kinds=(KIND_AGENDA, KIND_START, KIND_MINUTES_MISSING))
            s.flush()
            info = self._load(s, row)
            self._schedule(s, info, now, version=int(now.timestamp()))
            return info

    @staticmethod
    def check_can_edit(host_id: str, created_by: str, user_id: str) -> None:
        """Only the host or whoever created the meeting may change its details."""
        if user_id not in (host_id, created_by):
            raise NotAllowed("error.meeting_edit_not_allowed")

    @staticmethod
    def check_can_record(info: MeetingInfo, user_id: str) -> None:
        """Only the host or a participant may record or edit minutes."""
        if user_id not in info.attendees:
            raise NotAllowed("error.minutes_not_allowed", code=info.code)

    def attach_message(self, meeting_id: int, *, channel_id: str, message_ts: str) -> None:
        """Remember the card message."""
        with self._scope() as s:
            row = self._get(s, meeting_id)
            row.channel_id, row.message_ts = channel_id, message_ts
            s.add(row)

    def attach_minutes_message(self, meeting_id: int, *, minutes_ts: str) -> None:
        """Remember the minutes message in the card's thread (✅ on it acknowledges)."""
        with self._scope() as s:
            row = self._get(s, meeting_id)
            row.minutes_ts = minutes_ts
            s.add(row)

    # -- minutes ---------------------------------------------------------------------------------------

    def record_minutes(self, meeting_id: int, *, user_id: str, draft: MinutesDraft, now: datetime) -> MinutesOutcome:
        """Store decisions and notes with the new action items in one unit of work, and send the minutes to everyone.

        Either all of it is stored or none: an item that cannot be created leaves no minutes behind.
        """
        validate_minutes(draft)
        with self._scope() as s:
            row = self._get(s, meeting_id, lock=True)
            info = self._load(s, row)
            self.check_can_record(info, user_id)
            first = row.minutes_at is None
            row.decisions = json.dumps(list(draft.decisions), ensure_ascii=False)
            row.notes = draft.notes.strip()
            row.minutes_at, row.minutes_by, row.updated_at = now, user_id, now
            s.add(row)
            repo.add_history(
                s,
                meeting_id=meeting_id,
                at=now,
                actor_id=user_id,
                action="minutes_recorded" if first else "minutes_edited",
                detail=json.dumps({"decisions": len(draft.decisions), "actions": len(draft.actions)}),
            )
            outbox.cancel(s, subject=_subject(meeting_id), kinds=(KIND_MINUTES_MISSING,))
            version = "" if first else f":{int(now.timestamp())}"
            for user in info.attendees:
                outbox.schedule(
                    s,
                    team_id=info.team_id,
                    kind=KIND_MINUTES_DM,
                    subject=_subject(meeting_id),
                    key=f"mtg:{meeting_id}:minutes:{user}{version}",
                    due_at=now,
                    now=now,
                    payload={"meeting_id": meeting_id, "user_id": user},
                )
            existing = {
                (a.title, a.owner_id) for a in action_repo.for_source(s, source_type="meeting", source_id=meeting_id)
            }
            drafts = [
                ActionDraft(title=a.title, owner_id=a.owner_id, due=a.due, deliverable=a.deliverable)
                for a in draft.actions
                if (a.title, a.owner_id) not in existing
            ]
            created = self._actions.add_many(
                s,
                team_id=info.team_id,
                creator_id=user_id,
                drafts=drafts,
                now=now,
                source_type="meeting",
                source_id=meeting_id,
                source_code=info.code,
                escalate_to=info.host_id,
                channel_id=info.channel_id,
            )
            s.flush()
            info = self._load(s, row)
        if created:
            logger.info("minutes of %s: action items %s", info.code, ", ".join(a.code for a in created))
        return MinutesOutcome(meeting=info, new_actions=tuple(created), first_time=first)

    def acknowledge(self, meeting_id: int, *, user_id: str, now: datetime) -> tuple[MeetingInfo, bool]:
        """A participant acknowledges the minutes; others change nothing."""
        with self._scope() as s:
            row = self._get(s, meeting_id, lock=True)
            info = self._load(s, row)
            if row.minutes_at is None:
                return info, False
            self.check_can_record(info, user_id)
            changed = repo.add_ack(s, meeting_id, user_id, now)
            if changed:
                repo.add_history(
                    s, meeting_id=meeting_id, at=now, actor_id=user_id, action="minutes_acknowledged", detail="{}"
                )
            s.flush()
            return self._load(s, row), changed

    def withdraw_ack(self, meeting_id: int, *, user_id: str, now: datetime) -> tuple[MeetingInfo, bool]:
        """Removing ✅ from the minutes withdraws that acknowledgment."""
        with self._scope() as s:
            row = self._get(s, meeting_id, lock=True)
            changed = repo.remove_ack(s, meeting_id, user_id)
            if changed:
                repo.add_history(
                    s, meeting_id=meeting_id, at=now, actor_id=user_id, action="ack_withdrawn", detail="{}"
                )
            s.flush()
            return self._load(s, row), changed

    # -- reading ---------------------------------------------------------------------------------------

    def get(self, meeting_id: int, *, with_history: bool = False) -> MeetingInfo:
        """One meeting by primary key."""
        with self._scope() as s:
            return self._load(s, self._get(s, meeting_id), with_history=with_history)

    def by_code(self, team_id: str, code: str, *, with_history: bool = False) -> MeetingInfo:
        """One meeting by its ID."""
        with self._scope() as s:
            row = repo.by_code(s, team_id=team_id, code=code.strip().upper())
            if row is None:
                raise NotFound("error.meeting_not_found", code=code)
            return self._load(s, row, with_history=with_history)

    def by_message(
        self, channel_id: str | None, ts: str, *, teams: Collection[str] | None = None
    ) -> MeetingInfo | None:
        """The meeting whose card or minutes is this message."""
        with self._scope() as s:
            row = repo.by_message(s, channel_id=channel_id, ts=ts, teams=teams)
            return None if row is None else self._load(s, row)

    def upcoming(self, team_id: str, user_id: str, now: datetime, limit: int = 20) -> list[MeetingInfo]:
        """The user's next meetings."""
        with self._scope() as s:
            return [
                self._load(s, r) for r in repo.upcoming_for(s, team_id=team_id, user_id=user_id, after=now, limit=limit)
            ]

    def upcoming_page(
        self,
        team_id: str,
        user_id: str,
        now: datetime,
        *,
        within: timedelta = timedelta(days=14),
        offset: int = 0,
        limit: int = 10,
    ) -> tuple[list[MeetingInfo], int]:
        """One page of the user's meetings that are under way or start within `within`, soonest first; and how many."""
        with self._scope() as s:
            # no meeting lasts longer than MAX_DURATION, so one that started earlier is over
            starts = repo.starts_for(
                s, team_id=team_id, user_id=user_id, after=now - timedelta(minutes=MAX_DURATION), until=now + within
            )
            ids = [mid for mid, start, minutes in starts if start + timedelta(minutes=minutes) > now]
            return [self._load(s, r) for r in repo.get_many(s, ids[offset : offset + limit])], len(ids)

    def minutes_owed(
        self, team_id: str, user_id: str, now: datetime, *, offset: int = 0, limit: int = 10
    ) -> tuple[list[MeetingInfo], int]:
        """One page of the user's meetings that are over without minutes, oldest first; and how many there are."""
        with self._scope() as s:
            starts = repo.starts_for(s, team_id=team_id, user_id=user_id, after=None, until=now, without_minutes=True)
            ids = [mid for mid, start, minutes in starts if start + timedelta(minutes=minutes) <= now]
            return [self._load(s, r) for r in repo.get_many(s, ids[offset : offset + limit])], len(ids)

    # -- internals -------------------------------------------------------------------------------------

    @staticmethod
    def _fields(draft: MeetingDraft) -> dict[str, Any]:
        return {
            "title": draft.title.strip(),
            "goal": draft.goal.strip(),
            "start_at": draft.start,
            "duration_minutes": draft.duration_minutes,
            "location": draft.location.strip(),
            "materials": draft.materials.strip(),
            "host_id": draft.host_id,
            "channel_id": draft.channel_id,
        }

    @staticmethod
    def _get(s: Session, meeting_id: int, *, lock: bool = False) -> Meeting:
        row = repo.get(s, meeting_id, lock=lock)
        if row is None:
            raise NotFound("error.meeting_not_found", code=str(meeting_id))
        return row

    def _schedule(self, s: Session, info: MeetingInfo, now: datetime, version: int = 0) -> None:
        suffix = f":v{version}" if version else ""
        stamp = int(info.start.timestamp())
        if info.start > now:
            for user in info.attendees:
                agenda_at = max(now, info.start - self.agenda_lead)
                if agenda_at > now:
                    agenda_at = self._calendar.place(agenda_at, tz=self.tz_of(user), deadline=info.start, now=now)
                outbox.schedule(
                    s,
                    team_id=info.team_id,
                    kind=KIND_AGENDA,
                    subject=_subject(info.id),
                    key=f"mtg:{info.id}:agenda:{user}{suffix}",
                    due_at=max(now, agenda_at),
                    now=now,
                    payload={"meeting_id": info.id, "user_id": user, "start": stamp},
                )
                start_at = info.start - self.start_lead
                if start_at > now:
                    outbox.schedule(
                        s,
                        team_id=info.team_id,
                        kind=KIND_START,
                        subject=_subject(info.id),
                        key=f"mtg:{info.id}:start:{user}{suffix}",
                        due_at=start_at,
                        now=now,
                        payload={"meeting_id": info.id, "user_id": user, "start": stamp},
                    )
        if info.minutes_at is None:
            # entered after the fact: its author is about to record the minutes, so no nag right away
            due = max(now, info.end) + self.minutes_due
            due = self._calendar.place(due, tz=self.tz_of(info.host_id), now=due)
            outbox.schedule(
                s,
                team_id=info.team_id,
                kind=KIND_MINUTES_MISSING,
                subject=_subject(info.id),
                key=f"mtg:{info.id}:minutes_missing{suffix}",
                due_at=due,
                now=now,
                payload={"meeting_id": info.id, "user_id": info.host_id},
            )

    @staticmethod
    def _incident_code(s: Session, row: Meeting) -> str:
        if row.incident_id is None:
            return ""
        reviewed = incident_repo.get(s, row.incident_id)
        return reviewed.code if reviewed is not None else ""

    def _load(self, s: Session, row: Meeting, *, with_history: bool = False) -> MeetingInfo:
        mid = int(row.id or 0)
        return MeetingInfo(
            id=mid,
            code=row.code,
            team_id=row.team_id,
            title=row.title,
            goal=row.goal,
            start=row.start_at,
            duration_minutes=row.duration_minutes,
            location=row.location,
            materials=row.materials,
            host_id=row.host_id,
            channel_id=row.channel_id,
            message_ts=row.message_ts,
            created_by=row.created_by,
            created_at=row.created_at,
            participants=tuple(repo.participants(s, mid)),
            agenda=tuple(AgendaEntry(a.topic, a.owner_id, a.minutes) for a in repo.agenda(s, mid)),
            decisions=tuple(json.loads(row.decisions)) if row.decisions is not None else None,
            notes=row.notes,
            minutes_at=row.minutes_at,
            minutes_by=row.minutes_by,
            minutes_ts=row.minutes_ts,
            acks=tuple((a.user_id, a.at) for a in repo.acks(s, mid)),
            history=tuple(
                HistoryItem(h.at, h.actor_id, h.action, json.loads(h.detail or "{}")) for h in repo.history(s, mid)
            )
            if with_history
            else (),
            incident_id=row.incident_id,
            incident_code=self._incident_code(s, row),
        )


def _subject(meeting_id: int) -> str:
    return f"meeting:{meeting_id}"
