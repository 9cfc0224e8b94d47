"""Reading the sheet's free-text parts: open-question lines with owners and deadlines."""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any

from bot.dates import parse_when
from bot.people import Member, find_people, strip_people
from bot.services.requirements import QuestionDraft
from bot.text import text_lang

SEPARATORS = re.compile(r"\s+(?:—|–|--|\|)\s+|\s*[—｜]\s*")
BULLET = re.compile(r"^\s*(?:[-*•·]|\d+[.)、]|[（(]\d+[)）])\s*")


class LineError(ValueError):
    """A question line that cannot be read; carries a text-catalog key and parameters."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def parse_questions(
    text: str, *, now: datetime, tz: str, members: list[Member], workday_end: time = time(18, 0)
) -> tuple[QuestionDraft, ...]:
    """One question a line: `text — @owner — deadline` (owner and deadline optional, any order)."""
    out: list[QuestionDraft] = []
    lines = [ln for ln in text.splitlines() if ln.strip()]
    for number, raw in enumerate(lines, start=1):
        line = BULLET.sub("", raw).strip()
        parts = [p.strip() for p in SEPARATORS.split(line) if p and p.strip()]
        owner: str | None = None
        deadline: datetime | None = None
        question_parts: list[str] = []
        for index, part in enumerate(parts):
            people = find_people(part, members)
            for ref in people:
                if ref.error:
                    raise LineError(
                        ref.error, line=number, name=ref.written.lstrip("@"), names=", ".join(ref.candidates)
                    )
            if people and owner is None:
                owner = people[0].user_id
                rest = strip_people(part)
                if index == 0 and rest:
                    question_parts.append(rest)
                continue
            if index == 0:
                question_parts.append(part)
                continue
            when = parse_when(part, now=now, tz=tz, workday_end=workday_end)
            if when is None:
                raise LineError("error.question_bad_deadline", line=number, text=part[:80], _lang=text_lang(part, ""))
            deadline = when
        question = " ".join(question_parts).strip()
        if not question:
            raise LineError("error.question_empty", line=number)
        out.append(QuestionDraft(text=question, owner_id=owner, deadline=deadline))
    return tuple(out)
