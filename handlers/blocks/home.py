"""Block Kit for the App Home: what awaits the viewer's signature, their action items, meetings and minutes owed.

Each part shows one page of PAGE_SIZE records with their buttons, then a pager, so the home stays
within Slack's 100 blocks however much the viewer has; the pages shown ride in the view's private_metadata.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Generic, TypeVar

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.services.actions import ActionInfo
from bot.services.home_page import MEETING_DAYS  # how far ahead "upcoming meetings" looks
from bot.services.meetings import MeetingInfo
from bot.services.requirements import RequirementInfo
from bot.text import t
from handlers.blocks.actions import status_label
from handlers.blocks.common import SECTION_MAX, context, date_token, escape, mention, plain, truncate

PAGE_SIZE = 10  # records per part and page: 4 parts stay well under 100 blocks (action items take two each)
MAX_BLOCKS = 100
TITLE_MAX = 200  # a record's title in a line

T = TypeVar("T")


class Ids(StrEnum):
    """action_id values the App Home owns."""

    LANGUAGE = "home_language"
    SIGN = "home_sign"
    DONE = "home_done"
    RECORD_MINUTES = "home_record_minutes"
    OPEN = "home_open"  # a link button; Slack still reports the click
    MORE = "home_more"
    PREVIOUS = "home_previous"
    FIRST = "home_first"


class Part(StrEnum):
    """The paged parts of the home, as named in a pager button's value ("actions:2")."""

    SIGN = "sign"
    ACTIONS = "actions"
    MEETINGS = "meetings"
    MINUTES = "minutes"


@dataclass(frozen=True)
class Pages:
    """Which page each part shows (1-based)."""

    sign: int = 1
    actions: int = 1
    meetings: int = 1
    minutes: int = 1

    def of(self, part: Part) -> int:
        """The page a part shows."""
        return int(getattr(self, part.value))

    def turned(self, value: str) -> Pages:
        """These pages with one part turned, from a pager button's value such as "actions:2"."""
        name, _, number = value.partition(":")
        if name not in set(Part) or not number.isdigit():
            return self
        return replace(self, **{name: max(1, int(number))})

    def dump(self) -> str:
        """JSON for the view's private_metadata."""
        return json.dumps({p.value: self.of(p) for p in Part})

    @classmethod
    def load(cls, raw: str | None) -> Pages:
        """Read private_metadata; a missing or foreign value means the first pages."""
        try:
            data = json.loads(raw or "{}")
            return cls(**{p.value: max(1, int(data.get(p.value) or 1)) for p in Part})
        except (ValueError, TypeError, AttributeError):
            return cls()


def page_value(part: Part, page: int) -> str:
    """A pager button's value."""
    return f"{part.value}:{page}"


@dataclass(frozen=True)
class Listing(Generic[T]):
    """One page of a part: the records shown, how many there are in all, how many are late, their links."""

    items: Sequence[T] = ()
    total: int = 0
    page: int = 1
    late: int = 0
    links: Mapping[int, str] = field(default_factory=dict)  # record id -> permalink of its message


