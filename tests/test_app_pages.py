"""AppTest over every page, on the embedded demo (no public files: synthetic indicators, no
boundaries → the point map) and on the real files of ../shared/data; the sidebar filters and the
URL; the upload → validate → accept → rebuild path of データ管理."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import himeji_square_geojson
from streamlit.testing.v1 import AppTest

from metrics.filters import Filter, select_municipalities

ROOT = Path(__file__).resolve().parent.parent
PAGES = {
    "app_pages/overview.py": "概要",
    "app_pages/karte.py": "市町村カルテ",
    "app_pages/compare.py": "比較・分析",
    "app_pages/progress.py": "進捗",
    "app_pages/support.py": "支援計画",
    "app_pages/data.py": "データ管理",
}
DEMO_LABEL = "デモ用の架空データ"


CROSS_TAB = "クロス集計（兵庫県方式）"


def open_app(monkeypatch, db: Path, page: str = "app_pages/overview.py", **query) -> AppTest:
    """A fresh session that opens ``page`` with ``query`` in the URL (as a pasted link would)."""
    monkeypatch.setenv("DX_DB", str(db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page(page)
    return at.run()


def texts(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [s.value for s in at.header])


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def count(db: Path, flt: Filter) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return len(select_municipalities(con, flt))


def label_of(db: Path, code: str) -> str:
    """The karte menu's label of a municipality, as it appears in the URL."""
    with duckdb.connect(str(db), read_only=True) as con:
        row = select_municipalities(con, Filter(codes=(code,))).iloc[0]
    return f"{row['name']}（{row['pref_name']}）　{row['kana']}　{code}"


@pytest.mark.parametrize("page", list(PAGES))
@pytest.mark.parametrize("which", ["demo", "real"])
def test_every_page_renders(which, page, request, monkeypatch):
    db = request.getfixturevalue(f"{which}_db")
    at = open_app(monkeypatch, db, page)
    assert not at.exception, [e.message for e in at.exception]
    assert [t.value for t in at.title] == [PAGES[page]]
    banner = [w.value for w in at.warning if DEMO_LABEL in w.value]
    assert bool(banner) == (which == "demo"), "the demo banner is shown exactly when demo data is on screen"
    assert any("データ:" in c.value for c in at.sidebar.caption), "the data source and build date are always visible"
    charts, maps = at.get("plotly_chart"), at.get("deck_gl_json_chart")
    if page == "app_pages/overview.py":
        assert metric(at, "対象団体数") == "1,741団体"
        assert len(maps) == 1 and len(charts) >= 2
    elif page == "app_pages/karte.py":
        assert at.selectbox(key="ka_code").value
        assert len(charts) >= 1 and any("支援優先度" in m.value for m in at.markdown)
    elif page == "app_pages/compare.py":  # the list and the first tab's scatter (tabs are drawn when open)
        assert len(at.dataframe) >= 1 and len(charts) >= 1
    elif page == "app_pages/progress.py":
        if which == "demo":
            assert len(maps) == 1 and {m.label for m in at.metric} >= {"改善", "停滞", "後退", "比較不可"}
        else:  # the real files carry no assessment rounds
            assert any("2回以上" in i.value for i in at.info)
    elif page == "app_pages/support.py":
        levels = [m for m in at.metric if m.label.startswith("支援優先度") or m.label == "判定不可"]
        assert sum(int(m.value.replace(",", "").removesuffix("団体")) for m in levels) == 1741
        assert len(at.get("download_button")) >= 2
    elif page == "app_pages/data.py":
        assert {"表示中のデータベース", "ファイルの取り込み", "出典・ライセンス・調査時点", "取込ログ"} <= {
            s.value for s in at.header
        }


@pytest.mark.parametrize("which", ["demo", "real"])
def test_meeting_page_renders(which, request, monkeypatch):
    """会議モード (app_pages/meeting.py, tests/test_meeting.py): a slide without the dashboard's sidebar."""
    db = request.getfixturevalue(f"{which}_db")
    at = open_app(monkeypatch, db, "app_pages/meeting.py", mode="meeting", pref="兵庫県")
    assert not at.exception, [e.message for e in at.exception]
    assert len(at.title) == 1 and len(at.get("plotly_chart")) == 1
    assert len(at.sidebar) == 0
    assert any(m.value == DEMO_LABEL for m in at.markdown) == (which == "demo")


def test_url_reproduces_the_filtered_view(real_db, monkeypatch):
    """A pasted link with filters opens the same selection, measure and widgets."""
    at = open_app(monkeypatch, real_db, pref="兵庫県", band=["5万未満", "5～10万"], ind="CIOの任命")
    assert not at.exception
    expected = count(real_db, Filter(pref_code="28", pop_bands=("5万未満", "5～10万")))
    assert 0 < expected < 41  # 兵庫県 has 41 市町 (兵庫県「市町DX支援パッケージ」)
    assert metric(at, "対象団体数") == f"{expected}団体"
    assert "地図：CIOの任命" in [s.value for s in at.header]
    assert at.selectbox(key="pref").value == "28"
    assert at.multiselect(key="band").value == ["5万未満", "5～10万"]


