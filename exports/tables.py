"""A view's table as the files a committee paper needs: Excel (formatted, with a 「説明」 sheet of
title, scope, source, as-of and the commentary) and CSV (UTF-8 with BOM) — both through the one
writer of exported files (store.writer), so formula-like text is neutralised as on the pages."""

from __future__ import annotations

from store.writer import csv_bytes, excel_bytes
from views.render import ViewResult

SHEET_NAME_LIMIT = 31  # Excel's limit on a sheet name


def view_notes(result: ViewResult) -> list[tuple[str, str]]:
    return [
        ("表", result.title),
        ("対象", result.subtitle),
        ("出典", result.source),
        ("時点", result.as_of),
        ("解説", "".join(result.commentary)),
    ]


def view_excel(result: ViewResult) -> bytes:
    """The view's table on its own sheet (named after the view type) with the notes sheet first."""
    if result.table is None:
        raise ValueError(f"ビュー「{result.title}」には表がありません。")
    return excel_bytes({result.id[:SHEET_NAME_LIMIT]: result.table}, view_notes(result))


def view_csv(result: ViewResult) -> bytes:
    if result.table is None:
        raise ValueError(f"ビュー「{result.title}」には表がありません。")
    return csv_bytes(result.table)
