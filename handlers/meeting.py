"""Slack listeners for meetings: /meeting, the modals, the card's buttons, minutes acknowledgments."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.errors import NotFound, ValidationFailed
from bot.services import Services, presses
from bot.services.meetings import MAX_PARTICIPANTS_ADVISED, MeetingInfo, validate, validate_minutes
from bot.text import t
from handlers.actions import send_action_dms
from handlers.blocks import meeting as blocks
from handlers.blocks.common import ModalMeta
from handlers.blocks.meeting import Ids
from handlers.commands import Invocation, Routes, command_listener
from handlers.due.outbound import RecordLocks, message_link
from handlers.membership import Unposted, post_record, refuse_channel, repostable, warm
from handlers.presses import press_on
from handlers.serving.replies import field_errors, in_view, refresh_modal, through_inbox
from handlers.workspace.directory import Directory
from handlers.workspace.visibility import require_visible

logger = logging.getLogger(__name__)

CODE_RE = re.compile(r"^MTG-\d{4}-\d{3,}$", re.IGNORECASE)
ECHOED_BLOCKS = re.compile(r"^(start|participants)$")
_card_locks = RecordLocks()


def register(app: App) -> None:
    """Wire this feature's listeners."""
    app.command("/meeting")(through_inbox(handle_command, opens_view=True))
    app.view_submission(Ids.MODAL)(through_inbox(save_meeting))
    app.view_submission(Ids.MINUTES_MODAL)(through_inbox(save_minutes))
    app.action({"action_id": Ids.INPUT, "block_id": ECHOED_BLOCKS}, matchers=[in_view(Ids.MODAL)])(
        through_inbox(echo_fields)
    )
    app.action(Ids.RECORD_MINUTES)(through_inbox(open_minutes_modal, opens_view=True))
    app.action(Ids.EDIT)(through_inbox(open_edit_modal, opens_view=True))
    app.action(Ids.ACK)(through_inbox(acknowledge_by_button))


# -- /meeting ------------------------------------------------------------------------------------------


def open_meeting_modal(cmd: Invocation) -> None:
    """`/meeting` alone: the scheduling modal, opened right after the acknowledgment."""
    cmd.ack()
    user, channel, directory, services = cmd.user, cmd.channel, cmd.directory, cmd.services
    view = blocks.meeting_modal(
        cmd.lang,
        meta=ModalMeta(channel),
        user_id=user,
        now=services.now(),
        tz=cmd.tz,
        workday_end=services.settings.workday_end,
    )
    cmd.client.views_open(trigger_id=cmd.trigger_id, view=view)
    directory.get(user, fetch=True)
    warm(directory, channel)


def show_help(cmd: Invocation) -> None:
    """`/meeting help`: the usage, as the acknowledgment."""
    cmd.ack(text=t(cmd.lang, "meeting.help"))


def record_minutes(cmd: Invocation) -> None:
    """`/meeting minutes MTG-…`: the minutes modal of that meeting, for its participants."""
    if len(cmd.args) != 1 or not CODE_RE.match(cmd.args[0]):
        explain(cmd)
        return
    cmd.ack()
    code, user, services = cmd.args[0], cmd.user, cmd.services
    info = services.meetings.by_code(cmd.team_id, code)
    # before the participants check, whose refusal would confirm that the meeting exists
    require_visible(cmd.directory, user, info.channel_id, NotFound("error.meeting_not_found", code=code))
    services.meetings.check_can_record(info, user)
    actions = services.actions.for_source("meeting", info.id)
    cmd.client.views_open(
        trigger_id=cmd.trigger_id,
        view=blocks.minutes_modal(cmd.lang, meeting=info, actions=actions, tz=cmd.tz),
    )


def show_meeting(cmd: Invocation) -> None:
    """`/meeting MTG-…`: that meeting's card without its buttons; any other text gets the usage."""
    if len(cmd.words) != 1 or not CODE_RE.match(cmd.words[0]):
        explain(cmd)
        return
    cmd.ack()
    code, lang, tz = cmd.words[0], cmd.lang, cmd.tz
    info = cmd.services.meetings.by_code(cmd.team_id, code)
    require_visible(cmd.directory, cmd.user, info.channel_id, NotFound("error.meeting_not_found", code=code))
    shown = blocks.card_blocks(lang, info, tz=tz)[:-1]  # without the buttons
    cmd.respond(blocks=shown, text=blocks.card_text(lang, info, tz=tz), response_type="ephemeral")