def test_sidebar_filter_change_updates_the_page(real_db, monkeypatch):
    at = open_app(monkeypatch, real_db)
    at.selectbox(key="pref").select("13").run()
    assert not at.exception
    assert metric(at, "対象団体数") == "62団体"  # 東京都: 23 特別区 + 26 市 + 5 町 + 8 村
    assert any("東京都：62団体" in c.value for c in at.caption)
    composite = next(m for m in at.metric if m.label == "総合得点 中央値")
    assert "全国比" in composite.delta, "the nation stays the reference for the KPI cards"
    at.selectbox(key="ind").select("da_cio").run()
    assert "地図：CIOの任命" in [s.value for s in at.header]
    assert metric(at, "対象団体数") == "62団体", "the other filters are kept"
    at.switch_page("app_pages/karte.py").run()
    assert at.selectbox(key="ka_code").value == "131016", (
        "the カルテ opens on the selection's first municipality (千代田区)"
    )


def test_page_widget_change_reruns_the_page(demo_db, monkeypatch):
    at = open_app(monkeypatch, demo_db, "app_pages/progress.py", pref="東京都")
    overall = [metric(at, label) for label in ("改善", "停滞", "後退")]
    at.selectbox(key="pr_part").select("stage:3").run()
    assert not at.exception
    assert any(c.value.startswith("STEP3（DXの取組の実行）の得点") for c in at.caption)
    assert (
        sum(int(metric(at, label).removesuffix("団体")) for label in ("改善", "停滞", "後退", "比較不可", "未回答"))
        == 62
    )
    assert [metric(at, label) for label in ("改善", "停滞", "後退")] != overall


def test_unknown_url_values_fall_back_to_defaults(real_db, monkeypatch):
    at = open_app(monkeypatch, real_db, pref="存在しない県", ind="<script>")
    assert not at.exception
    assert metric(at, "対象団体数") == "1,741団体"


def test_karte_opens_from_the_url_and_the_comparison_set(demo_db, monkeypatch):
    at = open_app(
        monkeypatch,
        demo_db,
        "app_pages/karte.py",
        ka_code=label_of(demo_db, "282014"),
        cmp=["神戸市（兵庫県）", "明石市（兵庫県）"],
    )
    assert not at.exception
    assert at.selectbox(key="ka_code").value == "282014"
    assert any("姫路市" in m.value and "支援優先度" in m.value for m in at.markdown)
    assert "比較セットとの比較" in [s.value for s in at.header]
    compared = at.dataframe[-1].value
    assert list(compared["団体"]) == ["姫路市", "神戸市", "明石市"]


def test_karte_search_lists_the_selection_first(real_db, monkeypatch):
    at = open_app(monkeypatch, real_db, "app_pages/karte.py", pref="沖縄県")
    menu = at.selectbox(key="ka_code")
    assert menu.value == "472018"  # 那覇市, the first 沖縄県 code
    assert len(menu.options) == 1741  # every municipality stays searchable
    assert "なはし" in menu.options[0] and "472018" in menu.options[0]


def test_compare_page_keeps_the_set_in_the_url(demo_db, monkeypatch):
    at = open_app(
        monkeypatch,
        demo_db,
        "app_pages/compare.py",
        pref="兵庫県",
        cmp=["姫路市（兵庫県）", "神戸市（兵庫県）"],
        cm_cross="CIOの任命",
        cm_tab=CROSS_TAB,
    )
    assert not at.exception
    assert at.multiselect(key="cmp").value == ["282014", "281000"]
    crossed = next(table.value for table in at.dataframe if "計" in table.value.index)
    assert crossed.loc["計", "計"] == 41, "the cross-table's grand total is every selected municipality"
    assert not any("比較セットは空" in i.value for i in at.info)


def test_compare_list_has_no_empty_column_on_the_official_data_alone(real_db, monkeypatch):
    """Without any survey (the real files) the list drops the assessment columns instead of showing
    「None」 on every row."""
    at = open_app(monkeypatch, real_db, "app_pages/compare.py", pref="和歌山県")
    listed = at.dataframe[0].value
    assert "市区町村" in listed.columns and "アセスメント" not in listed.columns
    assert all(listed[column].notna().any() for column in listed.columns)


def test_karte_similar_table_has_no_empty_column_on_the_official_data_alone(real_db, monkeypatch):
    at = open_app(monkeypatch, real_db, "app_pages/karte.py", pref="北海道")
    similar = next(frame.value for frame in at.dataframe if "順位" in frame.value.columns)
    assert len(similar) and "アセスメント" not in similar.columns
    assert all(similar[column].notna().any() for column in similar.columns)


COMPARE_TABS = {  # tab → the chart only that tab draws
    "散布図": "cm_scatter",
    "人口規模別の分布": "cm_boxplot",
    CROSS_TAB: "cm_crossbars",
    "団体 × 指標ヒートマップ": "cm_heatmap",
    "比較セット": "cm_setbars",
}


