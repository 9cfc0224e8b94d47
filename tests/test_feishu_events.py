"""Feishu's events read into the core's inbound events, and the workspace strings of the seam."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import col

from bot.app import Runtime
from bot.messenger import (
    ButtonPressed,
    CommandTyped,
    FormSubmitted,
    Platform,
    ReactionChanged,
    platform_of,
    tenant_of,
    workspace_key,
)
from bot.services.actions import ActionDraft
from handlers.feishu.events import inbound, parse_command
from handlers.sandbox.feishu_driver import FeishuDriver
from handlers.sandbox.slack_api import FakeSlack
from storage.models import OutboxItem
from tests.conftest import START

WHEN = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
DRIVER = FeishuDriver("http://127.0.0.1:9", verification_token="v", encrypt_key="k")


@pytest.mark.parametrize(
    ("platform", "tenant", "key"),
    [("slack", "T0123ABCD", "T0123ABCD"), ("feishu", "736588c9260f175d", "feishu:736588c9260f175d")],
)
def test_workspace_strings_carry_their_platform(platform: str, tenant: str, key: str) -> None:
    assert workspace_key(platform, tenant) == key
    assert platform_of(key) == platform and tenant_of(key) == tenant
    assert platform_of("E0GRID:T1") == Platform.SLACK  # Slack's IDs are upper case: a Grid's key is Slack's
    # another messenger's adapter needs nothing new in the core to keep its workspaces apart
    assert workspace_key("dingtalk", "ding_corp") == "dingtalk:ding_corp"
    assert (platform_of("dingtalk:ding_corp"), tenant_of("dingtalk:ding_corp")) == ("dingtalk", "ding_corp")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("需求", ("requirement", "")),
        ("/requirement list", ("requirement", "list")),
        ("行动项 <@ou_b> 提交预算方案 下周五前", ("action", "<@ou_b> 提交预算方案 下周五前")),
        ("事故：SEV2 支付超时", ("incident", "SEV2 支付超时")),
        ("Digest", ("digest", "")),
        ("hello there", None),
    ],
)
def test_the_first_word_names_the_command(text: str, expected: tuple[str, str] | None) -> None:
    assert parse_command(text) == expected


def test_a_group_message_loses_the_bots_mention_and_names_people_by_open_id() -> None:
    envelope = DRIVER.message_event(
        "@_user_1 行动项 @_user_2 提交预算方案 下周五前",
        user="ou_alice",
        chat="oc_team",
        mentions=[DRIVER.bot_mention(), ("@_user_2", "ou_bob", "李雷")],
    )
    event = inbound(envelope, received_at=WHEN)
    assert isinstance(event, CommandTyped)
    assert (event.command, event.text, event.channel, event.direct) == (
        "action",
        "<@ou_bob> 提交预算方案 下周五前",
        "oc_team",
        False,
    )
    assert event.workspace == "feishu:tenant_test" and event.mentions == {"李雷": "ou_bob"}


def test_cards_and_reactions() -> None:
    form = inbound(
        DRIVER.card_action_event(
            user="ou_alice",
            chat="oc_dm",
            message_id="om_1",
            value={"form": "action", "chat": "oc_team"},
            form_value={"what": "x"},
        ),
        received_at=WHEN,
    )
    assert isinstance(form, FormSubmitted) and (form.form, form.channel, dict(form.values)) == (
        "action",
        "oc_team",
        {"what": "x"},
    )
    button = inbound(
        DRIVER.card_action_event(user="ou_bob", chat="oc_team", message_id="om_2", value={"do": "x.y", "id": 7}),
        received_at=WHEN,
    )
    assert isinstance(button, ButtonPressed) and (button.action, button.record_id, button.message) == ("x.y", 7, "om_2")
    reaction = inbound(DRIVER.reaction_event("DONE", user="ou_bob", message_id="om_2"), received_at=WHEN)
    assert isinstance(reaction, ReactionChanged) and reaction.added and reaction.emoji == "DONE"
    # a button that names no record does nothing
    assert (
        inbound(DRIVER.card_action_event(user="ou_b", chat="c", message_id="m", value={"do": "x"}), received_at=WHEN)
        is None
    )


def test_both_adapters_answer_the_seams_questions_about_people(runtime: object) -> None:
    """Slack's member directory and Feishu's people both give the core what `bot.messenger.People` names."""
    from bot.messenger import People
    from handlers.feishu.api import FeishuApi
    from handlers.feishu.people import FeishuPeople

    slack = runtime.directory  # type: ignore[attr-defined]
    api = FeishuApi(app_id="cli_x", app_secret="s", domain="http://127.0.0.1:9")
    feishu = FeishuPeople(
        api,
        workspace="feishu:t",
        prefs=runtime.services.prefs,
        default_tz="Asia/Shanghai",
        default_lang="zh",  # type: ignore[attr-defined]
    )
    assert isinstance(slack, People) and isinstance(feishu, People)
    assert slack.name_of("U_BOB") == "bob" and slack.name_of("U_NOBODY") == "U_NOBODY"
    assert (feishu.tz_of("ou_x"), feishu.lang_of("ou_x")) == ("Asia/Shanghai", "zh")


def test_due_work_of_a_messenger_this_deployment_does_not_serve_is_held_not_sent_elsewhere(
    runtime: Runtime, fake: FakeSlack
) -> None:
    """A workspace of another messenger (`dingtalk:…`) keeps its rows apart: a deployment serving Slack alone holds
    them until that messenger is wired in, and never sends them through Slack."""
    draft = ActionDraft(title="Send the budget", owner_id="ding_bob", due=START + timedelta(days=1))
    runtime.services.actions.create_many(
        team_id="dingtalk:ding_corp", creator_id="ding_alice", drafts=[draft], now=START, channel_id="ding_chat"
    )
    runtime.tick(START + timedelta(days=3))
    with runtime.services.session_scope() as s:
        rows = s.scalars(select(OutboxItem).where(col(OutboxItem.team_id) == "dingtalk:ding_corp")).all()
        assert rows and {(r.platform, r.state) for r in rows} == {("dingtalk", "held")}
    assert not [c for c in fake.calls("chat.postMessage") if "ding" in str(c.get("channel"))]
