"""PNG export (exports/images.py): kaleido with the local Chromium, Japanese glyphs drawn with
Noto Sans CJK JP (not tofu boxes), offline choropleths, captions for a standalone picture."""

from __future__ import annotations

import io
import subprocess

import duckdb
import numpy as np
import plotly.graph_objects as go
import pytest
from PIL import Image

from exports import images
from views import style
from views.render import render_view

pytestmark = pytest.mark.skipif(
    images.chromium_path() is None, reason="Chromium がないため画像の書き出しを試せません（CI は chromium を入れます）"
)


def _glyph(text: str, family: str = style.FONT_FAMILY) -> np.ndarray:
    """One large character alone on a white image, as a 0/1 ink mask cropped to its ink."""
    fig = go.Figure()
    fig.add_annotation(
        text=text,
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        showarrow=False,
        font={"family": family, "size": 120, "color": "black"},
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(plot_bgcolor="white", margin={"l": 0, "r": 0, "t": 0, "b": 0})
    pixels = np.asarray(Image.open(io.BytesIO(images.figure_png(fig, 200, 200))).convert("L"))
    return pixels < 128


def _difference(a: np.ndarray, b: np.ndarray) -> float:
    """Share of pixels where two ink masks differ."""
    return float((a != b).mean())


def test_png_bytes_and_size():
    fig = go.Figure(go.Bar(x=["兵庫県", "大阪府"], y=[3, 5]))
    png = images.figure_png(fig, width=640, height=360, scale=2)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert Image.open(io.BytesIO(png)).size == (1280, 720)


def test_japanese_glyphs_are_drawn_not_tofu():
    kanji = [_glyph(c) for c in "兵庫県"]
    # three different kanji have visibly different shapes; tofu (one box per missing glyph) would not
    assert all(mask.sum() > 500 for mask in kanji)
    for i in range(3):
        for j in range(i + 1, 3):
            assert _difference(kanji[i], kanji[j]) > 0.03
    # the control: characters no font has come out identical (the same box, or nothing) — so the
    # comparison above would catch tofu
    missing = [_glyph(c) for c in "\U000f0001\U000f0002"]
    assert _difference(missing[0], missing[1]) < 0.001


def test_font_family_resolves_to_noto_cjk():
    first = style.FONT_FAMILY.split(",")[0].strip().strip("'")
    matched = subprocess.run(["fc-match", first], capture_output=True, text=True, check=True).stdout
    assert "Noto Sans CJK" in matched


def test_choropleth_renders_offline_and_caption(real_db):
    con = duckdb.connect(str(real_db), read_only=True)
    result = render_view(con, {"view": "overview_map", "measure": "composite"}, "兵庫県", theme="projector")
    fig = images.with_caption(result.figure, result.title, result.subtitle, result.source)
    assert fig.layout.title.text == result.title
    assert fig.layout.title.subtitle.text == f"{result.subtitle}<br>{result.source}"
    pixels = np.asarray(Image.open(io.BytesIO(images.figure_png(fig, 800, 450))).convert("RGB"))
    # the map is drawn: many distinct colours of the viridis scale, not an empty page
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 200
    con.close()


def test_server_is_reused():
    import time

    fig = go.Figure(go.Scatter(x=[1, 2], y=[2, 1]))
    images.figure_png(fig, 300, 200)
    started = time.perf_counter()
    for _ in range(3):
        images.figure_png(fig, 300, 200)
    assert time.perf_counter() - started < 6  # a fresh Chromium per figure costs seconds each
