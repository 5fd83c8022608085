"""Support priority 高/中/低 with Japanese reasons, and at most three recommended items of the
support menu in force, each with a one-line reason.

Two judgements, both rules as data:
- from the assessment survey (data/priority_rules.yaml): the level depends only on the number of
  weak stages (so 宮城県's pre-scored table in 総務省「地域社会DX事例集」 is reproduced);
- from the official indicators alone (data/official_priority_rules.yaml, 「公開データによる判定」):
  points for weaknesses such as no CIO and no 全体方針, or online rates far below the size band's
  median — used wherever a municipality has no assessment sheet.
Recommendations rank the menu items (national + the selected prefecture's own, metrics.menus) by how
much of the municipality's weaknesses each addresses: weak stages and fields of the sheet and
indicators behind the municipality's population band, each weighed by the size of its gap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from metrics.assessment import NOT_ANSWERED, assessment_scores, latest_rounds, rounds, surveyed_prefectures
from metrics.definitions import (
    OfficialRules,
    Questionnaire,
    SupportItem,
    load_official_rules,
    load_questionnaire,
)
from metrics.filters import Filter, select_municipalities
from metrics.menus import support_menu
from metrics.query import isin, run
from metrics.rules import PriorityRules, load_priority_rules

NOT_ASSESSED = "判定不可"
NOT_ASSESSED_REASON = "アセスメントの回答も公開データの値もないため、優先度を判定できません。"
SURVEY_LABEL = "アセスメント調査による判定"
MAX_RECOMMENDED = 3
# a menu item meant for a priority level (e.g. DX推進リエゾン for 高) counts this share of the
# municipality's largest gap: a candidate, but behind the items that close a named gap
PRIORITY_ITEM_WEIGHT = 0.5
# an indicator gap counts fully for an item that names the indicator, half for one that names its stage only
STAGE_MATCH_WEIGHT = 0.5
RECOMMENDATION_COLUMNS = [
    "recommended",
    "recommended_ids",
    "recommended_reasons",
    "recommended_stages",
    "recommended_fields",
    "candidates",
    "candidate_ids",
]
PRIORITY_COLUMNS = [
    "priority",
    "priority_order",
    "n_weak",
    "weak_stages",
    "support",
    "support_ids",
    *RECOMMENDATION_COLUMNS,
    "reasons",
]
MIN_BINARY_GAP = 0.1
NAME_SEPARATOR = "、"  # between item names (names themselves contain ・)
REASON_SEPARATOR = "｜"  # between the reasons of the recommended items (names contain ・ and 、)


def _fmt(value: float) -> str:
    return f"{value:g}" if float(value).is_integer() else f"{value:.1f}"


def rank_items(weaknesses: list[tuple], menu: dict[str, SupportItem], level: str | None) -> list[tuple]:
    """The menu items that address any of ``weaknesses``, best first, with their score and reason.

    ``weaknesses``: (kind, stage, field, indicator, magnitude, text) — kind 'stage' (a weak stage of
    the sheet), 'field' or 'indicator'; magnitude is the gap in 0–1 units (share of the maximum).
    An item's score is the sum, over the weaknesses it addresses, of their magnitude (an indicator
    matched through its stage only counts STAGE_MATCH_WEIGHT of it); an item for ``level`` adds
    PRIORITY_ITEM_WEIGHT × the largest magnitude. Ties keep menu order. Returns (item, score,
    reason, stage, field) with reason = the text of the largest gap the item closes (one it names
    directly before one it shares a stage with)."""
    largest = max((w[4] for w in weaknesses), default=0.0)
    ranked = []
    for order, item in enumerate(menu.values()):
        score, best, best_part = 0.0, None, (False, 0.0)
        for kind, stage, field, indicator, magnitude, text in weaknesses:
            direct = True
            if kind == "stage":
                part = magnitude if stage in item.stages else 0.0
            elif kind == "field":
                part = magnitude if field in item.fields else 0.0
            elif indicator in item.indicators:
                part = magnitude
            else:
                direct, part = (
                    False,
                    magnitude * STAGE_MATCH_WEIGHT if stage is not None and stage in item.stages else 0.0,
                )
            if part > 0:
                score += part
                # the reason names a weakness the item is meant for (named by it) before one matched through its stage
                if (direct, part) > best_part:
                    best, best_part = (text, stage, field), (direct, part)
        if level is not None and level in item.priorities and largest > 0:
            score += PRIORITY_ITEM_WEIGHT * largest
            if best is None:
                best = (f"支援優先度「{level}」の団体の継続的な伴走の入口", None, None)
        if score > 0:
            ranked.append((-score, order, item, score, best))
    ranked.sort(key=lambda entry: (entry[0], entry[1]))
    return [(item, score, text, stage, field) for _, _, item, score, (text, stage, field) in ranked]


def _recommendation_columns(ranked: list[tuple]) -> dict:
    top = ranked[:MAX_RECOMMENDED]
    return {
        "recommended": NAME_SEPARATOR.join(item.name for item, *_ in top),
        "recommended_ids": ",".join(item.id for item, *_ in top),
        "recommended_reasons": REASON_SEPARATOR.join(text for _, _, text, _, _ in top),
        "recommended_stages": ",".join("" if stage is None else str(int(stage)) for *_, stage, _ in top),
        "recommended_fields": ",".join(field or "" for *_, field in top),
        "candidates": NAME_SEPARATOR.join(item.name for item, *_ in ranked),
        "candidate_ids": ",".join(item.id for item, *_ in ranked),
    }


def prioritise(
    stages: pd.DataFrame,
    rules: PriorityRules | None = None,
    menu: dict[str, SupportItem] | None = None,
    questionnaire: Questionnaire | None = None,
    findings: pd.DataFrame | None = None,
    key: str = "code",
    fallback_levels: dict | None = None,
) -> pd.DataFrame:
    """Priority of each municipality from its stage points (pure: no database).

    ``stages``: one row per ``key`` × stage with columns ``key``, stage (0–3), points, max_points
    (NaN → rules.prescored_max_points). A stage of the questionnaire with no row or no points is
    missing (weak when rules.missing_stage_is_weak).
    ``findings`` (optional): extra weaknesses, columns ``key``, field (or NA), indicator_id (or NA),
    reason, and optionally stage and magnitude (0–1, default 0.1) — they add reasons and rank menu
    items, never change the level.
    A ``key`` with findings but no stage rows is listed as '判定不可' (priority_order and n_weak
    NULL) — or with the level ``fallback_levels[key]`` when given (the official judgement) —
    with the menu items its findings call for.
    Returns one row per ``key`` (input order): ``key``, priority (高/中/低), priority_order (1 = 高),
    n_weak, weak_stages ('STEP0・STEP3'), support (宮城-style 支援内容: the stage_support item of
    each weak stage that is on the menu, deferred ones left out, '・'-joined), support_ids,
    recommended (at most three items, best first, '、'-joined), recommended_ids (','-joined),
    recommended_reasons (one line per item, '｜'-joined), recommended_stages / recommended_fields
    (the stage and field of the gap each item closes, ','-joined, '' when none), candidates /
    candidate_ids (every item that applies, best first; names '、'-joined), reasons (Japanese sentences).
    """
    rules = rules or load_priority_rules()
    menu = menu if menu is not None else support_menu(None)
    questionnaire = questionnaire or load_questionnaire()
    fallback_levels = fallback_levels or {}
    stage_ids = sorted(questionnaire.stages)
    labels = {stage: questionnaire.stage_label(stage) for stage in stage_ids}
    order = {lv.priority: i for i, lv in enumerate(rules.levels, start=1)}
    # plain Python containers: a per-row pandas loop over 1,741 municipalities would dominate the run time
    points_column = pd.to_numeric(stages["points"], errors="coerce").astype(float).tolist()
    max_column = pd.to_numeric(stages["max_points"], errors="coerce").astype(float).tolist()
    sheets: dict[object, dict[int, tuple]] = {}
    for name, stage, points, maximum in zip(stages[key].tolist(), stages["stage"].tolist(), points_column, max_column):
        sheets.setdefault(name, {})[int(stage)] = (
            None if math.isnan(points) else points,
            None if math.isnan(maximum) else maximum,
        )
    extra: dict[object, tuple[list, list]] = {}
    if findings is not None and len(findings):
        n = len(findings)
        magnitudes = findings["magnitude"].tolist() if "magnitude" in findings else [0.1] * n
        finding_stages = findings["stage"].tolist() if "stage" in findings else [None] * n
        for name, field, indicator, reason, stage, magnitude in zip(
            findings[key].tolist(),
            findings["field"].tolist(),
            findings["indicator_id"].tolist(),
            findings["reason"].tolist(),
            finding_stages,
            magnitudes,
        ):
            weaknesses, texts = extra.setdefault(name, ([], []))
            indicator = None if _missing(indicator) else indicator
            weaknesses.append(
                (
                    "indicator" if indicator else "field",
                    None if _missing(stage) else int(stage),
                    None if _missing(field) else field,
                    indicator,
                    0.1 if _missing(magnitude) else float(magnitude),
                    str(reason).rstrip("。"),
                )
            )
            texts.append(str(reason) if str(reason).endswith("。") else f"{reason}。")
    rows = []
    # municipalities with findings but no sheet are listed too (official level, else 判定不可)
    unsheeted = [name for name in extra if name not in sheets]
    for name in (
        list(sheets) + unsheeted + [name for name in fallback_levels if name not in sheets and name not in extra]
    ):
        weaknesses, texts = extra.get(name, ([], []))
        weaknesses = list(weaknesses)
        weak, reasons, support_ids, level_name = [], [], [], None
        n_weak = None
        if name in sheets:
            by_stage = sheets[name]
            shortfall = {}
            for stage in stage_ids:
                points, maximum = by_stage.get(stage, (None, None))
                maximum = maximum if maximum is not None else rules.prescored_max_points.get(stage)
                if points is None:
                    if rules.missing_stage_is_weak:
                        weak.append(stage)
                        shortfall[stage] = (rules.weak_share, f"{labels[stage]}が未回答")
                        reasons.append(f"{labels[stage]}: 点数がありません（未回答）。")
                elif maximum and points / maximum < rules.weak_share:
                    weak.append(stage)
                    shortfall[stage] = (
                        rules.weak_share - points / maximum,
                        f"{labels[stage]}が{_fmt(points)}/{_fmt(maximum)}点（満点の{rules.weak_share:.0%}未満）",
                    )
                    reasons.append(
                        f"{labels[stage]}: {_fmt(points)}/{_fmt(maximum)}点で、満点の{rules.weak_share:.0%}未満です。"
                    )
            level = next(lv for lv in rules.levels if len(weak) >= lv.min_weak_stages)
            level_name, n_weak = level.priority, len(weak)
            count = f"弱い段階が{len(weak)}つ" if weak else "弱い段階なし"
            reasons.insert(0, f"{count} → 支援優先度「{level.priority}」（{level.summary}）。")
            deferred = {s for s in weak if any(d in weak for d in rules.defer_support.get(s, ()))}
            for stage in sorted(deferred):
                blockers = "・".join(f"STEP{d}" for d in rules.defer_support[stage] if d in weak)
                reasons.append(f"STEP{stage}の支援は、{blockers}を先に支えるため後回しにします。")
            active = [s for s in weak if s not in deferred]
            support_ids = [rules.stage_support[s] for s in active if rules.stage_support.get(s) in menu]
            weaknesses = [("stage", s, None, None, shortfall[s][0], shortfall[s][1]) for s in active] + [
                w for w in weaknesses if not (w[0] == "indicator" and w[1] in deferred)
            ]
        else:
            level_name = fallback_levels.get(name)
            if level_name is None:
                reasons.append(NOT_ASSESSED_REASON)
        reasons.extend(texts)
        ranked = rank_items(weaknesses, menu, level_name)
        # the 支援内容 a rule names for a weak stage (宮城県's table) comes first: it is the prefecture's own answer
        ranked = [r for r in ranked if r[0].id in support_ids] + [r for r in ranked if r[0].id not in support_ids]
        rows.append(
            {
                key: name,
                "priority": level_name or NOT_ASSESSED,
                "priority_order": order.get(level_name) if level_name else None,
                "n_weak": n_weak,
                "weak_stages": "・".join(f"STEP{s}" for s in weak),
                "support": "・".join(menu[i].name for i in support_ids),
                "support_ids": ",".join(support_ids),
                **_recommendation_columns(ranked),
                "reasons": "".join(reasons),
            }
        )
    return pd.DataFrame(rows, columns=[key] + PRIORITY_COLUMNS)


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def band_values(con: duckdb.DuckDBPyConnection, indicator_ids, as_of: str | None = None) -> pd.DataFrame:
    """Newest value of each indicator for every municipality with its population band's share of 1
    (band_mean) and median nationwide. Columns: code, indicator_id, kind, short_title, unit, value,
    pop_band, band_mean, band_median, band_n."""
    return run(con, "band_indicator_values", {"indicator_ids": sorted(set(indicator_ids)), "as_of": as_of})


def official_priority(values: pd.DataFrame, rules: OfficialRules | None = None) -> pd.DataFrame:
    """「公開データによる判定」 of every municipality in ``values`` (rows of ``band_values``; pure).

    A signal ``not_implemented`` applies when all its indicators are 0 (a missing value is not
    judged: the signal does not apply); ``below_band_median`` when the value is at least ``by``
    points below the band's median. The level is the first of rules.levels whose min_points the
    sum of points reaches. Columns: code, official_priority, official_order (1 = highest),
    official_points, official_signals (','-joined ids), official_reasons (Japanese sentences).
    A municipality with none of the signals' indicators has no row (判定不可 for the caller)."""
    rules = rules or load_official_rules()
    used = values[isin(values["indicator_id"], list({i for sig in rules.signals for i in sig.indicators}))]
    table = used.pivot_table(index="code", columns="indicator_id", values="value", aggfunc="first")
    medians = used.pivot_table(index="code", columns="indicator_id", values="band_median", aggfunc="first")
    points = pd.Series(0.0, index=table.index)
    fired = {code: [] for code in table.index}
    for signal in rules.signals:
        if signal.not_implemented:
            present = [i for i in signal.not_implemented if i in table.columns]
            if len(present) < len(signal.not_implemented):
                continue
            hit = (table[present] == 0).all(axis=1)
            detail = {}
        else:
            indicator = signal.below_band_median
            if indicator not in table.columns:
                continue
            gap = medians[indicator] - table[indicator]
            hit = (gap >= signal.by).fillna(False)
            unit = (
                used.loc[used["indicator_id"] == indicator, "unit"].iloc[0]
                if (used["indicator_id"] == indicator).any()
                else ""
            )
            unit = "%" if "%" in str(unit) else ""
            detail = {
                code: f"（{_fmt(table.at[code, indicator])}{unit}、同じ人口規模の中央値 "
                f"{_fmt(medians.at[code, indicator])}{unit}）"
                for code in hit[hit].index
            }
        points[hit] += signal.points
        for code in hit[hit].index:
            fired[code].append((signal, detail.get(code, "")))
    levels = rules.levels
    names = [next(lv for lv in levels if p >= lv[1]) for p in points.tolist()]
    order = {lv[0]: i for i, lv in enumerate(levels, start=1)}
    reasons = []
    for code, total, level in zip(points.index, points.tolist(), names):
        signals = fired[code]
        head = f"{rules.label}: 弱み{_fmt(total)}点 → 支援優先度「{level[0]}」（{level[2]}）。"
        reasons.append(head + "".join(f"{sig.reason}{detail}。" for sig, detail in signals))
    return pd.DataFrame(
        {
            "code": points.index.astype(str),
            "official_priority": [lv[0] for lv in names],
            "official_order": [order[lv[0]] for lv in names],
            "official_points": points.to_numpy(),
            "official_signals": [",".join(sig.id for sig, _ in fired[c]) for c in points.index],
            "official_reasons": reasons,
        }
    ).reset_index(drop=True)


