"""Requirement sign-off (需求沟通与确认表): rules, statuses and who may do what."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot import inbox, outbox
from bot.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from bot.workhours import WorkCalendar
from storage import counters
from storage import requirements as repo
from storage.db import SessionScope
from storage.models import OpenQuestion, Requirement, Signature

logger = logging.getLogger(__name__)

PREFIX = "RW"
PRIORITIES = ("high", "medium", "low")
MAX_TEXT = 3000  # Slack's limit for a plain-text input and a section's text
MAX_SHORT = 150
MAX_QUESTIONS = 15
CONTENT_FIELDS = (
    "requester_dept",
    "requester_owner",
    "receiver_dept",
    "receiver_owner",
    "background",
    "goal",
    "description",
    "priority",
    "due",
    "resources",
    "confirm_by",
    "channel_id",
    "questions",
)

KIND_SIGN_REMINDER = "req.sign_reminder"
KIND_OVERDUE = "req.overdue"
KIND_QUESTION_REMINDER = "req.question_reminder"


class Status(StrEnum):
    """Where a requirement stands."""

    AWAITING = "awaiting"
    CONFIRMED = "confirmed"
    CHANGES_REQUESTED = "changes_requested"


class Role(StrEnum):
    """The two owners who sign."""

    REQUESTER = "requester"
    RECEIVER = "receiver"


@dataclass(frozen=True)
class QuestionDraft:
    """An open question as entered; owner and deadline default at creation."""

    text: str
    owner_id: str | None = None
    deadline: datetime | None = None


@dataclass(frozen=True)
class RequirementDraft:
    """The sheet's fields as entered, already parsed into plain values."""

    requester_dept: str
    requester_owner: str
    receiver_dept: str
    receiver_owner: str
    background: str
    goal: str
    description: str
    priority: str
    due: datetime
    confirm_by: datetime
    channel_id: str
    resources: str = ""
    questions: tuple[QuestionDraft, ...] = ()


@dataclass(frozen=True)
class SignatureInfo:
    """Who signed a revision in which role, how and when."""

    role: Role
    user_id: str
    via: str
    signed_at: datetime


@dataclass(frozen=True)
class QuestionInfo:
    """An open question with its owner, deadline and answer state."""

    id: int
    position: int
    text: str
    owner_id: str
    deadline: datetime
    answered_at: datetime | None = None
    answered_by: str | None = None


@dataclass(frozen=True)
class HistoryItem:
    """One line of a record's history."""

    at: datetime
    actor_id: str
    action: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class RequirementInfo:
    """A requirement as the rest of the bot sees it."""

    id: int
    code: str
    team_id: str
    revision: int
    status: Status
    author_id: str
    requester_dept: str
    requester_owner: str
    receiver_dept: str
    receiver_owner: str
    background: str
    goal: str
    description: str
    priority: str
    due: datetime
    resources: str
    confirm_by: datetime
    channel_id: str
    message_ts: str | None
    change_reason: str | None
    created_at: datetime
    updated_at: datetime
    confirmed_at: datetime | None
    signatures: tuple[SignatureInfo, ...] = ()
    questions: tuple[QuestionInfo, ...] = ()
    history: tuple[HistoryItem, ...] = field(default=())

    def roles_of(self, user_id: str) -> list[Role]:
        """The roles a user holds on this record (both when one person owns both sides)."""
        roles = []
        if user_id == self.requester_owner:
            roles.append(Role.REQUESTER)
        if user_id == self.receiver_owner:
            roles.append(Role.RECEIVER)
        return roles

    def signature(self, role: Role) -> SignatureInfo | None:
        """The current revision's signature for a role."""
        return next((s for s in self.signatures if s.role == role), None)

    @property
    def unsigned_owners(self) -> list[str]:
        """Owners still to sign, without repeats."""
        out: list[str] = []
        for role, user in ((Role.REQUESTER, self.requester_owner), (Role.RECEIVER, self.receiver_owner)):
            if self.signature(role) is None and user not in out:
                out.append(user)
        return out

    @property
    def owners(self) -> list[str]:
        """Both owners, without repeats."""
        return list(dict.fromkeys([self.requester_owner, self.receiver_owner]))

    def draft(self) -> RequirementDraft:
        """The current content as a draft (to prefill an edit)."""
        return RequirementDraft(
            requester_dept=self.requester_dept,
            requester_owner=self.requester_owner,
            receiver_dept=self.receiver_dept,
            receiver_owner=self.receiver_owner,
            background=self.background,
            goal=self.goal,
            description=self.description,
            priority=self.priority,
            due=self.due,
            confirm_by=self.confirm_by,
            channel_id=self.channel_id,
            resources=self.resources,
            questions=tuple(QuestionDraft(q.text, q.owner_id, q.deadline) for q in self.questions),
        )


