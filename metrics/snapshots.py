"""The official snapshots a user can compare: one per 調査時点 of the デジタル庁 municipal values."""
from __future__ import annotations

import duckdb
import pandas as pd

from metrics.query import run

UNKNOWN_LABEL = "調査時点不明"


def snapshots(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The デジタル庁 snapshots, oldest first (調査時点 不明 last): as_of (date; NaT = 不明), label
    (「2024年4月1日時点」 / 「調査時点不明」), municipalities (how many have a value), synthetic."""
    frame = run(con, "view_snapshots", {})
    frame["label"] = frame["as_of"].map(snapshot_label)
    return frame[["as_of", "label", "municipalities", "synthetic"]]


def snapshot_dates(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The known 調査時点 of ``snapshots`` as 'YYYY-MM-DD', oldest first (不明 left out)."""
    return [str(value)[:10] for value in snapshots(con)["as_of"] if not pd.isna(value)]


def snapshot_label(as_of) -> str:
    """「2024年4月1日時点」 for a date, 「調査時点不明」 for a missing one."""
    if as_of is None or pd.isna(as_of):
        return UNKNOWN_LABEL
    day = pd.Timestamp(as_of)
    return f"{day.year}年{day.month}月{day.day}日時点"


def previous_snapshot(dates: list[str], as_of: str | None) -> str | None:
    """The snapshot before ``as_of`` (default: before the newest) in ``dates`` (oldest first), or None."""
    if not dates:
        return None
    current = as_of if as_of in dates else dates[-1]
    position = dates.index(current)
    return dates[position - 1] if position > 0 else None
