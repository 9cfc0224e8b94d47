"""Weekly channel digests: subscriptions, when each digest is due, and what it says (as plain data)."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot import outbox
from bot.services.actions import CLOSED_STATUSES, ActionStatus
from bot.services.digest_text import Schedule
from bot.services.requirements import Role, Status
from storage import digests as repo
from storage import requirements as requirements_repo
from storage.db import SessionScope
from storage.models import ActionItem, DigestSubscription, Meeting, Requirement, Signature
from storage.outbox import PENDING

logger = logging.getLogger(__name__)

KIND_DIGEST = "digest.weekly"
WINDOW = timedelta(days=7)
LATE_AFTER = timedelta(days=1)  # a digest posted later than this says it is late


@dataclass(frozen=True)
class SubscriptionInfo:
    """A channel's weekly digest: when, in which timezone, and when the next one is due."""

    team_id: str
    channel_id: str
    schedule: Schedule
    tz: str
    created_by: str
    next_at: datetime | None


@dataclass(frozen=True)
class Period:
    """A due digest that is to be posted now."""

    due_at: datetime
    late: bool
    next_at: datetime | None


@dataclass(frozen=True)
class Ref:
    """A record's code and, when it is in the digest's channel, its message."""

    code: str
    channel_id: str | None = None
    message_ts: str | None = None


@dataclass(frozen=True)
class Entry:
    """One record in a digest list."""

    ref: Ref
    title: str
    people: tuple[str, ...]  # owners, or who holds a signature
    when: datetime | None = None
    overdue: bool = False  # its people are mentioned (notified), everyone else is only named
    done: bool = False  # a meeting's minutes are recorded
    note: str | None = None  # why blocked, which changes were requested
    source: Ref | None = None  # the meeting or requirement an action item came from


@dataclass(frozen=True)
class OwnerGroup:
    """One owner's overdue action items."""

    owner_id: str
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Trend:
    """A count this week against the previous week."""

    current: int
    previous: int

    @property
    def delta(self) -> int:
        """The change since the previous week."""
        return self.current - self.previous


@dataclass(frozen=True)
class Digest:
    """What happened in a channel in the last 7 days, and what is next."""

    channel_id: str
    start: datetime
    end: datetime
    needs_attention: tuple[Entry, ...]
    confirmed: tuple[Entry, ...]
    awaiting: tuple[Entry, ...]
    changes_requested: tuple[Entry, ...]
    done: tuple[Entry, ...]
    overdue: tuple[OwnerGroup, ...]
    blocked: tuple[Entry, ...]
    open: tuple[Entry, ...]
    held: tuple[Entry, ...]
    minutes_missing: tuple[Entry, ...]
    upcoming: tuple[Entry, ...]
    confirmed_trend: Trend
    done_trend: Trend
    overdue_trend: Trend
    incidents: tuple[Entry, ...] = ()  # incidents whose follow-ups are not all done (note: how many are open)

    @property
    def overdue_count(self) -> int:
        """Overdue action items, all owners together."""
        return sum(len(g.entries) for g in self.overdue)

    @property
    def empty(self) -> bool:
        """Nothing happened and nothing is open."""
        return not any(
            (
                self.incidents,
                self.needs_attention,
                self.confirmed,
                self.awaiting,
                self.changes_requested,
                self.done,
                self.overdue,
                self.blocked,
                self.open,
                self.held,
                self.minutes_missing,
                self.upcoming,
            )
        )


# -- schedule ----------------------------------------------------------------------------------------------


