"""Reading a one-line action item: `@owner what to do by when`, in English or Chinese."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time

from bot.dates import find_when, parse_when
from bot.people import Member, find_people, strip_people

# Words that join the task and its deadline; they belong to neither.
_JOINERS = re.compile(r"(?:\s+(?:by|before|due|until|no later than)|\s*(?:截止(?:到|于)?|最晚|在))\s*$", re.I)
_CJK = re.compile(r"[\u3400-\u9fff]")
# Words that end a Chinese deadline phrase; a split never falls inside one of them.
_DEADLINE_ENDINGS = ("下班前", "下班", "之前", "以前", "前", "内", "为止")


@dataclass(frozen=True)
class QuickAction:
    """What a one-line /action said: owner, task, due; `problem` names what is missing."""

    owner_id: str | None
    title: str
    due: datetime | None
    due_text: str = ""
    problem: str | None = None  # "no_owner", "unknown_person", "ambiguous_person", "no_due", "no_title"


def _cuts(text: str) -> list[int]:
    """Positions where the line may split into task and deadline: word boundaries, and every character
    boundary inside Chinese, which runs together without spaces."""
    cuts = {m.start() for m in re.finditer(r"(?<=\s)\S", text)}
    cuts.update(i for i in range(1, len(text)) if _CJK.match(text[i - 1]) or _CJK.match(text[i]))
    return sorted(c for c in cuts if 0 < c < len(text))


def _absorb_ending(text: str, cut: int) -> int:
    """Move a split past a deadline word it would otherwise cut through (周四下|班前 -> 周四下班前|)."""
    for back in range(0, 3):
        for word in _DEADLINE_ENDINGS:
            start = cut - back
            if start >= 0 and text.startswith(word, start) and start + len(word) > cut:
                return _absorb_ending(text, start + len(word))
    return cut


# Words that make a Chinese date phrase relative (下周五, 本周五, 这个周五): left at the end of the task, they belong to
# the deadline after it, even when the phrase without them happens to name the same day (on a weekend, 周五 and
# 下周五 are both the coming Friday).
_DATE_MODIFIERS = ("下下个", "下下", "下个", "这个", "本", "这", "下", "上", "今", "明", "后")


def _absorb_modifier(head: str, tail: str, same_time: Callable[[str], bool]) -> tuple[str, str]:
    """Move a date modifier that ends the task onto the deadline that follows it, when that reads the same."""
    for word in _DATE_MODIFIERS:
        if head.endswith(word) and _CJK.match(tail[:1] or " ") and same_time(word + tail):
            rest = head[: -len(word)].rstrip()
            if rest:
                return rest, word + tail
    return head, tail


def parse_quick(
    text: str, *, now: datetime, tz: str, members: list[Member], workday_end: time = time(18, 0)
) -> QuickAction:
    """Split `@owner what to do by when` into owner, title and due.

    The due phrase is the shortest leading or trailing part of the line that reads, on its own, as the time the
    line mentions (`find_when`) while the rest means no time at all; of the two readings the one leaving more
    task wins.
    """
    people = find_people(text, members)
    owner = next((p for p in people if p.user_id), None)
    failed = next((p for p in people if p.error), None)
    rest = strip_people(text)[:200]
    if failed is not None and owner is None:
        return QuickAction(None, rest, None, problem=(failed.error or "").removeprefix("error."))

    def when(part: str) -> datetime | None:
        return parse_when(part, now=now, tz=tz, workday_end=workday_end) if part.strip() else None

    whole = find_when(rest, now=now, tz=tz, workday_end=workday_end) if rest.strip() else None
    best: tuple[str, str] | None = None
    if whole is not None and when(rest) == whole:  # only a time ("下周五前"): nothing is said to be done
        best = ("", rest)
    elif whole is not None:
        cuts = _cuts(rest)
        for cut in reversed(cuts):  # trailing phrase, shortest first
            head, tail = _JOINERS.sub("", rest[:cut]).strip(), rest[cut:].strip()
            if when(tail) == whole and head and when(head) is None:
                best = _absorb_modifier(head, tail, lambda phrase: when(phrase) == whole)
                break
        for cut in cuts:  # leading phrase, shortest first
            cut = _absorb_ending(rest, cut)
            head, tail = rest[:cut].strip(), rest[cut:].strip()
            if when(head) == whole and tail and when(tail) is None:
                if best is None or len(tail) > len(best[0]):
                    best = (tail, head)
                break
    title, due_text = best if best else (rest, rest)
    problem = None if owner else "no_owner"
    if problem is None and best is None:
        problem = "no_due"
    elif problem is None and not title.strip(" ,，;；:："):
        problem = "no_title"
    return QuickAction(
        owner.user_id if owner else None, title.strip(" ,，;；:："), whole if best else None, due_text, problem
    )
