"""Small DuckDB stores for the metrics tests, built in tmp_path from crafted rows.

They use only the store schema (loaders.store.create_schema) and the registry, never another
engineer's loader, so the metrics tests do not depend on loaders that are still being written.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from loaders import store
from loaders.catalog import load_pop_bands

FIELDS = ["DX全般", "情報システム", "BPR", "データ利活用"]

# The デジタル庁 indicators as the composite expects them (ids and pillars of the planned catalog).
DA_INDICATORS = [
    # id, title, kind, pillar, level, target
    ("da_cio", "CIOの任命", "binary", "推進体制", "both", 1),
    ("da_cio_aide", "CIO補佐官等の任命", "binary", "推進体制", "both", 1),
    ("da_policy", "全体方針策定", "binary", "推進体制", "both", 1),
    ("da_org", "全庁的な体制構築", "binary", "推進体制", "both", 1),
    ("da_external_talent", "外部人材活用", "binary", "人材", "both", 1),
    ("da_staff_development", "職員育成の取組", "binary", "人材", "both", 1),
    ("da_all_staff_training", "全職員対象研修の実施", "binary", "人材", "both", 1),
    ("da_ai", "AIの導入状況", "binary", "デジタル技術", "both", 1),
    ("da_rpa", "RPAの導入状況", "binary", "デジタル技術", "both", 1),
    ("da_telework", "テレワークの導入状況", "binary", "デジタル技術", "both", 1),
    ("da_mynumber_card", "マイナンバーカードの保有状況", "percent", "住民サービス", "municipality", 100),
    ("da_online_childcare26", "子育て・介護26手続のオンライン化状況", "percent", "住民サービス", "municipality", 100),
    ("da_online_top32", "よく使う32手続のオンライン化状況", "percent", "住民サービス", "both", 100),
]


def indicator_rows(entries=DA_INDICATORS, **overrides) -> pd.DataFrame:
    rows = []
    for ident, title, kind, pillar, level, target in entries:
        row = {
            "id": ident,
            "title": title,
            "short_title": title,
            "unit": "%" if kind == "percent" else "実施=1",
            "kind": kind,
            "pillar": pillar,
            "category": None,
            "source": "digital_agency_municipal",
            "polarity": "higher_is_better",
            "weight": 1.0,
            "target": float(target),
            "level": level,
            "component": False,
            "description": f"{title}（テスト用）",
        }
        row.update(overrides.get(ident, {}))
        rows.append(row)
    return pd.DataFrame(rows)


def new_store(path: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An empty store with the schema and the population bands (in memory when ``path`` is None)."""
    con = duckdb.connect(str(path) if path else ":memory:")
    store.create_schema(con)
    store.append(con, "pop_bands", load_pop_bands()[["label", "min_population", "order"]])
    return con


def band_of(population: pd.Series) -> pd.Series:
    bands = load_pop_bands()
    edges = list(bands["min_population"]) + [np.inf]
    return pd.cut(population, bins=edges, labels=list(bands["label"]), right=False).astype("string")


def municipality_rows(specs: list[tuple]) -> pd.DataFrame:
    """(code, pref_name, name, type, population) tuples → municipalities rows."""
    frame = pd.DataFrame(specs, columns=["code", "pref_name", "name", "type", "population"])
    frame["code5"] = frame["code"].str[:5]
    frame["pref_code"] = frame["code"].str[:2]
    frame["pop_band"] = band_of(frame["population"].astype(float))
    frame["synthetic"] = False
    return frame


def questions_grid(per_cell: int = 5, points: float = 1.0) -> pd.DataFrame:
    """``per_cell`` yesno questions in each of the 4 × 4 cells, each worth ``points``."""
    rows = []
    for stage in range(4):
        for f, field in enumerate(FIELDS):
            for k in range(per_cell):
                rows.append(
                    {
                        "id": f"S{stage}-F{f}-{k:02d}",
                        "stage": stage,
                        "field": field,
                        "text": f"設問 {stage}-{field}-{k}",
                        "answer_type": "yesno",
                        "choices": None,
                        "points": points,
                    }
                )
    return pd.DataFrame(rows)


def answers_for(code: str, round_id: str, questions: pd.DataFrame, values) -> pd.DataFrame:
    values = list(values)
    return pd.DataFrame(
        {
            "code": code,
            "round_id": round_id,
            "question_id": questions["id"].tolist(),
            "answer": [None if v is None else str(v) for v in values],
            "value": values,
        }
    )


