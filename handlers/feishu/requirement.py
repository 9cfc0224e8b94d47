"""The requirement sheet on Feishu: the form card, the sheet card in its group, signing by button or reaction."""

from __future__ import annotations

import logging
import re
from functools import partial

from bot.markup import RecordLocks, mention
from bot.messenger import ButtonPressed, CommandTyped, FormSubmitted
from bot.services.requirements import RequirementInfo
from bot.text import t
from handlers.feishu.actions import own_card
from handlers.feishu.cards import requirement as cards
from handlers.feishu.cards.common import when
from handlers.feishu.turn import Turn

logger = logging.getLogger(__name__)

CODE_RE = re.compile(r"^RW-\d{4}-\d{3,}$", re.IGNORECASE)
SIGN_EMOJI = frozenset({"DONE", "CheckMark", "OK"})  # Feishu's ✅-like reactions
_locks = RecordLocks()


def on_command(turn: Turn, cmd: CommandTyped) -> None:
    """`需求` / `/requirement`: the form (in the person's direct chat); `list`; an ID shows that sheet."""
    text = cmd.text.strip()
    reqs = turn.services.requirements
    if text.lower() in ("help", "帮助", "?"):
        turn.tell("feishu.help")
    elif text.lower() in ("list", "列表"):
        awaiting = reqs.awaiting(turn.workspace, turn.user)
        lines = [
            t(
                turn.lang,
                "list.line",
                code=r.code,
                status=t(turn.lang, f"status.{r.status.value}"),
                requester=mention(r.requester_owner),
                receiver=mention(r.receiver_owner),
                when=when(r.confirm_by, turn.tz, turn.lang),
            )
            for r in awaiting
        ] or [t(turn.lang, "list.none_awaiting")]
        turn.tell_text(t(turn.lang, "list.awaiting_title") + "\n" + "\n".join(lines), purpose="list")
    elif CODE_RE.match(text):
        req = reqs.by_code(turn.workspace, text.upper(), with_history=True)
        if req.channel_id and not turn.people.can_see(turn.user, req.channel_id):
            turn.tell("error.requirement_not_found", code=text)
            return
        turn.show(turn.for_person(partial(cards.requirement_card, req=req, tz=turn.tz)), purpose=f"show:{req.code}")
    elif text:
        turn.tell("feishu.unknown", text=text[:100])
    elif cmd.direct or not cmd.channel:
        turn.tell("feishu.in_a_group")
    else:
        people = turn.candidates(cmd.channel)
        form = cards.requirement_form(turn.lang, chat_id=cmd.channel, tz=turn.tz, now=turn.now, people=people)
        turn.show(form, purpose="form")


def on_form(turn: Turn, form: FormSubmitted) -> None:
    """The sheet's form came back (checked when it arrived): store the sheet and post it in its group."""
    draft = cards.parse_requirement_form(
        dict(form.values),
        now=turn.now,
        tz=turn.tz,
        lang=turn.lang,
        workday_end=turn.services.settings.workday_end,
        chat_id=form.channel,
        members=turn.people.members(form.channel),
    )
    req = turn.services.requirements.create(team_id=turn.workspace, author_id=turn.user, draft=draft, now=turn.now)
    post(turn, req)


def post(turn: Turn, req: RequirementInfo) -> None:
    """Post a new sheet's card in its group and remember the message."""
    shown = turn.for_chat(req.channel_id, partial(cards.requirement_card, req=req, tz=turn.tz))
    posted = turn.post(req.channel_id, shown, ref=f"requirement:{req.id}")
    if posted is not None:
        turn.services.requirements.attach_message(req.id, channel_id=posted.channel, message_ts=posted.message)


def refresh(turn: Turn, requirement_id: int, *, confirmed_now: bool = False, shown_in: str | None = None) -> None:
    """Show the sheet's new state in its card (one render at a time per sheet); a note when it locked.
    `shown_in`: the card a button was pressed on, linked now when the posting request has not yet."""
    with _locks[requirement_id]:
        req = turn.services.requirements.get(requirement_id, with_history=True)
        if not req.message_ts and shown_in:
            turn.services.requirements.attach_message(req.id, channel_id=req.channel_id, message_ts=shown_in)
            req = turn.services.requirements.get(requirement_id, with_history=True)
        lang = turn.chat_lang(req.channel_id)
        if req.message_ts:
            shown = turn.for_chat(req.channel_id, partial(cards.requirement_card, req=req, tz=turn.tz))
            turn.api.update_card(req.message_ts, shown)
    if confirmed_now and req.message_ts:
        note = t(
            lang,
            "thread.confirmed",
            code=req.code,
            requester=mention(req.requester_owner),
            receiver=mention(req.receiver_owner),
        )
        turn.say(req.channel_id, note, purpose=f"confirmed:{req.id}")


def on_button(turn: Turn, pressed: ButtonPressed) -> None:
    """确认 on the card: the pressing owner signs (anyone else is told they may not)."""
    done = turn.press(pressed)
    if done.changed:
        shown_in = own_card(pressed, turn.services.requirements.get(done.record_id).channel_id)
        refresh(turn, done.record_id, confirmed_now=done.confirmed_now, shown_in=shown_in)
