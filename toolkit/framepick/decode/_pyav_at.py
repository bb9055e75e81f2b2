"""PyAV frame source (:data:`SOURCE`): :func:`._pyav.pyav_chunks` front to back, and here the
frames at chosen indices, seeking or decoding the GOPs that hold them side by side.

The source is defined here, not in :mod:`._pyav`, because this module builds on that one (which
must not import it back)."""

from __future__ import annotations

import os
from collections.abc import Generator

import av
import numpy as np

from ..errors import VideoError
from ..probe import open_video, scan_file, time_base
from ._common import Chunk
from ._gops import decode_gops, gops_ahead, nonref_skip
from ._pyav import Scaler, all_timed, configure, decoded_frames, pyav_chunks, side_by_side_size
from ._sources import FrameSource, KeepFactory

__all__ = ["SOURCE", "PyAVSource", "pyav_frames_at"]

# Seek ahead only when that skips at least this many frames (a seek flushes the decoder's pipeline).
_SEEK_MIN_SKIP = 16


class PyAVSource(FrameSource):
    """FFmpeg through PyAV, scaling in an FFmpeg filter graph: streams in flat memory, decodes
    GOPs side by side, skips frames (``keyframes_only``, ``reference_only``), seeks. The first
    source: ``"auto"``."""

    name = "pyav"
    preference = 0
    seeks = True

    def chunks(self, path: str | os.PathLike, *, size: int | None, keep_factory: KeepFactory, threads: int,
               chunk_frames: int, keyframes_only: bool, reference_only: bool, seek_pts: int | None,
               origin_s: float | None) -> Generator[Chunk, None, None]:
        return pyav_chunks(path, size=size, keep_factory=keep_factory, threads=threads, chunk_frames=chunk_frames,
                           keyframes_only=keyframes_only, reference_only=reference_only, seek_pts=seek_pts,
                           origin_s=origin_s)

    def frames_at(self, path: str | os.PathLike, wanted: np.ndarray, *, size: int | tuple[int, int] | None,
                  threads: int, frame_times_s: np.ndarray | None,
                  keyframes: np.ndarray | None) -> Generator[tuple[int, float, np.ndarray], None, None]:
        return pyav_frames_at(path, wanted, size=size, threads=threads, frame_times_s=frame_times_s,
                              keyframes=keyframes)


def pyav_frames_at(
    path: str | os.PathLike,
    wanted: np.ndarray,
    *,
    size: int | tuple[int, int] | None,
    threads: int,
    frame_times_s: np.ndarray | None = None,
    keyframes: np.ndarray | None = None,
) -> Generator[tuple[int, float, np.ndarray], None, None]:
    """Yield ``(index, time_s, frame)`` for the sorted, unique frame indices ``wanted``.

    Frames are numbered as :func:`._pyav.pyav_chunks` numbers them. Given ``frame_times_s`` (every frame's
    time relative to the first, as an analysis measured it) and ``keyframes`` (frame indices), the
    decoder seeks to the keyframe before a wanted frame whenever that skips at least
    ``_SEEK_MIN_SKIP`` frames, recognises the frames after a seek by their time, and does not
    decode the non-reference frames that are not wanted; where the packets are timed and start at
    a keyframe and ``threads`` > 1, the GOPs holding wanted frames are decoded side by side instead
    (:mod:`._gops`), each up to its last wanted frame. Should a frame not be recognised (no timestamp, or one off the
    analysis' grid), the remaining frames are read again front to back, without seeking or skipping.
    """
    done = -1
    if frame_times_s is not None and keyframes is not None and len(keyframes) > 1:
        keyframes = np.asarray(keyframes, dtype=np.int64)
        ahead = _gops_ahead(path, wanted, keyframes, size=size, workers=threads) if threads > 1 else 0
        if ahead:
            frames = _gop_frames_at(path, wanted, size=size, workers=threads, ahead=ahead, frame_times_s=frame_times_s)
        else:
            frames = _seeking_frames_at(path, wanted, size=size, threads=threads, frame_times_s=frame_times_s,
                                        keyframes=keyframes)
        try:
            for index, time_s, frame in frames:
                done = index
                yield index, time_s, frame
            return
        except _LostTrack:
            pass
    rest = frozenset(int(i) for i in wanted if i > done)
    last = max(rest, default=-1)
    with open_video(path) as (container, stream):
        configure(path, stream, threads=threads)
        scaler = Scaler(stream, size)
        for index, time_s, frame in all_timed(stream, decoded_frames(path, container, stream)):
            if index in rest:
                yield index, time_s, scaler(frame)
            if index >= last:
                return


class _LostTrack(Exception):
    """A frame decoded after a seek could not be placed among the analysed frames."""


