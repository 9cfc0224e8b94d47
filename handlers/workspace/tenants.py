"""Every workspace's Web API client and member directory: one per install, tokens from the installation store.

With a single bot token (`SLACK_BOT_TOKEN`) there is one tenant, whatever workspace a request names: coordbot
as it always ran. With OAuth, each workspace (or each Enterprise Grid organization's install) has its own token,
looked up in slack_sdk's installation store when first needed and kept for `ttl` seconds, so that a request or a
due reminder costs no store lookup and no `auth.test`; a re-install's new token is used within `ttl`.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import InstallationStore

from bot.services.workspaces import WorkspaceService
from handlers.workspace.directory import Directory

logger = logging.getLogger(__name__)

TOKEN_TTL = 60.0
MakeClient = Callable[[str | None, str | None], WebClient]  # (token, team_id for org-wide tokens) → client
MakeDirectory = Callable[[WebClient, str], Directory]


@dataclass
class Tenant:
    """One workspace as coordbot acts in it: its team, the client holding its token, its members."""

    team_id: str
    enterprise_id: str | None
    client: WebClient
    directory: Directory
    fetched_at: float = field(default_factory=time.monotonic)


_current: contextvars.ContextVar[Tenant | None] = contextvars.ContextVar("coordbot_tenant", default=None)


class Tenants:
    """Finds the tenant for a workspace; `single` is the one tenant of single-workspace mode."""

    def __init__(
        self,
        *,
        single: Tenant | None = None,
        store: InstallationStore | None = None,
        workspaces: WorkspaceService | None = None,
        make_client: MakeClient | None = None,
        make_directory: MakeDirectory | None = None,
        default_tz: str = "UTC",
        ttl: float = TOKEN_TTL,
    ) -> None:
        if single is None and (store is None or workspaces is None or make_client is None or make_directory is None):
            raise ValueError("Tenants needs either a single tenant or a store, workspaces and factories")
        self.single = single
        self._store = store
        self._workspaces = workspaces
        self._make_client = make_client
        self._make_directory = make_directory
        self._default_tz = default_tz
        self._ttl = ttl
        self._tenants: dict[str, Tenant] = {}
        self._lock = threading.Lock()

    @property
    def multi(self) -> bool:
        """Whether tokens come from installs (OAuth) rather than one configured token."""
        return self.single is None

    def get(self, team_id: str, *, enterprise_id: str | None = None, org_install: bool | None = None) -> Tenant | None:
        """The tenant for a workspace, or None when coordbot is not installed there (no token)."""
        if self.single is not None:
            return self.single
        if not team_id:
            return None
        now = time.monotonic()
        with self._lock:
            cached = self._tenants.get(team_id)
        if cached is not None and now - cached.fetched_at < self._ttl:
            return cached
        assert self._store is not None and self._workspaces is not None
        if org_install is None:
            known = self._workspaces.get(team_id)
            if known is not None:
                enterprise_id, org_install = known.enterprise_id, known.org_install
        bot = self._store.find_bot(enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=org_install)
        if bot is None or not bot.bot_token:
            with self._lock:
                self._tenants.pop(team_id, None)
            return None
        if cached is not None and cached.client.token == bot.bot_token:
            cached.fetched_at = now
            return cached
        assert self._make_client is not None and self._make_directory is not None
        # an organization's token acts in many workspaces: calls that need to know which carry team_id
        acts_in = team_id if bot.is_enterprise_install and team_id != enterprise_id else None  # not the org itself
        client = self._make_client(bot.bot_token, acts_in)
        directory = self._make_directory(client, team_id)
        directory.scope = self._scope_of(team_id, enterprise_id)
        tenant = Tenant(team_id, enterprise_id, client, directory)
        with self._lock:
            self._tenants[team_id] = tenant
        return tenant

    def _scope_of(self, team_id: str, enterprise_id: str | None) -> Callable[[], tuple[str, ...] | None]:
        """Whose records a message in this workspace may show: its own; on Grid, any of its organization's (a
        channel shared between two of them shows one record to both)."""
        workspaces = self._workspaces
        if not enterprise_id or workspaces is None:
            return lambda: (team_id,)
        return lambda: tuple({team_id, *workspaces.org_scope(enterprise_id)})

    def forget(self, *team_ids: str) -> None:
        """Drop cached tokens (an uninstall, a revoked token): the next use asks the store again."""
        with self._lock:
            for team_id in team_ids or tuple(self._tenants):
                self._tenants.pop(team_id, None)

    def loaded(self) -> list[Tenant]:
        """The tenants in use now."""
        if self.single is not None:
            return [self.single]
        with self._lock:
            return list(self._tenants.values())

    # ------------------------------------------------------------------ whose work is this thread doing

    @contextmanager
    def acting_for(self, tenant: Tenant | None) -> Iterator[None]:
        """Within the block, `current()` is this tenant (a request's workspace, a due row's workspace)."""
        token = _current.set(tenant)
        try:
            yield
        finally:
            _current.reset(token)

    def current(self) -> Tenant | None:
        """The tenant this thread is acting for, or the single tenant."""
        return _current.get() or self.single

    def tz_of(self, user_id: str) -> str:
        """A person's timezone, from the directory of the workspace being acted for."""
        tenant = self.current()
        if tenant is not None:
            return tenant.directory.tz_of(user_id)
        for other in self.loaded():
            member = other.directory.get(user_id)
            if member is not None:
                return other.directory.tz_of(user_id)
        return self._default_tz
