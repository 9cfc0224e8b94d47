"""Texts of the weekly channel digest."""

from __future__ import annotations

EN: dict[str, str] = {}

ZH: dict[str, str] = {}
