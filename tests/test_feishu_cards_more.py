"""Feishu cards for incidents, meetings (agenda and minutes) and the weekly digest: forms round-trip, bad input
names its field, every card passes the structural check, and typed text never becomes markup."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.errors import ValidationFailed
from bot.people import Member
from bot.services.actions import ActionInfo, ActionStatus
from bot.services.digests import Digest, Entry, OwnerGroup, Ref, Trend
from bot.services.incident_text import Severity, Status
from bot.services.incidents import IncidentInfo, ReviewState, TimelineItem
from bot.services.meetings import ActionDraftLine, AgendaEntry, MeetingInfo
from handlers.feishu.cards import digest as digest_cards
from handlers.feishu.cards import incident as incident_cards
from handlers.feishu.cards import meeting as meeting_cards
from handlers.feishu.cards.common import validate_card

NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)  # Thursday 14:00 in Shanghai
TZ = "Asia/Shanghai"
SH = ZoneInfo(TZ)
EVIL = "<at id=all></at> [x](http://evil) *bold* `code`"
LANGS = ("en", "zh")
MEMBERS = [
    Member("ou_li", name="lilei", display_name="李雷"),
    Member("ou_han", name="hanmeimei", real_name="Han Meimei"),
    Member("ou_w1", name="wang1", display_name="王"),
    Member("ou_w2", name="wang2", display_name="王"),
]


# -- helpers ----------------------------------------------------------------------------------------------


def walk(items: Any) -> Iterator[dict[str, Any]]:
    """Every element of a card body, nested ones included."""
    for element in items if isinstance(items, list) else []:
        if isinstance(element, dict):
            yield element
            yield from walk(element.get("elements"))
            yield from walk(element.get("columns"))


def elements(card: dict[str, Any]) -> list[dict[str, Any]]:
    return list(walk(card["body"]["elements"]))


def markdown_of(card: dict[str, Any]) -> str:
    return "\n".join(e["content"] for e in elements(card) if e.get("tag") == "markdown")


def inputs(card: dict[str, Any]) -> set[str]:
    """The names of a form's inputs and pickers."""
    kinds = {"input", "select_static", "select_person", "multi_select_person"}
    return {e["name"] for e in elements(card) if e.get("tag") in kinds}


def submit_value(card: dict[str, Any]) -> dict[str, Any]:
    (submit,) = [e for e in elements(card) if e.get("form_action_type") == "submit"]
    return dict(submit["behaviors"][0]["value"])


def button_values(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        dict(e["behaviors"][0]["value"])
        for e in elements(card)
        if e.get("tag") == "button" and "form_action_type" not in e
    ]


def assert_safe(card: dict[str, Any]) -> None:
    """The card is valid and typed text in it formed neither a mention of everyone nor a link."""
    validate_card(card)
    text = markdown_of(card)
    assert "<at id=all>" not in text
    assert "](http://evil)" not in text
    assert "*bold*" not in text and "`code`" not in text


def errors_of(exc: pytest.ExceptionInfo[ValidationFailed]) -> dict[str, str]:
    return {field: key for field, (key, _) in exc.value.field_errors.items()}


def incident(**changes: Any) -> IncidentInfo:
    base = IncidentInfo(
        id=7,
        code="INC-2026-007",
        team_id="feishu:tenant",
        title="支付接口超时",
        severity=Severity.SEV2,
        status=Status.INVESTIGATING,
        description="网关 5xx 上升",
        impact="部分用户无法支付",
        commander_id="ou_cmd",
        comms_id=None,
        responders=("ou_r1", "ou_r2"),
        declared_by="ou_decl",
        declared_in="oc_ops",
        channel_id="oc_inc",
        channel_name="inc-20261126-pay",
        summary_ts="om_1",
        announce_channel_id="oc_ops",
        announce_ts="om_2",
        declared_at=NOW,
        acknowledged_at=None,
        acknowledged_by=None,
        escalated_at=None,
        last_update_at=NOW,
        resolved_at=None,
        resolved_by=None,
        resolution=None,
        created_at=NOW,
        updated_at=NOW,
    )
    return replace(base, **changes)


