"""Running an incident in Slack: acknowledging, status changes and updates, roles, and 📌 messages on the timeline."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.errors import NotAllowed
from bot.messenger import ButtonPressed
from bot.people import find_people
from bot.services import Services, presses
from bot.services.incident_text import ROLE_WORDS, plain_text
from bot.services.incidents import IncidentInfo
from bot.services.presses import Pressed
from bot.text import t
from handlers.blocks import incident as blocks
from handlers.blocks.common import escape, mention, section, truncate
from handlers.incident_declaration import invite, post_text, refresh
from handlers.presses import carry_out, press_on, pressed, said
from handlers.workspace.directory import Directory

logger = logging.getLogger(__name__)

PIN = "pushpin"


def acknowledge_by_button(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, services: Services, directory: Directory
) -> None:
    """The commander acknowledges (summary or DM); a backup called by the escalation takes it and joins."""
    ack()
    done = press_on(body, client, respond, services, directory, presses.INCIDENT_ACK)
    if not done.changed:
        return
    info = services.incidents.get(done.record_id)
    show(client, services, directory, done, info, news_first=False)
    if str((body.get("container") or {}).get("channel_id") or "").startswith("D"):  # pressed in a DM
        user = str(body["user"]["id"])
        text = t(
            directory.lang_of(user),
            "incident.dm.joined" if done.backup else "incident.dm.acked",
            code=info.code,
            channel=blocks.channel_link(info),
        )
        respond(text=text, blocks=[section(text)], replace_original=True)  # the button goes


def change_status_by_button(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, services: Services, directory: Directory
) -> None:
    """A status button on the summary: for the commander and the responders."""
    ack()
    change_status(client, respond, services, directory, pressed(body, services, directory, presses.INCIDENT_STATUS))


def change_status(
    client: WebClient, respond: Respond, services: Services, directory: Directory, event: ButtonPressed
) -> None:
    """Move the status (a button, or `/incident status` doing the same), post the change in the channel, and
    bring the summary and announcement up to date."""
    done = carry_out(event, client, respond, services, directory)
    if done.changed:
        show(client, services, directory, done, services.incidents.get(done.record_id), news_first=True)


def show(
    client: WebClient, services: Services, directory: Directory, done: Pressed, info: IncidentInfo, *, news_first: bool
) -> None:
    """What a press changed, in the incident's channel: who joined, the summary again, and the news line (before
    the summary when `news_first`)."""
    if done.joined and info.channel_id:
        invite(client, directory, info.channel_id, list(done.joined))
    news = done.news and said(done.news, client, lang=directory.channel_lang(info.channel_id), tz=services.settings.tz)
    if news and news_first:
        post_text(client, info.channel_id, news)
    refresh(client, services, directory, info.id)
    if news and not news_first:
        post_text(client, info.channel_id, news)


def post_update(
    client: WebClient, services: Services, directory: Directory, incident_id: int, *, user: str, text: str
) -> None:
    """Post a formatted update in the incident channel and in the announcement's thread."""
    now, tz = services.now(), services.settings.tz
    info = services.incidents.post_update(incident_id, user_id=user, text=text, now=now)
    targets: list[tuple[str, str | None]] = [(info.channel_id, None)] if info.channel_id else []
    if info.announce_channel_id and info.announce_ts:
        targets.append((info.announce_channel_id, info.announce_ts))  # stakeholders follow the thread
    for channel, thread in targets:
        lang = directory.channel_lang(channel)
        client.chat_postMessage(
            channel=channel,
            thread_ts=thread,
            text=blocks.update_text(lang, info, text),
            blocks=blocks.update_blocks(lang, info, text=text, user_id=user, at=now, tz=tz),
            unfurl_links=False,
        )


def _person(rest: str, directory: Directory) -> str:
    people = find_people(rest, directory.members())
    for ref in people:
        if ref.error:
            raise NotAllowed(ref.error, name=ref.written.lstrip("@"), names=", ".join(ref.candidates))
    ids = list(dict.fromkeys(p.user_id for p in people if p.user_id))
    if len(ids) != 1:
        raise NotAllowed("error.incident_need_person")
    return ids[0]


