"""The support-priority rules (data/priority_rules.yaml), validated against the support menus."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from metrics.definitions import DefinitionError, SupportItem, _read_yaml
from metrics.menus import load_support_menu
from store.paths import DATA_DIR


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


def load_priority_rules(path: Path | None = None, menu: dict[str, SupportItem] | None = None) -> PriorityRules:
    """data/priority_rules.yaml, validated against the support menu."""
    path = path or DATA_DIR / "priority_rules.yaml"
    data = _read_yaml(path) or {}
    menu = menu if menu is not None else load_support_menu()
    try:
        levels = tuple(
            PriorityLevel(str(level["priority"]), int(level["min_weak_stages"]), str(level["summary"]))
            for level in data["levels"]
        )
        rules = PriorityRules(
            weak_share=float(data["weak_stage"]["share_below"]),
            missing_stage_is_weak=bool(data["weak_stage"].get("missing_is_weak", True)),
            levels=tuple(sorted(levels, key=lambda level: -level.min_weak_stages)),
            stage_support={int(k): str(v) for k, v in data["stage_support"].items()},
            defer_support={int(k): tuple(int(s) for s in v) for k, v in (data.get("defer_support") or {}).items()},
            prescored_max_points={int(k): float(v) for k, v in data["prescored_max_points"].items()},
            weak_field_score=float(data.get("weak_field_score", 50)),
            change_tolerance={str(k): float(v) for k, v in (data.get("change_tolerance") or {}).items()},
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DefinitionError(f"ファイル「{path.name}」の支援優先度ルールが不完全です（{exc}）。") from exc
    unknown = [item for item in rules.stage_support.values() if item not in menu]
    if unknown:
        raise DefinitionError(
            f"ファイル「{path.name}」の stage_support に支援メニューにないIDがあります: {', '.join(unknown)}"
        )
    if not rules.levels or rules.levels[-1].min_weak_stages != 0:
        raise DefinitionError(
            f"ファイル「{path.name}」の levels には min_weak_stages: 0 の段階（最も低い優先度）が必要です。"
        )
    return rules
