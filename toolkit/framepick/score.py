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
cuts. For gradual transitions (:mod:`framepick.transitions`) the scorer also measures each frame's
contrast and how well a short window ending at it is a blend of its two ends (a fade or a
dissolve moves every pixel along the line between two pictures; motion does not). Absolute
normalisation (not per video) keeps one threshold meaningful across videos. The work is done by
compiled kernels in :mod:`framepick._kernels`, imported on first use so that importing framepick
stays cheap.
"""

from __future__ import annotations

import numpy as np

from .errors import ConfigError

__all__ = ["MEASURES", "local_difference", "luma_difference", "histogram_difference", "block_pixels", "blend_fit",
           "blend_lag", "step_third", "normal_rows", "step_reach", "standardised_cells", "step_evidence",
           "ChangeScorer"]

DEFAULT_BINS = 8
GRID = 8  # blocks per side of the local measure's grid
TOP_SHARE = 1 / 16  # share of the blocks averaged: the most changed sixteenth of the frame
MIN_STD = 8.0  # luma levels: flatter frames (black, a fade's darkest) are not stretched further
FULL_CHANGE = 2.0  # standard deviations of block change that score 1 (unrelated pictures: ~1.1)
BLEND_WINDOW_S = 0.5  # seconds spanned by a blend window (see ChangeScorer)
BLEND_SHARE = 0.75  # share of the blocks the blend fit keeps: the best fitting (motion elsewhere)
STEP_THIRD_S = 0.5  # seconds spanned by each third of a step window (see ChangeScorer)
NORMAL_S = 4.0  # seconds of the past over which a block's own activity is averaged
NORMAL_WEIGHT = 1.5  # how many times its own activity a block must exceed to have changed state
CELLS_PER_BLOCK = 4  # cells per block side in the step measure's cell images
STEP_BLOCK = 0.2  # standard deviations: a block whose step evidence reaches this has changed state
MEASURES = ("score", "luma_diff", "hist_diff", "contrast", "blend_alpha", "blend_residual", "blend_span",
            "span_change", "step", "step_share")


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


def _consecutive(planes: np.ndarray, previous_plane: np.ndarray) -> np.ndarray:
    """The plane before each of ``planes`` (uint8 (n, h, w)), ``previous_plane`` first."""
    return np.concatenate([previous_plane[None], planes[:-1]])


def _top_mean(blocks: np.ndarray, share: float) -> np.ndarray:
    """The mean of each row's largest ``share`` of its values (at least one): float (n,) of
    ``blocks`` (n, blocks)."""
    top = max(1, round(blocks.shape[1] * share))
    return np.sort(blocks, axis=1)[:, -top:].mean(axis=1)


def _block_change(planes: np.ndarray, references: np.ndarray, share: float) -> np.ndarray:
    """Block changes of ``planes`` against ``references`` (both uint8 (n, h, w)), averaged over the
    ``share`` most changed blocks, divided by ``FULL_CHANGE`` and clipped to 1: float32 (n,)."""
    from ._kernels import block_diffs

    blocks = block_diffs(planes, references, GRID, MIN_STD)
    return np.minimum(_top_mean(blocks, share) / FULL_CHANGE, 1.0).astype(np.float32)


def _local_change(planes: np.ndarray, references: np.ndarray) -> np.ndarray:
    """The local measure (the most changed ``TOP_SHARE`` of the blocks), float32 (n,)."""
    return _block_change(planes, references, TOP_SHARE)


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
    planes, previous_plane = _luma(_frames_array(frames), previous)
    return _local_change(planes, _consecutive(planes, previous_plane))


def _fit(sums: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares ``alpha``, residual and span energies of blend fits over the blocks of
    ``sums`` (float64 (n, 3, blocks), from :func:`framepick._kernels.blend_sums`), each (n,)."""
    span, along, middle = sums.sum(axis=2).T
    alpha = np.divide(along, span, out=np.full(len(span), 0.5), where=span > 0)
    return alpha, np.maximum(middle - 2 * alpha * along + alpha ** 2 * span, 0.0), span


