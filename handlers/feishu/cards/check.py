"""The structural check the tests run on every card, and Feishu's limits on a card that it enforces.

The builders in common.py keep within the same limits (a title cut to TITLE_MAX, a card cut to CARD_MAX_BYTES);
`validate_card` says what Feishu would refuse when one does not.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

CARD_MAX_BYTES = 30 * 1024  # Feishu refuses a card whose JSON is larger
MAX_ELEMENTS = 200  # components in one JSON 2.0 card
PLAIN_MAX = 100  # a button's text, a placeholder, an option
TITLE_MAX = 150  # a header title (it wraps to at most four lines)
INPUT_MAX = 1000  # the largest max_length an input accepts
TEMPLATES = frozenset(
    {"blue", "wathet", "turquoise", "green", "yellow", "orange", "red", "carmine", "violet", "purple", "indigo"}
    | {"grey", "default"}
)
BUTTON_KINDS = frozenset(
    {"default", "primary", "danger", "text", "primary_text", "danger_text", "primary_filled", "danger_filled", "laser"}
)
KNOWN_TAGS = frozenset(
    {"markdown", "div", "hr", "img", "img_combination", "column_set", "column", "form", "collapsible_panel"}
    | {"interactive_container", "table", "chart", "person", "person_list", "audio", "video"}
    | {"input", "button", "overflow", "select_static", "multi_select_static", "select_person"}
    | {"multi_select_person", "date_picker", "picker_time", "picker_datetime", "checker", "select_img"}
)
INTERACTIVE = frozenset(
    {"input", "button", "overflow", "select_static", "multi_select_static", "select_person", "multi_select_person"}
    | {"date_picker", "picker_time", "picker_datetime", "checker", "select_img", "interactive_container"}
)
_FORM_ONLY = ("required", "form_action_type")
LOCALES = frozenset(  # the languages a text's i18n_content may give
    {"zh_cn", "en_us", "ja_jp", "zh_hk", "zh_tw", "id_id", "vi_vn", "th_th", "pt_br", "es_es", "ko_kr", "de_de"}
    | {"fr_fr", "it_it", "ru_ru", "ms_my"}
)


def card_size(card: dict[str, Any]) -> int:
    """Bytes of a card's JSON, as Feishu counts them against CARD_MAX_BYTES."""
    return len(json.dumps(card, ensure_ascii=False, separators=(",", ":")).encode())


def walk(elements: Any) -> Iterator[dict[str, Any]]:
    """Every element of a list of elements and of the elements and columns inside them, depth first."""
    for element in elements if isinstance(elements, list) else []:
        if not isinstance(element, dict):
            continue
        yield element
        yield from walk(element.get("elements"))
        yield from walk(element.get("columns"))


def _check_plain(where: str, text: Any, limit: int) -> None:
    if not isinstance(text, dict) or text.get("tag") != "plain_text" or not isinstance(text.get("content"), str):
        raise ValueError(f"{where}: not a plain_text object")
    if not text["content"].strip():
        raise ValueError(f"{where}: empty text")
    if len(text["content"]) > limit:
        raise ValueError(f"{where}: text longer than {limit} characters")
    _check_i18n(where, text, limit)


def _check_i18n(where: str, text: dict[str, Any], limit: int | None = None) -> None:
    """A text's texts by language (i18n_content), if it has them: each a known locale's, none empty or too long."""
    if "i18n_content" not in text:
        return
    texts = text["i18n_content"]
    if not isinstance(texts, dict) or not texts:
        raise ValueError(f"{where}.i18n_content: not an object of texts by locale")
    for locale, content in texts.items():
        if locale not in LOCALES:
            raise ValueError(f"{where}.i18n_content: unknown locale {locale!r}")
        if not isinstance(content, str) or not content.strip():
            raise ValueError(f"{where}.i18n_content.{locale}: empty text")
        if limit is not None and len(content) > limit:
            raise ValueError(f"{where}.i18n_content.{locale}: text longer than {limit} characters")


