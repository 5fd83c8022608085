"""Build the store: every recognised file under the source folders into a new DuckDB file.

Steps: registry and catalogs → each file (sniffed by content) → finalise (population, bands,
indicator as-of, catalog completeness) → the metric tables (a failure fails the build) → mark complete →
atomic swap. Any loader error stops the build and leaves the previous database byte-for-byte unchanged.
"""

from __future__ import annotations

import getpass
import hashlib
import importlib
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from loaders import releases, store
from loaders.base import LoadContext, Loader, LoadResult
from loaders.catalog import load_indicator_catalog, load_pop_bands, load_sources
from loaders.errors import Issue, LoaderError, Report, UnknownFileError, describe_place, shorten
from loaders.lock import BuildLock
from loaders.registry import Registry, load_registry
from loaders.textio import detect_encoding, read_text, sniff_head
from store.build_info import set_info
from store.catalog import CatalogError, read_regions
from store.dates import japanese_date
from store.paths import DATA_DIR, DEFAULT_DB

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
# series prefectures band municipalities by (兵庫県「市町DX支援パッケージ」's table); the census fills gaps;
# demo values last.
POPULATION_INDICATORS = ("population_juki", "population_census", "population_demo")
# Steps run after finalise, as "module:function(con)": the metric tables (composite_scores …) that pages,
# exports and analysts read. Named here rather than imported: metrics reads the store this module writes.
METRIC_STEPS = ("metrics.tables:write_metric_tables", "metrics.derived_tables:write_derived_tables")


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
            out.append(
                f"  [{f['status']}] {f['file']}  ({f['loader'] or '-'}, {f['rows']} 行)"
                f"{'  ' + f['message'] if f['message'] else ''}"
            )
        for key, value in self.counts.items():
            out.append(f"{key}: {value}")
        unresolved = self.report.unresolved
        out.append(f"対応付けできなかった市区町村名: {len(unresolved)} 件")
        for item in unresolved:
            out.append(
                f"  {item['file']} {shorten(item.get('column', ''))}: {shorten(item['name'])}（{item['reason']}）"
            )
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
    source_rows = pd.DataFrame(
        [
            {
                key: (str(entry.get(key)) if entry.get(key) is not None else None)
                for key in ("id", "title", "publisher", "licence", "credit", "url", "as_of", "as_of_note", "note")
            }
            for entry in sources.values()
        ]
    )
    store.append(con, "sources", source_rows)
    regions_csv = DATA_DIR / "regions.csv"
    if regions_csv.exists():
        try:
            regions = read_regions(regions_csv)
        except CatalogError as exc:
            raise BuildError(exc.message, file=regions_csv) from None
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
    catalog_rows = pd.DataFrame(
        [
            {
                "id": e["id"],
                "title": e["title"],
                "short_title": e.get("short_title") or e["title"],
                "unit": e["unit"],
                "kind": e["kind"],
                "pillar": e.get("pillar"),
                "category": e.get("category"),
                "source": e["source"],
                "polarity": e["polarity"],
                "weight": float(e.get("weight", 1.0)),
                "target": float(e["target"]) if e.get("target") is not None else None,
                "level": e["level"],
                "component": bool(e.get("component", False)),
                "description": e["description"],
                "survey": e.get("survey"),
                "as_of_text": e.get("as_of_text"),
                "definition_url": e.get("definition_url"),
                "as_of_group": e.get("as_of_group"),
            }
            for e in catalog.values()
        ]
    )
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


def run_metric_steps(con: duckdb.DuckDBPyConnection, steps: Iterable[str] = METRIC_STEPS) -> None:
    """Run the declared metric steps on the finished data tables. A failing step fails the build
    (BuildError): a store whose metric tables are missing or stale is never swapped in."""
    for step in steps:
        module_name, _, function_name = step.partition(":")
        try:
            getattr(importlib.import_module(module_name), function_name)(con)
        except Exception as exc:  # noqa: BLE001 - any failure of a metric step stops the build
            raise BuildError(
                "指標の表（総合得点・指標の差・アセスメント得点・成熟度・支援優先度・変化・参考事例・類似団体）を作れなかったため、"
                f"データベースを更新しませんでした: {shorten(str(exc))}"
            ) from exc


