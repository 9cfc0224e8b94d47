"""The weekly digest on Feishu: `周报` in a group subscribes it (Monday 09:00 unless a time is typed) and posts
this week's at once; the outbox posts the next ones. Each digest card carries the group's action items chart,
drawn as Slack's is and uploaded as an image, unless charts are off (COORDBOT_DIGEST_CHARTS)."""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from bot import charts
from bot.markup import escape, truncate
from bot.messenger import CommandTyped
from bot.services import Services
from bot.services import charts as charts_service
from bot.services.digest_text import Schedule, parse_schedule
from bot.text import t
from handlers.feishu.api import FeishuApi, FeishuError
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
    lang, tz = turn.chat_lang(cmd.channel), turn.tz
    digest = services.digests.content(
        turn.workspace,
        cmd.channel,
        now=turn.now,
        is_public=lambda chat: False,  # another group's records are named only to its members
        open_incidents=services.incidents.with_open_followups(turn.workspace, cmd.channel),
    )
    chart = upload_chart(turn.api, services, workspace=turn.workspace, chat=cmd.channel, lang=lang, tz=tz, now=turn.now)
    day = t(lang, f"digest.day.{schedule.weekday}")
    turn.say(cmd.channel, t(lang, "feishu.digest_on", schedule=f"{day} {schedule.time_text}"), purpose="digest-on")
    # the chart is drawn once, in the group's language (or the person's): an image has one language
    shown = turn.for_chat(cmd.channel, partial(digest_card, digest=digest, tz=tz, chart_key=chart))
    turn.post(cmd.channel, shown, ref=f"digest-now:{cmd.channel}:{turn.now.date()}")


def upload_chart(
    api: FeishuApi, services: Services, *, workspace: str, chat: str, lang: str, tz: str, now: datetime
) -> str | None:
    """Draw the group's action items chart for its digest and upload it: the image_key for the card.

    None when charts are off or nothing was open or done in the weeks drawn (as on Slack), and when drawing or
    uploading fails: a chart is an extra, so that is logged and the digest goes without it (an exception here
    would have the digest's due row tried again, or the 周报 command fail, for want of a picture).
    """
    if not services.settings.digest_charts:
        return None
    try:
        weeks = charts_service.action_weeks(services.session_scope, team_id=workspace, channel_id=chat, now=now)
        if weeks.empty:
            return None
        drawn = charts.actions_chart(weeks, lang, tz=tz)
    except Exception:  # any bug or missing piece of the drawing stack costs the chart, never the digest
        logger.exception("could not draw the digest's chart for %s; the digest goes without it", chat)
        return None
    try:
        image_key = api.upload_image(drawn.png)
    except FeishuError as exc:
        logger.warning("could not upload the digest's chart for %s: %s %s", chat, exc.code, exc.msg)
        return None
    logger.info("digest chart uploaded for %s (%d bytes)", chat, len(drawn.png))
    return image_key
