"""Pieces every frame source shares: chunk type, analysis size, the analysis-rate gate, reading
ahead in a thread."""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Generator, Iterable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from ..sizes import output_size, scaled_size

__all__ = ["Chunk", "ChunkBuilder", "RateGate", "output_size", "read_ahead", "scaled_size"]

Item = TypeVar("Item")


@dataclass(frozen=True)
class Chunk:
    """A run of consecutive decoded frames, some of them kept as pixels.

    Attributes
    ----------
    start : int
        Frame index of the first frame the chunk covers.
    times_s : float64 array, shape (n,)
        Presentation time in seconds of every frame ``start .. start + n - 1``, relative to the
        first frame of the video.
    indices : int64 array, shape (m,)
        Frame indices of the kept frames, a sorted subset of the covered ones.
    frames : uint8 array, shape (m, h, w, 3)
        The kept frames, RGB, upright, at the requested size.
    """

    start: int
    times_s: np.ndarray
    indices: np.ndarray
    frames: np.ndarray


class ChunkBuilder:
    """Collects frame times and kept frames, handing out a :class:`Chunk` every ``chunk_frames``
    kept frames."""

    def __init__(self, *, chunk_frames: int) -> None:
        self.chunk_frames = chunk_frames
        self._start = 0
        self._times: list[float] = []
        self._indices: list[int] = []
        self._frames: list[np.ndarray] = []
        self._last_flushed_time_s = -math.inf

    @property
    def last_time_s(self) -> float:
        """Time of the frame added last (seconds), or -inf before the first."""
        return self._times[-1] if self._times else self._last_flushed_time_s

    @property
    def next_index(self) -> int:
        """Frame index the next added frame gets."""
        return self._start + len(self._times)

    def add(self, time_s: float, frame: np.ndarray | None) -> Chunk | None:
        """Record one decoded frame (``frame`` is None if it is not kept); return a full chunk."""
        if frame is not None:
            self._indices.append(self.next_index)
            self._frames.append(frame)
        self._times.append(time_s)
        return self.flush() if len(self._frames) >= self.chunk_frames else None

    def flush(self) -> Chunk | None:
        """Hand out what has been collected, if anything."""
        if not self._times:
            return None
        chunk = Chunk(
            start=self._start,
            times_s=np.asarray(self._times, dtype=np.float64),
            indices=np.asarray(self._indices, dtype=np.int64),
            frames=np.stack(self._frames) if self._frames else np.empty((0, 0, 0, 3), np.uint8),
        )
        self._start += len(self._times)
        self._last_flushed_time_s = self._times[-1]
        self._times, self._indices, self._frames = [], [], []
        return chunk


class RateGate:
    """Decides which frames an analysis at ``rate_fps`` keeps, from their timestamps alone.

    A frame is kept when it is the first one whose time falls in a new ``1 / rate_fps`` second
    interval, so every backend keeps the same frames and variable frame rate is handled.
    ``rate_fps=None`` keeps every frame.
    """

    def __init__(self, rate_fps: float | None) -> None:
        self.rate_fps = rate_fps
        self._last_slot = -math.inf

    def __call__(self, index: int, time_s: float) -> bool:
        """Whether frame ``index``, shown at ``time_s`` seconds, is analysed."""
        if self.rate_fps is None:
            return True
        slot = math.floor(time_s * self.rate_fps + 1e-9)
        if slot > self._last_slot:
            self._last_slot = slot
            return True
        return False


def read_ahead(items: Iterable[Item], *, depth: int, name: str) -> Generator[Item, None, None]:
    """Iterate over ``items`` while a background thread (named ``name``) produces up to ``depth``
    items ahead.

    For stages that release the GIL (FFmpeg's decoder and filter graphs, the Numba kernels,
    OpenCV): the producer's next items overlap with the consumer's work on this one. An error in
    the producer is re-raised here, in order; closing this generator stops the producer and waits
    for it, and the producer closes ``items`` (so a decoder is never left running on a closed
    container).
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
        iterator = iter(items)
        try:
            for item in iterator:
                if not put(item):
                    return
            put(done)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put(exc)
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name=name, daemon=True)
    worker.start()
    try:
        while (item := ready.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()
