"""Where a person's own records live, so the Slack side can leave out those in conversations they cannot see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.services.actions import CLOSED_STATUSES
from bot.services.meetings import MAX_DURATION
from bot.services.requirements import Status
from storage import visibility as repo
from storage.db import SessionScope


@dataclass(frozen=True)
class HomeChannels:
    """The conversations of each part of a person's App Home (a superset: every record each part may list)."""

    awaiting: frozenset[str]
    actions: frozenset[str]
    meetings: frozenset[str]

    @property
    def every(self) -> frozenset[str]:
        """All of them together."""
        return self.awaiting | self.actions | self.meetings


def home_channels(session_scope: SessionScope, *, team_id: str, user_id: str, now: datetime) -> HomeChannels:
    """The channels of the sheets the person owns a side of, their open items, and their current meetings."""
    with session_scope() as s:
        return HomeChannels(
            awaiting=frozenset(repo.awaiting_channels(s, team_id=team_id, user_id=user_id, awaiting=Status.AWAITING)),
            actions=frozenset(repo.open_action_channels(s, team_id=team_id, owner_id=user_id, closed=CLOSED_STATUSES)),
            # meetings under way or ahead, and those over without minutes: what the home lists
            meetings=frozenset(
                repo.meeting_channels(s, team_id=team_id, user_id=user_id, after=now - timedelta(minutes=MAX_DURATION))
            ),
        )
