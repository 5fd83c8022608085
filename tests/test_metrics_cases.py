"""Reference cases from seeds 002 and 003, and their matching to a municipality's weaknesses."""

from __future__ import annotations

import pandas as pd
import pytest
from metrics_fixtures import WAKAYAMA, answers_for, fill, municipality_rows, new_store, questions_grid, rounds_frame

from metrics.cases import match_cases, recommend_cases, reference_cases
from metrics.definitions import DEFAULT_FIELDS


@pytest.fixture(scope="module")
def cases() -> pd.DataFrame:
    return reference_cases()


def test_cases_are_complete_and_traceable(cases):
    assert len(cases) >= 20 and cases["id"].is_unique
    assert set(cases["stage"]) == {0, 1, 2, 3} and set(cases["field"]) <= set(DEFAULT_FIELDS)
    assert set(cases["body_kind"]) == {"municipality", "prefecture", "group"}
    assert cases["source"].str.match(r"総務省「").all() and cases["section"].str.contains(r"p\.\d+").all()
    assert (cases["population"] > 0).all() and cases["population_text"].str.contains("万人").all()
    assert set(cases[cases["source"].str.contains("地域社会DX事例集")]["body"]) >= {"宮城県", "山梨県", "出雲市"}


def test_codes_match_the_registry(cases, registry):
    singles = cases[cases["body_kind"] == "municipality"]
    for case in singles.itertuples():
        assert registry.by_pref_and_name(case.pref_name, case.body) == case.code, case.id
    prefectures = cases[cases["body_kind"] == "prefecture"]
    by_name = registry.prefectures.set_index("name")["code"]
    assert (prefectures["code"] == prefectures["pref_name"].map(by_name)).all()
    assert cases.loc[cases["body_kind"] == "group", "code"].isna().all()


def test_matching_prefers_the_field_then_the_size(cases):
    small_bpr = match_cases(cases, stage=2, field="BPR", population=20_000)
    assert small_bpr["case_id"].iloc[0] == "c002-p18a"  # 御船町 1.7万人, RPA in one department
    assert small_bpr["field_match"].iloc[0] and not small_bpr["field_match"].iloc[-1]
    big = match_cases(cases, stage=1, field=None, population=700_000, n=1)
    assert big["body"].tolist() == ["相模原市"]  # 71.8万人
    assert "prefecture" not in set(match_cases(cases, stage=2, population=2_000_000, n=50)["body_kind"])


def test_a_municipality_is_not_shown_its_own_case():
    questions = questions_grid(per_cell=1)
    specs = [("011002", "北海道", "札幌市", "政令市", 1_960_000)]
    con = new_store()
    fill(con, municipalities=municipality_rows(specs), questions=questions, survey_rounds=rounds_frame("2026-baseline"))
    values = [0.0 if q.stage == 2 and q.field == "データ利活用" else 1.0 for q in questions.itertuples()]
    fill(con, survey_answers=answers_for("011002", "2026-baseline", questions, values))
    result = recommend_cases(con, n=3)
    assert (result["weakest_stage"] == 2).all() and result["weakest_field"].iloc[0] == "データ利活用"
    assert "c002-p23a" not in set(result["case_id"])  # 札幌市's own case
    assert result["case_id"].iloc[0] == "c002-p24"  # the other STEP2 データ利活用 municipal case (瀬戸市)


def test_recommendations_follow_the_weakest_stage():
    questions = questions_grid(per_cell=1)
    con = new_store()
    fill(
        con,
        municipalities=municipality_rows(WAKAYAMA),
        questions=questions,
        survey_rounds=rounds_frame("2026-baseline"),
    )
    # 美浜町 (7,000人): everything yes except STEP1, and データ利活用 weakest among fields
    values = [
        0.0 if q.stage == 1 or (q.field == "データ利活用" and q.stage == 0) else 1.0 for q in questions.itertuples()
    ]
    fill(con, survey_answers=answers_for("303810", "2026-baseline", questions, values))
    result = recommend_cases(con, n=2)
    assert set(result["code"]) == {"303810"} and result["rank"].tolist() == [1, 2]
    assert (result["weakest_stage"] == 1).all() and (result["stage"] == 1).all()
    assert result["weakest_field"].iloc[0] == "データ利活用"
    # no STEP1 case is about データ利活用, so the nearest sizes win: 高根沢町 2.9万人, then 足利市 14.0万人
    assert result["body"].tolist() == ["高根沢町", "足利市"]
    assert result["reason"].iloc[0].startswith("最も弱いSTEP1（全体方針の決定）")
