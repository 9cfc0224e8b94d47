"""Action items on Feishu: the one-line command, the form card, the item's card with its buttons."""

from __future__ import annotations

import logging
from functools import partial

from bot.markup import RecordLocks
from bot.messenger import ButtonPressed, CommandTyped, FormSubmitted
from bot.services.actions import ActionDraft, ActionInfo
from bot.services.quick_actions import add_quick
from bot.text import text_lang
from handlers.feishu.api import FeishuError
from handlers.feishu.cards import actions as cards
from handlers.feishu.cards.home import pressed_on_page
from handlers.feishu.formats import chat_link
from handlers.feishu.turn import Turn

logger = logging.getLogger(__name__)

_locks = RecordLocks()


def on_command(turn: Turn, cmd: CommandTyped) -> None:
    """`行动项 @owner what by when`: the item at once; alone: the form; unclear: why, and the form."""
    text = cmd.text.strip()
    if text.lower() in ("help", "帮助", "?"):
        turn.tell("action.help")
        return
    if cmd.direct or not cmd.channel:
        turn.tell("feishu.in_a_group")
        return
    services, tz = turn.services, turn.tz
    if not text:
        form = cards.action_form(
            turn.lang, chat_id=cmd.channel, tz=tz, now=turn.now, people=turn.candidates(cmd.channel)
        )
        turn.show(form, purpose="form")
        return
    said = replied_to(turn, cmd)  # a reply: the item may be made from that message
    added = add_quick(
        services,
        cmd,
        members=turn.people.members(cmd.channel),
        tz=tz,
        replied=said,
        context=chat_link(services, cmd.channel) if said else "",
    )
    if added.item is not None:
        show_new(turn, added.item)
        return
    turn.tell(added.reason, **(added.reason_params or {}))
    lang, people = text_lang(text, turn.lang), turn.candidates(cmd.channel)
    turn.show(cards.action_form(lang, chat_id=cmd.channel, tz=tz, now=turn.now, people=people), purpose="form")


def on_form(turn: Turn, form: FormSubmitted) -> None:
    """The item's form came back (checked when it arrived): store the item and post its card."""
    draft = cards.parse_action_form(
        dict(form.values), now=turn.now, tz=turn.tz, lang=turn.lang, workday_end=turn.services.settings.workday_end
    )
    create(turn, form.channel, draft)


def replied_to(turn: Turn, cmd: CommandTyped) -> str:
    """The text of the message a command was typed in reply to ("" when none, or not a text Feishu gives)."""
    if not cmd.reply_to:
        return ""
    try:
        return turn.api.message_text(cmd.reply_to).strip()
    except FeishuError as exc:  # the item is made without it: the person still gets what they asked for
        logger.info("could not read the message %s replied to: %s", cmd.reply_to, exc.code)
        return ""


def create(turn: Turn, chat: str, draft: ActionDraft, *, context: str = "") -> ActionInfo:
    """Store one item in the group it was raised in (an incident's, when raised there) and post its card;
    `context`: the message it was made from (a link, then its text)."""
    services = turn.services
    (item,) = services.actions.create_many(
        team_id=turn.workspace,
        creator_id=turn.user,
        drafts=[draft],
        now=turn.now,
        channel_id=chat,
        context=context,
        **services.incidents.source_for(chat),
    )
    show_new(turn, item)
    return item


def show_new(turn: Turn, item: ActionInfo) -> None:
    """Post a new item's card in its group and remember the message."""
    shown = turn.for_chat(item.channel_id, partial(cards.action_card, item=item, tz=turn.tz))
    posted = turn.post(item.channel_id, shown, ref=f"action:{item.id}")
    if posted is not None:
        turn.services.actions.attach_message(item.id, channel_id=posted.channel, message_ts=posted.message)


def refresh(turn: Turn, action_id: int, *, shown_in: str | None = None) -> None:
    """Show an item's new state in its card. `shown_in`: the card a button was pressed on, which is the item's
    even when the request that posted it has not linked it yet (a quick click): it is linked now."""
    item = turn.services.actions.get(action_id)
    if not item.message_ts and shown_in:
        turn.services.actions.attach_message(item.id, channel_id=item.channel_id, message_ts=shown_in)
    message = item.message_ts or shown_in
    if message:
        shown = turn.for_chat(item.channel_id, partial(cards.action_card, item=item, tz=turn.tz))
        turn.api.update_card(message, shown)


def on_button(turn: Turn, pressed: ButtonPressed) -> None:
    """Done / Start on an item's card: its owner or creator changes the status; the card shows it."""
    with _locks[pressed.record_id]:
        if turn.press(pressed).changed:
            item = turn.services.actions.get(pressed.record_id)
            refresh(turn, item.id, shown_in=own_card(pressed, item.channel_id))


def own_card(pressed: ButtonPressed, record_chat: str) -> str | None:
    """The record's own card the button was on: a card in the record's group (not the person's page, nor a
    copy shown to them alone), else None."""
    if pressed_on_page(pressed.detail) or not pressed.message or pressed.channel != record_chat:
        return None
    return pressed.message
