"""Uploaded files on their way into the store (pure file handling, no Streamlit).

An upload is first *staged* under data/tmp/uploads/ and validated there (``loaders.build.check_file``);
only a file the user accepts after reading the validation report is moved to data/uploads/, which the
rebuild reads. Names are sanitised: no folders, no hidden files, only letters (Japanese included),
digits and ``._-()``, an allowed extension — nothing a user uploads can escape its folder.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from loaders.build import iter_source_files
from loaders.fetch import CACHE_DIR
from store.paths import DATA_DIR, SHARED_DATA

UPLOAD_DIR = DATA_DIR / "uploads"
STAGING_DIR = DATA_DIR / "tmp" / "uploads"
ALLOWED_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".json", ".geojson", ".topojson", ".zip")
MAX_NAME_LENGTH = 120
DECLARATIONS = ".as_of.json"  # 調査時点 declared on the upload form; hidden, so the build does not read it as data


class UploadNameError(ValueError):
    """The file name cannot be used (message in Japanese)."""


def safe_name(name: str) -> str:
    """A safe file name for an upload: the last path component, NFKC-normalised, characters other
    than letters, digits and ``._-()`` replaced by ``_``, no leading dots, at most 120 characters,
    and an allowed extension (.csv, .xlsx, .xlsm, .json, .geojson, .topojson, .zip)."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFKC", str(name)))[-1]
    base = re.sub(r"[^\w.\-()]+", "_", base).lstrip("._")
    suffix = Path(base).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise UploadNameError(
            f"ファイル「{name}」の種類（拡張子 {suffix or 'なし'}）は取り込めません。"
            f"対応する拡張子: {' '.join(ALLOWED_SUFFIXES)}"
        )
    stem = Path(base).stem[: MAX_NAME_LENGTH - len(suffix)] or "upload"
    return stem + suffix


@dataclass(frozen=True)
class StagedFile:
    path: Path
    sha256: str
    size: int


def stage(name: str, content: bytes, folder: Path | None = None) -> StagedFile:
    """Write an upload into the staging folder under its safe name (a file of the same name is
    replaced: a re-upload of a corrected file supersedes the rejected one)."""
    folder = Path(folder or STAGING_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    target = (folder / safe_name(name)).resolve()
    if not target.is_relative_to(folder.resolve()):
        raise UploadNameError(f"ファイル名「{name}」は使えません。")
    target.write_bytes(content)
    return StagedFile(target, hashlib.sha256(content).hexdigest(), len(content))


def accept(staged: Path, folder: Path | None = None, as_of: date | None = None) -> Path:
    """Move a validated file from staging into the uploads folder the rebuild reads, with the 調査時点 the
    administrator declared for it (None: the release list's, the file's own, or 調査時点「不明」)."""
    folder = Path(folder or UPLOAD_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / safe_name(Path(staged).name)
    if as_of is not None and as_of > date.today():
        raise UploadNameError(
            f"調査時点 {as_of.year}年{as_of.month}月{as_of.day}日 は未来の日付です。今日以前の日付を指定してください。"
        )
    Path(staged).replace(target)
    declare(target.name, as_of, folder)
    return target


def declared_dates(folder: Path | None = None) -> dict[str, str]:
    """File name → the 調査時点 (ISO) declared on the upload form, for the files still in the uploads folder."""
    folder = Path(folder or UPLOAD_DIR)
    try:
        declared = json.loads((folder / DECLARATIONS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {name: day for name, day in declared.items() if isinstance(day, str) and (folder / name).is_file()}


def declare(name: str, as_of: date | None, folder: Path | None = None) -> None:
    """Record (or, with None, forget) the 調査時点 declared for an uploaded file (a hidden file the build skips)."""
    folder = Path(folder or UPLOAD_DIR)
    declared = declared_dates(folder)
    declared.pop(name, None)
    if as_of is not None:
        declared[name] = as_of.isoformat()
    path = folder / DECLARATIONS
    if declared:
        path.write_text(json.dumps(declared, ensure_ascii=False, indent=1), encoding="utf-8")
    else:
        path.unlink(missing_ok=True)


def accepted(folder: Path | None = None) -> list[Path]:
    """Files waiting in the uploads folder, by name."""
    folder = Path(folder or UPLOAD_DIR)
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")) if folder.is_dir() else []


def remove(name: str, folder: Path | None = None) -> None:
    """Delete one accepted upload (by its listed name; nothing outside the folder)."""
    folder = Path(folder or UPLOAD_DIR)
    target = (folder / safe_name(name)).resolve()
    if target.is_relative_to(folder.resolve()):
        target.unlink(missing_ok=True)
        declare(target.name, None, folder)


def describe_sources(folders: list[Path]) -> list[str]:
    """What a rebuild reads, named as an administrator knows it (where the files came from, how many)
    rather than by the server's folder paths."""
    known = {
        Path(CACHE_DIR).resolve(): "「公式データの取得」で保存したファイル",
        SHARED_DATA.resolve(): "サーバーに置かれた公開データ",
        Path(UPLOAD_DIR).resolve(): "取り込み対象に追加したファイル（下の一覧）",
    }
    described, others = [], 0
    for folder in folders:
        label = known.get(Path(folder).resolve())
        if label is None:
            others += 1
            label = "サーバーで指定された公開データのフォルダ" + (f"（{others}）" if others > 1 else "")
        files = iter_source_files([folder]) if Path(folder).exists() else []
        described.append(f"{label}：{len(files):,} ファイル")
    return described
