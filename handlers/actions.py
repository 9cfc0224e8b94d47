"""Slack listeners for action items (行动项): Accept and Done on the card, ✅ on it, and the DMs that hand items out."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.errors import ValidationFailed
from bot.services import Services, presses
from bot.services.actions import (
    ActionInfo,
    ActionStatus,
    named_source,
    source_message,
)
from bot.services.incident_text import plain_text
from bot.services.quick_actions import add_quick
from bot.text import t, text_lang
from handlers.blocks.actions import (
    ActionPrefill,
    Ids,
    action_card,
    action_modal,
    action_text,
    blocked_modal,
    due_echo,
    parse_action_form,
    shown_source_link,
    with_due_echo,
    wont_do_modal,
)
from handlers.blocks.common import ModalMeta, escape, form_text, truncate
from handlers.commands import Invocation, Routes, command_listener, whole_line
from handlers.due.outbound import RecordLocks, message_link
from handlers.membership import Unposted, post_record, refuse_channel, repostable, warm
from handlers.presses import carry_out, pressed
from handlers.serving.replies import field_errors, in_view, refresh_modal, through_inbox
from handlers.workspace.directory import Directory
from handlers.workspace.visibility import require_visible

logger = logging.getLogger(__name__)

_card_locks = RecordLocks()


def register(app: App) -> None:
    """Wire this feature's listeners."""
    app.action(Ids.ACCEPT)(through_inbox(accept_action))
    app.action(Ids.IN_PROGRESS)(through_inbox(resume_action))
    app.action(Ids.DONE)(through_inbox(complete_action))
    app.action(Ids.BLOCKED)(through_inbox(open_blocked_modal, opens_view=True))
    app.view_submission(Ids.BLOCKED_MODAL)(through_inbox(save_blocked_reason))
    app.action(Ids.WONT_DO)(through_inbox(open_wont_do_modal, opens_view=True))
    app.view_submission(Ids.WONT_DO_MODAL)(through_inbox(save_wont_do))
    app.action(Ids.REOPEN)(through_inbox(reopen_action))
    app.command("/action")(through_inbox(handle_command, opens_view=True))
    app.shortcut(Ids.SHORTCUT)(through_inbox(open_from_message, opens_view=True))
    app.view_submission(Ids.MODAL)(through_inbox(save_action))
    app.action({"action_id": Ids.INPUT, "block_id": "due"}, matchers=[in_view(Ids.MODAL)])(through_inbox(echo_due))


def accept_action(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, services: Services, directory: Directory
) -> None:
    """Accept: the owner takes the item on (in progress)."""
    ack()
    _set_status_and_refresh_cards(body, client, respond, services, directory, presses.START)


def resume_action(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, services: Services, directory: Directory
) -> None:
    """In progress: work goes on (after being blocked)."""
    ack()
    _set_status_and_refresh_cards(body, client, respond, services, directory, presses.START)


def complete_action(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, services: Services, directory: Directory
) -> None:
    """Done: the item is finished and its reminders stop."""
    ack()
    _set_status_and_refresh_cards(body, client, respond, services, directory, presses.DONE)


def open_blocked_modal(
    ack: Ack, body: dict[str, Any], client: WebClient, services: Services, directory: Directory
) -> None:
    """Blocked: ask the owner (or creator) what is in the way."""
    ack()
    user = body["user"]["id"]
    item = services.actions.get(int(body["actions"][0]["value"]))
    services.actions.check_can_update(item.owner_id, item.creator_id, user)
    client.views_open(trigger_id=body["trigger_id"], view=blocked_modal(directory.lang_of(user), item))


def save_blocked_reason(
    ack: Ack, body: dict[str, Any], client: WebClient, services: Services, directory: Directory
) -> None:
    """Store the reason, re-render the item's card, and tell the creator."""
    _close_with_reason(ack, body, client, services, directory, ActionStatus.BLOCKED, "action.blocked_notice")


