"""Bad input: a clear answer, no server error, nothing changed, the process keeps serving."""

from __future__ import annotations

import json
from typing import Any

import pytest

from handlers.blocks import actions as action_blocks
from handlers.blocks import history as history_blocks
from handlers.blocks import home as home_blocks
from handlers.blocks import incident as incident_blocks
from handlers.blocks import meeting as meeting_blocks
from handlers.blocks import requirement as requirement_blocks
from handlers.sandbox.slack_api import ALICE, DAVE, GENERAL
from tests.conftest import Bot
from tests.helpers import (
    ACTION_VALUES,
    EARLIER,
    LEAKS,
    MEETING_VALUES,
    MINUTES_STATE,
    REQUIREMENT_STATE,
    SHEET_VALUES,
    TEAM,
    USER,
    action_item,
    api_calls,
    count,
    create_sheet,
    events,
    interactive,
    open_view,
    posted_meeting,
    snapshot,
    submission_payload,
    wait_until,
)

R, M, A, H, INC = (requirement_blocks.Ids, meeting_blocks.Ids, action_blocks.Ids, home_blocks.Ids, incident_blocks.Ids)
BIG = "长" * 50_000 + "x" * 50_000  # 100 KB of text, more in UTF-8


def said_to_people(bot: Bot, since: int) -> list[str]:
    """Every text the bot sent to Slack after the first `since` calls."""
    texts = []
    for call in bot.fake.calls()[since:]:
        for key in ("text", "blocks", "view"):
            if key in call.params:
                texts.append(json.dumps(call.params[key], ensure_ascii=False))
    return texts


@pytest.fixture
def populated(bot: Bot) -> Bot:
    """A bot with a sheet, a meeting whose minutes are owed and an action item to (not) change."""
    create_sheet(bot)
    posted_meeting(bot, start=EARLIER)
    action_item(bot)
    api_calls(bot)
    return bot


def form(**fields: str) -> tuple[str, str]:
    """A slash command body with these fields (others missing)."""
    from urllib.parse import urlencode

    return urlencode(fields), "application/x-www-form-urlencoded"


def _click(action_id: str, value: Any, **extra: Any) -> tuple[str, str]:
    return interactive(
        {
            "type": "block_actions",
            "user": USER,
            "team": {"id": TEAM},
            "trigger_id": "1.2.3",
            "actions": [
                {"action_id": action_id, "block_id": "b", "type": "button", "value": value, "action_ts": "1.2"}
            ],
            **extra,
        }
    )


def _submission(callback_id: str, values: Any, metadata: Any = "") -> tuple[str, str]:
    return interactive(submission_payload(callback_id, values, metadata))


def _event(event: Any, **extra: Any) -> tuple[str, str]:
    return events(
        {
            "type": "event_callback",
            "team_id": TEAM,
            "api_app_id": "A0001",
            "event_id": "EvFUZZ",
            "event_time": 1,
            "event": event,
            **extra,
        }
    )


