"""All metrics as one Excel workbook: one sheet per metric family, plus a sheet that explains them."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd

from metrics.assessment import round_label, round_labels, round_returns, rounds
from metrics.dates import dates_for
from metrics.filters import Filter
from metrics.query import run
from metrics.summary import all_metrics
from store.dates import japanese_date
from store.writer import Workbook

SHEETS = {  # result key → (sheet name, what one row is)
    "summary": ("市区町村一覧", "市区町村ごとの主な指標（総合得点・アセスメント・成熟度・支援優先度・変化）"),
    "assessment": (
        "アセスメント得点",
        "市区町村 × 回 × 段階・分野（段階×分野 / 段階 / 分野 / 総合）の点数と得点（0–100）",
    ),
    "maturity": ("成熟度", "市区町村 × 回の成熟度レベル（0–4）"),
    "composite": (
        "総合指標",
        "市区町村 × 柱（推進体制 / 人材 / デジタル技術 / 住民サービス / 総合）の得点（0–100）と欠測数",
    ),
    "indicators": ("指標_正規化", "市区町村 × 総合指標の構成指標: 値と 0–1 に正規化した値"),
    "gaps": ("指標ギャップ", "市区町村 × 指標: 目標・同規模団体・都道府県・全国との差（正 = 基準より良い）"),
    "assessment_change": (
        "変化_アセスメント",
        "市区町村 × 段階・分野: 当初 → 評価の得点の変化と判定（改善/停滞/後退）",
    ),
    "indicator_change": ("変化_指標", "市区町村 × 指標: 時点間の変化（極性で符号をそろえた値）と判定"),
    "priority": ("支援優先度", "市区町村ごとの支援優先度（高/中/低）、弱い段階、支援内容、推奨メニュー、理由"),
    "similar": ("類似団体", "市区町村 × 順位: 人口と得点が近い団体"),
    "cases": ("参考事例", "市区町村 × 順位: 最も弱い段階・分野に対応する、人口規模の近い団体の事例"),
}


# Every column of every sheet under the heading users read: HEADINGS, with a sheet's own wording where
# the same column means something narrower there (SHEET_HEADINGS). A column that has no heading is an id
# or a sort key whose label stands beside it (LEFT_OUT: indicator_id beside 指標, the support menu's ids
# beside their names) and is left out of the file; a column already named in Japanese (the pillar scores)
# keeps its name. tests/test_metrics_export.py fails on a column that is neither.
HEADINGS: dict[str, str] = {
    "code": "団体コード",
    "pref_name": "都道府県",
    "name": "市区町村",
    "type": "団体区分",
    "pop_band": "人口規模",
    "population": "人口",
    "region": "地域",
    "round_id": "アセスメントの回",
    "basis": "採点のもと",
    "level": "集計の単位",
    "stage": "段階",
    "stage_name": "段階名",
    "field": "分野",
    "points": "点数",
    "max_points": "満点",
    "score": "得点（0–100）",
    "n_items": "設問数",
    "answered": "回答した設問数",
    "coverage": "回答率（0–1）",
    "maturity": "成熟度レベル",
    "maturity_label": "成熟度",
    "next_stage": "次の段階",
    "next_gap": "次の段階の到達まで足りない点数",
    "missing_stages": "点数のない段階の数",
    "pillar": "柱",
    "n_members": "構成指標数",
    "n_available": "値のある指標数",
    "n_missing": "欠測の指標数",
    "n_pillars": "構成する柱の数",
    "n_pillars_missing": "得点のない柱の数",
    "as_of": "調査時点",
    "title": "指標",
    "short_title": "指標（略称）",
    "unit": "単位",
    "kind": "値の種類",
    "polarity": "向き",
    "weight": "重み",
    "value": "値",
    "synthetic": "デモ用の架空データ",
    "normalised": "正規化した値（0–1）",
    "target": "目標",
    "gap_target": "目標との差",
    "peer_group": "比べる団体（人口規模）",
    "peer_median": "同規模団体の中央値",
    "n_peers": "同規模団体の数（値のある団体）",
    "gap_peer": "同規模団体との差",
    "pref_value": "都道府県の値",
    "pref_basis": "都道府県の値のもと",
    "gap_pref": "都道府県との差",
    "national_median": "全国の中央値",
    "n_national": "全国の団体数（値のある団体）",
    "gap_national": "全国との差",
    "base_round": "比べる前の回",
    "eval_round": "比べた後の回",
    "base_score": "前の得点",
    "eval_score": "後の得点",
    "base_as_of": "前の調査時点",
    "eval_as_of": "後の調査時点",
    "base_value": "前の値",
    "eval_value": "後の値",
    "change": "変化",
    "trend_label": "変化の判定",
    "priority": "支援優先度",
    "response": "調査の回答",
    "basis_label": "判定の根拠",
    "n_weak": "弱い段階の数",
    "weak_stages": "弱い段階",
    "support": "支援内容",
    "recommended": "推奨する支援（最大3件）",
    "recommended_reasons": "推奨の理由（｜区切り）",
    "candidates": "支援の候補",
    "reasons": "理由",
    "survey_priority": "アセスメント調査による支援優先度",
    "official_priority": "公開データによる支援優先度",
    "official_points": "公開データの弱みの点数",
    "official_reasons": "公開データによる判定の理由",
    "disagree": "2つの判定が異なる",
    "rank": "順位",
    "peer_code": "類似団体の団体コード",
    "peer_name": "類似団体",
    "peer_pref_name": "類似団体の都道府県",
    "distance": "距離（小さいほど似ている）",
    "features_used": "比べた特徴",
    "weakest_stage": "最も弱い段階",
    "weakest_field": "最も弱い分野",
    "body": "事例の団体",
    "body_kind": "事例の団体の種類",
    "population_text": "事例の団体の人口",
    "summary": "概要",
    "source": "出典",
    "section": "掲載箇所",
    "size_ratio": "人口の比（事例 ÷ 団体）",
    "reason": "選んだ理由",
}
SHEET_HEADINGS: dict[str, dict[str, str]] = {
    "summary": {
        "composite": "総合得点（デジタル庁指標、0–100）",
        "composite_n_missing": "総合得点で欠測の指標数",
        "assessment": "アセスメント得点（0–100）",
        "change": "アセスメント得点の変化",
        "recommended": "推奨する支援",
    },
    "assessment": {"round_id": "回"},
    "maturity": {"round_id": "回"},
    "indicator_change": {"change": "変化（良くなる向きが正）"},
    "cases": {"pref_name": "事例の都道府県", "stage": "事例の段階", "field": "事例の分野", "title": "事例"},
}


def headings(key: str) -> dict[str, str]:
    """Column → heading of the ``key`` family's sheet."""
    return {**HEADINGS, **SHEET_HEADINGS.get(key, {})}


