"""Incidents on Feishu: declared by a line or a form, a group chat opened for them with the summary card pinned,
updates and resolution by command in that chat, the timeline completed from the chat's pinned messages."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from functools import partial

from bot import inbox
from bot.markup import RecordLocks, escape, mention
from bot.messenger import ButtonPressed, CommandTyped, FormSubmitted
from bot.people import MENTION_RE
from bot.services.incident_text import ROLE_WORDS, parse_command
from bot.services.incidents import (
    IncidentDraft,
    IncidentInfo,
    ResolutionDraft,
    parse_severity,
    review_meeting_draft,
)
from bot.services.presses import Pressed
from bot.text import t
from handlers.feishu.api import FeishuError
from handlers.feishu.cards import actions as item_cards
from handlers.feishu.cards import incident as cards
from handlers.feishu.cards import meeting as meeting_cards
from handlers.feishu.cards.stats import stats_card
from handlers.feishu.turn import Turn, once_key

logger = logging.getLogger(__name__)

DEFAULT_SEVERITY = "SEV3"
_locks = RecordLocks()


def on_command(turn: Turn, cmd: CommandTyped) -> None:
    """`事故 SEV2 what is broken` declares; in an incident's chat `事故 解决 …`, `事故 进展 …`; alone: the form;
    anywhere `事故 统计 [days]` the numbers."""
    if head_word(cmd.text) in STATS_WORDS:  # parse_command does not know it (Slack's /incident reads it itself)
        show_stats(turn, cmd)
        return
    command = parse_command(cmd.text)
    here = turn.services.incidents.by_channel(cmd.channel) if cmd.channel else None
    if command.verb == "help":
        turn.tell("feishu.help")
    elif here is not None and head_word(cmd.text) in ADD_WORDS:
        add_people(turn, here, cmd)
    elif command.verb == "declare" and not command.rest:
        people = turn.candidates(cmd.channel if not cmd.direct else None)
        form = cards.incident_form(turn.lang, chat_id=cmd.channel, tz=turn.tz, now=turn.now, people=people)
        turn.show(form, purpose="form")
    elif command.verb == "declare":
        head, _, rest = command.rest.partition(" ")
        severity = parse_severity(head)
        title = rest.strip() if severity is not None and rest.strip() else command.rest
        draft = IncidentDraft(
            title=title, severity=(severity or DEFAULT_SEVERITY), commander_id=turn.user, responders=()
        )
        declare(turn, draft, origin=cmd.channel)
    elif here is None:
        turn.tell("error.incident_not_in_channel")
    elif command.verb == "resolve":
        resolve(turn, here, ResolutionDraft(summary=command.rest or here.title))
    elif command.verb == "role":
        add_people(turn, here, cmd)
    elif command.verb == "update":
        turn.services.incidents.post_update(here.id, user_id=turn.user, text=command.rest, now=turn.now)
        refresh(turn, here.id)
    else:
        turn.tell("feishu.unknown", text=cmd.text[:100])


ADD_WORDS = frozenset({"拉人", "加人", "add", "invite"})
STATS_WORDS = frozenset({"统计", "stats"})
STATS_DAYS = 90  # without a number: the last quarter (as `/incident stats` on Slack)
MAX_STATS_DAYS = 3660
_DAYS = re.compile(r"^(\d{1,4})\s*(?:天|日|d|days?)?$", re.IGNORECASE)


def stats_days(text: str) -> int:
    """The days asked for after the verb (`统计 30`, `stats 30d`, `统计 30天`), else STATS_DAYS."""
    _, _, rest = text.strip().partition(" ")
    m = _DAYS.match(rest.strip())
    days = int(m.group(1)) if m else 0
    return days if 0 < days <= MAX_STATS_DAYS else STATS_DAYS


def show_stats(turn: Turn, cmd: CommandTyped) -> None:
    """`事故 统计 [days]` / `/incident stats 30`: the workspace's incidents of the last days (90 by default), to the
    asker in their direct chat."""
    days = stats_days(cmd.text)
    now = turn.now
    report = turn.services.metrics.report(team_id=turn.workspace, since=now - timedelta(days=days), until=now, now=now)
    shown = turn.for_person(
        lambda lang: stats_card(lang, report, scope_label=t(lang, "feishu.stats.scope", days=days), tz=turn.tz)
    )
    turn.show(shown, purpose=f"stats:{days}")


def head_word(text: str) -> str:
    """The first word of a line, lower-cased."""
    return text.strip().partition(" ")[0].lower()


def add_people(turn: Turn, info: IncidentInfo, cmd: CommandTyped) -> None:
    """`事故 拉人 @李雷` / `事故 角色 沟通 @李雷`: the commander adds responders (or names the comms lead); each is
    added to the incident's chat."""
    words = cmd.text.split()
    role = next((ROLE_WORDS[w.lower()] for w in words[1:3] if w.lower() in ROLE_WORDS), "responder")
    people = list(dict.fromkeys(MENTION_RE.findall(cmd.text)))
    if not people:
        turn.tell("feishu.incident_who")
        return
    incidents = turn.services.incidents
    for person in people:
        incidents.assign_role(info.id, user_id=turn.user, role=role, target_id=person, now=turn.now)
    if info.channel_id:
        turn.api.add_members(info.channel_id, people)
        turn.people.forget_chat(info.channel_id)
    refresh(turn, info.id)


