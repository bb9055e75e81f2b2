"""Compiled kernels behind :mod:`framepick.score` (and ``cover_states``, behind the ``adaptive``
strategy). Private: arrays in, arrays out, no validation.

Callers pass C-contiguous arrays of the documented dtypes; :mod:`framepick.score` makes sure of it.
Each kernel has a plain NumPy reference in ``tests/test_kernels.py``.

The kernels are serial on purpose: they run on small frames between decoder calls while FFmpeg's
own threads keep the cores busy. ``prange`` versions of them were slower per frame than these
serial ones, not faster, as soon as the decoder (or another process) was using the cores,
because the OpenMP workers spin-wait for cores.
Batch parallelism comes from one process per video instead.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# BT.601 luma weights in 1/256 units: Y = (77 R + 150 G + 29 B) >> 8.
_WR, _WG, _WB = 77, 150, 29


@njit(cache=True, nogil=True)
def luma_planes(frames: np.ndarray) -> np.ndarray:
    """BT.601 luma of RGB frames: uint8 (n, h, w, 3) -> uint8 (n, h, w)."""
    n, h, w, _ = frames.shape
    out = np.empty((n, h, w), dtype=np.uint8)
    for i in range(n):
        for y in range(h):
            for x in range(w):
                r = np.int32(frames[i, y, x, 0])
                g = np.int32(frames[i, y, x, 1])
                b = np.int32(frames[i, y, x, 2])
                out[i, y, x] = (_WR * r + _WG * g + _WB * b) >> 8
    return out


@njit(cache=True, nogil=True)
def mean_abs_diff(planes: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """Mean absolute difference of each plane against the one before it.

    planes: uint8 (n, h, w); previous: uint8 (h, w), the plane before ``planes[0]``.
    Returns float32 (n,) in the planes' units (0..255).
    """
    n, h, w = planes.shape
    out = np.empty(n, dtype=np.float32)
    for i in range(n):
        before = previous if i == 0 else planes[i - 1]
        total = np.int64(0)
        for y in range(h):
            for x in range(w):
                total += abs(np.int32(planes[i, y, x]) - np.int32(before[y, x]))
        out[i] = total / (h * w)
    return out


@njit(cache=True, nogil=True)
def rgb_histograms(frames: np.ndarray, bins: int) -> np.ndarray:
    """Joint RGB histogram of each frame with ``bins`` levels per channel, summing to 1.

    frames: uint8 (n, h, w, 3). Returns float32 (n, bins ** 3); bin of a pixel is
    ``(r * bins >> 8) * bins * bins + (g * bins >> 8) * bins + (b * bins >> 8)``.
    """
    n, h, w, _ = frames.shape
    cells = bins * bins * bins
    out = np.empty((n, cells), dtype=np.float32)
    for i in range(n):
        counts = np.zeros(cells, dtype=np.int32)
        for y in range(h):
            for x in range(w):
                r = (np.int32(frames[i, y, x, 0]) * bins) >> 8
                g = (np.int32(frames[i, y, x, 1]) * bins) >> 8
                b = (np.int32(frames[i, y, x, 2]) * bins) >> 8
                counts[(r * bins + g) * bins + b] += 1
        for j in range(cells):
            out[i, j] = counts[j] / (h * w)
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
        before = previous if i == 0 else histograms[i - 1]
        total = 0.0
        for j in range(k):
            total += abs(histograms[i, j] - before[j])
        out[i] = 0.5 * total
    return out


@njit(cache=True, nogil=True)
def plane_moments(planes: np.ndarray) -> np.ndarray:
    """Mean and standard deviation of each plane: uint8 (n, h, w) -> float64 (n, 2), levels."""
    n, h, w = planes.shape
    out = np.empty((n, 2), dtype=np.float64)
    for i in range(n):
        total = 0.0
        squares = 0.0
        for y in range(h):
            for x in range(w):
                value = np.float64(planes[i, y, x])
                total += value
                squares += value * value
        mean = total / (h * w)
        out[i, 0] = mean
        out[i, 1] = np.sqrt(max(squares / (h * w) - mean * mean, 0.0))
    return out


@njit(cache=True, nogil=True)
def block_diffs(planes: np.ndarray, references: np.ndarray, grid: int, min_std: float) -> np.ndarray:
    """Per-block mean absolute difference of standardised planes against their references.

    Each plane is standardised by its own mean and standard deviation (the latter at least
    ``min_std`` levels) before differencing, so a change of brightness or contrast over the whole
    plane (a fade, an exposure drift) gives 0. Blocks tile the plane in a ``grid`` x ``grid``
    pattern (block ``(by, bx)`` spans rows ``by * h // grid`` to ``(by + 1) * h // grid``).

    planes, references: uint8 (n, h, w), compared pairwise (``planes[i]`` with ``references[i]``).
    Returns float32 (n, grid * grid), row-major blocks, in standard deviations.
    """
    n, h, w = planes.shape
    moments = plane_moments(planes)
    reference_moments = plane_moments(references)
    out = np.empty((n, grid * grid), dtype=np.float32)
    for i in range(n):
        scale_a = 1.0 / max(moments[i, 1], min_std)
        scale_b = 1.0 / max(reference_moments[i, 1], min_std)
        for by in range(grid):
            y0, y1 = by * h // grid, (by + 1) * h // grid
            for bx in range(grid):
                x0, x1 = bx * w // grid, (bx + 1) * w // grid
                total = 0.0
                for y in range(y0, y1):
                    for x in range(x0, x1):
                        a = (np.float64(planes[i, y, x]) - moments[i, 0]) * scale_a
                        b = (np.float64(references[i, y, x]) - reference_moments[i, 0]) * scale_b
                        total += abs(a - b)
                out[i, by * grid + bx] = total / max((y1 - y0) * (x1 - x0), 1)
    return out


@njit(cache=True, nogil=True)
def blend_sums(planes: np.ndarray, lag: int, first: int, grid: int) -> np.ndarray:
    """Per-block sums for fitting each window's middle as a blend of its two ends.

    For ``j`` in ``[first, n)`` the window is ``a = planes[j - 2 * lag]``, ``m = planes[j - lag]``,
    ``b = planes[j]``; with ``d = b - a`` and ``e = m - a`` per pixel, each block of a ``grid`` x
    ``grid`` tiling (as in :func:`block_diffs`) sums ``d * d``, ``d * e`` and ``e * e``: the
    least-squares fit ``m ~ a + alpha * d`` of any set of blocks follows from them.

    planes: uint8 (n, h, w); ``first >= 2 * lag``.
    Returns float64 (n - first, 3, grid * grid), in squared luma levels.
    """
    n, h, w = planes.shape
    out = np.zeros((n - first, 3, grid * grid), dtype=np.float64)
    for j in range(first, n):
        a, m, b = planes[j - 2 * lag], planes[j - lag], planes[j]
        for by in range(grid):
            y0, y1 = by * h // grid, (by + 1) * h // grid
            for bx in range(grid):
                x0, x1 = bx * w // grid, (bx + 1) * w // grid
                span = 0.0
                along = 0.0
                middle = 0.0
                for y in range(y0, y1):
                    for x in range(x0, x1):
                        d = np.float64(b[y, x]) - np.float64(a[y, x])
                        e = np.float64(m[y, x]) - np.float64(a[y, x])
                        span += d * d
                        along += d * e
                        middle += e * e
                block = by * grid + bx
                out[j - first, 0, block] = span
                out[j - first, 1, block] = along
                out[j - first, 2, block] = middle
    return out


@njit(cache=True, nogil=True)
def cell_means(planes: np.ndarray, cells: int) -> np.ndarray:
    """Mean of each cell of a ``cells`` x ``cells`` tiling of each plane.

    Cell ``(cy, cx)`` spans rows ``cy * h // cells`` to ``(cy + 1) * h // cells`` (at least one row:
    a plane with fewer rows than cells repeats rows), and columns alike.

    planes: uint8 (n, h, w). Returns float32 (n, cells, cells), in luma levels.
    """
    n, h, w = planes.shape
    out = np.empty((n, cells, cells), dtype=np.float32)
    for i in range(n):
        for cy in range(cells):
            y0 = cy * h // cells
            y1 = max((cy + 1) * h // cells, y0 + 1)
            for cx in range(cells):
                x0 = cx * w // cells
                x1 = max((cx + 1) * w // cells, x0 + 1)
                total = 0.0
                for y in range(y0, y1):
                    for x in range(x0, x1):
                        total += planes[i, y, x]
                out[i, cy, cx] = total / ((y1 - y0) * (x1 - x0))
    return out


@njit(cache=True, nogil=True)
def step_diffs(cells: np.ndarray, third: int, first: int, grid: int) -> np.ndarray:
    """Per-block changes across the three thirds of each step window.

    For ``j`` in ``[first, n)`` the window's points are ``p0 = j - 3 * third``, ``p1 = j - 2 * third``,
    ``p2 = j - third`` and ``p3 = j``; each block of a ``grid`` x ``grid`` tiling of the cells
    (``cells // grid`` cells per side) gets the mean absolute difference of its cells between
    ``p0`` and ``p1`` (before), ``p1`` and ``p2`` (middle) and ``p2`` and ``p3`` (after).

    cells: float32 (n, c, c), ``c`` a multiple of ``grid``; ``first >= 3 * third``.
    Returns float32 (n - first, 3, grid * grid), in the cells' units.
    """
    n, c, _ = cells.shape
    side = c // grid
    out = np.empty((n - first, 3, grid * grid), dtype=np.float32)
    for j in range(first, n):
        for part in range(3):
            a = cells[j - (3 - part) * third]
            b = cells[j - (2 - part) * third]
            for by in range(grid):
                for bx in range(grid):
                    total = 0.0
                    for y in range(by * side, (by + 1) * side):
                        for x in range(bx * side, (bx + 1) * side):
                            total += abs(a[y, x] - b[y, x])
                    out[j - first, part, by * grid + bx] = total / (side * side)
    return out


@njit(cache=True, nogil=True)
def _pair_held(first: int, count: int) -> bool:
    """Whether a state whose ``count`` picks start at pick ``first`` holds a Qwen pair (picks
    ``2k`` and ``2k + 1``)."""
    return count >= 3 or (count == 2 and first % 2 == 0)


@njit(cache=True, nogil=True)
def _pair_flips(state_of: np.ndarray, held: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each pick's state's first pick (int64 (n,)), and the prefix sums (int64 (n + 1,)) of what
    shifting a pick by one place does to the pairs of the state it opens: +1 or -1 for the first
    of a state of exactly two picks (the pair forms or breaks), 0 for any other pick."""
    n = len(state_of)
    first = np.empty(n, dtype=np.int64)
    flips = np.zeros(n + 1, dtype=np.int64)
    for j in range(n):
        opens = j == 0 or state_of[j - 1] != state_of[j]
        first[j] = j if opens else first[j - 1]
        change = (1 if j % 2 else -1) if opens and held[state_of[j]] == 2 else 0
        flips[j + 1] = flips[j] + change
    return first, flips


@njit(cache=True, nogil=True)
def _pairs_gained(i: int, slot: int, first: np.ndarray, flips: np.ndarray, count: int) -> int:
    """States holding a Qwen pair gained (negative: lost) by moving pick ``i`` of a state of
    ``count`` picks to the place before pick ``slot`` (into a state holding none). The picks
    between shift one place: only the states they hold whole and the donor's state change."""
    a = first[i]
    if i < slot:  # picks i+1..slot-1 shift back; the donor keeps its first place
        shifted, new_first = flips[slot] - flips[i + 1], a
    else:  # picks slot..i-1 shift on, the donor's first with them (or its next pick stays put)
        shifted, new_first = flips[i] - flips[slot] - (flips[a + 1] - flips[a] if a < i else 0), a + 1
    return shifted + int(_pair_held(new_first, count - 1)) - int(_pair_held(a, count))


@njit(cache=True, nogil=True)
def _pairs_gained_by_two(i: int, slot: int, state_of: np.ndarray, first: np.ndarray, held: np.ndarray) -> int:
    """States holding a Qwen pair gained (negative: lost) by moving picks ``i`` and ``i + 1`` to
    the place before pick ``slot`` (into a state holding none): the picks between shift two
    places, which keeps their pairs; only the donors' states and the new one can change."""
    a, b, start = state_of[i], state_of[i + 1], first[i]
    if a == b:
        lost = int(_pair_held(start, held[a])) - int(_pair_held(start, held[a] - 2))
    else:  # the first donor keeps its first place's parity, the second's first place flips
        lost = (int(_pair_held(start, held[a])) - int(_pair_held(start, held[a] - 1))
                + int(_pair_held(i + 1, held[b])) - int(_pair_held(i, held[b] - 1)))
    place = slot - (2 if i + 1 < slot else 1 if i < slot else 0)
    return int(place % 2 == 0) - lost


@njit(cache=True, nogil=True)
def _moved(picks: np.ndarray, state_of: np.ndarray, i: int, count: int, frames: np.ndarray,
           state: int) -> tuple[np.ndarray, np.ndarray]:
    """``picks`` and ``state_of`` without picks ``i`` to ``i + count - 1``, with the sorted
    ``frames`` (of ``state``) in their places instead."""
    kept = np.concatenate((picks[:i], picks[i + count:]))
    kept_states = np.concatenate((state_of[:i], state_of[i + count:]))
    at = np.searchsorted(kept, frames[0])
    states = np.empty_like(frames)
    states[:] = state
    return (np.concatenate((kept[:at], frames, kept[at:])),
            np.concatenate((kept_states[:at], states, kept_states[at:])))


@njit(cache=True, nogil=True)
def _gap_left(picks: np.ndarray, i: int, count: int, low: int, high: int, length: int) -> int:
    """Frames between the neighbours of picks ``i`` to ``i + count - 1`` once they are gone, or,
    where the new frames ``low..high`` fall between those neighbours, the larger gap they leave."""
    before = picks[i - 1] if i > 0 else -1
    after = picks[i + count] if i + count < len(picks) else length
    return max(low - before, after - high) if before < low and high < after else after - before


@njit(cache=True, nogil=True)
def _best_move(picks: np.ndarray, state_of: np.ndarray, held: np.ndarray, first: np.ndarray, flips: np.ndarray,
               frames: np.ndarray, max_gap: float, length: int, keep_pairs: bool, slack: int) -> tuple[int, int]:
    """The first of the ``len(frames)`` (1 or 2) neighbouring picks whose move to ``frames`` (of
    a state holding none, sorted) :func:`cover_states` makes, and the states holding a Qwen pair
    it gains; ``(-1, 0)`` if none is allowed (``slack``: how many it may lose; ``first`` and
    ``flips``: :func:`_pair_flips` of the picks)."""
    count, n = len(frames), len(picks)
    slot = np.searchsorted(picks, frames[0])
    best, best_gain, best_gap = -1, 0, max_gap + 1.0
    for i in range(n - count + 1):
        a, b = state_of[i], state_of[i + count - 1]
        if held[a] < (count + 1 if a == b else 2) or held[b] < 2:
            continue
        gap = _gap_left(picks, i, count, frames[0], frames[-1], length)
        if not keep_pairs:
            gain = 0
        elif count == 1:
            gain = _pairs_gained(i, slot, first, flips, held[a])
        else:
            gain = _pairs_gained_by_two(i, slot, state_of, first, held)
        if gap <= max_gap and gain >= -slack and (gap < best_gap or (gap == best_gap and gain > best_gain)):
            best, best_gain, best_gap = i, gain, gap
    return best, best_gain


@njit(cache=True, nogil=True)
def cover_states(picks: np.ndarray, state_of: np.ndarray, held: np.ndarray, order: np.ndarray,
                 targets: np.ndarray, partners: np.ndarray, max_gap: float, length: int,
                 keep_pairs: bool) -> np.ndarray:
    """Picks moved into states that hold none, greedily.

    For each state of ``order`` that holds no pick, a pick that lies in a state holding two or
    more moves to the state's ``targets`` frame, if the gap its move leaves (frames between its
    neighbours, or between a neighbour and the target where the target falls between them; ``-1``
    and ``length`` bound the ends) is at most ``max_gap`` frames. With ``keep_pairs`` (the picks
    go to Qwen as they are, paired ``2k`` and ``2k + 1``; a move shifts the picks between its
    ends by one place), the number of states that hold a pair must never fall below the one
    ``picks`` start with. Of the moves allowed: the smallest gap, then the most states holding a
    pair, then the earliest pick. Where no move of one pick is allowed, two neighbouring picks
    (from states that keep one each) move to the state's ``targets`` and ``partners`` frames
    (``-1``: none): the picks between shift two places, so their pairs stay. ``order`` is gone
    through again after a pass whose moves gained a pair (which may allow a move refused before).

    picks: int64 (n,) sorted frames in ``[0, length)``; state_of: int64 (n,) their states;
    held: int64 (k,) picks per state; order: int64 (m,) states to serve; targets, partners:
    int64 (k,). Returns int64 (n,), sorted.
    """
    picks, state_of, held = picks.copy(), state_of.copy(), held.copy()
    first, flips = _pair_flips(state_of, held)
    slack, again = 0, True
    while again:
        again = False
        for state in order:
            if held[state] > 0:
                continue
            frames = np.array([targets[state]])
            best, gain = _best_move(picks, state_of, held, first, flips, frames, max_gap, length, keep_pairs, slack)
            if best < 0 and keep_pairs and partners[state] >= 0:
                frames = np.sort(np.array([targets[state], partners[state]]))
                best, gain = _best_move(picks, state_of, held, first, flips, frames, max_gap, length, keep_pairs,
                                        slack)
            if best < 0:
                continue
            slack, again = slack + gain, again or gain > 0
            for k in range(len(frames)):
                held[state_of[best + k]] -= 1
            held[state] += len(frames)
            picks, state_of = _moved(picks, state_of, best, len(frames), frames, state)
            first, flips = _pair_flips(state_of, held)
    return picks
