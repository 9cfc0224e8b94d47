"""Queries for requirement sheets, their signatures, questions, revisions and history."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, delete, exists, func, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from storage.models import HistoryEntry, OpenQuestion, Requirement, RequirementRevision, Signature


def get(session: Session, requirement_id: int, *, lock: bool = False) -> Requirement | None:
    """One requirement by primary key (optionally locked for update)."""
    stmt = select(Requirement).where(col(Requirement.id) == requirement_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def by_code(session: Session, *, team_id: str, code: str) -> Requirement | None:
    """One requirement by its human ID."""
    return session.scalars(
        select(Requirement).where(col(Requirement.team_id) == team_id, col(Requirement.code) == code)
    ).first()


def by_message(
    session: Session, *, channel_id: str | None, message_ts: str, teams: Collection[str] | None = None
) -> Requirement | None:
    """The requirement whose sheet is the given message (of one of `teams`, when given); `channel_id` None:
    in whichever channel (a platform whose message IDs are unique on their own)."""
    stmt = select(Requirement).where(col(Requirement.message_ts) == message_ts)
    if channel_id is not None:
        stmt = stmt.where(col(Requirement.channel_id) == channel_id)
    if teams is not None:
        stmt = stmt.where(col(Requirement.team_id).in_(list(teams)))
    return session.scalars(stmt).first()


def signatures(session: Session, requirement_id: int, revision: int) -> Sequence[Signature]:
    """Signatures on one revision."""
    return session.scalars(
        select(Signature)
        .where(col(Signature.requirement_id) == requirement_id, col(Signature.revision) == revision)
        .order_by(col(Signature.signed_at))
    ).all()


def delete_signature(session: Session, requirement_id: int, revision: int, role: str) -> int:
    """Withdraw one role's signature."""
    result = session.execute(
        delete(Signature).where(
            col(Signature.requirement_id) == requirement_id,
            col(Signature.revision) == revision,
            col(Signature.role) == role,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def questions(session: Session, requirement_id: int) -> Sequence[OpenQuestion]:
    """Open questions in sheet order."""
    return session.scalars(
        select(OpenQuestion)
        .where(col(OpenQuestion.requirement_id) == requirement_id)
        .order_by(col(OpenQuestion.position))
    ).all()


def question(session: Session, question_id: int) -> OpenQuestion | None:
    """One open question."""
    return session.get(OpenQuestion, question_id)


def delete_questions(session: Session, requirement_id: int) -> None:
    """Remove a requirement's questions (before writing a revision's new set)."""
    session.execute(delete(OpenQuestion).where(col(OpenQuestion.requirement_id) == requirement_id))


def add_history(
    session: Session, *, requirement_id: int, at: datetime, actor_id: str, action: str, detail: str
) -> None:
    """Append one entry to a requirement's history."""
    session.add(
        HistoryEntry(
            subject_type="requirement",
            subject_id=requirement_id,
            at=at,
            actor_id=actor_id,
            action=action,
            detail=detail,
        )
    )


def history(session: Session, requirement_id: int) -> Sequence[HistoryEntry]:
    """A requirement's history, oldest first."""
    return session.scalars(
        select(HistoryEntry)
        .where(col(HistoryEntry.subject_type) == "requirement", col(HistoryEntry.subject_id) == requirement_id)
        .order_by(col(HistoryEntry.at), col(HistoryEntry.id))
    ).all()


def add_revision(session: Session, *, requirement_id: int, revision: int, content: str, by: str, at: datetime) -> None:
    """Keep the content of one revision."""
    session.add(
        RequirementRevision(
            requirement_id=requirement_id, revision=revision, content=content, created_by=by, created_at=at
        )
    )


def awaiting_signature_of(session: Session, *, team_id: str, user_id: str, limit: int = 20) -> Sequence[Requirement]:
    """Records in which the user is an owner and the status is awaiting signatures."""
    return session.scalars(
        select(Requirement)
        .where(
            col(Requirement.team_id) == team_id,
            col(Requirement.status) == "awaiting",
            or_(col(Requirement.requester_owner) == user_id, col(Requirement.receiver_owner) == user_id),
        )
        .order_by(col(Requirement.confirm_by))
        .limit(limit)
    ).all()


def latest_in_channel(session: Session, *, team_id: str, channel_id: str, limit: int = 10) -> Sequence[Requirement]:
    """The channel's most recent records."""
    return session.scalars(
        select(Requirement)
        .where(col(Requirement.team_id) == team_id, col(Requirement.channel_id) == channel_id)
        .order_by(col(Requirement.created_at).desc(), col(Requirement.id).desc())
        .limit(limit)
    ).all()


def signatures_for(session: Session, pairs: Sequence[tuple[int, int]]) -> dict[int, list[Signature]]:
    """Signatures of many (requirement id, revision) pairs in one query."""
    if not pairs:
        return {}
    ids = [p[0] for p in pairs]
    wanted = set(pairs)
    out: dict[int, list[Signature]] = {i: [] for i in ids}
    for sig in session.scalars(select(Signature).where(col(Signature.requirement_id).in_(ids))).all():
        if (sig.requirement_id, sig.revision) in wanted:
            out[sig.requirement_id].append(sig)
    return out


def _unsigned_by(user_id: str) -> ColumnElement[bool]:
    """The user owns a role on the record whose current revision they have not signed yet."""

    def signed(role: str) -> ColumnElement[bool]:
        return exists().where(
            col(Signature.requirement_id) == col(Requirement.id),
            col(Signature.revision) == col(Requirement.revision),
            col(Signature.role) == role,
        )

    return or_(
        and_(col(Requirement.requester_owner) == user_id, ~signed("requester")),
        and_(col(Requirement.receiver_owner) == user_id, ~signed("receiver")),
    )


def awaiting_unsigned_page(
    session: Session, *, team_id: str, user_id: str, offset: int, limit: int
) -> Sequence[Requirement]:
    """One page of the records awaiting the user's own signature, the earliest sign-by first."""
    return session.scalars(
        select(Requirement)
        .where(col(Requirement.team_id) == team_id, col(Requirement.status) == "awaiting", _unsigned_by(user_id))
        .order_by(col(Requirement.confirm_by), col(Requirement.id))
        .offset(offset)
        .limit(limit)
    ).all()


def count_awaiting_unsigned(session: Session, *, team_id: str, user_id: str, late_before: datetime) -> tuple[int, int]:
    """How many records await the user's own signature, and how many of them are past their sign-by time."""
    total, late = session.execute(
        select(func.count(), func.count(case((col(Requirement.confirm_by) < late_before, 1)))).where(
            col(Requirement.team_id) == team_id, col(Requirement.status) == "awaiting", _unsigned_by(user_id)
        )
    ).one()
    return int(total or 0), int(late or 0)
