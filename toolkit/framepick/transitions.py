"""Gradual transitions: fades from and to a flat picture, and dissolves between two shots.

PySceneDetect's detectors find hard cuts; a fade or a dissolve changes the picture a little on
every frame and is missed, or cut at a random frame of its ramp. Both move every pixel along the
straight line between two pictures (``(1 - a) * A + a * B``, whatever the ramp's pace), which
motion does not. :class:`framepick.score.ChangeScorer` measures, for a short window ending at each
analysed frame, how well the window's middle is such a blend of its two ends; this module turns
those measures into transitions:

1. A window's middle is *blended* where it lies strictly between its ends (``alpha`` within
   ``ALPHA_MARGIN`` of 0 and 1: a hard cut puts it at one end), the fit leaves at most
   ``MAX_RESIDUAL`` of the ends' difference unexplained, and the ends differ by at least
   ``MIN_SPAN`` levels (sensor noise on a still does not).
2. Runs of blended frames are classified one by one: a run that starts or ends on a flat picture
   (luma standard deviation below ``FLAT_STD``) is a fade in or out, and takes in the flat frames
   next to it; a run whose contrast dips to ``DISSOLVE_DIP`` or below of the straight line between
   its ends' contrasts is a dissolve (mixing two unrelated pictures lowers the contrast, to 0.71
   midway for pictures of equal contrast; a title fading in, an exposure ramp or a slow pan do
   not), whose windows see the picture change by ``DISSOLVE_CHANGE`` at least (smooth camera
   motion changes it less) and which lasts at most ``MAX_DISSOLVE_S`` (a slow pan over smooth
   content can fit a blend for longer). Anything else is no transition. Transitions of one kind up to
   ``MAX_GAP`` frames apart are then joined, and widened by one analysed frame at each end that is
   a blend (the blend's faint first and last frames, see ``_widened``).

Transitions are scene boundaries (:func:`cuts_with_transitions`): a dissolve is cut at its middle,
a fade where it meets the flat picture, and detector cuts inside a transition are dropped. The
selection gives their frames no sampling density (:mod:`framepick.select`).
"""

from __future__ import annotations

import numpy as np

from .score import BLEND_WINDOW_S, MEASURES

__all__ = ["KINDS", "FADE_IN", "FADE_OUT", "DISSOLVE", "find_transitions", "cuts_with_transitions", "runs_of"]

FADE_IN, FADE_OUT, DISSOLVE = KINDS = ("fade_in", "fade_out", "dissolve")
ALPHA_MARGIN = 0.15  # the middle must lie this far (share of the way) from both ends
MAX_RESIDUAL = 0.3  # unexplained share of the ends' difference (random motion: ~0.5, noise: ~0.9)
MIN_SPAN = 2.0  # luma levels (root mean square) between a window's ends
MAX_GAP = 2  # analysed frames between two runs of one transition
FLAT_STD = 8.0  # luma levels: a picture this flat is the black (or any flat colour) of a fade
DISSOLVE_DIP = 0.9  # a dissolve's lowest contrast, relative to the line between its ends'
DISSOLVE_CHANGE = 0.18  # the least picture change (``span_change``) of a dissolve's windows
MAX_DISSOLVE_S = 4.0  # seconds: a longer blend-like run is a pan or a zoom over smooth content
MAX_FADE_S = 5.0  # seconds: a longer ramp from or to a flat picture is a slow gradient, not a fade
MAX_HOLD_S = 1.0  # seconds of the flat picture next to it that a fade takes in (the rest is a shot)


def _column(measures: np.ndarray, name: str) -> np.ndarray:
    return measures[:, MEASURES.index(name)].astype(np.float64)


def _blended(measures: np.ndarray, lag: int) -> np.ndarray:
    """Whether each analysed frame is the middle of a blend window (bool, (m,)): the measures of a
    window are stored at its last frame, ``lag`` rows after its middle."""
    alpha, residual, span = (_column(measures, name) for name in ("blend_alpha", "blend_residual", "blend_span"))
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = ((alpha >= ALPHA_MARGIN) & (alpha <= 1 - ALPHA_MARGIN) & (span >= MIN_SPAN)
              & (residual <= MAX_RESIDUAL * span))
    middle = np.zeros(len(ok), dtype=bool)
    middle[: len(ok) - lag] = ok[lag:]
    return middle


def runs_of(flags: np.ndarray, *, gap: int = 0) -> np.ndarray:
    """``[start, end)`` rows of the runs of True in ``flags`` (int64, (r, 2)), runs at most ``gap``
    False rows apart joined into one."""
    rows = np.flatnonzero(flags)
    if len(rows) == 0:
        return np.empty((0, 2), np.int64)
    breaks = np.flatnonzero(np.diff(rows) > gap + 1)
    starts = np.concatenate([[rows[0]], rows[breaks + 1]])
    ends = np.concatenate([rows[breaks], [rows[-1]]]) + 1
    return np.stack([starts, ends], axis=1).astype(np.int64)


