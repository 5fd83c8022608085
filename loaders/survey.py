"""The prefecture's own assessment survey: returned templates, web-form exports, scored sheets.

Three loaders, each recognising its files by content:

- ``SurveyTemplateLoader``: a template written by ``loaders.template`` and filled in (one file for the
  whole prefecture, or one per municipality — rows nobody filled in are simply not returns). The hidden
  sheet ``_meta`` carries the questionnaire id and the round id, so the file name does not matter.
- ``SurveyAnswersLoader``: a wide CSV/Excel export of a web form (or a template pasted into another
  workbook): one row per municipality, one column per question, headed by the question id
  (``S0-GEN-01``), the exact question text, or both (``S0-GEN-01 首長・幹部が…``).
- ``SurveyStageScoresLoader``: an already-scored sheet like 宮城県's (総務省「地域社会DX事例集」): a municipality
  and its STEP0..STEP3 points, optionally ``STEP0満点`` … columns → ``survey_stage_scores`` (score = the points
  as written; the metrics divide by the max points).

Municipalities are identified by a code column (5 or 6 digits, lost leading zeros and 政令市 wards
accepted) or by prefecture + name; without a prefecture column a name shared by several
municipalities is reported as unresolved, never guessed.

The round: a 「回」 column (e.g. ``2026-baseline``), else the template's metadata, else the end of the
file name (``回答_2026-baseline.csv``); otherwise the file is refused with a request for the column.
Its kind follows from the id (``…baseline…`` / ``…eval…`` / other), and so does its Japanese label
(「2026年度 ベースライン（当初）」) unless a 「回の名称」 column gives one. Its date (``held_on``) is the
「調査基準日」 (template cover sheet or column; the latest if files differ), else the latest answer date
(「回答日」, 「タイムスタンプ」, 「完了時刻」…), else unknown.

Several files may belong to one round, so ``survey_rounds`` (one row per round) is written once by
``finalise`` from what each file declared (the ``survey_round_declarations`` table). ``finalise`` also
writes the ``questions`` table and refuses the same municipality in one round from two files.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from loaders import store
from loaders.base import LoadContext, LoadResult
from loaders.errors import Issue, LoaderError, Report, column_letter
from loaders.population import check_name, header_key, parse_japanese_date, xlsx_contains
from loaders.questionnaire import (
    Question,
    QuestionnaireDefinition,
    answer_text,
    is_unanswered,
    load_questionnaire,
    normalise_answer,
    questions_frame,
)
from loaders.registry import Registry
from loaders.textio import check_zip_container, is_zip, normalise_text, parse_cell, read_csv_rows, read_excel_sheets

SOURCE = "prefecture_survey"

# ---- the template format (written by loaders.template, read here)
TEMPLATE_MARKER = "dx-assessment-template"
TEMPLATE_FORMAT_VERSION = "1"
META_SHEET = "_meta"
ANSWER_SHEET = "回答"
INSTRUCTIONS_SHEET = "記入方法"
OPTIONS_SHEET = "選択肢"
# the rows under the template's header that describe each question (their first cell says which)
DESCRIPTION_ROWS = ("段階", "分野", "設問", "回答方法")

# ---- column headers, compared with header_key (NFKC, no spaces, lower-cased)
CODE_HEADERS = (
    "団体コード",
    "市区町村コード",
    "市町村コード",
    "地方公共団体コード",
    "全国地方公共団体コード",
    "自治体コード",
    "code",
    "lgcode",
)
PREF_HEADERS = ("都道府県", "都道府県名")
NAME_HEADERS = ("市区町村名", "市町村名", "市町名", "市区町村", "市町村", "団体名", "自治体名")
ROUND_HEADERS = ("回", "調査回", "回の識別子", "round", "round_id")
ROUND_LABEL_HEADERS = ("回の名称",)
REFERENCE_DATE_HEADERS = ("調査基準日", "基準日", "実施日")
ANSWER_DATE_HEADERS = ("回答日", "回答日時", "提出日", "タイムスタンプ", "完了時刻", "timestamp")
# respondent details and derived columns that are expected in exports and deliberately not read
IGNORED_HEADERS = (
    "記入者（所属・氏名）",
    "記入者",
    "回答者",
    "担当者",
    "所属",
    "氏名",
    "名前",
    "メールアドレス",
    "メール",
    "電子メール",
    "電話番号",
    "備考",
    "id",
    "no",
    "no.",
    "番号",
    "開始時刻",
    "最終変更時刻",
    "支援優先度",
    "支援内容",
    "合計",
    "計",
)
_STAGE_COLUMN = re.compile(r"^(?:step|ステップ|段階)([0-9])$")
_STAGE_MAX_COLUMN = re.compile(r"^(?:step|ステップ|段階)([0-9])(?:の)?(?:満点|最高点|配点|max)$")
_LEADING_ID = re.compile(r"^[a-z0-9_-]+")
_ROUND_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.-]{0,63}$")
_ROUND_IN_FILE_NAME = re.compile(r"(?:^|[_\s])(\d{4}-[A-Za-z][A-Za-z0-9-]*)$")
_ISO_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:$|[\sT])")
SNIFF_MAX_BYTES = 50 * 1024 * 1024
SNIFF_ROWS = 20
MISSING_LIST_LIMIT = 30


def _keys(names) -> set[str]:
    return {header_key(n) for n in names}


_CODE, _PREF, _NAME = _keys(CODE_HEADERS), _keys(PREF_HEADERS), _keys(NAME_HEADERS)
_ROUND, _ROUND_LABEL = _keys(ROUND_HEADERS), _keys(ROUND_LABEL_HEADERS)
_REF_DATE, _ANSWER_DATE, _IGNORED = _keys(REFERENCE_DATE_HEADERS), _keys(ANSWER_DATE_HEADERS), _keys(IGNORED_HEADERS)


# ---------------------------------------------------------------- rounds


def round_kind(round_id: str) -> str:
    key = round_id.lower()
    if "baseline" in key:
        return "baseline"
    if "eval" in key:
        return "evaluation"
    return "other"


def round_label(round_id: str) -> str:
    """A Japanese label for a round id: ``2026-baseline`` → 「2026年度 ベースライン（当初）」."""
    kind = round_kind(round_id)
    year = re.match(r"^(\d{4})-", round_id)
    names = {"baseline": "ベースライン（当初）", "evaluation": "評価（年度末）"}
    if year and kind in names:
        return f"{year.group(1)}年度 {names[kind]}"
    return round_id


def check_round_id(raw: object, file: Path, row: int | None = None, column: int | None = None) -> str:
    text = normalise_text(raw)
    if not _ROUND_ID.match(text):
        raise LoaderError(
            f"回の識別子「{raw}」は半角英数字と - _ . で書いてください（例: 2026-baseline、2026-evaluation）。",
            file=file,
            row=row,
            column=column,
        )
    return text


def round_from_file_name(path: Path) -> str | None:
    found = _ROUND_IN_FILE_NAME.search(path.stem)
    return found.group(1) if found else None


def parse_date(raw: object) -> date | None:
    """A date from an Excel date, ``2026-05-15``, ``2026/05/15 10:23``, 「2026年5月15日」 or 「令和8年5月15日」."""
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = normalise_text(raw)
    if not text:
        return None
    iso = _ISO_DATE.match(text)
    try:
        if iso:
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        return parse_japanese_date(text)
    except ValueError:
        return None


@dataclass
class RoundInfo:
    """What one file says about a round; ``finalise`` merges these into ``survey_rounds``."""

    round_id: str
    label: str | None = None  # from a 「回の名称」 column
    reference_dates: set[date] = field(default_factory=set)
    answer_dates: set[date] = field(default_factory=set)

    def declaration(self, path: Path) -> dict:
        return {
            "round_id": self.round_id,
            "label": self.label,
            "file": Path(path).name,
            "reference_date": max(self.reference_dates) if self.reference_dates else None,
            "answer_date": max(self.answer_dates) if self.answer_dates else None,
        }


# ---------------------------------------------------------------- columns


@dataclass
class Columns:
    code: int | None = None
    pref: int | None = None
    name: int | None = None
    round: int | None = None
    label: int | None = None
    reference_date: int | None = None
    answer_date: int | None = None
    questions: dict[int, Question] = field(default_factory=dict)
    stages: dict[int, int] = field(default_factory=dict)  # column -> stage
    maxima: dict[int, int] = field(default_factory=dict)  # column -> stage
    ignored: list[int] = field(default_factory=list)
    unknown: list[int] = field(default_factory=list)
    blank: list[int] = field(default_factory=list)

    @property
    def identifies(self) -> bool:
        return self.code is not None or self.name is not None


class QuestionIndex:
    """Finds the question a header names: its id, its exact text, or the id followed by the text."""

    def __init__(self, definition: QuestionnaireDefinition):
        self.definition = definition
        self._exact: dict[str, Question] = {}
        self._text_after_id: dict[str, str] = {}
        for question in definition.questions:
            id_key = header_key(question.id)
            self._exact[id_key] = question
            self._exact[header_key(question.text)] = question
            self._text_after_id[id_key] = header_key(question.text)

    def find(self, key: str) -> Question | None:
        if key in self._exact:
            return self._exact[key]
        leading = _LEADING_ID.match(key)
        if leading:
            run = leading.group(0)
            for end in range(len(run), 0, -1):  # the text itself may start with letters (「DX推進…」)
                id_key = run[:end]
                if id_key in self._text_after_id and key[end:].lstrip(":.、_-") == self._text_after_id[id_key]:
                    return self._exact[id_key]
        return None


def classify_columns(
    header: list[object], questions: QuestionIndex | None, path: Path | None = None, row: int = 1, strict: bool = True
) -> Columns:
    """Which column is what; a second identity column of the same kind is an error (which one to trust?).

    ``strict=False`` is for finding the header row: a doubled column keeps the first one, and the
    strict pass over the header found names the file, row and column of the error."""
    columns = Columns()
    single = (
        ("code", _CODE, "団体コード"),
        ("pref", _PREF, "都道府県"),
        ("name", _NAME, "市区町村名"),
        ("round", _ROUND, "回"),
        ("label", _ROUND_LABEL, "回の名称"),
        ("reference_date", _REF_DATE, "調査基準日"),
        ("answer_date", _ANSWER_DATE, "回答日"),
    )
    seen_questions: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = header_key(cell)
        if not key:
            columns.blank.append(index)
            continue
        matched = False
        for attribute, accepted, title in single:
            if key in accepted:
                if getattr(columns, attribute) is None:
                    setattr(columns, attribute, index)
                elif strict:
                    raise LoaderError(
                        f"「{title}」の列が2つあります（{column_letter(getattr(columns, attribute))}列と"
                        f"{column_letter(index)}列）。",
                        file=path,
                        row=row,
                        column=index,
                    )
                matched = True
                break
        if matched:
            continue
        stage = _STAGE_COLUMN.match(key)
        stage_max = _STAGE_MAX_COLUMN.match(key)
        question = questions.find(key) if questions is not None else None
        if question is not None and question.id in seen_questions and not strict:
            continue
        if question is not None:
            if question.id in seen_questions:
                raise LoaderError(
                    f"設問 {question.id} "
                    f"の列が2つあります（{column_letter(seen_questions[question.id])}列と{column_letter(index)}列）。",
                    file=path,
                    row=row,
                    column=index,
                )
            seen_questions[question.id] = index
            columns.questions[index] = question
        elif stage and int(stage.group(1)) <= 3:
            columns.stages[index] = int(stage.group(1))
        elif stage_max and int(stage_max.group(1)) <= 3:
            columns.maxima[index] = int(stage_max.group(1))
        elif key in _IGNORED:
            columns.ignored.append(index)
        else:
            columns.unknown.append(index)
    return columns


def _cell(row: list[object], index: int | None) -> object:
    if index is None or index >= len(row):
        return None
    return row[index]


def _is_blank(value: object) -> bool:
    return answer_text(value) is None


def _head_rows(head: str) -> list[list[str]]:
    lines = head.lstrip("\ufeff").splitlines()[:SNIFF_ROWS]
    try:
        return list(csv.reader(io.StringIO("\n".join(lines))))
    except csv.Error:
        return []


def _xlsx_head_rows(path: Path) -> list[list[list[object]]]:
    """The first rows of every sheet, for sniffing; [] for anything that is not a readable workbook."""
    import openpyxl

    if not is_zip(path) or path.stat().st_size > SNIFF_MAX_BYTES:
        return []
    try:
        with zipfile.ZipFile(path) as archive:
            if "xl/workbook.xml" not in archive.namelist():
                return []
        check_zip_container(path)  # openpyxl reads all shared strings on opening: no bombs
        with open(path, "rb") as handle:  # a handle: openpyxl refuses paths not named .xlsx
            workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
            try:
                return [
                    [list(r) for r in ws.iter_rows(max_row=SNIFF_ROWS, values_only=True)] for ws in workbook.worksheets
                ]
            finally:
                workbook.close()
    except Exception:  # sniffing must never fail: an unreadable file is simply not ours
        return []


def _header_index(rows: list[list[object]], accept) -> int | None:
    for index, row in enumerate(rows[:SNIFF_ROWS]):
        if accept(row):
            return index
    return None


def _definition_or_none() -> QuestionnaireDefinition | None:
    try:
        return load_questionnaire()
    except LoaderError:
        return None


# ---------------------------------------------------------------- municipalities


def prefecture_name(registry: Registry, text: str) -> str | None:
    """「宮城県」, or 「宮城」 without its 都/府/県 (北海道 is written in full)."""
    if registry.prefecture_code(text) is not None:
        return text
    for name in registry.prefectures.name:
        if name[-1] in "都府県" and name[:-1] == text:
            return name
    return None


def _unresolved(report: Report, path: Path, line: int, column: int | None, raw: object, reason: str) -> None:
    report.unresolved.append(
        {
            "file": path.name,
            "row": line,
            "column": column_letter(column) if column is not None else "",
            "name": str(raw),
            "reason": reason,
        }
    )
    report.warn(f"「{raw}」を市区町村に対応付けられません（{reason}）。この行は読み込みません。", path, line, column)


def report_missing(
    report: Report, path: Path, registry: Registry, round_id: str, prefectures: set[str], returned: set[str]
) -> None:
    """Municipalities of the file's prefectures without a return in this round."""
    municipalities = registry.municipalities
    for pref_name in sorted(prefectures, key=lambda p: registry.prefecture_code(p) or p):
        expected = municipalities[municipalities.pref_name == pref_name]
        missing = expected[~expected.code.isin(returned)]
        if missing.empty:
            continue
        names = "、".join(missing.name.head(MISSING_LIST_LIMIT)) + (
            f" ほか{len(missing) - MISSING_LIST_LIMIT}団体" if len(missing) > MISSING_LIST_LIMIT else ""
        )
        answered = len(expected) - len(missing)
        message = (
            f"回「{round_id}」: {pref_name}の{len(expected)}団体のうち{len(missing)}団体の回答がありません: {names}"
        )
        if answered == 1 and len(returned) == 1:
            # one municipality sending back its own copy of the prefecture's template
            report.info(
                f"回「{round_id}」: "
                f"{pref_name}の1団体分の回答として読み込みました（ほかの{len(missing)}団体は別のファイルか未回答です）。",
                path,
            )
        else:
            report.warn(message, path)


