"""Nobody sees what they should not: a record posted in a private channel is shown only to its members.

Every test drives the running bot over HTTP with signed requests against the fake Web API, which
answers conversations.info and conversations.members like Slack (a private channel the bot is not
in does not exist for it).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.errors import NotFound
from bot.services.actions import ActionDraft, ActionInfo, ActionStatus
from bot.services.meetings import MeetingDraft, MeetingInfo
from bot.services.requirements import RequirementDraft, RequirementInfo
from bot.text import t
from handlers.actions import post_card as post_action_card
from handlers.actions import send_action_dms
from handlers.blocks.actions import action_card, action_text
from handlers.blocks.home import PAGE_SIZE, Ids
from handlers.meeting import post_card as post_meeting_card
from handlers.requirement import post_sheet
from handlers.sandbox.slack_api import ALICE, BOB, CAROL, DAVE, GENERAL, FakeSlack
from handlers.workspace.visibility import ChannelAccess, listed_with_source, require_visible
from storage.models import Incident
from tests.conftest import Bot
from tests.helpers import (
    MONDAY,
    block_text,
    create_sheet,
    elements,
    headers,
    minutes,
    open_home,
    post_now,
    publishes,
    sh,
    wait_until,
)
from tests.helpers import meeting as digest_meeting

TEAM = "T0001"
LEGAL = "G_LEGAL"  # private: Alice and Bob (and the bot); Carol and Dave are not in it
NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)  # the test clock


@pytest.fixture(autouse=True)
def legal(fake: FakeSlack) -> None:
    """#legal, a private channel the bot was invited to."""
    fake.set_channel(LEGAL, name="legal", members=[ALICE, BOB], is_private=True, bot_is_member=True)


# -- helpers ------------------------------------------------------------------------------------------------


def ask(bot: Bot, command: str, text: str, *, user: str, channel: str = GENERAL) -> dict[str, Any]:
    """Run a slash command and return the (one) answer sent through its response_url."""
    before = len(bot.fake.calls("response_url"))
    assert bot.slack.slash(command, text, user=user, channel=channel).status == 200
    return dict(bot.fake.wait_for("response_url", before + 1)[before].params)


def answer(reply: dict[str, Any]) -> dict[str, Any]:
    """What a reply says, without the response URL it was sent to."""
    return {k: v for k, v in reply.items() if k != "_url"}


def dms(bot: Bot, user: str) -> list[str]:
    """Texts the bot sent a user directly."""
    return [c.params.get("text") or "" for c in bot.fake.calls("chat.postMessage") if c.params["channel"] == user]


def sheet(
    bot: Bot, *, channel: str, receiver: str, confirm_by: datetime | None = None, goal: str = "Sign-ups +20%"
) -> RequirementInfo:
    """A sheet by Alice posted in a channel, awaiting both signatures."""
    services = bot.runtime.services
    confirm_by = confirm_by or NOW + timedelta(days=2)
    draft = RequirementDraft(
        requester_dept="Marketing",
        requester_owner=ALICE,
        receiver_dept="Legal",
        receiver_owner=receiver,
        background="Partner contract",
        goal=goal,
        description="Review the contract",
        priority="high",
        due=max(confirm_by, NOW) + timedelta(days=7),
        confirm_by=confirm_by,
        channel_id=channel,
    )
    req = services.requirements.create(
        team_id=TEAM, author_id=ALICE, draft=draft, now=min(NOW, confirm_by - timedelta(days=7))
    )
    post_sheet(bot.runtime.client, services, bot.runtime.directory, req, author=ALICE)
    return services.requirements.get(req.id)


def item(
    bot: Bot,
    *,
    owner: str,
    channel: str,
    title: str,
    due: datetime | None = None,
    dm: bool = False,
    source: MeetingInfo | None = None,
) -> ActionInfo:
    """An action item created by Alice, its card posted in the channel (or sent to its owner by DM)."""
    services = bot.runtime.services
    link: dict[str, Any] = {}
    if source is not None:
        link = {
            "source_type": "meeting",
            "source_id": source.id,
            "source_code": source.code,
            "escalate_to": source.host_id,
        }
    (created,) = services.actions.create_many(
        team_id=TEAM,
        creator_id=ALICE,
        now=min(NOW, (due or NOW) - timedelta(days=7)),
        channel_id=channel,
        drafts=[ActionDraft(title=title, owner_id=owner, due=due or NOW + timedelta(days=1))],
        **link,
    )
    if dm:
        send_action_dms(bot.runtime.client, services, bot.runtime.directory, [created], source_link=None)
    else:
        post_action_card(bot.runtime.client, services, bot.runtime.directory, created, author=ALICE)
    return services.actions.get(created.id)


