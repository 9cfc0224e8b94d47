"""One inbound Feishu event being run: who, where, in which language, and the ways to answer.

Feishu has no message only one person in a group sees: what Slack says ephemerally goes to the person in
their direct chat with the bot. Every message a row sends carries an idempotency key made of the row and
what it says (Feishu keeps a key an hour), so a row run again after a crash does not say it twice.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot import inbox
from bot.messenger import ButtonPressed, Inbound, Posted
from bot.notices import Text, render
from bot.services import Services
from bot.services.presses import Pressed, press
from bot.text import t
from handlers.feishu.api import FeishuApi, FeishuError
from handlers.feishu.cards.common import card, lark_md, markdown
from handlers.feishu.cards.i18n import bilingual
from handlers.feishu.formats import FeishuFormat
from handlers.feishu.people import FeishuPeople

logger = logging.getLogger(__name__)
PICKER_MAX = 200  # candidates a form's person picker offers (the card stays far below Feishu's size limit)

NOT_IN_CHAT_CODES = frozenset({230002, 232006, 232011})  # no such chat, or the bot is not in it


def once_key(*parts: object) -> str:
    """An idempotency key for a message (Feishu allows 50 characters)."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:40]
    return f"cb-{digest}"


@dataclass
class Turn:
    """The event, the person's language and timezone, and the adapter's parts."""

    event: Inbound
    api: FeishuApi
    services: Services
    people: FeishuPeople

    @property
    def user(self) -> str:
        """Who did it (an open_id)."""
        return self.event.user

    @property
    def workspace(self) -> str:
        """The workspace string (`feishu:<tenant>`)."""
        return self.event.workspace

    @property
    def now(self) -> datetime:
        """When Feishu delivered it: the request runs as of then, however late a worker takes it."""
        return self.event.received_at

    @property
    def lang(self) -> str:
        """The person's language."""
        return self.people.lang_of(self.user)

    @property
    def tz(self) -> str:
        """The person's timezone."""
        return self.people.tz_of(self.user)

    def chat_lang(self, chat: str) -> str:
        """The language a group is written to in: the one set for it, else the person's."""
        return self.services.prefs.channel_lang(self.workspace, chat) or self.lang

    def for_chat(self, chat: str, build: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
        """A record's card for a group chat, built by `build(lang)`: in the group's language alone when it has one
        set, else in each reader's Feishu language (the person's where a reader's is not in the catalog)."""
        chosen = self.services.prefs.channel_lang(self.workspace, chat)
        return build(chosen) if chosen is not None else bilingual(build, self.lang)

    def for_person(self, build: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
        """A card for the person alone, built by `build(lang)`: in the language they chose, else in their Feishu
        client's (the one they write in where it is not in the catalog)."""
        if self.people.chosen_lang(self.user) is not None:
            return build(self.lang)
        return bilingual(build, self.lang)

    def candidates(self, chat: str | None) -> tuple[str, ...]:
        """Whom a form's person pickers offer: the person, then the group's members. A form is sent to the
        person alone, and a picker without candidates offers the members of the chat it is in: only them."""
        members = [m.id for m in self.people.members(chat)] if chat else []
        return tuple(dict.fromkeys([self.user, *members]))[:PICKER_MAX]

    def key(self, purpose: str) -> str:
        """The idempotency key of one message this row sends."""
        row = inbox.running()
        return once_key(row.id if row else self.now.isoformat(), self.user, purpose)

    def tell(self, key: str, **params: Any) -> None:
        """A notice to the person alone (their direct chat), in their language."""
        self.tell_text(t(self.lang, key, **params), purpose=key)

    def tell_text(self, mrkdwn: str, *, purpose: str) -> None:
        """A catalog text already filled, to the person alone."""
        notice = card(t(self.lang, "feishu.card.title"), [markdown(lark_md(mrkdwn))], template="grey")
        self.api.send_card(open_id=self.user, card=notice, uuid=self.key(purpose))

    def show(self, shown: dict[str, Any], *, purpose: str) -> None:
        """A card (a form, a record) to the person alone."""
        self.api.send_card(open_id=self.user, card=shown, uuid=self.key(purpose))

    def post(self, chat: str, shown: dict[str, Any], *, ref: str) -> Posted | None:
        """Post a record's card in a group once (`ref` names the record); None when the bot may not post
        there (the person is told how to let it in)."""
        try:
            sent = self.api.send_card(chat_id=chat, card=shown, uuid=once_key("record", ref))
        except FeishuError as exc:
            if exc.code in NOT_IN_CHAT_CODES:
                self.tell("feishu.not_in_chat")
                return None
            raise
        return Posted(channel=sent.chat_id or chat, message=sent.message_id)

    def press(self, event: ButtonPressed) -> Pressed:
        """A record's button, carried out by the core's rules; what the core has for the presser alone is told
        them in their direct chat."""
        done = press(self.services, event, teams=(self.workspace,))
        if done.reply is not None:
            self.tell_text(self.render(done.reply, self.lang), purpose=done.reply.key)
        return done

    def render(self, text: Text, lang: str) -> str:
        """A core text in `lang`, times in the person's timezone."""
        fmt = FeishuFormat(self.services)
        return render(text, lang, self.tz, fmt) or ""

    def announce(self, chat: str, text: Text, *, purpose: str) -> None:
        """A core text in a group: in the group's language when it has one set, else in each reader's."""

        def build(lang: str) -> dict[str, Any]:
            return card(t(lang, "feishu.card.title"), [markdown(lark_md(self.render(text, lang)))], template="grey")

        self.api.send_card(chat_id=chat, card=self.for_chat(chat, build), uuid=self.key(purpose))

    def say(self, chat: str, mrkdwn: str, *, purpose: str) -> None:
        """A short note in a group (as a card, so that mentions and bold show)."""
        note = card(t(self.lang, "feishu.card.title"), [markdown(lark_md(mrkdwn))], template="grey")
        self.api.send_card(chat_id=chat, card=note, uuid=self.key(purpose))
