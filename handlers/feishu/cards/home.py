"""The Feishu card of a person's page (我的): what awaits their signature, their open action items, their meetings
of the coming days and the minutes they still owe, each record with the button its own card has.

A card cannot page the way Slack's App Home does, so each part shows its first MAX_SHOWN records and says how
many there are in all. The record buttons carry the same callback values as the records' own cards (so the
features' button handlers do the work), marked as pressed on the page so that the page can be drawn again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from bot.services.actions import ActionInfo
from bot.services.home_page import MEETING_DAYS
from bot.services.home_page import Listed as Shown  # one part of the page: what the core lists of it
from bot.services.meetings import MeetingInfo
from bot.services.requirements import RequirementInfo
from bot.text import t
from handlers.feishu.cards import actions as action_cards
from handlers.feishu.cards import meeting as meeting_cards
from handlers.feishu.cards import requirement as requirement_cards
from handlers.feishu.cards.common import at, button, card, clip, hr, lark_t, markdown, when

logger = logging.getLogger(__name__)

MAX_SHOWN = 10  # records of each part on the card
TITLE_SHOWN = 80  # characters of a record's title in its line (four parts of ten stay within 30 KB)
ON = "on"  # a button value's key saying where it was pressed
PAGE = "home"  # … on the page


def pressed_on_page(value: Mapping[str, Any]) -> bool:
    """Whether a button's callback value came from the page (so the page is to be drawn again)."""
    return value.get(ON) == PAGE


