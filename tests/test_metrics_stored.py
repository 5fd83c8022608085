"""National metrics kept in the store at ingest (metrics/stored.py, table metric_results): read back
they equal the computed ones; a store without them, or with results of other code or
definitions, is computed as before; a failure to compute them is a warning, not a failed build."""
from __future__ import annotations

import shutil

import duckdb
from pandas.testing import assert_frame_equal

from loaders.build import build
from metrics import stored
from metrics.filters import Filter
from metrics.query import STORED_QUERIES, arrow_frame, run, run_arrow, stored_query
from metrics.summary import all_metrics, compute_all_metrics

FAMILIES = ["summary", "assessment", "maturity", "composite", "indicators", "gaps", "assessment_change",
            "indicator_change", "priority", "similar", "cases"]
FAILED = "指標の事前計算に失敗しました"


def assert_same_results(left: dict, right: dict) -> None:
    assert list(left) == list(right) == FAMILIES
    for family in FAMILIES:
        # dtypes, index and text exactly; floats to 1e-12 (DuckDB's parallel sums differ in the last bit between runs)
        assert_frame_equal(left[family], right[family], check_exact=False, rtol=1e-12, atol=1e-12, obj=family)


def test_demo_build_stores_every_family_with_the_running_fingerprint(demo_con):
    rows = demo_con.execute("SELECT family, fingerprint, rows FROM metric_results ORDER BY position").fetchall()
    assert [family for family, _, _ in rows] == FAMILIES + ["query:rounds", "query:indicator_catalog"]
    assert {fingerprint for _, fingerprint, _ in rows} == {stored.fingerprint()}
    counts = dict((family, count) for family, _, count in rows)
    # 1,741 municipalities; the demo's synthetic rounds cover every one (DATA.md: 1,741 = 1,718 + 23 特別区)
    assert counts["summary"] == counts["priority"] == 1741


def test_stored_results_equal_the_computed_ones(demo_con):
    read = stored.read(demo_con, FAMILIES)
    assert read is not None
    assert_same_results(all_metrics(demo_con), compute_all_metrics(demo_con))
    assert_same_results(read, compute_all_metrics(demo_con))


def test_stored_reference_queries_equal_the_computed_ones(demo_con):
    for name in STORED_QUERIES:
        kept = stored.read(demo_con, [stored_query(name)])[stored_query(name)]
        assert_frame_equal(kept, run(demo_con, name, {}), check_exact=True)
        assert_frame_equal(kept, arrow_frame(run_arrow(demo_con, name, {})), check_exact=True)
    rounds = run(demo_con, "rounds", {})
    # the embedded demo: two synthetic rounds, every municipality answering both
    assert rounds["round_id"].tolist() == ["2026-baseline", "2026-evaluation"]
    assert rounds["municipalities"].tolist() == [1741, 1741]


def test_real_build_stores_its_metrics_without_a_warning(real_build):
    summary, db = real_build
    assert not [issue for issue in summary.report.warnings if FAILED in issue.message]
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert stored.read(con, FAMILIES) is not None
        assert_same_results(all_metrics(con), compute_all_metrics(con))
    finally:
        con.close()


def test_store_without_the_table_or_with_other_code_is_computed(demo_db, tmp_path):
    copy = tmp_path / "older.duckdb"
    shutil.copy(demo_db, copy)
    con = duckdb.connect(str(copy))
    con.execute("UPDATE metric_results SET fingerprint = 'built by other code'")
    assert stored.read(con) is None
    with_other_code = all_metrics(con)
    con.execute("DROP TABLE metric_results")
    assert stored.read(con) is None
    older = all_metrics(con)
    con.close()
    reference = duckdb.connect(str(demo_db), read_only=True)
    try:
        computed = compute_all_metrics(reference)
        assert_same_results(with_other_code, computed)
        assert_same_results(older, computed)
    finally:
        reference.close()


def test_fingerprint_follows_the_definitions_and_the_code_all_metrics_imports(tmp_path, monkeypatch):
    before = stored.fingerprint()
    modules = {path.name for path in stored._inputs()}
    assert {"summary.py", "priority.py", "gaps.py", "gaps.sql", "priority_rules.yaml", "questionnaire.yaml"} <= modules
    assert "views.py" not in modules  # page helpers may change without making the stored results stale
    questionnaire = tmp_path / "questionnaire.yaml"
    questionnaire.write_bytes(stored.questionnaire_path().read_bytes() + b"\n# another prefecture's copy\n")
    monkeypatch.setenv("DX_QUESTIONNAIRE", str(questionnaire))
    assert stored.fingerprint() != before
    monkeypatch.delenv("DX_QUESTIONNAIRE")
    assert stored.fingerprint() == before


def test_filtered_or_non_default_calls_are_computed(demo_con):
    hyogo = all_metrics(demo_con, Filter(pref_code="28"))
    assert set(hyogo["summary"]["code"].str[:2]) == {"28"}
    assert_same_results(hyogo, compute_all_metrics(demo_con, Filter(pref_code="28")))
    assert len(all_metrics(demo_con, k=3)["similar"]) == 3 * 1741


def test_failed_precompute_is_a_warning_and_the_build_completes(tmp_path, monkeypatch):
    import metrics.summary

    def fail(con):
        raise RuntimeError("計算できません")

    monkeypatch.setattr(metrics.summary, "store_all_metrics", fail)
    target = tmp_path / "store.duckdb"
    summary = build([], target)
    assert [issue.message for issue in summary.report.warnings if FAILED in issue.message]
    con = duckdb.connect(str(target), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM metric_results").fetchone()[0] == 0
        assert con.execute("SELECT value FROM build_info WHERE key = 'complete'").fetchone()[0] == "true"
    finally:
        con.close()
