"""Block Kit for the weekly channel digest: counts, a trend, and the top records of each list, linked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from slack_sdk.models.blocks import Block, ContextBlock, DividerBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot import digest_lines
from bot.digest_lines import MAX_NOTE, MAX_TITLE, TOP, Listing, listings
from bot.services.digests import Digest, Entry, Ref
from bot.text import t
from handlers.blocks.common import SECTION_MAX, date_token, escape, mention, plain, truncate

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

    def fill(self, key: str, **params: object) -> str:
        return t(self.lang, key, **params)

    def markup(self, text: str) -> str:
        # the catalog is written in mrkdwn and every part is escaped as it is made: nothing to mark
        return text

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


# the block of each list, by its heading's key
_BLOCK_IDS = {
    "digest.incidents": Ids.INCIDENTS,
    "digest.attention": Ids.ATTENTION,
    "digest.confirmed": Ids.CONFIRMED,
    "digest.awaiting": Ids.AWAITING,
    "digest.changes": Ids.CHANGES,
    "digest.done": Ids.DONE,
    "digest.overdue": Ids.OVERDUE,
    "digest.blocked": Ids.BLOCKED,
    "digest.open": Ids.OPEN,
    "digest.held": Ids.HELD,
    "digest.minutes_missing": Ids.MINUTES_MISSING,
    "digest.upcoming": Ids.UPCOMING,
}


def _list(lang: str, listing: Listing) -> SectionBlock:
    """A heading and the top lines that fit in one section; the rest are counted."""
    text, shown = listing.heading, 0
    for line in listing.lines[:TOP]:
        if len(text) + 1 + len(line) > BUDGET:
            break
        text += "\n" + line
        shown += 1
    if listing.total > shown:
        text += "\n" + t(lang, listing.more_key, n=listing.total - shown)
    return SectionBlock(block_id=_BLOCK_IDS[listing.key], text=MarkdownTextObject(text=truncate(text, SECTION_MAX)))


def _sections(style: _Style, d: Digest) -> list[Block]:
    """Each non-empty list; requirement sheets, action items and meetings apart, with dividers between."""
    out: list[Block] = []
    for group in listings(style, d):
        blocks: list[Block] = [_list(style.lang, x) for x in group]
        out += [DividerBlock(), *blocks] if out else blocks
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
    return digest_lines.trend_text(t, lang, d)


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