def explain(cmd: Invocation) -> None:
    """Text that is no sub-command: the usage, ephemerally."""
    cmd.ack()
    cmd.respond(text=t(cmd.lang, "meeting.help"), response_type="ephemeral")


COMMANDS: Routes = {
    "": open_meeting_modal,
    "help": show_help,
    "帮助": show_help,
    "?": show_help,
    "minutes": record_minutes,
    "纪要": record_minutes,
}
handle_command = command_listener(
    COMMANDS,
    fallback=show_meeting,
    doc="`/meeting` schedules; `minutes MTG-…` records minutes; `MTG-…` shows one; `help` explains.",
)


def echo_fields(ack: Ack, body: dict[str, Any], client: WebClient, services: Services, directory: Directory) -> None:
    """As the start is typed or participants picked, say under the field what the bot understood."""
    ack()
    view = body.get("view") or {}
    if view.get("callback_id") != Ids.MODAL:
        return
    user = body["user"]["id"]
    echoes = blocks.meeting_echoes(
        directory.lang_of(user),
        blocks.typed_values(view["state"]["values"]),
        now=services.now(),
        tz=directory.tz_of(user),
        workday_end=services.settings.workday_end,
    )
    refresh_modal(client, view, blocks.with_echoes(view, echoes))


def save_meeting(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient, services: Services, directory: Directory
) -> None:
    """Validate without network calls, acknowledge, then store, post the card and send what is due."""
    user = body["user"]["id"]
    lang, tz, now = directory.lang_of(user), directory.tz_of(user), services.now()
    meta = ModalMeta.load(body["view"].get("private_metadata"))
    try:
        draft = blocks.parse_meeting_form(
            body["view"]["state"]["values"],
            now=now,
            tz=tz,
            members=directory.members(),
            lang=lang,
            default_channel=meta.origin_channel,
            workday_end=services.settings.workday_end,
        )
        validate(draft)
        if not meta.record_id:
            refuse_channel(directory, draft.channel_id, field="channel")
    except ValidationFailed as exc:
        ack(response_action="errors", errors=field_errors(lang, exc))
        return
    ack()
    if meta.record_id:  # the record's ID, for an edit
        info = services.meetings.update(meta.record_id, user_id=user, draft=draft, now=now)
        refresh_card(client, services, directory, info.id)
    else:
        team = context.team_id or ""
        reviewed = blocks.reviewed_incident(body["view"].get("private_metadata"))
        info = services.meetings.create(team_id=team, creator_id=user, draft=draft, now=now, incident_id=reviewed)
        post_card(client, services, directory, info, author=user)
        refresh_incident(client, services, directory, info)  # its summary names the review meeting
    if len(info.attendees) > MAX_PARTICIPANTS_ADVISED:
        client.chat_postMessage(
            channel=user,
            text=t(lang, "meeting.reply.too_many", code=info.code, n=len(info.attendees), max=MAX_PARTICIPANTS_ADVISED),
        )
    services.deliver_due()  # what falls due at once (an agenda for a meeting that starts soon) goes now


def post_card(
    client: WebClient, services: Services, directory: Directory, info: MeetingInfo, *, author: str, tell: bool = True
) -> bool:
    """Post a new meeting card (joining its channel first) and remember it; False when the bot cannot post there
    (the author is told how to let it in, unless `tell` is False)."""
    lang, tz = directory.channel_lang(info.channel_id), services.settings.tz
    resp = post_record(
        client,
        directory,
        ref=f"meeting:{info.id}",
        code=info.code,
        channel=info.channel_id,
        author=author,
        tell=tell,
        text=blocks.card_text(lang, info, tz=tz),
        blocks=blocks.card_blocks(lang, info, tz=tz),
        unfurl_links=False,
    )
    if resp is None:
        return False
    services.meetings.attach_message(info.id, channel_id=str(resp["channel"]), message_ts=str(resp["ts"]))
    return True


def _unposted(services: Services, meeting_id: int) -> Unposted:
    info = services.meetings.get(meeting_id)
    return Unposted(info.code, info.channel_id, bool(info.message_ts), frozenset({info.host_id, info.created_by}))


def _post_again(client: WebClient, services: Services, directory: Directory, meeting_id: int, user: str) -> bool:
    return post_card(client, services, directory, services.meetings.get(meeting_id), author=user, tell=False)


repostable("meeting", _unposted, _post_again)


