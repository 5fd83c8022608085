"""Assessment-sheet scores (4 stages × 4 fields) and the maturity level derived from them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import duckdb
import numpy as np
import pandas as pd

from metrics.definitions import Questionnaire, load_questionnaire
from metrics.filters import Filter, select_municipalities, selected_codes
from metrics.query import run
from metrics.rules import load_priority_rules

LEVELS = ("cell", "stage", "field", "overall")


def rounds(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Survey rounds in time order. Columns: round_id, label, kind (baseline/evaluation/other),
    held_on, synthetic."""
    return run(con, "rounds", {})


def round_returns(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """How many municipalities returned a sheet in each round (round_id, municipalities), in the
    order of ``rounds``. A scan of every answer: 0.5 s at 16× the data, so not part of ``rounds``."""
    return run(con, "round_returns", {})


NOT_ANSWERED = "未回答"


def surveyed_prefectures(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Prefecture codes ('30') with at least one returned sheet in any round: their municipalities
    without a sheet in a round are 未回答 in it (a municipality elsewhere was never asked)."""
    return set(run(con, "surveyed_prefectures", {})["pref_code"].tolist())


def unanswered_codes(con: duckdb.DuckDBPyConnection, scores: pd.DataFrame, flt: Filter | None = None) -> list[str]:
    """Selected municipalities of surveyed prefectures with no sheet in ``scores`` (one round's, or
    each municipality's newest): 未回答, counted and drawn as such rather than dropped."""
    chosen = select_municipalities(con, flt)
    surveyed = chosen[chosen["pref_code"].isin(surveyed_prefectures(con))]
    return sorted(set(surveyed["code"]) - set(scores["code"]))


def assessment_scores(
    con: duckdb.DuckDBPyConnection,
    flt: Filter | None = None,
    round_ids: Iterable[str] | None = None,
    prescored_max_points: dict[int, float] | None = None,
    questionnaire: Questionnaire | None = None,
) -> pd.DataFrame:
    """Scores of every returned assessment sheet of the selected municipalities.

    One row per code × round_id × level, level being
      'cell'    (stage × field), 'stage' (stage total), 'field' (field total), 'overall'.
    Columns: code, round_id, basis ('answers' = scored from survey_answers, 'stage_scores' =
    an already-scored sheet from survey_stage_scores: stage and overall rows only), level, stage
    (0–3, NULL for field/overall rows), stage_name, field (NULL for stage/overall rows), points
    (Σ points × answer share), max_points (Σ points), score (0–100 = 100 × points / max_points;
    NULL when max_points is 0 or unknown), n_items (scorable questions, or stages of a pre-scored
    sheet), answered (how many of them have an answer), coverage (answered / n_items, 0–1).

    Missing answers: an unanswered question earns 0 points but stays in max_points, so the score
    is "share of the attainable points reached"; ``coverage`` shows how much was actually answered.
    A pre-scored sheet without max points uses ``prescored_max_points`` (default: priority_rules.yaml).
    Text questions are not scored.
    """
    questionnaire = questionnaire or load_questionnaire()
    maxima = prescored_max_points if prescored_max_points is not None else load_priority_rules().prescored_max_points
    stages = sorted(maxima)
    scores = run(
        con,
        "assessment_scores",
        {
            "codes": selected_codes(con, flt),
            "round_ids": list(round_ids) if round_ids is not None else None,
            "prescored_stages": stages,
            "prescored_max_points": [float(maxima[s]) for s in stages],
        },
    )
    scores["stage"] = scores["stage"].astype("Int64")
    scores.insert(5, "stage_name", scores["stage"].map(questionnaire.stages).astype("string"))
    scores["coverage"] = scores["answered"] / scores["n_items"].where(scores["n_items"] > 0)
    return scores


def score_matrix(
    scores: pd.DataFrame, code: str, round_id: str, value: str = "points", questionnaire: Questionnaire | None = None
) -> pd.DataFrame:
    """The 和歌山-style table of one sheet: stages as rows, fields as columns, plus the field totals
    as the row 「計」 and the stage totals as the column 「計」 (the overall total where they meet).

    ``value`` is 'points', 'max_points' or 'score'. Totals are read from the stage/field/overall rows
    (sums over the larger set), so for 'score' they are not means of the cells.
    """
    questionnaire = questionnaire or load_questionnaire()
    sheet = scores[(scores["code"] == code) & (scores["round_id"] == round_id)]
    stage_index = [questionnaire.stages.get(s, f"STEP{s}") for s in sorted(questionnaire.stages)]
    cells = sheet[sheet["level"] == "cell"].pivot(index="stage", columns="field", values=value)
    cells = cells.reindex(index=sorted(questionnaire.stages), columns=list(questionnaire.fields))
    cells["計"] = sheet[sheet["level"] == "stage"].set_index("stage")[value].reindex(cells.index)
    cells.index = stage_index
    field_totals = sheet[sheet["level"] == "field"].set_index("field")[value]
    overall = sheet.loc[sheet["level"] == "overall", value]
    totals = field_totals.reindex(list(questionnaire.fields)).tolist() + [overall.iloc[0] if len(overall) else np.nan]
    cells.loc["計"] = totals
    cells.index.name = "段階"
    cells.columns.name = "分野"
    return cells


def maturity(
    scores: pd.DataFrame, thresholds: Sequence[float] | None = None, questionnaire: Questionnaire | None = None
) -> pd.DataFrame:
    """Maturity level 0–4 per code × round_id from the stage rows of ``assessment_scores``.

    A stage s is reached when its score (0–100) ≥ thresholds[s] (default: the questionnaire's
    maturity_thresholds); the level is the number of consecutive stages reached from stage 0.
    A stage without a score is not reached (so the level stops there) and is counted in
    ``missing_stages``. Columns: code, round_id, basis, maturity (int 0–4), maturity_label,
    next_stage (the first stage not reached; NULL at level 4), next_gap (threshold − score of that
    stage, points; NULL when it has no score), missing_stages.
    """
    questionnaire = questionnaire or load_questionnaire()
    limits = list(thresholds) if thresholds is not None else list(questionnaire.thresholds)
    stage_ids = sorted(questionnaire.stages)
    if len(limits) != len(stage_ids):
        raise ValueError(f"thresholds needs {len(stage_ids)} values, got {len(limits)}")
    stage_rows = scores.loc[scores["level"] == "stage", ["code", "round_id", "basis", "stage", "score"]]
    wide = stage_rows.pivot_table(
        index=["code", "round_id", "basis"], columns="stage", values="score", aggfunc="first", dropna=False
    )
    wide = wide.reindex(columns=stage_ids)
    values = wide.to_numpy(dtype=float)
    reached = values >= np.asarray(limits, dtype=float)  # NaN compares False: not reached
    level = np.where(reached.all(axis=1), len(stage_ids), np.argmin(reached, axis=1))
    result = wide.index.to_frame(index=False)
    result["maturity"] = level.astype(int)
    labels = {n: _maturity_label(n, questionnaire) for n in range(len(stage_ids) + 1)}
    result["maturity_label"] = [labels[n] for n in level.tolist()]
    next_stage = pd.array([stage_ids[n] if n < len(stage_ids) else pd.NA for n in level], dtype="Int64")
    result["next_stage"] = next_stage
    # threshold − score of the first stage not reached (NaN at the top level), without a row loop
    gap = np.full(len(level), np.nan)
    open_rows = np.flatnonzero(level < len(stage_ids))
    gap[open_rows] = np.asarray(limits, dtype=float)[level[open_rows]] - values[open_rows, level[open_rows]]
    result["next_gap"] = gap.tolist()
    result["missing_stages"] = np.isnan(values).sum(axis=1).astype(int)
    return result


def _maturity_label(level: int, questionnaire: Questionnaire) -> str:
    if level == 0:
        return f"レベル0（{questionnaire.stage_label(0)} 未到達）"
    return f"レベル{level}（{questionnaire.stage_label(level - 1)} まで到達）"


def latest_rounds(scores: pd.DataFrame, round_order: Sequence[str]) -> pd.DataFrame:
    """Only each municipality's newest round (by ``round_order``, oldest first) of ``scores``."""
    # each row's place in round_order (unknown or missing round: -1), via the few distinct round ids
    # rather than a Categorical of every row (the slow part on 10⁵ rows)
    round_codes, found = pd.factorize(scores["round_id"])
    place = {round_id: i for i, round_id in enumerate(round_order)}
    position = np.array([place.get(round_id, -1) for round_id in found] + [-1], dtype=np.int64)[round_codes]
    codes, _ = pd.factorize(scores["code"])
    newest = np.full(codes.max() + 1 if len(codes) else 0, -1, dtype=position.dtype)
    np.maximum.at(newest, codes, position)
    return scores[position == newest[codes]]


DEMO_ROUND_NOTE = "（デモ用の架空データ）"


def round_label(label: str) -> str:
    """A round's label as pages, decks and sentences show it: without the demo note (the demo
    banner says it), e.g. 「2026年度 評価（年度末）」."""
    return str(label).replace(DEMO_ROUND_NOTE, "").strip()


def round_labels(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """round_id → ``round_label`` of every round (ids are never shown to users; a round loaded
    without a label keeps its id)."""
    known = rounds(con)
    return {r: round_label(label) or r for r, label in zip(known["round_id"], known["label"].fillna(""))}
