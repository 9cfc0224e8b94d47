"""A record's history, one click away: the "History" item of the overflow menu on its message."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.services import Services
from handlers.blocks import history as blocks
from handlers.directory import Directory
from handlers.replies import guarded

logger = logging.getLogger(__name__)


def register(app: App) -> None:
    """Wire this feature's listener."""
    app.action(blocks.ACTION_ID)(guarded(show_history))


def show_history(ack: Ack, body: dict[str, Any], respond: Respond, services: Services,
                 directory: Directory) -> None:
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
    lang, tz = directory.lang_of(user), directory.tz_of(user)
    respond(blocks=blocks.history_blocks(lang, kind=kind, code=record.code, items=record.history, tz=tz),
            text=blocks.history_text(lang, record.code), response_type="ephemeral", replace_original=False)
