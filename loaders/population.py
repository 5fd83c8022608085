"""Population: 総務省「住民基本台帳に基づく人口、人口動態及び世帯数」(Excel) and 国勢調査 2025 速報 (CSV).

Both files list far more than the 1,741 municipalities (national total, prefectures, 郡 subtotals,
政令市 wards, 北方領土 …). Rows are classified by their 団体コード, never by position; only
municipality and prefecture rows become indicator values, every other category is counted in the
report, and the municipalities are checked against the file's own totals.

The 5-digit-code CSV helpers here are shared with ``loaders.area`` (same code conventions).
"""

from __future__ import annotations

import csv
import html
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from loaders.base import LoadContext, LoadResult, source_as_of
from loaders.errors import LoaderError, Report
from loaders.registry import Registry, code6_from_code5, is_valid_code6
from loaders.textio import (
    BROKEN_ZIP_ERRORS,
    Cell,
    data_rows,
    is_zip,
    normalise_text,
    parse_cell,
    read_csv_rows,
    read_excel_sheets,
)

# ---------------------------------------------------------------- code categories

NATIONAL = "全国"
PREFECTURE = "都道府県"
MUNICIPALITY = "市区町村"
WARD = "政令市の区"
WARD_TOTAL = "区部の集計（特別区部など）"
NORTHERN_TERRITORIES = "北方領土の村"
DISTRICT = "郡・振興局などの小計"
UNKNOWN = "登録簿にない団体コード"

# 北方領土の6村 have 団体コード but are not among the 1,741 municipalities.
NORTHERN_TERRITORY_CODES = {"01695", "01696", "01697", "01698", "01699", "01700"}


def classify_code5(code5: str, registry: Registry) -> str:
    """What a 5-digit 団体コード denotes, by the structure of the code (JIS X 0402)."""
    if code5 == "00000":
        return NATIONAL
    if code5.endswith("000"):
        return PREFECTURE if code5[:2] in registry.prefectures.pref_code.values else UNKNOWN
    if registry.is_municipality(code6_from_code5(code5)):
        return MUNICIPALITY
    if code5 in NORTHERN_TERRITORY_CODES:
        return NORTHERN_TERRITORIES
    # city codes 1xx belong to 政令市 and their wards; xx100 that is no municipality is 特別区部 (13100)
    if code5[2] == "1":
        return WARD_TOTAL if code5.endswith("00") else WARD
    # town/village codes ending in 0 are 郡 (and Hokkaido 振興局) subtotals, never municipalities
    if code5[2] in "34567" and code5.endswith("0"):
        return DISTRICT
    return UNKNOWN


def store_code(code5: str, category: str) -> str | None:
    """The 6-digit code a value is stored under: the registry's municipality or prefecture code."""
    # a prefecture's code is xx000 plus its check digit, like a municipality's
    return code6_from_code5(code5) if category in (MUNICIPALITY, PREFECTURE) else None


def header_key(text: object) -> str:
    """Header cells compared loosely: NFKC, no spaces, ASCII lower-cased."""
    return re.sub(r"\s+", "", normalise_text(text)).lower()


def name_differs(file_name: str, registry_name: str) -> str | None:
    """None when the file's name ends with the registry's (郡 prefixes allowed); 'variant' for a one-character
    difference of the same length (異体字 such as 須惠町/須恵町); 'different' otherwise."""
    file_name, registry_name = normalise_text(file_name), normalise_text(registry_name)
    if file_name.endswith(registry_name):
        return None
    tail = file_name[-len(registry_name) :]
    if len(tail) == len(registry_name) and sum(a != b for a, b in zip(tail, registry_name)) == 1:
        return "variant"
    return "different"


def check_name(
    report: Report, file: Path, row: int, column: int, file_name: str, registry_name: str, code: str
) -> None:
    """Codes decide; a name that disagrees with the registry is reported (異体字 as info)."""
    difference = name_differs(file_name, registry_name)
    if difference is None:
        return
    message = (
        f"団体コード {code} の名称がファイルでは「{file_name}」、登録簿では「{registry_name}」です。"
        "団体コードで対応付けました。"
    )
    if difference == "variant":
        report.info(message + "（字体の違い）", file, row, column)
    else:
        report.warn(message, file, row, column)