# ---------------------------------------------------------------- reading a wide table


@dataclass
class Sheet:
    rows: list[list[object]]
    header_row: int  # 0-based index of the header in rows
    name: str | None = None  # worksheet name, for messages

    @property
    def header(self) -> list[object]:
        return self.rows[self.header_row]


def _is_description_row(row: list[object]) -> bool:
    return normalise_text(_cell(row, 0)) in DESCRIPTION_ROWS and all(_is_blank(v) for v in row[1:3])


class _WideReader:
    """Shared by the three loaders: rows → (code, round) records with their cells, validated."""

    def __init__(
        self, path: Path, ctx: LoadContext, sheet: Sheet, columns: Columns, default_round: str | None, report: Report
    ):
        self.path, self.ctx, self.sheet, self.columns, self.report = path, ctx, sheet, columns, report
        self.default_round = default_round
        self.rounds: dict[str, RoundInfo] = {}
        municipalities = ctx.registry.municipalities
        self.name_of = dict(zip(municipalities.code, municipalities.name))
        self.prefecture_of = dict(zip(municipalities.code, municipalities.pref_name))

    def records(self, has_content) -> list[tuple[int, list[object], str, str]]:
        """(line, row, code, round_id) for every returned row; rows without content are not returns."""
        columns, path = self.columns, self.path
        if columns.round is None and self.default_round is None:
            raise LoaderError(
                "どの回（調査回）の回答か分かりません。「回」列（例: 2026-baseline）を追加するか、"
                "ファイル名の末尾を「_2026-baseline」のようにしてください。",
                file=path,
                row=self.sheet.header_row + 1,
            )
        found: list[tuple[int, list[object], str, str]] = []
        first_line: dict[tuple[str, str], int] = {}
        empty_rows = 0
        for index in range(self.sheet.header_row + 1, len(self.sheet.rows)):
            row, line = self.sheet.rows[index], index + 1
            if all(_is_blank(v) for v in row) or _is_description_row(row):
                continue
            if not has_content(row):
                empty_rows += 1
                continue
            round_id = self._round(row, line)
            code = self.municipality(row, line)
            if code is None:
                continue
            if (code, round_id) in first_line:
                raise LoaderError(
                    f"同じ回「{round_id}」に同じ市区町村（{self.name_of[code]}、{code}）の行が2つあります"
                    f"（{first_line[(code, round_id)]}行目と{line}行目）。どちらかを削除してください。",
                    file=path,
                    row=line,
                    column=columns.code if columns.code is not None else columns.name,
                )
            first_line[(code, round_id)] = line
            self._dates(row, line, round_id)
            found.append((line, row, code, round_id))
        if empty_rows:
            self.report.info(f"回答の入っていない行が {empty_rows} 行あります（未回答として読み込みません）。", path)
        if not found:
            self.report.warn("回答の入った行がありません。", path)
        return found

    def municipality(self, row: list[object], line: int) -> str | None:
        """The municipality code of a row, or None after reporting it as unresolved."""
        columns, registry, path, report = self.columns, self.ctx.registry, self.path, self.report
        if columns.code is not None and not _is_blank(_cell(row, columns.code)):
            raw = _cell(row, columns.code)
            code = registry.code_from_any(normalise_text(answer_text(raw)))
            if code is None or not registry.is_municipality(code):
                _unresolved(report, path, line, columns.code, raw, "登録簿にない団体コード")
                return None
            if columns.name is not None and not _is_blank(_cell(row, columns.name)):
                check_name(
                    report, path, line, columns.name, normalise_text(_cell(row, columns.name)), self.name_of[code], code
                )
            return code
        if columns.name is None or _is_blank(_cell(row, columns.name)):
            _unresolved(
                report,
                path,
                line,
                columns.code if columns.code is not None else columns.name,
                "",
                "団体コードも市区町村名も空欄",
            )
            return None
        name = normalise_text(_cell(row, columns.name))
        pref = normalise_text(_cell(row, columns.pref)) if columns.pref is not None else ""
        if not pref:
            # 「宮城県美里町」: a prefecture written in front of the name identifies it as well as a column would
            for pref_name in registry.prefectures.name:
                if name.startswith(pref_name) and len(name) > len(pref_name):
                    pref, name = pref_name, name[len(pref_name) :]
                    break
        if pref:
            pref_name = prefecture_name(registry, pref)
            if pref_name is None:
                _unresolved(report, path, line, columns.pref, pref, "都道府県名が見つかりません")
                return None
            code = registry.by_pref_and_name(pref_name, name)
            if code is None:
                _unresolved(
                    report, path, line, columns.name, f"{pref_name}{name}", f"{pref_name}に該当する市区町村がありません"
                )
            return code
        codes = registry.codes_for_name(name)
        if len(codes) == 1:
            return codes[0]
        if not codes:
            _unresolved(report, path, line, columns.name, name, "該当する市区町村がありません")
            return None
        prefs = "、".join(self.prefecture_of[c] for c in codes)
        _unresolved(
            report,
            path,
            line,
            columns.name,
            name,
            f"同名の市区町村が{len(codes)}団体（{prefs}）あり、都道府県の列がないため特定できません",
        )
        return None

    def _round(self, row: list[object], line: int) -> str:
        columns = self.columns
        if columns.round is None:
            round_id = self.default_round
        else:
            raw = _cell(row, columns.round)
            if _is_blank(raw):
                if self.default_round is None:
                    raise LoaderError("回（調査回）が空欄です。", file=self.path, row=line, column=columns.round)
                round_id = self.default_round
            else:
                round_id = check_round_id(raw, self.path, line, columns.round)
        info = self.rounds.setdefault(round_id, RoundInfo(round_id))
        if columns.label is not None and not _is_blank(_cell(row, columns.label)):
            label = normalise_text(_cell(row, columns.label))
            if info.label not in (None, label):
                raise LoaderError(
                    f"回「{round_id}」の名称が行によって違います（「{info.label}」と「{label}」）。",
                    file=self.path,
                    row=line,
                    column=columns.label,
                )
            info.label = label
        return round_id

    def _dates(self, row: list[object], line: int, round_id: str) -> None:
        info = self.rounds[round_id]
        columns = self.columns
        if columns.reference_date is not None and not _is_blank(_cell(row, columns.reference_date)):
            raw = _cell(row, columns.reference_date)
            parsed = parse_date(raw)
            if parsed is None:
                raise LoaderError(
                    f"調査基準日「{raw}」を日付として読めません（例: 2026-05-15）。",
                    file=self.path,
                    row=line,
                    column=columns.reference_date,
                )
            info.reference_dates.add(parsed)
        if columns.answer_date is not None and not _is_blank(_cell(row, columns.answer_date)):
            raw = _cell(row, columns.answer_date)
            parsed = parse_date(raw)
            if parsed is None:
                self.report.warn(
                    f"回答日「{raw}」を日付として読めないため、回の日付の計算に使いません。",
                    self.path,
                    line,
                    columns.answer_date,
                )
            else:
                info.answer_dates.add(parsed)

    def report_columns(self, what: str) -> None:
        columns, path, line = self.columns, self.path, self.sheet.header_row + 1
        for index in columns.unknown:
            self.report.warn(
                f"見出し「{normalise_text(self.sheet.header[index])}」は{what}にないため、この列は読み込みません。",
                path,
                line,
                index,
            )
        for index in columns.blank:
            if any(
                not _is_blank(_cell(r, index))
                for r in self.sheet.rows[self.sheet.header_row + 1 :]
                if not _is_description_row(r)
            ):
                self.report.warn("見出しのない列に値があります。この列は読み込みません。", path, line, index)
        if columns.ignored:
            names = "、".join(normalise_text(self.sheet.header[i]) for i in columns.ignored)
            self.report.info(f"回答者の情報などの列（{names}）は読み込みません。", path, line)

    def finish_rounds(self, registry: Registry, records, prefectures: set[str] | None) -> list[dict]:
        by_round: dict[str, set[str]] = {}
        for _, _, code, round_id in records:
            by_round.setdefault(round_id, set()).add(code)
        municipalities = registry.municipalities
        handover = []
        for round_id, codes in sorted(by_round.items()):
            present = (
                prefectures
                if prefectures is not None
                else set(municipalities.loc[municipalities.code.isin(codes), "pref_name"])
            )
            report_missing(self.report, self.path, registry, round_id, present, codes)
            info = self.rounds[round_id]
            if len(info.reference_dates) > 1:
                dates = "、".join(d.isoformat() for d in sorted(info.reference_dates))
                self.report.warn(
                    f"回「{round_id}」の調査基準日が複数あります（{dates}）。最も遅い日を回の日付にします。", self.path
                )
            handover.append(info.declaration(self.path))
            self.report.counts[f"アセスメント回答: {round_id}"] = self.report.counts.get(
                f"アセスメント回答: {round_id}", 0
            ) + len(codes)
        return handover


