"""Action items (行动项): what, owner, due, deliverable and status, with reminders until done.

An item comes from a source record (a meeting today; requirements and incidents later), named by
`source_type`, `source_id` and `source_code`, and is followed up on its own from then on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot import inbox, outbox
from bot.errors import NotAllowed, NotFound, ValidationFailed
from bot.services.requirements import HistoryItem, RequirementService
from bot.workhours import WorkCalendar
from storage import actions as repo
from storage import counters
from storage.db import SessionScope
from storage.models import ActionItem

if TYPE_CHECKING:  # meetings and incidents build on this service: their types are for hints only
    from bot.services.incidents import IncidentService
    from bot.services.meetings import MeetingService

logger = logging.getLogger(__name__)

PREFIX = "ACT"
MAX_TITLE = 500
MAX_DELIVERABLE = 1000
MAX_REASON = 3000
FIELD = "action_items"  # the field a batch's validation errors are reported on

KIND_ACTION_REMINDER = "action.reminder"
KIND_ACTION_OVERDUE = "action.overdue"
KIND_ACTION_ESCALATE = "action.escalate"


class ActionStatus(StrEnum):
    """Where an action item stands."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    DONE = "done"
    WONT_DO = "wont_do"  # decided against, with a reason: closed like done, but counted apart

    @property
    def closed(self) -> bool:
        """Nothing more is expected of the item (done, or won't be done): no reminders, not in open lists."""
        return self in CLOSED_STATUSES


CLOSED_STATUSES = frozenset({ActionStatus.DONE, ActionStatus.WONT_DO})


@dataclass(frozen=True)
class ActionDraft:
    """An action item as entered: what, who, by when, and what is handed over."""

    title: str
    owner_id: str
    due: datetime
    deliverable: str = ""


@dataclass(frozen=True)
class ActionInfo:
    """An action item as the rest of the bot sees it."""

    id: int
    code: str
    team_id: str
    title: str
    owner_id: str
    creator_id: str
    due: datetime
    deliverable: str
    status: ActionStatus
    blocked_reason: str | None
    source_type: str
    source_id: int | None
    source_code: str
    escalate_to: str | None
    channel_id: str
    message_ts: str | None
    created_at: datetime
    updated_at: datetime
    done_at: datetime | None
    context: str = ""
    escalated_at: datetime | None = None
    history: tuple[HistoryItem, ...] = ()
    closed_reason: str | None = None  # why it won't be done

    @property
    def escalation_target(self) -> str:
        """Who hears when the item stays overdue: the meeting host (or other source's lead), else the creator."""
        return self.escalate_to or self.creator_id

    @property
    def overdue_recipients(self) -> list[str]:
        """Who hears that the item is overdue: the owner, and whoever it escalates to."""
        return list(dict.fromkeys([self.owner_id, *([self.escalate_to] if self.escalate_to else [])]))


# What a one-line /action whose `problem` (bot.services.action_text.parse_quick) kept it from being created is
# answered with; any other problem (no due date, a date that does not read) gets the general explanation.
QUICK_PROBLEM_KEYS: dict[str, str] = {
    "no_owner": "action.quick_no_owner",
    "unknown_person": "action.quick_no_owner",
    "ambiguous_person": "action.quick_no_owner",
    "no_title": "action.quick_no_title",
}


def quick_problem_key(problem: str | None) -> str:
    """The catalog key of the reply that says why a one-line /action was not created at once."""
    return QUICK_PROBLEM_KEYS.get(problem or "", "action.quick_unparsed")


class SourceRecords(Protocol):
    """The services an item's source record is looked up in (the `Services` container is one)."""

    @property
    def requirements(self) -> RequirementService: ...

    @property
    def meetings(self) -> MeetingService: ...

    @property
    def incidents(self) -> IncidentService: ...


@dataclass(frozen=True)
class NamedSource:
    """A source record a form named: what links an item to it, where it lives, and what hides it."""

    fields: dict[str, Any]  # source_type, source_id, source_code (and escalate_to): keywords of `create_many`
    channel_id: str  # where the record was posted: only who may see that channel may name it
    missing: NotFound  # the answer to someone who may not, the same as if the record did not exist


