"""Property tests: every parser of what people type or Slack sends either reads it or refuses it cleanly."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.dates import parse_when
from bot.errors import ValidationFailed
from bot.services.action_text import QuickAction, parse_quick
from bot.services.meeting_text import parse_action_lines, parse_agenda
from bot.services.meetings import MinutesDraft
from bot.services.requirement_text import LineError, parse_questions
from handlers.blocks import actions as action_blocks
from handlers.blocks import meeting as meeting_blocks
from handlers.blocks import requirement as requirement_blocks
from handlers.blocks.common import ModalMeta, escape
from tests.helpers import MEMBERS, MINUTES_STATE, NOW, REQUIREMENT_STATE, TZ, _state

PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces people really type, and pieces that try to break things, mixed with arbitrary text.
PIECES = [
    "Launch date",
    "提交预算方案",
    " — ",
    " | ",
    "--",
    "\n",
    "\r\n",
    "20 min",
    "90分钟",
    "@bob",
    "@carol",
    "@nobody",
    "<@U_BOB>",
    "<@U_GONE>",
    "<@U_BOT|coordbot>",
    "<!channel>",
    "<!here>",
    "<https://evil.example|click>",
    "tomorrow 3pm",
    "下周五下午3点前",
    "2026-12-01 15:00",
    "next Friday EOD",
    "yesterday",
    "月底",
    "24小时内",
    "1. ",
    "- ",
    "•",
    "&amp;",
    "&lt;",
    "\x00",
    "\x1b[31m",
    "\u202e",
    "\ufeff",
    "🙂",
    "9" * 30,
    "Dec 32",
]
texts = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=20)), max_size=14).map("".join),
)
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), texts)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=12,
)

ELEMENT_KEYS = [
    "type",
    "value",
    "selected_user",
    "selected_users",
    "selected_option",
    "selected_options",
    "selected_conversation",
    "selected_channel",
    "selected_date",
    "selected_time",
]


def shaped_values(fields: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    """`view.state.values` shaped like Slack's, with any block ids, action ids and (wrong) types inside."""
    element = st.dictionaries(
        st.sampled_from(ELEMENT_KEYS),
        st.one_of(texts, json_value, st.fixed_dictionaries({"value": st.one_of(texts, json_value)})),
        max_size=5,
    )
    block = st.dictionaries(
        st.one_of(st.just("value"), st.text(max_size=8)), st.one_of(element, json_value), max_size=2
    )
    return st.dictionaries(
        st.one_of(st.sampled_from(list(fields)), st.text(max_size=10)),
        st.one_of(block, json_value),
        max_size=len(fields) + 2,
    )


def any_values(fields: tuple[str, ...]) -> st.SearchStrategy[Any]:
    """Well-shaped values most of the time, arbitrary JSON otherwise."""
    return st.one_of(shaped_values(fields), json_value)


