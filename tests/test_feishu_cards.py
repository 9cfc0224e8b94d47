"""Feishu card builders: markdown conversion and escaping, the common elements, requirement and action cards."""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.errors import ValidationFailed
from bot.people import Member
from bot.services.actions import ActionInfo, ActionStatus
from bot.services.requirements import (
    HistoryItem,
    QuestionInfo,
    RequirementInfo,
    Role,
    SignatureInfo,
    Status,
)
from handlers.blocks.common import escape, mention
from handlers.feishu.cards import actions as fa
from handlers.feishu.cards import requirement as fr
from handlers.feishu.cards.common import (
    CARD_MAX_BYTES,
    Md,
    at,
    button,
    card,
    errors_toast,
    escape_md,
    form,
    form_text,
    lark_md,
    lark_t,
    markdown,
    person_picker,
    plain,
    select,
    text_input,
    toast,
    validate_card,
    when,
)

NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)  # Thursday 14:00 in Shanghai
TZ = "Asia/Shanghai"
SH = ZoneInfo(TZ)
LANGS = ("en", "zh")
ALICE, BOB, CAROL = "ou_alice", "ou_bob", "ou_carol"
EVIL = "<at id=all></at> [x](http://evil) **b** <b>bold</b> &amp; <!here> _i_ ~s~ `c` # h\n- item\n> q"
LONG = "长" * 900


def local(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


def markdowns(node: Any) -> list[str]:
    """Every markdown content in a card."""
    found: list[str] = []

    def walk(n: Any) -> None:
        if isinstance(n, dict):
            if n.get("tag") == "markdown":
                found.append(n["content"])
            for v in n.values():
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)

    walk(node)
    return found


def interactive(node: Any, tag: str) -> list[dict[str, Any]]:
    """Every element with this tag, in order."""
    found: list[dict[str, Any]] = []

    def walk(n: Any) -> None:
        if isinstance(n, dict):
            if n.get("tag") == tag:
                found.append(n)
            for v in n.values():
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)

    walk(node)
    return found


_MENTION = re.compile(r"<at id=ou_[a-z]+></at>")


def assert_safe(content: str) -> None:
    """Typed text formed no markup: the only tags are mentions of people, no link reaches evil, no ** pair."""
    without_mentions = _MENTION.sub("", content)
    assert "<" not in without_mentions, content
    assert "](http://evil" not in content, content
    assert "**b**" not in content and "`c`" not in content, content


def checked(built: dict[str, Any]) -> dict[str, Any]:
    validate_card(built)
    json.dumps(built)  # JSON as it is sent
    return built


# -- markdown --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("plain words 中文", "plain words 中文"),
        ("<at id=all></at>", "&#60;at id=all&#62;&#60;/at&#62;"),
        ("[x](http://evil)", "&#91;x&#93;(http://evil)"),
        ("**b** _i_ ~s~ `c`", "&#42;&#42;b&#42;&#42; &#95;i&#95; &#126;s&#126; &#96;c&#96;"),
        ("<b>x</b> & y", "&#60;b&#62;x&#60;/b&#62; &#38; y"),
        ("&#60;at id=all&#62;", "&#38;#60;at id=all&#38;#62;"),  # a typed reference shows as typed
        (
            "# title\n- item\n+ item\n1. one\n2) two\n---",
            "&#35; title\n&#45; item\n&#43; item\n1&#46; one\n2&#41; two\n&#45;--",
        ),
        ("a - b, 3. c # d", "a - b, 3. c # d"),  # only at the start of a line do these mean anything
        ("> quote", "&#62; quote"),
        ("back\\slash | pipe $x", "back&#92;slash &#124; pipe &#36;x"),
        ("bell\x07 nul\x00 crlf\r\nend", "bell nul crlf\nend"),
    ],
)
def test_escape_md(typed: str, expected: str) -> None:
    assert escape_md(typed) == expected
    assert html.unescape(expected) == typed.replace("\x07", "").replace("\x00", "").replace("\r\n", "\n")


