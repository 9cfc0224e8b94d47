"""Block Kit for a record's history, shown from the "History" item of its message's overflow menu."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block, Option, OverflowMenuElement

from bot.services.requirements import HistoryItem
from bot.text import t
from handlers.blocks.common import context, date_token, escape, mention, plain, section, truncate

ACTION_ID = "record_history"
KINDS = ("requirement", "meeting", "action")
MAX_SHOWN = 40


def overflow(lang: str, kind: str, record_id: int) -> OverflowMenuElement:
    """The overflow menu that offers a record's history."""
    return OverflowMenuElement(
        action_id=ACTION_ID, options=[Option(value=f"{kind}:{record_id}", label=t(lang, "history.menu"))]
    )


def parse_value(value: str | None) -> tuple[str, int] | None:
    """(kind, id) from an overflow option's value, or None for anything else."""
    kind, _, raw = str(value or "").partition(":")
    if kind not in KINDS or not raw.isdigit():
        return None
    return kind, int(raw)


def _line(lang: str, kind: str, item: HistoryItem, tz: str) -> str:
    params: dict[str, Any] = {
        k: escape(truncate(str(v), 300)) for k, v in item.detail.items() if isinstance(v, str | int)
    }
    if kind == "action" and item.action == "status_changed":
        params["from"] = t(lang, f"action.status.{item.detail.get('from', 'open')}")
        params["to"] = t(lang, f"action.status.{item.detail.get('to', 'open')}")
    key = f"history.{item.action}" if kind == "requirement" else f"history.{kind}.{item.action}"
    params.setdefault("revision", "")
    actor = mention(item.actor_id) if item.actor_id.startswith(("U", "W")) else "coordbot"
    return t(lang, key, **{**params, "when": date_token(item.at, tz), "user": actor})


def history_blocks(lang: str, *, kind: str, code: str, items: Sequence[HistoryItem], tz: str) -> list[Block]:
    """A record's history, newest last, within Slack's limits (the oldest are summarized when there are many)."""
    shown = list(items)[-MAX_SHOWN:]
    lines = [_line(lang, kind, item, tz) for item in shown]
    blocks: list[Block] = [section(f"*{t(lang, 'history.title', code=escape(code))}*")]
    chunk: list[str] = []
    for line in lines:  # sections hold 3,000 characters; keep whole lines together
        if sum(len(x) + 1 for x in chunk) + len(line) > 2900:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(section("\n".join(chunk)))
    if len(items) > len(shown):
        blocks.append(context(t(lang, "history.earlier", n=len(items) - len(shown))))
    return blocks


def history_text(lang: str, code: str) -> str:
    """The fallback text of the history reply."""
    return plain(t(lang, "history.title", code=code), 150).text
