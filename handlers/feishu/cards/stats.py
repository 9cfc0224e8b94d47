"""The Feishu card of `事故 统计 [days]` / `/incident stats`: incidents by severity with MTTA and MTTR, how many
were reopened, and their follow-ups — what Slack's stats message shows, from the same report."""

from __future__ import annotations

import logging
from typing import Any

from bot.services.metrics import Report, SeverityFigures, duration_text, percent_text
from bot.text import t
from handlers.feishu.cards.common import card, hr, lark_t, markdown, when

logger = logging.getLogger(__name__)


def _severity_figures(lang: str, figures: SeverityFigures) -> dict[str, object]:
    label = t(lang, f"incident.severity.{figures.severity}") if figures.severity != "all" else t(lang, "metrics.all")
    return {
        "severity": label,
        "count": figures.count,
        "mtta": duration_text(lang, figures.mtta.median),
        "mtta_p90": duration_text(lang, figures.mtta.p90),
        "mttr": duration_text(lang, figures.mttr.median),
        "mttr_p90": duration_text(lang, figures.mttr.p90),
    }


def _severity_line(lang: str, figures: SeverityFigures) -> str:
    return lark_t(lang, "metrics.stats.severity_line", **_severity_figures(lang, figures))


def stats_card(lang: str, report: Report, *, scope_label: str, tz: str) -> dict[str, Any]:
    """The stats card: the period and scope, a line per severity that had incidents and one for all of them,
    reopenings and follow-ups, and what MTTA and MTTR mean. `scope_label` is typed text (escaped here)."""
    inc, fu = report.incidents, report.follow_ups
    window = t(
        lang,
        "metrics.stats.window",
        scope=scope_label,
        since=when(report.since, tz, lang, with_time=False),
        until=when(report.until, tz, lang, with_time=False),
    )
    elements: list[dict[str, Any]] = []
    if inc.total.count == 0:
        elements.append(markdown(lark_t(lang, "metrics.stats.none_declared")))
    else:
        lines = [_severity_line(lang, s) for s in inc.by_severity if s.count]
        elements.append(markdown("\n".join(lines)))
        elements.append(hr())
        elements.append(markdown(_severity_line(lang, inc.total)))
        elements.append(markdown(lark_t(lang, "metrics.stats.reopened", value=percent_text(lang, inc.reopened))))
        # follow-ups are those of these incidents, so there are none without incidents
        follow_ups = lark_t(
            lang,
            "metrics.stats.follow_ups",
            total=fu.total,
            done=fu.done,
            wont_do=fu.wont_do,
            overdue=fu.overdue,
            open=fu.open,
        )
        elements.append(markdown(follow_ups))
    elements.append(markdown(lark_t(lang, "metrics.stats.footnote"), notation=True))
    title = t(lang, "metrics.stats.header")
    total = t(lang, "metrics.stats.severity_line", **_severity_figures(lang, inc.total)).replace("*", "")
    return card(title, elements, template="violet", subtitle=window, summary=f"{title} · {total}")
