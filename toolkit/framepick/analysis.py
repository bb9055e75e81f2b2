"""The analysis pass: one streaming decode that yields scores, scenes and thumbnails together.

:func:`analyze` decodes the video once at a small size (see :mod:`framepick.decode`; by default
its reference frames only, see :attr:`framepick.config.AnalysisConfig.reference_only`), and hands
every analysed chunk to the change scorer (:mod:`framepick.score`), to a scene detector
(:mod:`framepick.scenes`) and to the thumbnail collector (together: :class:`Accumulator`); at the
end, fades and dissolves are found in the scorer's measures (:mod:`framepick.transitions`) and
join the detector's cuts as scene boundaries. Memory holds one chunk of small frames
plus the thumbnails (``thumb_fps`` per second of ``thumb_size`` px), whatever the video's length.
Results are cached (:mod:`framepick.cache`).
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import cache as _cache
from .decode import Chunk, RateGate, iter_chunks, read_ahead, scaled_size
from .errors import VideoError
from .probe import content_id, probe
from .scenes import make_tracker, scenes_from_cuts
from .score import MEASURES, ChangeScorer, blend_lag, normal_rows, step_third
from .settings import AnalysisConfig
from .states import apart_from_boundaries, find_passing_events, find_state_changes
from .transitions import cuts_with_transitions, find_transitions
from .types import Analysis, VideoInfo

__all__ = ["analyze", "timing", "summarize", "check_unchanged", "shows_progress", "Accumulator",
           "assemble"]


def analyze(
    path: str | os.PathLike,
    config: AnalysisConfig | None = None,
    *,
    cache: bool = True,
    progress: bool | None = None,
    **settings: Any,
) -> Analysis:
    """Analyse ``path`` in one streaming decode: change scores, scenes, thumbnails.

    Parameters
    ----------
    path : str or os.PathLike
        The video.
    config : AnalysisConfig, optional
        Analysis settings; ``settings`` override single fields, e.g. ``analyze(p, size=160)``.
    cache : bool
        Reuse a cached analysis of the same file with the same settings, and store new ones.
    progress : bool, optional
        Show a progress bar (on stderr, or a notebook widget); default: :func:`shows_progress`.

    Returns
    -------
    Analysis

    Raises
    ------
    VideoError
        The file cannot be analysed (missing, not a video, audio-only, zero frames, truncated), or
        its content changed while it was analysed (the analysis would describe a file that is no
        longer there; nothing is cached).
    ConfigError
        A setting is out of range.
    """
    config = dataclasses.replace(config or AnalysisConfig(), **settings)
    path = os.fspath(path)
    content = content_id(path)  # before anything is read: the file the analysis describes
    if cache:
        cached = _cache.load(path, config, content=content)
        if cached is not None:
            return cached
    analysis = _run(path, config, progress=shows_progress() if progress is None else progress)
    check_unchanged(path, content)
    if cache:
        _cache.save(analysis, content=content)
    return analysis


def shows_progress() -> bool:
    """Whether a progress bar is shown by default: when stderr is a terminal, or in a Jupyter
    kernel (tqdm's notebook bar)."""
    if sys.stderr.isatty():
        return True
    ipython = sys.modules.get("IPython")  # imported by a kernel already; never imported here
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


def check_unchanged(path: str | os.PathLike, content: str) -> None:
    """Raise :class:`VideoError` if the file at ``path`` no longer has the
    :func:`~framepick.probe.content_id` ``content`` it had when its analysis began (replaced,
    rewritten or removed meanwhile)."""
    try:
        unchanged = content_id(path) == content
    except VideoError as exc:
        raise VideoError(path, f"changed while it was analysed ({exc.cause})") from None
    if not unchanged:
        raise VideoError(path, "changed while it was analysed: its content is not the one analysed")


def timing(path: str | os.PathLike, config: AnalysisConfig | None = None) -> Analysis:
    """The frame times of ``path`` from its packet headers, as an :class:`Analysis` without scores
    (``analysis.scored`` is False): one scene, no thumbnails, no transitions. Enough for the
    ``uniform`` and ``fps`` strategies and for extraction, in a fraction of a full pass.

    Raises
    ------
    VideoError
        As :func:`framepick.probe.probe`.
    """
    from .probe import probe_timing

    started = time.perf_counter()
    probed, frame_times_s = probe_timing(path)
    info = _decoded_info(probed, frame_times_s)  # the duration by the analysis' rule
    config = config or AnalysisConfig()
    width, height = scaled_size(info.width, info.height, config.thumb_size)
    empty = np.empty(0, np.float32)
    return Analysis(info=info, config=config, decoder="packets", frame_times_s=frame_times_s,
                    score_indices=np.empty(0, np.int64), score=empty, luma_diff=empty, hist_diff=empty,
                    scenes=np.array([[0, info.frames]], dtype=np.int64), thumb_indices=np.empty(0, np.int64),
                    thumbs=np.empty((0, height, width, 3), np.uint8), elapsed_s=time.perf_counter() - started)


def summarize(analysis: Analysis) -> dict[str, Any]:
    """A JSON-able summary: the video's metadata, the decoder, the time taken (s), the scenes
    as ``[[start_frame, end_frame], ...]`` (end exclusive) and ``[[start_s, end_s], ...]``, and
    the gradual transitions as ``{"kind", "frames": [start, end], "times_s": [start, end]}``."""
    return {
        **analysis.info.to_dict(),
        "decoder": analysis.decoder,
        "elapsed_s": round(analysis.elapsed_s, 3),
        "scenes": analysis.scenes.tolist(),
        "scene_times_s": np.round(analysis.scene_times_s, 3).tolist(),
        "transitions": [
            {"kind": str(kind), "frames": span, "times_s": np.round(analysis.times_of(span), 3).tolist()}
            for span, kind in zip(analysis.transitions.tolist(), analysis.transition_kinds)
        ],
    }


def _run(path: str, config: AnalysisConfig, *, progress: bool) -> Analysis:
    started = time.perf_counter()
    probed = probe(path)
    collected = Accumulator(config, fps=probed.fps,
                            thumb_wh=scaled_size(probed.width, probed.height, config.thumb_size))
    chunks = iter_chunks(path, size=config.size, rate_fps=config.rate_fps, backend=config.backend,
                         threads=config.thread_count, keyframes_only=config.keyframes_only,
                         reference_only=config.skips_nonreference)
    from tqdm.auto import tqdm

    with tqdm(total=probed.frames, unit="frame", desc=Path(path).name, file=sys.stderr,
              disable=not progress, dynamic_ncols=True) as bar:
        for chunk in read_ahead(chunks, depth=2, name="framepick-decode"):
            collected.update(chunk)
            bar.update(len(chunk.times_s))
    frame_times_s = collected.frame_times_s()
    return assemble(probed, config, decoder=chunks.decoder or config.backend, frame_times_s=frame_times_s,
                    analysed_fps=collected.analysed_fps, analysed=collected.analysed(),
                    measures=collected.measures(),
                    cuts=collected.cuts(len(frame_times_s)), thumb_indices=collected.thumbs.indices(),
                    thumbs=collected.thumbs.frames(), elapsed_s=time.perf_counter() - started)


class Accumulator:
    """What one streaming pass collects, chunk by chunk: frame times, analysed frames, their
    measures (:class:`framepick.score.ChangeScorer`), the detector's cuts and the thumbnails.

    Used alike by the single pass and by each segment of :mod:`framepick.segments`.

    Parameters
    ----------
    config : AnalysisConfig
    fps : float
        The video's average frame rate (the detector's clock; with ``config.rate_fps`` unset, the
        analysed rate that sets the blend window, see :attr:`lag`).
    thumb_wh : (int, int)
        Thumbnail (width, height) in pixels.
    detector_params : dict, optional
        Detector parameters in place of ``config.detector_params`` (segments lift its minimum
        scene length).
    first_index : int
        Frame index in the video of the first frame decoded (a segment's; see
        :func:`framepick.scenes.make_tracker`).
    """

    def __init__(self, config: AnalysisConfig, *, fps: float, thumb_wh: tuple[int, int],
                 detector_params: dict[str, Any] | None = None, first_index: int = 0) -> None:
        params = config.detector_params if detector_params is None else detector_params
        self._analysed_fps = config.rate_fps or fps
        self._rate_measured = config.fills_gaps
        self.scorer: ChangeScorer | None = None  # made with the first chunk, see ``lag``
        self.tracker = make_tracker(config.detector, params, fps=fps, fill_gaps=config.fills_gaps,
                                    first_index=first_index)
        self.thumbs = _Thumbnails(config.thumb_fps, thumb_wh)
        self._times: list[np.ndarray] = []
        self._analysed: list[np.ndarray] = []
        self._measures: list[np.ndarray] = []

    def update(self, chunk: Chunk) -> None:
        """Add one decoded chunk."""
        if self.scorer is None:
            if self._rate_measured and len(chunk.times_s):
                self._analysed_fps *= len(chunk.indices) / len(chunk.times_s)
            fps = self._analysed_fps
            self.scorer = ChangeScorer(lag=blend_lag(fps), third=step_third(fps), normal=normal_rows(fps))
        self._measures.append(self.scorer.update(chunk.frames))
        self.tracker.update(chunk.indices, chunk.frames)
        self.thumbs.update(chunk)
        self._times.append(chunk.times_s)
        self._analysed.append(chunk.indices)

    @property
    def analysed_fps(self) -> float:
        """Analysed frames per second, which sets the scorer's windows in frames
        (:func:`framepick.score.blend_lag`, :func:`framepick.score.step_third`), so that they span
        as many seconds whatever is analysed.

        From reference frames only (every frame meant), the analysed rate is not known before
        decoding: it is the video's rate times the share of the first chunk's frames decoded. With
        windows of as many decoded frames as every frame would give, they would span longer (by
        the inverse of the share decoded) and short dissolves would fit a blend window worse (seen
        on the real-footage mixes of ``reports/bench/needles.py``; transitions found by mode in
        reports/modes.md).
        """
        return self._analysed_fps

    def frame_times_s(self) -> np.ndarray:
        """Times of every frame so far, in seconds (float64, (n,))."""
        return np.concatenate(self._times) if self._times else np.empty(0)

    def analysed(self) -> np.ndarray:
        """Frame indices of the analysed frames (int64, (m,))."""
        return np.concatenate(self._analysed).astype(np.int64) if self._analysed else np.empty(0, np.int64)

    def measures(self) -> np.ndarray:
        """Measures of the analysed frames (float32, (m, len(MEASURES)))."""
        return np.concatenate(self._measures) if self._measures else np.empty((0, len(MEASURES)), np.float32)

    def cuts(self, total_frames: int) -> np.ndarray:
        """Finish the detector: its cuts (frame indices, int64) in ``[0, total_frames)``."""
        return self.tracker.scenes(total_frames)[1:, 0]


def assemble(probed: VideoInfo, config: AnalysisConfig, *, decoder: str, frame_times_s: np.ndarray,
             analysed_fps: float, analysed: np.ndarray, measures: np.ndarray, cuts: np.ndarray,
             thumb_indices: np.ndarray, thumbs: np.ndarray, elapsed_s: float) -> Analysis:
    """The :class:`Analysis` of a whole pass: decoded frame count, transitions and state changes
    found in the measures (whose windows the analysed rate ``analysed_fps`` sets,
    :attr:`Accumulator.analysed_fps`), scenes split at the detector's cuts and at the transitions."""
    info = _decoded_info(probed, frame_times_s)
    if config.keyframes_only:
        spans, kinds = np.empty((0, 2), np.int64), np.empty(0, "<U8")
        changes, strengths = np.empty(0, np.int64), np.empty(0, np.float32)
    else:
        spans, kinds = find_transitions(measures, analysed, lag=blend_lag(analysed_fps),
                                        total_frames=info.frames)
        changes, strengths = _states(measures, analysed, analysed_fps)
    cuts = cuts_with_transitions(cuts, spans, kinds, margin=blend_lag(probed.fps), total_frames=info.frames)
    changes, strengths = apart_from_boundaries(changes, strengths, cuts, spans, margin=step_third(probed.fps))
    column = {name: measures[:, MEASURES.index(name)].copy() for name in ("score", "luma_diff", "hist_diff")}
    return Analysis(
        info=info,
        config=config,
        decoder=decoder,
        frame_times_s=frame_times_s,
        score_indices=analysed,
        **column,
        scenes=scenes_from_cuts(cuts, info.frames),
        thumb_indices=thumb_indices,
        thumbs=thumbs,
        transitions=spans,
        transition_kinds=kinds,
        state_changes=changes,
        state_strengths=strengths,
        elapsed_s=elapsed_s,
    )


def _states(measures: np.ndarray, analysed: np.ndarray, analysed_fps: float) -> tuple[np.ndarray, np.ndarray]:
    """State changes and passing events' ends (:mod:`framepick.states`), sorted and unique (the
    stronger of two at one frame kept): frames int64, strengths float32."""
    steps = find_state_changes(measures, analysed, third=step_third(analysed_fps))
    events = find_passing_events(measures, analysed, rows_per_s=analysed_fps)
    frames, strengths = (np.concatenate(pair) for pair in zip(steps, events))
    order = np.lexsort((-strengths, frames))
    frames, first = np.unique(frames[order], return_index=True)
    return frames, strengths[order][first]


def _decoded_info(probed: VideoInfo, frame_times_s: np.ndarray) -> VideoInfo:
    """``probed`` with frame count and duration replaced by what the decoder delivered."""
    frames = len(frame_times_s)
    last_step = frame_times_s[-1] - frame_times_s[-2] if frames > 1 else 1.0 / probed.fps
    duration_s = round(float(frame_times_s[-1] + (last_step if last_step > 0 else 1.0 / probed.fps)), 6)
    keyframes = tuple(k for k in probed.keyframes if k < frames)
    return dataclasses.replace(probed, frames=frames, duration_s=duration_s, keyframes=keyframes)


class _Thumbnails:
    """Keeps the first analysed frame of every ``1 / thumb_fps`` seconds, shrunk to ``size``."""

    def __init__(self, thumb_fps: float, size: tuple[int, int]) -> None:
        self._gate = RateGate(thumb_fps)
        self._size = size
        self._indices: list[int] = []
        self._frames: list[np.ndarray] = []

    def update(self, chunk: Chunk) -> None:
        from PIL import Image

        for index, frame in zip(chunk.indices, chunk.frames):
            if self._gate(int(index), float(chunk.times_s[index - chunk.start])):
                self._indices.append(int(index))
                self._frames.append(np.asarray(Image.fromarray(frame).resize(self._size, Image.Resampling.BOX)))

    def indices(self) -> np.ndarray:
        return np.asarray(self._indices, dtype=np.int64)

    def frames(self) -> np.ndarray:
        width, height = self._size
        return np.stack(self._frames) if self._frames else np.empty((0, height, width, 3), np.uint8)
