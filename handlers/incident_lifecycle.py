"""An incident changing as it unfolds, in Slack: the commander's severity changes and edits, and reopening."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.errors import ValidationFailed
from bot.services import Services
from bot.services.incident_text import Severity
from bot.services.incidents import IncidentInfo, validate_edit
from bot.text import t
from handlers.blocks import incident as blocks
from handlers.blocks.common import escape, mention
from handlers.incident_declaration import post_text, refresh
from handlers.serving.replies import field_errors
from handlers.workspace.directory import Directory

logger = logging.getLogger(__name__)


def change_severity_by_select(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, services: Services, directory: Directory
) -> None:
    """A severity picked on the summary: for the commander."""
    ack()
    chosen = (body["actions"][0].get("selected_option") or {}).get("value") or ""
    incident_id, severity = blocks.severity_choice(str(chosen))
    if not incident_id:
        return
    change_severity(
        client, respond, services, directory, incident_id, user=body["user"]["id"], severity=Severity(severity)
    )


def change_severity(
    client: WebClient,
    respond: Respond,
    services: Services,
    directory: Directory,
    incident_id: int,
    *,
    user: str,
    severity: Severity,
) -> None:
    """Change the severity; say so in the channel and to the announcement's readers; update both in place."""
    incidents = services.incidents
    info, before = incidents.change_severity(incident_id, user_id=user, severity=severity, now=services.now())
    if before is None:
        lang = directory.lang_of(user)
        respond(
            text=t(
                lang,
                "incident.reply.severity_unchanged",
                code=info.code,
                severity=blocks.severity_label(lang, severity),
            ),
            response_type="ephemeral",
            replace_original=False,
        )
        refresh(client, services, directory, info.id)  # the select shows the severity it has
        return
    for channel, thread in _audiences(info):
        lang = directory.channel_lang(channel)
        text = t(
            lang,
            "incident.post.severity",
            user=mention(user),
            code=info.code,
            before=blocks.severity_label(lang, before),
            after=blocks.severity_label(lang, info.severity),
            cadence=_cadence(lang, services, info),
        )
        post_text(client, channel, text, thread_ts=thread, reply_broadcast=True if thread else None)
    refresh(client, services, directory, info.id)


def _audiences(info: IncidentInfo) -> list[tuple[str, str | None]]:
    """Where a change is told: the incident channel, and the announcement's thread (shown in its channel too)."""
    targets: list[tuple[str, str | None]] = [(info.channel_id, None)] if info.channel_id else []
    if info.announce_channel_id and info.announce_ts:
        targets.append((info.announce_channel_id, info.announce_ts))
    return targets


def _cadence(lang: str, services: Services, info: IncidentInfo) -> str:
    """What the incident's severity asks for now (the acknowledgment only while it is awaited)."""
    ack = services.incidents.ack_window(info.severity) if info.acknowledged_at is None else None
    update = services.incidents.update_cadence(info.severity)
    return blocks.cadence_text(
        lang, int(ack.total_seconds() // 60) if ack else None, int(update.total_seconds() // 60) if update else None
    )


def open_edit_modal(
    ack: Ack, body: dict[str, Any], client: WebClient, services: Services, directory: Directory
) -> None:
    """Edit on the summary: the commander corrects the title, what is known and the impact."""
    ack()
    user = body["user"]["id"]
    info = services.incidents.get(int(body["actions"][0]["value"]))
    services.incidents.check_commander(info, user)
    client.views_open(trigger_id=body["trigger_id"], view=blocks.edit_modal(directory.lang_of(user), info))


def save_edit(ack: Ack, body: dict[str, Any], client: WebClient, services: Services, directory: Directory) -> None:
    """Store the corrections (each on the timeline), say what changed, and update the summary and announcement."""
    user = body["user"]["id"]
    lang = directory.lang_of(user)
    draft = blocks.parse_edit_form(body["view"]["state"]["values"])
    try:
        validate_edit(draft)
    except ValidationFailed as exc:
        ack(response_action="errors", errors=field_errors(lang, exc))
        return
    ack()
    incident_id = blocks.resolve_meta(body["view"].get("private_metadata"))
    info, changed = services.incidents.edit(incident_id, user_id=user, draft=draft, now=services.now())
    if not changed:
        post_text(client, user, t(lang, "incident.reply.nothing_edited", code=info.code))
        return
    channel_lang = directory.channel_lang(info.summary_channel)
    fields = ", ".join(t(channel_lang, f"incident.label.{name}") for name in changed)
    post_text(
        client,
        info.channel_id,
        t(channel_lang, "incident.post.edited", user=mention(user), code=info.code, fields=escape(fields)),
    )
    refresh(client, services, directory, info.id)


def reopen_by_button(
    ack: Ack, body: dict[str, Any], client: WebClient, services: Services, directory: Directory
) -> None:
    """Reopen on the resolution message; the message then says who reopened it instead of offering it again."""
    ack()
    user = body["user"]["id"]
    info = reopen(client, services, directory, int(body["actions"][0]["value"]), user=user)
    container = body.get("container") or {}
    channel, ts = str(container.get("channel_id") or ""), str(container.get("message_ts") or "")
    if channel and ts:
        lang = directory.channel_lang(channel)
        said = str((body.get("message") or {}).get("text") or info.code)
        client.chat_update(
            channel=channel,
            ts=ts,
            text=said,
            blocks=blocks.reopened_blocks(lang, said, user_id=user, at=services.now(), tz=services.settings.tz),
        )


def reopen(client: WebClient, services: Services, directory: Directory, incident_id: int, *, user: str) -> IncidentInfo:
    """Reopen the incident (a clear refusal outside the window); tell the channel and the announcement's readers."""
    info = services.incidents.reopen(incident_id, user_id=user, now=services.now())
    for channel, thread in _audiences(info):
        lang = directory.channel_lang(channel)
        text = t(
            lang,
            "incident.post.reopened",
            user=mention(user),
            code=info.code,
            status=blocks.status_label(lang, info.status),
            n=info.reopened_count,
            cadence=_cadence(lang, services, info),
        )
        post_text(client, channel, text, thread_ts=thread, reply_broadcast=True if thread else None)
    return refresh(client, services, directory, info.id)
