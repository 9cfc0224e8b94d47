"""What a person's own page lists, for every messenger (Slack's App Home, Feishu's page card): the sheets awaiting
their signature, their open action items, their meetings of the coming days and those whose minutes they still
owe; of each part one window of records, how many there are in all and how many of them are late.

Records in conversations the person cannot see (a private channel or a group they are not in) are left out,
and each part's counts and windows are of what is left. Who may see which conversation is the messenger's to
say (`can_see`); how the page looks, and how much of each part fits on it, is the adapter's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from bot.services import Services
from bot.services.actions import ActionInfo
from bot.services.meetings import MeetingInfo
from bot.services.requirements import RequirementInfo
from bot.services.visibility import home_channels

logger = logging.getLogger(__name__)

MEETING_DAYS = 14  # how far ahead "upcoming meetings" looks
ALL = 1_000_000  # "every one" as a window's size
T = TypeVar("T")


@dataclass(frozen=True)
class Window:
    """Which records of a part to list: `limit` of them from `offset` (0-based, in the part's order)."""

    offset: int
    limit: int


@dataclass(frozen=True)
class Windows:
    """The window of each part."""

    awaiting: Window
    actions: Window
    meetings: Window
    minutes: Window

    @classmethod
    def first(cls, limit: int) -> Windows:
        """The first `limit` records of every part."""
        first = Window(0, limit)
        return cls(first, first, first, first)


@dataclass(frozen=True)
class Listed(Generic[T]):
    """One part of the page: the records of its window, how many there are in all, how many of them are late,
    and where the window starts (the one asked for, or the last one when fewer records are left than it skips)."""

    items: Sequence[T] = ()
    total: int = 0
    late: int = 0
    offset: int = 0


@dataclass(frozen=True)
class HomePage:
    """What a person's page lists, part by part."""

    awaiting: Listed[RequirementInfo]  # sheets awaiting their signature, the earliest sign-by first
    actions: Listed[ActionInfo]  # their open action items, the soonest due (so the most overdue) first
    meetings: Listed[MeetingInfo]  # under way or starting within MEETING_DAYS, soonest first
    minutes: Listed[MeetingInfo]  # over without minutes, oldest first


def home_page(
    services: Services,
    *,
    team_id: str,
    user_id: str,
    now: datetime,
    can_see: Callable[[str], bool],
    windows: Windows,
    asked_together: int = 1,
) -> HomePage:
    """What the person's page lists as of `now`, each part in its window, of the records in conversations
    `can_see` says they may see (each conversation asked once; `asked_together` of them side by side)."""
    where = home_channels(services.session_scope, team_id=team_id, user_id=user_id, now=now)
    seen = _ask(can_see, where.every, asked_together)

    def visible(channel: str) -> bool:
        if channel not in seen:  # a record that moved since its conversations were read
            seen[channel] = can_see(channel)
        return seen[channel]

    hidden = frozenset(c for c, ok in seen.items() if not ok)
    reqs, acts, meetings = services.requirements, services.actions, services.meetings

    def awaiting(offset: int, limit: int) -> tuple[list[RequirementInfo], int, int]:
        total, late = reqs.awaiting_counts(team_id, user_id, now)
        return (reqs.awaiting_page(team_id, user_id, offset=offset, limit=limit) if total else []), total, late

    def actions(offset: int, limit: int) -> tuple[list[ActionInfo], int, int]:
        total, overdue = acts.open_counts(team_id, user_id, now)
        return (acts.open_page(team_id, user_id, offset=offset, limit=limit) if total else []), total, overdue

    def upcoming(offset: int, limit: int) -> tuple[list[MeetingInfo], int, int]:
        within = timedelta(days=MEETING_DAYS)
        found, total = meetings.upcoming_page(team_id, user_id, now, within=within, offset=offset, limit=limit)
        return found, total, 0

    def owed(offset: int, limit: int) -> tuple[list[MeetingInfo], int, int]:
        found, total = meetings.minutes_owed(team_id, user_id, now, offset=offset, limit=limit)
        return found, total, 0

    def never(_record: object) -> bool:
        return False

    return HomePage(
        awaiting=_Part(awaiting, lambda r: r.channel_id, lambda r: r.confirm_by < now).listed(
            windows.awaiting, hidden & where.awaiting, visible
        ),
        actions=_Part(actions, lambda a: a.channel_id, lambda a: a.due < now).listed(
            windows.actions, hidden & where.actions, visible
        ),
        meetings=_Part(upcoming, lambda m: m.channel_id, never).listed(
            windows.meetings, hidden & where.meetings, visible
        ),
        minutes=_Part(owed, lambda m: m.channel_id, never).listed(windows.minutes, hidden & where.meetings, visible),
    )


def last_start(total: int, limit: int) -> int:
    """Where the last window of `total` records starts (0 when there are none)."""
    return max(0, (total - 1) // max(1, limit) * max(1, limit))


def _ask(can_see: Callable[[str], bool], channels: frozenset[str], together: int) -> dict[str, bool]:
    """Whether the person may see each of these conversations (asking may take the messenger a round trip each,
    so several are asked side by side when the adapter allows it)."""
    ordered = sorted(channels)
    if together <= 1 or len(ordered) <= 1:
        return {c: can_see(c) for c in ordered}
    with ThreadPoolExecutor(max_workers=min(together, len(ordered))) as pool:
        return dict(zip(ordered, pool.map(can_see, ordered), strict=True))


@dataclass(frozen=True)
class _Part(Generic[T]):
    """How one part reads its records from the database."""

    fetch: Callable[[int, int], tuple[list[T], int, int]]  # (offset, limit) -> a window, the total, how many late
    channel: Callable[[T], str]  # where a record lives
    late: Callable[[T], bool]

    def listed(self, window: Window, hidden: frozenset[str], visible: Callable[[str], bool]) -> Listed[T]:
        """The part's window and counts: by the database while the person sees every conversation of the part
        (the usual case, whatever the number of records); when some are hidden, its records are read whole and
        counted and windowed here, so that the counts are of what the person may see."""
        if hidden:
            every = [r for r in self.fetch(0, ALL)[0] if visible(self.channel(r))]
            total = len(every)
            offset = window.offset if window.offset < total else last_start(total, window.limit)
            late = sum(1 for r in every if self.late(r))
            return Listed(tuple(every[offset : offset + window.limit]), total, late, offset)
        offset = window.offset
        items, total, late = self.fetch(offset, window.limit)
        if not items and offset > last_start(total, window.limit):  # fewer than when this window was drawn
            offset = last_start(total, window.limit)
            items, total, late = self.fetch(offset, window.limit)
        return Listed(tuple(r for r in items if visible(self.channel(r))), total, late, offset)