def meeting(**changes: Any) -> MeetingInfo:
    base = MeetingInfo(
        id=3,
        code="MTG-2026-003",
        team_id="feishu:tenant",
        title="预算评审",
        goal="确定 Q1 预算",
        start=datetime(2026, 12, 4, 7, 0, tzinfo=UTC),
        duration_minutes=60,
        location="3F 大会议室",
        materials="https://docs.example.com/budget",
        host_id="ou_host",
        channel_id="oc_team",
        message_ts="om_3",
        created_by="ou_host",
        created_at=NOW,
        participants=("ou_li", "ou_han"),
        agenda=(AgendaEntry("预算总览", "ou_host", 15), AgendaEntry("风险", "ou_li", 10)),
        decisions=None,
        notes=None,
        minutes_at=None,
        minutes_by=None,
        minutes_ts=None,
    )
    return replace(base, **changes)


def action(n: int, **changes: Any) -> ActionInfo:
    base = ActionInfo(
        id=n,
        code=f"ACT-2026-{n:03d}",
        team_id="feishu:tenant",
        title=f"任务 {n}",
        owner_id="ou_li",
        creator_id="ou_host",
        due=datetime(2026, 12, 4, 10, 0, tzinfo=UTC),
        deliverable="",
        status=ActionStatus.OPEN,
        blocked_reason=None,
        source_type="meeting",
        source_id=3,
        source_code="MTG-2026-003",
        escalate_to="ou_host",
        channel_id="oc_team",
        message_ts=None,
        created_at=NOW,
        updated_at=NOW,
        done_at=None,
    )
    return replace(base, **changes)


# -- incidents ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_incident_form_has_the_slack_fields_and_submits_its_chat(lang: str) -> None:
    card = incident_cards.incident_form(lang, chat_id="oc_ops", tz=TZ, now=NOW)
    validate_card(card)
    assert inputs(card) == set(incident_cards.FIELDS)
    assert submit_value(card) == {"form": "incident", "chat": "oc_ops"}
    severities = next(e for e in elements(card) if e.get("tag") == "select_static")
    assert [o["value"] for o in severities["options"]] == ["SEV1", "SEV2", "SEV3", "SEV4"]


def test_incident_form_round_trips_with_the_declarer_as_default_commander() -> None:
    value = {
        "title": " 支付接口超时 ",
        "severity": "SEV2",
        "description": "网关 5xx 上升",
        "impact": "",
        "commander": "",
        "responders": ["ou_r1", "ou_r1", "ou_r2"],
    }
    draft = incident_cards.parse_incident_form(value, lang="zh", user_id="ou_decl")
    assert (draft.title, draft.severity, draft.commander_id) == ("支付接口超时", "SEV2", "ou_decl")
    assert draft.responders == ("ou_r1", "ou_r2")
    assert draft.description == "网关 5xx 上升"
    chosen = incident_cards.parse_incident_form({**value, "commander": "ou_cmd"}, lang="zh", user_id="ou_decl")
    assert chosen.commander_id == "ou_cmd"


def test_incident_form_names_its_bad_fields() -> None:
    with pytest.raises(ValidationFailed) as exc:
        incident_cards.parse_incident_form({"title": "  ", "severity": "SEV9"}, lang="en", user_id="ou_decl")
    assert errors_of(exc) == {"title": "error.required", "severity": "error.required"}
    with pytest.raises(ValidationFailed) as exc:
        incident_cards.parse_incident_form({"title": "x" * 151, "severity": "SEV1"}, lang="en", user_id="ou_decl")
    assert errors_of(exc) == {"title": "error.too_long"}
    toast = incident_cards.incident_errors("en", exc.value)["toast"]
    assert toast["type"] == "error" and "What is broken?" in toast["content"]


@pytest.mark.parametrize("lang", LANGS)
def test_open_incident_card_has_ack_status_and_resolve_buttons(lang: str) -> None:
    info = incident(
        timeline=(TimelineItem(NOW + timedelta(minutes=9), "ou_r1", "update", "已回滚到上个版本"),),
    )
    card = incident_cards.incident_card(lang, info, tz=TZ)
    validate_card(card)
    values = button_values(card)
    assert {"do": "incident.ack", "id": 7} in values
    assert {"do": "incident.resolve", "id": 7} in values
    assert {"do": "incident.status", "id": 7, "status": "identified"} in values
    text = markdown_of(card)
    assert "<at id=ou_cmd></at>" in text and "<at id=ou_r2></at>" in text
    assert "已回滚到上个版本" in text  # the latest update
    assert "2026-11-26" in text and "14:00" in text  # declared, in the reader's zone
    assert card["header"]["template"] == "orange"


