"""Links carry codes (ui.links): the parameters naming a municipality or a prefecture hold codes
(``ka_code=281000``, ``cmp=282014&cmp=281000``, ``pref=28``) after any selection, and older links
that carried the menus' labels or names open the same view as the new ones."""

from __future__ import annotations

import pytest
from test_app_pages import label_of, metric, open_app

HYOGO_CODE, KOBE, HIMEJI = "28", "281000", "282014"


def karte_heading(at) -> list[str]:
    return [m.value for m in at.markdown if "支援優先度" in m.value]


@pytest.mark.parametrize(
    "old",
    [
        "神戸市（兵庫県）　こうべし　281000",  # the カルテ menu's label, as links carried it
        "神戸市（兵庫県）",  # the comparison set's label
        "28100",  # the code without its check digit
    ],
)
def test_old_karte_links_open_the_same_view_as_the_code(demo_db, monkeypatch, old):
    new = open_app(monkeypatch, demo_db, "app_pages/karte.py", ka_code=KOBE)
    before = open_app(monkeypatch, demo_db, "app_pages/karte.py", ka_code=old)
    assert not new.exception and not before.exception
    assert new.selectbox(key="ka_code").value == before.selectbox(key="ka_code").value == KOBE
    assert karte_heading(new) == karte_heading(before) and karte_heading(new)
    assert before.query_params["ka_code"] == KOBE, "the old link is rewritten in codes"


def test_the_karte_menu_writes_the_code(demo_db, monkeypatch):
    at = open_app(monkeypatch, demo_db, "app_pages/karte.py", pref="兵庫県")
    at.selectbox(key="ka_code").select(HIMEJI).run()
    assert not at.exception
    assert at.query_params["ka_code"] == HIMEJI
    assert at.query_params["pref"] == HYOGO_CODE
    assert label_of(demo_db, HIMEJI) not in at.query_params.values()


@pytest.mark.parametrize("old", ["兵庫県", "280003"])
def test_old_prefecture_links_open_the_same_view(demo_db, monkeypatch, old):
    new = open_app(monkeypatch, demo_db, pref=HYOGO_CODE)
    before = open_app(monkeypatch, demo_db, pref=old)
    assert new.selectbox(key="pref").value == before.selectbox(key="pref").value == HYOGO_CODE
    assert metric(new, "対象団体数") == metric(before, "対象団体数") == "41団体"
    assert before.query_params["pref"] == HYOGO_CODE


def test_prefecture_menu_writes_the_code_and_the_nation_none(demo_db, monkeypatch):
    at = open_app(monkeypatch, demo_db)
    assert "pref" not in at.query_params, "the nation (no restriction) needs no parameter"
    at.selectbox(key="pref").select("13").run()
    assert at.query_params["pref"] == "13"
    at.selectbox(key="pref").select("*").run()
    assert "pref" not in at.query_params


def test_comparison_set_links_old_and_new(demo_db, monkeypatch):
    new = open_app(monkeypatch, demo_db, "app_pages/compare.py", cmp=[HIMEJI, KOBE])
    before = open_app(monkeypatch, demo_db, "app_pages/compare.py", cmp=["姫路市（兵庫県）", "神戸市（兵庫県）"])
    assert new.multiselect(key="cmp").value == before.multiselect(key="cmp").value == [HIMEJI, KOBE]
    assert before.query_params["cmp"] == [HIMEJI, KOBE]  # AppTest: a repeated parameter as a list
    at = open_app(monkeypatch, demo_db, "app_pages/compare.py")
    at.multiselect(key="cmp").select(KOBE).run()
    assert not at.exception
    assert at.query_params["cmp"] == KOBE  # AppTest: a single value as a string


def test_meeting_links_with_the_name_or_the_code(demo_db, monkeypatch):
    slides = []
    for pref in ("兵庫県", HYOGO_CODE):
        at = open_app(monkeypatch, demo_db, "app_pages/meeting.py", mode="meeting", slide="2", pref=pref)
        assert not at.exception
        assert at.query_params["pref"] == HYOGO_CODE
        slides.append(([t.value for t in at.title], [m.value for m in at.markdown if not m.value.startswith("<")]))
    assert slides[0] == slides[1]


def test_unknown_codes_fall_back_to_the_default(demo_db, monkeypatch):
    at = open_app(monkeypatch, demo_db, "app_pages/karte.py", pref="99", ka_code="999999", cmp=["存在しない市"])
    assert not at.exception
    assert at.selectbox(key="pref").value == "*"
    assert at.multiselect(key="cmp").value == []
    assert at.selectbox(key="ka_code").value  # the first municipality
