"""One view, every surface: for the same prefecture (兵庫県, 北海道) on the demo store and on the real
data, every kind of saved view (views/render.py) is rendered through 会議モード (AppTest), the PNG
command, the PowerPoint deck, the Excel table and — for the views the 概要 page places — the page
itself (AppTest), and each surface must show the numbers of the same figure (its values as
``figure_table`` reads them), the same table and the same sentences."""

from __future__ import annotations

import base64
import io
import json

import duckdb
import numpy as np
import openpyxl
import pandas as pd
import plotly.graph_objects as go
import pytest
import yaml
from pptx import Presentation
from test_app_pages import open_app

from exports.__main__ import main as export_main
from exports.pptx_deck import build_deck, cell_text, slide_columns
from exports.tables import view_excel
from metrics.filters import Filter, select_municipalities
from ui.chrome import plain
from views.charts import figure_table
from views.render import VIEW_TYPES, load_deck, render_view

PREFECTURES = [("兵庫県", "28"), ("北海道", "01")]
THEME = "projector"  # 会議モード's theme; the PNG command and the deck are asked for the same


def specs(con, pref_code: str) -> list[dict]:
    """Every view kind once (two for the views whose shape depends on the measure), each with its
    table slide."""
    code = select_municipalities(con, Filter(pref_code=pref_code))["code"].iloc[0]
    views = [
        {"view": "overview_map", "measure": "composite"},
        {"view": "ranking", "measure": "composite"},
        {"view": "ranking", "measure": "da_cio"},
        {"view": "distribution", "measure": "composite"},
        {"view": "distribution", "measure": "da_cio"},
        {"view": "crosstab"},
        {"view": "priority"},
        {"view": "progress"},
        {"view": "change", "measure": "composite"},
        {"view": "stage_field"},
        {"view": "karte", "code": code},
    ]
    assert {v["view"] for v in views} == set(VIEW_TYPES), "every kind of view is covered"
    return [{**v, "table": True} for v in views]


def decoded(value):
    """A chart's JSON as the browser gets it, with plotly's packed arrays ({dtype, bdata, shape}) unpacked."""
    if isinstance(value, dict) and "bdata" in value:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = value.get("shape")
        if shape:
            array = array.reshape([int(n) for n in str(shape).split(",")])
        return array.tolist()
    if isinstance(value, dict):
        return {key: decoded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decoded(item) for item in value]
    return value


def values_of(fig: go.Figure | dict | None) -> list[list]:
    """The values a figure draws, as rows (the same reading as the 「表で見る」 table)."""
    if fig is None:
        return []
    figure = fig if isinstance(fig, go.Figure) else go.Figure(decoded(fig))
    table = figure_table(figure)
    return [[None if pd.isna(v) else v for v in row] for row in table.astype(object).itertuples(index=False)]


@pytest.fixture(params=["demo", "real"])
def store(request):
    return request.getfixturevalue(f"{request.param}_db")


