"""Frame sources: decode a video front to back in chunks, at a small size, in flat memory, or
read the frames at chosen indices.

The sources are :data:`SOURCES`, by name: each a :class:`FrameSource` some module of this
package defines as ``SOURCE`` (:mod:`._sources`; adding a backend is one module and its tests).
They hand out the same :class:`Chunk` s (same frame count, same timestamps, frames equal within
scaling noise; the tests hold every registered source to one conformance suite):

- ``"pyav"`` (:mod:`._pyav_at`): FFmpeg through PyAV, scaling in an FFmpeg filter graph. Streams:
  memory does not grow with the file. GOPs are decoded side by side by single-threaded decoders,
  one per thread (``_gops``; open GOPs too), the same frames as one decoder gives. The default
  (measurements in ``reports/analysis.md``).
- ``"decord"`` (:mod:`._decord`): decord's ``VideoReader`` with its own scaling. Strong at random
  access, but it reads the whole compressed file into memory.

:func:`iter_chunks` and :func:`read_frames` take a source by name and fall back to the others, in
:data:`SOURCES` order, where it cannot open or decode a file. Readers are opened inside the
generators, where they are used, so nothing is shared across a fork.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator
from typing import Any

import numpy as np

from ..checks import usable_cores
from ..errors import ConfigError, VideoError
from ._carried import decodes_from_any_keyframe
from ._common import Chunk, RateGate, read_ahead, scaled_size
from ._sources import FrameSource, discover

__all__ = ["BACKEND_NAMES", "SOURCES", "Chunk", "FrameSource", "FrameStream", "RateGate", "decodes_from_any_keyframe",
           "iter_chunks", "read_ahead", "read_frames", "resolve_backend", "scaled_size"]

SOURCES: dict[str, FrameSource] = discover(__name__, __path__)
"""The frame sources by name, in the order ``"auto"`` and the fallback try them
(:attr:`FrameSource.preference`). The names are those of :data:`framepick.settings.BACKENDS`."""


def __getattr__(name: str) -> Any:
    if name == "BACKEND_NAMES":  # the sources' names, as registered now
        return tuple(SOURCES)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def resolve_backend(backend: str) -> str:
    """The source ``backend`` names (``"auto"``: the first of :data:`SOURCES`, PyAV, which streams
    in flat memory)."""
    if backend == "auto":
        return next(iter(SOURCES))
    if backend not in SOURCES:
        raise ConfigError(f"unknown backend {backend!r}; choose one of {('auto', *SOURCES)}")
    return backend


class FrameStream:
    """Iterable over what one video's frame source yields; see :func:`iter_chunks` and
    :func:`read_frames`.

    ``source(backend)`` opens the iterator of one backend. The first backend that delivers is
    kept; ``decoder`` names it once the first item is out.
    """

    def __init__(self, path: str | os.PathLike, *, backend: str, fallback: bool,
                 source: Callable[[str], Generator[Any, None, None]]) -> None:
        first = resolve_backend(backend)
        self.path = path
        self.backends = [first, *[name for name in SOURCES if name != first and fallback]]
        self.decoder: str | None = None
        self._source = source

    def __iter__(self) -> Generator[Any, None, None]:
        first_error: VideoError | None = None
        for backend in self.backends:
            try:
                items = self._source(backend)
                head = next(items, _END)
            except VideoError as exc:  # this backend cannot open or decode the file: try the next
                first_error = first_error or exc
                continue
            self.decoder = backend
            if head is _END:
                return
            try:
                yield head
                yield from items
            finally:
                items.close()
            return
        assert first_error is not None
        raise first_error


_END = object()


def iter_chunks(
    path: str | os.PathLike,
    *,
    size: int | None = 128,
    rate_fps: float | None = None,
    indices: np.ndarray | None = None,
    backend: str = "auto",
    fallback: bool = True,
    threads: int = 0,
    chunk_frames: int = 64,
    keyframes_only: bool = False,
    reference_only: bool = False,
    seek_pts: int | None = None,
    origin_s: float | None = None,
) -> FrameStream:
    """Decode ``path`` front to back and iterate over :class:`Chunk` s of kept frames.

    Every frame is decoded and timed; only kept frames are scaled, converted and handed out.

    Parameters
    ----------
    path : str or os.PathLike
        The video file (its default video stream, as FFmpeg chooses it).
    size : int or None
        Longer side of the kept frames in pixels (never enlarged); None keeps the full size.
    rate_fps : float, optional
        Keep the first frame of every ``1 / rate_fps`` seconds (see :class:`RateGate`).
    indices : int array, optional
        Keep exactly these frame indices. Default (neither option): keep every frame.
    backend : str
        Frame source tried first: ``"auto"`` (the first of :data:`SOURCES`) or a name in
        :data:`SOURCES` (``"pyav"``, ``"decord"``).
    fallback : bool
        If that source cannot open or decode the file (decord 0.6 cannot open AV1, say), try the
        others, in :data:`SOURCES` order. The stream's ``decoder`` attribute says which one delivered.
    threads : int
        Decoder threads; 0 means one per usable core (PyAV: single-threaded decoders working on
        different GOPs where the packets are timed and start at a keyframe, else one decoder's
        frame threads).
    chunk_frames : int
        Kept frames per chunk; memory is about ``chunk_frames * h * w * 3`` bytes.
    keyframes_only : bool
        Decode keyframes only, for a quick first look at very long videos: every frame is still
        timed (from packet headers), but only keyframes can be kept.
    reference_only : bool
        PyAV: decode only the frames other frames are predicted from (FFmpeg's
        ``skip_frame=nonref``, most B-frames skipped); every decoded frame is exact, every frame is
        timed from its packet header, and only decoded frames can be kept. decord decodes every
        frame (it cannot skip).
    seek_pts, origin_s : optional
        Sources that seek only (:attr:`FrameSource.seeks`: PyAV; else :class:`ConfigError`): start
        at the keyframe at or before ``seek_pts`` (``stream.time_base`` units; indices then count
        from 0 there), and time frames from ``origin_s`` (the first frame's ``frame.time``) so that
        they keep the video's times. For analysing a video in segments.

    Raises
    ------
    VideoError
        While iterating: missing file, not a video, audio-only, no decodable frames, truncated or
        corrupt data (the first backend's error when no backend can decode the file).
    """
    if rate_fps is not None and indices is not None:
        raise ConfigError("give rate_fps or indices, not both")
    if indices is not None:
        wanted = frozenset(np.asarray(indices, dtype=np.int64).tolist())
        keep_factory = lambda: (lambda index, _time_s: index in wanted)  # noqa: E731
    else:
        keep_factory = lambda: RateGate(rate_fps)  # noqa: E731
    threads = threads or usable_cores()

    def chunks(name: str) -> Generator[Chunk, None, None]:
        source = SOURCES[name]
        if not source.seeks and (seek_pts is not None or origin_s is not None):
            seeking = tuple(other.name for other in SOURCES.values() if other.seeks)
            raise ConfigError(f"seek_pts and origin_s need a backend that seeks, one of {seeking}; not {name!r}")
        return source.chunks(path, size=size, keep_factory=keep_factory, threads=threads, chunk_frames=chunk_frames,
                             keyframes_only=keyframes_only, reference_only=reference_only, seek_pts=seek_pts,
                             origin_s=origin_s)

    return FrameStream(path, backend=backend, fallback=fallback, source=chunks)


def read_frames(
    path: str | os.PathLike,
    indices: np.ndarray,
    *,
    size: int | tuple[int, int] | None = None,
    backend: str = "auto",
    fallback: bool = True,
    threads: int = 0,
    frame_times_s: np.ndarray | None = None,
    keyframes: np.ndarray | None = None,
) -> FrameStream:
    """Iterate over ``(index, time_s, frame)`` for the frames at ``indices``, in increasing order.

    Decodes forward and stops after the last wanted frame; only wanted frames are scaled and
    converted, so memory holds a few output-size frames at a time. The stream's ``decoder``
    attribute says which backend delivered.

    Parameters
    ----------
    indices : int array, shape (n,)
        Frame indices to read (any order, duplicates ignored).
    size : int, (int, int) or None
        Longer side of the returned frames in pixels, or their exact (width, height) (scaled by
        FFmpeg or decord, much faster than converting full-size frames); None keeps the full size.
    backend, fallback, threads
        As for :func:`iter_chunks`.
    frame_times_s : float array, shape (frames,), optional
        Every frame's time relative to the first (``Analysis.frame_times_s``). With ``keyframes``
        (``VideoInfo.keyframes``), PyAV seeks to the keyframe before a wanted frame when that
        skips decoding, and recognises frames by their time; the frames are the same either way.
    keyframes : int array, optional
        Frame indices of the keyframes.
    """
    wanted = np.unique(np.asarray(indices, dtype=np.int64))
    threads = threads or usable_cores()

    def frames_at(name: str) -> Generator[tuple[int, float, np.ndarray], None, None]:
        return SOURCES[name].frames_at(path, wanted, size=size, threads=threads, frame_times_s=frame_times_s,
                                       keyframes=keyframes)

    return FrameStream(path, backend=backend, fallback=fallback, source=frames_at)
