"""Slack listeners for /digest: the weekly channel digest and the channel's language."""

from __future__ import annotations

import logging
from datetime import datetime

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot import charts
from bot.services import Services
from bot.services import charts as charts_service
from bot.services.digest_text import Schedule, parse_schedule
from bot.services.digests import SubscriptionInfo
from bot.text import t
from handlers.blocks import digest as blocks
from handlers.blocks.common import date_token, escape, truncate
from handlers.commands import Invocation, Routes, command_listener
from handlers.serving.replies import through_inbox
from handlers.workspace.directory import Directory

logger = logging.getLogger(__name__)

LANG_WORDS = {
    "en": "en",
    "english": "en",
    "英文": "en",
    "zh": "zh",
    "cn": "zh",
    "chinese": "zh",
    "中文": "zh",
    "auto": None,
    "default": None,
    "默认": None,
}
SUBSCRIBE = ("subscribe", "sub", "订阅")
UNSUBSCRIBE = ("unsubscribe", "unsub", "stop", "取消订阅", "退订")
NOW = ("now", "立即", "现在")
UNREACHABLE = ("not_in_channel", "channel_not_found", "is_archived")


def register(app: App) -> None:
    """Wire this feature's listeners."""
    app.command("/digest")(through_inbox(handle_command))


# -- /digest ----------------------------------------------------------------------------------------------


def set_language(cmd: Invocation) -> None:
    """`/digest lang zh|en|auto`: the language the bot uses in this channel."""
    if len(cmd.args) != 1 or cmd.args[0].lower() not in LANG_WORDS:
        show_help(cmd)
        return
    cmd.ack()
    services, directory, channel, lang = cmd.services, cmd.directory, cmd.channel, cmd.lang
    services.prefs.set_channel_lang(directory.team_id, channel, LANG_WORDS[cmd.args[0].lower()], now=services.now())
    cmd.respond(
        text=t(
            lang,
            "reply.channel_lang",
            channel=f"<#{channel}>",
            language=t(lang, f"lang.{directory.channel_lang(channel)}"),
        ),
        response_type="ephemeral",
    )


def subscribe_channel(cmd: Invocation) -> None:
    """`/digest subscribe [weekday time]`: the weekly digest in this channel."""
    subscribe(
        cmd.ack,
        cmd.respond,
        cmd.services,
        cmd.directory,
        team_id=cmd.team_id,
        channel_id=cmd.channel,
        user_id=cmd.user,
        typed=" ".join(cmd.args),
    )


def unsubscribe_channel(cmd: Invocation) -> None:
    """`/digest unsubscribe`: no more weekly digests here."""
    if cmd.args:
        show_help(cmd)
        return
    cmd.ack()
    removed = cmd.services.digests.unsubscribe(team_id=cmd.team_id, channel_id=cmd.channel)
    key = "digest.reply.unsubscribed" if removed else "digest.reply.not_subscribed"
    cmd.respond(text=t(cmd.lang, key, channel=f"<#{cmd.channel}>"), response_type="ephemeral")


def post_digest_now(cmd: Invocation) -> None:
    """`/digest now`: this channel's digest, posted right away."""
    if cmd.args:
        show_help(cmd)
        return
    cmd.ack()
    post_now(
        cmd.client,
        cmd.respond,
        cmd.services,
        cmd.directory,
        team_id=cmd.team_id,
        channel_id=cmd.channel,
        user_id=cmd.user,
    )


def show_help(cmd: Invocation) -> None:
    """`/digest help`, `/digest` alone and anything else: the usage, as the acknowledgment."""
    lang = cmd.lang
    cmd.ack(text=t(lang, "digest.help", tz=cmd.services.settings.tz, lang_help=t(lang, "help.digest")))


COMMANDS: Routes = {
    "help": show_help,
    "帮助": show_help,
    "?": show_help,
    "lang": set_language,
    "language": set_language,
    "语言": set_language,
    **dict.fromkeys(SUBSCRIBE, subscribe_channel),
    **dict.fromkeys(UNSUBSCRIBE, unsubscribe_channel),
    **dict.fromkeys(NOW, post_digest_now),
}
handle_command = command_listener(
    COMMANDS,
    fallback=show_help,
    doc="`/digest subscribe [weekday time]`, `unsubscribe`, `now`, `lang zh|en|auto`; anything else explains.",
)


def subscribe(
    ack: Ack,
    respond: Respond,
    services: Services,
    directory: Directory,
    *,
    team_id: str,
    channel_id: str,
    user_id: str,
    typed: str,
) -> None:
    """Subscribe the channel at the typed weekday and time (Monday 09:00 by default), and echo the next digest."""
    lang = directory.lang_of(user_id)
    schedule = parse_schedule(typed) if typed else Schedule()
    if schedule is None:
        ack(text=t(lang, "error.digest_schedule", text=escape(truncate(typed, 100))))
        return
    ack()
    sub = services.digests.subscribe(
        team_id=team_id, channel_id=channel_id, user_id=user_id, schedule=schedule, now=services.now()
    )
    respond(text=subscribed_text(lang, sub, tz=directory.tz_of(user_id)), response_type="ephemeral")


def subscribed_text(lang: str, sub: SubscriptionInfo, *, tz: str) -> str:
    """The confirmation: which weekday and time, and when the next digest comes (in the reader's own time)."""
    when = date_token(sub.next_at, tz, long=True) if sub.next_at else "—"
    return t(
        lang,
        "digest.reply.subscribed",
        channel=f"<#{sub.channel_id}>",
        day=t(lang, f"digest.day.{sub.schedule.weekday}"),
        time=sub.schedule.time_text,
        tz=sub.tz,
        when=when,
    )


