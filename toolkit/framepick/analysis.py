"""The analysis pass: one streaming decode that yields scores, scenes and thumbnails together.

:func:`analyze` decodes the video once at a small size (see :mod:`framepick.decode`), and hands
every analysed chunk to the change scorer (:mod:`framepick.score`), to a PySceneDetect detector
(:mod:`framepick.scenes`) and to the thumbnail collector. Memory holds one chunk of small frames
plus the thumbnails (``thumb_fps`` per second of ``thumb_size`` px), whatever the video's length.
Results are cached (:mod:`framepick.cache`).
"""

from __future__ import annotations

import dataclasses
import os
import queue
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from . import cache as _cache
from .decode import Chunk, RateGate, iter_chunks, scaled_size
from .probe import probe
from .scenes import SceneTracker
from .score import ChangeScorer
from .types import Analysis, AnalysisConfig, VideoInfo

__all__ = ["analyze", "summarize"]


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
        Show a progress bar on stderr; default: only when stderr is a terminal.

    Returns
    -------
    Analysis

    Raises
    ------
    VideoError
        The file cannot be analysed (missing, not a video, audio-only, zero frames, truncated).
    ConfigError
        A setting is out of range.
    """
    config = dataclasses.replace(config or AnalysisConfig(), **settings)
    path = os.fspath(path)
    if cache:
        cached = _cache.load(path, config)
        if cached is not None:
            return cached
    analysis = _run(path, config, progress=sys.stderr.isatty() if progress is None else progress)
    if cache:
        _cache.save(analysis)
    return analysis


def summarize(analysis: Analysis) -> dict[str, Any]:
    """A JSON-able summary: the video's metadata, the decoder, the time taken (s) and the scenes
    as ``[[start_frame, end_frame], ...]`` (end exclusive) and ``[[start_s, end_s], ...]``."""
    return {
        **analysis.info.to_dict(),
        "decoder": analysis.decoder,
        "elapsed_s": round(analysis.elapsed_s, 3),
        "scenes": analysis.scenes.tolist(),
        "scene_times_s": np.round(analysis.scene_times_s, 3).tolist(),
    }


def _run(path: str, config: AnalysisConfig, *, progress: bool) -> Analysis:
    started = time.perf_counter()
    probed = probe(path)
    scorer = ChangeScorer()
    tracker = SceneTracker(config.detector, config.detector_params, fps=probed.fps)
    thumbs = _Thumbnails(config.thumb_fps, scaled_size(probed.width, probed.height, config.thumb_size))
    times, indices, scores = [], [], []
    chunks = iter_chunks(path, size=config.size, rate_fps=config.rate_fps, backend=config.backend,
                         threads=config.thread_count, keyframes_only=config.keyframes_only)
    from tqdm.auto import tqdm

    with tqdm(total=probed.frames, unit="frame", desc=Path(path).name, file=sys.stderr,
              disable=not progress, dynamic_ncols=True) as bar:
        for chunk in _prefetched(chunks):
            scores.append(scorer.update(chunk.frames))
            tracker.update(chunk.indices, chunk.frames)
            thumbs.update(chunk)
            times.append(chunk.times_s)
            indices.append(chunk.indices)
            bar.update(len(chunk.times_s))
    frame_times_s = np.concatenate(times)
    score, luma_diff, hist_diff = (np.concatenate(measure) for measure in zip(*scores))
    info = _decoded_info(probed, frame_times_s)
    return Analysis(
        info=info,
        config=config,
        decoder=chunks.decoder,
        frame_times_s=frame_times_s,
        score_indices=np.concatenate(indices),
        score=score,
        luma_diff=luma_diff,
        hist_diff=hist_diff,
        scenes=tracker.scenes(info.frames),
        thumb_indices=thumbs.indices(),
        thumbs=thumbs.frames(),
        elapsed_s=time.perf_counter() - started,
    )


def _prefetched(chunks: Iterable[Chunk], *, depth: int = 2) -> Iterator[Chunk]:
    """Iterate over ``chunks`` while a background thread decodes up to ``depth`` chunks ahead.

    The decoder, the Numba kernels and OpenCV release the GIL, so decoding the next chunk overlaps
    with scoring and scene detection of this one. Errors in the decoder are re-raised here;
    stopping early stops the thread.
    """
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(item: object) -> bool:
        """Queue ``item`` unless the consumer has stopped; whether it was queued."""
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        iterator = iter(chunks)
        try:
            for chunk in iterator:
                if not put(chunk):
                    return
            put(done)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put(exc)
        finally:
            iterator.close()

    worker = threading.Thread(target=produce, name="framepick-decode", daemon=True)
    worker.start()
    try:
        while (item := ready.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


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

    def update(self, chunk) -> None:
        from PIL import Image

        for index, frame in zip(chunk.indices, chunk.frames):
            if self._gate(int(index), float(chunk.times_s[index - chunk.start])):
                self._indices.append(int(index))
                self._frames.append(np.asarray(Image.fromarray(frame).resize(self._size, Image.BOX)))

    def indices(self) -> np.ndarray:
        return np.asarray(self._indices, dtype=np.int64)

    def frames(self) -> np.ndarray:
        width, height = self._size
        return np.stack(self._frames) if self._frames else np.empty((0, height, width, 3), np.uint8)
