"""Cards in each reader's Feishu language: `bilingual` on its own and on every record card, and end to end which
cards carry both languages (a group with no language set, a person who has not chosen one) and which one."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest

from bot.services.metrics import (
    ActionFigures,
    FollowUpFigures,
    IncidentFigures,
    MeetingFigures,
    Report,
    RequirementFigures,
    ratio,
    spread,
)
from bot.text import LANGS, t
from handlers.feishu.cards import actions as action_cards
from handlers.feishu.cards import incident as incident_cards
from handlers.feishu.cards import meeting as meeting_cards
from handlers.feishu.cards import requirement as requirement_cards
from handlers.feishu.cards.check import CARD_MAX_BYTES, TITLE_MAX
from handlers.feishu.cards.common import button, buttons, card, markdown, validate_card
from handlers.feishu.cards.digest import digest_card
from handlers.feishu.cards.home import Shown, home_card
from handlers.feishu.cards.i18n import LOCALES, bilingual
from handlers.feishu.cards.stats import stats_card
from tests import test_feishu
from tests.helpers import wait_until
from tests.test_feishu import ALICE, BOB, CHAT, WS, FeishuBot, sheet_values
from tests.test_feishu_cards import item, sheet
from tests.test_feishu_cards_more import digest, incident, meeting
from tests.test_feishu_home import figures

pytestmark = pytest.mark.sqlite_only  # cards and pages: the database's part is tested on both elsewhere

feishu_bot = test_feishu.feishu_bot  # the deployment with the fake Feishu, as a fixture of these tests too

TZ = "Asia/Shanghai"
NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
WORDS = {
    "zh": {"title": "需求表", "body": "**负责人**：<at id=ou_bob></at>", "button": "确认", "summary": "需求表 RW-1"},
    "en": {"title": "Sheet", "body": "**Owner**: <at id=ou_bob></at>", "button": "Confirm", "summary": "Sheet RW-1"},
}


def small(
    lang: str, *, value: Callable[[str], dict[str, Any]] = lambda lang: {"do": "sign", "id": 1}
) -> dict[str, Any]:
    """A record's card in `lang`: a translated header, body and button, an untranslated subtitle and note."""
    words = WORDS[lang]
    elements = [
        markdown(words["body"]),
        markdown("RW-2026-001", notation=True),
        buttons(button(words["button"], value(lang), name="sign")),
    ]
    return card(words["title"], elements, subtitle="RW-2026-001", summary=words["summary"])


def without_i18n(node: Any) -> Any:
    """A card with its i18n_content taken out: what the primary language's build alone is."""
    if isinstance(node, dict):
        return {k: without_i18n(v) for k, v in node.items() if k != "i18n_content"}
    if isinstance(node, list):
        return [without_i18n(v) for v in node]
    return node


def i18n_texts(node: Any) -> list[dict[str, str]]:
    """Every i18n_content in a card."""
    found: list[dict[str, str]] = []
    if isinstance(node, dict):
        if "i18n_content" in node:
            found.append(node["i18n_content"])
        for value in node.values():
            found += i18n_texts(value)
    elif isinstance(node, list):
        for value in node:
            found += i18n_texts(value)
    return found


# -- bilingual ------------------------------------------------------------------------------------------------


def test_every_catalog_language_has_a_feishu_locale() -> None:
    assert set(LOCALES) == set(LANGS)


