"""Helpers shared by every Feishu card builder: card markdown, times, elements, the card, its answers.

Feishu cards (JSON 2.0) read a markdown of their own: `**bold**`, `*italic*`, `~~strike~~`, `[text](url)`,
`<at id=ou_…></at>`, `> quote`, headings, lists and a few HTML-like tags. What a person typed goes in with every
character that could start such markup written as an HTML character reference (`&#60;` for `<`), which the card
shows as the character itself (the documented way to show markdown's special characters): typed text never pings
everyone, never links anywhere and never changes the look of the card.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import ValidationFailed
from bot.text import EN, t
from handlers.feishu.cards.check import (  # Feishu's limits live with the check that enforces them
    BUTTON_KINDS,
    CARD_MAX_BYTES,
    INPUT_MAX,
    PLAIN_MAX,
    TEMPLATES,
    TITLE_MAX,
    card_size,
    walk,
)
from handlers.feishu.cards.check import validate_card as validate_card

logger = logging.getLogger(__name__)

TOAST_MAX = 500
TOAST_KINDS = frozenset({"success", "error", "info", "warning"})

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PRIVATE = re.compile("[\ue000-\uf8ff]")  # the converter's own markers: never taken from its input

# ---------------------------------------------------------------------------
# Markdown: escaping typed text, converting the catalog's Slack mrkdwn
# ---------------------------------------------------------------------------

_REFS = {
    "&": "&#38;",
    "<": "&#60;",
    ">": "&#62;",
    "*": "&#42;",
    "_": "&#95;",
    "~": "&#126;",
    "`": "&#96;",
    "[": "&#91;",
    "]": "&#93;",
    "|": "&#124;",
    "\\": "&#92;",
    "$": "&#36;",
}
_LINE_REFS = {"-": "&#45;", "+": "&#43;", "=": "&#61;", "#": "&#35;", ".": "&#46;", ")": "&#41;"}
_SPECIAL = re.compile("[" + re.escape("".join(_REFS)) + "]")
_LINE_MARK = re.compile(r"^([ \t]*)([-+=#])", re.MULTILINE)  # a list item, a rule, a heading
_LINE_NUMBER = re.compile(r"^([ \t]*\d+)([.)])", re.MULTILINE)  # an ordered list item


class Md(str):
    """Text that is already Feishu card markdown, put in as it is (a mention, a link the bot made)."""

    __slots__ = ()


def escape_md(text: str) -> str:
    """Typed text for Feishu card markdown: shown as typed, never forming markup (mentions, links, styles)."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _SPECIAL.sub(lambda m: _REFS[m[0]], text)
    text = _LINE_MARK.sub(lambda m: m[1] + _LINE_REFS[m[2]], text)
    return _LINE_NUMBER.sub(lambda m: m[1] + _LINE_REFS[m[2]], text)


_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")


def _person(user_id: str) -> bool:
    """Whether an id can name one person: `all` would ping everyone."""
    return bool(_ID.fullmatch(user_id)) and user_id.lower() != "all"


def at(open_id: str) -> Md:
    """A mention of one person (it notifies them); an id that is not one shows as text."""
    return Md(f"<at id={open_id}></at>") if _person(open_id) else Md(escape_md(open_id))


_ANGLE = re.compile(r"<([^<>\n]*)>")
_ENTITY = re.compile(r"&(lt|gt|amp);")
_SLACK_ENTITIES = {"lt": "<", "gt": ">", "amp": "&"}
_CODE_SPAN = re.compile(r"(`[^`\n]+`)")
_BOLD, _ITALIC, _STRIKE, _CODE = "\ue001", "\ue002", "\ue003", "\ue004"
_PARAM0, _PARAM_MAX = 0xE100, 0x100  # a filled catalog text's parameters (lark_t)
_TOKEN0, _TOKEN_MAX = 0xE200, 0x1000  # Slack's <…> tokens while the rest is converted
_PARAMS = re.compile(f"[{chr(_PARAM0)}-{chr(_PARAM0 + _PARAM_MAX - 1)}]")
_TOKENS = re.compile(f"[{chr(_TOKEN0)}-{chr(_TOKEN0 + _TOKEN_MAX - 1)}]")
_URL = re.compile(r"https?://[^\s]+", re.IGNORECASE)


