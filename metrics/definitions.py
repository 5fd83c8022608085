"""Committed definitions the metrics read from data/: questionnaire stages and thresholds,
priority rules, the support menu and the reference cases.

Only YAML/CSV files under data/ (or the questionnaire file named by DX_QUESTIONNAIRE) are read;
everything else comes from the DuckDB connection a caller passes in.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from store.paths import DATA_DIR

# 総務省「自治体DX全体手順書」steps 0–3 and 和歌山県's four fields (seed 001): the defaults when no
# questionnaire file is present; a prefecture's questionnaire.yaml overrides them.
DEFAULT_STAGES = {0: "認識共有・機運醸成", 1: "全体方針の決定", 2: "推進体制の整備", 3: "DXの取組の実行"}
DEFAULT_FIELDS = ("DX全般", "情報システム", "BPR", "データ利活用")
DEFAULT_THRESHOLDS = (50.0, 50.0, 50.0, 50.0)
PILLARS = ("推進体制", "人材", "デジタル技術", "住民サービス")
COMPOSITE = "総合"


class DefinitionError(ValueError):
    """A committed definition file is malformed; the message is Japanese and names the file."""


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


def questionnaire_path() -> Path:
    return Path(os.environ.get("DX_QUESTIONNAIRE") or DATA_DIR / "questionnaire.yaml")


def load_questionnaire(path: Path | None = None) -> Questionnaire:
    """Stage names, fields and maturity thresholds from the questionnaire file (shared format);
    the 手順書 defaults when the file does not exist."""
    path = Path(path) if path else questionnaire_path()
    if not path.exists():
        return Questionnaire()
    data = _read_yaml(path) or {}
    stages = {int(s["stage"]): str(s["name"]) for s in data.get("stages") or []} or dict(DEFAULT_STAGES)
    fields = tuple(data.get("fields") or DEFAULT_FIELDS)
    thresholds = tuple(float(t) for t in data.get("maturity_thresholds") or DEFAULT_THRESHOLDS)
    if len(thresholds) != len(stages):
        raise DefinitionError(
            f"ファイル「{path.name}」の maturity_thresholds は段階の数（{len(stages)}）と同じ個数にしてください。"
        )
    return Questionnaire(stages, fields, thresholds, source=path.name)


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


def load_reference_cases(path: Path | None = None) -> list[dict]:
    """data/reference_cases.yaml as a list of dicts (validated keys)."""
    path = path or DATA_DIR / "reference_cases.yaml"
    cases = _read_yaml(path) or []
    required = (
        "id",
        "body",
        "body_kind",
        "population",
        "population_text",
        "stage",
        "title",
        "summary",
        "source",
        "section",
    )
    for position, case in enumerate(cases, start=1):
        missing = [key for key in required if case.get(key) in (None, "")]
        if missing:
            raise DefinitionError(
                f"ファイル「{path.name}」の{position}番目の事例に {', '.join(missing)} がありません。"
            )
    return cases


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


def load_official_rules(path: Path | None = None) -> OfficialRules:
    """data/official_priority_rules.yaml: support priority from the official indicators alone."""
    path = path or DATA_DIR / "official_priority_rules.yaml"
    data = _read_yaml(path) or {}
    try:
        signals = []
        for entry in data["signals"]:
            signal = OfficialSignal(
                id=str(entry["id"]),
                points=float(entry["points"]),
                reason=str(entry["reason"]),
                stage=None if entry.get("stage") is None else int(entry["stage"]),
                field=entry.get("field"),
                not_implemented=tuple(entry.get("not_implemented") or ()),
                below_band_median=entry.get("below_band_median"),
                by=float(entry.get("by") or 0),
            )
            if bool(signal.not_implemented) == bool(signal.below_band_median):
                raise ValueError(
                    f"signal {signal.id}: not_implemented か below_band_median のどちらか1つを書いてください"
                )
            signals.append(signal)
        levels = tuple(
            sorted(
                ((str(lv["priority"]), float(lv["min_points"]), str(lv["summary"])) for lv in data["levels"]),
                key=lambda level: -level[1],
            )
        )
        stages = {str(k): (int(v["stage"]), str(v["field"])) for k, v in (data.get("indicator_stage") or {}).items()}
        rules = OfficialRules(str(data.get("label") or "公開データによる判定"), tuple(signals), levels, stages)
    except (KeyError, TypeError, ValueError) as exc:
        raise DefinitionError(f"ファイル「{path.name}」の公開データによる判定の規則が不完全です（{exc}）。") from exc
    if not rules.levels or rules.levels[-1][1] != 0:
        raise DefinitionError(
            f"ファイル「{path.name}」の levels には min_points: 0 の段階（最も低い優先度）が必要です。"
        )
    return rules
