"""Command line: ``python -m metrics priority INPUT`` and ``python -m metrics export --db PATH --out F.xlsx``.

priority: a CSV or Excel sheet of already-scored stages (a municipality column and STEP0..STEP3;
optionally max points as STEPn満点 columns or one 満点 column) → CSV on standard output (or
--out, UTF-8 with BOM for Excel) with 支援優先度, 弱い段階, 支援内容, 推奨する支援, 理由.
export: every metric of a built database as one .xlsx, one sheet per metric family.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import duckdb
import pandas as pd

from loaders.errors import LoaderError
from loaders.textio import is_zip, normalise_text, parse_cell, read_csv_rows, read_excel_sheets
from metrics.export import workbook_bytes
from metrics.filters import Filter
from metrics.menus import support_menu
from metrics.priority import prioritise
from store.writer import write_csv

STAGE_HEADER = re.compile(r"^(?:STEP|ステップ)([0-9])$")
STAGE_MAX_HEADER = re.compile(r"^(?:STEP|ステップ)([0-9])(?:満点|_?MAX|最大点?)$")
COMMON_MAX_HEADERS = {"満点", "MAX", "MAX_POINTS", "最大点"}
NAME_HINTS = ("市区町村", "市町村", "団体", "自治体", "MUNICIPALITY", "名称")


def _header_key(cell: object) -> str:
    return normalise_text(cell).replace(" ", "").upper()


def read_stage_sheet(path: Path) -> pd.DataFrame:
    """Rows of a pre-scored sheet as (municipality, stage, points, max_points).

    The header is the first row with a STEP0 … column; the municipality column is the first
    header naming 市区町村/市町村/団体/自治体/名称 (without one, rows are named 「N行目」).
    Cells are read with loaders.textio.parse_cell (full-width digits, blanks, 調査無し → missing);
    any other text in a score cell is an error naming the row and column.
    """
    # an .xlsx is a zip container: its first sheet holds the table
    rows = next(iter(read_excel_sheets(path).values()), []) if is_zip(path) else read_csv_rows(path)
    for header_index, header in enumerate(rows):  # noqa: B007  the index is read after the loop
        keys = [_header_key(cell) for cell in header]
        stages = {int(m.group(1)): i for i, k in enumerate(keys) if (m := STAGE_HEADER.match(k))}
        if stages:
            break
    else:
        raise LoaderError("STEP0〜STEP3 の列見出しが見つかりません。", file=path)
    stage_max = {int(m.group(1)): i for i, k in enumerate(keys) if (m := STAGE_MAX_HEADER.match(k))}
    common_max = next((i for i, k in enumerate(keys) if k in COMMON_MAX_HEADERS), None)
    name_column = next((i for i, k in enumerate(keys) if any(h in k for h in NAME_HINTS)), None)
    records = []
    for row_index in range(header_index + 1, len(rows)):
        row = rows[row_index]
        if all(normalise_text(cell) == "" for cell in row):
            continue
        line = row_index + 1  # 1-based, as a spreadsheet shows it
        name = normalise_text(row[name_column]) if name_column is not None and name_column < len(row) else ""
        if name_column is not None and not name:
            raise LoaderError("市区町村名が空です。", file=path, row=line, column=name_column)
        name = name or f"{line}行目"
        for stage, column in sorted(stages.items()):
            max_column = stage_max.get(stage, common_max)
            records.append(
                {
                    "municipality": name,
                    "stage": stage,
                    "points": _number(row, column, path, line),
                    "max_points": _number(row, max_column, path, line) if max_column is not None else None,
                }
            )
    return pd.DataFrame(records, columns=["municipality", "stage", "points", "max_points"])


def _number(row: list, column: int, path: Path, line: int) -> float | None:
    cell = parse_cell(row[column] if column < len(row) else None)
    if cell.kind == "text" or (cell.value is not None and cell.value < 0):
        raise LoaderError(f"点数として読めない値「{cell.raw}」があります。", file=path, row=line, column=column)
    return cell.value


def priority_command(args: argparse.Namespace) -> int:
    stages = read_stage_sheet(Path(args.input))
    result = prioritise(stages, menu=support_menu(args.prefecture), key="municipality")
    scores = stages.pivot(index="municipality", columns="stage", values="points")
    scores.columns = [f"STEP{s}" for s in scores.columns]
    table = result.join(scores, on="municipality")
    table = table[["municipality", *scores.columns, "priority", "weak_stages", "support", "recommended", "reasons"]]
    table.columns = ["市区町村", *scores.columns, "支援優先度", "弱い段階", "支援内容", "推奨する支援", "理由"]
    # the one writer of exported files: a municipality named like a formula stays text
    write_csv(table, args.out if args.out else sys.stdout)
    return 0


def export_command(args: argparse.Namespace) -> int:
    db = Path(args.db)
    if not db.is_file():
        raise LoaderError("データベースが見つかりません。", file=db)
    flt = Filter(pref_code=args.pref) if args.pref else None
    con = duckdb.connect(str(db), read_only=True)
    try:
        data = workbook_bytes(con, flt, args.round)
    finally:
        con.close()
    Path(args.out).write_bytes(data)
    print(f"{args.out} に書き出しました（{len(data):,} バイト）。")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m metrics", description="自治体DX進捗ダッシュボードの指標計算")
    commands = parser.add_subparsers(dest="command", required=True)
    priority = commands.add_parser("priority", help="STEP0〜3 の点数表から支援優先度と支援内容を出力（CSV）")
    priority.add_argument("input", help="CSV または Excel（市区町村名と STEP0〜STEP3 の列。満点の列は任意）")
    priority.add_argument(
        "--prefecture",
        default="宮城県",
        help="支援メニューを使う都道府県（国のメニューに加える。既定: 宮城県、点数済みシートの様式の出どころ）",
    )
    priority.add_argument("--out", help="CSV の出力先（省略時は標準出力。ファイルは Excel 向けに BOM 付き UTF-8）")
    priority.set_defaults(run=priority_command)
    export = commands.add_parser("export", help="全指標を Excel に書き出す（指標の系統ごとに1シート）")
    export.add_argument("--db", required=True, help="DuckDB ファイル（python -m loaders で構築したもの）")
    export.add_argument("--out", required=True, help="出力する .xlsx")
    export.add_argument("--pref", help="都道府県コード（2桁）で絞り込む")
    export.add_argument("--round", help="支援優先度・参考事例に使う調査回（省略時は各団体の最新の回）")
    export.set_defaults(run=export_command)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except LoaderError as exc:
        print(f"エラー: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
