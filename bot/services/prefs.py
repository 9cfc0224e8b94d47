"""Language preferences of people and channels, cached so listeners read them without a query."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import ValidationFailed
from bot.text import LANGS
from storage import prefs as repo
from storage.db import SessionScope

logger = logging.getLogger(__name__)


class Preferences:
    """Per-user and per-channel language, read through a short-lived in-memory copy.

    Only the first read of a team waits for the database. Later, a copy older than `ttl` is still
    answered from while one background thread reads the new one: a request never waits behind the
    database's writers for a language (on SQLite, a burst of requests otherwise all queued up for it at
    once). Changes made in this process are written through to the copy at once.
    """

    def __init__(self, session_scope: SessionScope, *, ttl: float = 60.0) -> None:
        self._scope = session_scope
        self._ttl = ttl
        self._lock = threading.Lock()
        self._users: dict[str, dict[str, str]] = {}
        self._tzs: dict[str, dict[str, str]] = {}
        self._channels: dict[str, dict[str, str]] = {}
        self._loaded: dict[str, float] = {}
        self._refreshing: set[str] = set()

    def _load(self, team_id: str) -> None:
        loaded = self._loaded.get(team_id)
        if loaded is not None and time.monotonic() - loaded < self._ttl:
            return
        if loaded is None:
            self._read(team_id)
            return
        with self._lock:
            if team_id in self._refreshing:
                return
            self._refreshing.add(team_id)
        threading.Thread(target=self._refresh, args=(team_id,), name="prefs-refresh", daemon=True).start()

    def warm(self, team_id: str) -> None:
        """Read a team's choices now unless they are already in memory (at start: no request waits for it)."""
        if team_id not in self._loaded:
            self._read(team_id)

    def _refresh(self, team_id: str) -> None:
        try:
            self._read(team_id)
        except Exception:  # the copy stays as it was; the next read tries again
            logger.exception("could not refresh the language preferences")
        finally:
            with self._lock:
                self._refreshing.discard(team_id)

    def _read(self, team_id: str) -> None:
        with self._scope() as s:
            users, channels = repo.user_langs(s, team_id), repo.channel_langs(s, team_id)
            tzs = repo.user_tzs(s, team_id)
        with self._lock:
            self._users[team_id], self._channels[team_id], self._tzs[team_id] = users, channels, tzs
            self._loaded[team_id] = time.monotonic()

    def user_lang(self, team_id: str, user_id: str) -> str | None:
        """The language a user chose, if any (replicas see a change within the cache's lifetime)."""
        self._load(team_id)
        return self._users.get(team_id, {}).get(user_id)

    def user_tz(self, team_id: str, user_id: str) -> str | None:
        """The timezone a user chose, if any (for messengers that do not say it)."""
        self._load(team_id)
        return self._tzs.get(team_id, {}).get(user_id)

    def set_user_tz(self, team_id: str, user_id: str, tz: str | None, *, now: datetime) -> None:
        """Choose a user's timezone (an IANA name such as Asia/Shanghai); None goes back to the default."""
        if tz is not None and not valid_zone(tz):
            raise ValidationFailed({"tz": ("error.unknown_timezone", {"tz": tz[:64]})})
        with self._scope() as s:
            repo.set_user_tz(s, team_id=team_id, user_id=user_id, tz=tz, now=now)
        with self._lock:
            _put(self._tzs.setdefault(team_id, {}), user_id, tz)

    def channel_lang(self, team_id: str, channel_id: str) -> str | None:
        """The language set for a channel, if any."""
        self._load(team_id)
        return self._channels.get(team_id, {}).get(channel_id)

    def set_user_lang(self, team_id: str, user_id: str, lang: str | None, *, now: datetime) -> None:
        """Choose a language for a user; None goes back to their Slack locale."""
        _check(lang)
        with self._scope() as s:
            repo.set_user_lang(s, team_id=team_id, user_id=user_id, lang=lang, now=now)
        with self._lock:
            _put(self._users.setdefault(team_id, {}), user_id, lang)

    def set_channel_lang(self, team_id: str, channel_id: str, lang: str | None, *, now: datetime) -> None:
        """Choose the language of the bot's posts in a channel; None goes back to the workspace default."""
        _check(lang)
        with self._scope() as s:
            repo.set_channel_lang(s, team_id=team_id, channel_id=channel_id, lang=lang, now=now)
        with self._lock:
            _put(self._channels.setdefault(team_id, {}), channel_id, lang)


def _put(copy: dict[str, str], key: str, lang: str | None) -> None:
    if lang is None:
        copy.pop(key, None)
    else:
        copy[key] = lang


def valid_zone(name: str) -> bool:
    """Whether `name` is an IANA timezone this machine knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return "/" in name or name == "UTC"


def _check(lang: str | None) -> None:
    if lang is not None and lang not in LANGS:
        raise ValidationFailed({"lang": ("error.unknown_language", {"langs": ", ".join(LANGS)})})
