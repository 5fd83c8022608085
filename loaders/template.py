"""The assessment survey as an Excel workbook a prefecture mails to its municipalities.

Layout: ONE ROW PER MUNICIPALITY on a single answer sheet (「回答」), every municipality of the
prefecture prefilled (code, prefecture, name), one column per question. Chosen over one sheet per
municipality because:

- the returns come back in the very shape of a web-form export (row = municipality, column = question),
  so one loader (loaders/survey.py) reads both, and the prefecture can merge returns by copy-pasting
  rows into one file — or load the individual files as they are;
- the prefecture reads the whole prefecture at a glance, sorts and filters with Excel's own tools,
  and a question keeps the same column for every municipality;
- a single respondent is not worse off: their row is already filled with their code and name, the
  question texts stay visible (frozen header rows, wrapped text) and every answer is a dropdown.

Sheets: 「記入方法」 (cover: the prefecture, the round, blank 調査基準日 / 提出期限 / 提出先, how to
answer, the points per stage × field), 「回答」 (header row 1 = the question ids, rows 2–5 describe each
question, municipalities from row 6), 「選択肢」 (hidden: the dropdown lists) and 「_meta」 (very hidden:
format marker, questionnaire id, round id, prefecture) by which the loader recognises a returned file
whatever its name.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from loaders.errors import LoaderError
from loaders.questionnaire import SCALE_MAX, QuestionnaireDefinition
from loaders.registry import Registry
from loaders.survey import (
    ANSWER_SHEET,
    DESCRIPTION_ROWS,
    INSTRUCTIONS_SHEET,
    META_SHEET,
    OPTIONS_SHEET,
    TEMPLATE_FORMAT_VERSION,
    TEMPLATE_MARKER,
    check_round_id,
    round_label,
)
from store.safety import neutralise_formula

FIXED_HEADERS = ("団体コード", "都道府県", "市区町村名")
TRAILING_HEADERS = ("記入者（所属・氏名）", "回答日")
HEADER_ROW = 1
FIRST_DATA_ROW = HEADER_ROW + len(DESCRIPTION_ROWS) + 1
REFERENCE_DATE_CELL = "B6"
EXCEL_DATE_2000 = "36526"  # serial number of 2000-01-01: the earliest date the validation accepts

_THIN = Side(style="thin", color="A6A6A6")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_FIXED_FILL = PatternFill("solid", fgColor="EDEDED")
_INPUT_FILL = PatternFill("solid", fgColor="FFF9E5")
# one colour per stage, so a question's stage is visible in its header
_STAGE_FILLS = [PatternFill("solid", fgColor=c) for c in ("FCE4D6", "E2EFDA", "DDEBF7", "EDE1F5")]
_BOLD = Font(bold=True)
_WRAP_TOP = Alignment(wrap_text=True, vertical="top")


def municipalities_of(registry: Registry, prefecture: str):
    """The prefecture's municipalities in code order; the name may omit 都/道/府/県 or be its 2-digit code."""
    prefectures = registry.prefectures
    text = str(prefecture).strip()
    match = prefectures[
        (prefectures.name == text) | (prefectures.pref_code == text.zfill(2)) | (prefectures.name.str[:-1] == text)
    ]
    if len(match) != 1:
        raise LoaderError(f"都道府県「{prefecture}」が見つかりません（例: 兵庫県）。")
    name = match.name.iloc[0]
    municipalities = registry.municipalities
    return name, municipalities[municipalities.pref_name == name].sort_values("code")


