"""Each reader in their own language: Slack locale, a personal choice in the App Home, a channel setting."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot import text
from bot.app import Runtime
from bot.services.requirements import HistoryItem, QuestionInfo, RequirementInfo, Role, SignatureInfo, Status
from handlers.blocks import home as home_blocks
from handlers.blocks import requirement as b
from handlers.blocks.requirement import Ids
from handlers.sandbox.slack_api import CAROL, DAVE
from tests.conftest import Bot
from tests.helpers import USER_TEXT, block_text, create_sheet, leftovers, strings, wait_until


def test_app_home_follows_the_slack_locale_and_a_chosen_language(bot: Bot) -> None:
    assert bot.slack.app_home_opened(DAVE).status == 200  # zh-CN in Slack
    home = bot.fake.wait_for("views.publish")[0].params
    assert home["user_id"] == DAVE and "等待你签字" in block_text(home["view"])
    view = bot.fake.home_view(DAVE)
    assert view is not None
    bot.slack.click(home_blocks.Ids.LANGUAGE, user=DAVE, view=view, value="en")
    republished = bot.fake.wait_for("views.publish", 2)[-1].params
    assert "Awaiting your signature" in block_text(republished["view"])
    # the choice now applies everywhere Dave is spoken to
    message = create_sheet(bot)
    bot.slack.click(Ids.CONFIRM, user=DAVE, message=message)
    refusal = bot.fake.wait_for("response_url")[-1].params["text"]
    assert refusal == "Only the two owners of RW-2026-001 can sign it."


def test_channel_language_setting_changes_the_sheet(bot: Bot) -> None:
    reply = bot.slack.slash("/digest", "lang zh", user=CAROL)
    assert reply.status == 200
    confirm = bot.fake.wait_for("response_url")[0].params["text"]
    assert confirm == "coordbot now posts in Chinese (中文) in <#C_GENERAL>."
    message = create_sheet(bot, user=CAROL)
    assert "需求沟通与确认表" in block_text(message) and "需求编号" in block_text(message)
    bot.slack.slash("/digest", "lang auto", user=CAROL)
    wait_until(lambda: len(bot.fake.calls("response_url")) == 2, what="second reply")
    second = create_sheet(bot, user=CAROL)
    assert "Requirement sheet" in block_text(second)


def test_digest_without_a_known_setting_explains_itself(bot: Bot) -> None:
    reply = bot.slack.slash("/digest", "lang klingon", user=CAROL)
    assert reply.status == 200 and "/digest lang zh" in reply.body
    reply = bot.slack.slash("/digest", "", user=DAVE)
    assert "设置 coordbot 在本频道发帖的语言" in reply.body


# -- every user-facing string comes from the catalog ----------------------------------------------------

PSEUDO = "xx"
NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)


@pytest.fixture
def pseudo_catalog() -> Iterator[None]:
    """A catalog whose every string is bracketed, so catalog text can be told from anything else."""
    text.CATALOG[PSEUDO] = {key: "⟦" + value + "⟧" for key, value in text.EN.items()}
    yield
    del text.CATALOG[PSEUDO]


def sample() -> RequirementInfo:
    """A record whose user-typed fields hold no letters."""
    return RequirementInfo(
        id=1,
        code="RW-2026-001",
        team_id="T",
        revision=2,
        status=Status.CHANGES_REQUESTED,
        author_id="U_ALICE",
        requester_dept=USER_TEXT,
        requester_owner="U_ALICE",
        receiver_dept=USER_TEXT,
        receiver_owner="U_BOB",
        background=USER_TEXT,
        goal=USER_TEXT,
        description=USER_TEXT,
        priority="high",
        due=NOW + timedelta(days=9),
        resources=USER_TEXT,
        confirm_by=NOW + timedelta(days=1),
        channel_id="C1",
        message_ts="1.1",
        change_reason=USER_TEXT,
        created_at=NOW,
        updated_at=NOW,
        confirmed_at=None,
        signatures=(SignatureInfo(Role.REQUESTER, "U_ALICE", "button", NOW),),
        questions=(
            QuestionInfo(5, 0, USER_TEXT, "U_BOB", NOW + timedelta(days=1)),
            QuestionInfo(6, 1, USER_TEXT, "U_BOB", NOW + timedelta(days=1), NOW, "U_BOB"),
        ),
        history=tuple(
            HistoryItem(NOW, "U_ALICE", action, {"revision": 1, "reason": USER_TEXT, "question": 1})
            for action in (
                "created",
                "signed",
                "withdrawn",
                "confirmed",
                "changes_requested",
                "revised",
                "question_answered",
            )
        ),
    )


@pytest.mark.usefixtures("pseudo_catalog")
def test_no_user_facing_text_bypasses_the_catalog() -> None:
    req = sample()
    payloads = [
        [x.to_dict() for x in b.sheet_blocks(PSEUDO, req, tz="UTC")],
        [x.to_dict() for x in b.sheet_blocks(PSEUDO, req, tz="UTC", actions=False)],
        [x.to_dict() for x in b.record_blocks(PSEUDO, req, tz="UTC", permalink="https://x.example/p1")],
        [x.to_dict() for x in b.list_blocks(PSEUDO, awaiting=[req], latest=[], tz="UTC")],
        b.modal(PSEUDO, meta=b.ModalMeta("C1"), user_id="U_ALICE", now=NOW, tz="UTC", members=[]).to_dict(),
        b.modal(
            PSEUDO,
            meta=b.ModalMeta("C1", 1, 2),
            user_id="U_ALICE",
            now=NOW,
            tz="UTC",
            members=[],
            draft=req.draft(),
            code=req.code,
        ).to_dict(),
        b.changes_modal(PSEUDO, requirement=req).to_dict(),
        home_blocks.home(
            PSEUDO,
            awaiting=home_blocks.Listing([req], total=30, page=2, late=1, links={1: "https://x.example/p1"}),
            chosen_lang=None,
            tz="UTC",
            now=NOW,
        ).to_dict(),
        {"text": b.sheet_text(PSEUDO, req, tz="UTC")},
        {"text": b.thread_note(PSEUDO, "thread.changes_requested", req, user="U_BOB", reason=USER_TEXT)},
    ]
    found = [s for payload in payloads for s in strings(payload)]
    assert len(found) > 60
    assert leftovers(found) == []
    # and the check is real: a string typed into a builder is caught
    assert leftovers(["Confirm"]) == ["Confirm"]


def test_language_choices_are_read_without_waiting_and_reach_other_replicas(runtime: Runtime) -> None:
    from bot.services.prefs import Preferences

    here = Preferences(runtime.services.session_scope, ttl=0.2)
    there = Preferences(runtime.services.session_scope, ttl=0.2)  # another replica on the same database
    now = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
    assert here.user_lang("T1", "U1") is None and there.user_lang("T1", "U1") is None  # first reads load
    there.set_user_lang("T1", "U1", "zh", now=now)
    assert there.user_lang("T1", "U1") == "zh"  # the replica that changed it sees it at once
    assert here.user_lang("T1", "U1") is None  # the other one within its copy's lifetime
    time.sleep(0.25)  # stale now: the next reads answer from the copy while one thread reads it again
    wait_until(lambda: here.user_lang("T1", "U1") == "zh", what="the refreshed copy")
    there.set_channel_lang("T1", "C1", "en", now=now)
    there.set_channel_lang("T1", "C1", None, now=now)
    assert there.channel_lang("T1", "C1") is None
