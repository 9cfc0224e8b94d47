"""Where the bot is: the channels it was removed from, and the open records living in them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from storage import channels as repo
from storage.channels import OpenRecord
from storage.db import SessionScope

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LeftChannelInfo:
    """A channel the bot is out of, since when, and what lives there."""

    team_id: str
    channel_id: str
    left_at: datetime
    records: tuple[OpenRecord, ...]


class ChannelPresence:
    """Notes when the bot leaves or rejoins a channel; lists what that leaves stranded."""

    def __init__(self, session_scope: SessionScope) -> None:
        self._scope = session_scope

    def left(self, *, team_id: str, channel_id: str, now: datetime) -> list[OpenRecord] | None:
        """Note that the bot is out of the channel; the open records there, or None when it was known already."""
        with self._scope() as s:
            if not repo.mark_left(s, team_id=team_id, channel_id=channel_id, now=now):
                return None
            records = repo.open_records(s, team_id=team_id, channel_ids=[channel_id], now=now)
        logger.warning("removed from channel %s: %d open records live there", channel_id, len(records))
        return records

    def joined(self, *, team_id: str, channel_id: str) -> bool:
        """Note that the bot is back in (or joined) the channel; True when it had been out of it."""
        with self._scope() as s:
            back = repo.mark_joined(s, team_id=team_id, channel_id=channel_id)
        if back:
            logger.info("back in channel %s", channel_id)
        return back

    def stranded(self, *, now: datetime, team_id: str | None = None) -> list[LeftChannelInfo]:
        """Every channel the bot is out of, with the open records living there (for `coordbot status`)."""
        with self._scope() as s:
            rows = repo.left_channels(s, team_id=team_id)
            records: dict[tuple[str, str], list[OpenRecord]] = {}
            for team in {row.team_id for row in rows}:  # one set of queries per workspace, not per channel
                channels = [row.channel_id for row in rows if row.team_id == team]
                for record in repo.open_records(s, team_id=team, channel_ids=channels, now=now):
                    records.setdefault((team, record.channel_id), []).append(record)
            return [
                LeftChannelInfo(
                    row.team_id, row.channel_id, row.left_at, tuple(records.get((row.team_id, row.channel_id), ()))
                )
                for row in rows
            ]