SyntheticStep = Callable[[duckdb.DuckDBPyConnection, LoadContext, Report], None]


def _build(
    sources: Iterable[Path],
    target: Path = DEFAULT_DB,
    *,
    as_of: str | Iterable[str] | None = None,
    declared_as_of: Mapping[str, str | date] | None = None,
    synthetic_steps: Iterable[SyntheticStep] = (),
    loaded_by: str | None = None,
    keep_versions: int = store.KEEP_VERSIONS,
    on_file: Callable[[Path], None] | None = None,
    upload_dirs: Iterable[Path] = (),
    release_list: Path | None = None,
    force: bool = False,
) -> BuildSummary:
    """Ingest every recognised file into a new database and swap it in; raise BuildError on failure.
    Called by ``build`` under the database's build lock.

    ``as_of``: the ``--as-of`` values — ``YYYY-MM-DD`` for every file without a known 調査時点, and/or
    ``FILE=YYYY-MM-DD`` for one file (a path, or a file name inside a source folder); ``declared_as_of``
    maps FILE → date the same way (the upload form). ``upload_dirs``: folders of uploaded files, whose
    取得日 is the day of the upload and which, like a file given by itself, must load (an unreadable
    file there stops the build instead of being skipped). ``release_list``: data/releases.yaml."""
    started = time.perf_counter()
    today = date.today()
    upload_dirs = tuple(Path(folder) for folder in upload_dirs)
    synthetic_steps = tuple(synthetic_steps)
    target = Path(target)
    summary = BuildSummary(target=target)
    try:
        declarations = releases.Declarations.parse(as_of, today, declared_as_of)
    except LoaderError as exc:
        raise BuildError(str(exc), issues=[exc.as_issue()]) from exc
    files = iter_source_files(sources)
    explicit = explicit_files(sources, files, upload_dirs)
    unmatched = declarations.unmatched(files)
    if unmatched:
        raise BuildError(
            f"調査時点を指定したファイル「{'」「'.join(unmatched)}」が、取り込むファイルの中にありません"
            "（パスか、フォルダ内のファイル名で指定してください）。"
        )
    source_catalog = load_sources()
    catalog = load_indicator_catalog(sources=source_catalog)
    known = releases.load_release_list(release_list, catalog=catalog, sources=source_catalog)
    registry = load_registry()
    ctx = LoadContext(
        registry=registry,
        indicators=catalog,
        sources=source_catalog,
        as_of=declarations.default.isoformat() if declarations.default else None,
    )
    loaders = all_loaders()
    user = loaded_by or _current_user()

    building = store.new_build_path(target)
    con = duckdb.connect(str(building))
    problems: list[dict] = []
    try:
        store.create_schema(con)
        write_reference_tables(con, registry, source_catalog)
        loaded_hashes: dict[str, str] = {}  # sha256 → the file first loaded with it
        for path in files:
            if on_file:
                on_file(path)
            sha256 = sha256_of(path)
            entry = {"file": str(path), "loader": None, "rows": 0, "status": "skipped", "message": "", "sha256": sha256}
            summary.files.append(entry)
            if sha256 in loaded_hashes:
                entry["status"] = "duplicate"
                entry["message"] = (
                    f"「{Path(loaded_hashes[sha256]).name}」と同じ内容のため、読み込みませんでした（重複）。"
                )
                summary.report.info(entry["message"], file=path)
                continue
            loader = detect_loader(path, loaders)
            if loader is None:
                if path in explicit:  # chosen by the administrator: it must load, forced or not
                    problems.append(unknown_file_problem(path))
                    continue
                if not is_ignored(path):
                    # not silently: an unrecognised data file stops the build (listed with its encoding) unless forced
                    summary.report.warn("内容から種類を判別できないため読み込みませんでした。", file=path)
                    entry["message"] = "未対応の形式"
                    if not force:
                        problems.append(unknown_file_problem(path))
                else:
                    entry["message"] = "説明文書"
                continue
            entry["loader"] = loader.name
            declared = declarations.for_file(path)
            file_ctx = replace(ctx, as_of=declared.isoformat()) if declared else replace(ctx, as_of=None)
            try:
                result = loader.load(path, file_ctx)
            except LoaderError as exc:
                problems.extend(
                    loader_problems(path, with_encoding(exc, path))
                )  # every file is examined before stopping
                entry.update(status="error", message=exc.message)
                continue
            entry["rows"] = result.rows
            try:
                if path in explicit:
                    check_rows_kept(path, result)
                kept = write_release(
                    con,
                    path,
                    sha256,
                    result,
                    catalog=catalog,
                    known=known.get(sha256),
                    declared=declared,
                    default=declarations.default,
                    retrieved=releases.retrieval_of(path, sha256, today, upload_dirs),
                    registry=registry,
                )
            except LoaderError as exc:
                problems.extend(loader_problems(path, exc))
                entry.update(status="error", message=exc.message)
                continue
            loaded_hashes[sha256] = str(path)
            write_result(con, result)
            entry["status"] = "warning" if result.report.warnings else "ok"
            messages = [f"警告 {len(result.report.warnings)} 件"] if result.report.warnings else []
            if kept is not None and kept.repeated:
                messages.append(f"{kept.repeated:,} 件は読み込み済みの版と同じ値のため1件として保持")
            entry["message"] = "、".join(messages)
            summary.report.extend(result.report)
        if problems:
            raise BuildProblemsError(problems)
        for step in synthetic_steps:
            step(con, ctx, summary.report)
        finalise(con, catalog)
        run_metric_steps(con)
        now = datetime.now()
        log = pd.DataFrame(
            [
                {
                    "file": Path(f["file"]).name,
                    "sha256": f["sha256"],
                    "loader": f["loader"],
                    "rows": f["rows"],
                    "status": f["status"],
                    "message": f["message"],
                    "loaded_at": now,
                    "loaded_by": user,
                }
                for f in summary.files
            ],
            columns=["file", "sha256", "loader", "rows", "status", "message", "loaded_at", "loaded_by"],
        )
        store.append(con, "ingest_log", log)
        summary.counts = _counts(con)
        set_info(con, "built_at", now.isoformat(timespec="seconds"))
        set_info(con, "built_by", user)
        set_info(con, "demo", "true" if synthetic_steps else "false")
        set_info(con, "complete", "true")
        if not force:
            guard_against_shrinking(con, target, summary, bool(synthetic_steps))
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