def _gops_ahead(path, wanted: np.ndarray, keyframes: np.ndarray, *, size, workers: int) -> int:
    """GOPs to decode ahead (:func:`._gops.gops_ahead` of the most wanted frames a GOP holds, at
    ``size``), or 0 where they cannot be decoded side by side
    (:func:`._pyav.side_by_side_size`)."""
    frame_size = side_by_side_size(path, scan_file(path), size)
    if frame_size is None:
        return 0
    width, height = frame_size
    most_in_a_gop = int(np.bincount(np.searchsorted(keyframes, wanted, side="right")).max())
    return gops_ahead(workers, most_in_a_gop * width * height * 3)


def _gop_frames_at(path, wanted, *, size, workers: int, ahead: int, frame_times_s):
    """:func:`_seeking_frames_at`, the GOPs (as the packets' keyframe flags place them) holding
    wanted frames decoded side by side by ``workers`` threads, ``ahead`` GOPs ahead."""
    with open_video(path) as (container, stream):
        first = next(decoded_frames(path, container, stream), None)  # its time is the origin of ``frame_times_s``
        if first is None or first.time is None:
            raise _LostTrack
        frame_size = Scaler(stream, size).output_size(first)
        seconds_per_tick = float(time_base(stream))
        index_of = {round((first.time + frame_times_s[i]) / seconds_per_tick): int(i) for i in wanted}

    def converter(worker_stream):
        scaler = Scaler(worker_stream, frame_size)
        return lambda: (lambda frame: scaler(frame) if frame.pts in index_of else None)

    with open_video(path) as (container, stream):
        decoded = decode_gops(os.fspath(path), container.demux(stream), workers=workers, ahead=ahead,
                              skip=nonref_skip(stream), converter=converter, needed_pts=frozenset(index_of))
        expected, done = iter(wanted.tolist()), -1
        try:
            for stamp, pixels in decoded:
                if pixels is None:
                    continue
                done = index_of[stamp]
                if done != next(expected):
                    raise _LostTrack
                yield done, float(frame_times_s[done]), pixels
        except av.error.FFmpegError as exc:
            raise VideoError(path, f"corrupt video data after frame {done}: {exc.strerror}") from exc
        finally:
            decoded.close()
        if next(expected, None) is not None:  # off the analysis' grid, or the video ends early
            raise _LostTrack


def _seeking_frames_at(path, wanted, *, size, threads, frame_times_s, keyframes):
    with open_video(path) as (container, stream):
        configure(path, stream, threads=threads)
        scaler = Scaler(stream, size)
        seconds_per_tick = float(stream.time_base)
        first = decoded_frames(path, container, stream)
        frame = next(first, None)  # frame 0: its time is the origin of ``frame_times_s``
        first.close()
        if frame is None or frame.time is None or frame.pts is None:
            raise _LostTrack
        origin, position = frame.time, 0
        needed_pts = frozenset(round((origin + frame_times_s[i]) / seconds_per_tick) for i in wanted)
        container.seek(frame.pts, stream=stream)
        frames = decoded_frames(path, container, stream, needed_pts=needed_pts)
        for target in wanted:
            key = int(keyframes[max(0, np.searchsorted(keyframes, target, side="right") - 1)])
            if position + _SEEK_MIN_SKIP <= key <= target:  # not past it: frames before the first keyframe
                frames.close()
                container.seek(round((origin + frame_times_s[key]) / seconds_per_tick), stream=stream)
                frames = decoded_frames(path, container, stream, needed_pts=needed_pts)
            for frame in frames:
                index = _index_at(frame_times_s, frame.time, origin)
                position = index + 1
                if index == target:
                    yield index, float(frame_times_s[index]), scaler(frame)
                    break
                if index > target:
                    raise _LostTrack
            else:
                return  # the video ends before ``target``


def _index_at(frame_times_s: np.ndarray, time: float | None, origin: float) -> int:
    """Index of the analysed frame shown at ``time - origin`` seconds (nearest within a quarter
    of a frame interval, and 1 ms)."""
    if time is None:
        raise _LostTrack
    time_s = time - origin
    right = int(np.searchsorted(frame_times_s, time_s))
    candidates = [i for i in (right - 1, right) if 0 <= i < len(frame_times_s)]
    if not candidates:
        raise _LostTrack
    index = min(candidates, key=lambda i: abs(frame_times_s[i] - time_s))
    neighbours = frame_times_s[max(0, index - 1): index + 2]
    interval = float(np.diff(neighbours).min()) if len(neighbours) > 1 else 1.0
    if abs(frame_times_s[index] - time_s) > min(1e-3, interval / 4):
        raise _LostTrack
    return index


SOURCE = PyAVSource()
