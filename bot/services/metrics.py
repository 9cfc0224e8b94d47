"""Figures people can see: how fast incidents are acknowledged and resolved, whether follow-ups, sign-offs,
action items and minutes happen on time (`coordbot report`, `/incident stats`).

A record counts in a window [since, until) by its start: an incident by when it was declared, a requirement
by when it was posted, an action item by when it was created (on-time completion: by when it was due), a
meeting by when it starts. Durations are seconds. The median of an even count is the mean of the two middle
values; p90 is the nearest rank: the ⌈0.9·n⌉-th smallest value, so always one that was measured. What is still
open (overdue items, deadlines not yet passed) is judged at the window's end, or now if that is earlier.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from bot.text import t
from storage import metrics as repo
from storage.db import SessionScope
from storage.models import ActionItem, Incident

SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
DONE = "done"
WONT_DO = "wont_do"
CLOSED = frozenset({DONE, WONT_DO})
RESOLVED = "resolved"
MINUTES_WITHIN = timedelta(hours=24)
ALL = "all"  # the group of a figure over every severity, channel or owner

K = TypeVar("K")


@dataclass(frozen=True)
class Spread:
    """Durations (seconds): how many, the median, the 90th percentile (nearest rank) and the longest."""

    count: int
    median: float | None
    p90: float | None
    max: float | None


@dataclass(frozen=True)
class Ratio:
    """`part` of `whole`, and the share (None when `whole` is 0)."""

    part: int
    whole: int
    rate: float | None


@dataclass(frozen=True)
class GroupRatio:
    """A ratio for one channel or one owner."""

    group: str
    ratio: Ratio


@dataclass(frozen=True)
class SeverityFigures:
    """One severity's incidents: how many, time to acknowledge (MTTA) and to resolve (MTTR)."""

    severity: str  # SEV1 … SEV4, or "all"
    count: int
    mtta: Spread  # declared → acknowledged, of those acknowledged
    mttr: Spread  # declared → resolved, of those resolved now


@dataclass(frozen=True)
class IncidentFigures:
    """Incidents declared in the window."""

    total: SeverityFigures
    by_severity: tuple[SeverityFigures, ...]  # SEV1 … SEV4, each present
    reopened: Ratio  # reopened at least once, of those resolved at least once


@dataclass(frozen=True)
class FollowUpFigures:
    """The follow-up action items of the window's incidents (and of the meetings reviewing them)."""

    total: int
    done: int
    wont_do: int
    overdue: int  # neither done nor won't do, past due
    open: int  # neither done nor won't do, not yet due


@dataclass(frozen=True)
class RequirementFigures:
    """Requirements posted in the window."""

    posted: int
    confirmed: int
    time_to_confirm: Spread  # posted → confirmed, of those confirmed
    confirmed_by_deadline: Ratio  # confirmed by confirm_by, of those confirmed or past confirm_by
    changes_requested: int  # how many times changes were requested
    with_changes_requested: int  # how many requirements had changes requested at least once


@dataclass(frozen=True)
class ActionFigures:
    """Action items: done on time (those due in the window), and overdue (those created in the window)."""

    on_time: Ratio  # done by their due time, of those due in the window that are done or past due (not won't do)
    on_time_by_channel: tuple[GroupRatio, ...]
    on_time_by_owner: tuple[GroupRatio, ...]
    overdue_age: Spread  # open items created in the window and past due: how long past due


@dataclass(frozen=True)
class MeetingFigures:
    """Meetings that start in the window."""

    meetings: int
    minutes_in_time: Ratio  # minutes within 24 h of the end, of those with minutes or past that
    acknowledged: Ratio  # participants who acknowledged, of the participants of meetings with minutes


@dataclass(frozen=True)
class Report:
    """Every figure for one window, one workspace (or all) and optionally one channel."""

    team_id: str | None
    channel_id: str | None
    since: datetime
    until: datetime
    as_of: datetime  # what is open is judged at this time: the window's end, or now if earlier
    incidents: IncidentFigures
    follow_ups: FollowUpFigures
    requirements: RequirementFigures
    actions: ActionFigures
    meetings: MeetingFigures


@dataclass(frozen=True)
class Figure:
    """One figure as a row: section, name, group, value and unit (count, s, share)."""

    section: str
    figure: str
    group: str
    value: int | float | None
    unit: str


# -- arithmetic ----------------------------------------------------------------------------------------------


