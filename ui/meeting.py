"""会議モード (committee mode): one saved view per screen for a projector, stepped through a deck.

The mode lives in the URL (``?mode=meeting&slide=3&pref=28``; older links' ``pref=兵庫県`` as well; plus
``deck=<title>`` for another deck), so a link reproduces the slide on screen. app.py asks ``active()``
before it builds the navigation: in the
mode only the meeting page runs, without the sidebar, filters or top navigation (hidden by CSS as
well, for the browser's own chrome of Streamlit). Slides come from ``views.render.render_view``
with the projector theme, cached per database version, view, prefecture and theme.
"""

from __future__ import annotations

import json
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

from store.paths import DATA_DIR
from ui import data
from views.render import DEFAULT_DECK, Deck, ExportError, ViewResult, ViewSpec, render_view
from views.render import load_deck as read_deck

DECK_DIR = DATA_DIR / "decks"
PAGE_PATH = "app_pages/meeting.py"
MODE_PARAM, MODE, SLIDE_PARAM = "mode", "meeting", "slide"
PREF_KEY, DECK_KEY = "pref", "deck"  # the same ``pref`` parameter as the sidebar's prefecture filter
THEME = "projector"
MAX_SENTENCES = 3
# the plot area a 1366×768 screen leaves a chart (px, without its axes): category labels of a long
# bar chart get a font that fits one row each; never below the size read from the back of the room
SMALL_SCREEN_PLOT_PX = 360
MIN_LABEL_PX, MAX_LABEL_PX = 15, 24
# arrow keys and Space from a keyboard (as in presentation software), PageDown/PageUp from a presenter clicker
NEXT_KEYS = ("Right", "PageDown", "Space")
PREVIOUS_KEYS = ("Left", "PageUp")
INK = "#111827"

# Projector: no sidebar, header, toolbar or navigation; the slide uses the whole width; type is read
# from the back of the room. The second next/previous buttons only carry the clicker's keys.
# The page is one screen high (flex column): the chart takes what the header, title, sentences,
# 出典 line and controls leave, so nothing falls below the fold at 1366×768 or 1920×1080; type
# scales with the screen's height between a floor readable on a projector and the 1080p size.
_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stStatusWidget"],
[data-testid="stTopNavigation"], .st-key-mt_clicker {display: none !important;}
.stMainBlockContainer, .block-container {max-width: 100% !important; padding: 0.4rem 2.2rem 0.5rem !important;
  height: 100vh; box-sizing: border-box; display: flex; flex-direction: column;}
.stMainBlockContainer > [data-testid="stVerticalBlock"] {flex: 1 1 0; min-height: 0; gap: 0.4rem;}
.stMainBlockContainer > [data-testid="stVerticalBlock"] > *, .st-key-mt_slide > * {flex-shrink: 0 !important;}
.st-key-mt_slide, [data-testid="stLayoutWrapper"]:has(> .st-key-mt_slide) {flex: 1 1 0 !important; min-height: 0;}
.st-key-mt_slide {gap: clamp(0.15rem, 0.8vh, 0.6rem);}
.st-key-mt_chart, [data-testid="stLayoutWrapper"]:has(> .st-key-mt_chart) {flex: 1 1 0 !important; min-height: 0;}
.st-key-mt_chart {height: 100%;}
.st-key-mt_slide [data-testid="stMarkdownContainer"], .st-key-mt_slide [data-testid="stMarkdownContainer"] * {
  margin-top: 0 !important; margin-bottom: 0 !important;}
