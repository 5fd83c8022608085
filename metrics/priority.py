"""Support priority 高/中/低 with Japanese reasons, and recommended items of the support menu.

The rules are data (data/priority_rules.yaml, data/support_menu.yaml). The level depends only on
the number of weak stages; weak fields and デジタル庁 indicators below their reference add
reasons and menu items but do not change the level (so a pre-scored sheet such as 宮城県's gets
the same level as the table it came from).
"""
from __future__ import annotations

import math

import duckdb
import pandas as pd

from metrics.assessment import assessment_scores, latest_rounds, rounds
from metrics.definitions import (
    PriorityRules, Questionnaire, SupportItem, load_priority_rules, load_questionnaire, load_support_menu,
)
from metrics.filters import Filter, select_municipalities
from metrics.gaps import gaps
from metrics.query import isin

NOT_ASSESSED = "判定不可"
NOT_ASSESSED_REASON = "アセスメントの回答がないため、優先度を判定できません。"
PRIORITY_COLUMNS = [
    "priority", "priority_order", "n_weak", "weak_stages", "support", "support_ids",
    "recommended", "recommended_ids", "reasons",
]


def _fmt(value: float) -> str:
    return f"{value:g}" if float(value).is_integer() else f"{value:.1f}"


def prioritise(stages: pd.DataFrame, rules: PriorityRules | None = None, menu: dict[str, SupportItem] | None = None,
               questionnaire: Questionnaire | None = None, findings: pd.DataFrame | None = None,
               key: str = "code") -> pd.DataFrame:
    """Priority of each municipality from its stage points (pure: no database).

    ``stages``: one row per ``key`` × stage with columns ``key``, stage (0–3), points, max_points
    (NaN → rules.prescored_max_points). A stage of the questionnaire with no row or no points is
    missing (weak when rules.missing_stage_is_weak).
    ``findings`` (optional): extra weaknesses, columns ``key``, field (or NA), indicator_id (or NA),
    reason — they add reasons and menu items, never change the level.
    A ``key`` with findings but no stage rows is listed as '判定不可' (priority_order and n_weak
    NULL) with the menu items its findings call for.
    Returns one row per ``key`` (input order): ``key``, priority (高/中/低), priority_order (1 = 高),
    n_weak, weak_stages ('STEP0・STEP3'), support (宮城-style 支援内容: the stage_support item of
    each weak stage, deferred ones left out, '・'-joined), support_ids, recommended (every menu
    item that applies, menu order, '・'-joined), recommended_ids (','-joined), reasons (Japanese
    sentences).
    """
    rules = rules or load_priority_rules()
    menu = menu if menu is not None else load_support_menu()
    questionnaire = questionnaire or load_questionnaire()
    stage_ids = sorted(questionnaire.stages)
    labels = {stage: questionnaire.stage_label(stage) for stage in stage_ids}
    order = {lv.priority: i for i, lv in enumerate(rules.levels, start=1)}
    items = [(item, set(item.stages), set(item.fields), set(item.indicators)) for item in menu.values()]
    # plain Python containers: a per-row pandas loop over 1,741 municipalities would dominate the run time
    points_column = pd.to_numeric(stages["points"], errors="coerce").astype(float).tolist()
    max_column = pd.to_numeric(stages["max_points"], errors="coerce").astype(float).tolist()
    sheets: dict[object, dict[int, tuple]] = {}
    for name, stage, points, maximum in zip(stages[key].tolist(), stages["stage"].tolist(), points_column, max_column):
        sheets.setdefault(name, {})[int(stage)] = (None if math.isnan(points) else points, None if math.isnan(maximum) else maximum)
    extra: dict[object, tuple[set, set, list]] = {}
    if findings is not None:
        for name, field, indicator, reason in zip(findings[key].tolist(), findings["field"].tolist(),
                                                  findings["indicator_id"].tolist(), findings["reason"].tolist()):
            fields, indicators, texts = extra.setdefault(name, (set(), set(), []))
            if not _missing(field):
                fields.add(field)
            if not _missing(indicator):
                indicators.add(indicator)
            texts.append(str(reason))
    rows = []
    # municipalities with findings but no sheet are listed too, as 判定不可
    for name in list(sheets) + [name for name in extra if name not in sheets]:
        weak_fields, weak_indicators, texts = extra.get(name, (set(), set(), []))
        weak, reasons, support_ids, active, level = [], [], [], set(), None
        if name in sheets:
            by_stage = sheets[name]
            for stage in stage_ids:
                points, maximum = by_stage.get(stage, (None, None))
                maximum = maximum if maximum is not None else rules.prescored_max_points.get(stage)
                if points is None:
                    if rules.missing_stage_is_weak:
                        weak.append(stage)
                        reasons.append(f"{labels[stage]}: 点数がありません（未回答）。")
                elif maximum and points / maximum < rules.weak_share:
                    weak.append(stage)
                    reasons.append(f"{labels[stage]}: {_fmt(points)}/{_fmt(maximum)}点で、満点の{rules.weak_share:.0%}未満です。")
            level = next(lv for lv in rules.levels if len(weak) >= lv.min_weak_stages)
            count = f"弱い段階が{len(weak)}つ" if weak else "弱い段階なし"
            reasons.insert(0, f"{count} → 支援優先度「{level.priority}」（{level.summary}）。")
            deferred = {s for s in weak if any(d in weak for d in rules.defer_support.get(s, ()))}
            for stage in sorted(deferred):
                blockers = "・".join(f"STEP{d}" for d in rules.defer_support[stage] if d in weak)
                reasons.append(f"STEP{stage}の支援は、{blockers}を先に支えるため後回しにします。")
            active = {s for s in weak if s not in deferred}
            support_ids = [rules.stage_support[s] for s in weak if s in active and s in rules.stage_support]
        else:
            reasons.append(NOT_ASSESSED_REASON)
        reasons.extend(texts)
        recommended = [
            item for item, stages_of, fields_of, indicators_of in items
            if item.id in support_ids or stages_of & active or fields_of & weak_fields
            or indicators_of & weak_indicators or (level is not None and level.priority in item.priorities)
        ]
        rows.append({
            key: name,
            "priority": level.priority if level else NOT_ASSESSED,
            "priority_order": order[level.priority] if level else None,
            "n_weak": len(weak) if level else None,
            "weak_stages": "・".join(f"STEP{s}" for s in weak),
            "support": "・".join(menu[i].name for i in support_ids),
            "support_ids": ",".join(support_ids),
            "recommended": "・".join(item.name for item in recommended),
            "recommended_ids": ",".join(item.id for item in recommended),
            "reasons": "".join(reasons),
        })
    return pd.DataFrame(rows, columns=[key] + PRIORITY_COLUMNS)


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def weakness_findings(con: duckdb.DuckDBPyConnection, scores: pd.DataFrame, flt: Filter | None = None,
                      rules: PriorityRules | None = None, menu: dict[str, SupportItem] | None = None,
                      indicator_gaps: pd.DataFrame | None = None) -> pd.DataFrame:
    """Weak fields (field score below rules.weak_field_score) and デジタル庁 indicators behind
    their reference (rules.indicator_reference: 'target' or 'national_median', by indicator kind),
    limited to indicators some menu item addresses. Columns: code, field, indicator_id, reason."""
    rules = rules or load_priority_rules()
    menu = menu if menu is not None else load_support_menu()
    field_order = {f: i for i, f in enumerate(load_questionnaire().fields)}
    fields = scores.loc[(scores["level"] == "field") & (scores["score"] < rules.weak_field_score), ["code", "field", "score"]]
    fields = fields.assign(order=fields["field"].map(field_order)).sort_values(["code", "order"])
    field_rows = pd.DataFrame({
        "code": fields["code"], "field": fields["field"], "indicator_id": pd.NA,
        "reason": [f"分野「{f}」の得点が{s:.0f}点で、{rules.weak_field_score:g}点未満です。"
                   for f, s in zip(fields["field"].tolist(), fields["score"].tolist())],
    })
    addressed = sorted({i for item in menu.values() for i in item.indicators})
    table = indicator_gaps if indicator_gaps is not None else gaps(con, flt, indicator_ids=addressed)
    # the rows and columns used below only: the gap table has ~10⁵ rows × 22 columns
    table = table.loc[isin(table["indicator_id"], addressed),
                      ["code", "indicator_id", "kind", "short_title", "value", "unit", "national_median", "gap_target",
                       "gap_national"]]
    reference = table["kind"].map(rules.indicator_reference)
    behind = ((reference == "target") & (table["gap_target"] < 0)) | ((reference == "national_median") & (table["gap_national"] < 0))
    behind_rows = table[behind]
    # plain lists: iterating pandas' Arrow-backed columns element by element is several times slower
    indicator_rows = pd.DataFrame({
        "code": behind_rows["code"], "field": pd.NA, "indicator_id": behind_rows["indicator_id"],
        "reason": [
            _indicator_reason(*values) for values in zip(*(behind_rows[column].tolist() for column in (
                "kind", "short_title", "value", "unit", "national_median")))
        ],
    })
    return pd.concat([field_rows, indicator_rows], ignore_index=True).sort_values("code", kind="stable", ignore_index=True)


