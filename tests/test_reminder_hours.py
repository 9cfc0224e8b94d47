"""Reminders land in each recipient's working hours, in their own timezone and holiday calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.sandbox.slack_api import ALICE, BOB
from tests.conftest import Bot
from tests.helpers import create_sheet, outbox_rows

SHANGHAI, NEW_YORK = ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York")


def due_times(bot: Bot) -> dict[tuple[str, str], datetime]:
    """When each reminder is due, by (kind, recipient)."""
    import json

    return {(r.kind, json.loads(r.payload)["user_id"]): r.due_at for r in outbox_rows(bot.runtime)}


@pytest.mark.office_hours(holidays="CN")
def test_reminders_before_hours_move_to_the_previous_working_day_in_each_timezone(bot: Bot) -> None:
    create_sheet(bot, confirm_by="2026-11-30 10:00")  # Monday 10:00 for Alice in Shanghai
    due = due_times(bot)
    # Alice: 08:00 Monday is before hours -> Friday 18:00 Shanghai
    assert due[("req.sign_reminder", ALICE)] == datetime(2026, 11, 27, 18, 0, tzinfo=SHANGHAI)
    # Bob: 08:00 Monday in Shanghai is Sunday 19:00 in New York -> Friday 18:00 New York
    assert due[("req.sign_reminder", BOB)] == datetime(2026, 11, 27, 18, 0, tzinfo=NEW_YORK)
    # the overdue notice never comes early: Alice at the deadline, Bob at the start of his Monday
    assert due[("req.overdue", ALICE)] == datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)
    assert due[("req.overdue", BOB)] == datetime(2026, 11, 30, 9, 0, tzinfo=NEW_YORK)
    bot.runtime.tick(datetime(2026, 11, 27, 18, 0, tzinfo=SHANGHAI))
    sent = [c.params["channel"] for c in bot.fake.calls("chat.postMessage") if c.params["channel"] in (ALICE, BOB)]
    assert sent == [ALICE]


@pytest.mark.office_hours(holidays="CN")
def test_national_day_week_is_skipped(bot: Bot) -> None:
    bot.clock.set(datetime(2026, 9, 28, 10, 0, tzinfo=SHANGHAI))  # Monday before the holiday
    create_sheet(bot, confirm_by="2026-10-08 10:00", due="2026-10-20")
    due = due_times(bot)
    # 08:00 on Thursday 8 October is before hours; 1-7 October are off, so the last working day is 30 September
    assert due[("req.sign_reminder", ALICE)] == datetime(2026, 9, 30, 18, 0, tzinfo=SHANGHAI)


@pytest.mark.office_hours(holidays="CN")
def test_make_up_working_day_counts(bot: Bot) -> None:
    bot.clock.set(datetime(2026, 10, 9, 10, 0, tzinfo=SHANGHAI))  # Friday
    create_sheet(bot, confirm_by="2026-10-12 10:00", due="2026-10-20")  # Monday
    due = due_times(bot)
    # Saturday 10 October is a make-up working day (调休), so Monday 08:00 moves back to it, not to Friday
    assert due[("req.sign_reminder", ALICE)] == datetime(2026, 10, 10, 18, 0, tzinfo=SHANGHAI)


@pytest.mark.office_hours()
def test_overdue_notice_across_the_new_york_dst_change(bot: Bot) -> None:
    bot.clock.set(datetime(2026, 10, 30, 10, 0, tzinfo=NEW_YORK))  # Friday, daylight time
    create_sheet(bot, user=BOB, confirm_by="Sunday 3pm", due="2026-11-20")  # 1 November, standard time
    due = due_times(bot)
    overdue = due[("req.overdue", BOB)].astimezone(NEW_YORK)
    assert (overdue.date().isoformat(), overdue.hour) == ("2026-11-02", 9)
    assert overdue.utcoffset() == timedelta(hours=-5)
    assert due[("req.overdue", BOB)] == datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
