"""The messenger seam: what the core needs from a messenger, and nothing more.

coordbot's services and storage know people, places and messages only as strings. A messenger adapter
(Slack's in `handlers/`, Feishu's in `handlers/feishu/`) turns what its platform delivers into the inbound
events below, stores them in the inbox, runs them against the services, and turns what the services answer
into the platform's own cards, messages and forms. Due work in the outbox is delivered by the adapter of the
platform its workspace is on.

The core never calls a messenger. It answers each event with a decision, and the adapter shows it: a record's
button (`bot.services.presses.Pressed`), a reaction (`bot.services.reactions.Reacted`), a one-line item
(`bot.services.quick_actions.QuickAdded`), due work (`bot.services.notices.Plan` of `bot.notices.Notice`s, texts
with typed values the adapter's formatter fills), a digest's lines (`bot.digest_lines`). So there is no outbound
interface to implement and no list of platform features for the core to consult: what differs between platforms
(forms as modals or as cards, a reply only one person sees or a direct message, dates each reader sees in their
own timezone or written in one) is how each adapter renders the same decision. What the core does ask of an
adapter is who people are (`People`).

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
    """The messengers coordbot serves today. Another adapter names its own (a lower-case word): the tables, the
    inbox and the outbox take any name, and only the composition root (`bot/app.py`) wires it in."""

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
