"""Segment-parallel analysis: one long video analysed in time segments on several workers.

The merged :class:`~framepick.types.Analysis` equals the single pass of :func:`framepick.analyze`
(frame times, analysed frames, scores, scenes and thumbnails identical; only ``elapsed_s``
differs). What makes that exact:

- **Boundaries at keyframes.** A segment starts at a keyframe; decoding from a keyframe gives the
  same pictures as decoding from the start (closed GOPs, as x264 writes by default). Frames
  are placed by their timestamps, computed exactly as the single pass does.
- **A warm-up before each segment.** Decoding starts at an earlier keyframe, so that the analysed
  frames before the boundary prime what carries over from frame to frame: the previous frame of
  the change score, the analysis-rate and thumbnail gates, and the scene detector's window
  (:func:`framepick.scenes.detector_reach`). These frames are analysed twice and kept once. A
  detector that counts frames from the video's start (TransNetV2's windows) is told where the
  segment's first decoded frame lies in the video.
- **Cuts decided locally, minimum scene length applied once.** Each segment runs the detector with
  ``min_scene_len = 0``, which reports every frame where its threshold is met (a decision that
  depends only on the window around the frame); the merge then applies the minimum scene length
  to all candidates in order, by the detector's own rule (:func:`framepick.scenes.cuts_from_candidates`).
- **Checked, not assumed.** Each segment also analyses a few frames past its end; the merge
  requires them to equal (times, analysed frames, scores) the next segment's first frames,
  and the first frame after the warm-up to be the boundary keyframe. A file where decoding from a
  keyframe does not reproduce the pictures (open GOPs whose leading frames reference the previous
  GOP, broken timestamps) fails these checks with :class:`SegmentMismatch`;
  :func:`analyze_parallel` then falls back to the single pass.

Only the PyAV backend and every-frame analyses (``reference_only=False``, ``--every-frame``; not
``keyframes_only``) can be split (:func:`splittable`); the others, the default included, run as one
pass: a reference-frames pass blends the frames between decoded ones over windows measured on its
first chunk, which a segment cannot reproduce exactly.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from .checks import usable_cores
from .errors import ConfigError, FramepickError
from .settings import AnalysisConfig
from .types import Analysis

__all__ = ["Segment", "SegmentPart", "SegmentMismatch", "splittable", "plan_segments", "analyze_segment",
           "merge_segments", "analyze_parallel"]


class SegmentMismatch(FramepickError):
    """Segments of a video do not join up exactly; analyse it in a single pass instead."""


@dataclass(frozen=True)
class Segment:
    """One time span of a video, analysed on its own.

    Attributes
    ----------
    number : int
        Position among the video's segments, from 0.
    start_s, end_s : float or None
        Time of the segment's first frame (a keyframe) and of the next segment's first frame,
        relative to the video's first frame (None: the start / the end of the video).
    seek_pts : int or None
        Keyframe timestamp (stream time base) where decoding starts, before ``start_s`` by the
        warm-up; None: the start of the file.
    origin_s : float
        ``frame.time`` of the video's first frame in seconds (times are relative to it).
    fps : float
        The video's average frame rate (the detector's clock).
    thumb_wh : (int, int)
        Thumbnail (width, height) in pixels.
    warmup_frames, tail_frames : int
        Analysed frames needed before ``start_s``, and analysed at or after ``end_s``.
    first_index, start_index : int
        Frame index in the video of the first frame decoded (at ``seek_pts``) and of the
        segment's first frame (at ``start_s``), by the packets' timestamps.
    """

    number: int
    start_s: float | None
    end_s: float | None
    seek_pts: int | None
    origin_s: float
    fps: float
    thumb_wh: tuple[int, int]
    warmup_frames: int
    tail_frames: int
    first_index: int
    start_index: int


@dataclass(frozen=True, eq=False)
class SegmentPart:
    """What one segment's analysis found, for :func:`merge_segments`.

    Frame positions are relative to the segment's first frame. ``times_s`` covers every frame of
    the segment; ``analysed`` (with their ``measures``, rows of :data:`framepick.score.MEASURES`)
    its analysed frames,
    ``candidates`` those where the detector's threshold is met, ``thumb_positions`` / ``thumbs``
    its thumbnails. ``tail_*`` describe the frames decoded past the segment's end, positions
    relative to the end.
    """

    number: int
    times_s: np.ndarray
    analysed: np.ndarray
    measures: np.ndarray
    candidates: np.ndarray
    thumb_positions: np.ndarray
    thumbs: np.ndarray
    tail_times_s: np.ndarray
    tail_analysed: np.ndarray
    tail_measures: np.ndarray


def splittable(config: AnalysisConfig) -> bool:
    """Whether analyses made with ``config`` can be split into segments: every frame decoded
    (``reference_only=False``, not ``keyframes_only``) by a frame source that seeks
    (:attr:`framepick.decode.FrameSource.seeks`)."""
    from .decode import SOURCES, resolve_backend

    every_frame = not (config.keyframes_only or config.reference_only)
    return every_frame and SOURCES[resolve_backend(config.backend)].seeks


def _check_config(config: AnalysisConfig) -> None:
    """Raise :class:`ConfigError` saying why ``config`` is not :func:`splittable`, if it is not."""
    if splittable(config):
        return
    if config.keyframes_only or config.reference_only:
        raise ConfigError("a keyframes_only or reference_only analysis cannot be split into segments "
                          "(split an every-frame one: reference_only=False, --every-frame)")
    from .decode import SOURCES

    seeking = [name for name, source in SOURCES.items() if source.seeks]
    raise ConfigError("segments are decoded by a frame source that seeks (PyAV); analyse with backend 'auto' "
                      f"or one of {seeking}")


def plan_segments(path: str | os.PathLike, config: AnalysisConfig | None = None, *,
                  segment_s: float) -> list[Segment]:
    """Split ``path`` into segments of about ``segment_s`` seconds, starting at keyframes.

    Reads the first frame and every packet header (no bulk decoding).

    Raises
    ------
    VideoError
        The file cannot be read.
    ConfigError
        ``segment_s`` is not positive, or the analysis settings cannot be split.
    SegmentMismatch
        The video's frames carry no timestamps, or a decoder started at a later keyframe would
        not give one decoder's pictures (decoder state written once: :mod:`framepick.decode._carried`).
    """
    from .decode import decodes_from_any_keyframe, scaled_size
    from .probe import open_video, probe, scan_packets
    from .probe import time_base as stream_time_base
    from .scenes import detector_reach
    from .score import blend_lag, step_reach

    config = config or AnalysisConfig()
    _check_config(config)
    if not segment_s > 0:
        raise ConfigError(f"segment_s must be positive, got {segment_s!r}")
    info = probe(path, keyframes=False)
    if not decodes_from_any_keyframe(path):
        raise SegmentMismatch(f"{path}: its stream carries decoder state that a segment started at a later keyframe "
                              "would lack")
    with open_video(path) as (container, stream):
        first = next(container.decode(stream), None)
        if first is None or first.time is None:
            raise SegmentMismatch(f"{path}: frames without timestamps cannot be placed in segments")
        origin = first.time
        container.seek(0, stream=stream)
        scan = scan_packets(container, stream, path=path)
        if not scan.in_order:
            raise SegmentMismatch(f"{path}: timestamps are missing or go backwards, so segments cannot "
                                  "be placed by time")
        pts, is_key = scan.pts, scan.is_key
        time_base = stream_time_base(stream)
    key_pts = pts[is_key]
    key_times = np.asarray([_frame_time(p, time_base) - origin for p in key_pts.tolist()])
    analysed_fps = config.rate_fps or info.fps
    before, after = detector_reach(config.detector, config.detector_params)
    before = max(before, 2 * blend_lag(analysed_fps), step_reach(analysed_fps))  # the scorer's windows
    warmup_s = 2 * (before + 1) / analysed_fps + 2 / info.fps  # twice: variable frame rates
    tail_s = (after + 2) / analysed_fps + 2 / info.fps
    end_s = _frame_time(int(pts[-1]), time_base) - origin if len(pts) else 0.0
    starts: list[int] = []  # positions in key_pts of segment starts, after the first segment
    for target in np.arange(segment_s, end_s, segment_s):
        position = int(np.searchsorted(key_times, target))
        previous = key_times[starts[-1]] if starts else 0.0
        if position < len(key_pts) and key_times[position] - previous >= warmup_s \
                and end_s - key_times[position] >= tail_s:
            starts.append(position)
    bounds = [None, *[float(key_times[p]) for p in starts], None]
    seeks = [None] + [_warmup_keyframe(key_pts, key_times, key_times[p] - warmup_s) for p in starts]
    thumb_wh = scaled_size(info.width, info.height, config.thumb_size)
    indices = _frame_indices(pts, [None, *seeks[1:]]), _frame_indices(pts, [None, *key_pts[starts].tolist()])
    return [Segment(number=n, start_s=bounds[n], end_s=bounds[n + 1], seek_pts=seeks[n], origin_s=origin,
                    fps=info.fps, thumb_wh=thumb_wh, warmup_frames=before, tail_frames=max(after, 1),
                    first_index=indices[0][n], start_index=indices[1][n])
            for n in range(len(bounds) - 1)]


def _frame_indices(pts: np.ndarray, stamps: list[int | None]) -> list[int]:
    """Frame index of the frame with each timestamp of ``stamps`` among frames timed ``pts``
    (their rank by time; None: the first frame)."""
    ordered = np.sort(pts)
    return [0 if stamp is None else int(np.searchsorted(ordered, stamp)) for stamp in stamps]


def _frame_time(pts: int, time_base: Fraction) -> float:
    """``frame.time`` of a frame with timestamp ``pts``, computed as PyAV computes it."""
    return float(pts) * time_base.numerator / time_base.denominator


def _warmup_keyframe(key_pts: np.ndarray, key_times: np.ndarray, latest_s: float) -> int | None:
    """The last keyframe at or before ``latest_s`` seconds (None: the start of the file)."""
    position = int(np.searchsorted(key_times, latest_s, side="right")) - 1
    return int(key_pts[position]) if position > 0 else None


def analyze_segment(path: str | os.PathLike, config: AnalysisConfig, segment: Segment) -> SegmentPart:
    """Analyse one segment of ``path`` (decoding its warm-up and tail too).

    Raises
    ------
    VideoError
        The file cannot be decoded.
    SegmentMismatch
        The decoder did not start at the boundary keyframe, the warm-up or the tail fell short,
        or the timestamps do not increase.
    """
    from .analysis import Accumulator
    from .decode import iter_chunks
    from .scenes import threshold_params

    _check_config(config)
    collected = Accumulator(config, fps=segment.fps, thumb_wh=segment.thumb_wh,
                            detector_params=threshold_params(config.detector_params),
                            first_index=segment.first_index)
    chunks = iter_chunks(path, size=config.size, rate_fps=config.rate_fps, backend="pyav", fallback=False,
                         threads=config.thread_count, seek_pts=segment.seek_pts, origin_s=segment.origin_s)
    tail_analysed = 0
    stream = iter(chunks)
    try:
        for chunk in stream:
            collected.update(chunk)
            if segment.end_s is not None:
                tail_analysed += int(np.sum(chunk.times_s[chunk.indices - chunk.start] >= segment.end_s))
                if tail_analysed >= segment.tail_frames:
                    break
    finally:
        stream.close()
    times_s = collected.frame_times_s()
    return _part(segment, times_s, collected.analysed(), collected.measures(), collected.cuts(len(times_s)),
                 collected.thumbs.indices(), collected.thumbs.frames())


def _part(segment: Segment, times_s: np.ndarray, positions: np.ndarray, measures: np.ndarray, cuts: np.ndarray,
          thumb_positions: np.ndarray, thumbs: np.ndarray) -> SegmentPart:
    """Cut the decoded span into warm-up, body and tail, checking that each is as expected."""
    where = f"segment {segment.number}"
    if np.any(np.diff(times_s) <= 0):
        raise SegmentMismatch(f"{where}: timestamps do not increase")
    first = 0 if segment.start_s is None else int(np.searchsorted(times_s, segment.start_s))
    end = len(times_s) if segment.end_s is None else int(np.searchsorted(times_s, segment.end_s))
    if segment.start_s is not None and (first == len(times_s) or times_s[first] != segment.start_s):
        raise SegmentMismatch(f"{where}: the boundary keyframe at {segment.start_s:.3f} s was not decoded")
    if segment.first_index + first != segment.start_index:
        raise SegmentMismatch(f"{where}: decoding from the warm-up keyframe gave {first} frames before the "
                              f"boundary, not {segment.start_index - segment.first_index}")
    if segment.seek_pts is not None and np.sum(positions < first) < segment.warmup_frames:
        raise SegmentMismatch(f"{where}: warm-up of {segment.warmup_frames} analysed frames fell short")
    if segment.end_s is not None and np.sum(positions >= end) < segment.tail_frames:
        raise SegmentMismatch(f"{where}: the video ends before the segment's tail")

    def body(values, at):  # entries at positions [lo, hi), positions made relative to lo
        return values[(at >= first) & (at < end)]

    def tail(values, at):
        return values[at >= end]

    return SegmentPart(
        number=segment.number,
        times_s=times_s[first:end],
        analysed=body(positions, positions) - first,
        measures=body(measures, positions),
        candidates=body(cuts, cuts) - first,
        thumb_positions=body(thumb_positions, thumb_positions) - first,
        thumbs=body(thumbs, thumb_positions),
        tail_times_s=times_s[end:],
        tail_analysed=tail(positions, positions) - end,
        tail_measures=tail(measures, positions),
    )


def merge_segments(path: str | os.PathLike, config: AnalysisConfig, parts: Iterable[SegmentPart], *,
                   elapsed_s: float = 0.0) -> Analysis:
    """Join the parts of every segment of ``path`` into the video's :class:`Analysis`.

    Raises
    ------
    SegmentMismatch
        Parts are missing, or a segment's tail differs from the next segment's first frames.
    """
    from .analysis import assemble
    from .probe import probe
    from .scenes import cuts_from_candidates

    parts = sorted(parts, key=lambda part: part.number)
    if [part.number for part in parts] != list(range(len(parts))) or not parts:
        raise SegmentMismatch(f"{path}: segment parts missing (got {[part.number for part in parts]})")
    for part, following in zip(parts, parts[1:]):
        _check_overlap(part, following)
    offsets = np.cumsum([0] + [len(part.times_s) for part in parts[:-1]])

    def joined(name: str, *, shifted: bool = False) -> np.ndarray:
        return np.concatenate([getattr(part, name) + (offset if shifted else 0)
                               for part, offset in zip(parts, offsets)])

    probed = probe(path)
    analysed = joined("analysed", shifted=True)
    cuts = cuts_from_candidates(config.detector, config.detector_params, fps=probed.fps, analysed=analysed,
                                candidates=joined("candidates", shifted=True))
    return assemble(probed, config, decoder="pyav", frame_times_s=joined("times_s"),
                    analysed_fps=config.rate_fps or probed.fps, analysed=analysed,
                    measures=joined("measures"), cuts=cuts, thumb_indices=joined("thumb_positions", shifted=True),
                    thumbs=joined("thumbs"), elapsed_s=elapsed_s)


def _check_overlap(part: SegmentPart, following: SegmentPart) -> None:
    """``part``'s tail must be ``following``'s first frames, analysed alike."""
    count = min(len(part.tail_times_s), len(following.times_s))
    where = f"segments {part.number} and {following.number}"
    if count == 0 or not np.array_equal(part.tail_times_s[:count], following.times_s[:count]):
        raise SegmentMismatch(f"{where}: frame times differ where they overlap")
    mine, theirs = part.tail_analysed < count, following.analysed < count
    same = (np.array_equal(part.tail_analysed[mine], following.analysed[theirs])
            and np.array_equal(part.tail_measures[mine], following.measures[theirs], equal_nan=True))
    if not same:
        raise SegmentMismatch(f"{where}: the pictures differ where they overlap (decoding from the keyframe "
                              "does not reproduce them)")


def analyze_parallel(
    path: str | os.PathLike,
    config: AnalysisConfig | None = None,
    *,
    segment_s: float,
    workers: int | None = None,
    cache: bool = True,
    map_segments: Callable[[Callable[..., SegmentPart], list[tuple]], Iterable[SegmentPart]] | None = None,
) -> Analysis:
    """:func:`framepick.analyze`, with the decoding spread over worker processes by segments.

    Parameters
    ----------
    path : str or os.PathLike
        The video.
    config : AnalysisConfig, optional
        Analysis settings (``threads`` is per worker; default: cores divided by workers).
    segment_s : float
        Segment length in seconds (segments start at keyframes, so they are about this long).
    workers : int, optional
        Worker processes; default one per usable core.
    cache : bool
        Read and write the same cache as :func:`framepick.analyze`.
    map_segments : callable, optional
        ``map_segments(analyze_segment, [(path, config, segment), ...])`` returning the parts in
        any order; default: a pool of ``workers`` spawned processes. (The Ray executor passes its
        own.)

    Returns
    -------
    Analysis
        Equal to ``framepick.analyze(path, config)``. If the segments do not join up exactly
        (see the module docstring), that single pass is run instead.
    """
    from . import cache as _cache
    from .analysis import analyze, check_unchanged
    from .probe import content_id

    config = config or AnalysisConfig()
    path = os.fspath(path)
    if not splittable(config):
        return analyze(path, config, cache=cache, progress=False)
    content = content_id(path)  # before anything is read: the file the analysis describes
    if cache and (cached := _cache.load(path, config, content=content)) is not None:
        return cached
    started = time.perf_counter()
    workers = workers or usable_cores()
    if not config.threads:
        config = dataclasses.replace(config, threads=max(1, usable_cores() // workers))
    try:
        segments = plan_segments(path, config, segment_s=segment_s)
        jobs = [(path, config, segment) for segment in segments]
        parts = (map_segments or _process_map(workers))(analyze_segment, jobs)
        analysis = merge_segments(path, config, parts, elapsed_s=time.perf_counter() - started)
    except SegmentMismatch:
        return analyze(path, config, cache=cache, progress=False)
    check_unchanged(path, content)
    if cache:
        _cache.save(analysis, content=content)
    return analysis


def _process_map(workers: int) -> Callable[[Callable[..., Any], list[tuple]], list[Any]]:
    def run(function: Callable[..., Any], jobs: list[tuple]) -> list[Any]:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        if len(jobs) == 1:
            return [function(*jobs[0])]
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
            return list(pool.map(function, *zip(*jobs)))

    return run
