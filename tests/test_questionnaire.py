"""The questionnaire definition: the committed file, validation errors that name the place, answers."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from loaders import store
from loaders.errors import LoaderError
from loaders.questionnaire import (
    SCALE_MAX,
    load_questionnaire,
    normalise_answer,
    parse_questionnaire,
    questions_frame,
)

# 和歌山県's assessment sheet
SEED_STAGES = ["認識共有・機運醸成", "全体方針の決定", "推進体制の整備", "DXの取組の実行"]
SEED_FIELDS = ["DX全般", "情報システム", "BPR", "データ利活用"]


@pytest.fixture(scope="module")
def definition():
    return load_questionnaire()


def test_committed_definition_is_the_seed_grid(definition):
    assert list(definition.stages.values()) == SEED_STAGES
    assert list(definition.fields) == SEED_FIELDS
    assert 40 <= len(definition.questions) <= 48
    assert len({q.id for q in definition.questions}) == len(definition.questions)
    assert {q.type for q in definition.questions} == {"yesno", "scale", "choice", "number", "text"}
    for stage in range(4):
        texts = [q for q in definition.questions if q.stage == stage and q.type == "text"]
        assert len(texts) == 1 and texts[0].points == 0  # one 自由記入 per stage, not scored
        for field in SEED_FIELDS:
            scorable = [
                q for q in definition.questions if q.stage == stage and q.field == field and q.scorable and q.points > 0
            ]
            assert len(scorable) >= 2, (stage, field)
    staff = [q for q in definition.questions if q.type == "number" and "担当職員数" in q.text]
    assert staff and staff[0].max > 0 and staff[0].unit == "人"
    assert all(len(q.levels) == SCALE_MAX + 1 for q in definition.questions if q.type == "scale")


def test_questions_frame_fits_the_store(definition):
    frame = questions_frame(definition)
    con = duckdb.connect()
    store.create_schema(con)
    store.append(con, "questions", frame)
    assert con.execute("SELECT count(*), count(DISTINCT id) FROM questions").fetchall() == [
        (len(definition.questions),) * 2
    ]
    rows = dict(con.execute("SELECT id, choices FROM questions").fetchall())
    yes_no = json.loads(rows["S0-GEN-01"])
    assert yes_no == [{"label": "はい", "value": 1.0}, {"label": "いいえ", "value": 0.0}]
    assert len(json.loads(rows["S0-GEN-02"])) == SCALE_MAX + 1
    assert json.loads(rows["S2-GEN-04"]) == {"max": 10.0, "unit": "人"}
    assert rows["S0-TXT-01"] is None


# ---------------------------------------------------------------- validation errors name the place

HEADER = """id: test
title: テスト
stages:
  - {stage: 0, name: 認識共有・機運醸成}
  - {stage: 1, name: 全体方針の決定}
  - {stage: 2, name: 推進体制の整備}
  - {stage: 3, name: DXの取組の実行}
