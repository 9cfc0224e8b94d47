"""The operator's view across workspaces (for the CLI): what one workspace has stored and due, and forgetting it."""

from __future__ import annotations

import logging

from storage import forget as forgetting
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
