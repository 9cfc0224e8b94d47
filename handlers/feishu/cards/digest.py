"""Feishu card for the weekly chat digest: counts, a trend, its chart, and the top records of each list."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.services.charts import WEEKS
from bot.services.digests import Digest, Entry, OwnerGroup, Ref, Trend
from bot.text import t
from handlers.feishu.cards.common import Md, at, card, clip, escape_md, hr, lark_t, markdown, plain, when

logger = logging.getLogger(__name__)

TOP = 5  # records listed per list; the rest are counted
PER_OWNER = 3  # overdue items listed per owner
MAX_TITLE = 80
MAX_NOTE = 200
_CODE = re.compile(r"[A-Za-z0-9_\-]{1,40}")


@dataclass(frozen=True)
class _Style:
    """What every line needs: the language, the timezone, people's names."""

    lang: str
    tz: str
    name_of: Callable[[str], str] | None

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


def _change(trend: Trend) -> str:
    if trend.delta > 0:
        return f"↑{trend.delta}"
    if trend.delta < 0:
        return f"↓{-trend.delta}"
    return "±0"


def _list(style: _Style, heading: str, lines: Sequence[str], total: int, more_key: str) -> dict[str, Any]:
    """A heading and the top lines; the rest are counted."""
    shown = list(lines[:TOP])
    if total > len(shown):
        shown.append(lark_t(style.lang, more_key, n=total - len(shown)))
    return markdown("\n".join([heading, *shown]))


def _line(style: _Style, entry: Entry, extra: str, people: Md | None = None) -> str:
    return lark_t(
        style.lang,
        "digest.line",
        record=style.record(entry.ref),
        title=style.title(entry),
        people=style.people(entry) if people is None else people,
        extra=Md(extra),
    )


def _source(style: _Style, entry: Entry) -> str:
    return lark_t(style.lang, "digest.extra.source", source=style.record(entry.source)) if entry.source else ""


def _action_line(style: _Style, entry: Entry, *, done: bool = False) -> str:
    if done:
        extra = lark_t(style.lang, "digest.extra.done", when=style.when(entry.when))
    else:
        key = "digest.extra.overdue" if entry.overdue else "digest.extra.due"
        extra = lark_t(style.lang, key, when=style.when(entry.when))
    return _line(style, entry, extra + _source(style, entry) + style.note("digest.extra.blocked", entry))


def _awaiting_line(style: _Style, entry: Entry) -> str:
    key = "digest.extra.sign_overdue" if entry.overdue else "digest.extra.sign_by"
    people = Md(lark_t(style.lang, "digest.waiting_for", people=style.people(entry)))
    return _line(style, entry, lark_t(style.lang, key, when=style.when(entry.when)), people=people)


def _meeting_line(style: _Style, entry: Entry, *, minutes: bool) -> str:
    extra = lark_t(style.lang, "digest.extra.when", when=style.when(entry.when))
    if minutes:
        extra += lark_t(style.lang, "digest.extra.minutes" if entry.done else "digest.extra.no_minutes")
    return _line(style, entry, extra)


def _owner_line(style: _Style, group: OwnerGroup) -> str:
    items = [
        lark_t(
            style.lang,
            "digest.owner_item",
            record=style.record(e.ref),
            title=style.title(e),
            when=style.when(e.when),
        )
        for e in group.entries[:PER_OWNER]
    ]
    if len(group.entries) > PER_OWNER:
        items.append(lark_t(style.lang, "digest.owner_more", n=len(group.entries) - PER_OWNER))
    return lark_t(
        style.lang,
        "digest.owner_line",
        owner=Md(style.person(group.owner_id, notify=True)),
        n=len(group.entries),
        items=Md("; ".join(items)),
    )


def _sections(style: _Style, d: Digest) -> list[dict[str, Any]]:
    """Each non-empty list; incidents, escalations, requirement sheets, action items and meetings apart, with
    dividers between."""
    lang = style.lang

    def listing(
        key: str, entries: Sequence[Entry], render: Callable[[Entry], str], more_key: str = "digest.more"
    ) -> list[dict[str, Any]]:
        if not entries:
            return []
        heading = lark_t(lang, key, n=len(entries))
        return [_list(style, heading, [render(e) for e in entries[:TOP]], len(entries), more_key)]

    overdue: list[dict[str, Any]] = []
    if d.overdue:
        heading = lark_t(lang, "digest.overdue", n=d.overdue_count)
        lines = [_owner_line(style, g) for g in d.overdue[:TOP]]
        overdue = [_list(style, heading, lines, len(d.overdue), "digest.more_owners")]
    more_req = "digest.more_requirements"
    groups: list[list[dict[str, Any]]] = [
        listing(
            "digest.incidents",
            d.incidents,
            lambda e: _line(style, e, lark_t(lang, "digest.extra.incident", n=e.note or "0")),
        ),
        listing("digest.attention", d.needs_attention, lambda e: _action_line(style, e)),
        [
            *listing(
                "digest.confirmed",
                d.confirmed,
                lambda e: _line(style, e, lark_t(lang, "digest.extra.confirmed", when=style.when(e.when))),
                more_req,
            ),
            *listing("digest.awaiting", d.awaiting, lambda e: _awaiting_line(style, e), more_req),
            *listing(
                "digest.changes",
                d.changes_requested,
                lambda e: _line(style, e, style.note("digest.extra.changes", e)),
                more_req,
            ),
        ],
        [
            *listing("digest.done", d.done, lambda e: _action_line(style, e, done=True)),
            *overdue,
            *listing("digest.blocked", d.blocked, lambda e: _action_line(style, e)),
            *listing("digest.open", d.open, lambda e: _action_line(style, e)),
        ],
        [
            *listing("digest.held", d.held, lambda e: _meeting_line(style, e, minutes=True)),
            *listing("digest.minutes_missing", d.minutes_missing, lambda e: _meeting_line(style, e, minutes=False)),
            *listing("digest.upcoming", d.upcoming, lambda e: _meeting_line(style, e, minutes=False)),
        ],
    ]
    out: list[dict[str, Any]] = []
    for group in (g for g in groups if g):
        out += [hr(), *group] if out else group
    return out


def trend_text(lang: str, d: Digest) -> str:
    """One line against the previous week: done, overdue, confirmed (card markdown)."""
    return lark_t(
        lang,
        "digest.trend",
        done=d.done_trend.current,
        done_change=_change(d.done_trend),
        overdue=d.overdue_trend.current,
        overdue_change=_change(d.overdue_trend),
        confirmed=d.confirmed_trend.current,
        confirmed_change=_change(d.confirmed_trend),
    )


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
