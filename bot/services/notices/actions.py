"""When an action item's reminders, overdue notices and escalations go out, to whom, saying what."""

from __future__ import annotations

from datetime import datetime

from bot.notices import Link, Notice, Person, Plan, Record, Text, Tone, Typed, When
from bot.outbox import DueWork
from bot.services.actions import ActionInfo, ActionService

KIND = "action"


def _notice(user: str, item: ActionInfo, text: Text, tone: Tone = Tone.INFO) -> Notice:
    # the message showing the item, when there is one (an item from a form in a DM has none)
    footer = Text.of("action.open_message", link=Link(item.channel_id, item.message_ts, fallback=False))
    return Notice(user, Record(KIND, item.id, item.code, item.title), text, tone=tone, footer=footer)


def reminder(actions: ActionService, work: DueWork, now: datetime) -> Plan:
    """The owner, before the due time, while the item is open."""
    user = str(work.payload["user_id"])
    item = actions.get(int(work.payload["action_id"]))
    if item.status.closed or now >= item.due:
        return Plan.skip()  # finished, or the overdue notice says it better
    text = Text.of("action.remind", code=item.code, when=When(item.due), title=Typed(item.title, 500))
    return Plan((_notice(user, item, text),))


def overdue(actions: ActionService, work: DueWork, now: datetime) -> Plan:
    """The owner (or whoever assigned it) once the due time passed with the item open."""
    user = str(work.payload["user_id"])
    item = actions.get(int(work.payload["action_id"]))
    if item.status.closed:
        return Plan.skip()
    text = Text.of(
        "action.overdue_owner" if user == item.owner_id else "action.overdue_escalate",
        code=item.code,
        when=When(item.due),
        title=Typed(item.title, 500),
        owner=Person(item.owner_id),
    )
    return Plan((_notice(user, item, text, Tone.WARN),))


def escalate(actions: ActionService, work: DueWork, now: datetime) -> Plan:
    """The escalation contact, working days after the due time, once per item; marked when it went out."""
    user = str(work.payload["user_id"])
    item = actions.get(int(work.payload["action_id"]))
    if item.status.closed or item.escalated_at is not None:
        return Plan.skip()
    text = Text.of(
        "action.escalated",
        code=item.code,
        when=When(item.due),
        title=Typed(item.title, 500),
        owner=Person(item.owner_id),
        days=actions.escalation_days,
    )

    def mark() -> None:
        actions.mark_escalated(item.id, now=now)

    return Plan((_notice(user, item, text, Tone.ALERT),), then=mark)
