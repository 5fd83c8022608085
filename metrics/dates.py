"""Dates as users read them: 調査時点 (what a survey describes) and 取得日 (when a file was obtained).

Pure: no Streamlit, no I/O. Every surface formats a date through ``japanese_date``; nothing else
decides how a 調査時点 or a 取得日 is worded.
"""
from __future__ import annotations

from datetime import date, datetime

import pandas as pd

UNKNOWN_AS_OF = "調査時点不明"


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