def open_wont_do_modal(
    ack: Ack, body: dict[str, Any], client: WebClient, services: Services, directory: Directory
) -> None:
    """Won't do: ask the owner (or creator) why the item is decided against."""
    ack()
    user = body["user"]["id"]
    item = services.actions.get(int(body["actions"][0]["value"]))
    services.actions.check_can_update(item.owner_id, item.creator_id, user)
    client.views_open(trigger_id=body["trigger_id"], view=wont_do_modal(directory.lang_of(user), item))


def save_wont_do(ack: Ack, body: dict[str, Any], client: WebClient, services: Services, directory: Directory) -> None:
    """Close the item as won't do with its reason (its reminders stop), re-render its card, tell the creator."""
    _close_with_reason(ack, body, client, services, directory, ActionStatus.WONT_DO, "action.wont_do_notice")


def _close_with_reason(
    ack: Ack,
    body: dict[str, Any],
    client: WebClient,
    services: Services,
    directory: Directory,
    status: ActionStatus,
    notice: str,
) -> None:
    """A status that needs a reason (blocked, won't do): the reason required, the card re-rendered, the creator
    told in their language."""
    user = body["user"]["id"]
    reason = form_text(body["view"]["state"]["values"], Ids.REASON).strip()
    if not reason:
        ack(response_action="errors", errors={Ids.REASON: t(directory.lang_of(user), "error.required")})
        return
    ack()
    action_id = int(body["view"].get("private_metadata") or 0)
    with _card_locks[action_id]:
        item, changed = services.actions.set_status(
            action_id, user_id=user, status=status, now=services.now(), reason=reason
        )
        if changed and item.message_ts:
            refresh_card(
                client,
                services,
                directory,
                item,
                channel_id=item.channel_id,
                message_ts=item.message_ts,
                source_link=source_link_of(client, item),
            )
    if changed and item.creator_id != user:
        lang = directory.lang_of(item.creator_id, fetch=True)
        client.chat_postMessage(
            channel=item.creator_id,
            text=t(
                lang,
                notice,
                owner=f"<@{user}>",
                code=item.code,
                reason=escape(truncate(reason, 1500)),
                title=escape(truncate(item.title, 500)),
            ),
        )


def reopen_action(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, services: Services, directory: Directory
) -> None:
    """Reopen: an item that was not to be done is open again, with its reminders."""
    ack()
    _set_status_and_refresh_cards(body, client, respond, services, directory, presses.REOPEN)


# -- creating items ------------------------------------------------------------------------------------


def show_help(cmd: Invocation) -> None:
    """`/action help`: the usage, as the acknowledgment."""
    cmd.ack(text=t(cmd.lang, "action.help"))


def open_form(cmd: Invocation) -> None:
    """`/action` alone: the item form, opened right after the acknowledgment."""
    cmd.ack()
    services, channel = cmd.services, cmd.channel
    cmd.client.views_open(
        trigger_id=cmd.trigger_id,
        view=action_modal(
            cmd.lang,
            meta=ModalMeta(channel),
            user_id=cmd.user,
            now=services.now(),
            tz=cmd.tz,
            workday_end=services.settings.workday_end,
        ),
    )
    warm(cmd.directory, channel)


def create_in_one_line(cmd: Invocation) -> None:
    """`/action @owner what by when`: the item, created at once; the form, prefilled, when the line is unclear."""
    cmd.ack()
    services, directory, user, channel, text = cmd.services, cmd.directory, cmd.user, cmd.channel, cmd.text
    lang, tz, now = cmd.lang, cmd.tz, services.now()
    added = add_quick(services, cmd.typed, members=directory.members(), tz=tz)
    if added.item is not None:
        post_card(cmd.client, services, directory, added.item, author=user)
        return
    # Not sure what was meant: say why, and open the form prefilled instead of guessing.
    quick = added.understood
    cmd.client.views_open(
        trigger_id=cmd.trigger_id,
        view=action_modal(
            lang,
            meta=ModalMeta(channel),
            user_id=user,
            now=now,
            tz=tz,
            workday_end=services.settings.workday_end,
            prefill=ActionPrefill(title=quick.title, owner_id=quick.owner_id, due_text=quick.due_text),
        ),
    )
    warm(directory, channel)
    cmd.respond(text=t(text_lang(text, lang), added.reason, **(added.reason_params or {})), response_type="ephemeral")


