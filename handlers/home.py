"""Slack listeners for the App Home."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.services import Services
from handlers.blocks import home as blocks
from handlers.directory import Directory
from handlers.replies import guarded

logger = logging.getLogger(__name__)


def register(app: App) -> None:
    """Wire this feature's listeners."""
    app.event("app_home_opened")(guarded(publish_home))
    app.action(blocks.Ids.LANGUAGE)(guarded(choose_language))


def publish_home(event: dict[str, Any], client: WebClient, services: Services, directory: Directory) -> None:
    """Show the viewer their App Home."""
    if event.get("tab", "home") != "home":
        return
    render(client, services, directory, event["user"])


def choose_language(ack: Ack, body: dict[str, Any], client: WebClient, services: Services,
                    directory: Directory) -> None:
    """The viewer picks a language (or goes back to their Slack locale); the home re-renders in it."""
    ack()
    user = body["user"]["id"]
    choice = ((body.get("actions") or [{}])[0].get("selected_option") or {}).get("value")
    services.prefs.set_user_lang(directory.team_id, user, None if choice in (None, "auto") else choice,
                                 now=services.now())
    render(client, services, directory, user)


def render(client: WebClient, services: Services, directory: Directory, user: str) -> None:
    """Build and publish one person's home."""
    view = blocks.home(directory.lang_of(user, fetch=True),
                       awaiting=services.requirements.awaiting(directory.team_id, user),
                       chosen_lang=services.prefs.user_lang(directory.team_id, user), tz=directory.tz_of(user))
    client.views_publish(user_id=user, view=view)
