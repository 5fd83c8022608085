"""Metric tables written at build time (metrics/tables.py): their rows equal what the metric functions
compute in memory, SCHEMA.md's example queries run on them, and a failing metric step fails the build
without touching the database."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import metrics.tables
from loaders.build import BuildError, build
from loaders.store import create_schema
from metrics.assessment import assessment_scores, maturity, rounds
from metrics.cases import recommend_cases
from metrics.change import assessment_change, default_rounds
from metrics.composite import composite
from metrics.definitions import COMPOSITE  # noqa: F401 - read by DataFrame.query("… @COMPOSITE")
from metrics.derived_tables import DERIVED_TABLES, SIMILAR_K, stored_assessment_change, stored_cases, stored_similar
from metrics.filters import Filter
from metrics.gaps import gaps
from metrics.peers import similar_municipalities
from metrics.priority import support_priority
from metrics.snapshots import snapshot_dates
from metrics.tables import (
    METRIC_TABLES,
    current_priority,
    stored_assessment,
    stored_composite,
    stored_gaps,
    stored_maturity,
    stored_priority,
)

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DOC = (ROOT / "data" / "SCHEMA.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module", params=["demo_db", "two_release_db"])
def store(request):
    """The demo (assessment rounds, one snapshot) and the real files with a later release (two snapshots)."""
    con = duckdb.connect(str(request.getfixturevalue(request.param)), read_only=True)
    yield con
    con.close()


def test_every_metric_table_is_filled(store):
    counts = {table: store.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in METRIC_TABLES}
    dates = snapshot_dates(store)
    assert counts["composite_scores"] == 1741 * 5 * len(dates)
    assert store.execute("SELECT count(DISTINCT as_of) FROM indicator_gaps").fetchone()[0] == len(dates)
    n_rounds = len(rounds(store))
    assert counts["support_priority"] == 1741 * max(n_rounds, 1)
    assert (counts["assessment_scores"] > 0) == (n_rounds > 0)


def test_every_derived_table_is_filled(store):
    counts = {table: store.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in DERIVED_TABLES}
    with_sheet = store.execute("SELECT count(DISTINCT code) FROM assessment_scores").fetchone()[0]
    assert (counts["assessment_change"] > 0) == (len(rounds(store)) >= 2)
    cases = store.execute("SELECT count(DISTINCT code), max(rank) FROM reference_case_matches").fetchone()
    assert cases[0] == with_sheet and (cases[1] == 3 or with_sheet == 0)
    similar = store.execute("SELECT count(DISTINCT code), count(*) FROM similar_municipalities").fetchone()
    assert similar[0] > 1700 and similar[1] == SIMILAR_K * similar[0]


@pytest.mark.parametrize(
    "flt", [None, Filter(pref_code="28"), Filter(pref_code="01")], ids=["全国", "兵庫県", "北海道"]
)
def test_derived_tables_equal_the_families_computed_with_the_defaults(store, flt):
    """What all_metrics and the pages read from the derived tables is what the metric functions compute
    with the app's defaults: the default pair of rounds, each municipality's newest sheet, k = 5."""
    base, evaluation = default_rounds(store)
    assert_frame_equal(
        stored_assessment_change(store, flt), assessment_change(store, flt, base, evaluation), check_dtype=False
    )
    assert_frame_equal(stored_cases(store, flt), recommend_cases(store, flt), check_dtype=False)
    assert_frame_equal(stored_similar(store, flt), similar_municipalities(store, flt, k=SIMILAR_K), check_dtype=False)


def test_composite_scores_equal_the_composite_of_each_snapshot(store):
    for day in snapshot_dates(store):
        computed = composite(store, None, as_of=day).drop(columns="as_of")
        table = store.execute(
            "SELECT * FROM composite_scores WHERE as_of = CAST(? AS DATE) ORDER BY code, pillar", [day]
        ).df()
        expected = computed.sort_values(["code", "pillar"], ignore_index=True)
        assert_frame_equal(table.drop(columns="as_of")[expected.columns], expected, check_dtype=False)
        assert_frame_equal(stored_composite(store, None, day).drop(columns="as_of"), computed, check_dtype=False)


def test_indicator_gaps_equal_the_gaps_of_each_snapshot(store):
    for day in snapshot_dates(store):
        computed = gaps(store, Filter(pref_code="28"), as_of=day)
        assert_frame_equal(stored_gaps(store, Filter(pref_code="28"), day), computed, check_dtype=False)
    newest = gaps(store, None)
    assert_frame_equal(stored_gaps(store), newest, check_dtype=False)


def test_assessment_maturity_and_priority_equal_the_computed_ones(store):
    scores = assessment_scores(store)
    assert_frame_equal(stored_assessment(store), scores)
    assert_frame_equal(stored_maturity(store), maturity(scores), check_dtype=False)
    hyogo = Filter(pref_code="28")
    assert_frame_equal(
        _missing_as_none(stored_priority(store, hyogo)), _missing_as_none(support_priority(store, hyogo))
    )
    for round_id in rounds(store)["round_id"]:
        assert_frame_equal(
            _missing_as_none(stored_priority(store, None, round_id)),
            _missing_as_none(support_priority(store, None, round_id, menu_scope="own")),
        )


@pytest.mark.parametrize("pref_code", ["28", "01", "30"])
def test_a_prefectures_stored_priority_equals_the_computed_one_for_every_round(store, pref_code):
    """What the 支援計画 page reads for a prefecture (the stored judgement) is what computing it gives,
    for the newest sheet of each municipality and for each round the sidebar can choose."""
    flt = Filter(pref_code=pref_code)
    for round_id in [None, *rounds(store)["round_id"]]:
        assert_frame_equal(
            _missing_as_none(stored_priority(store, flt, round_id)),
            _missing_as_none(support_priority(store, flt, round_id)),
        )


def test_the_stored_priority_is_used_only_with_the_menus_it_was_judged_with(store, monkeypatch):
    """支援計画 and the deck read a prefecture's stored judgement while the menus are the build's; once
    an administrator accepts another menu (here: every item renamed), the priority is computed with it."""
    from metrics import menus, tables

    hyogo = Filter(pref_code="28")
    stored = store.execute("SELECT value FROM build_info WHERE key = ?", [tables.MENUS_KEY]).fetchone()
    assert stored == (menus.menus_digest(),)
    calls = []
    monkeypatch.setattr(tables, "support_priority", lambda *a, **k: calls.append(a) or support_priority(*a, **k))
    assert_frame_equal(
        _missing_as_none(current_priority(store, hyogo)), _missing_as_none(stored_priority(store, hyogo))
    )
    assert not calls, "the build's judgement is read, not computed again"

    original = menus._support_item
    monkeypatch.setattr(
        menus,
        "_support_item",
        lambda *a, **k: dataclasses.replace(original(*a, **k), name="改" + original(*a, **k).name),
    )
    assert menus.menus_digest() != stored[0]
    renewed = current_priority(store, hyogo)
    assert calls, "a new menu is judged again"
    recommended = [text for text in renewed["recommended"] if isinstance(text, str) and text]
    assert recommended and all(text.startswith("改") for text in recommended), recommended[:3]


def _missing_as_none(frame: pd.DataFrame) -> pd.DataFrame:
    """The same cells with every missing value as None (a column with no round at all is NaN in one
    frame and None in the other)."""
    return frame.astype(object).where(frame.notna(), None)


def schema_queries() -> list[str]:
    return re.findall(r"```sql\n(.*?)\n```", SCHEMA_DOC, flags=re.S)


def test_schema_doc_queries_run_and_the_change_example_matches_the_metrics(two_release_db):
    con = duckdb.connect(str(two_release_db), read_only=True)
    try:
        results = [con.execute(query).df() for query in schema_queries()]
        change = next(frame for frame in results if "change" in frame.columns)
        previous, latest = snapshot_dates(con)[-2:]
        base = composite(con, None, as_of=previous).query("pillar == @COMPOSITE").set_index("code")["score"]
        evaluation = composite(con, None, as_of=latest).query("pillar == @COMPOSITE").set_index("code")["score"]
        expected = (evaluation - base).dropna()
        names = con.execute("SELECT name, code FROM municipalities").df().set_index("name")["code"]
        moved = change.dropna(subset=["change"])
        moved = moved[moved["change"].abs() > 1e-9]
        assert len(moved) == int((expected.abs() > 1e-9).sum()) >= 3
        for row in moved.itertuples():
            code = names[row.name] if not isinstance(names[row.name], pd.Series) else None
            if code is not None:
                assert row.change == pytest.approx(expected[code])
        assert change["change"].dropna().iloc[0] == pytest.approx(expected.max())
        cio = next(frame for frame in results if "previous_value" in frame.columns)
        assert list(cio["name"]) == ["姫路市"] and (cio["previous_value"].iloc[0], cio["latest_value"].iloc[0]) == (
            1.0,
            0.0,
        )
    finally:
        con.close()


def test_schema_has_no_blob_cache():
    con = duckdb.connect()
    create_schema(con)
    tables = {t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert "metric_results" not in tables and set(METRIC_TABLES) | set(DERIVED_TABLES) <= tables
    assert not (ROOT / "metrics" / "stored.py").exists()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_failing_metric_step_fails_the_build_and_keeps_the_database(tmp_path, monkeypatch):
    target = tmp_path / "dashboard.duckdb"
    # (force: a store without any file is smaller than none at all — the shrink guard is not under test)
    build([], target, force=True)
    before = _digest(target)

    def broken(con):
        raise ValueError("指標の計算に失敗（テスト）")

    monkeypatch.setattr(metrics.tables, "write_metric_tables", broken)
    with pytest.raises(BuildError) as failure:
        build([], target, force=True)
    assert "指標の表" in str(failure.value) and "指標の計算に失敗（テスト）" in str(failure.value)
    assert _digest(target) == before
    assert not list(tmp_path.glob(".dashboard.duckdb.building-*"))
