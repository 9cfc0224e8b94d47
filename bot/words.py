"""The words that name a feature in a line typed to the bot, for every messenger whose commands are text (Feishu's
messages and menu; DingTalk's and WeCom's would be the same). Slack's slash commands are named in the manifest.

The first word is looked up with or without a slash, in English or Chinese: `/requirement`, `需求`, `行动项 …`.
"""

from __future__ import annotations

import re

# first word -> feature; a slash is optional, and Chinese words work as well as English ones
COMMANDS: dict[str, str] = {
    "requirement": "requirement",
    "需求": "requirement",
    "需求单": "requirement",
    "action": "action",
    "行动项": "action",
    "待办": "action",
    "incident": "incident",
    "事故": "incident",
    "故障": "incident",
    "meeting": "meeting",
    "会议": "meeting",
    "minutes": "minutes",
    "纪要": "minutes",
    "digest": "digest",
    "周报": "digest",
    "lang": "lang",
    "语言": "lang",
    "tz": "tz",
    "timezone": "tz",
    "时区": "tz",
    "settings": "settings",
    "设置": "settings",
    "home": "home",
    "我的": "home",
    "help": "help",
    "帮助": "help",
}
_FIRST_WORD = re.compile(r"^\s*/?(\S+?)(?:[\s:：]+|$)(.*)$", re.S)


def parse_command(text: str) -> tuple[str, str] | None:
    """(feature, the rest of the line) when the text starts with a command word, else None."""
    m = _FIRST_WORD.match(text)
    if not m:
        return None
    feature = COMMANDS.get(m.group(1).lower())
    return (feature, m.group(2).strip()) if feature else None
