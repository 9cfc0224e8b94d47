"""The App Home: what awaits the viewer, acted on in place, paged so it stays valid however much there is."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.services.actions import ActionDraft, ActionInfo, ActionStatus
from bot.services.meetings import MeetingDraft, MeetingInfo, MinutesDraft
from bot.services.requirements import RequirementDraft, RequirementInfo, Role, Status
from handlers.actions import send_action_dms
from handlers.blocks import home as home_blocks
from handlers.blocks.home import MAX_BLOCKS, PAGE_SIZE, Ids, Listing
from handlers.blocks.meeting import Ids as MeetingIds
from handlers.meeting import post_card
from handlers.requirement import post_sheet
from handlers.sandbox.slack_api import ALICE, BOB, CAROL, DAVE, GENERAL
from tests.conftest import Bot
from tests.helpers import block_text, elements, headers, next_home, open_home, publishes, wait_until

pytestmark = pytest.mark.both_modes  # every flow here also runs split into serving process and worker

TEAM = "T0001"
NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)  # the test clock


# -- seeding through the services --------------------------------------------------------------------------


def sheet(
    bot: Bot, *, requester: str = ALICE, receiver: str = BOB, confirm_by: datetime | None = None, post: bool = True
) -> RequirementInfo:
    """A sheet to sign; one whose sign-by time has passed was entered a week earlier."""
    services = bot.runtime.services
    confirm_by = confirm_by or NOW + timedelta(days=2)
    draft = RequirementDraft(
        requester_dept="Marketing",
        requester_owner=requester,
        receiver_dept="Engineering",
        receiver_owner=receiver,
        background="Q1 campaign",
        goal="Sign-ups +20%",
        description="A landing page",
        priority="high",
        due=max(confirm_by, NOW) + timedelta(days=7),
        confirm_by=confirm_by,
        channel_id=GENERAL,
    )
    req = services.requirements.create(
        team_id=TEAM, author_id=requester, draft=draft, now=min(NOW, confirm_by - timedelta(days=7))
    )
    if post:
        post_sheet(bot.runtime.client, services, bot.runtime.directory, req, author=requester)
    return services.requirements.get(req.id)


def items(bot: Bot, owner: str, dues: Sequence[datetime], *, dm: bool = False, title: str = "Task") -> list[ActionInfo]:
    """Action items created by Alice (from a meeting); overdue ones were created a week before they fell due."""
    services = bot.runtime.services
    created: list[ActionInfo] = []
    for when in sorted({min(NOW, due - timedelta(days=7)) for due in dues}):
        batch = [
            ActionDraft(title=f"{title} {n}", owner_id=owner, due=due)
            for n, due in enumerate(dues, start=1)
            if min(NOW, due - timedelta(days=7)) == when
        ]
        created += services.actions.create_many(
            team_id=TEAM,
            creator_id=ALICE,
            drafts=batch,
            now=when,
            source_type="meeting",
            source_id=1,
            source_code="MTG-2026-900",
            escalate_to=ALICE,
            channel_id=GENERAL,
        )
    created.sort(key=lambda i: int(i.title.rsplit(" ", 1)[1]))  # in the order asked for
    if dm:
        send_action_dms(bot.runtime.client, services, bot.runtime.directory, created, source_link=None)
    return [services.actions.get(i.id) for i in created]


def meeting(
    bot: Bot,
    start: datetime,
    *,
    host: str = ALICE,
    participants: Sequence[str] = (BOB,),
    minutes: int = 60,
    title: str = "Launch sync",
    post: bool = False,
) -> MeetingInfo:
    """A meeting (in the past or the future), its card posted when asked."""
    services = bot.runtime.services
    draft = MeetingDraft(
        title=title,
        goal="Decide the launch date",
        start=start,
        duration_minutes=minutes,
        host_id=host,
        participants=tuple(participants),
        channel_id=GENERAL,
    )
    info = services.meetings.create(team_id=TEAM, creator_id=host, draft=draft, now=NOW)
    if post:
        post_card(bot.runtime.client, services, bot.runtime.directory, info, author=host)
    return services.meetings.get(info.id)


# -- reading the published home --------------------------------------------------------------------------------


def click(bot: Bot, user: str, action_id: str, value: str | None = None) -> dict[str, Any]:
    """Press a button of the user's home and return the home published next."""
    before = len(publishes(bot, user))
    assert bot.slack.click(action_id, user=user, view=bot.fake.home_view(user), value=value).status == 200
    return next_home(bot, user, before)


