"""Frame sources: decode a video front to back in chunks, at a small size, in flat memory.

Two backends hand out the same :class:`Chunk` s (same frame count, same timestamps, frames equal
within scaling noise; the tests hold them to one conformance suite):

- ``"pyav"``: FFmpeg through PyAV, scaling in an FFmpeg filter graph. Streams: memory does not grow
  with the file. The default (measurements in ``reports/analysis.md``).
- ``"decord"``: decord's ``VideoReader`` with its own scaling. Strong at random access, but it
  reads the whole compressed file into memory.

Readers are opened inside the generators, where they are used, so nothing is shared across a fork.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import numpy as np

from ..errors import ConfigError
from ..probe import probe
from ..types import usable_cores
from ._common import Chunk, RateGate, scaled_size

__all__ = ["Chunk", "RateGate", "iter_chunks", "read_frames", "resolve_backend", "scaled_size"]


def resolve_backend(backend: str) -> str:
    """The concrete backend for ``backend`` (``"auto"`` is PyAV, which streams in flat memory)."""
    if backend == "auto":
        return "pyav"
    if backend not in ("pyav", "decord"):
        raise ConfigError(f"unknown backend {backend!r}; choose 'auto', 'pyav' or 'decord'")
    return backend


def iter_chunks(
    path: str | os.PathLike,
    *,
    size: int | None = 128,
    keep: Callable[[int, float], bool] | None = None,
    backend: str = "auto",
    threads: int = 0,
    chunk_frames: int = 64,
    fast: bool = True,
) -> Iterator[Chunk]:
    """Decode ``path`` front to back and yield :class:`Chunk` s of kept frames.

    Parameters
    ----------
    path : str or os.PathLike
        The video file (its default video stream, as FFmpeg chooses it).
    size : int or None
        Longer side of the kept frames in pixels (never enlarged); None keeps the full size.
    keep : callable (index, time_s) -> bool, optional
        Called once per frame, in order; only accepted frames are scaled and handed out.
        Default: every frame. :class:`RateGate` keeps N frames per second.
    backend : {"auto", "pyav", "decord"}
        Frame source.
    threads : int
        Decoder threads; 0 means one per usable core.
    chunk_frames : int
        Kept frames per chunk; memory is about ``chunk_frames * h * w * 3`` bytes.
    fast : bool
        PyAV only: skip the deblocking filter (analysis quality, ~20% faster decoding).

    Raises
    ------
    VideoError
        Missing file, not a video, audio-only, no decodable frames, truncated or corrupt data.
    """
    keep = keep or (lambda index, time_s: True)
    threads = threads or usable_cores()
    if resolve_backend(backend) == "decord":
        from ._decord import decord_chunks

        info = probe(path, keyframes=False)
        return decord_chunks(path, display_size=(info.width, info.height), size=size, keep=keep,
                             threads=threads, chunk_frames=chunk_frames)
    from ._pyav import pyav_chunks

    return pyav_chunks(path, size=size, keep=keep, threads=threads, chunk_frames=chunk_frames,
                       fast=fast)


def read_frames(
    path: str | os.PathLike,
    indices: np.ndarray,
    *,
    size: int | None = None,
    backend: str = "auto",
    threads: int = 0,
) -> Iterator[tuple[int, float, np.ndarray]]:
    """Yield ``(index, time_s, frame)`` for the frames at ``indices``, in increasing order.

    Decodes forward and stops after the last wanted frame; only wanted frames are scaled and
    converted, so memory holds one chunk of output-size frames at a time.

    Parameters
    ----------
    indices : int array, shape (n,)
        Frame indices to read (any order, duplicates ignored).
    size : int or None
        Longer side of the returned frames in pixels; None keeps the full size.
    """
    wanted = np.unique(np.asarray(indices, dtype=np.int64))
    if len(wanted) == 0:
        return
    wanted_set = set(wanted.tolist())
    last = int(wanted[-1])
    chunks = iter_chunks(path, size=size, keep=lambda index, _t: index in wanted_set,
                         backend=backend, threads=threads, chunk_frames=8, fast=False)
    try:
        for chunk in chunks:
            for index, frame in zip(chunk.indices, chunk.frames):
                yield int(index), float(chunk.times_s[index - chunk.start]), frame
            if chunk.start + len(chunk.times_s) > last:
                return
    finally:
        chunks.close()
