"""Command line: python -m loaders {build,check,fetch,demo,template,rollback,versions}."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from loaders import store
from loaders.build import build, check_files, problem_lines
from loaders.demo import build_demo
from loaders.errors import LoaderError
from loaders.fetch import CACHE_DIR, fetch
from loaders.lock import BuildLock
from loaders.questionnaire import load_questionnaire
from loaders.registry import load_registry
from loaders.template import write_template
from store.paths import DEFAULT_DB, DEMO_DB


def _cmd_build(args) -> int:
    summary = build(args.source, Path(args.db), as_of=args.as_of or None, loaded_by=args.user, force=args.force)
    print("\n".join(summary.lines()))
    return 0


def _cmd_check(args) -> int:
    """Every file of every argument examined; every problem listed (file, row, column, reason, encoding)."""
    files, problems = check_files([Path(f) for f in args.file], as_of=args.as_of)
    for entry in files:
        print(f"ファイル: {entry['file']}")
        print(f"  種類: {entry['loader'] or '不明'}")
        for table, rows in entry["rows"].items():
            print(f"  {table}: {rows} 行")
        for item in entry["unresolved"]:
            print(f"  対応付けできない名前: {item['name']}（{item['reason']}）")
        for issue in entry["warnings"]:
            print(f"  [warning] {issue}")
        print("  結果: " + ("問題なし" if entry["ok"] else "エラーあり"))
    if problems:
        print(f"問題 {len(problems)} 件:")
        print("\n".join(f"  {line}" for line in problem_lines(problems)))
    print("結果: " + ("エラーあり" if problems or not files else "問題なし"))
    return 1 if problems or not files else 0


def _cmd_fetch(args) -> int:
    with BuildLock(Path(args.db), action="公式データの取得"):  # the cache is what the next build reads
        manifest = fetch(Path(args.dest), base_url=args.base_url, retries=args.retries)
    for row in manifest:
        print(f"{row['path']}  {row['bytes']} bytes  sha256={row['sha256']}")
    print(f"{len(manifest)} 件を {args.dest} に保存しました。")
    return 0


def _cmd_demo(args) -> int:
    summary = build_demo(Path(args.db), [Path(s) for s in args.source] if args.source else None)
    print("\n".join(summary.lines()))
    print("デモ用の架空データ（アセスメント回答）を含むデータベースを作成しました。")
    return 0


def _cmd_template(args) -> int:
    definition = load_questionnaire(Path(args.questionnaire) if args.questionnaire else None)
    write_template(Path(args.out), args.prefecture, args.round, load_registry(), definition)
    print(f"調査票を書き出しました: {args.out}")
    return 0


def _cmd_rollback(args) -> int:
    with BuildLock(Path(args.db), action="切り戻し"):
        restored = store.rollback(Path(args.db), Path(args.version) if args.version else None)
    print(f"{restored.name} の内容に戻しました: {args.db}")
    return 0


def _cmd_versions(args) -> int:
    versions = store.list_versions(Path(args.db))
    if not versions:
        print("保存されている以前の版はありません。")
    for version in versions:
        print(version)
    return 0


def configured_db() -> str:
    """The database the commands write by default: the one the app reads ($DX_DB, as in the deploy
    image), else data/dashboard.duckdb."""
    return os.environ.get("DX_DB") or str(DEFAULT_DB)


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="python -m loaders", description="自治体DX進捗ダッシュボードのデータ取込")
    sub = main.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", help="フォルダ内の対応ファイルをすべて取り込み、データベースを作り直す")
    p.add_argument(
        "--source", type=Path, action="append", required=True, help="取り込むフォルダまたはファイル（複数可）"
    )
    p.add_argument("--db", default=configured_db())
    p.add_argument(
        "--as-of",
        action="append",
        metavar="[FILE=]YYYY-MM-DD",
        help="調査時点の指定（複数可）。FILE=日付 はそのファイル（パス、またはフォルダ内のファイル名）に、"
        "日付だけのときは調査時点の分からないすべてのファイルに使います。版の一覧（data/releases.yaml）"
        "にあるファイルは一覧の調査時点を使います。未来の日付は指定できません",
    )
    p.add_argument("--user", help="取込ログに記録する担当者名（省略時はOSのユーザー名）")
    p.add_argument(
        "--force",
        action="store_true",
        help="判別できないファイルを飛ばし、今より大幅に少ないデータベースでも置き換える",
    )
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("check", help="ファイルを検証する（書き込みなし。フォルダ・複数可、問題をすべて一覧）")
    p.add_argument("file", nargs="+")
    p.add_argument("--as-of", help="調査時点（YYYY-MM-DD）")
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("fetch", help="公式の公開ファイルをダウンロードする")
    p.add_argument("--dest", default=None)
    p.add_argument("--base-url", help="ミラーのURL（公式URLのホスト部分を置き換える）")
    p.add_argument("--retries", type=int, default=3)
    p.add_argument("--db", default=configured_db(), help="更新の排他に使うデータベース（同じロックを取る）")
    p.set_defaults(func=_cmd_fetch)

    p = sub.add_parser("demo", help="デモ用データベースを作成する")
    p.add_argument("--db", default=str(DEMO_DB))
    p.add_argument("--source", action="append", help="含める公開データのフォルダ（省略時は自動検出）")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("template", help="アセスメント調査票（Excel）を作成する")
    p.add_argument("--prefecture", required=True)
    p.add_argument("--round", required=True, help="回の識別子（例: 2026-baseline）")
    p.add_argument("--out", required=True)
    p.add_argument("--questionnaire", help="設問定義ファイル（省略時は data/questionnaire.yaml）")
    p.set_defaults(func=_cmd_template)

    p = sub.add_parser("rollback", help="以前の版のデータベースに戻す")
    p.add_argument("--db", default=configured_db())
    p.add_argument("--version", help="戻す版のファイル（省略時は直前の版）")
    p.set_defaults(func=_cmd_rollback)

    p = sub.add_parser("versions", help="保存されている以前の版を一覧表示する")
    p.add_argument("--db", default=configured_db())
    p.set_defaults(func=_cmd_versions)
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "dest", "unset") is None:
        args.dest = str(CACHE_DIR)
    try:
        return args.func(args)
    except LoaderError as exc:
        lines = exc.lines() if hasattr(exc, "lines") else [str(exc), *(f"  {issue}" for issue in exc.issues[1:])]
        print(f"エラー: {lines[0]}", file=sys.stderr)
        for line in lines[1:]:
            print(line, file=sys.stderr)
        if args.command == "build":
            print("データベースは変更していません。", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("中断しました。データベースは変更していません。", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