def _raise_cell_errors(errors: list[Issue], path: Path) -> None:
    if not errors:
        return
    first = errors[0]
    more = f"（ほか {len(errors) - 1} 件）" if len(errors) > 1 else ""
    raise LoaderError(first.message + more, file=path, row=first.row, column=first.column, issues=errors)


def answer_frame(records, columns: Columns, path: Path) -> tuple[pd.DataFrame, list[Issue]]:
    rows, errors = [], []
    for line, row, code, round_id in records:
        for index, question in columns.questions.items():
            raw = _cell(row, index)
            value, error = normalise_answer(question, raw)
            if error:
                errors.append(Issue("error", error, str(path), line, index))
            rows.append(
                {
                    "code": code,
                    "round_id": round_id,
                    "question_id": question.id,
                    "answer": answer_text(raw),
                    "value": value,
                    "file": path.name,
                    "synthetic": False,
                }
            )
    frame = pd.DataFrame(rows, columns=["code", "round_id", "question_id", "answer", "value", "file", "synthetic"])
    frame["value"] = frame["value"].astype("float64")
    return frame, errors


def _sheet_from_file(path: Path, accept) -> Sheet:
    """The first table (CSV, or any worksheet) whose header row ``accept`` recognises."""
    if is_zip(path):
        sheets = read_excel_sheets(path)
        for name, rows in sheets.items():
            index = _header_index(rows, accept)
            if index is not None:
                return Sheet(rows, index, name)
        raise LoaderError(
            "見出し行（団体コードまたは市区町村名と、設問または STEP0〜3 の列）が見つかりません。", file=path
        )
    rows = read_csv_rows(path)
    index = _header_index(rows, accept)
    if index is None:
        raise LoaderError(
            "見出し行（団体コードまたは市区町村名と、設問または STEP0〜3 の列）が見つかりません。", file=path, row=1
        )
    return Sheet(rows, index)