# ids and sort keys left out, each with the column that already says it
LEFT_OUT = {
    "indicator_id": "title",
    "case_id": "title",
    "support_ids": "support",
    "recommended_ids": "recommended",
    "candidate_ids": "candidates",
    "recommended_stages": "recommended_reasons",
    "recommended_fields": "recommended_reasons",
    "priority_order": "priority",
    "trend": "trend_label",
}
# coded values, as users read them
STAGE_COLUMNS = ("stage", "next_stage", "weakest_stage")
ROUND_COLUMNS = ("round_id", "base_round", "eval_round")
CODES: dict[str, dict[object, str]] = {
    "basis": {"answers": "設問への回答", "stage_scores": "段階別の点数"},
    "level": {"cell": "段階×分野", "stage": "段階", "field": "分野", "overall": "総合"},
    "kind": {
        "binary": "実施の有無（実施=1）",
        "percent": "割合（%）",
        "count": "件数",
        "number": "数値",
        "category": "区分",
    },
    "polarity": {
        "higher_is_better": "高いほど良い",
        "lower_is_better": "低いほど良い",
        "neutral": "良し悪しを問わない",
    },
    "body_kind": {"municipality": "市区町村", "prefecture": "都道府県", "group": "複数団体の共同の取組"},
    "synthetic": {True: "架空", False: ""},
    "disagree": {True: "異なる", False: ""},
}


