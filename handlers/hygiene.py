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

from slack_bolt import App, BoltRequest

from handlers.handoff import Direct

REPLACEMENT = "\ufffd"
# In the raw body, JSON's escape of a surrogate that is not half of a pair: a high one not followed by a
# low one, or a low one not preceded by a high one; with the backslash as is (JSON) or %-encoded (a form
# field). A pair is one character once parsed (an emoji); only a lone half stays a surrogate.
_HIGH = r"u[Dd][89ABab][0-9A-Fa-f]{2}"
_LOW = r"u[Dd][C-Fc-f][0-9A-Fa-f]{2}"
_LONE_ESCAPE = re.compile(
    rf"(?:\\|%5[Cc]){_HIGH}(?!(?:\\|%5[Cc]){_LOW})"
    rf"|(?<!\\{_HIGH})(?<!%5[Cc]{_HIGH})(?:\\|%5[Cc]){_LOW}")
_SURROGATE = re.compile("[\ud800-\udfff]")


def register(app: App) -> None:
    """Install the middleware; register it before any other that reads the body."""
    app.middleware(Direct(mend_surrogates))


def mend_surrogates(request: BoltRequest, next: Callable[[], Any]) -> None:
    """Replace lone surrogates in the request's body (looked for only when the raw body escapes one)."""
    raw = request.raw_body
    if (not raw or _LONE_ESCAPE.search(raw)) and isinstance(request.body, dict):  # no raw body: Socket Mode
        mend(request.body)
    next()


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
