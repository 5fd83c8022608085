"""The national-indicator composite: デジタル庁 indicators → 0–1 → four pillars → one score."""

from __future__ import annotations

import duckdb
import pandas as pd

from metrics.definitions import COMPOSITE, PILLARS
from metrics.filters import Filter, selected_codes
from metrics.query import run
from metrics.snapshots import as_of_params


def composite_members(con: duckdb.DuckDBPyConnection, pillars: tuple[str, ...] = PILLARS) -> pd.DataFrame:
    """The catalog indicators the composite is made of (metrics/sql/composite_members.sql, the rule
    indicator_scores.sql includes). Columns: indicator_id, title, short_title, kind, polarity, pillar,
    weight, target."""
    return run(con, "composite_members", {"pillars": list(pillars)})


def indicator_scores(
    con: duckdb.DuckDBPyConnection,
    flt: Filter | None = None,
    as_of: str | None = None,
    pillars: tuple[str, ...] = PILLARS,
) -> pd.DataFrame:
    """The composite's member indicators for every selected municipality, normalised to 0–1.

    Members: ``composite_members``.
    Normalisation (fixed goalposts): binary 実施=1 / 未実施=0 as is; percent value / 100; count or
    number value / target (only with a target); clipped to 0–1; lower_is_better is turned round
    (1 − share). The newest snapshot on or before ``as_of`` is used (``as_of`` = 'unknown': the values
    whose 調査時点 is 不明); a missing value there stays
    missing (NULL), never 0 and never filled from an older snapshot.
    Columns: code, indicator_id, title, short_title, kind, polarity, pillar, weight, value (catalog
    unit), as_of, synthetic, normalised (0–1 or NULL).
    """
    return run(
        con, "indicator_scores", {"codes": selected_codes(con, flt), "pillars": list(pillars), **as_of_params(as_of)}
    )


def composite(
    con: duckdb.DuckDBPyConnection,
    flt: Filter | None = None,
    as_of: str | None = None,
    pillars: tuple[str, ...] = PILLARS,
    members: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Pillar scores and the composite per municipality, 0–100 (= 100 × weighted mean of 0–1 values).

    One row per code × pillar, plus one row per code with pillar = '総合' (the composite).
    Pillar = catalog-weighted mean of its available members; **missing** (score NULL) when fewer
    than half of its members are available. Composite = equal-weight mean of the pillars;
    **missing** when any pillar is missing. Missing values never count as zero.
    Columns: code, pillar, score (0–100 or NULL), n_members, n_available, n_missing (indicators),
    n_pillars, n_pillars_missing, as_of (newest snapshot used).
    ``members`` may pass an ``indicator_scores`` result already computed for the same selection.
    """
    members = members if members is not None else indicator_scores(con, flt, as_of, pillars)
    return run(
        con, "composite", {"pillars": list(pillars), "composite_label": COMPOSITE}, relations={"member_scores": members}
    )


def composite_wide(scores: pd.DataFrame) -> pd.DataFrame:
    """``composite`` as one row per municipality: code, 総合, one column per pillar, n_available,
    n_missing (indicators of the composite), n_pillars_missing."""
    wide = scores.pivot(index="code", columns="pillar", values="score")
    order = [COMPOSITE] + [p for p in PILLARS if p in wide.columns]
    totals = scores[scores["pillar"] == COMPOSITE].set_index("code")[["n_available", "n_missing", "n_pillars_missing"]]
    # (reindex: a store without デジタル庁 values has no composite column to pick)
    return wide.reindex(columns=order).join(totals).reset_index()
