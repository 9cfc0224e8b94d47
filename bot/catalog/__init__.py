"""The text catalog, one module per feature, each with an EN and a ZH table (merged by bot.text)."""

from __future__ import annotations

from bot.catalog import (
    actions,
    channels,
    charts,
    core,
    digest,
    export,
    feishu,
    home,
    incidents,
    meetings,
    metrics,
    welcome,
)

FEATURES = (core, meetings, actions, home, digest, export, incidents, channels, welcome, metrics, charts, feishu)
