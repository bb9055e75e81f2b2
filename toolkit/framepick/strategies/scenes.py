"""``scenes``: frames shared among scenes in proportion to their length, at least one per scene."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..types import Analysis
from ._common import BUDGET, PAIRS, RANGE, allowed_frames, budget, cores, frame_range, largest, scenes_within
from ._registry import register

__all__ = ["select_scenes"]


def _largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Integer shares of ``total`` proportional to ``weights`` (Hamilton's method; ties go to
    the earlier item). Shares never exceed ``ceil`` of the exact quota."""
    quotas = weights * (total / weights.sum())
    shares = np.floor(quotas).astype(np.int64)
    order = np.argsort(shares - quotas, kind="stable")  # largest remainder first
    shares[order[: total - shares.sum()]] += 1
    return shares


def _centres(starts: np.ndarray, lengths: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``counts[s]`` frames in each ``[starts[s], starts[s] + lengths[s])``: the centres of that
    many equal sub-intervals (sorted, unique while ``counts <= lengths``)."""
    owner = np.repeat(np.arange(len(counts)), counts)
    rank = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return starts[owner] + ((2 * rank + 1) * lengths[owner]) // (2 * counts[owner])


@register("scenes", defaults={**BUDGET, **RANGE, "multiple_of": 2, **PAIRS})
def select_scenes(analysis: Analysis, **params: Any) -> np.ndarray:
    """Frames shared among scenes in proportion to their length.

    With a budget ``n`` of at least the ``k`` scenes in the range, every scene gets one frame and
    the other ``n - k`` are shared in proportion to each scene's length beyond its first frame
    (largest remainder), so a scene never gets more frames than it has and ``n`` equal to the
    range's frame count selects every frame. With ``n < k``, the ``n`` longest scenes get one.
    A scene's frames sit at the centres of equal sub-intervals of its core: the scene without the
    fades and dissolves at its ends (see :mod:`framepick.transitions`), lengths counted in it.
    """
    first, last = frame_range(analysis, params["start_s"], params["end_s"])
    count = budget(analysis, first, last, params)
    scenes = scenes_within(analysis, first, last)
    starts, lengths = cores(scenes, allowed_frames(analysis, first, last, scenes))
    if count <= len(scenes):
        chosen = largest(lengths, count)
        counts = np.zeros(len(scenes), dtype=np.int64)
        counts[chosen] = 1
    else:
        counts = 1 + _largest_remainder((lengths - 1).astype(np.float64), count - len(scenes))
    return first + _centres(starts, lengths, counts)
