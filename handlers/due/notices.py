"""Due work as Slack shows it: the core plans each row's notices (`bot.services.notices`); this renders them.

A person's notice is a DM in their language and timezone; a channel's is a post in the channel's language.
Times are Slack date tokens (each reader sees their own local time), links are permalinks. What comes along
with a notice (an agenda, the minutes, a button) is built from the feature's Block Kit builders.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.models.blocks import Block

from bot import notices as n
from bot.outbox import DueWork, Outcome
from bot.services import Services
from bot.services import notices as rules
from handlers.blocks import incident as incident_blocks
from handlers.blocks import meeting as meeting_blocks
from handlers.blocks.common import context, date_token, section
from handlers.blocks.welcome import welcome_dm
from handlers.digest import post_digest
from handlers.due.outbound import Deliverer, link_or_channel, message_link
from handlers.serving.oauth import home_url
from handlers.workspace.directory import Directory


class SlackFormat:
    """Times as Slack date tokens, links as permalinks, an incident's channel as a channel link."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def when(self, at: datetime, tz: str, lang: str, *, with_time: bool = True) -> str:
        """A date token with a fallback in `tz`."""
        return date_token(at, tz, with_time=with_time)

    def link(self, channel: str | None, ts: str | None, *, fallback: bool) -> str | None:
        """The message's permalink; with `fallback`, the channel's link when the message is unknown."""
        if fallback and channel:
            return link_or_channel(self.client, channel, ts)
        return message_link(self.client, channel, ts)

    def room(self, channel: str | None, code: str) -> str:
        """`<#C…>`, or the code."""
        return f"<#{channel}>" if channel else code


def deliverer(client: WebClient, services: Services, directory: Directory) -> Deliverer:
    """The sender of every kind of due work for one workspace: plan the row, post its notices, mark it."""
    fmt = SlackFormat(client)

    def plain(s: n.Shown) -> None:
        client.chat_postMessage(channel=s.notice.to, text=f"{s.text}\n{s.footer}" if s.footer else s.text)

    def agenda(s: n.Shown) -> None:
        card = meeting_blocks.card_blocks(s.lang, s.notice.about, tz=s.tz)[:-1]  # the card without its buttons
        body: list[Block] = [section(s.text), *card[1:]]
        if s.footer:
            body.append(context(s.footer))
        client.chat_postMessage(channel=s.notice.to, text=s.text, blocks=body)

    def minutes(s: n.Shown) -> None:
        info = s.notice.about
        items = services.actions.for_source(rules.meeting.KIND, info.id)
        body = [section(s.text), *meeting_blocks.minutes_blocks(s.lang, info, items, tz=s.tz, ack_button=True)]
        client.chat_postMessage(channel=s.notice.to, text=s.text, blocks=body)

    def ack(s: n.Shown) -> None:
        blocks = incident_blocks.ack_request_blocks(s.lang, s.notice.about, s.text)
        client.chat_postMessage(channel=s.notice.to, text=s.text, blocks=blocks)

    def review(s: n.Shown) -> None:
        blocks = incident_blocks.review_due_blocks(s.lang, s.notice.about, s.text)
        client.chat_postMessage(channel=s.notice.to, text=s.text, blocks=blocks)

    def digest(s: n.Shown) -> None:
        team, late_due = str(s.notice.data["team_id"]), s.notice.data.get("late_due")
        post_digest(client, services, directory, team_id=team, channel_id=s.notice.to, now=s.now, late_due=late_due)

    def welcome(s: n.Shown) -> None:
        team = None if s.work.team_id.startswith("E") else s.work.team_id  # an organization's link names none
        shown, blocks = welcome_dm(
            s.lang,
            installer=s.notice.to,
            team_name=str(s.notice.data["team_name"]),
            home_url=home_url(str(s.notice.data["app_id"]), team),
        )
        client.chat_postMessage(channel=s.notice.to, text=shown, blocks=blocks)

    extras: dict[n.Extra, Callable[[n.Shown], None]] = {
        n.Extra.AGENDA: agenda,
        n.Extra.MINUTES: minutes,
        n.Extra.ACK: ack,
        n.Extra.REVIEW: review,
        n.Extra.DIGEST: digest,
        n.Extra.WELCOME: welcome,
    }

    def send(notice: n.Notice, work: DueWork, now: datetime) -> None:
        if notice.in_channel:
            lang, tz = directory.channel_lang(notice.to), services.settings.tz
        else:
            lang, tz = directory.lang_of(notice.to, fetch=True), directory.tz_of(notice.to, fetch=True)
        (plain if notice.extra is None else extras[notice.extra])(n.shown(notice, lang, tz, fmt, work=work, now=now))

    def deliver(work: DueWork, now: datetime) -> Outcome:
        return rules.deliver(services, work, now, lambda notice: send(notice, work, now))

    return deliver
