"""Slack listeners for the requirement sheet: /requirement, the modal, signatures, edits."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from bot.services import Services, presses
from bot.services.requirements import RequirementInfo, validate
from bot.text import t
from handlers.blocks import requirement as blocks
from handlers.blocks.common import escape, form_text, truncate
from handlers.blocks.requirement import Ids, ModalMeta
from handlers.commands import Invocation, Routes, command_listener, whole_line
from handlers.due.outbound import RecordLocks, link_or_channel, message_link
from handlers.membership import Unposted, post_record, refuse_channel, repostable, warm
from handlers.presses import press_on
from handlers.serving.replies import field_errors, in_view, refresh_modal, through_inbox
from handlers.workspace.directory import Directory
from handlers.workspace.visibility import require_visible

logger = logging.getLogger(__name__)

CODE_RE = re.compile(r"^RW-\d{4}-\d{3,}$", re.IGNORECASE)
ECHOED_BLOCKS = re.compile(r"^(due|confirm_by|open_questions)$")
_sheet_locks = RecordLocks()


def register(app: App) -> None:
    """Wire this feature's listeners."""
    app.command("/requirement")(through_inbox(handle_command, opens_view=True))
    app.view_submission(Ids.MODAL)(through_inbox(save_sheet))
    app.action({"action_id": Ids.INPUT, "block_id": ECHOED_BLOCKS}, matchers=[in_view(Ids.MODAL)])(
        through_inbox(echo_dates)
    )
    app.view_submission(Ids.CHANGES_MODAL)(through_inbox(save_change_request))
    app.action(Ids.CONFIRM)(through_inbox(sign_by_button))
    app.action(Ids.REQUEST_CHANGES)(through_inbox(open_change_request, opens_view=True))
    app.action(Ids.EDIT)(through_inbox(open_edit_modal, opens_view=True))
    app.action(Ids.ANSWERED)(through_inbox(mark_question_answered))


# -- /requirement ------------------------------------------------------------------------------


def open_sheet(cmd: Invocation) -> None:
    """`/requirement` alone: the sheet modal, opened right after the acknowledgment."""
    cmd.ack()
    user, channel, directory, services = cmd.user, cmd.channel, cmd.directory, cmd.services
    view = blocks.modal(
        cmd.lang,
        meta=ModalMeta(channel),
        user_id=user,
        now=services.now(),
        tz=cmd.tz,
        members=directory.members(),
        workday_end=services.settings.workday_end,
    )
    cmd.client.views_open(trigger_id=cmd.trigger_id, view=view)
    directory.get(user, fetch=True)  # so the submission knows this person's timezone without a call
    warm(directory, channel)  # ... and the channel it proposes


def show_help(cmd: Invocation) -> None:
    """`/requirement help`: the usage, as the acknowledgment."""
    cmd.ack(text=t(cmd.lang, "help.requirement"))


def list_sheets(cmd: Invocation) -> None:
    """`/requirement list`: the sheets awaiting the caller's signature and the channel's latest."""
    cmd.ack()
    user, channel, directory, reqs = cmd.user, cmd.channel, cmd.directory, cmd.services.requirements
    # each sheet is listed only to people who can see the channel it was posted in
    awaiting = [r for r in reqs.awaiting(cmd.team_id, user) if directory.can_see(user, r.channel_id)]
    latest = reqs.latest(cmd.team_id, channel) if directory.can_see(user, channel) else []
    listing = blocks.list_blocks(cmd.lang, awaiting=awaiting, latest=latest, tz=cmd.tz)
    cmd.respond(blocks=listing, text=t(cmd.lang, "list.awaiting_title"), response_type="ephemeral")


def show_record(cmd: Invocation) -> None:
    """`/requirement RW-2026-001`: that sheet with its history; any other text is an unknown sub-command."""
    cmd.ack()
    text, lang = cmd.text, cmd.lang
    if not CODE_RE.match(text):
        cmd.respond(text=t(lang, "error.unknown_command", text=text[:100]), response_type="ephemeral")
        return
    req = cmd.services.requirements.by_code(cmd.team_id, text, with_history=True)
    require_visible(cmd.directory, cmd.user, req.channel_id, NotFound("error.requirement_not_found", code=text))
    link = message_link(cmd.client, req.channel_id, req.message_ts)
    cmd.respond(
        blocks=blocks.record_blocks(lang, req, tz=cmd.tz, permalink=link), text=req.code, response_type="ephemeral"
    )


