"""Committed definitions in data/: sources, the indicator catalog, population bands, regions."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from loaders.errors import LoaderError
from store.paths import DATA_DIR

INDICATOR_FIELDS = (
    "id",
    "title",
    "unit",
    "kind",
    "pillar",
    "source",
    "polarity",
    "level",
    "description",
    "survey",
    "as_of_group",
)  # as_of_group: the indicators that share one 調査時点 (data/releases.yaml)
POLARITIES = {"higher_is_better", "lower_is_better", "neutral"}
KINDS = {"binary", "percent", "count", "number", "category"}


# libyaml's loader when PyYAML has it: the catalog is ~0.25 s of every build with the Python one
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path):
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise LoaderError(
            f"YAMLの書式が正しくありません（{getattr(exc, 'problem', exc)}）。",
            file=path,
            row=mark.line + 1 if mark else None,
        ) from exc


def load_sources(path: Path | None = None) -> dict[str, dict]:
    path = path or DATA_DIR / "sources.yaml"
    entries = _read_yaml(path) or []
    result = {}
    for entry in entries:
        if not entry.get("id") or not entry.get("title"):
            raise LoaderError("出典の定義に id または title がありません。", file=path)
        result[entry["id"]] = entry
    return result


def load_indicator_catalog(folder: Path | None = None, sources: dict[str, dict] | None = None) -> dict[str, dict]:
    """All indicator definitions from data/indicators/*.yaml, validated."""
    folder = folder or DATA_DIR / "indicators"
    sources = sources if sources is not None else load_sources()
    catalog: dict[str, dict] = {}
    for path in sorted(folder.glob("*.yaml")):
        for position, entry in enumerate(_read_yaml(path) or [], start=1):
            missing = [key for key in INDICATOR_FIELDS if entry.get(key) in (None, "")]
            where = f"{position}番目の指標（{entry.get('id', '?')}）"
            if missing:
                raise LoaderError(f"{where}に必須項目 {', '.join(missing)} がありません。", file=path)
            if entry["polarity"] not in POLARITIES:
                raise LoaderError(
                    f"{where}の polarity「{entry['polarity']}」は {sorted(POLARITIES)} のいずれかにしてください。",
                    file=path,
                )
            if entry["kind"] not in KINDS:
                raise LoaderError(
                    f"{where}の kind「{entry['kind']}」は {sorted(KINDS)} のいずれかにしてください。", file=path
                )
            if entry["source"] not in sources:
                raise LoaderError(f"{where}の出典「{entry['source']}」が data/sources.yaml にありません。", file=path)
            if entry["id"] in catalog:
                raise LoaderError(f"指標ID「{entry['id']}」が重複しています。", file=path)
            catalog[entry["id"]] = dict(entry, catalog_file=path.name)
    return catalog


def load_pop_bands(path: Path | None = None) -> pd.DataFrame:
    """Population bands (label, lower bound inclusive, upper bound exclusive), as in the 兵庫 table."""
    frame = pd.read_csv(path or DATA_DIR / "pop_bands.csv", comment="#")
    return frame.sort_values("min_population", ignore_index=True)


def band_for(population: float | None, bands: pd.DataFrame) -> str | None:
    if population is None or pd.isna(population):
        return None
    label = None
    for row in bands.itertuples():
        if population >= row.min_population:
            label = row.label
    return label