# ---------------------------------------------------------------- loaders


class SurveyTemplateLoader:
    name = "survey_template"
    title = "アセスメント調査票（記入済みテンプレート）"
    source = SOURCE

    def sniff(self, path: Path, head: str) -> bool:
        return not head and xlsx_contains(Path(path), (TEMPLATE_MARKER,))

    def load(self, path: Path, ctx: LoadContext) -> LoadResult:
        path = Path(path)
        report = Report()
        sheets = read_excel_sheets(path)
        meta = self._meta(sheets, path)
        definition = load_questionnaire()
        if meta.get("questionnaire_id") != definition.id:
            raise LoaderError(
                f"この調査票は設問定義「{meta.get('questionnaire_id')}」で作られていますが、現在の設問定義は「{definition.id}」です。"
                "同じ設問定義で作った調査票を使ってください。",
                file=path,
            )
        answer_sheet = meta.get("answer_sheet") or ANSWER_SHEET
        if answer_sheet not in sheets:
            raise LoaderError(f"シート「{answer_sheet}」がありません（シート名を変えないでください）。", file=path)
        rows = sheets[answer_sheet]
        header_row = int(meta["header_row"]) - 1 if meta.get("header_row", "").isdigit() else 0
        if header_row >= len(rows):
            raise LoaderError(
                "回答シートの見出し行がありません。ファイルが途中で切れている可能性があります。", file=path
            )
        sheet = Sheet(rows, header_row, answer_sheet)
        columns = classify_columns(sheet.header, QuestionIndex(definition), path, header_row + 1)
        if columns.code is None:
            raise LoaderError(
                "回答シートに「団体コード」列がありません（A〜C列は変更しないでください）。",
                file=path,
                row=header_row + 1,
            )
        round_id = check_round_id(meta.get("round_id"), path)
        reader = _WideReader(path, ctx, sheet, columns, round_id, report)
        reader.report_columns("設問定義")
        missing_questions = [q.id for q in definition.questions if q not in columns.questions.values()]
        if missing_questions:
            report.warn(
                f"設問の列がありません（未回答として扱います）: {', '.join(missing_questions)}", path, header_row + 1
            )
        records = reader.records(lambda row: any(not is_unanswered(_cell(row, i)) for i in columns.questions))
        reference = self._reference_date(sheets, meta, path)
        if reference is not None:
            reader.rounds.setdefault(round_id, RoundInfo(round_id)).reference_dates.add(reference)
        prefecture = meta.get("prefecture")
        outside = [(line, code) for line, _, code, _ in records if reader.prefecture_of[code] != prefecture]
        for line, code in outside:
            report.warn(
                f"団体コード {code} は調査票の対象（{prefecture}）の市区町村ではありません（読み込みます）。",
                path,
                line,
                columns.code,
            )
        answers, errors = answer_frame(records, columns, path)
        _raise_cell_errors(errors, path)
        handover = reader.finish_rounds(ctx.registry, records, {prefecture} if prefecture else None)
        return LoadResult(
            self.name, SOURCE, {"survey_answers": answers, "survey_round_declarations": pd.DataFrame(handover)}, report
        )

    @staticmethod
    def _meta(sheets: dict[str, list[list[object]]], path: Path) -> dict[str, str]:
        if META_SHEET not in sheets:
            raise LoaderError(
                "調査票の管理情報（非表示シート）が見つかりません。県が配布した調査票をそのまま使ってください。",
                file=path,
            )
        meta = {
            normalise_text(r[0]): normalise_text(r[1]) for r in sheets[META_SHEET] if len(r) >= 2 and r[0] is not None
        }
        if meta.get("format") != TEMPLATE_MARKER or meta.get("format_version") != TEMPLATE_FORMAT_VERSION:
            raise LoaderError("調査票の管理情報の形式が違います（別の版の調査票です）。", file=path)
        return meta

    @staticmethod
    def _reference_date(sheets, meta: dict[str, str], path: Path) -> date | None:
        """The 調査基準日 the prefecture wrote on the cover sheet (the cell named in the metadata)."""
        where = meta.get("reference_date_cell") or ""
        if "!" not in where:
            return None
        sheet_name, cell = where.rsplit("!", 1)
        found = re.match(r"^([A-Z]+)(\d+)$", cell)
        if sheet_name not in sheets or not found:
            return None
        column = 0
        for letter in found.group(1):
            column = column * 26 + ord(letter) - 64
        rows = sheets[sheet_name]
        line = int(found.group(2))
        raw = _cell(rows[line - 1], column - 1) if line <= len(rows) else None
        if _is_blank(raw):
            return None
        parsed = parse_date(raw)
        if parsed is None:
            raise LoaderError(
                f"調査基準日「{raw}」を日付として読めません（例: 2026-05-15）。", file=path, row=line, column=column - 1
            )
        return parsed


