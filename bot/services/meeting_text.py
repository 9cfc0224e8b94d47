"""Reading a meeting's free-text parts: agenda lines and the action-item lines of its minutes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time

from bot.dates import parse_when
from bot.people import Member, find_people, strip_people
from bot.services.requirement_text import BULLET, SEPARATORS, LineError
from bot.text import text_lang

MINUTES_RE = re.compile(r"^(\d{1,3})\s*(?:min(?:ute)?s?|m|mins?\.?|分钟|分|')$", re.IGNORECASE)
MAX_AGENDA_ITEM_MINUTES = 20


@dataclass(frozen=True)
class AgendaLine:
    """One agenda item as typed: topic, owner (None: the host), timebox in minutes."""

    topic: str
    owner_id: str | None
    minutes: int


@dataclass(frozen=True)
class ActionLine:
    """One action item as typed in the minutes."""

    title: str
    owner_id: str
    due: datetime
    deliverable: str = ""


def _lines(text: str) -> list[tuple[int, list[str]]]:
    out = []
    for number, raw in enumerate((ln for ln in text.splitlines() if ln.strip()), start=1):
        line = BULLET.sub("", raw).strip()
        out.append((number, [p.strip() for p in SEPARATORS.split(line) if p and p.strip()]))
    return out


def _person(part: str, members: list[Member], number: int) -> str | None:
    people = find_people(part, members)
    for ref in people:
        if ref.error:
            raise LineError(ref.error, line=number, name=ref.written.lstrip("@"), names=", ".join(ref.candidates))
    return people[0].user_id if people else None


def parse_agenda(text: str, *, members: list[Member]) -> tuple[AgendaLine, ...]:
    """`topic — @owner — N min` a line; the owner may be left out (the host leads it)."""
    out = []
    for number, parts in _lines(text):
        topic, owner, minutes = "", None, None
        for index, part in enumerate(parts):
            found = MINUTES_RE.match(part.replace(" ", "")) or MINUTES_RE.match(part)
            if index > 0 and found:
                minutes = int(found.group(1))
                continue
            person = _person(part, members, number)
            if person and owner is None:
                owner = person
                rest = strip_people(part)
                if index == 0 and rest:
                    topic = rest
                continue
            if index == 0:
                topic = part
            else:
                raise LineError("error.agenda_line", line=number)
        if not topic or minutes is None:
            raise LineError("error.agenda_line", line=number)
        if minutes < 1 or minutes > MAX_AGENDA_ITEM_MINUTES:
            raise LineError("error.agenda_item_too_long", line=number, max=MAX_AGENDA_ITEM_MINUTES)
        out.append(AgendaLine(topic=topic[:300], owner_id=owner, minutes=minutes))
    return tuple(out)


def parse_action_lines(
    text: str, *, now: datetime, tz: str, members: list[Member], workday_end: time = time(18, 0)
) -> tuple[ActionLine, ...]:
    """`what — @owner — due — deliverable` a line; owner and due are required."""
    out = []
    for number, parts in _lines(text):
        title, owner, due, deliverable = "", None, None, ""
        for index, part in enumerate(parts):
            person = _person(part, members, number)
            if person and owner is None:
                owner = person
                rest = strip_people(part)
                if index == 0 and rest:
                    title = rest
                continue
            if index == 0:
                title = part
            elif due is None:
                due = parse_when(part, now=now, tz=tz, workday_end=workday_end)
                if due is None:
                    raise LineError("error.action_bad_due", line=number, text=part[:60], _lang=text_lang(part, ""))
                if due <= now:
                    raise LineError("error.action_due_past", line=number, _lang=text_lang(part, ""))
            else:
                deliverable = f"{deliverable} — {part}" if deliverable else part
        if not title:
            raise LineError("error.action_no_title", line=number)
        if owner is None:
            raise LineError("error.action_no_owner", line=number)
        if due is None:
            raise LineError("error.action_no_due", line=number)
        out.append(ActionLine(title=title[:500], owner_id=owner, due=due, deliverable=deliverable[:500]))
    return tuple(out)