MALFORMED: dict[str, tuple[str, str]] = {
    "command without a user": form(command="/requirement", text="list", channel_id=GENERAL, team_id=TEAM),
    "command without a channel": form(command="/meeting", text="MTG-2026-001", user_id=DAVE, team_id=TEAM),
    "command without a trigger": form(command="/action", text="", user_id=DAVE, channel_id=GENERAL, team_id=TEAM),
    "command for an unknown record": form(
        command="/requirement", text="RW-2026-999", user_id=DAVE, channel_id=GENERAL, team_id=TEAM, response_url=""
    ),
    "command with 100 KB": form(command="/action", text=BIG, user_id=DAVE, channel_id=GENERAL, team_id=TEAM),
    "command with control characters": form(
        command="/requirement", text="\x00\x1b[2J\u202e", user_id=DAVE, channel_id=GENERAL, team_id=TEAM
    ),
    "unknown command": form(command="/nope", text="x", user_id=DAVE, channel_id=GENERAL, team_id=TEAM),
    "no command at all": form(text="hello"),
    "payload not JSON": ("payload=%7B%22type%22%3A", "application/x-www-form-urlencoded"),
    "payload a list": interactive([1, 2]),
    "payload null": interactive(None),
    "payload a string": interactive("block_actions"),
    "actions missing": interactive({"type": "block_actions", "user": USER}),
    "actions not a list": interactive({"type": "block_actions", "user": USER, "actions": "x"}),
    "an empty action": interactive({"type": "block_actions", "user": USER, "actions": [{}]}),
    "user is a string": _click(R.CONFIRM, "1", user="U_DAVE"),
    "no user": interactive({"type": "block_actions", "actions": [{"action_id": R.CONFIRM, "value": "1"}]}),
    "value not a number": _click(R.CONFIRM, "one"),
    "value a list": _click(A.DONE, [1]),
    "value huge": _click(M.RECORD_MINUTES, "9" * 5000),
    "unknown sheet": _click(R.CONFIRM, "999999"),
    "unknown item": _click(A.DONE, "999999"),
    "unknown meeting": _click(M.EDIT, "-1"),
    "unknown question": _click(R.ANSWERED, "0"),
    "unknown incident": _click(INC.ACK, "424242"),
    "status of nothing": _click(f"{INC.STATUS}nonsense", "x:y"),
    "home page garbage": _click(H.MORE, "actions:99999999999999999999"),
    "history garbage": interactive(
        {
            "type": "block_actions",
            "user": USER,
            "actions": [
                {"action_id": history_blocks.ACTION_ID, "type": "overflow", "selected_option": "requirement:1"}
            ],
        }
    ),
    "language garbage": interactive(
        {
            "type": "block_actions",
            "user": USER,
            "view": {"private_metadata": "{"},
            "actions": [{"action_id": H.LANGUAGE, "selected_option": {"value": "xx"}}],
        }
    ),
    "view missing": interactive({"type": "view_submission", "user": USER}),
    "state missing": interactive(
        {"type": "view_submission", "user": USER, "view": {"id": "V1", "callback_id": R.MODAL}}
    ),
    "values a list": _submission(R.MODAL, []),
    "values of the wrong types": _submission(M.MODAL, {"start": {"value": {"value": 5}}, "title": [None]}),
    "sheet with nothing": _submission(R.MODAL, {}),
    "sheet with 100 KB": _submission(R.MODAL, {"description": {"value": {"type": "plain_text_input", "value": BIG}}}),
    "edit of an unknown sheet": _submission(R.MODAL, REQUIREMENT_STATE, metadata='{"c": "C_GENERAL", "r": 999}'),
    "edit with a wrong revision type": _submission(R.MODAL, REQUIREMENT_STATE, metadata='{"r": "1", "v": []}'),
    "metadata garbage": _submission(M.MINUTES_MODAL, {}, metadata="{not json"),
    "minutes of nobody's meeting": _submission(M.MINUTES_MODAL, MINUTES_STATE, metadata='{"m": "x"}'),
    "minutes of an unknown meeting": _submission(M.MINUTES_MODAL, MINUTES_STATE, metadata='{"m": 999}'),
    "changes to an unknown sheet": _submission(
        R.CHANGES_MODAL, {"reason": {"value": {"value": "x"}}}, metadata='{"r": 999}'
    ),
    "blocked reason for nothing": _submission(A.BLOCKED_MODAL, {"reason": {"value": {"value": "x"}}}, metadata="abc"),
    "incident with nothing": _submission(INC.MODAL, {"severity": {"value": {"selected_option": "SEV1"}}}),
    "resolution of nothing": _submission(INC.RESOLVE_MODAL, {}, metadata='{"i": 77}'),
    "unknown callback": _submission("nope", {}),
    "shortcut without a message": interactive(
        {"type": "message_action", "callback_id": A.SHORTCUT, "user": USER, "trigger_id": "1.2.3"}
    ),
    "event missing": events({"type": "event_callback", "event_id": "EvNONE"}),
    "event a string": _event("reaction_added"),
    "reaction without an item": _event({"type": "reaction_added", "user": DAVE, "reaction": "white_check_mark"}),
    "reaction with an odd item": _event(
        {
            "type": "reaction_added",
            "user": DAVE,
            "reaction": "white_check_mark",
            "item": {"type": "message", "channel": ["C"], "ts": {"x": 1}},
        }
    ),
    "reaction without a user": _event(
        {
            "type": "reaction_removed",
            "reaction": "white_check_mark",
            "item": {"type": "message", "channel": GENERAL, "ts": "1790000000.000100"},
        }
    ),
    "reaction 100 KB": _event(
        {
            "type": "reaction_added",
            "user": DAVE,
            "reaction": BIG,
            "item": {"type": "message", "channel": GENERAL, "ts": "1790000000.000100"},
        }
    ),
    "home without a user": _event({"type": "app_home_opened", "tab": "home"}),
    "unknown event": _event({"type": "channel_created", "channel": {}}),
    "JSON array": ("[]", "application/json"),
    "JSON scalar": ("7", "application/json"),
    "deep nesting": ("[" * 5000 + "]" * 5000, "application/json"),
}


