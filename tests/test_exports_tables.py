"""Excel / CSV exports of the tables views show (ui/export.py, exports/tables.py): reading the file
back gives the numbers of the table, headers are bold and filled with the header row frozen,
numbers carry number formats, CSV is UTF-8 with BOM, and formula-like text comes back neutralised."""

from __future__ import annotations

import io

import duckdb
import numpy as np
import openpyxl
import pandas as pd
import pytest

from exports.tables import view_csv, view_excel
from metrics.crosstab import cross_table, pop_band_order
from metrics.filters import Filter, select_municipalities
from metrics.priority import support_priority
from metrics.views import measure_frame
from ui.export import DECIMAL_FORMAT, INTEGER_FORMAT, csv_bytes, excel_bytes
from views.render import VIEW_TYPES, render_view

HOSTILE = "=cmd|' /C calc'!A0"


def _view(con, view):
    return render_view(con, view, "兵庫県")


def _same(read: pd.DataFrame, table: pd.DataFrame):
    assert list(read.columns) == [str(c) for c in table.columns]
    assert len(read) == len(table)
    for column, original in zip(read.columns, table.columns):
        expected = table[original]
        if pd.api.types.is_numeric_dtype(expected):
            np.testing.assert_allclose(read[column].astype(float), expected.astype(float), equal_nan=True)
        else:
            # an empty text is an empty cell in both formats, read back as missing
            text = lambda s: s.astype(object).where(s.notna(), None).map(lambda v: None if v in (None, "") else str(v))  # noqa: E731
            left, right = text(read[column]), text(expected)
            assert left.tolist() == right.tolist(), column


@pytest.mark.parametrize("view", [v for v in VIEW_TYPES if v != "karte"] + ["karte"])
def test_every_view_table_round_trips(demo_con, two_release_db, view):
    spec = {"view": view, "code": "282014"} if view == "karte" else {"view": view}
    if view == "change":  # the demo has one デジタル庁 release: the real files and a later one
        with duckdb.connect(str(two_release_db), read_only=True) as con:
            result = _view(con, spec)
    else:
        result = _view(demo_con, spec)
    assert result.table is not None and len(result.table)
    book = openpyxl.load_workbook(io.BytesIO(view_excel(result)))
    assert book.sheetnames == ["説明", view]
    notes = {row[0]: row[1] for row in book["説明"].iter_rows(min_row=2, values_only=True)}
    assert notes["出典"] == result.source and notes["時点"] == result.as_of
    sheet = book[view]
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold and cell.fill.fgColor.rgb.endswith("DDEBF7") for cell in sheet[1])
    read = pd.read_excel(io.BytesIO(view_excel(result)), sheet_name=view, engine="openpyxl")
    _same(read, result.table)
    for j, column in enumerate(result.table.columns, start=1):
        values = result.table[column]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values) and values.notna().any():
            whole = (values.dropna() % 1 == 0).all()
            assert sheet.cell(2, j).number_format == (INTEGER_FORMAT if whole else DECIMAL_FORMAT), column
    data = view_csv(result)
    assert data.startswith(b"\xef\xbb\xbf")
    _same(pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype={"団体コード": str}), result.table)


def test_tables_hold_the_numbers_of_the_metrics(demo_con):
    hyogo = Filter(pref_code="28")
    # ranking: the prefecture's municipalities by composite, from measure_frame
    ranking = _view(demo_con, {"view": "ranking", "measure": "composite"}).table
    values = measure_frame(demo_con, "composite").merge(select_municipalities(demo_con, hyogo)[["code"]], on="code")
    expected = values.dropna(subset=["value"]).sort_values(["value", "code"], ascending=[False, True])
    assert ranking["団体コード"].tolist() == expected["code"].tolist()
    np.testing.assert_allclose(ranking["総合得点"], expected["value"])
    # crosstab: the cross-table of maturity by population band, computed here
    crosstab = _view(demo_con, {"view": "crosstab"}).table.set_index("人口規模")
    levels = measure_frame(demo_con, "maturity").merge(
        select_municipalities(demo_con, hyogo)[["code", "pop_band"]], on="code"
    )
    levels["level"] = levels["value"].map(lambda v: f"レベル{int(v)}" if pd.notna(v) else None)
    table = cross_table(levels, "pop_band", "level", pop_band_order(demo_con), [f"レベル{n}" for n in range(5)])
    assert crosstab.loc["計", "計"] == 41
    assert crosstab.to_numpy().tolist() == table.to_numpy().tolist()
    # priority: every municipality of the prefecture, with its level
    priority = _view(demo_con, {"view": "priority"}).table
    levels = support_priority(demo_con, hyogo).set_index("code")["priority"]
    assert priority.set_index("団体コード")["支援優先度"].to_dict() == levels.to_dict()


def test_formula_text_is_neutralised_and_numbers_are_not():
    frame = pd.DataFrame({"市区町村": [HOSTILE, "-1+1", "神戸市"], "変化": [-3.5, 2.0, np.nan], "団体数": [1, 2, 3]})
    read = pd.read_excel(io.BytesIO(excel_bytes({"表": frame})), sheet_name="表", engine="openpyxl")
    assert read["市区町村"].tolist() == ["'" + HOSTILE, "'-1+1", "神戸市"]
    assert read["変化"].iloc[0] == -3.5 and np.isnan(read["変化"].iloc[2])
    csv = pd.read_csv(io.BytesIO(csv_bytes(frame)), encoding="utf-8-sig")
    assert csv["市区町村"].iloc[0] == "'" + HOSTILE and csv["変化"].iloc[0] == -3.5
    sheet = openpyxl.load_workbook(io.BytesIO(excel_bytes({"表": frame})))["表"]
    assert sheet["B2"].number_format == DECIMAL_FORMAT and sheet["C2"].number_format == INTEGER_FORMAT
    assert sheet["A2"].data_type == "s"  # text, not a formula


def test_cp932_free_japanese_in_csv():
    frame = pd.DataFrame({"団体": ["髙砂市", "𠮷野町"]})  # outside cp932: UTF-8 keeps them
    assert pd.read_csv(io.BytesIO(csv_bytes(frame)), encoding="utf-8-sig")["団体"].tolist() == ["髙砂市", "𠮷野町"]
