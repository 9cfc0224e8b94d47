"""Texts of the App Home."""

from __future__ import annotations

EN: dict[str, str] = {}

ZH: dict[str, str] = {}
