"""The weekly digest on Feishu: `周报` in a group subscribes it (Monday 09:00 unless a time is typed) and posts
this week's at once; the outbox posts the next ones."""

from __future__ import annotations

import logging

from bot.markup import escape, truncate
from bot.messenger import CommandTyped
from bot.services.digest_text import Schedule, parse_schedule
from bot.text import t
from handlers.feishu.cards.digest import digest_card
from handlers.feishu.turn import Turn

logger = logging.getLogger(__name__)


def on_command(turn: Turn, cmd: CommandTyped) -> None:
    """`周报 [weekday time]`: subscribe this group and post its digest now."""
    if cmd.direct or not cmd.channel:
        turn.tell("feishu.no_digest_in_dm")
        return
    typed = cmd.text.strip()
    schedule = parse_schedule(typed) if typed else Schedule()
    if schedule is None:
        turn.tell("error.digest_schedule", text=escape(truncate(typed, 100)))
        return
    services = turn.services
    services.digests.subscribe(
        team_id=turn.workspace, channel_id=cmd.channel, user_id=turn.user, schedule=schedule, now=turn.now
    )
    lang = services.prefs.channel_lang(turn.workspace, cmd.channel) or turn.lang
    digest = services.digests.content(
        turn.workspace,
        cmd.channel,
        now=turn.now,
        is_public=lambda chat: False,  # another group's records are named only to its members
        open_incidents=services.incidents.with_open_followups(turn.workspace, cmd.channel),
    )
    day = t(lang, f"digest.day.{schedule.weekday}")
    turn.say(cmd.channel, t(lang, "feishu.digest_on", schedule=f"{day} {schedule.time_text}"), purpose="digest-on")
    turn.post(cmd.channel, digest_card(lang, digest, tz=turn.tz), ref=f"digest-now:{cmd.channel}:{turn.now.date()}")
