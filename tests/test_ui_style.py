"""Colours, number formats and downloads (views.style, ui.export): missing is 「データなし」 in grey,
never zero; diverging scales centre on 0; CSV opens in Excel (UTF-8 with BOM)."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
from openpyxl import load_workbook

from ui import export
from views import style


def test_missing_values_are_labelled_not_zero():
    for kind, unit in (("binary", "実施=1"), ("percent", "%"), ("score", "点"), ("count", "人"), ("level", "レベル")):
        assert style.format_value(np.nan, kind, unit) == style.MISSING_LABEL
        assert style.format_value(None, kind, unit) == style.MISSING_LABEL
    assert style.format_value(0.0, "binary", "実施=1") == "未実施"
    assert style.format_value(0.0, "percent", "%") == "0.0%"
    assert style.format_value(1.0, "binary", "実施=1", "実施") == "実施"
    assert style.format_value(np.nan, "category", "", "10以下") == "10以下"
    assert style.format_value(12345.0, "count", "人") == "12,345人"
    assert style.format_value(-3.25, "change", "点") == "-3.2点"
    assert style.format_statistic(73.28, "実施率", "binary", "実施=1") == "73.3%"


def test_colour_scale_and_missing_grey():
    values = pd.Series([0.0, 50.0, 100.0, np.nan, 150.0])
    colours = style.rgb_for(values, 0, 100)
    assert colours[3] == list(style.MISSING_RGB)
    assert colours[0] == style.lut(style.SEQUENTIAL)[0].tolist() and colours[4] == colours[2], "clipped at the top"
    reverse = style.rgb_for(values, 0, 100, reverse=True)
    assert reverse[0] == colours[2] and reverse[2] == colours[0]
    assert list(style.MISSING_RGB) not in colours[:3], "no value is drawn in the missing grey"


def test_value_ranges():
    values = pd.Series([-4.0, 1.0, 10.0, np.nan])
    lo, hi = style.value_range(values, "change", math.nan, math.nan, diverging=True)
    assert lo == -hi and hi > 0
    assert style.value_range(values, "score", 0.0, 100.0, diverging=False) == (0.0, 100.0)
    assert style.value_range(pd.Series([np.nan]), "count", math.nan, math.nan, diverging=False) == (0.0, 1.0)


def test_category_colours_are_distinct_and_fixed():
    colours = style.category_colours(["高", "中", "低", "A", "B", style.MISSING_LABEL])
    assert colours["高"] == style.PRIORITY_COLOURS["高"] and colours[style.MISSING_LABEL] == style.MISSING_HEX
    assert len(set(colours.values())) == 6


def test_labels():
    assert style.short_round_label("2026年度 評価（年度末）（デモ用の架空データ）") == "2026年度 評価（年度末）"
    assert style.unit_label("binary", "実施=1", "実施率") == "%"
    assert style.unit_label("count", "人") == "人"


def test_csv_has_bom_for_excel():
    frame = pd.DataFrame({"市区町村": ["姫路市", "神戸市"], "値": [1.5, None]})
    data = export.csv_bytes(frame)
    assert data.startswith("\ufeff".encode("utf-8"))
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0] == "市区町村,値" and "\r\n" in text and text.splitlines()[2] == "神戸市,"


def test_excel_round_trip():
    frame = pd.DataFrame({"市区町村": ["姫路市", "神戸市"], "値": [1.5, None]})
    book = load_workbook(io.BytesIO(export.excel_bytes({"一覧": frame}, [("対象", "兵庫県")])))
    assert book.sheetnames == ["説明", "一覧"]
    rows = list(book["一覧"].values)
    assert rows == [("市区町村", "値"), ("姫路市", 1.5), ("神戸市", None)]
    assert book["一覧"].freeze_panes == "A2"