class SurveyAnswersLoader:
    name = "survey_answers"
    title = "アセスメント回答（Webフォーム等の書き出し）"
    source = SOURCE

    @staticmethod
    def _accept(questions: QuestionIndex):
        def accept(row: list[object]) -> bool:
            columns = classify_columns(row, questions, strict=False)
            return columns.identifies and bool(columns.questions)

        return accept

    def sniff(self, path: Path, head: str) -> bool:
        definition = _definition_or_none()
        if definition is None:
            return False
        accept = self._accept(QuestionIndex(definition))
        if head:
            return _header_index(_head_rows(head), accept) is not None
        if xlsx_contains(Path(path), (TEMPLATE_MARKER,)):
            return False
        return any(_header_index(rows, accept) is not None for rows in _xlsx_head_rows(Path(path)))

    def load(self, path: Path, ctx: LoadContext) -> LoadResult:
        path = Path(path)
        report = Report()
        definition = load_questionnaire()
        questions = QuestionIndex(definition)
        sheet = _sheet_from_file(path, self._accept(questions))
        columns = classify_columns(sheet.header, questions, path, sheet.header_row + 1)
        reader = _WideReader(path, ctx, sheet, columns, round_from_file_name(path), report)
        reader.report_columns("設問定義")
        missing_questions = [q.id for q in definition.questions if q not in columns.questions.values()]
        if missing_questions:
            report.warn(
                f"設問の列がありません（未回答として扱います）: {', '.join(missing_questions)}",
                path,
                sheet.header_row + 1,
            )
        records = reader.records(lambda row: any(not is_unanswered(_cell(row, i)) for i in columns.questions))
        answers, errors = answer_frame(records, columns, path)
        _raise_cell_errors(errors, path)
        handover = reader.finish_rounds(ctx.registry, records, None)
        return LoadResult(
            self.name, SOURCE, {"survey_answers": answers, "survey_round_declarations": pd.DataFrame(handover)}, report
        )


