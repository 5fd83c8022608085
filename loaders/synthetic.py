"""Synthetic data for the embedded demo (「デモ用の架空データ」), deterministic and clearly marked.

``synthetic_survey_step`` writes the questionnaire in force and two assessment rounds for all 1,741
municipalities (2026-baseline on 2026-05-15, 2026-evaluation on 2027-01-31). Answers follow a latent
"DX capability" per municipality that grows with its size and type (政令市 > 中核市・特別区 > 一般市 > 町 > 村)
plus noise; between the rounds most municipalities improve, some stand still (identical answers) and a
few slip back. ``synthetic_indicator_step`` stands in for the public files on a machine that has none:
the Digital Agency indicators of the catalog and a population per municipality (``population_demo``,
data/indicators/demo.yaml). Every row has ``synthetic = true``; the same seed gives the same database.
"""

from __future__ import annotations

import zlib
from datetime import date

import duckdb
import numpy as np
import pandas as pd

from loaders import releases, store
from loaders.base import LoadContext, source_as_of
from loaders.errors import Report
from loaders.questionnaire import QuestionnaireDefinition, load_questionnaire, normalise_answer, questions_frame

SEED = 20260515
DEMO_SOURCE = "demo"
DEMO_FILE = "デモ用の架空データ"
DEMO_MARK = "（デモ用の架空データ）"
ROUNDS = (
    ("2026-baseline", f"2026年度 ベースライン（当初）{DEMO_MARK}", "baseline", date(2026, 5, 15)),
    ("2026-evaluation", f"2026年度 評価（年度末）{DEMO_MARK}", "evaluation", date(2027, 1, 31)),
)
POPULATION_INDICATORS = ("population_juki", "population_census", "population_demo")

