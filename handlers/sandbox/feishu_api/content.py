"""What a message's content may be, checked as Feishu checks it: a text, a post, or a card with only images it
issued; and reading a recorded message's texts back."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from handlers.sandbox.feishu_api.calls import FeishuApiFailure

TEXT_LIMIT = 150 * 1024  # bytes of a text message's content
CARD_LIMIT = 30 * 1024  # bytes of a card's content
CARD_INVALID = "Failed to create card content, ext=ErrCode: 200621; ErrMsg: parse card json err, please check card json"
CARD_IMAGE_INVALID = "Failed to create card content, ext=ErrCode: 200570; ErrMsg: card contains invalid image keys"
_TEXT_TAGS = frozenset({"plain_text", "lark_md", "markdown"})
_V2_REMOVED_TAGS = frozenset({"action", "note"})  # card 1.0 modules that schema 2.0 rejects


def card_texts(message: dict[str, Any]) -> list[str]:
    """Every text in a recorded message: a text message's text, or each plain_text/lark_md/markdown of a card."""
    content = message.get("content") or {}
    if message.get("msg_type") == "text":
        return [str(content.get("text", ""))]
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("tag") in _TEXT_TAGS and isinstance(node.get("content"), str):
                found.append(node["content"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(content)
    return found


def _content(msg_type: str, content: Any, *, images: Collection[str] = ()) -> dict[str, Any]:
    """Parse and check a message's ``content`` as Feishu does (a card's images among ``images``); return it
    decoded."""
    if not isinstance(content, str):
        raise FeishuApiFailure(99992402, "field validation failed: content must be a string of JSON")
    limit = CARD_LIMIT if msg_type == "interactive" else TEXT_LIMIT
    if len(content.encode("utf-8")) > limit:
        raise FeishuApiFailure(230025, "The length of the message content reaches its limit.")
    try:
        decoded = json.loads(content)
    except ValueError:
        raise FeishuApiFailure(
            230001, "Your request contains an invalid request parameter, ext=invalid content."
        ) from None
    if not isinstance(decoded, dict):
        raise FeishuApiFailure(230001, "Your request contains an invalid request parameter, ext=invalid content.")
    if msg_type == "text":
        if not isinstance(decoded.get("text"), str) or not decoded["text"].strip():
            raise FeishuApiFailure(230001, "Your request contains an invalid request parameter, ext=text is empty.")
    elif msg_type == "interactive":
        _check_card(decoded, images)
    elif msg_type != "post":
        raise FeishuApiFailure(
            230001,
            f"Your request contains an invalid request parameter, ext=msg_type {msg_type} "
            "is not supported by the fake.",
        )
    return decoded


def _check_card(card: dict[str, Any], images: Collection[str] = ()) -> None:
    if card.get("type") == "template":
        if not (card.get("data") or {}).get("template_id"):
            raise FeishuApiFailure(230099, CARD_INVALID)
        return
    schema = card.get("schema")
    if schema == "2.0":
        body = card.get("body")
        if "elements" in card or not isinstance(body, dict) or not isinstance(body.get("elements"), list):
            raise FeishuApiFailure(230099, f"{CARD_INVALID}: a schema 2.0 card keeps its elements in body.elements")
        elements = body["elements"]
    elif schema is not None:
        raise FeishuApiFailure(230099, f"{CARD_INVALID}: unknown schema {schema!r}")
    elif isinstance(card.get("elements"), list):
        elements = card["elements"]
    elif isinstance(card.get("i18n_elements"), dict):
        elements = [e for locale in card["i18n_elements"].values() for e in locale]
    else:
        raise FeishuApiFailure(230099, f"{CARD_INVALID}: a card needs elements (or schema 2.0 and body.elements)")
    _check_elements(elements, v2=schema == "2.0", images=images)


def _check_elements(elements: Any, *, v2: bool, images: Collection[str]) -> None:
    if not isinstance(elements, list):
        raise FeishuApiFailure(230099, CARD_INVALID)
    for element in elements:
        if not isinstance(element, dict) or not isinstance(element.get("tag"), str):
            raise FeishuApiFailure(230099, f"{CARD_INVALID}: every element needs a tag")
        if v2 and element["tag"] in _V2_REMOVED_TAGS:
            raise FeishuApiFailure(
                230099,
                f"Failed to create card content, ext=ErrCode: 200861; ErrMsg: cards of schema V2 no longer "
                f"support this capability; ErrorValue: {element['tag']}",
            )
        if element["tag"] == "img":
            keys = [element.get("img_key")]
        elif element["tag"] == "img_combination":
            keys = [i.get("img_key") if isinstance(i, dict) else None for i in element.get("img_list") or [None]]
        else:
            keys = []
        for image_key in keys:
            if not isinstance(image_key, str) or image_key not in images:
                raise FeishuApiFailure(230099, f"{CARD_IMAGE_INVALID}; ErrorValue: image key {image_key}")
        for key in ("elements", "columns", "actions"):
            if key in element:
                _check_elements(element[key], v2=v2, images=images)


def _shared(card: dict[str, Any]) -> bool:
    """A shared card: schema 2.0 cards are unless config.update_multi is false; 1.0 cards must say true."""
    config = card.get("config") or {}
    if card.get("type") == "template" or card.get("schema") == "2.0":
        return config.get("update_multi", True) is not False
    return config.get("update_multi") is True
