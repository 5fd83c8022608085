"""Committed definitions the metrics read from data/: questionnaire stages and thresholds,
priority rules, the support menu and the reference cases.

Only YAML/CSV files under data/ (or the questionnaire file named by DX_QUESTIONNAIRE) are read;
everything else comes from the DuckDB connection a caller passes in.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, RootModel, ValidationError, model_validator

from store.paths import DATA_DIR
from store.questionnaire import QuestionnaireError, questionnaire_path, read_questionnaire
from store.validation import Definition, problems

# 総務省「自治体DX全体手順書」steps 0–3 and 和歌山県's four fields (its assessment sheet): the defaults when no
# questionnaire file is present; a prefecture's questionnaire.yaml overrides them.
DEFAULT_STAGES = {0: "認識共有・機運醸成", 1: "全体方針の決定", 2: "推進体制の整備", 3: "DXの取組の実行"}
DEFAULT_FIELDS = ("DX全般", "情報システム", "BPR", "データ利活用")
DEFAULT_THRESHOLDS = (50.0, 50.0, 50.0, 50.0)
PILLARS = ("推進体制", "人材", "デジタル技術", "住民サービス")
COMPOSITE = "総合"


class DefinitionError(ValueError):
    """A committed definition file is malformed; the message is Japanese and names the file."""


def validated(model: type[Definition], data: object, path: Path):
    """``data`` (a parsed YAML document) as ``model``; DefinitionError naming the file and each field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise DefinitionError("\n".join(problems(exc, path))) from None


def _read_yaml(path: Path):
    path = Path(path)
    # parsed once per file version: pages call the metrics on every rerun
    return copy.deepcopy(_parse_yaml(path, path.stat().st_mtime_ns))


@lru_cache(maxsize=32)
def _parse_yaml(path: Path, _version: int):
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise DefinitionError(f"ファイル「{path.name}」のYAMLの書式が正しくありません（{exc}）。") from exc


@dataclass(frozen=True)
class Questionnaire:
    """The parts of the questionnaire the metrics need (questions themselves are in the store)."""

    stages: dict[int, str] = field(default_factory=lambda: dict(DEFAULT_STAGES))
    fields: tuple[str, ...] = DEFAULT_FIELDS
    thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS
    source: str = "既定値（総務省 自治体DX全体手順書の4段階）"

    def stage_label(self, stage: int) -> str:
        return f"STEP{stage}（{self.stages.get(stage, '')}）" if stage in self.stages else f"STEP{stage}"


def load_questionnaire(path: Path | None = None) -> Questionnaire:
    """Stage names, fields and maturity thresholds of the questionnaire (store.questionnaire reads and
    validates the file); the 手順書 defaults when the file does not exist."""
    path = questionnaire_path(path)
    if not path.exists():
        return Questionnaire()
    try:
        definition = read_questionnaire(path)
    except QuestionnaireError as exc:
        where = f"（{exc.row}行目）" if exc.row else ""
        raise DefinitionError(f"ファイル「{path.name}」{where}: {exc.message}") from None
    return Questionnaire(dict(definition.stages), definition.fields, definition.thresholds, source=path.name)


@dataclass(frozen=True)
class SupportItem:
    id: str
    name: str
    provider: str
    description: str
    source: str
    stages: tuple[int, ...] = ()
    fields: tuple[str, ...] = ()
    indicators: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    page: str = ""  # page or section of the source document
    prefecture: str | None = None  # None = a national item (every prefecture sees it)


class ReferenceCase(Definition):
    """One case of data/reference_cases.yaml."""

    id: str = Field(min_length=1)
    body: str = Field(min_length=1)
    pref_name: str | None = None
    body_kind: Literal["municipality", "prefecture", "group"]
    code: str | None = None
    population: int = Field(gt=0)
    population_text: str = Field(min_length=1)
    population_as_of: str | None = None
    stage: int = Field(ge=0, le=3)
    field: str | None = None
    title: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    source: str = Field(min_length=1)
    section: str = Field(min_length=1)


class ReferenceCasesFile(RootModel[list[ReferenceCase]]):
    pass


def load_reference_cases(path: Path | None = None) -> list[dict]:
    """data/reference_cases.yaml as a list of dicts, validated by ``ReferenceCase``."""
    path = path or DATA_DIR / "reference_cases.yaml"
    cases = validated(ReferenceCasesFile, _read_yaml(path) or [], path)
    return [case.model_dump() for case in cases.root]


@dataclass(frozen=True)
class OfficialSignal:
    """One weakness read from the official indicators (data/official_priority_rules.yaml)."""

    id: str
    points: float
    reason: str
    stage: int | None
    field: str | None
    not_implemented: tuple[str, ...] = ()  # all of these binary indicators are 0
    below_band_median: str | None = None  # this percent indicator is ``by`` points below its band's median
    by: float = 0.0

    @property
    def indicators(self) -> tuple[str, ...]:
        return self.not_implemented + ((self.below_band_median,) if self.below_band_median else ())


@dataclass(frozen=True)
class OfficialRules:
    label: str  # 「公開データによる判定」
    signals: tuple[OfficialSignal, ...]
    levels: tuple[tuple[str, float, str], ...]  # (priority, min_points, summary), highest first
    indicator_stage: dict[str, tuple[int, str]]  # indicator → (stage, field) for menus and cases

    @property
    def indicators(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([i for s in self.signals for i in s.indicators] + list(self.indicator_stage)))


class OfficialSignalEntry(Definition):
    id: str = Field(min_length=1)
    points: float
    reason: str = Field(min_length=1)
    stage: int | None = Field(default=None, ge=0, le=3)
    field: str | None = None
    not_implemented: tuple[str, ...] = ()
    below_band_median: str | None = None
    by: float = 0.0

    @model_validator(mode="after")
    def _one_condition(self):
        if bool(self.not_implemented) == bool(self.below_band_median):
            raise ValueError(f"signal {self.id}: not_implemented か below_band_median のどちらか1つを書いてください")
        return self


class OfficialLevel(Definition):
    priority: str = Field(min_length=1)
    min_points: float = Field(ge=0)
    summary: str = Field(min_length=1)


class StageField(Definition):
    stage: int = Field(ge=0, le=3)
    field: str = Field(min_length=1)


class OfficialRulesFile(Definition):
    """data/official_priority_rules.yaml."""

    label: str = "公開データによる判定"
    signals: list[OfficialSignalEntry]
    levels: list[OfficialLevel] = Field(min_length=1)
    indicator_stage: dict[str, StageField] = {}


def load_official_rules(path: Path | None = None) -> OfficialRules:
    """data/official_priority_rules.yaml: support priority from the official indicators alone."""
    path = path or DATA_DIR / "official_priority_rules.yaml"
    data = validated(OfficialRulesFile, _read_yaml(path) or {}, path)
    signals = tuple(OfficialSignal(**entry.model_dump()) for entry in data.signals)
    levels = tuple(
        sorted(((lv.priority, lv.min_points, lv.summary) for lv in data.levels), key=lambda level: -level[1])
    )
    stages = {indicator: (entry.stage, entry.field) for indicator, entry in data.indicator_stage.items()}
    rules = OfficialRules(data.label, signals, levels, stages)
    if rules.levels[-1][1] != 0:
        raise DefinitionError(
            f"ファイル「{path.name}」の levels には min_points: 0 の段階（最も低い優先度）が必要です。"
        )
    return rules
