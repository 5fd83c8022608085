"""loaders.textio.read_excel_sheets: calamine where it is safe and lossless, openpyxl's streaming
reader otherwise — the same rows either way."""

import re
import subprocess
import sys
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path

import openpyxl
import pytest
from fuzz_helpers import rewrite_zip

from loaders.errors import LoaderError
from loaders.textio import _read_excel_streaming, fits_calamine, read_excel_sheets

FIRST_SHEET = "xl/worksheets/sheet1.xml"
SHARED_JUKI = sorted((Path(__file__).resolve().parents[2] / "shared" / "data" / "soumu-juki-population").glob("*.xlsx"))


def trimmed(sheets: dict[str, list[list[object]]]) -> dict[str, list[list[object]]]:
    """Rows without the blank rows and columns after the last value (readers differ only there)."""
    result = {}
    for name, rows in sheets.items():
        rows = [list(row) for row in rows]
        while rows and all(value is None for value in rows[-1]):
            rows.pop()
        width = max((max((i + 1 for i, v in enumerate(row) if v is not None), default=0) for row in rows), default=0)
        result[name] = [row[:width] + [None] * (width - len(row[:width])) for row in rows]
    return result


def rich_workbook(path: Path) -> Path:
    """Values of every kind a survey sheet holds, starting away from A1, on two sheets, with a
    merged range, a formula without a cached value and a chart-free hidden sheet."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "回答"
    sheet["C3"] = "団体コード"
    sheet["D3"] = "実施状況"
    sheet["C4"] = "282014"  # code as text keeps its zeros
    sheet["D4"] = "実施"
    sheet["E4"] = 12
    sheet["F4"] = 12.5
    sheet["G4"] = -3
    sheet["H4"] = True
    sheet["I4"] = datetime(2026, 5, 15, 10, 23)
    sheet["J4"] = datetime(2026, 5, 15)
    sheet["K4"] = time(9, 30)
    sheet["L4"] = timedelta(hours=30)
    sheet["M4"] = "=1+1"  # written by openpyxl: no cached value, read as blank
    sheet["C6"] = "＝ＳＵＭ（Ａ１）<script>"
    sheet.merge_cells("C7:E8")
    sheet["C7"] = "結合"
    sheet["B10"] = 0.1 + 0.2
    hidden = book.create_sheet("隠し")
    hidden.sheet_state = "hidden"
    hidden["A1"] = "注記"
    book.create_sheet("空")
    book.save(path)
    return path


def test_rich_workbook_reads_the_same_with_both_readers(tmp_path):
    path = rich_workbook(tmp_path / "rich.xlsx")
    assert fits_calamine(path)
    fast, streaming = read_excel_sheets(path), _read_excel_streaming(path)
    assert list(fast) == ["回答", "隠し", "空"]
    assert trimmed(fast) == trimmed(streaming)
    rows = fast["回答"]
    assert rows[3][2:12] == [
        "282014",
        "実施",
        12,
        12.5,
        -3,
        True,
        datetime(2026, 5, 15, 10, 23),
        datetime(2026, 5, 15),
        time(9, 30),
        timedelta(hours=30),
    ]
    assert type(rows[3][4]) is int and type(rows[3][5]) is float
    assert type(rows[3][9]) is datetime  # a date cell as openpyxl gives it, not datetime.date
    assert rows[6][2] == "結合" and rows[6][3] is None and rows[7][2] is None
    assert rows[0][0] is None and len({len(row) for row in rows}) == 1  # from A1, rectangular


@pytest.mark.skipif(not SHARED_JUKI, reason="../shared/data is absent")
@pytest.mark.parametrize("path", SHARED_JUKI, ids=lambda p: p.name)
def test_real_population_workbooks_read_the_same_with_both_readers(path):
    assert fits_calamine(path)
    assert read_excel_sheets(path) == _read_excel_streaming(path)


def test_error_cells_are_kept_as_their_code_not_read_as_blanks(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["団体コード", "率"])
    book.active.append(["282014", "#DIV/0!"])  # openpyxl stores an error code as an error cell (t="e")
    path = tmp_path / "errors.xlsx"
    book.save(path)
    assert not fits_calamine(path)
    assert read_excel_sheets(path)["Sheet"][1] == ["282014", "#DIV/0!"]


def sparse_workbook(path: Path, far: str) -> Path:
    book = openpyxl.Workbook()
    book.active["A1"] = "団体コード"
    book.active[far] = "x"
    book.save(path)
    return path


def with_sheet_xml(source: Path, target: Path, change) -> Path:
    """A copy of ``source`` whose first sheet's XML is ``change(xml)``."""
    with zipfile.ZipFile(source) as archive:
        sheet = archive.read(FIRST_SHEET)
    return rewrite_zip(source, target, replace={FIRST_SHEET: change(sheet)})


READ_IN_A_CHILD = "import sys; from loaders.textio import read_excel_sheets; read_excel_sheets(sys.argv[1])"


@pytest.mark.parametrize(
    "change",
    [
        lambda xml: xml,  # XFD1048576: Excel's last cell
        lambda xml: re.sub(rb'r="(XFD)?1048576"', rb'r="\g<1>20000000"', xml),  # beyond Excel's limits
    ],
    ids=["last-cell", "beyond-excel"],
)
def test_a_sparse_sheet_spanning_a_huge_grid_is_refused_without_building_it(tmp_path, change):
    path = with_sheet_xml(sparse_workbook(tmp_path / "plain.xlsx", "XFD1048576"), tmp_path / "sparse.xlsx", change)
    assert not fits_calamine(path)
    # calamine would allocate the whole grid (hundreds of GB) and abort the process: read in a child
    # so that a regression shows as a failed test, not as a crashed test run
    child = subprocess.run(
        [sys.executable, "-c", READ_IN_A_CHILD, str(path)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        timeout=120,
    )
    assert child.returncode == 1, child.stderr[-2000:]  # a Python exception, not an abort (134)
    assert "LoaderError" in child.stderr and "セル範囲が大きすぎます" in child.stderr


@pytest.mark.parametrize(
    "change",
    [lambda xml: xml.replace(b'<c r="B2"', b"<c", 1), lambda xml: xml.replace(b'r="B2"', b'r="B&#50;"', 1)],
    ids=["no-reference", "entity-in-reference"],
)
def test_cells_without_a_plain_reference_go_to_the_streaming_reader(tmp_path, change):
    plain = sparse_workbook(tmp_path / "plain.xlsx", "B2")
    assert fits_calamine(plain)
    path = with_sheet_xml(plain, tmp_path / "changed.xlsx", change)
    assert not fits_calamine(path)
    assert "x" in read_excel_sheets(path)["Sheet"][1]  # without a reference: the row's first cell


def test_a_broken_workbook_is_a_loader_error(tmp_path):
    broken = with_sheet_xml(rich_workbook(tmp_path / "rich.xlsx"), tmp_path / "broken.xlsx", lambda xml: xml[:-200])
    with pytest.raises(LoaderError, match="Excel"):
        read_excel_sheets(broken)


def test_dates_keep_their_day(tmp_path):
    book = openpyxl.Workbook()
    book.active["A1"] = date(2026, 1, 31)
    path = tmp_path / "date.xlsx"
    book.save(path)
    assert read_excel_sheets(path)["Sheet"] == [[datetime(2026, 1, 31)]]