def report_missing(report: Report, file: Path, registry: Registry, seen: set[str], what: str) -> None:
    missing = registry.municipalities[~registry.municipalities.code.isin(seen)]
    if missing.empty:
        return
    names = [f"{p}{n}（{c}）" for p, n, c in zip(missing.pref_name, missing.name, missing.code)]
    sample = "、".join(names[:10]) + (" ほか" if len(names) > 10 else "")
    report.warn(f"{what}のない市区町村が {len(missing)} 団体あります: {sample}", file)


def report_categories(report: Report, file: Path, title: str, counts: dict[str, int]) -> None:
    for category, count in counts.items():
        report.counts[f"{title}: {category}"] = report.counts.get(f"{title}: {category}", 0) + count
    kept = {k: v for k, v in counts.items() if k in (MUNICIPALITY, PREFECTURE)}
    skipped = {k: v for k, v in counts.items() if k not in kept}
    text = "、".join(f"{k} {v}" for k, v in kept.items())
    if skipped:
        text += "。読み込まなかった行: " + "、".join(f"{k} {v}" for k, v in skipped.items())
    report.info(f"{title}: {text}。", file)


def unresolved(report: Report, file: Path, row: int, column: int | str, raw: str, reason: str) -> None:
    report.unresolved.append({"file": file.name, "row": row, "column": column, "name": raw, "reason": reason})
    report.warn(
        f"団体コード「{raw}」を市区町村・都道府県に対応付けられません（{reason}）。この行は読み込みません。",
        file,
        row,
        column,
    )


# No population, household count or area comes near this; the store casts populations to BIGINT (< 9.2e18).
MAX_NUMBER = 1e15


def number_cell(raw: object, file: Path, row: int, column: int) -> Cell:
    """A numeric cell: a number, or a missing marker (blank, -, ***) kept as raw text; anything else is an error."""
    cell = parse_cell(raw)
    if cell.kind == "number" and abs(cell.value) >= MAX_NUMBER:
        raise LoaderError(
            f"値「{cell.raw}」が大きすぎます（人口・世帯数・面積としてありえない桁数です）。",
            file=file,
            row=row,
            column=column,
        )
    if cell.kind in ("number", "missing"):
        return cell
    raise LoaderError(f"数値ではない値「{cell.raw}」があります。", file=file, row=row, column=column)


def indicator_frame(records: list[dict], source: str, file: Path) -> pd.DataFrame:
    frame = pd.DataFrame(records, columns=["code", "indicator_id", "value", "raw", "as_of"])
    frame["value"] = frame["value"].astype("float64")
    frame["as_of"] = pd.to_datetime(frame["as_of"]).dt.date
    return frame.assign(source=source, file=file.name)


def check_totals(
    report: Report,
    path: Path,
    registry: Registry,
    national_label: str,
    national_total: float | None,
    municipal: dict[str, float],
    prefectures: dict[str, float],
) -> None:
    """The municipalities must add up to the file's national total and to each prefecture's row."""
    total = sum(municipal.values())
    if national_total is None:
        report.warn(f"{national_label}がないため、全国合計との照合をしていません。", path)
    elif total != national_total:
        report.warn(
            f"市区町村の人口の合計 {total:,.0f} 人が{national_label}の {national_total:,.0f} 人と一致しません。", path
        )
    by_pref: dict[str, float] = {}
    for code, value in municipal.items():
        by_pref[code[:2]] = by_pref.get(code[:2], 0) + value
    pref_names = dict(zip(registry.prefectures.pref_code, registry.prefectures.name))
    for pref_code, value in prefectures.items():
        if by_pref.get(pref_code, 0) != value:
            report.warn(
                f"{pref_names[pref_code]}の市区町村の人口の合計 {by_pref.get(pref_code, 0):,.0f} "
                f"人が都道府県の行の {value:,.0f} 人と一致しません。",
                path,
            )


