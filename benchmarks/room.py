"""A meeting room's cases: the committee deck (会議資料（PPTX）) written by a fresh process, and 30
sessions at once on one server (tests/load_test.py).

- deck: ``exports.pptx_deck.build_deck`` for 兵庫県 with the committee views (data/decks/), in a new
  interpreter each run so that the chart browser's launch is included, as on a server's first
  deck; the floor is one small chart rendered to PNG by a new interpreter (the same browser launch);
- crowd: ``python -m tests.load_test`` (30 sessions, every page, filter changes, navigation, a data
  swap a third of the way in): p95 of every action in the crowd beside p95 of the same actions of
  one session alone on the same server.

Run as ``python -m benchmarks.room deck --db PATH`` (one timing as JSON) by the suite.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.core import ROOT, Result, Samples
from store.paths import SHARED_DATA

DECK_TARGET_S = 5.0
DECK_PREFECTURE = "兵庫県"
CROWD_TARGET_S = 1.5
CROWD_SESSIONS = 30
DECK_NAME = f"deck: 会議資料（PPTX）, {DECK_PREFECTURE}, fresh process"


def _record(args: list[str], timeout: float = 600) -> dict:
    """One timing by a fresh interpreter (``python -m benchmarks.room …``)."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.room", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"benchmarks.room {args[0]} failed ({done.returncode}): {done.stderr[-1500:]}")
    return json.loads(lines[-1])


def deck_case(db: Path, runs: int) -> Result:
    from exports.images import chromium_path

    if chromium_path() is None:
        return Result.skip(DECK_NAME, "s", "chromium is not installed", DECK_TARGET_S)
    floor = Samples([_record(["png"])["seconds"] for _ in range(runs)])
    records = [_record(["deck", "--db", str(db)]) for _ in range(runs)]
    return Result.of(
        DECK_NAME,
        "s",
        Samples([record["seconds"] for record in records]),
        floor,
        "one small chart to PNG by a fresh process (browser launch + 1 render)",
        DECK_TARGET_S,
        note=f"{records[-1]['slides']} slides; from the call to the saved file, the chart browser's launch included",
    )


def crowd_case(quick: bool, work: Path) -> list[Result]:
    """The load test's crowd p95 (all actions) beside one session alone."""
    sessions, seconds = (5, 20) if quick else (CROWD_SESSIONS, 120)
    name = f"crowd: {sessions} concurrent sessions, p95 per action"
    if not SHARED_DATA.is_dir():
        return [Result.skip(name, "s", f"{SHARED_DATA} is absent", CROWD_TARGET_S)]
    out = work / "load_test.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.load_test",
            "--sessions",
            str(sessions),
            "--seconds",
            str(seconds),
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=seconds + 900,
    )
    if not out.exists():
        raise RuntimeError(f"tests.load_test wrote no results ({done.returncode}): {done.stderr[-1500:]}")
    summary = json.loads(out.read_text(encoding="utf-8"))["summary"]
    crowd, solo = summary["crowd"]["all"], summary["solo"]["all"]
    if not crowd.get("count"):
        return [Result.skip(name, "s", "no action finished in the crowd", CROWD_TARGET_S)]
    cpu = summary.get("crowd_cpu_seconds")
    load = (
        f"; server at {100 * cpu / summary['crowd_seconds']:.0f} % of one core"
        if cpu and summary.get("crowd_seconds")
        else ""
    )
    return [
        Result(
            name=name,
            unit="s",
            median=crowd["p95"],
            min=crowd["p50"],
            max=crowd["max"],
            runs=crowd["count"],
            baseline=solo.get("p95"),
            baseline_what="p95 of the same actions by one session alone (same server)",
            ratio=crowd["p95"] / solo["p95"] if solo.get("p95") else None,
            target=CROWD_TARGET_S,
            met=bool(crowd["p95"] <= CROWD_TARGET_S),
            note=f"median column = p95, min = p50, max = max; {summary['actions']} actions, "
            f"{summary['errors']} errors, {seconds:.0f} s with a data swap{load}",
        )
    ]


def _deck(db: Path) -> dict:
    import duckdb

    from exports import images
    from exports.pptx_deck import build_deck
    from views.render import load_deck

    with tempfile.TemporaryDirectory() as folder, duckdb.connect(str(db), read_only=True) as con:
        deck = load_deck()
        started = time.perf_counter()
        summary = build_deck(con, deck, DECK_PREFECTURE, Path(folder) / "deck.pptx")
        seconds = time.perf_counter() - started
        images.shutdown()
    return {"seconds": seconds, "slides": summary.slides}


def _png() -> dict:
    import plotly.graph_objects as go

    from exports import images

    figure = go.Figure(go.Bar(x=["a", "b"], y=[1, 2]))
    started = time.perf_counter()
    images.figure_png(figure, width=860, height=535, scale=1.5)
    seconds = time.perf_counter() - started
    images.shutdown()
    return {"seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.room")
    parser.add_argument("case", choices=["deck", "png"])
    parser.add_argument("--db", type=Path)
    args = parser.parse_args(argv)
    record = _deck(args.db) if args.case == "deck" else _png()
    sys.stdout.write("\n" + json.dumps(record) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
