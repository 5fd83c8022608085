"""Releases: which release of an official file a loaded file is, and the two dates it carries.

A release is one loaded file of an official indicator source. Its rows in ``indicator_values``
carry the 調査時点 (``as_of``: what the survey describes; NULL = 不明) and the 取得日
(``retrieved_on``: when the file was downloaded or uploaded). The two are different facts and are
never substituted for each other.

The 調査時点 of a file, in order:
1. its sha256 is in the release list (data/releases.yaml): the date of each indicator group there;
2. the administrator declared a date for this file (``--as-of FILE=YYYY-MM-DD``, the upload form);
3. the file states it (住基: 「令和6年1月1日住民基本台帳人口」 in its title);
4. a date declared for every file without a known date (``--as-of YYYY-MM-DD``);
5. none of these: 調査時点「不明」 (NULL). Never the download date.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from loaders.errors import LoaderError
from store.catalog import SAFE_LOADER
from store.dates import as_date, japanese_date, release_label
from store.paths import DATA_DIR

RELEASES_FILE = DATA_DIR / "releases.yaml"

MANIFEST_NAME = "manifest.json"  # written by loaders.fetch beside the downloaded files

# as_of_origin: where the 調査時点 of a release came from
FROM_RELEASE_LIST = "release_list"  # recognised by its sha256 in data/releases.yaml
DECLARED = "declared"  # --as-of / the upload form
IN_FILE = "in_file"  # read from the file itself (住基: the title's 令和X年1月1日)
SOURCE_DEFAULT = "source_default"  # data/sources.yaml's as_of for the source
UNKNOWN = "unknown"  # none of the above: 調査時点「不明」

# retrieved_on_origin: where the 取得日 came from
RETRIEVED_BY_FETCH = "fetch"  # the download date in data/cache/manifest.json
RETRIEVED_BY_UPLOAD = "upload"  # the day the file was uploaded (its time in data/uploads/)
RETRIEVED_AT_BUILD = "build"  # a file in a folder: the day of the build (no better date known)


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
            "release_id": self.release_id,
            "source": self.source,
            "label": release_label(self.as_of, self.retrieved.on),
            "as_of": self.as_of,
            "retrieved_on": self.retrieved.on,
            "retrieved_on_origin": self.retrieved.origin,
            "file": self.file,
            "sha256": self.sha256,
            "as_of_origin": self.as_of_origin,
            "synthetic": self.synthetic,
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
                return {
                    row["sha256"]: datetime.fromisoformat(row["fetched_at"]).date()
                    for row in rows
                    if row.get("sha256") and row.get("fetched_at")
                }
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
    """(release_id, indicator_id, as_of, as_of_estimated) for each 調査時点 the release carries."""
    estimated = frame["as_of_estimated"] if "as_of_estimated" in frame.columns else False
    pairs = frame.assign(as_of_estimated=estimated)[["indicator_id", "as_of", "as_of_estimated"]].drop_duplicates(
        ["indicator_id", "as_of"]
    )
    return pairs.assign(release_id=release.release_id)[["release_id", "indicator_id", "as_of", "as_of_estimated"]]


def newest_as_of(frame: pd.DataFrame) -> date | None:
    dates = [as_date(value) for value in frame["as_of"].dropna().unique()]
    return max(dates) if dates else None


def synthetic_release(release_id: str, source: str, file: str, frame: pd.DataFrame) -> tuple[Release, pd.DataFrame]:
    """A demo release (``demo-…``): invented values, so no file hash and no 取得日; its rows stamped."""
    release = Release(
        release_id=release_id,
        source=source,
        file=file,
        sha256="",
        as_of=newest_as_of(frame),
        as_of_origin=SOURCE_DEFAULT,
        retrieved=Retrieval(None, ""),
        synthetic=True,
    )
    return release, stamp(frame, release)


# ---------------------------------------------------------------- the release list (data/releases.yaml)


class GroupAsOf(BaseModel):
    """The 調査時点 of one indicator group in a release, with the evidence for it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    as_of: date | None  # None: the evidence does not settle it → 調査時点「不明」
    estimated: bool = False  # inferred by us from the evidence, not stated by the publisher: shown as （推定）
    basis: str = Field(min_length=1)  # where the date comes from, quoted; the reasoning where it is inferred


