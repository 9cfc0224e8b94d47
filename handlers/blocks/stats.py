"""Block Kit for `/incident stats`: incidents by severity with MTTA and MTTR, reopenings, follow-ups."""

from __future__ import annotations

from enum import StrEnum

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.services.metrics import Report, SeverityFigures, duration_text, percent_text
from bot.text import t
from handlers.blocks.common import SECTION_MAX, date_token, escape, plain, truncate


class Ids(StrEnum):
    """block_id values the stats message owns."""

    HEADER = "stats_header"
    WINDOW = "stats_window"
    SEVERITIES = "stats_severities"
    TOTAL = "stats_total"
    EMPTY = "stats_empty"
    REOPENED = "stats_reopened"
    FOLLOW_UPS = "stats_follow_ups"
    FOOTNOTE = "stats_footnote"


def _severity_line(lang: str, figures: SeverityFigures) -> str:
    label = t(lang, f"incident.severity.{figures.severity}") if figures.severity != "all" else t(lang, "metrics.all")
    return t(
        lang,
        "metrics.stats.severity_line",
        severity=escape(label),
        count=figures.count,
        mtta=duration_text(lang, figures.mtta.median),
        mtta_p90=duration_text(lang, figures.mtta.p90),
        mttr=duration_text(lang, figures.mttr.median),
        mttr_p90=duration_text(lang, figures.mttr.p90),
    )


def stats_blocks(lang: str, report: Report, *, scope_label: str, tz: str = "UTC") -> list[Block]:
    """The stats message: a header, the period and scope, a line per severity, reopenings and follow-ups.

    `scope_label` names whose incidents these are (a channel, the workspace) and is escaped here; `tz` is only
    the fallback of the dates, which Slack shows in each reader's own timezone.
    """
    inc, fu = report.incidents, report.follow_ups
    window = t(
        lang,
        "metrics.stats.window",
        scope=escape(scope_label),
        since=date_token(report.since, tz),
        until=date_token(report.until, tz),
    )
    blocks: list[Block] = [
        HeaderBlock(block_id=Ids.HEADER, text=plain(t(lang, "metrics.stats.header"), 150)),
        ContextBlock(block_id=Ids.WINDOW, elements=[MarkdownTextObject(text=truncate(window, SECTION_MAX))]),
    ]
    if inc.total.count == 0:
        blocks.append(_section(Ids.EMPTY, t(lang, "metrics.stats.none_declared")))
    else:
        lines = [_severity_line(lang, s) for s in inc.by_severity if s.count]
        blocks.append(_section(Ids.SEVERITIES, "\n".join(lines)))
        blocks.append(_section(Ids.TOTAL, _severity_line(lang, inc.total)))
        blocks.append(_section(Ids.REOPENED, t(lang, "metrics.stats.reopened", value=percent_text(lang, inc.reopened))))
        # follow-ups are those of these incidents, so there are none without incidents
        follow_ups = t(
            lang,
            "metrics.stats.follow_ups",
            total=fu.total,
            done=fu.done,
            wont_do=fu.wont_do,
            overdue=fu.overdue,
            open=fu.open,
        )
        blocks.append(_section(Ids.FOLLOW_UPS, follow_ups))
    blocks.append(
        ContextBlock(block_id=Ids.FOOTNOTE, elements=[MarkdownTextObject(text=t(lang, "metrics.stats.footnote"))])
    )
    return blocks


def stats_text(lang: str, report: Report) -> str:
    """The notification text of the stats message (what a screen reader or a push notification shows)."""
    return t(lang, "metrics.stats.header") + " · " + _severity_line(lang, report.incidents.total).replace("*", "")


def _section(block_id: str, text: str) -> SectionBlock:
    return SectionBlock(block_id=block_id, text=MarkdownTextObject(text=truncate(text, SECTION_MAX)))
