"""A person's page (我的) and the incident numbers (事故 统计) on Feishu: end to end through the fake Feishu, and the
two card builders alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.errors import NotFound
from bot.services.actions import ActionStatus
from bot.services.incidents import Status as IncidentStatus
from bot.services.metrics import (
    ActionFigures,
    FollowUpFigures,
    IncidentFigures,
    MeetingFigures,
    Report,
    RequirementFigures,
    SeverityFigures,
    ratio,
    spread,
)
from bot.services.requirements import Status
from handlers.feishu.cards import actions as action_cards
from handlers.feishu.cards import meeting as meeting_cards
from handlers.feishu.cards import requirement as requirement_cards
from handlers.feishu.cards.common import validate_card
from handlers.feishu.cards.home import MAX_SHOWN, Shown, home_card
from handlers.feishu.cards.stats import stats_card
from handlers.feishu.incident import STATS_DAYS, stats_days
from handlers.feishu.setup import MENU
from tests import test_feishu
from tests.helpers import wait_until
from tests.test_feishu import ALICE, BOB, CAROL, CHAT, WS, FeishuBot, button_values, sheet_values
from tests.test_feishu_cards import item, sheet
from tests.test_feishu_cards_more import meeting

pytestmark = pytest.mark.sqlite_only  # cards and pages: the database's part is tested on both elsewhere

SECRET = "oc_board"  # a group Bob is not in
NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)  # the fixture's clock

feishu_bot = test_feishu.feishu_bot  # the deployment with the fake Feishu, as a fixture of these tests too


def content(bot: FeishuBot, message: dict[str, Any]) -> dict[str, Any]:
    """A card as it is now (after any update), checked as Feishu would."""
    shown: dict[str, Any] = bot.fake.message(message["message_id"])["content"]
    validate_card(shown)
    return shown


def form_for(bot: FeishuBot, chat: str) -> dict[str, Any]:
    """Wait for the requirement form for `chat` in Alice's direct chat."""
    wanted = {"form": "requirement", "chat": chat}
    return wait_until(
        lambda: next((m for m in bot.cards_in(to=ALICE) if wanted in list(button_values(m["content"]))), None),
        what=f"the form for {chat}",
    )


def an_item_for_bob(bot: FeishuBot) -> None:
    bot.action_for_bob("提交预算方案 下周五前")
    bot.card_with("ACT-2026-001", chat=CHAT)


# -- my page, end to end --------------------------------------------------------------------------------------


def test_my_page_lists_what_bob_owes_and_its_buttons_sign_and_close(feishu_bot: FeishuBot) -> None:
    """`我的` to the bot: the sheet awaiting Bob (not the one in a group he is not in) and his action item;
    确认 on the page signs the sheet, Done closes the item, and the page shows each change in place."""
    bot = feishu_bot
    bot.fake.add_chat(SECRET, "董事会", [ALICE, BOB, CAROL])
    bot.said("需求")
    bot.submit(form_for(bot, CHAT), ALICE, sheet_values())
    bot.card_with("RW-2026-001", chat=CHAT)
    bot.said("需求", chat=SECRET)
    bot.submit(form_for(bot, SECRET), ALICE, sheet_values(background="董事会的需求"))
    bot.card_with("RW-2026-002", chat=SECRET)
    bot.fake.chats[SECRET]["members"].remove(BOB)  # Bob left the board's group since
    assert bot.runtime.feishu is not None
    bot.runtime.feishu.people_for(WS).forget_chat(SECRET)
    secret = bot.runtime.services.requirements.by_code(WS, "RW-2026-002")
    assert secret.receiver_owner == BOB and secret.channel_id == SECRET  # it awaits Bob, in a group he cannot see
    an_item_for_bob(bot)

    bot.feishu.dm("我的", user=BOB)
    page = bot.card_with("My coordbot page", to=BOB)
    shown = bot.texts(page)
    assert "RW-2026-001" in shown and "ACT-2026-001" in shown and "提交预算方案" in shown, shown
    assert "RW-2026-002" not in shown, shown
    assert "Awaiting your signature · 1" in shown and "Open action items · 1" in shown, shown
    assert "No meetings in the next 14 days." in shown and "No minutes outstanding." in shown
    req = bot.runtime.services.requirements.by_code(WS, "RW-2026-001")
    item_id = bot.runtime.services.actions.by_code(WS, "ACT-2026-001").id
    values = list(button_values(content(bot, page)))
    assert {"do": requirement_cards.DO_SIGN, "id": req.id, "on": "home"} in values
    assert {"do": action_cards.DO_DONE, "id": item_id, "on": "home"} in values
    assert not any(v.get("id") == secret.id and v.get("do") == requirement_cards.DO_SIGN for v in values)

    # 确认 on the page: Bob signs, the sheet's card in the group shows it, and the page no longer asks
    bot.press(page, BOB, requirement_cards.DO_SIGN)
    wait_until(lambda: bot.runtime.services.requirements.get(req.id).signatures, what="Bob's signature")
    assert [s.user_id for s in bot.runtime.services.requirements.get(req.id).signatures] == [BOB]
    assert bot.runtime.services.requirements.get(req.id).status == Status.AWAITING  # Alice has not signed yet
    wait_until(lambda: len(bot.fake.message(str(req.message_ts))["versions"]) >= 2, what="the sheet's card updated")
    wait_until(lambda: "Nothing awaits your signature." in bot.texts(page), what="the page drawn again")
    assert "ACT-2026-001" in bot.texts(page)

    # Done on the page: the item is closed, its card shows it, and the page has nothing open
    bot.press(page, BOB, action_cards.DO_DONE)
    wait_until(lambda: bot.runtime.services.actions.get(item_id).status == ActionStatus.DONE, what="done")
    wait_until(lambda: "No open action items." in bot.texts(page), what="the page drawn again")
    content(bot, page)
    assert not any("My coordbot page" in bot.texts(m) for m in bot.cards_in(chat=CHAT))