def catalog_columns(ctx: LoadContext, source: str) -> dict[str, list[str]]:
    """indicator id -> the header texts (catalog key ``header``) that identify its column."""
    return {
        i: [header_key(h) for h in e["header"]]
        for i, e in ctx.indicators.items()
        if e["source"] == source and e.get("header")
    }


# ---------------------------------------------------------------- 5-digit-code CSVs (census, area)


@dataclass
class CodedRow:
    line: int  # 1-based line as a spreadsheet shows it
    code5: str
    category: str
    cells: dict[str, Cell]  # indicator id -> value


def parse_code5(raw: str) -> str | None:
    """A 5-digit code from the cell; lost leading zeros restored; a 6-digit code must carry a valid check digit."""
    text = normalise_text(raw)
    if text.endswith(".0"):
        text = text[:-2]
    if not text.isdigit():
        return None
    if len(text) <= 5:
        return text.zfill(5)
    if len(text) == 6 and is_valid_code6(text):
        return text[:5]
    return None


def read_code5_csv(path: Path, ctx: LoadContext, source: str, report: Report, required: str) -> list[CodedRow]:
    """Rows of a ``code,<value columns>`` CSV, classified and typed; bad structure raises LoaderError."""
    rows = read_csv_rows(path)
    header = [header_key(cell) for cell in rows[0]]
    if "code" not in header:
        raise LoaderError("見出し行に「code」列がありません。", file=path, row=1)
    code_col = header.index("code")
    columns: dict[str, int] = {}
    for indicator, names in catalog_columns(ctx, source).items():
        found = [i for i, h in enumerate(header) if h in names]
        if found:
            columns[indicator] = found[0]
        elif indicator == required:
            raise LoaderError(f"見出し行に「{'」または「'.join(names)}」列がありません。", file=path, row=1)
        else:
            report.warn(f"「{'」「'.join(names)}」列がないため、指標 {indicator} は読み込みません。", path, 1)
    result: list[CodedRow] = []
    seen: dict[str, int] = {}
    for line, row in data_rows(rows, path):
        code5 = parse_code5(row[code_col])
        if code5 is None:
            unresolved(report, path, line, code_col, row[code_col], "5桁の団体コードとして読めません")
            continue
        if code5 in seen:
            raise LoaderError(
                f"団体コード {code5} が重複しています（{seen[code5]}行目と同じ）。",
                file=path,
                row=line,
                column=code_col,
            )
        seen[code5] = line
        category = classify_code5(code5, ctx.registry)
        if category == UNKNOWN:
            unresolved(report, path, line, code_col, row[code_col], "登録簿にない団体コード")
            continue
        cells = {indicator: number_cell(row[col], path, line, col) for indicator, col in columns.items()}
        result.append(CodedRow(line, code5, category, cells))
    return result


def coded_rows_to_values(rows: list[CodedRow], as_of: str) -> tuple[list[dict], dict[str, int]]:
    """Indicator records for municipality and prefecture rows, and the count of rows per category."""
    records, counts = [], {}
    for row in rows:
        counts[row.category] = counts.get(row.category, 0) + 1
        code = store_code(row.code5, row.category)
        if code is None:
            continue
        for indicator, cell in row.cells.items():
            records.append(
                {"code": code, "indicator_id": indicator, "value": cell.value, "raw": cell.raw, "as_of": as_of}
            )
    return records, counts


def csv_header_cells(head: str) -> set[str]:
    """The header cells of a CSV from its decoded prefix, for sniffing."""
    lines = head.lstrip("\ufeff").splitlines()
    if not lines:
        return set()
    try:
        return {header_key(cell) for cell in next(csv.reader([lines[0]]), [])}
    except csv.Error:
        return set()


# ---------------------------------------------------------------- Japanese dates

