"""Selection: turn an analysis into frame indices, without decoding anything.

Five strategies, all fast enough for notebook sliders (timings in reports/selection.md):

- ``uniform``: exactly what qwen-vl-utils 0.0.14 feeds Qwen2.5-VL (``smart_nframes`` for the count,
  ``torch.linspace(start, end, n).round()`` for the indices, float32 rounding included);
- ``fps``: a fixed number of frames per second of presentation time;
- ``scenes``: frames shared among scenes in proportion to their length, at least one per scene;
- ``adaptive``: more frames where the content changes, at least one per scene;
- ``novelty``: a frame whenever enough change has accumulated since the last one.

Shared parameters, with the same meaning in every strategy that has them:

``frames`` / ``fps`` / ``min_frames`` / ``max_frames``
    The frame count (the *budget*), by qwen-vl-utils' rule (see :func:`frame_budget`).
``start_s`` / ``end_s``
    Restrict the selection to this time range in seconds, as qwen-vl-utils' ``video_start`` and
    ``video_end`` do: from frame ``ceil(start_s * fps)`` to frame ``floor(end_s * fps)``, both
    included, with the video's average ``fps``.
``multiple_of``
    The count is a multiple of this (2 by default: Qwen2.5-VL merges frames in temporal pairs);
    1 disables it.
``pair_s`` (``scenes``, ``adaptive``, ``novelty``)
    Temporal pairs: Qwen merges consecutive frames two by two into one set of tokens with one
    time. With ``pair_s`` set (seconds, at most :data:`framepick.qwen_rules.PAIR_S`), the strategy
    chooses half the budget as *moments* and each moment brings a second frame ``pair_s`` later
    (earlier where its scene, a transition or the next moment leaves no room), in the same scene:
    consecutive frames ``(0, 1), (2, 3), ...`` show one moment each. None or 0: frames are chosen
    one by one. :func:`framepick.sample` sets it to ``PAIR_S`` for Qwen's output size rule.

Every parameter's default and allowed values are kept once, with every other setting, in
:mod:`framepick.config` (:func:`~framepick.config.strategy_defaults`,
:data:`~framepick.config.PARAM_SPANS`), and checked before anything is computed. Memory follows the
video's frame count and the budget, whatever a parameter's value: no count exceeds the frames of
the range (an ``fps`` above the video's own rate takes every frame).

Every :class:`~framepick.types.Selection` carries the full parameters, defaults included, so that
``select(analysis, sel.strategy, **sel.params)`` gives the same frames again.
"""

from __future__ import annotations

import math
import sys
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from .checks import instance_argument
from .errors import ConfigError
from .qwen_rules import frame_budget, qwen_linspace
from .strategies import STRATEGIES, strategy_defaults, strategy_params
from .types import Analysis, Selection

__all__ = ["STRATEGIES", "TIMING_ONLY", "select", "strategy_defaults", "frame_range"]

TIMING_ONLY = ("uniform", "fps")  # strategies that need frame times only, no scores or scenes
_LIFT_MARGIN = 1e-6  # relative headroom that keeps every lifted scene above one quantile step
_PEAK_QUANTILE = 0.99  # the change level that takes full density: peaks above it saturate
_COVER_ROUNDS = 4  # alternations of the gap bound and the scene lift (see _cover)


