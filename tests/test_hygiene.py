"""Lone UTF-16 surrogates in what Slack delivers are replaced before anything stores or sends them."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt import BoltRequest

from handlers.sandbox.slack_api import ALICE
from handlers.serving.hygiene import REPLACEMENT, mend, mend_surrogates
from tests.conftest import Bot
from tests.helpers import SHEET_VALUES, open_modal, record, wait_until

HALF = "\ud83d"  # the first half of 😀, alone


def test_mend_replaces_lone_surrogates_everywhere_and_leaves_the_rest() -> None:
    body: dict[str, Any] = {
        "a": f"x{HALF}y",
        "list": [HALF, 3, None, {"deep": f"{HALF}{HALF}"}],
        f"key{HALF}": "v",
        "emoji": "😀",
        "n": 1.5,
        "ok": True,
    }
    assert mend(body) is body
    assert body == {
        "a": f"x{REPLACEMENT}y",
        "list": [REPLACEMENT, 3, None, {"deep": REPLACEMENT * 2}],
        f"key{REPLACEMENT}": "v",
        "emoji": "😀",
        "n": 1.5,
        "ok": True,
    }
    json.dumps(body, ensure_ascii=False).encode("utf-8")  # now storable and sendable


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps({"type": "event_callback", "event": {"text": f"cut {HALF}"}}),  # Events API: JSON
        urlencode({"payload": json.dumps({"type": "view_submission", "view": {"title": f"cut {HALF}"}})}),  # form
    ],
    ids=["json", "form"],
)
def test_the_middleware_finds_escaped_surrogates_in_either_body(raw: str) -> None:
    ctype = "application/json" if raw.startswith("{") else "application/x-www-form-urlencoded"
    request = BoltRequest(body=raw, headers={"content-type": [ctype]})
    assert HALF in json.dumps(request.body, ensure_ascii=False)
    called: list[bool] = []
    mend_surrogates(request, lambda: called.append(True))
    assert called and HALF not in json.dumps(request.body, ensure_ascii=False)
    assert REPLACEMENT in json.dumps(request.body, ensure_ascii=False)


@pytest.mark.parametrize(
    ("text", "lone"),
    [
        ("😀", False),
        ("下周五 🚀 ok", False),
        ("plain", False),
        ("\\ud83d as typed", True),  # a typed backslash looks like an escape: walked, finding nothing to mend
        (HALF, True),
        ("\ude00", True),
        (f"{HALF}😀", True),
        ("😀\ude00", True),
    ],
    ids=["pair", "cjk-and-pair", "plain", "backslash-text", "lone-high", "lone-low", "high-then-pair", "pair-then-low"],
)
def test_only_a_body_escaping_a_lone_half_is_walked(text: str, lone: bool) -> None:
    # a walk costs a modal submission about 0.15 ms; emoji arrive escaped as pairs and need none
    raw = json.dumps({"t": text})
    for body, ctype in ((raw, "application/json"), (urlencode({"payload": raw}), "application/x-www-form-urlencoded")):
        request = BoltRequest(body=body, headers={"content-type": [ctype]})
        walked: list[Any] = []
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("handlers.serving.hygiene.mend", walked.append)
            mend_surrogates(request, lambda: None)
        assert bool(walked) == lone, (text, ctype)


def test_a_socket_mode_body_is_mended_too() -> None:
    request = BoltRequest(body={"type": "event_callback", "event": {"text": HALF}}, mode="socket_mode")
    mend_surrogates(request, lambda: None)
    assert request.body["event"]["text"] == REPLACEMENT


@pytest.mark.both_modes
def test_half_an_emoji_in_a_sheet_is_stored_and_posted_as_a_replacement_character(bot: Bot) -> None:
    open_modal(bot)
    reply = bot.slack.submit_view({**SHEET_VALUES, "goal": f"launch {HALF} soon"}, user=ALICE)
    assert reply.status == 200 and reply.body == ""
    wait_until(lambda: bot.fake.calls("chat.postMessage"), what="the sheet posted")
    assert record(bot).goal == f"launch {REPLACEMENT} soon"
    posted = json.dumps(bot.fake.calls("chat.postMessage")[-1].params["blocks"], ensure_ascii=False)
    assert f"launch {REPLACEMENT} soon" in posted