def _reads_or_refuses(parse: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a form parser: a draft or ValidationFailed with field errors, nothing else."""
    try:
        return parse(*args, **kwargs)
    except ValidationFailed as exc:
        assert exc.field_errors, "a refusal names the fields it refuses"
        for field, (key, params) in exc.field_errors.items():
            assert isinstance(field, str) and isinstance(key, str) and isinstance(params, dict)
        return None


def _form_values(values: Any) -> dict[str, Any]:
    # Bolt hands listeners whatever JSON Slack sent; a non-dict `values` is exercised separately below.
    return values if isinstance(values, dict) else {"junk": values}


@PROPERTY
@given(values=any_values(requirement_blocks.FIELDS), lang=st.sampled_from(["en", "zh"]))
def test_requirement_form_reads_or_refuses(values: Any, lang: str) -> None:
    draft = _reads_or_refuses(
        requirement_blocks.parse_form,
        _form_values(values),
        now=NOW,
        tz=TZ,
        members=MEMBERS,
        default_channel="C_GENERAL",
        lang=lang,
    )
    if draft is not None:
        assert draft.receiver_owner and draft.requester_owner
        assert draft.due_at.tzinfo is not None


@PROPERTY
@given(values=any_values(meeting_blocks.FIELDS), lang=st.sampled_from(["en", "zh"]))
def test_meeting_form_reads_or_refuses(values: Any, lang: str) -> None:
    draft = _reads_or_refuses(
        meeting_blocks.parse_meeting_form,
        _form_values(values),
        now=NOW,
        tz=TZ,
        members=MEMBERS,
        lang=lang,
        default_channel="C_GENERAL",
    )
    if draft is not None:
        assert draft.start.tzinfo is not None and draft.duration_minutes > 0


@PROPERTY
@given(values=any_values(meeting_blocks.MINUTES_FIELDS))
def test_minutes_form_reads_or_refuses(values: Any) -> None:
    draft = _reads_or_refuses(meeting_blocks.parse_minutes_form, _form_values(values), now=NOW, tz=TZ, members=MEMBERS)
    if draft is not None:
        assert all(a.owner_id and a.due.tzinfo is not None for a in draft.actions)


@PROPERTY
@given(
    values=any_values(("what", "owner", "due", "deliverable", "channel", "source")), lang=st.sampled_from(["en", "zh"])
)
def test_action_form_reads_or_refuses(values: Any, lang: str) -> None:
    form = _reads_or_refuses(action_blocks.parse_action_form, _form_values(values), now=NOW, tz=TZ, lang=lang)
    if form is not None:
        assert form.draft.title and form.draft.owner_id and form.draft.due.tzinfo is not None


# -- valid forms with one or more fields replaced: every field's own parsing is reached ------------------------------

MEETING = {
    "title": "Q1 launch plan",
    "goal": "Decide the date",
    "start": "2026-12-03 10:00",
    "duration_minutes": "60",
    "participants": ["U_ALICE", "U_BOB"],
    "agenda": "Launch date — @bob — 20 min\nRisks — 10分钟",
}
ACTION = {"what": "Write the launch post", "owner": "U_BOB", "due": "next Friday 3pm", "deliverable": "A post"}


MEETING_STATE = _state(
    meeting_blocks.meeting_modal("en", meta=ModalMeta("C_GENERAL"), user_id="U_ALICE", now=NOW, tz=TZ), MEETING
)
ACTION_STATE = _state(
    action_blocks.action_modal("en", meta=ModalMeta("C_GENERAL"), user_id="U_ALICE", now=NOW, tz=TZ), ACTION
)


def mutated(base: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A valid state with some elements' values replaced by arbitrary text or JSON."""

    def apply(changes: dict[str, Any]) -> dict[str, Any]:
        out = {block: {aid: dict(el) for aid, el in elements.items()} for block, elements in base.items()}
        for block, new in changes.items():
            for element in out[block].values():
                key = next((k for k in element if k != "type"), "value")
                element[key] = new
        return out

    return st.dictionaries(st.sampled_from(sorted(base)), st.one_of(texts, json_value), min_size=1, max_size=3).map(
        apply
    )


def test_the_unmutated_forms_are_valid() -> None:
    assert (
        requirement_blocks.parse_form(
            REQUIREMENT_STATE, now=NOW, tz=TZ, members=MEMBERS, default_channel="C_GENERAL"
        ).receiver_owner
        == "U_BOB"
    )
    assert (
        meeting_blocks.parse_meeting_form(
            MEETING_STATE, now=NOW, tz=TZ, members=MEMBERS, lang="en", default_channel="C_GENERAL"
        ).duration_minutes
        == 60
    )
    assert action_blocks.parse_action_form(ACTION_STATE, now=NOW, tz=TZ, lang="en").draft.owner_id == "U_BOB"
    assert meeting_blocks.parse_minutes_form(MINUTES_STATE, now=NOW, tz=TZ, members=MEMBERS).actions


@PROPERTY
@given(values=mutated(REQUIREMENT_STATE))
def test_requirement_form_with_any_field_changed(values: dict[str, Any]) -> None:
    _reads_or_refuses(
        requirement_blocks.parse_form, values, now=NOW, tz=TZ, members=MEMBERS, default_channel="C_GENERAL"
    )


@PROPERTY
@given(values=mutated(MEETING_STATE))
def test_meeting_form_with_any_field_changed(values: dict[str, Any]) -> None:
    _reads_or_refuses(
        meeting_blocks.parse_meeting_form,
        values,
        now=NOW,
        tz=TZ,
        members=MEMBERS,
        lang="en",
        default_channel="C_GENERAL",
    )


@PROPERTY
@given(values=mutated(MINUTES_STATE))
def test_minutes_form_with_any_field_changed(values: dict[str, Any]) -> None:
    _reads_or_refuses(meeting_blocks.parse_minutes_form, values, now=NOW, tz=TZ, members=MEMBERS)


@PROPERTY
@given(values=mutated(ACTION_STATE))
def test_action_form_with_any_field_changed(values: dict[str, Any]) -> None:
    _reads_or_refuses(action_blocks.parse_action_form, values, now=NOW, tz=TZ, lang="en")


@pytest.mark.parametrize(
    "values",
    [None, [], "x", 1, {"due": None}, {"due": []}, {"due": {"value": 5}}, {"due": {"value": {"value": "tomorrow"}}}],
)
def test_form_parsers_refuse_values_of_the_wrong_shape(values: Any) -> None:
    for parse, kwargs, required in (
        (requirement_blocks.parse_form, {"members": MEMBERS}, "confirm_by"),
        (meeting_blocks.parse_meeting_form, {"members": MEMBERS, "lang": "en"}, "start"),
        (action_blocks.parse_action_form, {"lang": "en"}, "owner"),
    ):
        with pytest.raises(ValidationFailed) as refused:  # a required field read from nothing is refused
            parse(values, now=NOW, tz=TZ, **kwargs)
        assert required in refused.value.field_errors, (parse.__name__, refused.value.field_errors)
    # the minutes have no required field: nothing of the wrong shape is read into them
    assert meeting_blocks.parse_minutes_form(values, now=NOW, tz=TZ, members=MEMBERS) == MinutesDraft(decisions=())


def _reads_or_line_error(parse: Any, text: str, **kwargs: Any) -> Any:
    """Run a line parser: the lines it read, or LineError naming a catalog key, nothing else."""
    try:
        return parse(text, **kwargs)
    except LineError as exc:
        assert exc.key.startswith("error.")
        return None


@PROPERTY
@given(text=texts)
def test_quick_action_line_reads_or_says_why(text: str) -> None:
    quick = parse_quick(text, now=NOW, tz=TZ, members=MEMBERS)
    assert isinstance(quick, QuickAction)
    assert quick.owner_id is None or quick.owner_id in {m.id for m in MEMBERS}
    assert quick.due is None or quick.due.tzinfo is not None
    assert len(quick.title) <= 500


@PROPERTY
@given(text=texts)
def test_open_questions_read_or_refuse(text: str) -> None:
    found = _reads_or_line_error(parse_questions, text, now=NOW, tz=TZ, members=MEMBERS)
    for question in found or ():
        assert question.text.strip()
        assert question.deadline is None or question.deadline.tzinfo is not None


@PROPERTY
@given(text=texts)
def test_agenda_reads_or_refuses(text: str) -> None:
    for line in _reads_or_line_error(parse_agenda, text, members=MEMBERS) or ():
        assert line.minutes is None or line.minutes >= 0


@PROPERTY
@given(text=texts)
def test_action_lines_read_or_refuse(text: str) -> None:
    for line in _reads_or_line_error(parse_action_lines, text, now=NOW, tz=TZ, members=MEMBERS) or ():
        assert line.owner_id and line.due.tzinfo is not None


@PROPERTY
@given(
    text=texts,
    tz=st.sampled_from(["Asia/Shanghai", "America/New_York", "UTC", "Pacific/Kiritimati"]),
    hour=st.integers(0, 23),
)
def test_the_date_parser_answers_a_time_or_none(text: str, tz: str, hour: int) -> None:
    when = parse_when(text, now=NOW.replace(hour=hour), tz=tz, workday_end=time(18, 0))
    assert when is None or when.tzinfo is not None


@PROPERTY
@given(text=texts)
def test_escaped_text_cannot_ping_link_or_carry_control_characters(text: str) -> None:
    shown = escape(text)
    assert "<" not in shown and ">" not in shown
    assert not any(ord(c) < 32 and c not in "\t\n\r" for c in shown)
    assert "\x7f" not in shown


@given(
    values=st.one_of(
        st.none(),
        st.integers(),
        st.text(max_size=20),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(
            st.text(max_size=12),
            st.recursive(
                st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=40)),
                lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                max_leaves=8,
            ),
            max_size=6,
        ),
    )
)
@settings(max_examples=60, deadline=None)
def test_incident_forms_read_anything_without_crashing(values: Any) -> None:
    from handlers.blocks import incident as incident_blocks

    draft = incident_blocks.parse_incident_form(values)
    assert "\x00" not in draft.title + draft.description + draft.impact
    with contextlib.suppress(ValidationFailed):  # a refusal is a fine answer; any other exception fails
        resolution = incident_blocks.parse_resolve_form(values, now=NOW, tz="UTC", members=[])
        assert "\x00" not in resolution.summary


