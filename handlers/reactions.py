"""One listener per reaction event, routing to the feature whose message was reacted to."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.services import Services
from handlers import actions, incident, meeting, requirement
from handlers.serving.replies import through_inbox
from handlers.workspace.directory import Directory

logger = logging.getLogger(__name__)


def register(app: App) -> None:
    """Wire the reaction events (Bolt runs only the first matching listener, so there is one of each)."""
    app.event("reaction_added")(through_inbox(on_reaction_added))
    app.event("reaction_removed")(through_inbox(on_reaction_removed))


def on_reaction_added(event: dict[str, Any], client: WebClient, services: Services, directory: Directory) -> None:
    """A reaction was added somewhere the bot can see."""
    offer_to_features(event, client, services, directory, removed=False)


def on_reaction_removed(event: dict[str, Any], client: WebClient, services: Services, directory: Directory) -> None:
    """A reaction was removed."""
    offer_to_features(event, client, services, directory, removed=True)


def offer_to_features(
    event: dict[str, Any], client: WebClient, services: Services, directory: Directory, *, removed: bool
) -> None:
    """Offer the reaction to each feature until one recognizes the message."""
    item = event.get("item") or {}
    if item.get("type") != "message" or not item.get("channel") or not item.get("ts"):
        return
    for handler in (incident.on_reaction, requirement.on_reaction, meeting.on_reaction, actions.on_reaction):
        if handler(event, client, services, directory, removed=removed):
            return