@pytest.mark.parametrize("primary", ["zh", "en"])
def test_translated_texts_carry_every_language_and_content_stays_the_primarys(primary: str) -> None:
    built = bilingual(small, primary)
    validate_card(built)
    other = "en" if primary == "zh" else "zh"
    both = {LOCALES[primary]: WORDS[primary]["title"], LOCALES[other]: WORDS[other]["title"]}
    assert built["header"]["title"] == {"tag": "plain_text", "content": WORDS[primary]["title"], "i18n_content": both}
    body, note, row = built["body"]["elements"]
    assert body["content"] == WORDS[primary]["body"]
    assert body["i18n_content"] == {"zh_cn": WORDS["zh"]["body"], "en_us": WORDS["en"]["body"]}
    sign = row["columns"][0]["elements"][0]
    assert sign["text"]["content"] == WORDS[primary]["button"]
    assert sign["text"]["i18n_content"] == {"zh_cn": "确认", "en_us": "Confirm"}
    assert sign["behaviors"] == [{"type": "callback", "value": {"do": "sign", "id": 1}}]
    assert built["config"]["summary"]["i18n_content"] == {"zh_cn": "需求表 RW-1", "en_us": "Sheet RW-1"}
    # the same in every language: left as it is
    assert "i18n_content" not in built["header"]["subtitle"] and "i18n_content" not in note
    assert without_i18n(built) == small(primary)


def test_builds_that_differ_in_more_than_texts_give_the_primary_alone(caplog: pytest.LogCaptureFixture) -> None:
    by_lang = partial(small, value=lambda lang: {"do": "sign", "id": 1, "lang": lang})
    with caplog.at_level(logging.DEBUG, logger="handlers.feishu.cards.i18n"):
        built = bilingual(by_lang, "zh")
    assert built == by_lang("zh") and not i18n_texts(built)
    assert "behaviors[0].value.lang" in caplog.text


@pytest.mark.parametrize(
    "change",
    [
        lambda built: built["body"]["elements"].append(markdown("only in English")),  # a list longer
        lambda built: built["header"].pop("subtitle"),  # a key fewer
        lambda built: built["header"].update(template="red"),  # a value other than a text
    ],
)
def test_any_structural_difference_falls_back_to_the_primary(change: Callable[[dict[str, Any]], Any]) -> None:
    def build(lang: str) -> dict[str, Any]:
        built = small(lang)
        if lang == "en":
            change(built)
        return built

    assert bilingual(build, "zh") == small("zh")
    assert bilingual(build, "en") == build("en")


def test_a_card_too_large_in_both_languages_is_sent_in_the_primary_alone() -> None:
    def build(lang: str) -> dict[str, Any]:
        return card(WORDS[lang]["title"], [markdown("长" * 4000 if lang == "zh" else "long " * 3000)])

    assert len(json.dumps(build("zh"), ensure_ascii=False).encode()) < CARD_MAX_BYTES
    assert bilingual(build, "zh") == build("zh")


def test_validate_card_checks_texts_by_language() -> None:
    built = bilingual(small, "zh")
    validate_card(built)
    for texts, message in (
        ({"xx_yy": "x"}, "unknown locale"),
        ({"en_us": " "}, "empty"),
        ({"en_us": "x" * (TITLE_MAX + 1)}, "longer"),
        ("Sheet", "not an object"),
    ):
        broken = bilingual(small, "zh")
        broken["header"]["title"]["i18n_content"] = texts
        with pytest.raises(ValueError, match=message):
            validate_card(broken)
    broken = bilingual(small, "zh")
    broken["body"]["elements"][0]["i18n_content"] = {"en_us": ""}
    with pytest.raises(ValueError, match="empty"):
        validate_card(broken)


REPORT = Report(
    team_id=WS,
    channel_id=None,
    since=NOW - timedelta(days=90),
    until=NOW,
    as_of=NOW,
    incidents=IncidentFigures(
        figures("all", 1, [120.0], [3600.0]), (figures("SEV1", 1, [120.0], [3600.0]),), ratio(0, 1)
    ),
    follow_ups=FollowUpFigures(total=1, done=1, wont_do=0, overdue=0, open=0),
    requirements=RequirementFigures(0, 0, spread([]), ratio(0, 0), 0, 0),
    actions=ActionFigures(ratio(0, 0), (), (), spread([])),
    meetings=MeetingFigures(0, ratio(0, 0), ratio(0, 0)),
)
RECORD_CARDS: dict[str, Callable[[str], dict[str, Any]]] = {
    "stats": lambda lang: stats_card(lang, REPORT, scope_label=t(lang, "feishu.stats.scope", days=90), tz=TZ),
    "requirement": partial(requirement_cards.requirement_card, req=sheet(), tz=TZ),
    "action": partial(action_cards.action_card, item=item(), tz=TZ),
    "incident": partial(incident_cards.incident_card, info=incident(), tz=TZ),
    "meeting": partial(meeting_cards.meeting_card, info=meeting(), tz=TZ),
    "minutes": partial(meeting_cards.minutes_card, info=meeting(), actions=[item()], tz=TZ),
    "digest": partial(digest_card, digest=digest(), tz=TZ, chart_key="img_chart"),
    "home": partial(
        home_card,
        awaiting=Shown([sheet()], 1, 0),
        actions=Shown([item()], 1, 1),
        meetings=Shown([meeting()], 1, 0),
        minutes=Shown([meeting()], 1, 0),
        tz=TZ,
        now=NOW,
    ),
}


