"""The deck command (python -m exports deck / png / karte) on the real data and the demo: a PPTX
that opens again with python-pptx, the expected slides, charts as pictures, footers with source
and as-of date, editable table slides, plain-text data, Japanese errors and exit codes."""

from __future__ import annotations

import io
import time

import duckdb
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pptx.util import Mm

from exports import images
from exports.__main__ import main
from exports.pptx_deck import add_table, new_presentation, table_layout
from views.render import DEFAULT_DECK, PROJECTOR_RANKING_ROWS, ExportError, load_deck, render_view

needs_browser = pytest.mark.skipif(
    images.chromium_path() is None, reason="Chromium がないためグラフの画像を作れません（CI は chromium を入れます）"
)


def _texts(slide) -> str:
    return "\n".join(shape.text_frame.text for shape in slide.shapes if shape.has_text_frame)


@needs_browser
def test_deck_for_hyogo_on_real_data(real_db, tmp_path, capsys):
    out = tmp_path / "deck.pptx"
    started = time.perf_counter()
    assert main(["deck", "--db", str(real_db), "--prefecture", "兵庫県", "--out", str(out)]) == 0
    elapsed = time.perf_counter() - started
    assert elapsed < 60
    deck = load_deck(DEFAULT_DECK)
    tables = sum(1 for v in deck.views if v.table)
    presentation = Presentation(str(out))
    slides = list(presentation.slides)
    assert len(slides) == 1 + len(deck.views) + tables
    assert presentation.slide_width * 9 == presentation.slide_height * 16
    title = _texts(slides[0])
    assert deck.title in title and "兵庫県" in title and "出典" in title and "調査時点" in title
    pictures = [shape for slide in slides for shape in slide.shapes if shape.shape_type == MSO_SHAPE_TYPE.PICTURE]
    # the real data has no assessment rounds and one デジタル庁 release: progress, stage × field and the
    # 変化 slide say so instead of a chart
    assert len(pictures) == len(deck.views) - 3
    for picture in pictures:
        pixels = np.asarray(Image.open(io.BytesIO(picture.image.blob)).convert("L"))
        assert pixels.shape[1] >= 1200 and (pixels < 128).mean() > 0.003  # drawn, with dark text on it
    view_slides = [s for s in slides[1:] if not any(shape.has_table for shape in s.shapes)]
    for number, slide in enumerate(slides[1:], start=2):
        text = _texts(slide)
        assert "出典" in text and f"{number} / {len(slides)}" in text
        assert "調査時点" in text or "調査回" in text
    assert "比較できる調査回が2回分そろっていない" in "\n".join(_texts(s) for s in view_slides)
    table_slides = [s for s in slides if any(shape.has_table for shape in s.shapes)]
    assert len(table_slides) == tables
    table = next(shape.table for shape in table_slides[0].shapes if shape.has_table)
    assert table.cell(0, 0).text == "順位" and table.cell(1, 0).text == "1"
    assert table.cell(0, 0).text_frame.paragraphs[0].runs[0].font.bold
    for slide in table_slides:  # the tables end above the footer
        frame = next(shape for shape in slide.shapes if shape.has_table)
        assert frame.top + sum(row.height for row in frame.table.rows) <= presentation.slide_height - Mm(12)
    assert "を書き出しました" in capsys.readouterr().out


def test_table_cells_are_plain_text(tmp_path):
    hostile = pd.DataFrame(
        {"市区町村": ["<script>alert(1)</script>", "=cmd|' /C calc'!A0"], "得点": [62.34, float("nan")]}
    )
    presentation = new_presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[6])
    add_table(slide, hostile, 0, 0, table_layout(hostile, Mm(200), Mm(40)))
    path = tmp_path / "t.pptx"
    presentation.save(path)
    table = next(shape.table for shape in Presentation(str(path)).slides[0].shapes if shape.has_table)
    assert [table.cell(i, 0).text for i in (1, 2)] == ["<script>alert(1)</script>", "=cmd|' /C calc'!A0"]
    assert [table.cell(i, 1).text for i in (1, 2)] == ["62.3", "—"]  # missing is a dash, never 0


def test_table_layout_keeps_long_text_on_the_slide():
    frame = pd.DataFrame(
        {
            "団体": [f"団体{i}" for i in range(30)],
            "推奨する支援": ["外部デジタル人材会議・地域DX出前講座・広域連携" * 2] * 30,
            "得点": np.linspace(10, 90, 30),
        }
    )
    layout = table_layout(frame, Mm(300), Mm(120))
    assert 1 <= layout.rows < 30 and sum(layout.heights) <= Mm(120)
    assert layout.widths[1] > layout.widths[0] and abs(sum(layout.widths) - Mm(300)) < Mm(1)
    short = table_layout(frame[["団体", "得点"]], Mm(300), Mm(300))
    assert short.rows == 30


