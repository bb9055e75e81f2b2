"""Per-frame change scores: how much each analysed frame differs from the one before it.

Three measures, each normalised to [0, 1]:

- ``local_diff``: the change ``score``. Luma is standardised per frame (its mean and contrast
  removed), differenced against the previous frame on a grid of blocks, and the blocks that
  changed most (one sixteenth of the frame) are averaged. A fade, an exposure or white-balance
  drift scores near 0; an event on a sixteenth of the frame scores like a change of the whole
  frame; uniform sensor noise stays low because it is spread evenly over the blocks;
- ``luma_diff``: mean absolute difference of BT.601 luma, divided by 255 (motion, lighting);
- ``hist_diff``: total-variation distance of joint RGB histograms (new colours: cuts, new content).

``luma_diff`` and ``hist_diff`` are recorded beside the score; PySceneDetect's detectors make the
cuts. Absolute normalisation (not per video) keeps one threshold meaningful across videos. The
work is done by compiled kernels in :mod:`framepick._kernels`, imported on first use so that
importing framepick stays cheap.
"""

from __future__ import annotations

import numpy as np

from .errors import ConfigError

__all__ = ["local_difference", "luma_difference", "histogram_difference", "ChangeScorer"]

DEFAULT_BINS = 8
GRID = 8  # blocks per side of the local measure's grid
TOP_SHARE = 1 / 16  # share of the blocks averaged: the most changed sixteenth of the frame
MIN_STD = 8.0  # luma levels: flatter frames (black, a fade's darkest) are not stretched further
FULL_CHANGE = 2.0  # standard deviations of block change that score 1 (unrelated pictures: ~1.1)


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


def _luma(frames: np.ndarray, previous: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Luma planes of validated ``frames`` (uint8 (n, h, w)) and of the frame before them (h, w)."""
    from ._kernels import luma_planes

    return luma_planes(frames), luma_planes(_previous_frame(frames, previous)[None])[0]


def _luma_change(planes: np.ndarray, previous_plane: np.ndarray) -> np.ndarray:
    from ._kernels import mean_abs_diff

    return mean_abs_diff(planes, previous_plane) / np.float32(255.0)


def _local_change(planes: np.ndarray, previous_plane: np.ndarray) -> np.ndarray:
    from ._kernels import block_diffs

    blocks = block_diffs(planes, previous_plane, GRID, MIN_STD)
    top = max(1, round(GRID * GRID * TOP_SHARE))
    changed = np.sort(blocks, axis=1)[:, -top:].mean(axis=1)
    return np.minimum(changed / FULL_CHANGE, 1.0).astype(np.float32)


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
    return _luma_change(*_luma(_frames_array(frames), previous))


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


def local_difference(frames: np.ndarray, previous: np.ndarray | None = None) -> np.ndarray:
    """Fade-invariant local change of each frame against the one before it, in [0, 1].

    Parameters
    ----------
    frames : uint8 array, shape (n, h, w, 3)
        Consecutive RGB frames (at least ``GRID`` pixels on each side for a full grid).
    previous : uint8 array, shape (h, w, 3), optional
        The frame before ``frames[0]``; without it the first value is 0.

    Returns
    -------
    float32 array, shape (n,)
        Mean absolute difference of luma standardised per frame (mean 0, standard deviation 1,
        the latter at least ``MIN_STD`` levels), per block of a ``GRID`` x ``GRID`` grid, averaged
        over the ``TOP_SHARE`` most changed blocks and divided by ``FULL_CHANGE``, clipped to 1.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> still = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    >>> darker = (still * 0.5).astype(np.uint8)  # a fade halfway to black
    >>> patch = still.copy(); patch[:16, :16] = 255 - patch[:16, :16]  # a sixteenth changes
    >>> local_difference(np.stack([still, darker, patch])).astype(float).round(2).tolist()
    [0.0, 0.01, 0.8]
    """
    return _local_change(*_luma(_frames_array(frames), previous))


class ChangeScorer:
    """Scores a video chunk by chunk, carrying the last frame over from one chunk to the next.

    The first frame of the video scores 0. Feed chunks in order with :meth:`update`.
    """

    def __init__(self, *, bins: int = DEFAULT_BINS) -> None:
        self.bins = bins
        self._last: np.ndarray | None = None

    def update(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(local_diff, luma_diff, hist_diff)`` of ``frames`` (uint8, (n, h, w, 3)), each
        float32 (n,)."""
        frames = _frames_array(frames)
        if len(frames) == 0:
            return np.empty(0, np.float32), np.empty(0, np.float32), np.empty(0, np.float32)
        planes = _luma(frames, self._last)  # shared by both luma measures
        local, luma = _local_change(*planes), _luma_change(*planes)
        hist = histogram_difference(frames, self._last, bins=self.bins)
        self._last = frames[-1].copy()
        return local, luma, hist
