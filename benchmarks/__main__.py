"""``python -m benchmarks [--quick] [--out DIR]``: run every case, write results.json and results.md.

Cases (each with a floor measured in the same run): ingest of ../shared/data, all metrics for all
municipalities, the map payload, page reruns (AppTest), the browser (cold start, map drawn, peak
RSS of 10 sessions, a new user's navigation), the committee deck (PPTX), 30 sessions at once (the
load test), the scale-up series (1×, 4×, 16×; --quick: 1× and 4×) and the scale-out case
(the load test through nginx, one replica then two; --quick: a short run that only proves it works). --quick also runs
fewer repeats and never fails for speed; browser cases are skipped when chromium is absent.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks import app, browser, cases, room, scaleout
from benchmarks.core import DEFAULT_OUT, Result, Run, guarded, markdown_table, uncommitted, write
from store.paths import SHARED_DATA

GROUPS = ("ingest", "metrics", "payload", "app", "browser", "deck", "crowd", "scaleup", "scaleout")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer repeats, scale-up 1× and 4× only")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--only", nargs="+", choices=GROUPS, help="run only these groups of cases")
    parser.add_argument(
        "--scale-unit",
        type=float,
        default=1.0,
        help="size of 1× in the scale-up series (default 1.0 = 20 rounds, 50 snapshots); "
        "the CI smoke test uses a small fraction",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary databases (their folder is printed)")
    parser.add_argument(
        "--dirty",
        action="store_true",
        help="measure the app (page reruns, browser) even when app.py, app_pages/ or ui/ have uncommitted changes",
    )
    args = parser.parse_args(argv)
    groups = set(args.only or GROUPS)
    runs = Repeats(args.quick)
    run = Run(quick=args.quick)
    work = Path(tempfile.mkdtemp(prefix="dx-benchmarks-"))
    started = time.perf_counter()
    print(f"benchmarks: commit {run.commit}, {run.machine}; work folder {work}", flush=True)
    try:
        if not SHARED_DATA.is_dir():
            print(f"  {SHARED_DATA} is absent: the demo store is synthetic and the ingest case is skipped", flush=True)
        if "ingest" in groups:
            with phase("ingest"):
                if SHARED_DATA.is_dir():
                    guarded(
                        run,
                        cases.INGEST_NAME,
                        "s",
                        lambda: cases.ingest(run, work, runs.ingest, runs.warmup),
                        cases.INGEST_TARGET_S,
                    )
                else:
                    run.add(Result.skip(cases.INGEST_NAME, "s", f"{SHARED_DATA} is absent", cases.INGEST_TARGET_S))
        db = None
        if groups & {"metrics", "payload", "app", "browser", "deck"}:
            with phase("demo store"):
                db = demo_store(work)
        if "metrics" in groups:
            with phase("metrics"):
                guarded(run, "metrics", "ms", lambda: cases.metrics(run, db, runs.metrics), cases.METRICS_TARGET_MS)
        if "payload" in groups:
            with phase("map payload"):
                guarded(run, "map payload", "bytes", lambda: cases.map_payload(run, db))
        changed = [] if args.dirty else uncommitted()
        if changed and groups & {"app", "browser", "scaleout"}:
            why = (
                f"app files not committed ({', '.join(changed[:3])}{' …' if len(changed) > 3 else ''}); --dirty "
                "measures them"
            )
            if "app" in groups:
                run.add(Result.skip("page rerun", "ms", why, app.RERUN_TARGET_MS))
            if "browser" in groups:
                browser.skip_all(run, why)
            if "scaleout" in groups:
                run.add(Result.skip(scaleout.NAME, "actions/s", why))
            groups -= {"app", "browser", "scaleout"}
        if "app" in groups:
            with phase("page reruns"):
                guarded(run, "page rerun", "ms", lambda: app_cases(run, db, runs.reruns))
        if "browser" in groups:
            with phase("browser"):
                guarded(run, "browser", "s", lambda: browser.run_cases(run, db, work, runs.browser, args.quick))
        if "deck" in groups:
            with phase("deck"):
                guarded(
                    run,
                    room.DECK_NAME,
                    "s",
                    lambda: run.add(room.deck_case(db, runs.browser)),
                    room.DECK_TARGET_S,
                )
        if "crowd" in groups:
            with phase("crowd"):
                guarded(
                    run,
                    "crowd",
                    "s",
                    lambda: [run.add(result) for result in room.crowd_case(args.quick, work)],
                    room.CROWD_TARGET_S,
                )
        if "scaleup" in groups:
            with phase("scale-up"):
                guarded(
                    run, "scale-up", "s", lambda: scaleup(run, work, args.quick, args.scale_unit, runs, "app" in groups)
                )
        if "scaleout" in groups:
            with phase("scale-out"):
                if SHARED_DATA.is_dir():
                    guarded(
                        run, scaleout.NAME, "actions/s", lambda: scaleout.run_case(run, work, SHARED_DATA, args.quick)
                    )
                else:
                    run.add(Result.skip(scaleout.NAME, "actions/s", f"{SHARED_DATA} is absent"))
    finally:
        json_path, md_path = write(run, args.out)
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print(markdown_table(run))
    print(f"wrote {json_path} and {md_path} in {time.perf_counter() - started:.0f} s")
    return 0


@contextmanager
def phase(name: str) -> Iterator[None]:
    started = time.perf_counter()
    print(f"{name} …", flush=True)
    try:
        yield
    finally:
        print(f"{name}: {time.perf_counter() - started:.1f} s", flush=True)


class Repeats:
    """How many measured runs each kind of case gets."""

    def __init__(self, quick: bool):
        self.warmup = 0 if quick else 1
        self.ingest = 1 if quick else 5
        self.metrics = 3 if quick else 15
        self.reruns = 2 if quick else 5
        self.browser = 1 if quick else 3
        self.scale_metrics = 1 if quick else 3


def demo_store(work: Path) -> Path:
    """The store the app shows on a fresh machine: the real public files (when present) plus the
    synthetic assessment rounds of the embedded demo."""
    from loaders.demo import build_demo

    target = work / "demo" / "demo.duckdb"
    build_demo(target, sources=[SHARED_DATA] if SHARED_DATA.is_dir() else [])
    return target


def app_cases(run: Run, db: Path, runs: int, label: str = "") -> None:
    args = ["app", "--db", str(db), "--runs", str(runs)] + (["--label", label] if label else [])
    results = cases.worker(args)
    if not results:
        run.add(Result.skip(f"page rerun{label}", "ms", "the AppTest worker failed (see its output above)"))
    for result in results:
        run.add(result)


def scaleup(run: Run, work: Path, quick: bool, unit: float, runs: Repeats, measure_app: bool = True) -> None:
    factors = (1, 4) if quick else (1, 4, 16)
    reference: dict = {}
    db = None
    for factor in factors:
        label = f"{factor}×"
        db = cases.scaleup_ingest(run, work, factor * unit, label, reference)
        cases.scaleup_metrics(run, db, label, runs.scale_metrics, reference)
        if factor != factors[-1]:
            shutil.rmtree(db.parent, ignore_errors=True)
    if db is not None and not quick and measure_app:  # the page-rerun target is set for the largest store, 16×
        app_cases(run, db, runs.reruns, label=f" @{factors[-1]}×")


if __name__ == "__main__":
    sys.exit(main())
