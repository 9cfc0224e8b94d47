"""What the digest's charts show: a channel's action items and incidents over the weeks before `now`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.charts import SEVERITIES, ActionWeeks, IncidentWeeks
from bot.services.actions import ActionStatus
from storage import charts as repo
from storage.db import SessionScope

WEEKS = 8
WEEK = timedelta(days=7)
OPEN_STATUSES = frozenset({ActionStatus.OPEN, ActionStatus.IN_PROGRESS, ActionStatus.BLOCKED})


def week_ends(now: datetime, weeks: int = WEEKS) -> tuple[datetime, ...]:
    """The ends of the last `weeks` seven-day windows, oldest first; the last ends at `now` (the digest's window)."""
    return tuple(now - WEEK * k for k in range(weeks - 1, -1, -1))


def action_weeks(
    session_scope: SessionScope, *, team_id: str | None, channel_id: str | None, now: datetime, weeks: int = WEEKS
) -> ActionWeeks:
    """How many of the channel's action items were open at the end of each week, and how many were done in it
    (channel None: the whole workspace's; team None as well: every workspace's).

    An item is open from its creation until it is done (or otherwise closed, for a status other than open, in
    progress, blocked or done: then until its last change). An item reopened after being done counts as open
    all along, as only its latest state is kept.
    """
    ends = week_ends(now, weeks)
    with session_scope() as s:
        spans = repo.action_spans(s, team_id=team_id, channel_id=channel_id, since=ends[0] - WEEK, until=now)
    opened: list[int] = []
    done: list[int] = []
    for end in ends:
        opened.append(sum(1 for span in spans if _utc(span.created_at) <= end and not _closed_by(span, end)))
        done.append(
            sum(
                1
                for span in spans
                if span.status == ActionStatus.DONE and span.done_at and end - WEEK < _utc(span.done_at) <= end
            )
        )
    return ActionWeeks(ends, tuple(opened), tuple(done))


def all_incident_weeks(
    session_scope: SessionScope, *, team_id: str | None, now: datetime, weeks: int = WEEKS
) -> IncidentWeeks:
    """Every incident declared in each week by severity (of one workspace, or of all: None)."""
    ends = week_ends(now, weeks)
    with session_scope() as s:
        declared = repo.incident_declarations(s, team_id=team_id, channel_id=None, since=ends[0] - WEEK, until=now)
    return _by_week(ends, declared)


def incident_weeks(
    session_scope: SessionScope,
    *,
    team_id: str,
    channel_id: str,
    now: datetime,
    announcement_channel: str = "",
    weeks: int = WEEKS,
) -> IncidentWeeks | None:
    """Incidents declared in each week by severity, for an incident channel; None for any other channel.

    The announcement channel (COORDBOT_INCIDENT_CHANNEL) counts every incident of the workspace; a channel an
    incident was run or announced in counts those incidents.
    """
    ends = week_ends(now, weeks)
    every = bool(announcement_channel) and channel_id == announcement_channel
    with session_scope() as s:
        if not every and not repo.has_incidents(s, team_id=team_id, channel_id=channel_id):
            return None
        declared = repo.incident_declarations(
            s, team_id=team_id, channel_id=None if every else channel_id, since=ends[0] - WEEK, until=now
        )
    return _by_week(ends, declared)


def _by_week(ends: tuple[datetime, ...], declared: list[tuple[datetime, str]]) -> IncidentWeeks:
    counts = {sev: [0] * len(ends) for sev in SEVERITIES}
    for at, severity in declared:
        moment = _utc(at)
        week = next((i for i, end in enumerate(ends) if end - WEEK < moment <= end), None)
        if week is not None:
            counts.setdefault(severity, [0] * len(ends))[week] += 1
    return IncidentWeeks(ends, {sev: tuple(c) for sev, c in counts.items()})


def _closed_by(span: repo.ActionSpan, end: datetime) -> bool:
    if span.status == ActionStatus.DONE:
        return span.done_at is not None and _utc(span.done_at) <= end
    if span.status in OPEN_STATUSES:
        return False
    return _utc(span.updated_at) <= end


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
