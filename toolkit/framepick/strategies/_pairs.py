"""Temporal pairs: a strategy's moments, each with a second frame ``pair_s`` later (the meaning of
``pair_s``: :mod:`framepick.select`'s docstring). Any strategy that takes ``pair_s`` gets them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..types import Analysis
from ._common import budget, frame_range, states_within

__all__ = ["paired", "pairs_fit"]


def pairs_fit(analysis: Analysis, params: dict[str, Any]) -> bool:
    """Whether half the budget of ``params`` gives every state of the range a moment
    (:func:`~framepick.strategies._common.states_within`): where it does not, a pair would cost a
    state its frame, and frames stay single."""
    first, last = frame_range(analysis, params["start_s"], params["end_s"])
    return budget(analysis, first, last, params) // 2 >= len(states_within(analysis, first, last)[0])


def paired(analysis: Analysis, function: Callable[..., np.ndarray], params: dict[str, Any]) -> np.ndarray:
    """Half the budget chosen as moments by a strategy's ``function`` (called with ``params``,
    the budget set to the moments and ``multiple_of`` to 1), each with its partner frame."""
    first, last = frame_range(analysis, params["start_s"], params["end_s"])
    moments = max(1, budget(analysis, first, last, params) // 2)
    chosen = function(analysis, **{**params, "frames": moments, "multiple_of": 1})
    gap = max(1, round(params["pair_s"] * analysis.info.fps))
    return _pair(analysis, np.asarray(chosen, dtype=np.int64), gap, first, last)


def _pair(analysis: Analysis, moments: np.ndarray, gap: int, first: int, last: int) -> np.ndarray:
    """Every moment (sorted frame indices) with a partner up to ``gap`` frames after it, or before
    it where there is no room after, in its state (its scene, up to the state changes within it:
    :func:`~framepick.strategies._common.states_within`), outside transitions and between its
    neighbours' frames; a moment with no room on either side is dropped, unless none would be
    left (a video of one frame): then the first moment alone. Sorted, pairs adjacent."""
    free = ~analysis.in_transition()
    states = states_within(analysis, first, last)[0] + first
    state_starts, state_ends = states[np.searchsorted(states[:, 0], moments, side="right") - 1].T
    out: list[int] = []
    for k, moment in enumerate(moments.tolist()):
        low = max(int(state_starts[k]), first, out[-1] + 1 if out else first)
        high = min(int(state_ends[k]) - 1, last, int(moments[k + 1]) - 1 if k + 1 < len(moments) else last)
        after = [c for c in range(min(moment + gap, high), moment, -1) if free[c]]
        before = [c for c in range(max(moment - gap, low), moment) if free[c]]
        if after or before:
            out += [moment, after[0]] if after else [before[0], moment]
    return np.asarray(out or moments[:1].tolist(), dtype=np.int64)
