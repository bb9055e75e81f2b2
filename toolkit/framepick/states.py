"""State changes: where the picture changes and then stays changed, region by region.

A recorded lecture's slide change, a bullet revealed, a caption that appears, a window switch, an
object that arrives and stays: the picture was steady, changed, and is steady again, in some part
of the frame. A speaker inset, a ticker, a clock, water or a pan keep changing: that is their
normal. :class:`framepick.score.ChangeScorer` measures, for a step window of three thirds
(``third`` analysed frames each) ending at each analysed frame, each block's change across the
middle third beyond its change across the outer thirds and beyond its own recent activity
(``step``: the blocks with most evidence; ``step_share``: the share of blocks that changed). This
module turns those measures into the frames where a new state begins:

1. Rows whose ``step`` reaches ``STEP_EVENT`` are grouped into runs (gaps of up to ``MAX_GAP``
   rows are bridged). A change between rows ``r - 1`` and ``r`` is in the middle third of the
   windows ending at rows ``r + third`` to ``r + 2 * third - 1``: a run of those rows.
2. Each run gives one change, at the row its span implies, moved to the largest frame-to-frame
   luma change within ``MAX_SHIFT`` rows (the frame where a hard change happens), and the run's
   largest ``step`` as its strength.
3. A *passing* event, motion where the picture is otherwise still (someone crossing a fixed
   camera's view), leaves no state behind, so it has no step: runs of at least ``EVENT_MIN_S``
   where the change ``score`` exceeds the video's median by ``EVENT_MARGIN`` (gaps of up to
   ``EVENT_GAP_S`` bridged) begin and end a state each (:func:`find_passing_events`).
4. Changes that are scene boundaries already (within ``STEP_THIRD_S`` of a cut or a gradual
   transition, or inside one) are dropped (:func:`apart_from_boundaries`): the detector's cut is
   placed to the frame.

The selection gives every state a frame (:mod:`framepick.strategies.adaptive`).
"""

from __future__ import annotations

import numpy as np

from .score import MEASURES
from .transitions import runs_of

__all__ = ["STEP_EVENT", "EVENT_MARGIN", "find_state_changes", "find_passing_events", "apart_from_boundaries"]

STEP_EVENT = 0.02  # ``step`` of a state change: one line of text on a slide reaches ~0.03
MAX_GAP = 1  # rows below the threshold inside one run
MAX_SHIFT = 2  # rows a change may move to the largest frame-to-frame change
EVENT_MARGIN = 0.06  # ``score`` above the video's median that makes a passing event
EVENT_MIN_S = 1.0  # seconds a passing event lasts at least
EVENT_GAP_S = 0.5  # seconds below the margin that do not end one


def _change_row(run: list[int], third: int, luma: np.ndarray) -> int:
    """The first row of the new state that the run of windows ``run`` saw: the row its span implies
    (``start - third`` and ``end - 2 * third``, averaged), moved to the largest ``luma`` change
    within ``MAX_SHIFT`` rows."""
    start, end = run
    implied = max(1, round(((start - third) + (end - 2 * third)) / 2))
    low = max(1, implied - MAX_SHIFT)
    return low + int(np.argmax(luma[low:implied + MAX_SHIFT + 1]))


def find_state_changes(measures: np.ndarray, analysed: np.ndarray, *, third: int) -> tuple[np.ndarray, np.ndarray]:
    """The frames where a new state begins, and how strong each change is.

    Parameters
    ----------
    measures : float32 array, shape (m, len(MEASURES))
        The scorer's measures of the analysed frames (see :class:`framepick.score.ChangeScorer`).
    analysed : int64 array, shape (m,)
        Frame index of each analysed frame (sorted).
    third : int
        Analysed frames per third of the scorer's step window.

    Returns
    -------
    frames : int64 array, shape (s,)
        First frame of each new state, sorted, unique, above 0.
    strengths : float32 array, shape (s,)
        The largest ``step`` of each change's windows, in [0, 1].
    """
    step = np.nan_to_num(measures[:, MEASURES.index("step")], nan=0.0)
    luma = measures[:, MEASURES.index("luma_diff")]
    rows, strengths = [], []
    for run in runs_of(step >= STEP_EVENT, gap=MAX_GAP).tolist():
        rows.append(_change_row(run, third, luma))
        strengths.append(float(step[run[0]:run[1]].max()))
    frames = np.asarray(analysed, dtype=np.int64)[np.asarray(rows, dtype=np.int64)]
    frames, first = np.unique(frames, return_index=True)
    keep = frames > 0
    return frames[keep], np.asarray(strengths, dtype=np.float32)[first][keep]


def find_passing_events(measures: np.ndarray, analysed: np.ndarray, *, rows_per_s: float
                        ) -> tuple[np.ndarray, np.ndarray]:
    """The first and the end frame of every passing event, and its strength (its ``score``'s mean
    excess over the median), both per boundary: int64 (2e,) sorted, float32 (2e,).

    ``rows_per_s`` is the analysed frames per second."""
    score = measures[:, MEASURES.index("score")].astype(np.float64)
    excess = score - np.median(score) if len(score) else score
    bridge = max(0, round(EVENT_GAP_S * rows_per_s) - 1)
    frames, strengths = [], []
    for start, end in runs_of(excess > EVENT_MARGIN, gap=bridge).tolist():
        if end - start >= EVENT_MIN_S * rows_per_s and end < len(score):
            frames += [analysed[start], analysed[end]]
            strengths += [float(excess[start:end].mean())] * 2
    return np.asarray(frames, dtype=np.int64), np.asarray(strengths, dtype=np.float32)


def apart_from_boundaries(frames: np.ndarray, strengths: np.ndarray, cuts: np.ndarray, spans: np.ndarray, *,
                          margin: int) -> tuple[np.ndarray, np.ndarray]:
    """The state changes ``frames`` (with their ``strengths``) that are not scene boundaries
    already: those more than ``margin`` frames from every cut (``cuts``, frame indices) and from
    every gradual transition (``spans``, ``[start, end)`` frames), and not inside one."""
    frames = np.asarray(frames, dtype=np.int64)
    bounds = np.sort(np.concatenate([np.asarray(cuts, dtype=np.int64), spans.ravel()]))
    keep = np.ones(len(frames), dtype=bool)
    if len(bounds):
        after = np.clip(np.searchsorted(bounds, frames), 0, len(bounds) - 1)
        before = np.clip(after - 1, 0, len(bounds) - 1)
        nearest = np.minimum(np.abs(bounds[after] - frames), np.abs(frames - bounds[before]))
        keep = nearest > margin
    for start, end in spans.tolist():
        keep &= (frames < start) | (frames >= end)
    return frames[keep], strengths[keep]
