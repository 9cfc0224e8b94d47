"""A record's history, one click away: the "History" item of the overflow menu on its message."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.errors import NotFound
from bot.services import Services
from handlers.blocks import history as blocks
from handlers.serving.replies import through_inbox
from handlers.workspace.directory import Directory

logger = logging.getLogger(__name__)

MISSING = {
    "requirement": "error.requirement_not_found",
    "meeting": "error.meeting_not_found",
    "action": "error.action_not_found",
}


def register(app: App) -> None:
    """Wire this feature's listener."""
    app.action(blocks.ACTION_ID)(through_inbox(show_history))


def show_history(ack: Ack, body: dict[str, Any], respond: Respond, services: Services, directory: Directory) -> None:
    """Answer only the person who asked with the record's history, in their language and time."""
    ack()
    user = body["user"]["id"]
    chosen = blocks.parse_value(((body.get("actions") or [{}])[0].get("selected_option") or {}).get("value"))
    if chosen is None:
        return
    kind, record_id = chosen
    record: Any
    if kind == "requirement":
        record = services.requirements.get(record_id, with_history=True)
    elif kind == "meeting":
        record = services.meetings.get(record_id, with_history=True)
    else:
        record = services.actions.get(record_id, with_history=True)
    if not _may_see(body, directory, user, record.channel_id):
        raise NotFound(MISSING[kind], code=str(record_id))  # what a record that does not exist gets
    lang, tz = directory.lang_of(user), directory.tz_of(user)
    respond(
        blocks=blocks.history_blocks(lang, kind=kind, code=record.code, items=record.history, tz=tz),
        text=blocks.history_text(lang, record.code),
        response_type="ephemeral",
        replace_original=False,
    )


def _may_see(body: dict[str, Any], directory: Directory, user: str, record_channel: str) -> bool:
    """The clicker sees the record's channel, or the message they clicked shows this very record there.

    A card can be shown outside the record's channel (an action item's copy in its owner's DM or in
    another channel); its history is then as visible as the card itself.
    """
    if directory.can_see(user, record_channel):
        return True
    container = body.get("container") or {}
    clicked_in = str(container.get("channel_id") or (body.get("channel") or {}).get("id") or "")
    value = ((body.get("actions") or [{}])[0].get("selected_option") or {}).get("value")
    return bool(clicked_in) and _offers(body.get("message") or {}, str(value)) and directory.can_see(user, clicked_in)


def _offers(message: dict[str, Any], value: str) -> bool:
    """Whether the message's own blocks carry the History option that was chosen."""
    for block in message.get("blocks") or []:
        for element in [block.get("accessory") or {}, *(block.get("elements") or [])]:
            if (
                isinstance(element, dict)
                and element.get("action_id") == blocks.ACTION_ID
                and any(option.get("value") == value for option in element.get("options") or [])
            ):
                return True
    return False
