"""Assessment scores (stage × field, totals) and maturity levels."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from metrics_fixtures import (
    FIELDS,
    WAKAYAMA,
    answers_for,
    fill,
    municipality_rows,
    new_store,
    questions_grid,
    rounds_frame,
)

from metrics.assessment import assessment_scores, maturity, round_returns, rounds, score_matrix
from metrics.definitions import load_questionnaire
from metrics.filters import Filter
from store.paths import DATA_DIR

# 和歌山県「アセスメントシートの分野と段階のイメージ」: stages (rows) × fields (columns)
WAKAYAMA_MATRIX = [[5, 3, 2, 1], [4, 2, 3, 0], [3, 0, 1, 1], [2, 1, 1, 1]]


def _store(questions: pd.DataFrame, answers: pd.DataFrame, stage_scores: pd.DataFrame | None = None):
    con = new_store()
    fill(
        con,
        municipalities=municipality_rows(WAKAYAMA),
        questions=questions,
        survey_rounds=rounds_frame("2026-baseline", "2026-evaluation"),
    )
    fill(con, survey_answers=answers)
    if stage_scores is not None:
        fill(con, survey_stage_scores=stage_scores)
    return con


def _wakayama_answers(questions: pd.DataFrame) -> list[float]:
    """Yes to the first n questions of each cell, n = the seed's points."""
    values = []
    for q in questions.itertuples():
        n = WAKAYAMA_MATRIX[q.stage][FIELDS.index(q.field)]
        values.append(1.0 if int(q.id[-2:]) < n else 0.0)
    return values


def test_wakayama_points_matrix_gives_the_column_sums_14_6_7_3():
    questions = questions_grid(per_cell=5)
    con = _store(questions, answers_for("302015", "2026-baseline", questions, _wakayama_answers(questions)))
    matrix = score_matrix(assessment_scores(con), "302015", "2026-baseline", "points")
    assert matrix.loc["計", FIELDS].tolist() == [14, 6, 7, 3]  # 点数による支援分類 (和歌山県's assessment sheet)
    assert matrix.iloc[:4][FIELDS].to_numpy().tolist() == WAKAYAMA_MATRIX
    assert matrix["計"].tolist() == [11, 9, 5, 5, 30]
    maxima = score_matrix(assessment_scores(con), "302015", "2026-baseline", "max_points")
    assert maxima.loc["計", "計"] == 80 and (maxima.iloc[:4][FIELDS] == 5).all().all()


def test_totals_are_sums_over_the_larger_set_not_means_of_cells():
    questions = questions_grid(per_cell=2)
    questions.loc[questions["field"] == "DX全般", "points"] = 3.0  # unequal cell weights
    values = [1.0 if q.field == "DX全般" else 0.0 for q in questions.itertuples()]
    con = _store(questions, answers_for("302015", "2026-baseline", questions, values))
    scores = assessment_scores(con)
    stage0 = scores[(scores["level"] == "stage") & (scores["stage"] == 0)].iloc[0]
    assert stage0["points"] == 6 and stage0["max_points"] == 12
    assert stage0["score"] == pytest.approx(50.0)  # mean of the four cells would be 25
    overall = scores[scores["level"] == "overall"].iloc[0]
    assert overall["score"] == pytest.approx(100 * 24 / 48)


def test_unanswered_questions_earn_nothing_but_count_in_coverage():
    questions = questions_grid(per_cell=2)
    values = [None if i % 2 else 1.0 for i in range(len(questions))]
    con = _store(questions, answers_for("302015", "2026-baseline", questions, values))
    overall = assessment_scores(con).query("level == 'overall'").iloc[0]
    assert overall["n_items"] == 32 and overall["answered"] == 16
    assert overall["coverage"] == pytest.approx(0.5)
    assert overall["score"] == pytest.approx(50.0)


def test_missing_answer_rows_and_text_questions():
    questions = questions_grid(per_cell=1)
    text = pd.DataFrame(
        [
            {
                "id": "FREE-01",
                "stage": 0,
                "field": "DX全般",
                "text": "自由記述",
                "answer_type": "text",
                "choices": None,
                "points": 0.0,
            }
        ]
    )
    all_questions = pd.concat([questions, text], ignore_index=True)
    # only 4 of the 16 scorable questions have a row at all; the text answer is never scored
    answers = answers_for("302015", "2026-baseline", questions.iloc[:4], [1.0] * 4)
    answers = pd.concat(
        [
            answers,
            pd.DataFrame(
                [
                    {
                        "code": "302015",
                        "round_id": "2026-baseline",
                        "question_id": "FREE-01",
                        "answer": "何か",
                        "value": None,
                    }
                ]
            ),
        ]
    )
    con = _store(all_questions, answers)
    overall = assessment_scores(con).query("level == 'overall'").iloc[0]
    assert overall["n_items"] == 16 and overall["answered"] == 4 and overall["score"] == pytest.approx(25.0)


