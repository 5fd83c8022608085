"""What the store holds, for menus and credits: the indicator catalog and the region sets."""

from __future__ import annotations

import duckdb
import pandas as pd

from metrics.query import run

# デジタル庁「自治体DX推進状況」: the indicators are da_…, the per-procedure online rates da_proc_…
OFFICIAL_PREFIX = "da_"
PROCEDURE_PREFIX = "da_proc_"


def is_official_indicator(indicator_id: str) -> bool:
    """A デジタル庁 自治体DX推進状況 indicator, not one of its per-procedure online rates."""
    return indicator_id.startswith(OFFICIAL_PREFIX) and not indicator_id.startswith(PROCEDURE_PREFIX)


def official_indicators(indicator_ids: pd.Series) -> pd.Series:
    """``is_official_indicator`` of each id (a mask for a frame's indicator_id column)."""
    ids = indicator_ids.astype("string")
    return (ids.str.startswith(OFFICIAL_PREFIX) & ~ids.str.startswith(PROCEDURE_PREFIX)).fillna(False).astype(bool)


def indicator_catalog(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every catalog indicator. Columns: indicator_id, title, short_title, unit, kind, pillar,
    category, polarity, weight, target, level, component, description, source (sources.id),
    source_title, credit (the line to print under a chart), licence, as_of (newest loaded value),
    municipalities (how many have a non-missing value), synthetic (any demo value)."""
    return run(con, "indicator_catalog", {})


def region_sets(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Columns: region_set, region, municipalities (count), for the region filter."""
    return run(con, "region_sets", {})
