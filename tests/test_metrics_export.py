"""The workbook of all metrics (metrics.export, データ管理 「すべての数値」 and ``python -m metrics export``)
speaks the users' words: every column under a Japanese heading, ids left out where their label stands
beside them, coded values (basis, level, kind, polarity, rounds, stages) by what they mean."""

from __future__ import annotations

import io
import re

import duckdb
import openpyxl
import pytest

from metrics.assessment import rounds
from metrics.export import CODES, LEFT_OUT, SHEETS, headings, workbook_bytes
from metrics.filters import Filter
from metrics.summary import all_metrics

ASCII_NAME = re.compile(r"[A-Za-z0-9_]+")


@pytest.fixture(scope="module")
def two_release_con(two_release_db):
    con = duckdb.connect(str(two_release_db), read_only=True)
    yield con
    con.close()


@pytest.mark.parametrize("store", ["demo_con", "real_con", "two_release_con"])
def test_every_column_has_a_heading_or_is_left_out_beside_its_label(store, request):
    con = request.getfixturevalue(store)
    results = all_metrics(con, Filter(pref_code="28"))
    assert set(results) >= set(SHEETS)
    for key in SHEETS:
        columns = list(results[key].columns)
        unnamed = [c for c in columns if ASCII_NAME.fullmatch(c) and c not in headings(key) and c not in LEFT_OUT]
        assert not unnamed, (key, unnamed)
        # an id is left out only where the column that says it is in the same sheet
        for column in set(columns) & set(LEFT_OUT):
            assert LEFT_OUT[column] in columns, (key, column)


# between them the demo (survey rounds) and two デジタル庁 releases (indicator change) fill every sheet
@pytest.mark.parametrize(
    "store, empty",
    [("demo_con", {"indicator_change"}), ("two_release_con", {"assessment", "maturity", "assessment_change", "cases"})],
)
def test_the_workbook_shows_labels_never_ids_or_codes(store, empty, request):
    con = request.getfixturevalue(store)
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(con, Filter(pref_code="28"))), read_only=True)
    round_ids = set(rounds(con)["round_id"])
    codes = {str(code) for meanings in CODES.values() for code in meanings if isinstance(code, str)}
    filled = set()
    for key, (sheet, _what) in SHEETS.items():
        rows = list(book[sheet].iter_rows(values_only=True))
        header = rows[0]
        assert not [h for h in header if ASCII_NAME.fullmatch(str(h))], (sheet, header)
        assert len(set(header)) == len(header), (sheet, header)
        cells = {value for row in rows[1:] for value in row if isinstance(value, str)}
        if len(rows) > 1:
            filled.add(key)
        assert not cells & round_ids, (sheet, sorted(cells & round_ids)[:3])
        assert not cells & codes, (sheet, sorted(cells & codes)[:3])
        assert not [c for c in cells if re.fullmatch(r"(nat|hyogo|da)_[a-z_]+(,.*)?", c)], sheet
    assert filled == set(SHEETS) - empty, "the check saw the sheets filled"


def test_stages_and_rounds_read_as_in_the_app(demo_con):
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(demo_con, Filter(pref_code="28"))), read_only=True)
    rows = list(book["成熟度"].iter_rows(values_only=True))
    header = rows[0]
    stages = {row[header.index("次の段階")] for row in rows[1:]} - {None}
    assert stages and stages <= {"STEP0", "STEP1", "STEP2", "STEP3"}
    labels = {row[header.index("回")] for row in rows[1:]}
    assert labels == {"2026年度 ベースライン（当初）", "2026年度 評価（年度末）"}
