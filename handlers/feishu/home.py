"""A person's page on Feishu (我的, Slack's App Home): `我的` / `/home` / the menu's `home`, and the first time a
person opens the bot's chat, send them — in that chat — what they owe: sheets to sign, open action items,
meetings ahead and minutes to record. Its buttons are the records' own; the page is drawn again after one."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, Generic, TypeVar

from bot.errors import CoordbotError
from bot.messenger import ButtonPressed, CommandTyped
from bot.services.actions import ActionInfo
from bot.services.meetings import MeetingInfo
from bot.services.requirements import RequirementInfo
from bot.services.visibility import home_channels
from handlers.feishu.cards import home as cards
from handlers.feishu.cards.home import MAX_SHOWN, MEETING_DAYS, Shown
from handlers.feishu.turn import Turn

logger = logging.getLogger(__name__)

ALL = 1_000_000  # "every one" as a page size
T = TypeVar("T")

_guard = threading.Lock()
_locks: dict[str, threading.Lock] = {}  # one redraw of a page card at a time (per message), in this process


def on_command(turn: Turn, cmd: CommandTyped) -> None:
    """`我的` / `/home` (typed to the bot, @mentioning it in a group, or the menu's `home`): the page, to the person."""
    show(turn)


def show(turn: Turn) -> None:
    """Send the person their page in their direct chat."""
    turn.show(page(turn), purpose="home")


def act_on_page(turn: Turn, pressed: ButtonPressed, handler: Callable[[Turn, ButtonPressed], None]) -> None:
    """A record's button pressed on the page: the record's own handler does it, then the page shows the change
    (also when it was refused: the record may have moved on since the page was drawn)."""
    try:
        handler(turn, pressed)
    except CoordbotError:
        redraw(turn, pressed.message)
        raise
    redraw(turn, pressed.message)


def redraw(turn: Turn, message: str) -> None:
    """Draw the page card again in place."""
    if not message:
        return
    with _guard:
        lock = _locks.setdefault(message, threading.Lock())
    with lock:  # read and update together, so the last update shows every change before it
        turn.api.update_card(message, page(turn))


def page(turn: Turn) -> dict[str, Any]:
    """The person's page as of now, with only records in group chats they are in (read once, drawn in each of
    the person's possible languages unless they chose one)."""
    services, team, user, now = turn.services, turn.workspace, turn.user, turn.now
    where = home_channels(services.session_scope, team_id=team, user_id=user, now=now)
    seen: dict[str, bool] = {}

    def visible(chat: str) -> bool:
        if not chat:
            return True  # a record in no group is its people's own
        if chat not in seen:
            seen[chat] = turn.people.can_see(user, chat)
        return seen[chat]

    hidden = frozenset(c for c in where.every if not visible(c))
    reqs, acts, meetings = services.requirements, services.actions, services.meetings

    def awaiting(limit: int) -> tuple[list[RequirementInfo], int, int]:
        total, late = reqs.awaiting_counts(team, user, now)
        return (reqs.awaiting_page(team, user, limit=limit) if total else []), total, late

    def actions(limit: int) -> tuple[list[ActionInfo], int, int]:
        total, late = acts.open_counts(team, user, now)
        return (acts.open_page(team, user, limit=limit) if total else []), total, late

    def upcoming(limit: int) -> tuple[list[MeetingInfo], int, int]:
        found, total = meetings.upcoming_page(team, user, now, within=timedelta(days=MEETING_DAYS), limit=limit)
        return found, total, 0

    def owed(limit: int) -> tuple[list[MeetingInfo], int, int]:
        found, total = meetings.minutes_owed(team, user, now, limit=limit)
        return found, total, 0

    return turn.for_person(
        partial(
            cards.home_card,
            awaiting=_Part(awaiting, lambda r: r.channel_id, lambda r: r.confirm_by < now).shown(
                hidden & where.awaiting, visible
            ),
            actions=_Part(actions, lambda a: a.channel_id, lambda a: a.due < now).shown(
                hidden & where.actions, visible
            ),
            meetings=_Part(upcoming, lambda m: m.channel_id, _never).shown(hidden & where.meetings, visible),
            minutes=_Part(owed, lambda m: m.channel_id, _never).shown(hidden & where.meetings, visible),
            tz=turn.tz,
            now=now,
        )
    )


def _never(_record: object) -> bool:
    return False


@dataclass(frozen=True)
class _Part(Generic[T]):
    """How one part of the page reads its records: the first `limit` of them, how many in all, how many late."""

    fetch: Callable[[int], tuple[list[T], int, int]]
    chat: Callable[[T], str]
    late: Callable[[T], bool]

    def shown(self, hidden: frozenset[str], visible: Callable[[str], bool]) -> Shown[T]:
        """The part's first records and its counts: by the database, unless some of its groups are hidden from
        the person (then its records are read whole, and counted here)."""
        if hidden:
            every = [r for r in self.fetch(ALL)[0] if visible(self.chat(r))]
            return Shown(every[:MAX_SHOWN], len(every), sum(1 for r in every if self.late(r)))
        items, total, late = self.fetch(MAX_SHOWN)
        return Shown([r for r in items if visible(self.chat(r))], total, late)
