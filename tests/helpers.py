"""Shared steps for tests that drive the bot like a user would."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import col

from storage.models import HistoryEntry, Requirement
from tests.conftest import Bot
from tests.fakes.slack_api import ALICE, BOB, GENERAL

SHEET_VALUES: dict[str, Any] = {
    "requester_dept": "Marketing",
    "receiver_dept": "Engineering",
    "receiver_owner": BOB,
    "background": "Q1 campaign needs a landing page.",
    "goal": "Sign-ups +20% by March.",
    "description": "A landing page with a sign-up form and analytics.",
    "priority": "high",
    "due": "2026-12-10",
}


def open_modal(bot: Bot, *, user: str = ALICE, channel: str = GENERAL) -> dict[str, Any]:
    """Run /requirement and return the opened view."""
    before = len(bot.fake.calls("views.open"))
    reply = bot.slack.slash("/requirement", "", user=user, channel=channel)
    assert reply.status == 200, reply.body
    call = bot.fake.wait_for("views.open", before + 1)[-1]
    assert call.error is None, call.error
    return dict(call.params["view"])


def create_sheet(bot: Bot, *, user: str = ALICE, channel: str = GENERAL, **values: Any) -> dict[str, Any]:
    """Open the modal, submit it, and return the posted sheet message."""
    open_modal(bot, user=user, channel=channel)
    posted_before = len(bot.fake.calls("chat.postMessage"))
    reply = bot.slack.submit_view({**SHEET_VALUES, **values}, user=user)
    assert reply.status == 200, reply.body
    assert reply.json() is None, reply.body  # closed, no errors
    call = bot.fake.wait_for("chat.postMessage", posted_before + 1)[-1]
    assert call.response is not None
    message = bot.fake.message(call.params["channel"], call.response["ts"])
    assert message is not None
    wait_attached(bot, message["ts"])
    return message


def wait_attached(bot: Bot, ts: str) -> Requirement:
    """Wait until the record knows its message (the listener stores it after posting)."""
    import time

    deadline = time.time() + 5
    while time.time() < deadline:
        with bot.runtime.services.session_scope() as s:
            row = s.scalars(select(Requirement).where(col(Requirement.message_ts) == ts)).first()
            if row is not None:
                return row
        time.sleep(0.02)
    raise AssertionError(f"no requirement attached to message {ts}")


def record(bot: Bot, code: str = "RW-2026-001") -> Requirement:
    """The stored requirement by code."""
    with bot.runtime.services.session_scope() as s:
        row = s.scalars(select(Requirement).where(col(Requirement.code) == code)).one()
        return row


def history_actions(bot: Bot, requirement_id: int) -> list[str]:
    """The actions in a record's history, oldest first."""
    with bot.runtime.services.session_scope() as s:
        return list(
            s.scalars(
                select(col(HistoryEntry.action))
                .where(col(HistoryEntry.subject_id) == requirement_id)
                .order_by(col(HistoryEntry.id))
            ).all()
        )


def block_text(message: dict[str, Any]) -> str:
    """All the text in a message's blocks, flattened."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    out.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.get("blocks") or [])
    return "\n".join(out)


def wait_until(predicate: Any, timeout: float = 5.0, what: str = "condition") -> Any:
    """Poll until predicate() is truthy (a record that is not stored yet counts as not yet)."""
    import time

    from bot.errors import NotFound

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            value = predicate()
        except NotFound:
            value = None
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def settle(bot: Bot, quiet: float = 0.15) -> int:
    """Wait until the bot has made no Web API call for `quiet` seconds (its work so far is done)."""
    import time

    seen = -1
    while (now := len(bot.fake.calls())) != seen:
        seen = now
        time.sleep(quiet)
    return seen
