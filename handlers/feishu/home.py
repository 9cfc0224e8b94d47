"""A person's page on Feishu (我的, Slack's App Home): `我的` / `/home` / the menu's `home`, and the first time a
person opens the bot's chat, send them — in that chat — what they owe: sheets to sign, open action items,
meetings ahead and minutes to record. Its buttons are the records' own; the page is drawn again after one."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from bot.errors import CoordbotError
from bot.messenger import ButtonPressed, CommandTyped
from bot.services.home_page import Windows, home_page
from handlers.feishu.cards import home as cards
from handlers.feishu.cards.home import MAX_SHOWN
from handlers.feishu.turn import Turn

logger = logging.getLogger(__name__)

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
        handler(turn, replace(pressed, detail={**pressed.detail, "via": "home"}))  # a signature says where it was made
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
    user = turn.user
    listed = home_page(
        turn.services,
        team_id=turn.workspace,
        user_id=user,
        now=turn.now,
        can_see=lambda chat: not chat or turn.people.can_see(user, chat),  # a record in no group is its people's own
        windows=Windows.first(MAX_SHOWN),  # a card does not page: the first of each part, and how many in all
    )
    return turn.for_person(
        partial(
            cards.home_card,
            awaiting=listed.awaiting,
            actions=listed.actions,
            meetings=listed.meetings,
            minutes=listed.minutes,
            tz=turn.tz,
            now=turn.now,
        )
    )