def block_pixels(height: int, width: int, grid: int = GRID) -> np.ndarray:
    """Pixels in each block of the ``grid`` x ``grid`` tiling of the kernels (int64, (grid ** 2,),
    row-major): block ``(by, bx)`` spans rows ``by * height // grid`` to ``(by + 1) * height // grid``."""
    rows = np.diff(np.arange(grid + 1) * height // grid)
    cols = np.diff(np.arange(grid + 1) * width // grid)
    return np.outer(rows, cols).ravel()


def blend_fit(sums: np.ndarray, pixels: np.ndarray, *, share: float = BLEND_SHARE) -> np.ndarray:
    """The blend fit of each window, robust to motion in part of the picture.

    A fit over every block gives ``alpha``; the ``share`` of the blocks it fits best are kept
    and fitted again, so that an object moving across a fade or a dissolve does not hide it
    (a pan, which moves every block, still fits badly).

    Parameters
    ----------
    sums : float64 array, shape (n, 3, blocks)
        Per-block sums from :func:`framepick._kernels.blend_sums`.
    pixels : int64 array, shape (blocks,)
        Pixels per block (see :func:`block_pixels`).

    Returns
    -------
    float64 array, shape (n, 3)
        ``alpha`` (0 at the window's first frame, 1 at its last), and the root mean squares over
        the kept blocks of the fit's residual and of the ends' difference, in luma levels.
    """
    alpha, _, _ = _fit(sums)
    span, along, middle = sums[:, 0], sums[:, 1], sums[:, 2]
    residual = middle - 2 * alpha[:, None] * along + alpha[:, None] ** 2 * span
    blocks = sums.shape[2]
    keep = max(1, round(blocks * share))
    best = np.argsort(residual, axis=1, kind="stable")[:, :keep]
    alpha, residual, span = _fit(np.take_along_axis(sums, best[:, None, :], axis=2))
    kept_pixels = np.maximum(pixels[best].sum(axis=1), 1)
    return np.stack([alpha, np.sqrt(residual / kept_pixels), np.sqrt(span / kept_pixels)], axis=1)


def blend_lag(analysed_fps: float) -> int:
    """Analysed frames between a blend window's ends and its middle: ``BLEND_WINDOW_S / 2``
    seconds at ``analysed_fps`` frames per second, at least 2."""
    return max(2, round(BLEND_WINDOW_S / 2 * analysed_fps))


def step_third(analysed_fps: float) -> int:
    """Analysed frames in each third of a step window: ``STEP_THIRD_S`` seconds at
    ``analysed_fps`` frames per second, at least 1."""
    return max(1, round(STEP_THIRD_S * analysed_fps))


def normal_rows(analysed_fps: float) -> int:
    """Analysed frames over which a block's own activity is averaged: ``NORMAL_S`` seconds, at
    least 1."""
    return max(1, round(NORMAL_S * analysed_fps))


def step_reach(analysed_fps: float) -> int:
    """Analysed frames before a frame that its step measures depend on: its window's
    ``3 * step_third``, and the ``normal_rows`` windows ending before it began whose activity is
    averaged."""
    return 6 * step_third(analysed_fps) + normal_rows(analysed_fps) - 1


def standardised_cells(planes: np.ndarray) -> np.ndarray:
    """Cell images of luma ``planes`` (uint8 (n, h, w)): the mean of each cell of a
    ``GRID * CELLS_PER_BLOCK`` square tiling, standardised per frame (mean 0, standard deviation
    1, the latter at least ``MIN_STD`` levels, as :func:`local_difference`): float32 (n, c, c)."""
    from ._kernels import cell_means

    cells = cell_means(planes, GRID * CELLS_PER_BLOCK)
    means = cells.mean(axis=(1, 2), keepdims=True)
    spread = np.maximum(cells.std(axis=(1, 2), keepdims=True), np.float32(MIN_STD))
    return ((cells - means) / spread).astype(np.float32)


def _trailing_mean(history: np.ndarray, width: int, rows: int, delay: int) -> np.ndarray:
    """For each of the last ``rows`` rows of ``history`` (float32 (n, k)), the mean of the
    ``width`` rows that end ``delay`` rows before it, the first row standing in for rows before the
    first: float32 (rows, k). Each mean reads the same values in the same order however
    ``history`` was gathered."""
    span = width + rows - 1 + delay
    padded = np.concatenate([np.repeat(history[:1], max(0, span - len(history)), axis=0), history])[-span:]
    windows = np.lib.stride_tricks.sliding_window_view(padded[:len(padded) - delay], width, axis=0)
    return windows.mean(axis=2, dtype=np.float64).astype(np.float32)


def step_evidence(diffs: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """Per-block evidence that a block changed state in the middle third of its step window.

    Parameters
    ----------
    diffs : float32 array, shape (n, 3, blocks)
        Block changes over the window's thirds (before, middle, after), from
        :func:`framepick._kernels.step_diffs`, in standard deviations.
    normal : float32 array, shape (n, blocks)
        Each block's own activity: the mean of its outer thirds' larger change over the recent past.

    Returns
    -------
    float32 array, shape (n, blocks)
        ``middle - max(before, after) - normal``: high where a block was steady, changed, and was
        steady again (a slide change, a caption, an object that arrives and stays); near 0 or
        below for steady motion (a pan, a ticker, a speaker), a transient (gone again within the
        middle third) and a block that is always busy.
    """
    before, middle, after = diffs[:, 0], diffs[:, 1], diffs[:, 2]
    return middle - np.maximum(before, after) - NORMAL_WEIGHT * normal


class ChangeScorer:
    """Scores a video chunk by chunk, carrying the frames it still needs over from one chunk to
    the next.

    :meth:`update` returns one row per frame, one column per name in ``MEASURES``:

    - ``score``, ``luma_diff``, ``hist_diff``: the change against the frame before (0 for the
      video's first frame), as :func:`local_difference`, :func:`luma_difference` and
      :func:`histogram_difference` compute them;
    - ``contrast``: the frame's luma standard deviation, in levels (a flat frame is near 0);
    - ``blend_alpha``, ``blend_residual``, ``blend_span``: the blend fit of the window of
      ``2 * lag + 1`` frames ending at this one (see :func:`blend_fit`): where its middle lies
      between its ends (0 to 1), the fit's residual and the ends' difference, root mean squares
      in luma levels; NaN for the first ``2 * lag`` frames;
    - ``span_change``: how much of the picture changed between the window's two ends: the
      standardised block change of :func:`local_difference` averaged over *all* blocks, so a
      title fading in over a shot scores low and a new shot high (NaN likewise);
    - ``step``, ``step_share``: whether the picture changed *state* in the middle third of the
      step window of ``3 * third + 1`` frames ending at this one (its middle third spans rows
      ``2 * third`` to ``third`` before this one): per block, :func:`step_evidence` against the
      block's own activity over the ``normal`` windows that end before this window begins;
      ``step`` averages the ``TOP_SHARE`` of the blocks with most evidence (divided by
      ``FULL_CHANGE``, clipped to [0, 1]: one line of text revealed), ``step_share`` is the share
      of blocks whose evidence reaches ``STEP_BLOCK`` (a new slide); NaN for the first
      ``3 * third`` frames.

    Parameters
    ----------
    lag : int
        Analysed frames from a blend window's ends to its middle (see :func:`blend_lag`).
    bins : int
        Histogram levels per channel.
    third : int
        Analysed frames per third of a step window (see :func:`step_third`).
    normal : int
        Step windows over which each block's own activity is averaged (see :func:`normal_rows`).
    """

    def __init__(self, *, lag: int = 6, bins: int = DEFAULT_BINS, third: int = 12, normal: int = 200) -> None:
        for name, value in (("lag", lag), ("third", third), ("normal", normal)):
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be an integer >= 1 frame, got {value!r}")
        self.lag = lag
        self.bins = bins
        self.third = third
        self.normal = normal
        self._last: np.ndarray | None = None  # the last RGB frame (histograms)
        self._window = np.empty((0, 0, 0), np.uint8)  # the last 2 * lag luma planes
        self._cells = np.empty((0, 0, 0), np.float32)  # the last 3 * third cell images
        self._outer = np.empty((0, GRID * GRID), np.float32)  # outer changes of the last normal + 3 * third windows

    def update(self, frames: np.ndarray) -> np.ndarray:
        """The measures of ``frames`` (uint8, (n, h, w, 3)): float32 (n, len(MEASURES))."""
        frames = _frames_array(frames)
        if len(frames) == 0:
            return np.empty((0, len(MEASURES)), np.float32)
        planes, previous_plane = _luma(frames, self._last)
        out = np.full((len(frames), len(MEASURES)), np.nan, np.float32)
        out[:, 0] = _local_change(planes, _consecutive(planes, previous_plane))
        out[:, 1] = _luma_change(planes, previous_plane)
        out[:, 2] = histogram_difference(frames, self._last, bins=self.bins)
        out[:, 3:8] = self._blend(planes)
        out[:, 8:] = self._steps(planes)
        self._last = frames[-1].copy()
        return out

    def _blend(self, planes: np.ndarray) -> np.ndarray:
        """``contrast`` and the blend columns of ``planes`` (float32 (n, 5)); moves the window on."""
        from ._kernels import blend_sums, plane_moments

        out = np.full((len(planes), 5), np.nan, np.float32)
        out[:, 0] = plane_moments(planes)[:, 1]
        reach = 2 * self.lag
        window = np.concatenate([self._window, planes]) if len(self._window) else planes
        first = max(reach, len(self._window))
        if first < len(window):
            done = first - len(self._window)  # rows of ``planes`` without a full window
            sums = blend_sums(window, self.lag, first, GRID)
            out[done:, 1:4] = blend_fit(sums, block_pixels(*planes.shape[1:]))
            out[done:, 4] = _block_change(window[first:], window[first - reach:len(window) - reach], 1.0)
        self._window = window[-reach:].copy()
        return out

    def _steps(self, planes: np.ndarray) -> np.ndarray:
        """``step`` and ``step_share`` of ``planes`` (float32 (n, 2)); moves the windows on."""
        from ._kernels import step_diffs

        out = np.full((len(planes), 2), np.nan, np.float32)
        reach = 3 * self.third
        cells = standardised_cells(planes)
        window = np.concatenate([self._cells, cells]) if len(self._cells) else cells
        first = max(reach, len(self._cells))
        if first < len(window):
            done = first - len(self._cells)  # rows of ``planes`` without a full window
            diffs = step_diffs(window, self.third, first, GRID)
            history = np.concatenate([self._outer, diffs[:, [0, 2]].max(axis=1)])
            normal = _trailing_mean(history, self.normal, len(diffs), reach)  # before each window
            evidence = step_evidence(diffs, normal)
            out[done:, 0] = np.clip(_top_mean(evidence, TOP_SHARE) / FULL_CHANGE, 0.0, 1.0)
            out[done:, 1] = (evidence >= STEP_BLOCK).mean(axis=1)
            self._outer = history[-(self.normal + reach):]
        self._cells = window[-reach:].copy()
        return out
