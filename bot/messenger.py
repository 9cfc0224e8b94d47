"""The messenger seam: what the core needs from a messenger, and nothing more.

coordbot's services and storage know people, places and messages only as strings. A messenger adapter
(Slack's in `handlers/`, Feishu's in `handlers/feishu/`) turns what its platform delivers into the inbound
events below, stores them in the inbox, runs them against the services, and turns what the services answer
into the platform's own cards, messages and forms. Due work in the outbox is delivered by the adapter of the
platform its workspace is on.

A workspace is one string everywhere in the tables (`team_id` columns): Slack's team ID as it is (`T…`,
`E…`), any other platform's tenant prefixed with the platform (`feishu:<tenant_key>`). The inbox and the
outbox also carry the platform in a column of its own, so that each platform's worker and sender take only
their own rows and an operator can see at a glance what is waiting for whom.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from storage.outbox import platform_of as _platform_of


class Platform(StrEnum):
    """The messengers coordbot serves."""

    SLACK = "slack"
    FEISHU = "feishu"


def workspace_key(platform: str, tenant: str) -> str:
    """The workspace string the tables keep: Slack's team ID as it is, any other platform's tenant prefixed."""
    return tenant if platform == Platform.SLACK else f"{platform}:{tenant}"


def platform_of(workspace: str) -> str:
    """The platform a workspace string belongs to (unprefixed strings are Slack's, as they always were)."""
    return _platform_of(workspace)


def tenant_of(workspace: str) -> str:
    """The platform's own tenant ID inside a workspace string."""
    return workspace.partition(":")[2] if platform_of(workspace) != Platform.SLACK else workspace


@dataclass(frozen=True)
class Capabilities:
    """What a platform can do, where the core or a shared text must choose between ways of showing things."""

    modals: bool  # forms open over the conversation (Slack), or are cards in it (Feishu)
    ephemeral: bool  # a message only one person in a channel sees
    reader_local_dates: bool  # a date token each reader sees in their own timezone
    home_tab: bool  # a per-person page in the app
    threads: bool  # replies under a message
    pins: bool  # pinned messages a bot can read
    user_timezones: bool  # the platform says each person's timezone
    user_locales: bool  # the platform says each person's language


SLACK_CAPABILITIES = Capabilities(
    modals=True,
    ephemeral=True,
    reader_local_dates=True,
    home_tab=True,
    threads=True,
    pins=True,
    user_timezones=True,
    user_locales=True,
)
FEISHU_CAPABILITIES = Capabilities(
    modals=False,
    ephemeral=False,
    reader_local_dates=False,
    home_tab=False,
    threads=True,
    pins=True,
    user_timezones=False,
    user_locales=False,
)


# -- inbound: what a person did, in every platform's words -------------------------------------------------


@dataclass(frozen=True)
class Inbound:
    """Something a person did in a workspace; `received_at` is when the platform delivered it."""

    workspace: str
    user: str
    received_at: datetime


@dataclass(frozen=True)
class CommandTyped(Inbound):
    """A command with its text: `/action …`, `需求`, a menu entry, a message to the bot."""

    command: str  # the feature: "requirement", "action", "incident", "meeting", "minutes", "digest", "help"
    text: str
    channel: str  # where it was typed (a DM's chat when typed to the bot alone)
    direct: bool = False  # typed to the bot alone
    mentions: Mapping[str, str] = field(default_factory=dict)  # how a person was written in the text -> their ID
    reply_to: str = ""  # the message it answers, when typed as a reply (an item made from that message)


@dataclass(frozen=True)
class FormSubmitted(Inbound):
    """A form filled in and sent: its name, the values by field, and where it came from."""

    form: str
    values: Mapping[str, Any]
    channel: str
    message: str = ""  # the message the form was shown in (Feishu: the card)
    context: Mapping[str, Any] = field(default_factory=dict)  # what the form carried when it was shown


@dataclass(frozen=True)
class ButtonPressed(Inbound):
    """A button on a record's message: what it does and on which record."""

    action: str  # what it does: sign a sheet, mark an item done, resolve an incident ...
    record_id: int
    channel: str
    message: str
    detail: Mapping[str, Any] = field(default_factory=dict)  # what else the button carried (a status to set)


@dataclass(frozen=True)
class ReactionChanged(Inbound):
    """An emoji put on (or taken off) a message."""

    emoji: str
    channel: str
    message: str
    added: bool


@dataclass(frozen=True)
class HomeOpened(Inbound):
    """A person opened the bot's own page, or its chat for the first time."""


# -- outbound: what the core asks a messenger to show ------------------------------------------------------


@dataclass(frozen=True)
class Posted:
    """Where a message went: the channel and the message's ID on its platform (Slack's ts, Feishu's om_…)."""

    channel: str
    message: str


@runtime_checkable
class People(Protocol):
    """A workspace's people as the core needs them: language, timezone, name, who may see what."""

    def lang_of(self, user: str, *, fetch: bool = False) -> str:
        """The person's language (en or zh)."""

    def tz_of(self, user: str, *, fetch: bool = False) -> str:
        """The person's IANA timezone."""

    def name_of(self, user: str) -> str:
        """The person's display name."""

    def can_see(self, user: str, channel: str) -> bool:
        """Whether the person may see what is in the channel."""


class Messenger(Protocol):
    """The outbound intents every adapter offers, in its own format (`content` is the adapter's card)."""

    capabilities: Capabilities

    def post_record(self, channel: str, content: Any, *, ref: str) -> Posted:
        """Post a record's message once (`ref` names the record: a retry finds the first post)."""

    def update_record(self, where: Posted, content: Any) -> None:
        """Show a record's new state in place."""

    def direct(self, user: str, text: str, *, ref: str | None = None) -> Posted:
        """A message to one person alone."""

    def say(self, channel: str, text: str, *, thread: str | None = None, ref: str | None = None) -> Posted:
        """A message in a channel (under `thread` where the platform has threads)."""