@pytest.mark.parametrize("primary", ["zh", "en"])
@pytest.mark.parametrize("kind", list(RECORD_CARDS))
def test_every_record_card_carries_both_languages(kind: str, primary: str) -> None:
    build = RECORD_CARDS[kind]
    built = bilingual(build, primary)
    validate_card(built)
    assert without_i18n(built) == build(primary)
    texts = i18n_texts(built)
    assert texts and all(set(t) == {"zh_cn", "en_us"} for t in texts), kind
    assert any(t["zh_cn"] != t["en_us"] for t in texts)


# -- end to end -------------------------------------------------------------------------------------------------


def current(bot: FeishuBot, message: dict[str, Any]) -> dict[str, Any]:
    """A card as it is now (after any update), checked as Feishu would."""
    shown: dict[str, Any] = bot.fake.message(message["message_id"])["content"]
    validate_card(shown)
    return shown


def test_a_sheet_in_a_group_with_no_language_shows_each_reader_theirs(feishu_bot: FeishuBot) -> None:
    """The sheet's card in a group with no language set: Chinese (Alice writes in it, never having chosen a
    language) with English beside every translated text, also once it is updated; the form Alice filled in was in
    her language alone."""
    bot = feishu_bot
    assert bot.runtime.feishu is not None
    people = bot.runtime.feishu.people_for(WS)
    bot.said("需求 列表")
    wait_until(lambda: people.lang_of(ALICE) == "zh", what="Alice heard writing Chinese")
    assert people.chosen_lang(ALICE) is None
    bot.said("需求")
    form = wait_until(
        lambda: next((m for m in bot.cards_in(to=ALICE) if "form" in json.dumps(m["content"])), None),
        what="the form in Alice's direct chat",
    )
    assert "需求" in bot.texts(form) and not i18n_texts(form["content"])
    bot.submit(form, ALICE, sheet_values())
    posted = bot.card_with("RW-2026-001", chat=CHAT)
    shown = current(bot, posted)
    title = shown["header"]["title"]
    assert title["content"] == "RW-2026-001 · 需求沟通与确认表"
    assert title["i18n_content"] == {
        "zh_cn": "RW-2026-001 · 需求沟通与确认表",
        "en_us": "RW-2026-001 · Requirement sheet",
    }
    assert any(t.get("en_us") == "Confirm" and t.get("zh_cn") == "确认签字" for t in i18n_texts(shown))

    bot.press(posted, BOB, requirement_cards.DO_SIGN)
    wait_until(lambda: len(bot.fake.message(posted["message_id"])["versions"]) >= 2, what="the card updated")
    updated = current(bot, posted)
    assert updated["header"]["title"]["i18n_content"]["en_us"] == "RW-2026-001 · Requirement sheet"
    assert "<at id=ou_bob></at>" in updated["body"]["elements"][0]["content"]


