"""How an incident changes as it unfolds: the commander raises or lowers it and corrects it; it may reopen."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot import outbox
from bot.errors import Conflict, ValidationFailed
from bot.services.incident_text import Severity, Status
from bot.services.incidents.base import IncidentBase, _stamp, _subject
from bot.services.incidents.model import (
    KIND_ESCALATE,
    KIND_REVIEW_DUE,
    KIND_UPDATE_DUE,
    MAX_TEXT,
    MAX_TITLE,
    IncidentInfo,
    TimelineItem,
)
from storage import incidents as repo

logger = logging.getLogger(__name__)

EDITABLE = ("title", "description", "impact")


@dataclass(frozen=True)
class IncidentEdit:
    """The commander's corrections to what is written about an incident."""

    title: str
    description: str = ""
    impact: str = ""


def validate_edit(draft: IncidentEdit) -> None:
    """Check an edit of the title, description and impact; raise ValidationFailed with per-field errors."""
    errors: dict[str, tuple[str, dict[str, Any]]] = {}
    if not draft.title.strip():
        errors["title"] = ("error.required", {})
    elif len(draft.title.strip()) > MAX_TITLE:
        errors["title"] = ("error.too_long", {"max": MAX_TITLE})
    for name in ("description", "impact"):
        if len(getattr(draft, name).strip()) > MAX_TEXT:
            errors[name] = ("error.too_long", {"max": MAX_TEXT})
    if errors:
        raise ValidationFailed(errors)


class IncidentLifecycle(IncidentBase):
    """Changes the severity, corrects what an incident says, and reopens it."""

    def change_severity(
        self, incident_id: int, *, user_id: str, severity: Severity | str, now: datetime
    ) -> tuple[IncidentInfo, Severity | None]:
        """The commander raises or lowers the severity; the escalation and update reminders still to come are
        planned again at the new severity's cadence (the old rows cancelled, new ones scheduled, once).

        Returns the incident and the severity it had, or None when nothing changed.
        """
        try:
            new = Severity(severity)
        except ValueError:
            raise ValidationFailed({"severity": ("error.required", {})}) from None
        with self._scope() as s:
            row = self._get(s, incident_id, lock=True)
            info = self._load(s, row)
            self.check_commander(info, user_id)
            self.check_open(info)
            before = Severity(row.severity)
            if before == new:
                return info, None
            row.severity, row.updated_at = new, now
            s.add(row)
            repo.add_entry(
                s,
                incident_id=incident_id,
                at=now,
                actor_id=user_id,
                kind="severity",
                text=f"{before.value} → {new.value}",
                detail=json.dumps({"from": before, "to": new}),
            )
            s.flush()
            info = self._load(s, row)
            outbox.cancel(s, subject=_subject(incident_id), kinds=(KIND_ESCALATE, KIND_UPDATE_DUE))
            if info.escalated_at is None:  # the backups are called once, whatever the severity becomes
                self._plan_escalation(s, info, now, plan=uuid.uuid4().hex[:12])
            self._plan_update(s, info, now)
        logger.info("incident %s: severity %s -> %s by %s", info.code, before, new, user_id)
        return info, before

    def edit(
        self, incident_id: int, *, user_id: str, draft: IncidentEdit, now: datetime
    ) -> tuple[IncidentInfo, tuple[str, ...]]:
        """The commander corrects the title, description or impact; each change goes on the timeline with what
        it was and what it is now. Returns the incident and the fields that changed."""
        validate_edit(draft)
        with self._scope() as s:
            row = self._get(s, incident_id, lock=True)
            self.check_commander(self._load(s, row), user_id)
            changed: list[str] = []
            for name in EDITABLE:
                before, after = str(getattr(row, name) or ""), getattr(draft, name).strip()
                if before == after:
                    continue
                setattr(row, name, after)
                changed.append(name)
                repo.add_entry(
                    s,
                    incident_id=incident_id,
                    at=now,
                    actor_id=user_id,
                    kind=f"edit.{name}",
                    text=after,
                    detail=json.dumps({"field": name, "before": before, "after": after}, ensure_ascii=False),
                )
            if changed:
                row.updated_at = now
                s.add(row)
            s.flush()
            info = self._load(s, row)
        if changed:
            logger.info("incident %s: %s edited by %s", info.code, ", ".join(changed), user_id)
        return info, tuple(changed)

    def reopen(self, incident_id: int, *, user_id: str, now: datetime) -> IncidentInfo:
        """Reopen a resolved incident (its commander or a responder, within `reopen_days` of the resolution):
        back to the status it had before it was resolved, with update reminders again."""
        with self._scope() as s:
            row = self._get(s, incident_id, lock=True)
            info = self._load(s, row, with_timeline=True)
            self.check_can_run(info, user_id)
            if not info.resolved or info.resolved_at is None:
                raise Conflict("error.incident_not_resolved", code=info.code)
            if now - info.resolved_at > timedelta(days=self.reopen_days):
                raise Conflict("error.incident_reopen_too_late", code=info.code, days=self.reopen_days)
            back = _last_active_status(info.timeline)
            row.status = back
            row.resolved_at, row.resolved_by, row.resolution = None, None, None
            row.reopened_count = int(row.reopened_count or 0) + 1
            row.reopened_at, row.last_update_at, row.updated_at = now, now, now
            s.add(row)
            repo.add_entry(
                s,
                incident_id=incident_id,
                at=now,
                actor_id=user_id,
                kind="reopened",
                detail=json.dumps(
                    {"from": Status.RESOLVED, "to": back, "count": row.reopened_count, "resolved_at": _stamp(info)}
                ),
            )
            s.flush()
            outbox.cancel(s, subject=_subject(incident_id), kinds=(KIND_REVIEW_DUE,))
            info = self._load(s, row)
            self._plan_update(s, info, now)
        logger.info("incident %s reopened by %s (%d times), back to %s", info.code, user_id, info.reopened_count, back)
        return info


def _last_active_status(timeline: Sequence[TimelineItem]) -> Status:
    """The status an incident had when it was last resolved, from its timeline."""
    for entry in reversed(timeline):
        if entry.kind == "resolved":
            try:
                before = Status(entry.detail.get("from") or Status.INVESTIGATING)
            except ValueError:
                break
            return before if before != Status.RESOLVED else Status.INVESTIGATING
    return Status.INVESTIGATING