def test_acknowledged_incident_loses_the_ack_button_and_resolved_one_every_button() -> None:
    acked = incident(acknowledged_at=NOW + timedelta(minutes=2), acknowledged_by="ou_cmd", status=Status.IDENTIFIED)
    values = button_values(incident_cards.incident_card("en", acked, tz=TZ))
    assert all(v["do"] != "incident.ack" for v in values)
    assert {"do": "incident.resolve", "id": 7} in values
    resolved = replace(
        acked,
        status=Status.RESOLVED,
        resolved_at=NOW + timedelta(hours=2, minutes=5),
        resolved_by="ou_cmd",
        resolution="重启网关后恢复",
        review_meeting_code="MTG-2026-009",
        review_state=ReviewState.SCHEDULED,
    )
    card = incident_cards.incident_card("en", resolved, tz=TZ)
    validate_card(card)
    assert button_values(card) == []
    assert card["header"]["template"] == "green"
    text = markdown_of(card)
    assert "重启网关后恢复" in text and "2 h 5 min" in text and "MTG-2026-009" in text
    assert "16:05" in text  # resolved at, in Shanghai


@pytest.mark.parametrize("lang", LANGS)
def test_typed_text_on_an_incident_card_shows_as_text(lang: str) -> None:
    info = incident(
        title=EVIL,
        description=EVIL,
        impact=f"{EVIL} for <@ou_known>",
        resolution=EVIL,
        timeline=(TimelineItem(NOW, "ou_r1", "update", EVIL),),
    )
    card = incident_cards.incident_card(lang, info, tz=TZ)
    assert_safe(card)
    assert "&#60;at id=all&#62;" in markdown_of(card)
    assert "<at id=ou_known></at>" in markdown_of(card)  # a mention the adapter wrote still notifies
    assert_safe(incident_cards.resolution_form(lang, info, now=NOW))


@pytest.mark.parametrize("lang", LANGS)
def test_resolution_form_round_trips_follow_ups_in_both_languages(lang: str) -> None:
    info = incident()
    card = incident_cards.resolution_form(lang, info, now=NOW + timedelta(minutes=90))
    validate_card(card)
    assert inputs(card) == set(incident_cards.RESOLUTION_FIELDS)
    assert submit_value(card) == {"form": "resolution", "incident": 7}
    value = {
        "summary": "重启网关后恢复",
        "decisions": "- 暂停发布\n\n• 增加容量",
        "follow_ups": "加磁盘告警 — @李雷 — 下周五\n@hanmeimei add timeout alerts by next Friday",
    }
    draft = incident_cards.parse_resolution_form(value, now=NOW, tz=TZ, lang=lang, members=MEMBERS)
    assert draft.summary == "重启网关后恢复"
    assert draft.decisions == ("暂停发布", "增加容量")
    assert [(f.title, f.owner_id) for f in draft.follow_ups] == [
        ("加磁盘告警", "ou_li"),
        ("add timeout alerts", "ou_han"),
    ]
    assert all(f.due.astimezone(SH).date().isoformat() == "2026-12-04" for f in draft.follow_ups)


def test_resolution_form_names_its_bad_fields() -> None:
    with pytest.raises(ValidationFailed) as exc:
        incident_cards.parse_resolution_form(
            {"summary": "", "follow_ups": "ok — @李雷 — 下周五\n@nobody fix it by Friday"},
            now=NOW,
            tz=TZ,
            lang="en",
            members=MEMBERS,
        )
    assert errors_of(exc) == {"summary": "error.required", "follow_ups": "error.unknown_person"}
    assert exc.value.field_errors["follow_ups"][1]["line"] == 2
    toast = incident_cards.incident_errors("en", exc.value)["toast"]["content"]
    assert "Follow-up action items" in toast and "@nobody" in toast


# -- meetings -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_meeting_form_has_the_slack_fields_and_submits_its_chat(lang: str) -> None:
    card = meeting_cards.meeting_form(lang, chat_id="oc_team", tz=TZ, now=NOW)
    validate_card(card)
    assert inputs(card) == set(meeting_cards.FIELDS)
    assert submit_value(card) == {"form": "meeting", "chat": "oc_team"}
    duration = next(e for e in elements(card) if e.get("name") == "duration_minutes")
    assert duration["default_value"] == "60"


