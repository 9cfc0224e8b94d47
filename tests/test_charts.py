"""The digest's charts as images: Slack-sized PNGs, titled in the channel's language, Chinese drawn (not tofu)."""

from __future__ import annotations

import io
import subprocess
import sys
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ft2font import FT2Font
from PIL import Image

from bot import charts
from bot.charts import ActionWeeks, Chart, IncidentWeeks

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
ENDS = tuple(NOW - timedelta(days=7 * k) for k in range(7, -1, -1))
ACTIONS = ActionWeeks(ENDS, open=(3, 5, 6, 8, 7, 9, 6, 4), done=(1, 2, 0, 3, 4, 2, 5, 4))
INCIDENTS = IncidentWeeks(
    ENDS,
    {
        "SEV1": (0, 1, 0, 0, 0, 0, 1, 0),
        "SEV2": (1, 0, 2, 0, 0, 1, 0, 0),
        "SEV3": (0, 0, 1, 3, 0, 0, 0, 1),
        "SEV4": (2, 0, 0, 0, 0, 1, 0, 0),
    },
)
DEJAVU = FontProperties(fname=Path(matplotlib.get_data_path(), "fonts/ttf/DejaVuSans.ttf"))
MISSING = "missing from font"  # matplotlib's warning for each glyph a font lacks (drawn as a box)


def draw(kind: str, lang: str) -> Chart:
    """One of the two charts, from the fixed weeks above."""
    if kind == "actions":
        return charts.actions_chart(ACTIONS, lang, tz="Asia/Shanghai")
    return charts.incidents_chart(INCIDENTS, lang, tz="Asia/Shanghai")


def ink(text: str, font: FontProperties, *, size: float = 48, width: float = 1.2) -> np.ndarray:
    """Which pixels a text inks, drawn alone in black on white."""
    fig = Figure(figsize=(width, 1.2), dpi=100)
    sized = font.copy()
    sized.set_size(size)
    fig.text(0.5, 0.5, text, fontproperties=sized, ha="center", va="center")
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].mean(axis=2) < 128


