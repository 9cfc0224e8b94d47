"""The digest's lines, written once for every messenger, through a plain-text style."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot import digest_lines
from bot.digest_lines import PER_OWNER, TOP, DigestStyle, Listing
from bot.services.digests import Digest, Entry, OwnerGroup, Ref, Trend
from bot.text import t

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
TOMORROW = NOW + timedelta(days=1)
FLAT = Trend(1, 1)  # no change against the previous week


@dataclass(frozen=True)
class Plain:
    """A style with no markup: people by id (@ when notified), times as ISO dates."""

    lang: str = "en"

    def fill(self, key: str, **params: object) -> str:
        return t(self.lang, key, **params)

    def markup(self, text: str) -> str:
        return text

    def record(self, ref: Ref) -> str:
        return f"[{ref.code}]"

    def person(self, user_id: str, *, notify: bool) -> str:
        return f"@{user_id}" if notify else user_id

    def people(self, entry: Entry) -> str:
        return ", ".join(self.person(u, notify=entry.overdue) for u in entry.people)

    def when(self, moment: datetime | None) -> str:
        return moment.date().isoformat() if moment else ""

    def title(self, entry: Entry) -> str:
        return entry.title

    def note(self, key: str, entry: Entry) -> str:
        return self.fill(key, reason=entry.note) if entry.note else ""


STYLE: DigestStyle = Plain()


def entry(
    code: str,
    *,
    when: datetime = TOMORROW,
    overdue: bool = False,
    done: bool = False,
    note: str | None = None,
    source: Ref | None = None,
) -> Entry:
    """An entry owned by U1, due a day from now unless told otherwise."""
    return Entry(Ref(code), f"title of {code}", ("U1",), when, overdue, done, note, source)


def digest(
    *,
    done: tuple[Entry, ...] = (),
    overdue: tuple[OwnerGroup, ...] = (),
    done_trend: Trend = FLAT,
    overdue_trend: Trend = FLAT,
    confirmed_trend: Trend = FLAT,
) -> Digest:
    """A digest with the given lists and trends, every other list empty."""
    return Digest(
        channel_id="C1",
        start=NOW - timedelta(days=7),
        end=NOW,
        needs_attention=(),
        confirmed=(),
        awaiting=(),
        changes_requested=(),
        done=done,
        overdue=overdue,
        blocked=(),
        open=(),
        held=(),
        minutes_missing=(),
        upcoming=(),
        confirmed_trend=confirmed_trend,
        done_trend=done_trend,
        overdue_trend=overdue_trend,
    )


def test_an_action_line_names_its_record_owner_due_time_source_and_why_it_is_blocked() -> None:
    line = digest_lines.action_line(STYLE, entry("A-1", source=Ref("REQ-7"), note="waiting on legal"))
    assert line == "• [A-1] title of A-1 — U1 · due 2026-11-27 · from [REQ-7]\n      Blocked: waiting on legal"


def test_overdue_work_mentions_its_owner_and_says_it_was_due() -> None:
    line = digest_lines.action_line(STYLE, entry("A-2", overdue=True, when=NOW - timedelta(days=3)))
    assert line == "• [A-2] title of A-2 — @U1 · ⚠️ was due 2026-11-23"


def test_a_done_item_says_when_it_was_done() -> None:
    assert digest_lines.action_line(STYLE, entry("A-3", when=NOW), done=True).endswith("U1 · done 2026-11-26")


def test_an_awaiting_sheet_says_whom_it_waits_for() -> None:
    line = digest_lines.awaiting_line(STYLE, entry("REQ-1"))
    assert line == "• [REQ-1] title of REQ-1 — waiting for U1 · sign by 2026-11-27"


def test_a_meetings_minutes_are_told_only_when_asked() -> None:
    held = entry("MTG-1", done=True)
    assert digest_lines.meeting_line(STYLE, held, minutes=True).endswith(" · 2026-11-27 · minutes recorded")
    assert digest_lines.meeting_line(STYLE, held, minutes=False).endswith(" · 2026-11-27")


def test_an_owner_line_mentions_the_owner_and_counts_the_items_past_the_first_few() -> None:
    items = tuple(entry(f"A-{n}", overdue=True) for n in range(PER_OWNER + 2))
    line = digest_lines.owner_line(STYLE, OwnerGroup("U9", items))
    assert line.startswith(f"• @U9 — {PER_OWNER + 2} overdue: [A-0] title of A-0 (due 2026-11-27); ")
    assert line.endswith("; +2 more")
    assert "[A-3]" not in line


def test_a_trend_shows_the_sign_of_each_change() -> None:
    d = digest(done_trend=Trend(5, 2), overdue_trend=Trend(1, 4), confirmed_trend=Trend(3, 3))
    assert digest_lines.trend_text(t, "en", d) == (
        "Done 5 (↑3 vs last week) · overdue 1 (↓3) · requirements confirmed 3 (±0)"
    )


def test_listings_render_the_top_records_count_them_all_and_drop_empty_groups() -> None:
    done = tuple(entry(f"A-{n}", when=NOW) for n in range(TOP + 3))
    groups = digest_lines.listings(STYLE, digest(done=done, overdue=(OwnerGroup("U2", (entry("A-9"),)),)))
    assert [[x.key for x in g] for g in groups] == [["digest.done", "digest.overdue"]]
    first, overdue = groups[0]
    assert isinstance(first, Listing)
    assert (first.total, len(first.lines), first.more_key) == (TOP + 3, TOP, "digest.more")
    assert first.heading == t("en", "digest.done", n=TOP + 3)
    assert overdue.more_key == "digest.more_owners"
    assert overdue.lines[0].startswith("• @U2 — 1 overdue: [A-9]")


def test_an_empty_digest_has_no_listings() -> None:
    assert digest_lines.listings(STYLE, digest()) == []
