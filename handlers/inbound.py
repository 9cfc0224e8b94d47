"""Slack's payloads as the core's events (`bot.messenger`): the twin of `handlers/feishu/events.py`.

A slash command is a `CommandTyped`, a button on a record's message a `ButtonPressed`, a reaction a
`ReactionChanged`: the same events Feishu's messages, card actions and reactions become, handed to the same core
functions (`bot.services.quick_actions`, `bot.services.presses`, `bot.services.reactions`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.messenger import ButtonPressed, CommandTyped, ReactionChanged
from bot.words import COMMANDS


def command_typed(command: dict[str, Any], *, text: str, received_at: datetime) -> CommandTyped:
    """A slash command (`/action …`) with its text as the feature's listener cleaned it."""
    name = str(command.get("command") or "").lstrip("/").lower()
    channel = str(command.get("channel_id") or "")
    return CommandTyped(
        workspace=str(command.get("team_id") or ""),
        user=str(command.get("user_id") or ""),
        received_at=received_at,
        command=COMMANDS.get(name, name),
        text=text,
        channel=channel,
        direct=channel.startswith("D"),  # typed in a direct message with the bot
    )


def button_pressed(body: dict[str, Any], *, workspace: str, action: str, received_at: datetime) -> ButtonPressed:
    """A block action as the core reads it: `action` is the core's name for what the button does (Slack's action
    IDs are each feature's), the record from the button's value (`<id>` or `<id>:<status>`), the message it was
    on from the container."""
    raw_id, _, status = str(body["actions"][0]["value"]).partition(":")
    container = body.get("container") or {}
    return ButtonPressed(
        workspace=workspace,
        user=str(body["user"]["id"]),
        received_at=received_at,
        action=action,
        record_id=int(raw_id),
        channel=str(container.get("channel_id") or (body.get("channel") or {}).get("id") or ""),
        message=str(container.get("message_ts") or (body.get("message") or {}).get("ts") or ""),
        detail={"status": status} if status else {},
    )


def reaction_changed(event: dict[str, Any], *, workspace: str, received_at: datetime) -> ReactionChanged | None:
    """`reaction_added` / `reaction_removed` on a message; None for a reaction on anything else (a file)."""
    item = event.get("item") or {}
    if item.get("type") != "message" or not item.get("channel") or not item.get("ts"):
        return None
    return ReactionChanged(
        workspace=workspace,
        user=str(event.get("user") or ""),
        received_at=received_at,
        emoji=str(event.get("reaction") or ""),
        channel=str(item["channel"]),
        message=str(item["ts"]),
        added=event.get("type") != "reaction_removed",
    )
