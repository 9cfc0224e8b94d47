"""Before a command starts: does Slack answer, and does it accept the tokens? One line naming the setting if not."""

from __future__ import annotations

import logging
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.config import Settings
from bot.preflight import Preflight, reason

REFUSED_TOKEN = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive", "not_allowed_token_type"}
)


def check_slack(settings: Settings) -> dict[str, str]:
    """Ask Slack who the bot is (auth.test); its workspace and bot user, or Preflight naming what to fix."""
    quiet = logging.getLogger("bot.preflight.slack")  # the one line below says it; slack_sdk's own lines would not
    quiet.propagate = False
    quiet.addHandler(logging.NullHandler())
    client = WebClient(token=settings.bot_token, base_url=settings.slack_api_url, timeout=10, logger=quiet)
    try:
        answer = client.auth_test()
    except SlackApiError as exc:
        error = str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
        if error in REFUSED_TOKEN:
            raise Preflight(
                f"SLACK_BOT_TOKEN was refused by Slack: {error}. Use the app's Bot User OAuth Token "
                "(xoxb-…, OAuth & Permissions), and reinstall the app if it was revoked"
            ) from exc
        raise Preflight(f"Slack answered auth.test with {error} ({settings.slack_api_url}, SLACK_API_URL)") from exc
    except (SlackRequestError, URLError, OSError, ValueError) as exc:
        raise Preflight(f"cannot reach Slack at {settings.slack_api_url} (SLACK_API_URL): {reason(exc)}") from exc
    if settings.socket_mode:
        try:  # the app-level token: Socket Mode's only way in
            client.apps_connections_open(app_token=settings.app_token)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "")
            raise Preflight(
                f"SLACK_APP_TOKEN was refused by Slack: {error}. Use an app-level token (xapp-…) "
                "with connections:write (Basic Information > App-Level Tokens), and turn Socket Mode "
                "on"
            ) from exc
        except (SlackRequestError, URLError, OSError, ValueError) as exc:
            raise Preflight(f"cannot reach Slack at {settings.slack_api_url} (SLACK_API_URL): {reason(exc)}") from exc
    return {
        "team": str(answer.get("team") or ""),
        "team_id": str(answer.get("team_id") or ""),
        "user": str(answer.get("user") or ""),
        "user_id": str(answer.get("user_id") or ""),
    }
