"""Text that Slack can deliver but nothing downstream can store or send: lone UTF-16 surrogates.

JSON may carry a surrogate escape without its pair (half an emoji, cut off by a client: "\\ud83d").
Python keeps it in a str, and then UTF-8 refuses it: SQLite, PostgreSQL and every Web API call would
fail, and the person's sheet would be lost to an error reference. A global middleware replaces each
one with U+FFFD, once, before any listener sees the body.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse

REPLACEMENT = "\ufffd"
# JSON's escape of a surrogate in a raw body, the backslash as is (JSON) or %-encoded (a form field);
# group 1 tells a high half (8-B) from a low one (C-F)
_SURROGATE_ESCAPE = re.compile(r"(?:\\|%5[Cc])u[Dd]([89ABab]|[C-Fc-f])[0-9A-Fa-f]{2}")
_MARKERS = ("\\ud", "\\uD", "%5Cud", "%5CuD", "%5cud", "%5cuD")
_SURROGATE = re.compile("[\ud800-\udfff]")


def register(app: App) -> None:
    """Install the middleware; register it before any other that reads the body."""
    app.middleware(mend_surrogates)


def mend_surrogates(req: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse:
    """Replace lone surrogates in the request's body (looked for only when the raw body escapes one)."""
    raw = req.raw_body
    if (not raw or escapes_lone_surrogate(raw)) and isinstance(req.body, dict):  # no raw body: Socket Mode
        mend(req.body)
    return next()


def escapes_lone_surrogate(raw: str) -> bool:
    """Whether the raw body escapes a surrogate that is not half of a pair (a pair parses to one emoji).

    Most bodies escape none, and a few plain searches tell; the rest are scanned from the first one.
    """
    found = [i for i in (raw.find(marker) for marker in _MARKERS) if i >= 0]
    if not found:
        return False
    low_due = -1  # after a high half: where its low half must start
    for match in _SURROGATE_ESCAPE.finditer(raw, min(found)):
        high = match.group(1) in "89ABab"
        if low_due >= 0:
            if high or match.start() != low_due:
                return True  # the high half before this one stands alone
            low_due = -1
        elif not high:
            return True  # a low half with no high half before it
        else:
            low_due = match.end()
    return low_due >= 0


def mend(value: Any) -> Any:
    """The value with every lone surrogate in its strings replaced; dicts and lists are mended in place."""
    if isinstance(value, str):
        return _SURROGATE.sub(REPLACEMENT, value) if _SURROGATE.search(value) else value
    if isinstance(value, dict):
        for key in list(value):
            mended_key = mend(key) if isinstance(key, str) else key
            item = mend(value[key])
            if mended_key is not key:
                del value[key]
            value[mended_key] = item
        return value
    if isinstance(value, list):
        for i, item in enumerate(value):
            value[i] = mend(item)
    return value
