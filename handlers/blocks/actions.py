"""Block Kit for action items (行动项): the card shown in a DM or a channel, and its notification text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    ConversationFilter,
    ConversationSelectElement,
    InputBlock,
    MarkdownTextObject,
    SectionBlock,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.dates import parse_when
from bot.errors import ValidationFailed
from bot.services.actions import MAX_DELIVERABLE, MAX_TITLE, ActionDraft, ActionInfo, ActionStatus
from bot.text import t, text_lang
from handlers.blocks import history
from handlers.blocks.common import (
    FIELD_MAX,
    ModalMeta,
    context,
    date_token,
    escape,
    form_text,
    labelled_field,
    mention,
    plain,
    section,
    text_input,
    truncate,
)


class Ids(StrEnum):
    """block_id and action_id values this feature owns."""

    ACCEPT = "action_accept"
    IN_PROGRESS = "action_in_progress"
    BLOCKED = "action_blocked"
    DONE = "action_done"
    SOURCE = "action_source"
    BUTTONS = "action_buttons"
    MODAL = "action_modal"
    BLOCKED_MODAL = "action_blocked_modal"
    WONT_DO = "action_wont_do"
    WONT_DO_MODAL = "action_wont_do_modal"
    REOPEN = "action_reopen"
    SHORTCUT = "create_action_item"
    REASON = "reason"
    INPUT = "value"


def status_label(lang: str, status: ActionStatus) -> str:
    """The status as a reader sees it."""
    return t(lang, f"action.status.{status.value}")


def action_card(lang: str, item: ActionInfo, *, tz: str, source_link: str | None, buttons: bool = True) -> list[Block]:
    """The item: what, owner, due, deliverable, status, source; Accept / Done (and Won't do beside the status)
    while it is open, Reopen once it won't be done."""
    deliverable = escape(truncate(item.deliverable, 1500)) if item.deliverable else t(lang, "action.no_deliverable")
    still_open = buttons and not item.status.closed
    wont_do = ButtonElement(action_id=Ids.WONT_DO, text=plain(t(lang, "action.button.wont_do")), value=str(item.id))
    blocks: list[Block] = [
        section(t(lang, "action.card_title", code=item.code, title=escape(truncate(item.title, 2500)))),
        SectionBlock(
            fields=[
                labelled_field(t(lang, "action.owner"), mention(item.owner_id)),
                labelled_field(t(lang, "action.due"), date_token(item.due, tz)),
                labelled_field(t(lang, "action.deliverable"), deliverable),
                labelled_field(t(lang, "action.status"), status_label(lang, item.status)),
            ],
            accessory=wont_do if still_open else None,  # apart from the way forward: deciding against it
        ),
    ]
    if item.status == ActionStatus.BLOCKED and item.blocked_reason:
        blocks.append(section(t(lang, "action.blocked_reason", reason=escape(truncate(item.blocked_reason, 2500)))))
    if item.status == ActionStatus.WONT_DO and item.closed_reason:
        blocks.append(section(t(lang, "action.wont_do_reason", reason=escape(truncate(item.closed_reason, 2500)))))
    if item.source_code:
        code = escape(item.source_code)
        shown = f"<{source_link}|{code}>" if source_link else code
        blocks.append(
            ContextBlock(
                block_id=Ids.SOURCE,
                elements=[MarkdownTextObject(text=truncate(f"{escape(t(lang, 'action.source'))}: {shown}", FIELD_MAX))],
            )
        )
    if item.context:
        blocks.append(context(t(lang, "action.context", text=_context(lang, item.context))))
    if item.status == ActionStatus.DONE and item.done_at:
        blocks.append(context(t(lang, "action.done_at", when=date_token(item.done_at, tz))))
    if buttons and item.status == ActionStatus.WONT_DO:
        reopen = ButtonElement(action_id=Ids.REOPEN, text=plain(t(lang, "action.button.reopen")), value=str(item.id))
        blocks.append(
            ActionsBlock(
                block_id=f"{Ids.BUTTONS}_{item.id}", elements=[reopen, history.overflow(lang, "action", item.id)]
            )
        )
    if still_open:
        # Accept while it is new, In progress to unblock, Blocked while it is not, Done always.
        offered = {
            ActionStatus.OPEN: (Ids.ACCEPT, Ids.BLOCKED),
            ActionStatus.IN_PROGRESS: (Ids.BLOCKED,),
            ActionStatus.BLOCKED: (Ids.IN_PROGRESS,),
        }[item.status]
        labels = {
            Ids.ACCEPT: "action.button.accept",
            Ids.IN_PROGRESS: "action.button.in_progress",
            Ids.BLOCKED: "action.button.blocked",
        }
        elements = [ButtonElement(action_id=i, text=plain(t(lang, labels[i])), value=str(item.id)) for i in offered]
        elements.append(
            ButtonElement(
                action_id=Ids.DONE, text=plain(t(lang, "action.button.done")), value=str(item.id), style="primary"
            )
        )
        blocks.append(
            ActionsBlock(
                block_id=f"{Ids.BUTTONS}_{item.id}", elements=[*elements, history.overflow(lang, "action", item.id)]
            )
        )
    return blocks


def _context(lang: str, raw: str) -> str:
    """An item's context: an excerpt of the message it came from, and a link to it."""
    link, _, excerpt = raw.partition("\n")
    shown = escape(truncate(excerpt, 300))
    if link.startswith("https://"):
        linked = t(lang, "action.context_link", link=link)
        return f"{shown} · {linked}" if shown else linked
    return escape(truncate(raw, 300))


def action_text(lang: str, item: ActionInfo, tz: str) -> str:
    """The notification text of a card message."""
    return t(
        lang,
        "action.fallback",
        code=item.code,
        title=escape(truncate(item.title, 200)),
        owner=mention(item.owner_id),
        when=date_token(item.due, tz),
    )


_LINK = re.compile(r"<([^|<>]+)\|")


def shown_source_link(blocks: list[dict[str, Any]] | None) -> str | None:
    """The source link a posted card shows, so that re-rendering the card keeps it."""
    for block in blocks or []:
        if block.get("block_id") != Ids.SOURCE:
            continue
        for element in block.get("elements") or []:
            found = _LINK.search(str(element.get("text") or ""))
            if found:
                return found[1]
    return None


SOURCE_RE = re.compile(r"^(RW|MTG)-\d{4}-\d{3,}$", re.IGNORECASE)


@dataclass(frozen=True)
class ActionPrefill:
    """What the /action modal starts with (from a one-liner or a message)."""

    title: str = ""
    owner_id: str | None = None
    due_text: str = ""
    deliverable: str = ""
    source: str = ""


@dataclass(frozen=True)
class ActionForm:
    """The /action modal, read."""

    draft: ActionDraft
    channel_id: str
    source: str


def due_echo(lang: str, raw: str, *, now: datetime, tz: str, workday_end: time = time(18, 0)) -> str:
    """What the bot understood of a typed due date, in the reader's own time."""
    raw = raw.strip()
    if not raw:
        return t(lang, "echo.empty_due")
    when = parse_when(raw, now=now, tz=tz, workday_end=workday_end)
    if when is None:
        return "⚠️ " + t(text_lang(raw, lang), "error.unparseable_date", text=escape(raw[:60]))
    if when <= now:
        return "⚠️ " + t(text_lang(raw, lang), "error.in_past")
    return t(lang, "echo.date", when=date_token(when, tz, long=True))


def action_modal(
    lang: str,
    *,
    meta: ModalMeta,
    user_id: str,
    now: datetime,
    tz: str,
    prefill: ActionPrefill | None = None,
    workday_end: time = time(18, 0),
) -> View:
    """The modal for a new action item: what, owner, due (echoed), deliverable, channel, source."""
    p = prefill or ActionPrefill()
    blocks: list[Block] = [
        text_input("what", t(lang, "action.field.what"), initial=p.title, multiline=True, max_length=500),
        InputBlock(
            block_id="owner",
            label=plain(t(lang, "action.field.owner")),
            element=UserSelectElement(action_id=Ids.INPUT, initial_user=p.owner_id or None),
        ),
        text_input(
            "due",
            t(lang, "action.field.due"),
            initial=p.due_text,
            max_length=100,
            placeholder=t(lang, "action.placeholder.due"),
            dispatch=True,
        ),
        ContextBlock(
            block_id="due_echo",
            elements=[MarkdownTextObject(text=due_echo(lang, p.due_text, now=now, tz=tz, workday_end=workday_end))],
        ),
        text_input(
            "deliverable", t(lang, "action.field.deliverable"), initial=p.deliverable, optional=True, max_length=1000
        ),
        InputBlock(
            block_id="channel",
            label=plain(t(lang, "action.field.channel")),
            element=ConversationSelectElement(
                action_id=Ids.INPUT,
                initial_conversation=meta.origin_channel or None,
                filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
            ),
        ),
        text_input(
            "source",
            t(lang, "action.field.source"),
            initial=p.source,
            optional=True,
            max_length=32,
            placeholder=t(lang, "action.placeholder.source"),
        ),
    ]
    return View(
        type="modal",
        callback_id=Ids.MODAL,
        private_metadata=meta.dump(),
        blocks=blocks,
        title=plain(t(lang, "action.modal_title"), 24),
        submit=plain(t(lang, "action.modal_submit"), 24),
        close=plain(t(lang, "modal.close"), 24),
    )


def with_due_echo(view: dict[str, Any], text: str) -> View:
    """The same modal with the due echo replaced; inputs keep what the user typed."""
    blocks = [
        ContextBlock(block_id="due_echo", elements=[MarkdownTextObject(text=text)]).to_dict()
        if b.get("block_id") == "due_echo"
        else b
        for b in view.get("blocks") or []
    ]
    keep = ("type", "callback_id", "title", "submit", "close", "private_metadata")
    return View(**{k: view[k] for k in keep if view.get(k) is not None}, blocks=blocks)


def parse_action_form(
    values: dict[str, Any], *, now: datetime, tz: str, lang: str, workday_end: time = time(18, 0)
) -> ActionForm:
    """Read the /action modal; unreadable fields raise ValidationFailed."""
    errors: dict[str, tuple[str, dict[str, Any]]] = {}
    title, owner = form_text(values, "what").strip(), form_text(values, "owner", "selected_user")
    raw_due = form_text(values, "due").strip()
    due = parse_when(raw_due, now=now, tz=tz, workday_end=workday_end) if raw_due else None
    if not title:
        errors["what"] = ("error.required", {})
    elif len(title) > MAX_TITLE:  # the service would refuse it after the modal closed
        errors["what"] = ("error.too_long", {"max": MAX_TITLE})
    deliverable = form_text(values, "deliverable")
    if len(deliverable.strip()) > MAX_DELIVERABLE:
        errors["deliverable"] = ("error.too_long", {"max": MAX_DELIVERABLE})
    if not owner:
        errors["owner"] = ("error.required", {})
    if not raw_due:
        errors["due"] = ("error.required", {})
    elif due is None:
        errors["due"] = ("error.unparseable_date", {"text": raw_due[:60], "_lang": text_lang(raw_due, lang)})
    elif due <= now:
        errors["due"] = ("error.in_past", {"_lang": text_lang(raw_due, lang)})
    source = form_text(values, "source").strip().upper()
    if source and not SOURCE_RE.match(source):
        errors["source"] = ("error.action_source_unknown", {"code": source[:32]})
    channel = form_text(values, "channel", "selected_conversation")
    if not channel:
        errors["channel"] = ("error.required", {})
    if errors:
        raise ValidationFailed(errors)
    draft = ActionDraft(title=title, owner_id=owner, due=due or now, deliverable=deliverable)
    return ActionForm(draft=draft, channel_id=channel, source=source)


def blocked_modal(lang: str, item: ActionInfo) -> View:
    """Ask what is blocking an item."""
    keys = ("action.blocked_title", "action.blocked_submit", "action.blocked_label")
    return _reason_modal(lang, item, Ids.BLOCKED_MODAL, keys)


def wont_do_modal(lang: str, item: ActionInfo) -> View:
    """Ask why an item won't be done."""
    keys = ("action.wont_do_title", "action.wont_do_submit", "action.wont_do_label")
    return _reason_modal(lang, item, Ids.WONT_DO_MODAL, keys, hint=t(lang, "action.wont_do_hint"))


def _reason_modal(
    lang: str, item: ActionInfo, callback_id: str, keys: tuple[str, str, str], *, hint: str | None = None
) -> View:
    """A status that needs its reason: the item, and one required text field (keys: title, submit, label)."""
    title, submit, label = keys
    return View(
        type="modal",
        callback_id=callback_id,
        private_metadata=str(item.id),
        title=plain(t(lang, title), 24),
        submit=plain(t(lang, submit), 24),
        close=plain(t(lang, "modal.close"), 24),
        blocks=[
            section(t(lang, "action.card_title", code=item.code, title=escape(truncate(item.title, 500)))),
            text_input(Ids.REASON, t(lang, label, code=item.code), multiline=True, max_length=3000, hint=hint),
        ],
    )