ERA_OFFSETS = {"令和": 2018, "平成": 1988, "昭和": 1925}
_WAREKI = re.compile(r"(令和|平成|昭和)\s*(元|\d+)\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_WESTERN = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_MOVEMENT_YEAR = re.compile(
    r"(令和|平成|昭和)\s*(元|\d+)\s*年\s*[（(]\s*1\s*月\s*1\s*日から同年\s*12\s*月\s*31\s*日まで"
)


def era_year(era: str, year: str) -> int:
    return ERA_OFFSETS[era] + (1 if year == "元" else int(year))


def parse_japanese_date(text: str) -> date | None:
    """The first date in a text: 和暦 (令和元年 included, full-width digits allowed) or 西暦 YYYY年M月D日."""
    text = unicodedata.normalize("NFKC", text)
    match = _WAREKI.search(text)
    if match:
        era, year, month, day = match.groups()
        return date(era_year(era, year), int(month), int(day))
    match = _WESTERN.search(text)
    if match:
        return date(*(int(g) for g in match.groups()))
    return None


# ---------------------------------------------------------------- 住民基本台帳人口 (Excel)

JUKI_SNIFF = ("住民基本台帳", "団体コード", "世帯数")
SNIFF_READ_LIMIT = 1024 * 1024  # per archive member: the title and headers are near the start


def xlsx_contains(path: Path, needles: tuple[str, ...]) -> bool:
    """True when the workbook's strings contain every needle (shared strings, else inline strings,
    which some writers store as XML character references)."""
    if not is_zip(path):
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            names = [
                n for n in archive.namelist() if n == "xl/sharedStrings.xml" or n.startswith("xl/worksheets/sheet")
            ]
            text = ""
            for name in names:
                with archive.open(name) as member:
                    text += html.unescape(member.read(SNIFF_READ_LIMIT).decode("utf-8", errors="ignore"))
                if all(needle in text for needle in needles):
                    return True
    except BROKEN_ZIP_ERRORS:
        return False
    return False


@dataclass
class JukiLayout:
    sheet: str
    header_row: int  # 0-based index of the row holding 団体コード
    code_col: int
    pref_col: int
    name_col: int
    columns: dict[str, int]  # indicator id -> column
    title: str


def find_juki_layout(sheets: dict[str, list[list[object]]], ctx: LoadContext, path: Path, report: Report) -> JukiLayout:
    """Locate the header by its content (団体コード / 都道府県名 / 市区町村名) and the value columns by the
    header cells above it (e.g. 人口 + 計), wherever the sheet puts them."""
    wanted = catalog_columns(ctx, "juki_population")
    for sheet, rows in sheets.items():
        for index, row in enumerate(rows[:50]):
            keys = [header_key(cell) for cell in row]
            if not {"団体コード", "都道府県名", "市区町村名"} <= set(keys):
                continue
            # the header block: contiguous rows above with at least two filled cells (the title has one)
            top = index
            while top > 0 and sum(1 for c in rows[top - 1] if normalise_text(c)) >= 2:
                top -= 1
            labels = [
                {header_key(r[col]) for r in rows[top : index + 1] if col < len(r) and normalise_text(r[col])}
                for col in range(max(len(r) for r in rows[top : index + 1]))
            ]
            columns = {}
            for indicator, needles in wanted.items():
                found = [col for col, cell_labels in enumerate(labels) if set(needles) <= cell_labels]
                if len(found) > 1:
                    raise LoaderError(
                        f"指標 {indicator} の列（見出し「{'・'.join(needles)}」）が複数あります。",
                        file=path,
                        row=index + 1,
                        column=found[1],
                    )
                if found:
                    columns[indicator] = found[0]
                elif indicator == "population_juki":
                    raise LoaderError("見出しに「人口」「計」の列がありません。", file=path, row=index + 1)
                else:
                    report.warn(
                        f"見出し「{'・'.join(needles)}」の列がないため、指標 {indicator} は読み込みません。",
                        path,
                        index + 1,
                    )
            title = next((normalise_text(c) for r in rows[:top] for c in r if "住民基本台帳" in normalise_text(c)), "")
            return JukiLayout(
                sheet,
                index,
                keys.index("団体コード"),
                keys.index("都道府県名"),
                keys.index("市区町村名"),
                columns,
                title,
            )
    raise LoaderError(
        "「団体コード」「都道府県名」「市区町村名」の見出し行が見つかりません（住民基本台帳人口の表ではありません）。",
        file=path,
    )