def change_roles(
    client: WebClient,
    respond: Respond,
    services: Services,
    directory: Directory,
    info: IncidentInfo,
    *,
    user: str,
    verb: str,
    rest: str,
) -> None:
    """`role comms @x`, `role responder @x` and `lead @x`: the commander's; both people hear by DM."""
    lang, now = directory.lang_of(user), services.now()
    services.incidents.check_commander(info, user)
    if verb == "role":
        word, _, rest = rest.partition(" ")
        role = ROLE_WORDS.get(word.lower())
        if role is None or not rest.strip():
            respond(text=t(lang, "incident.reply.usage.role"), response_type="ephemeral")
            return
    elif not rest.strip():
        respond(text=t(lang, "incident.reply.usage.lead"), response_type="ephemeral")
        return
    target = _person(rest, directory)
    channel_lang = directory.channel_lang(info.channel_id)
    link = blocks.channel_link(info)
    title = escape(truncate(info.title, 200))
    if verb == "lead":
        info = services.incidents.hand_over(info.id, user_id=user, target_id=target, now=now)
        invite(client, directory, info.channel_id, [target])
        post_text(
            client, info.channel_id, t(channel_lang, "incident.post.lead", user=mention(user), target=mention(target))
        )
        new_lang = directory.lang_of(target, fetch=True)
        post_text(
            client,
            target,
            t(
                new_lang,
                "incident.dm.lead_new",
                user=mention(user),
                code=info.code,
                title=title,
                severity=blocks.severity_label(new_lang, info.severity),
                channel=link,
            ),
        )
        post_text(client, user, t(lang, "incident.dm.lead_old", code=info.code, new=mention(target)))
        refresh(client, services, directory, info.id)
        return
    updated, previous = services.incidents.assign_role(info.id, user_id=user, role=str(role), target_id=target, now=now)
    invite(client, directory, info.channel_id, [target])
    post_text(
        client,
        info.channel_id,
        t(channel_lang, f"incident.post.role_{role}", user=mention(user), target=mention(target)),
    )
    target_lang = directory.lang_of(target, fetch=True)
    post_text(
        client,
        target,
        t(target_lang, f"incident.dm.role_{role}", user=mention(user), code=info.code, title=title, channel=link),
    )
    if previous and previous != target:
        post_text(
            client,
            previous,
            t(
                directory.lang_of(previous, fetch=True),
                "incident.dm.role_removed",
                user=mention(user),
                new=mention(target),
                code=info.code,
            ),
        )
    refresh(client, services, directory, updated.id)


def on_reaction(
    event: dict[str, Any], client: WebClient, services: Services, directory: Directory, *, removed: bool
) -> bool:
    """📌 on a message in an incident channel puts it on the timeline (its last 📌 removed takes it off)."""
    item = event.get("item") or {}
    if event.get("reaction") != PIN:
        return False
    channel, ts = str(item.get("channel")), str(item.get("ts"))
    info = services.incidents.by_channel(channel)
    if info is None:
        return False
    message = fetch_message(client, channel, ts)
    if removed:
        still = any(r.get("name") == PIN for r in (message or {}).get("reactions") or [])
        if not still:
            services.incidents.unpin_message(info.id, message_ts=ts)
        return True
    text = plain_text(str((message or {}).get("text") or ""))
    author = str((message or {}).get("user") or event.get("item_user") or "")
    try:
        at: datetime | None = datetime.fromtimestamp(float(ts), UTC)
    except ValueError:
        at = None
    added = services.incidents.pin_message(
        info.id, message_ts=ts, author_id=author, pinned_by=str(event["user"]), text=text, at=at, now=services.now()
    )
    if added is not None:
        try:
            client.chat_postEphemeral(
                channel=channel,
                user=str(event["user"]),
                text=t(directory.lang_of(str(event["user"])), "incident.reply.pinned", code=info.code),
            )
        except SlackApiError as exc:
            logger.info("could not confirm the 📌 on %s: %s", info.code, exc.response.get("error"))
    return True


def fetch_message(client: WebClient, channel: str, ts: str) -> dict[str, Any] | None:
    """A message's current text and reactions: conversations.history, or conversations.replies for a thread reply."""
    try:
        resp = client.conversations_history(channel=channel, latest=ts, oldest=ts, inclusive=True, limit=1)
        found = next((m for m in resp.get("messages") or [] if m.get("ts") == ts), None)
        if found is None:
            resp = client.conversations_replies(channel=channel, ts=ts, latest=ts, oldest=ts, inclusive=True)
            found = next((m for m in resp.get("messages") or [] if m.get("ts") == ts), None)
    except SlackApiError as exc:
        logger.info("could not read message %s in %s: %s", ts, channel, exc.response.get("error"))
        return None
    return dict(found) if found else None
