"""The 兵庫-style cross-table (兵庫県「市町DX支援パッケージ」): population band × DX staff count bins, with totals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from metrics_fixtures import WAKAYAMA, fill, indicator_rows, municipality_rows, new_store

from metrics.crosstab import (
    HYOGO_STAFF_EDGES,
    HYOGO_STAFF_LABELS,
    MISSING,
    OUT_OF_RANGE,
    TOTAL,
    bin_labels,
    bin_values,
    cross_table,
    measure_values,
    pop_band_order,
)

BANDS = ["5万未満", "5～10万", "10～20万", "20～50万", "50～100万", "100万以上"]
# 兵庫県「市町DX支援パッケージ」「県内市町のDX・情報関係業務担当職員数（団体規模別）」:
# row totals and column totals as printed.
# The text extraction shifts one cell between the first two rows (their cells sum to 26 and 5 while
# the printed totals say 25 and 6); the margins below are consistent and are what we assert.
ROW_TOTALS = [25, 6, 2, 6, 1, 1]
COLUMN_TOTALS = [3, 7, 4, 8, 6, 4, 5, 3, 1]
# one staff count per cell consistent with both margins (representative value of each bin)
CELLS = {
    "5万未満": {1: 3, 2: 7, 3: 3, 4: 6, 5: 5, 8: 1},
    "5～10万": {3: 1, 4: 2, 8: 1, 15: 2},
    "10～20万": {8: 2},
    "20～50万": {5: 1, 15: 3, 30: 2},
    "50～100万": {30: 1},
    "100万以上": {60: 1},
}


@pytest.fixture()
def hyogo() -> pd.DataFrame:
    rows = [(band, staff) for band, cells in CELLS.items() for staff, n in cells.items() for _ in range(n)]
    return pd.DataFrame(rows, columns=["pop_band", "staff"])


def test_hyogo_bins_and_margins(hyogo):
    assert bin_labels(HYOGO_STAFF_EDGES) == list(HYOGO_STAFF_LABELS)
    hyogo["staff_bin"] = bin_values(hyogo["staff"], HYOGO_STAFF_EDGES)
    table = cross_table(hyogo, "pop_band", "staff_bin", BANDS, list(HYOGO_STAFF_LABELS))
    assert list(table.columns) == list(HYOGO_STAFF_LABELS) + [TOTAL]
    assert list(table.index) == BANDS + [TOTAL]
    assert table[TOTAL].iloc[:-1].tolist() == ROW_TOTALS
    assert table.loc[TOTAL].iloc[:-1].tolist() == COLUMN_TOTALS
    assert table.loc[TOTAL, TOTAL] == 41
    # unambiguous printed cells
    assert table.loc["100万以上", "51~"] == 1 and table.loc["50～100万", "21~50"] == 1
    assert table.loc["20～50万", "11~20"] == 3 and table.loc["10～20万", "6~10"] == 2


def test_nothing_is_dropped():
    frame = pd.DataFrame({"band": ["5万未満", None, "5～10万", "5万未満"], "staff": [0, 3, np.nan, 70]})
    frame["bin"] = bin_values(frame["staff"], HYOGO_STAFF_EDGES)
    assert frame["bin"].tolist() == [OUT_OF_RANGE, "3", MISSING, "51~"]
    table = cross_table(frame, "band", "bin", BANDS, list(HYOGO_STAFF_LABELS))
    assert table.loc[TOTAL, TOTAL] == len(frame)
    assert table.loc[MISSING, "3"] == 1 and table.loc["5万未満", OUT_OF_RANGE] == 1
    assert list(table.index)[-2:] == [MISSING, TOTAL]
    assert list(table.columns)[-3:] == [OUT_OF_RANGE, MISSING, TOTAL]


def test_store_measure_with_binary_labels():
    con = new_store()
    values = pd.DataFrame(
        {
            "code": ["302015", "302023", "302031", "303810"],
            "indicator_id": "da_cio",
            "value": [1.0, 0.0, None, 1.0],
            "raw": ["実施", "未実施", "調査無し", "実施"],
            "source": "digital_agency_municipal",
            "as_of": pd.Timestamp("2026-04-01"),
        }
    )
    fill(con, municipalities=municipality_rows(WAKAYAMA), indicators=indicator_rows(), indicator_values=values)
    frame = measure_values(con, "da_cio")
    assert len(frame) == 5  # 北山村 has no row at all and is still counted
    table = cross_table(frame, "pop_band", "label", pop_band_order(con), ["実施", "未実施"])
    assert pop_band_order(con) == BANDS
    assert table.loc[TOTAL, "実施"] == 2 and table.loc[TOTAL, MISSING] == 2 and table.loc[TOTAL, TOTAL] == 5
    assert table.loc["20～50万", "実施"] == 1