# the whole line is the word: `/requirement list` lists, `/requirement list all` is not a sub-command
COMMANDS: Routes = {
    "": open_sheet,
    "help": show_help,
    "帮助": show_help,
    "?": show_help,
    "list": list_sheets,
    "列表": list_sheets,
}
handle_command = command_listener(
    COMMANDS,
    fallback=show_record,
    parse=whole_line,
    doc="`/requirement` opens the sheet; `list`, `help` and an ID answer ephemerally.",
)


# -- the sheet modal -------------------------------------------------------------------------------


def save_sheet(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient, services: Services, directory: Directory
) -> None:
    """Validate without network calls, acknowledge, then store and post (or revise) the sheet."""
    user = body["user"]["id"]
    lang, tz, now = directory.lang_of(user), directory.tz_of(user), services.now()
    meta = ModalMeta.load(body["view"].get("private_metadata"))
    try:
        draft = blocks.parse_form(
            body["view"]["state"]["values"],
            now=now,
            tz=tz,
            members=directory.members(),
            workday_end=services.settings.workday_end,
            default_channel=meta.origin_channel,
            lang=lang,
        )
        validate(draft, now)
        if not meta.record_id:
            refuse_channel(directory, draft.channel_id, field="channel")
    except ValidationFailed as exc:
        ack(response_action="errors", errors=field_errors(lang, exc))
        return
    ack()
    reqs = services.requirements
    if meta.record_id:
        req = reqs.revise(meta.record_id, user_id=user, draft=draft, now=now, expected_revision=meta.revision)
        refresh_sheet(client, services, directory, req.id, note=("thread.revised", user))
        return
    req = reqs.create(
        team_id=context.team_id or "",
        author_id=user,
        draft=draft,
        now=now,
    )
    post_sheet(client, services, directory, req, author=user)


def echo_dates(ack: Ack, body: dict[str, Any], client: WebClient, services: Services, directory: Directory) -> None:
    """As a date is typed, show under the field what the bot understood, in the reader's own time."""
    ack()
    view = body.get("view") or {}
    if view.get("callback_id") != Ids.MODAL:
        return
    user = body["user"]["id"]
    echoes = blocks.echo_texts(
        directory.lang_of(user),
        blocks.typed_values(view["state"]["values"]),
        now=services.now(),
        tz=directory.tz_of(user),
        members=directory.members(),
        workday_end=services.settings.workday_end,
    )
    refresh_modal(client, view, blocks.with_echoes(view, echoes))


def post_sheet(
    client: WebClient, services: Services, directory: Directory, req: RequirementInfo, *, author: str, tell: bool = True
) -> bool:
    """Post a new sheet in its channel (joining it first) and remember the message; False when the bot cannot
    post there (the author is told how to let it in, unless `tell` is False)."""
    lang, tz = directory.channel_lang(req.channel_id), services.settings.tz
    resp = post_record(
        client,
        directory,
        ref=f"requirement:{req.id}",
        code=req.code,
        channel=req.channel_id,
        author=author,
        tell=tell,
        text=blocks.sheet_text(lang, req, tz=tz),
        blocks=blocks.sheet_blocks(lang, req, tz=tz),
        unfurl_links=False,
    )
    if resp is None:
        return False
    services.requirements.attach_message(req.id, channel_id=str(resp["channel"]), message_ts=str(resp["ts"]))
    return True


def _unposted(services: Services, requirement_id: int) -> Unposted:
    req = services.requirements.get(requirement_id)
    return Unposted(req.code, req.channel_id, bool(req.message_ts), frozenset(req.owners) | {req.author_id})


def _post_again(client: WebClient, services: Services, directory: Directory, requirement_id: int, user: str) -> bool:
    return post_sheet(client, services, directory, services.requirements.get(requirement_id), author=user, tell=False)


repostable("requirement", _unposted, _post_again)


