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

from metrics import dates, tables, views
from store.dates import as_date, japanese_date
from ui import data, export
from views import charts
from views.render import DEMO_NOTE

DEMO_LABEL = DEMO_NOTE  # one wording for synthetic data on every surface (views/render.py)
REGISTRY_CREDIT = "市区町村一覧：code4fukui/localgovjp（CC0）"

# Screen: a little tighter than Streamlit's defaults so a 1080p screen shows the map and KPIs together.
# Print (the カルテ is meant to be printed): no sidebar, toolbar, widgets or buttons; charts kept whole.
_CSS = "<style>\n" + (Path(__file__).with_name("chrome.css")).read_text(encoding="utf-8") + "</style>\n"


def filled_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without the columns that have no value at all: a table on real data without a survey
    would otherwise show 「None」 in its assessment columns on every row."""
    return frame[[column for column in frame.columns if frame[column].notna().any()]]


def build_info() -> dict:
    return data.cached(tables.build_info)()


def is_demo() -> bool:
    return build_info().get("demo") == "true"


# Streamlit's page says <html lang="en">: screen readers would read the Japanese text with an English voice.
# The file uploader's button and hidden file input are named in English ("Upload", "file upload") and
# Streamlit has no option for them: name them in Japanese (aria-label) whenever the uploader is drawn.
_PAGE_SCRIPT = """<script>
document.documentElement.lang = 'ja';
if (!window.dxJapaneseNames) {
  window.dxJapaneseNames = true;
  const name = () => document.querySelectorAll('[data-testid="stFileUploader"]').forEach(uploader => {
    const label = uploader.querySelector('[data-testid="stWidgetLabel"]')?.textContent?.trim() || 'ファイル';
    uploader.querySelectorAll('[data-testid="stFileUploaderDropzone"] button').forEach(button => {
      if (button.getAttribute('aria-label') !== 'ファイルを選ぶ') button.setAttribute('aria-label', 'ファイルを選ぶ');
    });
    uploader.querySelectorAll('input[type="file"]').forEach(input => {
      if (input.getAttribute('aria-label') !== label) input.setAttribute('aria-label', label);
    });
  });
  new MutationObserver(name).observe(document.body, {childList: true, subtree: true});
  name();
}
</script>"""


def inject_css() -> None:
    """The style sheet, the page's language (ja) and Japanese names for the uploader; every mode of
    app.py calls it first."""
    st.markdown(_CSS, unsafe_allow_html=True)
    st.html(_PAGE_SCRIPT, unsafe_allow_javascript=True)


def demo_banner() -> None:
    """Shown on every page while any synthetic data is on screen."""
    if is_demo():
        st.warning(
            f"**{DEMO_LABEL}** — アセスメントの回答（公開データがない環境では指標値・人口も）は架空の値で、"
            "実在の自治体の回答ではありません。実データは「データ管理」から取り込めます。",
            icon=":material/science:",
        )


def source_line() -> str:
    """Which data (demo or the loaded files), the デジタル庁 snapshot shown and when the store was built
    (not the database's file name: users see what the data is, not how it is stored)."""
    info = build_info()
    built_at = info.get("built_at")
    # to the second: two builds in one minute (an administrator's quick rebuild) are told apart on screen
    built = f"{japanese_date(built_at)} {str(built_at)[11:19]}".rstrip() if as_date(built_at) else "不明"
    label = DEMO_LABEL if is_demo() else "公開データ・調査データ"
    official = data.cached(dates.dates_for)(None, st.session_state.get("snap"), dates.COMPOSITE_SOURCES).text()
    as_of = f"　デジタル庁データ {official}" if official else ""
    return f"データ: {label}{as_of}　構築: {built}"


def measure_as_of(measure: pd.Series) -> str:
    """The 調査時点／取得日 of a measure as the sidebar's snapshot shows it (metrics/dates.py), or its round."""
    if measure["group"].startswith("アセスメント"):
        return f"調査回 {measure['as_of'] or '—'}"
    return data.cached(dates.measure_dates)(
        measure[["measure_id", "group"]].to_dict(), st.session_state.get("snap")
    ).text()


def measure_source(measure: pd.Series | None) -> str:
    """「出典：…（調査時点 推進体制：2023年4月1日時点、…　｜　取得日 …）」 for a measure; demo values are marked."""
    if measure is None:
        return ""
    demo = f"・{DEMO_LABEL}" if measure["synthetic"] else ""
    return f"{measure['credit']}（{measure_as_of(measure)}{demo}）"


def page_header(title: str, subtitle: str | None = None, measure: pd.Series | None = None) -> None:
    """Title, the scope of the selection and the source of the numbers below."""
    st.title(title, anchor=False)
    parts = [subtitle] if subtitle else []
    if measure is not None:
        parts.append(measure_source(measure))
    if parts:
        st.caption("　｜　".join(parts))


def credits() -> None:
    sources = data.cached(views.sources_overview)()
    sources = sources[sources["loaded"] & (sources["source"] != "registry")]
    lines = [
        f"- {html.escape(str(row.credit))}（{html.escape(str(row.licence))}{html.escape(source_dates(row))}）"
        for row in sources.itertuples()
    ]
    lines.append(f"- {REGISTRY_CREDIT}")
    st.caption("\n".join(lines))


def source_dates(source) -> str:
    """「、調査時点 …　｜　取得日 …」 for a row of views.sources_overview: the dates its loaded releases carry;
    a source without indicator values (boundaries) gives the date of the edition loaded."""
    text = data.cached(dates.dates_for)(None, None, (source.source,)).text()
    if not text and as_date(source.newest_as_of):
        text = f"{japanese_date(source.newest_as_of)}時点"
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


TABLE_LABEL = "表で見る"
# plotly's tool bar in Japanese: plotly.js takes a locale's dictionary with the chart (config.locales),
# no script has to be registered in the page
PLOTLY_JAPANESE = {
    "Download plot as a PNG": "グラフをPNGで保存",
    "Download plot": "グラフを保存",
    "Zoom": "範囲を拡大",
    "Pan": "移動",
    "Zoom in": "拡大",
    "Zoom out": "縮小",
    "Autoscale": "全体を表示",
    "Reset axes": "軸を元に戻す",
    "Reset view": "表示を元に戻す",
    "Box Select": "四角形で選択",
    "Lasso Select": "投げ縄で選択",
    "Toggle Spike Lines": "補助線の表示切替",
    "Show closest data on hover": "最も近い値を表示",
    "Compare data on hover": "値を並べて表示",
    "Toggle show closest data on hover": "最も近い値の表示切替",
    "Double-click to zoom back out": "ダブルクリックで元の表示に戻ります",
    "Taking snapshot - this may take a few seconds": "画像を作成しています（数秒かかることがあります）",
    "Snapshot succeeded": "画像を作成しました",
    "Sorry, there was a problem downloading your snapshot!": "画像を作成できませんでした",
    "Reset": "元に戻す",
    "Click to enter Plot title": "グラフの題名を入力",
    "Click to enter X axis title": "横軸の題名を入力",
    "Click to enter Y axis title": "縦軸の題名を入力",
    "Click to enter Colorscale title": "色の凡例の題名を入力",
}
# no logo of the drawing library in the chart toolbar: users see Japanese labels, never library names
PLOTLY_CONFIG = {"locale": "ja", "locales": {"ja": {"dictionary": PLOTLY_JAPANESE}}, "displaylogo": False}


def _chart_name(fig: go.Figure) -> str:
    layout = fig.layout
    for title in (
        layout.title,
        layout.yaxis.title if layout.yaxis else None,
        layout.xaxis.title if layout.xaxis else None,
    ):
        if title is not None and title.text:
            return re.sub(r"<[^>]+>", " ", str(title.text))
    return "グラフ"


def chart(fig: go.Figure, *, key: str, where=None, table: pd.DataFrame | None = None, **kwargs) -> None:
    """A plotly chart with its text alternative one click away: an expander 「表で見る」 right under it
    with the values it draws (``charts.figure_table``, or ``table`` where the page has a better one),
    named for screen readers, its tool bar in Japanese. ``where``: the column or container to draw
    into (default: the current one)."""
    target = where if where is not None else st
    config = {**PLOTLY_CONFIG, **kwargs.pop("config", {})}
    alt = kwargs.pop("alt", None) or f"{_chart_name(fig)}のグラフ。同じ値の表は直後の「{TABLE_LABEL}」にあります。"
    target.plotly_chart(fig, key=key, config=config, alt=alt, **kwargs)
    shown = table if table is not None else charts.figure_table(fig)
    if len(shown):
        with target.expander(TABLE_LABEL, icon=":material/table:"):
            st.dataframe(shown, hide_index=True, key=f"{key}_table")


def png_download(
    fig: go.Figure,
    title: str,
    file_name: str,
    key: str,
    subtitle: str = "",
    source: str = "",
    *,
    render: Callable[[go.Figure, str, str, str], bytes],
) -> None:
    """A PNG of a chart for a paper (print sizes, its title and source inside the image), drawn by
    ``render(fig, title, subtitle, source)`` (the page passes ``exports.images.chart_png``). Drawn only
    when the button is pressed: a render takes about a second, which no rerun should pay."""

    def png() -> bytes:
        return render(fig, title, subtitle, source)

    export.download("グラフ（PNG）", png, f"{file_name}.png", "image/png", key=key, icon=":material/image:")


PPTX_MIME = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


def built_download(
    label: str, build: Callable[[Path], object], file_name: str, key: str, help: str | None = None
) -> None:
    """A download of a file an exporter writes (``build(path)``: the PowerPoint deck, the カルテ),
    built only when the button is pressed, on a cursor of the current database."""

    def render() -> bytes:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / file_name
            build(path)
            return path.read_bytes()

    export.download(label, render, file_name, PPTX_MIME, key=key, icon=":material/slideshow:", help=help)


def built_download_with_progress(
    label: str,
    build: Callable[[Path, Callable[[float, str], None]], object],
    file_name: str,
    key: str,
    help: str | None = None,
) -> None:
    """A file that takes seconds to write (the committee deck): a button builds it with a progress
    bar (``build(path, progress)``, ``progress(fraction, text)``), then a download button offers it.
    The file is kept for the session until the database or the file name (its scope) changes."""
    stamp = (file_name, data.db_key())
    built = st.session_state.get(f"{key}_file")
    if built is None or built[0] != stamp:
        if not st.button(label, key=f"{key}_build", icon=":material/slideshow:", help=help):
            return
        bar = st.progress(0.0, text=f"{label}を作成しています…")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / file_name
            build(path, lambda fraction, text: bar.progress(fraction, text=f"{label}を作成しています：{text}"))
            built = (stamp, path.read_bytes())
        bar.empty()
        st.session_state[f"{key}_file"] = built
    export.download(f"{label}をダウンロード", built[1], file_name, PPTX_MIME, key=key, type="primary")


GEO_ASSETS = Path(__file__).resolve().parent.parent / "exports" / "assets" / "geo_assets.js"


def offline_geo() -> None:
    """Empty world base maps for plotly's geo charts (the export map): plotly.js otherwise fetches
    them from cdn.plot.ly even when hidden, and offline the whole map stays blank. Our own script,
    never data."""
    st.html(f"<script>{GEO_ASSETS.read_text(encoding='utf-8')}</script>", unsafe_allow_javascript=True)
