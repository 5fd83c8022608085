"""Exports without a browser, so a deck is regenerated when new data arrives.

    python -m exports deck  --db PATH --prefecture 兵庫県 --out deck.pptx [--views F.yaml] [--theme projector]
    python -m exports png   --db PATH --prefecture 兵庫県 --out DIR [--views F.yaml] [--theme print]
    python -m exports karte --db PATH --code 282014 --out karte.pptx

Exit codes: 0 written, 1 a user error (missing database, unknown prefecture / measure / code, bad
views file; the message is Japanese), 2 bad arguments (argparse), 3 no browser to draw charts with.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import duckdb

from exports.images import ImageExportError, shutdown
from views.render import DEFAULT_DECK, THEMES, ExportError, load_deck, render_view, resolve_prefecture

EXIT_USER, EXIT_BROWSER = 1, 3


def _connect(path: str):
    db = Path(path)
    if not db.is_file():
        raise ExportError(f"データベース「{db}」が見つかりません（python -m loaders build で作成します）。")
    try:
        return duckdb.connect(str(db), read_only=True)
    except duckdb.Error as error:
        raise ExportError(f"データベース「{db}」を開けません: {error}") from None


def _deck(args) -> str:
    from exports.pptx_deck import build_deck

    con = _connect(args.db)
    deck = load_deck(args.views)
    summary = build_deck(con, deck, args.prefecture, args.out, theme=args.theme)
    lines = [f"{summary.path} を書き出しました（{summary.slides}枚）。"]
    if summary.empty_views:
        lines.append("データがなく図のないスライド: " + "、".join(summary.empty_views))
    return "\n".join(lines)


def _png(args) -> str:
    from exports.images import figure_png, with_caption

    con = _connect(args.db)
    deck = load_deck(args.views)
    scope = resolve_prefecture(con, args.prefecture)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written, skipped = [], []
    for number, spec in enumerate(deck.views, start=1):
        result = render_view(con, spec, scope.pref_code, theme=args.theme)
        if result.figure is None:
            skipped.append(result.title)
            continue
        figure = with_caption(
            result.figure, result.title, result.subtitle, "　".join(p for p in (result.source, result.as_of) if p)
        )
        path = out / f"{number:02d}_{result.id}.png"
        path.write_bytes(figure_png(figure, args.width, args.height))
        written.append(path.name)
    lines = [f"{out} に {len(written)} 枚のPNGを書き出しました: " + "、".join(written)]
    if skipped:
        lines.append("データがなく書き出さなかったビュー: " + "、".join(skipped))
    return "\n".join(lines)


def _karte(args) -> str:
    from exports.karte import build_karte

    con = _connect(args.db)
    path = build_karte(con, args.code, args.out, theme=args.theme)
    return f"{path} を書き出しました（A4横 1ページ）。"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m exports", description="会議資料（PowerPoint・PNG・カルテ）の書き出し"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    deck = commands.add_parser("deck", help="保存したビューをPowerPointの資料にする")
    png = commands.add_parser("png", help="保存したビューを1枚ずつPNGにする")
    karte = commands.add_parser("karte", help="1団体のカルテ（A4横1ページ）をPowerPointにする")
    for command in (deck, png, karte):
        command.add_argument("--db", required=True, help="DuckDB のデータベース（python -m loaders build の出力）")
        command.add_argument("--out", required=True, help="書き出し先")
        command.add_argument(
            "--theme", choices=THEMES, default="print", help="文字の大きさ（projector = 会議室の投影用）"
        )
    for command in (deck, png):
        command.add_argument("--prefecture", default=None, help="都道府県名（省略時は全国）")
        command.add_argument("--views", default=str(DEFAULT_DECK), help="保存したビューのファイル（YAML/JSON）")
    png.add_argument("--width", type=int, default=1600)
    png.add_argument("--height", type=int, default=900)
    karte.add_argument("--code", required=True, help="団体コード（6桁）")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        message = {"deck": _deck, "png": _png, "karte": _karte}[args.command](args)
    except ExportError as error:
        print(f"エラー: {error}", file=sys.stderr)
        return EXIT_USER
    except ImageExportError as error:
        print(f"エラー: {error}", file=sys.stderr)
        return EXIT_BROWSER
    finally:
        shutdown()
    print(f"{message}（{time.perf_counter() - started:.1f}秒）")
    return 0


if __name__ == "__main__":
    sys.exit(main())
