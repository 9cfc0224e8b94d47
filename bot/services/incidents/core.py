"""Declaring and running an incident: acknowledgment, escalation, status, updates, decisions, roles, pins."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from bot import inbox, outbox
from bot.errors import Conflict, NotAllowed, ValidationFailed
from bot.services.incident_text import Severity, Status
from bot.services.incidents.base import IncidentBase, _subject
from bot.services.incidents.model import (
    KIND_ESCALATE,
    MAX_TEXT,
    PREFIX,
    AckOutcome,
    IncidentDraft,
    IncidentInfo,
    validate,
)
from storage import counters
from storage import incidents as repo
from storage.models import Incident

logger = logging.getLogger(__name__)


def _text(value: str, name: str) -> str:
    value = value.strip()
    if not value:
        raise ValidationFailed({name: ("error.required", {})})
    if len(value) > MAX_TEXT:
        raise ValidationFailed({name: ("error.too_long", {"max": MAX_TEXT})})
    return value


class IncidentCore(IncidentBase):
    """Declares incidents and keeps their acknowledgment, status, updates, decisions, roles and pins."""

    # -- declaring -------------------------------------------------------------------------------------

    def declare(
        self, *, team_id: str, declarer_id: str, draft: IncidentDraft, origin_channel: str, now: datetime
    ) -> IncidentInfo:
        """Store an incident with its ID and first timeline entries; plan escalation and update reminders."""
        validate(draft)
        with self._scope() as s:
            earlier = inbox.created(s, "incident")
            if earlier is not None:  # this request ran before and declared it: the same incident
                return self._load(s, self._get(s, earlier))
            year = now.astimezone(self._zone).year
            seq = counters.next_value(s, team_id=team_id, prefix=PREFIX, year=year)
            acked = declarer_id == draft.commander_id
            row = Incident(
                team_id=team_id,
                code=f"{PREFIX}-{year}-{seq:03d}",
                title=draft.title.strip(),
                severity=Severity(draft.severity),
                status=Status.INVESTIGATING,
                description=draft.description.strip(),
                impact=draft.impact.strip(),
                commander_id=draft.commander_id,
                declared_by=declarer_id,
                declared_in=origin_channel,
                declared_at=now,
                last_update_at=now,
                created_at=now,
                updated_at=now,
                acknowledged_at=now if acked else None,
                acknowledged_by=declarer_id if acked else None,
            )
            s.add(row)
            s.flush()
            iid = int(row.id or 0)
            inbox.note_created(s, "incident", iid)
            for user in dict.fromkeys(draft.responders):
                if user != draft.commander_id:
                    repo.add_responder(s, iid, user, now)
            repo.add_entry(
                s,
                incident_id=iid,
                at=now,
                actor_id=declarer_id,
                kind="declared",
                detail=json.dumps({"severity": row.severity, "commander": row.commander_id}),
            )
            if acked:
                repo.add_entry(
                    s,
                    incident_id=iid,
                    at=now,
                    actor_id=declarer_id,
                    kind="acknowledged",
                    detail=json.dumps({"by_declaring": True}),
                )
            s.flush()
            info = self._load(s, row)
            self._plan_escalation(s, info, now)
            self._plan_update(s, info, now)
        logger.info("incident %s (%s) declared by %s", info.code, info.severity, declarer_id)
        return info

    def attach_channel(self, incident_id: int, *, channel_id: str, channel_name: str) -> IncidentInfo:
        """Remember the incident's own channel."""
        return self._set(incident_id, channel_id=channel_id, channel_name=channel_name)

    def attach_summary(self, incident_id: int, *, ts: str) -> IncidentInfo:
        """Remember the pinned summary in the incident channel."""
        return self._set(incident_id, summary_ts=ts)

    def attach_announcement(self, incident_id: int, *, channel_id: str, ts: str) -> IncidentInfo:
        """Remember the announcement that is kept up to date."""
        return self._set(incident_id, announce_channel_id=channel_id, announce_ts=ts)

    # -- running ---------------------------------------------------------------------------------------

    def acknowledge(self, incident_id: int, *, user_id: str, now: datetime) -> AckOutcome:
        """The commander acknowledges; a backup who was escalated to acknowledges and joins as a responder."""
        with self._scope() as s:
            row = self._get(s, incident_id, lock=True)
            info = self._load(s, row, with_timeline=True)
            self.check_open(info)
            backup = user_id != info.commander_id
            if backup and not (user_id in self.backups and info.escalated_at is not None):
                raise NotAllowed("error.incident_ack_not_allowed", code=info.code, commander=f"<@{info.commander_id}>")
            already = any(e.kind == "acknowledged" and e.actor_id == user_id for e in info.timeline)
            if already and (not backup or user_id in info.team):
                return AckOutcome(info, False, backup)
            if row.acknowledged_at is None:
                row.acknowledged_at, row.acknowledged_by = now, user_id
            if backup:
                repo.add_responder(s, incident_id, user_id, now)
            row.updated_at = now
            s.add(row)
            repo.add_entry(
                s,
                incident_id=incident_id,
                at=now,
                actor_id=user_id,
                kind="acknowledged",
                detail=json.dumps({"backup": True} if backup else {}),
            )
            outbox.cancel(s, subject=_subject(incident_id), kinds=(KIND_ESCALATE,))
            s.flush()
            info = self._load(s, row)
        logger.info("incident %s acknowledged by %s%s", info.code, user_id, " (backup)" if backup else "")
        return AckOutcome(info, True, backup)

    def mark_escalated(self, incident_id: int, *, now: datetime) -> tuple[IncidentInfo, bool]:
        """Record that the backups were called (once); returns the incident and whether this was the first."""
        with self._scope() as s:
            row = self._get(s, incident_id, lock=True)
            first = row.escalated_at is None
            if first:
                row.escalated_at = now
                s.add(row)
                repo.add_entry(
                    s,
                    incident_id=incident_id,
                    at=now,
                    actor_id="coordbot",
                    kind="escalated",
                    detail=json.dumps({"to": list(self._backups_for(row.commander_id))}),
                )
                s.flush()
            return self._load(s, row), first

    def set_status(
        self, incident_id: int, *, user_id: str, status: Status, now: datetime
    ) -> tuple[IncidentInfo, Status | None]:
        """Move an open incident to another open status (resolving goes through `resolve`).

        Returns the incident and the status it had, or None when nothing changed.
        """
        status = Status(status)
        if status == Status.RESOLVED:
            raise Conflict("error.incident_resolve_with_summary")
        with self._scope() as s:
            row = self._get(s, incident_id, lock=True)
            info = self._load(s, row)
            self.check_can_run(info, user_id)
            self.check_open(info)
            before = Status(row.status)
            if before == status:
                return info, None
            row.status, row.last_update_at, row.updated_at = status, now, now
            detail: dict[str, Any] = {"from": before, "to": status}
            if status == Status.MONITORING and row.mitigated_at is None:
                row.mitigated_at = now  # the first time only: a later relapse does not move it
                detail["mitigated"] = True
            s.add(row)
            repo.add_entry(
                s,
                incident_id=incident_id,
                at=now,
                actor_id=user_id,
                kind="status",
                detail=json.dumps(detail),
            )
            s.flush()
            info = self._load(s, row)
            self._plan_update(s, info, now)
        logger.info("incident %s: %s -> %s by %s", info.code, before, status, user_id)
        return info, before

    def post_update(self, incident_id: int, *, user_id: str, text: str, now: datetime) -> IncidentInfo:
        """Record an update (anyone in the channel may post one); the next reminder counts from now."""
        text = _text(text, "update")
        with self._scope() as s:
            row = self._get(s, incident_id, lock=True)
            row.last_update_at, row.updated_at = now, now
            s.add(row)
            repo.add_entry(
                s,
                incident_id=incident_id,
                at=now,
                actor_id=user_id,
                kind="update",
                text=text,
                detail=json.dumps({"status": row.status}),
            )
            s.flush()
            info = self._load(s, row)
            self._plan_update(s, info, now)
            return info

    def add_decision(self, incident_id: int, *, user_id: str, text: str, now: datetime) -> IncidentInfo:
        """Record a decision taken while running the incident."""
        text = _text(text, "decision")
        with self._scope() as s:
            row = self._get(s, incident_id, lock=True)
            self.check_can_run(self._load(s, row), user_id)
            row.updated_at = now
            s.add(row)
            repo.add_entry(s, incident_id=incident_id, at=now, actor_id=user_id, kind="decision", text=text)
            s.flush()
            return self._load(s, row)

    def assign_role(
        self, incident_id: int, *, user_id: str, role: str, target_id: str, now: datetime
    ) -> tuple[IncidentInfo, str | None]:
        """The commander names the comms lead or adds a responder; returns the incident and who held the role."""
        with self._scope() as s:
            row = self._get(s, incident_id, lock=True)
            info = self._load(s, row)
            self.check_commander(info, user_id)
            self.check_open(info)
            previous: str | None = None
            if (role == "comms" and target_id == row.comms_id) or (role == "responder" and target_id in info.team):
                raise Conflict("error.incident_already_in_role", user=f"<@{target_id}>", code=info.code)
            if role == "comms":
                previous, row.comms_id = row.comms_id, target_id
            elif role == "responder":
                repo.add_responder(s, incident_id, target_id, now)
            else:
                raise Conflict("error.incident_unknown_role", role=role)
            row.updated_at = now
            s.add(row)
            repo.add_entry(
                s,
                incident_id=incident_id,
                at=now,
                actor_id=user_id,
                kind="role",
                detail=json.dumps({"role": role, "user": target_id, "previous": previous}),
            )
            s.flush()
            return self._load(s, row), previous

    def hand_over(self, incident_id: int, *, user_id: str, target_id: str, now: datetime) -> IncidentInfo:
        """The commander hands over command; they stay on as a responder."""
        with self._scope() as s:
            row = self._get(s, incident_id, lock=True)
            info = self._load(s, row)
            self.check_commander(info, user_id)
            self.check_open(info)
            if target_id == row.commander_id:
                raise Conflict("error.incident_already_commander", user=f"<@{target_id}>", code=info.code)
            previous = row.commander_id
            repo.remove_responder(s, incident_id, target_id)
            repo.add_responder(s, incident_id, previous, now)
            row.commander_id, row.updated_at = target_id, now
            s.add(row)
            repo.add_entry(
                s,
                incident_id=incident_id,
                at=now,
                actor_id=user_id,
                kind="lead",
                detail=json.dumps({"from": previous, "to": target_id}),
            )
            s.flush()
            info = self._load(s, row)
        logger.info("incident %s: command handed from %s to %s", info.code, previous, target_id)
        return info

    def pin_message(
        self,
        incident_id: int,
        *,
        message_ts: str,
        author_id: str,
        pinned_by: str,
        text: str,
        at: datetime | None,
        now: datetime,
    ) -> IncidentInfo | None:
        """Put a 📌-marked message on the timeline, at its own time; None when it is there already."""
        with self._scope() as s:
            row = self._get(s, incident_id, lock=True)
            if repo.pinned(s, incident_id, message_ts) is not None:
                return None
            # a message of the incident's channel was written between the declaration and now
            when = min(max(at or now, row.declared_at), now)
            repo.add_entry(
                s,
                incident_id=incident_id,
                at=when,
                actor_id=author_id or pinned_by,
                kind="pinned",
                text=text.strip()[:MAX_TEXT],
                detail=json.dumps({"pinned_by": pinned_by}),
                message_ts=message_ts,
            )
            row.updated_at = now
            s.add(row)
            s.flush()
            return self._load(s, row)

    def unpin_message(self, incident_id: int, *, message_ts: str) -> bool:
        """Take a message off the timeline when its last 📌 is removed."""
        with self._scope() as s:
            entry = repo.pinned(s, incident_id, message_ts)
            if entry is None:
                return False
            repo.delete_entry(s, int(entry.id or 0))
            return True

    # -- due work --------------------------------------------------------------------------------------

    def plan_next_reminder(self, incident_id: int, *, after: datetime, plan: str, now: datetime) -> datetime | None:
        """After a reminder went out, the next one a cadence later (skipping any that were missed)."""
        with self._scope() as s:
            info = self._load(s, self._get(s, incident_id))
            cadence = self.update_cadence(info.severity)
            if cadence is None or info.resolved:
                return None
            due = after + cadence
            while due <= now:
                due += cadence
            self._schedule_update(s, info, due, now, plan=plan)
            return due