@pytest.mark.parametrize("prefecture, pref_code", PREFECTURES, ids=["兵庫県", "北海道"])
def test_every_view_shows_the_same_numbers_and_sentences_on_every_surface(
    store, prefecture, pref_code, tmp_path, monkeypatch
):
    with duckdb.connect(str(store), read_only=True) as con:
        views = specs(con, pref_code)
        expected = [render_view(con, spec, prefecture, theme=THEME) for spec in views]
        excel = [view_excel(result) if result.table is not None else None for result in expected]
    deck_file = tmp_path / "surfaces.yaml"
    deck_file.write_text(yaml.safe_dump({"title": "面の比較", "views": views}, allow_unicode=True), encoding="utf-8")
    drawn = [r for r in expected if r.figure is not None]
    assert drawn, "some views have figures to compare"

    # ---- PNG: the figures the command hands to the renderer
    rendered: list[go.Figure] = []
    monkeypatch.setattr("exports.images.figure_png", lambda fig, *a, **k: rendered.append(fig) or b"png")
    out = tmp_path / "png"
    args = ["--db", str(store), "--prefecture", prefecture, "--views", str(deck_file), "--theme", THEME]
    assert export_main(["png", *args, "--out", str(out)]) == 0
    assert [values_of(f) for f in rendered] == [values_of(r.figure) for r in drawn]

    # ---- PowerPoint: the pictures' figures, the sentences beside them, the table slides
    pictures: list[go.Figure] = []
    monkeypatch.setattr("exports.pptx_deck.figure_png", lambda fig, *a, **k: pictures.append(fig) or _blank_png())
    with duckdb.connect(str(store), read_only=True) as con:
        build_deck(con, load_deck(deck_file), prefecture, tmp_path / "deck.pptx", theme=THEME)
    assert [values_of(f) for f in pictures] == [values_of(r.figure) for r in drawn]
    slides = list(Presentation(str(tmp_path / "deck.pptx")).slides)[1:]
    for result, workbook in zip(expected, excel):
        slide = slides.pop(0)
        texts = [shape.text_frame.text for shape in slide.shapes if shape.has_text_frame]
        assert texts[0] == result.title
        # beside a chart the sentences are bullets (「・」), alone on a slide they are not
        lines = [[line.removeprefix("・") for line in text.split("\n")] for text in texts]
        assert result.commentary in lines, (result.title, texts)
        if result.table is None or not len(result.table):
            continue
        table_slide = slides.pop(0)
        cells = next(s.table for s in table_slide.shapes if s.has_table)
        compact, _ = slide_columns(result.table)
        rows = [[cell.text for cell in row.cells] for row in cells.rows]
        assert rows[0] == [str(c) for c in compact.columns]
        # the Excel sheet of the same view holds the same rows (all of them; the slide its first ones)
        sheet = openpyxl.load_workbook(io.BytesIO(workbook)).worksheets[1]
        header = [c.value for c in next(sheet.iter_rows(max_row=1))]
        assert header == [str(c) for c in result.table.columns]
        body = [list(r) for r in sheet.iter_rows(min_row=2, values_only=True)]
        assert len(body) == len(result.table)
        positions = [header.index(str(c)) for c in compact.columns]
        for slide_row, excel_row in zip(rows[1:], body):
            # an empty text and a missing value are both an empty cell in Excel (「—」 or nothing on the slide)
            excel_cells = [excel_row[i] for i in positions]
            assert [
                cell in ("", "—") if value is None else cell == cell_text(value)
                for cell, value in zip(slide_row, excel_cells)
            ] == [True] * len(slide_row), (result.title, slide_row, excel_cells)
        notes = dict(sheet.parent.worksheets[0].iter_rows(values_only=True))
        assert notes["解説"] == "".join(result.commentary)
    assert not slides, "one slide per view and one per table, nothing else"

    # ---- 会議モード: the same deck, slide by slide
    monkeypatch.setattr("ui.meeting.DECK_DIR", tmp_path)
    at = open_app(
        monkeypatch, store, "app_pages/meeting.py", mode="meeting", slide="1", pref=prefecture, deck="surfaces"
    )
    for number, result in enumerate(expected, start=1):
        assert not at.exception, [e.message for e in at.exception]
        assert [t.value for t in at.title] == [plain(result.title)], number
        shown = [m.value for m in at.markdown]
        for sentence in result.commentary[:3]:
            assert plain(sentence) in shown, (result.title, sentence)
        charts = at.get("plotly_chart")
        if result.figure is None:
            assert not charts
        else:
            assert values_of(json.loads(charts[0].proto.spec)) == values_of(result.figure), result.title
        if number < len(expected):
            at = at.button(key="mt_next").click().run()


