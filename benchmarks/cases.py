"""Benchmark cases that need no browser: ingest, metrics, map payload, and the scale-up series.

Each case measures its hot path and, in the same run, a floor to divide by: reading the same files
with pyarrow / openpyxl alone, one ``SELECT count(*)`` round trip on the same connection, the size
of the simplified TopoJSON the boundaries came from.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pyarrow.csv as pacsv

from benchmarks.core import Result, Run, Samples, timed
from loaders.build import all_loaders, build, detect_loader, iter_source_files
from store.paths import SHARED_DATA

INGEST_NAME = "ingest: ../shared/data → DuckDB (loaders.build)"
INGEST_TARGET_S = 3.0
METRICS_TARGET_MS = 300.0
NATIONAL_PAYLOAD_TARGET = 1_500_000  # bytes (1.5 MB)
PREFECTURE_PAYLOAD_TARGET = 200_000  # bytes (200 KB)
TOPOJSON = "N03-21_210101_designated_city.topojson.json"  # municipality level, as the map shows it


# ---------------------------------------------------------------- ingest


def recognised_files(sources: list[Path]) -> list[Path]:
    """The files a build loads (recognised by a loader), not the ones it lists and skips."""
    loaders = all_loaders()
    return [path for path in iter_source_files(sources) if detect_loader(path, loaders) is not None]


def read_floor(path: Path) -> int:
    """Read one file with a bulk reader and nothing else: pyarrow for CSV (DuckDB's read_csv takes
    0.4 s to sniff the 1,744-column デジタル庁 files, pyarrow 0.06 s), the json module for
    TopoJSON/GeoJSON (pyarrow's JSON reader rejects TopoJSON's mixed-depth arc arrays), openpyxl in
    read-only mode for Excel. Returns the number of rows (or top-level keys) read."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        try:
            table = pacsv.read_csv(
                path,
                read_options=pacsv.ReadOptions(autogenerate_column_names=True),
                parse_options=pacsv.ParseOptions(newlines_in_values=True),
            )
            return table.num_rows
        except Exception:  # noqa: BLE001 - not UTF-8 or ragged: DuckDB's reader is the floor then
            return len(duckdb.read_csv(str(path), header=False, all_varchar=True, null_padding=True).fetchall())
    if suffix in (".xlsx", ".xlsm"):
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            return sum(1 for sheet in book.worksheets for _ in sheet.iter_rows(values_only=True))
        finally:
            book.close()
    return len(json.loads(path.read_bytes()))


def ingest(run: Run, work: Path, runs: int, warmup: int = 1) -> None:
    target = work / "ingest" / "dashboard.duckdb"
    files = recognised_files([SHARED_DATA])
    floor = timed(lambda: [read_floor(path) for path in files], runs, warmup=1)
    summary: dict = {}

    def once() -> None:
        summary["last"] = build([SHARED_DATA], target, keep_versions=0)

    samples = timed(once, runs, warmup=warmup)
    rows = sum(f["rows"] for f in summary["last"].files)
    run.add(
        Result.of(
            INGEST_NAME,
            "s",
            samples,
            floor,
            f"read the same {len(files)} files (pyarrow/json/openpyxl)",
            INGEST_TARGET_S,
            note=f"{len(files)} files, {rows:,} rows written",
        )
    )
    shutil.rmtree(target.parent, ignore_errors=True)


# ---------------------------------------------------------------- metrics


