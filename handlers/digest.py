"""Slack listeners for /digest: channel settings."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.services import Services
from bot.text import t
from handlers.directory import Directory
from handlers.replies import guarded

logger = logging.getLogger(__name__)

LANG_WORDS = {"en": "en", "english": "en", "英文": "en", "zh": "zh", "cn": "zh", "chinese": "zh", "中文": "zh",
              "auto": None, "default": None, "默认": None}


def register(app: App) -> None:
    """Wire this feature's listeners."""
    app.command("/digest")(guarded(handle_command))


def handle_command(ack: Ack, command: dict[str, Any], respond: Respond, services: Services,
                   directory: Directory) -> None:
    """`/digest lang zh|en|auto` sets the language of the bot's posts in this channel."""
    words = (command.get("text") or "").split()
    user, channel = command["user_id"], command["channel_id"]
    lang = directory.lang_of(user)
    if len(words) == 2 and words[0].lower() in ("lang", "language", "语言") and words[1].lower() in LANG_WORDS:
        ack()
        choice = LANG_WORDS[words[1].lower()]
        services.prefs.set_channel_lang(directory.team_id, channel, choice, now=services.now())
        effective = directory.channel_lang(channel)
        respond(text=t(lang, "reply.channel_lang", channel=f"<#{channel}>",
                       language=t(lang, f"lang.{effective}")), response_type="ephemeral")
        return
    ack(text=t(lang, "help.digest"))