def last_page(total: int) -> int:
    """The last page of `total` records (1 when there are none)."""
    return max(1, -(-total // PAGE_SIZE))


def home(
    lang: str,
    *,
    awaiting: Listing[RequirementInfo],
    actions: Listing[ActionInfo] | None = None,
    meetings: Listing[MeetingInfo] | None = None,
    minutes: Listing[MeetingInfo] | None = None,
    chosen_lang: str | None,
    tz: str,
    now: datetime,
) -> View:
    """The App Home for one viewer."""
    actions, meetings, minutes = actions or Listing(), meetings or Listing(), minutes or Listing()
    blocks: list[Block] = [HeaderBlock(text=plain(t(lang, "home.title"), 150))]
    if not (awaiting.total or actions.total or meetings.total or minutes.total):
        from handlers.blocks.welcome import home_intro  # welcome's button is the Home's own action

        blocks += home_intro(lang)  # nothing here yet (a first visit): what coordbot is and how to start
    blocks += _part(
        lang,
        Part.SIGN,
        awaiting,
        _title(lang, "home.sign.title", "home.sign.title_late", awaiting),
        t(lang, "home.sign.none"),
        [_sheet(lang, r, awaiting.links, tz, now) for r in awaiting.items],
    )
    blocks.append(DividerBlock())
    blocks += _part(
        lang,
        Part.ACTIONS,
        actions,
        _title(lang, "home.actions.title", "home.actions.title_late", actions),
        t(lang, "home.actions.none"),
        [b for a in actions.items for b in _action(lang, a, actions.links, tz, now)],
    )
    blocks.append(DividerBlock())
    blocks += _part(
        lang,
        Part.MEETINGS,
        meetings,
        t(lang, "home.meetings.title", days=MEETING_DAYS, total=meetings.total),
        t(lang, "home.meetings.none", days=MEETING_DAYS),
        [_meeting(lang, m, meetings.links, tz, now) for m in meetings.items],
    )
    blocks.append(DividerBlock())
    blocks += _part(
        lang,
        Part.MINUTES,
        minutes,
        t(lang, "home.minutes.title", total=minutes.total),
        t(lang, "home.minutes.none"),
        [_owed(lang, m, tz) for m in minutes.items],
    )
    blocks += [DividerBlock(), _language(lang, chosen_lang), context(t(lang, "home.help"))]
    pages = Pages(sign=awaiting.page, actions=actions.page, meetings=meetings.page, minutes=minutes.page)
    return View(type="home", blocks=blocks, private_metadata=pages.dump())


def overdue_marker(lang: str, due: datetime, now: datetime) -> str | None:
    """How late something is, in words (not only colour), or None while it is not yet due."""
    if due >= now:
        return None
    late = now - due
    if late >= timedelta(days=2):
        return t(lang, "home.overdue.days", n=late.days)
    if late >= timedelta(days=1):
        return t(lang, "home.overdue.one_day")
    if late >= timedelta(hours=2):
        return t(lang, "home.overdue.hours", n=late.seconds // 3600)
    if late >= timedelta(hours=1):
        return t(lang, "home.overdue.one_hour")
    return t(lang, "home.overdue.now")


def _title(lang: str, key: str, late_key: str, listing: Listing[T]) -> str:
    if listing.late:
        return t(lang, late_key, total=listing.total, late=listing.late)
    return t(lang, key, total=listing.total)


def _part(lang: str, part: Part, listing: Listing[T], title: str, none: str, rows: list[Block]) -> list[Block]:
    """A part's header with its counts, its rows, and the pager when there is more than one page."""
    blocks: list[Block] = [HeaderBlock(block_id=f"home_{part.value}_title", text=plain(title, 150))]
    if listing.total == 0:
        return [*blocks, context(none)]
    blocks += rows
    if listing.total <= PAGE_SIZE:
        return blocks
    first = (listing.page - 1) * PAGE_SIZE + 1
    last = first + len(listing.items) - 1
    if listing.items:
        blocks.append(context(t(lang, "home.showing", first=first, last=last, total=listing.total)))
    buttons: list[ButtonElement] = []
    if listing.page > 2:
        buttons.append(ButtonElement(action_id=Ids.FIRST, text=plain(t(lang, "home.first")), value=page_value(part, 1)))
    if listing.page > 1:
        buttons.append(
            ButtonElement(
                action_id=Ids.PREVIOUS, text=plain(t(lang, "home.previous")), value=page_value(part, listing.page - 1)
            )
        )
    if listing.total > last:
        buttons.append(
            ButtonElement(
                action_id=Ids.MORE,
                text=plain(t(lang, "home.more", n=listing.total - last)),
                value=page_value(part, listing.page + 1),
            )
        )
    if buttons:
        blocks.append(ActionsBlock(block_id=f"home_{part.value}_pages", elements=buttons))
    return blocks


def _lines(marker: str | None, body: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=truncate(f"{marker}\n{body}" if marker else body, SECTION_MAX))


def _linked(code: str, link: str | None) -> str:
    return f"<{link}|{escape(code)}>" if link else escape(code)


def _sheet(lang: str, r: RequirementInfo, links: Mapping[int, str], tz: str, now: datetime) -> SectionBlock:
    body = t(
        lang,
        "home.sign.line",
        code=_linked(r.code, links.get(r.id)),
        requester=mention(r.requester_owner),
        receiver=mention(r.receiver_owner),
        when=date_token(r.confirm_by, tz),
    )
    return SectionBlock(
        block_id=f"home_sign_{r.id}",
        text=_lines(overdue_marker(lang, r.confirm_by, now), body),
        accessory=ButtonElement(
            action_id=Ids.SIGN, text=plain(t(lang, "home.sign.button")), value=str(r.id), style="primary"
        ),
    )


def _action(lang: str, a: ActionInfo, links: Mapping[int, str], tz: str, now: datetime) -> list[Block]:
    body = t(
        lang,
        "home.actions.line",
        code=escape(a.code),
        title=escape(truncate(a.title, TITLE_MAX)),
        when=date_token(a.due, tz),
        status=status_label(lang, a.status),
    )
    if a.source_code:
        body += " · " + t(lang, "home.actions.source", source=escape(a.source_code))
    buttons = [
        ButtonElement(action_id=Ids.DONE, text=plain(t(lang, "home.actions.done")), value=str(a.id), style="primary")
    ]
    link = links.get(a.id)
    if link:
        buttons.append(ButtonElement(action_id=Ids.OPEN, text=plain(t(lang, "home.open")), url=link, value=str(a.id)))
    return [
        SectionBlock(block_id=f"home_action_{a.id}", text=_lines(overdue_marker(lang, a.due, now), body)),
        ActionsBlock(block_id=f"home_action_buttons_{a.id}", elements=buttons),
    ]


def _meeting(lang: str, m: MeetingInfo, links: Mapping[int, str], tz: str, now: datetime) -> SectionBlock:
    body = t(
        lang,
        "home.meetings.line",
        code=escape(m.code),
        title=escape(truncate(m.title, TITLE_MAX)),
        when=date_token(m.start, tz),
        minutes=m.duration_minutes,
        host=mention(m.host_id),
    )
    marker = t(lang, "home.meetings.now") if m.start <= now < m.end else None
    link = links.get(m.id)
    button = (
        ButtonElement(action_id=Ids.OPEN, text=plain(t(lang, "home.open")), url=link, value=str(m.id)) if link else None
    )
    return SectionBlock(block_id=f"home_meeting_{m.id}", text=_lines(marker, body), accessory=button)


def _owed(lang: str, m: MeetingInfo, tz: str) -> SectionBlock:
    body = t(
        lang,
        "home.minutes.line",
        code=escape(m.code),
        title=escape(truncate(m.title, TITLE_MAX)),
        when=date_token(m.start, tz),
        host=mention(m.host_id),
    )
    return SectionBlock(
        block_id=f"home_minutes_{m.id}",
        text=_lines(None, body),
        accessory=ButtonElement(
            action_id=Ids.RECORD_MINUTES, text=plain(t(lang, "home.minutes.button")), value=str(m.id)
        ),
    )


def _language(lang: str, chosen_lang: str | None) -> SectionBlock:
    options = [
        Option(value="auto", label=t(lang, "home.lang_auto")),
        Option(value="en", label="English"),
        Option(value="zh", label="中文"),
    ]
    initial = next((o for o in options if o.value == (chosen_lang or "auto")), options[0])
    return SectionBlock(
        text=t(lang, "home.lang_label"),
        accessory=StaticSelectElement(action_id=Ids.LANGUAGE, options=options, initial_option=initial),
    )