@pytest.mark.parametrize(
    ("mrkdwn", "expected"),
    [
        ("*bold* and _it_ and ~gone~", "**bold** and *it* and ~~gone~~"),
        ("*RW-2026-001* · 待签字", "**RW&#45;2026&#45;001** · 待签字".replace("&#45;", "-")),
        ("a*b*c 2*3 snake_case_name", "a&#42;b&#42;c 2&#42;3 snake&#95;case&#95;name"),
        ("<@ou_alice> signed", "<at id=ou_alice></at> signed"),
        ("<@U123|alice> and <@ou_x|x>", "<at id=U123></at> and <at id=ou_x></at>"),
        ("<!here> look", "<at id=all></at> look"),
        ("<https://example.com/a?b=1&amp;c=(2)|the sheet>", "[the sheet](https://example.com/a?b=1&c=%282%29)"),
        ("<https://example.com>", "[https://example.com](https://example.com)"),
        ("<javascript:alert(1)|x>", "&#60;javascript:alert(1)&#124;x&#62;"),
        (
            "<!date^1796966400^{date_short_pretty} {time}|2026-12-11 15:00 Asia/Shanghai>",
            "2026-12-11 15:00 Asia/Shanghai",
        ),
        ("in <#oc_123|general> and <#C456>", "in &#35;general and &#35;C456"),
        (">quoted line\nafter", "> quoted line\nafter"),
        ("&gt; typed quote", "&#62; typed quote"),
        ("`/action @li 提交预算方案 下周五前`", "`/action @li 提交预算方案 下周五前`"),
        ("`*not bold*`", "`&#42;not bold&#42;`"),
        (
            escape("<at id=all></at> [x](http://evil) <b>"),
            "&#60;at id=all&#62;&#60;/at&#62; &#91;x&#93;(http://evil) &#60;b&#62;",
        ),
        (escape("&lt; typed entity"), "&#38;lt; typed entity"),
        ("1. not a list\n- nor this\n# nor a heading", "1&#46; not a list\n&#45; nor this\n&#35; nor a heading"),
        ("forged \ue001marker\ue001 \ue200", "forged marker "),
    ],
)
def test_lark_md(mrkdwn: str, expected: str) -> None:
    assert lark_md(mrkdwn) == expected


def test_lark_md_names_chats_it_is_told_about() -> None:
    assert lark_md("<#oc_9>", chat_names={"oc_9": "产品群"}) == "&#35;产品群"


def test_lark_t_escapes_typed_parameters_and_keeps_markdown_ones() -> None:
    got = lark_t("en", "action.card_title", code="ACT-1", title=EVIL)
    assert got.startswith("**ACT-1** · ")
    assert_safe(got)
    assert html.unescape(got.split(" · ", 1)[1]) == EVIL
    signed = lark_t("zh", "sheet.signed", user=at(ALICE), when=when(NOW, TZ, "zh"))
    assert signed == "✅ <at id=ou_alice></at> 已于 2026-11-26（周四）14:00 签字"
    link = lark_t("en", "remind.sign", code="RW-1", when="x", link="https://a.example/s?id=1&x=(2)")
    assert "[Open the sheet](https://a.example/s?id=1&x=%282%29)" in link and "**RW-1**" in link


def test_at_refuses_what_is_not_an_id() -> None:
    assert at("ou_abc") == "<at id=ou_abc></at>"
    assert at("all></at><at id=all") == Md("all&#62;&#60;/at&#62;&#60;at id=all")
    assert at("all") == "all" and at("ALL") == "ALL"
    assert lark_md("<@all> <@all|everyone>") == "all everyone"


@pytest.mark.parametrize(
    ("lang", "with_time", "expected"),
    [
        ("en", True, "2026-12-11 (Fri) 15:00"),
        ("zh", True, "2026-12-11（周五）15:00"),
        ("en", False, "2026-12-11 (Fri)"),
        ("zh", False, "2026-12-11（周五）"),
    ],
)
def test_when_in_the_readers_zone(lang: str, with_time: bool, expected: str) -> None:
    assert when(datetime(2026, 12, 11, 7, 0, tzinfo=UTC), TZ, lang, with_time=with_time) == expected


def test_when_in_an_unknown_zone_is_utc() -> None:
    assert when(datetime(2026, 12, 11, 7, 0, tzinfo=UTC), "Mars/Olympus", "en") == "2026-12-11 (Fri) 07:00"


def test_plain_drops_control_characters_and_cuts() -> None:
    assert plain("a\x00b\x07c") == "abc"
    assert plain("x" * 200, 10) == "x" * 9 + "…"


# -- cards, elements and their check ---------------------------------------------------------------------------


