"""Uploaded file names: the browser sends the file name, so it is untrusted. Only the last path
component is kept, control and reserved characters are replaced, hidden/relative names are refused,
and the destination is checked to lie inside the upload folder.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path, PurePosixPath, PureWindowsPath

from loaders.errors import LoaderError

MAX_NAME_BYTES = 200  # below the 255-byte limit of common file systems, leaving room for a suffix
_RESERVED = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


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
