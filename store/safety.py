"""Safety of what leaves the app: exported cells.

- ``neutralise_formula`` / ``neutralise_frame``: a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab
  or a carriage return (or the full-width ``＝ ＋ － ＠``, which Japanese Excel turns into the ASCII ones on
  entry) is run as a formula by Excel or LibreOffice when a CSV/XLSX export is opened (CSV
  injection). Such cells get a leading ``'`` so they are shown as the text they are. Numbers stay
  numbers (a negative number is not text and is never prefixed). Every file that leaves the app goes
  through ``store.writer``, which applies these to every cell, header and sheet name.

Uploaded file names are checked in loaders/upload_names.py.
"""

from __future__ import annotations

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def neutralise_formula(value: object) -> object:
    """``value`` with a leading ``'`` when it is text Excel would run as a formula; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` for CSV/Excel export: text cells and column names neutralised, numbers untouched."""
    out = frame.copy()
    for position in range(out.shape[1]):
        series = out.iloc[:, position]
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(object)
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            out.isetitem(position, series.map(neutralise_formula, na_action="ignore"))
    out.columns = [neutralise_formula(column) for column in out.columns]
    return out
