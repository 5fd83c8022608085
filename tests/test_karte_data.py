"""The 市町村カルテ reads one municipality's assessment scores and support priority from the metric
tables the build writes (metrics.tables.stored_assessment / stored_priority) instead of computing
them again on every visit (issue 18: seconds at 16× data). What it reads must equal what the
metric functions compute for that municipality: every round, each round's judgement and the
newest one, for municipalities that answered and that were never asked (and any 未回答 one)."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from metrics.assessment import assessment_scores, rounds, surveyed_prefectures
from metrics.filters import Filter, select_municipalities
from metrics.priority import support_priority
from metrics.tables import stored_assessment, stored_priority


@pytest.fixture(scope="module", params=["demo_db", "real_db"])
def store(request):
    """The demo (two assessment rounds) and the real files (no survey: every municipality judged from
    the official indicators alone)."""
    con = duckdb.connect(str(request.getfixturevalue(request.param)), read_only=True)
    yield con
    con.close()


def sheets(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """round_id, code of every returned sheet: answered question by question or pre-scored."""
    query = "SELECT round_id, code FROM survey_answers UNION SELECT round_id, code FROM survey_stage_scores"
    return con.execute(query).df()


def karte_codes(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Municipalities of every kind the カルテ may show (the first and last of each group): with a
    sheet in a round, without one in a round of a surveyed prefecture (未回答), never surveyed."""
    everyone = select_municipalities(con)
    returned = sheets(con)
    surveyed = everyone[everyone["pref_code"].isin(surveyed_prefectures(con))]
    groups = [returned["code"].sort_values(), everyone.loc[~everyone.index.isin(surveyed.index), "code"]]
    for _, answered in returned.groupby("round_id"):
        groups.append(surveyed.loc[~surveyed["code"].isin(answered["code"]), "code"])
    codes = [code for group in groups if len(group) for code in (group.iloc[0], group.iloc[-1])]
    return list(dict.fromkeys(codes + ["281000"]))  # 神戸市: the default of the URL tests


def _missing_as_none(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(object).where(frame.notna(), None).reset_index(drop=True)


def test_the_codes_cover_answered_and_unsurveyed_municipalities(demo_db, real_db):
    # (neither store has a 未回答 municipality; karte_codes includes them where a store has)
    kinds = set()
    for path in (demo_db, real_db):
        con = duckdb.connect(str(path), read_only=True)
        try:
            returned, surveyed = sheets(con), surveyed_prefectures(con)
            for code in karte_codes(con):
                mine = returned[returned["code"] == code]
                if code[:2] not in surveyed:
                    kinds.add("never surveyed")
                elif len(mine):
                    kinds.add("answered")
                if code[:2] in surveyed and len(mine) < returned["round_id"].nunique():
                    kinds.add("未回答 in a round")
        finally:
            con.close()
    assert {"answered", "never surveyed"} <= kinds


def test_one_municipality_scores_read_from_the_table_equal_the_computed_ones(store):
    for code in karte_codes(store):
        stored = stored_assessment(store, Filter(codes=(code,)))
        assert_frame_equal(stored, assessment_scores(store, Filter(codes=(code,))))
        assert set(stored["code"]) <= {code}


def test_one_municipality_priority_read_from_the_table_equals_the_computed_one(store):
    round_ids = [*rounds(store)["round_id"], None]
    for code in karte_codes(store):
        for round_id in round_ids:
            # what the カルテ computed before: the national menu and the municipality's own prefecture's
            computed = support_priority(store, Filter(pref_code=code[:2], codes=(code,)), round_id)
            stored = stored_priority(store, Filter(codes=(code,)), round_id)
            assert len(stored) == 1, (code, round_id)
            assert_frame_equal(_missing_as_none(stored), _missing_as_none(computed))
