"""The catalog files in data/: sources.yaml and indicators/*.yaml, read and validated by pydantic models.

The one reader of these files: the loaders build the store's catalog tables from it, the metrics take
indicator titles from it. A problem is a ``CatalogError`` naming the file, the entry and the field.
"""

from __future__ import annotations

import copy
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

import pandas as pd
import yaml
from pydantic import Field, RootModel, ValidationError

from store.paths import DATA_DIR
from store.validation import Definition, problems

# libyaml's loader when PyYAML has it: the catalog is ~0.25 s of every build with the Python one
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SOURCES_FILE = DATA_DIR / "sources.yaml"
INDICATOR_DIR = DATA_DIR / "indicators"


class CatalogError(ValueError):
    """A problem of a catalog file, in Japanese, with the file and (where known) the line."""

    def __init__(self, message: str, file: str | Path | None = None, row: int | None = None):
        super().__init__(message)
        self.message, self.file, self.row = message, file, row


class Source(Definition):
    """One entry of data/sources.yaml."""

    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    publisher: str = Field(min_length=1)
    licence: str = Field(min_length=1)
    credit: str = Field(min_length=1)
    url: str | None = None
    as_of: date | None = None  # the 調査時点 when one date holds for the whole source
    as_of_note: str | None = None
    fetch: dict[str, str] | None = None  # relative path in the cache → official URL


class Indicator(Definition):
    """One indicator of data/indicators/*.yaml."""

    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    short_title: str | None = None
    unit: str = Field(min_length=1)
    kind: Literal["binary", "percent", "count", "number", "category"]
    pillar: str = Field(min_length=1)
    category: str | None = None
    source: str = Field(min_length=1)
    polarity: Literal["higher_is_better", "lower_is_better", "neutral"]
    weight: float = 0.0
    target: float | None = None
    level: str = Field(min_length=1)
    component: bool = False
    survey: str = Field(min_length=1)
    as_of_group: str = Field(min_length=1)  # the indicators that share one 調査時点 (data/releases.yaml)
    as_of_text: str | None = None
    definition_url: str | None = None
    description: str = Field(min_length=1)
    question: str | None = None
    answers: dict[str, float | None] | None = None  # answer text → value (null: not counted)
    header: list[str] | None = None
    label: str | None = None
    loaded_from: list[str] | None = None
    numerator: str | None = None
    denominator: str | None = None


class SourcesFile(RootModel[list[Source]]):
    pass


class IndicatorsFile(RootModel[list[Indicator]]):
    pass


def read_yaml(path: Path):
    try:
        return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise CatalogError(
            f"YAMLの書式が正しくありません（{getattr(exc, 'problem', exc)}）。",
            file=path,
            row=mark.line + 1 if mark else None,
        ) from exc


def _validated(model, path: Path) -> list[dict]:
    """The file's entries as written (plain dicts, a fresh copy), after ``model`` accepted every one."""
    stat = Path(path).stat()
    return copy.deepcopy(_validated_version(model, Path(path), stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=32)
def _validated_version(model, path: Path, _mtime_ns: int, _size: int) -> list[dict]:
    # once per file version: the metrics ask for indicator titles on every page run
    entries = read_yaml(path) or []
    try:
        model.model_validate(entries)
    except ValidationError as exc:
        raise CatalogError("\n".join(problems(exc, path)), file=path) from None
    return entries


def read_sources(path: Path | None = None) -> list[dict]:
    return _validated(SourcesFile, Path(path or SOURCES_FILE))


def read_indicators(folder: Path | None = None) -> list[tuple[Path, list[dict]]]:
    """(file, its indicators) for every data/indicators/*.yaml, in file-name order."""
    return [(path, _validated(IndicatorsFile, path)) for path in sorted(Path(folder or INDICATOR_DIR).glob("*.yaml"))]


# ---------------------------------------------------------------- CSV tables


class PopBand(Definition):
    """A row of data/pop_bands.csv: a 人口規模 band, lower bound inclusive."""

    label: str = Field(min_length=1)
    min_population: int = Field(ge=0)
    order: int = Field(ge=1)


class RegionMember(Definition):
    """A row of data/regions.csv: one municipality's region in a user-defined region set."""

    code: str = Field(pattern=r"^\d{6}$")
    region_set: str = Field(min_length=1)
    region: str = Field(min_length=1)
    name: str | None = None


class MunicipalityType(Definition):
    """A row of data/municipality_types.csv: a 政令市 or 中核市 (other types follow from code and name)."""

    code5: str = Field(pattern=r"^\d{5}$")
    pref_name: str = Field(min_length=1)
    name: str = Field(min_length=1)
    type: Literal["政令市", "中核市"]


def read_table(path: Path, model: type[Definition]) -> pd.DataFrame:
    """A committed CSV (``#`` lines are comments), every row accepted by ``model``; the columns as the
    model types them. CatalogError naming the file, the data row and the column otherwise."""
    path = Path(path)
    frame = pd.read_csv(path, dtype=str, comment="#", keep_default_na=False)
    rows = [{key: (value if value != "" else None) for key, value in row.items()} for row in frame.to_dict("records")]
    try:
        checked = RootModel[list[model]].model_validate(rows).root
    except ValidationError as exc:
        lines = [line.replace("の", "のデータ", 1) for line in problems(exc, path)]
        raise CatalogError("\n".join(lines), file=path) from None
    return pd.DataFrame([row.model_dump() for row in checked], columns=list(model.model_fields))


def read_pop_bands(path: Path | None = None) -> pd.DataFrame:
    """Population bands (label, min_population, order) in ascending order, as in the 兵庫 table."""
    bands = read_table(Path(path or DATA_DIR / "pop_bands.csv"), PopBand)
    return bands.sort_values("min_population", ignore_index=True)


def read_regions(path: Path | None = None) -> pd.DataFrame:
    return read_table(Path(path or DATA_DIR / "regions.csv"), RegionMember)


def read_municipality_types(path: Path | None = None) -> pd.DataFrame:
    return read_table(Path(path or DATA_DIR / "municipality_types.csv"), MunicipalityType)