@needs_browser
def test_demo_deck_projector_and_karte(demo_db, tmp_path):
    out = tmp_path / "demo.pptx"
    assert main(["deck", "--db", str(demo_db), "--prefecture", "28", "--out", str(out), "--theme", "projector"]) == 0
    slides = list(Presentation(str(out)).slides)
    pictures = [s for s in slides for shape in s.shapes if shape.shape_type == MSO_SHAPE_TYPE.PICTURE]
    # every view has data in the demo but the 変化 slide: the demo has one デジタル庁 release
    assert len(pictures) == len(load_deck(DEFAULT_DECK).views) - 1
    assert "デモ用の架空データ" in _texts(slides[0])
    karte = tmp_path / "karte.pptx"
    assert main(["karte", "--db", str(demo_db), "--code", "282014", "--out", str(karte)]) == 0
    presentation = Presentation(str(karte))
    assert len(presentation.slides) == 1
    assert (presentation.slide_width, presentation.slide_height) == (Mm(297), Mm(210))
    text = _texts(presentation.slides[0])
    assert "姫路市" in text and "支援優先度" in text and "推奨する支援" in text and "出典" in text
    assert any(shape.has_table for shape in presentation.slides[0].shapes)


@needs_browser
def test_png_command_writes_one_image_per_view_with_data(real_db, tmp_path, capsys):
    views = tmp_path / "views.yaml"
    views.write_text(
        "title: t\nviews:\n  - view: ranking\n    measure: da_cio\n  - view: stage_field\n", encoding="utf-8"
    )
    assert (
        main(
            ["png", "--db", str(real_db), "--prefecture", "兵庫", "--out", str(tmp_path / "png"), "--views", str(views)]
        )
        == 0
    )
    written = sorted(p.name for p in (tmp_path / "png").iterdir())
    assert written == ["01_ranking.png"]
    assert Image.open(tmp_path / "png" / written[0]).size == (1600, 900)
    assert "段階×分野の得点" in capsys.readouterr().out


def test_errors_are_japanese_with_exit_codes(real_db, tmp_path, capsys):
    assert main(["deck", "--db", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "x.pptx")]) == 1
    assert "データベース" in capsys.readouterr().err
    assert main(["deck", "--db", str(real_db), "--prefecture", "兵庫州", "--out", str(tmp_path / "x.pptx")]) == 1
    assert "都道府県「兵庫州」が見つかりません" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "title: t\nviews:\n  - view: ranking\n  - view: pie\n  - view: map\n    colour: red\n", encoding="utf-8"
    )
    assert main(["deck", "--db", str(real_db), "--views", str(bad), "--out", str(tmp_path / "x.pptx")]) == 1
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "2番目のビュー" in err and "'pie'" in err and "3番目のビューの「colour」" in err
    (tmp_path / "broken.yaml").write_text("title: [\n", encoding="utf-8")
    with pytest.raises(ExportError, match="broken.yaml"):
        load_deck(tmp_path / "broken.yaml")
    with pytest.raises(ExportError, match="views が空"):
        (tmp_path / "empty.yaml").write_text("title: t\nviews: []\n", encoding="utf-8")
        load_deck(tmp_path / "empty.yaml")
    assert not (tmp_path / "x.pptx").exists()


def test_render_view_errors_and_themes(real_db):
    con = duckdb.connect(str(real_db), read_only=True)
    with pytest.raises(ExportError, match="no_such_measure"):
        render_view(con, {"view": "ranking", "measure": "no_such_measure"}, "兵庫県")
    absent = render_view(con, {"view": "crosstab", "measure": "maturity"}, "兵庫県")  # known, not loaded
    assert absent.figure is None and absent.commentary == [
        "「成熟度レベル（0〜4）」のデータはまだ取り込まれていません。"
    ]
    with pytest.raises(ExportError, match="団体コード"):
        render_view(con, {"view": "karte"}, None)
    screen = render_view(con, {"view": "crosstab", "measure": "da_cio"}, "兵庫県")
    projector = render_view(con, {"view": "crosstab", "measure": "da_cio"}, "兵庫県", theme="projector")
    assert projector.figure.layout.font.size >= 24 and projector.figure.layout.title.font.size >= 32
    assert (screen.figure.layout.font.size or 13) < 24
    assert projector.table.equals(screen.table) and projector.commentary == screen.commentary
    ranking = render_view(con, {"view": "ranking", "measure": "composite"}, "兵庫県", theme="projector")
    # the slide trims to the top and bottom rows, the table does not
    assert len(ranking.figure.data[0].y) == 2 * PROJECTOR_RANKING_ROWS and len(ranking.table) == 41
    con.close()
