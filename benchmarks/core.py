"""What every benchmark case shares: timing, the result record, the table and the files written."""

from __future__ import annotations

import json
import math
import platform
import statistics
import subprocess
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = Path(__file__).resolve().parent / "results"


@dataclass
class Samples:
    """Repeated measurements of one quantity."""

    values: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def min(self) -> float:
        return min(self.values)

    @property
    def max(self) -> float:
        return max(self.values)


def timed(fn: Callable[[], object], runs: int, warmup: int = 0, setup: Callable[[], object] | None = None) -> Samples:
    """Wall-clock seconds of ``fn()`` over ``runs`` runs after ``warmup`` unmeasured ones; ``setup``
    (unmeasured) runs before each call."""
    values = []
    for index in range(warmup + runs):
        if setup is not None:
            setup()
        started = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - started
        if index >= warmup:
            values.append(elapsed)
    return Samples(values)


@dataclass
class Result:
    """One row of the results table. ``median``/``min``/``max`` and ``baseline`` (the median of the
    floor measured in the same run) are in ``unit``; ``ratio`` = median / baseline; ``met`` compares
    the median with ``target`` (≤) and the ratio with ``ratio_target`` (≤; a target relative to the
    floor measured in the same run, which carries over to other machines), None when the case has
    neither or did not run."""

    name: str
    unit: str
    median: float | None = None
    min: float | None = None
    max: float | None = None
    runs: int = 0
    baseline: float | None = None
    baseline_what: str = ""
    ratio: float | None = None
    target: float | None = None
    met: bool | None = None
    note: str = ""
    skipped: bool = False
    ratio_target: float | None = None

    @classmethod
    def of(
        cls,
        name: str,
        unit: str,
        samples: Samples,
        baseline: Samples | float | None,
        baseline_what: str,
        target: float | None = None,
        scale: float = 1.0,
        note: str = "",
        ratio_target: float | None = None,
    ) -> Result:
        """A result from samples in seconds (or bytes…) multiplied by ``scale`` into ``unit``."""
        base = baseline.median if isinstance(baseline, Samples) else baseline
        base = None if base is None else base * scale
        median = samples.median * scale
        ratio = (median / base) if base else None
        checks = ([median <= target] if target is not None else []) + (
            [ratio is not None and ratio <= ratio_target] if ratio_target is not None else []
        )
        return cls(
            name=name,
            unit=unit,
            median=median,
            min=samples.min * scale,
            max=samples.max * scale,
            runs=len(samples.values),
            baseline=base,
            baseline_what=baseline_what,
            ratio=ratio,
            target=target,
            met=bool(all(checks)) if checks else None,
            note=note,
            ratio_target=ratio_target,
        )

    @classmethod
    def skip(
        cls, name: str, unit: str, why: str, target: float | None = None, ratio_target: float | None = None
    ) -> Result:
        return cls(name=name, unit=unit, target=target, note=f"skipped: {why}", skipped=True, ratio_target=ratio_target)

    @classmethod
    def failure(
        cls, name: str, unit: str, error: BaseException, target: float | None = None, ratio_target: float | None = None
    ) -> Result:
        message = " ".join(f"{type(error).__name__}: {error}".split())[:300]
        return cls(
            name=name, unit=unit, target=target, note=f"failed: {message}", skipped=True, ratio_target=ratio_target
        )


@dataclass
class Run:
    """A whole benchmark run: where and when, and its results."""

    quick: bool
    echo: bool = True  # print each result as it comes (a worker process leaves that to its parent)
    results: list[Result] = field(default_factory=list)
    started: str = field(default_factory=lambda: datetime.now().isoformat(timespec="seconds"))
    commit: str = field(default_factory=lambda: git_commit())
    machine: str = field(default_factory=lambda: machine_summary())

    def add(self, result: Result) -> Result:
        self.results.append(result)
        if self.echo:
            print(f"  {_row(result)}", flush=True)
        return result


