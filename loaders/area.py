"""Area: 国土地理院「全国都道府県市区町村別面積調」as a ``code,area`` CSV (5-digit 団体コード, km²).

Besides the 1,741 municipalities and 47 prefectures the file lists 政令市 wards, 郡/振興局 subtotals
and the 北方領土 villages; those are counted in the report and not stored (a ward's area is part of
its city's row).
"""

from __future__ import annotations

from pathlib import Path

from loaders.base import LoadContext, LoadResult, source_as_of
from loaders.errors import Report
from loaders.population import (
    MUNICIPALITY,
    PREFECTURE,
    coded_rows_to_values,
    csv_header_cells,
    indicator_frame,
    read_code5_csv,
    report_categories,
    report_missing,
)
from loaders.registry import code6_from_code5


class GsiAreaLoader:
    name = "gsi_area"
    title = "市区町村別面積（国土地理院）"
    source = "gsi_area"

    def sniff(self, path: Path, head: str) -> bool:
        return {"code", "area"} <= csv_header_cells(head)

    def load(self, path: Path, ctx: LoadContext) -> LoadResult:
        path = Path(path)
        report = Report()
        rows = read_code5_csv(path, ctx, self.source, report, required="area_km2")
        for row in rows:
            cell = row.cells["area_km2"]
            if row.category not in (MUNICIPALITY, PREFECTURE):
                continue
            if cell.value is None:
                report.warn(f"面積が空欄または「{cell.raw}」です。", path, row.line)
            elif cell.value <= 0:
                report.warn(
                    f"面積が {cell.raw} km² です（正の値ではありません）。人口密度には使いません。", path, row.line
                )
        records, counts = coded_rows_to_values(rows, source_as_of(ctx, self.source))
        seen = {code6_from_code5(r.code5) for r in rows if r.category == MUNICIPALITY}
        report_missing(report, path, ctx.registry, seen, "面積の行")
        report_categories(report, path, self.title, counts)
        frame = indicator_frame(records, self.source, path)
        return LoadResult(self.name, self.source, {"indicator_values": frame}, report)


LOADERS = [GsiAreaLoader()]
