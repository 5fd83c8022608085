"""Dates as users read them: 調査時点 (what a survey describes) and 取得日 (when a file was obtained).

Pure: no Streamlit, no I/O. Every surface formats a date through ``japanese_date``; nothing else
decides how a 調査時点 or a 取得日 is worded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd

UNKNOWN_AS_OF = "調査時点不明"
UNKNOWN_SNAPSHOT = "unknown"  # metrics.snapshots' key of the releases of unknown 調査時点: their dates are all shown


def as_date(value: object) -> date | None:
    """A date from a date, datetime, pandas Timestamp or ISO text; None for missing values."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, pd.Timestamp):
        return value.date()
    return date.fromisoformat(str(value)[:10])


def japanese_date(value: object) -> str | None:
    """2024年4月1日 (no zero padding); None for a missing date."""
    day = as_date(value)
    return f"{day.year}年{day.month}月{day.day}日" if day else None


def release_label(as_of: object, retrieved_on: object = None) -> str:
    """The label of a release: 「2024年4月1日時点」, or 「調査時点不明（取得日 2026年11月23日）」."""
    if as_date(as_of) is not None:
        return f"{japanese_date(as_of)}時点"
    retrieved = japanese_date(retrieved_on)
    return f"{UNKNOWN_AS_OF}（取得日 {retrieved}）" if retrieved else UNKNOWN_AS_OF


# ---------------------------------------------------------------- 調査時点 per indicator group, 取得日 apart


@dataclass(frozen=True)
class DateLines:
    """What a figure says about its dates: one 調査時点 line per indicator group, and the 取得日 apart."""

    as_of: tuple[
        str, ...
    ]  # 「推進体制：2023年4月1日時点」「テレワーク：2023年10月1日時点（推定）」「マイナンバーカード：調査時点不明」
    retrieved: str | None  # 「取得日 2026年11月23日」 (never a 調査時点)

    def text(self, separator: str = "、") -> str:
        """One line: 「調査時点 推進体制：2023年4月1日時点、… ｜ 取得日 2026年11月23日」 ('' when nothing is loaded)."""
        parts = [f"調査時点 {separator.join(self.as_of)}"] if self.as_of else []
        if self.retrieved:
            parts.append(self.retrieved)
        return "　｜　".join(parts)

    def lines(self) -> list[str]:
        return [*self.as_of, *([self.retrieved] if self.retrieved else [])]


def date_lines(dates: pd.DataFrame) -> DateLines:
    """The lines of ``indicator_dates`` rows (pure): 不明 shown as 「調査時点不明」, inferred dates as （推定）,
    the 取得日 as a date or a range; a 取得日 that is only the day a folder was built is said to be so."""
    as_of_lines = []
    for row in dates.itertuples(index=False):
        when = f"{japanese_date(row.as_of)}時点" if as_date(row.as_of) else UNKNOWN_AS_OF
        estimated = "（推定）" if bool(row.estimated) and as_date(row.as_of) else ""
        demo = "（架空）" if bool(row.synthetic) else ""
        as_of_lines.append(f"{row.as_of_group}：{when}{estimated}{demo}")
    first = [as_date(value) for value in dates["first_retrieved_on"]] if len(dates) else []
    last = [as_date(value) for value in dates["last_retrieved_on"]] if len(dates) else []
    known = [day for day in first + last if day is not None]
    retrieved = None
    if known:
        low, high = min(known), max(known)
        retrieved = f"取得日 {japanese_date(low)}" + (f"〜{japanese_date(high)}" if high != low else "")
        at_build = dates["retrieved_at_build"].fillna(False).astype(bool)
        if len(at_build) and at_build.all():
            retrieved += "（取込日。ダウンロード日の記録なし）"
    return DateLines(tuple(as_of_lines), retrieved)