# -- the serving path's body decoder: the same as Bolt's, only quicker ---------------------------------------

FORM_PIECES = [
    "payload",
    "=",
    "&",
    "+",
    "%",
    "%2",
    "%7B",
    "%22",
    "%3A",
    "%5C",
    "%E4%B8%8B",
    "%e5%91%a8",
    "%zz",
    "%FF",
    "\\",
    "\\x41",
    "{",
    "}",
    '"',
    "中",
    "text",
    "%26",
    "%3D",
    "\r\n",
    "%00",
    ";",
]
bodies = st.lists(st.one_of(st.sampled_from(FORM_PIECES), st.text(max_size=6)), max_size=24).map("".join)


# -- dates: never a wrong answer -------------------------------------------------------------------------------

_READ_PHRASES = [
    (p, tz, e)
    for p, tz, e in __import__("tests.date_phrases", fromlist=["PHRASES"]).PHRASES
    + __import__("tests.date_phrases_chat", fromlist=["MORE_PHRASES"]).MORE_PHRASES
    if e is not None
]
# words no date rule knows, English and Chinese, including ones that look like they might belong
UNKNOWN_WORDS = [
    "zebra",
    "banana",
    "maybe",
    "or",
    "not",
    "every",
    "except",
    "香蕉",
    "或者",
    "每",
    "不是",
    "大概不",
    "release",
    "v2",
    "sprint",
    "发布",
    "会议室",
]


