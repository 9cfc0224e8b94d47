"""Block Kit for meetings: the scheduling modal, the card, the minutes modal and the minutes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, time
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConversationFilter,
    ConversationSelectElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    SectionBlock,
    UserMultiSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.dates import parse_when
from bot.errors import ValidationFailed
from bot.people import Member
from bot.services.meeting_text import parse_action_lines, parse_agenda
from bot.services.meetings import (
    MAX_PARTICIPANTS_ADVISED,
    ActionDraftLine,
    AgendaEntry,
    MeetingDraft,
    MeetingInfo,
    MinutesDraft,
)
from bot.services.requirement_text import LineError
from bot.text import t, text_lang
from handlers.blocks import history
from handlers.blocks.common import (
    ModalMeta,
    context,
    date_token,
    echo_block,
    escape,
    form_element,
    form_text,
    labelled,
    mention,
    plain,
    section,
    text_input,
    truncate,
)

if TYPE_CHECKING:
    from bot.services.actions import ActionInfo


class Ids(StrEnum):
    """callback_id, block_id and action_id values meetings own."""

    MODAL = "meeting_modal"
    MINUTES_MODAL = "meeting_minutes_modal"
    RECORD_MINUTES = "meeting_record_minutes"
    EDIT = "meeting_edit"
    ACK = "meeting_ack"
    INPUT = "value"


FIELDS = (
    "title",
    "goal",
    "start",
    "duration_minutes",
    "location",
    "host",
    "participants",
    "materials",
    "agenda",
    "channel",
)
MINUTES_FIELDS = ("decisions", "action_items", "notes")


def meeting_echoes(
    lang: str, typed: dict[str, Any], *, now: datetime, tz: str, workday_end: time = time(18, 0)
) -> dict[str, str]:
    """What the bot understood of the start time, and a word on the number of participants."""
    raw = str(typed.get("start") or "").strip()
    if not raw:
        start = t(lang, "meeting.echo.empty_start")
    else:
        when = parse_when(raw, now=now, tz=tz, workday_end=workday_end)
        if when is None:
            start = "⚠️ " + t(text_lang(raw, lang), "error.unparseable_date", text=escape(raw[:60]))
        elif when <= now:
            start = t(lang, "meeting.echo.past", when=date_token(when, tz, long=True))
        else:
            start = t(lang, "echo.date", when=date_token(when, tz, long=True))
    n = len(typed.get("participants") or [])
    key = "meeting.echo.too_many" if n > MAX_PARTICIPANTS_ADVISED else "meeting.echo.participants"
    return {"start": start, "participants": t(lang, key, n=n, max=MAX_PARTICIPANTS_ADVISED)}


def meeting_modal(
    lang: str,
    *,
    meta: ModalMeta,
    user_id: str,
    now: datetime,
    tz: str,
    draft: MeetingDraft | None = None,
    code: str | None = None,
    workday_end: time = time(18, 0),
    incident_id: int | None = None,
) -> View:
    """The scheduling modal, empty or prefilled for an edit; `incident_id` makes the meeting that incident's review."""
    zone = ZoneInfo(tz)
    start = f"{draft.start.astimezone(zone):%Y-%m-%d %H:%M}" if draft else ""
    participants = list(draft.participants) if draft else [user_id]
    agenda = "\n".join(f"{a.topic} — <@{a.owner_id}> — {a.minutes} min" for a in (draft.agenda if draft else ()))
    echoes = meeting_echoes(
        lang, {"start": start, "participants": participants}, now=now, tz=tz, workday_end=workday_end
    )
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=escape(t(lang, "meeting.intro")))),
        text_input("title", t(lang, "meeting.field.title"), max_length=150, initial=draft.title if draft else None),
        text_input(
            "goal",
            t(lang, "meeting.field.goal"),
            multiline=True,
            hint=t(lang, "meeting.hint.goal"),
            initial=draft.goal if draft else None,
        ),
        text_input(
            "start",
            t(lang, "meeting.field.start"),
            max_length=100,
            initial=start or None,
            placeholder=t(lang, "meeting.placeholder.start"),
            dispatch=True,
        ),
        echo_block("start", echoes["start"]),
        InputBlock(
            block_id="duration_minutes",
            label=plain(t(lang, "meeting.field.duration_minutes")),
            hint=plain(t(lang, "meeting.hint.duration"), 2000),
            element=NumberInputElement(
                action_id=Ids.INPUT,
                is_decimal_allowed=False,
                initial_value=str(draft.duration_minutes if draft else 60),
            ),
        ),
        text_input(
            "location",
            t(lang, "meeting.field.location"),
            optional=True,
            max_length=500,
            initial=draft.location if draft else None,
        ),
        InputBlock(
            block_id="host",
            label=plain(t(lang, "meeting.field.host")),
            element=UserSelectElement(action_id=Ids.INPUT, initial_user=draft.host_id if draft else user_id),
        ),
        InputBlock(
            block_id="participants",
            label=plain(t(lang, "meeting.field.participants")),
            dispatch_action=True,
            element=UserMultiSelectElement(action_id=Ids.INPUT, initial_users=participants),
        ),
        echo_block("participants", echoes["participants"]),
        text_input(
            "materials",
            t(lang, "meeting.field.materials"),
            multiline=True,
            optional=True,
            initial=draft.materials if draft else None,
        ),
        text_input(
            "agenda",
            t(lang, "meeting.field.agenda"),
            multiline=True,
            optional=True,
            hint=t(lang, "meeting.hint.agenda"),
            initial=agenda or None,
        ),
    ]
    if code is None:
        blocks.append(
            InputBlock(
                block_id="channel",
                label=plain(t(lang, "meeting.field.channel")),
                element=ConversationSelectElement(
                    action_id=Ids.INPUT,
                    initial_conversation=meta.origin_channel or None,
                    filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
                ),
            )
        )
    return View(
        type="modal",
        callback_id=Ids.MODAL,
        private_metadata=_metadata(meta, incident_id),
        blocks=blocks,
        title=plain(t(lang, "meeting.modal_title_edit", code=code) if code else t(lang, "meeting.modal_title"), 24),
        submit=plain(t(lang, "meeting.submit_edit" if code else "meeting.submit"), 24),
        close=plain(t(lang, "modal.close"), 24),
    )


