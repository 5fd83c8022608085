"""The 兵庫-style cross-table: population band × a categorical or binned measure, with totals."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import numpy as np
import pandas as pd

from metrics.filters import Filter, selected_codes
from metrics.query import run

TOTAL = "計"
MISSING = "不明"
OUT_OF_RANGE = "範囲外"
# 兵庫県「市町DX支援パッケージ」の表: DX・情報関係業務担当職員数の区分
HYOGO_STAFF_EDGES = (1, 2, 3, 4, 5, 6, 11, 21, 51)
HYOGO_STAFF_LABELS = ("1", "2", "3", "4", "5", "6~10", "11~20", "21~50", "51~")
BINARY_LABELS = {1.0: "実施", 0.0: "未実施"}


def bin_labels(edges: Sequence[float]) -> list[str]:
    """Labels for right-open bins [e_i, e_{i+1}) of integer counts: '3', '6~10', and '51~' for the last."""
    labels = []
    for low, high in zip(edges, list(edges[1:]) + [None]):
        if high is None:
            labels.append(f"{low:g}~")
        elif high - low == 1:
            labels.append(f"{low:g}")
        else:
            labels.append(f"{low:g}~{high - 1:g}")
    return labels


def bin_values(values: pd.Series, edges: Sequence[float], labels: Sequence[str] | None = None) -> pd.Series:
    """Right-open bins [e_i, e_{i+1}), the last open-ended. Values below the first edge are labelled
    '範囲外', missing values '不明' — nothing is dropped. Returns an ordered categorical."""
    labels = list(labels) if labels is not None else bin_labels(edges)
    if len(labels) != len(edges):
        raise ValueError("labels needs one entry per edge")
    binned = pd.cut(values.astype(float), bins=list(edges) + [np.inf], labels=labels, right=False)
    categories = labels + [OUT_OF_RANGE, MISSING]
    result = binned.astype(pd.CategoricalDtype(categories, ordered=True))
    result[values.notna() & binned.isna()] = OUT_OF_RANGE
    result[values.isna()] = MISSING
    return result


def cross_table(
    frame: pd.DataFrame,
    row: str,
    column: str,
    row_order: Sequence[str] | None = None,
    column_order: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Counts of ``frame`` rows by ``row`` × ``column`` with a total column and a total row (「計」).

    Missing values are counted under '不明' (never dropped); categories listed in ``row_order`` /
    ``column_order`` appear even when empty (count 0), others follow in sorted order, then
    '範囲外' and '不明' when present. The grand total equals len(frame).
    """
    rows = frame[row].astype("object").where(frame[row].notna(), MISSING)
    cols = frame[column].astype("object").where(frame[column].notna(), MISSING)
    table = pd.crosstab(rows, cols)
    ordered_rows = _ordered(row_order, table.index)
    ordered_cols = _ordered(column_order, table.columns)
    table = table.reindex(index=ordered_rows, columns=ordered_cols, fill_value=0)
    table[TOTAL] = table.sum(axis=1)
    table.loc[TOTAL] = table.sum(axis=0)
    table.index.name, table.columns.name = row, column
    return table.astype(int)


def _ordered(order: Sequence[str] | None, present) -> list:
    # 範囲外 and 不明 are shown only when some value falls there, always last
    optional = [label for label in (OUT_OF_RANGE, MISSING) if label in present]
    order = [o for o in (order or []) if o not in (OUT_OF_RANGE, MISSING)]
    rest = sorted((p for p in present if p not in order and p not in (OUT_OF_RANGE, MISSING)), key=str)
    return order + rest + optional


def measure_values(
    con: duckdb.DuckDBPyConnection, indicator_id: str, flt: Filter | None = None, as_of: str | None = None
) -> pd.DataFrame:
    """One indicator for every selected municipality, ready for ``cross_table``.

    Columns: code, name, pref_name, type, pop_band, pop_band_order, value (catalog unit, NULL
    when missing or absent), raw (text as in the file), kind, label (binary: 実施/未実施; category:
    the raw text; otherwise NULL — bin ``value`` with ``bin_values``).
    """
    frame = run(
        con, "measure_values", {"codes": selected_codes(con, flt), "indicator_id": indicator_id, "as_of": as_of}
    )
    frame["label"] = np.where(frame["kind"] == "category", frame["raw"], frame["value"].map(BINARY_LABELS))
    frame.loc[~frame["kind"].isin(["binary", "category"]), "label"] = None
    return frame


def pop_band_order(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Population band labels in table order (data/pop_bands.csv)."""
    return run(con, "pop_band_labels", {})["label"].tolist()