def small_card() -> dict[str, Any]:
    fields = [
        text_input("t", "T", required=True),
        person_picker("p", "P"),
        select("s", "S", [("a", "A"), ("b", "B")], default="b"),
    ]
    return card(
        "Title",
        [markdown("hi"), form("f", fields, "Go", {"form": "x"}), button("B", {"do": "x"}, name="b")],
        subtitle="sub",
    )


def test_a_card_has_the_json_2_shape() -> None:
    built = checked(small_card())
    assert built["schema"] == "2.0" and built["config"]["update_multi"] is True
    assert built["header"]["title"] == {"tag": "plain_text", "content": "Title"}
    assert built["header"]["subtitle"]["content"] == "sub" and built["header"]["template"] == "blue"
    submit = interactive(built, "button")[0]
    assert submit["form_action_type"] == "submit" and submit["name"] == "f_submit"
    assert submit["behaviors"] == [{"type": "callback", "value": {"form": "x"}}]
    assert interactive(built, "select_static")[0]["initial_option"] == "b"


def broken(change: Any) -> dict[str, Any]:
    built = small_card()
    change(built)
    return built


def _set(path: list[Any], value: Any) -> Any:
    def change(c: dict[str, Any]) -> None:
        node = c
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return change


BROKEN = {
    "schema": (_set(["schema"], "1.0"), "schema"),
    "update_multi": (_set(["config", "update_multi"], False), "update_multi"),
    "title": (_set(["header", "title", "content"], " "), "header.title"),
    "template": (_set(["header", "template"], "pink"), "template"),
    "unknown tag": (_set(["body", "elements", 0, "tag"], "blink"), "unknown tag"),
    "no name": (_set(["body", "elements", 2, "name"], ""), "needs a name"),
    "twice": (_set(["body", "elements", 2, "name"], "t"), "used twice"),
    "empty": (_set(["body", "elements"], []), "non-empty"),
    "no callback": (_set(["body", "elements", 2, "behaviors"], []), "callback"),
    "value": (_set(["body", "elements", 2, "behaviors"], [{"type": "callback", "value": "x"}]), "object"),
    "no submit": (_set(["body", "elements", 1, "elements"], [markdown("x")]), "submit"),
    "nested form": (
        _set(["body", "elements", 1, "elements", 0], {"tag": "form", "name": "g", "elements": []}),
        "top level",
    ),
    "required outside": (_set(["body", "elements", 0, "required"], True), "inside a form"),
    "max_length": (_set(["body", "elements", 1, "elements", 0, "max_length"], 3000), "max_length"),
    "options": (
        _set(["body", "elements", 1, "elements", 2, "columns", 0, "elements", 1, "options"], [{"value": "a"}] * 2),
        "unique",
    ),
    "too big": (_set(["body", "elements", 0, "content"], "x" * (CARD_MAX_BYTES + 1)), "bytes"),
    "too many": (_set(["body", "elements"], [markdown("x")] * 201), "elements"),
    "not json": (_set(["body", "elements", 0, "content"], datetime(2026, 1, 1)), "JSON"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_validate_card_says_what_is_wrong(case: str) -> None:
    change, message = BROKEN[case]
    with pytest.raises(ValueError, match=message):
        validate_card(broken(change))


def test_a_card_too_large_is_cut_to_fit() -> None:
    huge = [markdown(escape_md("<" * 6000)) for _ in range(3)]
    built = checked(card("Big", huge))
    assert len(json.dumps(built, ensure_ascii=False).encode()) <= CARD_MAX_BYTES
    assert all(re.search(r"&#?\w*…$", c) is None for c in markdowns(built))  # never cut inside a reference


def test_toasts() -> None:
    assert toast("success", "Done") == {"toast": {"type": "success", "content": "Done"}}
    with pytest.raises(ValueError):
        toast("shout", "x")


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "Expected completion: I couldn't read a date in “胡说”.; Sign by: This field is required."),
        ("zh", "期望完成时间：无法识别“胡说”中的日期。；确认签字截止时间：此项必填。"),
    ],
)
def test_errors_toast_names_each_field_in_the_readers_language(lang: str, expected: str) -> None:
    exc = ValidationFailed(
        {"due": ("error.unparseable_date", {"text": "胡说", "_lang": lang}), "confirm_by": ("error.required", {})}
    )
    assert errors_toast(lang, exc) == {"toast": {"type": "error", "content": expected}}


