"""Peer groups and "similar municipalities" (k nearest neighbours on size and scores)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from metrics.assessment import assessment_scores, latest_rounds, rounds
from metrics.composite import composite
from metrics.definitions import COMPOSITE
from metrics.filters import Filter, select_municipalities
from metrics.query import isin

PEER_KINDS = {
    "pop_band": "人口規模（同じ人口規模区分）",
    "type": "団体区分（同じ区分）",
    "prefecture": "都道府県（同じ都道府県）",
    "region": "地域（同じ地域区分）",
    "similar": "類似団体（人口と得点が近い団体）",
}
FEATURES = {
    "log_population": "人口（常用対数）",
    "composite": "デジタル庁指標の総合得点",
    "assessment": "アセスメント総合得点（最新の回）",
}
# what similar_municipalities returns, in this order
SIMILAR_COLUMNS = ["code", "rank", "peer_code", "peer_name", "peer_pref_name", "distance", "features_used"]


def similarity_features(
    con: duckdb.DuckDBPyConnection,
    round_id: str | None = None,
    composite_scores: pd.DataFrame | None = None,
    scores: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per municipality (all 1,741, code order): code, name, pref_name, log_population
    (log10 of population), composite (0–100), assessment (overall score 0–100 of ``round_id``, or
    of each municipality's newest round). NULL where the measure is missing.
    ``composite_scores`` / ``scores`` may pass national results already computed."""
    frame = select_municipalities(con)[["code", "name", "pref_name", "population"]]
    frame["log_population"] = np.log10(frame["population"].where(frame["population"] > 0).astype(float))
    composite_scores = composite_scores if composite_scores is not None else composite(con)
    overall = composite_scores[composite_scores["pillar"] == COMPOSITE].set_index("code")["score"]
    frame["composite"] = frame["code"].map(overall)
    scores = scores if scores is not None else assessment_scores(con, round_ids=[round_id] if round_id else None)
    totals = scores.loc[scores["level"] == "overall", ["code", "round_id", "score"]]
    if round_id:
        totals = totals[totals["round_id"] == round_id]
    else:
        totals = latest_rounds(totals, rounds(con)["round_id"].tolist())
    frame["assessment"] = frame["code"].map(totals.set_index("code")["score"])
    return frame.drop(columns="population")


def similar_municipalities(
    con: duckdb.DuckDBPyConnection,
    flt: Filter | None = None,
    k: int = 5,
    candidates: Filter | None = None,
    round_id: str | None = None,
    features: tuple[str, ...] = tuple(FEATURES),
    feature_frame: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The ``k`` most similar municipalities for each municipality selected by ``flt``.

    Features (``FEATURES``) are standardised (z-scores over all municipalities that have them, so
    a result does not depend on the filter); the distance is Euclidean over the features the
    target municipality has, and a candidate needs all of those. Candidates come from
    ``candidates`` (default: the whole country), never the municipality itself. Ties are broken by
    the lower code, so the result is deterministic.
    Columns: code, rank (1 = most similar), peer_code, peer_name, peer_pref_name, distance,
    features_used (Japanese, ' / '-joined). A municipality without any feature gets no rows.
    """
    data = feature_frame if feature_frame is not None else similarity_features(con, round_id)
    data = data.sort_values("code", ignore_index=True)
    # a measure nobody has (e.g. no assessment round loaded yet) cannot be standardised: left out
    features = tuple(f for f in features if data[f].notna().any())
    values = data[list(features)].to_numpy(dtype=float)
    spread = np.nanstd(values, axis=0)
    z = (values - np.nanmean(values, axis=0)) / np.where(spread > 0, spread, 1.0)
    codes = data["code"].to_numpy()
    is_target = (
        isin(data["code"], select_municipalities(con, flt)["code"]).to_numpy()
        if flt is not None
        else np.ones(len(data), dtype=bool)
    )
    in_pool = (
        isin(data["code"], select_municipalities(con, candidates)["code"]).to_numpy()
        if candidates is not None
        else np.ones(len(data), dtype=bool)
    )
    present = ~np.isnan(z)
    parts = []  # per feature pattern: code, rank, peer_code, distance, features_used (arrays)
    for pattern in {tuple(p) for p in present[is_target]}:
        used = np.array(pattern)
        if not used.any():
            continue
        target_idx = np.flatnonzero(is_target & (present == used).all(axis=1))
        cand_idx = np.flatnonzero(in_pool & present[:, used].all(axis=1))
        if not len(cand_idx):
            continue
        # Σ over the used features of the squared differences, accumulated in place (the target ×
        # candidate matrices are 1,741² for the whole country)
        squared = None
        for f in np.flatnonzero(used):
            step = np.subtract.outer(z[target_idx, f], z[cand_idx, f])
            np.square(step, out=step)
            squared = step if squared is None else np.add(squared, step, out=squared)
        # rounded so that float noise cannot decide a tie, then a tie-break far below the rounding
        # step that favours the lower code (candidates are in code order)
        distance = np.round(np.sqrt(squared, out=squared), 9, out=squared)
        own = np.minimum(np.searchsorted(cand_idx, target_idx), len(cand_idx) - 1)
        is_own = cand_idx[own] == target_idx
        distance[np.flatnonzero(is_own), own[is_own]] = np.inf
        ordered = distance + np.arange(len(cand_idx)) * 1e-13
        take = min(k, len(cand_idx))
        nearest = (
            np.argpartition(ordered, take - 1, axis=1)[:, :take]
            if take < len(cand_idx)
            else np.tile(np.arange(len(cand_idx)), (len(target_idx), 1))
        )
        nearest = np.take_along_axis(nearest, np.argsort(np.take_along_axis(ordered, nearest, axis=1), axis=1), axis=1)
        picked = np.take_along_axis(distance, nearest, axis=1)
        finite = np.isfinite(picked).ravel()
        label = " / ".join(FEATURES[f] for f, u in zip(features, used) if u)
        parts.append(
            (
                np.repeat(codes[target_idx], nearest.shape[1])[finite],
                np.tile(np.arange(1, nearest.shape[1] + 1), len(target_idx))[finite],
                codes[cand_idx[nearest.ravel()]][finite],
                picked.ravel()[finite],
                np.full(int(finite.sum()), label, dtype=object),
            )
        )
    columns = ["code", "rank", "peer_code", "distance", "features_used"]
    if sum(len(part[0]) for part in parts):
        result = pd.DataFrame({name: np.concatenate([part[i] for part in parts]) for i, name in enumerate(columns)})
    else:
        result = pd.DataFrame([], columns=columns)
    names = data.set_index("code")[["name", "pref_name"]].rename(
        columns={"name": "peer_name", "pref_name": "peer_pref_name"}
    )
    result = result.join(names, on="peer_code")
    return result[SIMILAR_COLUMNS].sort_values(["code", "rank"], ignore_index=True)