def block(view: dict[str, Any], block_id: str) -> dict[str, Any] | None:
    """One block by id."""
    return next((b for b in view["blocks"] if b.get("block_id") == block_id), None)


def action_rows(view: dict[str, Any]) -> list[str]:
    """The action item lines, top to bottom."""
    return [
        b["text"]["text"]
        for b in view["blocks"]
        if str(b.get("block_id", "")).startswith("home_action_") and b["type"] == "section"
    ]


def dms(bot: Bot, user: str) -> list[str]:
    """Texts the bot sent a user directly."""
    return [c.params.get("text") or "" for c in bot.fake.calls("chat.postMessage") if c.params["channel"] == user]


# -- the home -------------------------------------------------------------------------------------------------


def test_the_home_of_someone_with_nothing_says_so(bot: Bot) -> None:
    view = open_home(bot, CAROL)
    assert headers(view) == [
        "coordbot",
        "✍️ Awaiting your signature · 0",
        "📌 Open action items · 0",
        "📅 Upcoming meetings, next 14 days · 0",
        "📝 Minutes still to record · 0",
    ]
    text = block_text(view)
    for line in (
        "Nothing awaits your signature.",
        "No open action items.",
        "No meetings in the next 14 days.",
        "No minutes outstanding.",
        "*Language* for what coordbot sends you",
        "/requirement opens",
    ):
        assert line in text
    interactive = [
        e["action_id"]
        for b in view["blocks"]
        for e in [b.get("accessory"), *(b.get("elements") or [])]
        if isinstance(e, dict) and e.get("action_id")
    ]
    assert interactive == [Ids.LANGUAGE]


def test_the_home_shows_sheets_items_meetings_and_minutes_owed(bot: Bot) -> None:
    late_sheet = sheet(bot, confirm_by=NOW - timedelta(days=2))
    fresh_sheet = sheet(bot)
    signed = sheet(bot, requester=BOB, receiver=ALICE)
    bot.runtime.services.requirements.sign(signed.id, user_id=BOB, via="button", now=NOW)  # Bob's part is done
    sheet(bot, requester=ALICE, receiver=CAROL)  # not Bob's
    due = [NOW + timedelta(days=2), NOW - timedelta(days=3, hours=2), NOW + timedelta(days=5), NOW - timedelta(hours=5)]
    mine = items(bot, BOB, due, dm=True)
    finished = items(bot, BOB, [NOW + timedelta(days=1)], title="Finished")[0]
    bot.runtime.services.actions.set_status(finished.id, user_id=BOB, status=ActionStatus.DONE, now=NOW)
    items(bot, CAROL, [NOW + timedelta(days=1)], title="Carol's")
    soon = meeting(bot, NOW + timedelta(days=3), title="Launch sync", post=True)
    now_on = meeting(bot, NOW - timedelta(minutes=30), host=BOB, participants=(ALICE,), title="Standup")
    meeting(bot, NOW + timedelta(days=20), title="Too far ahead")
    meeting(bot, NOW + timedelta(days=2), participants=(CAROL,), title="Not Bob's")
    owed = meeting(bot, NOW - timedelta(days=1), title="Budget review")
    recorded = meeting(bot, NOW - timedelta(days=2), title="Recorded")
    bot.runtime.services.meetings.record_minutes(
        recorded.id, user_id=ALICE, draft=MinutesDraft(decisions=("Go",)), now=NOW
    )

    view = open_home(bot, BOB)
    assert headers(view)[1:] == [
        "✍️ Awaiting your signature · 2 (1 overdue)",
        "📌 Open action items · 4 (2 overdue)",
        "📅 Upcoming meetings, next 14 days · 2",
        "📝 Minutes still to record · 1",
    ]
    # sheets: the late one first, marked in words; each with a Sign button
    assert [e["value"] for e in elements(view, Ids.SIGN)] == [str(late_sheet.id), str(fresh_sheet.id)]
    late = block(view, f"home_sign_{late_sheet.id}")
    assert late is not None and late["text"]["text"].startswith("🔴 *OVERDUE by 2 days*\n")
    assert f"|{late_sheet.code}>" in late["text"]["text"]  # linked to the sheet's message
    # action items: soonest due first, so the overdue ones lead, marked in words
    rows = action_rows(view)
    assert [r.split("\n")[0] for r in rows[:2]] == ["🔴 *OVERDUE by 3 days*", "🔴 *OVERDUE by 5 hours*"]
    assert "Task 2" in rows[0] and "Task 4" in rows[1] and "Task 1" in rows[2] and "Task 3" in rows[3]
    assert not rows[2].startswith("🔴") and "from MTG-2026-900" in rows[2]
    assert [e["value"] for e in elements(view, Ids.DONE)] == [str(mine[i].id) for i in (1, 3, 0, 2)]
    for item in mine:  # each with a link to its card
        buttons = (block(view, f"home_action_buttons_{item.id}") or {})["elements"]
        assert [b["action_id"] for b in buttons] == [Ids.DONE, Ids.OPEN]
        assert buttons[1]["url"].startswith("https://coordbot-test.slack.com/archives/D")
    text = block_text(view)
    assert "Finished" not in text and "Carol's" not in text
    # meetings: the one under way and the next one, with the card's link when it has one
    standup = block(view, f"home_meeting_{now_on.id}")
    assert standup is not None and standup["text"]["text"].startswith("🟢 *Under way*")
    card = block(view, f"home_meeting_{soon.id}")
    assert card is not None and card["accessory"]["url"].startswith("https://")
    assert "Too far ahead" not in text and "Not Bob's" not in text
    # minutes owed: ended, without minutes, Bob took part
    assert [e["value"] for e in elements(view, Ids.RECORD_MINUTES)] == [str(owed.id)]
    assert "Recorded" not in text and "Standup" in text