def test_my_page_in_chinese_from_a_group_mention(feishu_bot: FeishuBot) -> None:
    """`@coordbot 我的` in a group: the page goes to the person's direct chat, never the group; in Chinese for a
    person who chose it, and its Done works."""
    bot = feishu_bot
    bot.feishu.dm("语言 中文", user=BOB)
    bot.card_with("以后我用中文", to=BOB)
    an_item_for_bob(bot)
    bot.said("我的", user=BOB)
    page = bot.card_with("我的 coordbot", to=BOB)
    shown = bot.texts(page)
    assert "未完成的行动项 · 1" in shown and "没有等待你签字的需求。" in shown, shown
    assert "截止 2026-12-04（周五）18:00" in shown, shown
    assert not any("我的 coordbot" in bot.texts(m) for m in bot.cards_in(chat=CHAT))
    content(bot, page)
    bot.press(page, BOB, action_cards.DO_DONE)
    wait_until(lambda: "没有未完成的行动项。" in bot.texts(page), what="the page drawn again")


def test_my_page_from_the_menu_from_home_and_when_the_chat_is_first_opened(feishu_bot: FeishuBot) -> None:
    """The menu's `home`, `/home`, and opening the bot's chat (after the hello) each send the page."""
    bot = feishu_bot
    assert MENU[0][0] == "home"
    assert bot.feishu.enter_dm(user=CAROL).status == 200
    bot.card_with("Hi!", to=CAROL)
    bot.card_with("My coordbot page", to=CAROL)
    before = len(bot.cards_in(to=CAROL))
    assert bot.feishu.menu("home", user=CAROL).status == 200
    wait_until(lambda: len(bot.cards_in(to=CAROL)) > before, what="the page from the menu")
    assert "My coordbot page" in bot.texts(bot.cards_in(to=CAROL)[-1])
    before = len(bot.cards_in(to=CAROL))
    bot.feishu.dm("/home", user=CAROL)
    wait_until(lambda: len(bot.cards_in(to=CAROL)) > before, what="the page from /home")
    last = bot.cards_in(to=CAROL)[-1]
    assert "Nothing awaits your signature." in bot.texts(last)
    content(bot, last)


