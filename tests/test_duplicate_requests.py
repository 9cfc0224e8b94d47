"""No double effects: retried events, resubmitted modals, double clicks."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from handlers.blocks import actions as action_blocks
from handlers.blocks import requirement as requirement_blocks
from handlers.sandbox.driver import Reply
from handlers.sandbox.slack_api import BOB, GENERAL
from tests.conftest import Bot
from tests.helpers import (
    SHEET_VALUES,
    action_item,
    api_calls,
    click_payload,
    count,
    create_sheet,
    history_actions,
    message,
    open_modal,
    record,
    wait_until,
)


def test_a_retried_reaction_signs_once(bot: Bot) -> None:
    sheet = create_sheet(bot)
    reply = bot.slack.react("white_check_mark", channel=GENERAL, ts=sheet["ts"], user=BOB, event_id="EvSIGN1")
    assert reply.status == 200
    bot.fake.wait_for("chat.update")
    calls = api_calls(bot)
    for retry in (1, 2, 3):  # Slack's three retries, each with the same event_id
        reply = bot.slack.react(
            "white_check_mark", channel=GENERAL, ts=sheet["ts"], user=BOB, event_id="EvSIGN1", retry_num=retry
        )
        assert (reply.status, reply.body) == (200, "")
    assert api_calls(bot) == calls
    assert history_actions(bot, record(bot).id or 0) == ["created", "signed"]


def test_a_late_retry_of_a_removal_does_not_undo_a_newer_signature(bot: Bot) -> None:
    ts = create_sheet(bot)["ts"]
    for n, (event_id, removed) in enumerate((("EvADD1", False), ("EvREMOVE", True), ("EvADD2", False)), start=1):
        bot.slack.react("white_check_mark", channel=GENERAL, ts=ts, user=BOB, removed=removed, event_id=event_id)
        bot.fake.wait_for("chat.update", n)
    # the removal's first delivery was slow to acknowledge, so Slack delivers it again, after the new signature
    reply = bot.slack.react(
        "white_check_mark", channel=GENERAL, ts=ts, user=BOB, removed=True, event_id="EvREMOVE", retry_num=1
    )
    assert reply.status == 200
    api_calls(bot)
    assert history_actions(bot, record(bot).id or 0) == ["created", "signed", "withdrawn", "signed"]
    assert BOB not in bot.runtime.services.requirements.get(record(bot).id or 0).unsigned_owners


def posted(bot: Bot, code: str = "RW-2026-001") -> str | None:
    """The message ts of a sheet once it is stored and posted, else None."""
    from storage.models import Requirement

    with bot.runtime.services.session_scope() as s:
        row = s.scalars(select(Requirement).where(Requirement.code == code)).first()  # type: ignore[arg-type]
        return row.message_ts if row else None


def shown_modal(bot: Bot) -> dict[str, Any]:
    """Run /requirement and return the modal as Slack shows it (with its id and hash)."""
    open_modal(bot)
    view = bot.fake.last_view(requirement_blocks.Ids.MODAL)
    assert view is not None and view["id"]
    return view


def test_a_resubmitted_modal_creates_one_record(bot: Bot) -> None:
    from storage.models import Requirement

    view = shown_modal(bot)
    first = bot.slack.submit_view(SHEET_VALUES, view=view)
    again = bot.slack.submit_view(SHEET_VALUES, view=view)  # Submit clicked twice
    assert (first.status, first.body, again.status, again.body) == (200, "", 200, "")
    wait_until(lambda: posted(bot), what="the sheet posted")
    view = shown_modal(bot)
    replies: list[Reply] = []
    threads = [
        threading.Thread(target=lambda: replies.append(bot.slack.submit_view(SHEET_VALUES, view=view)))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status for r in replies] == [200, 200, 200]
    wait_until(lambda: posted(bot, "RW-2026-002"), what="the second sheet posted")
    api_calls(bot)
    assert count(bot, Requirement) == 2
    assert len([c for c in bot.fake.calls("chat.postMessage") if c.params["channel"] == GENERAL]) == 2


def test_a_refused_submission_can_be_submitted_again(bot: Bot) -> None:
    from storage.models import Requirement

    view = shown_modal(bot)
    bad = {**SHEET_VALUES, "due": "whenever"}
    for _ in range(2):  # the same refused form twice: refused twice, not silently dropped
        reply = bot.slack.submit_view(bad, view=view)
        assert "due" in ((reply.json() or {}).get("errors") or {}), reply.body
    assert bot.slack.submit_view(SHEET_VALUES, view=view).json() is None
    wait_until(lambda: posted(bot), what="the sheet posted")
    assert count(bot, Requirement) == 1


def test_a_double_clicked_button_changes_state_once(bot: Bot) -> None:
    sheet = create_sheet(bot)
    clicks = [click_payload(bot, sheet, requirement_blocks.Ids.CONFIRM, user=BOB) for _ in range(2)]
    replies: list[Reply] = []
    threads = [threading.Thread(target=lambda c=c: replies.append(bot.slack.post_payload(c))) for c in clicks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status for r in replies] == [200, 200]
    said = bot.fake.wait_for("response_url")
    api_calls(bot)
    assert history_actions(bot, record(bot).id or 0) == ["created", "signed"]
    assert len(bot.fake.calls("chat.update")) == 1
    assert ["already signed" in c.params["text"] for c in said] == [True]
    # the very same click delivered twice is acknowledged and dropped
    calls = api_calls(bot)
    assert (bot.slack.post_payload(clicks[0]).body, api_calls(bot)) == ("", calls)


def test_a_double_clicked_done_moves_the_item_once(bot: Bot) -> None:
    item = action_item(bot)
    card = message(bot, GENERAL, item.message_ts)
    clicks = [click_payload(bot, card, action_blocks.Ids.DONE, user=BOB) for _ in range(3)]
    threads = [threading.Thread(target=bot.slack.post_payload, args=(c,)) for c in clicks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    bot.fake.wait_for("response_url", 2)
    api_calls(bot)
    moves = [
        e for e in bot.runtime.services.actions.get(item.id, with_history=True).history if e.action == "status_changed"
    ]
    assert [e.detail.get("to") for e in moves] == ["done"]


def test_a_retried_event_costs_one_insert_and_done_requests_are_forgotten_after_a_day(bot: Bot) -> None:
    from sqlalchemy import event, update

    from storage.models import InboxItem

    ts = create_sheet(bot)["ts"]
    bot.slack.react("white_check_mark", channel=GENERAL, ts=ts, user=BOB, event_id="EvONCE")
    bot.fake.wait_for("chat.update")
    api_calls(bot)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(bot.runtime.engine, "before_cursor_execute", seen)
    try:  # Slack's retry finds the first delivery's key taken: one insert that inserts nothing
        reply = bot.slack.react("white_check_mark", channel=GENERAL, ts=ts, user=BOB, event_id="EvONCE", retry_num=1)
    finally:
        event.remove(bot.runtime.engine, "before_cursor_execute", seen)
    assert reply.status == 200
    work = [s for s in statements if s.startswith(("INSERT", "UPDATE", "DELETE"))]
    assert len(work) == 1 and work[0].startswith("INSERT INTO inbox"), work
    assert count(bot, InboxItem) >= 2  # the sheet's submission and the reaction, kept for retries
    assert bot.runtime.services.inbox.prune() == 0  # done only just now
    with bot.runtime.services.session_scope() as s:
        s.execute(update(InboxItem).values(done_at=datetime.now(UTC) - timedelta(days=1, minutes=1)))
    assert bot.runtime.services.inbox.prune() >= 2
    assert count(bot, InboxItem) == 0
