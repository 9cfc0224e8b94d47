"""The workspaces coordbot serves: which install serves each, and what stops when one is uninstalled."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from bot import outbox
from storage import workspaces as repo
from storage.db import SessionScope

logger = logging.getLogger(__name__)

KIND_WELCOME = "welcome.dm"  # the installer's first message from coordbot


@dataclass(frozen=True)
class WorkspaceInfo:
    """A workspace as coordbot knows it."""

    team_id: str
    enterprise_id: str | None
    org_install: bool
    name: str
    state: str
    reason: str | None
    installer_id: str | None
    installed_at: datetime | None
    changed_at: datetime
    held: int = 0

    @property
    def active(self) -> bool:
        """Whether coordbot may act in it (it is installed)."""
        return self.state == repo.ACTIVE


class WorkspaceService:
    """Remembers workspaces as requests and installs arrive; holds and resumes their due work."""

    def __init__(self, session_scope: SessionScope) -> None:
        self._scope = session_scope
        self._known: dict[str, tuple[str | None, bool]] = {}  # team → (enterprise, org install), written once
        self._lock = threading.Lock()

    def seen(self, *, team_id: str, enterprise_id: str | None, org_install: bool, now: datetime) -> None:
        """Note that a request came from this workspace through this install (a write only the first time)."""
        key = (enterprise_id or None, org_install)
        with self._lock:
            if not team_id or self._known.get(team_id) == key:
                return
        with self._scope() as s:
            repo.seen(s, team_id=team_id, enterprise_id=key[0], org_install=org_install, now=now)
        with self._lock:
            self._known[team_id] = key

    def installed(
        self,
        *,
        team_id: str,
        enterprise_id: str | None,
        org_install: bool,
        name: str,
        installer_id: str | None,
        now: datetime,
        app_id: str = "",
    ) -> int:
        """An install (or re-install) finished: the workspace is active again, its installer is welcomed (a due
        message, sent by the next tick); returns the held due work resumed."""
        with self._scope() as s:
            resumed = repo.installed(
                s,
                team_id=team_id,
                enterprise_id=enterprise_id or None,
                org_install=org_install,
                name=name,
                installer_id=installer_id,
                now=now,
            )
            if installer_id:
                outbox.schedule(
                    s,
                    team_id=team_id,
                    kind=KIND_WELCOME,
                    subject=f"workspace:{team_id}",
                    key=f"welcome:{team_id}:{installer_id}:{int(now.timestamp())}",
                    due_at=now,
                    now=now,
                    payload={"user_id": installer_id, "team_name": name, "app_id": app_id},
                )
        with self._lock:
            self._known.pop(team_id, None)
        logger.info("installed in %s%s: %d held due item(s) resumed", team_id, " (org)" if org_install else "", resumed)
        return resumed

    def uninstalled(self, *, team_id: str | None, enterprise_id: str | None, reason: str, now: datetime) -> int:
        """The app was uninstalled or its tokens revoked: hold the workspace's pending due work."""
        with self._scope() as s:
            teams, held = repo.uninstalled(s, team_id=team_id, enterprise_id=enterprise_id, reason=reason, now=now)
        logger.warning("%s in %s: %d due item(s) held", reason, ", ".join(teams) or enterprise_id or "?", held)
        return held

    def get(self, team_id: str) -> WorkspaceInfo | None:
        """One workspace, if coordbot has served it."""
        with self._scope() as s:
            row = repo.get(s, team_id)
            return None if row is None else _info(row, repo.held_counts(s).get(team_id, 0))

    def all(self) -> list[WorkspaceInfo]:
        """Every workspace, with its held due work."""
        with self._scope() as s:
            held = repo.held_counts(s)
            return [_info(row, held.get(row.team_id, 0)) for row in repo.all_workspaces(s)]

    def org_scope(self, enterprise_id: str) -> tuple[str, ...]:
        """Every workspace of an Enterprise Grid organization coordbot has served."""
        with self._scope() as s:
            return tuple(repo.enterprise_teams(s, enterprise_id))

    def is_active(self, team_id: str) -> bool:
        """Whether due work for the workspace may be sent (one never recorded counts as active)."""
        with self._scope() as s:
            return repo.is_active(s, team_id)

    def app_ticket(self, platform: str, app_id: str) -> str | None:
        """The latest ticket pushed to a store app (None before the first arrives)."""
        with self._scope() as s:
            row = repo.app_ticket(s, platform=platform, app_id=app_id)
            return row.ticket if row else None

    def keep_app_ticket(self, platform: str, app_id: str, ticket: str, *, now: datetime) -> None:
        """Keep a ticket just pushed to a store app (every process reads it from here)."""
        with self._scope() as s:
            repo.keep_app_ticket(s, platform=platform, app_id=app_id, ticket=ticket, now=now)


def _info(row: repo.Workspace, held: int) -> WorkspaceInfo:
    return WorkspaceInfo(
        team_id=row.team_id,
        enterprise_id=row.enterprise_id,
        org_install=row.org_install,
        name=row.name,
        state=row.state,
        reason=row.reason,
        installer_id=row.installer_id,
        installed_at=row.installed_at,
        changed_at=row.changed_at,
        held=held,
    )