def refresh_card(client: WebClient, services: Services, directory: Directory, meeting_id: int) -> MeetingInfo:
    """Re-render the card from the database (one render at a time per meeting), and the summary of the incident
    it reviews, whose review state follows its minutes and their acknowledgments."""
    with _card_locks[meeting_id]:
        info = services.meetings.get(meeting_id)
        if info.message_ts:
            lang, tz = directory.channel_lang(info.channel_id), services.settings.tz
            client.chat_update(
                channel=info.channel_id,
                ts=info.message_ts,
                text=blocks.card_text(lang, info, tz=tz),
                blocks=blocks.card_blocks(lang, info, tz=tz),
            )
    refresh_incident(client, services, directory, info)
    return info


def refresh_incident(client: WebClient, services: Services, directory: Directory, info: MeetingInfo) -> None:
    """Bring the summary of the incident a review meeting is for up to date (nothing for other meetings)."""
    if info.incident_id is not None:
        from handlers import incident  # the incident feature builds on meetings, not the other way round

        incident.refresh(client, services, directory, info.incident_id)


def open_minutes_modal(
    ack: Ack, body: dict[str, Any], client: WebClient, services: Services, directory: Directory
) -> None:
    """Record minutes: for the host or a participant."""
    ack()
    user = body["user"]["id"]
    info = services.meetings.get(int(body["actions"][0]["value"]))
    services.meetings.check_can_record(info, user)
    view = blocks.minutes_modal(
        directory.lang_of(user),
        meeting=info,
        actions=services.actions.for_source("meeting", info.id),
        tz=directory.tz_of(user),
    )
    client.views_open(trigger_id=body["trigger_id"], view=view)


def open_edit_modal(
    ack: Ack, body: dict[str, Any], client: WebClient, services: Services, directory: Directory
) -> None:
    """Edit the meeting's details: for the host or whoever scheduled it."""
    ack()
    user = body["user"]["id"]
    info = services.meetings.get(int(body["actions"][0]["value"]))
    services.meetings.check_can_edit(info.host_id, info.created_by, user)
    view = blocks.meeting_modal(
        directory.lang_of(user),
        meta=ModalMeta(info.channel_id, info.id),
        user_id=user,
        now=services.now(),
        tz=directory.tz_of(user),
        draft=info.draft(),
        code=info.code,
        workday_end=services.settings.workday_end,
    )
    client.views_open(trigger_id=body["trigger_id"], view=view)


def save_minutes(ack: Ack, body: dict[str, Any], client: WebClient, services: Services, directory: Directory) -> None:
    """Store the minutes; post them in the card's thread; DM action owners and every participant."""
    user = body["user"]["id"]
    lang, tz, now = directory.lang_of(user), directory.tz_of(user), services.now()
    try:
        draft = blocks.parse_minutes_form(
            body["view"]["state"]["values"],
            now=now,
            tz=tz,
            members=directory.members(),
            workday_end=services.settings.workday_end,
        )
        validate_minutes(draft)
    except ValidationFailed as exc:
        ack(response_action="errors", errors=field_errors(lang, exc))
        return
    ack()
    outcome = services.meetings.record_minutes(
        blocks.minutes_meta(body["view"].get("private_metadata")), user_id=user, draft=draft, now=now
    )
    info = outcome.meeting
    post_minutes(client, services, directory, info)
    refresh_card(client, services, directory, info.id)
    card_link = message_link(client, info.channel_id, info.message_ts)
    send_action_dms(client, services, directory, outcome.new_actions, source_link=card_link)
    services.deliver_due()  # what falls due at once (an agenda for a meeting that starts soon) goes now
    from handlers import home  # the recorder's home lists minutes still owed

    home.render(client, services, directory, user)


def post_minutes(client: WebClient, services: Services, directory: Directory, info: MeetingInfo) -> None:
    """Post the minutes in the card's thread, or update them there when edited."""
    lang, tz = directory.channel_lang(info.channel_id), services.settings.tz
    actions = services.actions.for_source("meeting", info.id)
    text, body = blocks.minutes_text(lang, info), blocks.minutes_blocks(lang, info, actions, tz=tz)
    if info.minutes_ts:
        client.chat_update(channel=info.channel_id, ts=info.minutes_ts, text=text, blocks=body)
    elif info.message_ts:
        resp = client.chat_postMessage(channel=info.channel_id, thread_ts=info.message_ts, text=text, blocks=body)
        services.meetings.attach_minutes_message(info.id, minutes_ts=str(resp["ts"]))


def acknowledge_by_button(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, services: Services, directory: Directory
) -> None:
    """Acknowledge the minutes from their DM copy."""
    ack()
    if press_on(body, client, respond, services, directory, presses.MINUTES_ACK).changed:
        refresh_card(client, services, directory, int(body["actions"][0]["value"]))