@dataclass(frozen=True)
class SignOutcome:
    """The result of a signature or its withdrawal."""

    requirement: RequirementInfo
    changed: bool
    confirmed_now: bool = False


def validate(draft: RequirementDraft, now: datetime) -> None:
    """Check a draft against the sheet's rules; raise ValidationFailed with per-field errors."""
    errors: dict[str, tuple[str, dict[str, Any]]] = {}
    for name in ("requester_dept", "receiver_dept"):
        value = getattr(draft, name).strip()
        if not value:
            errors[name] = ("error.required", {})
        elif len(value) > MAX_SHORT:
            errors[name] = ("error.too_long", {"max": MAX_SHORT})
    for name in ("background", "goal", "description"):
        value = getattr(draft, name).strip()
        if not value:
            errors[name] = ("error.required", {})
        elif len(value) > MAX_TEXT:
            errors[name] = ("error.too_long", {"max": MAX_TEXT})
    if len(draft.resources) > MAX_TEXT:
        errors["resources"] = ("error.too_long", {"max": MAX_TEXT})
    for name in ("requester_owner", "receiver_owner"):
        if not getattr(draft, name):
            errors[name] = ("error.required", {})
    if draft.priority not in PRIORITIES:
        errors["priority"] = ("error.required", {})
    if draft.due <= now:
        errors["due"] = ("error.in_past", {})
    if draft.confirm_by <= now:
        errors["confirm_by"] = ("error.in_past", {})
    elif draft.due > now and draft.confirm_by > draft.due:
        errors["confirm_by"] = ("error.confirm_after_due", {})
    if len(draft.questions) > MAX_QUESTIONS:
        errors["open_questions"] = ("error.too_many_questions", {"max": MAX_QUESTIONS})
    else:
        for n, q in enumerate(draft.questions, start=1):
            if len(q.text) > 500:
                errors["open_questions"] = ("error.question_too_long", {"line": n, "max": 500})
                break
            if q.deadline is not None and q.deadline <= now:
                errors["open_questions"] = ("error.question_deadline_past", {"line": n})
                break
    if not draft.channel_id:
        errors["channel"] = ("error.required", {})
    if errors:
        raise ValidationFailed(errors)