def test_sign_from_the_home_updates_the_sheet_and_the_home(bot: Bot) -> None:
    req = sheet(bot)
    open_home(bot, BOB)
    view = click(bot, BOB, Ids.SIGN, value=str(req.id))
    assert headers(view)[1] == "✍️ Awaiting your signature · 0"
    signed = bot.runtime.services.requirements.get(req.id)
    signature = signed.signature(Role.RECEIVER)
    assert signature is not None and signature.via == "home" and signature.user_id == BOB
    updates = [c for c in bot.fake.calls("chat.update") if c.params["ts"] == req.message_ts]
    assert len(updates) == 1
    # Alice signs too: the sheet is confirmed and says so in its thread
    open_home(bot, ALICE)
    click(bot, ALICE, Ids.SIGN, value=str(req.id))
    assert bot.runtime.services.requirements.get(req.id).status == Status.CONFIRMED
    wait_until(
        lambda: [c for c in bot.fake.calls("chat.postMessage") if c.params.get("thread_ts") == req.message_ts],
        what="the confirmation in the sheet's thread",
    )


def test_done_from_the_home_updates_the_card_and_the_home(bot: Bot) -> None:
    first, second = items(bot, BOB, [NOW - timedelta(days=1), NOW + timedelta(days=1)], dm=True)
    view = open_home(bot, BOB)
    assert headers(view)[2] == "📌 Open action items · 2 (1 overdue)"
    view = click(bot, BOB, Ids.DONE, value=str(first.id))
    assert headers(view)[2] == "📌 Open action items · 1"
    assert [e["value"] for e in elements(view, Ids.DONE)] == [str(second.id)]
    assert bot.runtime.services.actions.get(first.id).status == ActionStatus.DONE
    card = bot.fake.message(first.channel_id, str(first.message_ts))
    assert card is not None and "✅ Done" in block_text(card)  # the DM card no longer offers Done
    assert not [e for b in card["blocks"] for e in b.get("elements") or [] if e.get("action_id") == "action_done"]


def test_someone_who_does_not_own_an_item_cannot_finish_it_from_the_home(bot: Bot) -> None:
    bobs = items(bot, BOB, [NOW + timedelta(days=1)])[0]
    items(bot, CAROL, [NOW + timedelta(days=1)], title="Carol's")
    open_home(bot, CAROL)
    before = len(publishes(bot, CAROL))
    assert bot.slack.click(Ids.DONE, user=CAROL, view=bot.fake.home_view(CAROL), value=str(bobs.id)).status == 200
    refusal = wait_until(lambda: dms(bot, CAROL), what="the refusal")
    assert refusal == ["Only the owner or the creator of this action item can change its status."]
    assert bot.runtime.services.actions.get(bobs.id).status == ActionStatus.OPEN
    assert len(publishes(bot, CAROL)) == before


