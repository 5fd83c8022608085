"""Survey answers against the assessment questionnaire (the definition itself is read and validated by
store/questionnaire.py, the one reader; here its problems become ``LoaderError``s naming file and line).

``normalise_answer`` turns one answer as written into the share (0..1) of the question's points
that ``survey_answers.value`` stores. ``questions_frame`` gives the ``questions`` table; its
``choices`` column is JSON: a list of ``{"label", "value"}`` for yesno / scale / choice (the labels
the template's dropdowns offer), ``{"max", "unit"}`` for number, NULL for text.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd

from loaders.errors import LoaderError
from loaders.textio import normalise_text, parse_cell
from store.questionnaire import (
    NO,
    SCALE_MAX,
    YES,
    Question,
    QuestionnaireDefinition,
    QuestionnaireError,
    parse_definition,
    read_questionnaire,
)

# What people write for yes / no besides はい / いいえ (compared after NFKC, lower-cased).
_YES_WORDS = {"はい", "1", "○", "〇", "◯", "実施", "実施済み", "あり", "有", "済", "yes", "y", "true"}
_NO_WORDS = {"いいえ", "0", "×", "✕", "未実施", "なし", "無", "未", "no", "n", "false"}
# An answer cell that says "not answered" rather than giving an answer.
UNANSWERED_MARKERS = {"", "-", "－", "ー", "―", "未回答", "無回答"}
_SCALE_PREFIX = re.compile(r"^([0-9])\s*[:.、)]\s*(.*)$")


def load_questionnaire(path: str | Path | None = None) -> QuestionnaireDefinition:
    """The definition at ``path`` (default: $DX_QUESTIONNAIRE, else data/questionnaire.yaml), validated;
    a problem is a ``LoaderError`` naming the file and the line."""
    try:
        return read_questionnaire(path)
    except QuestionnaireError as exc:
        raise LoaderError(exc.message, file=exc.file, row=exc.row) from None


def parse_questionnaire(path: Path) -> QuestionnaireDefinition:
    """The definition file at ``path`` read afresh (no cache); ``LoaderError`` like ``load_questionnaire``."""
    try:
        return parse_definition(Path(path))
    except QuestionnaireError as exc:
        raise LoaderError(exc.message, file=exc.file, row=exc.row) from None


# ---------------------------------------------------------------- the questions table


def questions_frame(definition: QuestionnaireDefinition) -> pd.DataFrame:
    """Rows of the ``questions`` table, in the definition's order."""
    rows = []
    for q in definition.questions:
        if q.type == "number":
            choices = json.dumps({"max": q.max, "unit": q.unit}, ensure_ascii=False)
        elif q.type == "text":
            choices = None
        else:
            choices = json.dumps([{"label": c.label, "value": c.value} for c in q.options()], ensure_ascii=False)
        rows.append(
            {
                "id": q.id,
                "stage": q.stage,
                "field": q.field,
                "text": q.text,
                "answer_type": q.type,
                "choices": choices,
                "points": q.points,
            }
        )
    return pd.DataFrame(rows, columns=["id", "stage", "field", "text", "answer_type", "choices", "points"])


# ---------------------------------------------------------------- answers


def answer_text(raw: object) -> str | None:
    """An answer cell as written (None when blank); whole numbers from Excel lose their '.0'."""
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return None
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    text = str(raw)
    return text if text.strip() else None


def is_unanswered(raw: object) -> bool:
    text = answer_text(raw)
    return text is None or normalise_text(text) in UNANSWERED_MARKERS


def normalise_answer(question: Question, raw: object) -> tuple[float | None, str | None]:
    """(share of the points 0..1 or None, Japanese error or None) for one answer as written.

    Unanswered (blank, 「-」, 未回答) and text questions give (None, None).
    """
    if question.type == "text" or is_unanswered(raw):
        return None, None
    text = normalise_text(answer_text(raw))
    if question.type == "yesno":
        word = text.lower()
        if word.endswith(".0"):
            word = word[:-2]
        if word in _YES_WORDS:
            return 1.0, None
        if word in _NO_WORDS:
            return 0.0, None
        return None, f"回答「{raw}」は「{YES}」「{NO}」のいずれかにしてください（設問 {question.id}）。"
    if question.type == "scale":
        level = _scale_level(question, text)
        if level is None:
            allowed = "、".join(c.label for c in question.options())
            return None, f"回答「{raw}」は 0〜{SCALE_MAX} の段階にしてください（設問 {question.id}: {allowed}）。"
        return level / SCALE_MAX, None
    if question.type == "choice":
        for choice in question.choices:
            if normalise_text(choice.label) == text:
                return choice.value, None
        allowed = "、".join(f"「{c.label}」" for c in question.choices)
        return None, f"回答「{raw}」は選択肢 {allowed} のいずれかにしてください（設問 {question.id}）。"
    number = _number(question, raw, text)
    if number is None or number < 0:
        unit = f"（{question.unit}）" if question.unit else ""
        return None, f"回答「{raw}」は0以上の数値{unit}にしてください（設問 {question.id}）。"
    return min(number / question.max, 1.0), None


def _scale_level(question: Question, text: str) -> int | None:
    number = parse_cell(text)
    if number.kind == "number" and number.value is not None and float(number.value).is_integer():
        level = int(number.value)
        return level if 0 <= level <= SCALE_MAX else None
    prefixed = _SCALE_PREFIX.match(text)
    if prefixed:
        level = int(prefixed.group(1))
        if level > SCALE_MAX:
            return None
        label = prefixed.group(2).strip()
        # a number with a description that is not its own is a contradiction, not a choice to guess
        if question.levels and label and normalise_text(question.levels[level]) != label:
            return None
        return level
    for level, name in enumerate(question.levels):
        if normalise_text(name) == text:
            return level
    return None


def _number(question: Question, raw: object, text: str) -> float | None:
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return float(raw)
    unit = normalise_text(question.unit)
    if unit and text.endswith(unit):
        text = text[: -len(unit)].strip()
    cell = parse_cell(text)
    return cell.value if cell.kind == "number" else None