def guarded(run: Run, name: str, unit: str, work: Callable[[], None], target: float | None = None) -> None:
    """Run one case; an exception becomes a 'failed' row (and a traceback on stderr), not the end of the suite."""
    try:
        work()
    except Exception as error:  # noqa: BLE001 - every failure is reported in the table
        traceback.print_exc()
        run.add(Result.failure(name, unit, error, target))


def git_commit() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return f"{commit}{' (with uncommitted changes)' if dirty else ''}"
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def uncommitted(paths: tuple[str, ...] = ("app.py", "app_pages", "ui")) -> list[str]:
    """Files of the app that differ from the commit (changed or untracked); [] outside a git checkout."""
    try:
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", *paths], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return []
    return [line[3:] for line in status.splitlines() if line.strip()]


def machine_summary() -> str:
    import os

    cpus = os.cpu_count() or 0
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        memory = float("nan")
    try:
        load = f", load average {os.getloadavg()[0]:.1f} at the start"  # other work on the machine skews the timings
    except OSError:
        load = ""
    return (
        f"{platform.system()} {platform.machine()}, {cpus} CPUs, {memory:.0f} GiB RAM, Python "
        f"{platform.python_version()}{load}"
    )


def _number(value: float | None, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if unit in ("bytes",):
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if abs(value) >= 0.1 else f"{value:.3g}"


def _target(r: Result) -> str:
    """「≤ 3.00」, 「≤ 2× floor」 or both."""
    parts = ([f"≤ {_number(r.target, r.unit)}"] if r.target is not None else []) + (
        [f"≤ {_number(r.ratio_target)}× floor"] if r.ratio_target is not None else []
    )
    return "; ".join(parts)


def _row(r: Result) -> str:
    if r.skipped:
        return f"{r.name}: {r.note}"
    met = "" if r.met is None else (" ✓" if r.met else " ✗")
    target = f", target {_target(r)}{met}" if _target(r) else ""
    ratio = f", ×{_number(r.ratio)} of {r.baseline_what} ({_number(r.baseline, r.unit)})" if r.ratio is not None else ""
    return (
        f"{r.name}: {_number(r.median, r.unit)} {r.unit} (min {_number(r.min, r.unit)}, max "
        f"{_number(r.max, r.unit)}, n={r.runs}){ratio}{target}"
    )


def markdown_table(run: Run) -> str:
    lines = [
        f"Measured {run.started} on commit `{run.commit}` ({run.machine}){' — quick mode' if run.quick else ''}.",
        "",
        "| case | unit | median | min | max | runs | baseline (same run) | baseline | ratio | target | met | note |",
        "|---|---|---:|---:|---:|---:|---|---:|---:|---:|:-:|---|",
    ]
    for r in run.results:
        met = "" if r.met is None else ("yes" if r.met else "**no**")
        target = _target(r)
        lines.append(
            f"| {r.name} | {r.unit} | {_number(r.median, r.unit)} | {_number(r.min, r.unit)} | "
            f"{_number(r.max, r.unit)} "
            f"| {r.runs or ''} | {r.baseline_what} | {_number(r.baseline, r.unit)} | {_number(r.ratio)} | {target} "
            f"| {met} "
            f"| {r.note.replace('|', '/')} |"
        )
    return "\n".join(lines) + "\n"


def write(run: Run, out: Path) -> tuple[Path, Path]:
    """results.json: the list of cases (``Result`` fields); run.json: when, which commit, which
    machine; results.md: the table that is printed."""
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "results.json"
    json_path.write_text(json.dumps([asdict(r) for r in run.results], ensure_ascii=False, indent=1), encoding="utf-8")
    (out / "run.json").write_text(
        json.dumps(
            {"started": run.started, "commit": run.commit, "machine": run.machine, "quick": run.quick},
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    md_path = out / "results.md"
    md_path.write_text(markdown_table(run), encoding="utf-8")
    return json_path, md_path
