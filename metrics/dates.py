"""The dates behind a figure, read from the store: 調査時点 per indicator group and the 取得日 apart,
and the loaded releases. The wording itself is in ``store.dates``."""

from __future__ import annotations

import pandas as pd

from metrics.query import run
from metrics.views import GROUP_COMPOSITE
from store.dates import UNKNOWN_SNAPSHOT, DateLines, as_date, date_lines, japanese_date

# The デジタル庁 municipal comparison file: the 13 indicators of the composite and their components.
COMPOSITE_SOURCES = ("digital_agency_municipal",)


def indicator_dates(con, indicator_ids=None, as_of: object = None, sources=None) -> pd.DataFrame:
    """as_of_group, as_of, estimated, first_retrieved_on, last_retrieved_on, retrieved_at_build, synthetic —
    one row per 調査時点 group of ``indicator_ids`` (None: every loaded indicator) of ``sources`` (None: all),
    the newest on or before ``as_of``."""
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
