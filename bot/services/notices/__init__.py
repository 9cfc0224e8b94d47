"""The rules of every kind of due work, for every messenger: `plan(services, work, now)` says what it comes to.

A messenger adapter hands each due row here, sends the notices of the plan it gets back (rendering their texts
with `bot.notices.render` and its own formatter), then runs the plan's `then`. Skipping rules, recipients,
texts and what is marked afterwards live here once, so a new messenger writes only how things look.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.errors import DeliveryFailed
from bot.notices import Notice, Plan
from bot.outbox import DueWork, Outcome
from bot.services import Services
from bot.services.actions import KIND_ACTION_ESCALATE, KIND_ACTION_OVERDUE, KIND_ACTION_REMINDER
from bot.services.digests import KIND_DIGEST
from bot.services.incidents import KIND_ESCALATE, KIND_REVIEW_DUE, KIND_UPDATE_DUE
from bot.services.meetings import KIND_AGENDA, KIND_MINUTES_DM, KIND_MINUTES_MISSING, KIND_START
from bot.services.notices import actions, digest, incident, meeting, requirement, welcome
from bot.services.requirements import KIND_OVERDUE, KIND_QUESTION_REMINDER, KIND_SIGN_REMINDER
from bot.services.workspaces import KIND_WELCOME

Planner = Callable[[Services, DueWork, datetime], Plan]

PLANNERS: dict[str, Planner] = {
    KIND_SIGN_REMINDER: lambda s, w, now: requirement.sign_reminder(s.requirements, w, now),
    KIND_OVERDUE: lambda s, w, now: requirement.overdue(s.requirements, w, now),
    KIND_QUESTION_REMINDER: lambda s, w, now: requirement.question_reminder(s.requirements, w, now),
    KIND_AGENDA: lambda s, w, now: meeting.agenda(s.meetings, w, now),
    KIND_START: lambda s, w, now: meeting.start(s.meetings, w, now),
    KIND_MINUTES_MISSING: lambda s, w, now: meeting.minutes_missing(s.meetings, w, now),
    KIND_MINUTES_DM: lambda s, w, now: meeting.minutes_copy(s.meetings, w, now),
    KIND_ACTION_REMINDER: lambda s, w, now: actions.reminder(s.actions, w, now),
    KIND_ACTION_OVERDUE: lambda s, w, now: actions.overdue(s.actions, w, now),
    KIND_ACTION_ESCALATE: lambda s, w, now: actions.escalate(s.actions, w, now),
    KIND_DIGEST: lambda s, w, now: digest.weekly(s.digests, w, now),
    KIND_ESCALATE: lambda s, w, now: incident.escalate(s.incidents, w, now),
    KIND_UPDATE_DUE: lambda s, w, now: incident.update_due(s.incidents, w, now),
    KIND_REVIEW_DUE: lambda s, w, now: incident.review_due(s.incidents, w, now),
    KIND_WELCOME: lambda s, w, now: welcome.welcome(w, now),
}


def deliver(services: Services, work: DueWork, now: datetime, send: Callable[[Notice], None]) -> Outcome:
    """Plan a due row, hand each notice to the messenger's `send`, then mark what the plan marks; a failure
    of `send` leaves it unmarked, so the row is tried again whole."""
    planned = plan(services, work, now)
    if planned.skipped:
        return Outcome.SKIPPED
    for notice in planned.notices:
        send(notice)
    if planned.then is not None:
        planned.then()
    return Outcome.SENT


def plan(services: Services, work: DueWork, now: datetime) -> Plan:
    """What a due row comes to now; an unknown kind fails the row for good. `NotFound` means the record is gone."""
    planner = PLANNERS.get(work.kind)
    if planner is None:
        raise DeliveryFailed(f"unknown kind {work.kind}", permanent=True)
    return planner(services, work, now)
