"""Downloads of the tables on screen: CSV with a UTF-8 BOM (so Excel opens Japanese correctly) and
.xlsx with bold filled frozen headers, number formats per column and fitted widths — written by
the one writer of every exported file (store.writer), which neutralises formula-like text in
every cell, header and sheet name."""

from __future__ import annotations

from store.writer import CSV_MIME, DECIMAL_FORMAT, INTEGER_FORMAT, XLSX_MIME, csv_bytes, excel_bytes

__all__ = ["CSV_MIME", "DECIMAL_FORMAT", "INTEGER_FORMAT", "XLSX_MIME", "csv_bytes", "excel_bytes"]