def test_record_minutes_from_the_home_opens_the_minutes_modal(bot: Bot) -> None:
    owed = meeting(bot, NOW - timedelta(days=1), title="Budget review", post=True)
    open_home(bot, BOB)
    assert bot.slack.click(Ids.RECORD_MINUTES, user=BOB, view=bot.fake.home_view(BOB)).status == 200
    modal = bot.fake.wait_for("views.open")[0].params["view"]
    assert modal["callback_id"] == MeetingIds.MINUTES_MODAL and owed.code in block_text(modal)
    reply = bot.slack.submit_view({"decisions": "Ship in March"}, user=BOB)
    assert reply.status == 200 and reply.json() is None, reply.body
    wait_until(lambda: bot.runtime.services.meetings.get(owed.id).minutes_at, what="the minutes")
    assert headers(open_home(bot, BOB))[4] == "📝 Minutes still to record · 0"
    # someone who was not there is refused, as on the card
    meeting(bot, NOW - timedelta(days=2), participants=(CAROL,), title="Carol's")
    open_home(bot, CAROL)
    bot.slack.click(Ids.RECORD_MINUTES, user=CAROL, view=bot.fake.home_view(CAROL), value=str(owed.id))
    refusal = wait_until(lambda: dms(bot, CAROL), what="the refusal")
    assert refusal == [f"Only the host or a participant of {owed.code} can record its minutes."]
    assert len(bot.fake.calls("views.open")) == 1


@pytest.mark.sqlite_only  # Slack's limits and paging: the same rows on either database
def test_five_hundred_items_stay_within_slack_limits_and_page_through(bot: Bot) -> None:
    overdue = [NOW - timedelta(days=1 + n % 20, minutes=n) for n in range(37)]
    later = [NOW + timedelta(days=1 + n % 60, minutes=n) for n in range(463)]
    items(bot, BOB, overdue + later)
    for n in range(25):
        sheet(bot, confirm_by=NOW + timedelta(days=1, hours=n), post=False)
    for n in range(30):
        meeting(bot, NOW + timedelta(days=1, hours=n * 8), title=f"Upcoming {n}")
    for n in range(25):
        meeting(bot, NOW - timedelta(days=1 + n), title=f"Held {n}")

    view = open_home(bot, BOB)
    assert headers(view)[1:] == [
        "✍️ Awaiting your signature · 25",
        "📌 Open action items · 500 (37 overdue)",
        "📅 Upcoming meetings, next 14 days · 30",
        "📝 Minutes still to record · 25",
    ]
    assert len(elements(view, Ids.DONE)) == PAGE_SIZE and len(elements(view, Ids.SIGN)) == PAGE_SIZE
    assert len(elements(view, Ids.RECORD_MINUTES)) == PAGE_SIZE
    more = {e["value"]: e["text"]["text"] for e in elements(view, Ids.MORE)}
    assert more == {
        "sign:2": "Show more (15 more)",
        "actions:2": "Show more (490 more)",
        "meetings:2": "Show more (20 more)",
        "minutes:2": "Show more (15 more)",
    }
    assert all(r.startswith("🔴") for r in action_rows(view))

    view = click(bot, BOB, Ids.MORE, value="actions:2")
    assert "Showing 11–20 of 500" in block_text(view)
    assert {e["value"] for e in elements(view, Ids.PREVIOUS)} == {"actions:1"}
    assert [e["text"]["text"] for e in elements(view, Ids.MORE) if e["value"] == "actions:3"] == [
        "Show more (480 more)"
    ]
    assert [r.startswith("🔴") for r in action_rows(view)] == [True] * 10
    page2 = elements(view, Ids.DONE)
    # turning another part keeps this one where it was
    view = click(bot, BOB, Ids.MORE, value="meetings:2")
    assert elements(view, Ids.DONE) == page2 and "Showing 11–20 of 30" in block_text(view)
    # the fourth page reaches the items not yet due
    view = click(bot, BOB, Ids.MORE, value="actions:4")
    rows = action_rows(view)
    assert [r.startswith("🔴") for r in rows] == [True] * 7 + [False] * 3
    assert {e["value"] for e in elements(view, Ids.FIRST)} == {"actions:1"}
    # Done keeps the page; the last page has no "Show more"
    view = click(bot, BOB, Ids.DONE, value=page2[0]["value"])
    assert headers(view)[2] == "📌 Open action items · 499 (36 overdue)" and "Showing 31–40 of 499" in block_text(view)
    view = click(bot, BOB, Ids.MORE, value="actions:50")
    assert "Showing 491–499 of 499" in block_text(view)
    assert not [e for e in elements(view, Ids.MORE) if e["value"].startswith("actions:")]
    for published in publishes(bot, BOB):
        assert len(published["blocks"]) <= MAX_BLOCKS