@pytest.mark.parametrize("tab", list(COMPARE_TABS))
def test_compare_page_computes_only_the_open_tab(demo_db, monkeypatch, tab):
    """比較・分析 draws the tab the URL names and none of the others' charts (each is work on every rerun)."""
    at = open_app(monkeypatch, demo_db, "app_pages/compare.py", pref="兵庫県", cmp=["282014", "281000"], cm_tab=tab)
    assert not at.exception, [e.message for e in at.exception]
    drawn = {key for key in COMPARE_TABS.values() for c in at.get("plotly_chart") if c.proto.id.endswith(key)}
    assert drawn == {COMPARE_TABS[tab]}


def test_compare_page_keeps_the_choices_of_a_closed_tab(demo_db, monkeypatch):
    """A tab not drawn in a run keeps its choices: back on 散布図, the axes are the ones picked before."""
    at = open_app(monkeypatch, demo_db, "app_pages/compare.py", pref="兵庫県", cm_tab="散布図")
    x_id = "composite"  # the default 横軸 is the population
    at = at.selectbox(key="cm_x").select(x_id).run()
    at = at.toggle(key="cm_logx").set_value(True).run()
    assert at.selectbox(key="cm_x").value == x_id
    for tab in ("人口規模別の分布", CROSS_TAB, "散布図"):
        at.session_state["cm_tab"] = tab
        at = at.run()
        assert not at.exception, [e.message for e in at.exception]
    assert at.selectbox(key="cm_x").value == x_id and at.toggle(key="cm_logx").value is True


def test_progress_transition_counts_everyone(demo_db, monkeypatch):
    at = open_app(monkeypatch, demo_db, "app_pages/progress.py", pref="兵庫県")
    assert not at.exception
    trend = sum(int(metric(at, label).removesuffix("団体")) for label in ("改善", "停滞", "後退", "比較不可", "未回答"))
    moved = sum(
        int(metric(at, label).removesuffix("団体"))
        for label in ("レベルが上がった団体", "同じレベルの団体", "レベルが下がった団体")
    )
    assert trend == moved == 41


def test_upload_is_validated_before_it_is_taken_in(demo_db, tmp_path, monkeypatch):
    monkeypatch.setattr("ui.uploads.STAGING_DIR", tmp_path / "staging")
    monkeypatch.setattr("ui.uploads.UPLOAD_DIR", tmp_path / "uploads")
    at = open_app(monkeypatch, demo_db, "app_pages/data.py")
    at.file_uploader(key="dm_upload").upload("../../etc/passwd.csv", b"\x89PNG\r\n\x1a\nnot a table at all").run()
    assert not at.exception
    assert any("エラーあり" in m.value for m in at.markdown)
    assert not any(b.label == "取り込み対象に追加" for b in at.button)
    assert (tmp_path / "staging" / "passwd.csv").exists(), "the upload stays inside the staging folder"
    assert not (tmp_path / "uploads").exists(), "nothing is taken in before it passes validation"


def test_upload_accept_and_rebuild(demo_db, shared_data, tmp_path, monkeypatch):
    db = tmp_path / "dashboard.duckdb"
    shutil.copy(demo_db, db)
    monkeypatch.setattr("ui.uploads.STAGING_DIR", tmp_path / "staging")
    monkeypatch.setattr("ui.uploads.UPLOAD_DIR", tmp_path / "uploads")
    monkeypatch.setenv("DX_SOURCE", str(tmp_path / "no-such-folder"))
    geojson = himeji_square_geojson()
    at = open_app(monkeypatch, db, "app_pages/data.py")
    at.file_uploader(key="dm_upload").upload(
        "姫路 境界.geojson", json.dumps(geojson, ensure_ascii=False).encode()
    ).run()
    assert any("問題なし" in m.value for m in at.markdown), texts(at)
    next(b for b in at.button if b.label == "取り込み対象に追加").click().run()
    accepted = tmp_path / "uploads" / "姫路_境界.geojson"
    assert accepted.exists()
    # what the rebuild reads is named by where it came from, never by the server's folders
    shown = "\n".join(m.value for m in at.markdown)
    assert "取り込み対象に追加したファイル（下の一覧）：1 ファイル" in shown, shown
    assert str(tmp_path) not in shown and str(shared_data) not in shown
    before = db.stat().st_mtime_ns
    at.button(key="dm_rebuild").click().run()
    assert not at.exception
    # a boundary file alone holds far less than the demo it replaces: the page asks before swapping
    assert db.stat().st_mtime_ns == before and any("5%を超えて少なく" in w.value for w in at.warning)
    at.button(key="dm_rebuild_force").click().run()
    assert not at.exception
    assert db.stat().st_mtime_ns != before, "the rebuilt database was swapped in"
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT value FROM build_info WHERE key = 'demo'").fetchone()[0] == "false"
        files = {
            row[0] for row in con.execute("SELECT file FROM ingest_log WHERE status IN ('ok', 'warning')").fetchall()
        }
        assert accepted.name in files
        assert con.execute("SELECT count(*) FROM boundaries").fetchone()[0] >= 1730