def _emphasis(mark: str) -> re.Pattern[str]:
    m = re.escape(mark)
    # Slack's rule: the marks hug the text, and a letter or digit right outside them means they are not marks.
    return re.compile(rf"(?<![A-Za-z0-9{m}]){m}(?=[^\s{m}])([^{m}\n]*?[^\s{m}]){m}(?![A-Za-z0-9{m}])")


_SLACK_STYLES = ((_emphasis("*"), _BOLD), (_emphasis("_"), _ITALIC), (_emphasis("~"), _STRIKE))


def _unslack(text: str) -> str:
    """Slack's three entities back to characters (in one pass: `&amp;lt;` stays `&lt;`)."""
    return _ENTITY.sub(lambda m: _SLACK_ENTITIES[m[1]], text)


def _safe_url(url: str) -> str:
    """A URL that cannot end a markdown link early: spaces, brackets and quotes percent-encoded."""
    return quote(url, safe=";/?:@&=+$,-_.!~*'#%")


def _angle(inner: str, raw: Mapping[str, str], chat_names: Mapping[str, str]) -> str:
    """One Slack `<…>` token as Feishu card markdown."""
    inner = _PARAMS.sub(lambda m: raw.get(m[0], ""), inner)
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        user = target[1:]
        return at(user) if _person(user) else escape_md(_unslack(label or user))
    if target.startswith("!"):
        if target[1:] in ("here", "channel", "everyone"):
            return "<at id=all></at>"
        return escape_md(_unslack(label))  # <!date^…|fallback>, <!subteam^…|@team>: the fallback
    if target.startswith("#"):
        chat = target[1:]
        return escape_md("#" + (_unslack(label) or chat_names.get(chat) or chat))
    url = _unslack(target).strip()
    if _URL.fullmatch(url):
        return f"[{escape_md(_unslack(label) or url)}]({_safe_url(url)})"
    return escape_md(_unslack(f"<{inner}>"))


def _wrap(marker: str) -> Callable[[re.Match[str]], str]:
    return lambda m: marker + m[1] + marker


def _styles(line: str) -> str:
    """Slack's *bold*, _italic_, ~strike~ and `code` as markers, outside code spans only."""
    parts = _CODE_SPAN.split(line)
    for i, part in enumerate(parts):
        if i % 2:
            parts[i] = _CODE + part[1:-1] + _CODE
            continue
        for pattern, marker in _SLACK_STYLES:
            part = pattern.sub(_wrap(marker), part)
        parts[i] = part
    return "".join(parts)


def _convert(mrkdwn: str, *, values: Mapping[str, str], raw: Mapping[str, str], chat_names: Mapping[str, str]) -> str:
    tokens: list[str] = []

    def keep(m: re.Match[str]) -> str:
        if len(tokens) >= _TOKEN_MAX:
            return m[0]  # shown as text
        tokens.append(_angle(m[1], raw, chat_names))
        return chr(_TOKEN0 + len(tokens) - 1)

    text = _ANGLE.sub(keep, mrkdwn.replace("\r\n", "\n").replace("\r", "\n"))
    lines = []
    for line in text.split("\n"):
        quoted = line.startswith(">")  # only the bot's own: a typed > arrives as &gt;
        if quoted:
            line = line[1:].removeprefix(" ")
        line = escape_md(_unslack(_styles(line)))
        lines.append(f"> {line}" if quoted else line)
    out = "\n".join(lines)
    for mark, marker in (("**", _BOLD), ("*", _ITALIC), ("~~", _STRIKE), ("`", _CODE)):
        out = out.replace(marker, mark)
    out = _TOKENS.sub(lambda m: tokens[ord(m[0]) - _TOKEN0], out)
    return _PARAMS.sub(lambda m: values.get(m[0], ""), out)


