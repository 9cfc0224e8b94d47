"""Due work of an install: the installer's welcome message, in their language."""

from __future__ import annotations

from datetime import datetime

from slack_sdk import WebClient

from bot.outbox import DueWork, Outcome
from bot.services import Services
from bot.services.workspaces import KIND_WELCOME
from handlers.blocks.welcome import welcome_dm
from handlers.due.outbound import Deliverer
from handlers.serving.oauth import home_url
from handlers.workspace.directory import Directory


def deliverers(client: WebClient, services: Services, directory: Directory) -> dict[str, Deliverer]:
    """The renderer of the welcome message."""

    def welcome(item: DueWork, now: datetime) -> Outcome:
        user = str(item.payload["user_id"])
        lang = directory.lang_of(user, fetch=True)
        team = None if item.team_id.startswith("E") else item.team_id
        text, blocks = welcome_dm(
            lang,
            installer=user,
            team_name=str(item.payload.get("team_name") or ""),
            home_url=home_url(str(item.payload.get("app_id") or ""), team),
        )
        client.chat_postMessage(channel=user, text=text, blocks=blocks)
        return Outcome.SENT

    return {KIND_WELCOME: welcome}
