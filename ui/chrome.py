"""Page chrome shared by every page: demo banner, page header with scope and source, data source
and as-of line, credits, and the style sheet (screen and print)."""
from __future__ import annotations

import html
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from exports.images import figure_png, with_caption
from metrics import dates, views
from ui import charts, data

DEMO_LABEL = "デモ用の架空データ"
REGISTRY_CREDIT = "市区町村一覧：code4fukui/localgovjp（CC0）"

# Screen: a little tighter than Streamlit's defaults so a 1080p screen shows the map and KPIs together.
# Print (the カルテ is meant to be printed): no sidebar, toolbar, widgets or buttons; charts kept whole.
_CSS = """
<style>
.block-container {padding-top: 2.2rem; padding-bottom: 3rem; max-width: 1680px;}
[data-testid="stMetricValue"] {font-size: 1.75rem;}
[data-testid="stMetricLabel"] p {font-size: 0.95rem;}
.dx-legend {display: flex; flex-wrap: wrap; align-items: center; gap: 0.35rem 1.1rem; font-size: 0.85rem; margin: 0.2rem 0 0.4rem;}
.dx-legend .bar {display: inline-block; width: 220px; height: 12px; border-radius: 2px; vertical-align: middle; margin: 0 0.4rem;}
.dx-legend .swatch {display: inline-block; width: 12px; height: 12px; border-radius: 2px; vertical-align: middle; margin-right: 0.3rem; border: 1px solid rgba(0,0,0,.15);}
.dx-badge {display: inline-block; padding: 0.1rem 0.7rem; border-radius: 0.8rem; color: #fff; font-weight: 700;}
.dx-muted {color: #6b7280; font-size: 0.85rem;}
@media print {
  [data-testid="stSidebar"], [data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stStatusWidget"],
  [data-testid="stSidebarCollapsedControl"], [data-testid="stDownloadButton"], [data-testid="stButton"],
  [data-testid="stSelectbox"], [data-testid="stMultiSelect"], [data-testid="stRadio"], [data-testid="stSegmentedControl"],
  [data-testid="stToggle"], [data-testid="stCheckbox"], .dx-noprint {display: none !important;}
  .block-container {max-width: 100% !important; padding: 0 0.5rem !important;}
  [data-testid="stPlotlyChart"], [data-testid="stDataFrame"], [data-testid="stTable"], [data-testid="stMetric"] {break-inside: avoid;}
}
</style>
"""


def build_info() -> dict:
    return data.cached(views.build_info)()


def is_demo() -> bool:
    return build_info().get("demo") == "true"


def inject_css() -> None:
    st.markdown(_CSS, unsafe_allow_html=True)


def demo_banner() -> None:
    """Shown on every page while any synthetic data is on screen."""
    if is_demo():
        st.warning(
            f"**{DEMO_LABEL}** — アセスメントの回答（公開データがない環境では指標値・人口も）は架空の値で、"
            "実在の自治体の回答ではありません。実データは「データ管理」から取り込めます。",
            icon=":material/science:",
        )


def source_line() -> str:
    """Which database, the デジタル庁 snapshot shown and when the store was built."""
    info = build_info()
    path = data.database_path().name
    built = info.get("built_at", "不明").replace("T", " ")
    label = f"{DEMO_LABEL}（{path}）" if is_demo() else path
    official = data.cached(dates.dates_for)(None, st.session_state.get("snap"), dates.COMPOSITE_SOURCES).text()
    as_of = f"　デジタル庁データ {official}" if official else ""
    return f"データ: {label}{as_of}　構築: {built}"


def measure_source(measure: pd.Series | None) -> str:
    """「出典：…（調査時点 推進体制：2023年4月1日時点、…　｜　取得日 …）」 for a measure; demo values are marked."""
    if measure is None:
        return ""
    if measure["group"].startswith("アセスメント"):
        when = f"調査回 {measure['as_of'] or '—'}"
    else:
        when = data.cached(dates.measure_dates)(measure[["measure_id", "group"]].to_dict(), st.session_state.get("snap")).text()
    demo = f"・{DEMO_LABEL}" if measure["synthetic"] else ""
    return f"{measure['credit']}（{when}{demo}）"


def page_header(title: str, subtitle: str | None = None, measure: pd.Series | None = None) -> None:
    """Title, the scope of the selection and the source of the numbers below."""
    st.title(title)
    parts = [subtitle] if subtitle else []
    if measure is not None:
        parts.append(measure_source(measure))
    if parts:
        st.caption("　｜　".join(parts))


def credits() -> None:
    sources = data.cached(views.sources_overview)()
    sources = sources[sources["loaded"] & (sources["source"] != "registry")]
    lines = [f"- {html.escape(str(row.credit))}（{html.escape(str(row.licence))}{html.escape(source_dates(row))}）"
             for row in sources.itertuples()]
    lines.append(f"- {REGISTRY_CREDIT}")
    st.caption("\n".join(lines))


def source_dates(source) -> str:
    """「、調査時点 …　｜　取得日 …」 for a row of views.sources_overview: the dates its loaded releases carry;
    a source without indicator values (boundaries) gives the date of the edition loaded."""
    text = data.cached(dates.dates_for)(None, None, (source.source,)).text()
    if not text and dates.as_date(source.newest_as_of):
        text = f"{dates.japanese_date(source.newest_as_of)}時点"
    return f"、{text}" if text else ""


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>$:&])")


def plain(text: object) -> str:
    """Text from the data, shown literally by st.markdown: markdown, HTML, emoji/icon shortcodes and
    LaTeX delimiters escaped (a municipality named ``<script>`` shows as those characters)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def html_text(text: object) -> str:
    """Text from the data inside an HTML block of ``st.markdown(..., unsafe_allow_html=True)`` (no
    markdown is parsed there): html.escape'd, quotes included."""
    return html.escape(str(text), quote=True)


def commentary(sentences: list[str]) -> None:
    """The generated sentences (metrics.commentary) under a chart, as plain text."""
    if sentences:
        st.markdown("".join(plain(sentence) for sentence in sentences[:3]))


def png_download(fig: go.Figure, title: str, file_name: str, key: str, subtitle: str = "", source: str = "") -> None:
    """A PNG of a chart for a paper (print sizes, its title and source inside the image). Drawn only
    when the button is pressed: a render takes about a second, which no rerun should pay."""
    def render() -> bytes:
        return figure_png(with_caption(charts.themed(go.Figure(fig), "print"), title, subtitle, source))

    st.download_button("グラフ（PNG）", data=render, file_name=f"{file_name}.png", mime="image/png", key=key,
                       on_click="ignore", icon=":material/image:")


PPTX_MIME = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


def built_download(label: str, build: Callable[[Path], object], file_name: str, key: str, help: str | None = None) -> None:
    """A download of a file an exporter writes (``build(path)``: the PowerPoint deck, the カルテ),
    built only when the button is pressed, on a cursor of the current database."""
    def render() -> bytes:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / file_name
            build(path)
            return path.read_bytes()

    st.download_button(label, data=render, file_name=file_name, mime=PPTX_MIME, key=key, on_click="ignore",
                       icon=":material/slideshow:", help=help)


GEO_ASSETS = Path(__file__).resolve().parent.parent / "exports" / "assets" / "geo_assets.js"


def offline_geo() -> None:
    """Empty world base maps for plotly's geo charts (the export map): plotly.js otherwise fetches
    them from cdn.plot.ly even when hidden, and offline the whole map stays blank. Our own script,
    never data."""
    st.html(f"<script>{GEO_ASSETS.read_text(encoding='utf-8')}</script>", unsafe_allow_javascript=True)
