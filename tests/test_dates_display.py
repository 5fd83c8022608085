"""The one display helper for dates (store.dates): 調査時点 per indicator group, 取得日 apart, 不明 and
（推定） said as such, never 基準日."""

from datetime import date

import pandas as pd

from loaders.releases import load_release_list
from metrics.dates import COMPOSITE_SOURCES, dates_for
from store.dates import date_lines, japanese_date


def test_japanese_dates_have_no_zero_padding():
    assert japanese_date(date(2024, 4, 1)) == "2024年4月1日"
    assert japanese_date(pd.Timestamp("2023-12-31")) == "2023年12月31日"
    assert japanese_date(None) is None and japanese_date(pd.NaT) is None


def test_lines_per_group_with_unknown_estimated_and_the_retrieval_date_apart():
    frame = pd.DataFrame(
        {
            "as_of_group": ["推進体制", "テレワーク", "マイナンバーカード"],
            "as_of": [date(2024, 4, 1), date(2023, 10, 1), None],
            "estimated": [False, True, False],
            "first_retrieved_on": [date(2026, 11, 23)] * 3,
            "last_retrieved_on": [date(2026, 11, 23)] * 3,
            "retrieved_at_build": [False] * 3,
            "synthetic": [False] * 3,
        }
    )
    lines = date_lines(frame)
    assert lines.as_of == (
        "推進体制：2024年4月1日時点",
        "テレワーク：2023年10月1日時点（推定）",
        "マイナンバーカード：調査時点不明",
    )
    assert lines.retrieved == "取得日 2026年11月23日"
    assert "基準日" not in lines.text()


def test_real_store_lines_follow_the_release_list(real_con):
    lines = dates_for(real_con, None, None, COMPOSITE_SOURCES)
    municipal = next(r for r in load_release_list().values() if r.source == "digital_agency_municipal")
    expected = []
    for group, entry in municipal.as_of.items():
        when = f"{japanese_date(entry.as_of)}時点" if entry.as_of else "調査時点不明"
        expected.append(f"{group}：{when}{'（推定）' if entry.estimated else ''}")
    assert list(lines.as_of) == expected
    # the copies were found in a folder: the 取得日 is the build day, said to be so
    today = date.today()
    assert lines.retrieved.startswith(f"取得日 {japanese_date(today)}") and "取込日" in lines.retrieved
    # a snapshot before the 住基 2024 file shows the 2023 population date
    assert dates_for(real_con, ["population_juki"], "2023-06-30").as_of == ("人口：2023年1月1日時点",)