# the whole line is the word: `/action help` explains, `/action help Bob with the slides by Friday` is an item
COMMANDS: Routes = {
    "": open_form,
    "help": show_help,
    "帮助": show_help,
    "?": show_help,
}
handle_command = command_listener(
    COMMANDS,
    fallback=create_in_one_line,
    parse=whole_line,
    clean=lambda text: plain_text(text.replace("\x00", "")).strip(),  # Slack sends &amp; &lt; &gt;, links
    doc="`/action @owner what by when` creates an item in one line; `/action` alone opens the form.",
)


def open_from_message(
    ack: Ack, shortcut: dict[str, Any], client: WebClient, services: Services, directory: Directory
) -> None:
    """The message shortcut: the form, prefilled with the message as the item's context."""
    ack()
    user = shortcut["user"]["id"]
    message, channel = shortcut.get("message") or {}, (shortcut.get("channel") or {}).get("id", "")
    meta = ModalMeta(channel, context_ts=str(message.get("ts") or ""))
    client.views_open(
        trigger_id=shortcut["trigger_id"],
        view=action_modal(
            directory.lang_of(user),
            meta=meta,
            user_id=user,
            now=services.now(),
            tz=directory.tz_of(user),
            workday_end=services.settings.workday_end,
            prefill=ActionPrefill(title=truncate(plain_text(str(message.get("text") or "")), 490)),
        ),
    )
    warm(directory, channel)


def echo_due(ack: Ack, body: dict[str, Any], client: WebClient, services: Services, directory: Directory) -> None:
    """As the due date is typed, show what the bot understood."""
    ack()
    view = body.get("view") or {}
    if view.get("callback_id") != Ids.MODAL:
        return
    user = body["user"]["id"]
    raw = str(((view["state"]["values"].get("due") or {}).get(Ids.INPUT) or {}).get("value") or "")
    text = due_echo(
        directory.lang_of(user),
        raw,
        now=services.now(),
        tz=directory.tz_of(user),
        workday_end=services.settings.workday_end,
    )
    refresh_modal(client, view, with_due_echo(view, text))


def save_action(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient, services: Services, directory: Directory
) -> None:
    """Validate without network calls, acknowledge, then create the item and post its card."""
    user = body["user"]["id"]
    lang, tz, now = directory.lang_of(user), directory.tz_of(user), services.now()
    try:
        form = parse_action_form(
            body["view"]["state"]["values"], now=now, tz=tz, lang=lang, workday_end=services.settings.workday_end
        )
        refuse_channel(directory, form.channel_id, field="channel")
    except ValidationFailed as exc:
        ack(response_action="errors", errors=field_errors(lang, exc))
        return
    ack()
    meta = ModalMeta.load(body["view"].get("private_metadata"))
    team = context.team_id or ""
    named = named_source(services, team, form.source)
    if named is not None:
        require_visible(directory, user, named.channel_id, named.missing)
    source = named.fields if named else services.incidents.source_for(meta.origin_channel)  # raised inside an incident
    said = ""  # the message the item was made from, linked
    if meta.context_ts:
        link = message_link(client, meta.origin_channel, meta.context_ts) or ""
        said = f"{link}\n{form.draft.title}"
    (item,) = services.actions.create_many(
        team_id=team,
        creator_id=user,
        drafts=[form.draft],
        now=now,
        channel_id=form.channel_id,
        context=said,
        **source,
    )
    post_card(client, services, directory, item, author=user)


