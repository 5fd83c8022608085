"""Gaps of indicator values to the target, peers, the prefecture and the nation, signed by polarity."""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from metrics.filters import Filter, selected_codes
from metrics.peers import PEER_KINDS, similar_municipalities
from metrics.query import arrow_frame, isin, run_arrow
from metrics.snapshots import as_of_params


def gaps(
    con: duckdb.DuckDBPyConnection,
    flt: Filter | None = None,
    indicator_ids: Iterable[str] | None = None,
    peer: str = "pop_band",
    region_set: str | None = None,
    as_of: str | None = None,
    similar: pd.DataFrame | None = None,
    k: int = 5,
) -> pd.DataFrame:
    """One row per selected municipality × indicator (non-component, not 'category', level
    municipality/both; ``indicator_ids`` narrows it) with its newest value on or before ``as_of``
    (``as_of`` = 'unknown': the values whose 調査時点 is 不明).

    References and gaps, all in the indicator's unit (percentage points for %):
      gap_target   value − catalog target
      gap_peer     value − median of the peer group: ``peer`` = 'pop_band' | 'type' | 'prefecture' |
                   'region' (of ``region_set``) | 'similar' (the k most similar municipalities,
                   ``similar`` may pass a ``similar_municipalities`` result). Group medians are
                   over all municipalities of the group nationwide, the municipality included.
      gap_pref     value − the prefecture's value: the prefecture's own figure where the
                   prefecture file has the indicator (pref_basis = '都道府県の値', i.e. the
                   prefectural government itself), else the median of the prefecture's
                   municipalities (pref_basis = '県内市区町村の中央値').
      gap_national value − the median of all municipalities.
    Sign: positive = better than the reference (higher_is_better: value − ref; lower_is_better:
    ref − value); NULL for neutral indicators. A missing value or reference gives a NULL gap;
    medians ignore missing values (n_peers / n_national say how many values they used).
    Columns: code, indicator_id, title, short_title, unit, kind, polarity, pillar, value, as_of,
    target, gap_target, peer_group, peer_median, n_peers, gap_peer, pref_value, pref_basis,
    gap_pref, national_median, n_national, gap_national.
    """
    if peer not in PEER_KINDS:
        raise ValueError(f"peer must be one of {sorted(PEER_KINDS)}, got {peer!r}")
    if peer == "region" and not region_set:
        raise ValueError("peer='region' needs region_set")
    codes = selected_codes(con, flt)
    pairs = pd.DataFrame({"code": pd.Series(dtype="string"), "peer_code": pd.Series(dtype="string")})
    if peer == "similar":
        neighbours = similar if similar is not None else similar_municipalities(con, flt, k=k)
        pairs = neighbours[isin(neighbours["code"], codes)][["code", "peer_code"]]
    grid = run_arrow(
        con,
        "gaps",
        {
            "codes": codes,
            "indicator_ids": list(indicator_ids) if indicator_ids is not None else None,
            "peer": peer,
            "region_set": region_set,
            **as_of_params(as_of),
        },
        relations={"similar_pairs": pairs},
    )
    # the grid names each indicator by its number in the catalog's id order (see gaps.sql)
    attributes = run_arrow(con, "indicator_attributes", {})
    position = pc.subtract(grid["i_no"], 1)
    columns = {"code": grid["code"]}
    columns.update({name: attributes[name].take(position) for name in attributes.column_names})
    columns.update({name: grid[name] for name in grid.column_names[2:]})
    return arrow_frame(pa.table(columns))
