"""Language preferences of people and channels, cached so listeners read them without a query."""

from __future__ import annotations

import threading
import time
from datetime import datetime

from bot.errors import ValidationFailed
from bot.text import LANGS
from storage import prefs as repo
from storage.db import SessionScope


class Preferences:
    """Per-user and per-channel language, read through a short-lived in-memory copy."""

    def __init__(self, session_scope: SessionScope, *, ttl: float = 60.0) -> None:
        self._scope = session_scope
        self._ttl = ttl
        self._lock = threading.Lock()
        self._users: dict[str, dict[str, str]] = {}
        self._channels: dict[str, dict[str, str]] = {}
        self._loaded: dict[str, float] = {}

    def _load(self, team_id: str) -> None:
        if time.monotonic() - self._loaded.get(team_id, -1e9) < self._ttl:
            return
        with self._scope() as s:
            users, channels = repo.user_langs(s, team_id), repo.channel_langs(s, team_id)
        with self._lock:
            self._users[team_id], self._channels[team_id] = users, channels
            self._loaded[team_id] = time.monotonic()

    def user_lang(self, team_id: str, user_id: str) -> str | None:
        """The language a user chose, if any (replicas see a change within the cache's lifetime)."""
        self._load(team_id)
        return self._users.get(team_id, {}).get(user_id)

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
            self._loaded.pop(team_id, None)

    def set_channel_lang(self, team_id: str, channel_id: str, lang: str | None, *, now: datetime) -> None:
        """Choose the language of the bot's posts in a channel; None goes back to the workspace default."""
        _check(lang)
        with self._scope() as s:
            repo.set_channel_lang(s, team_id=team_id, channel_id=channel_id, lang=lang, now=now)
        with self._lock:
            self._loaded.pop(team_id, None)


def _check(lang: str | None) -> None:
    if lang is not None and lang not in LANGS:
        raise ValidationFailed({"lang": ("error.unknown_language", {"langs": ", ".join(LANGS)})})
