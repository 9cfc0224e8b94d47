"""One listener per reaction event, routing to the feature whose message was reacted to."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.services import Services
from bot.services.reactions import MINUTES, SHEET, react
from handlers import actions, incident, meeting, requirement
from handlers.inbound import reaction_changed
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
) -> bool:
    """📌 in an incident channel goes on its timeline; any other reaction is the core's to apply (✅ signs a sheet,
    acknowledges minutes, closes an action item); the record's message is shown again when it changed. True
    when the message was one coordbot knows."""
    reaction = reaction_changed(
        {**event, "type": "reaction_removed" if removed else "reaction_added"},
        workspace=directory.team_id,
        received_at=services.now(),
    )
    if reaction is None:
        return False
    if incident.on_reaction(event, client, services, directory, removed=removed):
        return True
    sign = reaction.emoji in services.settings.sign_reactions
    reacted = react(services, reaction, sign=sign, teams=directory.scope(), channel=reaction.channel)
    if reacted is None or not reacted.changed:
        return reacted is not None
    if reacted.kind == SHEET:
        note = ("thread.confirmed", None) if reacted.confirmed_now else None
        requirement.refresh_sheet(client, services, directory, reacted.record_id, note=note)
    elif reacted.kind == MINUTES:
        meeting.refresh_card(client, services, directory, reacted.record_id)
    else:
        actions.show_again(client, services, directory, reacted.record_id)
    return True
