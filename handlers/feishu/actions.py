"""Action items on Feishu: the one-line command, the form card, the item's card with its buttons."""

from __future__ import annotations

import logging
from dataclasses import replace
from functools import partial

from bot.markup import RecordLocks, escape, truncate
from bot.messenger import ButtonPressed, CommandTyped, FormSubmitted
from bot.services.action_text import parse_quick
from bot.services.actions import MAX_TITLE, ActionDraft, ActionInfo, ActionStatus, quick_problem_key
from bot.text import text_lang
from handlers.feishu.api import FeishuError
from handlers.feishu.cards import actions as cards
from handlers.feishu.cards.home import pressed_on_page
from handlers.feishu.due.common import chat_link
from handlers.feishu.turn import Turn

logger = logging.getLogger(__name__)

BUTTON_STATUS = {cards.DO_DONE: ActionStatus.DONE, cards.DO_START: ActionStatus.IN_PROGRESS}
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
    members = turn.people.members(cmd.channel)
    quick = parse_quick(text, now=turn.now, tz=tz, members=members, workday_end=services.settings.workday_end)
    said = replied_to(turn, cmd) if quick.problem in (None, "no_title") else ""  # a reply: made from that message
    if quick.problem == "no_title" and said:
        quick = replace(quick, problem=None)
    if quick.problem is None and quick.owner_id and quick.due:
        title = quick.title or truncate(said, MAX_TITLE - 10)
        context = f"{chat_link(services, cmd.channel)}\n{said}" if said else ""
        create(turn, cmd.channel, ActionDraft(title=title, owner_id=quick.owner_id, due=quick.due), context=context)
        return
    key = quick_problem_key(quick.problem)
    turn.tell(key, text=escape(truncate(quick.due_text, 80)))
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
    lang = services.prefs.channel_lang(turn.workspace, chat) or turn.lang
    shown = turn.for_chat(chat, lang, partial(cards.action_card, item=item, tz=turn.tz))
    posted = turn.post(chat, shown, ref=f"action:{item.id}")
    if posted is not None:
        services.actions.attach_message(item.id, channel_id=posted.channel, message_ts=posted.message)
    return item


def refresh(turn: Turn, action_id: int, *, shown_in: str | None = None) -> None:
    """Show an item's new state in its card. `shown_in`: the card a button was pressed on, which is the item's
    even when the request that posted it has not linked it yet (a quick click): it is linked now."""
    item = turn.services.actions.get(action_id)
    if not item.message_ts and shown_in:
        turn.services.actions.attach_message(item.id, channel_id=item.channel_id, message_ts=shown_in)
    message = item.message_ts or shown_in
    if message:
        lang = turn.services.prefs.channel_lang(turn.workspace, item.channel_id) or turn.lang
        shown = turn.for_chat(item.channel_id, lang, partial(cards.action_card, item=item, tz=turn.tz))
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
