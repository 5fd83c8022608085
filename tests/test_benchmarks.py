"""The benchmark suite still works: its quick mode end to end (structure, never speed), its
result record, and the scale-up generator's files going through the real build."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from benchmarks.__main__ import GROUPS
from benchmarks.core import Result, Run, Samples, markdown_table, write
from benchmarks.scaleup import ROUNDS_PER_SCALE, SNAPSHOTS_PER_SCALE, counts, generate, round_schedule, snapshot_dates

ROOT = Path(__file__).resolve().parent.parent
FIELDS = {
    "name",
    "unit",
    "median",
    "min",
    "max",
    "runs",
    "baseline",
    "baseline_what",
    "ratio",
    "target",
    "met",
    "note",
    "skipped",
    "ratio_target",
}
# every group of the suite leaves at least one row whose name starts like this
EXPECTED = (
    "ingest: ",
    "metrics: all_metrics, all 1,741",
    "metrics: all_metrics, one prefecture",
    "map payload: national GeoJSON",
    "map payload: one prefecture",
    "page rerun",
    "browser: cold start",
    "browser: map drawn",
    "browser: server peak RSS",
    "browser: navigation / filter change drawn, p50",
    "browser: the overview's elements alone",
    "browser: navigation over the pages' elements alone, p50",
    "deck: 会議資料（PPTX）",
    "crowd: ",
    "scale-up 1×: ingest",
    "scale-up 1×: all_metrics",
    "scale-up 4×: ingest",
    "scale-up 4×: ingest time per 1 M rows",
    "scale-up 4×: all_metrics",
    "scale-up 4×: all_metrics time per 1 M rows",
)


@pytest.fixture(scope="module")
def quick(shared_data, tmp_path_factory):
    """``python -m benchmarks --quick`` with a tiny scale-up (1× = 1 round and 1 snapshot)."""
    out = tmp_path_factory.mktemp("benchmarks")
    done = subprocess.run(
        # every group but the scale-out case, which tests/test_scaleout.py runs in its short mode
        [sys.executable, "-m", "benchmarks", "--quick", "--scale-unit", "0.02", "--out", str(out), "--only"]
        + [group for group in GROUPS if group != "scaleout"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return out, done.stdout


def test_quick_mode_writes_every_case_with_a_same_run_baseline(quick):
    out, _stdout = quick
    cases = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert isinstance(cases, list)
    names = [case["name"] for case in cases]
    for prefix in EXPECTED:
        assert any(name.startswith(prefix) for name in names), (prefix, names)
    for case in cases:
        assert FIELDS <= set(case), case
        assert not case["note"].startswith("failed"), case
        if case["skipped"]:
            # only what this machine may lack: chromium for the browser, app pages for the reruns
            assert case["name"].startswith(("browser", "page rerun")), case
            continue
        assert case["min"] <= case["median"] <= case["max"] and case["runs"] >= 1, case
        if case["baseline"] is not None:
            assert case["baseline"] > 0 and math.isclose(case["ratio"], case["median"] / case["baseline"], rel_tol=1e-9)
        if case["target"] is not None:
            assert case["met"] is (case["median"] <= case["target"]), case
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["quick"] is True and run["commit"] and run["started"]


def test_quick_mode_prints_and_writes_the_table(quick):
    out, stdout = quick
    table = (out / "results.md").read_text(encoding="utf-8")
    assert "| case | unit | median | min | max | runs | baseline (same run) |" in table
    assert "quick mode" in table
    cases = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert table.count("\n| ") == len(cases) + 1  # header + one row per case
    assert table.strip() in stdout


def test_result_ratio_and_target(tmp_path):
    fast = Result.of("fast", "ms", Samples([0.1, 0.2, 0.3]), Samples([0.01, 0.02]), "floor", target=250, scale=1000)
    assert (fast.median, fast.min, fast.max) == pytest.approx((200, 100, 300))
    assert fast.baseline == pytest.approx(15) and fast.ratio == pytest.approx(200 / 15) and fast.met is True
    slow = Result.of("slow", "s", Samples([4.0]), None, "", target=3)
    assert slow.met is False and slow.ratio is None
    skipped = Result.skip("browser", "s", "chromium is not installed", target=2)
    run = Run(quick=True, echo=False, results=[fast, slow, skipped])
    json_path, md_path = write(run, tmp_path)
    assert [case["name"] for case in json.loads(json_path.read_text(encoding="utf-8"))] == ["fast", "slow", "browser"]
    table = markdown_table(run)
    assert "| fast | ms | 200 |" in table and "**no**" in table and "skipped: chromium is not installed" in table


def test_scaleup_schedule():
    assert counts(1) == (ROUNDS_PER_SCALE, SNAPSHOTS_PER_SCALE) == (20, 50)
    assert counts(16) == (320, 800) and counts(0.001) == (1, 1)
    rounds = round_schedule(20)
    assert len(rounds) == 20 == len({r for r, _ in rounds})
    assert rounds[0][0] == "2017-baseline" and rounds[-1][0] == "2026-evaluation"
    assert [d for _, d in rounds] == sorted(d for _, d in rounds)
    dates = snapshot_dates(50)
    assert len(set(dates)) == 50 and dates == sorted(dates) and (dates[1] - dates[0]).days == 7


def test_scaleup_rounds_load_through_the_survey_loader(tmp_path, registry):
    from loaders.build import build

    data = generate(tmp_path / "survey", 0.1)  # 2 rounds, 5 snapshots
    files = sorted(data.folder.glob("*.csv"))
    assert len(files) == data.rounds == 2
    with open(files[0], encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    assert header[:3] == ["団体コード", "回", "調査基準日"]
    target = tmp_path / "scaled.duckdb"
    summary = build([data.folder], target, synthetic_steps=[data.snapshot_step()], keep_versions=0)
    assert all(f["status"] in ("ok", "warning") for f in summary.files)
    con = duckdb.connect(str(target), read_only=True)
    try:
        sheets = con.execute("SELECT count(DISTINCT (code, round_id)) FROM survey_answers").fetchone()[0]
        assert sheets == 2 * len(registry.municipalities)
        assert [r[0] for r in con.execute("SELECT round_id FROM survey_rounds ORDER BY held_on").fetchall()] == [
            "2026-baseline",
            "2026-evaluation",
        ]
        snapshots = con.execute(
            "SELECT count(DISTINCT as_of), count(*), bool_and(synthetic) FROM indicator_values WHERE file LIKE "
            "'ベンチマーク用%'"
        ).fetchone()
        assert snapshots == (5, data.snapshot_rows, True)
        # answers improve over the rounds (capability grows): the evaluation scores higher on average
        from metrics.assessment import assessment_scores

        overall = assessment_scores(con).query("level == 'overall'").groupby("round_id")["score"].mean()
        assert overall["2026-evaluation"] > overall["2026-baseline"]
    finally:
        con.close()
