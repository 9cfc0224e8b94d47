"""The same act on Slack and on Feishu is the same event for the core: a typed command, a record's button and a
reaction become equal `bot.messenger` events but for who, where and which workspace.

Slack's payloads are written as Slack sends them (slash command, block_actions, reaction_added); Feishu's are
built by the test driver as Feishu sends them, and read by each adapter's own translator (`handlers/inbound.py`,
`handlers/feishu/events.py`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from bot.messenger import ButtonPressed, CommandTyped, Inbound, ReactionChanged
from bot.services import presses
from handlers.feishu.cards import actions as action_cards
from handlers.feishu.cards import requirement as requirement_cards
from handlers.feishu.events import inbound
from handlers.inbound import button_pressed, command_typed, reaction_changed
from handlers.sandbox.feishu_driver import FeishuDriver
from tests.conftest import START

FEISHU = FeishuDriver("http://127.0.0.1:9", verification_token="t", encrypt_key="k", tenant_key="tenant_x")
SLACK_WS, FEISHU_WS = "T_ACME", "feishu:tenant_x"


def who_where(event: Inbound) -> dict[str, Any]:
    """An event's fields other than who did it, where, and in which workspace."""
    fields = dataclasses.asdict(event)
    for name in ("workspace", "user", "channel", "message", "mentions"):
        fields.pop(name, None)
    return fields


def feishu(envelope: dict[str, Any]) -> Inbound:
    event = inbound(envelope, received_at=START, bot_open_id=FEISHU.bot_open_id)
    assert event is not None
    return event


@pytest.mark.parametrize(
    ("slash", "feishu_text", "command"),
    [
        ("/action", "@_user_1 行动项 @_user_2 提交预算方案 下周五前", "action"),
        ("/requirement", "@_user_1 需求 @_user_2 提交预算方案 下周五前", "requirement"),
        ("/incident", "@_user_1 /incident @_user_2 提交预算方案 下周五前", "incident"),
        ("/digest", "@_user_1 周报：@_user_2 提交预算方案 下周五前", "digest"),
    ],
)
def test_a_command_typed_on_either_is_the_same_command(slash: str, feishu_text: str, command: str) -> None:
    text = "<@ou_bob> 提交预算方案 下周五前"
    payload = {"command": slash, "text": text, "user_id": "U_ALICE", "channel_id": "C_GENERAL", "team_id": SLACK_WS}
    on_slack = command_typed(payload, text=text, received_at=START)
    mentions = [FEISHU.bot_mention(), ("@_user_2", "ou_bob", "李雷")]
    on_feishu = feishu(FEISHU.message_event(feishu_text, user="ou_alice", chat="oc_general", mentions=mentions))
    assert isinstance(on_feishu, CommandTyped)
    assert (on_slack.workspace, on_slack.user, on_slack.channel) == (SLACK_WS, "U_ALICE", "C_GENERAL")
    assert (on_feishu.workspace, on_feishu.user, on_feishu.channel) == (FEISHU_WS, "ou_alice", "oc_general")
    assert who_where(on_slack) == who_where(on_feishu)
    assert on_slack.command == command and on_slack.text == text and not on_slack.direct


def test_a_command_in_a_direct_message_is_direct_on_both() -> None:
    payload = {"command": "/action", "text": "", "user_id": "U_ALICE", "channel_id": "D0123", "team_id": SLACK_WS}
    assert command_typed(payload, text="", received_at=START).direct
    on_feishu = feishu(FEISHU.message_event("行动项", user="ou_alice", chat="oc_dm", chat_type="p2p"))
    assert isinstance(on_feishu, CommandTyped) and on_feishu.direct


def block_action(value: str, *, channel: str = "C_GENERAL", ts: str = "1700000000.000100") -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": "U_ALICE", "team_id": SLACK_WS},
        "container": {"type": "message", "channel_id": channel, "message_ts": ts},
        "actions": [{"action_id": "anything", "block_id": "b", "type": "button", "value": value}],
    }


@pytest.mark.parametrize(
    ("slack_value", "feishu_value", "action", "detail"),
    [
        ("12", {"do": requirement_cards.DO_SIGN, "id": 12}, presses.SIGN, {}),
        ("12", {"do": action_cards.DO_DONE, "id": 12}, presses.DONE, {}),
        (
            "12:identified",
            {"do": presses.INCIDENT_STATUS, "id": 12, "status": "identified"},
            presses.INCIDENT_STATUS,
            {"status": "identified"},
        ),
    ],
)
def test_a_records_button_on_either_is_the_same_press(
    slack_value: str, feishu_value: dict[str, Any], action: str, detail: dict[str, str]
) -> None:
    on_slack = button_pressed(block_action(slack_value), workspace=SLACK_WS, action=action, received_at=START)
    on_feishu = feishu(
        FEISHU.card_action_event(user="ou_alice", chat="oc_general", message_id="om_1", value=feishu_value)
    )
    assert isinstance(on_feishu, ButtonPressed)
    assert (on_slack.channel, on_slack.message) == ("C_GENERAL", "1700000000.000100")
    assert (on_feishu.channel, on_feishu.message) == ("oc_general", "om_1")
    assert (on_slack.action, on_slack.record_id, dict(on_slack.detail)) == (action, 12, detail)
    assert on_feishu.action == action and on_feishu.record_id == 12
    assert {k: v for k, v in on_feishu.detail.items() if k in detail} == detail


@pytest.mark.parametrize("removed", [False, True])
def test_a_reaction_on_either_is_the_same_change(removed: bool) -> None:
    event = {
        "type": "reaction_removed" if removed else "reaction_added",
        "user": "U_ALICE",
        "reaction": "white_check_mark",
        "item": {"type": "message", "channel": "C_GENERAL", "ts": "1700000000.000100"},
    }
    on_slack = reaction_changed(event, workspace=SLACK_WS, received_at=START)
    on_feishu = feishu(FEISHU.reaction_event("DONE", user="ou_alice", message_id="om_1", removed=removed))
    assert isinstance(on_slack, ReactionChanged) and isinstance(on_feishu, ReactionChanged)
    assert (on_slack.added, on_feishu.added) == (not removed, not removed)
    assert (on_slack.message, on_feishu.message) == ("1700000000.000100", "om_1")


def test_a_reaction_on_a_file_is_nothing_for_the_core() -> None:
    event = {"type": "reaction_added", "user": "U_ALICE", "reaction": "+1", "item": {"type": "file", "file": "F1"}}
    assert reaction_changed(event, workspace=SLACK_WS, received_at=START) is None
