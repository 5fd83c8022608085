"""デジタル庁「自治体DX推進状況」: the four wide CSV exports.

Layout shared by all four: col 0 = category, col 1 = indicator label, col 2… = one column per
municipality (1,741, names only, in 団体コード order) or prefecture (47). Rows are matched to
catalog entries (data/indicators/digital_agency.yaml) by their exact category and label; an entry
lists in ``loaded_from`` the sources whose file carries that row.

Choices (see the tests):
- an unknown row is a warning naming the row (its values cannot be stored without a catalog entry);
- a catalog row missing from the file is a warning, not an error: rows are matched by label, so the
  rows present are still read correctly, and the publisher's row sets change between exports (the
  prefecture files already differ from the municipal ones); the warning names the missing label;
- a cell that is not a value of the row's kind (or a missing marker) is a LoaderError;
- 分子/分母 and the rate derived from them are cross-checked; a rate where 分母 = 0 is missing.
"""

from __future__ import annotations

import csv
import functools
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from loaders.base import LoadContext, LoadResult, source_as_of
from loaders.errors import LoaderError, Report, column_letter
from loaders.registry import Registry
from loaders.textio import Cell, parse_cell, read_csv_rows

FIRST_VALUE_COLUMN = 2
# The publisher's category texts (col 0): they tell the 比較 exports from the オンライン申請率 ones.
COMPARISON_CATEGORIES = ("自治体DXの推進体制等", "自治体業務のDX", "住民サービスのDX")
ONLINE_CATEGORY_SUFFIX = "オンライン申請利用状況"
PREFECTURE_NAME_ENDINGS = ("都", "道", "府", "県")  # no municipality name ends with these
# Cell kinds (textio.parse_cell) a row of each catalog kind accepts besides "missing".
ACCEPTED_CELL_KIND = {"binary": "binary", "percent": "percent", "count": "number"}
EXPECTED_TEXT = {"binary": "実施／未実施", "percent": "「75%」のような百分率", "count": "0以上の整数"}


@dataclass(frozen=True)
class Row:
    """One data row of the file matched to its catalog entry."""

    line: int  # 1-based line number
    entry: dict
    cells: list[Cell]  # one per entity column


def _complete_lines(head: str) -> list[str]:
    """The lines of a sniffed prefix that are not cut off at its end."""
    lines = head.splitlines()
    if lines and not head.endswith(("\n", "\r")):
        lines.pop()
    return lines


def _table_signature(head: str) -> tuple[str, str] | None:
    """(table, level) of a Digital Agency export from its first lines, or None."""
    lines = _complete_lines(head)
    if len(lines) < 2:
        return None
    parsed = list(csv.reader(lines[:2]))
    if len(parsed) != 2:  # an unclosed quote joins the two lines into one record
        return None
    header, first = parsed
    if len(header) <= FIRST_VALUE_COLUMN or len(first) != len(header):
        return None
    category = first[0].strip()
    if category in COMPARISON_CATEGORIES:
        table = "comparison"
    elif category.endswith(ONLINE_CATEGORY_SUFFIX):
        table = "online"
    else:
        return None
    names = [name.strip() for name in header[FIRST_VALUE_COLUMN:] if name.strip()]
    if not names:
        return None
    level = "prefecture" if all(name.endswith(PREFECTURE_NAME_ENDINGS) for name in names) else "municipality"
    return table, level


def _round_half_up_percent(numerator: int, denominator: int) -> int:
    """100 × 分子 / 分母 rounded half up, in integers (the publisher's rounding)."""
    return (200 * numerator + denominator) // (2 * denominator)


