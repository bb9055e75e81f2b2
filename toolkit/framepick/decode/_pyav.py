"""PyAV frame source: streams through FFmpeg, scales in an FFmpeg filter graph, flat memory."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import av
import numpy as np

from ..errors import VideoError
from ..probe import display_rotation, open_video, scan_packets
from ._common import Chunk, ChunkBuilder, scaled_size

__all__ = ["pyav_chunks"]

# Filters that turn a frame stored with a counter-clockwise display rotation upright, as the
# ffmpeg command line's autorotate does.
_UPRIGHT = {0: (), 90: (("transpose", "cclock"),), 180: (("hflip", ""), ("vflip", "")),
            270: (("transpose", "clock"),)}

# A file whose decoded frames end before this share of its declared duration is truncated.
_TRUNCATED_SHARE = 0.9


class _Scaler:
    """An FFmpeg filter graph (rotate, scale, convert to RGB) rebuilt whenever the input changes."""

    def __init__(self, stream: av.VideoStream, longer_side: int | None) -> None:
        self.stream = stream
        self.longer_side = longer_side
        self._key: tuple | None = None
        self._graph: av.filter.Graph | None = None

    def __call__(self, frame: av.VideoFrame) -> np.ndarray:
        key = (frame.width, frame.height, frame.format.name, display_rotation(frame))
        if key != self._key:
            self._graph, self._key = self._build(*key), key
        self._graph.push(frame)
        return self._graph.pull().to_ndarray()

    def _build(self, width: int, height: int, pix_fmt: str, rotation: int) -> av.filter.Graph:
        upright_w, upright_h = (height, width) if rotation in (90, 270) else (width, height)
        out_w, out_h = scaled_size(upright_w, upright_h, self.longer_side or max(upright_w, upright_h))
        graph = av.filter.Graph()
        nodes = [graph.add_buffer(width=width, height=height, format=pix_fmt,
                                  time_base=self.stream.time_base)]
        for name, args in _UPRIGHT[rotation]:
            nodes.append(graph.add(name, args))
        nodes.append(graph.add("scale", f"{out_w}:{out_h}:flags=area"))
        nodes.append(graph.add("format", "rgb24"))
        nodes.append(graph.add("buffersink"))
        for upstream, downstream in zip(nodes, nodes[1:]):
            upstream.link_to(downstream)
        graph.configure()
        return graph


def pyav_chunks(
    path: str | os.PathLike,
    *,
    size: int | None,
    keep: Callable[[int, float], bool],
    threads: int,
    chunk_frames: int = 64,
    fast: bool = True,
    keyframes_only: bool = False,
) -> Iterator[Chunk]:
    """Decode ``path`` front to back, yielding :class:`Chunk` s.

    Parameters
    ----------
    size : int or None
        Longer side of the kept frames in pixels; None keeps the full size.
    keep : callable (index, time_s) -> bool
        Called for every decoded frame in order; frames it accepts are converted and handed out.
    threads : int
        FFmpeg decoder threads.
    chunk_frames : int
        Kept frames per chunk.
    fast : bool
        Skip the in-loop deblocking filter (``skip_loop_filter=all``): about 20% faster, with
        slightly blockier pixels that do not matter for change scores. Off for extraction.
    keyframes_only : bool
        Decode keyframes only (FFmpeg's ``skip_frame=nonkey``); the other frames are timed from
        their packet headers but never decoded.
    """
    with open_video(path) as (container, stream):
        context = stream.codec_context
        context.thread_type = "AUTO"
        context.thread_count = threads
        if fast:
            context.options = {"skip_loop_filter": "all"}
        frames = _decoded_frames(path, container, stream)
        builder = ChunkBuilder(chunk_frames=chunk_frames)
        timed = _keyframes_timed(container, stream, frames) if keyframes_only else _all_timed(stream, frames)
        scaler = _Scaler(stream, size)
        for index, time_s, frame in timed:
            if frame is not None and keep(index, time_s):
                chunk = builder.add(time_s, scaler(frame))
            else:
                chunk = builder.add(time_s, None)
            if chunk is not None:
                yield chunk
        if builder.next_index == 0:
            raise VideoError(path, "video stream has zero decodable frames")
        _check_complete(path, stream, builder.last_time_s + 1.0 / float(stream.average_rate or 25))
        chunk = builder.flush()
        if chunk is not None:
            yield chunk


def _all_timed(stream, frames: Iterator[av.VideoFrame]) -> Iterator[tuple[int, float, av.VideoFrame]]:
    """``(index, time_s, frame)`` of every decoded frame; time relative to the first frame.

    A frame without a timestamp is placed one average frame interval after the one before.
    """
    step = 1.0 / float(stream.average_rate or 25)
    origin, time_s = None, -step
    for index, frame in enumerate(frames):
        if frame.time is None:
            time_s += step
        else:
            origin = frame.time if origin is None else origin
            time_s = frame.time - origin
        yield index, time_s, frame


def _keyframes_timed(container, stream, frames) -> Iterator[tuple[int, float, av.VideoFrame | None]]:
    """``(index, time_s, frame or None)`` of every frame, decoding keyframes only.

    Indices and times come from a scan of the packet headers; only keyframes carry pixels.
    """
    pts, _, _ = scan_packets(container, stream)
    container.seek(0, stream=stream)
    stream.codec_context.skip_frame = "NONKEY"
    times_s = (pts - pts[0]) * float(stream.time_base) if len(pts) else pts.astype(float)
    index_of = {int(stamp): index for index, stamp in enumerate(pts)}
    next_index = 0
    for frame in frames:
        index = index_of.get(frame.pts, -1)
        if index < next_index:
            continue
        for skipped in range(next_index, index):
            yield skipped, float(times_s[skipped]), None
        yield index, float(times_s[index]), frame
        next_index = index + 1
    for skipped in range(next_index, len(pts)):
        yield skipped, float(times_s[skipped]), None


def _decoded_frames(path, container, stream) -> Iterator[av.VideoFrame]:
    """The stream's frames in presentation order; decoder errors become :class:`VideoError`."""
    decoded = 0
    try:
        for frame in container.decode(stream):
            decoded += 1
            yield frame
    except av.error.FFmpegError as exc:
        raise VideoError(path, f"corrupt video data after frame {decoded}: {exc.strerror}") from exc


def _check_complete(path, stream, decoded_s: float) -> None:
    """Raise if the frames decoded span much less time than the stream declares (truncated)."""
    if not stream.duration:
        return
    declared_s = float(stream.duration * stream.time_base)
    if decoded_s < _TRUNCATED_SHARE * declared_s:
        raise VideoError(
            path, f"truncated: frames end at {decoded_s:.2f} s but the stream declares {declared_s:.2f} s"
        )