def parse_meeting(value: dict[str, Any], lang: str = "zh") -> Any:
    return meeting_cards.parse_meeting_form(
        value, now=NOW, tz=TZ, lang=lang, host_id="ou_host", chat_id="oc_team", members=MEMBERS
    )


def test_meeting_form_round_trips_a_chinese_time_and_agenda() -> None:
    value = {
        "title": "预算评审",
        "goal": "确定 Q1 预算",
        "start": "下周五下午3点",
        "duration_minutes": "45分钟",
        "location": "3F",
        "host": "",
        "participants": ["ou_li", "ou_han"],
        "materials": "",
        "agenda": "预算总览 — @李雷 — 15分钟\n风险 — 10 min",
    }
    draft = parse_meeting(value)
    assert draft.start == datetime(2026, 12, 4, 15, 0, tzinfo=SH)
    assert (draft.duration_minutes, draft.host_id, draft.channel_id) == (45, "ou_host", "oc_team")
    assert draft.participants == ("ou_li", "ou_han")
    assert draft.agenda == (AgendaEntry("预算总览", "ou_li", 15), AgendaEntry("风险", "ou_host", 10))
    english = parse_meeting({**value, "start": "next Friday 3pm", "duration_minutes": "60", "host": "ou_li"}, "en")
    assert english.start == draft.start and english.host_id == "ou_li" and english.duration_minutes == 60


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_filled_in_meeting_form_sent_as_shown_gives_back_its_draft(lang: str) -> None:
    from bot.services.meetings import MeetingDraft
    from tests.test_feishu import form_defaults

    draft = MeetingDraft(
        title="INC-2026-001 复盘",
        goal="Learn from INC-2026-001",
        start=datetime(2026, 12, 1, 10, 0, tzinfo=SH),
        duration_minutes=60,
        host_id="ou_li",
        participants=("ou_li", "ou_han"),
        channel_id="oc_team",
        agenda=(AgendaEntry("Timeline", "ou_li", 15), AgendaEntry("Causes", "ou_li", 20)),
    )
    shown = meeting_cards.meeting_form(
        lang, chat_id="oc_team", tz=TZ, now=NOW, people=("ou_han",), draft=draft, incident_id=7
    )
    validate_card(shown)
    assert submit_value(shown) == {"form": "meeting", "chat": "oc_team", "incident": 7}
    again = parse_meeting(form_defaults(shown), lang)
    assert (again.title, again.goal, again.start, again.duration_minutes) == (
        draft.title,
        draft.goal,
        draft.start,
        60,
    )
    assert (again.host_id, again.participants, again.agenda) == (draft.host_id, draft.participants, draft.agenda)


def test_meeting_form_names_its_bad_fields() -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_meeting({"title": "", "goal": "g", "start": "改天吧", "duration_minutes": "一小时", "agenda": "乱写"})
    assert errors_of(exc) == {
        "title": "error.required",
        "start": "error.unparseable_date",
        "duration_minutes": "error.not_a_number",
        "agenda": "error.agenda_line",
    }
    assert exc.value.field_errors["start"][1]["_lang"] == "zh"
    with pytest.raises(ValidationFailed) as exc:
        parse_meeting({"title": "t", "goal": "g", "start": "", "duration_minutes": "120"})
    assert errors_of(exc) == {"start": "error.required", "duration_minutes": "error.meeting_too_long"}
    toast = meeting_cards.meeting_errors("en", exc.value)["toast"]["content"]
    assert "Start" in toast and "Duration (minutes)" in toast


@pytest.mark.parametrize("lang", LANGS)
def test_meeting_card_shows_time_people_and_timeboxed_agenda(lang: str) -> None:
    card = meeting_cards.meeting_card(lang, meeting(), tz=TZ)
    validate_card(card)
    assert button_values(card) == [{"do": "meeting.minutes", "id": 3}]
    text = markdown_of(card)
    assert "2026-12-04" in text and "15:00" in text
    assert "<at id=ou_li></at>" in text and "<at id=ou_han></at>" in text
    assert "预算总览" in text and "15" in text and "10" in text
    recorded = meeting(minutes_at=NOW, minutes_by="ou_host", decisions=("采用方案A",), acks=(("ou_li", NOW),))
    again = meeting_cards.meeting_card(lang, recorded, tz=TZ)
    validate_card(again)
    assert button_values(again) == [{"do": "meeting.minutes", "id": 3}]
    assert "<at id=ou_host></at>" in markdown_of(again)


