"""Colours and number formats shared by charts, maps and tables (pure: no Streamlit).

Colour-blind-safe by construction: viridis for sequential measures, PuOr (diverging, centred on 0)
for gaps and changes, the Okabe–Ito palette for categories. Missing data is always the same grey
and always labelled 「データなし」 — never a colour of the scale, so it cannot be read as zero.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from plotly.colors import sample_colorscale

MISSING_LABEL = "データなし"
MISSING_RGB = (189, 189, 189)
MISSING_HEX = "#BDBDBD"
# a municipality asked by its prefecture's survey that did not answer: its own colour, darker than
# 「データなし」 and 停滞 (not a missing value: a fact about the round)
NOT_ANSWERED_LABEL = "未回答"
NOT_ANSWERED_HEX = "#4D4D4D"
FONT_FAMILY = "'Noto Sans CJK JP', 'Noto Sans JP', 'Hiragino Sans', 'Yu Gothic', sans-serif"
SEQUENTIAL = "Viridis"
DIVERGING = "PuOr"
# Okabe & Ito (2008): distinguishable with every common colour-vision deficiency.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
PRIORITY_COLOURS = {"高": "#D55E00", "中": "#E69F00", "低": "#56B4E9", "判定不可": MISSING_HEX}
BINARY_COLOURS = {"実施": "#0072B2", "未実施": "#E69F00"}
TREND_COLOURS = {
    "改善": "#0072B2",
    "停滞": "#999999",
    "後退": "#D55E00",
    "比較不可": MISSING_HEX,
    NOT_ANSWERED_LABEL: NOT_ANSWERED_HEX,
}
BAND_COLOURS = ("#440154", "#414487", "#2A788E", "#22A884", "#7AD151", "#E0C31A")  # viridis steps, 5万未満 → 100万以上
LUT_SIZE = 256


def _lut(scale: str) -> np.ndarray:
    colours = sample_colorscale(scale, list(np.linspace(0, 1, LUT_SIZE)), colortype="tuple")
    return np.rint(np.array(colours) * 255).astype(int)


_LUTS: dict[str, np.ndarray] = {}


def lut(scale: str) -> np.ndarray:
    """256 × 3 RGB table of a plotly colour scale (built once)."""
    if scale not in _LUTS:
        _LUTS[scale] = _lut(scale)
    return _LUTS[scale]


def hex_of(rgb) -> str:
    return "#{:02X}{:02X}{:02X}".format(*(int(c) for c in rgb[:3]))


def scale_position(values: pd.Series, lo: float, hi: float, reverse: bool = False) -> np.ndarray:
    """0–1 position of each value between lo and hi (clipped); NaN stays NaN."""
    span = hi - lo if hi > lo else 1.0
    position = np.clip((values.to_numpy(dtype=float) - lo) / span, 0.0, 1.0)
    return 1.0 - position if reverse else position


def rgb_for(values: pd.Series, lo: float, hi: float, scale: str = SEQUENTIAL, reverse: bool = False) -> list[list[int]]:
    """RGB triples on ``scale`` for each value; missing values get ``MISSING_RGB``."""
    position = scale_position(values, lo, hi, reverse)
    table = lut(scale)
    index = np.where(np.isnan(position), 0, np.rint(np.nan_to_num(position) * (LUT_SIZE - 1))).astype(int)
    colours = table[index].tolist()
    for i in np.flatnonzero(np.isnan(position)):
        colours[i] = list(MISSING_RGB)
    return colours


def category_colours(labels: list[str]) -> dict[str, str]:
    """Hex colour per category label: fixed colours for priority, 実施/未実施 and trends,
    Okabe–Ito in order for anything else (skipping colours the fixed labels already use), grey
    for 「データなし」."""
    fixed = {**PRIORITY_COLOURS, **BINARY_COLOURS, **TREND_COLOURS, MISSING_LABEL: MISSING_HEX}
    taken = {fixed[label] for label in labels if label in fixed}
    free = iter([c for c in OKABE_ITO if c not in taken] * 4)
    return {label: fixed.get(label) or next(free) for label in labels}


def value_range(
    values: pd.Series, kind: str, domain_min: float, domain_max: float, diverging: bool
) -> tuple[float, float]:
    """Colour range: the measure's fixed domain when it has one (scores 0–100, rates 0–100 %),
    symmetric around 0 for diverging measures, else the 2nd–98th percentile of the values shown."""
    present = values.dropna().astype(float)
    if diverging:
        limit = float(np.nanpercentile(np.abs(present), 98)) if len(present) else 1.0
        limit = limit if limit > 0 else 1.0
        return -limit, limit
    if not (math.isnan(domain_min) or math.isnan(domain_max)):
        return float(domain_min), float(domain_max)
    if not len(present):
        return 0.0, 1.0
    lo, hi = np.nanpercentile(present, [2, 98])
    return (float(lo), float(hi)) if hi > lo else (float(present.min()), float(present.max()) + 1.0)


def format_number(value: float, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return MISSING_LABEL
    if abs(value) >= 1000 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def format_value(value, kind: str, unit: str, label: str | None = None) -> str:
    """A measure's value as shown in tooltips and tables: 実施/未実施, 75.0%, 62.3点, 12,345人,
    レベル2, the category label, or 「データなし」 (never 0)."""
    if label is not None and not (isinstance(label, float) and math.isnan(label)) and label is not pd.NA:
        if kind in ("binary", "category"):
            return str(label)
    if isinstance(label, str) and label == NOT_ANSWERED_LABEL:
        return NOT_ANSWERED_LABEL
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return MISSING_LABEL
    if kind == "binary":
        return "実施" if value >= 0.5 else "未実施"
    if kind == "level":
        return f"レベル{int(value)}"
    if kind == "percent":
        return f"{value:.1f}%"
    if kind in ("score",):
        return f"{value:.1f}点"
    if kind == "change":
        return f"{value:+.1f}点"
    return f"{format_number(value)}{'' if unit in ('', None) or '=' in unit else unit}"


def format_statistic(value: float, statistic: str, kind: str, unit: str) -> str:
    """A group statistic (``metrics.views.summary_statistic``): 実施率 in %, else in the unit."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING_LABEL
    if statistic == "実施率":
        return f"{value:.1f}%"
    if kind == "level":
        return f"{value:.2f}"
    return format_value(value, kind, unit)


def short_round_label(label: str) -> str:
    """A round's label without the demo note (the banner says it), for axes and legends."""
    return str(label).replace("（デモ用の架空データ）", "").strip()


def unit_label(kind: str, unit: str, statistic: str | None = None) -> str:
    """Axis / legend unit: 「点」「%」「人」…; binary statistics are shares in %."""
    if statistic == "実施率" or kind == "percent":
        return "%"
    if kind in ("score", "change"):
        return "点"
    if kind == "level":
        return "レベル"
    return "" if unit is None or "=" in unit else unit


_NOT_IN_FILE_NAMES = str.maketrans({c: "_" for c in '\\/:*?"<>|'})


def file_stem(*parts: str) -> str:
    """A download's file name (without extension) from the labels users see, joined by 「_」: no
    character a file system refuses, never an id."""
    return "_".join(str(part).translate(_NOT_IN_FILE_NAMES).strip() for part in parts if part)
