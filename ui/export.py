"""Downloads of the tables on screen: CSV with a UTF-8 BOM (so Excel opens Japanese correctly) and
.xlsx with bold filled frozen headers, number formats per column and fitted widths (pure: no
Streamlit). Text cells that a spreadsheet would run as a formula (=, +, -, @ …) are neutralised
with a leading ' (loaders.safety), so a municipality name or an answer cannot execute."""
from __future__ import annotations

import io

import pandas as pd
import xlsxwriter

from loaders.safety import neutralise_frame

CSV_MIME = "text/csv"
INTEGER_FORMAT = "#,##0"
DECIMAL_FORMAT = "#,##0.0"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 with BOM, CRLF line ends, missing values as empty cells, formula-like text neutralised."""
    return neutralise_frame(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def excel_bytes(sheets: dict[str, pd.DataFrame], notes: list[tuple[str, str]] | None = None) -> bytes:
    """One sheet per table (name → frame), headers bold and frozen, an autofilter, and an optional
    first sheet 「説明」 of (item, text) rows (source, as-of date, filters)."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "nan_inf_to_errors": True})
    header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
    formats = {"integer": book.add_format({"num_format": INTEGER_FORMAT}),
               "decimal": book.add_format({"num_format": DECIMAL_FORMAT})}
    if notes:
        sheet = book.add_worksheet("説明")
        sheet.write_row(0, 0, ["項目", "内容"], header)
        for i, (item, text) in enumerate(notes, start=1):
            sheet.write_row(i, 0, [item, text])
        sheet.set_column(0, 0, 18)
        sheet.set_column(1, 1, 90)
    for name, frame in sheets.items():
        frame = neutralise_frame(frame)
        sheet = book.add_worksheet(name[:31])
        sheet.write_row(0, 0, [str(c) for c in frame.columns], header)
        for j, column in enumerate(frame.columns):
            values = frame[column]
            if pd.api.types.is_datetime64_any_dtype(values):
                values = values.dt.strftime("%Y-%m-%d")
            cells = values.astype(object).where(values.notna(), None).tolist()
            sheet.write_column(1, j, cells)
            width = max([len(str(column))] + [len(str(v)) for v in cells[:200] if v is not None])
            sheet.set_column(j, j, min(max(width * 1.6, 8), 60), formats.get(_number_kind(values)))
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(len(frame), 1), max(len(frame.columns) - 1, 0))
    book.close()
    return buffer.getvalue()


def _number_kind(values: pd.Series) -> str | None:
    """'integer' for whole-number columns (counts, ranks), 'decimal' for other numbers, else None."""
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return None
    present = values.dropna()
    return "integer" if pd.api.types.is_integer_dtype(values) or (len(present) and (present % 1 == 0).all()) else "decimal"
