"""Label placement (views.labels.spread): for any values the placed labels keep the values' order,
stay at least the gap apart and inside the axis; labels that do not collide stay on their values."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from views import charts
from views.labels import spread

EPSILON = 1e-6
values_lists = st.lists(st.floats(min_value=-1e4, max_value=1e4, allow_nan=False), max_size=40)


@given(
    values_lists,
    st.floats(min_value=0, max_value=500),
    st.floats(min_value=-1e4, max_value=1e4),
    st.floats(min_value=0, max_value=3e4),
)
def test_labels_keep_order_gap_and_axis(values, gap, low, span):
    high = low + span
    placed = spread(values, gap, low, high)
    assert len(placed) == len(values)
    order = sorted(range(len(values)), key=lambda i: (values[i], i))
    effective = min(gap, span / (len(values) - 1)) if len(values) > 1 else gap
    for before, after in zip(order, order[1:]):
        assert placed[after] - placed[before] >= effective - EPSILON * max(1.0, abs(high), abs(low))
    assert all(low - EPSILON <= p <= high + EPSILON for p in placed)


@given(st.lists(st.integers(min_value=0, max_value=100), unique=True, max_size=12))
def test_labels_far_apart_stay_on_their_values(values):
    spaced = [10.0 * v for v in values]  # at least 10 apart
    assert spread(spaced, 10.0, 0.0, 1000.0) == pytest.approx(spaced)


def test_colliding_labels_move_apart_around_their_values():
    # 「84 洲本市」 and 「82 姫路市」 with a gap of 4: both move by 1, away from each other
    assert spread([84.0, 82.0], 4.0, 0.0, 100.0) == pytest.approx([85.0, 81.0])
    # at the top of the axis the pair is pushed down instead of out of the chart
    assert spread([100.0, 99.0], 4.0, 0.0, 100.0) == pytest.approx([100.0, 96.0])


def test_an_empty_axis_is_an_error():
    with pytest.raises(ValueError):
        spread([1.0], 1.0, 2.0, 1.0)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(min_value=0, max_value=100), st.floats(min_value=0, max_value=100)),
        min_size=1,
        max_size=12,
    )
)
def test_slope_chart_end_labels_do_not_overlap(scores):
    """The slope chart's 「84 洲本市」 labels: ordered like the evaluation scores, a gap apart, on the axis."""
    frame = pd.DataFrame(
        {
            "name": [f"団体{n}" for n in range(len(scores))],
            "base_score": [base for base, _ in scores],
            "eval_score": [evaluation for _, evaluation in scores],
            "trend_label": "改善",
        }
    )
    fig = charts.slope(frame, "当初", "評価")
    low, high = fig.layout.yaxis.range
    labels = {a.text: a.y for a in fig.layout.annotations}
    assert len(labels) == len(frame)
    placed = [labels[f"{row.eval_score:.0f} {row.name}"] for row in frame.itertuples()]
    order = sorted(range(len(frame)), key=lambda i: (frame["eval_score"][i], i))
    gap = min(charts.SLOPE_LABEL_GAP * (high - low), (high - low) / max(len(frame) - 1, 1))
    for before, after in zip(order, order[1:]):
        assert placed[after] - placed[before] >= gap - EPSILON
    assert all(low - EPSILON <= y <= high + EPSILON for y in placed)
