"""What the dashboard pages need beyond the metrics families: the menu of measures a page can map
or chart, one measure for every municipality, the national one-row-per-municipality table, the
prefecture ranking, maturity per field and its transition between rounds, support-menu counts, the
visit plan, peer shares for one municipality, and read-only views of the store (sources, ingest log,
unresolved names) for the data-management page.

Pure like the rest of ``metrics``: no Streamlit, SQL in metrics/sql/view_*.sql with bound
parameters. A *measure* is one number (or category) per municipality, named by ``measure_id``:

    composite, pillar:<柱>          デジタル庁指標の総合得点と柱の得点 (0–100, as of a snapshot)
    assessment, stage:<n>, field:<分野>  アセスメント得点 (0–100, of a round)
    maturity                        成熟度レベル 0–4 (of a round)
    change                          アセスメント総合得点の変化 (評価 − 当初, score points)
    priority                        支援優先度 高/中/低 (a category; 判定不可 is missing)
    <catalog id>                    an indicator of the catalog (da_cio, population_juki, …)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.assessment import NOT_ANSWERED, assessment_scores, latest_rounds, round_labels, rounds, unanswered_codes
from metrics.catalog import indicator_catalog
from metrics.change import TRENDS, assessment_change, classify, composite_change, default_rounds
from metrics.composite import composite_members
from metrics.crosstab import BINARY_LABELS, cross_table, measure_values
from metrics.definitions import COMPOSITE, PILLARS, load_questionnaire
from metrics.derived_tables import stored_assessment_change
from metrics.filters import Filter, select_municipalities
from metrics.menus import PRIORITY_LEVELS, support_menu
from metrics.priority import NOT_ASSESSED
from metrics.query import run
from metrics.rules import load_priority_rules
from metrics.snapshots import UNKNOWN as UNKNOWN_SNAPSHOT  # noqa: F401 - the sidebar's key for 調査時点不明
from metrics.snapshots import (
    previous_snapshot,
    snapshot_dates,
    snapshot_label,
    snapshots,  # noqa: F401 - pages read the snapshots from here
)
from metrics.summary import municipality_summary
from metrics.tables import (
    field_maturity_levels,
    stored_assessment,
    stored_composite,
    stored_composite_history,
    stored_gaps,
    stored_maturity,
    stored_priority,
)

MISSING_LABEL = "データなし"
SCORE_UNIT = "点"
# Menu groups in display order (the 13 indicators of the composite first, per-procedure rates last).
GROUP_COMPOSITE = "デジタル庁指標の総合得点"
GROUP_ASSESSMENT = "アセスメント（都道府県調査）"
GROUP_DA = "デジタル庁 自治体DX推進状況"
GROUP_OPENDATA = "オープンデータ取組状況"
GROUP_BASIC = "人口・面積（基礎情報）"
GROUP_PROCEDURES = "行政手続のオンライン申請率（手続別）"
GROUP_ORDER = (GROUP_COMPOSITE, GROUP_ASSESSMENT, GROUP_DA, GROUP_OPENDATA, GROUP_BASIC, GROUP_PROCEDURES)
MEASURE_COLUMNS = [
    "measure_id",
    "title",
    "short_title",
    "unit",
    "kind",
    "polarity",
    "group",
    "credit",
    "as_of",
    "synthetic",
    "domain_min",
    "domain_max",
    "diverging",
    "description",
]
VISIT_PLAN_COLUMNS = {
    "region": "地域",
    "visit_order": "訪問順",
    "code": "団体コード",
    "pref_name": "都道府県",
    "name": "市区町村",
    "priority": "支援優先度",
    "basis_label": "判定の根拠",
    "response": "調査の回答",
    "weak_stages": "弱い段階",
    "support": "支援内容",
    "recommended": "推奨する支援",
    "recommended_reasons": "推奨の理由",
    "assessment": "アセスメント得点",
    "reasons": "理由",
}


# ---------------------------------------------------------------- measures


def measure_options(con) -> pd.DataFrame:
    """Every measure the store can show, in menu order. Columns: measure_id, title (unique, used as
    the menu label), short_title, unit, kind (score / level / change / binary / percent / count /
    number / category), polarity, group, credit (source line), as_of (newest date, or the newest
    round's label for the assessment measures),
    synthetic (any demo value), domain_min / domain_max (fixed colour range or NaN = from the data),
    diverging (colour around 0), description."""
    catalog = indicator_catalog(con)
    known_rounds = rounds(con)
    questionnaire = load_questionnaire()
    rows: list[dict] = []
    members = catalog[
        catalog["indicator_id"].isin(composite_members(con)["indicator_id"]) & (catalog["municipalities"] > 0)
    ]
    if len(members):
        credit = members["credit"].iloc[0]
        as_of = _date_text(members["as_of"].max())
        synthetic = bool(members["synthetic"].any())
        rows.append(
            _score_row(
                "composite",
                "デジタル庁指標 総合得点",
                "総合得点",
                GROUP_COMPOSITE,
                credit,
                as_of,
                synthetic,
                "デジタル庁「自治体DX推進状況」の13指標を0〜1にそろえ、4つの柱ごとに平均し、柱を等しい重みで平均した得点（0〜100）。",
            )
        )
        for pillar in PILLARS:
            rows.append(
                _score_row(
                    f"pillar:{pillar}",
                    f"総合得点の柱「{pillar}」",
                    pillar,
                    GROUP_COMPOSITE,
                    credit,
                    as_of,
                    synthetic,
                    f"柱「{pillar}」に属するデジタル庁指標の平均（0〜100）。",
                )
            )
    if len(known_rounds):
        credit = "都道府県のアセスメント調査（4段階×4分野）"
        synthetic = bool(known_rounds["synthetic"].any())
        labels = round_labels(con)  # the as-of of a survey measure is its round, by label (never the id)
        newest = labels[known_rounds["round_id"].iloc[-1]]
        rows.append(
            _score_row(
                "assessment",
                "アセスメント総合得点",
                "アセスメント",
                GROUP_ASSESSMENT,
                credit,
                newest,
                synthetic,
                "アセスメントシートの全設問で得た点数の、満点に対する割合（0〜100）。",
            )
        )
        for stage, name in sorted(questionnaire.stages.items()):
            rows.append(
                _score_row(
                    f"stage:{stage}",
                    f"アセスメント STEP{stage}（{name}）",
                    f"STEP{stage}",
                    GROUP_ASSESSMENT,
                    credit,
                    newest,
                    synthetic,
                    f"段階「{name}」の設問の得点（0〜100）。",
                )
            )
        for field in questionnaire.fields:
            rows.append(
                _score_row(
                    f"field:{field}",
                    f"アセスメント 分野「{field}」",
                    field,
                    GROUP_ASSESSMENT,
                    credit,
                    newest,
                    synthetic,
                    f"分野「{field}」の設問の得点（0〜100）。",
                )
            )
        rows.append(
            {
                **_score_row(
                    "maturity",
                    "成熟度レベル（0〜4）",
                    "成熟度",
                    GROUP_ASSESSMENT,
                    credit,
                    newest,
                    synthetic,
                    "STEP0から順に、得点がしきい値に達した段階の数（0〜4）。",
                ),
                "unit": "レベル",
                "kind": "level",
                "domain_max": 4.0,
            }
        )
        rows.append(
            {
                **_score_row(
                    "priority",
                    "支援優先度（高・中・低）",
                    "支援優先度",
                    GROUP_ASSESSMENT,
                    credit,
                    newest,
                    synthetic,
                    "アセスメントのある団体は弱い段階（満点の半分未満）の数（2つ以上で高、1つで中、なしで低）、"
                    "ない団体は公開データ（デジタル庁指標）による判定。",
                ),
                "unit": "",
                "kind": "category",
                "domain_min": np.nan,
                "domain_max": np.nan,
            }
        )
        if len(known_rounds) >= 2:
            base, evaluation = default_rounds(con)
            rows.append(
                {
                    **_score_row(
                        "change",
                        "アセスメント総合得点の変化（当初→評価）",
                        "得点の変化",
                        GROUP_ASSESSMENT,
                        credit,
                        f"{labels[base]}→{labels[evaluation]}",
                        synthetic,
                        "評価の回の総合得点から当初の回の総合得点を引いた差（点）。",
                    ),
                    "kind": "change",
                    "domain_min": np.nan,
                    "domain_max": np.nan,
                    "diverging": True,
                }
            )
    indicators = catalog[
        ~catalog["component"] & catalog["level"].isin(["municipality", "both"]) & (catalog["municipalities"] > 0)
    ]
    for row in indicators.itertuples():
        rows.append(
            {
                "measure_id": row.indicator_id,
                "title": row.title,
                "short_title": row.short_title or row.title,
                "unit": row.unit,
                "kind": row.kind,
                "polarity": row.polarity,
                "group": _indicator_group(row),
                "credit": row.credit,
                "as_of": _date_text(row.as_of),
                "synthetic": bool(row.synthetic),
                "domain_min": 0.0 if row.kind in ("binary", "percent") else np.nan,
                "domain_max": 1.0 if row.kind == "binary" else 100.0 if row.kind == "percent" else np.nan,
                "diverging": False,
                "description": row.description,
            }
        )
    options = pd.DataFrame(rows, columns=MEASURE_COLUMNS)
    options["order"] = options["group"].map({g: i for i, g in enumerate(GROUP_ORDER)})
    options = options.sort_values("order", kind="stable").drop(columns="order").reset_index(drop=True)
    # titles are the menu's labels: a repeated one is told apart by its group, then by a number (never by its id)
    duplicated = options["title"].duplicated(keep=False)
    options.loc[duplicated, "title"] = options.loc[duplicated, "title"] + "（" + options.loc[duplicated, "group"] + "）"
    repeat = options.groupby("title").cumcount()
    options.loc[repeat > 0, "title"] = (
        options.loc[repeat > 0, "title"] + "（" + (repeat[repeat > 0] + 1).astype(str) + "）"
    )
    return options


def _score_row(measure_id, title, short, group, credit, as_of, synthetic, description) -> dict:
    return {
        "measure_id": measure_id,
        "title": title,
        "short_title": short,
        "unit": SCORE_UNIT,
        "kind": "score",
        "polarity": "higher_is_better",
        "group": group,
        "credit": credit,
        "as_of": as_of,
        "synthetic": synthetic,
        "domain_min": 0.0,
        "domain_max": 100.0,
        "diverging": False,
        "description": description,
    }


def _indicator_group(row) -> str:
    if row.source == "digital_agency_municipal":
        return GROUP_DA
    if row.source.startswith("digital_agency"):
        return GROUP_PROCEDURES
    if row.source == "opendata_survey":
        return GROUP_OPENDATA
    return GROUP_BASIC


def _date_text(value) -> str | None:
    return None if value is None or pd.isna(value) else str(value)[:10]


def measure_frame(
    con,
    measure_id: str,
    round_id: str | None = None,
    as_of: str | None = None,
    base_round: str | None = None,
    eval_round: str | None = None,
) -> pd.DataFrame:
    """One measure for all 1,741 municipalities (code order): code, value (float; NaN = missing,
    never 0), label (text for binary and category measures: 実施/未実施, 高/中/低, the answer;
    else NULL). ``round_id`` picks the assessment round (default: each municipality's newest),
    ``as_of`` the デジタル庁 snapshot, ``base_round``/``eval_round`` the rounds of ``change``."""
    bundle = measure_bundle(measure_id)
    if bundle == "composite":
        return composite_measures(con, as_of)[measure_id]
    if bundle == "assessment":
        return assessment_measures(con, round_id)[measure_id]
    codes = select_municipalities(con)[["code"]]
    label = pd.Series(pd.NA, index=codes.index, dtype="string")
    if measure_id == "priority":
        priority = stored_priority(con, None, round_id)
        priority = priority[priority["priority"] != NOT_ASSESSED].set_index("code")  # official judgement where no sheet
        values = priority["priority_order"].astype(float)
        label = codes["code"].map(priority["priority"]).astype("string")
    elif measure_id == "change":
        change = assessment_change(con, None, base_round, eval_round)
        overall = change[change["level"] == "overall"].set_index("code")
        values = overall["change"]
        label = codes["code"].map(overall["trend_label"].where(overall["trend"] == "not_answered")).astype("string")
    else:
        frame = measure_values(con, measure_id, None, as_of).set_index("code")
        values = frame["value"]
        label = codes["code"].map(frame["label"]).astype("string")
    return _measure_result(codes, values, label)


def measure_bundle(measure_id: str) -> str | None:
    """'composite' for the measures ``composite_measures`` gives (with ``as_of``), 'assessment' for
    those of ``assessment_measures`` (with ``round_id``), None for the others."""
    if measure_id == "composite" or measure_id.startswith("pillar:"):
        return "composite"
    if measure_id in ("assessment", "maturity") or measure_id.startswith(("stage:", "field:")):
        return "assessment"
    return None


def composite_measures(con, as_of: str | None = None) -> dict[str, pd.DataFrame]:
    """``measure_frame`` of 'composite' and of every 'pillar:<柱>' from one computation of the
    composite (a page that switches between them computes it once per snapshot)."""
    codes = select_municipalities(con)[["code"]]
    scores = stored_composite(con, None, as_of)
    return {
        "composite" if pillar == COMPOSITE else f"pillar:{pillar}": _measure_result(
            codes, scores[scores["pillar"] == pillar].set_index("code")["score"]
        )
        for pillar in (COMPOSITE, *PILLARS)
    }


def assessment_measures(con, round_id: str | None = None) -> dict[str, pd.DataFrame]:
    """``measure_frame`` of 'assessment', 'maturity', every 'stage:<n>' and every 'field:<分野>'
    of the questionnaire from one computation of the round's scores."""
    codes = select_municipalities(con)[["code"]]
    questionnaire = load_questionnaire()
    scores = _round_scores(con, round_id)
    levels = stored_maturity(con)
    levels = levels.merge(scores.loc[scores["level"] == "overall", ["code", "round_id"]], on=["code", "round_id"])
    # a municipality of a surveyed prefecture without a sheet is 未回答 (its own colour on maps), not missing data
    silent = set(unanswered_codes(con, scores))
    label = pd.Series(np.where(codes["code"].isin(silent), NOT_ANSWERED, None), index=codes.index, dtype="string")
    frames = {
        "assessment": _measure_result(codes, scores[scores["level"] == "overall"].set_index("code")["score"], label),
        "maturity": _measure_result(codes, levels.set_index("code")["maturity"], label),
    }
    stages = scores[scores["level"] == "stage"]
    for stage in sorted(questionnaire.stages):
        frames[f"stage:{stage}"] = _measure_result(
            codes, stages[stages["stage"] == stage].set_index("code")["score"], label
        )
    fields = scores[scores["level"] == "field"]
    for field in questionnaire.fields:
        frames[f"field:{field}"] = _measure_result(
            codes, fields[fields["field"] == field].set_index("code")["score"], label
        )
    return frames


def _measure_result(codes: pd.DataFrame, values: pd.Series, label: pd.Series | None = None) -> pd.DataFrame:
    if label is None:
        label = pd.Series(pd.NA, index=codes.index, dtype="string")
    label = label.where(label.str.strip() != "")  # a blank answer is missing, not a category
    result = codes.assign(value=codes["code"].map(values).astype(float), label=label.to_numpy())
    return result.reset_index(drop=True)


def _round_scores(con, round_id: str | None) -> pd.DataFrame:
    scores = stored_assessment(con, None, round_ids=[round_id] if round_id else None)
    if round_id:
        return scores
    return latest_rounds(scores, rounds(con)["round_id"].tolist())


def national_summary(con, round_id: str | None = None, as_of: str | None = None) -> pd.DataFrame:
    """``municipality_summary`` for all 1,741 municipalities (the table pages filter), with the
    families it needs only: composite as of ``as_of``, assessment, maturity and priority of
    ``round_id`` (default: each municipality's newest round) and the change between the default
    rounds. Extra columns: pref_code, kana, pop_band_order, lat, lng, n_weak, priority_order."""
    # every family as the build wrote it into the metric tables (metrics.tables, metrics.derived_tables)
    results = {
        "assessment": stored_assessment(con),
        "maturity": stored_maturity(con),
        "composite": stored_composite(con, None, as_of),
        "priority": stored_priority(con, None, round_id),
        "assessment_change": stored_assessment_change(con),
    }
    summary = municipality_summary(con, None, results, round_id).drop(columns="region")
    extra = select_municipalities(con)[["code", "pref_code", "kana", "pop_band_order", "lat", "lng"]]
    order = results["priority"][["code", "priority_order", "n_weak"]]
    summary = summary.merge(extra, on="code", how="left").merge(order, on="code", how="left")
    base_as_of, eval_as_of = official_pair(con, as_of)
    change = (
        composite_change(con, None, base_as_of, eval_as_of)
        if base_as_of
        else pd.DataFrame(columns=["code", "pillar", "change", "trend_label"])
    )
    change = change.loc[change["pillar"] == COMPOSITE, ["code", "change", "trend_label"]].rename(
        columns={"change": "composite_change", "trend_label": "composite_trend_label"}
    )
    return summary.merge(change, on="code", how="left")


def official_pair(con, as_of: str | None = None) -> tuple[str | None, str | None]:
    """(previous, current) デジタル庁 snapshots as 'YYYY-MM-DD': ``as_of`` (default the newest) and
    the snapshot before it; previous is None when there is none."""
    dates = snapshot_dates(con)
    current = as_of if as_of in dates else (dates[-1] if dates else None)
    return previous_snapshot(dates, current), current


def official_change(con, measure_id: str, base_as_of: str, eval_as_of: str) -> pd.DataFrame:
    """Change of a デジタル庁 measure (the composite, a pillar, or an indicator of the catalog) for
    every municipality between two snapshots: code, base_value, eval_value, change (positive =
    better), trend, trend_label (改善/停滞/後退/比較不可). Empty for a measure without direction
    (category, neutral) or not from デジタル庁."""
    columns = ["code", "base_value", "eval_value", "change", "trend", "trend_label"]
    if measure_bundle(measure_id) == "composite":
        pillar = COMPOSITE if measure_id == "composite" else measure_id.split(":", 1)[1]
        change = composite_change(con, None, base_as_of, eval_as_of)
        change = change[change["pillar"] == pillar].rename(
            columns={"base_score": "base_value", "eval_score": "eval_value"}
        )
        return change[columns].reset_index(drop=True)
    # an indicator: its values at the two snapshots, as the build stored them (table indicator_gaps)
    base = stored_gaps(con, None, base_as_of, [measure_id])
    evaluation = stored_gaps(con, None, eval_as_of, [measure_id]).set_index("code")
    if base.empty or base["polarity"].iloc[0] == "neutral" or base["kind"].iloc[0] == "category":
        return pd.DataFrame(columns=columns)
    direction = -1.0 if base["polarity"].iloc[0] == "lower_is_better" else 1.0
    frame = pd.DataFrame(
        {
            "code": base["code"],
            "base_value": base["value"].to_numpy(dtype=float),
            "eval_value": base["code"].map(evaluation["value"]).to_numpy(dtype=float),
        }
    )
    frame["change"] = direction * (frame["eval_value"] - frame["base_value"])
    tolerance = load_priority_rules().change_tolerance.get(base["kind"].iloc[0], 0.0)
    frame["trend"] = classify(frame["change"], tolerance)
    frame["trend_label"] = frame["trend"].map(TRENDS)
    return frame[columns].reset_index(drop=True)


def official_history(con, code: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One municipality's デジタル庁 figures at every snapshot, oldest first: (composite, indicators).
    composite: series (総合 and the pillars), as_of, label, value (0–100). indicators: indicator_id,
    short_title, kind, unit, polarity, as_of, label, value — the 市区町村比較 indicators."""
    composite_rows = stored_composite_history(con, Filter(codes=(code,)))
    composite_rows = composite_rows.rename(columns={"pillar": "series", "score": "value"})
    composite_rows["label"] = composite_rows["as_of"].map(snapshot_label)
    indicators = run(con, "view_indicator_history", {"code": code})
    indicators["label"] = indicators["as_of"].map(snapshot_label)
    return composite_rows[["series", "as_of", "label", "value"]], indicators


def history_table(indicators: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """``official_history``'s indicators as one row per indicator, and the snapshot labels oldest
    first. Columns: indicator_id, short_title, kind, unit, one column per label (the value), change
    (newest − previous, signed so that positive is better), trend_label (改善/停滞/後退/比較不可;
    NULL with a single snapshot)."""
    labels = list(dict.fromkeys(indicators.sort_values("as_of", na_position="last")["label"]))
    wide = indicators.pivot_table(index="indicator_id", columns="label", values="value", aggfunc="first", dropna=False)
    wide = wide.reindex(columns=labels)
    about = indicators.drop_duplicates("indicator_id").set_index("indicator_id")[
        ["short_title", "kind", "unit", "polarity"]
    ]
    table = about.join(wide).reset_index()
    table["change"] = np.nan
    table["trend_label"] = None
    if len(labels) >= 2:
        direction = table["polarity"].map({"higher_is_better": 1.0, "lower_is_better": -1.0})
        table["change"] = direction * (table[labels[-1]] - table[labels[-2]])
        tolerance = table["kind"].map(load_priority_rules().change_tolerance).fillna(0.0)
        table["trend_label"] = classify(table["change"], tolerance).map(TRENDS)
    return table.drop(columns="polarity"), labels


# ---------------------------------------------------------------- summaries of a selection


def summary_statistic(values: pd.Series, kind: str) -> tuple[float, str]:
    """The number that sums up a measure over a group: (value, name). Binary → share 実施 (%),
    level → mean, other numbers → median; missing values are left out (NaN when none is left)."""
    present = values.dropna().astype(float)
    if kind == "binary":
        return (100.0 * present.mean() if len(present) else np.nan), "実施率"
    if kind == "level":
        return (present.mean() if len(present) else np.nan), "平均"
    return (present.median() if len(present) else np.nan), "中央値"


def group_statistics(values: pd.DataFrame, by: list[str], kind: str) -> pd.DataFrame:
    """``summary_statistic`` of ``values["value"]`` for each group of ``by`` in one aggregation, with
    the group's size and how many values it has. Columns: value, statistic, municipalities,
    with_data (indexed by ``by``, sorted)."""
    numbers = pd.to_numeric(values["value"], errors="coerce").astype(float)
    grouped = numbers.groupby([values[column] for column in by], sort=True)
    if kind == "binary":
        statistic, value = "実施率", 100.0 * grouped.mean()
    elif kind == "level":
        statistic, value = "平均", grouped.mean()
    else:
        statistic, value = "中央値", grouped.median()
    frame = pd.DataFrame({"value": value, "municipalities": grouped.size(), "with_data": grouped.count()})
    frame["with_data"] = frame["with_data"].astype(int)
    frame.insert(1, "statistic", statistic)
    return frame


def band_summary(values: pd.DataFrame, selected_codes, kind: str, bands: list[str]) -> pd.DataFrame:
    """A measure by population band: the selection's statistic beside the nation's, as in 兵庫県's
    table by 団体規模. ``values``: code, pop_band, value for all municipalities. Columns: pop_band,
    municipalities (selected), with_data, value, national, statistic."""
    chosen = values[values["code"].isin(list(selected_codes))]
    mine = group_statistics(chosen, ["pop_band"], kind).reindex(bands)
    frame = pd.DataFrame(
        {
            "pop_band": bands,
            "municipalities": mine["municipalities"].fillna(0).astype(int).to_numpy(),
            "with_data": mine["with_data"].fillna(0).astype(int).to_numpy(),
            "value": mine["value"].to_numpy(dtype=float),
            "national": group_statistics(values, ["pop_band"], kind)["value"].reindex(bands).to_numpy(dtype=float),
            "statistic": summary_statistic(pd.Series(dtype=float), kind)[1],
        }
    )
    return frame


def prefecture_ranking(values: pd.DataFrame, kind: str, polarity: str) -> pd.DataFrame:
    """Prefectures ranked on a measure. ``values``: code, pref_code, pref_name, value (one row per
    municipality). Columns: rank (1 = best by polarity; neutral → largest first), pref_code,
    pref_name, value (``summary_statistic``), statistic, municipalities, with_data."""
    # one grouped aggregation (not summary_statistic per prefecture: 47 small frames were a fifth of
    # the overview's rerun); the same statistic, as group_statistics computes it
    ranking = group_statistics(values, ["pref_code", "pref_name"], kind).reset_index()
    ranking = ranking[["pref_code", "pref_name", "value", "statistic", "municipalities", "with_data"]]
    ascending = polarity == "lower_is_better"
    ranking = ranking.sort_values(
        ["value", "pref_code"], ascending=[ascending, True], na_position="last", ignore_index=True
    )
    ranking.insert(0, "rank", ranking["value"].rank(ascending=ascending, method="min").astype("Int64"))
    return ranking


def headline(summary: pd.DataFrame, national: pd.DataFrame) -> pd.DataFrame:
    """The overview's KPI figures for a selection beside the nation. ``summary`` / ``national``:
    rows of ``national_summary`` (the selection's and all). One row per figure: item, label
    (short, for a card), description,
    value, national, unit, with_data (municipalities the value is computed over), n (for shares:
    how many municipalities are counted, e.g. those with 高). Figures whose
    data is absent from the store (no assessment round loaded) are left out."""
    descriptions = {
        "municipalities": "絞り込んだ市区町村の数",
        "composite": "デジタル庁指標の総合得点（0〜100）の中央値",
        "assessment": "アセスメント総合得点（0〜100）の中央値",
        "maturity": "成熟度レベル（0〜4）の平均",
        "priority_high": "アセスメントのある団体のうち、支援優先度が「高」の割合",
        "improved": "当初と評価の両方に回答した団体のうち、総合得点が改善した割合",
        "improved_official": "前回と今回の調査時点の両方で総合得点（デジタル庁指標）のある団体のうち、"
        "総合得点が改善した割合",
    }
    rows = [
        {
            "item": "municipalities",
            "label": "対象団体数",
            "value": float(len(summary)),
            "national": float(len(national)),
            "unit": "団体",
            "with_data": len(summary),
        }
    ]

    def add(item, label, column, statistic, unit):
        if column not in summary or national[column].notna().sum() == 0:
            return
        rows.append(
            {
                "item": item,
                "label": label,
                "value": statistic(summary[column]),
                "national": statistic(national[column]),
                "unit": unit,
                "with_data": int(summary[column].notna().sum()),
            }
        )

    median = lambda s: s.dropna().median() if s.notna().any() else np.nan  # noqa: E731
    add("composite", "総合得点 中央値", "composite", median, SCORE_UNIT)
    add("assessment", "アセスメント 中央値", "assessment", median, SCORE_UNIT)
    add("maturity", "成熟度 平均", "maturity", lambda s: s.dropna().mean() if s.notna().any() else np.nan, "")
    if "priority" in summary and (national["priority"].isin(PRIORITY_LEVELS)).any():
        share = lambda s: 100.0 * (s == "高").sum() / max(s.isin(PRIORITY_LEVELS).sum(), 1)  # noqa: E731
        rows.append(
            {
                "item": "priority_high",
                "label": "支援優先度「高」",
                "value": share(summary["priority"]),
                "national": share(national["priority"]),
                "unit": "%",
                "with_data": int(summary["priority"].isin(PRIORITY_LEVELS).sum()),
                "n": int((summary["priority"] == "高").sum()),
            }
        )
    if "trend_label" in summary and national["trend_label"].notna().any():
        improved = lambda s: 100.0 * (s == "改善").sum() / max(s.isin(["改善", "停滞", "後退"]).sum(), 1)  # noqa: E731
        rows.append(
            {
                "item": "improved",
                "label": "改善した団体",
                "value": improved(summary["trend_label"]),
                "national": improved(national["trend_label"]),
                "unit": "%",
                "with_data": int(summary["trend_label"].isin(["改善", "停滞", "後退"]).sum()),
                "n": int((summary["trend_label"] == "改善").sum()),
            }
        )
    if "composite_trend_label" in summary and national["composite_trend_label"].notna().any():
        improved = lambda s: 100.0 * (s == "改善").sum() / max(s.isin(["改善", "停滞", "後退"]).sum(), 1)  # noqa: E731
        trends = summary["composite_trend_label"]
        rows.append(
            {
                "item": "improved_official",
                "label": "改善した団体（デジタル庁指標）",
                "value": improved(trends),
                "national": improved(national["composite_trend_label"]),
                "unit": "%",
                "with_data": int(trends.isin(["改善", "停滞", "後退"]).sum()),
                "n": int((trends == "改善").sum()),
            }
        )
    frame = pd.DataFrame(rows)
    frame.insert(2, "description", frame["item"].map(descriptions))
    return frame


BINARY_ORDER = (BINARY_LABELS[1.0], BINARY_LABELS[0.0])  # 実施, 未実施
MATURITY_LEVELS = tuple(f"レベル{level}" for level in range(5))


def level_labels(values: pd.Series) -> pd.Series:
    """レベル0…レベル4 of maturity values (missing stays missing)."""
    return values.map(lambda v: f"レベル{int(v)}" if pd.notna(v) else None)


def measure_category_order(values: pd.DataFrame, measure: pd.Series) -> list[str] | None:
    """The one order of a measure's categories in every chart, map, table and slide: 高・中・低 for
    the support priority, 実施・未実施, レベル0–4, a category measure's own order; None for numbers."""
    if measure["measure_id"] == "priority":
        return list(PRIORITY_LEVELS)
    if measure["kind"] == "binary":
        return list(BINARY_ORDER)
    if measure["kind"] == "level":
        return list(MATURITY_LEVELS)
    if measure["kind"] == "category":
        return category_order(values)
    return None


def category_order(values: pd.DataFrame) -> list[str]:
    """The labels of a category measure in order: by their value (ordinal answers such as ファイル数の
    階級 come in their own order), labels without a value (よく分からない) after them by name."""
    present = values[values["label"].notna()]
    rank = present.groupby("label")["value"].mean()
    return sorted(
        rank.index, key=lambda label: (pd.isna(rank[label]), 0 if pd.isna(rank[label]) else rank[label], label)
    )


def measure_ranking(con, measure_id: str, round_id: str | None = None, as_of: str | None = None) -> pd.DataFrame:
    """``prefecture_ranking`` of one measure over all municipalities (see ``measure_frame`` for the
    arguments); empty for category measures, which have no order to rank by."""
    option = measure_options(con).set_index("measure_id").loc[measure_id]
    kind, polarity = option["kind"], option["polarity"]
    values = (
        pd.DataFrame(columns=["code", "value"])
        if kind == "category"
        else measure_frame(con, measure_id, round_id, as_of)
    )
    return ranking_of(values, select_municipalities(con), kind, polarity)


def ranking_of(values: pd.DataFrame, municipalities: pd.DataFrame, kind: str, polarity: str) -> pd.DataFrame:
    """``measure_ranking`` from a ``measure_frame`` result and ``select_municipalities`` (code,
    pref_code, pref_name), for a page that has both already."""
    if kind == "category":
        return prefecture_ranking(pd.DataFrame(columns=["code", "pref_code", "pref_name", "value"]), kind, polarity)
    values = values.merge(municipalities[["code", "pref_code", "pref_name"]], on="code")
    return prefecture_ranking(values, kind, polarity)


def selection_ranking(
    values: pd.DataFrame, municipalities: pd.DataFrame, measure: pd.Series, flt: Filter | None
) -> pd.DataFrame:
    """The prefectures ranked for a selection (``ranking_of`` over ``ranking_basis``): with population
    bands or 団体区分 chosen, every prefecture's municipalities of those bands and types."""
    if flt is not None and (flt.pop_bands or flt.types):
        values = values[values["code"].isin(ranking_basis(municipalities, flt)["code"])]
    return ranking_of(values, municipalities, measure["kind"], measure["polarity"])


def ranking_basis(municipalities: pd.DataFrame, flt: Filter | None) -> pd.DataFrame:
    """The municipalities prefectures are ranked over for a selection: every prefecture's, kept to
    the selection's population bands and 団体区分 (the part of a filter that is not a place), so
    that a prefecture × band selection is its prefecture's row of the ranking.
    ``municipalities``: ``select_municipalities`` (pop_band, type)."""
    keep = pd.Series(True, index=municipalities.index)
    if flt is not None and flt.pop_bands:
        keep &= municipalities["pop_band"].isin(list(flt.pop_bands))
    if flt is not None and flt.types:
        keep &= municipalities["type"].isin(list(flt.types))
    return municipalities[keep]


def category_shares(values: pd.DataFrame, order: list[str] | None = None) -> pd.DataFrame:
    """Counts and shares of a category measure's labels (missing → 「データなし」, always last).
    ``values``: label and value columns; ``order`` defaults to ``category_order``. Columns: label,
    municipalities, share (% of all rows)."""
    labels = values["label"].astype("object").where(values["label"].notna(), MISSING_LABEL)
    counts = labels.value_counts()
    order = order if order is not None else category_order(values)
    present = [c for c in order if c in counts.index]
    rest = sorted(c for c in counts.index if c not in present and c != MISSING_LABEL)
    ordered = present + rest + ([MISSING_LABEL] if MISSING_LABEL in counts.index else [])
    frame = pd.DataFrame({"label": ordered, "municipalities": [int(counts[c]) for c in ordered]})
    frame["share"] = 100.0 * frame["municipalities"] / max(len(values), 1)
    return frame


# ---------------------------------------------------------------- maturity and its movement


def field_maturity(scores: pd.DataFrame) -> pd.DataFrame:
    """Maturity level 0–4 overall and per field: the rule of ``maturity`` (consecutive stages from
    STEP0 whose score reaches the threshold) applied to all the sheet (field 「全体」) and to each
    field's stage cells. Columns: code, round_id, field, maturity."""
    levels = field_maturity_levels(scores).rename(columns={"level": "maturity"})
    return levels[["code", "round_id", "field", "maturity"]]


def maturity_levels(con) -> pd.DataFrame:
    """``field_maturity`` of every returned sheet in the store (all rounds, all municipalities), as
    the build wrote it (table maturity_levels)."""
    return stored_maturity(con, field=None)[["code", "round_id", "field", "maturity"]]


def maturity_transition(
    levels: pd.DataFrame, base_round: str, eval_round: str, field: str = "全体", codes: list[str] | None = None
) -> pd.DataFrame:
    """Counts of municipalities by maturity level in ``base_round`` (rows) × ``eval_round``
    (columns) for one ``field`` of ``field_maturity``, with 「計」 margins; a municipality missing
    from a round is counted under 不明. ``codes`` limits the count to a selection."""
    part = levels[levels["field"] == field]
    base = part[part["round_id"] == base_round].set_index("code")["maturity"]
    evaluation = part[part["round_id"] == eval_round].set_index("code")["maturity"]
    index = pd.Index(codes if codes is not None else sorted(set(base.index) | set(evaluation.index)), name="code")
    labels = [f"レベル{n}" for n in range(5)]
    frame = pd.DataFrame(
        {
            "当初": base.reindex(index).map(lambda n: f"レベル{int(n)}" if pd.notna(n) else None),
            "評価": evaluation.reindex(index).map(lambda n: f"レベル{int(n)}" if pd.notna(n) else None),
        }
    )
    return cross_table(frame, "当初", "評価", row_order=labels, column_order=labels)


# ---------------------------------------------------------------- support plan


def support_counts(priority: pd.DataFrame, prefecture: str | None = None) -> pd.DataFrame:
    """How many municipalities each support-menu item is recommended to (among their at most three
    recommendations), by priority. ``priority``: rows of ``support_priority`` (recommended_ids,
    support_ids, priority); ``prefecture``: whose menu is in force (None: the national menu only).
    Columns: item_id, name, provider, priority, municipalities, named_in_support (宮城-style 支援内容
    count of the item, all priorities). Menu order; items recommended to nobody are kept with 0."""
    menu = support_menu(prefecture)
    recommended = (
        priority[["code", "priority", "recommended_ids"]]
        .assign(item_id=priority["recommended_ids"].fillna("").str.split(","))
        .explode("item_id")
    )
    recommended = recommended[recommended["item_id"].astype(bool)]
    named = priority["support_ids"].fillna("").str.split(",").explode()
    named = named[named.astype(bool)].value_counts()
    # every menu item × priority, in menu order, filled in one reindex (a filter per cell cost ~40 ms a run)
    grid = pd.MultiIndex.from_product([list(menu), PRIORITY_LEVELS + (NOT_ASSESSED,)], names=["item_id", "priority"])
    counts = recommended.groupby(["item_id", "priority"]).size().reindex(grid, fill_value=0)
    frame = counts.rename("municipalities").astype(int).reset_index()
    frame.insert(1, "name", frame["item_id"].map({item_id: item.name for item_id, item in menu.items()}))
    frame.insert(2, "provider", frame["item_id"].map({item_id: item.provider for item_id, item in menu.items()}))
    frame["named_in_support"] = frame["item_id"].map(named).fillna(0).astype(int)
    return frame


def visit_plan(
    priority: pd.DataFrame, municipalities: pd.DataFrame, levels: tuple[str, ...] = ("高", "中")
) -> pd.DataFrame:
    """Field visits grouped by region: the municipalities of ``levels``, per region (the
    ``region`` column of ``municipalities``, else the prefecture), 高 first, then more weak
    stages (or official weakness points), then the lower assessment score, then code.
    ``priority``: rows of ``support_priority`` (optionally with ``assessment``); ``municipalities``:
    code, pref_name, region. Columns: see VISIT_PLAN_COLUMNS (English keys; the values are the
    Japanese headers for export)."""
    plan = priority[priority["priority"].isin(levels)].copy()
    places = municipalities.set_index("code")
    region = places["region"] if "region" in places else pd.Series(pd.NA, index=places.index, dtype="object")
    region = region.where(region.notna(), places["pref_name"]).astype("object")
    plan["region"] = plan["code"].map(region)
    if "assessment" not in plan:
        plan["assessment"] = np.nan
    # regions in the order of their first member code (the registry's order: 神戸 before 淡路)
    plan["region_order"] = plan["region"].map(pd.Series(places.index, index=places.index).groupby(region).min())
    if "basis_label" not in plan:
        plan["basis_label"], plan["response"], plan["recommended_reasons"] = "", "", ""
    plan["recommended_reasons"] = plan["recommended_reasons"].str.replace("｜", "／", regex=False)
    # more weak stages first; without a sheet, more official weakness points first
    weight = plan["n_weak"].astype("Float64")
    if "official_points" in plan:
        weight = weight.fillna(plan["official_points"].astype("Float64"))
    plan["weight"] = weight
    plan = plan.sort_values(
        ["region_order", "priority_order", "weight", "assessment", "code"],
        ascending=[True, True, False, True, True],
        na_position="last",
    )
    plan["visit_order"] = plan.groupby("region").cumcount() + 1
    return plan[list(VISIT_PLAN_COLUMNS)].reset_index(drop=True)


# ---------------------------------------------------------------- one municipality


# the peer groups a share is taken over ("similar" is a list per municipality, not a group)
SHARE_PEERS = ("pop_band", "type", "prefecture", "region")


def peer_group_shares(
    con, peer: str = "pop_band", region_set: str | None = None, as_of: str | None = None
) -> pd.DataFrame:
    """Binary and percent indicators' shares in every peer group of ``peer`` and in the nation
    (scope 'peer' | 'national', peer_group, indicator_id, share, n): the same for every
    municipality, so a page keeps it while the municipality changes."""
    _check_peer(peer)
    return run(con, "view_peer_group_shares", {"peer": peer, "region_set": region_set, "as_of": as_of})


def peer_shares(
    con,
    code: str,
    peer: str = "pop_band",
    region_set: str | None = None,
    as_of: str | None = None,
    group_shares: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Binary and percent indicators of one municipality beside its peer group and the nation:
    indicator_id, short_title, title, kind, unit, pillar, polarity, value, peer_share (binary:
    % of the peers with 実施; percent: mean rate), n_peers, national_share, n_national.
    ``peer``: pop_band | type | prefecture | region (of ``region_set``); ``group_shares``: the
    ``peer_group_shares`` of the same arguments, when the caller already has it."""
    _check_peer(peer)
    if group_shares is None:
        group_shares = peer_group_shares(con, peer, region_set, as_of)
    return run(
        con,
        "view_peer_shares",
        {"code": code, "peer": peer, "region_set": region_set, "as_of": as_of},
        relations={"group_shares": group_shares},
    )


def _check_peer(peer: str) -> None:
    if peer not in SHARE_PEERS:
        raise ValueError(f"peer must be pop_band, type, prefecture or region, got {peer!r}")


def group_field_scores(scores: pd.DataFrame, codes, round_id: str | None) -> pd.Series:
    """Median field score (0–100) of a group of municipalities in one round (``scores``: rows of
    ``assessment_scores``), field → median over those with a score; for a radar's peer line."""
    rows = scores[(scores["level"] == "field") & scores["code"].isin(list(codes))]
    if round_id:
        rows = rows[rows["round_id"] == round_id]
    return rows.groupby("field")["score"].median()


def group_field_medians(con, codes: tuple[str, ...], round_id: str | None) -> pd.Series:
    """``group_field_scores`` of ``codes`` with the scores of those municipalities only (for the
    radar's peer line: the whole country's scores of every round are not needed for it)."""
    scores = assessment_scores(con, Filter(codes=tuple(codes)), round_ids=[round_id] if round_id else None)
    return group_field_scores(scores, codes, round_id)


def score_history(scores: pd.DataFrame, code: str, round_order: list[str]) -> pd.DataFrame:
    """One municipality's overall and stage scores across rounds, oldest first: series (総合 /
    STEP0 …), round_id, score."""
    rows = scores[(scores["code"] == code) & scores["level"].isin(["overall", "stage"])].copy()
    rows["series"] = np.where(rows["level"] == "overall", COMPOSITE, "STEP" + rows["stage"].astype("string").fillna(""))
    rows["position"] = rows["round_id"].map({r: i for i, r in enumerate(round_order)})
    rows = rows.sort_values(
        ["level", "stage", "position"], key=lambda c: c.map({"overall": 0, "stage": 1}) if c.name == "level" else c
    )
    return rows[["series", "round_id", "score"]].reset_index(drop=True)


# ---------------------------------------------------------------- the store itself


def _store_view(name: str, query: str, doc: str):
    """A read-only view of the store: ``name(con)`` runs metrics/sql/``query``.sql without parameters."""

    def view(con) -> pd.DataFrame:
        return run(con, query, {})

    view.__name__ = view.__qualname__ = name  # ui.data keys its caches by the qualified name
    view.__doc__ = doc
    return view


sources_overview = _store_view(
    "sources_overview",
    "view_sources",
    """Every source with licence, credit, as-of and
    what was loaded from it: source, title, publisher, licence, credit, url, as_of, as_of_note, rows, newest_as_of,
    first_as_of, synthetic, loaded (loaded sources first).""",
)
ingest_log = _store_view(
    "ingest_log",
    "view_ingest_log",
    """The ingest log, newest first: loaded_at, file, loader,
    rows, status, message, loaded_by, sha256.""",
)
unresolved_names = _store_view(
    "unresolved_names",
    "view_unresolved_names",
    "Names that matched no municipality: file, row_no, column_ref, name, reason.",
)
prefectures = _store_view(
    "prefectures", "view_prefectures", "pref_code, code, name, municipalities — for the prefecture filter."
)
region_set_prefectures = _store_view(
    "region_set_prefectures",
    "view_region_set_prefectures",
    "region_set, pref_code, municipalities: the prefectures each region set covers.",
)
table_counts = _store_view("table_counts", "view_table_counts", "Row counts of the main tables: item (Japanese), rows.")
