"""All metrics as one Excel workbook: one sheet per metric family, plus a sheet that explains them."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd

from metrics.assessment import round_label, round_returns, rounds
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
        "市区町村 × 回 × 段階・分野（cell / stage / field / overall）の点数と得点（0–100）",
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


def workbook_bytes(
    con: duckdb.DuckDBPyConnection,
    flt: Filter | None = None,
    round_id: str | None = None,
    results: dict[str, pd.DataFrame] | None = None,
) -> bytes:
    """The .xlsx (bytes) of ``all_metrics`` for the selection: a 「説明」 sheet (what each sheet
    holds, sources and as-of dates, build time) and one sheet per family (column names as in the
    metrics API, documented in docs/METHODOLOGY.md). Missing values are empty cells."""
    results = results if results is not None else all_metrics(con, flt, round_id)
    # through the one writer of exported files (store.writer): names, labels and answers from
    # the data cannot become formulas
    workbook = Workbook()
    workbook.add_table("説明", _about(con, results), max_width=90)
    for key, (sheet, _what) in SHEETS.items():
        workbook.add_table(sheet, results[key], max_width=40)
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
    rows.append({"項目": "算出方法", "内容": "docs/METHODOLOGY.md を参照", "行数": None})
    return pd.DataFrame(rows, columns=["項目", "内容", "行数", "調査時点・取得日"])