def _at(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """`clock` on `day` in `zone`; a time skipped by a DST change moves forward by the gap."""
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def next_occurrence(schedule: Schedule, tz: str, after: datetime) -> datetime:
    """The first weekly moment strictly after `after`, in UTC."""
    zone = ZoneInfo(tz)
    local = after.astimezone(zone)
    day = local.date() + timedelta(days=(schedule.weekday - local.weekday()) % 7)
    candidate = _at(day, schedule.at, zone)
    while candidate <= after:
        day += timedelta(days=7)
        candidate = _at(day, schedule.at, zone)
    return candidate


def subject_of(team_id: str, channel_id: str) -> str:
    """The outbox subject of a channel's digests."""
    return f"digest:{team_id}:{channel_id}"


def period_key(team_id: str, channel_id: str, due_at: datetime, tz: str) -> str:
    """One row per channel per period: the period is the local date the digest is due."""
    return f"{subject_of(team_id, channel_id)}:{due_at.astimezone(ZoneInfo(tz)).date().isoformat()}"


def _schedule_of(row: DigestSubscription) -> Schedule:
    hh, mm = row.time_of_day.split(":")
    return Schedule(weekday=row.weekday, at=time(int(hh), int(mm)))


class DigestService:
    """Subscribes channels, keeps one pending digest per subscribed channel, and gathers a digest's content."""

    def __init__(self, session_scope: SessionScope, *, tz: str = "UTC") -> None:
        self._scope = session_scope
        self.tz = tz

    # -- subscriptions ---------------------------------------------------------------------------------

    def subscribe(
        self, *, team_id: str, channel_id: str, user_id: str, schedule: Schedule, now: datetime
    ) -> SubscriptionInfo:
        """Subscribe a channel (or move its digest) in the workspace timezone; the first digest is scheduled."""
        with self._scope() as s:
            row = repo.save_subscription(
                s,
                team_id=team_id,
                channel_id=channel_id,
                weekday=schedule.weekday,
                time_of_day=schedule.time_text,
                tz=self.tz,
                user_id=user_id,
                now=now,
            )
            outbox.cancel(s, subject=subject_of(team_id, channel_id), kinds=(KIND_DIGEST,))
            next_at = self._plan(s, row, now)
        logger.info("channel %s subscribed to the digest (%s) by %s", channel_id, schedule, user_id)
        return SubscriptionInfo(team_id, channel_id, schedule, self.tz, user_id, next_at)

    def unsubscribe(self, *, team_id: str, channel_id: str) -> bool:
        """Stop a channel's digest; False when it had none."""
        with self._scope() as s:
            removed = repo.delete_subscription(s, team_id=team_id, channel_id=channel_id)
            outbox.cancel(s, subject=subject_of(team_id, channel_id), kinds=(KIND_DIGEST,))
        return removed

    def subscription(self, team_id: str, channel_id: str) -> SubscriptionInfo | None:
        """A channel's subscription with its next due time, if it has one."""
        with self._scope() as s:
            row = repo.subscription(s, team_id=team_id, channel_id=channel_id)
            if row is None:
                return None
            pending = repo.pending_period(s, kind=KIND_DIGEST, subject=subject_of(team_id, channel_id))
            return SubscriptionInfo(
                team_id, channel_id, _schedule_of(row), row.tz, row.created_by, pending.due_at if pending else None
            )

    # -- due digests -----------------------------------------------------------------------------------

    def start_period(self, *, team_id: str, channel_id: str, due_at: datetime, now: datetime) -> Period | None:
        """Decide about a due digest: None when the channel has unsubscribed or moved its digest.

        The next digest is scheduled first, strictly after `now`, so one missed for weeks is
        posted once and the channel is back on its schedule; posting is the caller's part.
        """
        with self._scope() as s:
            row = repo.subscription(s, team_id=team_id, channel_id=channel_id)
            if row is None:
                return None
            current = next_occurrence(_schedule_of(row), row.tz, due_at - timedelta(seconds=1)) == due_at
            next_at = self._plan(s, row, now)
        if not current:
            return None
        return Period(due_at=due_at, late=now - due_at > LATE_AFTER, next_at=next_at)

    def _plan(self, s: Session, row: DigestSubscription, now: datetime) -> datetime:
        """Make sure the next period after `now` has its pending row; returns when it is due."""
        schedule, after = _schedule_of(row), now
        while True:
            due = next_occurrence(schedule, row.tz, after)
            payload = {"team_id": row.team_id, "channel_id": row.channel_id, "due_at": due.isoformat()}
            state = repo.plan_period(
                s,
                team_id=row.team_id,
                kind=KIND_DIGEST,
                subject=subject_of(row.team_id, row.channel_id),
                key=period_key(row.team_id, row.channel_id, due, row.tz),
                due_at=due,
                payload=json.dumps(payload, sort_keys=True),
                now=now,
            )
            if state == PENDING:
                return due
            after = due  # this period's digest is already out (or going out): the next one

    # -- content ---------------------------------------------------------------------------------------

    def content(
        self,
        team_id: str,
        channel_id: str,
        *,
        now: datetime,
        is_public: Callable[[str], bool] | None = None,
        open_incidents: Sequence[tuple[Any, int]] = (),
    ) -> Digest:
        """The channel's last 7 days and what is next, with last week's counts for the trend.

        `is_public(channel_id)` says whether another channel is open to the whole workspace; records
        living in other channels are shown only when it is (see `build_digest`). Without it, none are.
        """
        since = now - 2 * WINDOW
        with self._scope() as s:
            reqs = list(
                repo.requirements(s, team_id=team_id, channel_id=channel_id, since=since, confirmed=Status.CONFIRMED)
            )
            sigs = requirements_repo.signatures_for(s, [(int(r.id or 0), r.revision) for r in reqs])
            acts = repo.actions(s, team_id=team_id, channel_id=channel_id, since=since, done=ActionStatus.DONE)
            meetings = list(repo.meetings(s, team_id=team_id, channel_id=channel_id, since=since, now=now))
        digest = build_digest(
            channel_id,
            now=now,
            requirements=reqs,
            signatures=sigs,
            actions=acts,
            meetings=meetings,
            is_public=is_public,
        )
        # an incident stays in its channel's digest until its follow-ups are all done
        # (named here only when its own channel is this one or open to everyone, like any other source)
        incidents = tuple(
            Entry(
                ref=Ref(i.code, i.summary_channel, i.summary_ts),
                title=i.title,
                people=(i.commander_id,),
                when=i.declared_at,
                note=str(n),
            )
            for i, n in open_incidents
            if i.channel_id in (None, "", channel_id) or (is_public is not None and is_public(i.channel_id))
        )
        return dataclasses.replace(digest, incidents=incidents)


# -- gathering -------------------------------------------------------------------------------------------------


def _unsigned(req: Requirement, sigs: list[Signature]) -> tuple[str, ...]:
    signed = {s.role for s in sigs}
    holders = [
        user
        for role, user in ((Role.REQUESTER, req.requester_owner), (Role.RECEIVER, req.receiver_owner))
        if role not in signed
    ]
    return tuple(dict.fromkeys(holders))


def _in(moment: datetime | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start <= moment < end


def build_digest(
    channel_id: str,
    *,
    now: datetime,
    requirements: list[Requirement],
    signatures: dict[int, list[Signature]],
    actions: list[repo.SourcedAction],
    meetings: list[Meeting],
    is_public: Callable[[str], bool] | None = None,
) -> Digest:
    """Sort a channel's records into the digest's lists (newest or most urgent first).

    Everyone in the channel reads the digest, so nothing from a conversation they may not see gets in:
    - an action item counted here through its source (a meeting or sheet of this channel) but posted
      in another channel is left out, counts included, unless that channel is public; one handed to
      its owner by direct message stays (the minutes in this channel list it already);
    - an item's source in another channel is named only when that channel is public (never linked);
      from a private channel or a direct message, the item is listed without its source.
    """
    start, prev = now - WINDOW, now - 2 * WINDOW
    answers: dict[str, bool] = {}

    def public(other: str | None) -> bool:
        if not other or is_public is None:
            return False
        if other not in answers:
            answers[other] = is_public(other)
        return answers[other]

    def shown_here(a: repo.SourcedAction) -> bool:
        where = a.item.channel_id
        return where == channel_id or not where or where.startswith("D") or public(where)

    def req_ref(r: Requirement) -> Ref:
        return Ref(r.code, r.channel_id, r.message_ts)

    confirmed = sorted(
        (r for r in requirements if r.status == Status.CONFIRMED and _in(r.confirmed_at, start, now)),
        key=lambda r: r.confirmed_at or now,
        reverse=True,
    )
    awaiting = sorted((r for r in requirements if r.status == Status.AWAITING), key=lambda r: (r.confirm_by, r.id))
    changes = sorted(
        (r for r in requirements if r.status == Status.CHANGES_REQUESTED), key=lambda r: r.updated_at, reverse=True
    )
    prev_confirmed = sum(1 for r in requirements if r.status == Status.CONFIRMED and _in(r.confirmed_at, prev, start))

    def act_entry(a: repo.SourcedAction) -> Entry:
        item = a.item
        ref = Ref(item.code, item.channel_id, item.message_ts) if item.channel_id == channel_id else Ref(item.code)
        source = None
        if item.source_code and a.source_channel == channel_id:
            source = Ref(item.source_code, a.source_channel, a.source_ts)
        elif item.source_code and public(a.source_channel):
            source = Ref(item.source_code)
        late = item.status not in CLOSED_STATUSES and item.due_at < now
        return Entry(
            ref=ref,
            title=item.title,
            people=(item.owner_id,),
            when=item.done_at or item.due_at,
            overdue=late,
            note=item.blocked_reason if item.status == ActionStatus.BLOCKED else None,
            source=source,
        )

    items = [a for a in actions if shown_here(a)]
    open_items = [a for a in items if a.item.status not in CLOSED_STATUSES]  # won't-do items are closed too
    by_due = sorted(open_items, key=lambda a: (a.item.due_at, a.item.id))
    done = sorted(
        (a for a in items if a.item.status == ActionStatus.DONE and _in(a.item.done_at, start, now)),
        key=lambda a: a.item.done_at or now,
        reverse=True,
    )
    overdue = [a for a in by_due if a.item.due_at < now]
    groups: dict[str, list[Entry]] = {}
    for a in overdue:
        groups.setdefault(a.item.owner_id, []).append(act_entry(a))
    prev_done = sum(1 for a in items if _in(a.item.done_at, prev, start))
    prev_overdue = sum(1 for a in items if _overdue_at(a.item, start))

    def meeting_entry(m: Meeting) -> Entry:
        return Entry(
            ref=Ref(m.code, m.channel_id, m.message_ts),
            title=m.title,
            people=(m.host_id,),
            when=m.start_at,
            done=m.minutes_at is not None,
        )

    def ended(m: Meeting) -> bool:
        return m.start_at + timedelta(minutes=m.duration_minutes) <= now

    held = sorted(
        (m for m in meetings if _in(m.start_at, start, now) and ended(m)), key=lambda m: m.start_at, reverse=True
    )
    missing = sorted((m for m in meetings if ended(m) and m.minutes_at is None), key=lambda m: m.start_at, reverse=True)
    upcoming = [m for m in meetings if _in(m.start_at, now, now + WINDOW)]

    return Digest(
        channel_id=channel_id,
        start=start,
        end=now,
        needs_attention=tuple(act_entry(a) for a in by_due if a.item.escalated_at is not None),
        confirmed=tuple(
            Entry(
                ref=req_ref(r),
                title=r.goal,
                people=tuple(dict.fromkeys([r.requester_owner, r.receiver_owner])),
                when=r.confirmed_at,
            )
            for r in confirmed
        ),
        awaiting=tuple(
            Entry(
                ref=req_ref(r),
                title=r.goal,
                people=_unsigned(r, signatures.get(int(r.id or 0), [])),
                when=r.confirm_by,
                overdue=r.confirm_by < now,
            )
            for r in awaiting
        ),
        changes_requested=tuple(
            Entry(ref=req_ref(r), title=r.goal, people=(r.requester_owner,), when=r.updated_at, note=r.change_reason)
            for r in changes
        ),
        done=tuple(act_entry(a) for a in done),
        overdue=tuple(
            OwnerGroup(owner, tuple(entries))
            for owner, entries in sorted(groups.items(), key=lambda g: (-len(g[1]), g[1][0].when or now))
        ),
        blocked=tuple(act_entry(a) for a in by_due if a.item.status == ActionStatus.BLOCKED),
        open=tuple(act_entry(a) for a in by_due if a.item.due_at >= now and a.item.status != ActionStatus.BLOCKED),
        held=tuple(meeting_entry(m) for m in held),
        minutes_missing=tuple(meeting_entry(m) for m in missing),
        upcoming=tuple(meeting_entry(m) for m in upcoming),
        confirmed_trend=Trend(len(confirmed), prev_confirmed),
        done_trend=Trend(len(done), prev_done),
        overdue_trend=Trend(len(overdue), prev_overdue),
    )


def _overdue_at(item: ActionItem, moment: datetime) -> bool:
    """Whether an item was overdue at `moment` (existed, past due, not yet done)."""
    return item.created_at < moment and item.due_at < moment and (item.done_at is None or item.done_at > moment)
