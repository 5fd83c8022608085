"""The assessment questionnaire's definition (data/questionnaire.yaml, or the file named by DX_QUESTIONNAIRE):
the one reader, used by the loaders (questions table, survey answers, template) and by the metrics
(stages, fields, maturity thresholds).

A prefecture may swap in its own definition, so it is validated like any other input: every problem
is a ``QuestionnaireError`` naming the file, the line and the question id. Format (see the comment at
the top of data/questionnaire.yaml): 4 stages (総務省 手順書 0–3) × the fields listed in the file, each
question typed yesno / scale / choice / number / text.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from store.paths import DATA_DIR


class QuestionnaireError(ValueError):
    """A problem of the definition file, in Japanese, with the file and (where known) the line."""

    def __init__(self, message: str, file: str | Path | None = None, row: int | None = None):
        super().__init__(message)
        self.message, self.file, self.row = message, file, row


def _same_label(a: str, b: str) -> bool:
    return unicodedata.normalize("NFKC", a).strip() == unicodedata.normalize("NFKC", b).strip()


DEFAULT_PATH = DATA_DIR / "questionnaire.yaml"
ENV_VAR = "DX_QUESTIONNAIRE"

ANSWER_TYPES = ("yesno", "scale", "choice", "number", "text")
STAGES = (0, 1, 2, 3)
SCALE_MAX = 4
ROOT_KEYS = {"id", "title", "stages", "fields", "maturity_thresholds", "questions"}
QUESTION_KEYS = {"id", "stage", "field", "text", "type", "points", "choices", "max", "unit", "levels"}
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")

YES, NO = "はい", "いいえ"


@dataclass(frozen=True)
class Choice:
    label: str
    value: float  # share of the question's points, 0..1


@dataclass(frozen=True)
class Question:
    id: str
    stage: int
    field: str
    text: str
    type: str
    points: float
    choices: tuple[Choice, ...] = ()
    levels: tuple[str, ...] = ()  # scale: the names of levels 0..4
    max: float | None = None  # number: the value that earns all points
    unit: str = ""  # number: printed beside the value
    line: int | None = None  # line in the definition file

    @property
    def scorable(self) -> bool:
        return self.type != "text"

    def options(self) -> list[Choice]:
        """The answers a dropdown offers, with their share of the points (empty for number/text)."""
        if self.type == "yesno":
            return [Choice(YES, 1.0), Choice(NO, 0.0)]
        if self.type == "scale":
            return [Choice(scale_label(n, self.levels), n / SCALE_MAX) for n in range(SCALE_MAX + 1)]
        if self.type == "choice":
            return list(self.choices)
        return []

    def answer_help(self) -> str:
        """How to answer, in one line (template header, error messages)."""
        if self.type == "yesno":
            return f"「{YES}」か「{NO}」を選択"
        if self.type == "scale":
            return f"0〜{SCALE_MAX} の5段階から選択"
        if self.type == "choice":
            return "選択肢から選択: " + "／".join(c.label for c in self.choices)
        if self.type == "number":
            unit = f"（{self.unit}）" if self.unit else ""
            return f"0以上の数値{unit}を入力"
        return "自由記入（配点なし）"


@dataclass(frozen=True)
class QuestionnaireDefinition:
    id: str
    title: str
    stages: dict[int, str]
    fields: tuple[str, ...]
    thresholds: tuple[float, ...]
    questions: tuple[Question, ...]
    path: Path = field(default=DEFAULT_PATH)

    def by_id(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions}

    def stage_name(self, stage: int) -> str:
        return self.stages.get(stage, f"STEP{stage}")


def scale_label(level: int, levels: tuple[str, ...]) -> str:
    return f"{level}：{levels[level]}" if levels else str(level)


# ---------------------------------------------------------------- loading and validation


def questionnaire_path(path: str | Path | None = None) -> Path:
    if path:
        return Path(path)
    return Path(os.environ.get(ENV_VAR) or DEFAULT_PATH)


def read_questionnaire(path: str | Path | None = None) -> QuestionnaireDefinition:
    """The definition at ``path`` (default: $DX_QUESTIONNAIRE, else data/questionnaire.yaml), validated."""
    path = questionnaire_path(path)
    try:
        stat = path.stat()
    except OSError as exc:
        raise QuestionnaireError("設問定義ファイルが見つかりません。", file=path) from exc
    return _load_cached(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _load_cached(path: str, _mtime_ns: int, _size: int) -> QuestionnaireDefinition:
    # keyed by modification time and size, so an edited file is read again
    return parse_definition(Path(path))


def parse_definition(path: Path) -> QuestionnaireDefinition:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise QuestionnaireError("設問定義ファイルは UTF-8 で保存してください。", file=path) from exc
    try:
        root_node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise QuestionnaireError(
            f"YAMLの書式が正しくありません（{getattr(exc, 'problem', exc)}）。",
            file=path,
            row=mark.line + 1 if mark else None,
        ) from exc
    check = _Checker(path, root_node)
    if not isinstance(data, dict):
        raise QuestionnaireError(
            "設問定義は id, title, stages, fields, questions を持つ形式にしてください。", file=path, row=1
        )
    unknown = sorted(set(data) - ROOT_KEYS)
    if unknown:
        check.fail(
            f"不明な項目 {', '.join(map(str, unknown))} があります（使える項目: {', '.join(sorted(ROOT_KEYS))}）。",
            check.key_line(unknown[0]),
        )
    for key in ("id", "title", "stages", "fields", "questions"):
        if data.get(key) in (None, "", []):
            check.fail(f"必須項目「{key}」がありません。", check.key_line(key))
    definition_id = str(data["id"])
    if not _ID.match(definition_id):
        check.fail(f"id「{definition_id}」には半角英数字と - _ だけを使ってください。", check.key_line("id"))

    stages = check.stages(data["stages"])
    fields = check.fields(data["fields"])
    thresholds = check.thresholds(data.get("maturity_thresholds"), len(stages))
    if not isinstance(data["questions"], list):
        check.fail("questions は設問の並び（- で始まる行）にしてください。", check.key_line("questions"))
    questions = [check.question(position, entry, fields) for position, entry in enumerate(data["questions"])]
    seen: dict[str, Question] = {}
    for question in questions:
        if question.id in seen:
            check.fail(
                f"設問ID「{question.id}」が重複しています（{seen[question.id].line}行目と同じ）。", question.line
            )
        seen[question.id] = question
    for stage in STAGES:
        for field_name in fields:
            cell = [q for q in questions if q.stage == stage and q.field == field_name and q.scorable and q.points > 0]
            if not cell:
                check.fail(
                    f"段階{stage}「{stages[stage]}」×分野「{field_name}」に配点のある設問がありません"
                    "（どの段階・分野にも1問以上必要です）。",
                    check.key_line("questions"),
                )
    return QuestionnaireDefinition(
        definition_id, str(data["title"]), stages, fields, thresholds, tuple(questions), path
    )


class _Checker:
    """Validation helpers that know the YAML node tree, to name the line of each problem."""

    def __init__(self, path: Path, root: yaml.Node | None):
        self.path = path
        self.root = root if isinstance(root, yaml.MappingNode) else None

    def fail(self, message: str, line: int | None) -> None:
        raise QuestionnaireError(message, file=self.path, row=line)

    def _value_node(self, key: str) -> yaml.Node | None:
        if self.root is None:
            return None
        for key_node, value_node in self.root.value:
            if key_node.value == key:
                return value_node
        return None

    def key_line(self, key: str) -> int | None:
        node = self._value_node(key)
        return node.start_mark.line + 1 if node is not None else None

    def item_line(self, key: str, position: int) -> int | None:
        node = self._value_node(key)
        if isinstance(node, yaml.SequenceNode) and position < len(node.value):
            return node.value[position].start_mark.line + 1
        return self.key_line(key)

    def stages(self, entries) -> dict[int, str]:
        if not isinstance(entries, list):
            self.fail("stages は段階の並び（{stage: 0, name: …}）にしてください。", self.key_line("stages"))
        stages: dict[int, str] = {}
        for position, entry in enumerate(entries):
            line = self.item_line("stages", position)
            if not isinstance(entry, dict) or set(entry) != {"stage", "name"}:
                self.fail("段階は {stage: 番号, name: 名称} の形で書いてください。", line)
            number = entry["stage"]
            if not _is_int(number) or number not in STAGES:
                self.fail(
                    f"段階の番号「{number}」は 0〜3 にしてください（総務省 自治体DX全体手順書のステップ0〜3）。", line
                )
            if number in stages:
                self.fail(f"段階{number}が重複しています。", line)
            if not str(entry["name"] or "").strip():
                self.fail(f"段階{number}の名称がありません。", line)
            stages[number] = str(entry["name"]).strip()
        missing = [s for s in STAGES if s not in stages]
        if missing:
            self.fail(
                f"段階 {', '.join(map(str, missing))} の定義がありません（0〜3 の4段階が必要です）。",
                self.key_line("stages"),
            )
        return dict(sorted(stages.items()))

    def fields(self, entries) -> tuple[str, ...]:
        if not isinstance(entries, list) or not entries:
            self.fail(
                "fields は分野名の並び（例: [DX全般, 情報システム, BPR, データ利活用]）にしてください。",
                self.key_line("fields"),
            )
        names = [str(e).strip() if e is not None else "" for e in entries]
        if any(not n for n in names):
            self.fail("空の分野名があります。", self.key_line("fields"))
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            self.fail(f"分野「{duplicated[0]}」が重複しています。", self.key_line("fields"))
        return tuple(names)

    def thresholds(self, entries, count: int) -> tuple[float, ...]:
        if entries is None:
            return tuple(50.0 for _ in range(count))
        line = self.key_line("maturity_thresholds")
        if not isinstance(entries, list) or len(entries) != count:
            self.fail(f"maturity_thresholds は段階の数（{count}）と同じ個数の数値にしてください。", line)
        if not all(_is_number(t) and 0 <= t <= 100 for t in entries):
            self.fail("maturity_thresholds の値は 0〜100 の数値にしてください。", line)
        return tuple(float(t) for t in entries)

    def question(self, position: int, entry, fields: tuple[str, ...]) -> Question:
        line = self.item_line("questions", position)
        if not isinstance(entry, dict):
            self.fail(f"{position + 1}番目の設問は「id: …」などの項目の組にしてください。", line)
        raw_id = entry.get("id")
        where = f"設問「{raw_id}」" if raw_id not in (None, "") else f"{position + 1}番目の設問"
        if raw_id in (None, ""):
            self.fail(f"{where}に id がありません。", line)
        question_id = str(raw_id)
        if not _ID.match(question_id):
            self.fail(f"{where}: 設問IDには半角英数字と - _ だけを使ってください。", line)
        unknown = sorted(set(entry) - QUESTION_KEYS)
        if unknown:
            self.fail(
                f"{where}: 不明な項目 {', '.join(map(str, unknown))} があります（使える項目: "
                f"{', '.join(sorted(QUESTION_KEYS))}）。",
                line,
            )
        for key in ("stage", "field", "text", "type", "points"):
            if entry.get(key) in (None, ""):
                self.fail(f"{where}: 必須項目「{key}」がありません。", line)
        stage = entry["stage"]
        if not _is_int(stage) or stage not in STAGES:
            self.fail(f"{where}: 段階（stage）「{stage}」は 0〜3 にしてください。", line)
        field_name = str(entry["field"]).strip()
        if field_name not in fields:
            self.fail(
                f"{where}: 分野（field）「{field_name}」は fields に定義されていません（{'、'.join(fields)}）。", line
            )
        answer_type = entry["type"]
        if answer_type not in ANSWER_TYPES:
            self.fail(
                f"{where}: 回答の種類（type）「{answer_type}」は {' / '.join(ANSWER_TYPES)} のいずれかにしてください。",
                line,
            )
        points = entry["points"]
        if not _is_number(points) or points < 0:
            self.fail(f"{where}: 配点（points）「{points}」は0以上の数値にしてください。", line)
        if answer_type == "text" and points != 0:
            self.fail(f"{where}: 自由記入（text）の設問は採点しないため、配点は 0 にしてください。", line)
        for key, allowed in (("choices", "choice"), ("max", "number"), ("unit", "number"), ("levels", "scale")):
            if key in entry and answer_type != allowed:
                self.fail(f"{where}: 項目「{key}」は type: {allowed} の設問にだけ書けます。", line)
        choices: tuple[Choice, ...] = ()
        if answer_type == "choice":
            choices = self._choices(entry.get("choices"), where, line)
        levels: tuple[str, ...] = ()
        if answer_type == "scale" and entry.get("levels") is not None:
            levels = self._levels(entry["levels"], where, line)
        maximum = None
        if answer_type == "number":
            maximum = entry.get("max")
            if not _is_number(maximum) or maximum <= 0:
                self.fail(f"{where}: 数値の設問には満点となる値 max（0より大きい数値）が必要です。", line)
            maximum = float(maximum)
        text = str(entry["text"]).strip()
        return Question(
            question_id,
            int(stage),
            field_name,
            text,
            answer_type,
            float(points),
            choices,
            levels,
            maximum,
            str(entry.get("unit") or "").strip(),
            line,
        )

    def _choices(self, entries, where: str, line: int | None) -> tuple[Choice, ...]:
        if not isinstance(entries, list) or len(entries) < 2:
            self.fail(f"{where}: 選択式（choice）の設問には2つ以上の選択肢（choices）が必要です。", line)
        choices = []
        for entry in entries:
            if not isinstance(entry, dict) or set(entry) != {"label", "value"}:
                self.fail(f"{where}: 選択肢は {{label: 表示名, value: 0〜1}} の形で書いてください。", line)
            label = str(entry["label"] or "").strip()
            value = entry["value"]
            if not label:
                self.fail(f"{where}: 選択肢の表示名（label）が空です。", line)
            if not _is_number(value) or not 0 <= value <= 1:
                self.fail(
                    f"{where}: 選択肢「{label}」の value「{value}」は 0〜1（配点に対する割合）にしてください。", line
                )
            if any(_same_label(c.label, label) for c in choices):
                self.fail(f"{where}: 選択肢「{label}」が重複しています。", line)
            choices.append(Choice(label, float(value)))
        return tuple(choices)

    def _levels(self, entries, where: str, line: int | None) -> tuple[str, ...]:
        if not isinstance(entries, list) or len(entries) != SCALE_MAX + 1:
            self.fail(
                f"{where}: 5段階（scale）の levels には 0〜{SCALE_MAX} の{SCALE_MAX + 1}つの説明が必要です。", line
            )
        levels = tuple(str(e or "").strip() for e in entries)
        if any(not level for level in levels) or len(set(levels)) != len(levels):
            self.fail(f"{where}: levels の説明が空か重複しています。", line)
        return levels


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