class DigitalAgencyLoader:
    """One of the four exports; ``table`` and ``level`` say which."""

    def __init__(self, name: str, title: str, source: str, table: str, level: str):
        self.name = name
        self.title = title
        self.source = source
        self.table = table  # "comparison" | "online"
        self.level = level  # "municipality" | "prefecture"

    def sniff(self, path: Path, head: str) -> bool:
        return _table_signature(head) == (self.table, self.level)

    # ------------------------------------------------------------------ load
    def load(self, path: Path, ctx: LoadContext) -> LoadResult:
        path = Path(path)
        report = Report()
        rows = read_csv_rows(path)
        self._check_shape(path, rows, report)
        header = rows[0]
        width = self._entity_width(path, rows)
        names = [name.strip() for name in header[FIRST_VALUE_COLUMN:width]]
        for offset, name in enumerate(names):
            if not name:
                raise LoaderError(
                    "団体名の見出しが空の列があります。", file=path, row=1, column=FIRST_VALUE_COLUMN + offset
                )
        codes = self._resolve(path, names, ctx.registry, report)
        matched = self._match_rows(path, rows[1:], width, ctx.indicators, report)
        values = self._check_rates(path, matched, codes, report)
        frame = self._frame(path, matched, values, codes, ctx)
        report.counts["指標値"] = len(frame)
        report.counts["指標値（欠損）"] = int(frame["value"].isna().sum())
        return LoadResult(loader=self.name, source=self.source, tables={"indicator_values": frame}, report=report)

    @staticmethod
    def _check_shape(path: Path, rows: list[list[str]], report: Report) -> None:
        if len(rows) < 2:
            raise LoaderError("見出し行のほかにデータ行がありません。", file=path)
        width = len(rows[0])
        for index, row in enumerate(rows[1:], start=2):
            if len(row) != width:
                raise LoaderError(
                    f"見出しは{width}列ですが、この行は{len(row)}列です"
                    "（ファイルが途中で切れているか、列がずれています）。",
                    file=path,
                    row=index,
                    column=min(len(row), width),
                )
        with open(path, "rb") as handle:
            handle.seek(-1, 2)
            if handle.read(1) != b"\n":
                # a cut inside the last cell keeps the column count; the missing line end shows it
                report.warn(
                    "ファイルの末尾が改行で終わっていません。途中で切れていないか確認してください。",
                    path,
                    len(rows),
                    len(rows[-1]) - 1,
                )

    @staticmethod
    def _entity_width(path: Path, rows: list[list[str]]) -> int:
        """The column count without trailing columns that are blank in every line (比較: one)."""
        width = len(rows[0])
        while width > FIRST_VALUE_COLUMN and not any(row[width - 1].strip() for row in rows):
            width -= 1
        if width <= FIRST_VALUE_COLUMN:
            raise LoaderError("団体の列がありません。", file=path, row=1, column=FIRST_VALUE_COLUMN)
        return width

    # ------------------------------------------------------------------ columns → codes
    def _resolve(self, path: Path, names: list[str], registry: Registry, report: Report) -> list[str | None]:
        if self.level == "prefecture":
            codes = self._resolve_prefectures(path, names, registry, report)
            expected = set(registry.prefectures.code)
            unit = "都道府県"
        else:
            codes = registry.resolve_columns(names, path, FIRST_VALUE_COLUMN, report)
            codes = self._unguess_duplicates(path, names, codes, registry, report)
            expected = set(registry.municipalities.code)
            unit = "市区町村"
        absent = len(expected - set(codes))
        if absent:
            report.warn(
                f"登録簿の{len(expected)}{unit}のうち{absent}団体の列がありません（その団体の値は欠損になります）。",
                path,
                1,
            )
        return codes

    @staticmethod
    def _resolve_prefectures(path: Path, names: list[str], registry: Registry, report: Report) -> list[str | None]:
        codes: list[str | None] = []
        seen: dict[str, int] = {}
        for offset, name in enumerate(names):
            column = FIRST_VALUE_COLUMN + offset
            code = registry.prefecture_code(name)
            if code is None:
                reason = "該当する都道府県がありません"
                report.unresolved.append({"file": path.name, "column": column, "name": name, "reason": reason})
                report.warn(f"都道府県名「{name}」をコードに対応付けられません（{reason}）。", path, 1, column)
            elif code in seen:
                raise LoaderError(
                    f"都道府県「{name}」の列が2つあります（{column_letter(seen[code])}列と{column_letter(column)}列）。",
                    file=path,
                    row=1,
                    column=column,
                )
            else:
                seen[code] = column
            codes.append(code)
        return codes

    @staticmethod
    def _unguess_duplicates(
        path: Path, names: list[str], codes: list[str | None], registry: Registry, report: Report
    ) -> list[str | None]:
        """Keep a duplicated name's code only when the neighbouring columns force it.

        resolve_columns maps the k-th 池田町 to the k-th registry 池田町, which is right for the full
        export but a guess for a partial file (e.g. one that starts with 福井県's 池田町). Between the
        nearest columns with unique names, a name must have exactly as many registry candidates as
        it has columns; otherwise the column is reported as unresolved instead of guessed.
        """
        anchors = [code is not None and len(registry.codes_for_name(name)) == 1 for name, code in zip(names, codes)]
        result = list(codes)
        lower, start = "", 0  # "" sorts before every code, "999999" after
        for i in range(len(names) + 1):
            if i < len(names) and not anchors[i]:
                continue
            upper = codes[i] if i < len(names) else "999999"
            run = [j for j in range(start, i) if codes[j] is not None]
            occurrences = Counter(names[j] for j in run)
            for j in run:
                candidates = [c for c in registry.codes_for_name(names[j]) if lower < c < upper]
                if len(candidates) != occurrences[names[j]]:
                    reason = (
                        f"同名の市区町村が{len(registry.codes_for_name(names[j]))}団体あり、列の並びから特定できません"
                    )
                    column = FIRST_VALUE_COLUMN + j
                    report.unresolved.append({"file": path.name, "column": column, "name": names[j], "reason": reason})
                    report.warn(f"市区町村名「{names[j]}」をコードに対応付けられません（{reason}）。", path, 1, column)
                    result[j] = None
            if i < len(names):
                lower, start = codes[i], i + 1
        return result

    # ------------------------------------------------------------------ rows → catalog entries
    def _match_rows(
        self, path: Path, data_rows: list[list[str]], width: int, catalog: dict[str, dict], report: Report
    ) -> dict[str, Row]:
        expected = {
            (entry["category"], entry["label"]): entry
            for entry in catalog.values()
            if self.source in (entry.get("loaded_from") or ())
        }
        if not expected:
            raise LoaderError(
                f"指標カタログに出典「{self.source}」の行の定義がありません（data/indicators/digital_agency.yaml）。",
                file=path,
            )
        parse = functools.lru_cache(maxsize=None)(parse_cell)  # the same few texts repeat thousands of times
        matched: dict[str, Row] = {}
        for line, row in enumerate(data_rows, start=2):
            key = (row[0].strip(), row[1].strip())
            entry = expected.get(key)
            if entry is None:
                report.warn(
                    f"想定していない行「{key[0]}／{key[1]}」のため、この行は読み込みませんでした"
                    "（指標カタログに定義がありません）。",
                    path,
                    line,
                    1,
                )
                continue
            if entry["id"] in matched:
                raise LoaderError(
                    f"行「{key[1]}」が2回あります（{matched[entry['id']].line}行目と{line}行目）。",
                    file=path,
                    row=line,
                    column=1,
                )
            cells = [parse(raw) for raw in row[FIRST_VALUE_COLUMN:width]]
            self._check_cells(path, line, entry, cells)
            matched[entry["id"]] = Row(line, entry, cells)
        for (category, label), entry in expected.items():
            if entry["id"] not in matched:
                report.warn(
                    f"「{category}／{label}」の行がありません（指標「{entry['id']}」は読み込まれません）。", path
                )
        return matched

    @staticmethod
    def _check_cells(path: Path, line: int, entry: dict, cells: list[Cell]) -> None:
        accepted = ACCEPTED_CELL_KIND[entry["kind"]]
        for offset, cell in enumerate(cells):
            ok = cell.kind == "missing" or (
                cell.kind == accepted and (entry["kind"] != "count" or (cell.value >= 0 and cell.value.is_integer()))
            )
            if not ok:
                raise LoaderError(
                    f"「{entry['label']}」の値「{cell.raw}」を読み取れません（{EXPECTED_TEXT[entry['kind']]}、"
                    "または空欄・調査無しを想定しています）。",
                    file=path,
                    row=line,
                    column=FIRST_VALUE_COLUMN + offset,
                )

    # ------------------------------------------------------------------ cross-checks
    @staticmethod
    def _check_rates(
        path: Path, matched: dict[str, Row], codes: list[str | None], report: Report
    ) -> dict[str, list[float | None]]:
        """Values per indicator after the structural checks (rate vs 分子/分母, 0–100)."""
        values = {indicator: [cell.value for cell in row.cells] for indicator, row in matched.items()}
        for indicator, row in matched.items():
            if row.entry["kind"] != "percent":
                continue
            for offset, value in enumerate(values[indicator]):
                if value is not None and not 0 <= value <= 100:
                    report.warn(
                        f"「{row.entry['label']}」が0〜100%の範囲外です（{row.cells[offset].raw}）。",
                        path,
                        row.line,
                        FIRST_VALUE_COLUMN + offset,
                    )
        for indicator, row in matched.items():
            numerator, denominator = matched.get(row.entry.get("numerator")), matched.get(row.entry.get("denominator"))
            if numerator is None or denominator is None:
                continue
            rates = values[indicator]
            for offset, (rate, num, den) in enumerate(
                zip(rates, values[numerator.entry["id"]], values[denominator.entry["id"]])
            ):
                column = FIRST_VALUE_COLUMN + offset
                if num is None or den is None:
                    continue
                if num > den:
                    report.warn(
                        f"分子（{int(num)}）が分母（{int(den)}）より大きくなっています。", path, numerator.line, column
                    )
                elif den == 0:
                    if rate is not None:
                        report.warn(
                            f"分母が0なのに率「{row.cells[offset].raw}」があります。欠損として扱います。",
                            path,
                            row.line,
                            column,
                        )
                        rates[offset] = None
                elif rate is None:
                    report.warn(f"分母が{int(den)}なのに率が空欄です。", path, row.line, column)
                elif rate != _round_half_up_percent(int(num), int(den)):
                    report.warn(
                        f"率「{row.cells[offset].raw}」が分子/分母（{int(num)}/{int(den)}）と一致しません。",
                        path,
                        row.line,
                        column,
                    )
        return values

    # ------------------------------------------------------------------ output
    def _frame(
        self,
        path: Path,
        matched: dict[str, Row],
        values: dict[str, list[float | None]],
        codes: list[str | None],
        ctx: LoadContext,
    ) -> pd.DataFrame:
        declared = source_as_of(ctx, self.source)
        try:
            as_of = date.fromisoformat(declared) if declared else None
        except ValueError as exc:
            raise LoaderError(f"調査時点「{declared}」が日付ではありません（{exc}）。", file=path) from exc
        kept = [(offset, code) for offset, code in enumerate(codes) if code is not None]
        records = {"code": [], "indicator_id": [], "value": [], "raw": []}
        for indicator, row in matched.items():
            for offset, code in kept:
                records["code"].append(code)
                records["indicator_id"].append(indicator)
                records["value"].append(values[indicator][offset])
                records["raw"].append(row.cells[offset].raw)
        frame = pd.DataFrame(
            {
                "code": pd.array(records["code"], dtype="string"),
                "indicator_id": pd.array(records["indicator_id"], dtype="string"),
                "value": pd.array(records["value"], dtype="Float64"),
                "raw": pd.array(records["raw"], dtype="string"),
            }
        )
        return frame.assign(source=self.source, as_of=as_of, file=path.name, synthetic=False)


LOADERS = [
    DigitalAgencyLoader(
        "digital_agency_municipal",
        "デジタル庁 自治体DX推進状況（市区町村比較）",
        "digital_agency_municipal",
        "comparison",
        "municipality",
    ),
    DigitalAgencyLoader(
        "digital_agency_municipal_online",
        "デジタル庁 自治体DX推進状況（市区町村 行政手続のオンライン申請率）",
        "digital_agency_municipal_online",
        "online",
        "municipality",
    ),
    DigitalAgencyLoader(
        "digital_agency_prefecture",
        "デジタル庁 自治体DX推進状況（都道府県比較）",
        "digital_agency_prefecture",
        "comparison",
        "prefecture",
    ),
    DigitalAgencyLoader(
        "digital_agency_prefecture_online",
        "デジタル庁 自治体DX推進状況（都道府県 行政手続のオンライン申請率）",
        "digital_agency_prefecture_online",
        "online",
        "prefecture",
    ),
]