def _metadata(meta: ModalMeta, incident_id: int | None) -> str:
    """The modal's private_metadata: the shared fields, and the incident a review meeting is for."""
    if incident_id is None:
        return meta.dump()
    return json.dumps({**json.loads(meta.dump()), "i": incident_id})


def reviewed_incident(raw: str | None) -> int | None:
    """The incident a meeting modal schedules the review of, if any."""
    try:
        value = json.loads(raw or "{}").get("i")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def with_echoes(view: dict[str, Any], echoes: dict[str, str]) -> View:
    """The same modal with its echo lines replaced; inputs keep what the user typed."""
    blocks = []
    for block in view.get("blocks") or []:
        field = str(block.get("block_id") or "").removesuffix("_echo")
        if block.get("type") == "context" and field in echoes and block.get("block_id") == f"{field}_echo":
            blocks.append(echo_block(field, echoes[field]).to_dict())
        else:
            blocks.append(block)
    keep = ("type", "callback_id", "title", "submit", "close", "private_metadata")
    return View(**{k: view[k] for k in keep if view.get(k) is not None}, blocks=blocks)


def typed_values(values: dict[str, Any]) -> dict[str, Any]:
    """The fields the modal echoes, as typed."""
    users = form_element(values, "participants").get("selected_users")
    return {"start": form_text(values, "start"), "participants": users if isinstance(users, list) else []}


def _line_error(exc: LineError) -> tuple[str, dict[str, Any]]:
    return exc.key, dict(exc.params)


def parse_meeting_form(
    values: dict[str, Any],
    *,
    now: datetime,
    tz: str,
    members: list[Member],
    lang: str,
    default_channel: str = "",
    workday_end: time = time(18, 0),
) -> MeetingDraft:
    """Turn view.state.values into a draft; unreadable fields raise ValidationFailed."""
    errors: dict[str, tuple[str, dict[str, Any]]] = {}
    raw = form_text(values, "start").strip()
    start = parse_when(raw, now=now, tz=tz, workday_end=workday_end) if raw else None
    if not raw:
        errors["start"] = ("error.required", {})
    elif start is None:
        errors["start"] = ("error.unparseable_date", {"text": raw[:60], "_lang": text_lang(raw, lang)})
    duration = 0
    try:
        duration = int(form_text(values, "duration_minutes").strip())
    except ValueError:
        errors["duration_minutes"] = ("error.not_a_number", {})
    host = form_text(values, "host", "selected_user")
    agenda: tuple[AgendaEntry, ...] = ()
    try:
        agenda = tuple(
            AgendaEntry(a.topic, a.owner_id or host, a.minutes)
            for a in parse_agenda(form_text(values, "agenda"), members=members)
        )
    except LineError as exc:
        errors["agenda"] = _line_error(exc)
    users = form_element(values, "participants").get("selected_users")
    if errors:
        raise ValidationFailed(errors)
    return MeetingDraft(
        title=form_text(values, "title"),
        goal=form_text(values, "goal"),
        start=start or now,
        duration_minutes=duration,
        host_id=host,
        participants=tuple(u for u in (users if isinstance(users, list) else []) if isinstance(u, str)),
        channel_id=form_text(values, "channel", "selected_conversation") if "channel" in values else default_channel,
        location=form_text(values, "location"),
        materials=form_text(values, "materials"),
        agenda=agenda,
    )