def refresh_sheet(
    client: WebClient,
    services: Services,
    directory: Directory,
    requirement_id: int,
    note: tuple[str, str | None] | None = None,
    reason: str = "",
) -> RequirementInfo:
    """Re-render the sheet message from the database (one render at a time per record)."""
    tz = services.settings.tz
    with _sheet_locks[requirement_id]:
        req = services.requirements.get(requirement_id, with_history=True)
        lang = directory.channel_lang(req.channel_id)
        if req.message_ts:
            client.chat_update(
                channel=req.channel_id,
                ts=req.message_ts,
                text=blocks.sheet_text(lang, req, tz=tz),
                blocks=blocks.sheet_blocks(lang, req, tz=tz),
            )
    if note and req.message_ts:
        key, user = note
        client.chat_postMessage(
            channel=req.channel_id,
            thread_ts=req.message_ts,
            text=blocks.thread_note(lang, key, req, user=user, reason=reason),
        )
    return req


# -- signatures ----------------------------------------------------------------------------------------


def sign_by_button(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, services: Services, directory: Directory
) -> None:
    """Confirm: the clicking owner signs."""
    ack()
    done = press_on(body, client, respond, services, directory, presses.SIGN)
    if done.changed:
        note = ("thread.confirmed", None) if done.confirmed_now else None
        refresh_sheet(client, services, directory, done.record_id, note=note)


# -- changes, edits, questions -------------------------------------------------------------------------


def open_change_request(
    ack: Ack, body: dict[str, Any], client: WebClient, services: Services, directory: Directory
) -> None:
    """Request changes: an owner is asked for the reason in a modal."""
    ack()
    user = body["user"]["id"]
    req = services.requirements.get(int(body["actions"][0]["value"]))
    if user not in req.owners:
        raise NotAllowed("error.only_owners_request_changes", code=req.code)
    if req.status.value == "confirmed":
        raise Conflict("error.already_confirmed", code=req.code)
    view = blocks.changes_modal(directory.lang_of(user), requirement=req)
    client.views_open(trigger_id=body["trigger_id"], view=view)


def save_change_request(
    ack: Ack, body: dict[str, Any], client: WebClient, services: Services, directory: Directory
) -> None:
    """Store the change request, update the sheet and tell the requester owner."""
    user = body["user"]["id"]
    lang = directory.lang_of(user)
    reason = form_text(body["view"]["state"]["values"], Ids.REASON)
    if not reason.strip():
        ack(response_action="errors", errors={Ids.REASON: t(lang, "error.required")})
        return
    ack()
    requirement_id = int(json.loads(body["view"].get("private_metadata") or "{}").get("r") or 0)
    req = services.requirements.request_changes(requirement_id, user_id=user, reason=reason, now=services.now())
    req = refresh_sheet(client, services, directory, req.id, note=("thread.changes_requested", user), reason=reason)
    target = req.requester_owner
    if target != user:
        tlang = directory.lang_of(target, fetch=True)
        client.chat_postMessage(
            channel=target,
            text=t(
                tlang,
                "notify.changes_requested",
                user=f"<@{user}>",
                code=req.code,
                reason=escape(truncate(reason, 2000)),
                link=link_or_channel(client, req.channel_id, req.message_ts),
            ),
        )


def open_edit_modal(
    ack: Ack, body: dict[str, Any], client: WebClient, services: Services, directory: Directory
) -> None:
    """Edit reopens the modal prefilled, for the requester owner or the author."""
    ack()
    user = body["user"]["id"]
    req = services.requirements.get(int(body["actions"][0]["value"]))
    services.requirements.check_can_edit(req.requester_owner, req.author_id, user)
    view = blocks.modal(
        directory.lang_of(user),
        meta=ModalMeta(req.channel_id, req.id, req.revision),
        user_id=user,
        now=services.now(),
        tz=directory.tz_of(user),
        members=directory.members(),
        draft=req.draft(),
        code=req.code,
        workday_end=services.settings.workday_end,
    )
    client.views_open(trigger_id=body["trigger_id"], view=view)


def mark_question_answered(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, services: Services, directory: Directory
) -> None:
    """An open question is marked answered; its reminder stops."""
    ack()
    done = press_on(body, client, respond, services, directory, presses.ANSWERED)
    refresh_sheet(client, services, directory, done.record_id)