@pytest.mark.parametrize("prefecture, pref_code", PREFECTURES, ids=["兵庫県", "北海道"])
@pytest.mark.parametrize("measure", ["composite", "da_cio"])
def test_the_overview_page_places_the_deck_views(store, prefecture, pref_code, measure, monkeypatch):
    """The 概要 page with a prefecture chosen shows the map's sentences, the distribution and (for a
    measure ranked by prefecture on the deck too) the ranking of the deck's views."""
    with duckdb.connect(str(store), read_only=True) as con:
        reference = {
            kind: render_view(con, {"view": kind, "measure": measure}, prefecture, theme="screen")
            for kind in ("overview_map", "distribution", "ranking")
        }
    at = open_app(monkeypatch, store, pref=prefecture, ind=reference["overview_map"].title.split("：", 1)[1])
    assert not at.exception, [e.message for e in at.exception]
    shown = [m.value for m in at.markdown]
    assert [s.value for s in at.header][0] == reference["overview_map"].title
    assert "".join(plain(s) for s in reference["overview_map"].commentary[:3]) in shown
    chart = {c.proto.id.rsplit("-", 1)[-1]: c for c in at.get("plotly_chart")}
    by_key = {key: json.loads(c.proto.spec) for key, c in chart.items()}
    distribution = next(spec for key, spec in by_key.items() if key.endswith("ov_distribution"))
    assert values_of(distribution) == values_of(reference["distribution"].figure)
    ranking = reference["ranking"]
    if "都道府県別" in ranking.subtitle:  # the deck ranks prefectures (a share), not the prefecture's municipalities
        bars = next(spec for key, spec in by_key.items() if key.endswith("ov_ranking"))
        assert values_of(bars) == values_of(ranking.figure)
        assert "".join(plain(s) for s in ranking.commentary[:3]) in shown


def _blank_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("prefecture, pref_code", PREFECTURES, ids=["兵庫県", "北海道"])
def test_the_progress_page_places_the_deck_view(demo_db, prefecture, pref_code, monkeypatch):
    """進捗 with its default rounds and the overall score is the deck's 当初→評価 view: the same slope
    chart and sentences."""
    with duckdb.connect(str(demo_db), read_only=True) as con:
        reference = render_view(con, {"view": "progress"}, prefecture, theme="screen")
    assert reference.figure is not None, "the demo has two assessment rounds"
    at = open_app(monkeypatch, demo_db, "app_pages/progress.py", pref=prefecture)
    assert not at.exception, [e.message for e in at.exception]
    slope = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if c.proto.id.endswith("pr_slope"))
    assert values_of(slope) == values_of(reference.figure)
    assert "".join(plain(s) for s in reference.commentary[:3]) in [m.value for m in at.markdown]


@pytest.mark.parametrize("prefecture, pref_code", PREFECTURES, ids=["兵庫県", "北海道"])
def test_the_support_page_places_the_deck_view(store, prefecture, pref_code, monkeypatch):
    """支援計画's chart of the menu items and its sentences are the deck's 支援優先度 view."""
    with duckdb.connect(str(store), read_only=True) as con:
        reference = render_view(con, {"view": "priority"}, prefecture, theme="screen")
    at = open_app(monkeypatch, store, "app_pages/support.py", pref=prefecture)
    assert not at.exception, [e.message for e in at.exception]
    items = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if c.proto.id.endswith("sp_items"))
    assert values_of(items) == values_of(reference.figure)
    assert "".join(plain(s) for s in reference.commentary[:3]) in [m.value for m in at.markdown]


@pytest.mark.parametrize("prefecture, pref_code", PREFECTURES, ids=["兵庫県", "北海道"])
def test_the_compare_page_places_the_deck_crosstab(demo_db, prefecture, pref_code, monkeypatch):
    """比較・分析's cross table of maturity by population band is the deck's クロス集計 view."""
    with duckdb.connect(str(demo_db), read_only=True) as con:
        reference = render_view(con, {"view": "crosstab", "measure": "maturity"}, prefecture, theme="screen")
    assert reference.figure is not None, "the demo has maturity levels"
    at = open_app(monkeypatch, demo_db, "app_pages/compare.py", pref=prefecture, cm_tab="クロス集計（兵庫県方式）")
    at = at.selectbox(key="cm_cross").select("maturity").run()
    assert not at.exception, [e.message for e in at.exception]
    bars = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if c.proto.id.endswith("cm_crossbars"))
    assert values_of(bars) == values_of(reference.figure)
    assert "".join(plain(s) for s in reference.commentary[:3]) in [m.value for m in at.markdown]
