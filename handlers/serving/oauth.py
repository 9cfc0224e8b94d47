"""Add to Slack: Bolt's OAuth flow on slack_sdk's SQLAlchemy stores, with coordbot's own pages and first run.

`GET /slack/install` shows the install page (English and Chinese) and sets the state cookie;
`GET /slack/oauth_redirect` checks the state (one use, `STATE_SECONDS` old at most, same browser), exchanges the
code (`oauth.v2.access`, at SLACK_API_URL like every call), stores the installation, marks the workspace installed
(resuming due work an uninstall held) and schedules the installer's welcome message, then says what to do next.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.oauth import OAuthFlow
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.manifest import BOT_SCOPES

if TYPE_CHECKING:  # slack_sdk's SQLAlchemy stores load SQLAlchemy's asyncio part: only where installs are used
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from bot.services.workspaces import WorkspaceService
from handlers import install_pages

logger = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_SECONDS = 600  # an install started more than ten minutes ago must start again
HTML: dict[str, str | Sequence[str]] = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}


def installation_store(engine: Engine, client_id: str) -> SQLAlchemyInstallationStore:
    """slack_sdk's installation store on coordbot's database (its tables come from coordbot's migrations)."""
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

    return SQLAlchemyInstallationStore(client_id=client_id, engine=engine, logger=logger)


def state_store(engine: Engine) -> SQLAlchemyOAuthStateStore:
    """slack_sdk's OAuth state store on coordbot's database: each state usable once, for STATE_SECONDS."""
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    return SQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=engine, logger=logger)


def home_url(app_id: str, team_id: str | None) -> str:
    """A link that opens coordbot's App Home in Slack."""
    return f"https://slack.com/app_redirect?app={app_id}" + (f"&team={team_id}" if team_id else "")


class CoordbotOAuthFlow(OAuthFlow):
    """Bolt's flow, with coordbot's install page (in the browser's language first)."""

    def build_install_page_html(self, url: str, request: BoltRequest) -> str:
        """The install page with its "Add to Slack" button."""
        return install_pages.install_page(url, _accept_language(request))


def oauth_flow(
    *,
    client: WebClient,
    client_id: str,
    client_secret: str,
    store: SQLAlchemyInstallationStore,
    states: SQLAlchemyOAuthStateStore,
    workspaces: WorkspaceService,
    now: Callable[[], datetime],
    on_installed: Callable[[str], None],
) -> CoordbotOAuthFlow:
    """The OAuth flow; `on_installed(team_key)` runs once an install is stored (drop cached tokens, send)."""

    def success(args: SuccessArgs) -> BoltResponse:
        inst = args.installation
        org = bool(inst.is_enterprise_install)
        team_key = (inst.enterprise_id if org else inst.team_id) or ""
        name = (inst.enterprise_name if org else inst.team_name) or team_key
        workspaces.installed(
            team_id=team_key,
            enterprise_id=inst.enterprise_id,
            org_install=org,
            name=name,
            installer_id=inst.user_id,
            now=now(),
            app_id=inst.app_id or "",
        )
        logger.info("installed in %s (%s) by %s", team_key, "organization" if org else "workspace", inst.user_id)
        threading.Thread(target=on_installed, args=(team_key,), name="installed", daemon=True).start()
        page = install_pages.success_page(
            team_name=name,
            app_home_url=home_url(inst.app_id or "", None if org else inst.team_id),
            accept_language=_accept_language(args.request),
        )
        headers = {**HTML, "Set-Cookie": args.settings.state_utils.build_set_cookie_for_deletion()}
        return BoltResponse(status=200, body=page, headers=headers)

    def failure(args: FailureArgs) -> BoltResponse:
        logger.info("an install failed: %s", args.reason)
        page = install_pages.failure_page(
            reason=args.reason, install_url=INSTALL_PATH, accept_language=_accept_language(args.request)
        )
        headers = {**HTML, "Set-Cookie": args.settings.state_utils.build_set_cookie_for_deletion()}
        return BoltResponse(status=args.suggested_status_code, body=page, headers=headers)

    settings = OAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(BOT_SCOPES),
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        installation_store=store,
        installation_store_bot_only=True,
        state_store=states,
        state_expiration_seconds=STATE_SECONDS,
        callback_options=CallbackOptions(success=success, failure=failure),
        logger=logger,
    )
    return CoordbotOAuthFlow(client=client, logger=logger, settings=settings)


def _accept_language(request: BoltRequest) -> str | None:
    values = request.headers.get("accept-language") or []
    return values[0] if values else None
