"""The weekly digest's lines, written once for every messenger.

Each adapter supplies a `DigestStyle`, how a record, a person, a time, a title and a note look on its platform and
how a catalog text is filled there, and lays the lines built here out in its own blocks or card.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.services.digests import Digest, Entry, OwnerGroup, Ref, Trend

TOP = 5  # records listed per list; the rest are counted
PER_OWNER = 3  # overdue items listed per owner
MAX_TITLE = 80  # a record's title is cut to this many characters
MAX_NOTE = 200  # and a note (why blocked, which changes) to this many


class Fill(Protocol):
    """How a platform fills a catalog text: Slack's `t`, Feishu's `lark_t`."""

    def __call__(self, lang: str, key: str, **params: object) -> str:
        """The text for `key` in `lang`, in the platform's markup."""


class DigestStyle(Protocol):
    """What a platform supplies to the digest's lines: how each of their parts looks on it."""

    @property
    def lang(self) -> str:
        """The reader's language."""

    def fill(self, key: str, **params: object) -> str:
        """The catalog text for `key` in the reader's language, in the platform's markup."""

    def markup(self, text: str) -> str:
        """Text already in the platform's markup, marked so that `fill` puts it in as it is."""

    def record(self, ref: Ref) -> str:
        """A record's code, linked to its message where the platform can."""

    def person(self, user_id: str, *, notify: bool) -> str:
        """A person: mentioned (notified) when `notify`, else named."""

    def people(self, entry: Entry) -> str:
        """A record's people, mentioned only when it is overdue."""

    def when(self, moment: datetime | None) -> str:
        """A moment for the reader; empty when there is none."""

    def title(self, entry: Entry) -> str:
        """A record's title on one line, cut short."""

    def note(self, key: str, entry: Entry) -> str:
        """A record's note in the catalog text `key`; empty when it has none."""


def change(trend: Trend) -> str:
    """A count's change against the previous week: ↑3, ↓2, or ±0."""
    if trend.delta > 0:
        return f"↑{trend.delta}"
    if trend.delta < 0:
        return f"↓{-trend.delta}"
    return "±0"


def trend_text(fill: Fill, lang: str, d: Digest) -> str:
    """One line against the previous week: done, overdue, confirmed."""
    return fill(
        lang,
        "digest.trend",
        done=d.done_trend.current,
        done_change=change(d.done_trend),
        overdue=d.overdue_trend.current,
        overdue_change=change(d.overdue_trend),
        confirmed=d.confirmed_trend.current,
        confirmed_change=change(d.confirmed_trend),
    )


def line(style: DigestStyle, entry: Entry, extra: str, people: str | None = None) -> str:
    """A record's line: code, title, people (its own unless given) and `extra`, both already in markup."""
    return style.fill(
        "digest.line",
        record=style.record(entry.ref),
        title=style.title(entry),
        people=style.people(entry) if people is None else style.markup(people),
        extra=style.markup(extra),
    )


def source(style: DigestStyle, entry: Entry) -> str:
    """Where an action item came from (its meeting or requirement); empty when it came from nowhere."""
    return style.fill("digest.extra.source", source=style.record(entry.source)) if entry.source else ""


def action_line(style: DigestStyle, entry: Entry, *, done: bool = False) -> str:
    """An action item: when it was done, or when it is (over)due; where it came from and why it is blocked."""
    if done:
        extra = style.fill("digest.extra.done", when=style.when(entry.when))
    else:
        key = "digest.extra.overdue" if entry.overdue else "digest.extra.due"
        extra = style.fill(key, when=style.when(entry.when))
    return line(style, entry, extra + source(style, entry) + style.note("digest.extra.blocked", entry))


def awaiting_line(style: DigestStyle, entry: Entry) -> str:
    """A requirement sheet awaiting signatures: whom it waits for, and by when."""
    key = "digest.extra.sign_overdue" if entry.overdue else "digest.extra.sign_by"
    people = style.fill("digest.waiting_for", people=style.people(entry))
    return line(style, entry, style.fill(key, when=style.when(entry.when)), people=people)


