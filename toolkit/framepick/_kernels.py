"""Compiled kernels behind :mod:`framepick.score`. Private: arrays in, arrays out, no validation.

Callers pass C-contiguous arrays of the documented dtypes; :mod:`framepick.score` makes sure of it.
Parallel loops run over frames and every iteration writes only its own output row, so threads never
share an output element. Each kernel has a plain NumPy reference in ``tests/test_kernels.py``.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# BT.601 luma weights in 1/256 units: Y = (77 R + 150 G + 29 B) >> 8.
_WR, _WG, _WB = 77, 150, 29


@njit(cache=True, nogil=True)
def _luma(pixel) -> np.int32:
    return (_WR * np.int32(pixel[0]) + _WG * np.int32(pixel[1]) + _WB * np.int32(pixel[2])) >> 8


@njit(cache=True, parallel=True, nogil=True)
def luma_mad(frames: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """Mean absolute luma difference of each frame against the one before it.

    frames: uint8 (n, h, w, 3) RGB; previous: uint8 (h, w, 3), the frame before ``frames[0]``.
    Returns float32 (n,) in luma levels (0..255).
    """
    n, h, w, _ = frames.shape
    out = np.empty(n, dtype=np.float32)
    for i in prange(n):
        before = previous if i == 0 else frames[i - 1]
        total = 0
        for y in range(h):
            for x in range(w):
                total += abs(_luma(frames[i, y, x]) - _luma(before[y, x]))
        out[i] = total / (h * w)
    return out


@njit(cache=True, parallel=True, nogil=True)
def rgb_histograms(frames: np.ndarray, bins: int) -> np.ndarray:
    """Joint RGB histogram of each frame with ``bins`` levels per channel, summing to 1.

    frames: uint8 (n, h, w, 3). Returns float32 (n, bins ** 3); bin of a pixel is
    ``(r * bins >> 8) * bins * bins + (g * bins >> 8) * bins + (b * bins >> 8)``.
    """
    n, h, w, _ = frames.shape
    out = np.zeros((n, bins * bins * bins), dtype=np.float32)
    weight = np.float32(1.0 / (h * w))
    for i in prange(n):
        for y in range(h):
            for x in range(w):
                r = (np.int32(frames[i, y, x, 0]) * bins) >> 8
                g = (np.int32(frames[i, y, x, 1]) * bins) >> 8
                b = (np.int32(frames[i, y, x, 2]) * bins) >> 8
                out[i, (r * bins + g) * bins + b] += weight
    return out


@njit(cache=True, nogil=True)
def total_variation(histograms: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """Total-variation distance ``0.5 * sum |p - q|`` of each histogram against the one before it.

    histograms: float32 (n, k); previous: float32 (k,), the histogram before ``histograms[0]``.
    Returns float32 (n,) in [0, 1] for histograms that sum to 1.
    """
    n, k = histograms.shape
    out = np.empty(n, dtype=np.float32)
    for i in range(n):
        total = 0.0
        for j in range(k):
            before = previous[j] if i == 0 else histograms[i - 1, j]
            total += abs(histograms[i, j] - before)
        out[i] = 0.5 * total
    return out
