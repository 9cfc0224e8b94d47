"""Block Kit for a new install: the DM the installer gets, and the intro atop an App Home that has nothing on it yet."""

from __future__ import annotations

import re

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.text import t
from handlers.blocks.common import context, escape, mention, plain, section
from handlers.blocks.home import Ids as HomeIds

DOES = (
    "welcome.does.signoff",
    "welcome.does.meetings",
    "welcome.does.actions",
    "welcome.does.incidents",
    "welcome.does.digest",
)
"""What coordbot does, one line each."""
COMMANDS = (
    "welcome.cmd.requirement",
    "welcome.cmd.meeting",
    "welcome.cmd.action",
    "welcome.cmd.incident",
    "welcome.cmd.digest",
)
"""The five slash commands and what each is for, one line each."""
OPEN_HOME = HomeIds.OPEN  # a link button: Slack still reports the click, and the App Home's listener acks it
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


def _lines(lang: str, keys: tuple[str, ...]) -> str:
    return "\n".join(t(lang, key) for key in keys)


def welcome_dm(lang: str, *, installer: str, team_name: str, home_url: str) -> tuple[str, list[Block]]:
    """The installer's first DM: a greeting, what coordbot does, its commands and a link to its Home; with fallback."""
    who = mention(installer) if _USER_ID.fullmatch(installer) else escape(installer)
    team = escape(team_name)
    blocks: list[Block] = [
        section(t(lang, "welcome.greeting", installer=who, team=team)),
        section(_lines(lang, ("welcome.does.title", *DOES))),
        section(_lines(lang, ("welcome.commands.title", *COMMANDS))),
        section(t(lang, "welcome.next")),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=plain(t(lang, "welcome.open_home")), action_id=OPEN_HOME, url=home_url, style="primary"
                )
            ]
        ),
        context(t(lang, "welcome.only_you")),
    ]
    return t(lang, "welcome.fallback", team=team), blocks


def home_intro(lang: str) -> list[Block]:
    """What coordbot is and its five commands, for the top of an App Home that has nothing on it yet."""
    return [
        section(t(lang, "welcome.intro")),
        context(_lines(lang, COMMANDS)),
    ]