def pixels(png: bytes) -> np.ndarray:
    """A PNG decoded to RGB."""
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def missing_glyphs(run: Callable[[], object]) -> list[str]:
    """The missing-glyph warnings a call raises."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run()
    return [str(w.message) for w in caught if MISSING in str(w.message)]


# -- the font -------------------------------------------------------------------------------------------------


def test_the_font_is_the_packaged_noto_sans_cjk_sc_face_under_the_ofl() -> None:
    import noto_cjk_sans_otc

    font = charts.font_properties().get_file()
    assert font is not None and Path(font).resolve() == Path(str(noto_cjk_sans_otc.FONT_PATH)).resolve()
    face = FT2Font(font, face_index=font.face_index)  # a .ttc holds ten faces; the Simplified Chinese one is taken
    assert (face.family_name, face.style_name) == ("Noto Sans CJK SC", "Regular")
    assert FT2Font(font).num_faces > 1 and font.face_index > 0  # not simply the collection's first (JP) face
    assert metadata.metadata("noto-cjk-sans-otc")["License-Expression"] == "OFL-1.1"


def test_chinese_is_drawn_in_the_packaged_font_where_dejavu_draws_boxes() -> None:
    cjk = charts.font_properties()
    with pytest.warns(UserWarning, match=MISSING):
        tofu_han, tofu_zi = ink("汉", DEJAVU), ink("字", DEJAVU)
    # DejaVu Sans (matplotlib's fallback) has no Han glyphs: both characters come out as the same box
    assert tofu_han.sum() > 100 and np.array_equal(tofu_han, tofu_zi)
    assert missing_glyphs(lambda: (ink("汉", cjk), ink("字", cjk))) == []
    han, zi = ink("汉", cjk), ink("字", cjk)
    assert han.sum() > 300 and zi.sum() > 300
    assert (han ^ zi).sum() > 0.5 * min(han.sum(), zi.sum())  # two different glyphs, not one box twice
    assert not np.array_equal(han, tofu_han)
    # a whole phrase: the two renders share little ink
    with pytest.warns(UserWarning, match=MISSING):
        boxes = ink("每周进展摘要", DEJAVU, size=40, width=6)
    real = ink("每周进展摘要", cjk, size=40, width=6)
    assert (boxes & real).sum() / (boxes | real).sum() < 0.4


# -- the charts -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["actions", "incidents"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_each_chart_is_a_slack_sized_png_with_every_glyph_found(kind: str, lang: str) -> None:
    found: list[Chart] = []
    assert missing_glyphs(lambda: found.append(draw(kind, lang))) == []
    (chart,) = found
    assert chart.png.startswith(b"\x89PNG\r\n\x1a\n") and 10_000 < len(chart.png) < 1_000_000
    image = Image.open(io.BytesIO(chart.png))
    assert (image.format, image.size) == ("PNG", (1200, 600))
    decoded = matplotlib.image.imread(io.BytesIO(chart.png), format="png")
    assert decoded.shape[:2] == (600, 1200)
    assert decoded.std() > 0.05  # something is drawn on the white
    assert chart.filename == f"coordbot-{kind}-2026-11-30.png"


def test_titles_legends_and_alt_text_come_from_the_catalog_in_the_channels_language() -> None:
    en, zh = draw("actions", "en"), draw("actions", "zh")
    assert en.title == "Action items, last 8 weeks" and zh.title == "行动项 · 最近 8 周"
    assert en.alt.startswith("Chart of this channel's action items over the last 8 weeks, week by week: Oct 12: 3 open")
    assert "Nov 30: 4 open, 4 done." in en.alt
    assert zh.alt.startswith("本频道最近 8 周的行动项图表，逐周：10月12日：未完成 3，完成 1；")
    incidents = draw("incidents", "en")
    assert incidents.title == "Incidents by severity, last 8 weeks"
    assert "Oct 12: 3 (SEV2 1, SEV4 2); Oct 19: 1 (SEV1 1)" in incidents.alt and "Nov 9: 0 (none)" in incidents.alt
    assert "11月9日：0 起（无）" in draw("incidents", "zh").alt
    # the two languages draw different words on the same bars
    assert np.abs(pixels(en.png) - pixels(zh.png)).max(axis=2).astype(bool).mean() > 0.005


def test_dates_are_written_as_each_language_writes_them_in_the_workspace_timezone() -> None:
    late_evening = datetime(2026, 3, 4, 20, 0, tzinfo=UTC)  # already 5 March in Shanghai
    assert charts.date_label("en", late_evening, "Asia/Shanghai") == "Mar 5"
    assert charts.date_label("zh", late_evening, "Asia/Shanghai") == "3月5日"
    assert charts.date_label("en", late_evening, "UTC") == "Mar 4"
    assert charts.date_label("zh", datetime(2026, 12, 31, tzinfo=UTC), "UTC") == "12月31日"


def test_without_the_packaged_font_the_chinese_chart_would_be_boxes(monkeypatch: pytest.MonkeyPatch) -> None:
    real = draw("incidents", "zh")
    monkeypatch.setattr(charts, "font_properties", lambda: DEJAVU)
    holder: list[Chart] = []
    lost = missing_glyphs(lambda: holder.append(draw("incidents", "zh")))
    assert len(lost) > 5  # the title's, labels' and legend's Han characters
    changed = np.abs(pixels(real.png) - pixels(holder[0].png)).max(axis=2) > 40
    assert changed.mean() > 0.01  # the text differs visibly; the bars are where they were


def test_weeks_without_anything_are_empty_and_totals_add_up() -> None:
    assert INCIDENTS.totals == (3, 1, 3, 3, 0, 2, 1, 1) and not INCIDENTS.empty
    assert IncidentWeeks(ENDS, {s: (0,) * 8 for s in charts.SEVERITIES}).empty
    assert ActionWeeks(ENDS, (0,) * 8, (0,) * 8).empty and not ACTIONS.empty


def test_the_bot_starts_without_loading_matplotlib() -> None:
    code = "import sys, bot.app, handlers.digest, bot.charts; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