def indicator_weaknesses(
    values: pd.DataFrame, menu: dict[str, SupportItem], rules: OfficialRules | None = None
) -> pd.DataFrame:
    """Indicators behind the municipality's population band, for ranking menu items (pure): a
    binary indicator not implemented (magnitude = share of the band that implements it) and a
    rate below the band's median (magnitude = the shortfall in points ÷ 100). Only indicators some
    menu item or the rules' indicator_stage names. Columns: code, field, indicator_id, stage,
    magnitude, reason (one line)."""
    rules = rules or load_official_rules()
    wanted = {i for item in menu.values() for i in item.indicators} | set(rules.indicator_stage)
    rows = values[isin(values["indicator_id"], sorted(wanted))]
    binary = rows["kind"] == "binary"
    # not implemented: the share of the band that implements it, at least MIN_BINARY_GAP (the target is 実施 even
    # where no peer has it yet)
    magnitude = np.where(
        binary,
        np.where(rows["value"] == 0, np.maximum(rows["band_mean"], MIN_BINARY_GAP), 0.0),
        np.clip((rows["band_median"] - rows["value"]) / 100.0, 0, None),
    )
    rows = rows.assign(magnitude=magnitude)
    rows = rows[rows["magnitude"] > 0]
    stage_field = rows["indicator_id"].map(rules.indicator_stage)
    reasons = [
        (
            f"「{title}」が未実施（同じ人口規模の団体の{mean:.0%}が実施）"
            if mean > 0
            else f"「{title}」が未実施（目標は実施）"
        )
        if kind == "binary"
        else f"「{title}」が{_fmt(value)}%（同じ人口規模の中央値 {_fmt(median)}%）"
        for kind, title, value, mean, median in zip(
            rows["kind"].tolist(),
            rows["short_title"].tolist(),
            rows["value"].tolist(),
            rows["band_mean"].tolist(),
            rows["band_median"].tolist(),
        )
    ]
    return pd.DataFrame(
        {
            "code": rows["code"].astype(str).tolist(),
            "field": [sf[1] if isinstance(sf, tuple) else pd.NA for sf in stage_field],
            "indicator_id": rows["indicator_id"].tolist(),
            "stage": [sf[0] if isinstance(sf, tuple) else pd.NA for sf in stage_field],
            "magnitude": rows["magnitude"].astype(float).tolist(),
            "reason": reasons,
        }
    )