def minutes_modal(lang: str, *, meeting: MeetingInfo, actions: Sequence[ActionInfo], tz: str) -> View:
    """The minutes modal: decisions, new action items, notes (prefilled when editing)."""
    blocks: list[Block] = [
        section(
            f"*{escape(meeting.code)} · {escape(truncate(meeting.title, 200))}*\n{escape(truncate(meeting.goal, 500))}"
        )
    ]
    if actions:
        blocks.append(context("\n".join(_action_line(lang, a, tz) for a in actions[:20])))
    blocks += [
        text_input(
            "decisions",
            t(lang, "meeting.field.decisions"),
            multiline=True,
            optional=True,
            hint=t(lang, "meeting.hint.decisions"),
            initial="\n".join(meeting.decisions or ()) or None,
        ),
        text_input(
            "action_items",
            t(lang, "meeting.field.action_items"),
            multiline=True,
            optional=True,
            hint=t(lang, "meeting.hint.action_items"),
        ),
        text_input(
            "notes", t(lang, "meeting.field.notes"), multiline=True, optional=True, initial=meeting.notes or None
        ),
    ]
    return View(
        type="modal",
        callback_id=Ids.MINUTES_MODAL,
        private_metadata=json.dumps({"m": meeting.id}),
        title=plain(t(lang, "meeting.minutes_modal_title", code=meeting.code), 24),
        submit=plain(t(lang, "meeting.minutes_submit"), 24),
        close=plain(t(lang, "modal.close"), 24),
        blocks=blocks,
    )


def parse_minutes_form(
    values: dict[str, Any], *, now: datetime, tz: str, members: list[Member], workday_end: time = time(18, 0)
) -> MinutesDraft:
    """Turn the minutes modal's values into a draft; a line that cannot be read is a field error naming it."""
    try:
        lines = parse_action_lines(
            form_text(values, "action_items"), now=now, tz=tz, members=members, workday_end=workday_end
        )
    except LineError as exc:
        raise ValidationFailed({"action_items": _line_error(exc)}) from exc
    decisions = tuple(
        d.strip().lstrip("-•*·").strip() for d in form_text(values, "decisions").splitlines() if d.strip()
    )
    return MinutesDraft(
        decisions=decisions,
        actions=tuple(ActionDraftLine(a.title, a.owner_id, a.due, a.deliverable) for a in lines),
        notes=form_text(values, "notes"),
    )


def minutes_meta(raw: str | None) -> int:
    """The meeting ID carried by the minutes modal."""
    try:
        return int(json.loads(raw or "{}").get("m") or 0)
    except (ValueError, AttributeError, TypeError):
        return 0


def _when(lang: str, info: MeetingInfo, tz: str) -> str:
    return t(lang, "meeting.when_value", when=date_token(info.start, tz), minutes=info.duration_minutes)