def overdue_marker(lang: str, due: datetime, now: datetime) -> str | None:
    """How late something is, in words (not only colour), as card markdown; None while it is not yet due."""
    if due >= now:
        return None
    late = now - due
    if late >= timedelta(days=2):
        return lark_t(lang, "home.overdue.days", n=late.days)
    if late >= timedelta(days=1):
        return lark_t(lang, "home.overdue.one_day")
    if late >= timedelta(hours=2):
        return lark_t(lang, "home.overdue.hours", n=late.seconds // 3600)
    if late >= timedelta(hours=1):
        return lark_t(lang, "home.overdue.one_hour")
    return lark_t(lang, "home.overdue.now")


def home_card(
    lang: str,
    *,
    awaiting: Shown[RequirementInfo],
    actions: Shown[ActionInfo],
    meetings: Shown[MeetingInfo],
    minutes: Shown[MeetingInfo],
    tz: str,
    now: datetime,
) -> dict[str, Any]:
    """The person's page: four parts, each with its count (and how many are overdue), its first records with
    their buttons (确认 signs a sheet, Done closes an item, Record minutes opens the minutes form), and a line
    saying how many more there are."""
    elements: list[dict[str, Any]] = []
    elements += _part(
        lang,
        awaiting,
        _title(lang, "home.sign.title", "home.sign.title_late", awaiting),
        lark_t(lang, "home.sign.none"),
        [_sheet(lang, r, tz, now) for r in awaiting.items[:MAX_SHOWN]],
    )
    elements.append(hr())
    elements += _part(
        lang,
        actions,
        _title(lang, "home.actions.title", "home.actions.title_late", actions),
        lark_t(lang, "home.actions.none"),
        [_action(lang, a, tz, now) for a in actions.items[:MAX_SHOWN]],
    )
    elements.append(hr())
    elements += _part(
        lang,
        meetings,
        lark_t(lang, "home.meetings.title", days=MEETING_DAYS, total=meetings.total),
        lark_t(lang, "home.meetings.none", days=MEETING_DAYS),
        [_meeting(lang, m, tz, now) for m in meetings.items[:MAX_SHOWN]],
    )
    elements.append(hr())
    elements += _part(
        lang,
        minutes,
        lark_t(lang, "home.minutes.title", total=minutes.total),
        lark_t(lang, "home.minutes.none"),
        [_owed(lang, m, tz) for m in minutes.items[:MAX_SHOWN]],
    )
    elements.append(hr())
    elements.append(markdown(lark_t(lang, "feishu.home.hint"), notation=True))
    owed = awaiting.late + actions.late
    title = t(lang, "feishu.home.title")
    subtitle = t(lang, "feishu.home.as_of", when=when(now, tz, lang))
    summary = t(lang, "feishu.home.summary", sign=awaiting.total, actions=actions.total, late=owed)
    template = "orange" if owed else "blue"
    return card(title, elements, template=template, subtitle=subtitle, summary=summary)


def _title(lang: str, key: str, late_key: str, shown: Shown[Any]) -> str:
    if shown.late:
        return lark_t(lang, late_key, total=shown.total, late=shown.late)
    return lark_t(lang, key, total=shown.total)


def _part(lang: str, shown: Shown[Any], title: str, none: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A part's bold title with its counts, its rows (or that there are none), and how many are not shown."""
    elements = [markdown(f"**{title}**")]
    if shown.total == 0 or not rows:
        return [*elements, markdown(none, notation=True)]
    elements += rows
    if shown.total > len(rows):
        more = lark_t(lang, "home.showing", first=1, last=len(rows), total=shown.total)
        elements.append(markdown(more, notation=True))
    return elements


def _row(text: str, pressed: dict[str, Any] | None = None) -> dict[str, Any]:
    """A record's lines, with its button at the right (wrapping under them on a narrow screen)."""
    columns: list[dict[str, Any]] = [
        {"tag": "column", "width": "weighted", "weight": 1, "vertical_align": "center", "elements": [markdown(text)]}
    ]
    if pressed is not None:
        columns.append({"tag": "column", "width": "auto", "vertical_align": "center", "elements": [pressed]})
    return {"tag": "column_set", "flex_mode": "flow", "horizontal_spacing": "8px", "columns": columns}


def _lines(marker: str | None, body: str) -> str:
    return f"{marker}\n{body}" if marker else body


def _sheet(lang: str, r: RequirementInfo, tz: str, now: datetime) -> dict[str, Any]:
    body = lark_t(
        lang,
        "home.sign.line",
        code=r.code,
        requester=at(r.requester_owner),
        receiver=at(r.receiver_owner),
        when=when(r.confirm_by, tz, lang),
    )
    value = {"do": requirement_cards.DO_SIGN, "id": r.id, ON: PAGE}
    sign = button(t(lang, "button.confirm"), value, kind="primary_filled", name=f"home_sign_{r.id}")
    return _row(_lines(overdue_marker(lang, r.confirm_by, now), body), sign)


def _action(lang: str, a: ActionInfo, tz: str, now: datetime) -> dict[str, Any]:
    body = lark_t(
        lang,
        "home.actions.line",
        code=a.code,
        title=clip(a.title, TITLE_SHOWN),
        when=when(a.due, tz, lang),
        status=t(lang, f"action.status.{a.status.value}"),
    )
    if a.source_code:
        body += " · " + lark_t(lang, "home.actions.source", source=a.source_code)
    value = {"do": action_cards.DO_DONE, "id": a.id, ON: PAGE}
    done = button(t(lang, "home.actions.done"), value, kind="primary", name=f"home_done_{a.id}")
    return _row(_lines(overdue_marker(lang, a.due, now), body), done)


def _meeting(lang: str, m: MeetingInfo, tz: str, now: datetime) -> dict[str, Any]:
    body = lark_t(
        lang,
        "home.meetings.line",
        code=m.code,
        title=clip(m.title, TITLE_SHOWN),
        when=when(m.start, tz, lang),
        minutes=m.duration_minutes,
        host=at(m.host_id),
    )
    marker = lark_t(lang, "home.meetings.now") if m.start <= now < m.end else None
    return _row(_lines(marker, body))


def _owed(lang: str, m: MeetingInfo, tz: str) -> dict[str, Any]:
    body = lark_t(
        lang,
        "home.minutes.line",
        code=m.code,
        title=clip(m.title, TITLE_SHOWN),
        when=when(m.start, tz, lang),
        host=at(m.host_id),
    )
    value = {"do": meeting_cards.DO_MINUTES, "id": m.id}
    record = button(t(lang, "home.minutes.button"), value, name=f"home_minutes_{m.id}")
    return _row(body, record)