def validate_card(card: Any) -> None:
    """Check a card's structure the way Feishu would refuse it; raise ValueError saying what is wrong."""
    if not isinstance(card, dict):
        raise ValueError("a card is a JSON object")
    if card.get("schema") != "2.0":
        raise ValueError('the card must declare "schema": "2.0"')
    config = card.get("config")
    if not isinstance(config, dict) or config.get("update_multi") is not True:
        raise ValueError("config.update_multi must be true (a card is updated for everyone)")
    header = card.get("header")
    if not isinstance(header, dict):
        raise ValueError("the card has no header")
    _check_plain("header.title", header.get("title"), TITLE_MAX)
    if "subtitle" in header:
        _check_plain("header.subtitle", header["subtitle"], TITLE_MAX)
    if header.get("template", "default") not in TEMPLATES:
        raise ValueError(f"header.template {header.get('template')!r} is not a Feishu template")
    body = card.get("body")
    elements = body.get("elements") if isinstance(body, dict) else None
    if not isinstance(elements, list) or not elements:
        raise ValueError("body.elements must be a non-empty list")
    try:
        size = card_size(card)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"the card is not JSON: {exc}") from exc
    if size > CARD_MAX_BYTES:
        raise ValueError(f"the card is {size} bytes, over Feishu's {CARD_MAX_BYTES}")
    names: set[str] = set()
    count = [0]

    def check(items: Any, where: str, *, root: bool, in_form: bool) -> None:
        if not isinstance(items, list):
            raise ValueError(f"{where}: not a list")
        for i, element in enumerate(items):
            at_ = f"{where}[{i}]"
            if not isinstance(element, dict):
                raise ValueError(f"{at_}: not an object")
            tag = element.get("tag")
            if tag not in KNOWN_TAGS or tag == "column":
                raise ValueError(f"{at_}: unknown tag {tag!r}")
            count[0] += 1
            _check_element(element, at_, names, root=root, in_form=in_form)
            if tag == "form":
                check(element.get("elements"), f"{at_}.elements", root=False, in_form=True)
            elif tag == "column_set":
                for j, column in enumerate(element.get("columns") or []):
                    if not isinstance(column, dict) or column.get("tag") != "column":
                        raise ValueError(f"{at_}.columns[{j}]: not a column")
                    check(column.get("elements", []), f"{at_}.columns[{j}].elements", root=False, in_form=in_form)
            elif tag in ("collapsible_panel", "interactive_container"):
                check(element.get("elements", []), f"{at_}.elements", root=False, in_form=in_form)

    check(elements, "body.elements", root=True, in_form=False)
    if count[0] > MAX_ELEMENTS:
        raise ValueError(f"the card has {count[0]} elements, over Feishu's {MAX_ELEMENTS}")


def _check_element(element: dict[str, Any], where: str, names: set[str], *, root: bool, in_form: bool) -> None:
    """The rules of one element (its children are checked by the caller)."""
    tag = element["tag"]
    if tag in INTERACTIVE or tag == "form":
        name = element.get("name")
        if not isinstance(name, str) or not name:
            raise ValueError(f"{where}: a {tag} needs a name")
        if name in names:
            raise ValueError(f"{where}: the name {name!r} is used twice")
        names.add(name)
    if not in_form and any(k in element for k in _FORM_ONLY):
        raise ValueError(f"{where}: {'/'.join(_FORM_ONLY)} only work inside a form")
    checks: dict[str, Callable[[], None]] = {
        "form": lambda: _check_form(element, where, root=root, in_form=in_form),
        "markdown": lambda: _check_markdown(element, where),
        "button": lambda: _check_button(element, where),
        "input": lambda: _check_input(element, where),
        "select_static": lambda: _check_options(element, where),
    }
    if tag in checks:
        checks[tag]()
    for key in ("placeholder", "label"):
        if key in element:
            _check_plain(f"{where}.{key}", element[key], TITLE_MAX if key == "label" else PLAIN_MAX)


def _check_form(element: dict[str, Any], where: str, *, root: bool, in_form: bool) -> None:
    if not root or in_form:
        raise ValueError(f"{where}: a form may only sit at the card's top level")
    submits = [e for e in walk(element.get("elements")) if e.get("form_action_type") == "submit"]
    if not submits:
        raise ValueError(f"{where}: a form needs a submit button")


def _check_markdown(element: dict[str, Any], where: str) -> None:
    if not isinstance(element.get("content"), str) or not element["content"].strip():
        raise ValueError(f"{where}: a markdown element needs content")
    _check_i18n(where, element)


def _check_button(element: dict[str, Any], where: str) -> None:
    _check_plain(f"{where}.text", element.get("text"), PLAIN_MAX)
    if element.get("type", "default") not in BUTTON_KINDS:
        raise ValueError(f"{where}: unknown button type {element.get('type')!r}")
    behaviors = element.get("behaviors") or []
    callbacks = [b for b in behaviors if isinstance(b, dict) and b.get("type") == "callback"]
    if element.get("form_action_type") not in (None, "submit", "reset"):
        raise ValueError(f"{where}: unknown form_action_type")
    if not callbacks and element.get("form_action_type") is None:
        raise ValueError(f"{where}: a button needs a callback behaviour")
    if any(not isinstance(b.get("value"), dict) for b in callbacks):
        raise ValueError(f"{where}: a callback value must be an object")


def _check_input(element: dict[str, Any], where: str) -> None:
    limit = element.get("max_length", INPUT_MAX)
    if not isinstance(limit, int) or not 1 <= limit <= INPUT_MAX:
        raise ValueError(f"{where}: max_length must be 1–{INPUT_MAX}")
    if element.get("input_type", "text") not in ("text", "multiline_text", "password"):
        raise ValueError(f"{where}: unknown input_type")
    if len(element.get("default_value", "")) > limit:
        raise ValueError(f"{where}: default_value longer than max_length")


def _check_options(element: dict[str, Any], where: str) -> None:
    options = element.get("options")
    if not isinstance(options, list) or not options:
        raise ValueError(f"{where}: a select needs options")
    values = [o.get("value") for o in options if isinstance(o, dict)]
    if len(values) != len(options) or len(set(values)) != len(values) or not all(isinstance(v, str) for v in values):
        raise ValueError(f"{where}: option values must be unique strings")
    for j, option in enumerate(options):
        _check_plain(f"{where}.options[{j}].text", option.get("text"), PLAIN_MAX)
    if "initial_option" in element and element["initial_option"] not in values:
        raise ValueError(f"{where}: initial_option is not one of the options")
