"""デジタル庁「地方公共団体におけるオープンデータの取組に関するアンケート」回答一覧 (CSV).

One row per prefecture or municipality (1,788 bodies). The code columns lost their leading zeros
(北海道 = ``1000``): they are zero-padded, the 6-digit code's check digit is verified and both codes
must agree. The indicators and their answer → value mappings are catalog entries
(data/indicators/opendata.yaml: ``header`` or ``question`` finds the column, ``answers`` maps the text).
"""

from __future__ import annotations

from pathlib import Path

from loaders.base import LoadContext, LoadResult, source_as_of
from loaders.errors import LoaderError, Report
from loaders.population import check_name, csv_header_cells, header_key, indicator_frame, report_missing, unresolved
from loaders.registry import is_valid_code6
from loaders.textio import data_rows, normalise_text, read_csv_rows

SOURCE = "opendata_survey"
CODE5_HEADER = "地方公共団体コード"
CODE6_HEADER = "地方公共団体コード6桁"
NAME_HEADERS = ("都道府県名または市町村名", "都道府県名または市区町村名")


def find_indicator_column(entry: dict, header: list[str], path: Path) -> int | None:
    """The column an indicator reads: an exact header (``header``) or a part of the question text (``question``)."""
    if entry.get("header"):
        accepted = {header_key(h) for h in entry["header"]}
        found = [i for i, h in enumerate(header) if h in accepted]
    else:
        part = header_key(entry["question"])
        found = [i for i, h in enumerate(header) if part in h]
    if len(found) > 1:
        raise LoaderError(
            f"指標 {entry['id']} の列が複数あります（見出しで区別できません）。", file=path, row=1, column=found[1]
        )
    return found[0] if found else None


def padded_code(raw: str, width: int) -> str | None:
    text = normalise_text(raw)
    if text.endswith(".0"):  # a code column once saved as numbers by Excel
        text = text[:-2]
    return text.zfill(width) if text.isdigit() and len(text) <= width else None


class OpenDataSurveyLoader:
    name = "opendata_survey"
    title = "オープンデータの取組に関するアンケート（デジタル庁）"
    source = SOURCE

    def sniff(self, path: Path, head: str) -> bool:
        cells = csv_header_cells(head)
        return header_key(CODE6_HEADER) in cells and any("オープンデータ" in cell for cell in cells)

    def load(self, path: Path, ctx: LoadContext) -> LoadResult:
        path = Path(path)
        report = Report()
        rows = read_csv_rows(path)
        header = [header_key(cell) for cell in rows[0]]
        if header_key(CODE6_HEADER) not in header:
            raise LoaderError(f"見出し行に「{CODE6_HEADER}」列がありません。", file=path, row=1)
        code6_col = header.index(header_key(CODE6_HEADER))
        code5_col = header.index(header_key(CODE5_HEADER)) if header_key(CODE5_HEADER) in header else None
        name_col = next((header.index(header_key(h)) for h in NAME_HEADERS if header_key(h) in header), None)

        indicators: dict[str, tuple[int, dict[str, float | None]]] = {}
        for indicator, entry in ctx.indicators.items():
            if entry["source"] != SOURCE:
                continue
            column = find_indicator_column(entry, header, path)
            if column is None:
                report.warn(f"指標 {indicator}（{entry['title']}）の列が見つからないため読み込みません。", path, 1)
                continue
            answers = {header_key(text): value for text, value in (entry.get("answers") or {}).items()}
            indicators[indicator] = (column, answers)
        if not indicators:
            raise LoaderError("オープンデータアンケートの設問の列が一つも見つかりません。", file=path, row=1)

        registry = ctx.registry
        municipality_names = dict(zip(registry.municipalities.code, registry.municipalities.name))
        prefecture_names = dict(zip(registry.prefectures.code, registry.prefectures.name))
        known = set(municipality_names) | set(prefecture_names)
        as_of = source_as_of(ctx, SOURCE)
        records: list[dict] = []
        seen: dict[str, int] = {}
        tallies: dict[str, dict[str, int]] = {indicator: {} for indicator in indicators}
        unexpected: dict[tuple[str, str], list[int]] = {}

        for line, row in data_rows(rows, path):
            code = self._code(row, line, code5_col, code6_col, path, report, known)
            if code is None:
                continue
            if code in seen:
                raise LoaderError(
                    f"団体コード {code} が重複しています（{seen[code]}行目と同じ）。",
                    file=path,
                    row=line,
                    column=code6_col,
                )
            seen[code] = line
            if name_col is not None:
                registry_name = municipality_names.get(code) or prefecture_names[code]
                check_name(report, path, line, name_col, row[name_col], registry_name, code)
            for indicator, (column, answers) in indicators.items():
                raw = row[column]
                key = header_key(raw)
                label = raw.strip() or "空欄"
                tallies[indicator][label] = tallies[indicator].get(label, 0) + 1
                if not key:
                    value = None
                elif key in answers:
                    value = answers[key]
                else:
                    value = None
                    unexpected.setdefault((indicator, normalise_text(raw)), []).append(line)
                records.append({"code": code, "indicator_id": indicator, "value": value, "raw": raw, "as_of": as_of})

        for (indicator, answer), lines in unexpected.items():
            report.warn(
                f"指標 {indicator} に想定外の回答「{answer}」が {len(lines)} 件あります（欠測として読み込み、"
                "回答の文字は残しました）。",
                path,
                lines[0],
                indicators[indicator][0],
            )
        for indicator, tally in tallies.items():
            counts = "、".join(
                f"{answer} {count}" for answer, count in sorted(tally.items(), key=lambda item: -item[1])
            )
            report.info(f"{indicator}: {counts}", path)
        municipalities = {c for c in seen if c in municipality_names}
        missing_prefectures = sorted(set(prefecture_names) - set(seen))
        if missing_prefectures:
            report.warn(
                f"回答の行のない都道府県が {len(missing_prefectures)} あります: "
                f"{'、'.join(prefecture_names[c] for c in missing_prefectures)}",
                path,
            )
        report_missing(report, path, registry, municipalities, "回答の行")
        report.counts[f"{self.title}: 市区町村"] = len(municipalities)
        report.counts[f"{self.title}: 都道府県"] = len(seen) - len(municipalities)
        frame = indicator_frame(records, SOURCE, path)
        return LoadResult(self.name, SOURCE, {"indicator_values": frame}, report)

    @staticmethod
    def _code(
        row: list[str], line: int, code5_col: int | None, code6_col: int, path: Path, report: Report, known: set[str]
    ) -> str | None:
        """The registry code of the row (municipality or prefecture), or None after reporting why not."""
        code6 = padded_code(row[code6_col], 6)
        if code6 is None:
            unresolved(report, path, line, code6_col, row[code6_col], "6桁の団体コードとして読めません")
            return None
        if not is_valid_code6(code6):
            unresolved(report, path, line, code6_col, row[code6_col], f"{code6} の検査数字（6桁目）が一致しません")
            return None
        if code5_col is not None and padded_code(row[code5_col], 5) != code6[:5]:
            unresolved(
                report, path, line, code5_col, row[code5_col], f"5桁の団体コードが6桁のコード {code6} と一致しません"
            )
            return None
        if code6 not in known:
            unresolved(report, path, line, code6_col, row[code6_col], "登録簿にない団体コード")
            return None
        return code6


LOADERS = [OpenDataSurveyLoader()]
