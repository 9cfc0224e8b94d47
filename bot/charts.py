"""Charts as PNG images: a channel's action items and incidents week by week, in the reader's language.

Pure rendering: data and a language in, PNG bytes out, with matplotlib's Agg renderer (no display). matplotlib
is imported by the first render, not when the bot starts. Every text is set in Noto Sans CJK SC, loaded by
path from the `noto-cjk-sans-otc` package (SIL Open Font License), so a machine without CJK fonts draws
Chinese rather than empty boxes; its Latin glyphs serve English too.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.text import t

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

WIDTH_PX, HEIGHT_PX, DPI = 1200, 600, 200  # 6 × 3 inches at 2× DPI: sharp on high-density screens
FONT_FAMILY = "Noto Sans CJK SC"  # the face of the collection with Simplified Chinese glyph forms
SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
SEVERITY_COLORS = {"SEV1": "#b3261e", "SEV2": "#e8710a", "SEV3": "#f2c230", "SEV4": "#9aa0a6"}
OPEN_COLOR, DONE_COLOR, INK, GRID = "#1a73e8", "#34a853", "#3c4043", "#e0e0e0"

_font_lock = threading.Lock()
_render_lock = threading.Lock()  # one figure at a time: matplotlib's font caches are shared by the process
_font: FontProperties | None = None


@dataclass(frozen=True)
class ActionWeeks:
    """A channel's action items at the end of each week, oldest week first."""

    ends: tuple[datetime, ...]  # the end of each week
    open: tuple[int, ...]  # not done at the week's end
    done: tuple[int, ...]  # done during the week

    @property
    def empty(self) -> bool:
        """Nothing open and nothing done in any of the weeks."""
        return not any(self.open) and not any(self.done)


@dataclass(frozen=True)
class IncidentWeeks:
    """Incidents declared in each week, by severity, oldest week first."""

    ends: tuple[datetime, ...]
    by_severity: dict[str, tuple[int, ...]]  # SEV1 … SEV4 -> one count per week

    @property
    def totals(self) -> tuple[int, ...]:
        """All severities together, per week."""
        return tuple(sum(week) for week in zip(*self.by_severity.values(), strict=True)) or (0,) * len(self.ends)

    @property
    def empty(self) -> bool:
        """No incident in any of the weeks."""
        return not any(self.totals)


@dataclass(frozen=True)
class Chart:
    """One rendered chart: the PNG, and the title and alt text Slack shows with it."""

    png: bytes
    title: str
    alt: str
    filename: str


def font_properties() -> FontProperties:
    """The bundled Noto Sans CJK SC (by file and face index), registered with matplotlib's font manager once."""
    global _font
    with _font_lock:
        if _font is None:
            import noto_cjk_sans_otc
            from matplotlib import font_manager, ft2font

            path = str(noto_cjk_sans_otc.FONT_PATH)
            faces = ft2font.FT2Font(path).num_faces
            index = next((i for i in range(faces) if ft2font.FT2Font(path, face_index=i).family_name == FONT_FAMILY), 0)
            font_manager.fontManager.addfont(path)  # its faces are known by name too
            # by path and face: a system font of the same family name could otherwise win the lookup
            _font = font_manager.FontProperties(fname=font_manager.FontPath(path, index))
        return _font


def date_label(lang: str, moment: datetime, tz: str) -> str:
    """A day as the language writes it: Nov 30, 11月30日."""
    local = moment.astimezone(ZoneInfo(tz))
    return t(lang, "chart.date", month=t(lang, f"chart.month.{local.month}"), day=local.day)


def actions_chart(weeks: ActionWeeks, lang: str, *, tz: str) -> Chart:
    """Open action items at each week's end (a line) and those done during each week (bars)."""
    n = len(weeks.ends)
    labels = [date_label(lang, end, tz) for end in weeks.ends]
    title = t(lang, "chart.actions.title", weeks=n)
    points = t(lang, "chart.separator").join(
        t(lang, "chart.actions.point", date=label, open=o, done=d)
        for label, o, d in zip(labels, weeks.open, weeks.done, strict=True)
    )
    with _render_lock:
        fig, ax = _canvas(lang, title, t(lang, "chart.actions.axis"))
        xs = list(range(n))
        bars = ax.bar(xs, weeks.done, width=0.55, color=DONE_COLOR, label=t(lang, "chart.actions.done"), zorder=2)
        # inside the bars: the open line's own numbers sit just above its points, often at the same height
        ax.bar_label(
            bars,
            labels=[str(d) if d else "" for d in weeks.done],
            label_type="center",
            color="white",
            fontproperties=_sized(7),
        )
        ax.plot(
            xs, weeks.open, color=OPEN_COLOR, marker="o", linewidth=2, label=t(lang, "chart.actions.open"), zorder=3
        )
        for x, value in zip(xs, weeks.open, strict=True):
            ax.annotate(
                str(value),
                (x, value),
                textcoords="offset points",
                xytext=(0, 5),
                ha="center",
                color=OPEN_COLOR,
                fontproperties=_sized(7),
            )
        _axes(ax, labels, max([*weeks.open, *weeks.done, 1]))
        png = _png(fig)
    return Chart(png, title, t(lang, "chart.actions.alt", weeks=n, points=points), _filename("actions", weeks.ends))


