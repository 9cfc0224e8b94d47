"""Declaring an incident in Slack: its channel, pinned summary, announcement and DM to the commander, kept current."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import inbox
from bot.errors import ValidationFailed
from bot.services import Services
from bot.services.incident_text import channel_name
from bot.services.incidents import IncidentInfo, validate
from bot.text import t
from handlers.blocks import incident as blocks
from handlers.blocks.common import ModalMeta, escape, mention, truncate
from handlers.due.outbound import RecordLocks
from handlers.membership import Unposted, post_record, repostable
from handlers.serving.replies import field_errors
from handlers.workspace.directory import Directory

logger = logging.getLogger(__name__)

MAX_NAME_ATTEMPTS = 20
_locks = RecordLocks()


def declare_incident(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient, services: Services, directory: Directory
) -> None:
    """Validate without network calls and acknowledge; then the channel, the summary and the announcement."""
    user = body["user"]["id"]
    lang = directory.lang_of(user)
    draft = blocks.parse_incident_form(body["view"]["state"]["values"])
    try:
        validate(draft)
    except ValidationFailed as exc:
        ack(response_action="errors", errors=field_errors(lang, exc))
        return
    ack()
    meta = ModalMeta.load(body["view"].get("private_metadata"))
    team = context.team_id or ""
    info = services.incidents.declare(
        team_id=team, declarer_id=user, draft=draft, origin_channel=meta.origin_channel, now=services.now()
    )
    # a second run of this request (its worker died) picks up where the first left off
    again = inbox.rerun()
    if not (again and info.channel_id):
        info = open_channel(client, services, directory, info, declarer=user)
    if not (again and info.announce_ts):
        info = announce(client, services, directory, info, declarer=user)
    if not (again and info.summary_ts):
        info = post_summary(client, services, directory, info)
    if info.acknowledged_at is None:
        ask_commander(client, services, directory, info)


def open_channel(
    client: WebClient, services: Services, directory: Directory, info: IncidentInfo, *, declarer: str
) -> IncidentInfo:
    """Create `inc-<date>-<slug>` (with a suffix when taken) and invite the commander, responders and declarer."""
    created: dict[str, Any] | None = None
    error = ""
    for attempt in range(1, MAX_NAME_ATTEMPTS + 1):
        name = channel_name(info.code, info.title, info.declared_at, services.settings.tz, attempt)
        try:
            created = dict(client.conversations_create(name=name, is_private=False)["channel"])
            break
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "")
            if error != "name_taken":
                break
    if created is None:
        logger.warning("no channel for %s: %s", info.code, error)
        client.chat_postMessage(
            channel=declarer,
            text=t(directory.lang_of(declarer), "incident.reply.no_channel", code=info.code, error=error),
        )
        return info
    info = services.incidents.attach_channel(
        info.id, channel_id=str(created["id"]), channel_name=str(created.get("name") or "")
    )
    invite(client, directory, info.channel_id, [info.commander_id, *info.responders, declarer])
    return info


def invite(client: WebClient, directory: Directory, channel_id: str, users: list[str]) -> None:
    """Invite people to the incident channel; who is already there, or cannot be invited, is skipped."""
    wanted = [u for u in dict.fromkeys(users) if u and not ((m := directory.get(u)) and m.is_bot)]
    if not wanted:
        return
    try:
        client.conversations_invite(channel=channel_id, users=",".join(wanted))
    except SlackApiError as exc:
        logger.info("invite to %s: %s", channel_id, exc.response.get("error"))
        if len(wanted) > 1:  # one at a time, so that one who is there already or refused keeps no one else out
            for user in wanted:
                try:
                    client.conversations_invite(channel=channel_id, users=user)
                except SlackApiError as one:
                    logger.info("invite of %s to %s: %s", user, channel_id, one.response.get("error"))


def post_summary(client: WebClient, services: Services, directory: Directory, info: IncidentInfo) -> IncidentInfo:
    """Post the summary in the incident channel and pin it (without a channel: in the announcement's thread)."""
    channel = info.summary_channel
    if not channel:
        return info
    lang, tz, now = directory.channel_lang(channel), services.settings.tz, services.now()
    resp = post_record(
        client,
        directory,
        ref=f"incident-summary:{info.id}",
        code=info.code,
        channel=channel,
        author=info.commander_id,
        tell=False,
        thread_ts=None if info.channel_id else info.announce_ts,
        text=blocks.summary_text(lang, info),
        blocks=blocks.summary_blocks(lang, info, tz=tz, now=now),
        unfurl_links=False,
    )
    if resp is None:  # the channel went away under the incident: the commander has the summary in /incident
        return info
    ts = str(resp["ts"])
    if info.channel_id:
        try:
            client.pins_add(channel=channel, timestamp=ts)
        except SlackApiError as exc:
            logger.info("could not pin the summary of %s: %s", info.code, exc.response.get("error"))
    return services.incidents.attach_summary(info.id, ts=ts)


def announce(
    client: WebClient, services: Services, directory: Directory, info: IncidentInfo, *, declarer: str, tell: bool = True
) -> IncidentInfo:
    """Announce in COORDBOT_INCIDENT_CHANNEL, or where the incident was declared."""
    target = services.settings.incident_channel or info.declared_in
    if not target:
        return info
    lang, tz = directory.channel_lang(target), services.settings.tz
    resp = post_record(
        client,
        directory,
        ref=f"incident:{info.id}",
        code=info.code,
        channel=target,
        author=declarer,
        tell=tell,
        text=blocks.announcement_text(lang, info),
        blocks=blocks.announcement_blocks(lang, info, tz=tz, now=services.now()),
        unfurl_links=False,
    )
    if resp is None:
        return info
    return services.incidents.attach_announcement(info.id, channel_id=str(resp["channel"]), ts=str(resp["ts"]))


def _unposted(services: Services, incident_id: int) -> Unposted:
    info = services.incidents.get(incident_id)
    target = services.settings.incident_channel or info.declared_in
    return Unposted(info.code, target, bool(info.announce_ts), frozenset({info.commander_id, info.declared_by}))


def _post_again(client: WebClient, services: Services, directory: Directory, incident_id: int, user: str) -> bool:
    info = announce(client, services, directory, services.incidents.get(incident_id), declarer=user, tell=False)
    return bool(info.announce_ts)


repostable("incident", _unposted, _post_again)


def ask_commander(client: WebClient, services: Services, directory: Directory, info: IncidentInfo) -> None:
    """DM the commander an Acknowledge button (a declarer who leads has acknowledged by declaring)."""
    user = info.commander_id
    lang = directory.lang_of(user, fetch=True)
    window = services.incidents.ack_window(info.severity)
    intro = t(
        lang,
        "incident.dm.commander",
        user=mention(info.declared_by),
        code=info.code,
        title=escape(truncate(info.title, 200)),
        severity=blocks.severity_label(lang, info.severity),
        window=t(lang, "incident.dm.window", minutes=int(window.total_seconds() // 60)) if window else "",
        channel=blocks.channel_link(info),
    )
    client.chat_postMessage(channel=user, text=intro, blocks=blocks.ack_request_blocks(lang, info, intro))


def refresh(client: WebClient, services: Services, directory: Directory, incident_id: int) -> IncidentInfo:
    """Re-render the pinned summary and the announcement from the database (one render at a time)."""
    with _locks[incident_id]:
        info = services.incidents.get(incident_id)
        tz, now = services.settings.tz, services.now()
        if info.summary_channel and info.summary_ts:
            lang = directory.channel_lang(info.summary_channel)
            client.chat_update(
                channel=info.summary_channel,
                ts=info.summary_ts,
                text=blocks.summary_text(lang, info),
                blocks=blocks.summary_blocks(lang, info, tz=tz, now=now),
            )
        if info.announce_channel_id and info.announce_ts:
            lang = directory.channel_lang(info.announce_channel_id)
            client.chat_update(
                channel=info.announce_channel_id,
                ts=info.announce_ts,
                text=blocks.announcement_text(lang, info),
                blocks=blocks.announcement_blocks(lang, info, tz=tz, now=now),
            )
    return info


def post_text(client: WebClient, channel: str, text: str, **extra: Any) -> None:
    """Post a plain message (nothing without a channel), its links not unfurled."""
    if channel:
        client.chat_postMessage(channel=channel, text=text, unfurl_links=False, **extra)
