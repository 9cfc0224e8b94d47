"""What due work tells people, decided once for every messenger: a notice is a catalog text with typed values.

The services decide when a reminder is skipped, who gets it, which text it says and what is marked once it went
out (`bot.services.notices`); a messenger adapter only renders: it says how a time, a link to a record's
message and a record's channel look on its platform (`Formatter`), and what a notice's `Extra` (an agenda, the
minutes, a button) becomes. Values a person typed are escaped and cut here, in one place, for every adapter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from bot.markup import escape, mention, truncate
from bot.text import t


@dataclass(frozen=True)
class When:
    """A moment, shown in the reader's timezone."""

    at: datetime
    with_time: bool = True


@dataclass(frozen=True)
class Person:
    """Someone mentioned."""

    user: str


@dataclass(frozen=True)
class People:
    """Several people mentioned, joined by `sep`."""

    users: tuple[str, ...]
    sep: str = ", "


@dataclass(frozen=True)
class Typed:
    """Text a person typed: escaped, and cut to `limit` characters."""

    text: str
    limit: int


@dataclass(frozen=True)
class Link:
    """A link to the message showing a record; with `fallback`, to its channel when the message is unknown."""

    channel: str | None
    ts: str | None
    fallback: bool = True


@dataclass(frozen=True)
class Room:
    """A record's own channel (an incident's), or its code when it has none."""

    channel: str | None
    code: str


@dataclass(frozen=True)
class Label:
    """Another catalog text without values (a severity's name), in the reader's language, after `mark` (an
    emoji that goes with it)."""

    key: str
    mark: str = ""


@dataclass(frozen=True)
class Text:
    """A catalog text and its values; a value may itself be a text, or None for an empty part."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, key: str, **params: Any) -> Text:
        """`Text.of("remind.sign", code=..., when=When(...))`."""
        return cls(key, params)


class Tone(StrEnum):
    """How urgent a notice is (a card's colour, where the platform has one)."""

    INFO = "info"
    WARN = "warn"
    ALERT = "alert"
    DONE = "done"


class Extra(StrEnum):
    """What of the record comes along with a notice's text, rendered by each adapter its own way."""

    AGENDA = "agenda"  # the meeting's card, without its buttons
    MINUTES = "minutes"  # the minutes with their action items, with a "got it" button
    ACK = "ack"  # the incident's acknowledge button
    REVIEW = "review"  # the button that schedules an incident's review meeting
    DIGEST = "digest"  # a channel's weekly digest (data: late_due)
    WELCOME = "welcome"  # the install welcome (data: team_name, app_id)


@dataclass(frozen=True)
class Record:
    """Which record a notice is about: its kind ("requirement", "action", ...), ID, code and title."""

    kind: str
    id: int
    code: str
    title: str = ""


@dataclass(frozen=True)
class Notice:
    """One message to one person (or, with `in_channel`, to a channel, in the channel's language)."""

    to: str
    record: Record | None
    text: Text | None
    tone: Tone = Tone.INFO
    in_channel: bool = False
    heading: Text | None = None  # a card's title where the platform shows one; else the record's code and title
    footer: Text | None = None  # a last line, left out when its link is unknown
    extra: Extra | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    about: Any = None  # the record as the rules read it (a MeetingInfo, an IncidentInfo), for the extra
    part: str = ""  # tells apart several notices of one row (idempotency keys)


@dataclass(frozen=True)
class Plan:
    """What one due row comes to: nothing (skipped), or notices to send and what to mark once they went out."""

    notices: tuple[Notice, ...] = ()
    then: Callable[[], None] | None = None

    @property
    def skipped(self) -> bool:
        """Nothing to send: the row is done without a message."""
        return not self.notices

    @classmethod
    def skip(cls) -> Plan:
        """The row is no longer worth a message (done, changed, or said better by another)."""
        return cls()


class Formatter(Protocol):
    """How one platform shows the values that differ between messengers."""

    def when(self, at: datetime, tz: str, lang: str, *, with_time: bool = True) -> str:
        """A moment for a reader in `tz`."""

    def link(self, channel: str | None, ts: str | None, *, fallback: bool) -> str | None:
        """A link to a message (or its channel), None when there is none."""

    def room(self, channel: str | None, code: str) -> str:
        """A record's channel as a link, or the code."""


@dataclass(frozen=True)
class Shown:
    """A notice about to be sent: its reader's language and timezone, its text and last line rendered."""

    notice: Notice
    lang: str
    tz: str
    text: str
    footer: str | None
    work: Any  # the outbox row (bot.outbox.DueWork) it is sent for
    now: datetime


def shown(notice: Notice, lang: str, tz: str, fmt: Formatter, *, work: Any, now: datetime) -> Shown:
    """The notice rendered for a reader in `lang` and `tz` (a last line whose link is unknown is left out)."""
    text = (render(notice.text, lang, tz, fmt) or "") if notice.text else ""
    footer = render(notice.footer, lang, tz, fmt) if notice.footer else None
    return Shown(notice, lang, tz, text, footer, work, now)


class _Unknown(Exception):
    """A value has nothing to show (a link to a message the platform will not give): the line is left out."""


def render(text: Text, lang: str, tz: str, fmt: Formatter) -> str | None:
    """The text in `lang` for a reader in `tz`; None when one of its links is unknown."""
    try:
        return _render(text, lang, tz, fmt)
    except _Unknown:
        return None


def _render(text: Text, lang: str, tz: str, fmt: Formatter) -> str:
    return t(lang, text.key, **{name: _value(v, lang, tz, fmt) for name, v in text.params.items()})


def _value(v: Any, lang: str, tz: str, fmt: Formatter) -> Any:
    if v is None:
        return ""
    if isinstance(v, Text):
        return _render(v, lang, tz, fmt)
    if isinstance(v, When):
        return fmt.when(v.at, tz, lang, with_time=v.with_time)
    if isinstance(v, Person):
        return mention(v.user)
    if isinstance(v, People):
        return v.sep.join(mention(u) for u in v.users)
    if isinstance(v, Typed):  # escaped first: the cut then never splits an entity, and keeps a typed "&"
        return truncate(escape(v.text), v.limit)
    if isinstance(v, Link):
        link = fmt.link(v.channel, v.ts, fallback=v.fallback)
        if link is None:
            raise _Unknown
        return link
    if isinstance(v, Room):
        return fmt.room(v.channel, v.code)
    if isinstance(v, Label):
        return f"{v.mark} {t(lang, v.key)}" if v.mark else t(lang, v.key)
    return v
