"""Static images of plotly figures via kaleido 1.x and a local Chromium (Debian: /usr/bin/chromium).

One kaleido server (a headless Chromium tab with plotly.js loaded) is started on first use and
reused for every figure of the process — starting Chromium costs seconds, a render a fraction of
one — and stopped at exit. The page is built offline: plotly.js from the plotly package, no
MathJax, and empty world base maps (assets/geo_assets.js) so choropleths never reach for the CDN.
Japanese text is drawn with Noto Sans CJK JP (fonts-noto-cjk), the first family of
``views.style.FONT_FAMILY``.
"""

from __future__ import annotations

import atexit
import os
import shutil
import threading
from pathlib import Path

import plotly.graph_objects as go

from views import charts, style

GEO_ASSETS = Path(__file__).resolve().parent / "assets" / "geo_assets.js"
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")
RENDER_TIMEOUT_S = 120
_lock = threading.Lock()
_started = False


class ImageExportError(RuntimeError):
    """No browser to render with, or the render failed (message in Japanese)."""


def chromium_path() -> str | None:
    """The browser kaleido will use: $BROWSER_PATH, else the first Chromium on PATH."""
    configured = os.environ.get("BROWSER_PATH")
    if configured and Path(configured).is_file():
        return configured
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _start() -> None:
    global _started
    import kaleido

    browser = chromium_path()
    if browser is None:
        raise ImageExportError(
            "画像の書き出しには Chromium が必要です（Debian: apt-get install chromium fonts-noto-cjk）。"
        )
    # choreographer looks the browser up through $BROWSER_PATH before its own search
    os.environ.setdefault("BROWSER_PATH", browser)
    page = kaleido.PageGenerator(mathjax=False, others=[str(GEO_ASSETS)])
    kaleido.start_sync_server(n=1, timeout=RENDER_TIMEOUT_S, page_generator=page, silence_warnings=True)
    atexit.register(shutdown)
    _started = True


def start_in_background() -> None:
    """Launch the shared Chromium in a side thread unless it runs already, so that a caller who will
    need pictures (the deck) overlaps the launch — seconds — with its own work; ``figure_png`` waits
    for it. A failure to launch is left for ``figure_png`` to report."""
    if _started or chromium_path() is None:
        return

    def launch() -> None:
        with _lock:
            if not _started:
                try:
                    _start()
                except Exception:  # noqa: BLE001 - figure_png tries again and reports it in Japanese
                    pass

    threading.Thread(target=launch, name="kaleido-start", daemon=True).start()


def shutdown() -> None:
    """Stop the shared Chromium (a command calls this before it exits, so the browser's profile
    folder is removed after the browser is gone, not raced by the interpreter's clean-up)."""
    global _started
    import kaleido

    with _lock:
        if _started:
            kaleido.stop_sync_server(silence_warnings=True)
            _started = False


def figure_png(fig: go.Figure, width: int = 1600, height: int = 900, scale: float = 1) -> bytes:
    """PNG bytes of ``fig`` at ``width`` × ``height`` CSS pixels (× ``scale``), white background,
    fonts resolved to Noto Sans CJK JP."""
    import kaleido

    figure = go.Figure(fig)
    figure.update_layout(width=width, height=height, paper_bgcolor="white")
    # on screen Streamlit's chart theme makes room for tick labels; a bare plotly render does not
    figure.update_xaxes(automargin=True).update_yaxes(automargin=True)
    if not figure.layout.font.family:
        figure.update_layout(font_family=style.FONT_FAMILY)
    with _lock:
        if not _started:
            _start()
        try:
            return kaleido.calc_fig_sync(
                figure, opts={"format": "png", "width": width, "height": height, "scale": scale}
            )
        except Exception as error:  # kaleido raises its own error types from the browser side
            raise ImageExportError(f"グラフを画像にできませんでした: {error}") from error


def with_caption(fig: go.Figure, title: str, subtitle: str = "", source: str = "") -> go.Figure:
    """A copy of ``fig`` that carries its own title and, on the lines below it, the subtitle and the
    source line, for a PNG that is pasted into a paper on its own. Both sit at the top of the image (an
    annotation below the plot would collide with axis titles, whose height plotly decides)."""
    figure = go.Figure(fig)
    size = figure.layout.font.size or 13
    title_size, sub_size = round(size * 1.4), max(round(size * 0.85), 10)
    lines = [part for part in (subtitle, source) if part]
    margin = figure.layout.margin
    # axis labels drawn above the plot (heat tables, rankings) need room under the caption too
    axis_on_top = any(axis.side == "top" for axis in figure.select_xaxes())
    top = round(title_size * 1.6 + sub_size * 1.5 * len(lines) + size * (3.2 if axis_on_top else 1.2))
    figure.update_layout(
        title={
            "text": title,
            "x": 0.01,
            "xanchor": "left",
            "yref": "container",
            "y": 1,
            "yanchor": "top",
            "pad": {"t": round(size * 0.8)},
            "font": {"size": title_size},
            "subtitle": {"text": "<br>".join(lines), "font": {"size": sub_size, "color": "#4b5563"}},
        },
        margin={"t": top + (margin.t or 0), "l": max(margin.l or 0, 10), "r": max(margin.r or 0, 10)},
    )
    return figure


def chart_png(fig: go.Figure, title: str, subtitle: str = "", source: str = "") -> bytes:
    """A chart of a page as a PNG for a paper: print sizes, its title, subtitle and source inside."""
    return figure_png(with_caption(charts.themed(go.Figure(fig), "print"), title, subtitle, source))
