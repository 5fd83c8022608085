"""支援計画, カルテ and the deck on a database built from ../shared/data only (no survey): every
municipality judged from the official indicators, at most three recommendations each from the
national menu plus the prefecture's own; and on the demo (with a survey): both judgements side by
side, the disagreeing municipalities listed, 未回答 counted."""

from __future__ import annotations

import duckdb
import pytest
from pptx import Presentation
from test_app_pages import open_app, texts

from exports.pptx_deck import build_deck
from metrics.filters import Filter, select_municipalities
from metrics.priority import support_priority
from views.render import load_deck, render_view

PREFECTURES = {"北海道": "01", "兵庫県": "28", "和歌山県": "30"}


@pytest.mark.parametrize("pref", list(PREFECTURES))
def test_support_page_on_official_data_alone(real_db, monkeypatch, pref):
    at = open_app(monkeypatch, real_db, "app_pages/support.py", pref=pref)
    assert not at.exception
    with duckdb.connect(str(real_db), read_only=True) as con:
        n = len(select_municipalities(con, Filter(pref_code=PREFECTURES[pref])))
    shown = {m.label: int(m.value.removesuffix("団体").replace(",", "")) for m in at.metric}
    assert (
        shown["判定不可"] == 0
        and shown["支援優先度「高」"] + shown["支援優先度「中」"] + shown["支援優先度「低」"] == n
    )
    assert any("公開データによる判定" in i.value for i in at.info)
    table = at.dataframe[0].value
    assert (table["推奨する支援（最大3件）"].str.split("、").str.len() <= 3).all()
    page = texts(at)
    assert "推奨する支援（最大3件）" in page and "理由:" in page
    assert any(e.label.startswith("ほかの候補") for e in at.expander)
    menu_table = next(d.value for d in at.dataframe if "支援メニュー" in d.value.columns)
    own = set(menu_table["区分"]) - {"国"}
    assert own == ({pref} if pref != "北海道" else set())


def test_karte_and_deck_judge_from_official_data(real_db, monkeypatch):
    at = open_app(monkeypatch, real_db, "app_pages/karte.py", pref="和歌山県")
    assert not at.exception
    page = texts(at)
    assert "判定の根拠: 公開データによる判定" in page and "判定不可" not in page
    with duckdb.connect(str(real_db), read_only=True) as con:
        view = render_view(con, {"view": "priority"}, "和歌山県")
        assert "判定不可" not in view.subtitle and "公開データによる判定" in view.subtitle
        assert (view.table["推奨する支援（最大3件）"].str.split("、").str.len() <= 3).all()
        assert (
            view.table["推奨する支援（最大3件）"].str.contains("よろず相談|DX入門研修|合同研修会").any()
        )  # 和歌山's own
        assert (
            not view.table["推奨する支援（最大3件）"].str.contains("DX推進リエゾン|育成取組み").any()
        )  # never 兵庫's or 宮城's


def test_deck_table_slide_shows_the_recommendations_with_reasons(real_db, tmp_path):
    """The committee deck's priority table keeps 推奨する支援 and 主な理由 on the slide (wrapped), with the
    prefecture's own items and never another prefecture's."""
    with duckdb.connect(str(real_db), read_only=True) as con:
        deck = load_deck()
        deck.views = [v for v in deck.views if v.view == "priority"]
        out = build_deck(con, deck, "和歌山県", tmp_path / "deck.pptx").path
    tables = [shape.table for slide in Presentation(out).slides for shape in slide.shapes if shape.has_table]
    assert tables, "the priority view has a table slide"
    header = [cell.text for cell in tables[0].rows[0].cells]
    assert "推奨する支援（最大3件）" in header and "主な理由" in header
    column = header.index("推奨する支援（最大3件）")
    items = [row.cells[column].text for row in list(tables[0].rows)[1:]]
    assert items and all(1 <= len(text.split("、")) <= 3 for text in items)
    assert not any("DX推進リエゾン" in text for text in items)  # 兵庫's item never reaches 和歌山's deck


def test_survey_and_official_judgements_side_by_side(demo_db, monkeypatch):
    at = open_app(monkeypatch, demo_db, "app_pages/support.py", pref="兵庫県")
    assert not at.exception
    assert any(s.value.startswith("アセスメントによる判定と") for s in at.header)
    with duckdb.connect(str(demo_db), read_only=True) as con:
        priority = support_priority(con, Filter(pref_code="28"))
    disagree = priority[priority["disagree"]]
    assert len(disagree) and (disagree["survey_priority"] != disagree["official_priority"]).all()
    assert f"判定が食い違う団体**（{len(disagree):,}団体" in texts(at)
