"""Resolving and reviewing (复盘) an incident in Slack: the resolution, the review draft and meeting, the export."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.errors import NotFound, ValidationFailed
from bot.services import Services
from bot.services.incident_text import CODE_RE
from bot.services.incidents import review_meeting_draft, validate_resolution
from bot.text import t
from handlers.actions import send_action_dms
from handlers.blocks import incident as blocks
from handlers.blocks import meeting as meeting_blocks
from handlers.blocks.common import ModalMeta, pack_lines
from handlers.due.outbound import message_link
from handlers.incident_declaration import post_text, refresh
from handlers.serving.replies import field_errors
from handlers.workspace.directory import Directory
from handlers.workspace.visibility import listed_with_source, require_visible

logger = logging.getLogger(__name__)

EXPORT_PIECE = 3800  # characters of Markdown a reply carries
EXPORT_PIECES = 4  # a response_url takes 5 posts


def open_resolve_modal(
    ack: Ack, body: dict[str, Any], client: WebClient, services: Services, directory: Directory
) -> None:
    """Resolve: for the commander and responders, it asks for the summary."""
    ack()
    user = body["user"]["id"]
    info = services.incidents.get(int(body["actions"][0]["value"]))
    services.incidents.check_can_run(info, user)
    services.incidents.check_open(info)
    client.views_open(
        trigger_id=body["trigger_id"], view=blocks.resolve_modal(directory.lang_of(user), info, now=services.now())
    )


def save_resolution(
    ack: Ack, body: dict[str, Any], client: WebClient, services: Services, directory: Directory
) -> None:
    """Resolve; post the resolution and the review (复盘) draft; hand the follow-ups to their owners."""
    user = body["user"]["id"]
    lang, tz, now = directory.lang_of(user), directory.tz_of(user), services.now()
    try:
        draft = blocks.parse_resolve_form(
            body["view"]["state"]["values"],
            now=now,
            tz=tz,
            members=directory.members(),
            workday_end=services.settings.workday_end,
        )
        validate_resolution(draft)
    except ValidationFailed as exc:
        ack(response_action="errors", errors=field_errors(lang, exc))
        return
    ack()
    outcome = services.incidents.resolve(
        blocks.resolve_meta(body["view"].get("private_metadata")), user_id=user, draft=draft, now=now
    )
    info = outcome.incident
    home = info.channel_id or info.announce_channel_id
    home_lang = directory.channel_lang(home)
    post_text(
        client,
        home,
        blocks.resolution_text(home_lang, info, now=now),
        blocks=blocks.resolution_blocks(home_lang, info, now=now, reopen_days=services.incidents.reopen_days),
    )
    if info.announce_ts and info.announce_channel_id:
        post_text(
            client,
            info.announce_channel_id,
            blocks.resolution_text(directory.channel_lang(info.announce_channel_id), info, now=now),
            thread_ts=info.announce_ts,
        )
    refresh(client, services, directory, info.id)
    post_review(client, services, directory, info.id, channel=home)
    link = message_link(client, info.channel_id, info.summary_ts)
    send_action_dms(client, services, directory, outcome.follow_ups, source_link=link)


def post_review(client: WebClient, services: Services, directory: Directory, incident_id: int, *, channel: str) -> None:
    """Post the review draft as messages: summary, timeline, decisions and follow-ups, the meeting offer."""
    if not channel:
        return
    review = services.incidents.review(incident_id)
    lang = directory.channel_lang(channel)
    for body in blocks.review_messages(lang, review, tz=services.settings.tz, now=services.now()):
        client.chat_postMessage(
            channel=channel, text=blocks.review_text(lang, review.incident), blocks=body, unfurl_links=False
        )


def open_review_meeting(
    ack: Ack, body: dict[str, Any], client: WebClient, services: Services, directory: Directory
) -> None:
    """The meeting modal, prefilled for the review: the team, an hour two working days on, a standard agenda."""
    ack()
    user = body["user"]["id"]
    lang, tz, now = directory.lang_of(user), directory.tz_of(user), services.now()
    info = services.incidents.get(int(body["actions"][0]["value"]))
    later = services.settings.calendar.add_working_days(now, 2, tz)
    start = later.replace(hour=10, minute=0, second=0, microsecond=0)
    draft = review_meeting_draft(info, lang=lang, start=start)
    client.views_open(
        trigger_id=body["trigger_id"],
        view=meeting_blocks.meeting_modal(
            lang,
            meta=ModalMeta(draft.channel_id),
            user_id=user,
            now=now,
            tz=tz,
            draft=draft,
            workday_end=services.settings.workday_end,
            incident_id=info.id,  # the meeting it schedules reviews this incident
        ),
    )


def export_review(
    respond: Respond, services: Services, directory: Directory, *, user: str, team_id: str, channel: str, code: str
) -> None:
    """`/incident export INC-…`: the review as Markdown, only to the person who asked."""
    from bot.export import KINDS, collect, render

    lang = directory.lang_of(user)
    code = code.strip().upper()
    if not code:
        here = services.incidents.by_channel(channel)
        code = here.code if here else ""
    if not CODE_RE.match(code):
        respond(text=t(lang, "incident.reply.usage.export"), response_type="ephemeral")
        return
    info = services.incidents.by_code(team_id, code)  # NotFound reaches the error handler
    # an incident whose channel the person is not in stays unknown to them, like a missing one
    require_visible(directory, user, info.summary_channel, NotFound("error.incident_not_found", code=code))
    kind = KINDS["incidents"]
    records = [
        dataclasses.replace(
            r,
            follow_ups=tuple(
                a
                for a in r.follow_ups
                if listed_with_source(directory, user, a.channel_id, source_channel=r.incident.summary_channel)
            ),
        )
        for r in collect(services, kind, codes=[code])
        if r.incident.team_id == team_id
    ]
    markdown = render(kind, records, "md", lang=lang, zone=services.settings.zone, now=services.now())
    pieces = pack_lines(markdown.replace("```", "'''").splitlines(), EXPORT_PIECE)  # ``` inside defused
    for piece in pieces[:EXPORT_PIECES]:
        respond(text=f"```\n{piece}\n```", response_type="ephemeral")
    if len(pieces) > EXPORT_PIECES:
        respond(text=t(lang, "incident.reply.export_cut", code=code), response_type="ephemeral")