def lark_md(mrkdwn: str, *, chat_names: Mapping[str, str] | None = None) -> str:
    """Slack mrkdwn as the catalog writes it (filled, typed text escaped with `&lt;`, `&gt;`, `&amp;`) as Feishu
    card markdown: styles, links, mentions, dates (their fallback) and quotes carried over; any other character
    markdown would read as markup shown as itself."""
    clean = _PRIVATE.sub("", _CONTROL.sub("", mrkdwn))
    return _convert(clean, values={}, raw={}, chat_names=chat_names or {})


def lark_t(lang: str, key: str, **params: object) -> str:
    """A catalog text as Feishu card markdown; `Md` parameters go in as they are, any other is typed text."""
    if len(params) > _PARAM_MAX:
        raise ValueError("too many parameters")
    marks = {name: chr(_PARAM0 + i) for i, name in enumerate(params)}
    values = {
        marks[name]: value if isinstance(value, Md) else escape_md(_PRIVATE.sub("", str(value)))
        for name, value in params.items()
    }
    raw = {marks[name]: _CONTROL.sub("", str(value)) for name, value in params.items()}
    return _convert(t(lang, key, **marks), values=values, raw=raw, chat_names={})


def clip(text: str, limit: int) -> str:
    """Typed text cut to `limit` characters with an ellipsis (before it is escaped)."""
    text = text.strip()
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


def plain(text: str, limit: int = PLAIN_MAX) -> str:
    """Text for a plain_text field (a title, a button, a label): control characters dropped, cut to `limit`."""
    return clip(_CONTROL.sub("", text.replace("\r\n", "\n")), limit)


# ---------------------------------------------------------------------------
# Times
# ---------------------------------------------------------------------------

_WEEKDAYS = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
}


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        logger.warning("unknown time zone %r, showing UTC", tz)
        return ZoneInfo("UTC")


def when(dt: datetime, tz: str, lang: str, *, with_time: bool = True) -> str:
    """A time in the reader's zone, as a card cannot localize it per reader: "2026-12-11 (Fri) 15:00",
    "2026-12-11（周五）15:00"."""
    local = dt.astimezone(_zone(tz))
    day = f"{local:%Y-%m-%d}"
    clock = f"{local:%H:%M}" if with_time else ""
    if lang == "zh":
        return f"{day}（{_WEEKDAYS['zh'][local.weekday()]}）{clock}"
    return f"{day} ({_WEEKDAYS['en'][local.weekday()]}) {clock}".rstrip()


# ---------------------------------------------------------------------------
# Elements
# ---------------------------------------------------------------------------


def _text(content: str, limit: int = PLAIN_MAX) -> dict[str, str]:
    return {"tag": "plain_text", "content": plain(content, limit)}


def markdown(content: str, *, notation: bool = False) -> dict[str, Any]:
    """A rich-text element (content already card markdown); `notation` makes it the small grey hint size."""
    element: dict[str, Any] = {"tag": "markdown", "content": content}
    if notation:
        element["text_size"] = "notation"
    return element


def colon(lang: str) -> str:
    """What follows a label: a full-width colon in Chinese."""
    return "：" if lang == "zh" else ": "


