"""The installer's welcome: to them, in their language."""

from __future__ import annotations

from datetime import datetime

from bot.notices import Extra, Notice, Plan
from bot.outbox import DueWork


def welcome(work: DueWork, now: datetime) -> Plan:
    """The installer's welcome, in their language."""
    data = {"team_name": str(work.payload.get("team_name") or ""), "app_id": str(work.payload.get("app_id") or "")}
    return Plan((Notice(str(work.payload["user_id"]), None, None, extra=Extra.WELCOME, data=data),))