def field_weaknesses(
    scores: pd.DataFrame,
    rules: PriorityRules | None = None,
    band_of: pd.Series | None = None,
    peer_scores: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Weak fields of the sheets in ``scores``: a field score below rules.weak_field_score, with its
    shortfall to 50 or to the median of the same population band among ``peer_scores`` (default
    ``scores``; ``band_of``: code → pop_band of every peer), whichever is larger, ÷ 100 as magnitude.
    Columns: code, field, indicator_id (NA), stage (NA), magnitude, reason."""
    rules = rules or load_priority_rules()
    field_order = {f: i for i, f in enumerate(load_questionnaire().fields)}
    fields = scores.loc[(scores["level"] == "field") & scores["score"].notna(), ["code", "field", "score"]]
    if band_of is not None and len(fields):
        peers = scores if peer_scores is None else peer_scores
        peers = peers.loc[(peers["level"] == "field") & peers["score"].notna(), ["code", "field", "score"]]
        medians = peers.assign(band=peers["code"].map(band_of)).groupby(["band", "field"])["score"].median()
        fields = fields.assign(band=fields["code"].map(band_of))
        fields["band_median"] = [
            medians.get((band, field), np.nan) for band, field in zip(fields["band"].tolist(), fields["field"].tolist())
        ]
    else:
        fields = fields.assign(band_median=np.nan)
    shortfall = np.maximum(
        rules.weak_field_score - fields["score"], (fields["band_median"] - fields["score"]).fillna(0)
    )
    fields = fields.assign(magnitude=shortfall / 100.0)
    fields = fields[(fields["score"] < rules.weak_field_score)]
    fields = fields.assign(order=fields["field"].map(field_order)).sort_values(["code", "order"])
    return pd.DataFrame(
        {
            "code": fields["code"].tolist(),
            "field": fields["field"].tolist(),
            "indicator_id": pd.NA,
            "stage": pd.NA,
            "magnitude": fields["magnitude"].tolist(),
            "reason": [
                f"分野「{f}」の得点が{s:.0f}点で、{rules.weak_field_score:g}点未満です"
                + ("" if pd.isna(m) else f"（同じ人口規模の中央値 {m:.0f}点）")
                + "。"
                for f, s, m in zip(fields["field"].tolist(), fields["score"].tolist(), fields["band_median"].tolist())
            ],
        }
    )


def own_menus(pref_codes) -> dict[str, dict[str, SupportItem]]:
    """Each prefecture's menu in force (the national items and its own), for the prefectures of
    ``pref_codes`` in code order: ``support_priority``'s 'own' scope."""
    return {pref: support_menu(pref) for pref in sorted(set(pref_codes))}


def menu_items(menus: dict) -> dict[str, SupportItem]:
    """Every item of ``menus`` (a later menu's item wins an id they share)."""
    return {i: item for menu in menus.values() for i, item in menu.items()}


@dataclass(frozen=True)
class OfficialFindings:
    """What the official data says of each municipality, whatever the round: its newest values against
    its population band (``band_values``), the 「公開データによる判定」 (``official_priority``) and the
    indicator weaknesses that rank menu items (``indicator_weaknesses``)."""

    values: pd.DataFrame
    judgement: pd.DataFrame
    indicator_findings: pd.DataFrame

    def of(self, codes: pd.Series) -> OfficialFindings:
        """The rows of the municipalities ``codes``."""
        return OfficialFindings(
            *(frame[isin(frame["code"], codes)] for frame in (self.values, self.judgement, self.indicator_findings))
        )


def official_findings(
    con: duckdb.DuckDBPyConnection,
    menu: dict[str, SupportItem],
    official_rules: OfficialRules | None = None,
    as_of: str | None = None,
    codes: pd.Series | None = None,
) -> OfficialFindings:
    """``OfficialFindings`` of every municipality (of ``codes`` only, when given), for the items of
    ``menu`` and the rules' indicators. The bands' shares are nationwide either way."""
    official_rules = official_rules or load_official_rules()
    wanted = set(official_rules.indicators) | {i for item in menu.values() for i in item.indicators}
    values = band_values(con, wanted, as_of)
    if codes is not None:
        values = values[isin(values["code"], codes)]
    return OfficialFindings(
        values, official_priority(values, official_rules), indicator_weaknesses(values, menu, official_rules)
    )


def support_priority(
    con: duckdb.DuckDBPyConnection,
    flt: Filter | None = None,
    round_id: str | None = None,
    rules: PriorityRules | None = None,
    menu: dict[str, SupportItem] | None = None,
    scores: pd.DataFrame | None = None,
    indicator_gaps: pd.DataFrame | None = None,
    official_rules: OfficialRules | None = None,
    as_of: str | None = None,
    menu_scope: str = "view",
    official: OfficialFindings | None = None,
) -> pd.DataFrame:
    """Support priority and at most three recommended items for every selected municipality — the
    stable entry point of the support plan (支援計画, カルテ, deck and the build-time table).

    The menu in force is the national menu plus the prefecture of ``flt`` (``flt.pref_code``); with
    no prefecture selected, national items only (``menu_scope='view'``). ``menu_scope='own'`` gives
    each municipality the national menu plus its own prefecture's — what each prefecture's view shows;
    the build stores that (metrics.tables). The survey judgement uses the stage totals of
    ``round_id`` (default: each municipality's newest round); the official judgement
    (「公開データによる判定」) the newest official values (on or before ``as_of``) against the
    municipality's population band. ``priority`` is the survey judgement where a sheet exists, else
    the official one, else 判定不可. ``indicator_gaps`` is accepted for old callers and unused.
    ``official`` may pass ``official_findings`` of the whole country with the same menus, rules and
    ``as_of`` (they do not depend on the round: the build judges every round with one).

    Columns: code, pref_name, name, pop_band, round_id, basis ('answers' / 'stage_scores' / NULL),
    response ('回答' / '未回答' / '対象外': whether the municipality returned a sheet in the round of a
    surveyed prefecture), basis_label (「アセスメント調査による判定」 / 「公開データによる判定」 / ''),
    priority (高/中/低/判定不可), priority_order, n_weak, weak_stages, support, support_ids,
    recommended, recommended_ids, recommended_reasons, recommended_stages, recommended_fields,
    candidates, candidate_ids, reasons, survey_priority (高/中/低, 未回答, or NULL when not surveyed),
    official_priority (高/中/低/判定不可), official_points, official_reasons, disagree (both
    judgements exist and differ). Sorted by priority (高 first), weak stages / official points, code.
    """
    rules = rules or load_priority_rules()
    official_rules = official_rules or load_official_rules()
    if menu_scope not in ("view", "own"):
        raise ValueError(f"menu_scope must be 'view' or 'own', got {menu_scope!r}")
    municipalities = select_municipalities(con, flt)[["code", "pref_code", "pref_name", "name", "pop_band"]]
    if menu is not None:
        menus_by_pref = {None: menu}
    elif menu_scope == "view":
        menus_by_pref = {None: support_menu(flt.pref_code if flt else None)}
    else:
        menus_by_pref = own_menus(municipalities["pref_code"])
    every_item = menu_items(menus_by_pref)
    codes = municipalities["code"]
    if scores is None:
        scores = assessment_scores(con, flt, round_ids=[round_id] if round_id else None)
    selected = isin(scores["code"], codes)
    if not selected.all():  # (the national case keeps every row: no copy of the table)
        scores = scores[selected]
    if round_id:
        scores = scores[scores["round_id"] == round_id]
    else:
        scores = latest_rounds(scores, rounds(con)["round_id"].tolist())
    official = (official or official_findings(con, every_item, official_rules, as_of, codes)).of(codes)
    # peers are the municipalities of the same population band nationwide, whatever the selection
    everyone = select_municipalities(con)[["code", "pop_band"]] if flt is not None else municipalities
    band_of = everyone.set_index("code")["pop_band"]
    peer_scores = scores
    if flt is not None and (scores["level"] == "field").any():
        peer_scores = assessment_scores(con, None, round_ids=[round_id] if round_id else None)
        if not round_id:
            peer_scores = latest_rounds(peer_scores, rounds(con)["round_id"].tolist())
    findings = pd.concat(
        [field_weaknesses(scores, rules, band_of, peer_scores), official.indicator_findings], ignore_index=True
    )
    stage_rows = scores.loc[scores["level"] == "stage", ["code", "stage", "points", "max_points"]]
    judgement = official.judgement
    fallback = dict(zip(judgement["code"], judgement["official_priority"]))
    if None in menus_by_pref:
        assessed = prioritise(stage_rows, rules, menus_by_pref[None], findings=findings, fallback_levels=fallback)
    else:  # each prefecture's municipalities with that prefecture's menu
        parts = []
        for pref, pref_menu in menus_by_pref.items():
            codes_of = municipalities.loc[municipalities["pref_code"] == pref, "code"]
            parts.append(
                prioritise(
                    stage_rows[isin(stage_rows["code"], codes_of)],
                    rules,
                    pref_menu,
                    findings=findings[isin(findings["code"], codes_of)],
                    fallback_levels={c: fallback[c] for c in codes_of if c in fallback},
                )
            )
        assessed = pd.concat(parts, ignore_index=True) if parts else prioritise(stage_rows.iloc[0:0], rules, {})
    sheet = scores.loc[scores["level"] == "overall", ["code", "round_id", "basis"]]
    result = municipalities.merge(sheet, on="code", how="left").merge(assessed, on="code", how="left")
    result = result.merge(
        judgement[["code", "official_priority", "official_points", "official_reasons"]], on="code", how="left"
    )
    # text columns stay text when no municipality has an official value (an all-missing merge is float)
    for column in ("official_priority", "official_reasons", "reasons", "priority"):
        result[column] = result[column].astype("object")
    has_sheet = result["basis"].notna()
    surveyed = result["pref_code"].isin(surveyed_prefectures(con))
    result["response"] = np.where(has_sheet, "回答", np.where(surveyed, NOT_ANSWERED, "対象外"))
    result["survey_priority"] = result["priority"].where(has_sheet, np.where(surveyed, NOT_ANSWERED, None))
    result["survey_priority"] = result["survey_priority"].astype("string")
    # no sheet: the official judgement is the priority; its reasons come first
    official_only = ~has_sheet & result["official_priority"].notna()
    result.loc[official_only, "reasons"] = result.loc[official_only, "official_reasons"] + result.loc[
        official_only, "reasons"
    ].fillna("").str.replace(NOT_ASSESSED_REASON, "")
    blank = result["priority"].isna()
    result.loc[blank, ["priority", "reasons"]] = [NOT_ASSESSED, NOT_ASSESSED_REASON]
    for column in ["weak_stages", "support", "support_ids", *RECOMMENDATION_COLUMNS]:
        result[column] = result[column].fillna("")
    result["official_priority"] = result["official_priority"].fillna(NOT_ASSESSED)
    result["basis_label"] = np.where(has_sheet, SURVEY_LABEL, np.where(official_only, official_rules.label, ""))
    result["disagree"] = (
        has_sheet
        & result["official_priority"].isin(["高", "中", "低"])
        & (result["survey_priority"] != result["official_priority"])
    )
    result["priority_order"] = result["priority_order"].astype("Int64")
    result["n_weak"] = result["n_weak"].astype("Int64")
    result["sort_weight"] = result["n_weak"].astype("Float64").fillna(result["official_points"].astype("Float64"))
    result = result.sort_values(
        ["priority_order", "sort_weight", "code"], ascending=[True, False, True], na_position="last", ignore_index=True
    )
    columns = [
        "code",
        "pref_name",
        "name",
        "pop_band",
        "round_id",
        "basis",
        "response",
        "basis_label",
        *PRIORITY_COLUMNS,
        "survey_priority",
        "official_priority",
        "official_points",
        "official_reasons",
        "disagree",
    ]
    return result[columns]
