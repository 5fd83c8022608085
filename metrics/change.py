"""Change between survey rounds and indicator snapshots, classified improved / stalled / regressed."""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import numpy as np
import pandas as pd

from metrics.assessment import load_questionnaire, rounds, surveyed_prefectures
from metrics.filters import Filter, select_municipalities, selected_codes
from metrics.query import isin, run
from metrics.rules import PriorityRules, load_priority_rules
from metrics.snapshots import snapshot_dates
from metrics.tables import stored_assessment, stored_composite

TRENDS = {
    "improved": "改善",
    "stalled": "停滞",
    "regressed": "後退",
    "not_comparable": "比較不可",
    "not_answered": "未回答",
}
KEYS = ["code", "level", "stage", "stage_name", "field"]
CHANGE_COLUMNS = KEYS + ["base_round", "eval_round", "base_score", "eval_score", "change", "trend", "trend_label"]


def classify(change: pd.Series, tolerance: float | pd.Series) -> pd.Series:
    """'improved' when change > tolerance, 'regressed' when change < −tolerance, 'stalled' in
    between (inclusive), 'not_comparable' when the change is missing. ``change`` must already be
    signed so that positive is better."""
    tol = np.asarray(tolerance, dtype=float)
    values = change.to_numpy(dtype=float)
    trend = np.select(
        [np.isnan(values), values > tol, values < -tol], ["not_comparable", "improved", "regressed"], "stalled"
    )
    return pd.Series(trend, index=change.index, dtype="string")


def default_rounds(con: duckdb.DuckDBPyConnection) -> tuple[str | None, str | None]:
    """(base, evaluation): the first round of kind 'baseline' (else the earliest) and the newest
    other round; (None, None) with fewer than two rounds."""
    known = rounds(con)
    if len(known) < 2:
        return None, None
    baselines = known[known["kind"] == "baseline"]
    base = (baselines if len(baselines) else known)["round_id"].iloc[0]
    later = known[known["round_id"] != base]
    return base, later["round_id"].iloc[-1]


