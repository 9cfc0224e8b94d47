"""Feishu cards for action items (行动项): the form, its parser, and the item's card with its buttons."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, time
from enum import StrEnum
from typing import Any

from bot.dates import parse_when
from bot.errors import ValidationFailed
from bot.services import presses
from bot.services.actions import MAX_DELIVERABLE, MAX_TITLE, ActionDraft, ActionInfo, ActionStatus
from bot.text import t, text_lang
from handlers.feishu.cards.common import (
    Md,
    at,
    button,
    buttons,
    card,
    clip,
    escape_md,
    facts,
    form,
    form_text,
    lark_t,
    markdown,
    person_picker,
    text_input,
    when,
    zone_note,
)

logger = logging.getLogger(__name__)

FORM_KIND = "action"  # the submit value's "form"
DO_DONE = presses.DONE
DO_START = presses.START  # accept an open item, or resume a blocked one: both make it in progress


class Names(StrEnum):
    """The names this feature owns: the form's inputs (as the Slack form names its fields) and the buttons."""

    FORM = "action_form"
    SUBMIT = "action_form_submit"  # what common.form names the form's submit button
    WHAT = "what"
    OWNER = "owner"
    DUE = "due"
    DELIVERABLE = "deliverable"
    DONE = "action_done"
    START = "action_start"


FIELDS = (Names.WHAT, Names.OWNER, Names.DUE, Names.DELIVERABLE)
LABELS = {field.value: f"action.field.{field.value}" for field in FIELDS}  # field -> catalog key of its label
TEMPLATE = {
    ActionStatus.OPEN: "blue",
    ActionStatus.IN_PROGRESS: "wathet",
    ActionStatus.BLOCKED: "orange",
    ActionStatus.DONE: "green",
    ActionStatus.WONT_DO: "grey",
}
TITLE_SHOWN = 100  # characters of the title in the header
START_LABEL = {ActionStatus.OPEN: "action.button.accept", ActionStatus.BLOCKED: "action.button.in_progress"}


def action_form(lang: str, *, chat_id: str, tz: str, now: datetime, people: Sequence[str] = ()) -> dict[str, Any]:
    """The form for a new action item: what, owner, due (typed in English or Chinese, read in `tz` on submit, so
    `now` changes nothing today), deliverable; its submit calls back with {"form": "action", "chat": chat_id}.
    The owner picker offers `people` (open_ids), or every member of the chat the card is in."""
    elements = [
        text_input(Names.WHAT, t(lang, "action.field.what"), required=True, multiline=True, max_length=MAX_TITLE),
        person_picker(Names.OWNER, t(lang, "action.field.owner"), required=True, people=people),
        text_input(
            Names.DUE,
            t(lang, "action.field.due"),
            required=True,
            max_length=100,
            placeholder=t(lang, "action.placeholder.due"),
        ),
        zone_note(lang, "echo.empty_due", tz),
        text_input(Names.DELIVERABLE, t(lang, "action.field.deliverable"), max_length=MAX_DELIVERABLE),
    ]
    submit = {"form": FORM_KIND, "chat": chat_id}
    body = [form(Names.FORM, elements, t(lang, "action.modal_submit"), submit)]
    return card(t(lang, "action.modal_title"), body, template="blue")


