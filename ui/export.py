"""Downloads of the tables on screen: CSV with a UTF-8 BOM (so Excel opens Japanese correctly) and
.xlsx with bold filled frozen headers, number formats per column and fitted widths — written by
the one writer of every exported file (store.writer), which neutralises formula-like text in
every cell, header and sheet name — and the one download button that offers them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import streamlit as st

from store.writer import CSV_MIME, DECIMAL_FORMAT, INTEGER_FORMAT, XLSX_MIME, csv_bytes, excel_bytes

__all__ = [
    "CSV_MIME",
    "DECIMAL_FORMAT",
    "INTEGER_FORMAT",
    "XLSX_MIME",
    "csv_bytes",
    "download",
    "excel_bytes",
]


def download(
    label: str,
    data: bytes | Callable[[], bytes],
    file_name: str,
    mime: str,
    *,
    icon: str = ":material/download:",
    key: str | None = None,
    help: str | None = None,
    type: Literal["primary", "secondary", "tertiary"] = "secondary",
    where=None,
) -> None:
    """Every download button of the app (in ``where``, a column or container; the page otherwise).
    ``data`` is the file, or a function that writes it when the button is pressed.

    A press never reruns the page: the rerun adds nothing to a download, and one that starts while a
    file written on press is being built can leave the press without a file (Streamlit 1.67: 3 of 40
    presses on 比較・分析's CSV with the machine busy)."""
    (where or st).download_button(
        label,
        data=data,
        file_name=file_name,
        mime=mime,
        key=key,
        help=help,
        on_click="ignore",
        type=type,
        icon=icon,
    )
