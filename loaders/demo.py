"""The embedded demo: the real registry (and real public data when it is on this machine) plus
synthetic assessment rounds, every synthetic row marked so the UI says 「デモ用の架空データ」.

On a fresh machine with no network the public files are absent: the demo then also carries
synthetic indicator values and populations, again marked as synthetic.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from loaders.base import LoadContext
from loaders.build import BuildSummary, build
from loaders.errors import Report
from loaders.fetch import CACHE_DIR
from loaders.synthetic import synthetic_indicator_step, synthetic_survey_step
from store.connection import open_read_only, store_problem
from store.paths import DEFAULT_DB, DEMO_DB, SHARED_DATA


def real_data_folders() -> list[Path]:
    """Folders of official files to include: $DX_SOURCE, the fetch cache, ../shared/data."""
    configured = [Path(p) for p in os.environ.get("DX_SOURCE", "").split(os.pathsep) if p]
    candidates = configured + [CACHE_DIR, SHARED_DATA]
    return [folder for folder in candidates if folder.is_dir() and any(folder.iterdir())]


def _synthetic_where_missing(con: duckdb.DuckDBPyConnection, ctx: LoadContext, report: Report) -> None:
    real_indicators = con.execute(
        "SELECT count(*) FROM indicator_values WHERE source LIKE 'digital_agency%' AND NOT synthetic"
    ).fetchone()[0]
    if real_indicators == 0:
        report.info("公開データが見つからないため、指標値と人口もデモ用の架空データで補いました。")
        synthetic_indicator_step(con, ctx, report)
    synthetic_survey_step(con, ctx, report)


def build_demo(target: Path = DEMO_DB, sources: list[Path] | None = None) -> BuildSummary:
    folders = real_data_folders() if sources is None else sources
    return build(folders, target, synthetic_steps=[_synthetic_where_missing], loaded_by="デモ（自動構築）")


def resolve_database() -> tuple[Path, bool]:
    """The database the app shows: $DX_DB, else the built store, else the demo (built on first use).

    Returns (path, is_demo_fallback)."""
    configured = os.environ.get("DX_DB")
    if configured:
        return Path(configured), False
    if DEFAULT_DB.exists():
        return DEFAULT_DB, False
    if not DEMO_DB.exists() or _unusable(DEMO_DB):
        build_demo()  # e.g. a demo an earlier version of the app built lacks tables this version reads
    return DEMO_DB, True


def _unusable(path: Path) -> bool:
    try:
        connection = open_read_only(str(path))
    except duckdb.Error:
        return True  # not a database this version can open: build the demo again
    try:
        return store_problem(connection) is not None
    finally:
        connection.close()
