"""Slack listeners for action items (行动项): Accept and Done on the card, ✅ on it, and the DMs that hand items out."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.services import Services
from bot.services.actions import ActionInfo, ActionStatus
from bot.text import t
from handlers.blocks.actions import Ids, action_card, action_text, shown_source_link, status_label
from handlers.directory import Directory
from handlers.replies import guarded

logger = logging.getLogger(__name__)

_card_locks: defaultdict[int, threading.Lock] = defaultdict(threading.Lock)


def register(app: App) -> None:
    """Wire this feature's listeners."""
    app.action(Ids.ACCEPT)(guarded(accept_action))
    app.action(Ids.DONE)(guarded(complete_action))


def accept_action(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond,
                  services: Services, directory: Directory) -> None:
    """Accept: the owner takes the item on (in progress)."""
    ack()
    _move(body, client, respond, services, directory, ActionStatus.IN_PROGRESS)


def complete_action(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond,
                    services: Services, directory: Directory) -> None:
    """Done: the item is finished and its reminders stop."""
    ack()
    _move(body, client, respond, services, directory, ActionStatus.DONE)


def _move(body: dict[str, Any], client: WebClient, respond: Respond, services: Services, directory: Directory,
          status: ActionStatus) -> None:
    """Change the status (refusals reach the error handler), then re-render the card that was clicked."""
    user = body["user"]["id"]
    action_id = int(body["actions"][0]["value"])
    with _card_locks[action_id]:  # one status change and re-render at a time per item
        item, changed = services.actions.set_status(action_id, user_id=user, status=status, now=services.now())
        if not changed:
            lang = directory.lang_of(user)
            respond(text=t(lang, "action.reply.unchanged", code=item.code, status=status_label(lang, item.status)),
                    response_type="ephemeral", replace_original=False)
            return
        message = body.get("message") or {}
        container = body.get("container") or {}
        channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id") or "")
        ts = str(container.get("message_ts") or message.get("ts") or "")
        link = shown_source_link(message.get("blocks"))
        if channel and ts:
            refresh_card(client, services, directory, item, channel_id=channel, message_ts=ts, source_link=link)
        if item.message_ts and (item.channel_id, item.message_ts) != (channel, ts):
            refresh_card(client, services, directory, item, channel_id=item.channel_id, message_ts=item.message_ts,
                         source_link=link)


def on_reaction(event: dict[str, Any], client: WebClient, services: Services, directory: Directory, *,
                removed: bool) -> bool:
    """✅ on an item's card marks it done (removing it restores the status before); True when it is a card."""
    where = event.get("item") or {}
    item = services.actions.by_message(str(where.get("channel")), str(where.get("ts")))
    if item is None:
        return False
    user = event["user"]
    if event.get("reaction") not in services.settings.sign_reactions:
        return True
    if removed:
        if item.status != ActionStatus.DONE or user not in (item.owner_id, item.creator_id):
            return True
        status = _status_before_done(services.actions.get(item.id, with_history=True))
    else:
        status = ActionStatus.DONE
    with _card_locks[item.id]:
        item, changed = services.actions.set_status(item.id, user_id=user, status=status, now=services.now())
        if changed and item.message_ts:
            refresh_card(client, services, directory, item, channel_id=item.channel_id, message_ts=item.message_ts,
                         source_link=_source_link_of(client, item))
    return True


def _status_before_done(item: ActionInfo) -> ActionStatus:
    """The status an item had before it was marked done."""
    for entry in reversed(item.history):
        if entry.action == "status_changed" and entry.detail.get("to") == ActionStatus.DONE:
            before = ActionStatus(entry.detail.get("from") or ActionStatus.OPEN)
            return ActionStatus.IN_PROGRESS if before == ActionStatus.BLOCKED else before
    return ActionStatus.OPEN


def _source_link_of(client: WebClient, item: ActionInfo) -> str | None:
    """The source link the card message shows now (kept when the card is re-rendered)."""
    try:  # reactions.get returns the message itself and needs only reactions:read
        resp = client.reactions_get(channel=item.channel_id, timestamp=item.message_ts)
    except SlackApiError as exc:
        logger.info("could not read the card of %s: %s", item.code, exc.response.get("error"))
        return None
    return shown_source_link((resp.get("message") or {}).get("blocks"))


def _reader(services: Services, directory: Directory, item: ActionInfo, channel_id: str) -> tuple[str, str]:
    """Language and timezone of a card's readers: the owner in their DM, else the channel's."""
    if channel_id.startswith("D"):
        return directory.lang_of(item.owner_id, fetch=True), directory.tz_of(item.owner_id, fetch=True)
    return directory.channel_lang(channel_id), services.settings.tz


def refresh_card(client: WebClient, services: Services, directory: Directory, item: ActionInfo, *,
                 channel_id: str, message_ts: str, source_link: str | None) -> None:
    """Re-render a card message from the item's current state."""
    lang, tz = _reader(services, directory, item, channel_id)
    client.chat_update(channel=channel_id, ts=message_ts, text=action_text(lang, item, tz),
                       blocks=action_card(lang, item, tz=tz, source_link=source_link))


def send_action_dms(client: WebClient, services: Services, directory: Directory, items: Sequence[ActionInfo], *,
                    source_link: str | None) -> None:
    """DM each owner their item's card in their language and timezone, and remember the message."""
    for item in items:
        owner = item.owner_id
        lang, tz = directory.lang_of(owner, fetch=True), directory.tz_of(owner, fetch=True)
        try:
            resp = client.chat_postMessage(channel=owner, text=action_text(lang, item, tz),
                                           blocks=action_card(lang, item, tz=tz, source_link=source_link),
                                           unfurl_links=False)
        except SlackApiError as exc:
            # one owner who cannot be reached must not keep the others from getting theirs
            logger.warning("could not DM %s to %s: %s", item.code, owner, exc.response.get("error"))
            continue
        services.actions.attach_message(item.id, channel_id=str(resp["channel"]), message_ts=str(resp["ts"]))
