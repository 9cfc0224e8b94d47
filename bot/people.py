"""Naming people in typed text: <@U…>, <@U…|name>, <@ou_…> (a Feishu mention, as its adapter writes it) and @name."""

from __future__ import annotations

import re
from dataclasses import dataclass

MENTION_RE = re.compile(r"<@([UW][A-Z0-9_]+|ou_[0-9A-Za-z_]+)(?:\|[^>]*)?>")  # Slack member IDs, Feishu open_ids
AT_NAME_RE = re.compile(r"(?<![\w<@])@([^\s@<>—–,，;；|:：]+)")


@dataclass(frozen=True)
class Member:
    """A workspace member as the bot knows them."""

    id: str
    name: str = ""
    display_name: str = ""
    real_name: str = ""
    tz: str | None = None
    locale: str | None = None
    is_bot: bool = False
    deleted: bool = False

    @property
    def label(self) -> str:
        """The name people know them by."""
        return self.display_name or self.real_name or self.name or self.id


@dataclass(frozen=True)
class PersonRef:
    """A person named in text, as written, resolved to a member ID or an error."""

    written: str
    user_id: str | None
    error: str | None = None
    candidates: tuple[str, ...] = ()


def resolve_name(name: str, members: list[Member]) -> PersonRef:
    """Match @name against members' handle, display name or real name (case-insensitive)."""
    wanted = name.casefold().strip()
    active = [m for m in members if not m.deleted and not m.is_bot]
    exact = [m for m in active if wanted in {m.name.casefold(), m.display_name.casefold(), m.real_name.casefold()}]
    if not exact:
        exact = [m for m in active if m.real_name and m.real_name.split()[0].casefold() == wanted]
    ids = list(dict.fromkeys(m.id for m in exact))
    if len(ids) == 1:
        return PersonRef(f"@{name}", ids[0])
    if not ids:
        return PersonRef(f"@{name}", None, "error.unknown_person")
    labels = tuple(m.label for m in exact)
    return PersonRef(f"@{name}", None, "error.ambiguous_person", labels)


def find_people(text: str, members: list[Member]) -> list[PersonRef]:
    """Every person named in the text, in order of appearance."""
    found: list[tuple[int, PersonRef]] = []
    for m in MENTION_RE.finditer(text):
        found.append((m.start(), PersonRef(m.group(0), m.group(1))))
    stripped = MENTION_RE.sub(lambda m: " " * len(m.group(0)), text)
    for m in AT_NAME_RE.finditer(stripped):
        found.append((m.start(), resolve_name(m.group(1), members)))
    return [ref for _, ref in sorted(found, key=lambda p: p[0])]


def strip_people(text: str) -> str:
    """The text with mentions and @names removed, whitespace tidied."""
    text = MENTION_RE.sub(" ", text)
    text = AT_NAME_RE.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip()
