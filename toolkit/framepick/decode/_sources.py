"""What a frame source is (:class:`FrameSource`), and how the sources are found (:func:`discover`).

A frame source hands out one video's frames in two ways: front to back, in :class:`Chunk` s of
kept frames (:meth:`FrameSource.chunks`, what an analysis reads), and at chosen frame indices
(:meth:`FrameSource.frames_at`, what is written out). Every source numbers and times the frames
alike, and passes one conformance suite (``tests/test_decode.py``, run over every registered
source).

A source is a module of this package that defines ``SOURCE``, an instance of a
:class:`FrameSource` subclass: adding a backend is that module (and its tests). :func:`discover`
imports every module of the package to find them, so a source module imports its decoding
library inside the methods that use it (decord loads when a decord source first decodes).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Iterable

import numpy as np

from ._common import Chunk

__all__ = ["FrameSource", "KeepFactory", "discover"]

KeepFactory = Callable[[], Callable[[int, float], bool]]
"""Makes ``keep(index, time_s) -> bool``, called for every decoded frame in order (see
:func:`._pyav.pyav_chunks` for what a ``keep`` made afresh must accept)."""


class FrameSource(ABC):
    """One backend's frames of a video.

    Attributes
    ----------
    name : str
        The name the ``backend`` options take (:data:`framepick.settings.BACKENDS`).
    preference : int
        Order of the sources, lowest first: ``"auto"`` is the first, and a source that cannot open
        or decode a file falls back to the others in this order.
    seeks : bool
        Whether :meth:`chunks` can start at a keyframe (``seek_pts``) and keep the video's times
        (``origin_s``): what decoding a video in segments needs.
    """

    name: str
    preference: int
    seeks: bool = False

    @abstractmethod
    def chunks(self, path: str | os.PathLike, *, size: int | None, keep_factory: KeepFactory, threads: int,
               chunk_frames: int, keyframes_only: bool, reference_only: bool, seek_pts: int | None,
               origin_s: float | None) -> Generator[Chunk, None, None]:
        """Decode ``path`` front to back, yielding :class:`Chunk` s of the frames ``keep_factory()``
        keeps; the options are those of :func:`framepick.decode.iter_chunks` (``threads`` at least 1,
        ``seek_pts`` and ``origin_s`` None unless :attr:`seeks`). A file the source cannot open
        or decode raises :class:`~framepick.errors.VideoError`, at the call or while iterating."""

    @abstractmethod
    def frames_at(self, path: str | os.PathLike, wanted: np.ndarray, *, size: int | tuple[int, int] | None,
                  threads: int, frame_times_s: np.ndarray | None,
                  keyframes: np.ndarray | None) -> Generator[tuple[int, float, np.ndarray], None, None]:
        """Yield ``(index, time_s, frame)`` for the sorted, unique frame indices ``wanted``; the
        options are those of :func:`framepick.decode.read_frames` (``frame_times_s`` and
        ``keyframes`` are hints a source may use to seek, or ignore)."""


def discover(package: str, path: Iterable[str]) -> dict[str, FrameSource]:
    """The ``SOURCE`` s the modules of ``package`` (its ``__path__``: ``path``) define, by name,
    in order of :attr:`FrameSource.preference` (then name)."""
    found: dict[str, FrameSource] = {}
    for module in pkgutil.iter_modules(path):
        source = getattr(importlib.import_module(f"{package}.{module.name}"), "SOURCE", None)
        if source is None:
            continue
        if not isinstance(source, FrameSource):
            raise TypeError(f"{package}.{module.name}.SOURCE is not a FrameSource: {source!r}")
        if source.name in found:
            raise TypeError(f"two frame sources are named {source.name!r} ({package}.{module.name} and another)")
        found[source.name] = source
    return dict(sorted(found.items(), key=lambda item: (item[1].preference, item[0])))
