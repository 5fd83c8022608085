"""Committed definitions in data/ as the build needs them: sources and the indicator catalog (read and
validated by store/catalog.py, here with their problems as LoaderError), population bands."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from loaders.errors import LoaderError
from store.catalog import CatalogError, read_indicators, read_pop_bands, read_sources


def load_sources(path: Path | None = None) -> dict[str, dict]:
    """data/sources.yaml by id, validated (store.catalog.Source)."""
    try:
        entries = read_sources(path)
    except CatalogError as exc:
        raise LoaderError(exc.message, file=exc.file, row=exc.row) from None
    return {entry["id"]: entry for entry in entries}


def load_indicator_catalog(folder: Path | None = None, sources: dict[str, dict] | None = None) -> dict[str, dict]:
    """All indicator definitions from data/indicators/*.yaml, validated (store.catalog.Indicator), each
    naming a known source, ids unique across the files."""
    sources = sources if sources is not None else load_sources()
    try:
        files = read_indicators(folder)
    except CatalogError as exc:
        raise LoaderError(exc.message, file=exc.file, row=exc.row) from None
    catalog: dict[str, dict] = {}
    for path, entries in files:
        for position, entry in enumerate(entries, start=1):
            where = f"{position}番目の指標（{entry['id']}）"
            if entry["source"] not in sources:
                raise LoaderError(f"{where}の出典「{entry['source']}」が data/sources.yaml にありません。", file=path)
            if entry["id"] in catalog:
                raise LoaderError(f"指標ID「{entry['id']}」が重複しています。", file=path)
            catalog[entry["id"]] = dict(entry, catalog_file=path.name)
    return catalog


def load_pop_bands(path: Path | None = None) -> pd.DataFrame:
    """Population bands (label, lower bound inclusive, upper bound exclusive), as in the 兵庫 table."""
    try:
        return read_pop_bands(path)
    except CatalogError as exc:
        raise LoaderError(exc.message, file=exc.file, row=exc.row) from None


def band_for(population: float | None, bands: pd.DataFrame) -> str | None:
    if population is None or pd.isna(population):
        return None
    label = None
    for row in bands.itertuples():
        if population >= row.min_population:
            label = row.label
    return label
