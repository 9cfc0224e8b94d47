"""Feishu's events, as delivered, turned into the core's inbound events (`bot.messenger`).

A message to the bot is a command when its first word names one (`/requirement`, `需求`, `/action`, `行动项`,
…); in a group the bot hears only messages that @mention it, and that mention is taken out first. The other
people @mentioned are written back into the text as `<@open_id>`, which is how the core reads a person named
in a line (`bot.people`).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from bot.messenger import (
    ButtonPressed,
    CommandTyped,
    FormSubmitted,
    HomeOpened,
    Inbound,
    Platform,
    ReactionChanged,
    workspace_key,
)
from bot.words import COMMANDS, parse_command

__all__ = ["COMMANDS", "inbound", "parse_command"]


def _text_of(message: dict[str, Any]) -> str:
    try:
        content = json.loads(message.get("content") or "{}")
    except ValueError:
        return ""
    return str(content.get("text") or "") if isinstance(content, dict) else ""


def _people_written(text: str, mentions: list[dict[str, Any]], bot_keys: set[str]) -> tuple[str, dict[str, str]]:
    """The text with the bot's mention removed and each other mention written as `<@open_id>`."""
    named: dict[str, str] = {}
    for mention in sorted(mentions, key=lambda m: -len(str(m.get("key") or ""))):
        key = str(mention.get("key") or "")
        open_id = str((mention.get("id") or {}).get("open_id") or "")
        if not key:
            continue
        if key in bot_keys or not open_id:
            text = text.replace(key, " ")
        else:
            named[str(mention.get("name") or key)] = open_id
            text = text.replace(key, f"<@{open_id}>")
    return re.sub(r"[ \t]+", " ", text).strip(), named


def inbound(envelope: dict[str, Any], *, received_at: datetime, bot_open_id: str = "") -> Inbound | None:
    """The core's event for one Feishu event, or None for one coordbot does nothing with."""
    header = envelope.get("header") or {}
    event = envelope.get("event") or {}
    event_type = str(header.get("event_type") or "")
    workspace = workspace_key(Platform.FEISHU, str(header.get("tenant_key") or ""))
    if event_type == "im.message.receive_v1":
        return _message(workspace, event, received_at, bot_open_id)
    if event_type.startswith("im.message.reaction."):
        user = str((event.get("user_id") or {}).get("open_id") or "")
        if event.get("operator_type") not in (None, "user") or not user:
            return None  # the bot's own reactions, or an app's
        return ReactionChanged(
            workspace=workspace,
            user=user,
            received_at=received_at,
            emoji=str((event.get("reaction_type") or {}).get("emoji_type") or ""),
            channel="",
            message=str(event.get("message_id") or ""),
            added=event_type.endswith("created_v1"),
        )
    if event_type == "card.action.trigger":
        return _card_action(event, received_at)
    if event_type == "application.bot.menu_v6":
        user = str(((event.get("operator") or {}).get("operator_id") or {}).get("open_id") or "")
        feature = COMMANDS.get(str(event.get("event_key") or "").lower())
        if not user or not feature:
            return None
        return CommandTyped(
            workspace=workspace, user=user, received_at=received_at, command=feature, text="", channel="", direct=True
        )
    if event_type == "im.chat.access_event.bot_p2p_chat_entered_v1":
        user = str((event.get("operator_id") or {}).get("open_id") or "")
        return HomeOpened(workspace=workspace, user=user, received_at=received_at) if user else None
    return None


def _message(workspace: str, event: dict[str, Any], received_at: datetime, bot_open_id: str) -> Inbound | None:
    sender = event.get("sender") or {}
    message = event.get("message") or {}
    user = str((sender.get("sender_id") or {}).get("open_id") or "")
    if sender.get("sender_type") != "user" or not user or message.get("message_type") != "text":
        return None
    direct = message.get("chat_type") == "p2p"
    mentions = list(message.get("mentions") or [])
    # in a group the bot hears only what @mentions it: that mention is the first, or the one with its open_id
    bot_keys = {
        str(m.get("key"))
        for m in mentions
        if (bot_open_id and (m.get("id") or {}).get("open_id") == bot_open_id)
        or (not bot_open_id and not direct and m is mentions[0])
    }
    text, named = _people_written(_text_of(message), mentions, bot_keys)
    parsed = parse_command(text)
    command, rest = parsed if parsed else ("help" if not text else "unknown", text)
    return CommandTyped(
        workspace=workspace,
        user=user,
        received_at=received_at,
        command=command,
        text=rest,
        channel=str(message.get("chat_id") or ""),
        direct=direct,
        mentions=named,
        reply_to=str(message.get("parent_id") or ""),
    )


def _card_action(event: dict[str, Any], received_at: datetime) -> Inbound | None:
    operator = event.get("operator") or {}
    action = event.get("action") or {}
    context = event.get("context") or {}
    workspace = workspace_key(Platform.FEISHU, str(operator.get("tenant_key") or ""))
    user = str(operator.get("open_id") or "")
    value = action.get("value") or {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = {}
    if not user or not isinstance(value, dict):
        return None
    channel = str(context.get("open_chat_id") or "")
    message = str(context.get("open_message_id") or "")
    if action.get("form_value") is not None or value.get("form"):
        return FormSubmitted(
            workspace=workspace,
            user=user,
            received_at=received_at,
            form=str(value.get("form") or ""),
            values=dict(action.get("form_value") or {}),
            channel=str(value.get("chat") or channel),
            message=message,
            context=value,
        )
    does = str(value.get("do") or "")
    try:
        record = int(value.get("id") or 0)
    except (TypeError, ValueError):
        return None
    if not does or not record:
        return None
    return ButtonPressed(
        workspace=workspace,
        user=user,
        received_at=received_at,
        action=does,
        record_id=record,
        channel=channel,
        message=message,
        detail=value,
    )