class SurveyStageScoresLoader:
    name = "survey_stage_scores"
    title = "アセスメント点数表（STEP0〜3）"
    source = SOURCE

    @staticmethod
    def _accept(row: list[object]) -> bool:
        columns = classify_columns(row, None, strict=False)
        return columns.identifies and len(columns.stages) >= 2

    def sniff(self, path: Path, head: str) -> bool:
        if head:
            return _header_index(_head_rows(head), self._accept) is not None
        if xlsx_contains(Path(path), (TEMPLATE_MARKER,)):
            return False
        return any(_header_index(rows, self._accept) is not None for rows in _xlsx_head_rows(Path(path)))

    def load(self, path: Path, ctx: LoadContext) -> LoadResult:
        path = Path(path)
        report = Report()
        sheet = _sheet_from_file(path, self._accept)
        columns = classify_columns(sheet.header, None, path, sheet.header_row + 1)
        stage_columns = {}
        for index, stage in columns.stages.items():
            if stage in stage_columns:
                raise LoaderError(f"STEP{stage} の列が2つあります。", file=path, row=sheet.header_row + 1, column=index)
            stage_columns[stage] = index
        max_columns = {stage: index for index, stage in columns.maxima.items()}
        missing_stages = [s for s in range(4) if s not in stage_columns]
        if missing_stages:
            report.warn(
                f"STEP{'、STEP'.join(map(str, missing_stages))} の列がありません（その段階は点数なしとして扱います）。",
                path,
                sheet.header_row + 1,
            )
        reader = _WideReader(path, ctx, sheet, columns, round_from_file_name(path), report)
        reader.report_columns("点数表の列（STEP0〜3、STEP0満点〜STEP3満点）")
        # a second header row (宮城県's table names each STEP under it) has no numbers: not a return
        records = reader.records(
            lambda row: any(parse_cell(_cell(row, i)).kind == "number" for i in stage_columns.values())
        )
        rows, errors = [], []
        for line, row, code, round_id in records:
            for stage, index in sorted(stage_columns.items()):
                score = self._points(row, index, line, path, errors)
                maximum = self._points(row, max_columns[stage], line, path, errors) if stage in max_columns else None
                if score is not None and maximum is not None and score > maximum:
                    errors.append(
                        Issue(
                            "error",
                            f"STEP{stage} の点数 {score:g} が満点 {maximum:g} を超えています。",
                            str(path),
                            line,
                            index,
                        )
                    )
                rows.append(
                    {
                        "code": code,
                        "round_id": round_id,
                        "stage": stage,
                        "score": score,
                        "max_points": maximum,
                        "file": path.name,
                        "synthetic": False,
                    }
                )
        _raise_cell_errors(errors, path)
        frame = pd.DataFrame(rows, columns=["code", "round_id", "stage", "score", "max_points", "file", "synthetic"])
        frame[["score", "max_points"]] = frame[["score", "max_points"]].astype("float64")
        handover = reader.finish_rounds(ctx.registry, records, None)
        return LoadResult(
            self.name,
            SOURCE,
            {"survey_stage_scores": frame, "survey_round_declarations": pd.DataFrame(handover)},
            report,
        )

    @staticmethod
    def _points(row: list[object], index: int, line: int, path: Path, errors: list[Issue]) -> float | None:
        cell = parse_cell(_cell(row, index))
        if cell.kind == "missing":
            return None
        if cell.kind != "number" or cell.value < 0:
            errors.append(Issue("error", f"点数「{cell.raw}」は0以上の数値にしてください。", str(path), line, index))
            return None
        return cell.value


