"""Slack's buttons on a record's message, handed to the core (`bot.services.presses`) as `ButtonPressed`.

Each feature keeps its listener (registered by its own action ID); the listener acknowledges, calls `press_on`
with the core's name for what the button does, and shows the record again when the answer says it changed.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.messenger import ButtonPressed
from bot.notices import Text, render
from bot.services import Services
from bot.services.presses import Pressed, press
from handlers.due.notices import SlackFormat
from handlers.inbound import button_pressed
from handlers.workspace.directory import Directory


def pressed(body: dict[str, Any], services: Services, directory: Directory, action: str) -> ButtonPressed:
    """The block action as the core's event, in this workspace, as of now."""
    return button_pressed(body, workspace=directory.team_id, action=action, received_at=services.now())


def press_on(
    body: dict[str, Any],
    client: WebClient,
    respond: Respond,
    services: Services,
    directory: Directory,
    action: str,
) -> Pressed:
    """Carry out the button; tell the presser (ephemerally) what the core has for them alone."""
    return carry_out(pressed(body, services, directory, action), client, respond, services, directory)


def carry_out(
    event: ButtonPressed, client: WebClient, respond: Respond, services: Services, directory: Directory
) -> Pressed:
    """Carry out a press (a button's, or a command that does the same); tell the presser what is theirs alone."""
    done = press(services, event, teams=directory.scope())
    if done.reply is not None:
        respond(
            text=said(done.reply, client, lang=directory.lang_of(event.user), tz=directory.tz_of(event.user)),
            response_type="ephemeral",
            replace_original=False,
        )
    return done


def said(text: Text, client: WebClient, *, lang: str, tz: str) -> str:
    """A core text in `lang` (a time in it as a date token, each reader's own; `tz` for its fallback)."""
    return render(text, lang, tz, SlackFormat(client)) or ""