def test_the_home_in_chinese(bot: Bot) -> None:
    sheet(bot, requester=ALICE, receiver=DAVE)
    items(bot, DAVE, [NOW - timedelta(days=3), NOW + timedelta(days=2)])
    meeting(bot, NOW + timedelta(days=1), participants=(DAVE,), title="发布会")
    meeting(bot, NOW - timedelta(days=1), participants=(DAVE,), title="预算")
    view = open_home(bot, DAVE)  # zh-CN in Slack
    assert headers(view)[1:] == [
        "✍️ 等待你签字 · 1",
        "📌 未完成的行动项 · 2（1 项已逾期）",
        "📅 未来 14 天的会议 · 1",
        "📝 待记录的会议纪要 · 1",
    ]
    assert action_rows(view)[0].startswith("🔴 *已逾期 3 天*\n")
    labels = {
        e["text"]["text"]
        for b in view["blocks"]
        for e in [b.get("accessory"), *(b.get("elements") or [])]
        if isinstance(e, dict) and e.get("type") == "button"
    }
    assert labels == {"签字", "完成", "记录纪要"}
    # and in English once Dave chooses it, on the same pages
    view = click(bot, DAVE, Ids.LANGUAGE, value="en")
    assert headers(view)[2] == "📌 Open action items · 2 (1 overdue)"
    assert action_rows(view)[0].startswith("🔴 *OVERDUE by 3 days*\n")


# -- the builder on its own -----------------------------------------------------------------------------------


def test_full_pages_of_long_records_stay_within_block_kit_limits() -> None:
    req = sheet_info()
    long = "&<>" * 400
    action = ActionInfo(
        id=1,
        code="ACT-2026-001",
        team_id=TEAM,
        title=long,
        owner_id=BOB,
        creator_id=ALICE,
        due=NOW - timedelta(days=400),
        deliverable=long,
        status=ActionStatus.BLOCKED,
        blocked_reason=long,
        source_type="meeting",
        source_id=1,
        source_code="MTG-2026-001",
        escalate_to=ALICE,
        channel_id="D1",
        message_ts="1.1",
        created_at=NOW,
        updated_at=NOW,
        done_at=None,
    )
    mtg = MeetingInfo(
        id=1,
        code="MTG-2026-001",
        team_id=TEAM,
        title=long,
        goal=long,
        start=NOW,
        duration_minutes=90,
        location=long,
        materials=long,
        host_id=ALICE,
        channel_id=GENERAL,
        message_ts="1.1",
        created_by=ALICE,
        created_at=NOW,
        participants=(BOB,) * 60,
        agenda=(),
        decisions=None,
        notes=None,
        minutes_at=None,
        minutes_by=None,
        minutes_ts=None,
    )
    link = "https://coordbot-test.slack.com/archives/C_GENERAL/p1" + "0" * 1500

    def listing(record: Any, n: int) -> Listing[Any]:
        shown = [_with_id(record, i) for i in range(n)]
        return Listing(shown, total=10_000, page=7, late=9_999, links={i: link for i in range(n)})

    for lang in ("en", "zh"):
        view = home_blocks.home(
            lang,
            awaiting=listing(req, PAGE_SIZE),
            actions=listing(action, PAGE_SIZE),
            meetings=listing(mtg, PAGE_SIZE),
            minutes=listing(mtg, PAGE_SIZE),
            chosen_lang="zh",
            tz="Asia/Shanghai",
            now=NOW,
        )
        payload = view.to_dict()  # Slack's own validators: lengths, counts
        assert len(payload["blocks"]) <= MAX_BLOCKS
        assert len(payload["private_metadata"]) < 3000


def _with_id(record: Any, new_id: int) -> Any:
    from dataclasses import replace

    return replace(record, id=new_id)


def sheet_info() -> RequirementInfo:
    """A sheet awaiting both signatures, for the builder alone."""
    return RequirementInfo(
        id=1,
        code="RW-2026-001",
        team_id=TEAM,
        revision=1,
        status=Status.AWAITING,
        author_id=ALICE,
        requester_dept="Marketing",
        requester_owner=ALICE,
        receiver_dept="Engineering",
        receiver_owner=BOB,
        background="b",
        goal="g",
        description="d",
        priority="high",
        due=NOW + timedelta(days=9),
        resources="",
        confirm_by=NOW - timedelta(days=1),
        channel_id=GENERAL,
        message_ts="1.1",
        change_reason=None,
        created_at=NOW,
        updated_at=NOW,
        confirmed_at=None,
    )