def test_prescored_sheets_are_stage_totals_and_answers_win():
    questions = questions_grid(per_cell=1)
    answers = answers_for("302015", "2026-baseline", questions, [1.0] * 16)
    stage_scores = pd.DataFrame(
        {
            "code": ["302023"] * 4 + ["302015"] * 4,
            "round_id": "2026-baseline",
            "stage": [0, 1, 2, 3] * 2,
            "score": [15, 30, None, 24, 0, 0, 0, 0],
            "max_points": [None, 30, 30, None] + [30] * 4,
        }
    )
    con = _store(questions, answers, stage_scores)
    scores = assessment_scores(con, prescored_max_points={0: 25, 1: 30, 2: 30, 3: 30})
    sheet = scores[scores["code"] == "302023"]
    assert set(sheet["basis"]) == {"stage_scores"} and set(sheet["level"]) == {"stage", "overall"}
    stages = sheet[sheet["level"] == "stage"].set_index("stage")
    assert stages.loc[0, "max_points"] == 25 and stages.loc[0, "score"] == pytest.approx(60.0)
    assert pd.isna(stages.loc[2, "score"])  # a blank STEP stays missing
    overall = sheet[sheet["level"] == "overall"].iloc[0]
    assert overall["points"] == 69 and overall["max_points"] == 115 and overall["answered"] == 3
    # the same municipality × round answered question by question: the answers are used
    assert set(scores[scores["code"] == "302015"]["basis"]) == {"answers"}
    # a sheet counts once per municipality, answered or pre-scored (and both)
    returned = round_returns(con).set_index("round_id")["municipalities"]
    assert returned.get("2026-baseline") == 2 and list(returned.index) == rounds(con)["round_id"].tolist()


def test_filter_and_round_selection():
    questions = questions_grid(per_cell=1)
    answers = pd.concat(
        [
            answers_for(code, round_id, questions, [1.0] * 16)
            for code in ("302015", "303810")
            for round_id in ("2026-baseline", "2026-evaluation")
        ]
    )
    con = _store(questions, answers)
    assert set(assessment_scores(con, Filter(types=("町",)))["code"]) == {"303810"}
    assert set(assessment_scores(con, round_ids=["2026-evaluation"])["round_id"]) == {"2026-evaluation"}
    assert assessment_scores(con, Filter(codes=("302031",))).empty


answer_values = st.lists(st.sampled_from([None, 0.0, 0.25, 0.5, 0.75, 1.0]), min_size=32, max_size=32)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=answer_values, points=st.lists(st.integers(0, 5), min_size=32, max_size=32), seed=st.integers(0, 10_000))
def test_scores_bounded_monotone_and_order_invariant(values, points, seed):
    questions = questions_grid(per_cell=2)
    questions["points"] = [float(p) for p in points]
    raised = list(values)
    raised[seed % len(values)] = 1.0
    # one store: the answers as given (302015), the same answers inserted in another order with
    # the questions shuffled too (302023), and one answer raised to 1 (302031)
    answers = pd.concat(
        [
            answers_for("302015", "2026-baseline", questions, values),
            answers_for("302023", "2026-baseline", questions, values).sample(frac=1.0, random_state=seed),
            answers_for("302031", "2026-baseline", questions, raised),
        ]
    )
    scores = assessment_scores(_store(questions.sample(frac=1.0, random_state=seed), answers))
    by_code = {
        code: frame.set_index(["level", "stage", "field"])["score"].sort_index()
        for code, frame in scores.groupby("code")
    }
    base = by_code["302015"]
    assert ((base.dropna() >= 0) & (base.dropna() <= 100)).all()
    pd.testing.assert_series_equal(by_code["302023"], base, check_names=False)
    both = pd.concat([base.rename("before"), by_code["302031"].rename("after")], axis=1).dropna()
    assert (both["after"] >= both["before"] - 1e-9).all()


def _stage_scores(values: list[float | None]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "code": "302015",
            "round_id": "r",
            "basis": "answers",
            "level": "stage",
            "stage": pd.array([0, 1, 2, 3], dtype="Int64"),
            "score": values,
        }
    )


@pytest.mark.parametrize(
    "scores, thresholds, level",
    [
        ([60, 55, 40, 90], None, 2),
        ([60, 55, 40, 90], [50, 60, 50, 50], 1),
        ([49.9, 100, 100, 100], None, 0),
        ([50, 50, 50, 50], None, 4),  # the threshold itself counts as reached
        ([80, None, 80, 80], None, 1),  # a stage without a score stops the level
        ([80, 80, 80, 10], [0, 0, 0, 0], 4),
    ],
)
def test_maturity_levels(scores, thresholds, level):
    result = maturity(_stage_scores(scores), thresholds).iloc[0]
    assert result["maturity"] == level
    assert result["maturity_label"].startswith(f"レベル{level}")
    if level < 4 and scores[level] is not None:
        limit = (thresholds or [50] * 4)[level]
        assert result["next_stage"] == level and result["next_gap"] == pytest.approx(limit - scores[level])


def test_maturity_thresholds_come_from_the_questionnaire(tmp_path, monkeypatch):
    # the committed questionnaire with other stage names and thresholds (the one reader validates all of it)
    text = (DATA_DIR / "questionnaire.yaml").read_text(encoding="utf-8")
    definition = tmp_path / "q.yaml"
    definition.write_text(
        re.sub(r"maturity_thresholds: \[[^\]]*\]", "maturity_thresholds: [70, 70, 70, 70]", text).replace(
            "name: 認識共有・機運醸成", "name: 段階0"
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("DX_QUESTIONNAIRE", str(definition))
    assert load_questionnaire().thresholds == (70, 70, 70, 70)
    result = maturity(_stage_scores([75, 65, 90, 90])).iloc[0]
    assert result["maturity"] == 1 and "段階0" in result["maturity_label"]