class KnownRelease(BaseModel):
    """One known release of an official file, recognised by the sha256 of its bytes."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    release_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    source: str  # sources.id
    file: str  # the publisher's file name
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    published: date | None = None  # the publisher's release / update date (not a 調査時点)
    obtained_from: str = Field(min_length=1)  # where the copy with this sha256 came from
    as_of: dict[str, GroupAsOf]  # as_of_group (indicator catalog) → 調査時点
    note: str | None = None


PROBLEMS = {
    "missing": "がありません",
    "extra_forbidden": "は使えない項目です",
    "string_pattern_mismatch": "の形式が正しくありません",
    "string_too_short": "が空です",
    "date_from_datetime_parsing": "が日付（YYYY-MM-DD）ではありません",
    "date_parsing": "が日付（YYYY-MM-DD）ではありません",
    "date_type": "が日付（YYYY-MM-DD）ではありません",
    "dict_type": "は「グループ名: {as_of, basis}」の形にしてください",
    "model_type": "は項目（キー: 値）の形にしてください",
    "bool_type": "は true / false にしてください",
}


def _validation_message(error: ValidationError, position: int, entry: object) -> str:
    name = entry.get("release_id", "?") if isinstance(entry, dict) else "?"
    problems = []
    for item in error.errors()[:5]:
        field_path = ".".join(str(part) for part in item["loc"]) or "全体"
        problems.append(f"{field_path}{PROBLEMS.get(item['type'], '：' + item['msg'])}")
    return f"版の一覧の{position}番目の版（{name}）: " + "、".join(problems) + "。"


def load_release_list(
    path: Path | None = None, catalog: dict[str, dict] | None = None, sources: dict[str, dict] | None = None
) -> dict[str, KnownRelease]:
    """The known releases by sha256, validated against the sources and the indicator catalog: every
    indicator group of the release's source has a date entry, and no other group is named."""
    path = Path(path or RELEASES_FILE)
    if not path.exists():
        return {}
    try:
        entries = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise LoaderError(
            f"YAMLの書式が正しくありません（{getattr(exc, 'problem', exc)}）。",
            file=path,
            row=mark.line + 1 if mark else None,
        ) from exc
    if not isinstance(entries, list):
        raise LoaderError("版の一覧は、版（release_id, source, file, sha256, …）のリストにしてください。", file=path)
    known = []
    for position, entry in enumerate(entries, start=1):
        try:
            known.append(KnownRelease.model_validate(entry))
        except ValidationError as exc:
            raise LoaderError(_validation_message(exc, position, entry), file=path) from None
    result: dict[str, KnownRelease] = {}
    ids: set[str] = set()
    for release in known:
        if release.release_id in ids:
            raise LoaderError(f"版「{release.release_id}」が2回あります。", file=path)
        if release.sha256 in result:
            raise LoaderError(
                f"版「{release.release_id}」の sha256 は版「{result[release.sha256].release_id}」と同じです。",
                file=path,
            )
        if sources is not None and release.source not in sources:
            raise LoaderError(
                f"版「{release.release_id}」の出典「{release.source}」が data/sources.yaml にありません。", file=path
            )
        if catalog is not None:
            groups = {entry.get("as_of_group") for entry in catalog.values() if _from_source(entry, release.source)}
            missing = sorted(str(g) for g in groups - set(release.as_of))
            extra = sorted(set(release.as_of) - groups)
            if missing or extra:
                problem = f"調査時点のない指標グループ {missing}" if missing else f"出典にない指標グループ {extra}"
                raise LoaderError(f"版「{release.release_id}」に{problem}があります。", file=path)
        ids.add(release.release_id)
        result[release.sha256] = release
    return result


def _from_source(entry: dict, source: str) -> bool:
    return entry.get("source") == source or source in (entry.get("loaded_from") or ())


# ---------------------------------------------------------------- declared dates (--as-of, upload form)


def parse_declared_date(text: str | date, today: date, file: str | None = None) -> date:
    """A declared 調査時点: an ISO date that is not in the future (history may be filled in backwards)."""
    if isinstance(text, date):
        day = text
    else:
        try:
            day = date.fromisoformat(str(text).strip())
        except ValueError:
            raise LoaderError(
                f"調査時点「{text}」は日付として読めません。YYYY-MM-DD の形（例: 2024-04-01）で指定してください。",
                file=file,
            ) from None
    if day > today:
        raise LoaderError(
            f"調査時点 {japanese_date(day)} は未来の日付です（今日は {japanese_date(today)}）。"
            "調査が何時点の状況を表しているかを、今日以前の日付で指定してください。",
            file=file,
        )
    return day