def parse_action_form(
    form_value: dict[str, Any], *, now: datetime, tz: str, lang: str, workday_end: time = time(18, 0)
) -> ActionDraft:
    """Read a submitted action form into a draft; raise ValidationFailed with the Slack form's field names and
    text keys."""
    errors: dict[str, tuple[str, dict[str, Any]]] = {}
    title = form_text(form_value, Names.WHAT).strip()
    owner = form_text(form_value, Names.OWNER).strip()
    deliverable = form_text(form_value, Names.DELIVERABLE)
    raw_due = form_text(form_value, Names.DUE).strip()
    due = parse_when(raw_due, now=now, tz=tz, workday_end=workday_end) if raw_due else None
    if not title:
        errors[Names.WHAT.value] = ("error.required", {})
    elif len(title) > MAX_TITLE:
        errors[Names.WHAT.value] = ("error.too_long", {"max": MAX_TITLE})
    if len(deliverable.strip()) > MAX_DELIVERABLE:
        errors[Names.DELIVERABLE.value] = ("error.too_long", {"max": MAX_DELIVERABLE})
    if not owner:
        errors[Names.OWNER.value] = ("error.required", {})
    if not raw_due:
        errors[Names.DUE.value] = ("error.required", {})
    elif due is None:
        errors[Names.DUE.value] = ("error.unparseable_date", {"text": raw_due[:60], "_lang": text_lang(raw_due, lang)})
    elif due <= now:
        errors[Names.DUE.value] = ("error.in_past", {"_lang": text_lang(raw_due, lang)})
    if errors:
        raise ValidationFailed(errors)
    return ActionDraft(title=title, owner_id=owner, due=due or now, deliverable=deliverable)


def _context(lang: str, raw: str) -> Md | str:
    """An item's context: an excerpt of the message it came from, and a link to it."""
    link, _, excerpt = raw.partition("\n")
    if not link.startswith("https://"):
        return clip(raw, 300)
    linked = lark_t(lang, "action.context_link", link=link)
    return Md(f"{escape_md(clip(excerpt, 300))} · {linked}" if excerpt.strip() else linked)


def action_card(lang: str, item: ActionInfo, *, tz: str) -> dict[str, Any]:
    """The item: what, owner, due, deliverable, status, where it came from; Start (Accept, or In progress when
    blocked) and Done while it is open."""
    status = t(lang, f"action.status.{item.status.value}")
    deliverable = t(lang, "action.no_deliverable")
    if item.deliverable.strip():
        deliverable = escape_md(clip(item.deliverable, 1500))
    rows = [
        (lark_t(lang, "action.owner"), at(item.owner_id)),
        (lark_t(lang, "action.due"), escape_md(when(item.due, tz, lang))),
        (lark_t(lang, "action.deliverable"), deliverable),
        (lark_t(lang, "action.status"), escape_md(status)),
    ]
    if item.source_code:
        rows.append((lark_t(lang, "action.source"), escape_md(item.source_code)))
    title = clip(item.title, TITLE_SHOWN) or item.code
    elements: list[dict[str, Any]] = []
    if title != item.title.strip():  # the header shows only the start of it
        elements.append(markdown(lark_t(lang, "action.card_title", code=item.code, title=clip(item.title, 2000))))
    elements.append(facts(lang, rows))
    if item.status == ActionStatus.BLOCKED and item.blocked_reason:
        elements.append(markdown(lark_t(lang, "action.blocked_reason", reason=clip(item.blocked_reason, 1500))))
    if item.status == ActionStatus.WONT_DO and item.closed_reason:
        elements.append(markdown(lark_t(lang, "action.wont_do_reason", reason=clip(item.closed_reason, 1500))))
    if item.context:
        elements.append(markdown(lark_t(lang, "action.context", text=_context(lang, item.context)), notation=True))
    if item.status == ActionStatus.DONE and item.done_at:
        elements.append(markdown(lark_t(lang, "action.done_at", when=when(item.done_at, tz, lang)), notation=True))
    if not item.status.closed:
        row = []
        if item.status in START_LABEL:
            start = {"do": DO_START, "id": item.id}
            row.append(button(t(lang, START_LABEL[item.status]), start, name=f"{Names.START}_{item.id}"))
        done = {"do": DO_DONE, "id": item.id}
        row.append(button(t(lang, "action.button.done"), done, kind="primary_filled", name=f"{Names.DONE}_{item.id}"))
        elements.append(buttons(*row))
    subtitle = f"{item.code} · {status}"
    return card(title, elements, template=TEMPLATE[item.status], subtitle=subtitle, summary=f"{item.code} · {title}")
