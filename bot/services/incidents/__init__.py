"""Emergency response (应急响应): declare, coordinate, update, resolve, review (复盘).

An incident has a commander who acknowledges it, responders who run it, a status that moves
investigating → identified → monitoring → resolved, updates at the severity's cadence, and a
timeline that writes itself. Unacknowledged incidents escalate once to a backup list; follow-ups
after the review are action items like any other.

An incident changes as it unfolds: the commander raises or lowers its severity (its reminders follow)
and corrects what it says; a resolved incident may be reopened for a while. Its review meeting is a
meeting that names it, whose minutes' items count among its follow-ups.
"""

from __future__ import annotations

from bot.services.incident_text import Severity, Status
from bot.services.incidents.core import IncidentCore
from bot.services.incidents.lifecycle import EDITABLE, IncidentEdit, IncidentLifecycle, validate_edit
from bot.services.incidents.model import (
    DEFAULT_ACK_MINUTES,
    DEFAULT_UPDATE_MINUTES,
    KIND_ESCALATE,
    KIND_REVIEW_DUE,
    KIND_UPDATE_DUE,
    MAX_TEXT,
    MAX_TITLE,
    PREFIX,
    SOURCE,
    AckOutcome,
    IncidentDraft,
    IncidentInfo,
    ReviewState,
    TimelineItem,
    parse_severity,
    validate,
)
from bot.services.incidents.review import (
    MAX_DECISIONS,
    MAX_FOLLOW_UPS,
    REVIEWED_SEVERITIES,
    IncidentReview,
    IncidentReviews,
    ResolutionDraft,
    ResolveOutcome,
    review_meeting_draft,
    validate_resolution,
)


class IncidentService(IncidentCore, IncidentLifecycle, IncidentReviews):
    """Declares incidents, keeps their roles, status, updates and timeline, and hands follow-ups on."""


__all__ = [
    "DEFAULT_ACK_MINUTES",
    "DEFAULT_UPDATE_MINUTES",
    "EDITABLE",
    "KIND_ESCALATE",
    "KIND_REVIEW_DUE",
    "KIND_UPDATE_DUE",
    "MAX_DECISIONS",
    "MAX_FOLLOW_UPS",
    "MAX_TEXT",
    "MAX_TITLE",
    "PREFIX",
    "REVIEWED_SEVERITIES",
    "SOURCE",
    "AckOutcome",
    "IncidentDraft",
    "IncidentEdit",
    "IncidentInfo",
    "IncidentReview",
    "IncidentService",
    "ResolutionDraft",
    "ResolveOutcome",
    "ReviewState",
    "Severity",
    "Status",
    "TimelineItem",
    "parse_severity",
    "review_meeting_draft",
    "validate",
    "validate_edit",
    "validate_resolution",
]