def named_source(records: SourceRecords, team_id: str, typed: str) -> NamedSource | None:
    """The requirement (RW-…) or meeting (MTG-…) a form's source names, None when it names neither; NotFound when
    no such record exists. An item from a meeting escalates to its host."""
    if typed.startswith("RW-"):
        req = records.requirements.by_code(team_id, typed)
        return NamedSource(
            {"source_type": "requirement", "source_id": req.id, "source_code": req.code},
            req.channel_id,
            NotFound("error.requirement_not_found", code=typed),
        )
    if typed.startswith("MTG-"):
        mtg = records.meetings.by_code(team_id, typed)
        return NamedSource(
            {"source_type": "meeting", "source_id": mtg.id, "source_code": mtg.code, "escalate_to": mtg.host_id},
            mtg.channel_id,
            NotFound("error.meeting_not_found", code=typed),
        )
    return None


def source_message(records: SourceRecords, item: ActionInfo) -> tuple[str | None, str | None]:
    """The channel and message where the item's source record is shown; (None, None) when it has none."""
    if item.source_type == "meeting" and item.source_id:
        mtg = records.meetings.get(item.source_id)
        return mtg.channel_id, mtg.message_ts
    if item.source_type == "requirement" and item.source_id:
        req = records.requirements.get(item.source_id)
        return req.channel_id, req.message_ts
    if item.source_type == "incident" and item.source_id:
        inc = records.incidents.get(item.source_id)
        return inc.summary_channel, inc.summary_ts
    return None, None


def validate_drafts(drafts: Sequence[ActionDraft], now: datetime) -> None:
    """Check a batch of drafts; the first bad one raises ValidationFailed on the `action_items` field."""
    for line, draft in enumerate(drafts, start=1):
        error: tuple[str, dict[str, Any]] | None = None
        if not draft.title.strip():
            error = ("error.action_item_title", {"line": line})
        elif len(draft.title.strip()) > MAX_TITLE:
            error = ("error.action_item_too_long", {"line": line, "max": MAX_TITLE})
        elif len(draft.deliverable.strip()) > MAX_DELIVERABLE:
            error = ("error.action_item_too_long", {"line": line, "max": MAX_DELIVERABLE})
        elif not draft.owner_id:
            error = ("error.action_item_owner", {"line": line})
        elif draft.due.tzinfo is None or draft.due <= now:
            error = ("error.action_item_past", {"line": line})
        if error:
            raise ValidationFailed({FIELD: error})