def p90(values: Sequence[float]) -> float | None:
    """The 90th percentile by nearest rank: the ⌈0.9·n⌉-th smallest value (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def spread(values: Iterable[float]) -> Spread:
    """Count, median, p90 (nearest rank) and maximum of durations in seconds."""
    found = sorted(values)
    if not found:
        return Spread(0, None, None, None)
    return Spread(len(found), float(statistics.median(found)), p90(found), found[-1])


def ratio(part: int, whole: int) -> Ratio:
    """`part` of `whole` with its share."""
    return Ratio(part, whole, part / whole if whole else None)


def _seconds(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds()


def _grouped(
    items: Iterable[ActionItem], key: Callable[[ActionItem], str], on_time: Callable[[ActionItem], bool]
) -> tuple[GroupRatio, ...]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for item in items:
        counts[key(item)][0] += on_time(item)
        counts[key(item)][1] += 1
    return tuple(GroupRatio(group, ratio(part, whole)) for group, (part, whole) in sorted(counts.items()))


# -- the service ---------------------------------------------------------------------------------------------


class MetricsService:
    """Computes a window's figures from what is stored; reads only."""

    def __init__(self, session_scope: SessionScope) -> None:
        self._scope = session_scope

    def report(
        self,
        *,
        team_id: str | None,
        since: datetime,
        until: datetime,
        channel_id: str | None = None,
        now: datetime | None = None,
    ) -> Report:
        """The figures of the records in [since, until) (of one workspace, or every one with team_id None)."""
        if until <= since:
            raise ValueError("the window must end after it starts")
        as_of = min(until, now) if now is not None else until
        window = repo.Window(since=since, until=until, team_id=team_id, channel_id=channel_id)
        with self._scope() as s:
            incidents = self._incidents(repo.incidents(s, window=window))
            follow_ups = self._follow_ups(repo.follow_ups(s, window=window), as_of)
            reqs = repo.requirements(s, window=window)
            changes = repo.change_requests(s, requirement_ids=[int(r.id or 0) for r in reqs])
            due = repo.actions_due(s, window=window)
            created = repo.actions_created(s, window=window)
            meetings = repo.meetings(s, window=window)
            ids = [int(m.id or 0) for m in meetings]
            invited = repo.participants(s, meeting_ids=ids)
            acks = repo.acknowledgments(s, meeting_ids=ids)

            confirmed = [r for r in reqs if r.confirmed_at is not None]
            decided = [r for r in reqs if r.confirmed_at is not None or r.confirm_by < as_of]
            requirements = RequirementFigures(
                posted=len(reqs),
                confirmed=len(confirmed),
                time_to_confirm=spread(_seconds(r.created_at, r.confirmed_at) for r in confirmed if r.confirmed_at),
                confirmed_by_deadline=ratio(
                    sum(1 for r in decided if r.confirmed_at is not None and r.confirmed_at <= r.confirm_by),
                    len(decided),
                ),
                changes_requested=sum(changes.values()),
                with_changes_requested=len(changes),
            )

            # due in the window, not closed as won't do, and either done or past due (an item not yet due can
            # still be done on time, so it is not judged yet)
            judged = [a for a in due if a.status != WONT_DO and (a.done_at is not None or a.due_at < as_of)]

            def on_time(a: ActionItem) -> bool:
                return a.done_at is not None and a.done_at <= a.due_at

            overdue = [a for a in created if a.status not in CLOSED and a.due_at < as_of]
            actions = ActionFigures(
                on_time=ratio(sum(map(on_time, judged)), len(judged)),
                on_time_by_channel=_grouped(judged, lambda a: a.channel_id, on_time),
                on_time_by_owner=_grouped(judged, lambda a: a.owner_id, on_time),
                overdue_age=spread(_seconds(a.due_at, as_of) for a in overdue),
            )

            in_time = held = 0
            acked = invitees = 0
            for m in meetings:
                mid = int(m.id or 0)
                deadline = m.start_at + timedelta(minutes=m.duration_minutes) + MINUTES_WITHIN
                if m.minutes_at is not None or deadline < as_of:
                    held += 1
                    in_time += m.minutes_at is not None and m.minutes_at <= deadline
                if m.minutes_at is not None:
                    people = invited.get(mid, set())
                    invitees += len(people)
                    acked += len(people & acks.get(mid, set()))
            meeting_figures = MeetingFigures(len(meetings), ratio(in_time, held), ratio(acked, invitees))
        return Report(
            team_id=team_id,
            channel_id=channel_id,
            since=since,
            until=until,
            as_of=as_of,
            incidents=incidents,
            follow_ups=follow_ups,
            requirements=requirements,
            actions=actions,
            meetings=meeting_figures,
        )

    @staticmethod
    def _incidents(rows: Sequence[Incident]) -> IncidentFigures:
        def figures(severity: str, group: Sequence[Incident]) -> SeverityFigures:
            return SeverityFigures(
                severity=severity,
                count=len(group),
                mtta=spread(_seconds(i.declared_at, i.acknowledged_at) for i in group if i.acknowledged_at),
                mttr=spread(
                    _seconds(i.declared_at, i.resolved_at) for i in group if i.status == RESOLVED and i.resolved_at
                ),
            )

        by_severity = tuple(figures(sev, [i for i in rows if i.severity == sev]) for sev in SEVERITIES)
        # a reopened incident was resolved once, even when it is open again now
        ever_resolved = [i for i in rows if i.status == RESOLVED or i.reopened_count > 0]
        reopened = sum(1 for i in ever_resolved if i.reopened_count > 0)
        return IncidentFigures(figures(ALL, rows), by_severity, ratio(reopened, len(ever_resolved)))

    @staticmethod
    def _follow_ups(items: Sequence[ActionItem], as_of: datetime) -> FollowUpFigures:
        still = [a for a in items if a.status not in CLOSED]
        overdue = sum(1 for a in still if a.due_at < as_of)
        return FollowUpFigures(
            total=len(items),
            done=sum(1 for a in items if a.status == DONE),
            wont_do=sum(1 for a in items if a.status == WONT_DO),
            overdue=overdue,
            open=len(still) - overdue,
        )


