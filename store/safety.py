"""Safety helpers for what leaves or enters the data folder: exported cells and uploaded file names.

- ``neutralise_formula`` / ``neutralise_frame``: a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab
  or a carriage return (or the full-width ``＝ ＋ － ＠``, which Japanese Excel turns into the ASCII ones on
  entry) is run as a formula by Excel or LibreOffice when a CSV/XLSX export is opened (CSV
  injection). Such cells get a leading ``'`` so they are shown as the text they are. Numbers stay
  numbers (a negative number is not text and is never prefixed). Every file that leaves the app goes
  through ``store.writer``, which applies these to every cell, header and sheet name.
- ``safe_upload_name`` / ``upload_path``: the browser sends the file name, so it is untrusted. Only the
  last path component is kept, control and reserved characters are replaced, hidden/relative names
  are refused, and the destination is checked to lie inside the upload folder.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path, PurePosixPath, PureWindowsPath

import pandas as pd

from loaders.errors import LoaderError

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
MAX_NAME_BYTES = 200  # below the 255-byte limit of common file systems, leaving room for a suffix
_RESERVED = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


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


def safe_upload_name(name: str) -> str:
    """A file name that is safe to create in the upload folder, keeping the user's readable name.

    Raises ``LoaderError`` when nothing usable is left (e.g. ``..``, ``/``, an empty name).
    """
    text = unicodedata.normalize("NFC", str(name))
    # both separators: a name from Windows uses backslashes
    base = PureWindowsPath(PurePosixPath(text.replace("\\", "/")).name).name
    base = _RESERVED.sub("_", base).strip().lstrip(".").strip()
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    if stem.upper() in _WINDOWS_DEVICES:
        stem = f"_{stem}"
    suffix = suffix[:16]
    budget = MAX_NAME_BYTES - len(suffix.encode("utf-8")) - 1
    stem = stem.encode("utf-8")[:budget].decode("utf-8", errors="ignore").rstrip(" .")
    if not stem:
        raise LoaderError(f"ファイル名「{name}」は使えません。ファイル名を付け直してからアップロードしてください。")
    return f"{stem}.{suffix}" if suffix else stem


def upload_path(folder: str | Path, name: str) -> Path:
    """Where an uploaded file named ``name`` is written: always a direct child of ``folder``."""
    folder = Path(folder).resolve()
    target = (folder / safe_upload_name(name)).resolve()
    if target.parent != folder:  # e.g. a symlink inside the folder pointing elsewhere
        raise LoaderError(f"ファイル名「{name}」はアップロード先のフォルダの外を指すため使えません。")
    return target
