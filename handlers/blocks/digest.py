"""Block Kit for the weekly channel digest: counts, a trend, and the top records of each list, linked."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from slack_sdk.models.blocks import Block, ContextBlock, DividerBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.services.digests import Digest, Entry, OwnerGroup, Ref, Trend
from bot.text import t
from handlers.blocks.common import SECTION_MAX, date_token, escape, mention, plain, truncate

TOP = 5  # records listed per list; the rest are counted
PER_OWNER = 3  # overdue items listed per owner
MAX_TITLE = 80
MAX_NOTE = 200
BUDGET = SECTION_MAX - 200  # room left for the "and N more" line


class Ids(StrEnum):
    """block_id values the digest owns."""

    HEADER = "digest_header"
    WINDOW = "digest_window"
    SUMMARY = "digest_summary"
    TREND = "digest_trend"
    ATTENTION = "digest_attention"
    INCIDENTS = "digest_incidents"
    CONFIRMED = "digest_confirmed"
    AWAITING = "digest_awaiting"
    CHANGES = "digest_changes"
    DONE = "digest_done"
    OVERDUE = "digest_overdue"
    BLOCKED = "digest_blocked"
    OPEN = "digest_open"
    HELD = "digest_held"
    MINUTES_MISSING = "digest_minutes_missing"
    UPCOMING = "digest_upcoming"
    EMPTY = "digest_empty"
    FOOTER = "digest_footer"


def permalink(base_url: str | None, ref: Ref) -> str | None:
    """The permalink of a record's message, from the workspace URL (https://acme.slack.com/)."""
    if not base_url or not ref.channel_id or not ref.message_ts:
        return None
    return f"{base_url.rstrip('/')}/archives/{ref.channel_id}/p{ref.message_ts.replace('.', '')}"


@dataclass(frozen=True)
class _Style:
    """What every line needs: the language, the timezone of date fallbacks, people's names, the workspace URL."""

    lang: str
    tz: str
    name_of: Callable[[str], str]
    base_url: str | None

    def record(self, ref: Ref) -> str:
        code = escape(ref.code)
        link = permalink(self.base_url, ref)
        return f"<{link}|{code}>" if link else f"`{code}`"

    def person(self, user_id: str, *, notify: bool) -> str:
        # only overdue work pings its people; everyone else is named without a notification
        return mention(user_id) if notify else escape(self.name_of(user_id))

    def people(self, entry: Entry) -> str:
        return ", ".join(self.person(u, notify=entry.overdue) for u in entry.people)

    def when(self, moment: datetime | None) -> str:
        return date_token(moment, self.tz) if moment else ""

    def title(self, entry: Entry) -> str:
        return truncate(escape(" ".join(entry.title.split())), MAX_TITLE)

    def note(self, key: str, entry: Entry) -> str:
        if not entry.note:
            return ""
        return t(self.lang, key, reason=truncate(escape(" ".join(entry.note.split())), MAX_NOTE))


def _change(trend: Trend) -> str:
    if trend.delta > 0:
        return f"↑{trend.delta}"
    if trend.delta < 0:
        return f"↓{-trend.delta}"
    return "±0"


def _list(
    style: _Style, block_id: str, heading: str, lines: Sequence[str], total: int, more_key: str = "digest.more"
) -> SectionBlock:
    """A heading and the top lines that fit in one section; the rest are counted."""
    text, shown = heading, 0
    for line in lines[:TOP]:
        if len(text) + 1 + len(line) > BUDGET:
            break
        text += "\n" + line
        shown += 1
    if total > shown:
        text += "\n" + t(style.lang, more_key, n=total - shown)
    return SectionBlock(block_id=block_id, text=MarkdownTextObject(text=truncate(text, SECTION_MAX)))


def _line(style: _Style, entry: Entry, extra: str, people: str | None = None) -> str:
    return t(
        style.lang,
        "digest.line",
        record=style.record(entry.ref),
        title=style.title(entry),
        people=style.people(entry) if people is None else people,
        extra=extra,
    )


