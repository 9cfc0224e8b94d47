"""Helpers shared by every Block Kit builder: escaping, dates, people, limits."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.blocks.basic_components import DispatchActionConfig

from bot.markup import escape as escape  # the catalog's markup, for the Slack builders and listeners
from bot.markup import mention as mention
from bot.markup import truncate as truncate

SECTION_MAX = 3000
PLAIN_MAX = 75  # button and option text


INPUT = "value"  # the action_id of every input element in coordbot's forms; the block_id names the field


def form_element(values: Any, block_id: str) -> dict[str, Any]:
    """One input's state in a submitted view's `state.values`; {} when it is missing or of the wrong shape.

    An input carries its state under INPUT; a form opened before its element was renamed carries it under the
    old action_id, its only key, which is read too.
    """
    block = values.get(block_id) if isinstance(values, dict) else None
    if not isinstance(block, dict):
        return {}
    element: Any = block.get(INPUT) or next(iter(block.values()), {})
    return element if isinstance(element, dict) else {}


def form_text(values: Any, block_id: str, key: str = "value") -> str:
    """A text (or selected id) an input holds; '' when there is none. NUL is dropped: PostgreSQL text holds none."""
    raw = form_element(values, block_id).get(key)
    return raw.replace("\x00", "") if isinstance(raw, str) else ""


def pack_lines(lines: Sequence[str], limit: int = SECTION_MAX) -> list[str]:
    """Lines joined into as few texts of at most `limit` characters as they fit in, a line too long cut."""
    out: list[str] = []
    current = ""
    for line in lines:
        line = truncate(line, limit)
        if current and len(current) + 1 + len(line) > limit:
            out.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        out.append(current)
    return out


def date_token(dt: datetime, tz: str, *, with_time: bool = True, long: bool = False) -> str:
    """Slack's date formatting so each reader sees their own local time; fallback in `tz`."""
    local = dt.astimezone(ZoneInfo(tz))
    day = "{date_long_pretty}" if long else "{date_short_pretty}"
    fmt = f"{day} {{time}}" if with_time else day
    fallback = local.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d") + f" {tz}"
    return f"<!date^{int(dt.timestamp())}^{fmt}|{fallback}>"


def plain(text: str, limit: int = PLAIN_MAX) -> PlainTextObject:
    """Plain text cut to a Block Kit limit."""
    return PlainTextObject(text=truncate(text, limit), emoji=True)


def section(text: str) -> SectionBlock:
    """A mrkdwn section within Slack's 3,000-character limit (text must already be escaped)."""
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_MAX)))


def labelled(label: str, body: str) -> SectionBlock:
    """A section with a bold label and escaped user text below it."""
    head = f"*{escape(label)}*\n"
    return SectionBlock(text=MarkdownTextObject(text=head + truncate(escape(body), SECTION_MAX - len(head))))


def context(text: str) -> ContextBlock:
    """A context line (text must already be escaped)."""
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(text, SECTION_MAX))])


@dataclass(frozen=True)
class ModalMeta:
    """What the modal carries in private_metadata."""

    origin_channel: str
    record_id: int | None = None
    revision: int | None = None
    context_ts: str = ""  # a message the form was started from

    def dump(self) -> str:
        """JSON for private_metadata."""
        return json.dumps({"c": self.origin_channel, "r": self.record_id, "v": self.revision, "m": self.context_ts})

    @classmethod
    def load(cls, raw: str | None) -> ModalMeta:
        """Read private_metadata; tolerate an empty or foreign value."""
        try:
            data = json.loads(raw or "{}")
            return cls(str(data.get("c") or ""), data.get("r"), data.get("v"), str(data.get("m") or ""))
        except (ValueError, AttributeError):
            return cls("")


LIVE = DispatchActionConfig(trigger_actions_on=["on_enter_pressed", "on_character_entered"])  # each keystroke
FIELD_MAX = 2000  # a section field's text


def text_input(
    block_id: str,
    label: str,
    *,
    multiline: bool = False,
    optional: bool = False,
    initial: str | None = None,
    max_length: int = 3000,
    hint: str | None = None,
    placeholder: str | None = None,
    dispatch: bool = False,
) -> InputBlock:
    """A form's text field: `block_id` names the field, its element is `INPUT`; `dispatch` sends each keystroke
    (for the live echo under a date field)."""
    return InputBlock(
        block_id=block_id,
        label=plain(label, 2000),
        optional=optional,
        hint=plain(hint, 2000) if hint else None,
        dispatch_action=dispatch or None,
        element=PlainTextInputElement(
            action_id=INPUT,
            multiline=multiline,
            max_length=max_length,
            initial_value=truncate(initial, max_length) if initial else None,
            placeholder=plain(placeholder, 150) if placeholder else None,
            dispatch_action_config=LIVE if dispatch else None,
        ),
    )


def echo_block(field: str, text: str) -> ContextBlock:
    """The line under a form field that says what the bot understood of it (block `<field>_echo`)."""
    return ContextBlock(block_id=f"{field}_echo", elements=[MarkdownTextObject(text=truncate(text, 2000) or " ")])


def labelled_field(label: str, body: str) -> MarkdownTextObject:
    """One of a section's fields: a bold label over its (already formatted) body."""
    return MarkdownTextObject(text=truncate(f"*{escape(label)}*\n{body}", FIELD_MAX))