def with_encoding(error: LoaderError, path: Path) -> BuildError:
    """The loader's error as a BuildError, naming the text encoding the file was read with (a wrong guess
    shows up as garbled values, so the reader needs to know which encoding produced them)."""
    message = error.message
    try:
        data = path.read_bytes()
        if b"\x00" not in data[:65536]:
            message += f"（文字コード {detect_encoding(data)} として読みました）"
    except (OSError, LoaderError):
        pass
    issue = LoaderError(message, file=error.file, row=error.row, column=error.column).as_issue()
    return BuildError(message, issues=[issue, *error.issues], file=error.file, row=error.row, column=error.column)


def explicit_files(sources: Iterable[Path], files: list[Path], upload_dirs: tuple[Path, ...]) -> set[Path]:
    """Files the administrator chose one by one — a ``--source`` that is a file, or an upload — which must
    load; files found in a folder may be documentation or other material and are skipped with a warning."""
    given = {Path(source) for source in sources if Path(source).is_file()}
    uploads = [folder.resolve() for folder in upload_dirs]
    return {path for path in files if path in given or any(path.resolve().is_relative_to(folder) for folder in uploads)}


def unreadable_file_error(path: Path) -> BuildError:
    """Why a file chosen by the administrator cannot be read: where its text stops decoding, or that no
    loader recognises its content."""
    try:
        read_text(path)
    except LoaderError as exc:
        place = undecodable_place(path)
        if place is not None:
            row, column, attempts = place
            message = (
                f"文字コードを判別できないため読み込めません（試した文字コード: {attempts}）。"
                "UTF-8 または Shift_JIS の CSV として保存し直してください。"
            )
            return BuildError(
                message,
                issues=[LoaderError(message, file=path, row=row, column=column).as_issue()],
                file=path,
                row=row,
                column=column,
            )
        return BuildError(exc.message, issues=[exc.as_issue()], file=path, row=exc.row, column=exc.column)
    error = UnknownFileError(
        "内容から種類を判別できないため読み込めません（対応している形式は README を参照）。", file=path
    )
    return BuildError(error.message, issues=[error.as_issue()], file=path)


