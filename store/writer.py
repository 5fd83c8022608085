"""The one writer of every CSV and spreadsheet that leaves the app or the command lines (the pages'
downloads through ui/export.py, ``python -m metrics export`` / ``priority --out``, the committee
exports of exports/tables.py).

Every cell, header and sheet name passes ``store.safety.neutralise_formula`` (a text that starts
like a formula gets a leading ``'``; numbers stay numbers), and workbooks are opened with
xlsxwriter's ``strings_to_formulas`` and ``strings_to_urls`` off, so no text becomes a formula or a
live link even where a caller forgot to neutralise it. CSV is UTF-8 with a BOM (Excel then opens
Japanese correctly) and CRLF line ends.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import IO

import pandas as pd
import xlsxwriter

from store.safety import FORMULA_PREFIXES, neutralise_formula, neutralise_frame

CSV_MIME = "text/csv"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
INTEGER_FORMAT = "#,##0"
DECIMAL_FORMAT = "#,##0.0"
SHEET_NAME_LIMIT = 31  # Excel's limit
WORKBOOK_OPTIONS = {
    "in_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "nan_inf_to_errors": True,
}
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
_HEADER_STYLE = {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"}
NOTES_SHEET = "説明"


def safe_cell(value: object) -> object:
    """A value as it may be written to a cell: formula-like text neutralised, anything else unchanged."""
    return neutralise_formula(value)


def safe_header(column: object) -> str:
    return neutralise_formula(str(column))


def safe_sheet_name(name: object, used: set[str] | None = None) -> str:
    """A sheet name Excel accepts (no ``[]:*?/\\``, ≤ 31 characters, not blank, not starting with ``'``
    after neutralising) and unique among ``used`` (compared case-insensitively, as Excel does)."""
    text = _SHEET_NAME_FORBIDDEN.sub("_", str(name)).strip().strip("'") or "表"
    if text.startswith(FORMULA_PREFIXES):
        text = "_" + text  # Excel forbids a leading apostrophe in a sheet name: keep it text another way
    text = text[:SHEET_NAME_LIMIT].rstrip("'")
    taken = {u.lower() for u in used or set()}
    candidate, n = text, 2
    while candidate.lower() in taken:
        suffix = f"_{n}"
        candidate, n = text[: SHEET_NAME_LIMIT - len(suffix)] + suffix, n + 1
    if used is not None:
        used.add(candidate)
    return candidate


# ---------------------------------------------------------------- CSV


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 with BOM, CRLF line ends, missing values as empty cells, formula-like text neutralised."""
    return neutralise_frame(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def write_csv(frame: pd.DataFrame, target: str | Path | IO[str], *, bom: bool = True) -> None:
    """``frame`` as CSV into a file path (UTF-8, with a BOM unless ``bom=False``) or an open text stream
    (standard output: no BOM); the same neutralising as ``csv_bytes``."""
    safe = neutralise_frame(frame)
    if isinstance(target, (str, Path)):
        Path(target).write_bytes(
            safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig" if bom else "utf-8")
        )
    else:
        safe.to_csv(target, index=False)


# ---------------------------------------------------------------- Excel


class Workbook:
    """An .xlsx built in memory: ``add_table`` per sheet, then ``bytes()``. Headers bold, filled and
    frozen, an autofilter, number formats per column (integers with thousands separators, other
    numbers with one decimal) and widths fitted to the first rows."""

    def __init__(self) -> None:
        self._buffer = io.BytesIO()
        self._book = xlsxwriter.Workbook(self._buffer, WORKBOOK_OPTIONS)
        self._header = self._book.add_format(_HEADER_STYLE)
        self._formats = {
            "integer": self._book.add_format({"num_format": INTEGER_FORMAT}),
            "decimal": self._book.add_format({"num_format": DECIMAL_FORMAT}),
        }
        self._names: set[str] = set()

    def add_notes(self, notes: list[tuple[object, object]], name: str = NOTES_SHEET) -> None:
        """A sheet of (項目, 内容) rows: title, scope, source, as-of, filters."""
        sheet = self._book.add_worksheet(safe_sheet_name(name, self._names))
        sheet.write_row(0, 0, ["項目", "内容"], self._header)
        for i, (item, text) in enumerate(notes, start=1):
            sheet.write_row(i, 0, [safe_cell(item), safe_cell(text)])
        sheet.set_column(0, 0, 18)
        sheet.set_column(1, 1, 90)

    def add_table(self, name: str, frame: pd.DataFrame, *, max_width: float = 60) -> str:
        """``frame`` on a new sheet; returns the sheet name actually used."""
        frame = neutralise_frame(frame)
        sheet_name = safe_sheet_name(name, self._names)
        sheet = self._book.add_worksheet(sheet_name)
        sheet.write_row(0, 0, [safe_header(c) for c in frame.columns], self._header)
        for j in range(frame.shape[1]):
            values = frame.iloc[:, j]
            if pd.api.types.is_datetime64_any_dtype(values):
                values = values.dt.strftime("%Y-%m-%d")
            cells = values.astype(object).where(values.notna(), None).tolist()
            sheet.write_column(1, j, cells)
            width = max([len(str(frame.columns[j]))] + [len(str(v)) for v in cells[:200] if v is not None])
            sheet.set_column(j, j, min(max(width * 1.6, 8), max_width), self._formats.get(_number_kind(values)))
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(len(frame), 1), max(frame.shape[1] - 1, 0))
        return sheet_name

    def bytes(self) -> bytes:
        self._book.close()
        return self._buffer.getvalue()


def excel_bytes(sheets: dict[str, pd.DataFrame], notes: list[tuple[str, str]] | None = None) -> bytes:
    """One sheet per table (name → frame) and, first, an optional 「説明」 sheet of (item, text) rows."""
    book = Workbook()
    if notes:
        book.add_notes(notes)
    for name, frame in sheets.items():
        book.add_table(name, frame)
    return book.bytes()


def _number_kind(values: pd.Series) -> str | None:
    """'integer' for whole-number columns (counts, ranks), 'decimal' for other numbers, else None."""
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return None
    present = values.dropna()
    return (
        "integer" if pd.api.types.is_integer_dtype(values) or (len(present) and (present % 1 == 0).all()) else "decimal"
    )