def on_form(turn: Turn, form: FormSubmitted) -> None:
    """The declaration form came back (checked when it arrived)."""
    draft = cards.parse_incident_form(dict(form.values), lang=turn.lang, user_id=turn.user)
    declare(turn, draft, origin=form.channel)


def on_resolution_form(turn: Turn, form: FormSubmitted) -> None:
    """The resolve form came back: summary, decisions, follow-ups (owners among the incident chat's members)."""
    info = turn.services.incidents.get(int(form.context.get("incident") or 0))
    draft = cards.parse_resolution_form(
        dict(form.values),
        now=turn.now,
        tz=turn.tz,
        lang=turn.lang,
        members=turn.people.members(info.channel_id) if info.channel_id else [],
        workday_end=turn.services.settings.workday_end,
    )
    resolve(turn, info, draft)


def declare(turn: Turn, draft: IncidentDraft, *, origin: str) -> IncidentInfo:
    """Store the incident, open its group chat with the people in it, post and pin the summary card, and say it
    where it was declared. A second run of the row picks up where the first left off."""
    incidents = turn.services.incidents
    info = incidents.declare(
        team_id=turn.workspace, declarer_id=turn.user, draft=draft, origin_channel=origin, now=turn.now
    )
    if not (inbox.rerun() and info.channel_id):
        people = [p for p in dict.fromkeys([info.commander_id, *info.responders, turn.user]) if p]
        chat = turn.api.create_chat(
            name=t(turn.lang, "feishu.incident_chat", code=info.code, title=info.title)[:60],
            description=info.title[:100],
            members=people,
            uuid=once_key("incident-chat", info.id),
        )
        info = incidents.attach_channel(info.id, channel_id=chat, channel_name=info.code)
    if info.channel_id and not (inbox.rerun() and info.summary_ts):
        shown = turn.for_chat(info.channel_id, partial(cards.incident_card, info=info, tz=turn.tz))
        posted = turn.post(info.channel_id, shown, ref=f"incident:{info.id}")
        if posted is not None:
            try:
                turn.api.pin(posted.message)
            except FeishuError as exc:
                logger.info("could not pin the summary of %s: %s", info.code, exc.code)
            info = incidents.attach_summary(info.id, ts=posted.message)
            turn.say(
                info.channel_id,
                t(turn.lang, "feishu.incident_opened", code=info.code, declarer=mention(turn.user)),
                purpose="opened",
            )
    if origin and origin != info.channel_id:
        text = t(
            turn.lang,
            "feishu.incident_elsewhere",
            code=info.code,
            severity=info.severity.value,
            title=escape(info.title),
        )
        turn.say(origin, text, purpose="announce")
    return info


