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


# The デジタル庁 municipal comparison file: the 13 indicators of the composite and their components.
COMPOSITE_SOURCES = ("digital_agency_municipal",)


def indicator_dates(con, indicator_ids=None, as_of: object = None, sources=None) -> pd.DataFrame:
    """as_of_group, as_of, estimated, first_retrieved_on, last_retrieved_on, retrieved_at_build, synthetic —
    one row per 調査時点 group of ``indicator_ids`` (None: every loaded indicator) of ``sources`` (None: all),
    the newest on or before ``as_of``."""
    from metrics.query import run  # metrics.query reads the store's cache; imported here to keep this module light

    day = None if as_of == UNKNOWN_SNAPSHOT else as_date(as_of)
    return run(
        con,
        "indicator_dates",
        {
            "indicator_ids": list(indicator_ids) if indicator_ids is not None else None,
            "sources": list(sources) if sources is not None else None,
            "as_of": day.isoformat() if day else None,
        },
    )


def dates_for(con, indicator_ids=None, as_of: object = None, sources=None) -> DateLines:
    """The 調査時点 lines and the 取得日 of the indicators a figure shows (the one formatter every surface calls).
    ``sources=COMPOSITE_SOURCES`` gives the dates behind the composite and its pillars."""
    return date_lines(indicator_dates(con, indicator_ids, as_of, sources))


def measure_dates(con, measure, as_of: object = None) -> DateLines:
    """The dates behind one measure of ``metrics.views.measure_options`` (a row with measure_id and group):
    the composite's indicators for the composite and its pillars, else the indicator itself."""
    from metrics.views import GROUP_COMPOSITE  # views imports the metrics families; keep this module light

    if measure["group"] == GROUP_COMPOSITE:
        return dates_for(con, None, as_of, COMPOSITE_SOURCES)
    return dates_for(con, [measure["measure_id"]], as_of)


AS_OF_ORIGINS = {
    "release_list": "既知の版（内容のSHA-256で照合）",
    "declared": "管理者が指定",
    "in_file": "ファイルの記載",
    "source_default": "出典の既定値",
    "unknown": "不明（指定なし）",
}
RETRIEVED_ON_ORIGINS = {
    "fetch": "公式サイトから取得した日",
    "upload": "アップロードした日",
    "build": "取込日（取得日の記録なし）",
}


def loaded_releases(con) -> pd.DataFrame:
    """The loaded releases for people: 版, データ, ファイル, 調査時点の根拠, 取得日, 取得日の根拠, SHA-256
    (Japanese labels)."""
    from metrics.query import run

    frame = run(con, "view_releases", {})
    return pd.DataFrame(
        {
            "版": [
                f"{label}（架空）" if synthetic else label
                for label, synthetic in zip(frame["label"], frame["synthetic"])
            ],
            "データ": frame["source_title"],
            "ファイル": frame["file"],
            "調査時点の根拠": frame["as_of_origin"].map(AS_OF_ORIGINS).fillna(frame["as_of_origin"]),
            "取得日": [japanese_date(day) for day in frame["retrieved_on"]],
            "取得日の根拠": frame["retrieved_on_origin"].map(RETRIEVED_ON_ORIGINS),
            "SHA-256": frame["sha256"],
        }
    )