def test_a_meeting_ahead_is_on_the_page_with_a_minutes_button_once_it_is_over(feishu_bot: FeishuBot) -> None:
    """A meeting Bob takes part in is listed ahead; once over, Record minutes on the page opens its form."""
    bot = feishu_bot
    bot.said("会议")
    form = wait_until(lambda: next(iter(bot.cards_in(to=ALICE)), None), what="the meeting form")
    bot.submit(
        form,
        ALICE,
        {
            meeting_cards.Names.TITLE: "周例会",
            meeting_cards.Names.GOAL: "确定下周的优先级",
            meeting_cards.Names.START: "下周一上午10点",
            meeting_cards.Names.DURATION: "60",
            meeting_cards.Names.PARTICIPANTS: [BOB],
            meeting_cards.Names.AGENDA: "进度回顾 — @韩梅梅 — 20 min",
        },
    )
    bot.card_with("MTG-2026-001", chat=CHAT)
    bot.feishu.dm("home", user=BOB)
    page = bot.card_with("Upcoming meetings, next 14 days · 1", to=BOB)
    assert "MTG-2026-001" in bot.texts(page) and "周例会" in bot.texts(page)
    bot.clock.advance(timedelta(days=5))  # Tuesday: Monday's meeting is over, without minutes
    before = len(bot.cards_in(to=BOB))
    bot.feishu.dm("home", user=BOB)
    wait_until(lambda: len(bot.cards_in(to=BOB)) > before, what="the page again")
    later = bot.cards_in(to=BOB)[-1]
    assert "Minutes still to record · 1" in bot.texts(later), bot.texts(later)
    info = bot.runtime.services.meetings.by_code(WS, "MTG-2026-001")
    assert {"do": meeting_cards.DO_MINUTES, "id": info.id} in list(button_values(content(bot, later)))
    bot.press(later, BOB, meeting_cards.DO_MINUTES)
    wait_until(
        lambda: any(
            {"form": "minutes"}.items() <= v.items() for m in bot.cards_in(to=BOB) for v in button_values(m["content"])
        ),
        what="the minutes form",
    )


# -- incident numbers, end to end --------------------------------------------------------------------------------


def declare_and_resolve(bot: FeishuBot) -> None:
    """Carol declares a SEV2 (her own, so acknowledged as declared) and resolves it an hour later."""
    bot.said("事故 SEV2 支付接口超时", user=CAROL)
    info = wait_until(lambda: bot.runtime.services.incidents.by_code(WS, "INC-2026-001"), what="the incident")
    wait_until(lambda: bot.runtime.services.incidents.get(info.id).summary_ts, what="its card")
    chat = str(bot.runtime.services.incidents.get(info.id).channel_id)
    bot.clock.advance(timedelta(hours=1))
    bot.said("事故 解决 已扩容连接池", user=CAROL, chat=chat)
    wait_until(lambda: bot.runtime.services.incidents.get(info.id).status == IncidentStatus.RESOLVED, what="resolved")


def test_incident_numbers_of_the_last_30_days(feishu_bot: FeishuBot) -> None:
    """`事故 统计 30` after an incident declared and resolved: its numbers, to the asker alone, in the language
    they wrote in; `/incident stats 30` the same in English."""
    bot = feishu_bot
    declare_and_resolve(bot)
    before = len(bot.cards_in(chat=CHAT))
    bot.said("事故 统计 30", user=CAROL)
    card = bot.card_with("事故统计", to=CAROL)
    shown = bot.texts(card)
    assert "SEV2 · 重大" in shown, shown
    assert "— 1 起" in shown and "MTTA 0秒" in shown and "MTTR 1小时0分" in shown, shown
    assert "近 30 天" in shown and "2026-10-27（周二） → 2026-11-26（周四）" in shown, shown
    content(bot, card)
    assert len(bot.cards_in(chat=CHAT)) == before  # nothing said in the group

    bot.feishu.dm("/incident stats 30", user=CAROL)
    card = bot.card_with("Incident stats", to=CAROL)
    shown = bot.texts(card)
    assert "SEV2 · Major" in shown and "MTTA 0 s" in shown and "MTTR 1 h 0 min" in shown, shown
    assert "the last 30 days" in shown and "2026-10-27 (Tue) → 2026-11-26 (Thu)" in shown, shown
    assert "Reopened" in shown and "Follow-ups" in shown and "— 1 ·" in shown, shown
    content(bot, card)


