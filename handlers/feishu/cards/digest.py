"""Feishu card for the weekly chat digest: counts, a trend, its chart, and the top records of each list."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot import digest_lines
from bot.digest_lines import MAX_NOTE, MAX_TITLE, TOP, Listing, listings
from bot.services.charts import WEEKS
from bot.services.digests import Digest, Entry, Ref
from bot.text import t
from handlers.feishu.cards.common import Md, at, card, clip, escape_md, hr, lark_t, markdown, plain, when

logger = logging.getLogger(__name__)

_CODE = re.compile(r"[A-Za-z0-9_\-]{1,40}")


@dataclass(frozen=True)
class _Style:
    """What every line needs: the language, the timezone, people's names."""

    lang: str
    tz: str
    name_of: Callable[[str], str] | None

    def fill(self, key: str, **params: object) -> str:
        return lark_t(self.lang, key, **params)

    def markup(self, text: str) -> Md:
        # lark_t escapes every other parameter as typed text
        return Md(text)

    def record(self, ref: Ref) -> Md:
        # a card cannot link a record's message (Feishu has no permalink for a message id): the code, as code
        return Md(f"`{ref.code}`") if _CODE.fullmatch(ref.code) else Md(escape_md(ref.code))

    def person(self, user_id: str, *, notify: bool) -> str:
        # only overdue work pings its people; everyone else is named without a notification (when names are known)
        if notify or self.name_of is None:
            return at(user_id)
        return escape_md(self.name_of(user_id))

    def people(self, entry: Entry) -> Md:
        return Md(", ".join(self.person(u, notify=entry.overdue) for u in entry.people))

    def when(self, moment: datetime | None) -> str:
        return when(moment, self.tz, self.lang) if moment else ""

    def title(self, entry: Entry) -> str:
        return clip(" ".join(entry.title.split()), MAX_TITLE)  # typed text: lark_t escapes it

    def note(self, key: str, entry: Entry) -> Md:
        if not entry.note:
            return Md("")
        return Md(lark_t(self.lang, key, reason=clip(" ".join(entry.note.split()), MAX_NOTE)))


def _list(lang: str, listing: Listing) -> dict[str, Any]:
    """A heading and the top lines; the rest are counted."""
    shown = list(listing.lines[:TOP])
    if listing.total > len(shown):
        shown.append(lark_t(lang, listing.more_key, n=listing.total - len(shown)))
    return markdown("\n".join([listing.heading, *shown]))


def _sections(style: _Style, d: Digest) -> list[dict[str, Any]]:
    """Each non-empty list; incidents, escalations, requirement sheets, action items and meetings apart, with
    dividers between."""
    out: list[dict[str, Any]] = []
    for group in listings(style, d):
        elements = [_list(style.lang, x) for x in group]
        out += [hr(), *elements] if out else elements
    return out


def trend_text(lang: str, d: Digest) -> str:
    """One line against the previous week: done, overdue, confirmed (card markdown)."""
    return digest_lines.trend_text(lark_t, lang, d)


def chart_image(lang: str, chart_key: str) -> dict[str, Any]:
    """The action items chart, an image uploaded to Feishu (its image_key), shown whole across the card."""
    return {
        "tag": "img",
        "img_key": chart_key,
        "alt": {"tag": "plain_text", "content": plain(t(lang, "chart.actions.title", weeks=WEEKS))},
        "scale_type": "fit_horizontal",  # the chart's own size and proportions: no cropping
    }


def window_text(lang: str, d: Digest, *, tz: str, chat_name: str = "", late_due: datetime | None = None) -> str:
    """The digest's chat and days (plain text): `#chat · 2026-11-19 (Thu) – 2026-11-26 (Thu)`, and when it is late."""
    start, end = when(d.start, tz, lang, with_time=False), when(d.end, tz, lang, with_time=False)
    channel = f"#{chat_name}" if chat_name else ""
    window = t(lang, "digest.window", channel=channel, start=start, end=end).strip().lstrip("·").strip()
    if late_due is not None:
        window += " " + t(lang, "digest.late", when=when(late_due, tz, lang))
    return window


def digest_card(
    lang: str,
    digest: Digest,
    *,
    tz: str,
    name_of: Callable[[str], str] | None = None,
    chat_name: str = "",
    late_due: datetime | None = None,
    chart_key: str | None = None,
) -> dict[str, Any]:
    """The digest: the window, counts, the trend, the chart (`chart_key`: its uploaded image), then each
    non-empty list (overdue work by owner).

    People with overdue work are mentioned (notified); the others are named with `name_of` when given (asked
    only about the people of the records shown), else mentioned too.
    """
    style = _Style(lang, tz, name_of)
    chart = [chart_image(lang, chart_key)] if chart_key else []
    elements: list[dict[str, Any]]
    if digest.empty:
        elements = [markdown(lark_t(lang, "digest.empty")), *chart]
    else:
        summary = lark_t(
            lang,
            "digest.summary",
            confirmed=len(digest.confirmed),
            awaiting=len(digest.awaiting),
            changes=len(digest.changes_requested),
            done=len(digest.done),
            open=len(digest.open),
            overdue=digest.overdue_count,
            blocked=len(digest.blocked),
            held=len(digest.held),
            missing=len(digest.minutes_missing),
            upcoming=len(digest.upcoming),
        )
        elements = [
            markdown(summary),
            markdown(trend_text(lang, digest), notation=True),
            *chart,
            hr(),
            *_sections(style, digest),
        ]
    return card(
        t(lang, "digest.header"),
        elements,
        template="orange" if digest.overdue else "blue",
        subtitle=window_text(lang, digest, tz=tz, chat_name=chat_name, late_due=late_due),
        summary=digest_text(lang, digest, tz=tz, chat_name=chat_name, late_due=late_due),
    )


def digest_text(lang: str, digest: Digest, *, tz: str, chat_name: str = "", late_due: datetime | None = None) -> str:
    """The plain-text headline (the chat list preview, or a text message): counts without mentions; the chat by
    name (its id when no name is given)."""
    text = t(
        lang,
        "digest.fallback",
        channel=f"#{chat_name}" if chat_name else digest.channel_id,
        done=len(digest.done),
        overdue=digest.overdue_count,
        confirmed=len(digest.confirmed),
    )
    if late_due is not None:
        text += " " + t(lang, "digest.late", when=when(late_due, tz, lang))
    return text
