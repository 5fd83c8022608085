"""Change since the previous release on official data alone: the real files plus a later release of
the 市区町村比較 file with some answers changed (tests/release_fixtures.py), on 概要, カルテ, 進捗 and
the committee deck's 変化 slide; with the real files alone (one release) each surface says so."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
from release_fixtures import CHANGES, LATER_AS_OF, original_cells
from test_app_pages import label_of, metric, open_app, texts

from exports.pptx_deck import build_deck
from metrics.composite import composite
from metrics.definitions import COMPOSITE  # noqa: F401 - read by DataFrame.query("… @COMPOSITE")
from metrics.filters import Filter, select_municipalities
from metrics.snapshots import snapshot_dates, snapshot_label
from views.render import load_deck, render_view

KOBE, HIMEJI, AKASHI = "281000", "282014", "282031"


@pytest.fixture(scope="module")
def two_con(two_release_db):
    con = duckdb.connect(str(two_release_db), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def expected(two_con):
    """The composite's change between the two snapshots, computed in memory from indicator_values."""
    previous, latest = snapshot_dates(two_con)[-2:]
    base = composite(two_con, None, as_of=previous).query("pillar == @COMPOSITE").set_index("code")["score"]
    evaluation = composite(two_con, None, as_of=latest).query("pillar == @COMPOSITE").set_index("code")["score"]
    change = (evaluation - base).dropna()
    return {
        "previous": previous,
        "latest": latest,
        "change": change,
        "improved": set(change[change > 1e-9].index),
        "regressed": set(change[change < -1e-9].index),
    }


def test_the_fixture_is_the_real_file_with_a_few_answers_changed(shared_data, two_con, expected):
    assert any(original_cells(shared_data)[key] != cell for key, cell in CHANGES.items())
    assert expected["latest"] == LATER_AS_OF and len(snapshot_dates(two_con)) == 2
    # 神戸市 and 明石市 gained answers, 姫路市 lost two: nobody else moved
    assert expected["improved"] == {KOBE, AKASHI} and expected["regressed"] == {HIMEJI}


def test_overview_counts_who_improved_on_official_data(two_release_db, monkeypatch, expected):
    at = open_app(monkeypatch, two_release_db, "app_pages/overview.py")
    assert not at.exception, [e.message for e in at.exception]
    comparable = len(expected["change"])
    share = 100.0 * len(expected["improved"]) / comparable
    assert metric(at, "改善した団体（デジタル庁指標）") == f"{share:.1f}%"
    assert "前回の調査時点からの変化：デジタル庁指標 総合得点" in [s.value for s in at.header]
    assert metric(at, "改善") == f"{len(expected['improved'])}団体"
    assert metric(at, "後退") == f"{len(expected['regressed'])}団体"
    moved = at.dataframe[-1].value
    assert set(moved["市区町村"]) == {"神戸市", "明石市", "姫路市"}
    assert moved.set_index("市区町村").loc["姫路市", "判定"] == "後退"
    assert snapshot_label(expected["previous"]) in moved.columns and snapshot_label(LATER_AS_OF) in moved.columns


def test_overview_with_one_release_shows_no_change(real_db, monkeypatch):
    at = open_app(monkeypatch, real_db, "app_pages/overview.py")
    assert not at.exception
    assert not any(s.value.startswith("前回の調査時点からの変化") for s in at.header)
    assert all(m.label != "改善した団体（デジタル庁指標）" for m in at.metric)


def test_karte_shows_each_indicator_and_the_composite_at_every_release(two_release_db, two_con, monkeypatch, expected):
    at = open_app(monkeypatch, two_release_db, "app_pages/karte.py", ka_code=label_of(two_release_db, KOBE))
    assert not at.exception, [e.message for e in at.exception]
    assert "デジタル庁指標の推移（調査時点ごと）" in [s.value for s in at.header]
    assert at.get("plotly_chart") and any(c.key == "ka_official_history" for c in at.get("plotly_chart"))
    history = next(d.value for d in at.dataframe if "前回からの変化" in d.value.columns).set_index("指標")
    before, after = snapshot_label(expected["previous"]), snapshot_label(LATER_AS_OF)
    short = dict(two_con.execute("SELECT id, short_title FROM indicators").fetchall())
    policy = history.loc[short["da_policy"]]
    assert (policy[before], policy[after], policy["判定"]) == ("未実施", "実施", "改善")
    card = history.loc[short["da_mynumber_card"]]
    assert (card[before], card[after]) == ("74.0%", "80.0%") and card["前回からの変化"] == pytest.approx(6.0)
    unchanged = history.drop(index=[policy.name, card.name])
    assert set(unchanged["判定"]) == {"停滞"}


