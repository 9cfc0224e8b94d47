"""Uninstalls and revoked tokens: Bolt's own listeners remove the tokens; coordbot holds the workspace's due work.

Records stay (for export, or for a re-install, which resumes what was held). `app_uninstalled` and
`tokens_revoked` may come in either order; the second finds nothing left to do.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext

from bot.services import Services
from handlers.serving.replies import through_inbox
from handlers.workspace.tenants import Tenants

logger = logging.getLogger(__name__)
TENANTS_KEY = "tenants"


def _stop(context: BoltContext, services: Services, reason: str) -> None:
    org = bool(context.is_enterprise_install)
    services.workspaces.uninstalled(
        team_id=None if org else context.team_id,
        enterprise_id=context.enterprise_id,
        reason=reason,
        now=services.now(),
    )
    tenants: Tenants | None = context.get(TENANTS_KEY)
    if tenants is not None:
        tenants.forget()


def register(app: App) -> None:
    """Wire the two events (only where tokens come from installs: with one configured token, nothing to do)."""
    if app.installation_store is None:
        return
    remove_all = app.default_app_uninstalled_event_listener()
    remove_revoked = app.default_tokens_revoked_event_listener()

    def on_app_uninstalled(context: BoltContext, services: Services) -> None:
        """`app_uninstalled`: every token of the workspace (or organization) is gone."""
        remove_all(context=context)
        _stop(context, services, "app_uninstalled")

    def on_tokens_revoked(event: dict[str, Any], context: BoltContext, services: Services) -> None:
        """`tokens_revoked`: the bot's token (or only people's tokens, which coordbot does not use)."""
        remove_revoked(event=event, context=context)
        if (event.get("tokens") or {}).get("bot"):
            _stop(context, services, "tokens_revoked")

    app.event("app_uninstalled")(through_inbox(on_app_uninstalled))
    app.event("tokens_revoked")(through_inbox(on_tokens_revoked))