.stMainBlockContainer [data-testid="stElementContainer"]:has(style) {display: none;}
h1 {font-size: clamp(2.1rem, 4.6vh, 3.1rem) !important; line-height: 1.15 !important; padding: 0 !important;}
.st-key-mt_top {gap: 2rem;}
.st-key-mt_header p, .st-key-mt_counter p {font-size: clamp(1.25rem, 2.6vh, 1.6rem); font-weight: 700; margin: 0;}
.st-key-mt_header p {color: #1f2937;}
.st-key-mt_counter p {text-align: right;}
.st-key-mt_demo p {font-size: clamp(1.1rem, 2.2vh, 1.35rem); font-weight: 700; color: #9a3412; margin: 0;}
.st-key-mt_subtitle p {font-size: clamp(1.15rem, 2.4vh, 1.45rem); color: #374151; margin: 0;}
.st-key-mt_commentary {gap: 0.1rem;}
.st-key-mt_commentary p {font-size: clamp(1.3rem, 2.7vh, 1.75rem); line-height: 1.35; margin: 0;}
.st-key-mt_footer p {font-size: clamp(1rem, 1.9vh, 1.2rem); color: #4b5563; margin: 0;}
.st-key-mt_controls button p {font-size: 1.15rem;}
</style>
"""


def active() -> bool:
    return st.query_params.get(MODE_PARAM) == MODE


def page() -> st.Page:
    """The only page in the mode, whatever page the switch was turned on from."""
    return st.Page(PAGE_PATH, title="会議モード", icon=":material/co_present:", default=True)


def inject_css() -> None:
    st.markdown(_CSS, unsafe_allow_html=True)


def _enter() -> None:
    st.query_params[MODE_PARAM] = MODE
    st.query_params[SLIDE_PARAM] = "1"


def leave() -> None:
    """Back to the dashboard's 概要; the prefecture stays in the URL (the sidebar's filter takes it up)."""
    for key in (MODE_PARAM, SLIDE_PARAM):
        if key in st.query_params:
            del st.query_params[key]


def sidebar_switch() -> None:
    st.toggle(
        "会議モード",
        key="mt_switch",
        on_change=_enter,
        help="プロジェクター向けに、保存したビューを1枚ずつ大きく表示します（URL: ?mode=meeting）。"
        "←/→ または PageUp/PageDown で前後に進みます。",
    )


def deck_files() -> dict[str, Path]:
    """Deck name (file stem) → file; the default deck first."""
    files = sorted(DECK_DIR.glob("*.yaml"))
    default = Path(DEFAULT_DECK).resolve()
    return {path.stem: path for path in sorted(files, key=lambda p: (p.resolve() != default, p.stem))}


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False)
def _deck(path: str, mtime_ns: int) -> Deck:
    return read_deck(Path(path))


def load_deck(path: Path) -> Deck:
    """``views.render.load_deck`` cached until the file changes (ExportError for a bad file)."""
    return _deck(str(path), path.stat().st_mtime_ns)


def deck_title(path: Path) -> str:
    try:
        return load_deck(path).title
    except ExportError:
        return f"{path.name}（誤りがあり読めません）"


@st.cache_data(ttl=3600, max_entries=64, show_spinner="スライドを準備しています…")
def _render(db_key: str, view_json: str, prefecture: str | None, theme: str) -> ViewResult:
    return render_view(data.cursor(), json.loads(view_json), prefecture, theme=theme)


def render(view: ViewSpec, prefecture: str | None, theme: str = THEME) -> ViewResult:
    """``views.render.render_view`` of a deck's view (``ViewSpec``) cached by database version, view,
    prefecture and theme."""
    return _render(
        data.db_key(),
        json.dumps(view.model_dump(exclude_none=True), ensure_ascii=False, sort_keys=True),
        prefecture,
        theme,
    )


def fitted(fig: go.Figure) -> go.Figure:
    """``fig`` for the slide: as high as the screen leaves it (no fixed height), near-black text
    (Streamlit's chart theme draws axis, legend and colour-bar text light grey, which a projector
    washes out), bar labels at the theme's size (plotly would shrink them to the bar's thickness),
    and the category labels of a long horizontal bar chart at a size that fits one row each on the
    smallest screen."""
    fig = go.Figure(fig)
    fig.update_layout(height=None, autosize=True, font_color=INK, legend_font_color=INK)
    fig.update_traces(constraintext="none", selector={"type": "bar"})
    fig.update_xaxes(tickfont_color=INK, title_font_color=INK)
    fig.update_yaxes(tickfont_color=INK, title_font_color=INK)
    rows = max((len(trace.y) for trace in fig.data if trace.type == "bar" and trace.orientation == "h"), default=0)
    if rows:
        size = label_px(rows)
        fig.update_yaxes(tickfont_size=size)
        fig.update_traces(textfont_size=size, selector={"type": "bar"})
    for trace in fig.data:
        if getattr(trace, "colorbar", None) is not None:
            trace.colorbar.tickfont.color = INK
            trace.colorbar.title.font.color = INK
    return fig


def label_px(rows: int) -> int:
    """Font size (px) of ``rows`` category labels stacked in the smallest screen's plot area."""
    return int(min(MAX_LABEL_PX, max(MIN_LABEL_PX, SMALL_SCREEN_PLOT_PX / max(rows, 1) * 0.8)))


def source_line(result: ViewResult) -> str:
    """出典 and 調査時点 of the slide on one line (two facts, both always shown)."""
    return "　｜　".join(part for part in (result.source, result.as_of or "調査時点不明") if part)


def slide_number(count: int) -> int:
    """The 1-based slide of the URL, kept within the deck (a bad value opens the first slide)."""
    raw = st.query_params.get(SLIDE_PARAM, "1")
    number = int(raw) if raw.isdigit() else 1
    return min(max(number, 1), max(count, 1))


def go_to(number: int) -> None:
    st.query_params[SLIDE_PARAM] = str(number)