def test_karte_with_one_release_says_there_is_no_history_yet(real_db, monkeypatch):
    at = open_app(monkeypatch, real_db, "app_pages/karte.py", ka_code=label_of(real_db, KOBE))
    assert not at.exception
    assert "調査時点が1つだけ" in texts(at)


def test_progress_works_with_official_data_alone(two_release_db, monkeypatch, expected):
    at = open_app(monkeypatch, two_release_db, "app_pages/progress.py")
    assert not at.exception, [e.message for e in at.exception]
    assert not at.info, "no assessment survey is needed"
    assert at.selectbox(key="pr_base_snap").value == expected["previous"]
    assert at.selectbox(key="pr_eval_snap").value == LATER_AS_OF
    assert metric(at, "改善") == f"{len(expected['improved'])}団体"
    assert metric(at, "後退") == f"{len(expected['regressed'])}団体"
    assert metric(at, "比較不可") == f"{1741 - len(expected['change'])}団体"
    assert len(at.get("deck_gl_json_chart")) == 1
    improved = next(
        d.value
        for d in at.dataframe
        if "神戸市" in set(d.value.get("市区町村", [])) and {"変化", "判定"} <= set(d.value.columns)
    )
    assert improved.set_index("市区町村").loc["神戸市", "変化"] == pytest.approx(expected["change"][KOBE])
    # one indicator instead of the composite: 姫路市's CIO
    at.selectbox(key="pr_official_part").set_value("da_cio").run()
    assert not at.exception
    assert metric(at, "後退") == "1団体" and metric(at, "改善") == "0団体"


def test_progress_with_one_release_and_no_survey_explains_what_is_needed(real_db, monkeypatch):
    at = open_app(monkeypatch, real_db, "app_pages/progress.py")
    assert not at.exception
    assert any("公表分" in i.value for i in at.info)


def test_deck_has_a_change_slide_from_the_same_rows(two_con, expected, tmp_path):
    assert any(view.view == "change" for view in load_deck().views)
    result = render_view(two_con, {"view": "change"}, "兵庫県")
    assert result.figure is not None
    table = result.table.set_index("市区町村")
    assert table.loc["神戸市", "判定"] == "改善" and table.loc["姫路市", "判定"] == "後退"
    assert table.loc["明石市", "変化"] == pytest.approx(expected["change"][AKASHI])
    hyogo = select_municipalities(two_con, Filter(pref_code="28"))
    assert len(table) == len(hyogo)
    assert "改善 2団体" in result.subtitle and "後退 1団体" in result.subtitle
    assert snapshot_label(expected["previous"]) in result.as_of and snapshot_label(LATER_AS_OF) in result.as_of
    counts = table["判定"].value_counts()
    assert f"改善したのは{counts['改善']}団体、後退したのは{counts['後退']}団体" in result.commentary[0]
    assert "神戸市" in result.commentary[1] and "明石市" in result.commentary[1]
    summary = build_deck(two_con, load_deck(), "兵庫県", tmp_path / "deck.pptx")
    assert any(v.id == "change" and v.figure is not None for v in summary.views)


def test_deck_change_slide_with_one_release_keeps_its_place(real_db):
    con = duckdb.connect(str(real_db), read_only=True)
    try:
        result = render_view(con, {"view": "change"}, "兵庫県")
    finally:
        con.close()
    assert result.figure is None and "調査時点が1つだけ" in result.commentary[0]


def test_the_change_table_is_the_one_the_metrics_compute(two_con, expected):
    from metrics import views

    change = views.official_change(two_con, "composite", expected["previous"], expected["latest"]).set_index("code")
    moved = change[change["trend"].isin(["improved", "regressed"])]
    assert set(moved.index) == expected["improved"] | expected["regressed"]
    pd.testing.assert_series_equal(
        moved["change"].sort_index(), expected["change"][sorted(moved.index)], check_names=False
    )
