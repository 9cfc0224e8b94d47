"""Due work as Feishu shows it: the core plans each row's notices (`bot.services.notices`); this renders them.

A person's notice is a card in the bot's chat with them, in their language and timezone; a channel's is a card
in the group chat, in the group's language. A card cannot localize a time per reader, so times are written
in the reader's zone; Feishu has no message permalinks, so links open the group chat.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any

from bot import notices as n
from bot.notices import Shown
from bot.outbox import DueWork, Outcome
from bot.services import notices as rules
from bot.text import t
from handlers.feishu.cards import incident as incident_cards
from handlers.feishu.cards import meeting as meeting_cards
from handlers.feishu.cards.common import button, buttons, card, plain
from handlers.feishu.cards.digest import digest_card
from handlers.feishu.cards.i18n import bilingual
from handlers.feishu.digest import upload_chart
from handlers.feishu.due.common import (
    TITLE_MAX,
    FeishuDeliverer,
    Outbound,
    card_title,
    idempotency_key,
    md,
)
from handlers.feishu.formats import FeishuFormat

TEMPLATES = {n.Tone.INFO: "blue", n.Tone.WARN: "orange", n.Tone.ALERT: "red", n.Tone.DONE: "green"}


def deliverer(out: Outbound) -> FeishuDeliverer:
    """The sender of every kind of due work for one Feishu workspace: plan the row, send its notices, mark it."""
    api, services, fmt = out.api, out.services, FeishuFormat(out.services)

    def title(s: Shown) -> str:
        if s.notice.heading is not None:
            return plain(n.render(s.notice.heading, s.lang, s.tz, fmt) or "", TITLE_MAX)
        record = s.notice.record
        return card_title(record.code, record.title) if record else "coordbot"

    def body(s: Shown, elements: list[dict[str, Any]], heading: str | None = None, subtitle: str | None = None):
        return card(heading or title(s), elements, template=TEMPLATES[s.notice.tone], subtitle=subtitle)

    def plain_notice(s: Shown) -> dict[str, Any]:
        return body(s, md(f"{s.text}\n{s.footer}" if s.footer else s.text))

    def agenda(s: Shown) -> dict[str, Any]:
        shown = meeting_cards.meeting_card(s.lang, s.notice.about, tz=s.tz)
        details = shown["body"]["elements"][:-1]  # the card without its buttons
        subtitle = shown["header"].get("subtitle")
        elements = [*md(s.text), *details, *md(s.footer or "")]
        return body(s, elements, shown["header"]["title"]["content"], subtitle and subtitle["content"])

    def minutes(s: Shown) -> dict[str, Any]:
        info = s.notice.about
        items = services.actions.for_source(rules.meeting.KIND, info.id)
        shown = meeting_cards.minutes_card(s.lang, info, items, tz=s.tz, ack_button=True)
        return body(s, [*md(s.text), *shown["body"]["elements"]], shown["header"]["title"]["content"])

    def with_button(s: Shown, label: str, does: str, name: str) -> dict[str, Any]:
        pressed = button(t(s.lang, label), {"do": does, "id": s.notice.about.id}, kind="primary_filled", name=name)
        return body(s, [*md(s.text), buttons(pressed)])

    def ack(s: Shown) -> dict[str, Any]:
        info = s.notice.about
        return with_button(s, "incident.button.ack", incident_cards.DO_ACK, f"{incident_cards.Names.ACK}_{info.id}")

    def review(s: Shown) -> dict[str, Any]:
        does, name = incident_cards.DO_REVIEW_MEETING, f"incident_review_meeting_{s.notice.about.id}"
        return with_button(s, "incident.button.review_meeting", does, name)

    def digest(s: Shown) -> dict[str, Any]:
        team, chat, late_due = str(s.notice.data["team_id"]), s.notice.to, s.notice.data.get("late_due")
        content = services.digests.content(
            team, chat, now=s.now, open_incidents=services.incidents.with_open_followups(team, chat)
        )
        chart = s.notice.data.get("chart")
        return digest_card(s.lang, content, tz=s.tz, name_of=out.people.name_of, late_due=late_due, chart_key=chart)

    def welcome(s: Shown) -> dict[str, Any]:
        # A Feishu tenant adds the app in its admin console, with no install flow that schedules this; should a
        # row come anyway, the person gets the short hello (the install welcome speaks of Slack).
        return body(s, md(t(s.lang, "feishu.hello")))

    extras: dict[n.Extra, Callable[[Shown], dict[str, Any]]] = {
        n.Extra.AGENDA: agenda,
        n.Extra.MINUTES: minutes,
        n.Extra.ACK: ack,
        n.Extra.REVIEW: review,
        n.Extra.DIGEST: digest,
        n.Extra.WELCOME: welcome,
    }

    def build(notice: n.Notice, lang: str, tz: str, work: DueWork, now: datetime) -> dict[str, Any]:
        shown = n.shown(notice, lang, tz, fmt, work=work, now=now)
        return (plain_notice if notice.extra is None else extras[notice.extra])(shown)

    def show(notice: n.Notice, work: DueWork, now: datetime) -> None:
        """Send one notice: in the language chosen for its reader, else in each reader's Feishu language."""
        workspace = out.people.workspace
        if notice.in_channel:
            lang, tz = out.channel_lang(notice.to), services.settings.tz
            chosen = services.prefs.channel_lang(workspace, notice.to) is not None
        else:
            lang, tz = out.who(notice.to)
            chosen = out.people.chosen_lang(notice.to) is not None
        if notice.extra == n.Extra.DIGEST:  # the chart is drawn and uploaded once, in the chat's language
            chart = upload_chart(api, services, workspace=workspace, chat=notice.to, lang=lang, tz=tz, now=now)
            notice = replace(notice, data={**notice.data, "chart": chart})
        shown = partial(build, notice, tz=tz, work=work, now=now)
        content = shown(lang) if chosen else bilingual(shown, lang)
        where = {"chat_id": notice.to} if notice.in_channel else {"open_id": notice.to}
        api.send_card(**where, card=content, uuid=idempotency_key(work, notice.part))

    def deliver(work: DueWork, now: datetime) -> Outcome:
        return rules.deliver(services, work, now, lambda notice: show(notice, work, now))

    return deliver
