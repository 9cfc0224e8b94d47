"""Slash commands as tables: a word (or its Chinese alias) names a sub-command, a small named function.

A feature declares its table near the top of its module and registers the listener `command_listener`
builds from it, wrapped in `through_inbox` like any other:

    COMMANDS: Routes = {"": open_sheet, "help": show_help, "帮助": show_help, "list": list_sheets}
    handle_command = command_listener(COMMANDS, fallback=show_record, parse=whole_line)

Each sub-command acknowledges the request itself, because how it does (`ack(text=…)`, or `ack()` and then
`respond(…)` or `views_open`) is part of what it answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.messenger import CommandTyped
from bot.services import Services
from handlers.inbound import command_typed
from handlers.workspace.directory import Directory

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Invocation:
    """One slash command as a sub-command sees it: what Bolt injected, and the text split into verb and rest."""

    ack: Ack
    command: dict[str, Any]
    client: WebClient
    respond: Respond
    services: Services
    directory: Directory
    text: str  # the whole text, as the feature's `clean` left it
    verb: str  # the word the table was looked up with ("" when nothing was typed)
    rest: str  # what follows the verb

    @property
    def user(self) -> str:
        """Who ran the command."""
        return str(self.command["user_id"])

    @property
    def channel(self) -> str:
        """Where it was run."""
        return str(self.command["channel_id"])

    @property
    def team_id(self) -> str:
        """The workspace it was run in."""
        return str(self.command["team_id"])

    @property
    def trigger_id(self) -> str:
        """What opens a modal (for 3 seconds after the command was sent)."""
        return str(self.command["trigger_id"])

    @property
    def lang(self) -> str:
        """The language of the person who ran the command."""
        return self.directory.lang_of(self.user)

    @property
    def tz(self) -> str:
        """The timezone of the person who ran the command."""
        return self.directory.tz_of(self.user)

    @property
    def typed(self) -> CommandTyped:
        """The command as the core's event, as of now."""
        return command_typed(self.command, text=self.text, received_at=self.services.now())

    @property
    def words(self) -> list[str]:
        """The whole text split on whitespace."""
        return self.text.split()

    @property
    def args(self) -> list[str]:
        """What follows the verb, split on whitespace."""
        return self.rest.split()


SubCommand = Callable[[Invocation], None]
"""A sub-command: it acknowledges the request, then does its work."""
Routes = Mapping[str, SubCommand]
"""Words (as `parse` returns them) to sub-commands; "" is the command typed alone."""
Parse = Callable[[str], tuple[str, str]]
"""Splits a command's text into the word to look up and the rest."""


def split_verb(text: str) -> tuple[str, str]:
    """The first word, lower-cased, and what follows it (`/digest subscribe mon 9:00`)."""
    parts = text.split(None, 1)
    if not parts:
        return "", ""
    return parts[0].lower(), parts[1].strip() if len(parts) > 1 else ""


def whole_line(text: str) -> tuple[str, str]:
    """The whole text, lower-cased, is the word: `help` is a sub-command, `help me` is not."""
    return text.lower(), ""


def command_listener(
    routes: Routes,
    *,
    fallback: SubCommand,
    parse: Parse = split_verb,
    clean: Callable[[str], str] = str.strip,
    doc: str = "",
) -> Callable[..., None]:
    """A Bolt listener that parses a slash command and runs the sub-command its word names, else `fallback`."""

    # Bolt injects a listener's arguments by name: these six are the ones every sub-command may need.
    def handle_command(
        ack: Ack,
        command: dict[str, Any],
        client: WebClient,
        respond: Respond,
        services: Services,
        directory: Directory,
    ) -> None:
        text = clean(str(command.get("text") or ""))
        verb, rest = parse(text)
        run = routes.get(verb, fallback)
        run(Invocation(ack, command, client, respond, services, directory, text=text, verb=verb, rest=rest))

    handle_command.__doc__ = doc or command_listener.__doc__
    return handle_command