# -- figures as rows and as text ------------------------------------------------------------------------------


def _spread_rows(section: str, name: str, group: str, value: Spread, *, p90_row: bool = True) -> list[Figure]:
    rows = [Figure(section, f"{name}_median", group, value.median, "s")]
    rows.append(
        Figure(section, f"{name}_p90", group, value.p90, "s")
        if p90_row
        else Figure(section, f"{name}_max", group, value.max, "s")
    )
    return rows


def _ratio_rows(section: str, name: str, group: str, value: Ratio, part: str, whole: str) -> list[Figure]:
    return [
        Figure(section, part, group, value.part, "count"),
        Figure(section, whole, group, value.whole, "count"),
        Figure(section, name, group, value.rate, "share"),
    ]


def figures(report: Report) -> list[Figure]:
    """Every figure of a report as one row each (the CSV form; README "Numbers" defines each)."""
    rows: list[Figure] = []
    inc = report.incidents
    for sev in (*inc.by_severity, inc.total):
        rows.append(Figure("incidents", "incidents", sev.severity, sev.count, "count"))
        rows.append(Figure("incidents", "acknowledged", sev.severity, sev.mtta.count, "count"))
        rows += _spread_rows("incidents", "mtta", sev.severity, sev.mtta)
        rows.append(Figure("incidents", "resolved", sev.severity, sev.mttr.count, "count"))
        rows += _spread_rows("incidents", "mttr", sev.severity, sev.mttr)
    rows += _ratio_rows("incidents", "reopen_rate", ALL, inc.reopened, "reopened", "ever_resolved")
    fu = report.follow_ups
    rows += [
        Figure("follow_ups", name, ALL, value, "count")
        for name, value in (
            ("follow_ups", fu.total),
            ("done", fu.done),
            ("wont_do", fu.wont_do),
            ("overdue", fu.overdue),
            ("open", fu.open),
        )
    ]
    req = report.requirements
    rows += [
        Figure("requirements", "posted", ALL, req.posted, "count"),
        Figure("requirements", "confirmed", ALL, req.confirmed, "count"),
        *_spread_rows("requirements", "time_to_confirm", ALL, req.time_to_confirm),
        *_ratio_rows(
            "requirements",
            "confirmed_by_deadline_rate",
            ALL,
            req.confirmed_by_deadline,
            "confirmed_by_deadline",
            "deadline_reached",
        ),
        Figure("requirements", "changes_requested", ALL, req.changes_requested, "count"),
        Figure("requirements", "with_changes_requested", ALL, req.with_changes_requested, "count"),
    ]
    act = report.actions
    groups = [
        (ALL, act.on_time),
        *((f"channel:{g.group}", g.ratio) for g in act.on_time_by_channel),
        *((f"owner:{g.group}", g.ratio) for g in act.on_time_by_owner),
    ]
    for group, value in groups:
        rows += _ratio_rows("actions", "on_time_rate", group, value, "done_on_time", "judged")
    rows.append(Figure("actions", "overdue", ALL, act.overdue_age.count, "count"))
    rows += _spread_rows("actions", "overdue_age", ALL, act.overdue_age, p90_row=False)
    mtg = report.meetings
    rows.append(Figure("meetings", "meetings", ALL, mtg.meetings, "count"))
    rows += _ratio_rows("meetings", "minutes_in_24h_rate", ALL, mtg.minutes_in_time, "minutes_in_24h", "minutes_due")
    rows += _ratio_rows("meetings", "ack_rate", ALL, mtg.acknowledged, "acknowledged", "participants")
    return rows


def duration_text(lang: str, seconds: float | None) -> str:
    """A duration for people: "45 s", "12 min", "1 h 20 min", "2 d 3 h" (or "—" when there is none)."""
    if seconds is None:
        return t(lang, "metrics.none")
    whole = max(0, round(seconds))
    if whole < 60:
        return t(lang, "metrics.duration.s", s=whole)
    minutes = round(whole / 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return t(lang, "metrics.duration.dh", d=days, h=hours)
    if hours:
        return t(lang, "metrics.duration.hm", h=hours, m=mins)
    return t(lang, "metrics.duration.m", m=mins)


def percent_text(lang: str, value: Ratio) -> str:
    """A share for people: "75% (3 of 4)" (or "—" when there is nothing to divide)."""
    if value.rate is None:
        return t(lang, "metrics.none")
    return t(lang, "metrics.percent", pct=f"{value.rate * 100:.0f}", part=value.part, whole=value.whole)