class RequirementService:
    """Creates, signs, revises and reports requirement sheets."""

    def __init__(
        self,
        session_scope: SessionScope,
        *,
        tz: str = "UTC",
        reminder_lead: timedelta = timedelta(hours=2),
        question_lead: timedelta = timedelta(hours=2),
        default_question_window: timedelta = timedelta(hours=24),
        calendar: WorkCalendar | None = None,
    ) -> None:
        self._scope = session_scope
        self._zone = ZoneInfo(tz)
        self._calendar = calendar or WorkCalendar()
        self.tz_of: Callable[[str], str] = lambda _user: tz  # the recipient's timezone; the app wires Slack's
        self.reminder_lead = reminder_lead
        self.question_lead = question_lead
        self.default_question_window = default_question_window

    # -- creation and revision ---------------------------------------------------

    def create(self, *, team_id: str, author_id: str, draft: RequirementDraft, now: datetime) -> RequirementInfo:
        """Store a new sheet with its ID, questions, first revision and reminders."""
        validate(draft, now)
        with self._scope() as s:
            earlier = inbox.created(s, "requirement")
            if earlier is not None:  # this request ran before and stored the sheet: the same one
                return self._load(s, self._get(s, earlier))
            year = now.astimezone(self._zone).year
            seq = counters.next_value(s, team_id=team_id, prefix=PREFIX, year=year)
            req = Requirement(
                team_id=team_id,
                code=f"{PREFIX}-{year}-{seq:03d}",
                revision=1,
                status=Status.AWAITING,
                author_id=author_id,
                created_at=now,
                updated_at=now,
                **self._content(draft),
            )
            s.add(req)
            s.flush()
            rid = int(req.id or 0)
            inbox.note_created(s, "requirement", rid)
            self._write_questions(s, rid, draft, now, previous=())
            repo.add_revision(s, requirement_id=rid, revision=1, content=_snapshot(draft), by=author_id, at=now)
            repo.add_history(
                s, requirement_id=rid, at=now, actor_id=author_id, action="created", detail=json.dumps({"revision": 1})
            )
            info = self._load(s, req)
            self._schedule_reminders(s, info, now)
        logger.info("requirement %s created by %s", info.code, author_id)
        return info

    def revise(
        self,
        requirement_id: int,
        *,
        user_id: str,
        draft: RequirementDraft,
        now: datetime,
        expected_revision: int | None = None,
    ) -> RequirementInfo:
        """Edit a record: a new revision that needs both signatures again."""
        validate(draft, now)
        with self._scope() as s:
            req = self._get(s, requirement_id, lock=True)
            self.check_can_edit(req.requester_owner, req.author_id, user_id)
            if expected_revision is not None and req.revision != expected_revision:
                raise Conflict("error.stale_revision", code=req.code, revision=req.revision)
            before = self._load(s, req)
            changed = [f for f in CONTENT_FIELDS if _field_value(before.draft(), f) != _field_value(draft, f)]
            content = self._content(draft)
            if req.message_ts:  # a posted sheet stays in its channel
                content.pop("channel_id")
            for key, value in content.items():
                setattr(req, key, value)
            req.revision += 1
            req.status = Status.AWAITING
            req.confirmed_at = None
            req.change_reason = None
            req.updated_at = now
            s.add(req)
            s.flush()
            self._write_questions(s, requirement_id, draft, now, previous=before.questions)
            repo.add_revision(
                s, requirement_id=requirement_id, revision=req.revision, content=_snapshot(draft), by=user_id, at=now
            )
            repo.add_history(
                s,
                requirement_id=requirement_id,
                at=now,
                actor_id=user_id,
                action="revised",
                detail=json.dumps({"revision": req.revision, "fields": changed}),
            )
            outbox.cancel(s, subject=_subject(requirement_id))
            info = self._load(s, req)
            self._schedule_reminders(s, info, now)
        return info

    @staticmethod
    def check_can_edit(requester_owner: str, author_id: str, user_id: str) -> None:
        """Only the requester owner or the author may edit a sheet."""
        if user_id not in (requester_owner, author_id):
            raise NotAllowed("error.only_requester_edits")

    def attach_message(self, requirement_id: int, *, channel_id: str, message_ts: str) -> None:
        """Remember which message shows the sheet (reactions on it sign)."""
        with self._scope() as s:
            req = self._get(s, requirement_id)
            req.channel_id = channel_id
            req.message_ts = message_ts
            s.add(req)

    # -- signatures ------------------------------------------------------------------

    def sign(self, requirement_id: int, *, user_id: str, via: str, now: datetime) -> SignOutcome:
        """Sign as every role the user holds; confirm and lock when both roles have signed."""
        with self._scope() as s:
            req = self._get(s, requirement_id, lock=True)
            info = self._load(s, req)
            roles = info.roles_of(user_id)
            if not roles:
                raise NotAllowed("error.only_owners_sign", code=req.code)
            if info.status == Status.CONFIRMED:
                raise Conflict("error.already_confirmed", code=req.code)
            if info.status == Status.CHANGES_REQUESTED:
                raise Conflict("error.changes_requested_sign", code=req.code)
            new_roles = [r for r in roles if info.signature(r) is None]
            if not new_roles:
                return SignOutcome(info, changed=False)
            for role in new_roles:
                s.add(
                    Signature(
                        requirement_id=requirement_id,
                        revision=req.revision,
                        role=role,
                        user_id=user_id,
                        via=via,
                        signed_at=now,
                    )
                )
            repo.add_history(
                s,
                requirement_id=requirement_id,
                at=now,
                actor_id=user_id,
                action="signed",
                detail=json.dumps({"roles": new_roles, "via": via, "revision": req.revision}),
            )
            # the row is locked: the revision's signatures are the ones read above and these
            signatures = (*info.signatures, *(SignatureInfo(Role(r), user_id, via, now) for r in new_roles))
            confirmed = {sig.role for sig in signatures} >= {Role.REQUESTER, Role.RECEIVER}
            if confirmed:
                req.status = Status.CONFIRMED
                req.confirmed_at = now
                req.updated_at = now
                s.add(req)
                repo.add_history(
                    s,
                    requirement_id=requirement_id,
                    at=now,
                    actor_id=user_id,
                    action="confirmed",
                    detail=json.dumps({"revision": req.revision}),
                )
                outbox.cancel(s, subject=_subject(requirement_id))
            else:
                outbox.cancel(s, subject=_subject(requirement_id, user_id), kinds=(KIND_SIGN_REMINDER,))
            s.flush()
            return SignOutcome(
                replace(
                    info,
                    status=Status(req.status),
                    confirmed_at=req.confirmed_at,
                    updated_at=req.updated_at,
                    signatures=signatures,
                ),
                changed=True,
                confirmed_now=confirmed,
            )

    def withdraw(self, requirement_id: int, *, user_id: str, now: datetime) -> SignOutcome:
        """Withdraw the user's signature, only while the record is not yet confirmed."""
        with self._scope() as s:
            req = self._get(s, requirement_id, lock=True)
            info = self._load(s, req)
            if info.status != Status.AWAITING:
                return SignOutcome(info, changed=False)
            removed = [
                r
                for r in info.roles_of(user_id)
                if info.signature(r) and repo.delete_signature(s, requirement_id, req.revision, r)
            ]
            if not removed:
                return SignOutcome(info, changed=False)
            repo.add_history(
                s,
                requirement_id=requirement_id,
                at=now,
                actor_id=user_id,
                action="withdrawn",
                detail=json.dumps({"roles": removed, "revision": req.revision}),
            )
            req.updated_at = now
            s.add(req)
            s.flush()
            info = self._load(s, req)
            self._schedule_reminders(s, info, now, users=[user_id])
            return SignOutcome(info, changed=True)

    def request_changes(self, requirement_id: int, *, user_id: str, reason: str, now: datetime) -> RequirementInfo:
        """An owner asks for changes; signatures wait for the next revision."""
        reason = reason.strip()
        if not reason:
            raise ValidationFailed({"reason": ("error.required", {})})
        if len(reason) > MAX_TEXT:
            raise ValidationFailed({"reason": ("error.too_long", {"max": MAX_TEXT})})
        with self._scope() as s:
            req = self._get(s, requirement_id, lock=True)
            if user_id not in (req.requester_owner, req.receiver_owner):
                raise NotAllowed("error.only_owners_request_changes", code=req.code)
            if req.status == Status.CONFIRMED:
                raise Conflict("error.already_confirmed", code=req.code)
            req.status = Status.CHANGES_REQUESTED
            req.change_reason = reason
            req.updated_at = now
            s.add(req)
            repo.add_history(
                s,
                requirement_id=requirement_id,
                at=now,
                actor_id=user_id,
                action="changes_requested",
                detail=json.dumps({"reason": reason, "revision": req.revision}),
            )
            outbox.cancel(s, subject=_subject(requirement_id), kinds=(KIND_SIGN_REMINDER, KIND_OVERDUE))
            s.flush()
            return self._load(s, req)

    def answer_question(
        self, question_id: int, *, user_id: str, now: datetime, teams: Collection[str] | None = None
    ) -> RequirementInfo:
        """Mark an open question answered (its owner, either sheet owner, or the author); `teams`: the
        workspaces whose sheets the user may act on (None: any)."""
        with self._scope() as s:
            question = repo.question(s, question_id)
            if question is None:
                raise NotFound("error.not_found", code=str(question_id))
            req = self._get(s, question.requirement_id, lock=True)
            if teams is not None and req.team_id not in teams:
                raise NotFound("error.not_found", code=str(question_id))
            allowed = {question.owner_id, req.requester_owner, req.receiver_owner, req.author_id}
            if user_id not in allowed:
                raise NotAllowed("error.only_question_owner")
            if question.answered_at is None:
                question.answered_at = now
                question.answered_by = user_id
                s.add(question)
                repo.add_history(
                    s,
                    requirement_id=req.id or 0,
                    at=now,
                    actor_id=user_id,
                    action="question_answered",
                    detail=json.dumps({"question": question.position + 1, "text": question.text[:200]}),
                )
                outbox.cancel(s, subject=_question_subject(question_id))
                s.flush()
            return self._load(s, req)

    # -- reading ------------------------------------------------------------------------

    def get(self, requirement_id: int, *, with_history: bool = False) -> RequirementInfo:
        """One record by primary key."""
        with self._scope() as s:
            return self._load(s, self._get(s, requirement_id), with_history=with_history)

    def by_code(self, team_id: str, code: str, *, with_history: bool = False) -> RequirementInfo:
        """One record by its ID such as RW-2026-001."""
        with self._scope() as s:
            req = repo.by_code(s, team_id=team_id, code=code.strip().upper())
            if req is None:
                raise NotFound("error.requirement_not_found", code=code)
            return self._load(s, req, with_history=with_history)

    def by_message(
        self, channel_id: str | None, message_ts: str, *, teams: Collection[str] | None = None
    ) -> RequirementInfo | None:
        """The record shown by a message, if any (only records of `teams`, when given)."""
        with self._scope() as s:
            req = repo.by_message(s, channel_id=channel_id, message_ts=message_ts, teams=teams)
            return None if req is None else self._load(s, req)

    def question_info(self, question_id: int) -> tuple[RequirementInfo, QuestionInfo]:
        """A question with its record."""
        with self._scope() as s:
            question = repo.question(s, question_id)
            if question is None:
                raise NotFound("error.not_found", code=str(question_id))
            info = self._load(s, self._get(s, question.requirement_id))
            return info, next(q for q in info.questions if q.id == question_id)

    def awaiting(self, team_id: str, user_id: str, limit: int = 20) -> list[RequirementInfo]:
        """Records the user still has to sign."""
        with self._scope() as s:
            rows = repo.awaiting_signature_of(s, team_id=team_id, user_id=user_id, limit=limit * 2)
            infos = self._load_many(s, rows)
        return [i for i in infos if user_id in i.unsigned_owners][:limit]

    def awaiting_page(self, team_id: str, user_id: str, *, offset: int = 0, limit: int = 10) -> list[RequirementInfo]:
        """One page of the records awaiting the user's own signature, the earliest sign-by first."""
        with self._scope() as s:
            rows = repo.awaiting_unsigned_page(s, team_id=team_id, user_id=user_id, offset=offset, limit=limit)
            return self._load_many(s, rows)

    def awaiting_counts(self, team_id: str, user_id: str, now: datetime) -> tuple[int, int]:
        """How many records await the user's own signature, and how many of them are past their sign-by time."""
        with self._scope() as s:
            return repo.count_awaiting_unsigned(s, team_id=team_id, user_id=user_id, late_before=now)

    def latest(self, team_id: str, channel_id: str, limit: int = 10) -> list[RequirementInfo]:
        """The channel's most recent records."""
        with self._scope() as s:
            return self._load_many(s, repo.latest_in_channel(s, team_id=team_id, channel_id=channel_id, limit=limit))

    # -- internals ------------------------------------------------------------------------

    @staticmethod
    def _get(s: Session, requirement_id: int, *, lock: bool = False) -> Requirement:
        req = repo.get(s, requirement_id, lock=lock)
        if req is None:
            raise NotFound("error.requirement_not_found", code=str(requirement_id))
        return req

    @staticmethod
    def _content(draft: RequirementDraft) -> dict[str, Any]:
        return {
            "requester_dept": draft.requester_dept.strip(),
            "requester_owner": draft.requester_owner,
            "receiver_dept": draft.receiver_dept.strip(),
            "receiver_owner": draft.receiver_owner,
            "background": draft.background.strip(),
            "goal": draft.goal.strip(),
            "description": draft.description.strip(),
            "priority": draft.priority,
            "due_at": draft.due,
            "resources": draft.resources.strip(),
            "confirm_by": draft.confirm_by,
            "channel_id": draft.channel_id,
        }

    def _write_questions(
        self, s: Session, rid: int, draft: RequirementDraft, now: datetime, previous: tuple[QuestionInfo, ...]
    ) -> None:
        answered = {(q.text, q.owner_id): q for q in previous if q.answered_at}
        repo.delete_questions(s, rid)
        for pos, q in enumerate(draft.questions):
            owner = q.owner_id or draft.receiver_owner
            old = answered.get((q.text, owner))
            s.add(
                OpenQuestion(
                    requirement_id=rid,
                    position=pos,
                    text=q.text.strip(),
                    owner_id=owner,
                    deadline=q.deadline or now + self.default_question_window,
                    answered_at=old.answered_at if old else None,
                    answered_by=old.answered_by if old else None,
                )
            )
        s.flush()

    def _place(self, when: datetime, user: str, *, deadline: datetime | None, now: datetime) -> datetime:
        """Move a reminder into the recipient's working hours, in their own timezone."""
        return self._calendar.place(when, tz=self.tz_of(user), deadline=deadline, now=now)

    def _schedule_reminders(
        self, s: Session, info: RequirementInfo, now: datetime, users: list[str] | None = None
    ) -> None:
        if info.status != Status.AWAITING:
            return
        # Withdrawing re-arms a reminder under a new key, so a reminder that was
        # already sent for an earlier signature does not block this one.
        suffix = f":w{int(now.timestamp())}" if users else ""
        for user in users or info.unsigned_owners:
            remind_at = info.confirm_by - self.reminder_lead
            if remind_at <= now:
                continue  # the sheet's own mention is the notice; the overdue notice follows
            remind_at = self._place(remind_at, user, deadline=info.confirm_by, now=now)
            if remind_at >= info.confirm_by:
                continue
            outbox.schedule(
                s,
                team_id=info.team_id,
                kind=KIND_SIGN_REMINDER,
                subject=_subject(info.id, user),
                key=f"req:{info.id}:r{info.revision}:sign:{user}{suffix}",
                due_at=remind_at,
                now=now,
                payload={"requirement_id": info.id, "revision": info.revision, "user_id": user},
            )
        if users:
            return
        for user in info.owners:
            outbox.schedule(
                s,
                team_id=info.team_id,
                kind=KIND_OVERDUE,
                subject=_subject(info.id),
                key=f"req:{info.id}:r{info.revision}:overdue:{user}",
                # never before the deadline itself: only later, into the recipient's next working hours
                due_at=self._place(info.confirm_by, user, deadline=None, now=max(now, info.confirm_by)),
                now=now,
                payload={"requirement_id": info.id, "revision": info.revision, "user_id": user},
            )
        for q in info.questions:
            if q.answered_at is None:
                due = self._place(max(now, q.deadline - self.question_lead), q.owner_id, deadline=q.deadline, now=now)
                outbox.schedule(
                    s,
                    team_id=info.team_id,
                    kind=KIND_QUESTION_REMINDER,
                    subject=_question_subject(q.id),
                    key=f"req:{info.id}:q{q.id}:remind",
                    due_at=max(now, due),
                    now=now,
                    payload={"question_id": q.id, "requirement_id": info.id},
                )

    def _load(self, s: Session, req: Requirement, *, with_history: bool = False) -> RequirementInfo:
        sigs = repo.signatures(s, int(req.id or 0), req.revision)
        return _info(
            req, sigs, repo.questions(s, int(req.id or 0)), repo.history(s, int(req.id or 0)) if with_history else ()
        )

    def _load_many(self, s: Session, rows: Any) -> list[RequirementInfo]:
        rows = list(rows)
        sigs = repo.signatures_for(s, [(int(r.id or 0), r.revision) for r in rows])
        return [_info(r, sigs.get(int(r.id or 0), []), (), ()) for r in rows]


