"""``adaptive``: more frames where the content changes, at least one per scene."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..checks import MAX_SECONDS, Span
from ..types import Analysis
from ._common import BUDGET, PAIRS, RANGE, allowed_frames, budget, frame_range, largest, scenes_within
from ._registry import register

__all__ = ["select_adaptive"]

_LIFT_MARGIN = 1e-6  # relative headroom that keeps every lifted scene above one quantile step
_PEAK_QUANTILE = 0.99  # the change level that takes full density: peaks above it saturate
_COVER_ROUNDS = 4  # alternations of the gap bound and the scene lift (see _cover)


def _moving_average(values: np.ndarray, width: int) -> np.ndarray:
    """Centred mean over ``width`` samples (an odd number), shrunk at the edges."""
    sums = np.concatenate(([0.0], np.cumsum(values)))
    i = np.arange(len(values))
    low = np.maximum(i - width // 2, 0)
    high = np.minimum(i + width // 2 + 1, len(values))
    return (sums[high] - sums[low]) / (high - low)


def _density(
    analysis: Analysis, first: int, last: int, *, floor: float, sharpness: float, smooth_s: float
) -> np.ndarray:
    """Sampling density of frames ``first..last`` (float64, mean 1).

    The change score is interpolated to every frame, averaged over ``smooth_s`` seconds, reduced
    to its excess over the median (the noise level of a still shot), divided by its 99th
    percentile and clipped to 1 (so that one large peak, a flash or a cut missed by the detector,
    does not flatten every other change), raised to ``sharpness`` and scaled to mean 1; ``floor``
    of the mass is spread uniformly.
    The score of a scene's first frame measures the cut, which the one-frame-per-scene rule
    already answers for: it is replaced by the next analysed frame's, so that frames are not
    drawn to both sides of every cut.
    """
    frames = np.arange(first, last + 1)
    score = _within_scene_score(analysis)
    score = np.interp(frames, analysis.score_indices, score)
    width = 2 * round(smooth_s * analysis.info.fps / 2) + 1
    excess = np.maximum(_moving_average(score, width) - np.median(score), 0.0)
    peak = np.quantile(excess, _PEAK_QUANTILE) or excess.max()
    shape = np.minimum(excess / peak, 1.0) ** sharpness if peak > 0 else np.ones(len(frames))
    return floor + (1.0 - floor) * shape / shape.mean()


def _within_scene_score(analysis: Analysis) -> np.ndarray:
    """The change score (float64, one per analysed frame) with each detected cut's own score
    replaced by the score of the analysed frame after it (the new scene's own change)."""
    score = analysis.score.astype(np.float64)
    at_cut = np.flatnonzero(np.isin(analysis.score_indices, analysis.cuts))
    score[at_cut] = score[np.minimum(at_cut + 1, len(score) - 1)]
    return score


def _lift(mass: np.ndarray, count: int) -> np.ndarray:
    """Scene masses raised to at least one ``count``-th of their new total (water-filling).

    The smallest masses are lifted to the level ``tau`` that solves
    ``tau = sum(max(mass, tau)) / count`` (``len(mass) < count``), plus a small margin.
    """
    ascending = np.sort(mass)
    tails = np.cumsum(ascending[::-1])[::-1]  # tails[j] = sum(ascending[j:])
    levels = tails / (count - np.arange(len(mass)))
    tau = levels[np.argmax(ascending >= levels)]
    return np.maximum(mass, tau * (1.0 + _LIFT_MARGIN))


def _bound_gaps(density: np.ndarray, count: int, gap_frames: int) -> np.ndarray:
    """``density`` raised to a level ``tau`` where it is lower, so that any ``gap_frames``
    consecutive frames hold at least one ``count``-th of the total: ``tau * gap_frames =
    sum(max(density, tau)) / count`` (water-filling). Inverse-transform sampling then leaves no
    gap between picks longer than ``gap_frames + 1`` frames. Unchanged when ``gap_frames`` is 0,
    and uniform when the gap cannot be met (``count * gap_frames <= len(density)``).
    """
    if gap_frames <= 0:
        return density
    if count * gap_frames <= len(density):
        return np.ones_like(density)
    return _lift(density, count * gap_frames)


def _cover(density: np.ndarray, allowed: np.ndarray, scenes: np.ndarray, count: int, gap_frames: int) -> np.ndarray:
    """``density`` raised so that any ``gap_frames`` consecutive frames outside transitions and
    every scene hold at least one ``count``-th of the total (see :func:`_bound_gaps` and
    :func:`_lift`). Each raise adds mass, which lowers the other's share, so the two are
    alternated ``_COVER_ROUNDS`` times, the scene lift last (exact); the gap bound then holds up to
    what the last lift adds. Scene lifts go to frames outside transitions."""
    lengths = scenes[:, 1] - scenes[:, 0]
    room = np.add.reduceat(allowed, scenes[:, 0])  # frames of each scene that can take its lift
    feasible = gap_frames <= 0 or count * gap_frames > allowed.sum()
    density = density.copy()
    for _ in range(_COVER_ROUNDS if feasible else 1):
        density[allowed] = _bound_gaps(density[allowed], count, gap_frames)
        mass = np.add.reduceat(density, scenes[:, 0])
        density += np.repeat((_lift(mass, count) - mass) / room, lengths) * allowed
    return density


def _spread(picks: np.ndarray, gap: int, length: int) -> np.ndarray:
    """Sorted ``picks`` in ``[0, length)`` moved the least so that neighbours are ``gap`` apart
    (a forward pass pushes crowded picks later, a backward pass pulls overflow back in). The gap
    is lowered to ``(length - 1) // (n - 1)`` when it cannot fit."""
    if len(picks) < 2:
        return picks
    gap = min(gap, (length - 1) // (len(picks) - 1))
    offsets = np.arange(len(picks)) * gap
    pushed = np.maximum.accumulate(picks - offsets)
    return np.minimum(pushed, length - 1 - offsets[-1]) + offsets


@register(
    "adaptive",
    defaults={
        **BUDGET,
        **RANGE,
        "floor": 0.5,
        "sharpness": 0.75,
        "smooth_s": 0.5,
        "min_gap_s": 0.2,
        "max_gap_s": None,
        "multiple_of": 2,
        **PAIRS,
    },
    spans={
        "floor": Span(float, 0.0, 1.0),
        "sharpness": Span(float, 0.0, 100.0, low_included=False),  # an exponent
        "smooth_s": Span(float, 0.0, MAX_SECONDS),
        "min_gap_s": Span(float, 0.0, MAX_SECONDS),
        "max_gap_s": Span(float, 0.0, MAX_SECONDS, none=True),
    },
)
def select_adaptive(
    analysis: Analysis,
    *,
    floor: float,
    sharpness: float,
    smooth_s: float,
    min_gap_s: float,
    max_gap_s: float | None,
    **params: Any,
) -> np.ndarray:
    """More frames where the content changes, at least one per scene while the budget allows.

    1. Density (see ``_density``): ``floor`` uniform plus ``1 - floor`` smoothed change score;
       0 inside gradual transitions (fades, dissolves), unless a scene is nothing else.
    2. Largest gap (with ``n`` above ``k``): the density outside transitions is raised where it
       is low so that no two neighbouring picks are more than ``max_gap_s`` apart, plus the
       length of any transition between them (default: twice the uniform spacing ``range / n``;
       0 disables): a long still stretch is never starved. It alternates with the scene lift
       below (each adds mass, see ``_cover``), so the bound holds up to what the last lift adds.
    3. Coverage: with a budget ``n`` above the ``k`` scenes in the range, scenes whose share of
       the density is below ``1 / n`` are lifted to it (water-filling, the others shrinking in
       proportion; the lift goes to frames outside transitions); a scene with at least ``1 / n``
       of the mass always holds one of the ``n`` quantiles below. With ``n <= k`` the ``n``
       scenes of largest mass get one frame each, at their density median.
    4. Inverse-transform sampling: frame ``j`` is where the cumulative density reaches
       ``(j + 0.5) / n`` of the total.
    5. Neighbours are moved at least ``min_gap_s`` apart (at least one frame; less when the budget
       cannot fit otherwise), counting only frames outside transitions. A gap longer than the
       shortest scene may cost that scene its frame.
    """
    first, last = frame_range(analysis, params["start_s"], params["end_s"])
    count = budget(analysis, first, last, params)
    scenes = scenes_within(analysis, first, last)
    allowed = allowed_frames(analysis, first, last, scenes)
    density = _density(analysis, first, last, floor=floor, sharpness=sharpness, smooth_s=smooth_s) * allowed
    mass = np.add.reduceat(density, scenes[:, 0])
    if count <= len(scenes):
        cumulative = np.cumsum(density)
        chosen = largest(mass, count)
        targets = cumulative[scenes[chosen, 1] - 1] - mass[chosen] / 2
    else:
        spacing = len(density) / count  # frames
        gap_frames = 2 * spacing if max_gap_s is None else max_gap_s * analysis.info.fps
        density = _cover(density, allowed, scenes, count, math.floor(gap_frames) - 1)
        cumulative = np.cumsum(density)
        targets = (np.arange(count) + 0.5) * (cumulative[-1] / count)
    picks = np.minimum(np.searchsorted(cumulative, targets), len(density) - 1)
    gap = max(1, round(min_gap_s * analysis.info.fps))
    pickable = np.flatnonzero(allowed)  # spread among these, so that no pick is pushed into a fade
    ranks = np.minimum(np.searchsorted(pickable, picks), len(pickable) - 1)
    return first + pickable[_spread(ranks, gap, len(pickable))]