def _source(style: _Style, entry: Entry) -> str:
    return t(style.lang, "digest.extra.source", source=style.record(entry.source)) if entry.source else ""


def _action_line(style: _Style, entry: Entry, *, done: bool = False) -> str:
    if done:
        extra = t(style.lang, "digest.extra.done", when=style.when(entry.when))
    else:
        key = "digest.extra.overdue" if entry.overdue else "digest.extra.due"
        extra = t(style.lang, key, when=style.when(entry.when))
    return _line(style, entry, extra + _source(style, entry) + style.note("digest.extra.blocked", entry))


def _awaiting_line(style: _Style, entry: Entry) -> str:
    key = "digest.extra.sign_overdue" if entry.overdue else "digest.extra.sign_by"
    people = t(style.lang, "digest.waiting_for", people=style.people(entry))
    return _line(style, entry, t(style.lang, key, when=style.when(entry.when)), people=people)


def _meeting_line(style: _Style, entry: Entry, *, minutes: bool) -> str:
    extra = t(style.lang, "digest.extra.when", when=style.when(entry.when))
    if minutes:
        extra += t(style.lang, "digest.extra.minutes" if entry.done else "digest.extra.no_minutes")
    return _line(style, entry, extra)


def _owner_line(style: _Style, group: OwnerGroup) -> str:
    items = [
        t(style.lang, "digest.owner_item", record=style.record(e.ref), title=style.title(e), when=style.when(e.when))
        for e in group.entries[:PER_OWNER]
    ]
    if len(group.entries) > PER_OWNER:
        items.append(t(style.lang, "digest.owner_more", n=len(group.entries) - PER_OWNER))
    return t(
        style.lang,
        "digest.owner_line",
        owner=style.person(group.owner_id, notify=True),
        n=len(group.entries),
        items="; ".join(items),
    )


def _sections(style: _Style, d: Digest) -> list[Block]:
    """Each non-empty list; requirement sheets, action items and meetings apart, with dividers between."""
    lang = style.lang

    def listing(
        block_id: str, key: str, entries: Sequence[Entry], render: Callable[[Entry], str], more_key: str = "digest.more"
    ) -> list[Block]:
        if not entries:
            return []
        return [
            _list(
                style,
                block_id,
                t(lang, key, n=len(entries)),
                [render(e) for e in entries[:TOP]],
                len(entries),
                more_key,
            )
        ]

    overdue: list[Block] = []
    if d.overdue:
        overdue = [
            _list(
                style,
                Ids.OVERDUE,
                t(lang, "digest.overdue", n=d.overdue_count),
                [_owner_line(style, g) for g in d.overdue[:TOP]],
                len(d.overdue),
                "digest.more_owners",
            )
        ]
    more_req = "digest.more_requirements"
    groups: list[list[Block]] = [
        listing(
            Ids.INCIDENTS,
            "digest.incidents",
            d.incidents,
            lambda e: _line(style, e, t(lang, "digest.extra.incident", n=e.note or "0")),
        ),
        listing(Ids.ATTENTION, "digest.attention", d.needs_attention, lambda e: _action_line(style, e)),
        [
            *listing(
                Ids.CONFIRMED,
                "digest.confirmed",
                d.confirmed,
                lambda e: _line(style, e, t(lang, "digest.extra.confirmed", when=style.when(e.when))),
                more_req,
            ),
            *listing(Ids.AWAITING, "digest.awaiting", d.awaiting, lambda e: _awaiting_line(style, e), more_req),
            *listing(
                Ids.CHANGES,
                "digest.changes",
                d.changes_requested,
                lambda e: _line(style, e, style.note("digest.extra.changes", e)),
                more_req,
            ),
        ],
        [
            *listing(Ids.DONE, "digest.done", d.done, lambda e: _action_line(style, e, done=True)),
            *overdue,
            *listing(Ids.BLOCKED, "digest.blocked", d.blocked, lambda e: _action_line(style, e)),
            *listing(Ids.OPEN, "digest.open", d.open, lambda e: _action_line(style, e)),
        ],
        [
            *listing(Ids.HELD, "digest.held", d.held, lambda e: _meeting_line(style, e, minutes=True)),
            *listing(
                Ids.MINUTES_MISSING,
                "digest.minutes_missing",
                d.minutes_missing,
                lambda e: _meeting_line(style, e, minutes=False),
            ),
            *listing(Ids.UPCOMING, "digest.upcoming", d.upcoming, lambda e: _meeting_line(style, e, minutes=False)),
        ],
    ]
    out: list[Block] = []
    for group in (g for g in groups if g):
        out += [DividerBlock(), *group] if out else group
    return out


