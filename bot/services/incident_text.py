"""Reading and naming incidents: severities, statuses, channel names, `/incident` subcommands."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.people import MENTION_RE
from bot.text import t

if TYPE_CHECKING:
    from bot.services.incidents import TimelineItem


class Severity(StrEnum):
    """How bad it is: SEV1 critical … SEV4 minor."""

    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"
    SEV4 = "SEV4"

    @property
    def position(self) -> int:
        """0 for SEV1 … 3 for SEV4 (the position in per-severity settings)."""
        return int(self.value[-1]) - 1


class Status(StrEnum):
    """Where an incident stands."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


STATUS_EMOJI = {Status.INVESTIGATING: "🔍", Status.IDENTIFIED: "🎯", Status.MONITORING: "👀", Status.RESOLVED: "✅"}
"""How each status is marked wherever it is shown, on every messenger."""


OPEN_STATUSES = (Status.INVESTIGATING, Status.IDENTIFIED, Status.MONITORING)

STATUS_WORDS: dict[str, Status] = {
    "investigating": Status.INVESTIGATING,
    "调查中": Status.INVESTIGATING,
    "排查中": Status.INVESTIGATING,
    "identified": Status.IDENTIFIED,
    "已定位": Status.IDENTIFIED,
    "monitoring": Status.MONITORING,
    "观察中": Status.MONITORING,
    "监控中": Status.MONITORING,
    "resolved": Status.RESOLVED,
    "已解决": Status.RESOLVED,
    "已恢复": Status.RESOLVED,
}

# `/incident <verb> …`, in English or Chinese
VERBS: dict[str, str] = {
    "help": "help",
    "帮助": "help",
    "?": "help",
    "status": "status",
    "状态": "status",
    "update": "update",
    "进展": "update",
    "更新": "update",
    "role": "role",
    "角色": "role",
    "lead": "lead",
    "指挥": "lead",
    "移交": "lead",
    "resolve": "resolve",
    "解决": "resolve",
    "恢复": "resolve",
    "decision": "decision",
    "决定": "decision",
    "决策": "decision",
    "export": "export",
    "导出": "export",
}
ROLE_WORDS: dict[str, str] = {
    "comms": "comms",
    "communications": "comms",
    "沟通": "comms",
    "对外沟通": "comms",
    "responder": "responder",
    "响应人": "responder",
    "处理人": "responder",
}

CODE_RE = re.compile(r"^INC-\d{4}-\d{3,}$", re.IGNORECASE)
_SLUG_MAX = 24
_NAME_MAX = 80


@dataclass(frozen=True)
class Command:
    """A parsed `/incident` line: a verb and the rest, or a title to declare."""

    verb: str  # declare, help, status, update, role, lead, resolve, decision, export
    rest: str = ""


def parse_command(text: str) -> Command:
    """Split `/incident` text into its verb and the rest; anything else is a title to declare."""
    text = text.strip()
    head, _, rest = text.partition(" ")
    verb = VERBS.get(head.lower())
    if verb is None:
        return Command("declare", text)
    return Command(verb, rest.strip())


_LINK_RE = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]+))?>")
_CHANNEL_RE = re.compile(r"<#[CG][A-Z0-9]+\|([^>]*)>")


def plain_text(text: str) -> str:
    """Slack-formatted text (a slash command's, a message's) as typed: links and channels written out,
    mentions reduced to <@U…>, Slack's &amp; &lt; &gt; undone."""
    text = MENTION_RE.sub(lambda m: f"<@{m.group(1)}>", text)
    text = _LINK_RE.sub(lambda m: f"{m.group(2)} ({m.group(1)})" if m.group(2) else m.group(1), text)
    text = _CHANNEL_RE.sub(lambda m: f"#{m.group(1)}", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def slug(title: str, limit: int = _SLUG_MAX) -> str:
    """A short channel-name slug of a title: ASCII letters and digits, hyphen-separated, cut at a word."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii").lower()
    words = [w for w in re.split(r"[^a-z0-9]+", ascii_text) if w]
    out = ""
    for word in words:
        candidate = f"{out}-{word}" if out else word
        if len(candidate) > limit:
            if not out:
                out = word[:limit]
            break
        out = candidate
    return out


def channel_name(code: str, title: str, declared_at: datetime, tz: str, attempt: int = 1) -> str:
    """`inc-<yyyymmdd>-<short-slug>`, with `-2`, `-3` … when the name is taken."""
    day = declared_at.astimezone(ZoneInfo(tz)).strftime("%Y%m%d")
    tail = slug(title) or code.rsplit("-", 1)[-1]
    suffix = f"-{attempt}" if attempt > 1 else ""
    return f"inc-{day}-{tail}"[: _NAME_MAX - len(suffix)].rstrip("-") + suffix


def parse_status(word: str) -> Status | None:
    """A status named in English or Chinese."""
    return STATUS_WORDS.get(word.strip().lower())


def event_text(lang: str, entry: TimelineItem, *, person: Callable[[str], str], text: Callable[[str], str]) -> str:
    """What one timeline entry says; `person` writes a user ID and `text` the user text for the medium."""
    d = entry.detail
    key = f"incident.event.{entry.kind}"
    params: dict[str, Any] = {"text": text(entry.text)}
    if entry.kind == "declared":
        params.update(severity=str(d.get("severity") or ""), commander=person(str(d.get("commander") or "")))
    elif entry.kind == "acknowledged":
        key += ".backup" if d.get("backup") else ".declared" if d.get("by_declaring") else ""
    elif entry.kind == "escalated":
        params["users"] = ", ".join(person(str(u)) for u in d.get("to") or []) or "—"
    elif entry.kind in ("status", "resolved"):
        params.update(
            {
                "from": t(lang, f"incident.status.{d.get('from') or Status.INVESTIGATING}"),
                "to": t(lang, f"incident.status.{d.get('to') or Status.RESOLVED}"),
            }
        )
    elif entry.kind == "role":
        key += ".comms" if d.get("role") == "comms" else ".responder"
        params["user"] = person(str(d.get("user") or ""))
    elif entry.kind == "lead":
        params["user"] = person(str(d.get("to") or ""))
    return t(lang, key, **params)


def duration_text(lang: str, delta: timedelta) -> str:
    """A duration in days, hours and minutes."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return t(lang, "incident.duration.dhm", d=days, h=hours, m=mins)
    if hours:
        return t(lang, "incident.duration.hm", h=hours, m=mins)
    return t(lang, "incident.duration.m", m=mins)