@pytest.mark.parametrize("lang", LANGS)
def test_minutes_form_is_prefilled_and_submits_its_meeting(lang: str) -> None:
    info = meeting(decisions=("采用方案A", "延后上线"), notes="会上备注")
    card = meeting_cards.minutes_form(lang, info, tz=TZ, actions=[action(1)])
    validate_card(card)
    assert inputs(card) == set(meeting_cards.MINUTES_FIELDS)
    assert submit_value(card) == {"form": "minutes", "meeting": 3}
    defaults = {e["name"]: e.get("default_value") for e in elements(card) if e.get("tag") == "input"}
    assert defaults["decisions"] == "采用方案A\n延后上线" and defaults["notes"] == "会上备注"


def parse_minutes(value: dict[str, Any], lang: str = "zh") -> Any:
    return meeting_cards.parse_minutes_form(value, now=NOW, tz=TZ, lang=lang, members=MEMBERS)


def test_minutes_form_reads_action_lines_in_chinese_and_english() -> None:
    value = {
        "decisions": "- 采用方案A\n\n2. 延后上线",
        "action_items": "@李雷 提交预算方案 下周五前\n"
        "<@ou_han> send the deck by Friday\n"
        "Write the report — @hanmeimei — 2026-12-10 — a PDF",
        "notes": " 备注 ",
    }
    draft = parse_minutes(value)
    assert draft.decisions == ("采用方案A", "2. 延后上线")
    assert draft.actions == (
        ActionDraftLine("提交预算方案", "ou_li", datetime(2026, 12, 4, 18, 0, tzinfo=SH)),
        ActionDraftLine("send the deck", "ou_han", datetime(2026, 11, 27, 18, 0, tzinfo=SH)),
        ActionDraftLine("Write the report", "ou_han", datetime(2026, 12, 10, 18, 0, tzinfo=SH), "a PDF"),
    )
    assert draft.notes == "备注"


@pytest.mark.parametrize(
    ("lines", "key", "line"),
    [
        ("@李雷 提交预算方案", "error.action_no_due", 1),
        ("ok — @李雷 — 下周五\n提交预算方案 下周五前", "error.action_no_owner", 2),
        ("@王 写总结 周五前", "error.ambiguous_person", 1),
        ("@李雷 写总结 昨天", "error.action_due_past", 1),
        ("写总结 — @李雷 — 随便", "error.action_bad_due", 1),
    ],
)
def test_minutes_form_names_the_unreadable_action_line(lines: str, key: str, line: int) -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_minutes({"decisions": "", "action_items": lines})
    assert errors_of(exc) == {"action_items": key}  # "nothing recorded" is not said on top of it
    assert exc.value.field_errors["action_items"][1]["line"] == line
    assert meeting_cards.meeting_errors("zh", exc.value)["toast"]["content"].startswith("行动项：")


def test_empty_minutes_are_refused_on_the_decisions_field() -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_minutes({"decisions": " ", "action_items": "", "notes": ""})
    assert errors_of(exc) == {"decisions": "error.minutes_empty"}


@pytest.mark.parametrize("lang", LANGS)
def test_minutes_card_lists_decisions_and_items_with_owner_and_due(lang: str) -> None:
    info = meeting(minutes_at=NOW, minutes_by="ou_host", decisions=("采用方案A", EVIL), notes=EVIL)
    items = [action(1, deliverable=EVIL), action(2, title=EVIL, owner_id="ou_han")]
    card = meeting_cards.minutes_card(lang, info, items, tz=TZ, ack_button=True)
    assert_safe(card)
    text = markdown_of(card)
    assert "ACT-2026-001" in text and "<at id=ou_han></at>" in text and "2026-12-04" in text and "18:00" in text
    assert button_values(card) == [{"do": "meeting.ack", "id": 3}]
    assert button_values(meeting_cards.minutes_card(lang, info, [], tz=TZ)) == []


@pytest.mark.parametrize("lang", LANGS)
def test_typed_text_on_meeting_cards_shows_as_text(lang: str) -> None:
    info = meeting(
        title=EVIL, goal=EVIL, location=EVIL, materials=EVIL, agenda=(AgendaEntry(EVIL, "ou_li", 5),), notes=EVIL
    )
    assert_safe(meeting_cards.meeting_card(lang, info, tz=TZ))
    assert_safe(meeting_cards.minutes_form(lang, info, tz=TZ, actions=[action(1, title=EVIL)]))


