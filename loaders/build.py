"""Build the store: every recognised file under the source folders into a new DuckDB file.

Steps: registry and catalogs → each file (sniffed by content) → finalise (population, bands,
indicator as-of, catalog completeness) → the national metrics kept in the store → mark complete →
atomic swap. Any loader error stops the build and leaves the previous database byte-for-byte unchanged.
"""
from __future__ import annotations

import getpass
import hashlib
import importlib
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Iterable

import duckdb
import pandas as pd

from loaders import releases, store
from loaders.base import LoadContext, LoadResult, Loader
from loaders.catalog import DATA_DIR, load_indicator_catalog, load_pop_bands, load_sources
from loaders.errors import Issue, LoaderError, Report, UnknownFileError, shorten
from loaders.registry import Registry, load_registry
from loaders.textio import sniff_head

# One module per source; each exposes LOADERS (instances following loaders.base.Loader).
LOADER_MODULES = (
    "loaders.digital_agency",
    "loaders.boundaries",
    "loaders.population",
    "loaders.area",
    "loaders.opendata_survey",
    "loaders.survey",
)
IGNORED_SUFFIXES = {".md", ".txt", ".pdf", ".html", ".sha256"}
# Population for 団体規模 (bands, density), in order of preference: the yearly 住民基本台帳 count is the
# series prefectures band municipalities by (seed 000's table); the census fills gaps; demo values last.
POPULATION_INDICATORS = ("population_juki", "population_census", "population_demo")


def loader_modules() -> list:
    modules = []
    for module_name in LOADER_MODULES:
        try:
            modules.append(importlib.import_module(module_name))
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            # a source whose loader is not part of this installation
    return modules


def all_loaders() -> list[Loader]:
    return [loader for module in loader_modules() for loader in module.LOADERS]


def detect_loader(path: Path, loaders: Iterable[Loader] | None = None) -> Loader | None:
    head = sniff_head(path)
    for loader in loaders if loaders is not None else all_loaders():
        if loader.sniff(path, head):
            return loader
    return None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class BuildSummary:
    target: Path
    files: list[dict] = field(default_factory=list)  # file, loader, rows, status, message
    report: Report = field(default_factory=Report)
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        ok = [f for f in self.files if f["status"] in ("ok", "warning")]
        skipped = [f for f in self.files if f["status"] == "skipped"]
        out = [
            f"データベース: {self.target}",
            f"読み込んだファイル: {len(ok)} 件、対象外: {len(skipped)} 件、所要 {self.seconds:.2f} 秒",
        ]
        for f in self.files:
            out.append(f"  [{f['status']}] {f['file']}  ({f['loader'] or '-'}, {f['rows']} 行){'  ' + f['message'] if f['message'] else ''}")
        for key, value in self.counts.items():
            out.append(f"{key}: {value}")
        unresolved = self.report.unresolved
        out.append(f"対応付けできなかった市区町村名: {len(unresolved)} 件")
        for item in unresolved:
            out.append(f"  {item['file']} {shorten(item.get('column', ''))}: {shorten(item['name'])}（{item['reason']}）")
        warnings = self.report.warnings
        out.append(f"警告: {len(warnings)} 件")
        out.extend(f"  {w}" for w in warnings[:50])
        if len(warnings) > 50:
            out.append(f"  …ほか {len(warnings) - 50} 件")
        return out


class BuildError(LoaderError):
    """A build stopped; the previous database is unchanged."""