def digest_blocks(
    lang: str,
    d: Digest,
    *,
    tz: str,
    name_of: Callable[[str], str],
    base_url: str | None,
    late_due: datetime | None = None,
) -> list[Block]:
    """The digest message: header, window, counts, trend, then each non-empty list (at most ~20 blocks).

    `name_of` gives a person's name; it is asked only about the people of the records shown.
    """
    style = _Style(lang, tz, name_of, base_url)
    window = t(
        lang,
        "digest.window",
        channel=f"<#{d.channel_id}>",
        start=date_token(d.start, tz, with_time=False),
        end=date_token(d.end, tz, with_time=False),
    )
    if late_due is not None:
        window += " " + t(lang, "digest.late", when=date_token(late_due, tz))
    blocks: list[Block] = [
        HeaderBlock(block_id=Ids.HEADER, text=plain(t(lang, "digest.header"), 150)),
        ContextBlock(block_id=Ids.WINDOW, elements=[MarkdownTextObject(text=window)]),
    ]
    if d.empty:
        blocks.append(SectionBlock(block_id=Ids.EMPTY, text=MarkdownTextObject(text=t(lang, "digest.empty"))))
        return blocks
    blocks += [
        SectionBlock(
            block_id=Ids.SUMMARY,
            text=MarkdownTextObject(
                text=t(
                    lang,
                    "digest.summary",
                    confirmed=len(d.confirmed),
                    awaiting=len(d.awaiting),
                    changes=len(d.changes_requested),
                    done=len(d.done),
                    open=len(d.open),
                    overdue=d.overdue_count,
                    blocked=len(d.blocked),
                    held=len(d.held),
                    missing=len(d.minutes_missing),
                    upcoming=len(d.upcoming),
                )
            ),
        ),
        ContextBlock(block_id=Ids.TREND, elements=[MarkdownTextObject(text=trend_text(lang, d))]),
        DividerBlock(),
        *_sections(style, d),
        ContextBlock(block_id=Ids.FOOTER, elements=[MarkdownTextObject(text=t(lang, "digest.footer"))]),
    ]
    return blocks


def trend_text(lang: str, d: Digest) -> str:
    """One line against the previous week: done, overdue, confirmed."""
    return t(
        lang,
        "digest.trend",
        done=d.done_trend.current,
        done_change=_change(d.done_trend),
        overdue=d.overdue_trend.current,
        overdue_change=_change(d.overdue_trend),
        confirmed=d.confirmed_trend.current,
        confirmed_change=_change(d.confirmed_trend),
    )


def digest_text(lang: str, d: Digest, *, tz: str, late_due: datetime | None = None) -> str:
    """The notification text: the headline counts, without mentions."""
    text = t(
        lang,
        "digest.fallback",
        channel=f"<#{d.channel_id}>",
        done=len(d.done),
        overdue=d.overdue_count,
        confirmed=len(d.confirmed),
    )
    if late_due is not None:
        text += " " + t(lang, "digest.late", when=date_token(late_due, tz))
    return text