def undecodable_place(path: Path) -> tuple[int, int, str] | None:
    """(row, column, the encodings tried with where each failed) of the first byte that none of UTF-8,
    Shift_JIS (cp932) and EUC-JP can decode, at the place the best-fitting encoding fails; None for a file
    one of them decodes and for binary files (other content: skipped with a warning like any unknown file)."""
    data = path.read_bytes()
    if b"\x00" in data[:65536] or data[:2] in (b"\xff\xfe", b"\xfe\xff") or data.startswith(b"PK"):
        return None
    failures = {}
    for codec in ("utf-8", "cp932", "euc_jp"):
        try:
            data.decode(codec)
        except UnicodeDecodeError as exc:
            failures[codec] = exc.start
        else:
            return None
    position = max(failures.values())
    line_start = data.rfind(b"\n", 0, position) + 1
    row = data.count(b"\n", 0, position) + 1
    column = data.count(b",", line_start, position)
    newline = b"\n"
    attempts = "、".join(f"{name}（{data.count(newline, 0, at) + 1}行目で失敗）" for name, at in failures.items())
    return row, column, attempts


def check_rows_kept(path: Path, result: LoadResult) -> None:
    """A file chosen by the administrator that keeps no row (every code or name unknown) is an error, not
    an empty load: a wrong file or a broken code column would otherwise pass silently."""
    if result.rows or not result.report.unresolved:
        return
    first = result.report.unresolved[0]
    message = (
        f"{len(result.report.unresolved):,} 行すべての団体コード・団体名が登録簿にないため、1行も読み込めません"
        f"（最初の行の値「{shorten(first['name'])}」: {first['reason']}）。"
    )
    raise BuildError(
        message,
        issues=[LoaderError(message, file=path, row=first.get("row"), column=first.get("column")).as_issue()],
        file=path,
        row=first.get("row"),
        column=first.get("column"),
    )


@dataclass
class KeptValues:
    release: releases.Release
    new: int  # rows written
    repeated: int  # rows equal to a value already loaded for the same key (kept once)


def write_release(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    sha256: str,
    result: LoadResult,
    *,
    catalog: dict[str, dict],
    known: releases.KnownRelease | None,
    declared: date | None,
    default: date | None,
    retrieved: releases.Retrieval,
    registry: Registry,
) -> KeptValues | None:
    """A file of indicator values is a release: date its rows (loaders.releases), refuse values that
    contradict an already loaded release for the same (code, indicator, 調査時点), keep values equal to
    one once, and write the release and the 調査時点 it carries per indicator."""
    values = result.tables.get("indicator_values")
    if values is None or values.empty:
        return None
    if known is not None and known.source != result.source:
        raise BuildError(
            f"版の一覧では出典「{known.source}」の版「{known.release_id}」とされるファイルを、"
            f"「{result.source}」として読み込もうとしました（data/releases.yaml を確認してください）。",
            file=path,
        )
    dating = releases.date_values(values, sha256, catalog, known, declared, default, result.as_of_from_file)
    values = values.assign(as_of=dating.as_of)
    release = releases.Release(
        release_id=dating.release_id,
        source=result.source,
        file=path.name,
        sha256=sha256,
        as_of=releases.newest_as_of(values),
        as_of_origin=dating.as_of_origin,
        retrieved=retrieved,
    )
    carried = releases.release_indicator_rows(release, values.assign(as_of_estimated=dating.estimated))
    values = releases.stamp(values, release)
    con.register("incoming_values", store.as_arrow(values))
    try:
        report_conflicts(con, path, catalog, registry)
        repeated = con.execute(
            """
            SELECT count(*) FROM incoming_values AS i JOIN indicator_values AS v
              ON v.code = i.code AND v.indicator_id = i.indicator_id AND v.as_of IS NOT DISTINCT FROM i.as_of
            """
        ).fetchone()[0]
        con.execute(
            """
            INSERT INTO indicator_values BY NAME
            SELECT * FROM incoming_values AS i
            WHERE NOT EXISTS (
                SELECT 1 FROM indicator_values AS v
                WHERE v.code = i.code AND v.indicator_id = i.indicator_id AND v.as_of IS NOT DISTINCT FROM i.as_of
            )
            """
        )
    finally:
        con.unregister("incoming_values")
    del result.tables["indicator_values"]  # written above; write_result stores the other tables
    store.append(con, "releases", pd.DataFrame([release.row()]))
    store.append(con, "release_indicators", carried)
    return KeptValues(release, len(values) - repeated, repeated)