def iter_source_files(sources: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for source in sources:
        source = Path(source)
        if source.is_file():
            files.append(source)
        elif source.is_dir():
            files.extend(sorted(p for p in source.rglob("*") if p.is_file() and not p.name.startswith(".")))
        else:
            raise BuildError("指定したフォルダまたはファイルが見つかりません。", file=source)
    return files


def write_reference_tables(con: duckdb.DuckDBPyConnection, registry: Registry, sources: dict[str, dict]) -> None:
    store.append(con, "prefectures", registry.prefectures)
    store.append(con, "municipalities", registry.municipalities.assign(synthetic=False))
    store.append(con, "wards", registry.wards)
    store.append(con, "pop_bands", load_pop_bands()[["label", "min_population", "order"]])
    source_rows = pd.DataFrame([
        {key: (str(entry.get(key)) if entry.get(key) is not None else None)
         for key in ("id", "title", "publisher", "licence", "credit", "url", "as_of", "as_of_note", "note")}
        for entry in sources.values()
    ])
    store.append(con, "sources", source_rows)
    regions_csv = DATA_DIR / "regions.csv"
    if regions_csv.exists():
        regions = pd.read_csv(regions_csv, dtype=str, comment="#")
        known = set(registry.municipalities.code)
        unknown = sorted(set(regions.code) - known)
        if unknown:
            raise BuildError(f"地域区分に登録簿にない団体コードがあります: {unknown[:5]}", file=regions_csv)
        store.append(con, "regions", regions[["code", "region_set", "region"]])


def finalise(con: duckdb.DuckDBPyConnection, catalog: dict[str, dict]) -> None:
    """Derived columns and catalog checks once every file is in.

    A loader module may define ``finalise(con)`` for work that needs all its files at once
    (e.g. choosing one boundary per municipality when several files cover it); those run first.
    """
    for module in loader_modules():
        hook = getattr(module, "finalise", None)
        if hook is not None:
            hook(con)
    used = [row[0] for row in con.execute("SELECT DISTINCT indicator_id FROM indicator_values ORDER BY 1").fetchall()]
    missing = [indicator for indicator in used if indicator not in catalog]
    if missing:
        raise BuildError(f"指標カタログ（data/indicators/）に定義のない指標が読み込まれました: {', '.join(missing)}")
    catalog_rows = pd.DataFrame([
        {
            "id": e["id"], "title": e["title"], "short_title": e.get("short_title") or e["title"], "unit": e["unit"],
            "kind": e["kind"], "pillar": e.get("pillar"), "category": e.get("category"), "source": e["source"],
            "polarity": e["polarity"], "weight": float(e.get("weight", 1.0)),
            "target": float(e["target"]) if e.get("target") is not None else None,
            "level": e["level"], "component": bool(e.get("component", False)), "description": e["description"],
            "survey": e.get("survey"), "as_of_text": e.get("as_of_text"), "definition_url": e.get("definition_url"),
            "as_of_group": e.get("as_of_group"),
        }
        for e in catalog.values()
    ])
    store.append(con, "indicators", catalog_rows)
    con.execute(
        """
        WITH newest_as_of AS (
            SELECT indicator_id, max(as_of) AS as_of FROM indicator_values GROUP BY indicator_id
        )
        UPDATE indicators SET as_of = newest_as_of.as_of
        FROM newest_as_of WHERE indicators.id = newest_as_of.indicator_id
        """
    )
    con.execute(
        """
        WITH preference AS (
            SELECT * FROM (VALUES (?, 1), (?, 2), (?, 3)) AS p(indicator_id, rank)
        ), population_candidates AS (
            SELECT v.code, v.value, v.source, v.as_of, v.synthetic,
                   row_number() OVER (
                       PARTITION BY v.code ORDER BY v.synthetic, preference.rank, v.as_of DESC
                   ) AS newest_first
            FROM indicator_values AS v JOIN preference USING (indicator_id)
            WHERE v.value IS NOT NULL
        ), newest_population AS (
            SELECT * FROM population_candidates WHERE newest_first = 1
        )
        UPDATE municipalities
        SET population = CAST(round(newest_population.value) AS BIGINT),
            population_source = newest_population.source,
            population_as_of = newest_population.as_of,
            synthetic = newest_population.synthetic
        FROM newest_population WHERE municipalities.code = newest_population.code
        """,
        list(POPULATION_INDICATORS),
    )
    con.execute(
        """
        WITH area_candidates AS (
            SELECT code, value, row_number() OVER (PARTITION BY code ORDER BY as_of DESC) AS newest_first
            FROM indicator_values WHERE indicator_id = 'area_km2' AND value > 0
        )
        UPDATE municipalities SET area_km2 = area_candidates.value
        FROM area_candidates WHERE municipalities.code = area_candidates.code AND newest_first = 1
        """
    )
    con.execute(
        """
        WITH banded AS (
            SELECT m.code, max_by(b.label, b.min_population) AS pop_band
            FROM municipalities AS m JOIN pop_bands AS b ON m.population >= b.min_population
            GROUP BY m.code
        )
        UPDATE municipalities
        SET pop_band = banded.pop_band,
            density = CASE WHEN municipalities.area_km2 > 0 THEN municipalities.population / municipalities.area_km2 END
        FROM banded WHERE municipalities.code = banded.code
        """
    )


def precompute_metrics(con: duckdb.DuckDBPyConnection, report: Report) -> None:
    """Keep the national metrics in the store (metrics.stored), so that pages and exports read them
    instead of computing them. A failure here leaves the store as correct as without the step (the
    metrics are then computed when shown), so it is reported as a warning, not a failed build."""
    from metrics.summary import store_all_metrics  # metrics reads the store this module writes

    try:
        store_all_metrics(con)
    except Exception as exc:  # noqa: BLE001 - any metric failure: report it, keep the build
        report.warn(f"指標の事前計算に失敗しました（画面の表示時に計算します）: {shorten(str(exc))}")


SyntheticStep = Callable[[duckdb.DuckDBPyConnection, LoadContext, Report], None]


def build(
    sources: Iterable[Path],
    target: Path = store.DEFAULT_DB,
    *,
    as_of: str | None = None,
    synthetic_steps: Iterable[SyntheticStep] = (),
    loaded_by: str | None = None,
    keep_versions: int = store.KEEP_VERSIONS,
    on_file: Callable[[Path], None] | None = None,
    upload_dirs: Iterable[Path] = (),
) -> BuildSummary:
    """Ingest every recognised file into a new database and swap it in; raise BuildError on failure.

    ``upload_dirs``: folders of uploaded files, whose 取得日 is the day of the upload."""
    started = time.perf_counter()
    today = date.today()
    upload_dirs = tuple(Path(folder) for folder in upload_dirs)
    synthetic_steps = tuple(synthetic_steps)
    target = Path(target)
    summary = BuildSummary(target=target)
    files = iter_source_files(sources)
    source_catalog = load_sources()
    catalog = load_indicator_catalog(sources=source_catalog)
    registry = load_registry()
    ctx = LoadContext(registry=registry, indicators=catalog, sources=source_catalog, as_of=as_of)
    loaders = all_loaders()
    user = loaded_by or _current_user()

    building = store.new_build_path(target)
    con = duckdb.connect(str(building))
    try:
        store.create_schema(con)
        write_reference_tables(con, registry, source_catalog)
        for path in files:
            if on_file:
                on_file(path)
            entry = {"file": str(path), "loader": None, "rows": 0, "status": "skipped", "message": "", "sha256": sha256_of(path)}
            loader = detect_loader(path, loaders)
            if loader is None:
                if path.suffix.lower() not in IGNORED_SUFFIXES:
                    summary.report.warn("内容から種類を判別できないため読み込みませんでした。", file=path)
                    entry["message"] = "未対応の形式"
                else:
                    entry["message"] = "説明文書"
                summary.files.append(entry)
                continue
            entry["loader"] = loader.name
            try:
                result = loader.load(path, ctx)
            except LoaderError as exc:
                raise BuildError(str(exc), issues=[exc.as_issue()]) from exc
            write_release(con, path, entry["sha256"], result, declared=as_of is not None,
                          retrieved=releases.retrieval_of(path, entry["sha256"], today, upload_dirs))
            write_result(con, result)
            entry["rows"] = result.rows
            entry["status"] = "warning" if result.report.warnings else "ok"
            entry["message"] = f"警告 {len(result.report.warnings)} 件" if result.report.warnings else ""
            summary.report.extend(result.report)
            summary.files.append(entry)
        for step in synthetic_steps:
            step(con, ctx, summary.report)
        finalise(con, catalog)
        precompute_metrics(con, summary.report)
        now = datetime.now()
        log = pd.DataFrame([
            {"file": Path(f["file"]).name, "sha256": f["sha256"], "loader": f["loader"], "rows": f["rows"],
             "status": f["status"], "message": f["message"], "loaded_at": now, "loaded_by": user}
            for f in summary.files
        ], columns=["file", "sha256", "loader", "rows", "status", "message", "loaded_at", "loaded_by"])
        store.append(con, "ingest_log", log)
        summary.counts = _counts(con)
        store.set_info(con, "built_at", now.isoformat(timespec="seconds"))
        store.set_info(con, "built_by", user)
        store.set_info(con, "demo", "true" if synthetic_steps else "false")
        store.set_info(con, "complete", "true")
        con.execute("CHECKPOINT")
        con.close()
        store.swap_in(building, target, keep=keep_versions)
    except BaseException:
        try:
            con.close()
        finally:
            store.discard(building)
        raise
    summary.seconds = time.perf_counter() - started
    return summary


def write_release(con: duckdb.DuckDBPyConnection, path: Path, sha256: str, result: LoadResult, *, declared: bool,
                  retrieved: releases.Retrieval) -> None:
    """A file of indicator values is a release: its row in ``releases``, the 調査時点 it carries per
    indicator, and the release id and 取得日 on its value rows."""
    values = result.tables.get("indicator_values")
    if values is None or values.empty:
        return
    if declared:
        origin = releases.DECLARED
    elif result.as_of_from_file:
        origin = releases.IN_FILE
    else:
        origin = releases.SOURCE_DEFAULT
    release = releases.Release(
        release_id=releases.unknown_release_id(sha256), source=result.source, file=path.name, sha256=sha256,
        as_of=releases.newest_as_of(values), as_of_origin=origin, retrieved=retrieved,
    )
    result.tables["indicator_values"] = releases.stamp(values, release)
    store.append(con, "releases", pd.DataFrame([release.row()]))
    store.append(con, "release_indicators", releases.release_indicator_rows(release, values))


def write_result(con: duckdb.DuckDBPyConnection, result: LoadResult) -> None:
    for table, frame in result.tables.items():
        store.append(con, table, frame)
    if result.report.unresolved:
        store.append(con, "unresolved_names", pd.DataFrame([
            {"file": u["file"], "row_no": u.get("row"), "column_ref": shorten(u.get("column", "")), "name": shorten(u["name"]),
             "reason": u["reason"]}
            for u in result.report.unresolved
        ]))


def _counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    query = {
        "市区町村数": "SELECT count(*) FROM municipalities",
        "指標値のある市区町村数": "SELECT count(DISTINCT v.code) FROM indicator_values v JOIN municipalities m USING (code)",
        "指標数（値あり）": "SELECT count(DISTINCT indicator_id) FROM indicator_values",
        "指標値（行）": "SELECT count(*) FROM indicator_values",
        "境界のある市区町村数": "SELECT count(*) FROM boundaries",
        "人口のある市区町村数": "SELECT count(*) FROM municipalities WHERE population IS NOT NULL",
        "調査回答（行）": "SELECT count(*) FROM survey_answers",
    }
    return {label: con.execute(sql).fetchone()[0] for label, sql in query.items()}


def _current_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no user database in some containers
        return "unknown"


def check_file(path: Path, as_of: str | None = None) -> tuple[Loader | None, LoadResult | None, list[Issue]]:
    """Validate one file without writing anything. Returns (loader, result, issues)."""
    path = Path(path)
    if not path.is_file():
        return None, None, [Issue("error", "ファイルが見つかりません。", str(path))]
    loader = detect_loader(path)
    if loader is None:
        error = UnknownFileError("内容から種類を判別できません（対応している形式の一覧は README を参照）。", file=path)
        return None, None, [error.as_issue()]
    source_catalog = load_sources()
    ctx = LoadContext(load_registry(), load_indicator_catalog(sources=source_catalog), source_catalog, as_of)
    try:
        result = loader.load(path, ctx)
    except LoaderError as exc:
        return loader, None, [exc.as_issue()] + exc.issues
    return loader, result, result.report.issues
