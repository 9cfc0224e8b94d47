"""Fuzz: signed requests of every kind, garbled at random, never get a server error nor change anything."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.blocks import requirement as requirement_blocks
from handlers.sandbox.slack_api import DAVE, GENERAL
from tests.conftest import Bot
from tests.helpers import (
    LEAKS,
    REQUIREMENT_STATE,
    TEAM,
    api_calls,
    click_payload,
    create_sheet,
    events,
    interactive,
    snapshot,
    submission_payload,
)

R = requirement_blocks.Ids
FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
junk = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=40)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


def garble(data: st.DataObject, valid: dict[str, Any]) -> Any:
    """A valid payload with a few parts removed, retyped or replaced by junk."""
    body: Any = json.loads(json.dumps(valid))
    for _ in range(data.draw(st.integers(1, 4))):
        paths = _paths(body)
        path = data.draw(st.sampled_from(paths))
        replacement = data.draw(st.one_of(st.just("<delete>"), junk, st.text(max_size=200)))
        if not path:
            body = replacement
            break
        parent = body
        for step in path[:-1]:
            parent = parent[step]
        if replacement == "<delete>":
            del parent[path[-1]]
        else:
            parent[path[-1]] = replacement
    return body


def _valid_requests(bot: Bot) -> dict[str, tuple[Callable[[Any], tuple[str, str]], dict[str, Any]]]:
    """One request of each kind that would change nothing even if it arrived intact (Dave owns nothing)."""
    sheet = create_sheet(bot)
    command = {
        "command": "/requirement",
        "text": "RW-2026-999",
        "user_id": DAVE,
        "channel_id": GENERAL,
        "team_id": TEAM,
        "trigger_id": "1.2.3",
        "response_url": bot.fake.new_response_url(channel=GENERAL),
    }
    click = click_payload(bot, sheet, requirement_blocks.Ids.CONFIRM, user=DAVE)
    submission = submission_payload(
        R.MODAL, {**REQUIREMENT_STATE, "due": {"value": {"type": "plain_text_input", "value": "whenever"}}}
    )
    reaction = {
        "type": "event_callback",
        "team_id": TEAM,
        "api_app_id": "A0001",
        "event_id": "EvFUZZ0",
        "event_time": 1,
        "event": {
            "type": "reaction_added",
            "user": DAVE,
            "reaction": "thumbsup",
            "item": {"type": "message", "channel": GENERAL, "ts": sheet["ts"]},
        },
    }

    def as_form(fields: Any) -> tuple[str, str]:
        from urllib.parse import urlencode

        if isinstance(fields, dict):
            return urlencode(
                {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}
            ), "application/x-www-form-urlencoded"
        return urlencode({"command": json.dumps(fields)}), "application/x-www-form-urlencoded"

    return {
        "slash command": (as_form, command),
        "button": (interactive, click),
        "view submission": (interactive, submission),
        "event": (events, reaction),
    }


@pytest.mark.parametrize("kind", ["slash command", "button", "view submission", "event"])
def test_garbled_requests_never_get_a_server_error_nor_change_anything(bot: Bot, kind: str) -> None:
    encode, valid = _valid_requests(bot)[kind]
    api_calls(bot)
    before = snapshot(bot)
    statuses: list[int] = []

    @FUZZ
    @given(data=st.data())
    def send(data: st.DataObject) -> None:
        body, ctype = encode(garble(data, valid))
        if data.draw(st.booleans()):  # and sometimes cut or spliced at the byte level
            cut = data.draw(st.integers(0, len(body)))
            body = body[:cut] + data.draw(st.text(max_size=20)) + body[cut + data.draw(st.integers(0, 20)) :]
        reply = bot.slack.post(body, ctype)
        statuses.append(reply.status)
        assert reply.status < 500, (reply.status, body[:500])
        assert not LEAKS.search(reply.body), reply.body

    send()
    api_calls(bot, settle=0.5)
    assert snapshot(bot) == before
    assert bot.slack.slash("/requirement", "help", user=DAVE).status == 200
    assert len(statuses) >= 40
