"""Block Kit for action items (行动项): the card shown in a DM or a channel, and its notification text."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, MarkdownTextObject, SectionBlock

from bot.services.actions import ActionInfo, ActionStatus
from bot.text import t
from handlers.blocks.common import context, date_token, escape, mention, plain, section, truncate

FIELD_MAX = 2000  # a section field's text


class Ids(StrEnum):
    """block_id and action_id values this feature owns."""

    ACCEPT = "action_accept"
    DONE = "action_done"
    SOURCE = "action_source"
    BUTTONS = "action_buttons"


def _field(label: str, body: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=truncate(f"*{escape(label)}*\n{body}", FIELD_MAX))


def status_label(lang: str, status: ActionStatus) -> str:
    """The status as a reader sees it."""
    return t(lang, f"action.status.{status.value}")


def action_card(lang: str, item: ActionInfo, *, tz: str, source_link: str | None,
                buttons: bool = True) -> list[Block]:
    """The item: what, owner, due, deliverable, status, source, and Accept / Done while it is open."""
    deliverable = escape(truncate(item.deliverable, 1500)) if item.deliverable else t(lang, "action.no_deliverable")
    blocks: list[Block] = [
        section(t(lang, "action.card_title", code=item.code, title=escape(truncate(item.title, 2500)))),
        SectionBlock(fields=[
            _field(t(lang, "action.owner"), mention(item.owner_id)),
            _field(t(lang, "action.due"), date_token(item.due, tz)),
            _field(t(lang, "action.deliverable"), deliverable),
            _field(t(lang, "action.status"), status_label(lang, item.status)),
        ]),
    ]
    if item.status == ActionStatus.BLOCKED and item.blocked_reason:
        blocks.append(section(t(lang, "action.blocked_reason", reason=escape(truncate(item.blocked_reason, 2500)))))
    if item.source_code:
        code = escape(item.source_code)
        shown = f"<{source_link}|{code}>" if source_link else code
        blocks.append(ContextBlock(block_id=Ids.SOURCE, elements=[
            MarkdownTextObject(text=truncate(f"{escape(t(lang, 'action.source'))}: {shown}", FIELD_MAX))]))
    if item.status == ActionStatus.DONE and item.done_at:
        blocks.append(context(t(lang, "action.done_at", when=date_token(item.done_at, tz))))
    if buttons and item.status != ActionStatus.DONE:
        elements = []
        if item.status != ActionStatus.IN_PROGRESS:
            elements.append(ButtonElement(action_id=Ids.ACCEPT, text=plain(t(lang, "action.button.accept")),
                                          value=str(item.id)))
        elements.append(ButtonElement(action_id=Ids.DONE, text=plain(t(lang, "action.button.done")),
                                      value=str(item.id), style="primary"))
        blocks.append(ActionsBlock(block_id=f"{Ids.BUTTONS}_{item.id}", elements=elements))
    return blocks


def action_text(lang: str, item: ActionInfo, tz: str) -> str:
    """The notification text of a card message."""
    return t(lang, "action.fallback", code=item.code, title=escape(truncate(item.title, 200)),
             owner=mention(item.owner_id), when=date_token(item.due, tz))


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