fields: [A, B]
maturity_thresholds: [50, 50, 50, 50]
questions:
"""
FIRST_QUESTION_LINE = HEADER.count("\n") + 1


def grid_lines() -> list[str]:
    """One yesno question per stage × field: Q00 (stage 0, A), Q01 (0, B), Q10 (1, A) …"""
    return [
        f"  - {{id: Q{s}{f}, stage: {s}, field: {'AB'[f]}, text: 設問{s}{f}, type: yesno, points: 1}}"
        for s in range(4)
        for f in range(2)
    ]


def write_definition(tmp_path: Path, lines: list[str], header: str = HEADER) -> Path:
    path = tmp_path / "q.yaml"
    path.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_minimal_grid_is_valid(tmp_path):
    definition = parse_questionnaire(write_definition(tmp_path, grid_lines()))
    assert [q.line for q in definition.questions] == list(range(FIRST_QUESTION_LINE, FIRST_QUESTION_LINE + 8))


@pytest.mark.parametrize(
    "position, replace, expected",
    [
        (3, ("type: yesno", "type: radio"), "回答の種類（type）「radio」"),
        (3, ("stage: 1", "stage: 4"), "段階（stage）「4」は 0〜3"),
        (3, ("field: B", "field: C"), "分野（field）「C」は fields に定義されていません"),
        (3, ("type: yesno", "type: choice"), "2つ以上の選択肢（choices）が必要"),
        (3, ("points: 1", "points: -2"), "配点（points）「-2」は0以上"),
        (3, ("type: yesno", "type: number"), "max"),
        (3, ("points: 1", "point: 1"), "不明な項目 point"),
        (3, ("type: yesno, points: 1", "type: text, points: 2"), "配点は 0 にしてください"),
        (3, ("type: yesno", "type: yesno, levels: [a, b, c, d, e]"), "levels"),
    ],
)
def test_question_errors_name_file_line_and_id(tmp_path, position, replace, expected):
    lines = grid_lines()
    assert replace[0] in lines[position]
    lines[position] = lines[position].replace(*replace)
    with pytest.raises(LoaderError) as err:
        parse_questionnaire(write_definition(tmp_path, lines))
    message = str(err.value)
    assert expected in message
    assert "q.yaml" in message and f"{FIRST_QUESTION_LINE + position}行目" in message and "Q11" in message


def test_duplicate_id_names_both_lines(tmp_path):
    lines = grid_lines()
    lines.append(lines[0].replace("設問00", "重複"))
    with pytest.raises(LoaderError) as err:
        parse_questionnaire(write_definition(tmp_path, lines))
    assert "Q00" in str(err.value) and "重複" in str(err.value)
    assert err.value.row == FIRST_QUESTION_LINE + 8 and f"{FIRST_QUESTION_LINE}行目と同じ" in str(err.value)


def test_cell_without_scorable_question_is_an_error(tmp_path):
    lines = grid_lines()
    lines[5] = lines[5].replace("type: yesno, points: 1", "type: text, points: 0")  # stage 2 × B
    with pytest.raises(LoaderError) as err:
        parse_questionnaire(write_definition(tmp_path, lines))
    assert "段階2「推進体制の整備」×分野「B」に配点のある設問がありません" in str(err.value)
    lines[5] = lines[5].replace("type: text, points: 0", "type: yesno, points: 0")  # present but worth nothing
    with pytest.raises(LoaderError, match="分野「B」に配点のある設問がありません"):
        parse_questionnaire(write_definition(tmp_path, lines))


def test_definition_level_errors(tmp_path):
    with pytest.raises(LoaderError) as err:
        parse_questionnaire(
            write_definition(tmp_path, grid_lines(), HEADER.replace("  - {stage: 3, name: DXの取組の実行}\n", ""))
        )
    assert "段階 3 の定義がありません" in str(err.value)
    with pytest.raises(LoaderError) as err:
        parse_questionnaire(write_definition(tmp_path, grid_lines(), HEADER.replace("[50, 50, 50, 50]", "[50, 50]")))
    assert "maturity_thresholds" in str(err.value) and err.value.row == 9
    with pytest.raises(LoaderError) as err:
        parse_questionnaire(write_definition(tmp_path, grid_lines()[:3] + ["  - {id: Q99, stage: [0"]))
    assert "YAMLの書式" in str(err.value) and err.value.row is not None
    choice = grid_lines()
    choice[0] = choice[0].replace(
        "type: yesno, points: 1", "type: choice, points: 1, choices: [{label: 低, value: 0}, {label: 高, value: 2}]"
    )
    with pytest.raises(LoaderError, match="「高」の value「2」は 0〜1"):
        parse_questionnaire(write_definition(tmp_path, choice))


def test_environment_variable_selects_another_definition(tmp_path, monkeypatch):
    path = write_definition(tmp_path, grid_lines())
    monkeypatch.setenv("DX_QUESTIONNAIRE", str(path))
    assert load_questionnaire().id == "test"
    monkeypatch.setenv("DX_QUESTIONNAIRE", str(tmp_path / "absent.yaml"))
    with pytest.raises(LoaderError, match="見つかりません"):
        load_questionnaire()


# ---------------------------------------------------------------- answers


@pytest.mark.parametrize(
    "question_id, raw, value",
    [
        ("S0-GEN-01", "はい", 1.0),
        ("S0-GEN-01", "いいえ", 0.0),
        ("S0-GEN-01", "○", 1.0),
        ("S0-GEN-01", "×", 0.0),
        ("S0-GEN-01", "実施", 1.0),
        ("S0-GEN-01", "未実施", 0.0),
        ("S0-GEN-01", 1, 1.0),
        ("S0-GEN-01", "0", 0.0),
        ("S0-GEN-01", True, 1.0),
        ("S0-GEN-01", " はい ", 1.0),
        ("S0-GEN-02", "3", 0.75),
        ("S0-GEN-02", "３", 0.75),
        ("S0-GEN-02", 4, 1.0),
        ("S0-GEN-02", 0.0, 0.0),
        ("S0-GEN-02", "2：一部の幹部が受講した", 0.5),
        ("S0-GEN-02", "1:実施を検討している", 0.25),
        ("S0-GEN-02", "毎年継続して実施している", 1.0),
        ("S0-GEN-03", "全職員を対象に実施", 1.0),
        ("S0-GEN-03", "希望者のみ受講", 0.34),
        ("S2-GEN-04", "5", 0.5),
        ("S2-GEN-04", "５人", 0.5),
        ("S2-GEN-04", 25, 1.0),
        ("S2-GEN-04", "0", 0.0),
        ("S3-BPR-01", 13, 0.5),
    ],
)
def test_answers_normalise_to_a_share_of_the_points(definition, question_id, raw, value):
    assert normalise_answer(definition.by_id()[question_id], raw) == (pytest.approx(value), None)


@pytest.mark.parametrize(
    "question_id, raw",
    [
        ("S0-GEN-01", "たぶん"),
        ("S0-GEN-01", "2"),
        ("S0-GEN-02", "5"),
        ("S0-GEN-02", "2.5"),
        ("S0-GEN-02", "2：毎年継続して実施している"),
        ("S0-GEN-03", "全員"),
        ("S2-GEN-04", "-1"),
        ("S2-GEN-04", "多い"),
        ("S2-GEN-04", "50%"),
    ],
)
def test_answers_outside_the_allowed_set_are_errors(definition, question_id, raw):
    value, error = normalise_answer(definition.by_id()[question_id], raw)
    assert value is None and question_id in error and str(raw) in error


@pytest.mark.parametrize("raw", [None, "", "  ", "-", "未回答", float("nan")])
def test_unanswered_and_free_text_have_no_value(definition, raw):
    for question in definition.questions:
        assert normalise_answer(question, raw) == (None, None)
    assert normalise_answer(definition.by_id()["S0-TXT-01"], "研修の時間が足りない") == (None, None)


@given(level=st.integers(0, SCALE_MAX), staff=st.floats(0, 1e6, allow_nan=False))
def test_scale_and_number_shares(level, staff):
    definition = load_questionnaire()
    assert normalise_answer(definition.by_id()["S0-GEN-02"], level) == (level / SCALE_MAX, None)
    value, error = normalise_answer(definition.by_id()["S2-GEN-04"], staff)
    assert error is None and value == min(staff / 10, 1.0)


@given(raw=st.text(max_size=20))
def test_any_text_gives_a_share_or_an_error(raw):
    for question in load_questionnaire().questions:
        value, error = normalise_answer(question, raw)
        assert (value is None) or (0.0 <= value <= 1.0 and error is None)
        assert error is None or value is None
