"""The selection every metric works on: prefecture, region, population band, 団体区分, codes."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from metrics.query import run


@dataclass(frozen=True)
class Filter:
    """Which municipalities to show. Empty / None fields do not restrict.

    pref_code: 2-digit prefecture code ('28'); a 6-digit prefecture code ('280003') is accepted too.
    region_set / region: a grouping of data/regions.csv (region_set alone keeps every region of the set).
    pop_bands: labels of data/pop_bands.csv; types: 政令市 / 中核市 / 一般市 / 特別区 / 町 / 村;
    codes: 6-digit municipality codes.
    """

    pref_code: str | None = None
    region_set: str | None = None
    region: str | None = None
    pop_bands: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()

    def params(self) -> dict:
        pref = str(self.pref_code).strip()[:2].zfill(2) if self.pref_code else None
        return {
            "pref_code": pref,
            "region_set": self.region_set or None,
            "region": self.region or None,
            "pop_bands": list(self.pop_bands) or None,
            "types": list(self.types) or None,
            "codes": list(self.codes) or None,
        }


ALL = Filter()


def select_municipalities(con: duckdb.DuckDBPyConnection, flt: Filter | None = None) -> pd.DataFrame:
    """Municipalities chosen by ``flt`` (all 1,741 when None), in code order.

    Columns: code, pref_code, pref_name, name, kana, type, population (人; NULL when no population
    file was loaded), pop_band, pop_band_order, density (人/km²), lat, lng, region (of flt.region_set,
    else NULL), population_synthetic (True for demo populations).
    """
    return run(con, "selected_municipalities", (flt or ALL).params())


def selected_codes(con: duckdb.DuckDBPyConnection, flt: Filter | None = None) -> list[str]:
    return select_municipalities(con, flt)["code"].tolist()


def codes_parameter(con: duckdb.DuckDBPyConnection, flt: Filter | None) -> list[str] | None:
    """The ``$codes`` parameter of the queries that read metric tables: None (every municipality,
    no list to bind) without a filter, else the selected codes."""
    return None if flt is None else selected_codes(con, flt)