def meeting_line(style: DigestStyle, entry: Entry, *, minutes: bool) -> str:
    """A meeting and when it is; with `minutes`, whether its minutes are recorded."""
    extra = style.fill("digest.extra.when", when=style.when(entry.when))
    if minutes:
        extra += style.fill("digest.extra.minutes" if entry.done else "digest.extra.no_minutes")
    return line(style, entry, extra)


def incident_line(style: DigestStyle, entry: Entry) -> str:
    """An incident and how many of its follow-ups are open (its note)."""
    return line(style, entry, style.fill("digest.extra.incident", n=entry.note or "0"))


def confirmed_line(style: DigestStyle, entry: Entry) -> str:
    """A requirement sheet and when it was confirmed."""
    return line(style, entry, style.fill("digest.extra.confirmed", when=style.when(entry.when)))


def changes_line(style: DigestStyle, entry: Entry) -> str:
    """A requirement sheet and the changes requested of it."""
    return line(style, entry, style.note("digest.extra.changes", entry))


def owner_line(style: DigestStyle, group: OwnerGroup) -> str:
    """One owner's overdue work: the owner mentioned, how many, and the first few items."""
    items = [
        style.fill("digest.owner_item", record=style.record(e.ref), title=style.title(e), when=style.when(e.when))
        for e in group.entries[:PER_OWNER]
    ]
    if len(group.entries) > PER_OWNER:
        items.append(style.fill("digest.owner_more", n=len(group.entries) - PER_OWNER))
    return style.fill(
        "digest.owner_line",
        owner=style.markup(style.person(group.owner_id, notify=True)),
        n=len(group.entries),
        items=style.markup("; ".join(items)),
    )


@dataclass(frozen=True)
class Listing:
    """One list of the digest: its heading, the lines of its top records, and how many it holds in all."""

    key: str  # the heading's catalog key, which also names the list ("digest.done")
    heading: str
    lines: tuple[str, ...]
    total: int
    more_key: str = "digest.more"  # the text that counts the records not shown


def listings(style: DigestStyle, d: Digest) -> list[list[Listing]]:
    """The digest's non-empty lists, grouped to be shown apart: incidents, escalations, requirement sheets,
    action items, meetings."""

    def listing(
        key: str, entries: Sequence[Entry], render: Callable[[Entry], str], more_key: str = "digest.more"
    ) -> list[Listing]:
        if not entries:
            return []
        # only the records shown are rendered: a style is asked about the people of those alone
        lines = tuple(render(e) for e in entries[:TOP])
        return [Listing(key, style.fill(key, n=len(entries)), lines, len(entries), more_key)]

    overdue: list[Listing] = []
    if d.overdue:
        lines = tuple(owner_line(style, g) for g in d.overdue[:TOP])
        heading = style.fill("digest.overdue", n=d.overdue_count)
        overdue = [Listing("digest.overdue", heading, lines, len(d.overdue), "digest.more_owners")]
    more_req = "digest.more_requirements"
    groups: list[list[Listing]] = [
        listing("digest.incidents", d.incidents, lambda e: incident_line(style, e)),
        listing("digest.attention", d.needs_attention, lambda e: action_line(style, e)),
        [
            *listing("digest.confirmed", d.confirmed, lambda e: confirmed_line(style, e), more_req),
            *listing("digest.awaiting", d.awaiting, lambda e: awaiting_line(style, e), more_req),
            *listing("digest.changes", d.changes_requested, lambda e: changes_line(style, e), more_req),
        ],
        [
            *listing("digest.done", d.done, lambda e: action_line(style, e, done=True)),
            *overdue,
            *listing("digest.blocked", d.blocked, lambda e: action_line(style, e)),
            *listing("digest.open", d.open, lambda e: action_line(style, e)),
        ],
        [
            *listing("digest.held", d.held, lambda e: meeting_line(style, e, minutes=True)),
            *listing("digest.minutes_missing", d.minutes_missing, lambda e: meeting_line(style, e, minutes=False)),
            *listing("digest.upcoming", d.upcoming, lambda e: meeting_line(style, e, minutes=False)),
        ],
    ]
    return [g for g in groups if g]
