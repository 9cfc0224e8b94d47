"""Feishu cards for the requirement sheet (需求沟通与确认表): the form, its parser, the posted sheet, its notices."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, time
from enum import StrEnum
from typing import Any

from bot.dates import parse_when
from bot.errors import ValidationFailed
from bot.people import Member
from bot.services import presses
from bot.services.requirement_text import LineError, parse_questions
from bot.services.requirements import (
    MAX_SHORT,
    PRIORITIES,
    QuestionDraft,
    QuestionInfo,
    RequirementDraft,
    RequirementInfo,
    Role,
    Status,
    validate,
)
from bot.text import EN, t, text_lang
from handlers.feishu.cards.common import (
    Md,
    at,
    button,
    card,
    clip,
    colon,
    escape_md,
    facts,
    form,
    form_text,
    hr,
    lark_t,
    markdown,
    person_picker,
    select,
    text_input,
    when,
    zone_note,
)

logger = logging.getLogger(__name__)

MAX_SHOWN_QUESTIONS = 15
MAX_SHOWN_TEXT = 1500  # a long field from an older (Slack-sized) record, cut on the card
FORM_KIND = "requirement"  # the submit value's "form"
DO_SIGN = presses.SIGN  # a button value's "do"


class Names(StrEnum):
    """The names this feature owns: the form's inputs (the draft's fields) and its buttons."""

    FORM = "requirement_form"
    SUBMIT = "requirement_form_submit"  # what common.form names the form's submit button
    SIGN = "requirement_sign"
    REQUESTER_DEPT = "requester_dept"
    REQUESTER_OWNER = "requester_owner"
    RECEIVER_DEPT = "receiver_dept"
    RECEIVER_OWNER = "receiver_owner"
    BACKGROUND = "background"
    GOAL = "goal"
    DESCRIPTION = "description"
    PRIORITY = "priority"
    DUE = "due"
    RESOURCES = "resources"
    OPEN_QUESTIONS = "open_questions"  # the draft's `questions`, named as the Slack form and its errors name it
    CONFIRM_BY = "confirm_by"


DATE_FIELDS = (Names.DUE.value, Names.CONFIRM_BY.value)
FIELDS = tuple(n for n in Names if n not in (Names.FORM, Names.SUBMIT, Names.SIGN))
LABELS = {field.value: f"field.{field.value}" for field in FIELDS}  # field -> catalog key of its label
TEMPLATE = {Status.AWAITING: "blue", Status.CONFIRMED: "green", Status.CHANGES_REQUESTED: "orange"}


def requirement_form(lang: str, *, chat_id: str, tz: str, now: datetime, people: Sequence[str] = ()) -> dict[str, Any]:
    """The handbook's sheet as a form card; its submit calls back with {"form": "requirement", "chat": chat_id}.

    Dates are typed in the person's own words (English or Chinese) and read in `tz` when the form is submitted
    (so `now` changes nothing today: the sign-by default, "in 24 hours", counts from the submission). The owner
    pickers offer `people` (open_ids), or every member of the chat the card is in when there are none.
    """
    priorities = [(p, t(lang, f"priority.{p}")) for p in PRIORITIES]

    def note(key: str) -> dict[str, Any]:
        return markdown(lark_t(lang, key), notation=True)

    elements = [
        text_input(Names.REQUESTER_DEPT, t(lang, "field.requester_dept"), required=True, max_length=MAX_SHORT),
        person_picker(Names.REQUESTER_OWNER, t(lang, "field.requester_owner"), required=True, people=people),
        text_input(Names.RECEIVER_DEPT, t(lang, "field.receiver_dept"), required=True, max_length=MAX_SHORT),
        person_picker(Names.RECEIVER_OWNER, t(lang, "field.receiver_owner"), required=True, people=people),
        text_input(Names.BACKGROUND, t(lang, "field.background"), required=True, multiline=True),
        text_input(Names.GOAL, t(lang, "field.goal"), required=True, multiline=True),
        note("hint.goal"),
        text_input(Names.DESCRIPTION, t(lang, "field.description"), required=True, multiline=True),
        select(Names.PRIORITY, t(lang, "field.priority"), priorities, required=True, default="medium"),
        text_input(
            Names.DUE, t(lang, "field.due"), required=True, max_length=100, placeholder=t(lang, "placeholder.due")
        ),
        zone_note(lang, "echo.empty_due", tz),
        text_input(Names.RESOURCES, t(lang, "field.resources"), multiline=True),
        text_input(Names.OPEN_QUESTIONS, t(lang, "field.open_questions"), multiline=True),
        note("hint.open_questions"),
        text_input(
            Names.CONFIRM_BY,
            t(lang, "field.confirm_by"),
            required=True,
            max_length=100,
            placeholder=t(lang, "placeholder.confirm_by"),
            default=t(lang, "default.confirm_by"),
        ),
        note("hint.confirm_by"),
    ]
    body = [
        markdown(lark_t(lang, "modal.intro")),
        form(Names.FORM, elements, t(lang, "modal.submit"), {"form": FORM_KIND, "chat": chat_id}),
    ]
    return card(t(lang, "modal.title"), body, template="blue")


def parse_requirement_form(
    form_value: dict[str, Any],
    *,
    now: datetime,
    tz: str,
    lang: str,
    workday_end: time = time(18, 0),
    chat_id: str,
    members: Sequence[Member] = (),
) -> RequirementDraft:
    """Read a submitted requirement form into a draft; raise ValidationFailed with the Slack form's field names
    and text keys (dates that do not read or have passed, and every rule of the sheet). `members` resolve the
    @names typed in open questions."""
    errors: dict[str, tuple[str, dict[str, Any]]] = {}
    dates: dict[str, datetime] = {}
    for field in DATE_FIELDS:
        raw = form_text(form_value, field).strip()
        parsed = parse_when(raw, now=now, tz=tz, workday_end=workday_end) if raw else None
        if not raw:
            errors[field] = ("error.required", {})
        elif parsed is None:
            errors[field] = ("error.unparseable_date", {"text": raw[:60], "_lang": text_lang(raw, lang)})
        elif parsed <= now:
            errors[field] = ("error.in_past", {"_lang": text_lang(raw, lang)})
        else:
            dates[field] = parsed
    questions: tuple[QuestionDraft, ...] = ()
    try:
        questions = parse_questions(
            form_text(form_value, Names.OPEN_QUESTIONS), now=now, tz=tz, members=list(members), workday_end=workday_end
        )
    except LineError as exc:
        errors[Names.OPEN_QUESTIONS.value] = (exc.key, exc.params)
    draft = RequirementDraft(
        requester_dept=form_text(form_value, Names.REQUESTER_DEPT),
        requester_owner=form_text(form_value, Names.REQUESTER_OWNER).strip(),
        receiver_dept=form_text(form_value, Names.RECEIVER_DEPT),
        receiver_owner=form_text(form_value, Names.RECEIVER_OWNER).strip(),
        background=form_text(form_value, Names.BACKGROUND),
        goal=form_text(form_value, Names.GOAL),
        description=form_text(form_value, Names.DESCRIPTION),
        priority=form_text(form_value, Names.PRIORITY).strip(),
        due=dates.get(Names.DUE, now),
        confirm_by=dates.get(Names.CONFIRM_BY, now),
        channel_id=chat_id,
        resources=form_text(form_value, Names.RESOURCES),
        questions=questions,
    )
    try:
        validate(draft, now)  # the service checks again; checking here answers within the callback's 3 seconds
    except ValidationFailed as exc:
        errors = {**exc.field_errors, **errors}  # what the form itself could not read says more
    if errors:
        raise ValidationFailed(errors)
    return draft


def _via(lang: str, via: str) -> str:
    key = f"export.via.{via}"
    return t(lang, key) if key in EN else via


def _signature_lines(lang: str, req: RequirementInfo, tz: str) -> list[str]:
    lines = []
    for role, user in ((Role.REQUESTER, req.requester_owner), (Role.RECEIVER, req.receiver_owner)):
        sig = req.signature(role)
        label = lark_t(lang, f"sheet.{role.value}")
        if sig:
            signed = lark_t(lang, "sheet.signed", user=at(sig.user_id), when=when(sig.signed_at, tz, lang))
            lines.append(f"{label}{colon(lang)}{signed} · {escape_md(_via(lang, sig.via))}")
        else:
            lines.append(f"{label}{colon(lang)}" + lark_t(lang, "sheet.unsigned", user=at(user)))
    return lines


def _question_line(lang: str, q: QuestionInfo, tz: str) -> str:
    text = clip(q.text, 400)
    if q.answered_at:
        return lark_t(
            lang, "sheet.question_answered", n=q.position + 1, text=text, user=at(q.answered_by or q.owner_id)
        )
    deadline = when(q.deadline, tz, lang)
    return lark_t(lang, "sheet.question", n=q.position + 1, text=text, owner=at(q.owner_id), when=deadline)


def _labelled(lang: str, key: str, body: str) -> dict[str, Any]:
    """A bold label over typed text."""
    return markdown(f"**{lark_t(lang, key)}**\n{escape_md(clip(body, MAX_SHOWN_TEXT))}")


def requirement_card(lang: str, req: RequirementInfo, *, tz: str) -> dict[str, Any]:
    """The posted sheet: every field, status, both owners, signatures (who, when, how), open questions, and a
    Confirm button while it awaits signatures; green and locked once confirmed."""
    status = t(lang, f"status.{req.status.value}") + " · " + t(lang, "sheet.revision", n=req.revision)
    rows = [
        (lark_t(lang, "sheet.code"), escape_md(req.code)),
        (lark_t(lang, "field.priority"), lark_t(lang, f"priority.{req.priority}")),
        (lark_t(lang, "sheet.requester"), f"{escape_md(clip(req.requester_dept, 200))} · {at(req.requester_owner)}"),
        (lark_t(lang, "sheet.receiver"), f"{escape_md(clip(req.receiver_dept, 200))} · {at(req.receiver_owner)}"),
        (lark_t(lang, "field.due"), escape_md(when(req.due, tz, lang))),
        (lark_t(lang, "field.confirm_by"), escape_md(when(req.confirm_by, tz, lang))),
        (lark_t(lang, "sheet.status"), escape_md(status)),
    ]
    elements: list[dict[str, Any]] = [
        facts(lang, rows),
        hr(),
        _labelled(lang, "field.background", req.background),
        _labelled(lang, "field.goal", req.goal),
        _labelled(lang, "field.description", req.description),
    ]
    if req.resources:
        elements.append(_labelled(lang, "field.resources", req.resources))
    questions = [_question_line(lang, q, tz) for q in req.questions[:MAX_SHOWN_QUESTIONS]]
    shown = "\n".join(questions) or lark_t(lang, "sheet.no_questions")
    elements.append(markdown(f"**{lark_t(lang, 'field.open_questions')}**\n{shown}"))
    if len(req.questions) > MAX_SHOWN_QUESTIONS:  # apart, so that cutting a card too large keeps it
        more = lark_t(lang, "sheet.more_questions", n=len(req.questions) - MAX_SHOWN_QUESTIONS)
        elements.append(markdown(more, notation=True))
    elements.append(hr())
    signatures = "\n".join(_signature_lines(lang, req, tz))
    elements.append(markdown(f"**{lark_t(lang, 'sheet.signatures')}**\n{signatures}"))
    if req.status == Status.CHANGES_REQUESTED and req.change_reason:
        changer = next((h.actor_id for h in reversed(req.history) if h.action == "changes_requested"), None)
        reason = clip(req.change_reason, MAX_SHOWN_TEXT)
        elements.append(
            markdown(lark_t(lang, "sheet.change_reason", user=at(changer) if changer else Md(""), reason=reason))
        )
    if req.status == Status.CONFIRMED and req.confirmed_at:
        elements.append(markdown(lark_t(lang, "sheet.locked", when=when(req.confirmed_at, tz, lang)), notation=True))
    elif req.status == Status.AWAITING:
        elements.append(markdown(lark_t(lang, "sheet.how_to_sign"), notation=True))
        sign = {"do": DO_SIGN, "id": req.id}
        elements.append(button(t(lang, "button.confirm"), sign, kind="primary_filled", name=Names.SIGN))
    title = t(lang, "sheet.header", code=req.code)
    summary = f"{title} · {t(lang, 'sheet.sign_by', when=when(req.confirm_by, tz, lang))}"
    return card(title, elements, template=TEMPLATE[req.status], subtitle=status, summary=summary)


def requirement_notice(lang: str, key: str, req: RequirementInfo, *, user: str | None = None, reason: str = "") -> str:
    """A short line about the sheet (thread.confirmed, thread.revised, thread.changes_requested) as card markdown."""
    return lark_t(
        lang,
        key,
        code=req.code,
        requester=at(req.requester_owner),
        receiver=at(req.receiver_owner),
        user=at(user) if user else Md(""),
        n=req.revision,
        reason=clip(reason, 1000),
    )