def card_blocks(lang: str, info: MeetingInfo, *, tz: str) -> list[Block]:
    """The meeting card: goal, time, people, agenda, materials, minutes status and buttons."""
    agenda = "\n".join(
        t(
            lang,
            "meeting.agenda_line",
            n=n,
            topic=escape(truncate(a.topic, 300)),
            owner=mention(a.owner_id),
            minutes=a.minutes,
        )
        for n, a in enumerate(info.agenda, start=1)
    ) or t(lang, "meeting.no_agenda")
    fields = [
        MarkdownTextObject(text=f"*{t(lang, 'meeting.when')}*\n{_when(lang, info, tz)}"),
        MarkdownTextObject(text=f"*{t(lang, 'meeting.host')}*\n{mention(info.host_id)}"),
    ]
    if info.location:
        fields.append(
            MarkdownTextObject(text=truncate(f"*{t(lang, 'meeting.location')}*\n{escape(info.location)}", 2000))
        )
    blocks: list[Block] = [
        HeaderBlock(text=plain(t(lang, "meeting.header", code=info.code, title=info.title), 150)),
        *([context(t(lang, "meeting.reviews", code=escape(info.incident_code)))] if info.incident_code else []),
        labelled(t(lang, "meeting.goal"), info.goal),
        SectionBlock(fields=fields),
        section(f"*{t(lang, 'meeting.participants')}*\n" + " ".join(mention(u) for u in info.participants[:60])),
        section(f"*{t(lang, 'meeting.agenda')}*\n{agenda}"),
    ]
    if info.materials:
        blocks.append(labelled(t(lang, "meeting.materials"), info.materials))
    blocks.append(DividerBlock())
    if info.minutes_at:
        acked = " ".join(mention(u) for u in info.acked_by) or t(lang, "meeting.nobody")
        blocks.append(
            context(
                t(
                    lang,
                    "meeting.minutes_recorded",
                    user=mention(info.minutes_by or ""),
                    when=date_token(info.minutes_at, tz),
                    acked=acked,
                    n=len(info.acked_by),
                    total=len(info.attendees),
                )
            )
        )
    else:
        blocks.append(context(t(lang, "meeting.minutes_pending")))
    minutes_label = "meeting.button.edit_minutes" if info.minutes_at else "meeting.button.minutes"
    blocks.append(
        ActionsBlock(
            block_id=f"meeting_actions_{info.id}",
            elements=[
                ButtonElement(
                    action_id=Ids.RECORD_MINUTES,
                    text=plain(t(lang, minutes_label)),
                    value=str(info.id),
                    style=None if info.minutes_at else "primary",
                ),
                ButtonElement(action_id=Ids.EDIT, text=plain(t(lang, "meeting.button.edit")), value=str(info.id)),
                history.overflow(lang, "meeting", info.id),
            ],
        )
    )
    return blocks


def card_text(lang: str, info: MeetingInfo, *, tz: str) -> str:
    """The card's notification text."""
    return t(
        lang,
        "meeting.fallback",
        code=info.code,
        title=escape(truncate(info.title, 200)),
        when=date_token(info.start, tz),
    )


def _action_line(lang: str, a: ActionInfo, tz: str) -> str:
    deliverable = (
        t(lang, "meeting.minutes.deliverable", text=escape(truncate(a.deliverable, 200))) if a.deliverable else ""
    )
    return t(
        lang,
        "meeting.minutes.action_line",
        code=a.code,
        title=escape(truncate(a.title, 300)),
        owner=mention(a.owner_id),
        when=date_token(a.due, tz),
        deliverable=deliverable,
    )


def minutes_blocks(
    lang: str, info: MeetingInfo, actions: Sequence[ActionInfo], *, tz: str, ack_button: bool = False
) -> list[Block]:
    """The minutes: decisions, action items with owners and due dates, notes, and how to acknowledge."""
    decisions = "\n".join(f"• {escape(truncate(d, 500))}" for d in (info.decisions or ())) or t(
        lang, "meeting.minutes.none"
    )
    lines = "\n".join(_action_line(lang, a, tz) for a in actions[:40]) or t(lang, "meeting.minutes.none")
    blocks: list[Block] = [
        HeaderBlock(text=plain(t(lang, "meeting.minutes.header", code=info.code, title=info.title), 150)),
        section(f"*{t(lang, 'meeting.minutes.decisions')}*\n{decisions}"),
        section(f"*{t(lang, 'meeting.minutes.actions')}*\n{lines}"),
    ]
    if info.notes:
        blocks.append(labelled(t(lang, "meeting.minutes.notes"), info.notes))
    blocks.append(context(t(lang, "meeting.minutes.ack_hint")))
    if ack_button:
        blocks.append(
            ActionsBlock(
                block_id=f"meeting_ack_{info.id}",
                elements=[
                    ButtonElement(
                        action_id=Ids.ACK,
                        text=plain(t(lang, "meeting.button.ack")),
                        value=str(info.id),
                        style="primary",
                    )
                ],
            )
        )
    return blocks


def minutes_text(lang: str, info: MeetingInfo) -> str:
    """The minutes' notification text."""
    return t(lang, "meeting.minutes.fallback", code=info.code)