CONFLICT_EXAMPLES = 5


def report_conflicts(con: duckdb.DuckDBPyConnection, path: Path, catalog: dict[str, dict], registry: Registry) -> None:
    """Stop the build when the incoming release gives another value than a loaded one for the same key."""
    conflicts = con.execute(
        """
        SELECT i.code, i.indicator_id, i.as_of, i.raw AS new_raw, v.raw AS old_raw, v.file AS old_file
        FROM incoming_values AS i JOIN indicator_values AS v
          ON v.code = i.code AND v.indicator_id = i.indicator_id AND v.as_of IS NOT DISTINCT FROM i.as_of
        WHERE v.value IS DISTINCT FROM i.value
        ORDER BY i.code, i.indicator_id
        """
    ).fetchall()
    if not conflicts:
        return
    names = entity_names(registry)
    examples = []
    for code, indicator, as_of, new_raw, old_raw, old_file in conflicts[:CONFLICT_EXAMPLES]:
        title = catalog.get(indicator, {}).get("title", indicator)
        examples.append(
            f"{names.get(code, code)}の「{title}」（調査時点 {japanese_date(as_of) or '不明'}）:"
            f"「{old_file}」では「{shorten(old_raw)}」、「{path.name}」では「{shorten(new_raw)}」"
        )
    more = f" ほか {len(conflicts) - CONFLICT_EXAMPLES:,} 件" if len(conflicts) > CONFLICT_EXAMPLES else ""
    old_files = sorted({row[5] for row in conflicts})
    message = (
        f"「{path.name}」と「{'」「'.join(old_files)}」が、同じ団体・指標・調査時点に異なる値を持っています"
        f"（{len(conflicts):,} 件）。" + "／".join(examples) + more + "。"
        "別の調査時点の版であれば、python -m loaders build --as-of ファイル名=YYYY-MM-DD で調査時点を指定してください。"
        "データベースは変更していません。"
    )
    raise BuildError(message, file=path)


def entity_names(registry: Registry) -> dict[str, str]:
    """code → 「兵庫県神戸市」 for municipalities, 「兵庫県」 for prefectures (messages name places, not codes)."""
    municipalities = registry.municipalities
    names = dict(zip(municipalities.code, municipalities.pref_name + municipalities.name))
    names.update(zip(registry.prefectures.code, registry.prefectures.name))
    return names


def write_result(con: duckdb.DuckDBPyConnection, result: LoadResult) -> None:
    for table, frame in result.tables.items():
        store.append(con, table, frame)
    if result.report.unresolved:
        store.append(
            con,
            "unresolved_names",
            pd.DataFrame(
                [
                    {
                        "file": u["file"],
                        "row_no": u.get("row"),
                        "column_ref": shorten(u.get("column", "")),
                        "name": shorten(u["name"]),
                        "reason": u["reason"],
                    }
                    for u in result.report.unresolved
                ]
            ),
        )