def _indicator_reason(kind: str, title: str, value: float, unit: str, national_median: float) -> str:
    if kind == "binary":
        return f"デジタル庁指標「{title}」が未実施です。"
    return f"デジタル庁指標「{title}」が{_fmt(value)}{unit}で、全国の市区町村の中央値（{_fmt(national_median)}{unit}）を下回っています。"


def support_priority(con: duckdb.DuckDBPyConnection, flt: Filter | None = None, round_id: str | None = None,
                     rules: PriorityRules | None = None, menu: dict[str, SupportItem] | None = None,
                     scores: pd.DataFrame | None = None, indicator_gaps: pd.DataFrame | None = None) -> pd.DataFrame:
    """Priority and recommended support for every selected municipality, from the stage totals of
    ``round_id`` (default: each municipality's newest round), weak fields and デジタル庁 indicators.

    Columns: code, pref_name, name, round_id, basis, then the columns of ``prioritise``.
    A municipality with no assessment sheet gets priority '判定不可' (priority_order NULL) and only
    the indicator-based recommendations. Sorted by priority (高 first), then weak stages, then code.
    ``scores`` / ``indicator_gaps`` may pass results already computed for the same selection.
    """
    rules = rules or load_priority_rules()
    menu = menu if menu is not None else load_support_menu()
    municipalities = select_municipalities(con, flt)[["code", "pref_name", "name"]]
    if scores is None:
        scores = assessment_scores(con, flt, round_ids=[round_id] if round_id else None)
    selected = isin(scores["code"], municipalities["code"])
    if not selected.all():  # (the national case keeps every row: no copy of the table)
        scores = scores[selected]
    if round_id:
        scores = scores[scores["round_id"] == round_id]
    else:
        scores = latest_rounds(scores, rounds(con)["round_id"].tolist())
    findings = weakness_findings(con, scores, flt, rules, menu, indicator_gaps)
    stage_rows = scores.loc[scores["level"] == "stage", ["code", "stage", "points", "max_points"]]
    assessed = prioritise(stage_rows, rules, menu, findings=findings)
    sheet = scores.loc[scores["level"] == "overall", ["code", "round_id", "basis"]]
    result = municipalities.merge(sheet, on="code", how="left").merge(assessed, on="code", how="left")
    # no sheet and no finding either: still listed, as 判定不可
    blank = result["priority"].isna()
    result.loc[blank, ["priority", "reasons"]] = [NOT_ASSESSED, NOT_ASSESSED_REASON]
    result.loc[blank, ["weak_stages", "support", "support_ids", "recommended", "recommended_ids"]] = ""
    result["priority_order"] = result["priority_order"].astype("Int64")
    result["n_weak"] = result["n_weak"].astype("Int64")
    return result.sort_values(["priority_order", "n_weak", "code"], ascending=[True, False, True],
                              na_position="last", ignore_index=True)