def select(analysis: Analysis, strategy: str = "uniform", **params: Any) -> Selection:
    """Choose frames of an analysed video.

    Parameters
    ----------
    analysis : Analysis
        Result of the analysis pass.
    strategy : {"uniform", "fps", "scenes", "adaptive", "novelty"}
        How to choose; see the module docstring and ``_select_<strategy>`` below.
    **params
        The strategy's parameters (see :func:`strategy_defaults`; their allowed values:
        :data:`framepick.config.PARAM_SPANS`); missing ones take defaults.

    Returns
    -------
    Selection
        Sorted unique frame indices, their times in seconds, ``strategy`` and the full parameters.

    Raises
    ------
    ConfigError
        Unknown strategy or parameter, or a value out of range (a budget below 1 or above
        :data:`framepick.checks.MAX_FRAMES`, ``min_frames`` above ``max_frames``, a rate not in
        ``(0, MAX_FPS]``, a time range holding fewer than two frames).
    ArgumentError
        ``analysis`` is not an :class:`~framepick.types.Analysis`.

    Notes
    -----
    ``select(analysis, sel.strategy, **sel.params)`` returns the same frames as ``sel``.
    """
    instance_argument("analysis", analysis, Analysis, "a framepick Analysis (from framepick.analyze)")
    params = strategy_params(strategy, params)
    if params.get("pair_s"):
        indices = _paired(analysis, strategy, params)
    else:
        indices = np.asarray(_SELECTORS[strategy](analysis, **params), dtype=np.int64)
    return Selection(indices=indices, times_s=analysis.times_of(indices), strategy=strategy, params=params)


# --------------------------------------------------------------------------- range and budget


def frame_range(analysis: Analysis, start_s: float | None, end_s: float | None) -> tuple[int, int]:
    """First and last frame (both included) of a time range, by qwen-vl-utils'
    ``calculate_video_frame_range``: times are clamped to the video, the first frame is
    ``ceil(start_s * fps)``, the last ``floor(end_s * fps)``, with the average ``fps``."""
    total, fps = analysis.info.frames, analysis.info.fps
    if start_s is None and end_s is None:
        return 0, total - 1
    longest_s = total / fps
    first = math.ceil(max(0.0, min(start_s, longest_s)) * fps) if start_s is not None else 0
    last = min(math.floor(max(0.0, min(end_s, longest_s)) * fps), total - 1) if end_s is not None else total - 1
    if first >= last:
        raise ConfigError(
            f"time range start_s={start_s!r} end_s={end_s!r} holds fewer than two frames "
            f"(frames {first}..{last} of a {total}-frame video at {fps:g} fps)"
        )
    return first, last


def _budget(analysis: Analysis, first: int, last: int, params: dict[str, Any]) -> int:
    return frame_budget(last - first + 1, analysis.info.fps, frames=params["frames"], sample_fps=params["fps"],
                        min_frames=params["min_frames"], max_frames=params["max_frames"],
                        multiple_of=params["multiple_of"])


def _keep_multiple(count: int, factor: int) -> int:
    """``count`` floored to a multiple of ``factor``, but never below ``min(count, factor)``."""
    return count if count < factor else count - count % factor


def _scenes_within(analysis: Analysis, first: int, last: int) -> np.ndarray:
    """Scenes clipped to frames ``first..last``, relative to ``first`` (int64, shape (k, 2))."""
    clipped = np.clip(analysis.scenes, first, last + 1) - first
    return clipped[clipped[:, 1] > clipped[:, 0]]


def _pickable(analysis: Analysis, first: int, last: int, scenes: np.ndarray) -> np.ndarray:
    """Which frames ``first..last`` may be picked (bool, relative to ``first``): those outside
    the gradual transitions, and every frame of a scene (``scenes``, relative) that lies wholly
    inside transitions."""
    allowed = ~analysis.in_transition()[first:last + 1]
    none = np.add.reduceat(allowed, scenes[:, 0]) == 0
    for start, end in scenes[none].tolist():
        allowed[start:end] = True
    return allowed