def open_review_meeting(turn: Turn, incident_id: int) -> None:
    """The meeting form, filled in for the incident's review: its team, an hour two working days on at 10:00, a
    standard agenda led by the commander; the meeting it schedules is that review (as on Slack)."""
    info = turn.services.incidents.get(incident_id)
    settings = turn.services.settings
    later = settings.calendar.add_working_days(turn.now, 2, turn.tz)
    start = later.replace(hour=10, minute=0, second=0, microsecond=0)
    draft = review_meeting_draft(info, lang=turn.lang, start=start)
    people = (*draft.participants, *turn.candidates(draft.channel_id))
    form = meeting_cards.meeting_form(
        turn.lang,
        chat_id=draft.channel_id or "",
        tz=turn.tz,
        now=turn.now,
        people=people,
        draft=draft,
        incident_id=info.id,
    )
    turn.show(form, purpose=f"review:{info.id}")


def refresh(turn: Turn, incident_id: int) -> None:
    """Show the incident's new state in its pinned card."""
    with _locks[incident_id]:
        info = turn.services.incidents.get(incident_id, with_timeline=True)
        if info.summary_ts:
            build = partial(cards.incident_card, info=info, tz=turn.tz)
            turn.api.update_card(info.summary_ts, turn.for_chat(info.channel_id, build))


def collect_pins(turn: Turn, info: IncidentInfo) -> int:
    """Put the chat's pinned messages on the timeline (the summary card aside); how many were new."""
    if not info.channel_id:
        return 0
    added = 0
    for message in turn.api.pins(info.channel_id):
        if message == info.summary_ts:
            continue
        text = turn.api.message_text(message)
        if not text:
            continue
        entry = turn.services.incidents.pin_message(
            info.id, message_ts=message, author_id="", pinned_by="", text=text, at=None, now=turn.now
        )
        added += entry is not None
    return added


def resolve(turn: Turn, info: IncidentInfo, draft: ResolutionDraft) -> None:
    """Close the incident (its commander), with the chat's pins on its timeline first; its follow-ups get cards."""
    turn.services.incidents.check_commander(info, turn.user)
    collect_pins(turn, info)
    outcome = turn.services.incidents.resolve(info.id, user_id=turn.user, draft=draft, now=turn.now)
    refresh(turn, info.id)
    chat = info.channel_id or info.announce_channel_id
    for item in outcome.follow_ups:
        if chat:
            shown = turn.for_chat(chat, partial(item_cards.action_card, item=item, tz=turn.tz))
            posted = turn.post(chat, shown, ref=f"action:{item.id}")
            if posted is not None:
                turn.services.actions.attach_message(item.id, channel_id=posted.channel, message_ts=posted.message)


def on_button(turn: Turn, pressed: ButtonPressed) -> None:
    """Acknowledge (the commander, or a backup escalated to) and Resolve on the incident's card."""
    incidents = turn.services.incidents
    if pressed.action in (cards.DO_ACK, cards.DO_STATUS):
        show(turn, turn.press(pressed))
    elif pressed.action == cards.DO_RESOLVE:
        info = incidents.get(pressed.record_id)
        incidents.check_commander(info, turn.user)
        turn.show(cards.resolution_form(turn.lang, info, now=turn.now), purpose=f"resolve:{info.id}")
    elif pressed.action == cards.DO_REVIEW_MEETING:
        open_review_meeting(turn, pressed.record_id)


def show(turn: Turn, done: Pressed) -> None:
    """What a press changed, in the incident's group: who joined, the news line, the pinned card again."""
    if not done.changed:
        return
    info = turn.services.incidents.get(done.record_id)
    if done.joined and info.channel_id:
        turn.api.add_members(info.channel_id, list(done.joined))
    if done.news is not None and info.channel_id:
        turn.announce(info.channel_id, done.news, purpose=f"news:{done.news.key}")
    refresh(turn, info.id)