def labelled(frame: pd.DataFrame, key: str, round_names: dict[str, str]) -> pd.DataFrame:
    """``frame`` (the ``key`` family of all_metrics) as the workbook shows it: ids left out, coded
    values and rounds by their labels, stages as STEP0–3, every column under its Japanese heading."""
    shown = frame.drop(columns=[c for c in frame.columns if c in LEFT_OUT])
    for column, meanings in CODES.items():
        if column in shown:
            shown[column] = shown[column].map(lambda v, m=meanings: m.get(v, v) if pd.notna(v) else v)
    for column in STAGE_COLUMNS:
        if column in shown:
            shown[column] = shown[column].map(lambda v: f"STEP{int(v)}" if pd.notna(v) else None)
    for column in ROUND_COLUMNS:
        if column in shown:
            shown[column] = shown[column].map(lambda v: round_names.get(v, v) if pd.notna(v) else v)
    return shown.rename(columns=headings(key))


def workbook_bytes(
    con: duckdb.DuckDBPyConnection,
    flt: Filter | None = None,
    round_id: str | None = None,
    results: dict[str, pd.DataFrame] | None = None,
) -> bytes:
    """The .xlsx (bytes) of ``all_metrics`` for the selection: a 「説明」 sheet (what each sheet
    holds, sources and as-of dates, build time) and one sheet per family, each column under its Japanese
    heading (``labelled``). Missing values are empty cells."""
    results = results if results is not None else all_metrics(con, flt, round_id)
    # through the one writer of exported files (store.writer): names, labels and answers from
    # the data cannot become formulas
    workbook = Workbook()
    workbook.add_table("説明", _about(con, results), max_width=90)
    round_names = round_labels(con)
    for key, (sheet, _what) in SHEETS.items():
        workbook.add_table(sheet, labelled(results[key], key, round_names), max_width=40)
    return workbook.bytes()


def _about(con: duckdb.DuckDBPyConnection, results: dict[str, pd.DataFrame]) -> pd.DataFrame:
    rows = [{"項目": SHEETS[key][0], "内容": SHEETS[key][1], "行数": len(results[key])} for key in SHEETS]
    for source in run(con, "value_sources", {}).itertuples():
        note = "（デモ用の架空データを含む）" if source.synthetic else ""
        rows.append(
            {
                "項目": f"出典: {source.title}",
                "内容": f"{source.credit}{note}",
                "行数": None,
                "調査時点・取得日": dates_for(con, None, None, [source.source]).text() or None,
            }
        )
    returned = round_returns(con).set_index("round_id")["municipalities"]
    for r in rounds(con).itertuples():
        note = "（デモ用の架空データ）" if r.synthetic else ""
        rows.append(
            {
                "項目": "調査回",
                "内容": f"{round_label(r.label) or r.label}{note}（{returned.get(r.round_id, 0)}団体）",
                "行数": None,
                "調査時点・取得日": japanese_date(r.held_on),
            }
        )
    built = run(con, "build_time", {})["built_at"]
    rows.append({"項目": "データベース構築日時", "内容": built.iloc[0] if len(built) else "不明", "行数": None})
    rows.append({"項目": "出力日時", "内容": datetime.now().isoformat(timespec="seconds"), "行数": None})
    rows.append(
        {
            "項目": "読み方",
            "内容": "得点は 0–100。空欄はデータなし（0 とは扱いません）。差は正の値が「基準より良い」、"
            "変化は良くなる向きが正です。",
            "行数": None,
        }
    )
    return pd.DataFrame(rows, columns=["項目", "内容", "行数", "調査時点・取得日"])