def test_a_group_with_a_language_set_gets_its_cards_in_it_alone(feishu_bot: FeishuBot) -> None:
    bot = feishu_bot
    prefs = bot.runtime.services.prefs
    bot.said("语言 本群 English", user=BOB)  # anyone in the group may set it; the group is told
    wait_until(lambda: prefs.channel_lang(WS, CHAT) == "en", what="the group's language stored")
    bot.card_with("set this group's language", chat=CHAT)
    bot.action_for_bob("提交预算方案 下周五前")
    posted = bot.card_with("ACT-2026-001", chat=CHAT)
    shown = current(bot, posted)
    assert not i18n_texts(shown), shown
    assert "**Owner**" in bot.texts(posted) and "负责人" not in bot.texts(posted)

    bot.press(posted, BOB, action_cards.DO_DONE)
    wait_until(lambda: len(bot.fake.message(posted["message_id"])["versions"]) >= 2, what="the card updated")
    assert not i18n_texts(current(bot, posted))

    bot.said("语言 本群 自动", user=BOB)  # unset: each reader's own language again
    wait_until(lambda: prefs.channel_lang(WS, CHAT) is None, what="the group's language unset")
    bot.card_with("自己的飞书语言", chat=CHAT)  # said in the language Bob wrote in
    bot.feishu.react("DONE", user=BOB, message_id=posted["message_id"], removed=True)  # reopened: shown again
    wait_until(lambda: len(bot.fake.message(posted["message_id"])["versions"]) >= 3, what="the card updated again")
    assert i18n_texts(current(bot, posted))
    bot.said("语言 English", user=ALICE)  # without 本群: Alice's own language, not the group's
    wait_until(lambda: prefs.user_lang(WS, ALICE) == "en", what="Alice's choice")
    assert prefs.channel_lang(WS, CHAT) is None


def test_a_person_who_chose_a_language_gets_their_cards_in_it_alone(feishu_bot: FeishuBot) -> None:
    """Bob's page carries both languages until he chooses one (`语言 English`); then only English."""
    bot = feishu_bot
    bot.feishu.dm("我的", user=BOB)
    first = bot.card_with("My coordbot page", to=BOB)
    shown = current(bot, first)
    assert shown["header"]["title"]["i18n_content"] == {"en_us": "My coordbot page", "zh_cn": "我的 coordbot"}

    bot.feishu.dm("语言 English", user=BOB)
    wait_until(lambda: bot.runtime.services.prefs.user_lang(WS, BOB) == "en", what="Bob's choice stored")
    bot.feishu.dm("我的", user=BOB)
    pages = wait_until(
        lambda: (found := [m for m in bot.cards_in(to=BOB) if "My coordbot page" in bot.texts(m)])[1:] and found,
        what="the second page",
    )
    assert not i18n_texts(current(bot, pages[-1]))


def test_an_incident_chat_with_a_language_set_keeps_its_card_in_it_whoever_presses(feishu_bot: FeishuBot) -> None:
    """The incident's pinned card follows the chat's language once one is set there, not the language of the
    person whose button redraws it (here someone writing Chinese)."""
    bot = feishu_bot
    incidents = bot.runtime.services.incidents
    bot.said("事故 SEV2 支付接口超时", user=ALICE)
    info = wait_until(lambda: incidents.by_code(WS, "INC-2026-001"), what="the incident")
    summary = wait_until(lambda: incidents.get(info.id).summary_ts, what="the summary card posted")
    chat = str(incidents.get(info.id).channel_id)
    bot.said("语言 本群 English", user=ALICE, chat=chat)
    wait_until(lambda: bot.runtime.services.prefs.channel_lang(WS, chat) == "en", what="the chat's language")
    card = {"message_id": summary, "chat_id": chat}
    bot.press(card, ALICE, incident_cards.DO_STATUS, status="identified")
    wait_until(lambda: incidents.get(info.id).status.value == "identified", what="identified")
    wait_until(lambda: len(bot.fake.message(summary)["versions"]) >= 2, what="the card redrawn")
    shown = current(bot, card)
    assert not i18n_texts(shown), shown
    assert t("en", "incident.status.identified") in json.dumps(shown, ensure_ascii=False)
    assert t("zh", "incident.status.identified") not in json.dumps(shown, ensure_ascii=False)
