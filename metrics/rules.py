"""The support-priority rules (data/priority_rules.yaml), validated against the support menus."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import Field

from metrics.definitions import DefinitionError, SupportItem, _read_yaml, validated
from metrics.menus import load_support_menu
from store.paths import DATA_DIR
from store.validation import Definition


@dataclass(frozen=True)
class PriorityLevel:
    priority: str
    min_weak_stages: int
    summary: str


@dataclass(frozen=True)
class PriorityRules:
    weak_share: float  # a stage is weak when points / max_points < weak_share
    missing_stage_is_weak: bool
    levels: tuple[PriorityLevel, ...]  # highest first; the first level whose minimum is met applies
    stage_support: dict[int, str]  # the support named for each weak stage (宮城県の「支援内容」)
    defer_support: dict[int, tuple[int, ...]]  # stage → stages whose weakness postpones its support
    prescored_max_points: dict[int, float]  # max points of a pre-scored sheet that states none
    weak_field_score: float  # a field (0–100) below this is a weakness worth support
    change_tolerance: dict[str, float]  # |change| ≤ tolerance counts as stalled (by measure kind)


class WeakStage(Definition):
    share_below: float = Field(gt=0, le=1)
    missing_is_weak: bool = True


class PriorityLevelEntry(Definition):
    priority: str = Field(min_length=1)
    min_weak_stages: int = Field(ge=0)
    summary: str = Field(min_length=1)


class PriorityRulesFile(Definition):
    """data/priority_rules.yaml."""

    weak_stage: WeakStage
    levels: list[PriorityLevelEntry] = Field(min_length=1)
    stage_support: dict[int, str]
    defer_support: dict[int, tuple[int, ...]] = {}
    prescored_max_points: dict[int, float]
    weak_field_score: float = 50.0
    change_tolerance: dict[str, float] = {}


def load_priority_rules(path: Path | None = None, menu: dict[str, SupportItem] | None = None) -> PriorityRules:
    """data/priority_rules.yaml, validated by ``PriorityRulesFile`` and against the support menu."""
    path = path or DATA_DIR / "priority_rules.yaml"
    data = validated(PriorityRulesFile, _read_yaml(path) or {}, path)
    menu = menu if menu is not None else load_support_menu()
    levels = tuple(PriorityLevel(level.priority, level.min_weak_stages, level.summary) for level in data.levels)
    rules = PriorityRules(
        weak_share=data.weak_stage.share_below,
        missing_stage_is_weak=data.weak_stage.missing_is_weak,
        levels=tuple(sorted(levels, key=lambda level: -level.min_weak_stages)),
        stage_support=dict(data.stage_support),
        defer_support=dict(data.defer_support),
        prescored_max_points=dict(data.prescored_max_points),
        weak_field_score=data.weak_field_score,
        change_tolerance=dict(data.change_tolerance),
    )
    unknown = [item for item in rules.stage_support.values() if item not in menu]
    if unknown:
        raise DefinitionError(
            f"ファイル「{path.name}」の stage_support に支援メニューにないIDがあります: {', '.join(unknown)}"
        )
    if rules.levels[-1].min_weak_stages != 0:
        raise DefinitionError(
            f"ファイル「{path.name}」の levels には min_weak_stages: 0 の段階（最も低い優先度）が必要です。"
        )
    return rules
