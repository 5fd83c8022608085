"""Change between rounds and snapshots: signs follow polarity, improved / stalled / regressed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from metrics_fixtures import (
    DA_INDICATORS,
    WAKAYAMA,
    answers_for,
    fill,
    indicator_rows,
    municipality_rows,
    new_store,
    questions_grid,
    rounds_frame,
)

from metrics.change import assessment_change, classify, composite_change, default_rounds, indicator_change

CODES = [code for code, *_ in WAKAYAMA]


def test_classify_with_tolerance():
    change = pd.Series([10.0, 5.0, 0.0, -5.0, -5.1, np.nan])
    assert classify(change, 5.0).tolist() == [
        "improved",
        "stalled",
        "stalled",
        "stalled",
        "regressed",
        "not_comparable",
    ]
    assert classify(pd.Series([0.0, 1.0, -1.0]), 0.0).tolist() == ["stalled", "improved", "regressed"]


def _survey_store():
    questions = questions_grid(per_cell=5)
    con = new_store()
    fill(
        con,
        municipalities=municipality_rows(WAKAYAMA),
        questions=questions,
        survey_rounds=rounds_frame("2026-baseline", "2026-evaluation"),
    )
    yes = np.array([int(q.id[-2:]) for q in questions.itertuples()])
    plans = {  # code: (baseline yes-count per cell, evaluation yes-count per cell)
        "302015": (1, 4),  # improves
        "302023": (3, 3),  # stalls
        "302031": (4, 1),  # regresses
        "303810": (2, None),  # did not answer the evaluation
    }
    frames = []
    for code, (before, after) in plans.items():
        frames.append(answers_for(code, "2026-baseline", questions, (yes < before).astype(float)))
        if after is not None:
            frames.append(answers_for(code, "2026-evaluation", questions, (yes < after).astype(float)))
    return fill(con, survey_answers=pd.concat(frames))


def test_assessment_change_baseline_to_evaluation():
    con = _survey_store()
    assert default_rounds(con) == ("2026-baseline", "2026-evaluation")
    overall = assessment_change(con).query("level == 'overall'").set_index("code")
    assert overall.loc["302015", "change"] == pytest.approx(60.0) and overall.loc["302015", "trend_label"] == "改善"
    assert overall.loc["302023", "change"] == 0 and overall.loc["302023", "trend_label"] == "停滞"
    assert overall.loc["302031", "trend"] == "regressed"
    # no sheet in the evaluation round: 未回答, counted rather than dropped
    assert overall.loc["303810", "trend_label"] == "未回答" and pd.isna(overall.loc["303810", "eval_score"])
    cells = assessment_change(con).query("code == '302015' and level == 'cell'")
    assert len(cells) == 16 and (cells["change"] == 60).all()
    lenient = assessment_change(con, tolerance=70).query("level == 'overall'")
    assert set(lenient.dropna(subset=["change"])["trend"]) == {"stalled"}


def test_every_municipality_of_a_surveyed_prefecture_is_counted():
    """和歌山県 in the fixture: 5 municipalities, 北山村 answered neither round and 美浜町 not the
    evaluation — both 未回答, so the trends add up to the prefecture (issue: 30 団体 vs 29)."""
    con = _survey_store()
    overall = assessment_change(con).query("level == 'overall'").set_index("code")
    assert sorted(overall.index) == sorted(CODES)
    assert overall["trend_label"].value_counts().to_dict() == {"改善": 1, "停滞": 1, "後退": 1, "未回答": 2}
    assert overall.loc["304271", "trend_label"] == "未回答" and pd.isna(overall.loc["304271", "base_score"])
    stage = assessment_change(con).query("level == 'stage' and stage == 0")
    assert len(stage) == len(CODES)


def test_one_round_gives_no_change():
    con = new_store()
    fill(con, survey_rounds=rounds_frame("2026-baseline"))
    assert default_rounds(con) == (None, None)
    assert assessment_change(con).empty


def _indicator_store(base: list[float | None], later: list[float | None], polarity: str):
    con = new_store()
    frames = []
    for as_of, values in (("2025-04-01", base), ("2026-04-01", later)):
        frames.append(
            pd.DataFrame(
                {
                    "code": CODES,
                    "indicator_id": "da_mynumber_card",
                    "value": values,
                    "source": "digital_agency_municipal",
                    "as_of": pd.Timestamp(as_of),
                }
            )
        )
    fill(
        con,
        municipalities=municipality_rows(WAKAYAMA),
        indicators=indicator_rows(da_mynumber_card={"polarity": polarity}),
        indicator_values=pd.concat(frames),
    )
    return con


percents = st.lists(st.one_of(st.none(), st.floats(0, 100, allow_nan=False)), min_size=5, max_size=5)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=percents, later=percents, polarity=st.sampled_from(["higher_is_better", "lower_is_better"]))
def test_indicator_change_sign_follows_polarity(base, later, polarity):
    table = indicator_change(_indicator_store(base, later, polarity)).set_index("code").loc[CODES]
    raw = pd.Series(later, index=CODES, dtype=float) - pd.Series(base, index=CODES, dtype=float)
    expected = raw if polarity == "higher_is_better" else -raw
    assert np.allclose(table["change"].to_numpy(dtype=float), expected.to_numpy(), equal_nan=True)
    assert (table.loc[expected > 1, "trend"] == "improved").all()  # tolerance for percent: 1 point
    assert (table.loc[expected < -1, "trend"] == "regressed").all()
    assert (table.loc[expected.isna(), "trend"] == "not_comparable").all()


def test_indicator_change_needs_two_snapshots_and_skips_neutral():
    con = new_store()
    one = pd.DataFrame(
        {
            "code": CODES,
            "indicator_id": "da_cio",
            "value": 1.0,
            "source": "digital_agency_municipal",
            "as_of": pd.Timestamp("2026-04-01"),
        }
    )
    fill(con, municipalities=municipality_rows(WAKAYAMA), indicators=indicator_rows(), indicator_values=one)
    assert indicator_change(con).empty
    con = _indicator_store([50] * 5, [60] * 5, "neutral")
    assert indicator_change(con).empty


def test_composite_change_between_snapshots():
    con = new_store()
    frames = []
    for as_of, binary, percent in (("2025-04-01", 0.0, 40.0), ("2026-04-01", 1.0, 40.0)):
        for ident, _title, kind, *_ in DA_INDICATORS:
            frames.append(
                pd.DataFrame(
                    {
                        "code": CODES,
                        "indicator_id": ident,
                        "value": binary if kind == "binary" else percent,
                        "source": "digital_agency_municipal",
                        "as_of": pd.Timestamp(as_of),
                    }
                )
            )
    fill(
        con, municipalities=municipality_rows(WAKAYAMA), indicators=indicator_rows(), indicator_values=pd.concat(frames)
    )
    result = composite_change(con).query("pillar == '総合'").set_index("code")
    assert result.loc["302015", "base_score"] == pytest.approx(10.0)
    assert result.loc["302015", "eval_score"] == pytest.approx(85.0)
    assert (result["trend_label"] == "改善").all()
