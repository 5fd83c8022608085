"""What the store holds, for menus and credits: the indicator catalog and the region sets."""

from __future__ import annotations

import duckdb
import pandas as pd

from metrics.query import run


def indicator_catalog(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every catalog indicator. Columns: indicator_id, title, short_title, unit, kind, pillar,
    category, polarity, weight, target, level, component, description, source (sources.id),
    source_title, credit (the line to print under a chart), licence, as_of (newest loaded value),
    municipalities (how many have a non-missing value), synthetic (any demo value)."""
    return run(con, "indicator_catalog", {})


def region_sets(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Columns: region_set, region, municipalities (count), for the region filter."""
    return run(con, "region_sets", {})