def _counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    query = {
        "市区町村数": "SELECT count(*) FROM municipalities",
        "指標値のある市区町村数": "SELECT count(DISTINCT v.code) FROM indicator_values v JOIN municipalities m "
        "USING (code)",
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


# ---------------------------------------------------------------- safety of a build (issue 15):
# the build lock, every problem listed before stopping, and no silent shrinking of the database

IGNORED_NAMES = {"manifest.json"}  # loaders.fetch's list of what it downloaded, beside the files
SHRINK_TOLERANCE = 0.05  # a new database may hold up to 5 % less of any measure without --force
SHRINK_MEASURES = {  # label → SQL on a built store
    "指標値のある市区町村数": "SELECT count(DISTINCT v.code) FROM indicator_values v JOIN municipalities m USING "
    "(code)",
    "値のある指標数": "SELECT count(DISTINCT indicator_id) FROM indicator_values",
    "調査回答（行）": "SELECT count(*) FROM survey_answers",
}
PROBLEM_COLUMNS = {"file": "ファイル", "row": "行", "column": "列", "reason": "理由", "encoding": "文字コード"}


def build(sources: Iterable[Path], target: Path = DEFAULT_DB, *, force: bool = False, **options) -> BuildSummary:
    """Ingest every recognised file into a new database and swap it in (``_build``), holding the
    database's build lock (loaders.lock) throughout: a second update stops at once with
    ``BuildLockedError``. Without ``force`` the build examines every file and stops with
    ``BuildProblemsError`` listing every problem, and stops with ``ShrinkError`` (a before/after
    table) when the new database would hold much less than the current one. Options as ``_build``."""
    with BuildLock(Path(target), user=options.get("loaded_by"), action="再構築") as lock:
        summary = _build(sources, target, force=force, **options)
    if lock.stale:
        summary.report.warn(
            f"途中で止まった更新（開始 {lock.stale.get('started_at', '不明')}、担当 {lock.stale.get('user', '不明')}）"
            "が残したロックを解除しました。",
            file=lock.path,
        )
    return summary


class BuildProblemsError(BuildError):
    """Files that could not be read; ``problems`` lists each (file, row, column, reason, encoding)."""

    def __init__(self, problems: list[dict]):
        self.problems = problems
        files = list(dict.fromkeys(p["file"] for p in problems))
        self.headline = (
            f"{len(files)} 件のファイル（{'、'.join(files[:5])}{' ほか' if len(files) > 5 else ''}）に"
            f"問題が {len(problems)} 件あります。すべて直してから、もう一度再構築してください。"
        )
        # the message names the first problems too; lines() and table() list them all
        super().__init__(
            "\n".join([self.headline, *problem_lines(problems[:5])]),
            issues=[Issue("error", p["reason"], p["file"], p["row"], p["column"]) for p in problems],
        )

    def table(self) -> pd.DataFrame:
        return problems_table(self.problems)

    def lines(self) -> list[str]:
        return [self.headline] + [f"  {line}" for line in problem_lines(self.problems)]


class ShrinkError(BuildError):
    """The new database would hold much less than the current one; ``table`` compares them."""

    def __init__(self, table: pd.DataFrame, reason: str):
        self.table, self.reason = table, reason
        super().__init__(
            f"{reason}データベースは変更していません。このまま置き換えるときは --force を付けて"
            "（画面では確認してから）もう一度実行してください。"
        )

    def lines(self) -> list[str]:
        return [str(self), *self.table.to_string(index=False).splitlines()]


def problems_table(problems: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(problems, columns=list(PROBLEM_COLUMNS)).rename(columns=PROBLEM_COLUMNS)


def problem_lines(problems: list[dict]) -> list[str]:
    lines = []
    for p in problems:
        place = describe_place(p["file"], p["row"], p["column"])
        lines.append(f"{place}: {p['reason']}（文字コード: {p['encoding']}）")
    return lines


def is_ignored(path: Path) -> bool:
    """Documents and the download manifest, which a source folder may hold beside the data."""
    return path.suffix.lower() in IGNORED_SUFFIXES or path.name in IGNORED_NAMES


def _problem(path: Path, reason: str, row: int | None = None, column: int | str | None = None) -> dict:
    return {
        "file": Path(path).name,
        "row": row,
        "column": column,
        "reason": shorten(reason, 300),
        "encoding": describe_encoding(path),
    }


def unknown_file_problem(path: Path) -> dict:
    """An unrecognised file as a problem row: where its text stops decoding, or that no loader knows it."""
    return loader_problems(path, unreadable_file_error(path))[0]


def loader_problems(path: Path, exc: LoaderError) -> list[dict]:
    """The error of a loader and any further issues it collected, each as a problem row."""
    problems = [_problem(path, exc.message, exc.row, exc.column)]
    for issue in exc.issues:
        if issue.level == "error" and (issue.message, issue.row, issue.column) != (exc.message, exc.row, exc.column):
            problems.append(_problem(path, issue.message, issue.row, issue.column))
    return problems


ENCODING_PROBE_BYTES = 16 << 20


def describe_encoding(path: Path) -> str:
    """How a file's text is encoded, as the problem list shows it."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(ENCODING_PROBE_BYTES)
    except OSError:
        return "読めません"
    if data.startswith(b"PK\x03\x04"):
        return "Excel・zip（文字コードなし）"
    if data.startswith(b"\xef\xbb\xbf"):
        return "UTF-8（BOM付き）"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16"
    if b"\x00" in data[:65536]:
        return "バイナリ"
    for codec, label in (("utf-8", "UTF-8"), ("cp932", "Shift_JIS（cp932）")):
        try:
            data.decode(codec)
        except UnicodeDecodeError as exc:
            if codec == "utf-8" and exc.start >= len(data) - 3 and len(data) == ENCODING_PROBE_BYTES:
                return label  # cut inside a character by the probe
            continue
        return label
    return "判別できません（UTF-8・Shift_JIS のどちらでも読めないバイトがあります）"


def guard_against_shrinking(
    con: duckdb.DuckDBPyConnection, target: Path, summary: BuildSummary, synthetic: bool
) -> None:
    """Stop (ShrinkError) when the finished new store ``con`` would replace ``target`` with much less:
    no recognised file at all, or any of SHRINK_MEASURES more than SHRINK_TOLERANCE below the
    current database's."""
    recognised = [f for f in summary.files if f["loader"]]
    after = {label: con.execute(sql).fetchone()[0] for label, sql in SHRINK_MEASURES.items()}
    before = current_measures(Path(target))
    table = pd.DataFrame(
        [
            {"項目": label, "現在": before.get(label) if before else None, "新しいデータベース": after[label]}
            for label in SHRINK_MEASURES
        ]
    )
    if not recognised and not synthetic:
        raise ShrinkError(table, "読み込める（種類を判別できる）ファイルが1件もありません。")
    if not before:
        return
    shrunk = [label for label in SHRINK_MEASURES if after[label] < before[label] * (1 - SHRINK_TOLERANCE)]
    if shrunk:
        raise ShrinkError(table, f"新しいデータベースは今より {'・'.join(shrunk)} が5%を超えて少なくなります。")


def current_measures(target: Path) -> dict[str, int] | None:
    """SHRINK_MEASURES of the database now at ``target`` (None when there is none or it is unreadable)."""
    if not target.is_file():
        return None
    # an in-memory connection that ATTACHes the file, as ui/data.py does: connecting by path could hand
    # out a database instance this process still holds for an older file at the same path
    literal = "'" + str(target).replace("'", "''") + "'"
    try:
        with duckdb.connect() as current:
            current.execute(f"ATTACH {literal} AS current_store (READ_ONLY)")
            current.execute("USE current_store")
            return {label: current.execute(sql).fetchone()[0] for label, sql in SHRINK_MEASURES.items()}
    except duckdb.Error:
        return None  # not a store (or a broken one): nothing to protect


def check_files(paths: Iterable[Path], as_of: str | None = None) -> tuple[list[dict], list[dict]]:
    """``check_file`` on every file of ``paths`` (files or folders): (one row per file: file, type,
    rows, result; every problem as in BuildProblemsError)."""
    rows, problems = [], []
    for path in iter_source_files(paths):
        if is_ignored(path):
            continue
        loader, result, issues = check_file(path, as_of=as_of)
        errors = [i for i in issues if i.level == "error"]
        if loader is None:
            problems.append(unknown_file_problem(path))
        else:  # a loader's error may come back among its issues too: each problem once
            places = dict.fromkeys((i.message, i.row, i.column) for i in errors)
            problems.extend(_problem(path, message, row, column) for message, row, column in places)
        rows.append(
            {
                "file": str(path),
                "loader": loader.title if loader else None,
                "rows": {name: len(frame) for name, frame in result.tables.items()} if result else {},
                "ok": result is not None and not errors,
                "warnings": [i for i in issues if i.level == "warning"],
                "unresolved": result.report.unresolved if result else [],
            }
        )
    return rows, problems
