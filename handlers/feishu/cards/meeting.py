"""Feishu cards for meetings (跨部门会议): the scheduling form, the meeting card, the minutes form and the minutes."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, time
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.dates import parse_when
from bot.errors import ValidationFailed
from bot.people import Member, find_people
from bot.services import presses
from bot.services.action_text import parse_quick
from bot.services.meeting_text import MINUTES_RE, ActionLine, parse_action_lines, parse_agenda
from bot.services.meetings import (
    MAX_DURATION,
    ActionDraftLine,
    AgendaEntry,
    MeetingDraft,
    MeetingInfo,
    MinutesDraft,
    validate,
    validate_minutes,
)
from bot.services.requirement_text import BULLET, SEPARATORS, LineError
from bot.text import t, text_lang
from handlers.feishu.cards.common import (
    Md,
    at,
    button,
    buttons,
    card,
    clip,
    errors_toast,
    escape_md,
    form,
    form_text,
    hr,
    lark_t,
    markdown,
    person_picker,
    plain,
    text_input,
    when,
)

if TYPE_CHECKING:
    from bot.services.actions import ActionInfo

logger = logging.getLogger(__name__)

FORM_KIND = "meeting"  # the scheduling form's submit value's "form" (with "chat")
MINUTES_KIND = "minutes"  # the minutes form's submit value's "form" (with "meeting": its id)
_DO = "meeting"  # a button value's "do" is "<_DO>.<verb>" (written apart: the catalog check reads "x.y" as a key)
DO_MINUTES = f"{_DO}.minutes"  # opens the minutes form
DO_ACK = presses.MINUTES_ACK  # acknowledges the minutes


class Names(StrEnum):
    """The names meetings own: the forms, their inputs (as the Slack forms name their fields) and the buttons."""

    FORM = "meeting_form"
    SUBMIT = "meeting_form_submit"  # what common.form names the form's submit button
    MINUTES_FORM = "meeting_minutes_form"
    MINUTES_SUBMIT = "meeting_minutes_form_submit"
    TITLE = "title"
    GOAL = "goal"
    START = "start"
    DURATION = "duration_minutes"
    LOCATION = "location"
    HOST = "host"
    PARTICIPANTS = "participants"
    MATERIALS = "materials"
    AGENDA = "agenda"
    DECISIONS = "decisions"
    ACTION_ITEMS = "action_items"
    NOTES = "notes"
    MINUTES = "meeting_minutes"  # + "_<id>" in a card
    ACK = "meeting_ack"  # + "_<id>"


FIELDS = (
    Names.TITLE,
    Names.GOAL,
    Names.START,
    Names.DURATION,
    Names.LOCATION,
    Names.HOST,
    Names.PARTICIPANTS,
    Names.MATERIALS,
    Names.AGENDA,
)
MINUTES_FIELDS = (Names.DECISIONS, Names.ACTION_ITEMS, Names.NOTES)
# field -> catalog key of its label ("channel": the service's name for the chat the meeting is posted to)
LABELS = {f.value: f"meeting.field.{f.value}" for f in (*FIELDS, *MINUTES_FIELDS)} | {
    "channel": "meeting.field.channel"
}
TEXT_MAX = 1500  # typed text shown on a card, before escaping


def meeting_errors(lang: str, exc: ValidationFailed) -> dict[str, Any]:
    """A scheduling or minutes form's field errors as an error toast, each under its field's label."""
    return errors_toast(lang, exc, labels=LABELS)


# -- helpers the incident cards share -------------------------------------------------------------------------


def people_picker(
    name: str, label: str, *, required: bool = False, people: Sequence[str] = (), initial: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """A several-people picker of a form, its label above it; its value is a list of open_ids. It offers `people`
    (open_ids), or when there are none every member of the chat the card is in; `initial` are picked to begin
    with (offered too)."""
    picker: dict[str, Any] = {
        "tag": "multi_select_person",
        "name": name,
        "required": required,
        "width": "fill",
        "placeholder": {"tag": "plain_text", "content": plain(label)},
    }
    if initial:
        people = [*initial, *people] if people else ()
        picker["selected_values"] = list(dict.fromkeys(initial))
    if people:
        picker["options"] = [{"value": p} for p in dict.fromkeys(people)]
    return [markdown(f"**{escape_md(label)}**"), picker]


def form_people(form_value: Any, name: str) -> tuple[str, ...]:
    """The open_ids a submitted several-people picker holds, without repeats (one id, or objects, tolerated)."""
    raw = form_value.get(name) if isinstance(form_value, dict) else None
    items = raw if isinstance(raw, list) else [raw]
    ids = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("value") or item.get("open_id") or item.get("id")
        if isinstance(item, str) and item.replace("\x00", "").strip():
            ids.append(item.replace("\x00", "").strip())
    return tuple(dict.fromkeys(ids))


def _quick_line(
    line: str, number: int, *, now: datetime, tz: str, members: list[Member], workday_end: time
) -> ActionLine:
    """`@owner what by when` (English or Chinese, no separators) as an action line, or the LineError it earns."""
    quick = parse_quick(line, now=now, tz=tz, members=members, workday_end=workday_end)
    if quick.problem in ("unknown_person", "ambiguous_person"):
        ref = next(p for p in find_people(line, members) if p.error)
        raise LineError(
            ref.error or "error.unknown_person",
            line=number,
            name=ref.written.lstrip("@"),
            names=", ".join(ref.candidates),
        )
    if quick.owner_id is None:
        raise LineError("error.action_no_owner", line=number)
    if not quick.title:
        raise LineError("error.action_no_title", line=number)
    if quick.due is None:
        raise LineError("error.action_no_due", line=number)
    if quick.due <= now:
        raise LineError("error.action_due_past", line=number, _lang=text_lang(quick.due_text, ""))
    return ActionLine(title=quick.title[:500], owner_id=quick.owner_id, due=quick.due)


def parse_action_items(
    text: str, *, now: datetime, tz: str, members: Sequence[Member], workday_end: time = time(18, 0)
) -> tuple[ActionLine, ...]:
    """One action item a line, either `what — @owner — due — deliverable` (the Slack form's way) or
    `@owner what by when` (`@李雷 提交预算方案 下周五前`); owners as <@ou_…> or @name among `members`.

    Raises LineError naming the line (counted among the non-empty ones) that cannot be read.
    """
    people = list(members)
    out: list[ActionLine] = []
    for number, raw in enumerate((ln for ln in text.splitlines() if ln.strip()), start=1):
        line = BULLET.sub("", raw).strip()
        if len([p for p in SEPARATORS.split(line) if p and p.strip()]) > 1:
            try:
                out += parse_action_lines(line, now=now, tz=tz, members=people, workday_end=workday_end)
            except LineError as exc:
                raise LineError(exc.key, **{**exc.params, "line": number}) from exc
        else:
            out.append(_quick_line(line, number, now=now, tz=tz, members=people, workday_end=workday_end))
    return tuple(out)


# -- scheduling ----------------------------------------------------------------------------------------------


def meeting_form(
    lang: str,
    *,
    chat_id: str,
    tz: str,
    now: datetime,
    people: Sequence[str] = (),
    draft: MeetingDraft | None = None,
    incident_id: int | None = None,
) -> dict[str, Any]:
    """The scheduling form: title, goal, start (typed as a phrase, read in `tz`), duration, room, host (empty: who
    submits), participants, materials, agenda; its submit calls back with {"form": "meeting", "chat": chat_id}
    (and "incident": the incident it reviews, with `incident_id`). The pickers offer `people` (open_ids), or
    every member of the chat the card is in. `draft` fills it in (an incident's review meeting)."""
    start = f"{draft.start.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M}" if draft else ""
    agenda = "\n".join(f"{a.topic} — {a.minutes} min" for a in draft.agenda) if draft else ""  # led by the host
    elements = [
        text_input(
            Names.TITLE,
            t(lang, "meeting.field.title"),
            required=True,
            max_length=150,
            default=draft.title if draft else "",
        ),
        text_input(
            Names.GOAL,
            t(lang, "meeting.field.goal"),
            required=True,
            multiline=True,
            default=draft.goal if draft else "",
        ),
        markdown(lark_t(lang, "meeting.hint.goal"), notation=True),
        text_input(
            Names.START,
            t(lang, "meeting.field.start"),
            required=True,
            max_length=100,
            placeholder=t(lang, "meeting.placeholder.start"),
            default=start,
        ),
        markdown(f"{lark_t(lang, 'meeting.echo.empty_start')} ({escape_md(tz)})", notation=True),
        text_input(
            Names.DURATION,
            t(lang, "meeting.field.duration_minutes"),
            required=True,
            max_length=10,
            default=str(draft.duration_minutes if draft else 60),
        ),
        markdown(lark_t(lang, "meeting.hint.duration"), notation=True),
        text_input(
            Names.LOCATION, t(lang, "meeting.field.location"), max_length=500, default=draft.location if draft else ""
        ),
        person_picker(
            Names.HOST, t(lang, "meeting.field.host"), people=people, initial=draft.host_id if draft else None
        ),
        *people_picker(
            Names.PARTICIPANTS,
            t(lang, "meeting.field.participants"),
            people=people,
            initial=draft.participants if draft else (),
        ),
        text_input(
            Names.MATERIALS,
            t(lang, "meeting.field.materials"),
            multiline=True,
            default=draft.materials if draft else "",
        ),
        text_input(Names.AGENDA, t(lang, "meeting.field.agenda"), multiline=True, default=agenda),
        markdown(lark_t(lang, "meeting.hint.agenda"), notation=True),
    ]
    value: dict[str, Any] = {"form": FORM_KIND, "chat": chat_id}
    if incident_id is not None:
        value["incident"] = incident_id
    body = [markdown(lark_t(lang, "meeting.intro")), form(Names.FORM, elements, t(lang, "meeting.submit"), value)]
    return card(t(lang, "meeting.modal_title"), body, template="blue")


def _minutes(raw: str) -> int | None:
    """A duration as typed: 45, 45 min, 45分钟."""
    raw = raw.strip()
    if raw.isdigit():
        return int(raw)
    found = MINUTES_RE.match(raw.replace(" ", ""))
    return int(found.group(1)) if found else None


def parse_meeting_form(
    form_value: dict[str, Any],
    *,
    now: datetime,
    tz: str,
    lang: str,
    workday_end: time = time(18, 0),
    host_id: str,
    chat_id: str,
    members: Sequence[Member] = (),
) -> MeetingDraft:
    """Read a submitted scheduling form into a draft posted to `chat_id` (the host defaults to `host_id`, agenda
    owners to the host; @names resolve among `members`); raise ValidationFailed with the Slack form's field
    names and text keys."""
    errors: dict[str, tuple[str, dict[str, Any]]] = {}
    raw = form_text(form_value, Names.START).strip()
    start = parse_when(raw, now=now, tz=tz, workday_end=workday_end) if raw else None
    if not raw:
        errors[Names.START] = ("error.required", {})
    elif start is None:
        errors[Names.START] = ("error.unparseable_date", {"text": raw[:60], "_lang": text_lang(raw, lang)})
    duration = _minutes(form_text(form_value, Names.DURATION))
    if duration is None:
        errors[Names.DURATION] = ("error.not_a_number", {})
    host = form_text(form_value, Names.HOST).strip() or host_id
    agenda: tuple[AgendaEntry, ...] = ()
    try:
        lines = parse_agenda(form_text(form_value, Names.AGENDA), members=list(members))
        agenda = tuple(AgendaEntry(a.topic, a.owner_id or host, a.minutes) for a in lines)
    except LineError as exc:
        errors[Names.AGENDA] = (exc.key, dict(exc.params))
    draft = MeetingDraft(
        title=form_text(form_value, Names.TITLE).strip(),
        goal=form_text(form_value, Names.GOAL).strip(),
        start=start or now,
        duration_minutes=duration if duration is not None else MAX_DURATION,
        host_id=host,
        participants=form_people(form_value, Names.PARTICIPANTS),
        channel_id=chat_id,
        location=form_text(form_value, Names.LOCATION).strip(),
        materials=form_text(form_value, Names.MATERIALS).strip(),
        agenda=agenda,
    )
    try:
        validate(draft)
    except ValidationFailed as exc:
        errors = {**exc.field_errors, **errors}  # what could not be read says more than what follows from it
    if errors:
        raise ValidationFailed(errors)
    return draft


# -- the meeting card ------------------------------------------------------------------------------------------


def _field(lang: str, key: str, value: str) -> str:
    """One labelled line: **Label**: value (value already card markdown)."""
    return f"**{lark_t(lang, key)}**: {value}"


def agenda_text(lang: str, info: MeetingInfo) -> str:
    """The agenda, one numbered item a line with its owner and timebox (card markdown)."""
    lines = [
        lark_t(lang, "meeting.agenda_line", n=n, topic=clip(a.topic, 300), owner=at(a.owner_id), minutes=a.minutes)
        for n, a in enumerate(info.agenda, start=1)
    ]
    return "\n".join(lines) or lark_t(lang, "meeting.no_agenda")


def meeting_summary(lang: str, info: MeetingInfo, *, tz: str) -> str:
    """The card's one-line preview in the chat list (plain text)."""
    return t(lang, "meeting.fallback", code=info.code, title=clip(info.title, 200), when=when(info.start, tz, lang))


def meeting_card(lang: str, info: MeetingInfo, *, tz: str) -> dict[str, Any]:
    """The meeting: goal, time, host, room, participants, agenda with timeboxes, materials, where its minutes
    stand, and Record minutes (Edit minutes once recorded)."""
    facts = [
        _field(
            lang,
            "meeting.when",
            lark_t(lang, "meeting.when_value", when=when(info.start, tz, lang), minutes=info.duration_minutes),
        ),
        _field(lang, "meeting.host", at(info.host_id)),
    ]
    if info.location:
        facts.append(_field(lang, "meeting.location", escape_md(clip(info.location, 300))))
    participants = " ".join(at(u) for u in info.participants[:60]) or lark_t(lang, "meeting.nobody")
    elements: list[dict[str, Any]] = [
        markdown(f"**{lark_t(lang, 'meeting.goal')}**\n{escape_md(clip(info.goal, TEXT_MAX))}"),
        markdown("\n".join(facts)),
        markdown(f"**{lark_t(lang, 'meeting.participants')}**\n{participants}"),
        markdown(f"**{lark_t(lang, 'meeting.agenda')}**\n{agenda_text(lang, info)}"),
    ]
    if info.materials:
        elements.append(
            markdown(f"**{lark_t(lang, 'meeting.materials')}**\n{escape_md(clip(info.materials, TEXT_MAX))}")
        )
    elements.append(hr())
    if info.minutes_at:
        acked = " ".join(at(u) for u in info.acked_by) or lark_t(lang, "meeting.nobody")
        recorded = lark_t(
            lang,
            "meeting.minutes_recorded",
            user=at(info.minutes_by or ""),
            when=when(info.minutes_at, tz, lang),
            acked=Md(acked),
            n=len(info.acked_by),
            total=len(info.attendees),
        )
        elements.append(markdown(recorded, notation=True))
    else:
        elements.append(markdown(lark_t(lang, "meeting.minutes_pending"), notation=True))
    label = t(lang, "meeting.button.edit_minutes" if info.minutes_at else "meeting.button.minutes")
    kind = "default" if info.minutes_at else "primary_filled"
    record = button(label, {"do": DO_MINUTES, "id": info.id}, kind=kind, name=f"{Names.MINUTES}_{info.id}")
    elements.append(buttons(record))
    subtitle = t(lang, "meeting.reviews", code=info.incident_code) if info.incident_code else None
    title = t(lang, "meeting.header", code=info.code, title=clip(info.title, 120))
    return card(title, elements, template="blue", subtitle=subtitle, summary=meeting_summary(lang, info, tz=tz))


# -- minutes -----------------------------------------------------------------------------------------------------


def action_line(lang: str, a: ActionInfo, tz: str) -> str:
    """An action item of the minutes: code, what, owner, due, deliverable (card markdown)."""
    deliverable = lark_t(lang, "meeting.minutes.deliverable", text=clip(a.deliverable, 200)) if a.deliverable else ""
    return lark_t(
        lang,
        "meeting.minutes.action_line",
        code=a.code,
        title=clip(a.title, 300),
        owner=at(a.owner_id),
        when=when(a.due, tz, lang),
        deliverable=Md(deliverable),
    )


def minutes_form(lang: str, info: MeetingInfo, *, tz: str, actions: Sequence[ActionInfo] = ()) -> dict[str, Any]:
    """The minutes form: decisions (one a line), new action items (one a line), notes, prefilled when editing;
    the items already raised are listed above; its submit calls back with {"form": "minutes", "meeting": info.id}."""
    intro = f"**{escape_md(info.code)} · {escape_md(clip(info.title, 200))}**\n{escape_md(clip(info.goal, 500))}"
    body: list[dict[str, Any]] = [markdown(intro)]
    if actions:
        body.append(markdown("\n".join(action_line(lang, a, tz) for a in actions[:20]), notation=True))
    elements = [
        text_input(
            Names.DECISIONS, t(lang, "meeting.field.decisions"), multiline=True, default="\n".join(info.decisions or ())
        ),
        markdown(lark_t(lang, "meeting.hint.decisions"), notation=True),
        text_input(Names.ACTION_ITEMS, t(lang, "meeting.field.action_items"), multiline=True),
        markdown(f"{lark_t(lang, 'meeting.hint.action_items')} ({escape_md(tz)})", notation=True),
        text_input(Names.NOTES, t(lang, "meeting.field.notes"), multiline=True, default=info.notes or ""),
    ]
    submit = {"form": MINUTES_KIND, "meeting": info.id}
    body.append(form(Names.MINUTES_FORM, elements, t(lang, "meeting.minutes_submit"), submit))
    return card(t(lang, "meeting.minutes_modal_title", code=info.code), body, template="green")


def parse_minutes_form(
    form_value: dict[str, Any],
    *,
    now: datetime,
    tz: str,
    lang: str,
    workday_end: time = time(18, 0),
    members: Sequence[Member],
) -> MinutesDraft:
    """Read a submitted minutes form into a draft: decisions one a line, action items one a line in English or
    Chinese (owners as <@ou_…> or @name among `members`); raise ValidationFailed with the Slack form's field
    names and text keys, an unreadable line named by its number."""
    errors: dict[str, tuple[str, dict[str, Any]]] = {}
    actions: tuple[ActionDraftLine, ...] = ()
    try:
        lines = parse_action_items(
            form_text(form_value, Names.ACTION_ITEMS), now=now, tz=tz, members=members, workday_end=workday_end
        )
        actions = tuple(ActionDraftLine(a.title, a.owner_id, a.due, a.deliverable) for a in lines)
    except LineError as exc:
        errors[Names.ACTION_ITEMS] = (exc.key, dict(exc.params))
    decisions = tuple(
        d.strip().lstrip("-•*·").strip() for d in form_text(form_value, Names.DECISIONS).splitlines() if d.strip()
    )
    draft = MinutesDraft(decisions=decisions, actions=actions, notes=form_text(form_value, Names.NOTES).strip())
    try:
        validate_minutes(draft)
    except ValidationFailed as exc:
        found = dict(exc.field_errors)
        if errors and found.get(Names.DECISIONS, ("",))[0] == "error.minutes_empty":
            del found[Names.DECISIONS]  # "nothing recorded" is moot when an action line could not be read
        errors = {**found, **errors}
    if errors:
        raise ValidationFailed(errors)
    return draft


def minutes_card(
    lang: str, info: MeetingInfo, actions: Sequence[ActionInfo], *, tz: str, ack_button: bool = False
) -> dict[str, Any]:
    """The minutes: decisions, action items with owners and due dates, notes, how to acknowledge (and, with
    `ack_button`, an Acknowledge button)."""
    none = lark_t(lang, "meeting.minutes.none")
    decisions = "\n".join(f"• {escape_md(clip(d, 500))}" for d in (info.decisions or ())) or none
    lines = "\n".join(action_line(lang, a, tz) for a in actions[:40]) or none
    elements: list[dict[str, Any]] = [
        markdown(f"**{lark_t(lang, 'meeting.minutes.decisions')}**\n{decisions}"),
        markdown(f"**{lark_t(lang, 'meeting.minutes.actions')}**\n{lines}"),
    ]
    if info.notes:
        elements.append(
            markdown(f"**{lark_t(lang, 'meeting.minutes.notes')}**\n{escape_md(clip(info.notes, TEXT_MAX))}")
        )
    elements.append(markdown(lark_t(lang, "meeting.minutes.ack_hint"), notation=True))
    if ack_button:
        ack = button(
            t(lang, "meeting.button.ack"),
            {"do": DO_ACK, "id": info.id},
            kind="primary_filled",
            name=f"{Names.ACK}_{info.id}",
        )
        elements.append(buttons(ack))
    title = t(lang, "meeting.minutes.header", code=info.code, title=clip(info.title, 120))
    return card(title, elements, template="green", summary=t(lang, "meeting.minutes.fallback", code=info.code))