def test_signed_malformed_requests_get_a_clear_answer_and_change_nothing(populated: Bot) -> None:
    bot = populated
    before, calls = snapshot(bot), len(bot.fake.calls())
    statuses = {}
    for name, (body, ctype) in MALFORMED.items():
        reply = bot.slack.post(body, ctype)
        statuses[name] = reply.status
        assert not LEAKS.search(reply.body), (name, reply.body)
    assert {n: s for n, s in statuses.items() if s >= 500} == {}
    api_calls(bot, settle=1.0)
    assert snapshot(bot) == before
    leaked = [text for text in said_to_people(bot, calls) if LEAKS.search(text)]
    assert leaked == []
    # still serving, and serving right
    assert bot.slack.slash("/requirement", "help", user=DAVE).status == 200
    assert bot.slack.slash("/requirement", "RW-2026-001", user=DAVE).status == 200
    shown = wait_until(
        lambda: [
            c for c in bot.fake.calls("response_url")[-1:] if "RW-2026-001" in json.dumps(c.params, ensure_ascii=False)
        ],
        what="the record shown",
    )
    assert shown


def test_100_kb_in_a_field_is_a_field_error_not_a_crash(bot: Bot) -> None:
    from storage.models import ActionItem, Meeting, Requirement

    for command, values, field in (
        ("/requirement", {**SHEET_VALUES, "description": BIG}, "description"),
        ("/meeting", {**MEETING_VALUES, "title": BIG}, "title"),
        ("/action", {**ACTION_VALUES, "what": BIG}, "what"),
    ):
        view = open_view(bot, lambda c=command: bot.slack.slash(c, "", user=ALICE))  # type: ignore[misc]
        reply = bot.slack.submit_view(values, view=view, enforce_required=False)
        assert reply.status == 200 and reply.acked_in_time, (command, reply.status)
        errors = (reply.json() or {}).get("errors") or {}
        assert field in errors and len(errors[field]) <= 150, (command, reply.body[:300])
    api_calls(bot)
    assert (count(bot, Requirement), count(bot, Meeting), count(bot, ActionItem)) == (0, 0, 0)


INJECTION = "<!channel> <!here|here> <@U_DAVE> <https://evil.example|click> *bold* \x00\x07\x1b[31m&amp;"


def test_mrkdwn_injection_and_control_characters_are_shown_as_typed_not_obeyed(bot: Bot) -> None:
    sheet = create_sheet(bot, background=INJECTION, goal=INJECTION, requester_dept="Ops <!channel>")
    bot.slack.slash("/action", f"@bob {INJECTION} by tomorrow 3pm", user=ALICE)
    card = wait_until(
        lambda: [
            c
            for c in bot.fake.calls("chat.postMessage")
            if c.params["channel"] == GENERAL and "ACT-" in str(c.params.get("text"))
        ],
        what="the action card",
    )[0]
    for shown in (json.dumps(sheet, ensure_ascii=False), json.dumps(card.params, ensure_ascii=False)):
        for obeyed in ("<!channel>", "<!here", "<@U_DAVE>", "<https://evil", "\\u0000", "\\u0007", "\\u001b"):
            assert obeyed not in shown, obeyed
        assert "&lt;!channel&gt;" in shown and "&amp;lt;" not in shown.replace("&amp;amp;", "")