def _cores(scenes: np.ndarray, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and length of each scene's core (relative frames, int64): the scene without the
    frames at its ends that may not be picked (``allowed`` from :func:`_pickable`)."""
    positions = np.flatnonzero(allowed)
    starts = positions[np.searchsorted(positions, scenes[:, 0])]
    ends = positions[np.searchsorted(positions, scenes[:, 1]) - 1] + 1
    return starts, ends - starts


# --------------------------------------------------------------------------- uniform


def _select_uniform(analysis: Analysis, **params: Any) -> np.ndarray:
    """qwen-vl-utils 0.0.14: ``frame_budget`` frames at ``torch.linspace(first, last, n).round()``.

    An explicit ``frames`` takes precedence over ``fps`` (qwen-vl-utils refuses both together).
    """
    first, last = frame_range(analysis, params["start_s"], params["end_s"])
    return qwen_linspace(first, last, _budget(analysis, first, last, params))


# --------------------------------------------------------------------------- fps


def _select_fps(
    analysis: Analysis,
    *,
    fps: float,
    max_frames: int | None,
    start_s: float | None,
    end_s: float | None,
    multiple_of: int,
) -> np.ndarray:
    """``fps`` frames per second of presentation time (true times for variable frame rate).

    The range's span is cut into ``n = floor(span_s * fps)`` equal intervals (at least 1; at most
    ``max_frames``; floored to ``multiple_of``) and the frame shown at each interval's centre is
    taken. Above the video's own frame rate some intervals share a frame, so fewer come back;
    memory follows the range's frame count, not ``n`` (see :func:`_centre_ranks`).
    """
    first, last = frame_range(analysis, start_s, end_s)
    start, stop = analysis.times_of(np.array([first, last + 1]))
    count = max(1, math.floor((stop - start) * fps + 1e-6))
    if max_frames is not None:
        count = min(count, max_frames)
    count = _keep_multiple(count, multiple_of)
    step_s = (stop - start) / count
    ranks = _centre_ranks(analysis.frame_times_s[first:last + 1], start, step_s, count)
    centres_s = start + (ranks + 0.5) * step_s
    shown = np.searchsorted(analysis.frame_times_s, centres_s, side="right") - 1
    picks = np.unique(np.clip(shown, first, last))
    return picks[: _keep_multiple(len(picks), multiple_of)]


def _centre_ranks(times_s: np.ndarray, start_s: float, step_s: float, count: int) -> np.ndarray:
    """Ranks ``k`` of the interval centres ``start_s + (k + 0.5) * step_s`` (``0 <= k < count``)
    that decide which frames are shown, for frames starting at ``times_s`` (int64, sorted).

    All ``count`` of them when there are no more than frames. Otherwise (a rate above the
    video's) a frame is shown by some centre exactly when it is by the first centre at or after
    its start, so only that one is kept per frame (found by division, then moved by one where
    rounding put it off, the centres computed as above): as many ranks as frames, however large
    ``count`` is, and the same frames come out.
    """
    if count <= len(times_s):
        return np.arange(count)
    ranks = np.ceil((times_s - start_s) / step_s - 0.5).astype(np.int64)
    ranks += start_s + (ranks + 0.5) * step_s < times_s  # the centre before the frame: one later
    ranks -= (ranks > 0) & (start_s + (ranks - 1 + 0.5) * step_s >= times_s)  # the previous one is not
    ranks = ranks[ranks < count]
    return ranks[np.concatenate(([True], np.diff(ranks) > 0))]  # sorted: times are


# --------------------------------------------------------------------------- scenes


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


def _largest(values: np.ndarray, count: int) -> np.ndarray:
    """Positions of the ``count`` largest ``values`` (ties: earlier first), in ascending order."""
    return np.sort(np.argsort(-values, kind="stable")[:count])


def _select_scenes(analysis: Analysis, **params: Any) -> np.ndarray:
    """Frames shared among scenes in proportion to their length.

    With a budget ``n`` of at least the ``k`` scenes in the range, every scene gets one frame and
    the other ``n - k`` are shared in proportion to each scene's length beyond its first frame
    (largest remainder), so a scene never gets more frames than it has and ``n`` equal to the
    range's frame count selects every frame. With ``n < k``, the ``n`` longest scenes get one.
    A scene's frames sit at the centres of equal sub-intervals of its core: the scene without the
    fades and dissolves at its ends (see :mod:`framepick.transitions`), lengths counted in it.
    """
    first, last = frame_range(analysis, params["start_s"], params["end_s"])
    count = _budget(analysis, first, last, params)
    scenes = _scenes_within(analysis, first, last)
    starts, lengths = _cores(scenes, _pickable(analysis, first, last, scenes))
    if count <= len(scenes):
        chosen = _largest(lengths, count)
        counts = np.zeros(len(scenes), dtype=np.int64)
        counts[chosen] = 1
    else:
        counts = 1 + _largest_remainder((lengths - 1).astype(np.float64), count - len(scenes))
    return first + _centres(starts, lengths, counts)


# --------------------------------------------------------------------------- adaptive


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


def _select_adaptive(
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
    count = _budget(analysis, first, last, params)
    scenes = _scenes_within(analysis, first, last)
    allowed = _pickable(analysis, first, last, scenes)
    density = _density(analysis, first, last, floor=floor, sharpness=sharpness, smooth_s=smooth_s) * allowed
    mass = np.add.reduceat(density, scenes[:, 0])
    if count <= len(scenes):
        cumulative = np.cumsum(density)
        chosen = _largest(mass, count)
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


# --------------------------------------------------------------------------- temporal pairs


def _paired(analysis: Analysis, strategy: str, params: dict[str, Any]) -> np.ndarray:
    """Half the budget chosen as moments by ``strategy``, each with its partner frame."""
    first, last = frame_range(analysis, params["start_s"], params["end_s"])
    moments = max(1, _budget(analysis, first, last, params) // 2)
    chosen = _SELECTORS[strategy](analysis, **{**params, "frames": moments, "multiple_of": 1})
    gap = max(1, round(params["pair_s"] * analysis.info.fps))
    return _pair(analysis, np.asarray(chosen, dtype=np.int64), gap, first, last)


def _pair(analysis: Analysis, moments: np.ndarray, gap: int, first: int, last: int) -> np.ndarray:
    """Every moment (sorted frame indices) with a partner up to ``gap`` frames after it, or before
    it where there is no room after, in its scene, outside transitions and between its
    neighbours' frames; a moment with no room on either side is dropped, unless none would be
    left (a video of one frame): then the first moment alone. Sorted, pairs adjacent."""
    free = ~analysis.in_transition()
    scene_starts, scene_ends = analysis.scenes[analysis.scene_of(moments)].T
    out: list[int] = []
    for k, moment in enumerate(moments.tolist()):
        low = max(int(scene_starts[k]), first, out[-1] + 1 if out else first)
        high = min(int(scene_ends[k]) - 1, last, int(moments[k + 1]) - 1 if k + 1 < len(moments) else last)
        after = [c for c in range(min(moment + gap, high), moment, -1) if free[c]]
        before = [c for c in range(max(moment - gap, low), moment) if free[c]]
        if after or before:
            out += [moment, after[0]] if after else [before[0], moment]
    return np.asarray(out or moments[:1].tolist(), dtype=np.int64)


# --------------------------------------------------------------------------- novelty


def _select_novelty(analysis: Analysis, *, threshold: float, **params: Any) -> np.ndarray:
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
    count = _budget(analysis, first, last, params)
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
    keep = min(count, _keep_multiple(len(picked), params["multiple_of"]))
    return frames[np.sort(picked[_largest(novelty, keep)])]


_SELECTORS: dict[str, Callable[..., np.ndarray]] = {
    "uniform": _select_uniform,
    "fps": _select_fps,
    "scenes": _select_scenes,
    "adaptive": _select_adaptive,
    "novelty": _select_novelty,
}


class _CallableModule(types.ModuleType):
    """This module, callable as :func:`select`: ``framepick.select(analysis, "adaptive")`` works
    whether or not ``framepick.select`` (the module, which the import system puts on the package
    under that name) was imported, and ``from framepick.select import select`` still does."""

    def __call__(self, analysis: Analysis, strategy: str = "uniform", **params: Any) -> Selection:
        return select(analysis, strategy, **params)


sys.modules[__name__].__class__ = _CallableModule