def facts(lang: str, rows: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Labelled values, one a line: `rows` are (label, value), both already card markdown."""
    return markdown("\n".join(f"**{label}**{colon(lang)}{value}" for label, value in rows))


def zone_note(lang: str, key: str, tz: str) -> dict[str, Any]:
    """A hint under a date field, naming the zone typed dates are read in."""
    zone = f"（{escape_md(tz)}）" if lang == "zh" else f" ({escape_md(tz)})"
    return markdown(lark_t(lang, key) + zone, notation=True)


def hr() -> dict[str, Any]:
    """A divider."""
    return {"tag": "hr"}


def button(text: str, value: dict[str, Any], *, kind: str = "default", name: str) -> dict[str, Any]:
    """A button whose press calls back with `value` (card.action.trigger); `name` is unique in the card."""
    if kind not in BUTTON_KINDS:
        raise ValueError(f"unknown button kind {kind!r}")
    return {
        "tag": "button",
        "name": name,
        "text": _text(text),
        "type": kind,
        "behaviors": [{"type": "callback", "value": value}],
    }


def buttons(*elements: dict[str, Any]) -> dict[str, Any]:
    """Buttons side by side (wrapping on a narrow screen)."""
    return {
        "tag": "column_set",
        "flex_mode": "flow",
        "horizontal_spacing": "8px",
        "columns": [{"tag": "column", "width": "auto", "elements": [e]} for e in elements],
    }


def form(
    name: str, elements: Sequence[dict[str, Any]], submit_text: str, submit_value: dict[str, Any]
) -> dict[str, Any]:
    """A form container: its inputs, then a submit button (named `<name>_submit`) that calls back with
    `submit_value` and the inputs' values (action.form_value, by input name)."""
    submit = {
        "tag": "button",
        "name": f"{name}_submit",
        "text": _text(submit_text),
        "type": "primary_filled",
        "width": "fill",
        "form_action_type": "submit",
        "behaviors": [{"type": "callback", "value": submit_value}],
    }
    return {"tag": "form", "name": name, "elements": [*elements, submit]}


def text_input(
    name: str,
    label: str,
    *,
    placeholder: str = "",
    required: bool = False,
    multiline: bool = False,
    default: str = "",
    max_length: int = INPUT_MAX,
) -> dict[str, Any]:
    """A text input of a form (`name` is its key in form_value), its label above it."""
    limit = max(1, min(max_length, INPUT_MAX))
    element: dict[str, Any] = {
        "tag": "input",
        "name": name,
        "required": required,
        "label": _text(label, TITLE_MAX),
        "label_position": "top",
        "input_type": "multiline_text" if multiline else "text",
        "max_length": limit,
        "width": "fill",
    }
    if multiline:
        element["rows"] = 3
        element["auto_resize"] = True
    if placeholder:
        element["placeholder"] = _text(placeholder)
    if default:
        element["default_value"] = clip(_CONTROL.sub("", default), limit)
    return element


def _labelled(label: str, element: dict[str, Any]) -> dict[str, Any]:
    """An element with a bold label above it (pickers and selects have no label of their own)."""
    head = markdown(f"**{escape_md(label)}**")
    column = {"tag": "column", "width": "weighted", "weight": 1, "elements": [head, element]}
    return {"tag": "column_set", "columns": [column]}


def person_picker(
    name: str, label: str, *, required: bool = False, people: Sequence[str] = (), initial: str | None = None
) -> dict[str, Any]:
    """A one-person picker of a form; its value is the chosen open_id. It offers `people` (open_ids), or when
    there are none every member of the chat the card is in (in a one-to-one chat: only that person); `initial`
    is picked to begin with (offered too)."""
    picker: dict[str, Any] = {
        "tag": "select_person",
        "name": name,
        "required": required,
        "width": "fill",
        "placeholder": _text(label),
    }
    if initial:
        people = [initial, *people] if people else ()
        picker["initial_option"] = initial
    if people:
        picker["options"] = [{"value": p} for p in dict.fromkeys(people)]
    return _labelled(label, picker)


def select(
    name: str, label: str, options: Sequence[tuple[str, str]], *, required: bool = False, default: str | None = None
) -> dict[str, Any]:
    """A drop-down of a form: options as (value, text); its value is the chosen option's value."""
    element: dict[str, Any] = {
        "tag": "select_static",
        "name": name,
        "required": required,
        "width": "fill",
        "placeholder": _text(label),
        "options": [{"text": _text(text), "value": value} for value, text in options],
    }
    if default is not None:
        element["initial_option"] = default
    return _labelled(label, element)


# ---------------------------------------------------------------------------
# The card
# ---------------------------------------------------------------------------


def card(
    title: str,
    elements: list[dict[str, Any]],
    *,
    template: str = "blue",
    subtitle: str | None = None,
    summary: str | None = None,
) -> dict[str, Any]:
    """A JSON 2.0 card (shared, so updating it updates it for everyone) under a coloured header; one too large
    for Feishu has its longest texts cut until it fits."""
    if template not in TEMPLATES:
        raise ValueError(f"unknown header template {template!r}")
    header: dict[str, Any] = {"title": _text(title, TITLE_MAX), "template": template}
    if subtitle:
        header["subtitle"] = _text(subtitle, TITLE_MAX)
    config: dict[str, Any] = {"update_multi": True}
    if summary:
        config["summary"] = {"content": plain(summary, TITLE_MAX)}
    built = {"schema": "2.0", "config": config, "header": header, "body": {"elements": elements}}
    return _fit(built)


def _cut_markdown(content: str, limit: int) -> str:
    """Markdown cut to about `limit` characters, never inside a character reference or a tag."""
    cut = content[:limit]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    lt = cut.rfind("<")
    if lt != -1 and ">" not in cut[lt:]:
        cut = cut[:lt]
    return cut.rstrip() + "…"


def _fit(card: dict[str, Any]) -> dict[str, Any]:
    """Cut the longest markdown until the card is within Feishu's size limit."""
    while card_size(card) > CARD_MAX_BYTES:
        texts = [e for e in walk(card["body"]["elements"]) if e.get("tag") == "markdown"]
        longest = max(texts, key=lambda e: len(e["content"]), default=None)
        if longest is None or len(longest["content"]) < 200:
            break  # nothing left worth cutting: validate_card will say so
        logger.info("card too large (%d bytes): cutting a text", card_size(card))
        longest["content"] = _cut_markdown(longest["content"], len(longest["content"]) * 2 // 3)
    return card


# ---------------------------------------------------------------------------
# Answers to a card callback
# ---------------------------------------------------------------------------


def toast(kind: str, content: str) -> dict[str, Any]:
    """A card callback's answer that shows a short message to the person who pressed."""
    if kind not in TOAST_KINDS:
        raise ValueError(f"unknown toast kind {kind!r}")
    return {"toast": {"type": kind, "content": plain(content, TOAST_MAX)}}


def _label_key(field: str) -> str:
    """The catalog key of a field's label when its form did not say."""
    generic = f"field.{field}"
    if generic in EN:
        return generic
    return next((k for k in sorted(EN) if k.endswith(f".{generic}")), generic)


def errors_toast(lang: str, exc: ValidationFailed, *, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A form's field errors as an error toast: "<field label>: <message>; …".

    `labels` maps a field to the catalog key of its label (each form's module has its LABELS); a field it does not
    name is labelled by `field.<name>`, else by the first `<feature>.field.<name>`, else by its name.
    """
    semicolon = "；" if lang == "zh" else "; "
    parts = []
    for field, (key, params) in exc.field_errors.items():
        values = dict(params)
        said = values.pop("_lang", None) or lang  # a message about typed words, in the language they were typed in
        label_key = (labels or {}).get(field) or _label_key(field)
        label = t(lang, label_key) if label_key in EN else field
        parts.append(f"{label}{colon(lang)}{t(said, key, **values)}")
    return toast("error", semicolon.join(parts) or t(lang, exc.key))


# ---------------------------------------------------------------------------
# Reading a submitted form
# ---------------------------------------------------------------------------


def form_text(form_value: Any, name: str) -> str:
    """The text (or chosen value, or chosen open_id) a submitted form holds under `name`; '' when none.

    An input arrives as a string, a picker as an open_id (some clients send a one-item list or an object);
    NUL is dropped, as PostgreSQL text holds none.
    """
    raw = form_value.get(name) if isinstance(form_value, dict) else None
    if isinstance(raw, list):
        raw = next((r for r in raw if isinstance(r, str | dict)), None)
    if isinstance(raw, dict):
        raw = raw.get("value") or raw.get("open_id") or raw.get("id")
    return raw.replace("\x00", "") if isinstance(raw, str) else ""