def write_template(
    path: str | Path, prefecture_name: str, round_id: str, registry: Registry, definition: QuestionnaireDefinition
) -> Path:
    """Write the survey workbook for one prefecture and round; returns the path written."""
    path = Path(path)
    round_id = check_round_id(round_id, path)
    prefecture, municipalities = municipalities_of(registry, prefecture_name)
    workbook = Workbook()
    cover = workbook.active
    cover.title = INSTRUCTIONS_SHEET
    answers = workbook.create_sheet(ANSWER_SHEET)
    options = workbook.create_sheet(OPTIONS_SHEET)
    meta = workbook.create_sheet(META_SHEET)

    _write_cover(cover, definition, prefecture, round_id, len(municipalities))
    option_ranges = _write_options(options, definition)
    _write_answers(answers, definition, municipalities, option_ranges)
    for key, value in (
        ("format", TEMPLATE_MARKER),
        ("format_version", TEMPLATE_FORMAT_VERSION),
        ("questionnaire_id", definition.id),
        ("questionnaire_title", definition.title),
        ("round_id", round_id),
        ("prefecture", prefecture),
        ("answer_sheet", ANSWER_SHEET),
        ("header_row", str(HEADER_ROW)),
        ("reference_date_cell", f"{INSTRUCTIONS_SHEET}!{REFERENCE_DATE_CELL}"),
        ("generated_at", datetime.now().isoformat(timespec="seconds")),
    ):
        meta.append([key, value])
    options.sheet_state = "hidden"
    meta.sheet_state = "veryHidden"
    workbook.active = 0
    _neutralise_cells(workbook)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def _neutralise_cells(workbook: Workbook) -> None:
    """Every text written from the registry or the questionnaire file as text, never a formula (the
    same rule as store.writer): openpyxl makes any string starting with ``=`` a live formula."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.value = neutralise_formula(cell.value)


def _write_cover(sheet, definition: QuestionnaireDefinition, prefecture: str, round_id: str, count: int) -> None:
    sheet["A1"] = f"{definition.title}　記入用シート"
    sheet["A1"].font = Font(bold=True, size=14)
    rows = [
        ("都道府県", prefecture),
        ("回（識別子）", round_id),
        ("回の名称", round_label(round_id)),
        ("調査基準日", None),
        ("提出期限", None),
        ("提出先", None),
        ("設問", f"{definition.title}（{definition.id}）{len(definition.questions)}問"),
        ("対象", f"{prefecture}内の{count}市区町村（「{ANSWER_SHEET}」シートに記入済み）"),
    ]
    for offset, (label, value) in enumerate(rows, start=3):
        sheet.cell(offset, 1, label).font = _BOLD
        cell = sheet.cell(offset, 2, value)
        cell.border = _BORDER
        if value is None:
            cell.fill = _INPUT_FILL  # the prefecture fills these in before mailing the file
    sheet[REFERENCE_DATE_CELL].number_format = "yyyy-mm-dd"
    sheet["B7"].number_format = "yyyy-mm-dd"
    dates = DataValidation(
        type="date",
        operator="greaterThanOrEqual",
        formula1=EXCEL_DATE_2000,
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="日付",
        error="日付（例: 2026-05-15）を入力してください。",
    )
    sheet.add_data_validation(dates)
    dates.add(f"{REFERENCE_DATE_CELL}:B7")

    steps = [
        f"1. 「{ANSWER_SHEET}」シートの自団体の行に回答を入力してください。"
        "団体コード・都道府県・市区町村名は記入済みです。",
        "2. 選択式の設問は、セルを選ぶと表示される▼から選んでください。数値の設問は数字だけを入力してください。",
        "3. 分からない設問は空欄のままで構いません。空欄は未回答として集計し、その設問の得点は0点になります。",
        f"4. 1行目（設問ID）と2〜{FIRST_DATA_ROW - 1}行目（設問の説明）、A〜C列（団体）は変更しないでください。"
        "県で自動集計します。",
        "5. 自由記入の設問には配点がありません。取組や課題、県に期待する支援を自由にお書きください。",
        "6. 記入後は、このファイルのまま（Excel形式で）返送してください。ファイル名は変えて構いません。",
        "7. 県で複数の市区町村の回答をまとめるときは、各ファイルの行をこのシートに貼り付けるか、"
        "ファイルをそのまま取り込めます。",
    ]
    line = 3 + len(rows) + 1
    sheet.cell(line, 1, "記入方法").font = Font(bold=True, size=12)
    for step in steps:
        line += 1
        sheet.cell(line, 1, step)
    line += 2
    sheet.cell(line, 1, "回答の種類").font = Font(bold=True, size=12)
    for label, explanation in (
        ("はい／いいえ", "「はい」か「いいえ」を選択します。はい＝配点のすべて、いいえ＝0点です。"),
        ("5段階", f"0〜{SCALE_MAX} の段階を選択します。段階の数÷{SCALE_MAX}の割合で配点を得ます。"),
        ("選択", "選択肢から1つ選びます。選択肢ごとに配点に対する割合が決まっています。"),
        ("数値", "0以上の数値を入力します。設問ごとの満点の値以上で配点のすべてを得ます。"),
        ("自由記入", "文章で記入します。採点しません。"),
    ):
        line += 1
        sheet.cell(line, 1, label).font = _BOLD
        sheet.cell(line, 2, explanation)
    line += 2
    sheet.cell(line, 1, "段階・分野ごとの配点（自由記入を除く）").font = Font(bold=True, size=12)
    line += 1
    points: dict[tuple[int, str], float] = defaultdict(float)
    for question in definition.questions:
        points[(question.stage, question.field)] += question.points
    header = ["段階＼分野", *definition.fields, "計"]
    for column, text in enumerate(header, start=1):
        cell = sheet.cell(line, column, text)
        cell.font, cell.fill, cell.border = _BOLD, _HEADER_FILL, _BORDER
    for stage, name in definition.stages.items():
        line += 1
        values = [points[(stage, f)] for f in definition.fields]
        for column, value in enumerate([f"{stage} {name}", *values, sum(values)], start=1):
            sheet.cell(line, column, value).border = _BORDER
    sheet.column_dimensions["A"].width = 24
    sheet.column_dimensions["B"].width = 40
    for letter in "CDEF":
        sheet.column_dimensions[letter].width = 14


def _write_options(sheet, definition: QuestionnaireDefinition) -> dict[str, str]:
    """One column of dropdown entries per question with options; returns question id → range formula."""
    ranges: dict[str, str] = {}
    column = 0
    for question in definition.questions:
        labels = [choice.label for choice in question.options()]
        if not labels:
            continue
        column += 1
        letter = get_column_letter(column)
        sheet.cell(1, column, question.id)
        for row, label in enumerate(labels, start=2):
            sheet.cell(row, column, label)
        ranges[question.id] = f"'{OPTIONS_SHEET}'!${letter}$2:${letter}${len(labels) + 1}"
    return ranges


def _write_answers(sheet, definition: QuestionnaireDefinition, municipalities, option_ranges: dict[str, str]) -> None:
    questions = list(definition.questions)
    first_question = len(FIXED_HEADERS) + 1
    headers = [*FIXED_HEADERS, *(q.id for q in questions), *TRAILING_HEADERS]
    last_row = FIRST_DATA_ROW + len(municipalities) - 1
    for column, text in enumerate(headers, start=1):
        cell = sheet.cell(HEADER_ROW, column, text)
        cell.font, cell.fill, cell.border = _BOLD, _HEADER_FILL, _BORDER
    for offset, label in enumerate(DESCRIPTION_ROWS, start=HEADER_ROW + 1):
        cell = sheet.cell(offset, 1, label)
        cell.font, cell.fill = _BOLD, _HEADER_FILL
    for column, question in enumerate(questions, start=first_question):
        fill = _STAGE_FILLS[question.stage % len(_STAGE_FILLS)]
        points = "配点なし" if question.type == "text" else f"配点 {question.points:g}"
        described = (
            f"{question.stage} {definition.stage_name(question.stage)}",
            question.field,
            question.text,
            f"{question.answer_help()}（{points}）",
        )
        for offset, text in enumerate(described, start=HEADER_ROW + 1):
            cell = sheet.cell(offset, column, text)
            cell.fill, cell.alignment, cell.border = fill, _WRAP_TOP, _BORDER
        letter = get_column_letter(column)
        sheet.column_dimensions[letter].width = 40 if question.type == "text" else 22
        if question.id in option_ranges:
            validation = DataValidation(
                type="list",
                formula1=f"={option_ranges[question.id]}",
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="選択肢にない回答",
                error="▼の一覧から選んでください。",
                promptTitle=question.id,
                prompt=question.answer_help()[:255],
                showInputMessage=True,
            )
        elif question.type == "number":
            validation = DataValidation(
                type="decimal",
                operator="greaterThanOrEqual",
                formula1="0",
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="数値",
                error="0以上の数値を入力してください。",
                promptTitle=question.id,
                prompt=question.answer_help(),
                showInputMessage=True,
            )
        else:
            validation = None
        if validation is not None:
            sheet.add_data_validation(validation)
            validation.add(f"{letter}{FIRST_DATA_ROW}:{letter}{last_row}")
    for row, municipality in enumerate(municipalities.itertuples(), start=FIRST_DATA_ROW):
        for column, value in enumerate((municipality.code, municipality.pref_name, municipality.name), start=1):
            cell = sheet.cell(row, column, value)
            cell.fill, cell.border = _FIXED_FILL, _BORDER
        for column in range(first_question, len(headers) + 1):
            cell = sheet.cell(row, column)
            cell.border = _BORDER
            if column >= first_question + len(questions):
                continue
            if questions[column - first_question].type == "text":
                cell.alignment = _WRAP_TOP
    date_column = get_column_letter(len(headers))
    respondent_column = get_column_letter(len(headers) - 1)
    dates = DataValidation(
        type="date",
        operator="greaterThanOrEqual",
        formula1=EXCEL_DATE_2000,
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="日付",
        error="日付（例: 2026-05-15）を入力してください。",
    )
    sheet.add_data_validation(dates)
    dates.add(f"{date_column}{FIRST_DATA_ROW}:{date_column}{last_row}")
    for row in range(FIRST_DATA_ROW, last_row + 1):
        sheet[f"{date_column}{row}"].number_format = "yyyy-mm-dd"
    sheet.column_dimensions["A"].width = 11
    sheet.column_dimensions["B"].width = 10
    sheet.column_dimensions["C"].width = 14
    sheet.column_dimensions[respondent_column].width = 24
    sheet.column_dimensions[date_column].width = 12
    sheet.row_dimensions[HEADER_ROW + 3].height = 120  # the question texts, wrapped
    sheet.row_dimensions[HEADER_ROW + 4].height = 60
    sheet.freeze_panes = sheet.cell(FIRST_DATA_ROW, first_question).coordinate