class ActionService:
    """Creates action items, moves them through their statuses and keeps their reminders."""

    def __init__(
        self,
        session_scope: SessionScope,
        *,
        tz: str = "UTC",
        lead: timedelta = timedelta(hours=24),
        calendar: WorkCalendar | None = None,
        escalation_days: int = 2,
    ) -> None:
        self._scope = session_scope
        self._zone = ZoneInfo(tz)
        self._calendar = calendar or WorkCalendar()
        self.tz_of: Callable[[str], str] = lambda _user: tz  # the recipient's timezone; the app wires Slack's
        self.lead = lead
        self.escalation_days = escalation_days

    @property
    def calendar(self) -> WorkCalendar:
        """The working days and hours reminders are placed in."""
        return self._calendar

    # -- creation and status ------------------------------------------------------------------

    def create_many(
        self,
        *,
        team_id: str,
        creator_id: str,
        drafts: Sequence[ActionDraft],
        now: datetime,
        source_type: str = "",
        source_id: int | None = None,
        source_code: str = "",
        escalate_to: str | None = None,
        channel_id: str = "",
        context: str = "",
    ) -> list[ActionInfo]:
        """Store a batch of items in one unit of work, each with its ID, history and reminders."""
        validate_drafts(drafts, now)
        if not drafts:
            return []
        with self._scope() as s:
            infos = self.add_many(
                s,
                team_id=team_id,
                creator_id=creator_id,
                drafts=drafts,
                now=now,
                source_type=source_type,
                source_id=source_id,
                source_code=source_code,
                escalate_to=escalate_to,
                channel_id=channel_id,
                context=context,
            )
        logger.info("action items %s created by %s", ", ".join(i.code for i in infos), creator_id)
        return infos

    def add_many(
        self,
        s: Session,
        *,
        team_id: str,
        creator_id: str,
        drafts: Sequence[ActionDraft],
        now: datetime,
        source_type: str = "",
        source_id: int | None = None,
        source_code: str = "",
        escalate_to: str | None = None,
        channel_id: str = "",
        context: str = "",
    ) -> list[ActionInfo]:
        """`create_many` inside the caller's unit of work (the minutes and their items commit together)."""
        validate_drafts(drafts, now)
        if not drafts:
            return []
        if inbox.created(s, "action:0") is not None:  # this request ran before and stored them, together
            earlier = [inbox.created(s, f"action:{i}") for i in range(len(drafts))]
            return [self._load(s, self._get(s, int(found or 0))) for found in earlier]
        infos: list[ActionInfo] = []
        year = now.astimezone(self._zone).year
        for index, draft in enumerate(drafts):
            seq = counters.next_value(s, team_id=team_id, prefix=PREFIX, year=year)
            row = ActionItem(
                team_id=team_id,
                code=f"{PREFIX}-{year}-{seq:03d}",
                title=draft.title.strip(),
                owner_id=draft.owner_id,
                creator_id=creator_id,
                due_at=draft.due,
                deliverable=draft.deliverable.strip(),
                status=ActionStatus.OPEN,
                source_type=source_type,
                source_id=source_id,
                source_code=source_code,
                escalate_to=escalate_to or None,
                channel_id=channel_id,
                created_at=now,
                updated_at=now,
                context=context.strip()[:3000],
            )
            s.add(row)
            s.flush()
            inbox.note_created(s, f"action:{index}", int(row.id or 0))
            repo.add_history(
                s,
                action_id=int(row.id or 0),
                at=now,
                actor_id=creator_id,
                action="created",
                detail=json.dumps({"source": source_code} if source_code else {}),
            )
            info = self._load(s, row)
            self._schedule(s, info, now)
            infos.append(info)
        return infos

    @staticmethod
    def check_can_update(owner_id: str, creator_id: str, user_id: str) -> None:
        """Only the owner or the creator may change an item's status."""
        if user_id not in (owner_id, creator_id):
            raise NotAllowed("error.action_not_allowed")

    def set_status(
        self, action_id: int, *, user_id: str, status: ActionStatus, now: datetime, reason: str = ""
    ) -> tuple[ActionInfo, bool]:
        """Move an item to `status`; returns the item and whether anything changed.

        Blocked and won't do need a reason. A closed item (done, won't do) is no longer reminded of; moving it
        back to an open status re-arms what was not sent yet.
        """
        status = ActionStatus(status)
        reason = reason.strip()
        if status in (ActionStatus.BLOCKED, ActionStatus.WONT_DO):
            if not reason:
                raise ValidationFailed({"reason": ("error.required", {})})
            if len(reason) > MAX_REASON:
                raise ValidationFailed({"reason": ("error.too_long", {"max": MAX_REASON})})
        with self._scope() as s:
            row = self._get(s, action_id, lock=True)
            self.check_can_update(row.owner_id, row.creator_id, user_id)
            before = ActionStatus(row.status)
            if before == status:
                return self._load(s, row), False
            row.status = status
            row.blocked_reason = reason if status == ActionStatus.BLOCKED else None
            row.closed_reason = reason if status == ActionStatus.WONT_DO else None
            row.updated_at = now
            if status == ActionStatus.DONE:
                row.done_at = now
            elif before == ActionStatus.DONE:
                row.done_at = None
            s.add(row)
            detail: dict[str, str] = {"from": before, "to": status}
            if status in (ActionStatus.BLOCKED, ActionStatus.WONT_DO):
                detail["reason"] = reason
            repo.add_history(
                s,
                action_id=action_id,
                at=now,
                actor_id=user_id,
                action="status_changed",
                detail=json.dumps(detail, ensure_ascii=False),
            )
            s.flush()
            info = self._load(s, row)
            if status.closed:
                outbox.cancel(s, subject=_subject(action_id))
            elif before.closed:
                self._schedule(s, info, now, rearm=True)
        logger.info("action item %s: %s -> %s by %s", info.code, before, status, user_id)
        return info, True

    def attach_message(self, action_id: int, *, channel_id: str, message_ts: str) -> None:
        """Remember which message shows the item (its buttons and reactions act on it)."""
        with self._scope() as s:
            row = self._get(s, action_id)
            row.channel_id = channel_id
            row.message_ts = message_ts
            s.add(row)

    # -- reading ----------------------------------------------------------------------------------

    def get(self, action_id: int, *, with_history: bool = False) -> ActionInfo:
        """One item by primary key."""
        with self._scope() as s:
            return self._load(s, self._get(s, action_id), with_history=with_history)

    def by_code(self, team_id: str, code: str, *, with_history: bool = False) -> ActionInfo:
        """One item by its ID such as ACT-2026-001."""
        with self._scope() as s:
            row = repo.by_code(s, team_id=team_id, code=code.strip().upper())
            if row is None:
                raise NotFound("error.action_not_found", code=code)
            return self._load(s, row, with_history=with_history)

    def by_message(
        self, channel_id: str | None, message_ts: str, *, teams: Collection[str] | None = None
    ) -> ActionInfo | None:
        """The item shown by a message, if any."""
        with self._scope() as s:
            row = repo.by_message(s, channel_id=channel_id, message_ts=message_ts, teams=teams)
            return None if row is None else self._load(s, row)

    def for_source(self, source_type: str, source_id: int) -> list[ActionInfo]:
        """The items that came from one source record, in creation order."""
        with self._scope() as s:
            return [self._load(s, r) for r in repo.for_source(s, source_type=source_type, source_id=source_id)]

    def for_sources(self, sources: Collection[tuple[str, int]]) -> list[ActionInfo]:
        """The items that came from any of several source records, (type, id) each, in creation order."""
        with self._scope() as s:
            return [self._load(s, r) for r in repo.for_sources(s, sources=sources)]

    def open_for_owner(self, team_id: str, owner_id: str, limit: int = 50) -> list[ActionInfo]:
        """An owner's items still open (not done, not won't do), the soonest due first."""
        with self._scope() as s:
            rows = repo.open_for_owner(s, team_id=team_id, owner_id=owner_id, closed=CLOSED_STATUSES, limit=limit)
            return [self._load(s, r) for r in rows]

    def open_page(self, team_id: str, owner_id: str, *, offset: int = 0, limit: int = 10) -> list[ActionInfo]:
        """One page of an owner's open items, the soonest due (so the most overdue) first."""
        with self._scope() as s:
            rows = repo.open_for_owner_page(
                s, team_id=team_id, owner_id=owner_id, closed=CLOSED_STATUSES, offset=offset, limit=limit
            )
            return [self._load(s, r) for r in rows]

    def open_counts(self, team_id: str, owner_id: str, now: datetime) -> tuple[int, int]:
        """How many items an owner still has open, and how many of them are overdue."""
        with self._scope() as s:
            return repo.count_open_for_owner(
                s, team_id=team_id, owner_id=owner_id, closed=CLOSED_STATUSES, overdue_before=now
            )

    # -- internals --------------------------------------------------------------------------------

    @staticmethod
    def _get(s: Session, action_id: int, *, lock: bool = False) -> ActionItem:
        row = repo.get(s, action_id, lock=lock)
        if row is None:
            raise NotFound("error.action_not_found", code=str(action_id))
        return row

    def _schedule(self, s: Session, info: ActionInfo, now: datetime, *, rearm: bool = False) -> None:
        """The owner's reminder before the due time, and the overdue notices after it."""
        if info.status.closed:
            return
        subject = _subject(info.id)
        already: set[tuple[str, str]] = set()
        suffix = ""
        if rearm:
            # Re-arming after a reopen uses fresh keys (the old rows were cancelled), but what
            # was already delivered once is not delivered again.
            already = {
                (kind, str(json.loads(payload).get("user_id"))) for kind, payload in repo.sent_work(s, subject=subject)
            }
            suffix = f":g{len(repo.history(s, info.id))}"
        owner = info.owner_id
        if (KIND_ACTION_REMINDER, owner) not in already:
            remind_at = self._calendar.place(info.due - self.lead, tz=self.tz_of(owner), deadline=info.due, now=now)
            if now < remind_at < info.due:
                outbox.schedule(
                    s,
                    team_id=info.team_id,
                    kind=KIND_ACTION_REMINDER,
                    subject=subject,
                    key=f"action:{info.id}:remind{suffix}",
                    due_at=remind_at,
                    now=now,
                    payload={"action_id": info.id, "user_id": owner},
                )
        for user in info.overdue_recipients:
            if (KIND_ACTION_OVERDUE, user) in already:
                continue
            # never before the due time itself: only later, into the recipient's next working hours
            due_at = self._calendar.place(info.due, tz=self.tz_of(user), now=max(now, info.due))
            outbox.schedule(
                s,
                team_id=info.team_id,
                kind=KIND_ACTION_OVERDUE,
                subject=subject,
                key=f"action:{info.id}:overdue:{user}{suffix}",
                due_at=due_at,
                now=now,
                payload={"action_id": info.id, "user_id": user},
            )
        target = info.escalation_target
        if self.escalation_days > 0 and info.escalated_at is None and (KIND_ACTION_ESCALATE, target) not in already:
            tz = self.tz_of(target)
            late = self._calendar.add_working_days(info.due, self.escalation_days, tz)
            escalate_at = self._calendar.place(late, tz=tz, now=max(now, late))
            outbox.schedule(
                s,
                team_id=info.team_id,
                kind=KIND_ACTION_ESCALATE,
                subject=subject,
                key=f"action:{info.id}:escalate{suffix}",
                due_at=escalate_at,
                now=now,
                payload={"action_id": info.id, "user_id": target},
            )

    def mark_escalated(self, action_id: int, *, now: datetime) -> ActionInfo:
        """Record that an overdue item was escalated (once)."""
        with self._scope() as s:
            row = self._get(s, action_id, lock=True)
            if row.escalated_at is None:
                row.escalated_at = now
                s.add(row)
                repo.add_history(
                    s,
                    action_id=action_id,
                    at=now,
                    actor_id="coordbot",
                    action="escalated",
                    detail=json.dumps({"to": row.escalate_to or row.creator_id}),
                )
                s.flush()
            return self._load(s, row)

    def _load(self, s: Session, row: ActionItem, *, with_history: bool = False) -> ActionInfo:
        history = repo.history(s, int(row.id or 0)) if with_history else ()
        return ActionInfo(
            id=int(row.id or 0),
            code=row.code,
            team_id=row.team_id,
            title=row.title,
            owner_id=row.owner_id,
            creator_id=row.creator_id,
            due=row.due_at,
            deliverable=row.deliverable,
            status=ActionStatus(row.status),
            blocked_reason=row.blocked_reason,
            source_type=row.source_type,
            source_id=row.source_id,
            source_code=row.source_code,
            escalate_to=row.escalate_to,
            channel_id=row.channel_id,
            message_ts=row.message_ts,
            created_at=row.created_at,
            updated_at=row.updated_at,
            done_at=row.done_at,
            context=row.context,
            escalated_at=row.escalated_at,
            history=tuple(HistoryItem(h.at, h.actor_id, h.action, json.loads(h.detail or "{}")) for h in history),
            closed_reason=row.closed_reason,
        )


def _subject(action_id: int) -> str:
    return f"action:{action_id}"
