"""Who is who in the workspace: members, their timezones and languages, and who may see which channel, cached."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.people import Member
from bot.services.prefs import Preferences
from bot.text import normalize_lang
from handlers.workspace.visibility import ChannelAccess

logger = logging.getLogger(__name__)


def _member(u: dict[str, Any]) -> Member:
    profile = u.get("profile") or {}
    return Member(
        id=str(u.get("id", "")),
        name=str(u.get("name") or ""),
        display_name=str(profile.get("display_name") or ""),
        real_name=str(u.get("real_name") or profile.get("real_name") or ""),
        tz=u.get("tz"),
        locale=u.get("locale"),
        is_bot=bool(u.get("is_bot")) or u.get("id") == "USLACKBOT",
        deleted=bool(u.get("deleted")),
    )


def _is_guest(u: dict[str, Any]) -> bool:
    """A multi- or single-channel guest sees only the channels they are in, public ones included."""
    return bool(u.get("is_restricted") or u.get("is_ultra_restricted"))


class Directory:
    """A cache of workspace members, refreshed in the background after `ttl` seconds.

    It also answers who may see a conversation (`can_see`, `is_public`), each conversation asked
    of Slack at most once a minute (see handlers/workspace/visibility.py).
    """

    def __init__(
        self,
        client: WebClient,
        *,
        default_tz: str,
        default_lang: str,
        prefs: Preferences,
        ttl: float = 900,
        channel_ttl: float = 60,
    ) -> None:
        self._client = client
        self._prefs = prefs
        self.team_id = ""
        # the workspaces whose records people here may act on by message: None (all) with one configured token
        self.scope: Callable[[], tuple[str, ...] | None] = lambda: None
        self.default_tz = default_tz
        self.default_lang = default_lang
        self._ttl = ttl
        self._members: dict[str, Member] = {}
        self._guests: set[str] = set()
        self._loaded_at = 0.0
        self._lock = threading.Lock()
        self._refreshing = False
        self.channels = ChannelAccess(client, is_guest=self.is_guest, ttl=channel_ttl)

    def ensure_team(self) -> str:
        """The workspace's ID, asked of Slack once (auth.test); people's language choices are kept under it."""
        if not self.team_id:
            try:
                self.team_id = str(self._client.auth_test().get("team_id") or "")
            except (SlackApiError, SlackRequestError, OSError) as exc:  # retried on the next call
                logger.warning("could not identify the workspace yet: %s", exc)
        return self.team_id

    def load(self) -> None:
        """Fetch the workspace's ID (auth.test) and every member (users.list, paged); read the language choices."""
        self.ensure_team()
        members: dict[str, Member] = {}
        guests: set[str] = set()
        cursor = None
        while True:
            resp = self._client.users_list(limit=200, cursor=cursor, include_locale=True)
            for u in resp.get("members") or []:
                m = _member(u)
                members[m.id] = m
                if _is_guest(u):
                    guests.add(m.id)
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        with self._lock:
            self._members = members
            self._guests = guests
            self._loaded_at = time.monotonic()
        logger.info("directory loaded: %d members", len(members))
        if self.team_id:
            # read now, at start, so that no request waits for the first read (a serving process answers
            # every request in turn: one that waited would hold up the others)
            self._prefs.warm(self.team_id)

    def _maybe_refresh(self) -> None:
        if time.monotonic() - self._loaded_at < self._ttl or self._refreshing:
            return
        self._refreshing = True

        def run() -> None:
            try:
                self.load()
            except SlackApiError as exc:
                logger.warning("directory refresh failed: %s", exc.response.get("error"))
            except Exception:
                logger.exception("directory refresh failed")
            finally:
                self._refreshing = False

        threading.Thread(target=run, name="directory-refresh", daemon=True).start()

    def members(self) -> list[Member]:
        """Every known member (no network; a stale cache refreshes in the background)."""
        self._maybe_refresh()
        with self._lock:
            return list(self._members.values())

    def get(self, user_id: str, *, fetch: bool = False) -> Member | None:
        """One member from the cache, or from users.info when `fetch` is set."""
        with self._lock:
            member = self._members.get(user_id)
        if member is None and fetch:
            try:
                resp = self._client.users_info(user=user_id, include_locale=True)
            except SlackApiError as exc:
                logger.info("users.info %s failed: %s", user_id, exc.response.get("error"))
                return None
            raw = resp.get("user") or {}
            member = _member(raw)
            with self._lock:
                self._members[member.id] = member
                if _is_guest(raw):
                    self._guests.add(member.id)
                else:
                    self._guests.discard(member.id)
        return member

    def is_guest(self, user_id: str) -> bool:
        """Whether the person is a guest; someone Slack will not describe counts as one (they see less)."""
        if self.get(user_id, fetch=True) is None:
            return True
        with self._lock:
            return user_id in self._guests

    def can_see(self, user_id: str, channel_id: str) -> bool:
        """Whether the person may see what is posted in the conversation (False when Slack will not say)."""
        return self.channels.can_see(user_id, channel_id)

    def is_public(self, channel_id: str) -> bool:
        """Whether the conversation is a public channel, open to every full member of the workspace."""
        return self.channels.is_public(channel_id)

    def tz_of(self, user_id: str, *, fetch: bool = False) -> str:
        """The user's Slack timezone, or the workspace default."""
        member = self.get(user_id, fetch=fetch)
        return (member.tz if member and member.tz else None) or self.default_tz

    def lang_of(self, user_id: str, *, fetch: bool = False) -> str:
        """The user's language: their own choice, else their Slack locale, else the workspace default."""
        chosen = self._prefs.user_lang(self.team_id, user_id)
        if chosen:
            return chosen
        member = self.get(user_id, fetch=fetch)
        return normalize_lang(member.locale if member else None, self.default_lang)

    def name_of(self, user_id: str) -> str:
        """The name people know the person by (their ID when Slack will not say)."""
        member = self.get(user_id, fetch=True)
        return member.label if member else user_id

    def channel_lang(self, channel_id: str) -> str:
        """The language of the bot's posts in a channel: the channel's setting, else the workspace default."""
        return self._prefs.channel_lang(self.team_id, channel_id) or self.default_lang
