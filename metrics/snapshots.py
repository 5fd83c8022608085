"""The official snapshots a user can compare: one per 調査時点 of the releases carrying the デジタル庁
composite's indicators (table ``releases``: the 市区町村比較 file), oldest first, 調査時点 不明 last.
A snapshot's values are, per source and indicator, those of the newest release on or before it.

A snapshot is named by a key: its 調査時点 as 'YYYY-MM-DD', or ``UNKNOWN`` for 不明. Metric
functions that take ``as_of`` accept these keys (``as_of_params``).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from metrics.definitions import PILLARS
from metrics.query import run
from store.dates import UNKNOWN_AS_OF, release_label

UNKNOWN = "unknown"


def as_of_params(as_of: str | None) -> dict:
    """The SQL parameters of a snapshot key: $as_of (a date, or NULL = the newest) and $unknown_as_of."""
    unknown = as_of == UNKNOWN
    return {"as_of": None if unknown else as_of, "unknown_as_of": unknown}


def snapshots(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The デジタル庁 snapshots, oldest first (調査時点 不明 last): as_of (date; NaT = 不明), key
    ('YYYY-MM-DD' or 'unknown'), label (「2024年4月1日時点」 / 「調査時点不明」), municipalities (how
    many have a value), synthetic."""
    frame = run(con, "view_snapshots", {"pillars": list(PILLARS)})
    frame["key"] = [UNKNOWN if pd.isna(value) else str(value)[:10] for value in frame["as_of"]]
    frame["label"] = frame["key"].map(snapshot_label)
    return frame[["as_of", "key", "label", "municipalities", "synthetic"]]


def snapshot_keys(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The keys of ``snapshots``, oldest first, 'unknown' last."""
    return snapshots(con)["key"].tolist()


def snapshot_dates(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The known 調査時点 of ``snapshots`` as 'YYYY-MM-DD', oldest first (不明 left out: a release of
    unknown date has no place in time, so no change is computed to or from it)."""
    return [key for key in snapshot_keys(con) if key != UNKNOWN]


def snapshot_label(as_of) -> str:
    """「2024年4月1日時点」 for a date or a key, 「調査時点不明」 for 'unknown' or a missing date."""
    if as_of is None or as_of == UNKNOWN or (not isinstance(as_of, str) and pd.isna(as_of)):
        return UNKNOWN_AS_OF
    return release_label(as_of)


def previous_snapshot(dates: list[str], as_of: str | None) -> str | None:
    """The snapshot before ``as_of`` (default: before the newest) in ``dates`` (oldest first), or None."""
    if not dates:
        return None
    current = as_of if as_of in dates else dates[-1]
    position = dates.index(current)
    return dates[position - 1] if position > 0 else None