def meeting(bot: Bot, *, channel: str, start: datetime, participants: Sequence[str], title: str) -> MeetingInfo:
    """A meeting hosted by Alice, its card posted in the channel."""
    services = bot.runtime.services
    draft = MeetingDraft(
        title=title,
        goal="Decide",
        start=start,
        duration_minutes=60,
        host_id=ALICE,
        participants=tuple(participants),
        channel_id=channel,
    )
    info = services.meetings.create(team_id=TEAM, creator_id=ALICE, draft=draft, now=NOW - timedelta(days=7))
    post_meeting_card(bot.runtime.client, services, bot.runtime.directory, info, author=ALICE)
    return services.meetings.get(info.id)


def forget(bot: Bot) -> None:
    """As if the minute for which who is in which channel is remembered had passed."""
    bot.runtime.directory.channels.forget()


def history_click(bot: Bot, *, user: str, message: dict[str, Any], value: str) -> dict[str, Any]:
    """Choose History in a message's overflow menu (`value` as sent, even one the message does not carry)."""
    channel = str(message["channel"])
    before = len(bot.fake.calls("response_url"))
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": TEAM},
        "api_app_id": "A0001",
        "token": "verification-token-test",
        "team": {"id": TEAM, "domain": "coordbot-test"},
        "container": {"type": "message", "message_ts": message["ts"], "channel_id": channel, "is_ephemeral": False},
        "trigger_id": bot.fake.new_trigger_id(user=user),
        "channel": {"id": channel, "name": channel.lower()},
        "message": {k: v for k, v in message.items() if k != "channel"},
        "state": {"values": {}},
        "response_url": bot.fake.new_response_url(channel=channel, message_ts=message["ts"], user=user),
        "actions": [
            {
                "type": "overflow",
                "action_id": "record_history",
                "block_id": "history",
                "selected_option": {"text": {"type": "plain_text", "text": "History"}, "value": value},
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    assert bot.slack.post_payload(payload).status == 200
    return dict(bot.fake.wait_for("response_url", before + 1)[before].params)


# -- /requirement RW-… and /requirement list ---------------------------------------------------------------


def test_a_sheet_in_a_private_channel_is_shown_only_to_its_members(bot: Bot) -> None:
    create_sheet(bot, channel=LEGAL)  # RW-2026-001, Alice and Bob
    for member in (ALICE, BOB):
        shown = ask(bot, "/requirement", "RW-2026-001", user=member)
        assert shown["response_type"] == "ephemeral" and "RW-2026-001" in block_text(shown)
    links = len(bot.fake.calls("chat.getPermalink"))
    hidden = ask(bot, "/requirement", "RW-2026-001", user=CAROL)
    missing = ask(bot, "/requirement", "RW-2026-002", user=CAROL)
    # the same answer as for a record that does not exist: its existence does not leak
    assert hidden["text"] == "There is no requirement RW-2026-001."
    assert answer(hidden) == {
        "text": "There is no requirement RW-2026-001.",
        "response_type": "ephemeral",
        "replace_original": False,
    }
    assert answer(missing) == {**answer(hidden), "text": "There is no requirement RW-2026-002."}
    assert "blocks" not in hidden and len(bot.fake.calls("chat.getPermalink")) == links
    hidden_zh = ask(bot, "/requirement", "rw-2026-001", user=DAVE)  # as typed, in Dave's language
    missing_zh = ask(bot, "/requirement", "rw-2026-002", user=DAVE)
    assert hidden_zh["text"] == missing_zh["text"].replace("002", "001") == "没有编号为 rw-2026-001 的需求。"
    # a sheet in a public channel is shown to anyone in the workspace
    create_sheet(bot, channel=GENERAL)
    assert "RW-2026-002" in block_text(ask(bot, "/requirement", "RW-2026-002", user=CAROL))


def test_the_list_leaves_out_sheets_of_channels_the_caller_is_not_in(bot: Bot) -> None:
    create_sheet(bot, channel=LEGAL, receiver_owner=CAROL)  # Carol signs, but is not in #legal
    create_sheet(bot, channel=GENERAL, receiver_owner=CAROL)
    listing = block_text(ask(bot, "/requirement", "list", user=CAROL))
    assert "RW-2026-002" in listing and "RW-2026-001" not in listing
    # "latest in this channel" in #legal, asked by someone not in it (Slack would not even send this)
    listing = block_text(ask(bot, "/requirement", "list", user=DAVE, channel=LEGAL))
    assert "RW-" not in listing and "本频道还没有需求确认表。" in listing
    listing = block_text(ask(bot, "/requirement", "list", user=BOB, channel=LEGAL))
    assert "RW-2026-001" in listing and "RW-2026-002" not in listing
    # once Carol is in #legal (and what was remembered about it has lapsed), she sees it
    bot.fake.set_channel(LEGAL, name="legal", members=[ALICE, BOB, CAROL], is_private=True)
    forget(bot)
    listing = block_text(ask(bot, "/requirement", "list", user=CAROL))
    assert "RW-2026-001" in listing and "RW-2026-002" in listing


# -- /meeting MTG-… and /meeting minutes MTG-… ----------------------------------------------------------------


def test_a_meeting_in_a_private_channel_is_shown_only_to_its_members(bot: Bot) -> None:
    meeting(bot, channel=LEGAL, start=NOW - timedelta(days=1), participants=(BOB, CAROL), title="Contract review")
    shown = ask(bot, "/meeting", "MTG-2026-001", user=BOB)
    assert "Contract review" in block_text(shown) and shown["response_type"] == "ephemeral"
    hidden = ask(bot, "/meeting", "MTG-2026-001", user=DAVE)
    missing = ask(bot, "/meeting", "MTG-2026-002", user=DAVE)
    assert hidden["text"] == missing["text"].replace("002", "001") == "没有编号为 MTG-2026-001 的会议。"
    assert "blocks" not in hidden
    # minutes: a participant who is not in #legal (and a stranger) get the not-found answer, not
    # "only participants", which would confirm that the meeting exists
    for outsider in (CAROL, DAVE):
        reply = ask(bot, "/meeting", "minutes MTG-2026-001", user=outsider)
        assert reply["text"] == ask(bot, "/meeting", "minutes MTG-2026-009", user=outsider)["text"].replace(
            "009", "001"
        )
    assert bot.fake.calls("views.open") == []
    assert bot.slack.slash("/meeting", "minutes MTG-2026-001", user=BOB).status == 200
    assert "Contract review" in block_text(bot.fake.wait_for("views.open")[0].params["view"])


# -- the App Home ---------------------------------------------------------------------------------------------


def test_the_home_leaves_out_records_of_channels_the_viewer_is_not_in(bot: Bot) -> None:
    # Carol owns a side, an item and a seat in #legal without being in it: the rule still holds
    hidden_sheets = [
        sheet(bot, channel=LEGAL, receiver=CAROL, confirm_by=NOW - timedelta(days=1), goal="Secret A"),
        sheet(bot, channel=LEGAL, receiver=CAROL, goal="Secret B"),
    ]
    shown_sheets = [
        sheet(bot, channel=GENERAL, receiver=CAROL, confirm_by=NOW + timedelta(days=2, hours=n))
        for n in range(PAGE_SIZE + 1)
    ]
    hidden_item = item(bot, owner=CAROL, channel=LEGAL, title="Secret filing", due=NOW - timedelta(hours=3))
    shown_items = [
        item(bot, owner=CAROL, channel=GENERAL, title="Public task"),
        item(bot, owner=CAROL, channel=GENERAL, title="Handed over", dm=True),
    ]
    hidden_meetings = [
        meeting(bot, channel=LEGAL, start=NOW + timedelta(days=2), participants=(CAROL,), title="Secret sync"),
        meeting(bot, channel=LEGAL, start=NOW - timedelta(days=1), participants=(CAROL,), title="Secret debrief"),
    ]
    meeting(bot, channel=GENERAL, start=NOW + timedelta(days=3), participants=(CAROL,), title="Launch sync")

    view = open_home(bot, CAROL)
    text = json.dumps(view, ensure_ascii=False)
    for secret in (
        "Secret",
        LEGAL,
        hidden_item.code,
        *(r.code for r in hidden_sheets),
        *(m.code for m in hidden_meetings),
    ):
        assert secret not in text
    # counts and pages are of what the viewer may see (the hidden overdue ones do not count as overdue)
    assert headers(view)[1:] == [
        f"✍️ Awaiting your signature · {PAGE_SIZE + 1}",
        "📌 Open action items · 2",
        "📅 Upcoming meetings, next 14 days · 1",
        "📝 Minutes still to record · 0",
    ]
    assert [e["value"] for e in elements(view, Ids.SIGN)] == [str(r.id) for r in shown_sheets[:PAGE_SIZE]]
    assert {e["value"]: e["text"]["text"] for e in elements(view, Ids.MORE)} == {"sign:2": "Show more (1 more)"}
    assert {e["value"] for e in elements(view, Ids.DONE)} == {str(i.id) for i in shown_items}
    before = len(publishes(bot, CAROL))
    bot.slack.click(Ids.MORE, user=CAROL, view=bot.fake.home_view(CAROL), value="sign:2")
    wait_until(lambda: len(publishes(bot, CAROL)) > before, what="page 2")
    page2 = bot.fake.home_view(CAROL) or {}
    assert [e["value"] for e in elements(page2, Ids.SIGN)] == [str(shown_sheets[-1].id)]
    assert "Secret" not in json.dumps(page2, ensure_ascii=False)

    # a button aimed at a hidden record (a home drawn before Carol left, or a forged value) finds nothing
    before, told = len(publishes(bot, CAROL)), len(dms(bot, CAROL))
    bot.slack.click(Ids.SIGN, user=CAROL, view=bot.fake.home_view(CAROL), value=str(hidden_sheets[1].id))
    assert wait_until(lambda: dms(bot, CAROL)[told:], what="the answer") == [
        f"There is no requirement {hidden_sheets[1].id}."
    ]
    wait_until(lambda: len(publishes(bot, CAROL)) > before, what="the home drawn again")
    assert bot.runtime.services.requirements.get(hidden_sheets[1].id).signatures == ()
    bot.slack.click(Ids.DONE, user=CAROL, view=bot.fake.home_view(CAROL), value=str(hidden_item.id))
    assert wait_until(lambda: dms(bot, CAROL)[told + 1 :], what="the second answer") == [
        f"There is no action item {hidden_item.id}."
    ]
    assert bot.runtime.services.actions.get(hidden_item.id).status == ActionStatus.OPEN

    # members see them: Alice, who is in #legal, and Carol once she is invited
    assert headers(open_home(bot, ALICE))[1:] == [  # Alice reads Chinese
        t("zh", "home.sign.title_late", total=PAGE_SIZE + 3, late=1),
        t("zh", "home.actions.title", total=0),
        t("zh", "home.meetings.title", days=14, total=2),
        t("zh", "home.minutes.title", total=1),
    ]
    bot.fake.set_channel(LEGAL, name="legal", members=[ALICE, BOB, CAROL], is_private=True)
    forget(bot)
    view = open_home(bot, CAROL)
    assert headers(view)[1:] == [
        f"✍️ Awaiting your signature · {PAGE_SIZE + 3} (1 overdue)",
        "📌 Open action items · 3 (1 overdue)",
        "📅 Upcoming meetings, next 14 days · 2",
        "📝 Minutes still to record · 1",
    ]
    assert hidden_item.code in json.dumps(view) and "Secret sync" in block_text(view)


def test_the_home_of_someone_in_every_channel_is_counted_by_the_database(bot: Bot) -> None:
    sheet(bot, channel=LEGAL, receiver=BOB, goal="Secret A")
    item(bot, owner=BOB, channel=LEGAL, title="Secret filing")
    view = open_home(bot, BOB)
    assert headers(view)[1:3] == ["✍️ Awaiting your signature · 1", "📌 Open action items · 1"]
    # one question per channel, answered from memory for a minute after
    asked = len(bot.fake.calls("conversations.members"))
    assert asked == 1
    open_home(bot, BOB)
    assert len(bot.fake.calls("conversations.members")) == asked


# -- digests of other channels ---------------------------------------------------------------------------------


def test_a_public_digest_names_nothing_from_a_private_channel(bot: Bot) -> None:
    """The rule: an item shown in #general because it lives there or comes from a #general meeting is listed
    only when its own conversation is #general, a DM or a public channel; its source is linked when it is in
    #general, named when it is in another public channel, and left unsaid when it is private."""
    bot.fake.set_channel("C_OTHER", name="other")
    services = bot.runtime.services
    launch_id, _ = digest_meeting(bot, title="Launch plan", start=sh(25))
    (handed_over,) = minutes(bot, launch_id, sh(25, 12), ("Draft the launch plan", BOB, sh(3, 18, month=12)))
    contract_id, _ = digest_meeting(bot, title="Contract review", start=sh(25), channel=LEGAL)
    minutes(bot, contract_id, sh(25, 12), ("Redline the NDA", BOB, sh(3, 18, month=12)))
    launch, contract = services.meetings.get(launch_id), services.meetings.get(contract_id)
    other = services.meetings.get(digest_meeting(bot, title="Other sync", start=sh(25), channel="C_OTHER")[0])
    item(bot, owner=CAROL, channel=GENERAL, title="Announce the partner", due=sh(4, 18, month=12), source=contract)
    item(bot, owner=BOB, channel=LEGAL, title="Settle the claim", due=sh(4, 18, month=12), source=launch)
    item(bot, owner=DAVE, channel="C_OTHER", title="Tell the other team", due=sh(4, 18, month=12), source=launch)
    item(bot, owner=DAVE, channel=GENERAL, title="Ask the other team", due=sh(4, 18, month=12), source=other)
    bot.clock.set(MONDAY)

    general = post_now(bot, user=CAROL)
    shown, raw = block_text(general), json.dumps(general, ensure_ascii=False)
    for listed in ("Draft the launch plan", "Announce the partner", "Tell the other team", "Ask the other team"):
        assert listed in shown
    for secret in ("Settle the claim", "Redline the NDA", "Contract review", contract.code, LEGAL):
        assert secret not in raw
    assert "*Action items* · 0 done · 4 open · 0 overdue · 0 blocked" in shown  # the counts agree
    assert f"`{other.code}`" in shown  # a public source elsewhere: named, not linked
    assert services.actions.get(handed_over).channel_id.startswith("D")  # handed over by DM, still listed

    # #legal's own digest, read by its members, has all of its records, the private source linked
    private = post_now(bot, user=ALICE, channel=LEGAL)
    shown = block_text(private)
    for listed in ("Redline the NDA", "Announce the partner", "Settle the claim", "Contract review"):
        assert listed in shown
    assert f"/archives/{LEGAL}/p" in shown and f"|{contract.code}>" in shown
    assert "*Action items* · 0 done · 3 open · 0 overdue · 0 blocked" in shown


def test_a_digest_without_an_answer_about_other_channels_keeps_to_its_own(bot: Bot) -> None:
    launch_id, _ = digest_meeting(bot, title="Launch plan", start=sh(25))
    launch = bot.runtime.services.meetings.get(launch_id)
    item(bot, owner=DAVE, channel="C_OTHER", title="Tell the other team", due=sh(4, 18, month=12), source=launch)
    item(bot, owner=DAVE, channel=GENERAL, title="Ours", due=sh(4, 18, month=12), source=launch)
    digest = bot.runtime.services.digests.content(TEAM, GENERAL, now=MONDAY)  # nobody said C_OTHER is public
    assert [e.title for e in digest.open] == ["Ours"]
    bot.fake.fail("conversations.info", error="missing_scope", times=5)
    forget(bot)
    assert "Tell the other team" not in block_text(post_now(bot))
    assert "Tell the other team" in block_text(post_now(bot, channel="C_OTHER"))  # its own channel's digest


def test_an_incident_as_source_is_named_only_while_its_channel_is_public(bot: Bot) -> None:
    bot.fake.set_channel("C_INC_1", name="inc-1-db-down")
    with bot.runtime.services.session_scope() as s:
        incident = Incident(
            team_id=TEAM,
            code="INC-2026-001",
            title="DB down",
            severity="SEV2",
            commander_id=BOB,
            declared_by=BOB,
            declared_in=GENERAL,
            channel_id="C_INC_1",
            announce_channel_id=GENERAL,
            summary_ts="1790000000.000001",
            declared_at=NOW,
            last_update_at=NOW,
            created_at=NOW,
            updated_at=NOW,
        )
        s.add(incident)
        s.flush()
        incident_id = int(incident.id or 0)
    services = bot.runtime.services
    services.actions.create_many(
        team_id=TEAM,
        creator_id=BOB,
        now=NOW,
        channel_id=GENERAL,
        source_type="incident",
        source_id=incident_id,
        source_code="INC-2026-001",
        drafts=[ActionDraft("Add a disk alert", DAVE, NOW + timedelta(days=5))],
    )
    assert "`INC-2026-001`" in block_text(post_now(bot))
    bot.fake.set_channel("C_INC_1", name="inc-1-db-down", members=[BOB], is_private=True, bot_is_member=True)
    forget(bot)
    shown = block_text(post_now(bot))
    assert "Add a disk alert" in shown and "INC-2026-001" not in shown


# -- the History overflow ---------------------------------------------------------------------------------------


def test_history_is_shown_only_to_people_who_can_see_the_record(bot: Bot) -> None:
    message = create_sheet(bot, channel=LEGAL)
    value = "requirement:1"
    assert "History of RW-2026-001" in block_text(history_click(bot, user=BOB, message=message, value=value))
    refused = history_click(bot, user=CAROL, message=message, value=value)
    assert refused["text"] == "There is no requirement 1." and "blocks" not in refused
    # a value the clicked message does not carry, from a channel the clicker can see
    public = bot.fake.add_message(GENERAL, "hello", user=CAROL)
    assert history_click(bot, user=CAROL, message=public, value=value)["text"] == "There is no requirement 1."
    # a copy of a card where the clicker can see it shows that record's history: the card is in front of them
    secret = item(bot, owner=BOB, channel=LEGAL, title="Secret filing")
    copy = bot.runtime.client.chat_postMessage(
        channel=GENERAL,
        text=action_text("en", secret, "Asia/Shanghai"),
        blocks=action_card("en", secret, tz="Asia/Shanghai", source_link=None),
    )
    stored = bot.fake.message(GENERAL, str(copy["ts"])) or {}
    assert "History of ACT-2026-001" in block_text(
        history_click(bot, user=CAROL, message=stored, value=f"action:{secret.id}")
    )
    # an item handed over by DM: its owner sees its history there
    mine = item(bot, owner=DAVE, channel=GENERAL, title="Mine", dm=True)
    dm = bot.fake.message(mine.channel_id, mine.message_ts or "") or {}
    assert "ACT-2026-002" in block_text(history_click(bot, user=DAVE, message=dm, value=f"action:{mine.id}"))


# -- who may see a conversation ------------------------------------------------------------------------------


def test_who_may_see_which_conversation(bot: Bot) -> None:
    directory = bot.runtime.directory
    bot.fake.add_user("U_GUEST", "gina", guest=True)
    bot.fake.set_channel("C_PUBLIC", name="public", members=[ALICE, "U_GUEST"])
    bot.fake.set_channel("C_ELSEWHERE", name="elsewhere", members=[ALICE])
    # a public channel: every full member, whether in it or not; a guest only where they are
    assert all(directory.can_see(u, "C_PUBLIC") for u in (ALICE, BOB, CAROL, "U_GUEST"))
    assert directory.can_see(BOB, "C_ELSEWHERE") and not directory.can_see("U_GUEST", "C_ELSEWHERE")
    assert directory.is_public("C_PUBLIC") and not directory.is_public(LEGAL)
    # a private channel: its members; a direct message: its one person
    assert [directory.can_see(u, LEGAL) for u in (ALICE, BOB, CAROL, DAVE)] == [True, True, False, False]
    dm = bot.runtime.client.chat_postMessage(channel=BOB, text="hi")["channel"]
    assert directory.can_see(BOB, dm) and not directory.can_see(ALICE, dm) and not directory.is_public(dm)
    # nothing, or an unknown person, sees nothing
    assert not directory.can_see("", GENERAL) and not directory.can_see(ALICE, "")
    assert not directory.can_see("U_NOBODY", "C_PUBLIC")  # Slack does not know them: treated as a guest


def test_members_are_read_page_by_page_and_remembered_for_a_minute(fake: FakeSlack, bot: Bot) -> None:
    crowd = [f"U{n:05d}" for n in range(2500)]
    fake.set_channel("G_CROWD", name="crowd", members=[*crowd, DAVE], is_private=True, bot_is_member=True)
    moment = [0.0]
    access = ChannelAccess(bot.runtime.client, is_guest=lambda _: False, clock=lambda: moment[0])
    assert access.can_see(DAVE, "G_CROWD") and not access.can_see(CAROL, "G_CROWD")
    pages = [c.params.get("cursor") for c in fake.calls("conversations.members")]
    assert len(pages) == 3 and pages[0] is None and all(pages[1:])
    fake.set_channel("G_CROWD", name="crowd", members=crowd, is_private=True)  # Dave leaves
    moment[0] = 59.0
    assert access.can_see(DAVE, "G_CROWD")  # still remembered
    moment[0] = 60.0
    assert not access.can_see(DAVE, "G_CROWD")
    assert len(fake.calls("conversations.info")) == 2


def test_when_slack_will_not_say_nobody_sees_it_and_the_log_says_so_once(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    create_sheet(bot, channel=LEGAL)
    caplog.set_level(logging.DEBUG, logger="handlers.workspace.visibility")
    bot.fake.fail("conversations.info", error="missing_scope", times=3)
    for _ in range(3):
        forget(bot)
        assert ask(bot, "/requirement", "RW-2026-001", user=BOB)["text"] == "There is no requirement RW-2026-001."
    warnings = [r for r in caplog.records if r.name == "handlers.workspace.visibility" and r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "missing_scope" in warnings[0].getMessage()
    # the bot removed from #legal: the channel no longer exists for it, so its records show to nobody
    bot.fake.set_channel(LEGAL, name="legal", members=[ALICE, BOB], is_private=True, bot_is_member=False)
    forget(bot)
    assert ask(bot, "/requirement", "RW-2026-001", user=BOB)["text"] == "There is no requirement RW-2026-001."
    # a network failure is not remembered: the next question asks again
    bot.fake.set_channel(LEGAL, name="legal", members=[ALICE, BOB], is_private=True, bot_is_member=True)
    forget(bot)
    broken = WebClient(token=bot.fake.bot_token, base_url="http://127.0.0.1:9/api/", timeout=1)
    offline = ChannelAccess(broken, is_guest=lambda _: False)
    assert not offline.can_see(ALICE, GENERAL)
    assert "RW-2026-001" in block_text(ask(bot, "/requirement", "RW-2026-001", user=BOB))


def test_require_visible_raises_the_not_found_it_is_given(bot: Bot) -> None:
    """The helper a feature calls before showing (or exporting) a record to someone."""
    missing = NotFound("error.incident_not_found", code="INC-2026-001")
    require_visible(bot.runtime.directory, ALICE, LEGAL, missing)
    with pytest.raises(NotFound) as refused:
        require_visible(bot.runtime.directory, CAROL, LEGAL, missing)
    assert refused.value is missing


def test_a_record_reached_through_its_source_is_listed_unless_it_lives_in_a_hidden_channel(bot: Bot) -> None:
    """How an export of a record with its follow-ups (an incident's review) picks which follow-ups to include."""
    directory = bot.runtime.directory
    for where in (GENERAL, "", "DU_BOB", "C_INCIDENT"):  # public, nowhere yet, handed over by DM, with its source
        assert listed_with_source(directory, CAROL, where, source_channel="C_INCIDENT")
    assert not listed_with_source(directory, CAROL, LEGAL, source_channel="C_INCIDENT")
    assert listed_with_source(directory, BOB, LEGAL, source_channel="C_INCIDENT")