@dataclass
class Declarations:
    """Dates the administrator declared: per file (path or file name) and one for every file without a known date."""

    per_file: dict[str, date] = field(default_factory=dict)
    default: date | None = None

    @classmethod
    def parse(
        cls, values: Iterable[str] | str | None, today: date, per_file: Mapping[str, str | date] | None = None
    ) -> Declarations:
        """From ``--as-of`` values (``DATE`` or ``FILE=DATE``, repeatable) and a mapping FILE → DATE."""
        declarations = cls()
        if isinstance(values, str):
            values = [values]
        for value in values or ():
            if "=" in str(value):
                name, _, day = str(value).rpartition("=")
                declarations.add(name, parse_declared_date(day, today, name))
            elif declarations.default is not None:
                raise LoaderError(
                    "すべてのファイルに共通の調査時点（--as-of 日付）は1つだけ指定できます。"
                    "ファイルごとの日付は --as-of ファイル=日付 で指定してください。"
                )
            else:
                declarations.default = parse_declared_date(value, today)
        for name, day in (per_file or {}).items():
            declarations.add(str(name), parse_declared_date(day, today, str(name)))
        return declarations

    def add(self, name: str, day: date) -> None:
        name = name.strip()
        if not name:
            raise LoaderError("--as-of ファイル=日付 のファイルが空です。")
        if name in self.per_file and self.per_file[name] != day:
            raise LoaderError(
                f"ファイル「{name}」に2つの調査時点（{japanese_date(self.per_file[name])}、{japanese_date(day)}）が指定されています。"
            )
        self.per_file[name] = day

    def for_file(self, path: Path) -> date | None:
        """The date declared for this file: by its path (as given or resolved) or by its file name."""
        path = Path(path)
        for name, day in self.per_file.items():
            if name == path.name or name == str(path) or _same_file(Path(name), path):
                return day
        return None

    def unmatched(self, files: Iterable[Path]) -> list[str]:
        """Declared names that match none of the files (a typo would silently leave a file 不明)."""
        files = list(files)
        return [
            name
            for name in self.per_file
            if not any(name == f.name or name == str(f) or _same_file(Path(name), f) for f in files)
        ]


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and a.resolve() == b.resolve()
    except OSError:
        return False


# ---------------------------------------------------------------- dating a loaded file


@dataclass(frozen=True)
class Dating:
    release_id: str
    as_of_origin: str
    as_of: pd.Series  # one 調査時点 (date or None) per value row
    estimated: pd.Series | bool = False  # per value row: the 調査時点 is our inference (release list)


def by_distinct(column: pd.Series, function) -> pd.Series:
    """``column.map(function)`` as an object Series, calling ``function`` once per distinct value
    (a file has 150,000 value rows but a few dozen indicators and dates)."""
    codes, distinct = pd.factorize(column, use_na_sentinel=True)
    results = np.empty(len(distinct) + 1, dtype=object)
    results[:-1] = [function(value) for value in distinct]
    results[-1] = function(None) if (codes == -1).any() else None  # codes of -1 (missing) take the last
    return pd.Series(results[codes], index=column.index, dtype=object)


def date_values(
    values: pd.DataFrame,
    sha256: str,
    catalog: dict[str, dict],
    known: KnownRelease | None,
    declared: date | None,
    default: date | None,
    as_of_from_file: bool,
) -> Dating:
    """The 調査時点 of each value row and where it came from (the order in the module docstring)."""
    if known is not None:
        entries = {
            indicator: known.as_of.get(catalog[indicator].get("as_of_group"))
            for indicator in values["indicator_id"].unique()
        }
        as_of = {indicator: entry.as_of if entry else None for indicator, entry in entries.items()}
        estimated = {indicator: bool(entry and entry.estimated) for indicator, entry in entries.items()}
        return Dating(
            known.release_id,
            FROM_RELEASE_LIST,
            by_distinct(values["indicator_id"], as_of.get),
            by_distinct(values["indicator_id"], estimated.get).astype(bool),
        )
    release_id = unknown_release_id(sha256)
    if declared is not None:
        return Dating(release_id, DECLARED, pd.Series([declared] * len(values), index=values.index, dtype=object))
    if as_of_from_file:
        return Dating(release_id, IN_FILE, by_distinct(values["as_of"], as_date))
    if default is not None:
        return Dating(release_id, DECLARED, pd.Series([default] * len(values), index=values.index, dtype=object))
    return Dating(release_id, UNKNOWN, pd.Series([None] * len(values), index=values.index, dtype=object))
