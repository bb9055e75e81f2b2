"""``novelty``: a frame whenever enough change has accumulated since the last one."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..checks import Span
from ..types import Analysis
from ._common import BUDGET, PAIRS, RANGE, budget, frame_range, keep_multiple, largest
from ._registry import register

__all__ = ["select_novelty"]


@register(
    "novelty",
    defaults={**BUDGET, **RANGE, "threshold": 0.3, "multiple_of": 2, **PAIRS},
    spans={"threshold": Span(float, 0.0, 1000.0, low_included=False)},  # summed change scores, each <= 1
)
def select_novelty(analysis: Analysis, *, threshold: float, **params: Any) -> np.ndarray:
    """Greedy keyframes, the idea of ffmpeg's ``mpdecimate`` / ``select='gt(scene,x)'``.

    Walking through the analysed frames of the range, each score's excess over the median score
    (the noise level of a still shot) is accumulated; when the sum since the last pick reaches
    ``threshold`` that frame is picked and the sum restarts. The range's first frame outside
    transitions is always picked. Frames inside gradual transitions add nothing (a fade or dissolve is not news; the
    frame after it is). When more frames qualify than the budget, the most novel ones (largest
    sum when picked) are kept.

    This is the one strategy that may return fewer frames than the budget: a still video has
    little novelty, and returns as few as one frame (floored to ``multiple_of`` when more).
    """
    first, last = frame_range(analysis, params["start_s"], params["end_s"])
    count = budget(analysis, first, last, params)
    outside = np.flatnonzero(~analysis.in_transition()[first:last + 1])
    if len(outside):  # a video opening with a fade starts after it
        first += int(outside[0])
    in_range = (analysis.score_indices >= first) & (analysis.score_indices <= last)
    level = np.median(analysis.score[in_range]) if in_range.any() else 0.0
    after_first = in_range & (analysis.score_indices > first)
    excess = np.maximum(analysis.score[after_first].astype(np.float64) - level, 0.0)
    excess[analysis.in_transition()[analysis.score_indices[after_first]]] = 0.0  # fades add no novelty
    frames = np.concatenate(([first], analysis.score_indices[after_first]))
    sums = np.concatenate(([0.0], np.cumsum(excess)))  # sums[0] stands for the first frame
    positions = np.arange(len(sums))
    following = np.maximum(np.searchsorted(sums, sums + threshold), positions + 1).tolist()
    chosen = [0]
    while (step := following[chosen[-1]]) < len(sums):
        chosen.append(step)
    picked = np.asarray(chosen)
    novelty = np.diff(sums[picked], prepend=-np.inf)  # the first frame always ranks first
    keep = min(count, keep_multiple(len(picked), params["multiple_of"]))
    return frames[np.sort(picked[largest(novelty, keep)])]
