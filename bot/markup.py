"""The catalog's markup, shared by every messenger adapter.

The text catalog is written in one markup (Slack's mrkdwn: `*bold*`, `<@U…>` mentions, `<url|text>` links,
`&lt;` for a typed `<`). Texts are filled with these helpers, and each adapter renders the result in its own
platform's format (Slack shows it as it is; Feishu's adapter turns it into card markdown).
"""

from __future__ import annotations

import re
import threading

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def escape(text: str) -> str:
    """Escape user-typed text for mrkdwn: &, < and > (so <!channel> cannot ping)."""
    text = _CONTROL.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    """Cut text to `limit` characters with an ellipsis, never inside an escape entity or a Slack token.

    User text is escaped, so a raw `<` opens markup the bot wrote (a mention, a date, a link): a cut that
    would leave one unclosed goes before it, lest the reader see half a token as text.
    """
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    lt = cut.rfind("<")
    if lt != -1 and ">" not in cut[lt:]:
        cut = cut[:lt]
    return cut + "…"


def mention(user_id: str) -> str:
    """A mention that notifies the user."""
    return f"<@{user_id}>"


class RecordLocks:
    """One lock per record: in this process, one change and re-render of a record's message at a time."""

    def __init__(self) -> None:
        self._locks: dict[int, threading.Lock] = {}
        self._guard = threading.Lock()

    def __getitem__(self, record_id: int) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(record_id, threading.Lock())