LOADERS = [SurveyTemplateLoader(), SurveyStageScoresLoader(), SurveyAnswersLoader()]


# ---------------------------------------------------------------- after all files


def finalise(con: duckdb.DuckDBPyConnection) -> None:
    """Questions table, one ``survey_rounds`` row per round, and no municipality twice in a round."""
    duplicated = con.execute(
        """
        SELECT code, round_id, string_agg(DISTINCT file, '」「' ORDER BY file) AS files FROM (
            SELECT code, round_id, question_id AS part, file FROM survey_answers
            UNION ALL SELECT code, round_id, CAST(stage AS VARCHAR), file FROM survey_stage_scores
        ) GROUP BY code, round_id, part HAVING count(*) > 1 ORDER BY code, round_id LIMIT 1
        """
    ).fetchall()
    if duplicated:
        code, round_id, files = duplicated[0]
        raise LoaderError(
            f"回「{round_id}」に団体コード {code} の回答が複数のファイル（「{files}」）にあります。"
            "どちらかのファイルを除いてください。"
        )
    has_answers = con.execute("SELECT count(*) FROM survey_answers").fetchall()[0][0] > 0
    if con.execute("SELECT count(*) FROM questions").fetchall()[0][0] == 0:
        try:
            definition = load_questionnaire()
        except LoaderError:
            if has_answers:
                raise
            definition = None  # no answers to score: the questionnaire is not needed for this database
        if definition is not None:
            store.append(con, "questions", questions_frame(definition))
    _write_rounds(con)