def test_errors_toast_uses_the_labels_it_is_given() -> None:
    exc = ValidationFailed({"due": ("error.required", {}), "mystery": ("error.required", {})})
    got = errors_toast("en", exc, labels=fa.LABELS)["toast"]["content"]
    assert got == "Due: This field is required.; mystery: This field is required."
    unlabelled = errors_toast("en", exc)["toast"]["content"]
    assert unlabelled.startswith("Expected completion: ")  # the requirement sheet's "due" comes first


def test_errors_toast_finds_a_features_label_when_not_told() -> None:
    exc = ValidationFailed({"what": ("error.required", {})})
    assert errors_toast("zh", exc)["toast"]["content"] == "事项：此项必填。"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("text\x00", "text"), (["ou_a"], "ou_a"), ({"open_id": "ou_b"}, "ou_b"), (7, ""), (None, "")],
)
def test_form_text_reads_each_shape(value: Any, expected: str) -> None:
    assert form_text({"x": value}, "x") == expected
    assert form_text("not a dict", "x") == ""


# -- the requirement sheet -------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_requirement_form(lang: str) -> None:
    built = checked(fr.requirement_form(lang, chat_id="oc_general", tz=TZ, now=NOW))
    names = {e["name"] for tag in ("input", "select_person", "select_static") for e in interactive(built, tag)}
    assert names == {n.value for n in fr.FIELDS}
    inputs = {e["name"]: e for e in interactive(built, "input")}
    assert inputs["confirm_by"]["default_value"] == ("in 24 hours" if lang == "en" else "24小时内")
    assert not inputs["resources"]["required"] and inputs["goal"]["required"]
    assert [e["name"] for e in interactive(built, "select_person")] == ["requester_owner", "receiver_owner"]
    submit = interactive(built, "button")[-1]
    assert submit["name"] == fr.Names.SUBMIT
    assert submit["behaviors"][0]["value"] == {"form": "requirement", "chat": "oc_general"}


SHEET = {
    "requester_dept": "Marketing",
    "requester_owner": ALICE,
    "receiver_dept": "Engineering",
    "receiver_owner": BOB,
    "background": "Q1 campaign needs a landing page.",
    "goal": "Sign-ups +20% by March.",
    "description": "A landing page with a sign-up form.",
    "priority": "high",
    "resources": "",
    "open_questions": "",
}


@pytest.mark.parametrize(
    ("due", "confirm_by", "lang", "expected_due", "expected_confirm"),
    [
        ("next Friday 3pm", "tomorrow 6pm", "en", local(2026, 12, 4, 15, 0), local(2026, 11, 27, 18, 0)),
        ("下周五下午3点前", "明天下午6点", "zh", local(2026, 12, 4, 15, 0), local(2026, 11, 27, 18, 0)),
        ("月底", "24小时内", "en", local(2026, 11, 30, 18, 0), local(2026, 11, 27, 14, 0)),
    ],
)
def test_requirement_form_round_trip(
    due: str, confirm_by: str, lang: str, expected_due: datetime, expected_confirm: datetime
) -> None:
    form_value = {**SHEET, "due": due, "confirm_by": confirm_by, "open_questions": "Which API version? — @carol"}
    members = [Member(CAROL, name="carol")]
    draft = fr.parse_requirement_form(form_value, now=NOW, tz=TZ, lang=lang, chat_id="oc_general", members=members)
    assert (draft.due, draft.confirm_by) == (expected_due, expected_confirm)
    assert (draft.requester_owner, draft.receiver_owner, draft.priority) == (ALICE, BOB, "high")
    assert (draft.requester_dept, draft.goal, draft.channel_id) == ("Marketing", SHEET["goal"], "oc_general")
    assert [(q.text, q.owner_id) for q in draft.questions] == [("Which API version?", CAROL)]


GOOD_DATES = {"due": "2026-12-10", "confirm_by": "明天下午6点"}


