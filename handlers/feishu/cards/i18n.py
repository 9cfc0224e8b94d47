"""Cards that show each reader their Feishu client's language.

Feishu does not tell a bot its users' languages, but a JSON 2.0 card's texts may carry `i18n_content` beside
`content`, and each reader's client shows the text of its own language. The card is built once per catalog
language and the builds are laid side by side: each text of the primary build gets every build's text, and
`content` stays the primary's (what a client without a matching language shows, and what the code reads).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.text import LANGS
from handlers.feishu.cards.check import CARD_MAX_BYTES, card_size

logger = logging.getLogger(__name__)

LOCALES = {"zh": "zh_cn", "en": "en_us"}  # catalog language → Feishu's locale
TEXT_TAGS = frozenset({"plain_text", "lark_md", "markdown"})
SUMMARY = "summary"  # config.summary: a text without a tag, which takes i18n_content too


class _Differs(Exception):
    """The builds differ somewhere other than in a text's content."""

    def __init__(self, where: str) -> None:
        super().__init__(where)
        self.where = where


def bilingual(build: Callable[[str], dict[str, Any]], primary: str) -> dict[str, Any]:
    """The card built in `primary`, its texts carrying every catalog language's (the primary build alone if not)."""
    builds = {lang: build(lang) for lang in dict.fromkeys([primary, *LANGS])}
    try:
        merged = _merge(builds, primary, "card", summary=False)
    except _Differs as differs:
        logger.debug("the card's languages differ at %s: shown in %s only", differs.where, primary)
        return builds[primary]
    if card_size(merged) > CARD_MAX_BYTES:
        logger.debug("the card in every language is too large: shown in %s only", primary)
        return builds[primary]
    return merged


def _text(node: Any, *, summary: bool) -> bool:
    """Whether a node is a text that takes i18n_content."""
    return isinstance(node, dict) and isinstance(node.get("content"), str) and (summary or node.get("tag") in TEXT_TAGS)


def _merge(nodes: dict[str, Any], primary: str, where: str, *, summary: bool) -> Any:
    """The primary's node with the texts of all beside its own (a new node); _Differs where they differ otherwise."""
    node = nodes[primary]
    if isinstance(node, dict):
        if any(not isinstance(n, dict) or n.keys() != node.keys() for n in nodes.values()):
            raise _Differs(where)
        texts = all(_text(n, summary=summary) for n in nodes.values())
        merged: dict[str, Any] = {}
        for key, value in node.items():
            if texts and key == "content":
                merged[key] = value
            else:
                inner = {lang: n[key] for lang, n in nodes.items()}
                merged[key] = _merge(inner, primary, f"{where}.{key}", summary=key == SUMMARY)
        if texts and len({n["content"] for n in nodes.values()}) > 1:
            merged["i18n_content"] = {LOCALES[lang]: n["content"] for lang, n in nodes.items()}
        return merged
    if isinstance(node, list):
        if any(not isinstance(n, list) or len(n) != len(node) for n in nodes.values()):
            raise _Differs(where)
        return [
            _merge({lang: n[i] for lang, n in nodes.items()}, primary, f"{where}[{i}]", summary=False)
            for i in range(len(node))
        ]
    if any(type(n) is not type(node) or n != node for n in nodes.values()):
        raise _Differs(where)
    return node
