"""The operator's view across workspaces (for the CLI): what one workspace has stored and due, and forgetting it."""

from __future__ import annotations

import logging
from typing import Any

from storage import forget as forgetting
from storage import outbox_status as due
from storage.db import SessionScope

logger = logging.getLogger(__name__)


class WorkspaceAdmin:
    """Reads and deletes whole workspaces: `coordbot forget` and `coordbot status --team`."""

    def __init__(self, session_scope: SessionScope) -> None:
        self._scope = session_scope

    def stored(self, team_id: str) -> dict[str, int]:
        """Rows per table that belong to the workspace (what `forget` deletes)."""
        with self._scope() as s:
            return forgetting.stored(s, team_id)

    def forget(self, team_id: str) -> dict[str, int]:
        """Delete everything of the workspace for good, in one transaction; rows deleted per table."""
        with self._scope() as s:
            deleted = forgetting.forget(s, team_id)
        logger.warning("forgot workspace %s: %d rows deleted", team_id, sum(deleted.values()))
        return deleted

    def outbox_status(self, team_id: str | None = None) -> dict[str, Any]:
        """The outbox's counts by kind and state, recent failures and next due time, of one workspace or all
        (the shape of `Outbox.status()`)."""
        with self._scope() as s:
            return {
                "counts": due.counts(s, team_id=team_id),
                "failures": [
                    {"id": r.id, "kind": r.kind, "subject": r.subject, "error": r.last_error, "due_at": r.due_at}
                    for r in due.recent_failures(s, team_id=team_id)
                ],
                "next_due": due.next_due(s, team_id=team_id),
            }