@pytest.mark.parametrize(
    ("changes", "field", "key"),
    [
        ({"due": ""}, "due", "error.required"),
        ({"due": "胡说八道"}, "due", "error.unparseable_date"),
        ({"due": "昨天"}, "due", "error.in_past"),
        ({"confirm_by": "2026-12-20"}, "confirm_by", "error.confirm_after_due"),
        ({"receiver_owner": ""}, "receiver_owner", "error.required"),
        ({"goal": "  "}, "goal", "error.required"),
        ({"requester_dept": "x" * 151}, "requester_dept", "error.too_long"),
        ({"priority": "urgent"}, "priority", "error.required"),
        ({"open_questions": "Who? — @nobody"}, "open_questions", "error.unknown_person"),
        ({"open_questions": "Who? — 胡说八道"}, "open_questions", "error.question_bad_deadline"),
    ],
)
def test_requirement_form_errors_name_the_field(changes: dict[str, str], field: str, key: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        fr.parse_requirement_form({**SHEET, **GOOD_DATES, **changes}, now=NOW, tz=TZ, lang="en", chat_id="oc_1")
    assert caught.value.field_errors[field][0] == key
    content = errors_toast("zh", caught.value, labels=fr.LABELS)["toast"]["content"]
    assert content.startswith(f"{fr.t('zh', 'field.' + field)}：")


def test_requirement_form_with_nothing_filled_in_names_every_required_field() -> None:
    with pytest.raises(ValidationFailed) as caught:
        fr.parse_requirement_form({}, now=NOW, tz=TZ, lang="en", chat_id="oc_1")
    assert set(caught.value.field_errors) == {n.value for n in fr.FIELDS} - {"resources", "open_questions"}


def sheet(**overrides: Any) -> RequirementInfo:
    base: dict[str, Any] = dict(
        id=12,
        code="RW-2026-012",
        team_id="feishu:tenant",
        revision=2,
        status=Status.AWAITING,
        author_id=ALICE,
        requester_dept="市场部 " + EVIL,
        requester_owner=ALICE,
        receiver_dept="Engineering",
        receiver_owner=BOB,
        background=EVIL,
        goal=EVIL,
        description=EVIL,
        priority="high",
        due=local(2026, 12, 11, 15, 0),
        resources=EVIL,
        confirm_by=local(2026, 11, 27, 18, 0),
        channel_id="oc_general",
        message_ts="om_1",
        change_reason=None,
        created_at=NOW,
        updated_at=NOW,
        confirmed_at=None,
        signatures=(SignatureInfo(Role.REQUESTER, ALICE, "button", NOW + timedelta(hours=1)),),
        questions=(
            QuestionInfo(1, 0, EVIL, BOB, local(2026, 11, 28, 12, 0)),
            QuestionInfo(2, 1, "Done already?", CAROL, local(2026, 11, 28, 12, 0), NOW, CAROL),
        ),
    )
    base.update(overrides)
    return RequirementInfo(**base)


@pytest.mark.parametrize("lang", LANGS)
def test_requirement_card_while_it_awaits_signatures(lang: str) -> None:
    built = checked(fr.requirement_card(lang, sheet(), tz=TZ))
    assert built["header"]["template"] == "blue"
    assert built["header"]["title"]["content"] == fr.t(lang, "sheet.header", code="RW-2026-012")
    [sign] = interactive(built, "button")
    assert sign["behaviors"][0]["value"] == {"do": "requirement.sign", "id": 12} and sign["name"] == fr.Names.SIGN
    text = "\n".join(markdowns(built))
    for content in markdowns(built):
        assert_safe(content)
    assert "<at id=ou_alice></at>" in text and "<at id=ou_bob></at>" in text and "<at id=ou_carol></at>" in text
    assert when(NOW + timedelta(hours=1), TZ, lang) in text  # when Alice signed
    assert fr.t(lang, "export.via.button") in text  # and how
    assert fr.t(lang, "sheet.unsigned", user="<at id=ou_bob></at>") in text
    assert escape_md(when(sheet().due, TZ, lang)) in text
    assert EVIL in html.unescape(text)  # typed text shown, as typed


@pytest.mark.parametrize("lang", LANGS)
def test_requirement_card_once_confirmed_is_green_and_locked(lang: str) -> None:
    signatures = (
        SignatureInfo(Role.REQUESTER, ALICE, "button", NOW),
        SignatureInfo(Role.RECEIVER, BOB, "reaction", NOW + timedelta(hours=2)),
    )
    info = sheet(status=Status.CONFIRMED, confirmed_at=NOW + timedelta(hours=2), signatures=signatures)
    built = checked(fr.requirement_card(lang, info, tz=TZ))
    assert built["header"]["template"] == "green" and interactive(built, "button") == []
    text = "\n".join(markdowns(built))
    assert "🔒" in text and fr.t(lang, "export.via.reaction") in text


def test_requirement_card_with_changes_requested_says_who_and_why() -> None:
    history = (HistoryItem(NOW, CAROL, "changes_requested", {}),)
    info = sheet(status=Status.CHANGES_REQUESTED, change_reason=EVIL, history=history, signatures=())
    built = checked(fr.requirement_card("en", info, tz=TZ))
    assert built["header"]["template"] == "orange" and interactive(built, "button") == []
    reason = next(c for c in markdowns(built) if c.startswith("Changes requested by"))
    assert reason.startswith("Changes requested by <at id=ou_carol></at>: ")
    assert_safe(reason)


def test_requirement_card_with_everything_at_its_longest_fits() -> None:
    many = tuple(QuestionInfo(i, i, "<" * 500, BOB, local(2026, 11, 28, 12, 0)) for i in range(20))
    info = sheet(background="&" * 3000, goal="<" * 3000, description="*" * 3000, resources=LONG, questions=many)
    built = checked(fr.requirement_card("zh", info, tz=TZ))
    assert any("…… 另有 5 项" in c for c in markdowns(built))


def test_requirement_notice() -> None:
    got = fr.requirement_notice("en", "thread.changes_requested", sheet(), user=CAROL, reason=EVIL)
    assert got.startswith("<at id=ou_carol></at> requested changes to RW-2026-012: ")
    assert_safe(got)


def test_builders_are_deterministic() -> None:
    assert fr.requirement_card("en", sheet(), tz=TZ) == fr.requirement_card("en", sheet(), tz=TZ)
    assert fr.requirement_form("zh", chat_id="oc_1", tz=TZ, now=NOW) == fr.requirement_form(
        "zh", chat_id="oc_1", tz=TZ, now=NOW
    )


# -- action items ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_action_form(lang: str) -> None:
    built = checked(fa.action_form(lang, chat_id="oc_general", tz=TZ, now=NOW))
    names = [e["name"] for tag in ("input", "select_person") for e in interactive(built, tag)]
    assert sorted(names) == sorted(n.value for n in fa.FIELDS)
    submit = interactive(built, "button")[-1]
    assert submit["behaviors"][0]["value"] == {"form": "action", "chat": "oc_general"}
    assert "options" not in interactive(built, "select_person")[0]  # the chat's members


def test_forms_can_offer_chosen_people() -> None:
    built = checked(fa.action_form("en", chat_id="oc_dm", tz=TZ, now=NOW, people=[ALICE, BOB, ALICE]))
    assert interactive(built, "select_person")[0]["options"] == [{"value": ALICE}, {"value": BOB}]
    built = checked(fr.requirement_form("en", chat_id="oc_dm", tz=TZ, now=NOW, people=[CAROL]))
    assert [p["options"] for p in interactive(built, "select_person")] == [[{"value": CAROL}]] * 2


@pytest.mark.parametrize(
    ("due", "lang", "expected"),
    [
        ("下周五前", "zh", local(2026, 12, 4, 18, 0)),
        ("next Friday 3pm", "en", local(2026, 12, 4, 15, 0)),
        ("Dec 20", "en", local(2026, 12, 20, 18, 0)),
    ],
)
def test_action_form_round_trip(due: str, lang: str, expected: datetime) -> None:
    form_value = {"what": " 提交预算方案 ", "owner": BOB, "due": due, "deliverable": "预算表"}
    draft = fa.parse_action_form(form_value, now=NOW, tz=TZ, lang=lang)
    assert (draft.title, draft.owner_id, draft.due, draft.deliverable) == ("提交预算方案", BOB, expected, "预算表")


@pytest.mark.parametrize(
    ("changes", "field", "key"),
    [
        ({"what": ""}, "what", "error.required"),
        ({"what": "x" * 501}, "what", "error.too_long"),
        ({"owner": ""}, "owner", "error.required"),
        ({"due": ""}, "due", "error.required"),
        ({"due": "zebra tomorrow"}, "due", "error.unparseable_date"),
        ({"due": "昨天"}, "due", "error.in_past"),
        ({"deliverable": "x" * 1001}, "deliverable", "error.too_long"),
    ],
)
def test_action_form_errors_name_the_field(changes: dict[str, str], field: str, key: str) -> None:
    form_value = {"what": "Send the budget", "owner": BOB, "due": "tomorrow", "deliverable": "", **changes}
    with pytest.raises(ValidationFailed) as caught:
        fa.parse_action_form(form_value, now=NOW, tz=TZ, lang="en")
    assert list(caught.value.field_errors) == [field] and caught.value.field_errors[field][0] == key
    label = fa.t("en", f"action.field.{field}")
    assert errors_toast("en", caught.value, labels=fa.LABELS)["toast"]["content"].startswith(f"{label}: ")


def item(**overrides: Any) -> ActionInfo:
    base: dict[str, Any] = dict(
        id=9,
        code="ACT-2026-009",
        team_id="feishu:tenant",
        title=EVIL,
        owner_id=BOB,
        creator_id=ALICE,
        due=local(2026, 12, 4, 18, 0),
        deliverable=EVIL,
        status=ActionStatus.OPEN,
        blocked_reason=None,
        source_type="requirement",
        source_id=12,
        source_code="RW-2026-012",
        escalate_to=None,
        channel_id="oc_general",
        message_ts="om_2",
        created_at=NOW,
        updated_at=NOW,
        done_at=None,
    )
    base.update(overrides)
    return ActionInfo(**base)


BUTTONS = {
    ActionStatus.OPEN: [("action.start", "action.button.accept"), ("action.done", "action.button.done")],
    ActionStatus.IN_PROGRESS: [("action.done", "action.button.done")],
    ActionStatus.BLOCKED: [("action.start", "action.button.in_progress"), ("action.done", "action.button.done")],
    ActionStatus.DONE: [],
    ActionStatus.WONT_DO: [],
}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("status", list(ActionStatus))
def test_action_card_in_every_status(lang: str, status: ActionStatus) -> None:
    info = item(
        status=status,
        blocked_reason=EVIL if status == ActionStatus.BLOCKED else None,
        closed_reason=EVIL if status == ActionStatus.WONT_DO else None,
        done_at=NOW if status == ActionStatus.DONE else None,
    )
    built = checked(fa.action_card(lang, info, tz=TZ))
    assert built["header"]["template"] == fa.TEMPLATE[status]
    status_text = fa.t(lang, f"action.status.{status.value}")
    assert built["header"]["subtitle"]["content"] == f"ACT-2026-009 · {status_text}"
    shown = [(b["behaviors"][0]["value"], b["text"]["content"]) for b in interactive(built, "button")]
    assert shown == [({"do": do, "id": 9}, fa.t(lang, key)) for do, key in BUTTONS[status]]
    text = "\n".join(markdowns(built))
    for content in markdowns(built):
        assert_safe(content)
    assert "<at id=ou_bob></at>" in text and escape_md(when(info.due, TZ, lang)) in text
    assert "RW-2026-012" in text and EVIL in html.unescape(text)
    if status == ActionStatus.DONE:
        assert when(NOW, TZ, lang) in text


def test_action_card_without_a_deliverable_or_source() -> None:
    built = checked(fa.action_card("zh", item(deliverable=" ", source_code="", title="提交预算方案"), tz=TZ))
    assert built["header"]["title"]["content"] == "提交预算方案"
    assert built["header"]["subtitle"]["content"] == "ACT-2026-009 · 待开始"
    [shown] = markdowns(built)
    assert "**输出物**：—" in shown and "来源" not in shown


def test_action_card_shows_where_it_came_from() -> None:
    info = item(context="https://example.feishu.cn/msg/om_1\n" + EVIL)
    [context] = [c for c in markdowns(checked(fa.action_card("en", info, tz=TZ))) if c.startswith("Context: ")]
    assert context.endswith(" · [the original message](https://example.feishu.cn/msg/om_1)")
    assert_safe(context)
    plain_context = item(context="typed <b>words</b>")
    assert "Context: typed &#60;b&#62;words&#60;/b&#62;" in markdowns(fa.action_card("en", plain_context, tz=TZ))


def test_a_mention_forged_in_a_typed_name_stays_text() -> None:
    info = replace(item(), title=mention("ou_x") + " " + escape("<at id=all></at>"))
    for content in markdowns(fa.action_card("en", info, tz=TZ)):
        assert "<at id=all>" not in content and "<at id=ou_x>" not in content