def metrics(run: Run, db: Path, runs: int, national_only: bool = False) -> None:
    from metrics.filters import Filter
    from metrics.summary import all_metrics, compute_all_metrics

    con = duckdb.connect(str(db), read_only=True)
    try:

        def count() -> None:
            con.execute("SELECT count(*) FROM municipalities").fetchall()

        floor = timed(count, max(runs, 20), warmup=3)
        last: dict = {}
        samples = timed(lambda: last.update(all_metrics(con)), runs, warmup=1)
        rows = {name: len(frame) for name, frame in last.items()}
        how = (
            "composite, gaps, assessment, maturity, priority, assessment change, cases and similar municipalities"
            " read from the metric tables"
        )
        run.add(
            Result.of(
                "metrics: all_metrics, all 1,741 municipalities",
                "ms",
                samples,
                floor,
                "SELECT count(*) round trip",
                METRICS_TARGET_MS,
                scale=1000,
                note=f"{how}; {sum(rows.values()):,} result rows (gaps {rows['gaps']:,}, assessment "
                f"{rows['assessment']:,})",
            )
        )
        if national_only:
            return
        computed = timed(lambda: compute_all_metrics(con), runs, warmup=1)
        run.add(
            Result.of(
                "metrics: all_metrics computed, all 1,741 municipalities",
                "ms",
                computed,
                floor,
                "SELECT count(*) round trip",
                scale=1000,
                note="the same results all computed from the data tables (what the build's metric step does)",
            )
        )
        prefecture = timed(lambda: all_metrics(con, Filter(pref_code="28")), runs, warmup=1)
        run.add(
            Result.of(
                "metrics: all_metrics, one prefecture (兵庫県, 41)",
                "ms",
                prefecture,
                floor,
                "SELECT count(*) round trip",
                scale=1000,
                note="the metric tables' rows of the prefecture; similarity still computed over the whole country",
            )
        )
    finally:
        con.close()


# ---------------------------------------------------------------- map payload


def map_payload(run: Run, db: Path) -> None:
    from metrics.geometry import national_geojson

    topojson = SHARED_DATA / "boundaries" / TOPOJSON
    floor = float(topojson.stat().st_size) if topojson.exists() else None
    what = f"simplified TopoJSON {TOPOJSON}"
    con = duckdb.connect(str(db), read_only=True)
    try:
        national = len(_compact(national_geojson(con)).encode("utf-8"))
        run.add(
            Result.of(
                "map payload: national GeoJSON (compact)",
                "bytes",
                Samples([national]),
                floor,
                what,
                NATIONAL_PAYLOAD_TARGET,
                note="metrics.geometry.national_geojson, separators=(',', ':')",
            )
        )
        sizes = {}
        for pref_code, pref_name in con.execute(
            "SELECT pref_code, name FROM prefectures ORDER BY pref_code"
        ).fetchall():
            codes = [
                row[0]
                for row in con.execute("SELECT code FROM municipalities WHERE pref_code = ?", [pref_code]).fetchall()
            ]
            sizes[pref_name] = len(_compact(national_geojson(con, codes=codes)).encode("utf-8"))
        largest = max(sizes, key=sizes.get)
        ordered = sorted(sizes.values())
        run.add(
            Result.of(
                f"map payload: one prefecture, the largest ({largest})",
                "bytes",
                Samples([sizes[largest]]),
                floor,
                what,
                PREFECTURE_PAYLOAD_TARGET,
                note=f"47 prefectures: smallest {ordered[0]:,}, median {ordered[len(ordered) // 2]:,} bytes",
            )
        )
    finally:
        con.close()


def _compact(document: dict) -> str:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


# ---------------------------------------------------------------- scale-up


