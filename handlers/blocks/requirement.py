"""Block Kit for the requirement sheet: the modal, its parser, the posted sheet, lists and notices."""

from __future__ import annotations

import json
from datetime import datetime, time
from enum import StrEnum
from typing import Any
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
    Option,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.dates import parse_when
from bot.errors import ValidationFailed
from bot.people import Member
from bot.services.requirement_text import LineError, parse_questions
from bot.services.requirements import (
    MAX_SHORT,
    PRIORITIES,
    QuestionInfo,
    RequirementDraft,
    RequirementInfo,
    Status,
)
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

MAX_SHOWN_QUESTIONS = 15


class Ids(StrEnum):
    """callback_id, block_id and action_id values this feature owns."""

    MODAL = "requirement_modal"
    CHANGES_MODAL = "requirement_changes_modal"
    CONFIRM = "requirement_confirm"
    REQUEST_CHANGES = "requirement_request_changes"
    EDIT = "requirement_edit"
    ANSWERED = "requirement_question_answered"
    REASON = "reason"
    INPUT = "value"  # the action_id of every input element; block_id names the field


FIELDS = (
    "requester_dept",
    "requester_owner",
    "receiver_dept",
    "receiver_owner",
    "background",
    "goal",
    "description",
    "priority",
    "due",
    "resources",
    "open_questions",
    "confirm_by",
    "channel",
)


DATE_FIELDS = ("due", "confirm_by")
ECHOED = ("due", "confirm_by", "open_questions")


