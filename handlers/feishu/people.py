"""A Feishu tenant's people and group chats, as the core needs them (`bot.messenger.People`).

Names come from the contact API and chats' member lists, kept for a while. Feishu does not tell a bot a
person's language or timezone: the language is the one the person chose (`/lang`), else the one they write
in, else the configured default (cards also carry every catalog language, which each reader's Feishu client
chooses from, until the person chooses one); the timezone is the one they chose (`/tz`), else COORDBOT_TZ.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from bot.people import Member
from bot.services.prefs import Preferences
from handlers.feishu.api import FeishuApi, FeishuError

logger = logging.getLogger(__name__)

KEEP_SECONDS = 300.0


class FeishuPeople:
    """Names, languages, timezones and chat membership of one Feishu tenant."""

    def __init__(
        self,
        api: FeishuApi,
        *,
        workspace: str,
        prefs: Preferences,
        default_tz: str,
        default_lang: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api = api
        self.workspace = workspace
        self.prefs = prefs
        self.default_tz = default_tz
        self.default_lang = default_lang
        self._clock = clock
        self._names: dict[str, str] = {}
        self._chats: dict[str, tuple[float, list[Member]]] = {}
        self._guessed: dict[str, str] = {}
        self._lock = threading.Lock()

    def chosen_lang(self, user: str) -> str | None:
        """The language the person chose (`语言 …`, the settings card), None while they have not chosen one."""
        return self.prefs.user_lang(self.workspace, user)

    def lang_of(self, user: str, *, fetch: bool = False) -> str:
        """The language the person chose, else the one they last wrote in, else the default."""
        chosen = self.chosen_lang(user)
        if chosen:
            return chosen
        with self._lock:
            return self._guessed.get(user, self.default_lang)

    def heard(self, user: str, lang: str) -> None:
        """The person wrote in this language (used until they choose one)."""
        with self._lock:
            self._guessed[user] = lang

    def tz_of(self, user: str, *, fetch: bool = False) -> str:
        """The timezone the person chose (`时区 …`), else the configured one: Feishu does not give a bot its users'
        timezones."""
        return self.prefs.user_tz(self.workspace, user) or self.default_tz

    def name_of(self, user: str) -> str:
        """The person's name from the contact API (their open_id when the bot may not read it)."""
        with self._lock:
            known = self._names.get(user)
        if known is not None:
            return known
        try:
            found = self.api.user(user)
            name = found.name or found.en_name or user
        except FeishuError as exc:
            logger.info("no name for %s: %s", user, exc.code)
            name = user
        with self._lock:
            self._names[user] = name
        return name

    def members(self, chat: str) -> list[Member]:
        """The people in a group chat, with their names (for @name in typed text)."""
        now = self._clock()
        with self._lock:
            cached = self._chats.get(chat)
        if cached is not None and now - cached[0] < KEEP_SECONDS:
            return cached[1]
        try:
            people = self.api.chat_people(chat)
        except FeishuError as exc:
            logger.info("no members of %s: %s", chat, exc.code)
            return cached[1] if cached else []
        # the member list carries the names: one call per chat, not a contact lookup per person
        found = [Member(id=p.open_id, name=p.name, real_name=p.name) for p in people]
        with self._lock:
            self._chats[chat] = (now, found)
            self._names.update((p.open_id, p.name) for p in people if p.name)
        return found

    def can_see(self, user: str, channel: str) -> bool:
        """Whether the person is in the group chat (a person's own chat with the bot is theirs)."""
        return any(m.id == user for m in self.members(channel))

    def forget_chat(self, chat: str) -> None:
        """Read the chat's members again next time (someone was added)."""
        with self._lock:
            self._chats.pop(chat, None)