def _bridged(found: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Transitions of one kind at most ``MAX_GAP`` rows apart joined into one (a noisy frame can
    break a dissolve's run; runs are classified one by one, so a slow pan's many short runs are
    not joined before each is rejected)."""
    out: list[tuple[int, int, str]] = []
    for start, end, kind in found:
        if out and out[-1][2] == kind and start - out[-1][1] <= MAX_GAP:
            start = out.pop()[0]
        out.append((start, end, kind))
    return out


def _flat_run(flat: np.ndarray, rows: range) -> tuple[int, int] | None:
    """``[start, end)`` rows of the flat run holding the first flat row of ``rows``, or None."""
    hits = [row for row in rows if 0 <= row < len(flat) and flat[row]]
    if not hits:
        return None
    start = end = hits[0]
    while start > 0 and flat[start - 1]:
        start -= 1
    while end < len(flat) and flat[end]:
        end += 1
    return start, end


def _classify(run: tuple[int, int], contrast: np.ndarray, flat: np.ndarray, change: np.ndarray,
              lag: int, longest: float) -> tuple[int, int, str] | None:
    """``(start, end, kind)`` rows of one run of blended frames, or None if it is no transition.

    A flat picture within ``lag`` rows before the run makes it a fade in (starting where that
    flat picture starts, at most ``MAX_HOLD_S`` before the run), after it a fade out (ending where
    it ends, likewise); a fade's run spans at most ``MAX_FADE_S``. ``change`` is the picture
    change of the window centred on each row; a dissolve spans at most ``longest`` rows."""
    start, end = run
    rows_per_s = 2 * lag / BLEND_WINDOW_S
    hold = round(MAX_HOLD_S * rows_per_s)
    if end - start > MAX_FADE_S * rows_per_s:
        return None
    if (black := _flat_run(flat, range(start - 1, start - lag - 1, -1))) is not None:
        return max(black[0], start - hold), end, FADE_IN
    if (black := _flat_run(flat, range(end, end + lag))) is not None:
        return start, min(black[1], end + hold), FADE_OUT
    if end - start > longest:
        return None
    before, after = max(start - 1, 0), min(end, len(contrast) - 1)
    straight = np.interp(np.arange(start, end), [before, after], [contrast[before], contrast[after]])
    dips = np.min(contrast[start:end] / np.maximum(straight, FLAT_STD)) <= DISSOLVE_DIP
    if dips and np.nanmax(change[start:end]) >= DISSOLVE_CHANGE:
        return start, end, DISSOLVE
    return None


def find_transitions(measures: np.ndarray, analysed: np.ndarray, *, lag: int,
                     total_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Fades and dissolves among the analysed frames.

    Parameters
    ----------
    measures : float32 array, shape (m, len(MEASURES))
        The scorer's measures of the analysed frames (see :class:`framepick.score.ChangeScorer`).
    analysed : int64 array, shape (m,)
        Frame index of each analysed frame (sorted).
    lag : int
        The scorer's blend lag, in analysed frames.
    total_frames : int
        Frames in the video (the end of a transition that runs to the last frame).

    Returns
    -------
    spans : int64 array, shape (j, 2)
        ``[start, end)`` frame ranges of the transitions, sorted, not overlapping.
    kinds : str array, shape (j,)
        ``"fade_in"``, ``"fade_out"`` or ``"dissolve"``.
    """
    contrast = _column(measures, "contrast")
    flat = contrast < FLAT_STD
    longest = MAX_DISSOLVE_S / BLEND_WINDOW_S * 2 * lag  # rows: lag rows are BLEND_WINDOW_S / 2 seconds
    change = np.full(len(contrast), np.nan)
    change[: len(change) - lag] = _column(measures, "span_change")[lag:]  # by the window's middle
    found = _bridged([t for run in runs_of(_blended(measures, lag))
                      if (t := _classify(tuple(run), contrast, flat, change, lag, longest)) is not None])
    rows = _separate([_widened(start, end, kind, len(contrast)) for start, end, kind in found])
    ends = np.append(np.asarray(analysed, dtype=np.int64), total_frames)
    spans = ends[np.asarray(rows, dtype=np.int64).reshape(-1, 2)]
    return spans, np.asarray([kind for _, _, kind in found], dtype="<U8")


def _widened(start: int, end: int, kind: str, rows: int) -> tuple[int, int]:
    """``[start, end)`` rows of a transition, one analysed frame wider on each side that ends in
    a blend (a fade's flat side is exact). The first and last frames of a blend lie within
    ``ALPHA_MARGIN`` of the shot they leave or reach, so a run of blended windows stops one
    analysed frame inside the transition at each end, even with every frame analysed (seen on
    the real-footage mixes of ``reports/bench/needles.py``)."""
    if kind != FADE_IN:
        start = max(start - 1, 0)
    if kind != FADE_OUT:
        end = min(end + 1, rows)
    return start, end


def _separate(rows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted ``[start, end)`` row ranges made disjoint: where two overlap (a fade out and a fade
    in sharing the flat frames between them), they meet at the middle of the overlap."""
    out = [list(rows[0])] if rows else []
    for start, end in rows[1:]:
        if start < out[-1][1]:
            middle = (start + out[-1][1]) // 2
            out[-1][1], start = middle, middle
        out.append([start, max(start, end)])
    return [(start, end) for start, end in out]


def cuts_with_transitions(cuts: np.ndarray, spans: np.ndarray, kinds: np.ndarray, *, margin: int,
                          total_frames: int) -> np.ndarray:
    """Hard ``cuts`` (frame indices) joined with the scene boundaries of the transitions.

    A dissolve is cut at its middle frame, a fade out at its end and a fade in at its start (not
    at the video's ends). Hard cuts within ``margin`` frames of a transition are dropped: the
    detector saw the same transition. Returns sorted unique frame indices (int64)."""
    cuts = np.asarray(cuts, dtype=np.int64)
    keep = np.ones(len(cuts), dtype=bool)
    added = []
    for (start, end), kind in zip(spans.tolist(), kinds.tolist()):
        keep &= (cuts < start - margin) | (cuts >= end + margin)
        added.append({DISSOLVE: (start + end) // 2, FADE_OUT: end, FADE_IN: start}[kind])
    joined = np.concatenate([cuts[keep], np.asarray(added, dtype=np.int64)])
    return np.unique(joined[(joined > 0) & (joined < total_frames)])
