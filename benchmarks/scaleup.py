"""Scale-up data: synthetic assessment rounds and indicator snapshots, to see how each cost grows.

At scale 1× the generator writes 10 years × 2 rounds (baseline in May, evaluation in January) of
answers for all 1,741 municipalities to the questionnaire in force (data/questionnaire.yaml, 45
questions: 1,741 × 45 × 20 ≈ 1.57 M answers), one web-form export CSV per round, which the build
reads through the survey loader like any returned file; and 50 weekly snapshots of the 15
デジタル庁 市区町村比較 rows (13 indicators and the two components: 50 × 15 × 1,741 ≈ 1.31 M values),
which a build step appends (the デジタル庁 loader takes one as-of date per build, so snapshots of
other dates cannot come in as files). Scale k multiplies both: k × 20 rounds going back a year per
two rounds, k × 50 snapshots going back a week each, all ending before the real files' as-of date.

Every value is deterministic (fixed seeds) and marked: answers come from files named
``ベンチマーク用の架空データ_…``, snapshot rows have ``synthetic = true`` and that file name.
"""

from __future__ import annotations

import csv
import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from loaders import releases, store
from loaders.base import LoadContext
from loaders.errors import Report
from loaders.questionnaire import Question, load_questionnaire
from loaders.registry import load_registry

SEED = 20261123
ROUNDS_PER_SCALE = 20  # 10 years × (baseline, evaluation)
SNAPSHOTS_PER_SCALE = 50
SNAPSHOT_SOURCE = "digital_agency_municipal"
FILE_LABEL = "ベンチマーク用の架空データ"
LAST_SNAPSHOT = date(2026, 11, 16)  # a week before the real デジタル庁 files' as-of date (sources.yaml)
LAST_YEAR = 2026
UNANSWERED_SHARE = 0.02
TYPE_CAPABILITY = {"政令市": 1.3, "中核市": 0.9, "特別区": 0.9, "一般市": 0.2, "町": -0.4, "村": -0.8}
# 実施 shares and % levels of the real 市区町村比較 file, reached at the last snapshot
BINARY_SHARES = {
    "da_cio": 0.73,
    "da_cio_aide": 0.49,
    "da_policy": 0.50,
    "da_org": 0.65,
    "da_external_talent": 0.30,
    "da_staff_development": 0.83,
    "da_all_staff_training": 0.69,
    "da_ai": 0.50,
    "da_rpa": 0.41,
    "da_telework": 0.61,
}
PERCENT_LEVELS = {"da_mynumber_card": 75.0, "da_online_childcare26": 60.0, "da_online_top32": 50.0}
PROCEDURES = 26  # よく使う32手続: the 分母 is at most 26 procedures


@dataclass(frozen=True)
class ScaleupData:
    """What ``generate`` wrote: the survey folder, and the counts a benchmark divides by."""

    scale: float
    folder: Path
    rounds: int
    answers: int
    snapshots: int
    snapshot_rows: int

    @property
    def rows(self) -> int:
        return self.answers + self.snapshot_rows

    def snapshot_step(self):
        """A ``loaders.build`` synthetic step that appends the snapshots (see module docstring)."""

        def step(con: duckdb.DuckDBPyConnection, ctx: LoadContext, report: Report) -> None:
            write_snapshots(con, ctx, self.snapshots)
            report.info(
                f"{FILE_LABEL}: 指標のスナップショット {self.snapshots} 時点（{self.snapshot_rows:,} 行）"
                "を追加しました。"
            )

        return step


def counts(scale: float) -> tuple[int, int]:
    """(rounds, snapshots) at ``scale``: at least one of each."""
    return max(1, round(ROUNDS_PER_SCALE * scale)), max(1, round(SNAPSHOTS_PER_SCALE * scale))