@PROPERTY
@given(row=st.sampled_from(_READ_PHRASES), word=st.sampled_from(UNKNOWN_WORDS), where=st.floats(0, 1))
def test_a_phrase_with_an_unknown_word_inside_is_never_read_as_if_the_word_were_not_there(
    row: tuple[str, str, str], word: str, where: float
) -> None:
    phrase, tz, expected = row
    cut = round(where * len(phrase))
    if phrase.isascii():  # between words, as someone would write it
        spaces = [0, *(i for i, ch in enumerate(phrase) if ch == " "), len(phrase)]
        cut = min(spaces, key=lambda i: abs(i - cut))
    text = f"{phrase[:cut]} {word} {phrase[cut:]}" if phrase.isascii() else phrase[:cut] + word + phrase[cut:]
    now = datetime(2026, 11, 26, 14, 0, tzinfo=ZoneInfo(tz))
    found = parse_when(text, now=now, tz=tz)
    assert found is None or found.strftime("%Y-%m-%d %H:%M") != expected, (text, found)


_AM_PM = {"am": "上午", "pm": "下午"}


@PROPERTY
@given(
    hour=st.integers(0, 23),
    minute=st.sampled_from([0, 5, 15, 30, 45, 59]),
    day=st.sampled_from([("tomorrow", "明天"), ("next Friday", "下周五"), ("Dec 10", "12月10日")]),
)
def test_every_way_of_writing_a_time_of_day_agrees_with_its_twin(hour: int, minute: int, day: tuple[str, str]) -> None:
    h12 = hour % 12 or 12
    ap = "am" if hour < 12 else "pm"
    en, zh = day
    zh_period = ("凌晨" if hour < 6 else "上午") if hour < 12 else ("下午" if hour < 18 else "晚上")
    zh_hour = h12
    forms = [
        f"{en} {h12}:{minute:02d}{ap}",
        f"{en} at {h12}:{minute:02d} {ap}",
        f"{en} {hour:02d}:{minute:02d}",
        f"{en} {h12}:{minute:02d} {ap[0]}.{ap[1]}.",
        f"{zh} {hour:02d}:{minute:02d}",
    ]
    if minute == 0:
        forms += [f"{en} at {h12}{ap}", f"{en} {h12} {ap}"]
    if hour != 0 and not (hour == 12 and zh_period != "下午"):
        forms.append(f"{zh}{zh_period}{zh_hour}点{minute}分" if minute else f"{zh}{zh_period}{zh_hour}点")
    now = datetime(2026, 11, 26, 14, 0, tzinfo=ZoneInfo(TZ))
    read = {form: parse_when(form, now=now, tz=TZ) for form in forms}
    assert all(when is not None for when in read.values()), read
    assert len({(w.hour, w.minute, w.date()) for w in read.values() if w}) == 1, read
    assert all(w is not None and (w.hour, w.minute) == (hour, minute) for w in read.values()), read


@pytest.mark.parametrize("day", range(7))
@pytest.mark.parametrize(
    "line", ["<@ou_bob> 提交预算方案 下周五前", "<@U_BOB> 提交预算方案下周五前", "<@U_BOB> 整理需求 本周五"]
)
def test_a_relative_chinese_deadline_keeps_its_modifier_on_every_weekday(day: int, line: str) -> None:
    """On a weekend 周五 and 下周五 name the same Friday: the 下 (本) still belongs to the deadline, not the task."""
    now = datetime(2026, 11, 23, 6, 0, tzinfo=UTC) + timedelta(days=day)  # Monday, then each day of the week
    quick = parse_quick(line, now=now, tz="Asia/Shanghai", members=[])
    assert quick.problem is None and quick.title in ("提交预算方案", "整理需求"), quick
    assert quick.due_text.startswith(("下", "本")), quick


@pytest.mark.parametrize("day", range(7))
@pytest.mark.parametrize("when", ["下周五前", "明天", "next Friday", "by next Friday EOD"])
def test_a_line_that_is_only_a_time_says_nothing_is_to_be_done(day: int, when: str) -> None:
    """`@李雷 下周五前` names an owner and a time but no task: it is not read as a task called "五前"."""
    now = datetime(2026, 11, 23, 6, 0, tzinfo=UTC) + timedelta(days=day)
    quick = parse_quick(f"<@U_BOB> {when}", now=now, tz="Asia/Shanghai", members=[])
    assert (quick.problem, quick.title, quick.owner_id) == ("no_title", "", "U_BOB"), quick
    assert quick.due is not None and quick.due_text == when