def synthetic_store(path: Path, registry, seed: int = 7) -> duckdb.DuckDBPyConnection:
    """All 1,741 municipalities with plausible synthetic populations, two assessment rounds
    (4 stages × 4 fields × 3 questions), two snapshots of the 13 indicators (a few missing) and
    prefecture values — large enough to time every metric on a national selection."""
    rng = np.random.default_rng(seed)
    con = new_store(path)
    muni = registry.municipalities.copy()
    base = {"政令市": 1.2e6, "中核市": 3.5e5, "特別区": 2.5e5, "一般市": 6e4, "町": 1.5e4, "村": 4e3}
    muni["population"] = (muni["type"].map(base) * rng.lognormal(0, 0.5, len(muni))).round().astype("int64")
    muni["pop_band"] = band_of(muni["population"].astype(float))
    muni["synthetic"] = True
    store.append(con, "municipalities", muni)
    store.append(con, "prefectures", registry.prefectures)
    regions = pd.read_csv(Path(__file__).resolve().parent.parent / "data" / "regions.csv", dtype=str, comment="#")
    store.append(con, "regions", regions[["code", "region_set", "region"]])
    store.append(con, "indicators", indicator_rows())

    questions = questions_grid(per_cell=3)
    store.append(con, "questions", questions)
    store.append(
        con,
        "survey_rounds",
        pd.DataFrame(
            {
                "round_id": ["2026-baseline", "2026-evaluation"],
                "label": ["当初", "評価"],
                "kind": ["baseline", "evaluation"],
                "held_on": pd.to_datetime(["2026-05-15", "2027-01-31"]),
                "synthetic": True,
            }
        ),
    )
    size = np.log10(muni["population"].to_numpy(dtype=float))
    ability = (size - size.mean()) / size.std()
    n_q = len(questions)
    difficulty = questions["stage"].to_numpy() * 0.6
    frames = []
    for r, round_id in enumerate(["2026-baseline", "2026-evaluation"]):
        logits = ability[:, None] * 0.8 - difficulty[None, :] + 0.6 + 0.5 * r + rng.normal(0, 1, (len(muni), n_q))
        value = (logits > 0).astype(float)
        value[rng.random(value.shape) < 0.03] = np.nan  # a few unanswered questions
        frames.append(
            pd.DataFrame(
                {
                    "code": np.repeat(muni["code"].to_numpy(), n_q),
                    "round_id": round_id,
                    "question_id": np.tile(questions["id"].to_numpy(), len(muni)),
                    "answer": None,
                    "value": value.ravel(),
                    "synthetic": True,
                }
            )
        )
    store.append(con, "survey_answers", pd.concat(frames, ignore_index=True))

    value_frames = []
    for s, as_of in enumerate(["2025-04-01", "2026-04-01"]):
        for ident, _title, kind, _pillar, _level, _target in DA_INDICATORS:
            if kind == "binary":
                v = (ability * 0.7 + rng.normal(0, 1, len(muni)) + 0.3 * s > 0).astype(float)
            else:
                v = np.clip(50 + 15 * ability + rng.normal(0, 10, len(muni)) + 5 * s, 0, 100).round()
            v[rng.random(len(muni)) < 0.01] = np.nan
            value_frames.append(
                pd.DataFrame(
                    {
                        "code": muni["code"],
                        "indicator_id": ident,
                        "value": v,
                        "raw": None,
                        "source": "digital_agency_municipal",
                        "as_of": pd.Timestamp(as_of),
                        "file": "synthetic",
                        "synthetic": True,
                    }
                )
            )
            pref_value = rng.random(len(registry.prefectures)) * (1 if kind == "binary" else 100)
            value_frames.append(
                pd.DataFrame(
                    {
                        "code": registry.prefectures["code"],
                        "indicator_id": ident,
                        "value": pref_value.round() if kind == "binary" else pref_value,
                        "raw": None,
                        "source": "digital_agency_prefecture",
                        "as_of": pd.Timestamp(as_of),
                        "file": "synthetic",
                        "synthetic": True,
                    }
                )
            )
    append_values(con, pd.concat(value_frames, ignore_index=True))
    from loaders.build import run_metric_steps

    run_metric_steps(con)
    return con


def fill(con: duckdb.DuckDBPyConnection, **tables: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    """Append rows to store tables by name (e.g. fill(con, questions=..., survey_answers=...)), then
    write the metric tables as the build's last steps do (loaders.build.run_metric_steps)."""
    from loaders.build import run_metric_steps

    for table, frame in tables.items():
        if table == "indicator_values":
            append_values(con, frame)
        else:
            store.append(con, table, frame)
    run_metric_steps(con)
    return con


def append_values(con: duckdb.DuckDBPyConnection, values: pd.DataFrame) -> None:
    """Indicator values as the build writes them: rows without a release_id get one release per
    (source, as_of), with its ``releases`` and ``release_indicators`` rows."""
    if "release_id" not in values.columns:
        as_of_text = pd.to_datetime(values["as_of"]).dt.strftime("%Y-%m-%d").fillna("unknown")
        values = values.assign(release_id="test-" + values["source"].astype(str) + "-" + as_of_text)
    store.append(con, "indicator_values", values)
    synthetic = values["synthetic"] if "synthetic" in values.columns else pd.Series(False, index=values.index)
    firsts = (
        values.assign(synthetic=synthetic.astype(bool))
        .groupby("release_id", as_index=False)
        .agg(source=("source", "first"), as_of=("as_of", "max"), synthetic=("synthetic", "all"))
    )
    known = {row[0] for row in con.execute("SELECT release_id FROM releases").fetchall()}
    new = firsts[~firsts.release_id.isin(known)]
    store.append(con, "releases", new.assign(label=new.release_id, as_of_origin="source_default"))
    store.append(con, "release_indicators", values[["release_id", "indicator_id", "as_of"]].drop_duplicates())


# 和歌山県 (和歌山県's assessment sheet): real registry names and codes, synthetic populations
WAKAYAMA = [
    ("302015", "和歌山県", "和歌山市", "中核市", 356000),
    ("302023", "和歌山県", "海南市", "一般市", 47000),
    ("302031", "和歌山県", "橋本市", "一般市", 61000),
    ("303810", "和歌山県", "美浜町", "町", 7000),
    ("304271", "和歌山県", "北山村", "村", 400),
]
HYOGO = [
    ("282014", "兵庫県", "姫路市", "中核市", 527000),
    ("282022", "兵庫県", "尼崎市", "中核市", 455000),
    ("283819", "兵庫県", "稲美町", "町", 30000),
]


def rounds_frame(*round_ids: str) -> pd.DataFrame:
    dates = pd.date_range("2026-05-15", periods=len(round_ids), freq="240D")
    kinds = ["baseline"] + ["evaluation"] * (len(round_ids) - 1)
    return pd.DataFrame({"round_id": list(round_ids), "label": list(round_ids), "kind": kinds, "held_on": dates})
