"""The Slack app manifest, in Socket Mode or with request URLs for HTTP mode."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import yaml

COMMANDS = [
    {
        "command": "/requirement",
        "description": "Requirement sheet: new, list, or show RW-2026-001",
        "usage_hint": "[list | help | RW-2026-001]",
        "should_escape": False,
    },
    {
        "command": "/meeting",
        "description": "Schedule a meeting, record its minutes, or show one",
        "usage_hint": "[minutes MTG-2026-001 | MTG-2026-001 | help]",
        "should_escape": False,
    },
    {
        "command": "/action",
        "description": "Create an action item: /action @owner what to do by when",
        "usage_hint": "@owner what to do by when",
        "should_escape": True,
    },
    {
        "command": "/incident",
        "description": "Declare an incident; in its channel: update, status, roles, decisions, resolve",
        "usage_hint": "[title | update <text> | status identified | role comms @name | lead @name | resolve | help]",
        "should_escape": True,
    },
    {
        "command": "/digest",
        "description": "Weekly channel digest: subscribe, unsubscribe, post now; the channel's language",
        "usage_hint": "[subscribe fri 17:00 | unsubscribe | now | lang zh | help]",
        "should_escape": False,
    },
]
SHORTCUTS = [
    {
        "name": "Create action item",
        "type": "message",
        "callback_id": "create_action_item",
        "description": "Turn this message into an action item with an owner and a due date",
    },
]
BOT_EVENTS = [
    "app_home_opened",
    "app_uninstalled",  # with installs (OAuth): hold the workspace's due work (handlers/install.py)
    "channel_left",
    "group_left",
    "member_joined_channel",
    "member_left_channel",
    "reaction_added",
    "reaction_removed",
    "tokens_revoked",  # the same, when only the bot's token is revoked
]
# Exactly what the bot's Web API calls need:
#   channels:history   conversations.history / conversations.replies: the text of a 📌-marked message in an
#                      incident channel (incident channels are public channels the bot created)
#   channels:join      conversations.join: a public channel where a record is posted (Slack sends reactions
#                      only from channels the bot is in)
#   channels:manage    conversations.create and conversations.invite: an incident's own channel and its team
#   channels:read      conversations.info / conversations.members on public channels: whether a channel is
#                      public, whether the bot is in it, and its members when a guest asks (a record is shown
#                      only to who can see it); member_joined_channel / member_left_channel / channel_left
#   chat:write         chat.postMessage, chat.update, chat.postEphemeral, chat.getPermalink (and DMs by user ID)
#   chat:write.public  posting a sheet in a public channel the bot has not joined
#   commands           slash commands
#   files:write        files.getUploadURLExternal / files.completeUploadExternal: the weekly digest's charts,
#                      uploaded in its thread
#   groups:read        conversations.info / conversations.members on private channels: who is in them, so a
#                      record posted there is shown only to its members; group_left, member_*_channel there
#   im:read            conversations.info on a direct message: whose it is (an action item handed over by DM
#                      is shown only to that person)
#   pins:write         pins.add: an incident's summary pinned in its channel
#   reactions:read     reaction_added / reaction_removed events
#   users:read         users.list / users.info (names, timezones, locales; guests see only their channels)
BOT_SCOPES = [
    "channels:history",
    "channels:join",
    "channels:manage",
    "channels:read",
    "chat:write",
    "chat:write.public",
    "commands",
    "files:write",
    "groups:read",
    "im:read",
    "pins:write",
    "reactions:read",
    "users:read",
]


def url_problem(url: str) -> str | None:
    """Why a base URL cannot receive Slack's requests, or None: Slack calls only https:// URLs (http:// is
    accepted for localhost, for a tunnel's local end or a development setup)."""
    parsed = urlsplit(url.strip())
    if parsed.scheme == "https" and parsed.hostname:
        return None
    if parsed.scheme == "http" and parsed.hostname in ("localhost", "127.0.0.1", "::1"):
        return None
    if not parsed.scheme or not parsed.hostname:
        return f"{url!r} is not a URL: give the public base URL, e.g. https://coordbot.example.com"
    return f"{url!r}: Slack sends requests only to https:// URLs (http:// only for localhost)"


