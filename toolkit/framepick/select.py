"""Selection: turn an analysis into frame indices, without decoding anything.

``select(analysis, strategy, **params)`` checks the parameters, calls the strategy (one module
each in :mod:`framepick.strategies`, which lists them), pairs its frames where ``pair_s`` asks,
and returns a :class:`~framepick.types.Selection`. All strategies are fast enough for notebook
sliders (timings in reports/selection.md).

Shared parameters, with the same meaning in every strategy that has them:

``frames`` / ``fps`` / ``min_frames`` / ``max_frames``
    The frame count (the *budget*), by qwen-vl-utils' rule (see :func:`framepick.qwen_rules.frame_budget`).
``tokens`` / ``factor``
    A budget of video tokens instead of frames: the count above (from ``frames`` or ``fps``) is
    lowered until the frames, at the size Qwen's rule gives them within that budget, fit in
    ``tokens`` tokens at ``factor`` pixels per token side (28: Qwen2.5-VL, the default; 32:
    Qwen3-VL; a job takes ``[output] factor``). Each frame keeps at least qwen-vl-utils' 128
    tokens; the size is then :func:`framepick.qwen_models.token_frame_size` (see
    :func:`framepick.qwen_models.token_frames`). ``fps`` has no ``tokens``.
``start_s`` / ``end_s``
    Restrict the selection to this time range in seconds, as qwen-vl-utils' ``video_start`` and
    ``video_end`` do: from frame ``ceil(start_s * fps)`` to frame ``floor(end_s * fps)``, both
    included, with the video's average ``fps``.
``multiple_of``
    The count is a multiple of this (2 by default: Qwen2.5-VL merges frames in temporal pairs);
    1 disables it.
``pair_s`` (the strategies that choose moments: ``scenes``, ``adaptive``, ``novelty``)
    Temporal pairs: Qwen merges consecutive frames two by two into one set of tokens with one
    time. With ``pair_s`` set (seconds, at most :data:`framepick.qwen_rules.PAIR_S`), the strategy
    chooses half the budget as *moments* and each moment brings a second frame ``pair_s`` later
    (earlier where its state, a transition or the next moment leaves no room), in the same state:
    consecutive frames ``(0, 1), (2, 3), ...`` show one moment each. Pairs are made only where
    half the budget gives every state of the range a moment (a scene, or a part of one between
    state changes: :func:`framepick.strategies.pairs_fit`); otherwise a pair would cost a state its
    frame, the frames are chosen one by one and the selection's ``pair_s`` is 0. None or 0:
    frames are chosen one by one. :func:`framepick.sample` sets it to ``PAIR_S`` for Qwen's
    output size rule.

Every parameter's default and allowed values are kept once, in the strategies' registry
(:func:`~framepick.strategies.strategy_defaults`, :data:`~framepick.strategies.PARAM_SPANS`), and
checked before anything is computed. Memory follows the video's frame count and the budget,
whatever a parameter's value: no count exceeds the frames of the range (an ``fps`` above the
video's own rate takes every frame).

Every :class:`~framepick.types.Selection` carries the full parameters, defaults included, so that
``select(analysis, sel.strategy, **sel.params)`` gives the same frames again.
"""

from __future__ import annotations

import sys
import types
from typing import Any

import numpy as np

from .checks import instance_argument
from .strategies import (
    STRATEGIES,
    TIMING_ONLY,
    frame_range,
    lookup,
    paired,
    pairs_fit,
    strategy_defaults,
    strategy_params,
)
from .types import Analysis, Selection

__all__ = ["STRATEGIES", "TIMING_ONLY", "select", "strategy_defaults", "strategy_params", "frame_range"]


def select(analysis: Analysis, strategy: str = "uniform", **params: Any) -> Selection:
    """Choose frames of an analysed video.

    Parameters
    ----------
    analysis : Analysis
        Result of the analysis pass.
    strategy : str
        How to choose: one of :data:`STRATEGIES` (``"uniform"``, ``"fps"``, ``"scenes"``,
        ``"adaptive"``, ``"novelty"``, ...); see :mod:`framepick.strategies`.
    **params
        The strategy's parameters (see :func:`strategy_defaults`; their allowed values:
        :data:`framepick.strategies.PARAM_SPANS`); missing ones take defaults.

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
    function = lookup(strategy).function
    if params.get("pair_s") and not pairs_fit(analysis, params):
        params = {**params, "pair_s": 0.0}
    if params.get("pair_s"):
        indices = paired(analysis, function, params)
    else:
        indices = np.asarray(function(analysis, **params), dtype=np.int64)
    return Selection(indices=indices, times_s=analysis.times_of(indices), strategy=strategy, params=params)


class _CallableModule(types.ModuleType):
    """This module, callable as :func:`select`: ``framepick.select(analysis, "adaptive")`` works
    whether or not ``framepick.select`` (the module, which the import system puts on the package
    under that name) was imported, and ``from framepick.select import select`` still does."""

    def __call__(self, analysis: Analysis, strategy: str = "uniform", **params: Any) -> Selection:
        return select(analysis, strategy, **params)


sys.modules[__name__].__class__ = _CallableModule