def juki_dates(title: str, ctx: LoadContext, path: Path, report: Report) -> tuple[str | None, str | None]:
    """(as-of of population/households, as-of of the movements) from the title; the movements cover the
    calendar year named in the title, so they are dated on its 31 December."""
    if ctx.as_of:
        return ctx.as_of, ctx.as_of
    population_date = parse_japanese_date(title)
    if population_date is None:
        report.warn(
            "表題から調査時点（令和X年1月1日）を読み取れないため、調査時点は「不明」として読み込みます"
            "（python -m loaders build --as-of ファイル名=YYYY-MM-DD で指定できます）。",
            path,
            1,
        )
        return None, None
    movement = _MOVEMENT_YEAR.search(unicodedata.normalize("NFKC", title))
    movement_date = date(era_year(*movement.groups()), 12, 31) if movement else population_date
    return population_date.isoformat(), movement_date.isoformat()


def juki_code6(raw: object) -> str | None:
    """The 6-digit code from the cell; a number that lost its leading zero is padded back."""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        text = str(int(raw))
    else:
        text = normalise_text(raw)
    if not text.isdigit() or len(text) > 6:
        return None
    return text.zfill(6)


class JukiPopulationLoader:
    name = "juki_population"
    title = "住民基本台帳人口・世帯数（総務省）"
    source = "juki_population"
    movement_indicators = ("population_change_rate_juki", "natural_change_rate_juki", "social_change_rate_juki")

    def sniff(self, path: Path, head: str) -> bool:
        return not head and xlsx_contains(path, JUKI_SNIFF)

    def load(self, path: Path, ctx: LoadContext) -> LoadResult:
        path = Path(path)
        report = Report()
        sheets = read_excel_sheets(path)
        layout = find_juki_layout(sheets, ctx, path, report)
        rows = sheets[layout.sheet]
        population_as_of, movement_as_of = juki_dates(layout.title, ctx, path, report)
        registry = ctx.registry
        names = dict(zip(registry.municipalities.code, registry.municipalities.name))
        pref_names = dict(zip(registry.municipalities.code, registry.municipalities.pref_name))
        pop_col = layout.columns["population_juki"]
        width = max(layout.code_col, layout.pref_col, layout.name_col, *layout.columns.values()) + 1

        records: list[dict] = []
        counts: dict[str, int] = {}
        seen: dict[str, int] = {}
        national_total: float | None = None
        municipal_population: dict[str, float] = {}
        prefecture_population: dict[str, float] = {}

        def count(category: str) -> None:
            counts[category] = counts.get(category, 0) + 1

        for index in range(layout.header_row + 1, len(rows)):
            row = list(rows[index]) + [None] * max(0, width - len(rows[index]))
            line = index + 1
            code_raw, pref_raw, name_raw = (
                row[layout.code_col],
                normalise_text(row[layout.pref_col]),
                normalise_text(row[layout.name_col]),
            )
            if not any(normalise_text(c) for c in row):
                continue
            if pref_raw == "合計":
                count("合計行")
                national_total = number_cell(row[pop_col], path, line, pop_col).value
                continue
            code6 = juki_code6(code_raw)
            if code6 is None:
                if not pref_raw and not name_raw:
                    count("注記")  # footnotes below the table
                    continue
                unresolved(
                    report, path, line, layout.code_col, normalise_text(code_raw), "6桁の団体コードとして読めません"
                )
                continue
            if not is_valid_code6(code6):
                unresolved(report, path, line, layout.code_col, code6, "検査数字（6桁目）が一致しません")
                continue
            if code6 in seen:
                raise LoaderError(
                    f"団体コード {code6} が重複しています（{seen[code6]}行目と同じ）。",
                    file=path,
                    row=line,
                    column=layout.code_col,
                )
            seen[code6] = line
            category = classify_code5(code6[:5], registry)
            cells = {indicator: number_cell(row[col], path, line, col) for indicator, col in layout.columns.items()}
            if category == DISTRICT and name_raw == "島しょ":
                category = "東京都「島しょ」の小計"
            elif category == WARD and (cells["population_juki"].kind == "missing" or "再編前" in name_raw):
                category = "再編前の区（値 ***）"
            count(category)
            if category == UNKNOWN:
                unresolved(report, path, line, layout.code_col, code6, "登録簿にない団体コード")
                continue
            code = store_code(code6[:5], category)
            if code is None:
                continue
            if category == MUNICIPALITY:
                check_name(report, path, line, layout.name_col, name_raw, names[code], code)
                if pref_raw != pref_names[code]:
                    report.warn(
                        f"団体コード {code} の都道府県名が「{pref_raw}」です（登録簿では「{pref_names[code]}」）。",
                        path,
                        line,
                        layout.pref_col,
                    )
            population = cells["population_juki"]
            if population.value is None:
                report.warn(f"{name_raw or code} の人口が空欄または「{population.raw}」です。", path, line, pop_col)
            elif category == MUNICIPALITY:
                municipal_population[code] = population.value
            else:
                prefecture_population[code[:2]] = population.value
            for indicator, cell in cells.items():
                as_of = movement_as_of if indicator in self.movement_indicators else population_as_of
                records.append(
                    {"code": code, "indicator_id": indicator, "value": cell.value, "raw": cell.raw, "as_of": as_of}
                )

        check_totals(report, path, registry, "「合計」行", national_total, municipal_population, prefecture_population)
        report_missing(report, path, registry, set(seen), "人口の行")
        report_categories(report, path, self.title, counts)
        frame = indicator_frame(records, self.source, path)
        return LoadResult(
            self.name,
            self.source,
            {"indicator_values": frame},
            report,
            as_of_from_file=not ctx.as_of and parse_japanese_date(layout.title) is not None,
        )