def _info(req: Requirement, sigs: Any, questions: Any, history: Any) -> RequirementInfo:
    return RequirementInfo(
        id=int(req.id or 0),
        code=req.code,
        team_id=req.team_id,
        revision=req.revision,
        status=Status(req.status),
        author_id=req.author_id,
        requester_dept=req.requester_dept,
        requester_owner=req.requester_owner,
        receiver_dept=req.receiver_dept,
        receiver_owner=req.receiver_owner,
        background=req.background,
        goal=req.goal,
        description=req.description,
        priority=req.priority,
        due=req.due_at,
        resources=req.resources,
        confirm_by=req.confirm_by,
        channel_id=req.channel_id,
        message_ts=req.message_ts,
        change_reason=req.change_reason,
        created_at=req.created_at,
        updated_at=req.updated_at,
        confirmed_at=req.confirmed_at,
        signatures=tuple(SignatureInfo(Role(x.role), x.user_id, x.via, x.signed_at) for x in sigs),
        questions=tuple(
            QuestionInfo(q.id or 0, q.position, q.text, q.owner_id, q.deadline, q.answered_at, q.answered_by)
            for q in questions
        ),
        history=tuple(HistoryItem(h.at, h.actor_id, h.action, json.loads(h.detail or "{}")) for h in history),
    )


def _subject(requirement_id: int, user_id: str | None = None) -> str:
    return f"req:{requirement_id}" + (f":{user_id}" if user_id else "")


def _question_subject(question_id: int) -> str:
    return f"question:{question_id}"


def _field_value(draft: RequirementDraft, name: str) -> Any:
    if name == "channel_id":
        return draft.channel_id
    return getattr(draft, name)


def _snapshot(draft: RequirementDraft) -> str:
    data = asdict(draft)
    return json.dumps(
        data, default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v), ensure_ascii=False, sort_keys=True
    )
