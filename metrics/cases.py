"""Reference cases (data/reference_cases.yaml) matched to a municipality's weakest stage and field."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from metrics.assessment import assessment_scores, latest_rounds, rounds
from metrics.definitions import load_questionnaire, load_reference_cases
from metrics.filters import Filter, select_municipalities
from metrics.menus import load_support_menu  # every provider: ids are looked up, not recommended
from metrics.query import isin
from store.catalog import read_pop_bands

CASE_COLUMNS = [
    "case_id",
    "body",
    "pref_name",
    "body_kind",
    "population_text",
    "stage",
    "field",
    "title",
    "summary",
    "source",
    "section",
]
# what recommend_cases returns, in this order
CASE_MATCH_COLUMNS = (
    ["code", "name", "round_id", "weakest_stage", "weakest_field", "rank"] + CASE_COLUMNS + ["size_ratio", "reason"]
)


def reference_cases() -> pd.DataFrame:
    """All reference cases. Columns: id, body, pref_name, body_kind (municipality / prefecture /
    group), code (6-digit for a single body, else NULL), population (persons, used for size
    matching), population_text (as stated in the source), population_as_of, stage (0–3), field,
    title, summary, source, section."""
    return pd.DataFrame(load_reference_cases())


def rank_cases(
    targets: pd.DataFrame, cases: pd.DataFrame, n: int = 3, body_kinds: tuple[str, ...] = ("municipality", "group")
) -> pd.DataFrame:
    """For each target (columns code, stage, field (or NULL), population (or NULL)): the cases of
    the same stage by bodies of ``body_kinds``, best first — same field first, then the nearest
    size (|log10(case population / population)|), then case id — at most ``n`` per target.
    Prefecture cases are left out by default: they describe what a prefecture does for its
    municipalities; a municipality's own case is left out too. Returns the targets' columns, rank
    (1 = best), field_match, size_ratio (case population / target population) and the case columns
    (renamed case_id, case_code, case_field, case_population)."""
    pool = cases[cases["body_kind"].isin(body_kinds)].rename(
        columns={"id": "case_id", "code": "case_code", "field": "case_field", "population": "case_population"}
    )
    paired = targets.merge(pool, on="stage", how="inner")
    paired = paired[paired["case_code"].isna() | (paired["case_code"] != paired["code"])]  # not its own case
    paired["field_match"] = (paired["case_field"] == paired["field"]).fillna(False).astype(bool)
    paired["size_ratio"] = paired["case_population"] / paired["population"].where(paired["population"] > 0)
    distance = np.abs(np.log10(paired["size_ratio"].astype(float))).fillna(0.0)
    paired = paired.assign(size_distance=distance).sort_values(
        ["code", "field_match", "size_distance", "case_id"], ascending=[True, False, True, True]
    )
    paired["rank"] = paired.groupby("code").cumcount() + 1
    return paired[paired["rank"] <= n].drop(columns=["size_distance"]).reset_index(drop=True)


def match_cases(
    cases: pd.DataFrame,
    stage: int,
    field: str | None = None,
    population: float | None = None,
    n: int = 3,
    body_kinds: tuple[str, ...] = ("municipality", "group"),
) -> pd.DataFrame:
    """``rank_cases`` for one body: the best ``n`` cases of ``stage`` for ``field`` and ``population``."""
    target = pd.DataFrame({"code": ["-"], "stage": [stage], "field": [field], "population": [population]})
    return rank_cases(target, cases, n, body_kinds).drop(columns=["code", "field", "population"])


def weakest_parts(scores: pd.DataFrame) -> pd.DataFrame:
    """Per code × round_id: the weakest stage (lowest stage score; ties → the earlier stage) and
    the weakest field (lowest field score; ties → the first in questionnaire order; NULL for
    pre-scored sheets). Columns: code, round_id, weakest_stage, stage_score, weakest_field, field_score."""
    field_order = {f: i for i, f in enumerate(load_questionnaire().fields)}
    # only the columns used: first() of every column of the score table is most of the cost
    stage_rows = scores.loc[
        (scores["level"] == "stage") & scores["score"].notna(), ["code", "round_id", "stage", "score"]
    ]
    stage_rows = stage_rows.sort_values(["code", "round_id", "score", "stage"])
    stage = stage_rows.groupby(["code", "round_id"], as_index=False).first()
    stage.columns = ["code", "round_id", "weakest_stage", "stage_score"]
    field_rows = scores.loc[
        (scores["level"] == "field") & scores["score"].notna(), ["code", "round_id", "field", "score"]
    ]
    field_rows = field_rows.assign(order=field_rows["field"].map(field_order)).sort_values(
        ["code", "round_id", "score", "order"]
    )
    field = field_rows.groupby(["code", "round_id"], as_index=False).first()[["code", "round_id", "field", "score"]]
    field.columns = ["code", "round_id", "weakest_field", "field_score"]
    return stage.merge(field, on=["code", "round_id"], how="left")


def recommend_cases(
    con: duckdb.DuckDBPyConnection,
    flt: Filter | None = None,
    round_id: str | None = None,
    n: int = 3,
    scores: pd.DataFrame | None = None,
    cases: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Up to ``n`` reference cases per selected municipality for its weakest stage (and field) of
    ``round_id`` (default: its newest round), from bodies of similar population (``match_cases``).
    A municipality without an assessment sheet gets no rows.

    Columns: code, name, round_id, weakest_stage, weakest_field, rank, case_id, body, pref_name,
    body_kind, population_text, stage, field, title, summary, source, section, size_ratio, reason
    (Japanese: why this case).
    """
    questionnaire = load_questionnaire()
    municipalities = select_municipalities(con, flt).set_index("code")
    cases = cases if cases is not None else reference_cases()
    if scores is None:
        scores = assessment_scores(con, flt, round_ids=[round_id] if round_id else None)
    if round_id:
        scores = scores[scores["round_id"] == round_id]
    else:
        scores = latest_rounds(scores, rounds(con)["round_id"].tolist())
    selected = isin(scores["code"], municipalities.index)
    parts = weakest_parts(scores if selected.all() else scores[selected])
    targets = pd.DataFrame(
        {
            "code": parts["code"],
            "round_id": parts["round_id"],
            "stage": parts["weakest_stage"].astype(int),
            "field": parts["weakest_field"],
            "population": parts["code"].map(municipalities["population"]).astype(float),
        }
    )
    ranked = rank_cases(targets, cases, n)
    ranked["name"] = ranked["code"].map(municipalities["name"])
    ranked["weakest_stage"] = ranked["stage"]
    ranked["weakest_field"] = ranked["field"]
    ranked["reason"] = [
        f"最も弱い{questionnaire.stage_label(stage)}"
        + (f"・分野「{field}」" if match else "")
        + f"の事例（{pref}{'' if body == pref else body}"
        + ("" if pd.isna(ratio) else f"、人口は約{ratio:.1f}倍")
        + "）。"
        for stage, field, match, pref, body, ratio in zip(
            *(
                ranked[column].tolist()
                for column in ("stage", "field", "field_match", "pref_name", "body", "size_ratio")
            )
        )
    ]
    ranked = ranked.drop(columns=["field"]).rename(columns={"case_field": "field"})
    return ranked[CASE_MATCH_COLUMNS]