def _write_rounds(con: duckdb.DuckDBPyConnection) -> None:
    declared: dict[str, list[dict]] = {}
    for entry in con.execute("SELECT * FROM survey_round_declarations ORDER BY file").df().to_dict("records"):
        declared.setdefault(entry["round_id"], []).append({k: (None if pd.isna(v) else v) for k, v in entry.items()})
    used = {
        row[0]
        for row in con.execute(
            "SELECT round_id FROM survey_answers UNION SELECT round_id FROM survey_stage_scores"
        ).fetchall()
    }
    existing = {row[0] for row in con.execute("SELECT round_id FROM survey_rounds").fetchall()}
    rows = []
    for round_id in sorted((used | set(declared)) - existing):
        entries = declared.get(round_id, [])
        labels = [e["label"] for e in entries if e.get("label")]
        references = [e["reference_date"] for e in entries if e.get("reference_date")]
        answered = [e["answer_date"] for e in entries if e.get("answer_date")]
        held_on = max(references) if references else (max(answered) if answered else None)
        rows.append(
            {
                "round_id": round_id,
                "label": labels[0] if labels else round_label(round_id),
                "kind": round_kind(round_id),
                "held_on": pd.to_datetime(held_on).date() if held_on else None,
                "synthetic": False,
            }
        )
    store.append(
        con, "survey_rounds", pd.DataFrame(rows, columns=["round_id", "label", "kind", "held_on", "synthetic"])
    )