def assessment_change(
    con: duckdb.DuckDBPyConnection,
    flt: Filter | None = None,
    base_round: str | None = None,
    eval_round: str | None = None,
    tolerance: float | None = None,
    rules: PriorityRules | None = None,
    scores: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Score change per municipality × level (cell / stage / field / overall) from ``base_round``
    to ``eval_round`` (default: ``default_rounds``) — 和歌山's outcome measure.

    Columns: code, level, stage, stage_name, field, base_round, eval_round, base_score,
    eval_score (0–100), change (eval − base, score points; assessment scores are higher-is-better),
    trend ('improved' / 'stalled' / 'regressed' / 'not_comparable' / 'not_answered'), trend_label
    (改善 / 停滞 / 後退 / 比較不可 / 未回答). |change| ≤ ``tolerance`` (default change_tolerance.assessment of
    priority_rules.yaml) is stalled. A municipality with no sheet in one of the rounds appears with
    that score NULL and trend not_answered (未回答), and so does one of a surveyed prefecture that
    returned no sheet in either round; a sheet whose score cannot be computed is not_comparable.
    ``scores`` may pass an ``assessment_scores`` result (for the same selection) that contains both rounds.
    """
    if base_round is None or eval_round is None:
        default_base, default_eval = default_rounds(con)
        base_round, eval_round = base_round or default_base, eval_round or default_eval
    if base_round is None or eval_round is None:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    rules = rules or load_priority_rules()
    tolerance = rules.change_tolerance.get("assessment", 0.0) if tolerance is None else tolerance
    if scores is None:
        scores = stored_assessment(con, flt, round_ids=[base_round, eval_round])
    # only the key and score columns are copied (the score table has ~10⁵ rows)
    in_base, in_eval = scores["round_id"] == base_round, scores["round_id"] == eval_round
    base = scores.loc[in_base, KEYS + ["score"]].set_index(KEYS)["score"].rename("base_score")
    evaluation = scores.loc[in_eval, KEYS + ["score"]].set_index(KEYS)["score"].rename("eval_score")
    result = pd.concat([base, evaluation], axis=1).reset_index()
    # municipalities of a surveyed prefecture that returned no sheet in either round: listed, as 未回答
    chosen = select_municipalities(con, flt)
    surveyed = set(chosen.loc[chosen["pref_code"].isin(surveyed_prefectures(con)), "code"])
    # unique() before set() and metrics.query.isin: iterating an Arrow-backed column of ~10⁵ codes one
    # by one (set(), Series.isin) took ~0.1 s of all_metrics
    returned_base, returned_eval = scores.loc[in_base, "code"].unique(), scores.loc[in_eval, "code"].unique()
    silent = sorted(surveyed - set(returned_base) - set(returned_eval))
    if silent:
        questionnaire = load_questionnaire()
        parts = (
            [("overall", pd.NA, pd.NA, pd.NA)]
            + [("stage", s, n, pd.NA) for s, n in sorted(questionnaire.stages.items())]
            + [("field", pd.NA, pd.NA, f) for f in questionnaire.fields]
        )
        blank = pd.DataFrame(
            [
                {"code": c, "level": lv, "stage": st, "stage_name": sn, "field": fd}
                for c in silent
                for lv, st, sn, fd in parts
            ]
        )
        blank["stage"] = blank["stage"].astype("Int64")
        result = pd.concat([result, blank], ignore_index=True)
    result["base_round"], result["eval_round"] = base_round, eval_round
    result["change"] = result["eval_score"] - result["base_score"]
    result["trend"] = classify(result["change"], tolerance)
    # no sheet at all in one of the rounds (not just a score that cannot be computed): 未回答
    silent_in_one = ~isin(result["code"], returned_base) | ~isin(result["code"], returned_eval)
    result.loc[silent_in_one, "trend"] = "not_answered"
    result["trend_label"] = result["trend"].map(TRENDS)
    return result[CHANGE_COLUMNS].sort_values(["code", "level", "stage", "field"], ignore_index=True)


def indicator_change(
    con: duckdb.DuckDBPyConnection,
    flt: Filter | None = None,
    indicator_ids: Iterable[str] | None = None,
    base_as_of: str | None = None,
    eval_as_of: str | None = None,
    rules: PriorityRules | None = None,
) -> pd.DataFrame:
    """Change of indicator values between two snapshots (default: each indicator's first and newest
    as-of date; a value is the newest on or before the date). Indicators with a single snapshot
    give no rows. Neutral / category / component indicators are left out.

    Columns: code, indicator_id, title, short_title, unit, kind, polarity, pillar, base_as_of,
    eval_as_of, base_value, eval_value (catalog unit), change (signed by polarity: positive =
    better; percentage points for %), trend, trend_label. |change| ≤ change_tolerance[kind] of
    priority_rules.yaml is stalled; a missing value on either side is not_comparable.
    """
    rules = rules or load_priority_rules()
    result = run(
        con,
        "indicator_change",
        {
            "codes": selected_codes(con, flt),
            "indicator_ids": list(indicator_ids) if indicator_ids is not None else None,
            "base_as_of": base_as_of,
            "eval_as_of": eval_as_of,
        },
    )
    tolerance = result["kind"].map(rules.change_tolerance).fillna(0.0)
    result["trend"] = classify(result["change"], tolerance)
    result["trend_label"] = result["trend"].map(TRENDS)
    return result


def composite_change(
    con: duckdb.DuckDBPyConnection,
    flt: Filter | None = None,
    base_as_of: str | None = None,
    eval_as_of: str | None = None,
    tolerance: float | None = None,
    rules: PriorityRules | None = None,
) -> pd.DataFrame:
    """Change of the composite and its pillars (0–100) between two snapshots (default: the
    previous and the newest デジタル庁 snapshot), read from the composite_scores table. Columns:
    code, pillar, base_as_of, eval_as_of, base_score, eval_score, change, trend, trend_label;
    tolerance default change_tolerance.assessment (score points). A missing pillar/composite is
    not_comparable."""
    rules = rules or load_priority_rules()
    if base_as_of is None or eval_as_of is None:
        dates = snapshot_dates(con)
        eval_as_of = eval_as_of or (dates[-1] if dates else None)
        earlier = [day for day in dates if eval_as_of is not None and day < eval_as_of]
        base_as_of = base_as_of or (earlier[-1] if earlier else None)
    columns = [
        "code",
        "pillar",
        "base_as_of",
        "eval_as_of",
        "base_score",
        "eval_score",
        "change",
        "trend",
        "trend_label",
    ]
    if base_as_of is None or eval_as_of is None or base_as_of >= eval_as_of:
        return pd.DataFrame(columns=columns)
    tolerance = rules.change_tolerance.get("assessment", 0.0) if tolerance is None else tolerance
    base = stored_composite(con, flt, as_of=base_as_of).set_index(["code", "pillar"])["score"].rename("base_score")
    evaluation = (
        stored_composite(con, flt, as_of=eval_as_of).set_index(["code", "pillar"])["score"].rename("eval_score")
    )
    result = pd.concat([base, evaluation], axis=1).reset_index()
    result["base_as_of"], result["eval_as_of"] = base_as_of, eval_as_of
    result["change"] = result["eval_score"] - result["base_score"]
    result["trend"] = classify(result["change"], tolerance)
    result["trend_label"] = result["trend"].map(TRENDS)
    return result[columns]
