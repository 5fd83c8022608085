"""The survey template: one row per municipality, dropdowns, metadata, and a filled copy loading back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from loaders import survey
from loaders.build import detect_loader
from loaders.errors import LoaderError
from loaders.questionnaire import load_questionnaire
from loaders.template import FIRST_DATA_ROW, write_template
from loaders.textio import read_excel_sheets

ROOT = Path(__file__).resolve().parent.parent
HYOGO_MUNICIPALITIES = 41  # 兵庫県「市町DX支援パッケージ」: 兵庫県「市町DX支援パッケージ」, 41市町
HOKKAIDO_MUNICIPALITIES = 179  # measured on the real files: 北海道 idx 0–178


@pytest.fixture(scope="module")
def definition():
    return load_questionnaire()


@pytest.fixture(scope="module")
def hyogo(tmp_path_factory, registry, definition):
    return write_template(
        tmp_path_factory.mktemp("template") / "hyogo.xlsx", "兵庫県", "2026-baseline", registry, definition
    )


def answer_columns(sheet) -> dict[str, int]:
    return {cell.value: cell.column for cell in sheet[1] if cell.value}


def test_one_row_per_municipality_of_the_prefecture(hyogo, registry):
    workbook = openpyxl.load_workbook(hyogo)
    sheet = workbook[survey.ANSWER_SHEET]
    codes = [sheet.cell(r, 1).value for r in range(FIRST_DATA_ROW, sheet.max_row + 1)]
    assert len(codes) == HYOGO_MUNICIPALITIES
    expected = registry.municipalities[registry.municipalities.pref_name == "兵庫県"]
    assert codes == sorted(expected.code) and codes[0] == "281000"  # 神戸市, 6 digits as text
    assert {sheet.cell(r, 2).value for r in range(FIRST_DATA_ROW, sheet.max_row + 1)} == {"兵庫県"}
    assert sheet.cell(FIRST_DATA_ROW, 3).value == "神戸市"
    assert sheet.freeze_panes == "D6"  # description rows and the municipality columns stay visible


def test_questions_and_instructions_are_written(hyogo, definition):
    workbook = openpyxl.load_workbook(hyogo)
    assert workbook.sheetnames[0] == survey.INSTRUCTIONS_SHEET and workbook.active.title == survey.INSTRUCTIONS_SHEET
    cover = workbook[survey.INSTRUCTIONS_SHEET]
    cover_text = [str(c.value) for row in cover.iter_rows() for c in row if c.value is not None]
    assert "兵庫県" in cover_text and "2026-baseline" in cover_text and "記入方法" in cover_text
    assert cover["A6"].value == "調査基準日" and cover["B6"].value is None  # left for the prefecture to fill
    assert cover["A7"].value == "提出期限" and cover["B7"].value is None
    sheet = workbook[survey.ANSWER_SHEET]
    columns = answer_columns(sheet)
    for question in definition.questions:
        column = columns[question.id]
        assert sheet.cell(4, column).value == question.text
        assert sheet.cell(3, column).value == question.field
        assert sheet.column_dimensions[openpyxl.utils.get_column_letter(column)].width >= 20
    assert sheet.cell(4, 1).value == "設問" and sheet.row_dimensions[4].height >= 100


def test_dropdowns_and_number_validation(hyogo, definition):
    workbook = openpyxl.load_workbook(hyogo)
    sheet = workbook[survey.ANSWER_SHEET]
    options = workbook[survey.OPTIONS_SHEET]
    assert options.sheet_state == "hidden"
    columns = answer_columns(sheet)
    last = FIRST_DATA_ROW + HYOGO_MUNICIPALITIES - 1
    by_range = {str(v.sqref): v for v in sheet.data_validations.dataValidation}
    for question in definition.questions:
        letter = openpyxl.utils.get_column_letter(columns[question.id])
        validation = by_range.get(f"{letter}{FIRST_DATA_ROW}:{letter}{last}")
        if question.type in ("yesno", "scale", "choice"):
            assert validation is not None and validation.type == "list", question.id
            sheet_ref, cells = validation.formula1.lstrip("=").split("!")
            assert sheet_ref == f"'{survey.OPTIONS_SHEET}'"
            listed = [c.value for row in options[cells.replace("$", "")] for c in row]
            assert listed == [choice.label for choice in question.options()]
        elif question.type == "number":
            assert validation is not None and validation.type == "decimal" and validation.formula1 == "0"
        else:
            assert validation is None


def test_hidden_metadata_and_reopening(hyogo, definition):
    workbook = openpyxl.load_workbook(hyogo)
    meta_sheet = workbook[survey.META_SHEET]
    assert meta_sheet.sheet_state == "veryHidden"
    meta = {row[0]: row[1] for row in meta_sheet.iter_rows(values_only=True)}
    assert meta["format"] == survey.TEMPLATE_MARKER
    assert (
        meta["questionnaire_id"] == definition.id
        and meta["round_id"] == "2026-baseline"
        and meta["prefecture"] == "兵庫県"
    )
    sheets = read_excel_sheets(hyogo)  # the loaders' reader: zip checked, read-only
    assert len(sheets[survey.ANSWER_SHEET]) == FIRST_DATA_ROW - 1 + HYOGO_MUNICIPALITIES


def test_recognised_by_content_not_by_name(hyogo, tmp_path):
    renamed = tmp_path / "返送分.dat"
    renamed.write_bytes(hyogo.read_bytes())
    assert detect_loader(renamed, survey.LOADERS).name == "survey_template"
    other = tmp_path / "other.xlsx"
    openpyxl.Workbook().save(other)
    assert detect_loader(other, survey.LOADERS) is None
    (tmp_path / "random.xlsx").write_bytes(bytes(range(256)) * 100)
    assert detect_loader(tmp_path / "random.xlsx", survey.LOADERS) is None


def fill(path: Path, answers: dict[tuple[str, str], object], reference_date: str | None = None) -> None:
    workbook = openpyxl.load_workbook(path)
    sheet = workbook[survey.ANSWER_SHEET]
    columns = answer_columns(sheet)
    rows = {sheet.cell(r, 1).value: r for r in range(FIRST_DATA_ROW, sheet.max_row + 1)}
    for (code, question_id), value in answers.items():
        sheet.cell(rows[code], columns[question_id], value)
    if reference_date:
        workbook[survey.INSTRUCTIONS_SHEET]["B6"] = reference_date
    workbook.save(path)


def planned_answers(definition, codes: list[str]) -> dict[tuple[str, str], object]:
    """A different, valid answer for every municipality × question, using what the dropdowns offer."""
    answers = {}
    for i, code in enumerate(codes):
        for j, question in enumerate(definition.questions):
            options = question.options()
            if options:
                answers[(code, question.id)] = options[(i + j) % len(options)].label
            elif question.type == "number":
                answers[(code, question.id)] = (i + j) % 15
            elif i % 3 == 0:
                answers[(code, question.id)] = f"自由記入 {code}"
    return answers


def test_filled_template_loads_back_to_the_same_answers(hyogo, tmp_path, load_context, definition, registry):
    filled = tmp_path / "filled.xlsx"
    filled.write_bytes(hyogo.read_bytes())
    codes = sorted(registry.municipalities.loc[registry.municipalities.pref_name == "兵庫県", "code"])
    answers = planned_answers(definition, codes)
    fill(filled, answers, reference_date="2026-05-15")
    loader = detect_loader(filled, survey.LOADERS)
    result = loader.load(filled, load_context)
    frame = result.tables["survey_answers"]
    assert len(frame) == HYOGO_MUNICIPALITIES * len(definition.questions)
    assert set(frame.round_id) == {"2026-baseline"} and not frame.synthetic.any()
    loaded = {(r.code, r.question_id): r.answer for r in frame.itertuples() if isinstance(r.answer, str)}
    assert loaded == {key: str(value) for key, value in answers.items()}
    kobe = frame[frame.code == "281000"].set_index("question_id").value
    assert kobe["S0-GEN-01"] == 1.0  # はい (first option, i + j = 0)
    assert kobe["S0-GEN-02"] == 0.25  # level 1 of 0–4
    assert kobe["S2-GEN-04"] == pytest.approx(answers[("281000", "S2-GEN-04")] / 10)  # people, max 10 earns all points
    assert pd.isna(kobe["S0-TXT-01"])  # free text: NULL value
    assert not result.report.warnings and not result.report.unresolved
    declared = result.tables["survey_round_declarations"]
    assert (declared.round_id == "2026-baseline").all() and declared.reference_date.iloc[0].isoformat() == "2026-05-15"


def test_a_single_municipality_return_is_not_a_warning(hyogo, tmp_path, load_context):
    single = tmp_path / "kobe.xlsx"
    single.write_bytes(hyogo.read_bytes())
    fill(single, {("281000", "S0-GEN-01"): "はい", ("281000", "S2-GEN-04"): 12})
    result = survey.SurveyTemplateLoader().load(single, load_context)
    assert sorted(result.tables["survey_answers"].code.unique()) == ["281000"]
    assert not result.report.warnings
    assert any("1団体分の回答" in issue.message for issue in result.report.issues)


def test_bad_answer_in_template_names_the_cell(hyogo, tmp_path, load_context):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(hyogo.read_bytes())
    fill(bad, {("281000", "S0-GEN-01"): "たぶん"})  # typed past the dropdown (Excel allows pasting)
    with pytest.raises(LoaderError) as err:
        survey.SurveyTemplateLoader().load(bad, load_context)
    assert err.value.row == FIRST_DATA_ROW and err.value.column == 3  # D6
    assert "bad.xlsx" in str(err.value) and "6行目 D列" in str(err.value) and "たぶん" in str(err.value)


def test_template_of_another_questionnaire_is_refused(hyogo, tmp_path, load_context):
    other = tmp_path / "other.xlsx"
    workbook = openpyxl.load_workbook(hyogo)
    meta = workbook[survey.META_SHEET]
    for row in meta.iter_rows():
        if row[0].value == "questionnaire_id":
            row[1].value = "prefecture-2025"
    workbook.save(other)
    with pytest.raises(LoaderError, match="prefecture-2025"):
        survey.SurveyTemplateLoader().load(other, load_context)


def test_prefecture_and_round_are_checked(tmp_path, registry, definition):
    hokkaido = write_template(tmp_path / "hokkaido.xlsx", "北海道", "2026-evaluation", registry, definition)
    assert len(read_excel_sheets(hokkaido)[survey.ANSWER_SHEET]) == FIRST_DATA_ROW - 1 + HOKKAIDO_MUNICIPALITIES
    short = write_template(tmp_path / "hyogo28.xlsx", "28", "2026-baseline", registry, definition)
    assert len(read_excel_sheets(short)[survey.ANSWER_SHEET]) == FIRST_DATA_ROW - 1 + HYOGO_MUNICIPALITIES
    with pytest.raises(LoaderError, match="都道府県「兵庫州」が見つかりません"):
        write_template(tmp_path / "x.xlsx", "兵庫州", "2026-baseline", registry, definition)
    with pytest.raises(LoaderError, match="回の識別子"):
        write_template(tmp_path / "x.xlsx", "兵庫県", "令和8年度 当初", registry, definition)


def test_cli_writes_the_template(tmp_path):
    out = tmp_path / "hyogo_cli.xlsx"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "loaders",
            "template",
            "--prefecture",
            "兵庫県",
            "--round",
            "2026-baseline",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert len(read_excel_sheets(out)[survey.ANSWER_SHEET]) == FIRST_DATA_ROW - 1 + HYOGO_MUNICIPALITIES