def case_bands(cases: pd.DataFrame, bands: pd.DataFrame) -> pd.Series:
    """The population band (data/pop_bands.csv: label, min_population) of each case's body."""
    ordered = bands.sort_values("min_population")
    edges = ordered["min_population"].astype(float).tolist() + [float("inf")]
    return pd.cut(cases["population"].astype(float), edges, right=False, labels=ordered["label"].tolist()).astype(
        "string"
    )


def recommendation_table(
    priority: pd.DataFrame,
    cases: pd.DataFrame | None = None,
    bands: pd.DataFrame | None = None,
    n_cases: int = 2,
    body_kinds: tuple[str, ...] = ("municipality", "group"),
) -> pd.DataFrame:
    """The recommended items of ``priority`` (rows of ``support_priority``) one per row, each with
    its reason and up to ``n_cases`` reference cases of the same population band (data/
    reference_cases.yaml: 総務省の参考事例集と地域社会DX事例集) for the stage of the gap the item closes — same field
    first, then nearest size, then case id. A municipality's own case is left out. Pure.

    Columns: code, name, rank (1–3), item_id, item, provider, reason, stage, field, cases (list of
    dicts: case_id, body, pref_name, title, summary, population_text, source, section), cases_text
    (「body（pref）: title（source section）」 joined by '／')."""
    cases = cases if cases is not None else reference_cases()
    if bands is None:
        bands = read_pop_bands()
    pool = cases[cases["body_kind"].isin(body_kinds)].assign(band=case_bands(cases, bands))
    menu = load_support_menu()
    rows = []
    for record in priority.itertuples(index=False):
        ids = [i for i in str(record.recommended_ids or "").split(",") if i]
        reasons = str(record.recommended_reasons or "").split("｜")
        stages = str(record.recommended_stages or "").split(",")
        fields = str(record.recommended_fields or "").split(",")
        band = getattr(record, "pop_band", None)
        population = getattr(record, "population", None)
        for rank, item_id in enumerate(ids, start=1):
            stage = stages[rank - 1] if rank - 1 < len(stages) else ""
            field = fields[rank - 1] if rank - 1 < len(fields) else ""
            matched = (
                pool[(pool["band"] == band) & (pool["code"].fillna("") != record.code)] if band else pool.iloc[0:0]
            )
            if stage != "":
                matched = matched[matched["stage"] == int(stage)]
            else:
                matched = matched.iloc[0:0]
            if len(matched):
                size = np.abs(np.log10(matched["population"].astype(float) / float(population))) if population else 0.0
                matched = (
                    matched.assign(field_match=(matched["field"] == field), size=size)
                    .sort_values(["field_match", "size", "id"], ascending=[False, True, True])
                    .head(n_cases)
                )
            picked = [
                {
                    "case_id": c.id,
                    "body": c.body,
                    "pref_name": c.pref_name,
                    "title": c.title,
                    "summary": c.summary,
                    "population_text": c.population_text,
                    "source": c.source,
                    "section": c.section,
                }
                for c in matched.itertuples()
            ]
            item = menu.get(item_id)
            rows.append(
                {
                    "code": record.code,
                    "name": record.name,
                    "rank": rank,
                    "item_id": item_id,
                    "item": item.name if item else item_id,
                    "provider": item.provider if item else "",
                    "reason": reasons[rank - 1] if rank - 1 < len(reasons) else "",
                    "stage": int(stage) if stage != "" else pd.NA,
                    "field": field or pd.NA,
                    "cases": picked,
                    "cases_text": "／".join(
                        f"{c['body'] if c['body'] == c['pref_name'] else c['pref_name'] + c['body']}「{c['title']}」"
                        f"（{' '.join(c['source'].split()[:2])} {c['section'].split()[-1]}）"
                        for c in picked
                    ),
                }
            )
    columns = ["code", "name", "rank", "item_id", "item", "provider", "reason", "stage", "field", "cases", "cases_text"]
    return pd.DataFrame(rows, columns=columns)
