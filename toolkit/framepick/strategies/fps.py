"""``fps``: a fixed number of frames per second of presentation time."""

from __future__ import annotations

import math

import numpy as np

from ..types import Analysis
from ._common import RANGE, frame_range, keep_multiple
from ._registry import register

__all__ = ["select_fps"]


@register("fps", defaults={"fps": 2.0, "max_frames": None, **RANGE, "multiple_of": 2}, timing_only=True)
def select_fps(
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
    count = keep_multiple(count, multiple_of)
    step_s = (stop - start) / count
    ranks = _centre_ranks(analysis.frame_times_s[first:last + 1], start, step_s, count)
    centres_s = start + (ranks + 0.5) * step_s
    shown = np.searchsorted(analysis.frame_times_s, centres_s, side="right") - 1
    picks = np.unique(np.clip(shown, first, last))
    return picks[: keep_multiple(len(picks), multiple_of)]


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