OAUTH_REDIRECT_PATH = "/slack/oauth_redirect"  # Bolt's default: where Slack sends an installer back
INSTALL_PATH = "/slack/install"  # Bolt's default: the "Add to Slack" page
# The manifest has no field for public distribution (the reference lists none; `is_hosted` is for apps Slack
# hosts itself): it is one switch on the app's settings page, done once.
DISTRIBUTION_STEP = (
    "One step the manifest cannot do: on the app's settings page (https://api.slack.com/apps), open "
    "Manage Distribution and click Activate Public Distribution. Then workspaces install coordbot from {install}."
)


def distribute_problem(url: str | None, *, socket_mode: bool) -> str | None:
    """Why the manifest cannot be made for installing in many workspaces, or None."""
    if url is None or socket_mode:
        why = "SLACK_APP_TOKEN is set (Socket Mode)" if socket_mode else "it needs --url"
        return (
            f"--distribute cannot be used: {why}. Slack does not distribute Socket Mode apps publicly; an app "
            "installed in many workspaces receives Slack's requests over HTTPS: give its public base URL with "
            "--url https://… and unset SLACK_APP_TOKEN."
        )
    return None


def manifest(url: str | None = None, *, distribute: bool = False) -> dict[str, Any]:
    """The manifest as a dict; with `url`, HTTP mode with request URLs under it.

    `distribute` (needs `url`) readies the app for installing in many workspaces with OAuth: the redirect
    URL Slack sends installers back to, and installs for a whole Enterprise Grid organization.
    """
    if distribute and not url:
        raise ValueError("distribute needs the public base URL (Socket Mode apps are not distributed)")
    request_url = url.rstrip("/") + "/slack/events" if url else None
    commands = [dict(c, **({"url": request_url} if request_url else {})) for c in COMMANDS]
    settings: dict[str, Any] = {
        "event_subscriptions": {"bot_events": list(BOT_EVENTS)},
        "interactivity": {"is_enabled": True},
        "org_deploy_enabled": distribute,  # an organization's admins may install it once for every workspace
        "socket_mode_enabled": request_url is None,
        "token_rotation_enabled": False,
    }
    if request_url:
        settings["event_subscriptions"]["request_url"] = request_url
        settings["interactivity"]["request_url"] = request_url
    oauth: dict[str, Any] = {"scopes": {"bot": list(BOT_SCOPES)}}
    if distribute and url:
        oauth = {"redirect_urls": [url.rstrip("/") + OAUTH_REDIRECT_PATH], **oauth}
    return {
        "display_information": {
            "name": "coordbot",
            "description": "The coordination handbook, inside Slack: sign-offs, meetings, follow-ups.",
            "background_color": "#2c3e50",
            "long_description": (
                "coordbot turns a company's coordination handbook into working chat features. "
                "/requirement opens the requirement confirmation sheet (需求沟通与确认表); the bot posts it with "
                "an ID such as RW-2026-001, both owners sign with a reaction or a button, the record locks and "
                "keeps its history, and owners are reminded by direct message before the deadline."
            ),
        },
        "features": {
            "bot_user": {"display_name": "coordbot", "always_online": True},
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": True,
            },
            "slash_commands": commands,
            "shortcuts": [dict(s) for s in SHORTCUTS],
        },
        "oauth_config": oauth,
        "settings": settings,
    }


def render(url: str | None = None, *, distribute: bool = False) -> str:
    """The manifest as YAML."""
    return yaml.safe_dump(manifest(url, distribute=distribute), sort_keys=False, allow_unicode=True)


def distribution_step(url: str) -> str:
    """What to do on the app's settings page after creating it from a `distribute` manifest."""
    return DISTRIBUTION_STEP.format(install=url.rstrip("/") + INSTALL_PATH)
