"""Releases: which release of an official file a loaded file is, and the two dates it carries.

A release is one loaded file of an official indicator source. Its rows in ``indicator_values``
carry the 調査時点 (``as_of``: what the survey describes; NULL = 不明) and the 取得日
(``retrieved_on``: when the file was downloaded or uploaded). The two are different facts and are
never substituted for each other.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from metrics.dates import as_date, release_label

MANIFEST_NAME = "manifest.json"  # written by loaders.fetch beside the downloaded files

# as_of_origin: where the 調査時点 of a release came from
FROM_RELEASE_LIST = "release_list"   # recognised by its sha256 in data/releases.yaml
DECLARED = "declared"                # --as-of / the upload form
IN_FILE = "in_file"                  # read from the file itself (住基: the title's 令和X年1月1日)
SOURCE_DEFAULT = "source_default"    # data/sources.yaml's as_of for the source
UNKNOWN = "unknown"                  # none of the above: 調査時点「不明」

# retrieved_on_origin: where the 取得日 came from
RETRIEVED_BY_FETCH = "fetch"         # the download date in data/cache/manifest.json
RETRIEVED_BY_UPLOAD = "upload"       # the day the file was uploaded (its time in data/uploads/)
RETRIEVED_AT_BUILD = "build"         # a file in a folder: the day of the build (no better date known)


@dataclass(frozen=True)
class Retrieval:
    on: date | None
    origin: str


@dataclass
class Release:
    release_id: str
    source: str
    file: str
    sha256: str
    as_of: date | None
    as_of_origin: str
    retrieved: Retrieval
    synthetic: bool = False

    def row(self) -> dict:
        return {
            "release_id": self.release_id, "source": self.source,
            "label": release_label(self.as_of, self.retrieved.on),
            "as_of": self.as_of, "retrieved_on": self.retrieved.on, "retrieved_on_origin": self.retrieved.origin,
            "file": self.file, "sha256": self.sha256, "as_of_origin": self.as_of_origin, "synthetic": self.synthetic,
        }


def unknown_release_id(sha256: str) -> str:
    return f"file-{sha256[:12]}"


def manifest_dates(path: Path) -> dict[str, date]:
    """sha256 → download date from the ``manifest.json`` of ``loaders fetch`` in the file's folder or above."""
    for folder in Path(path).resolve().parents:
        manifest = folder / MANIFEST_NAME
        if manifest.is_file():
            try:
                rows = json.loads(manifest.read_text(encoding="utf-8"))
                return {row["sha256"]: datetime.fromisoformat(row["fetched_at"]).date() for row in rows
                        if row.get("sha256") and row.get("fetched_at")}
            except (ValueError, TypeError, KeyError, AttributeError):
                return {}  # a damaged manifest gives no dates; the build date is used instead
    return {}


def retrieval_of(path: Path, sha256: str, today: date, upload_dirs: tuple[Path, ...] = ()) -> Retrieval:
    """The 取得日 of a file: its download date when ``loaders fetch`` fetched it, the day it was
    uploaded for an upload, else the day of this build."""
    fetched = manifest_dates(path).get(sha256)
    if fetched is not None:
        return Retrieval(fetched, RETRIEVED_BY_FETCH)
    resolved = Path(path).resolve()
    if any(resolved.is_relative_to(Path(folder).resolve()) for folder in upload_dirs):
        return Retrieval(datetime.fromtimestamp(resolved.stat().st_mtime).date(), RETRIEVED_BY_UPLOAD)
    return Retrieval(today, RETRIEVED_AT_BUILD)


def stamp(frame: pd.DataFrame, release: Release) -> pd.DataFrame:
    """The release's id and 取得日 on every value row."""
    return frame.assign(release_id=release.release_id, retrieved_on=release.retrieved.on)


def release_indicator_rows(release: Release, frame: pd.DataFrame) -> pd.DataFrame:
    """(release_id, indicator_id, as_of) for each 調査時点 the release carries."""
    pairs = frame[["indicator_id", "as_of"]].drop_duplicates()
    return pairs.assign(release_id=release.release_id)[["release_id", "indicator_id", "as_of"]]


def newest_as_of(frame: pd.DataFrame) -> date | None:
    dates = [as_date(value) for value in frame["as_of"].dropna().unique()]
    return max(dates) if dates else None


def synthetic_release(release_id: str, source: str, file: str, frame: pd.DataFrame) -> tuple[Release, pd.DataFrame]:
    """A demo release (``demo-…``): invented values, so no file hash and no 取得日; its rows stamped."""
    release = Release(release_id=release_id, source=source, file=file, sha256="", as_of=newest_as_of(frame),
                      as_of_origin=SOURCE_DEFAULT, retrieved=Retrieval(None, ""), synthetic=True)
    return release, stamp(frame, release)
