"""decord frame source (:data:`SOURCE`): random access, scaling inside decord; holds the whole
file in memory."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager

import numpy as np

from ..errors import VideoError, ffmpeg_log_shown
from ..probe import check_not_truncated, display_filters, local_url, probe
from ._carried import decodes_from_any_keyframe, frame_threads
from ._common import Chunk, output_size
from ._sources import FrameSource, KeepFactory

__all__ = ["SOURCE", "DecordSource", "decord_chunks", "decord_reader"]

# The display transforms (:func:`framepick.probe.upright_filters`) decord applies as FFmpeg does:
# none, and rotations by right angles. It shows a mirrored picture unmirrored.
_DECORD_UPRIGHT = frozenset({(), (("transpose", "cclock"),), (("transpose", "clock"),), (("hflip", ""), ("vflip", ""))})


class DecordSource(FrameSource):
    """decord's ``VideoReader``: one video stream, shown upright where decord shows it as FFmpeg
    does (else :class:`VideoError`, so that another source is tried); every frame is decoded,
    ``reference_only`` or not (decord cannot skip); it does not seek to a timestamp."""

    name = "decord"
    preference = 1

    def chunks(self, path: str | os.PathLike, *, size: int | None, keep_factory: KeepFactory, threads: int,
               chunk_frames: int, keyframes_only: bool, reference_only: bool, seek_pts: int | None,
               origin_s: float | None) -> Generator[Chunk, None, None]:
        return _upright_chunks(path, size=size, keep=keep_factory(), threads=threads, chunk_frames=chunk_frames,
                               keyframes_only=keyframes_only)

    def frames_at(self, path: str | os.PathLike, wanted: np.ndarray, *, size: int | tuple[int, int] | None,
                  threads: int, frame_times_s: np.ndarray | None,
                  keyframes: np.ndarray | None) -> Generator[tuple[int, float, np.ndarray], None, None]:
        """The frames at ``wanted``, from ``get_batch`` calls of 8 frames."""
        if len(wanted) == 0:
            return
        keep = frozenset(wanted.tolist())
        chunks = _upright_chunks(path, size=size, keep=lambda index, _time_s: index in keep, threads=threads,
                                 chunk_frames=8, keyframes_only=False)
        try:
            for chunk in chunks:
                for index, frame in zip(chunk.indices, chunk.frames):
                    yield int(index), float(chunk.times_s[index - chunk.start]), frame
                if chunk.start + len(chunk.times_s) > wanted[-1]:
                    return
        finally:
            chunks.close()


def _upright_chunks(path, *, size: int | tuple[int, int] | None, keep: Callable[[int, float], bool], threads: int,
                    chunk_frames: int, keyframes_only: bool) -> Generator[Chunk, None, None]:
    """:func:`decord_chunks` of ``path``, checked to show the frames as FFmpeg does."""
    info = probe(path, keyframes=False)
    _check_decord_shows_ffmpegs_frames(path, video_streams=info.video_streams)
    return decord_chunks(path, display_size=(info.width, info.height), declared_s=info.duration_s, size=size,
                         keep=keep, threads=threads, chunk_frames=chunk_frames, keyframes_only=keyframes_only)


def _check_decord_shows_ffmpegs_frames(path, *, video_streams: int) -> None:
    """Raise :class:`VideoError` where decord would not show the frames as FFmpeg does: it cannot
    choose among ``video_streams`` > 1, and shows a mirrored picture unmirrored."""
    if video_streams > 1:
        raise VideoError(path, f"decord cannot choose among {video_streams} video streams")
    if display_filters(path) not in _DECORD_UPRIGHT:
        raise VideoError(path, "decord cannot show the picture as FFmpeg does (mirrored, or rotated off the "
                               "right angles)")


def decord_reader(path: str | os.PathLike, *, width: int, height: int, threads: int):
    """A ``decord.VideoReader`` of ``path`` giving upright RGB frames of ``width`` x ``height``.

    decord applies the rotation metadata itself, and its ``width``/``height`` are display sizes.
    ``path`` is always a local file, whatever its name (:func:`framepick.probe.local_url`).
    """
    import decord  # heavy; only this module imports it

    shown = ffmpeg_log_shown()
    decord.logging.set_level(decord.logging.WARNING if shown else decord.logging.QUIET)
    try:
        with _native_stderr_silenced(not shown):
            # decord hands the name to FFmpeg's avformat_open_input as it is, so the ``file:`` URL
            # keeps a name like ``concat:a.mp4`` from being read as a protocol (as PyAV's open does)
            return decord.VideoReader(local_url(path), ctx=decord.cpu(0), width=width, height=height,
                                      num_threads=threads)
    except decord.DECORDError as exc:
        raise VideoError(path, f"decord cannot open it: {_first_line(exc)}") from exc
    except RuntimeError as exc:  # decord's own "Error reading <path>...": FFmpeg could not open it
        raise VideoError(path, "decord cannot open it (not a video FFmpeg can read, or its header is corrupt)") from exc


@contextmanager
def _native_stderr_silenced(silent: bool) -> Iterator[None]:
    """Point file descriptor 2 at the null device for the body, when ``silent``: decord's own C++
    log (``video_reader.cc:83: ERROR opening: ...``, printed as it fails to open a file) ignores
    ``decord.logging`` and writes there directly. The error itself still reaches the caller."""
    if not silent:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def decord_chunks(
    path: str | os.PathLike,
    *,
    display_size: tuple[int, int],
    declared_s: float | None,
    size: int | tuple[int, int] | None,
    keep: Callable[[int, float], bool],
    threads: int,
    chunk_frames: int = 64,
    keyframes_only: bool = False,
) -> Generator[Chunk, None, None]:
    """Decode ``path`` with decord in ``get_batch`` calls of ``chunk_frames`` kept frames.

    decord seeks to the keyframe before a kept frame that is not next, and its decoder may then
    lack state the stream carries in its first packet only (:mod:`._carried`): such a stream
    (not :func:`._carried.decodes_from_any_keyframe`) is read every frame up to the last kept
    one, in order (by one thread where frame threads do not decode it reliably:
    :func:`._carried.frame_threads`).

    Parameters
    ----------
    display_size : (int, int)
        Upright (width, height) of the video in pixels, from :func:`framepick.probe.probe`.
    declared_s : float or None
        Duration the file declares, seconds: frames that stop decoding well before it are an
        error (corrupt or truncated data), not the end of the video.
    size, keep, threads, chunk_frames, keyframes_only
        As for :func:`framepick.decode.iter_chunks`.
    """
    import decord

    width, height = output_size(*display_size, size)
    reader = decord_reader(path, width=width, height=height, threads=frame_threads(path, threads))
    times = reader.get_frame_timestamp(range(len(reader)))[:, 0]
    if np.any(np.diff(times) <= 0):
        raise VideoError(path, "timestamps go backwards (joined recordings?): decord cannot order the frames")
    times_s = times - times[0]
    candidates = reader.get_key_indices() if keyframes_only else range(len(times_s))
    kept = np.asarray([i for i in candidates if keep(i, float(times_s[i]))], dtype=np.int64)
    in_order = None if decodes_from_any_keyframe(path) else _InOrder(reader)
    errors = (decord.DECORDError, RuntimeError)  # a seek fails: RuntimeError
    start = 0
    for first in range(0, len(kept), chunk_frames):
        indices = kept[first:first + chunk_frames]
        frames = in_order(indices, errors) if in_order else _read_batch(reader, indices, errors)
        if len(frames) and frames.shape[1:] != (height, width, 3):  # decord 0.6 on some rotated files
            raise VideoError(path, f"decord gave {frames.shape[2]}x{frames.shape[1]} pictures with "
                                   f"{frames.shape[3]} channels where {width}x{height} RGB was asked for")
        if len(frames) < len(indices):  # decord's len() counted frames that do not decode
            indices = indices[: len(frames)]
            end = int(indices[-1]) + 1 if len(indices) else start
            if end == 0:
                raise VideoError(path, "video stream has zero decodable frames")
            step_s = float(times_s[1] - times_s[0]) if len(times_s) > 1 else 0.0
            check_not_truncated(path, float(times_s[end - 1]) + step_s, declared_s, what="frames",
                                cause="corrupt or truncated")
            yield Chunk(start, times_s[start:end], indices, frames)
            return
        end = len(times_s) if first + chunk_frames >= len(kept) else int(indices[-1]) + 1
        yield Chunk(start, times_s[start:end], indices, frames)
        start = end


class _InOrder:
    """Frames of a decord reader that never seeks: it decodes and converts every frame up to the
    last one asked for (indices increasing, from call to call too). Its ``skip_frames`` does not
    serve: the frames after it differ from an in-order decode's."""

    def __init__(self, reader) -> None:
        self.reader = reader
        self.position = 0  # index of the frame ``reader.next()`` decodes

    def __call__(self, indices: np.ndarray, error: tuple[type[Exception], ...]) -> np.ndarray:
        """Frames at ``indices``; on a decode error, or where the frames end early (decord's
        ``next`` raises StopIteration), those before the first one that fails."""
        frames = []
        ends: tuple[type[BaseException], ...] = (*error, StopIteration)
        try:
            for index in indices.tolist():
                for _ in range(self.position, index):
                    self.reader.next()
                frames.append(self.reader.next().asnumpy())
                self.position = index + 1
        except ends:
            pass
        return _stacked(frames)


def _read_batch(reader, indices: np.ndarray, error: tuple[type[Exception], ...]) -> np.ndarray:
    """Frames at ``indices``; on a decode error, the frames before the first one that fails."""
    try:
        return reader.get_batch(indices).asnumpy()
    except error:
        frames = []
        for index in indices:
            try:
                frames.append(reader[int(index)].asnumpy())
            except error:
                break
        return _stacked(frames)


def _stacked(frames: list[np.ndarray]) -> np.ndarray:
    return np.stack(frames) if frames else np.empty((0, 0, 0, 3), np.uint8)


def _first_line(exc: Exception) -> str:
    """decord's message without its ``[time] source.cc:line: Check failed ...`` preamble."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    text = re.sub(r"^\[[^\]]*\]\s*\S+:\d+:\s*", "", text)
    return text.split("ERROR ", 1)[-1]


SOURCE = DecordSource()
