"""Label placement for the ends of lines (slope charts and the like): labels as close to their
values as possible, in the values' order, at least a minimum gap apart and inside the axis, so that
「84 洲本市」 never sits on 「82 姫路市」. Pure: numbers in, numbers out."""

from __future__ import annotations

from collections.abc import Sequence


def spread(values: Sequence[float], gap: float, low: float, high: float) -> list[float]:
    """Positions for labels at ``values`` (same order as given): ordered like the values (ties keep
    the given order), consecutive labels at least ``gap`` apart and all within [``low``, ``high``];
    among such positions the ones nearest to the values (least squares). When the axis is too short
    for ``gap``, the labels share it evenly (the gap becomes (high − low) / (n − 1))."""
    if high < low:
        raise ValueError(f"the axis must not be empty: low={low}, high={high}")
    count = len(values)
    if count == 0:
        return []
    if count > 1:
        gap = min(gap, (high - low) / (count - 1))
    gap = max(gap, 0.0)
    order = sorted(range(count), key=lambda i: (values[i], i))
    # with q_k = p_k − k·gap the gap condition is "q is non-decreasing": an isotonic regression of
    # the shifted values (pool adjacent violators), then clipped to the shifted axis
    shifted = [float(values[i]) - k * gap for k, i in enumerate(order)]
    blocks: list[list[float]] = []  # [mean, size]
    for value in shifted:
        blocks.append([value, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean, size = blocks.pop()
            blocks[-1][0] = (blocks[-1][0] * blocks[-1][1] + mean * size) / (blocks[-1][1] + size)
            blocks[-1][1] += size
    fitted = [mean for mean, size in blocks for _ in range(int(size))]
    top = high - (count - 1) * gap
    positions = [0.0] * count
    for k, i in enumerate(order):
        positions[i] = min(max(min(max(fitted[k], low), top) + k * gap, low), high)  # min/max: rounding
    return positions
