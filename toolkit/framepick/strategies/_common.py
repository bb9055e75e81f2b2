"""What the strategies share: the parameters several of them take (their names, defaults and
allowed values, meant once in :mod:`framepick.select`'s docstring), the time range and the frame
budget those parameters give, and the view of an analysis's scenes and transitions that the
scene-aware strategies choose from.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..checks import MAX_FPS, MAX_FRAMES, Span
from ..errors import ConfigError
from ..qwen_models import FAMILIES, token_frames
from ..qwen_rules import PAIR_S, VIDEO_MAX_TOKENS, frame_budget
from ..types import Analysis

__all__ = ["BUDGET", "FRAME_COUNT", "RANGE", "PAIRS", "SHARED_SPANS", "frame_range", "budget", "keep_multiple",
           "scenes_within", "states_within", "allowed_frames", "cores", "largest"]

FRAME_COUNT: dict[str, Any] = {"frames": None, "fps": 2.0, "min_frames": 4, "max_frames": 768}
"""The frame count's own parameters and their defaults: what :func:`budget` needs."""
BUDGET: dict[str, Any] = {**FRAME_COUNT, "tokens": None, "factor": FAMILIES["Qwen2.5-VL"].factor}
"""The budget's parameters and their defaults (read by :func:`budget`): the frame count, and a
budget of video tokens at a size factor (a strategy registered with :data:`FRAME_COUNT` alone
counts frames only)."""
RANGE: dict[str, Any] = {"start_s": None, "end_s": None}
"""The time range's parameters (read by :func:`frame_range`)."""
PAIRS: dict[str, Any] = {"pair_s": None}
"""Temporal pairs (see :func:`framepick.strategies.paired`); a strategy that takes it takes
:data:`FRAME_COUNT` and :data:`RANGE` too."""

SHARED_SPANS: dict[str, Span] = {
    "frames": Span(int, 1, MAX_FRAMES, none=True),
    "fps": Span(float, 0.0, MAX_FPS, low_included=False),  # above the video's rate: every frame
    "min_frames": Span(int, 1, MAX_FRAMES),
    "max_frames": Span(int, 1, MAX_FRAMES, none=True),
    "tokens": Span(int, 1, MAX_FRAMES * VIDEO_MAX_TOKENS, none=True),  # the largest selection at the most a frame
    "factor": Span(int, 1, 1024),  # as OutputConfig's
    "start_s": Span(float, none=True),  # any time: clamped to the video, as qwen-vl-utils does
    "end_s": Span(float, none=True),
    "multiple_of": Span(int, 1, MAX_FRAMES),
    "pair_s": Span(float, 0.0, PAIR_S, none=True),
}
"""The values the shared parameters allow (None only where shown); a strategy's own parameters
have their spans in its module."""


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


def budget(analysis: Analysis, first: int, last: int, params: dict[str, Any]) -> int:
    """The frame count for frames ``first..last`` by qwen-vl-utils' rule (:func:`frame_budget`),
    from the :data:`BUDGET` parameters and ``multiple_of`` in ``params``; with ``tokens``, lowered
    until the frames fit that many video tokens at ``factor`` (:func:`token_frames`)."""
    count = frame_budget(last - first + 1, analysis.info.fps, frames=params["frames"], sample_fps=params["fps"],
                         min_frames=params["min_frames"], max_frames=params["max_frames"],
                         multiple_of=params["multiple_of"])
    if params.get("tokens") is None:
        return count
    info = analysis.info
    return token_frames(info.width, info.height, count, tokens=params["tokens"], factor=params["factor"],
                        multiple_of=params["multiple_of"])


def keep_multiple(count: int, factor: int) -> int:
    """``count`` floored to a multiple of ``factor``, but never below ``min(count, factor)``."""
    return count if count < factor else count - count % factor


def scenes_within(analysis: Analysis, first: int, last: int) -> np.ndarray:
    """Scenes clipped to frames ``first..last``, relative to ``first`` (int64, shape (k, 2))."""
    clipped = np.clip(analysis.scenes, first, last + 1) - first
    return clipped[clipped[:, 1] > clipped[:, 0]]


def states_within(analysis: Analysis, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    """The states of frames ``first..last``: the stretches between scene cuts, the ends of gradual
    transitions and state changes (:attr:`~framepick.types.Analysis.state_changes`).

    Returns ``[start, end)`` frames relative to ``first`` (int64, (k, 2), tiling the range) and the
    strength of the change that opens each (float64, (k,)): 1 for a cut, a transition's end and the
    range's first state, :attr:`~framepick.types.Analysis.state_strengths` for a state change.
    """
    bounds = np.concatenate([analysis.scenes[1:, 0], analysis.transitions.ravel(), analysis.state_changes])
    strengths = np.concatenate([np.ones(len(analysis.scenes) - 1 + analysis.transitions.size),
                                analysis.state_strengths.astype(np.float64)])
    inside = (bounds > first) & (bounds <= last)
    order = np.lexsort((-strengths[inside], bounds[inside]))  # by frame, the strongest first
    bounds, strengths = bounds[inside][order] - first, strengths[inside][order]
    bounds, unique = np.unique(bounds, return_index=True)
    edges = np.concatenate([[0], bounds, [last - first + 1]]).astype(np.int64)
    return np.stack([edges[:-1], edges[1:]], axis=1), np.concatenate([[1.0], strengths[unique]])


def allowed_frames(analysis: Analysis, first: int, last: int, scenes: np.ndarray) -> np.ndarray:
    """Which frames ``first..last`` may be picked (bool, relative to ``first``): those outside
    the gradual transitions, and every frame of a scene (``scenes``, relative) that lies wholly
    inside transitions."""
    allowed = ~analysis.in_transition()[first:last + 1]
    none = np.add.reduceat(allowed, scenes[:, 0]) == 0
    for start, end in scenes[none].tolist():
        allowed[start:end] = True
    return allowed


def cores(scenes: np.ndarray, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and length of each scene's core (relative frames, int64): the scene without the
    frames at its ends that may not be picked (``allowed`` from :func:`allowed_frames`)."""
    positions = np.flatnonzero(allowed)
    starts = positions[np.searchsorted(positions, scenes[:, 0])]
    ends = positions[np.searchsorted(positions, scenes[:, 1]) - 1] + 1
    return starts, ends - starts


def largest(values: np.ndarray, count: int) -> np.ndarray:
    """Positions of the ``count`` largest ``values`` (ties: earlier first), in ascending order."""
    return np.sort(np.argsort(-values, kind="stable")[:count])