def generate(folder: Path, scale: float) -> ScaleupData:
    """Write the survey CSVs of ``scale`` into ``folder`` (created); the snapshots are written by
    ``ScaleupData.snapshot_step`` during the build."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    registry = load_registry()
    municipalities = registry.municipalities.sort_values("code", ignore_index=True)
    definition = load_questionnaire()
    rounds, snapshots = counts(scale)
    theta = _capability(municipalities["type"], SEED)
    answers = 0
    for index, (round_id, held_on) in enumerate(round_schedule(rounds)):
        frame = round_answers(definition.questions, municipalities["code"], theta, index, rounds)
        path = folder / f"{FILE_LABEL}_{round_id}.csv"
        frame.insert(1, "回", round_id)
        frame.insert(2, "調査基準日", held_on.isoformat())
        frame.to_csv(path, index=False, encoding="utf-8", quoting=csv.QUOTE_MINIMAL)
        answers += int(frame[[q.id for q in definition.questions]].notna().sum().sum())
    indicators = len(BINARY_SHARES) + len(PERCENT_LEVELS) + 2
    return ScaleupData(scale, folder, rounds, answers, snapshots, snapshots * indicators * len(municipalities))


def round_schedule(rounds: int) -> list[tuple[str, date]]:
    """Round ids and dates, oldest first, the last pair in ``LAST_YEAR``: YYYY-baseline on May 15,
    YYYY-evaluation on January 31 of the next year."""
    years = (rounds + 1) // 2
    schedule = []
    for year in range(LAST_YEAR - years + 1, LAST_YEAR + 1):
        schedule.append((f"{year}-baseline", date(year, 5, 15)))
        schedule.append((f"{year}-evaluation", date(year + 1, 1, 31)))
    return schedule[len(schedule) - rounds :]


def _capability(types: pd.Series, seed: int) -> np.ndarray:
    rng = np.random.default_rng([seed, 1])
    return types.map(TYPE_CAPABILITY).to_numpy(dtype=float) + rng.normal(0.0, 0.7, len(types))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def round_answers(
    questions: tuple[Question, ...], codes: pd.Series, theta: np.ndarray, index: int, rounds: int
) -> pd.DataFrame:
    """One round's answers as the web form exports them: 団体コード and one column per question id.
    Capability grows over the rounds, so later rounds score higher on average."""
    n = len(codes)
    rng = np.random.default_rng([SEED, 2, index])
    growth = 2.0 * index / max(rounds - 1, 1) + rng.normal(0.0, 0.15, n)
    columns: dict[str, object] = {"団体コード": codes.to_numpy()}
    for question in questions:
        q_rng = np.random.default_rng([SEED, 3, index, zlib.crc32(question.id.encode("utf-8"))])
        p = _sigmoid(1.3 * (theta - 1.0 + growth) - 0.6 * question.stage)
        draw = q_rng.random(n)
        if question.type == "yesno":
            options = question.options()
            values = np.where(draw < p, options[0].label, options[1].label).astype(object)
        elif question.type in ("scale", "choice"):
            labels = np.array([c.label for c in sorted(question.options(), key=lambda c: c.value)], dtype=object)
            top = len(labels) - 1
            values = labels[np.clip(np.rint(top * p + 1.2 * (draw - 0.5)), 0, top).astype(int)]
        elif question.type == "number":
            limit = question.max or 10
            values = (
                np.clip(np.rint(limit * p * (0.6 + 0.8 * draw)), 0, 10 * limit).astype(int).astype(str).astype(object)
            )
        else:  # free text: most leave it blank
            values = np.where(draw < 0.1, f"{FILE_LABEL}のコメント", None).astype(object)
        values[q_rng.random(n) < UNANSWERED_SHARE] = None
        columns[question.id] = values
    return pd.DataFrame(columns)


def snapshot_dates(snapshots: int) -> list[date]:
    """Weekly dates, oldest first, the last one ``LAST_SNAPSHOT``."""
    return [LAST_SNAPSHOT - timedelta(weeks=snapshots - 1 - i) for i in range(snapshots)]


def write_snapshots(con: duckdb.DuckDBPyConnection, ctx: LoadContext, snapshots: int) -> int:
    """Append ``snapshots`` weekly snapshots of the 市区町村比較 rows for every municipality."""
    codes = ctx.registry.municipalities.sort_values("code")["code"].to_numpy()
    n = len(codes)
    theta = _capability(ctx.registry.municipalities.sort_values("code")["type"], SEED)
    written = 0
    for index, as_of in enumerate(snapshot_dates(snapshots)):
        # progress: shares move from 60 % of today's level up to today's level at the last snapshot
        progress = 0.6 + 0.4 * index / max(snapshots - 1, 1)
        rng = np.random.default_rng([SEED, 4, index])
        frames = []
        for indicator, share in BINARY_SHARES.items():
            p = _sigmoid(np.log(share * progress / (1 - share * progress)) + theta - theta.mean())
            value = (rng.random(n) < p).astype(float)
            frames.append(
                pd.DataFrame(
                    {
                        "code": codes,
                        "indicator_id": indicator,
                        "value": value,
                        "raw": np.where(value == 1.0, "実施", "未実施"),
                    }
                )
            )
        for indicator, level in PERCENT_LEVELS.items():
            value = np.clip(np.rint(rng.normal(level * progress + 8 * (theta - theta.mean()), 15)), 0, 100)
            frames.append(
                pd.DataFrame(
                    {"code": codes, "indicator_id": indicator, "value": value, "raw": [f"{int(v)}%" for v in value]}
                )
            )
        denominator = rng.integers(0, PROCEDURES + 1, n).astype(float)
        numerator = np.floor(denominator * np.clip(rng.normal(0.5 * progress, 0.2, n), 0, 1))
        for indicator, value in (
            ("da_online_top32_denominator", denominator),
            ("da_online_top32_numerator", numerator),
        ):
            frames.append(
                pd.DataFrame(
                    {"code": codes, "indicator_id": indicator, "value": value, "raw": [str(int(v)) for v in value]}
                )
            )
        frame = pd.concat(frames, ignore_index=True).assign(
            source=SNAPSHOT_SOURCE, as_of=as_of, file=f"{FILE_LABEL}（指標スナップショット）", synthetic=True
        )
        release, frame = releases.synthetic_release(
            f"demo-scaleup-{as_of.isoformat()}", SNAPSHOT_SOURCE, frame.file[0], frame
        )
        written += store.append(con, "indicator_values", frame)
        store.append(con, "releases", pd.DataFrame([release.row()]))
        store.append(con, "release_indicators", releases.release_indicator_rows(release, frame))
    return written
