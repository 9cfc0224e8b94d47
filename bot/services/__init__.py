"""Domain services and the container the Slack adapter receives."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.config import Settings
from bot.inbox import Inbox
from bot.outbox import Outbox
from bot.services.actions import ActionService
from bot.services.digests import DigestService
from bot.services.incidents import IncidentService
from bot.services.meetings import MeetingService
from bot.services.metrics import MetricsService
from bot.services.prefs import Preferences
from bot.services.presence import ChannelPresence
from bot.services.requirements import RequirementService
from bot.services.workspaces import WorkspaceService
from storage.db import SessionScope


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


_handling = threading.local()  # the time a request being handled on this thread was received


@dataclass
class Services:
    """Everything a listener may call, built once at start."""

    settings: Settings
    session_scope: SessionScope
    requirements: RequirementService
    outbox: Outbox
    prefs: Preferences
    actions: ActionService
    meetings: MeetingService
    digests: DigestService
    incidents: IncidentService
    inbox: Inbox
    presence: ChannelPresence
    workspaces: WorkspaceService
    metrics: MetricsService
    clock: Callable[[], datetime] = field(default=utc_now)
    # delivers what is due now, instead of at the next heartbeat (set by the runtime, which knows how to send)
    deliver_due: Callable[[], object] = field(default=lambda: None)

    def now(self) -> datetime:
        """The current time from the configured clock (fixed in tests), or the request's time (see `as_of`)."""
        at: datetime | None = getattr(_handling, "at", None)
        return at if at is not None else self.clock()

    @contextmanager
    def as_of(self, at: datetime | None) -> Iterator[None]:
        """Handle a request on this thread as of the time it was received.

        A request handed to the worker process is checked again there before its work runs; reading it
        as of its arrival keeps that check's answer the one the user already got (a date "in 1 minute"
        does not turn into the past while the request waits in line).
        """
        before = getattr(_handling, "at", None)
        _handling.at = at if at is not None else before
        try:
            yield
        finally:
            _handling.at = before

    @classmethod
    def build(
        cls, settings: Settings, session_scope: SessionScope, clock: Callable[[], datetime] = utc_now
    ) -> Services:
        """Wire the services from settings and a session factory."""
        calendar = settings.calendar
        actions = ActionService(
            session_scope,
            tz=settings.tz,
            lead=settings.action_lead,
            calendar=calendar,
            escalation_days=settings.escalation_days,
        )
        meetings = MeetingService(
            session_scope,
            actions,
            tz=settings.tz,
            agenda_lead=settings.agenda_lead,
            start_lead=settings.meeting_reminder,
            minutes_due=settings.minutes_due,
            calendar=calendar,
        )
        return cls(
            settings=settings,
            session_scope=session_scope,
            requirements=RequirementService(
                session_scope,
                tz=settings.tz,
                reminder_lead=settings.reminder_lead,
                question_lead=settings.question_lead,
                default_question_window=settings.default_confirm_window,
                calendar=calendar,
            ),
            outbox=Outbox(session_scope),
            prefs=Preferences(session_scope),
            actions=actions,
            meetings=meetings,
            digests=DigestService(session_scope, tz=settings.tz),
            incidents=IncidentService(
                session_scope,
                actions,
                tz=settings.tz,
                ack_minutes=settings.incident_ack_minutes,
                update_minutes=settings.incident_update_minutes,
                backups=settings.incident_escalation,
                reopen_days=settings.incident_reopen_days,
                review_due_days=settings.review_due_days,
                calendar=calendar,
            ),
            inbox=Inbox(
                session_scope, lease=timedelta(seconds=settings.inbox_lease), max_attempts=settings.inbox_attempts
            ),
            presence=ChannelPresence(session_scope),
            workspaces=WorkspaceService(session_scope),
            metrics=MetricsService(session_scope),
            clock=clock,
        )
