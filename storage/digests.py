"""Queries for weekly channel digests: subscriptions, their period rows, and a channel's records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlmodel import col

from storage import outbox as q
from storage.models import ActionItem, DigestSubscription, Incident, Meeting, OutboxItem, Requirement

SOURCE_MEETING = "meeting"
SOURCE_REQUIREMENT = "requirement"
SOURCE_INCIDENT = "incident"


# -- subscriptions ---------------------------------------------------------------------------------------


def subscription(session: Session, *, team_id: str, channel_id: str) -> DigestSubscription | None:
    """A channel's subscription, if it has one."""
    return session.get(DigestSubscription, (team_id, channel_id))


def save_subscription(
    session: Session,
    *,
    team_id: str,
    channel_id: str,
    weekday: int,
    time_of_day: str,
    tz: str,
    user_id: str,
    now: datetime,
) -> DigestSubscription:
    """Create or change a channel's subscription (two at once for one channel take turns, neither fails)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    key = (col(DigestSubscription.team_id) == team_id, col(DigestSubscription.channel_id) == channel_id)
    session.execute(
        insert(DigestSubscription)
        .values(
            team_id=team_id,
            channel_id=channel_id,
            weekday=weekday,
            time_of_day=time_of_day,
            tz=tz,
            created_by=user_id,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["team_id", "channel_id"])
    )
    # the UPDATE takes the row's lock: a second subscribe of the same channel waits for this one to commit
    session.execute(
        update(DigestSubscription).where(*key).values(weekday=weekday, time_of_day=time_of_day, tz=tz, updated_at=now)
    )
    row = session.get(DigestSubscription, (team_id, channel_id), populate_existing=True)
    assert row is not None
    return row


def delete_subscription(session: Session, *, team_id: str, channel_id: str) -> bool:
    """Remove a channel's subscription; False when there was none."""
    result = session.execute(
        delete(DigestSubscription).where(
            col(DigestSubscription.team_id) == team_id, col(DigestSubscription.channel_id) == channel_id
        )
    )
    return bool(getattr(result, "rowcount", 0))


# -- period rows in the outbox ---------------------------------------------------------------------------


def plan_period(
    session: Session,
    *,
    team_id: str,
    kind: str,
    subject: str,
    key: str,
    due_at: datetime,
    payload: str,
    now: datetime,
) -> str:
    """Make the period's row pending at `due_at`, unless it is already being sent or was sent.

    Returns the row's state afterwards: pending, claimed or sent. A cancelled or failed row
    (the channel unsubscribed, or the post failed for good) is brought back for the period.
    """
    row = session.scalars(select(OutboxItem).where(col(OutboxItem.dedupe_key) == key).with_for_update()).first()
    if row is None:
        q.schedule(
            session,
            team_id=team_id,
            kind=kind,
            subject=subject,
            dedupe_key=key,
            due_at=due_at,
            payload=payload,
            now=now,
        )
        return q.PENDING
    if row.state in (q.CLAIMED, q.SENT):
        return row.state
    session.execute(
        update(OutboxItem)
        .where(col(OutboxItem.id) == row.id, col(OutboxItem.state).in_((q.PENDING, q.CANCELLED, q.FAILED)))
        .values(
            state=q.PENDING,
            due_at=due_at,
            payload=payload,
            attempts=0,
            claimed_by=None,
            lease_until=None,
            last_error=None,
        )
        .execution_options(synchronize_session=False)
    )
    return q.PENDING


def pending_period(session: Session, *, kind: str, subject: str) -> OutboxItem | None:
    """The subject's next pending row of a kind."""
    return session.scalars(
        select(OutboxItem)
        .where(col(OutboxItem.kind) == kind, col(OutboxItem.subject) == subject, col(OutboxItem.state) == q.PENDING)
        .order_by(col(OutboxItem.due_at))
    ).first()


# -- a channel's records -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourcedAction:
    """An action item with where its source record's message is."""

    item: ActionItem
    source_channel: str | None
    source_ts: str | None


def requirements(
    session: Session, *, team_id: str, channel_id: str, since: datetime, confirmed: str
) -> Sequence[Requirement]:
    """The channel's requirements still open, and those confirmed since `since`."""
    return cast(
        Sequence[Requirement],
        session.execute(
            select(Requirement.__table__)  # type: ignore[attr-defined]
            .where(
                col(Requirement.team_id) == team_id,
                col(Requirement.channel_id) == channel_id,
                or_(col(Requirement.status) != confirmed, col(Requirement.confirmed_at) >= since),
            )
            .order_by(col(Requirement.id))
        ).all(),
    )  # plain rows: a digest reads thousands of records and never changes them


def actions(session: Session, *, team_id: str, channel_id: str, since: datetime, done: str) -> list[SourcedAction]:
    """The channel's action items not done, and those done since `since`.

    An item belongs to the channel when it was posted there or when its source meeting or
    requirement is there: items handed to their owners by DM carry the DM's channel. The source's
    channel comes along (an incident's too) so the digest can tell whether it may name it.
    """
    # an incident's summary is in its own channel, else (none could be made) in the announcement's
    incident_channel = func.coalesce(func.nullif(col(Incident.channel_id), ""), col(Incident.announce_channel_id))
    source_channel = func.coalesce(col(Meeting.channel_id), col(Requirement.channel_id), incident_channel)
    source_ts = func.coalesce(col(Meeting.message_ts), col(Requirement.message_ts), col(Incident.summary_ts))
    rows = session.execute(
        select(
            *ActionItem.__table__.columns,  # type: ignore[attr-defined]
            source_channel.label("source_channel"),
            source_ts.label("source_ts"),
        )
        .outerjoin(
            Meeting, and_(col(ActionItem.source_type) == SOURCE_MEETING, col(ActionItem.source_id) == col(Meeting.id))
        )
        .outerjoin(
            Requirement,
            and_(col(ActionItem.source_type) == SOURCE_REQUIREMENT, col(ActionItem.source_id) == col(Requirement.id)),
        )
        .outerjoin(
            Incident,
            and_(col(ActionItem.source_type) == SOURCE_INCIDENT, col(ActionItem.source_id) == col(Incident.id)),
        )
        .where(
            col(ActionItem.team_id) == team_id,
            or_(
                col(ActionItem.channel_id) == channel_id,
                col(Meeting.channel_id) == channel_id,
                col(Requirement.channel_id) == channel_id,
            ),
            or_(col(ActionItem.status) != done, col(ActionItem.done_at) >= since),
        )
        .order_by(col(ActionItem.id))
    ).all()
    return [SourcedAction(cast(ActionItem, row), row.source_channel, row.source_ts) for row in rows]


def meetings(session: Session, *, team_id: str, channel_id: str, since: datetime, now: datetime) -> Sequence[Meeting]:
    """The channel's meetings since `since` (and ahead), and earlier ones still without minutes."""
    return cast(
        Sequence[Meeting],
        session.execute(
            select(Meeting.__table__)  # type: ignore[attr-defined]
            .where(
                col(Meeting.team_id) == team_id,
                col(Meeting.channel_id) == channel_id,
                or_(
                    col(Meeting.start_at) >= since, and_(col(Meeting.minutes_at).is_(None), col(Meeting.start_at) < now)
                ),
            )
            .order_by(col(Meeting.start_at), col(Meeting.id))
        ).all(),
    )