def post_now(
    client: WebClient,
    respond: Respond,
    services: Services,
    directory: Directory,
    *,
    team_id: str,
    channel_id: str,
    user_id: str,
) -> None:
    """Post a digest in the channel right away (outside the weekly schedule) and tell the caller."""
    lang = directory.lang_of(user_id)
    try:
        post_digest(client, services, directory, team_id=team_id, channel_id=channel_id, now=services.now())
    except SlackApiError as exc:
        if exc.response.get("error") not in UNREACHABLE:
            raise
        respond(text=t(lang, "reply.not_in_channel", channel=f"<#{channel_id}>"), response_type="ephemeral")
        return
    sub = services.digests.subscription(team_id, channel_id)
    if sub is not None and sub.next_at is not None:
        text = t(
            lang,
            "digest.reply.posted_next",
            channel=f"<#{channel_id}>",
            when=date_token(sub.next_at, directory.tz_of(user_id), long=True),
        )
    else:
        text = t(lang, "digest.reply.posted", channel=f"<#{channel_id}>")
    respond(text=text, response_type="ephemeral")


def post_digest(
    client: WebClient,
    services: Services,
    directory: Directory,
    *,
    team_id: str,
    channel_id: str,
    now: datetime,
    late_due: datetime | None = None,
) -> None:
    """Gather the channel's digest and post it there, in the channel's language."""
    digest = services.digests.content(
        team_id,
        channel_id,
        now=now,
        is_public=directory.is_public,
        open_incidents=services.incidents.with_open_followups(team_id, channel_id),
    )
    lang, tz = channel_lang(services, directory, team_id, channel_id), services.settings.tz
    body = blocks.digest_blocks(
        lang,
        digest,
        tz=tz,
        name_of=lambda user: _name(directory, user),
        base_url=workspace_url(client),
        late_due=late_due,
    )
    resp = client.chat_postMessage(
        channel=channel_id,
        text=blocks.digest_text(lang, digest, tz=tz, late_due=late_due),
        blocks=body,
        unfurl_links=False,
        unfurl_media=False,
    )
    logger.info("digest posted in %s (%d blocks)", channel_id, len(body))
    if services.settings.digest_charts:
        post_charts(
            client, services, team_id=team_id, channel_id=channel_id, thread_ts=str(resp["ts"]), lang=lang, now=now
        )


def post_charts(
    client: WebClient, services: Services, *, team_id: str, channel_id: str, thread_ts: str, lang: str, now: datetime
) -> int:
    """Draw the channel's charts and upload them in the digest's thread; returns how many were shared.

    In the thread rather than the channel: the digest stays one message (one notification) a week, and the
    charts stay beside the numbers they draw. A chart is an extra: whatever goes wrong drawing or uploading
    it is logged, and the digest, already posted, stands alone (an exception here would have the digest's
    due row tried again, and the digest posted twice).
    """
    try:
        drawn = draw_charts(services, team_id=team_id, channel_id=channel_id, lang=lang, now=now)
    except Exception:  # any bug or missing piece of the drawing stack costs the chart, never the digest
        logger.exception("could not draw the digest's charts for %s; the digest goes without them", channel_id)
        return 0
    if not drawn:
        return 0
    try:
        client.files_upload_v2(
            file_uploads=[
                {"content": c.png, "filename": c.filename, "title": c.title, "alt_txt": c.alt} for c in drawn
            ],
            channel=channel_id,
            thread_ts=thread_ts,
        )
    except SlackApiError as exc:
        logger.warning("could not upload the digest's charts in %s: %s", channel_id, exc.response.get("error"))
        return 0
    except (SlackRequestError, OSError) as exc:  # the upload URL refused the bytes, or could not be reached
        logger.warning("could not upload the digest's charts in %s: %s", channel_id, exc)
        return 0
    logger.info("digest charts shared in %s (%d)", channel_id, len(drawn))
    return len(drawn)


def draw_charts(services: Services, *, team_id: str, channel_id: str, lang: str, now: datetime) -> list[charts.Chart]:
    """The channel's charts with something to show: action items, and incidents in an incident channel."""
    drawn: list[charts.Chart] = []
    tz = services.settings.tz
    actions = charts_service.action_weeks(services.session_scope, team_id=team_id, channel_id=channel_id, now=now)
    if not actions.empty:
        drawn.append(charts.actions_chart(actions, lang, tz=tz))
    incidents = charts_service.incident_weeks(
        services.session_scope,
        team_id=team_id,
        channel_id=channel_id,
        now=now,
        announcement_channel=services.settings.incident_channel,
    )
    if incidents is not None and not incidents.empty:
        drawn.append(charts.incidents_chart(incidents, lang, tz=tz))
    return drawn


def channel_lang(services: Services, directory: Directory, team_id: str, channel_id: str) -> str:
    """The channel's language; the team comes from the request, so it also holds where no directory was loaded."""
    return services.prefs.channel_lang(team_id, channel_id) or directory.channel_lang(channel_id)


def workspace_url(client: WebClient) -> str | None:
    """The workspace's URL (https://acme.slack.com/), which permalinks start with; None when Slack will not say."""
    try:
        return str(client.auth_test().get("url") or "") or None
    except SlackApiError as exc:
        logger.info("no workspace URL for digest links: %s", exc.response.get("error"))
        return None


def _name(directory: Directory, user_id: str) -> str:
    member = directory.get(user_id, fetch=True)
    return member.label if member else user_id