def test_incident_numbers_in_chinese_and_none_in_english(feishu_bot: FeishuBot) -> None:
    """`/incident stats` with no incident gives its empty card (90 days); in Chinese once an incident is done."""
    bot = feishu_bot
    bot.feishu.dm("/incident stats", user=ALICE)
    empty = bot.card_with("No incidents were declared in this period.", to=ALICE)
    assert "the last 90 days" in bot.texts(empty)
    content(bot, empty)
    declare_and_resolve(bot)
    bot.feishu.dm("语言 中文", user=BOB)
    bot.card_with("以后我用中文", to=BOB)
    bot.feishu.dm("事故 统计 7天", user=BOB)
    card = bot.card_with("事故统计", to=BOB)
    shown = bot.texts(card)
    assert "近 7 天" in shown and "— 1 起" in shown and "MTTA 0秒" in shown and "MTTR 1小时0分" in shown, shown
    content(bot, card)
    with pytest.raises(NotFound):  # the words were read as the verb, not as an incident's title
        bot.runtime.services.incidents.by_code(WS, "INC-2026-002")


# -- the builders alone ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "days"),
    [("统计", STATS_DAYS), ("统计 30", 30), ("stats 7d", 7), ("统计 14天", 14), ("stats 0", 90), ("stats x", 90)],
)
def test_stats_days(text: str, days: int) -> None:
    assert stats_days(text) == days


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_full_page_fits_a_card(lang: str) -> None:
    """More than MAX_SHOWN of each part, every title at its longest in Chinese: a valid card, with the counts."""
    long = "很长的标题" * 100
    sheets = [sheet(id=i, code=f"RW-2026-{i:03d}", confirm_by=NOW - timedelta(days=3)) for i in range(1, 26)]
    items = [item(id=i, code=f"ACT-2026-{i:03d}", title=long) for i in range(1, 26)]
    ahead = [meeting(id=i, code=f"MTG-2026-{i:03d}", title=long) for i in range(1, 26)]
    built = home_card(
        lang,
        awaiting=Shown(sheets, 25, 25),
        actions=Shown(items, 25, 0),
        meetings=Shown(ahead, 25),
        minutes=Shown([replace(m, start=NOW - timedelta(days=1)) for m in ahead], 25),
        tz="Asia/Shanghai",
        now=NOW,
    )
    validate_card(built)
    values = list(button_values(built))
    assert sum(1 for v in values if v.get("do") == requirement_cards.DO_SIGN) == MAX_SHOWN
    assert sum(1 for v in values if v.get("do") == meeting_cards.DO_MINUTES) == MAX_SHOWN
    text = str(built)
    assert ("Showing 1–10 of 25" if lang == "en" else "第 1–10 项，共 25 项") in text
    assert ("OVERDUE by 3 days" if lang == "en" else "已逾期 3 天") in text
    assert built["header"]["template"] == "orange"


def test_an_empty_page_says_so_in_each_part() -> None:
    built = home_card(
        "en", awaiting=Shown(), actions=Shown(), meetings=Shown(), minutes=Shown(), tz="Asia/Shanghai", now=NOW
    )
    validate_card(built)
    text = str(built)
    assert "Nothing awaits your signature." in text and "No open action items." in text
    assert not list(button_values(built)) and built["header"]["template"] == "blue"


def figures(severity: str, count: int, acked: list[float], resolved: list[float]) -> SeverityFigures:
    return SeverityFigures(severity, count, spread(acked), spread(resolved))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_stats_card_from_a_report(lang: str) -> None:
    sev1 = figures("SEV1", 2, [120.0, 600.0], [3600.0, 7200.0])
    none = [figures(s, 0, [], []) for s in ("SEV2", "SEV3", "SEV4")]
    report = Report(
        team_id=WS,
        channel_id=None,
        since=NOW - timedelta(days=90),
        until=NOW,
        as_of=NOW,
        incidents=IncidentFigures(figures("all", 2, [120.0, 600.0], [3600.0, 7200.0]), (sev1, *none), ratio(1, 2)),
        follow_ups=FollowUpFigures(total=3, done=1, wont_do=0, overdue=1, open=1),
        requirements=RequirementFigures(0, 0, spread([]), ratio(0, 0), 0, 0),
        actions=ActionFigures(ratio(0, 0), (), (), spread([])),
        meetings=MeetingFigures(0, ratio(0, 0), ratio(0, 0)),
    )
    built = stats_card(lang, report, scope_label="<at id=all></at> *x*", tz="Asia/Shanghai")
    validate_card(built)
    text = str(built)
    assert "SEV1" in text and "SEV2" not in text
    assert ("6 min" if lang == "en" else "6分") in text  # the median of 2 and 10 minutes
    assert ("50% (1 of 2)" if lang == "en" else "50%") in text
    assert "<at id=all>" not in str(built["body"])  # the scope is plain text in the subtitle only
