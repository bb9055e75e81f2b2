"""``adaptive``: uniform's frames as a floor, moved where a state would otherwise go unseen."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..checks import MAX_SECONDS, Span
from ..qwen_rules import PAIR_S, qwen_linspace
from ..types import Analysis
from ._common import BUDGET, PAIRS, RANGE, allowed_frames, budget, frame_range, scenes_within, states_within
from ._registry import register

GAP_SPACINGS = 3  # the default largest gap, in uniform spacings (reports/selection.md measures 2, 3, 4)

__all__ = ["select_adaptive"]


def _distinct(ranks: np.ndarray, size: int) -> np.ndarray:
    """Sorted ``ranks`` in ``[0, size)`` moved the least to be distinct (a forward pass pushes
    repeats later, a backward pass pulls overflow back in); ``len(ranks) <= size``."""
    offsets = np.arange(len(ranks))
    return np.minimum(np.maximum.accumulate(ranks - offsets), size - len(ranks)) + offsets


def _uniform_floor(length: int, count: int, pickable: np.ndarray) -> np.ndarray:
    """``uniform``'s ``count`` frames of ``[0, length)`` (qwen-vl-utils' rounding), each moved to
    the nearest of the sorted ``pickable`` frames (outside transitions), kept distinct: int64."""
    if count >= len(pickable):
        return pickable.copy()
    wanted = qwen_linspace(0, length - 1, count)
    after = np.clip(np.searchsorted(pickable, wanted), 1, len(pickable) - 1)
    nearest = after - (wanted - pickable[after - 1] <= pickable[after] - wanted)
    return pickable[_distinct(nearest, len(pickable))]


def _cover_states(picks: np.ndarray, states: np.ndarray, strengths: np.ndarray, pickable: np.ndarray,
                  max_gap: float, length: int, keep_pairs: bool, pair_gap: int) -> np.ndarray:
    """``picks`` (sorted relative frames in ``[0, length)``) with frames moved into the ``states``
    (``[start, end)`` relative frames) that hold none, strongest change first, then longest.

    A frame moves from a state holding two or more, the one whose move leaves the smallest gap
    (never above ``max_gap`` frames), to the middle one of the state's ``pickable`` frames
    (:func:`framepick._kernels.cover_states`). States that ``picks`` hold stay held, so the held
    states only grow; with ``keep_pairs`` (``picks`` go to Qwen as they are, two by two), the
    states that hold both frames of a Qwen pair never fall below their count in ``picks``, and
    where no single frame may move, two neighbouring frames move: to the middle one and the
    pickable frame up to ``pair_gap`` frames after it (or the one before it). Sorted int64.
    """
    from .._kernels import cover_states

    low, high = np.searchsorted(pickable, states[:, 0]), np.searchsorted(pickable, states[:, 1])
    room = high - low
    state_of = np.searchsorted(states[:, 0], picks, side="right") - 1
    held = np.bincount(state_of, minlength=len(states))
    order = np.lexsort((-room, -strengths))
    order = order[(held[order] == 0) & (room[order] > 0)]
    middle = np.minimum((low + high) // 2, len(pickable) - 1)
    targets = pickable[middle]
    after = np.minimum(np.searchsorted(pickable, targets + pair_gap, side="right") - 1, high - 1)
    partner = np.where(after > middle, after, middle - 1)  # with room for two, middle - 1 >= low
    partners = np.where(room >= 2, pickable[np.clip(partner, 0, len(pickable) - 1)], -1)
    return cover_states(picks, state_of, held, order, targets, partners, float(max_gap), length, keep_pairs)


@register(
    "adaptive",
    defaults={**BUDGET, **RANGE, "max_gap_s": None, "multiple_of": 2, **PAIRS},
    spans={"max_gap_s": Span(float, 0.0, MAX_SECONDS, none=True)},
)
def select_adaptive(analysis: Analysis, *, max_gap_s: float | None, **params: Any) -> np.ndarray:
    """``uniform``'s frames, moved so that every state of the video holds one while the budget lasts.

    1. Floor: the ``n`` frames of ``uniform`` (qwen-vl-utils' indices), each moved to the nearest
       frame outside gradual transitions (fades, dissolves).
    2. States: the stretches between scene cuts, transitions and state changes
       (:mod:`framepick.states`: a new slide, a bullet revealed, a caption, an object that arrives
       and stays; ongoing motion such as a speaker inset or a ticker is not one).
    3. Every state that holds no frame, strongest change first (then longest), takes one at the
       middle of its part outside transitions, from a state that holds two or more: the frame
       whose move leaves the smallest gap, and only if no gap between neighbouring frames grows
       beyond ``max_gap_s`` (default: ``GAP_SPACINGS`` uniform spacings ``range / n``; 0: no frame
       moves).

    A state ``uniform`` holds is never given up, so ``adaptive`` holds every state ``uniform``
    holds and more; where every state is held already, it is ``uniform`` (up to transitions).
    Without ``pair_s`` the frames go to Qwen as they are, merged two by two, and a move shifts
    which frames pair: a move is then made only if at least as many states still hold both
    frames of such a pair as in the floor; where no single frame may move, two neighbouring
    frames move into the state together (``PAIR_S`` apart at most), which keeps the pairs of
    the frames between.
    """
    first, last = frame_range(analysis, params["start_s"], params["end_s"])
    count = budget(analysis, first, last, params)
    length = last - first + 1
    pickable = np.flatnonzero(allowed_frames(analysis, first, last, scenes_within(analysis, first, last)))
    states, strengths = states_within(analysis, first, last)
    max_gap = GAP_SPACINGS * length / count if max_gap_s is None else max_gap_s * analysis.info.fps
    picks = _uniform_floor(length, count, pickable)
    keep_pairs, pair_gap = not params["pair_s"], max(1, round(PAIR_S * analysis.info.fps))
    return first + _cover_states(picks, states, strengths, pickable, max_gap, length, keep_pairs, pair_gap)
