"""Per-frame change scores: how much each analysed frame differs from the one before it.

Two measures, each normalised to [0, 1]:

- ``luma_diff``: mean absolute difference of BT.601 luma, divided by 255 (motion, lighting);
- ``hist_diff``: total-variation distance of joint RGB histograms (new colours: cuts, new content).

The combined ``score`` is their mean. Absolute normalisation (not per video) keeps one threshold
meaningful across videos. The work is done by compiled kernels in :mod:`framepick._kernels`,
imported on first use so that importing framepick stays cheap.
"""

from __future__ import annotations

import numpy as np

from .errors import ConfigError

__all__ = ["luma_difference", "histogram_difference", "combine", "ChangeScorer"]

DEFAULT_BINS = 8


def _frames_array(frames: np.ndarray, name: str = "frames") -> np.ndarray:
    frames = np.ascontiguousarray(frames)
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
        raise ConfigError(f"{name} must be uint8 RGB of shape (n, h, w, 3), got {frames.dtype} {frames.shape}")
    return frames


def _previous_frame(frames: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    if previous is None:
        return frames[0] if len(frames) else np.zeros(frames.shape[1:], np.uint8)
    previous = np.ascontiguousarray(previous)
    if previous.shape != frames.shape[1:] or previous.dtype != np.uint8:
        raise ConfigError(f"previous frame must be uint8 {frames.shape[1:]}, got {previous.dtype} {previous.shape}")
    return previous


def luma_difference(frames: np.ndarray, previous: np.ndarray | None = None) -> np.ndarray:
    """Mean absolute luma difference of each frame against the one before it, in [0, 1].

    Parameters
    ----------
    frames : uint8 array, shape (n, h, w, 3)
        Consecutive RGB frames.
    previous : uint8 array, shape (h, w, 3), optional
        The frame before ``frames[0]``; without it the first value is 0.

    Returns
    -------
    float32 array, shape (n,)
        Luma levels (BT.601) divided by 255.
    """
    from ._kernels import luma_planes, mean_abs_diff

    frames = _frames_array(frames)
    previous_plane = luma_planes(_previous_frame(frames, previous)[None])[0]
    return mean_abs_diff(luma_planes(frames), previous_plane) / np.float32(255.0)


def histogram_difference(
    frames: np.ndarray, previous: np.ndarray | None = None, *, bins: int = DEFAULT_BINS
) -> np.ndarray:
    """Total-variation distance of each frame's RGB histogram against the one before it.

    Parameters
    ----------
    frames : uint8 array, shape (n, h, w, 3)
        Consecutive RGB frames.
    previous : uint8 array, shape (h, w, 3), optional
        The frame before ``frames[0]``; without it the first value is 0.
    bins : int
        Levels per channel of the joint histogram (``bins ** 3`` cells), 2 to 64.

    Returns
    -------
    float32 array, shape (n,)
        Distances in [0, 1]: 0 for identical colour distributions, 1 for disjoint ones.
    """
    from ._kernels import rgb_histograms, total_variation

    if not 2 <= bins <= 64:
        raise ConfigError(f"bins must be between 2 and 64, got {bins}")
    frames = _frames_array(frames)
    previous_hist = rgb_histograms(_previous_frame(frames, previous)[None], bins)[0]
    return total_variation(rgb_histograms(frames, bins), previous_hist)


def combine(luma_diff: np.ndarray, hist_diff: np.ndarray) -> np.ndarray:
    """The combined change score: the mean of the two normalised measures (float32, in [0, 1])."""
    return ((np.asarray(luma_diff, np.float32) + np.asarray(hist_diff, np.float32)) / 2).astype(np.float32)


class ChangeScorer:
    """Scores a video chunk by chunk, carrying the last frame over from one chunk to the next.

    The first frame of the video scores 0. Feed chunks in order with :meth:`update`.
    """

    def __init__(self, *, bins: int = DEFAULT_BINS) -> None:
        self.bins = bins
        self._last: np.ndarray | None = None

    def update(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(luma_diff, hist_diff)`` of ``frames`` (uint8, (n, h, w, 3)), each float32 (n,)."""
        frames = _frames_array(frames)
        if len(frames) == 0:
            return np.empty(0, np.float32), np.empty(0, np.float32)
        luma = luma_difference(frames, self._last)
        hist = histogram_difference(frames, self._last, bins=self.bins)
        self._last = frames[-1].copy()
        return luma, hist
