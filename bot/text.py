"""The text catalog: every user-facing string, in English and Simplified Chinese."""

from __future__ import annotations

import logging
import os
import re
import string
from typing import Any

from bot.catalog import FEATURES

logger = logging.getLogger(__name__)

LANGS = ("en", "zh")


def _merge(lang: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for module in FEATURES:
        table: dict[str, str] = getattr(module, lang.upper())
        clash = merged.keys() & table.keys()
        if clash:
            raise RuntimeError(f"text keys defined twice: {sorted(clash)}")
        merged.update(table)
    return merged


EN: dict[str, str] = _merge("en")
ZH: dict[str, str] = _merge("zh")

CATALOG: dict[str, dict[str, str]] = {"en": EN, "zh": ZH}


def normalize_lang(value: str | None, default: str = "en") -> str:
    """Map a Slack locale such as zh-CN or en-US to a catalog language."""
    if not value:
        return default
    value = value.lower()
    if value.startswith("zh"):
        return "zh"
    if value.startswith("en"):
        return "en"
    return default


_missing_told: set[str] = set()


class MissingText(KeyError):
    """A text key no catalog has (raised when COORDBOT_STRICT_TEXT is set, as the tests set it)."""


def t(lang: str, key: str, **params: Any) -> str:
    """The text for `key` in `lang` (English when missing), with `{placeholders}` filled.

    A key no catalog has is a bug: with COORDBOT_STRICT_TEXT set (the tests) it raises; otherwise the key itself
    is shown and the first use of each such key is logged as an error.
    """
    template = CATALOG.get(lang, EN).get(key) or EN.get(key)
    if template is None:
        if os.environ.get("COORDBOT_STRICT_TEXT"):
            raise MissingText(key)
        if key not in _missing_told:
            _missing_told.add(key)
            logger.error("no text for %r in any catalog", key)
        template = key
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return string.Formatter().vformat(template, (), _Lenient(params))


class _Lenient(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def text_lang(text: str, fallback: str) -> str:
    """The language typed text is written in: zh with Han characters, else en with Latin letters, else fallback."""
    if _CJK.search(text):
        return "zh"
    if _LATIN.search(text):
        return "en"
    return fallback


def placeholders(template: str) -> set[str]:
    """The placeholder names a template uses."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
