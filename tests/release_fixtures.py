"""A later release of デジタル庁's 市区町村比較 file: a copy of the real one with some answers changed,
loaded beside the real file with a later 調査時点, for the change-since-the-previous-release tests."""

from __future__ import annotations

import csv
from pathlib import Path

MUNICIPAL_FILE = "市区町村毎のDX進捗状況_市区町村比較.csv"
LATER_AS_OF = "2026-12-01"
# (municipality, indicator row title) → the later release's cell. 神戸市 and 明石市 improve (a binary
# turns 実施 and a rate rises), 姫路市 regresses (its CIO is no longer appointed).
CHANGES = {
    ("神戸市", "全体方針策定"): "実施",
    ("神戸市", "マイナンバーカードの保有状況"): "80%",
    ("明石市", "外部人材活用"): "実施",
    ("明石市", "AIの導入状況"): "実施",
    ("姫路市", "CIOの任命"): "未実施",
    ("姫路市", "全庁的な体制構築"): "未実施",
}


def write_later_release(shared_data: Path, folder: Path) -> Path:
    """The real 市区町村比較 file with CHANGES applied, written (UTF-8 with BOM, as published) into ``folder``."""
    rows = list(csv.reader((shared_data / "digital-agency" / MUNICIPAL_FILE).open(encoding="utf-8-sig", newline="")))
    header = rows[0]
    for (name, title), cell in CHANGES.items():
        column = header.index(name)
        row = next(r for r in rows if r[1].strip() == title)
        row[column] = cell
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / MUNICIPAL_FILE
    with target.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(rows)
    return target


def original_cells(shared_data: Path) -> dict[tuple[str, str], str]:
    """The real file's cells that CHANGES replaces."""
    rows = list(csv.reader((shared_data / "digital-agency" / MUNICIPAL_FILE).open(encoding="utf-8-sig", newline="")))
    header = rows[0]
    return {
        (name, title): next(r for r in rows if r[1].strip() == title)[header.index(name)] for name, title in CHANGES
    }
