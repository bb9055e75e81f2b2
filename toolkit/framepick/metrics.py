"""How good is a selection? Plain metrics on frame indices, times and thumbnails.

Each metric is a small function on arrays; :func:`compare` computes all of them for several
selections of one analysis, one row per selection, and :data:`BETTER` says which direction wins
(widgets mark the better value with it).

Thumbnail distance is the mean absolute pixel difference divided by 255 (0 for identical
thumbnails, 1 for black against white); similarity is one minus it. A pick is shown by the
thumbnail nearest to it in frame index.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .checks import instance_argument, shown
from .errors import ArgumentError
from .types import Analysis, Selection

__all__ = [
    "BETTER",
    "compare",
    "best_rows",
    "scene_coverage",
    "gaps_s",
    "max_gap_s",
    "mean_gap_s",
    "thumb_distance",
    "nearest",
    "redundancy",
    "representativeness",
]

BETTER: dict[str, str] = {
    "scene_coverage": "higher",
    "max_gap_s": "lower",
    "mean_gap_s": "lower",
    "redundancy": "lower",
    "representativeness": "lower",
}
"""For every metric column of :func:`compare`, whether ``"higher"`` or ``"lower"`` is better."""


def scene_coverage(indices: np.ndarray, scenes: np.ndarray) -> float:
    """Share of scenes holding at least one of ``indices``.

    Parameters
    ----------
    indices : int array, shape (n,)
        Selected frame indices.
    scenes : int array, shape (k, 2)
        ``[start, end)`` frame ranges tiling the video (``k >= 1``).

    Returns
    -------
    float
        In [0, 1].

    Examples
    --------
    >>> scene_coverage(np.array([0, 5]), np.array([[0, 4], [4, 8], [8, 10]]))
    0.6666666666666666
    """
    scene = np.searchsorted(scenes[:, 0], np.asarray(indices), side="right") - 1
    return len(np.unique(scene)) / len(scenes)


def gaps_s(times_s: np.ndarray, duration_s: float) -> np.ndarray:
    """Time between consecutive picks, with the video's start before the first pick and its end
    after the last one.

    Parameters
    ----------
    times_s : float array, shape (n,)
        Sorted times of the picks in seconds.
    duration_s : float
        Length of the video in seconds.

    Returns
    -------
    float64 array, shape (n + 1,)
        Gaps in seconds: ``times_s[0] - 0``, the differences, and ``duration_s - times_s[-1]``.

    Examples
    --------
    >>> gaps_s(np.array([1.0, 4.0]), 10.0)
    array([1., 3., 6.])
    """
    return np.diff(np.concatenate(([0.0], np.asarray(times_s, dtype=np.float64), [duration_s])))


def max_gap_s(times_s: np.ndarray, duration_s: float) -> float:
    """Longest stretch of the video, in seconds, without a pick (see :func:`gaps_s`)."""
    return float(gaps_s(times_s, duration_s).max())


def mean_gap_s(times_s: np.ndarray, duration_s: float) -> float:
    """Mean of :func:`gaps_s` in seconds. Start and end gaps included, it is
    ``duration_s / (n + 1)``: it measures the count; :func:`max_gap_s` measures the placement."""
    return float(gaps_s(times_s, duration_s).mean())


def thumb_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean absolute pixel difference of thumbnails, divided by 255.

    Parameters
    ----------
    a, b : uint8 arrays, shape (n, h, w, 3)
        Thumbnails compared pairwise (``a[i]`` with ``b[i]``).

    Returns
    -------
    float64 array, shape (n,)
        In [0, 1].

    Examples
    --------
    >>> black, white = np.zeros((1, 2, 2, 3), np.uint8), np.full((1, 2, 2, 3), 255, np.uint8)
    >>> thumb_distance(black, white)
    array([1.])
    """
    difference = np.abs(a.astype(np.int16) - b.astype(np.int16))
    return difference.reshape(len(difference), -1).mean(axis=1) / 255.0