def modal(
    lang: str,
    *,
    meta: ModalMeta,
    user_id: str,
    now: datetime,
    tz: str,
    members: list[Member],
    draft: RequirementDraft | None = None,
    code: str | None = None,
    workday_end: time = time(18, 0),
) -> View:
    """The sheet as a modal, empty for a new record or prefilled for an edit, with date echoes."""
    zone = ZoneInfo(tz)

    def local(moment: datetime) -> str:
        return f"{moment.astimezone(zone):%Y-%m-%d %H:%M}"

    initial_due = local(draft.due) if draft else ""
    initial_confirm = local(draft.confirm_by) if draft and draft.confirm_by > now else t(lang, "default.confirm_by")
    priority_options = [Option(value=p, label=t(lang, f"priority.{p}")) for p in PRIORITIES]
    initial_priority = draft.priority if draft else "medium"
    questions = "\n".join(
        q.text + (f" — <@{q.owner_id}>" if q.owner_id else "") + (f" — {local(q.deadline)}" if q.deadline else "")
        for q in (draft.questions if draft else ())
    )
    echoes = echo_texts(
        lang,
        {"due": initial_due, "confirm_by": initial_confirm, "open_questions": questions},
        now=now,
        tz=tz,
        members=members,
        workday_end=workday_end,
    )
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=escape(t(lang, "modal.intro")))),
        text_input(
            "requester_dept",
            t(lang, "field.requester_dept"),
            max_length=MAX_SHORT,
            initial=draft.requester_dept if draft else None,
        ),
        InputBlock(
            block_id="requester_owner",
            label=plain(t(lang, "field.requester_owner")),
            element=UserSelectElement(action_id=Ids.INPUT, initial_user=draft.requester_owner if draft else user_id),
        ),
        text_input(
            "receiver_dept",
            t(lang, "field.receiver_dept"),
            max_length=MAX_SHORT,
            initial=draft.receiver_dept if draft else None,
        ),
        InputBlock(
            block_id="receiver_owner",
            label=plain(t(lang, "field.receiver_owner")),
            element=UserSelectElement(action_id=Ids.INPUT, initial_user=draft.receiver_owner if draft else None),
        ),
        text_input(
            "background",
            t(lang, "field.background"),
            multiline=True,
            initial=draft.background if draft else None,
        ),
        text_input(
            "goal",
            t(lang, "field.goal"),
            multiline=True,
            hint=t(lang, "hint.goal"),
            initial=draft.goal if draft else None,
        ),
        text_input(
            "description",
            t(lang, "field.description"),
            multiline=True,
            initial=draft.description if draft else None,
        ),
        InputBlock(
            block_id="priority",
            label=plain(t(lang, "field.priority")),
            element=StaticSelectElement(
                action_id=Ids.INPUT,
                options=priority_options,
                initial_option=next(o for o in priority_options if o.value == initial_priority),
            ),
        ),
        text_input(
            "due",
            t(lang, "field.due"),
            max_length=100,
            initial=initial_due or None,
            placeholder=t(lang, "placeholder.due"),
            dispatch=True,
        ),
        echo_block("due", echoes["due"]),
        text_input(
            "resources",
            t(lang, "field.resources"),
            multiline=True,
            optional=True,
            initial=draft.resources if draft else None,
        ),
        text_input(
            "open_questions",
            t(lang, "field.open_questions"),
            multiline=True,
            optional=True,
            hint=t(lang, "hint.open_questions"),
            initial=questions or None,
            dispatch=True,
        ),
        echo_block("open_questions", echoes["open_questions"]),
        text_input(
            "confirm_by",
            t(lang, "field.confirm_by"),
            max_length=100,
            initial=initial_confirm,
            placeholder=t(lang, "placeholder.confirm_by"),
            hint=t(lang, "hint.confirm_by"),
            dispatch=True,
        ),
        echo_block("confirm_by", echoes["confirm_by"]),
    ]
    editing = code is not None
    if not editing:  # an edited sheet stays in the channel where it was posted
        blocks.append(
            InputBlock(
                block_id="channel",
                label=plain(t(lang, "field.channel")),
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
        title=plain(t(lang, "modal.title_edit", code=code) if editing else t(lang, "modal.title"), 24),
        submit=plain(t(lang, "modal.submit_edit" if editing else "modal.submit"), 24),
        close=plain(t(lang, "modal.close"), 24),
        private_metadata=meta.dump(),
        blocks=blocks,
    )


def with_echoes(view: dict[str, Any], echoes: dict[str, str]) -> View:
    """The same modal with its date echoes replaced; inputs keep what the user typed."""
    blocks = []
    for block in view.get("blocks") or []:
        field = str(block.get("block_id") or "").removesuffix("_echo")
        if block.get("type") == "context" and field in echoes and block.get("block_id") == f"{field}_echo":
            blocks.append(echo_block(field, echoes[field]).to_dict())
        else:
            blocks.append(block)
    keep = (
        "type",
        "callback_id",
        "title",
        "submit",
        "close",
        "private_metadata",
        "clear_on_close",
        "notify_on_close",
        "external_id",
    )
    return View(**{k: view[k] for k in keep if view.get(k) is not None}, blocks=blocks)


def typed_values(values: dict[str, Any]) -> dict[str, str]:
    """The raw text of the echoed fields in view.state.values."""
    return {field: form_text(values, field) for field in ECHOED}


def _date_echo(lang: str, raw: str, *, now: datetime, tz: str, workday_end: time, empty_key: str) -> str:
    raw = raw.strip()
    if not raw:
        return t(lang, empty_key)
    when = parse_when(raw, now=now, tz=tz, workday_end=workday_end)
    said = text_lang(raw, lang)
    if when is None:
        return "⚠️ " + t(said, "error.unparseable_date", text=escape(raw[:60]))
    if when <= now:
        return "⚠️ " + t(said, "error.in_past")
    return t(lang, "echo.date", when=date_token(when, tz, long=True))


def echo_texts(
    lang: str, typed: dict[str, str], *, now: datetime, tz: str, members: list[Member], workday_end: time = time(18, 0)
) -> dict[str, str]:
    """What the bot understood of each date field, shown under it in the reader's own time."""
    out = {
        field: _date_echo(
            lang, typed.get(field, ""), now=now, tz=tz, workday_end=workday_end, empty_key=f"echo.empty_{field}"
        )
        for field in DATE_FIELDS
    }
    text = typed.get("open_questions", "")
    try:
        questions = parse_questions(text, now=now, tz=tz, members=members, workday_end=workday_end)
    except LineError as exc:
        params = dict(exc.params)
        out["open_questions"] = "⚠️ " + escape(t(params.pop("_lang", None) or lang, exc.key, **params))
    else:
        lines = [
            t(
                lang,
                "echo.question",
                n=n,
                owner=mention(q.owner_id) if q.owner_id else t(lang, "echo.receiver"),
                when=date_token(q.deadline, tz) if q.deadline else t(lang, "echo.in_24h"),
            )
            for n, q in enumerate(questions[:MAX_SHOWN_QUESTIONS], start=1)
        ]
        out["open_questions"] = "\n".join(lines) or t(lang, "echo.empty_open_questions")
    return out


def parse_form(
    values: dict[str, Any],
    *,
    now: datetime,
    tz: str,
    members: list[Member],
    workday_end: time = time(18, 0),
    default_channel: str = "",
    lang: str = "en",
) -> RequirementDraft:
    """Turn view.state.values into a draft; unreadable fields raise ValidationFailed."""
    errors: dict[str, tuple[str, dict[str, Any]]] = {}
    when: dict[str, datetime] = {}
    for field in DATE_FIELDS:
        raw = form_text(values, field).strip()
        parsed = parse_when(raw, now=now, tz=tz, workday_end=workday_end) if raw else None
        if not raw:
            errors[field] = ("error.required", {})
        elif parsed is None:
            errors[field] = ("error.unparseable_date", {"text": raw[:60], "_lang": text_lang(raw, lang)})
        elif parsed <= now:
            errors[field] = ("error.in_past", {"_lang": text_lang(raw, lang)})
        else:
            when[field] = parsed
    option = form_element(values, "priority").get("selected_option")
    priority = option.get("value", "") if isinstance(option, dict) else ""
    questions: tuple[Any, ...] = ()
    try:
        questions = parse_questions(
            form_text(values, "open_questions"), now=now, tz=tz, members=members, workday_end=workday_end
        )
    except LineError as exc:
        errors["open_questions"] = (exc.key, exc.params)
    if errors:
        raise ValidationFailed(errors)
    return RequirementDraft(
        requester_dept=form_text(values, "requester_dept"),
        requester_owner=form_text(values, "requester_owner", "selected_user"),
        receiver_dept=form_text(values, "receiver_dept"),
        receiver_owner=form_text(values, "receiver_owner", "selected_user"),
        background=form_text(values, "background"),
        goal=form_text(values, "goal"),
        description=form_text(values, "description"),
        priority=priority,
        due=when.get("due", now),
        confirm_by=when.get("confirm_by", now),
        channel_id=form_text(values, "channel", "selected_conversation") if "channel" in values else default_channel,
        resources=form_text(values, "resources"),
        questions=questions,
    )


def changes_modal(lang: str, *, requirement: RequirementInfo) -> View:
    """A modal asking why changes are needed."""
    return View(
        type="modal",
        callback_id=Ids.CHANGES_MODAL,
        title=plain(t(lang, "changes.title"), 24),
        submit=plain(t(lang, "changes.submit"), 24),
        close=plain(t(lang, "modal.close"), 24),
        private_metadata=json.dumps({"r": requirement.id}),
        blocks=[
            section(f"*{escape(requirement.code)}* · {escape(truncate(requirement.goal, 200))}"),
            text_input(Ids.REASON, t(lang, "changes.label"), multiline=True),
        ],
    )


def _question_line(lang: str, q: QuestionInfo, tz: str) -> str:
    if q.answered_at:
        return t(
            lang,
            "sheet.question_answered",
            n=q.position + 1,
            text=escape(truncate(q.text, 400)),
            user=mention(q.answered_by or q.owner_id),
        )
    return t(
        lang,
        "sheet.question",
        n=q.position + 1,
        text=escape(truncate(q.text, 400)),
        owner=mention(q.owner_id),
        when=date_token(q.deadline, tz),
    )


def sheet_blocks(lang: str, req: RequirementInfo, *, tz: str, actions: bool = True) -> list[Block]:
    """The posted sheet: every field, status, signatures, open questions and the buttons."""
    status = t(lang, f"status.{req.status.value}") + " · " + t(lang, "sheet.revision", n=req.revision)
    requester = f"{escape(req.requester_dept)} · {mention(req.requester_owner)}"
    receiver = f"{escape(req.receiver_dept)} · {mention(req.receiver_owner)}"
    blocks: list[Block] = [
        HeaderBlock(text=plain(t(lang, "sheet.header", code=req.code), 150)),
        SectionBlock(
            fields=[
                MarkdownTextObject(text=f"*{t(lang, 'sheet.code')}*\n{req.code}"),
                MarkdownTextObject(text=f"*{t(lang, 'field.priority')}*\n{t(lang, f'priority.{req.priority}')}"),
                MarkdownTextObject(text=truncate(f"*{t(lang, 'sheet.requester')}*\n{requester}", 2000)),
                MarkdownTextObject(text=truncate(f"*{t(lang, 'sheet.receiver')}*\n{receiver}", 2000)),
                MarkdownTextObject(text=f"*{t(lang, 'field.due')}*\n{date_token(req.due, tz)}"),
                MarkdownTextObject(text=f"*{t(lang, 'sheet.status')}*\n{status}"),
                MarkdownTextObject(text=f"*{t(lang, 'field.confirm_by')}*\n{date_token(req.confirm_by, tz)}"),
            ]
        ),
        DividerBlock(),
        labelled(t(lang, "field.background"), req.background),
        labelled(t(lang, "field.goal"), req.goal),
        labelled(t(lang, "field.description"), req.description),
    ]
    if req.resources:
        blocks.append(labelled(t(lang, "field.resources"), req.resources))
    blocks.append(
        section(
            f"*{t(lang, 'field.open_questions')}*" + ("" if req.questions else f"\n{t(lang, 'sheet.no_questions')}")
        )
    )
    for q in req.questions[:MAX_SHOWN_QUESTIONS]:
        line = section(_question_line(lang, q, tz))
        if actions and q.answered_at is None:
            line.accessory = ButtonElement(
                action_id=Ids.ANSWERED, text=plain(t(lang, "button.answered")), value=str(q.id)
            )
        blocks.append(line)
    if len(req.questions) > MAX_SHOWN_QUESTIONS:
        blocks.append(context(t(lang, "sheet.more_questions", n=len(req.questions) - MAX_SHOWN_QUESTIONS)))
    blocks.append(DividerBlock())
    blocks.append(section(f"*{t(lang, 'sheet.signatures')}*\n" + "\n".join(_signature_lines(lang, req, tz))))
    if req.status == Status.CHANGES_REQUESTED and req.change_reason:
        changer = next((h.actor_id for h in reversed(req.history) if h.action == "changes_requested"), None)
        blocks.append(
            section(
                t(
                    lang,
                    "sheet.change_reason",
                    user=mention(changer) if changer else "",
                    reason=escape(truncate(req.change_reason, 2000)),
                ).strip()
            )
        )
    if req.status == Status.CONFIRMED and req.confirmed_at:
        blocks.append(context(t(lang, "sheet.locked", when=date_token(req.confirmed_at, tz))))
    elif req.status == Status.AWAITING:
        blocks.append(context(t(lang, "sheet.how_to_sign")))
    if actions:
        buttons = []
        if req.status == Status.AWAITING:
            buttons.append(
                ButtonElement(
                    action_id=Ids.CONFIRM, text=plain(t(lang, "button.confirm")), value=str(req.id), style="primary"
                )
            )
            buttons.append(
                ButtonElement(
                    action_id=Ids.REQUEST_CHANGES, text=plain(t(lang, "button.request_changes")), value=str(req.id)
                )
            )
        buttons.append(ButtonElement(action_id=Ids.EDIT, text=plain(t(lang, "button.edit")), value=str(req.id)))
        elements: list[Any] = [*buttons, history.overflow(lang, "requirement", req.id)]
        blocks.append(ActionsBlock(block_id=f"requirement_actions_{req.id}", elements=elements))
    return blocks


def _signature_lines(lang: str, req: RequirementInfo, tz: str) -> list[str]:
    lines = []
    for role, user in (("requester", req.requester_owner), ("receiver", req.receiver_owner)):
        sig = next((s for s in req.signatures if s.role.value == role), None)
        label = t(lang, f"sheet.{role}")
        if sig:
            lines.append(
                f"{label}: " + t(lang, "sheet.signed", user=mention(sig.user_id), when=date_token(sig.signed_at, tz))
            )
        else:
            lines.append(f"{label}: " + t(lang, "sheet.unsigned", user=mention(user)))
    return lines


def sheet_text(lang: str, req: RequirementInfo, *, tz: str) -> str:
    """The notification text of the sheet message (mentions both owners)."""
    return t(
        lang,
        "sheet.fallback",
        code=req.code,
        requester=mention(req.requester_owner),
        receiver=mention(req.receiver_owner),
        when=date_token(req.confirm_by, tz),
    )


def list_blocks(lang: str, *, awaiting: list[RequirementInfo], latest: list[RequirementInfo], tz: str) -> list[Block]:
    """`/requirement list`: what awaits the caller and the channel's latest sheets."""

    def line(r: RequirementInfo) -> str:
        return t(
            lang,
            "list.line",
            code=r.code,
            status=t(lang, f"status.{r.status.value}"),
            requester=mention(r.requester_owner),
            receiver=mention(r.receiver_owner),
            when=date_token(r.confirm_by, tz),
        )

    blocks: list[Block] = [
        section(
            f"*{t(lang, 'list.awaiting_title')}*\n"
            + ("\n".join(line(r) for r in awaiting) or t(lang, "list.none_awaiting"))
        )
    ]
    blocks.append(
        section(
            f"*{t(lang, 'list.channel_title')}*\n"
            + ("\n".join(line(r) for r in latest) or t(lang, "list.none_channel"))
        )
    )
    return blocks


def record_blocks(lang: str, req: RequirementInfo, *, tz: str, permalink: str | None) -> list[Block]:
    """`/requirement RW-…`: the sheet without buttons, its history and a link."""
    blocks = sheet_blocks(lang, req, tz=tz, actions=False)
    lines = []
    for h in req.history[-25:]:
        params = {k: escape(truncate(str(v), 300)) for k, v in h.detail.items() if isinstance(v, str | int)}
        lines.append(
            t(
                lang,
                f"history.{h.action}",
                when=date_token(h.at, tz),
                user=mention(h.actor_id),
                **{"revision": h.detail.get("revision", ""), **params},
            )
        )
    blocks.append(section(f"*{t(lang, 'view.history')}*\n" + "\n".join(lines)))
    if permalink:
        blocks.append(context(t(lang, "view.open_message", link=permalink)))
    return blocks


def thread_note(lang: str, key: str, req: RequirementInfo, *, user: str | None = None, reason: str = "") -> str:
    """A short line posted in the sheet's thread when something happens."""
    return t(
        lang,
        key,
        code=req.code,
        requester=mention(req.requester_owner),
        receiver=mention(req.receiver_owner),
        user=mention(user) if user else "",
        n=req.revision,
        reason=escape(truncate(reason, 1000)),
    )