def store_rows(db: Path) -> int:
    """Rows of the two tables that grow with the data: survey answers and indicator values."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "SELECT (SELECT count(*) FROM survey_answers) + (SELECT count(*) FROM indicator_values)"
        ).fetchone()[0]
    finally:
        con.close()


def scaleup_ingest(run: Run, work: Path, scale: float, factor: str, reference: dict) -> Path:
    """Generate the data of ``scale``, build it with the real files, and report time per 1 M rows;
    ``reference`` keeps the 1× rates that later scales are compared with. Returns the database."""
    from benchmarks.scaleup import generate

    folder = work / f"scaleup-{factor}"
    data = generate(folder / "survey", scale)
    target = folder / "dashboard.duckdb"
    sources = [SHARED_DATA, data.folder] if SHARED_DATA.is_dir() else [data.folder]
    floor = timed(lambda: [read_floor(path) for path in recognised_files(sources)], 1)
    samples = timed(lambda: build(sources, target, synthetic_steps=[data.snapshot_step()], keep_versions=0), 1)
    rows = store_rows(target)
    rate = samples.median / (rows / 1e6)
    run.add(
        Result.of(
            f"scale-up {factor}: ingest ({data.rounds} rounds, {data.snapshots} snapshots)",
            "s",
            samples,
            floor,
            "read the same files (pyarrow/json/openpyxl)",
            note=f"{rows:,} rows in survey_answers + indicator_values; {rate:.2f} s per 1 M rows",
        )
    )
    if "ingest" not in reference:
        reference["ingest"] = rate
    else:
        run.add(
            Result.of(
                f"scale-up {factor}: ingest time per 1 M rows",
                "s/1M rows",
                Samples([rate]),
                reference["ingest"],
                "the same at 1×",
                1.25 * reference["ingest"],
                note="growth = ratio; target: no worse than linear (≤ 1.25 × the 1× rate, for timing noise)",
            )
        )
    reference[f"rows {factor}"] = rows
    return target


def scaleup_metrics(run: Run, db: Path, factor: str, runs: int, reference: dict) -> None:
    """all_metrics on the scaled store, in a subprocess (its memory is returned when it ends)."""
    results = worker(["metrics", "--db", str(db), "--runs", str(runs), "--national-only"])
    if not results:
        run.add(Result.skip(f"scale-up {factor}: all_metrics", "s", "the metrics worker failed"))
        return
    national = results[0]
    rows = reference[f"rows {factor}"]
    seconds = national.median / 1000
    rate = seconds / (rows / 1e6)
    run.add(
        Result(
            name=f"scale-up {factor}: all_metrics, all municipalities",
            unit="s",
            median=seconds,
            min=national.min / 1000,
            max=national.max / 1000,
            runs=national.runs,
            baseline=national.baseline / 1000 if national.baseline else None,
            baseline_what=national.baseline_what,
            ratio=national.ratio,
            note=f"{rows:,} rows; {rate:.3f} s per 1 M rows; {national.note}",
        )
    )
    if "metrics" not in reference:
        reference["metrics"] = rate
    else:
        run.add(
            Result.of(
                f"scale-up {factor}: all_metrics time per 1 M rows",
                "s/1M rows",
                Samples([rate]),
                reference["metrics"],
                "the same at 1×",
                note="growth = ratio (below 1: grows slower than the data)",
            )
        )


def worker(args: list[str], timeout: float = 3600) -> list[Result]:
    """Run a case in a fresh interpreter (``python -m benchmarks.cases …`` or ``benchmarks.app``)
    and read the results it prints as the last line of its output."""
    import subprocess
    import sys

    from benchmarks.core import ROOT

    module = "benchmarks.app" if args[0] == "app" else "benchmarks.cases"
    command = [sys.executable, "-m", module] + (args[1:] if args[0] == "app" else args)
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    lines = [line for line in done.stdout.splitlines() if line.startswith("[")]
    if done.returncode != 0 or not lines:
        print(f"  worker {' '.join(args[:2])} failed ({done.returncode}): {done.stderr[-2000:]}", flush=True)
        return []
    return [Result(**item) for item in json.loads(lines[-1])]


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.cases metrics --db PATH --runs N``: the metrics case as JSON."""
    import argparse
    import sys
    from dataclasses import asdict

    parser = argparse.ArgumentParser()
    parser.add_argument("case", choices=["metrics"])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--national-only", action="store_true")
    args = parser.parse_args(argv)
    collected = Run(quick=False, echo=False)
    metrics(collected, args.db, args.runs, national_only=args.national_only)
    sys.stdout.write("\n" + json.dumps([asdict(r) for r in collected.results], ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