def incidents_chart(weeks: IncidentWeeks, lang: str, *, tz: str) -> Chart:
    """Incidents declared in each week, stacked by severity (SEV1 at the bottom)."""
    n = len(weeks.ends)
    labels = [date_label(lang, end, tz) for end in weeks.ends]
    title = t(lang, "chart.incidents.title", weeks=n)
    sep = t(lang, "chart.separator")
    points = sep.join(
        t(
            lang,
            "chart.incidents.point",
            date=label,
            total=total,
            detail=t(lang, "chart.detail_separator").join(
                f"{sev} {weeks.by_severity[sev][i]}" for sev in _severities(weeks) if weeks.by_severity[sev][i]
            )
            or t(lang, "chart.incidents.none"),
        )
        for i, (label, total) in enumerate(zip(labels, weeks.totals, strict=True))
    )
    with _render_lock:
        fig, ax = _canvas(lang, title, t(lang, "chart.incidents.axis"))
        xs = list(range(n))
        bottom = [0] * n
        for sev in _severities(weeks):
            counts = weeks.by_severity[sev]
            ax.bar(
                xs,
                counts,
                width=0.55,
                bottom=bottom,
                color=SEVERITY_COLORS.get(sev, INK),
                label=t(lang, f"incident.severity.{sev}") if sev in SEVERITIES else sev,
                zorder=2,
            )
            bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
        for x, total in zip(xs, weeks.totals, strict=True):
            if total:
                ax.annotate(
                    str(total),
                    (x, total),
                    textcoords="offset points",
                    xytext=(0, 3),
                    ha="center",
                    color=INK,
                    fontproperties=_sized(7),
                )
        _axes(ax, labels, max([*weeks.totals, 1]))
        png = _png(fig)
    return Chart(png, title, t(lang, "chart.incidents.alt", weeks=n, points=points), _filename("incidents", weeks.ends))


# -- drawing ----------------------------------------------------------------------------------------------


def _sized(points: float) -> FontProperties:
    font = font_properties().copy()
    font.set_size(points)
    return font


def _canvas(lang: str, title: str, y_label: str) -> tuple[Figure, Axes]:
    """A 1200 × 600 figure with one plot area, its title and axis labels set."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, layout="constrained", facecolor="white")
    ax = fig.add_subplot()
    ax.set_title(title, loc="left", color=INK, fontproperties=_sized(10), pad=22)  # room for the legend below it
    ax.set_ylabel(y_label, color=INK, fontproperties=_sized(8))
    ax.set_xlabel(t(lang, "chart.week_ending"), color=INK, fontproperties=_sized(8))
    return fig, ax


def _axes(ax: Axes, labels: Sequence[str], top: int) -> None:
    """Week labels below, whole-number ticks at the left, a light grid, the legend above the plot."""
    from matplotlib.ticker import MaxNLocator

    limit = max(top * 1.2, top + 1)
    ticks = [v for v in MaxNLocator(nbins=5, integer=True).tick_values(0, limit) if 0 <= v <= limit]
    ax.set_ylim(0, limit)
    ax.set_yticks(ticks, labels=[str(int(v)) for v in ticks], fontproperties=_sized(7), color=INK)
    ax.set_xticks(range(len(labels)), labels=list(labels), fontproperties=_sized(7), color=INK)
    ax.set_xlim(-0.6, len(labels) - 0.4)
    ax.grid(axis="y", color=GRID, linewidth=0.8, zorder=0)
    ax.tick_params(length=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(GRID)
    # the legend in a row of its own between the title and the plot, so it never covers a bar
    ax.legend(
        loc="lower left",
        bbox_to_anchor=(0, 1),
        ncols=4,
        frameon=False,
        prop=_sized(7),
        handlelength=1.2,
        borderaxespad=0.2,
        borderpad=0,
    )


def _png(fig: Figure) -> bytes:
    """The figure as PNG bytes at its own size (no tight cropping: every chart is the same size)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
    return buffer.getvalue()


def _severities(weeks: IncidentWeeks) -> list[str]:
    """The severities to draw, most severe first (unknown ones after the four known)."""
    return sorted(weeks.by_severity, key=lambda s: (SEVERITIES.index(s) if s in SEVERITIES else len(SEVERITIES), s))


def _filename(kind: str, ends: Sequence[datetime]) -> str:
    last = ends[-1].date().isoformat() if ends else "empty"
    return f"coordbot-{kind}-{last}.png"