def post_card(
    client: WebClient, services: Services, directory: Directory, item: ActionInfo, *, author: str, tell: bool = True
) -> bool:
    """Post an item's card in its channel (joining it first; the owner is mentioned) and remember the message;
    False when the bot cannot post there (the author is told how to let it in, unless `tell` is False)."""
    lang, tz = directory.channel_lang(item.channel_id), services.settings.tz
    link = message_link(client, *source_message(services, item)) if item.source_code else None
    resp = post_record(
        client,
        directory,
        ref=f"action:{item.id}",
        code=item.code,
        channel=item.channel_id,
        author=author,
        tell=tell,
        text=action_text(lang, item, tz),
        blocks=action_card(lang, item, tz=tz, source_link=link),
        unfurl_links=False,
    )
    if resp is None:
        return False
    services.actions.attach_message(item.id, channel_id=str(resp["channel"]), message_ts=str(resp["ts"]))
    return True


def _unposted(services: Services, action_id: int) -> Unposted:
    item = services.actions.get(action_id)
    return Unposted(item.code, item.channel_id, bool(item.message_ts), frozenset({item.owner_id, item.creator_id}))


def _post_again(client: WebClient, services: Services, directory: Directory, action_id: int, user: str) -> bool:
    return post_card(client, services, directory, services.actions.get(action_id), author=user, tell=False)


repostable("action", _unposted, _post_again)


def _set_status_and_refresh_cards(
    body: dict[str, Any],
    client: WebClient,
    respond: Respond,
    services: Services,
    directory: Directory,
    action: str,
) -> None:
    """Move the item as the button says (refusals reach the error handler), then re-render the card that was
    clicked and the item's own."""
    event = pressed(body, services, directory, action)
    with _card_locks[event.record_id]:  # one status change and re-render at a time per item
        if not carry_out(event, client, respond, services, directory).changed:
            return
        item = services.actions.get(event.record_id)
        channel, ts = event.channel, event.message
        link = shown_source_link((body.get("message") or {}).get("blocks"))
        if channel and ts:
            refresh_card(client, services, directory, item, channel_id=channel, message_ts=ts, source_link=link)
        if item.message_ts and (item.channel_id, item.message_ts) != (channel, ts):
            refresh_card(
                client,
                services,
                directory,
                item,
                channel_id=item.channel_id,
                message_ts=item.message_ts,
                source_link=link,
            )


def show_again(client: WebClient, services: Services, directory: Directory, action_id: int) -> None:
    """Re-render an item's card after a change made elsewhere (a reaction), from its current state."""
    with _card_locks[action_id]:
        item = services.actions.get(action_id)
        if item.message_ts:
            refresh_card(
                client,
                services,
                directory,
                item,
                channel_id=item.channel_id,
                message_ts=item.message_ts,
                source_link=source_link_of(client, item),
            )


def source_link_of(client: WebClient, item: ActionInfo) -> str | None:
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


def refresh_card(
    client: WebClient,
    services: Services,
    directory: Directory,
    item: ActionInfo,
    *,
    channel_id: str,
    message_ts: str,
    source_link: str | None,
) -> None:
    """Re-render a card message from the item's current state."""
    lang, tz = _reader(services, directory, item, channel_id)
    client.chat_update(
        channel=channel_id,
        ts=message_ts,
        text=action_text(lang, item, tz),
        blocks=action_card(lang, item, tz=tz, source_link=source_link),
    )


def send_action_dms(
    client: WebClient, services: Services, directory: Directory, items: Sequence[ActionInfo], *, source_link: str | None
) -> None:
    """DM each owner their item's card in their language and timezone, and remember the message."""
    for item in items:
        owner = item.owner_id
        lang, tz = directory.lang_of(owner, fetch=True), directory.tz_of(owner, fetch=True)
        try:
            resp = client.chat_postMessage(
                channel=owner,
                text=action_text(lang, item, tz),
                blocks=action_card(lang, item, tz=tz, source_link=source_link),
                unfurl_links=False,
            )
        except SlackApiError as exc:
            # one owner who cannot be reached must not keep the others from getting theirs
            logger.warning("could not DM %s to %s: %s", item.code, owner, exc.response.get("error"))
            continue
        services.actions.attach_message(item.id, channel_id=str(resp["channel"]), message_ts=str(resp["ts"]))
