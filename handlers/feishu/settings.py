"""Settings on Feishu: a person's language and timezone (Feishu gives a bot neither), by command (`语言 中文`,
`时区 Asia/Tokyo`) or in the settings card (`设置`); and a group's language (`语言 本群 中文`, `语言 本群 自动`)."""

from __future__ import annotations

from typing import Any

from bot.markup import mention
from bot.messenger import CommandTyped, FormSubmitted
from bot.services.prefs import valid_zone
from bot.text import LANGS, t
from handlers.feishu.cards.check import validate_card
from handlers.feishu.cards.common import card, form, form_text, markdown, select
from handlers.feishu.turn import Turn

FORM_KIND = "settings"
LANG_WORDS = {"中文": "zh", "zh": "zh", "chinese": "zh", "英文": "en", "english": "en", "en": "en"}
AUTO_WORDS = ("自动", "默认", "auto", "default")  # a group's language unset: each reader's own Feishu language
GROUP_WORDS = ("本群", "群", "group", "chat")
# the zones a team is most likely in, offered in the card; any other is typed: 时区 America/Sao_Paulo
ZONES = (
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Asia/Dubai",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Australia/Sydney",
    "UTC",
)


def settings_card(lang: str, *, tz: str) -> dict[str, Any]:
    """The person's settings as a form: language and timezone, each showing the current choice."""
    zones = list(dict.fromkeys([tz, *ZONES]))
    shown = card(
        t(lang, "feishu.settings.title"),
        [
            markdown(t(lang, "feishu.settings.intro")),
            form(
                "settings_form",
                [
                    select("lang", t(lang, "feishu.settings.lang"), [("zh", "中文"), ("en", "English")], default=lang),
                    select("tz", t(lang, "feishu.settings.tz"), [(z, z) for z in zones], default=tz),
                ],
                t(lang, "feishu.settings.save"),
                {"form": FORM_KIND},
            ),
        ],
        template="grey",
    )
    validate_card(shown)
    return shown


def on_command(turn: Turn, cmd: CommandTyped) -> None:
    """`设置`: the settings card; `语言 中文` / `/lang en`; `时区 Asia/Tokyo` / `/tz …` (alone: what it is now)."""
    prefs, typed = turn.services.prefs, cmd.text.strip()
    if cmd.command == "settings":
        turn.show(settings_card(turn.lang, tz=turn.tz), purpose="settings")
    elif cmd.command == "lang" and typed.split(" ", 1)[0].lower() in GROUP_WORDS:
        set_group_lang(turn, cmd, typed.partition(" ")[2].strip().lower())
    elif cmd.command == "lang":
        lang = LANG_WORDS.get(typed.lower())
        if lang not in LANGS:
            turn.tell("feishu.lang_usage")
            return
        prefs.set_user_lang(turn.workspace, turn.user, lang, now=turn.now)
        turn.tell("feishu.lang_set")
    elif not typed:
        turn.tell("feishu.tz_usage", tz=turn.tz)
    else:
        prefs.set_user_tz(turn.workspace, turn.user, typed, now=turn.now)  # an unknown zone is told, not stored
        turn.tell("feishu.tz_set", tz=typed)


def set_group_lang(turn: Turn, cmd: CommandTyped, word: str) -> None:
    """`语言 本群 中文` in a group: the group's cards in that language alone; `自动` unsets it (each reader sees
    their own Feishu language). Said in the group, as anyone in it may change it."""
    lang = None if word in AUTO_WORDS else LANG_WORDS.get(word)
    if cmd.direct or not cmd.channel or (lang is None and word not in AUTO_WORDS):
        turn.tell("feishu.lang_usage")
        return
    turn.services.prefs.set_channel_lang(turn.workspace, cmd.channel, lang, now=turn.now)
    said = lang or turn.lang
    if lang is None:
        text = t(said, "feishu.group_lang_auto", user=mention(turn.user))
    else:
        text = t(said, "feishu.group_lang_set", user=mention(turn.user), language=t(said, f"lang.{lang}"))
    turn.say(cmd.channel, text, purpose="group-lang")


def on_form(turn: Turn, submitted: FormSubmitted) -> None:
    """The settings card came back: store both choices, and confirm in the new language."""
    prefs, values = turn.services.prefs, dict(submitted.values)
    lang, tz = form_text(values, "lang"), form_text(values, "tz")
    if lang in LANGS:
        prefs.set_user_lang(turn.workspace, turn.user, lang, now=turn.now)
    if tz and valid_zone(tz):
        prefs.set_user_tz(turn.workspace, turn.user, tz, now=turn.now)
    turn.tell("feishu.settings.saved", tz=turn.tz)