# capability by 団体区分 (logit scale) and the typical population (median, lower, upper bound)
TYPE_CAPABILITY = {"政令市": 1.3, "中核市": 0.9, "特別区": 0.9, "一般市": 0.2, "町": -0.4, "村": -0.8}
TYPE_POPULATION = {
    "政令市": (1_100_000, 700_000, 3_800_000),
    "中核市": (350_000, 200_000, 600_000),
    "特別区": (300_000, 60_000, 950_000),
    "一般市": (55_000, 3_000, 300_000),
    "町": (12_000, 700, 50_000),
    "村": (3_500, 150, 15_000),
}
# DX・情報関係業務の担当職員数 by type (兵庫県「市町DX支援パッケージ」: 2人以下 in 10 of 兵庫's 41 municipalities)
TYPE_DX_STAFF = {"政令市": 60, "中核市": 20, "特別区": 15, "一般市": 5, "町": 2.2, "村": 1.3}
# shares of 実施 in the real 市区町村比較 file, so the demo looks like the country
BINARY_RATES = {
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
# (mean, standard deviation, lowest, highest) in percent points
PERCENT_SHAPES = {
    "da_mynumber_card": (75, 7, 50, 94),
    "da_online_childcare26": (60, 25, 0, 100),
    "da_online_top32": (50, 25, 0, 100),
}
PROCEDURE_MISSING_SHARE = 0.7  # the per-procedure online rates are mostly blank in the real file
UNANSWERED_SHARE = 0.02
COMMENT_SHARE = 0.25
COMMENTS = (
    "担当職員が少なく、研修や計画づくりの時間を確保できていない。",
    "首長の理解はあるが、各課の当事者意識にばらつきがある。",
    "標準化対応で手一杯で、業務改革まで手が回らない。",
    "近隣の市町村と共同で研修や調達ができると助かる。",
    "外部人材を活用したいが、予算と人選に悩んでいる。",
    "データを集めてはいるが、政策立案での使い方が分からない。",
)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _municipalities(ctx: LoadContext) -> pd.DataFrame:
    return ctx.registry.municipalities.sort_values("code", ignore_index=True)[["code", "type", "pref_name", "name"]]


def _populations(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """The population the build will use (real before synthetic, then by preference), where loaded."""
    rows = con.execute(
        """
        SELECT code, value FROM (
            SELECT code, value, row_number() OVER (
                PARTITION BY code ORDER BY synthetic, list_position(?, indicator_id), as_of DESC) AS rank
            FROM indicator_values WHERE list_contains(?, indicator_id) AND value IS NOT NULL
        ) WHERE rank = 1
        """,
        [list(POPULATION_INDICATORS), list(POPULATION_INDICATORS)],
    ).fetchall()
    return dict(rows)


def capability(municipalities: pd.DataFrame, populations: dict[str, float]) -> np.ndarray:
    """A latent DX capability per municipality (logit scale): type, size where known, and noise."""
    rng = np.random.default_rng([SEED, 1])
    base = municipalities["type"].map(TYPE_CAPABILITY).to_numpy(dtype=float)
    population = municipalities["code"].map(populations).to_numpy(dtype=float)
    size = np.where(np.isnan(population), 0.0, 0.3 * (np.log10(np.maximum(population, 1.0)) - 4.5))
    return base + size + rng.normal(0.0, 0.6, len(municipalities))


# ---------------------------------------------------------------- survey rounds


def synthetic_survey_step(con: duckdb.DuckDBPyConnection, ctx: LoadContext, report: Report) -> None:
    """Questions plus two synthetic rounds for every municipality (see the module docstring)."""
    definition = load_questionnaire()
    round_ids = [r[0] for r in ROUNDS]
    taken = con.execute(
        """SELECT DISTINCT round_id FROM (
               SELECT round_id FROM survey_answers UNION ALL SELECT round_id FROM survey_stage_scores
               UNION ALL SELECT round_id FROM survey_rounds)
           WHERE list_contains(?, round_id)""",
        [round_ids],
    ).fetchall()
    if taken:
        report.info(
            f"回「{'、'.join(r[0] for r in taken)}」の実際の回答があるため、デモ用の架空の回答は作成しませんでした。"
        )
        return
    if con.execute("SELECT count(*) FROM questions").fetchall()[0][0] == 0:
        store.append(con, "questions", questions_frame(definition))
    store.append(
        con,
        "survey_rounds",
        pd.DataFrame(
            [
                {"round_id": r, "label": label, "kind": kind, "held_on": held_on, "synthetic": True}
                for r, label, kind, held_on in ROUNDS
            ]
        ),
    )
    answers = synthetic_answers(definition, _municipalities(ctx), _populations(con))
    store.append(con, "survey_answers", answers)
    report.info(
        f"デモ用の架空のアセスメント回答を作成しました（{answers.code.nunique()}団体 × {len(ROUNDS)}回、"
        f"{len(answers):,}行）。"
    )


def synthetic_answers(
    definition: QuestionnaireDefinition, municipalities: pd.DataFrame, populations: dict[str, float]
) -> pd.DataFrame:
    """survey_answers rows for both rounds; the same inputs give the same rows."""
    n = len(municipalities)
    rng = np.random.default_rng([SEED, 2])
    theta = capability(municipalities, populations)
    path = rng.random(n)
    # most improve, about one in five stands still, a few slip back
    change = np.where(path < 0.72, rng.uniform(0.4, 1.2, n), np.where(path < 0.92, 0.0, rng.uniform(-0.8, -0.3, n)))
    types = municipalities["type"]
    staff_base = types.map(TYPE_DX_STAFF).to_numpy(dtype=float) * rng.lognormal(0.0, 0.35, n)
    writes_comment = rng.random(n) < COMMENT_SHARE
    codes = municipalities["code"].to_numpy()
    cache: dict[tuple[str, str], float | None] = {}
    frames = []
    for question in definition.questions:
        q_rng = np.random.default_rng([SEED, 3, zlib.crc32(question.id.encode("utf-8"))])
        difficulty = -0.9 + 0.6 * question.stage + q_rng.normal(0.0, 0.4)
        draw = q_rng.random(n)  # one draw per municipality for both rounds: standing still repeats answers
        blank = q_rng.random((len(ROUNDS), n)) < UNANSWERED_SHARE
        comment = q_rng.integers(0, len(COMMENTS), n)
        extra_staff = q_rng.random(n) < 0.3
        for r, (round_id, *_rest) in enumerate(ROUNDS):
            p = _sigmoid(1.3 * (theta + change * r) - difficulty)
            answers = _answers(
                question, p, draw, staff_base + (extra_staff & (change > 0)) * r, writes_comment, comment
            )
            answers = [None if blank[r, i] and question.scorable else a for i, a in enumerate(answers)]
            values = []
            for answer in answers:
                key = (question.id, answer)
                if key not in cache:
                    cache[key] = normalise_answer(question, answer)[0]
                values.append(cache[key])
            frames.append(
                pd.DataFrame(
                    {
                        "code": codes,
                        "round_id": round_id,
                        "question_id": question.id,
                        "answer": answers,
                        "value": np.array(values, dtype=float),
                    }
                )
            )
    frame = pd.concat(frames, ignore_index=True)
    frame["file"] = DEMO_FILE
    frame["synthetic"] = True
    return frame.sort_values(["round_id", "code"], kind="stable", ignore_index=True)


def _answers(
    question, p: np.ndarray, draw: np.ndarray, staff: np.ndarray, writes_comment: np.ndarray, comment: np.ndarray
) -> list[str | None]:
    if question.type == "yesno":
        options = question.options()
        return [options[0].label if y else options[1].label for y in draw < p]
    if question.type in ("scale", "choice"):
        options = sorted(question.options(), key=lambda c: c.value)
        top = len(options) - 1
        index = np.clip(np.rint(top * p + 1.2 * (draw - 0.5)), 0, top).astype(int)
        return [options[i].label for i in index]
    if question.type == "number":
        if question.unit == "人":
            value = np.maximum(1, np.rint(staff))
        else:
            value = np.clip(np.rint(question.max * p * (0.8 + 0.4 * draw)), 0, question.max)
        return [str(int(v)) for v in value]
    return [f"{COMMENTS[c]}{DEMO_MARK}" if w else None for w, c in zip(writes_comment, comment)]


# ---------------------------------------------------------------- indicators without public data


def demo_indicator_ids(ctx: LoadContext) -> list[str]:
    """Digital Agency indicators of the catalog a municipality has (not numerator/denominator rows);
    all of them are 実施/未実施 or percentages, the two kinds the demo knows how to imitate."""
    return [
        indicator
        for indicator, entry in ctx.indicators.items()
        if str(entry["source"]).startswith("digital_agency")
        and entry["level"] in ("municipality", "both")
        and not entry.get("component", False)
        and entry["kind"] in ("binary", "percent")
    ]


def synthetic_indicator_step(con: duckdb.DuckDBPyConnection, ctx: LoadContext, report: Report) -> None:
    """Synthetic populations and Digital Agency indicator values for every municipality (source ``demo``)."""
    municipalities = _municipalities(ctx)
    as_of = pd.Timestamp(source_as_of(ctx, DEMO_SOURCE)).date()
    population = synthetic_population(municipalities)
    populations = dict(zip(municipalities["code"], population))
    theta = capability(municipalities, populations)
    frames = [
        pd.DataFrame(
            {
                "code": municipalities["code"],
                "indicator_id": "population_demo",
                "value": population.astype(float),
                "raw": [str(int(v)) for v in population],
            }
        )
    ]
    for indicator in demo_indicator_ids(ctx):
        frames.append(_indicator_values(indicator, ctx.indicators[indicator], municipalities, theta))
    frame = pd.concat(frames, ignore_index=True)
    frame = frame.assign(source=DEMO_SOURCE, as_of=as_of, file=DEMO_FILE, synthetic=True)
    release, frame = releases.synthetic_release("demo-indicators", DEMO_SOURCE, DEMO_FILE, frame)
    store.append(con, "indicator_values", frame)
    store.append(con, "releases", pd.DataFrame([release.row()]))
    store.append(con, "release_indicators", releases.release_indicator_rows(release, frame))
    report.info(
        f"デモ用の架空の指標値を作成しました（{len(municipalities)}団体、"
        f"人口と{frame.indicator_id.nunique() - 1}指標）。"
    )


def synthetic_population(municipalities: pd.DataFrame) -> np.ndarray:
    """A plausible population per municipality by type (政令市 ≥ 70万, 中核市 20–60万, … 村 small)."""
    rng = np.random.default_rng([SEED, 4])
    shape = municipalities["type"].map(TYPE_POPULATION)
    median = np.array([s[0] for s in shape], dtype=float)
    low = np.array([s[1] for s in shape], dtype=float)
    high = np.array([s[2] for s in shape], dtype=float)
    population = median * rng.lognormal(0.0, 0.55, len(municipalities))
    # outside the type's range: redrawn log-uniformly inside it (clipping would pile values on the bounds)
    outside = (population < low) | (population > high)
    population[outside] = np.exp(rng.uniform(np.log(low[outside]), np.log(high[outside])))
    return np.rint(population).astype(np.int64)


def _indicator_values(indicator: str, entry: dict, municipalities: pd.DataFrame, theta: np.ndarray) -> pd.DataFrame:
    n = len(municipalities)
    rng = np.random.default_rng([SEED, 5, zlib.crc32(indicator.encode("utf-8"))])
    if entry["kind"] == "binary":
        rate = BINARY_RATES.get(indicator, 0.5)
        p = _sigmoid(np.log(rate / (1 - rate)) + theta - theta.mean())
        value = (rng.random(n) < p).astype(float)
        raw = np.where(value == 1.0, "実施", "未実施")
    else:
        mean, sd, low, high = PERCENT_SHAPES.get(indicator, (35, 25, 0, 100))
        value = np.clip(np.rint(rng.normal(mean + 0.4 * sd * (theta - theta.mean()), sd)), low, high)
        if entry["source"] == "digital_agency_municipal_online":
            value[rng.random(n) < PROCEDURE_MISSING_SHARE] = np.nan
        raw = np.array(["" if np.isnan(v) else f"{int(v)}%" for v in value], dtype=object)
    return pd.DataFrame(
        {"code": municipalities["code"].to_numpy(), "indicator_id": indicator, "value": value, "raw": raw}
    )