def nearest(reference: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Position in ``reference`` (sorted frame indices) of the entry nearest to each of
    ``indices``; a tie goes to the earlier entry. Used to find a pick's thumbnail, and a
    thumbnail's pick.

    Examples
    --------
    >>> nearest(np.array([0, 30, 60]), np.array([0, 14, 15, 16, 100]))
    array([0, 0, 0, 1, 2])
    """
    indices = np.asarray(indices)
    if len(reference) == 1:
        return np.zeros(len(indices), dtype=np.int64)
    after = np.clip(np.searchsorted(reference, indices), 1, len(reference) - 1)
    before = after - 1
    closer_before = indices - reference[before] <= reference[after] - indices
    return np.where(closer_before, before, after)


def redundancy(pick_thumbs: np.ndarray) -> float:
    """Mean similarity (``1 - thumb_distance``) of consecutive picks; lower is better.

    Parameters
    ----------
    pick_thumbs : uint8 array, shape (n, h, w, 3)
        The picks' thumbnails in time order.

    Returns
    -------
    float
        In [0, 1]; 0 with fewer than two picks (nothing can repeat).

    Examples
    --------
    >>> grey = np.full((3, 2, 2, 3), 51, np.uint8)
    >>> grey[2] = 0                                    # the last pick differs by 51 / 255 = 0.2
    >>> redundancy(grey)                               # mean of 1.0 and 0.8
    0.9
    """
    if len(pick_thumbs) < 2:
        return 0.0
    return float(np.mean(1.0 - thumb_distance(pick_thumbs[:-1], pick_thumbs[1:])))


def representativeness(thumbs: np.ndarray, thumb_indices: np.ndarray, indices: np.ndarray) -> float:
    """Mean distance of every thumbnail to the thumbnail of the pick nearest to it in time;
    lower is better (every moment of the video looks like a selected frame near it).

    Parameters
    ----------
    thumbs : uint8 array, shape (t, h, w, 3)
        Thumbnails of the whole video.
    thumb_indices : int array, shape (t,)
        Their frame indices, sorted.
    indices : int array, shape (n,)
        Sorted selected frame indices (``n >= 1``).

    Returns
    -------
    float
        In [0, 1].
    """
    pick_thumbs = thumbs[nearest(thumb_indices, indices)]
    return float(thumb_distance(thumbs, pick_thumbs[nearest(np.asarray(indices), thumb_indices)]).mean())


def compare(analysis: Analysis, *selections: Selection) -> list[dict[str, Any]]:
    """All metrics of each selection of one analysed video.

    Parameters
    ----------
    analysis : Analysis
        The analysis the selections were made from (scenes, duration and thumbnails: a full
        analysis, not the frame times alone).
    *selections : Selection
        Non-empty selections of that video: sorted, unique frame indices within it, one time each.

    Returns
    -------
    list of dict
        One row per selection: ``strategy``, ``frames`` (the count), ``moments`` (frames, or
        pairs of frames when paired), then every metric of :data:`BETTER` as a float.

    Raises
    ------
    ArgumentError
        ``analysis`` is not a full analysis, or a selection is not a :class:`Selection` of it;
        the message names it (``selections[1]``: the second).
    """
    _check_compared(analysis, selections)
    duration_s = analysis.info.duration_s
    rows = []
    for selection in selections:
        pick_thumbs = analysis.thumbs[nearest(analysis.thumb_indices, selection.indices)]
        rows.append(
            {
                "strategy": selection.strategy,
                "frames": len(selection),
                "moments": selection.moments,
                "scene_coverage": scene_coverage(selection.indices, analysis.scenes),
                "max_gap_s": max_gap_s(selection.times_s, duration_s),
                "mean_gap_s": mean_gap_s(selection.times_s, duration_s),
                "redundancy": redundancy(pick_thumbs),
                "representativeness": representativeness(
                    analysis.thumbs, analysis.thumb_indices, selection.indices
                ),
            }
        )
    return rows


def _check_compared(analysis: Any, selections: Sequence[Any]) -> None:
    """:func:`compare`'s arguments, each refused with an :class:`ArgumentError` naming it."""
    instance_argument("analysis", analysis, Analysis, "a framepick Analysis (from framepick.analyze)")
    if len(analysis.thumbs) == 0:
        raise ArgumentError("analysis: has no thumbnails (the frame times alone); compare needs framepick.analyze's")
    frames = analysis.info.frames
    for number, selection in enumerate(selections):
        name = f"selections[{number}]"
        instance_argument(name, selection, Selection, "a framepick Selection (from framepick.select)")
        indices = np.asarray(selection.indices)
        if indices.ndim != 1 or len(indices) == 0 or not np.issubdtype(indices.dtype, np.integer):
            raise ArgumentError(f"{name}: indices must be a non-empty 1-d array of frame indices, got {shown(indices)}")
        outside = indices[(indices < 0) | (indices >= frames)]
        if len(outside):
            raise ArgumentError(f"{name}: frame indices must be from 0 to {frames - 1} (the analysed video's), "
                                f"got {shown(outside.tolist())}")
        if np.any(np.diff(indices) <= 0):
            raise ArgumentError(f"{name}: frame indices must be sorted and unique")
        if np.shape(selection.times_s) != indices.shape:
            raise ArgumentError(f"{name}: {np.size(selection.times_s)} times for {len(indices)} frame indices")


def best_rows(rows: Sequence[dict[str, Any]], metric: str) -> set[int]:
    """Positions of the rows of :func:`compare` holding the better value of ``metric`` (by
    :data:`BETTER`, ties within floating-point noise), none when every row ties: what the HTML
    table and the markdown report both mark."""
    values = np.array([row[metric] for row in rows], dtype=np.float64)
    best = values.max() if BETTER[metric] == "higher" else values.min()
    winners = set(np.flatnonzero(np.isclose(values, best, rtol=1e-9, atol=1e-12)).tolist())
    return set() if len(winners) == len(rows) else winners
