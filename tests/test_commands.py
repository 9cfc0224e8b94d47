"""Slash commands as tables (handlers.commands), and each feature's table answering `help` in both languages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from slack_bolt.util.utils import get_arg_names_of_callable

from bot.services import Services
from bot.services.actions import quick_problem_key
from bot.text import t
from handlers import actions, digest, incident, meeting, requirement
from handlers.commands import Invocation, SubCommand, command_listener, split_verb, whole_line
from handlers.sandbox.slack_api import CAROL, DAVE
from handlers.serving.replies import through_inbox
from handlers.workspace.directory import Directory
from tests.conftest import Bot

# -- handlers.commands ------------------------------------------------------------------------------------------


@dataclass
class People:
    """The two questions an Invocation asks of the directory, answered from a dict."""

    langs: dict[str, str] = field(default_factory=dict)

    def lang_of(self, user_id: str) -> str:
        return self.langs.get(user_id, "en")

    def tz_of(self, user_id: str) -> str:
        return "Asia/Shanghai" if self.langs.get(user_id) == "zh" else "UTC"


@dataclass
class Recorder:
    """Sub-commands that note which of them ran and with what."""

    ran: list[tuple[str, Invocation]] = field(default_factory=list)

    def __call__(self, name: str) -> SubCommand:
        def sub_command(cmd: Invocation) -> None:
            self.ran.append((name, cmd))

        return sub_command

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.ran]

    @property
    def last(self) -> Invocation:
        return self.ran[-1][1]


def slash(listener: Any, text: str | None, *, user: str = "U_ONE", directory: People | None = None) -> None:
    """Call a listener the way Bolt does, with stand-ins for what it injects."""
    command: dict[str, Any] = {
        "user_id": user,
        "channel_id": "C_HERE",
        "team_id": "T_TEAM",
        "trigger_id": "trigger-1",
        "command": "/thing",
    }
    if text is not None:
        command["text"] = text
    listener(
        ack=lambda *a, **k: None,
        command=command,
        client=None,
        respond=lambda *a, **k: None,
        services=cast(Services, None),
        directory=cast(Directory, directory or People()),
    )


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


@pytest.fixture
def listener(rec: Recorder) -> Any:
    """A /thing command: alone it opens, `list`/`列表` lists, `help`/`帮助` explains, anything else is the fallback."""
    routes = {
        "": rec("open"),
        "list": rec("list"),
        "列表": rec("list"),
        "help": rec("help"),
        "帮助": rec("help"),
    }
    return command_listener(routes, fallback=rec("fallback"))


def test_a_word_routes_to_its_sub_command_with_the_rest(rec: Recorder, listener: Any) -> None:
    slash(listener, "list mine   today")
    assert rec.names == ["list"]
    assert (rec.last.verb, rec.last.rest, rec.last.args) == ("list", "mine   today", ["mine", "today"])


def test_a_chinese_alias_routes_to_the_same_sub_command(rec: Recorder, listener: Any) -> None:
    slash(listener, "列表")
    slash(listener, "帮助 一下")
    assert rec.names == ["list", "help"]
    assert (rec.last.verb, rec.last.rest) == ("帮助", "一下")


def test_words_match_whatever_their_case(rec: Recorder, listener: Any) -> None:
    slash(listener, "LIST")
    slash(listener, "Help")
    assert rec.names == ["list", "help"]


def test_unknown_text_reaches_the_fallback_whole(rec: Recorder, listener: Any) -> None:
    slash(listener, "  @bob write the post by Friday ")
    assert rec.names == ["fallback"]
    assert rec.last.text == "@bob write the post by Friday"
    assert (rec.last.verb, rec.last.rest) == ("@bob", "write the post by Friday")


@pytest.mark.parametrize("text", [None, "", "   ", "\n"])
def test_the_command_alone_routes_to_the_empty_word(rec: Recorder, listener: Any, text: str | None) -> None:
    slash(listener, text)
    assert rec.names == ["open"]
    assert (rec.last.text, rec.last.verb, rec.last.rest, rec.last.words) == ("", "", "", [])


def test_without_an_entry_for_the_empty_word_the_command_alone_is_the_fallback(rec: Recorder) -> None:
    slash(command_listener({"now": rec("now")}, fallback=rec("help")), "")
    assert rec.names == ["help"]


def test_split_verb_takes_the_first_word_lower_cased_and_the_rest() -> None:
    assert split_verb("Subscribe  Mon 09:00 ") == ("subscribe", "Mon 09:00")
    assert split_verb("now\nplease") == ("now", "please")  # any whitespace separates, as str.split does
    assert split_verb("MTG-2026-001") == ("mtg-2026-001", "")
    assert split_verb("") == ("", "")


def test_whole_line_makes_the_whole_text_the_word() -> None:
    assert whole_line("Help") == ("help", "")
    assert whole_line("help me please") == ("help me please", "")


def test_whole_line_routes_a_word_only_when_it_is_alone(rec: Recorder) -> None:
    run = command_listener({"help": rec("help")}, fallback=rec("quick"), parse=whole_line)
    slash(run, "help")
    slash(run, "help Bob with the slides by Friday")
    assert rec.names == ["help", "quick"]
    assert rec.last.text == "help Bob with the slides by Friday"


def test_a_features_own_parse_and_clean_decide_the_word(rec: Recorder) -> None:
    def parse(text: str) -> tuple[str, str]:
        head, _, rest = text.partition(" ")
        return {"进展": "update"}.get(head, "declare"), rest if head == "进展" else text

    run = command_listener(
        {"update": rec("update"), "declare": rec("declare")},
        fallback=rec("fallback"),
        parse=parse,
        clean=lambda text: text.replace("&amp;", "&"),
    )
    slash(run, "进展 DB failover done &amp; verified")
    slash(run, "Checkout &amp; payments down")
    assert rec.names == ["update", "declare"]
    assert rec.ran[0][1].rest == "DB failover done & verified"
    assert (rec.last.verb, rec.last.rest, rec.last.text) == (
        "declare",
        "Checkout & payments down",
        "Checkout & payments down",
    )


def test_an_invocation_knows_who_where_and_in_which_language(rec: Recorder, listener: Any) -> None:
    slash(listener, "list", user="U_ZH", directory=People({"U_ZH": "zh"}))
    cmd = rec.last
    assert (cmd.user, cmd.channel, cmd.team_id, cmd.trigger_id) == ("U_ZH", "C_HERE", "T_TEAM", "trigger-1")
    assert (cmd.lang, cmd.tz) == ("zh", "Asia/Shanghai")
    slash(listener, "list", user="U_EN")
    assert (rec.last.lang, rec.last.tz) == ("en", "UTC")


def test_the_listener_asks_bolt_for_what_it_injects_by_name(listener: Any) -> None:
    expected = ["ack", "command", "client", "respond", "services", "directory"]
    assert get_arg_names_of_callable(listener) == expected
    assert through_inbox(listener).__name__ == "handle_command"
    for feature in (requirement, meeting, digest, actions, incident):
        assert get_arg_names_of_callable(feature.handle_command) == expected, feature.__name__
        assert feature.handle_command.__doc__, feature.__name__


def test_a_sub_command_runs_once_with_every_injected_value(rec: Recorder, listener: Any) -> None:
    acks: list[Any] = []
    people = People()
    listener(
        ack=lambda *a, **k: acks.append((a, k)),
        command={"user_id": "U", "channel_id": "C", "team_id": "T", "trigger_id": "x", "text": "help"},
        client="client",
        respond="respond",
        services="services",
        directory=people,
    )
    cmd = rec.last
    assert len(rec.ran) == 1
    assert (cmd.client, cmd.respond, cmd.services, cmd.directory) == ("client", "respond", "services", people)
    cmd.ack(text="hi")
    assert acks == [((), {"text": "hi"})]


# -- each feature's table -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "aliases"),
    [
        (requirement, {"帮助": "help", "?": "help", "列表": "list"}),
        (meeting, {"帮助": "help", "?": "help", "纪要": "minutes"}),
        (
            digest,
            {"帮助": "help", "?": "help", "语言": "lang", "订阅": "subscribe", "退订": "unsubscribe", "立即": "now"},
        ),
        (actions, {"帮助": "help", "?": "help"}),
    ],
)
def test_chinese_words_name_the_same_sub_commands_as_english_ones(module: Any, aliases: dict[str, str]) -> None:
    for alias, word in aliases.items():
        assert module.COMMANDS[alias] is module.COMMANDS[word], alias


def test_incident_words_in_either_language_reach_one_sub_command() -> None:
    for typed, verb in (("帮助", "help"), ("状态 resolved", "status"), ("进展 x", "update"), ("移交 @a", "lead")):
        word, _ = incident.parse(typed)
        assert word == verb
        assert incident.COMMANDS[word] is incident.COMMANDS[verb]
    assert incident.parse("Checkout is down") == ("declare", "Checkout is down")
    assert incident.COMMANDS["declare"] is incident.open_declaration


def _help_text(bot: Bot, command: str, lang: str) -> str:
    key = {
        "/requirement": "help.requirement",
        "/meeting": "meeting.help",
        "/action": "action.help",
        "/incident": "incident.help",
    }.get(command)
    if key:
        return t(lang, key)
    return t(lang, "digest.help", tz=bot.runtime.services.settings.tz, lang_help=t(lang, "help.digest"))


@pytest.mark.parametrize("command", ["/requirement", "/meeting", "/digest", "/action", "/incident"])
def test_help_is_the_acknowledgment_in_english_and_chinese(bot: Bot, command: str) -> None:
    for word, user, lang in (("help", CAROL, "en"), ("帮助", DAVE, "zh"), ("?", CAROL, "en")):
        reply = bot.slack.slash(command, word, user=user)
        assert reply.status == 200, reply.body
        assert reply.body == _help_text(bot, command, lang), (command, word)
    assert _help_text(bot, command, "zh") != _help_text(bot, command, "en")  # the two answers tell the languages apart
    # nothing else was said and no form opened: the answer was the acknowledgment itself
    assert bot.fake.calls("response_url") == [] and bot.fake.calls("views.open") == []


def test_a_one_line_action_that_names_nobody_says_who_is_missing() -> None:
    assert quick_problem_key("no_owner") == "action.quick_no_owner"
    assert quick_problem_key("unknown_person") == quick_problem_key("ambiguous_person") == "action.quick_no_owner"
    assert quick_problem_key("no_due") == quick_problem_key(None) == "action.quick_unparsed"