# ---------------------------------------------------------------- 国勢調査 2025 速報 (CSV)


class CensusPopulationLoader:
    name = "census_2025"
    title = "国勢調査 人口速報集計（総務省統計局）"
    source = "census_2025"

    def sniff(self, path: Path, head: str) -> bool:
        return {"code", "totalpop"} <= csv_header_cells(head)

    def load(self, path: Path, ctx: LoadContext) -> LoadResult:
        path = Path(path)
        report = Report()
        rows = read_code5_csv(path, ctx, self.source, report, required="population_census")
        records, counts = coded_rows_to_values(rows, source_as_of(ctx, self.source))
        national = [r.cells["population_census"].value for r in rows if r.category == NATIONAL]
        municipal, prefectures = {}, {}
        for row in rows:
            cell = row.cells["population_census"]
            if row.category in (MUNICIPALITY, PREFECTURE) and cell.value is None:
                report.warn(f"人口が空欄または「{cell.raw}」です。", path, row.line)
            elif row.category == MUNICIPALITY:
                municipal[code6_from_code5(row.code5)] = cell.value
            elif row.category == PREFECTURE:
                prefectures[row.code5[:2]] = cell.value
        check_totals(
            report, path, ctx.registry, "全国（00000）の行", national[0] if national else None, municipal, prefectures
        )
        seen = {code6_from_code5(r.code5) for r in rows if r.category == MUNICIPALITY}
        report_missing(report, path, ctx.registry, seen, "人口の行")
        report_categories(report, path, self.title, counts)
        frame = indicator_frame(records, self.source, path)
        return LoadResult(self.name, self.source, {"indicator_values": frame}, report)


LOADERS = [JukiPopulationLoader(), CensusPopulationLoader()]