# -- the digest -----------------------------------------------------------------------------------------------


def entry(code: str, title: str = "任务", people: tuple[str, ...] = ("ou_li",), **changes: Any) -> Entry:
    fields: dict[str, Any] = {"when": NOW + timedelta(days=1), **changes}
    return Entry(ref=Ref(code, "oc_team", "om_x"), title=title, people=people, **fields)


def digest(**changes: Any) -> Digest:
    late = NOW - timedelta(days=2)
    base = Digest(
        channel_id="oc_team",
        start=NOW - timedelta(days=7),
        end=NOW,
        needs_attention=(),
        confirmed=(entry("REQ-2026-001", "新版结算页", ("ou_li", "ou_han")),),
        awaiting=(entry("REQ-2026-002", "会员体系", ("ou_han",), overdue=True),),
        changes_requested=(entry("REQ-2026-003", "报表", ("ou_li",), note=EVIL),),
        done=(entry("ACT-2026-010", done=True, when=NOW - timedelta(days=1)),),
        overdue=(
            OwnerGroup(
                "ou_han",
                tuple(entry(f"ACT-2026-02{i}", f"逾期 {i}", ("ou_han",), overdue=True, when=late) for i in range(4)),
            ),
        ),
        blocked=(entry("ACT-2026-030", EVIL, note=EVIL),),
        open=tuple(entry(f"ACT-2026-04{i}", f"未完成 {i}") for i in range(7)),
        held=(entry("MTG-2026-003", "预算评审", ("ou_host",), done=True),),
        minutes_missing=(),
        upcoming=(entry("MTG-2026-004", "周会", ("ou_host",)),),
        confirmed_trend=Trend(1, 3),
        done_trend=Trend(1, 0),
        overdue_trend=Trend(4, 4),
        incidents=(entry("INC-2026-007", "支付接口超时", ("ou_cmd",), note="2"),),
    )
    return replace(base, **changes)


NAMES = {"ou_li": "李雷", "ou_han": "韩梅梅", "ou_host": "主持人", "ou_cmd": "指挥官"}


@pytest.mark.parametrize("lang", LANGS)
def test_digest_card_shows_each_list_and_pings_only_overdue_owners(lang: str) -> None:
    card = digest_cards.digest_card(lang, digest(), tz=TZ, name_of=NAMES.__getitem__, chat_name="产品组")
    assert_safe(card)
    text = markdown_of(card)
    for code in ("REQ-2026-001", "ACT-2026-010", "ACT-2026-020", "ACT-2026-030", "MTG-2026-003", "INC-2026-007"):
        assert code in text
    assert "<at id=ou_han></at>" in text  # overdue: mentioned
    assert "<at id=ou_li>" not in text and "李雷" in text  # not overdue: named
    assert "ACT-2026-023" not in text  # three items an owner, the rest counted
    assert "ACT-2026-045" not in text and "ACT-2026-044" in text  # five a list, the rest counted
    assert "2" in card["header"]["subtitle"]["content"] and "产品组" in card["header"]["subtitle"]["content"]
    assert card["header"]["template"] == "orange"
    assert "产品组" in card["config"]["summary"]["content"]


@pytest.mark.parametrize("lang", LANGS)
def test_an_empty_digest_says_so(lang: str) -> None:
    quiet = digest(
        confirmed=(),
        awaiting=(),
        changes_requested=(),
        done=(),
        overdue=(),
        blocked=(),
        open=(),
        held=(),
        upcoming=(),
        incidents=(),
    )
    card = digest_cards.digest_card(lang, quiet, tz=TZ, late_due=NOW - timedelta(days=2))
    validate_card(card)
    assert len(card["body"]["elements"]) == 1
    assert "2026-11-24" in card["header"]["subtitle"]["content"]  # late: when it was due
    assert card["header"]["template"] == "blue"


def test_digest_text_is_plain_and_counts() -> None:
    text = digest_cards.digest_text("en", digest(), tz=TZ, chat_name="team")
    assert text.startswith("Weekly digest for #team") and "1 action items done, 4 overdue" in text
    assert "<" not in text
    assert "oc_team" in digest_cards.digest_text("zh", digest(), tz=TZ)
