"""PyAV front to back: streams through FFmpeg, scales in an FFmpeg filter graph, flat memory.

The pieces shared with :mod:`._pyav_at` (reading chosen frames, and the PyAV source itself) are
the scaler, the decoder set-up and the decoded, timed frames."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Generator, Iterator
from typing import Any, TypeVar

import av
import numpy as np

from ..errors import VideoError
from ..probe import (
    TRUNCATED_SHARE,
    Filters,
    PacketScan,
    check_not_truncated,
    declared_duration_s,
    display_width,
    frame_rate,
    open_video,
    sample_aspect_ratio,
    scan_file,
    stamps_s,
    swaps_sides,
    time_base,
    upright_filters,
)
from ._carried import frame_threads, gops_decode_alone
from ._common import Chunk, ChunkBuilder, output_size, read_ahead
from ._gops import SkipMode, decode_gops, decode_packet, gops_ahead, nonref_skip

__all__ = ["pyav_chunks", "Scaler", "configure", "decoded_frames", "all_timed", "side_by_side_size"]

# Full-size decoded frames the decoder thread may hold ahead of the scaling (about 3 MB each at 1080p).
_DECODED_AHEAD = 4

Item = TypeVar("Item")


class Scaler:
    """An FFmpeg filter graph (show upright, scale, convert to RGB) rebuilt whenever the input
    changes.

    A frame is shown upright as the ``ffmpeg`` command line shows it, from its whole display
    matrix, rotation and flips (:func:`framepick.probe.upright_filters`). The output size is fixed
    by the first frame: should the stream change its resolution midway, later frames are scaled
    to the same size, so every frame of a video has one shape.
    """

    def __init__(self, stream: av.VideoStream, size: int | tuple[int, int] | None) -> None:
        self.stream = stream
        self.size = size
        self._key: tuple | None = None
        self._graph: av.filter.Graph | None = None
        self._out_size: tuple[int, int] | None = None

    def __call__(self, frame: av.VideoFrame) -> np.ndarray:
        key = (frame.width, frame.height, frame.format.name, upright_filters(frame))
        if self._graph is None or key != self._key:
            self._graph, self._key = self._build(frame, *key), key
        self._graph.push(frame)
        return self._graph.pull().to_ndarray()

    def output_size(self, frame: av.VideoFrame) -> tuple[int, int]:
        """(width, height) of the scaled frames, fixed by the first frame asked about or scaled:
        its displayed shape (pixel aspect ratio, then rotation) at ``size``."""
        if self._out_size is None:
            shown = display_width(frame.width, sample_aspect_ratio(self.stream))
            swapped = swaps_sides(upright_filters(frame))
            upright_w, upright_h = (frame.height, shown) if swapped else (shown, frame.height)
            self._out_size = output_size(upright_w, upright_h, self.size)
        return self._out_size

    def _build(self, frame: av.VideoFrame, width: int, height: int, pix_fmt: str, upright: Filters) -> av.filter.Graph:
        out_w, out_h = self.output_size(frame)
        graph = av.filter.Graph()
        nodes = [graph.add_buffer(width=width, height=height, format=av.VideoFormat(pix_fmt),
                                  time_base=self.stream.time_base)]
        for name, args in upright:
            nodes.append(graph.add(name, args))
        nodes.append(graph.add("scale", f"{out_w}:{out_h}:flags=area:threads=1"))
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
    keep_factory: Callable[[], Callable[[int, float], bool]],
    threads: int,
    chunk_frames: int = 64,
    keyframes_only: bool = False,
    reference_only: bool = False,
    seek_pts: int | None = None,
    origin_s: float | None = None,
) -> Generator[Chunk, None, None]:
    """Decode ``path`` front to back, yielding :class:`Chunk` s.

    Where the packets start at a keyframe and ``threads`` > 1, its GOPs are decoded side by side by
    ``threads`` single-threaded decoders, each scaling what it decodes (:mod:`._gops`: the same
    frames, without the waits of FFmpeg's frame threads; measured in reports/analysis.md). Otherwise
    FFmpeg decodes in a thread of its own, up to ``_DECODED_AHEAD`` frames ahead of the filter graph
    that scales them in the caller's thread (both release the GIL).

    Parameters
    ----------
    size : int or None
        Longer side of the kept frames in pixels; None keeps the full size.
    keep_factory : callable () -> (index, time_s) -> bool
        Makes ``keep``, called for every decoded frame in order; frames it accepts are converted
        and handed out. A ``keep`` made afresh and given the frames from any later keyframe on must
        accept at least the frames the first accepts there (true of :class:`RateGate` and of sets
        of indices): GOPs decoded side by side are filtered that way before they are scaled.
    threads : int
        FFmpeg decoder threads.
    chunk_frames : int
        Kept frames per chunk.
    keyframes_only : bool
        Decode keyframes only (FFmpeg's ``skip_frame=nonkey``); the other frames are timed from
        their packet headers but never decoded.
    reference_only : bool
        Decode only reference frames (FFmpeg's ``skip_frame=nonref``), timing the others from their
        packet headers. A stream without frame reordering (no B-frames: intra-only, H.264 baseline,
        VP8/VP9; FFmpeg's ``has_b_frames`` is 0) is decoded every frame, as without this option
        (nothing to skip, no packet scan). Not with ``seek_pts``.
    seek_pts : int, optional
        Start decoding at the keyframe at or before this timestamp (``stream.time_base`` units)
        instead of at the beginning; frame indices then count from 0 there.
    origin_s : float, optional
        Times are ``frame.time - origin_s`` (default: relative to the first decoded frame).
        With ``seek_pts``, pass the first frame's ``frame.time`` to keep the video's times.
    """
    if seek_pts is not None and (keyframes_only or reference_only):
        raise VideoError(path, "a keyframes or reference-frames pass starts at the beginning")
    with open_video(path) as (container, stream):
        configure(path, stream, threads=threads)
        builder = ChunkBuilder(chunk_frames=chunk_frames)
        decoded, convert = _timed_frames(path, container, stream, size=size, keep_factory=keep_factory,
                                         threads=threads, keyframes_only=keyframes_only,
                                         reference_only=reference_only, seek_pts=seek_pts, origin_s=origin_s)
        keep = keep_factory()
        try:
            for index, time_s, frame in decoded:
                kept = frame is not None and keep(index, time_s)
                chunk = builder.add(time_s, convert(frame) if kept else None)
                if chunk is not None:
                    yield chunk
        finally:
            decoded.close()  # the decoder threads stop before the container closes
        if builder.next_index == 0:
            raise VideoError(path, "video stream has zero decodable frames")
        chunk = builder.flush()
        if chunk is not None:
            yield chunk
        # after the last chunk is out, so that a truncated file is not retried with another backend
        _check_frames_end(path, container, stream, builder.last_time_s)


def _check_frames_end(path, container, stream, last_time_s: float) -> None:
    """Raise :class:`VideoError` where the frames, the last shown ``last_time_s`` seconds after the
    first, end well before the duration the stream declares (:func:`~framepick.probe.check_not_truncated`).
    That duration counts from the stream's start: where the first frames do not decode (a stream
    cut mid-GOP), the frames start later, not end earlier."""
    declared_s = declared_duration_s(container, stream)
    end_s = last_time_s + 1.0 / frame_rate(stream)
    if declared_s and end_s < TRUNCATED_SHARE * declared_s:
        end_s += _undecoded_lead_s(path, stream)
    check_not_truncated(path, end_s, declared_s, what="frames")


def _undecoded_lead_s(path, stream) -> float:
    """Seconds from the stream's start to its first frame the decoder hands out (0 where the
    stream declares no start, or its packets are not timed in order)."""
    scan = scan_file(path)
    if stream.start_time is None or not scan.in_order or len(scan.pts) == 0:
        return 0.0
    return max(0.0, float((int(scan.pts[0]) - stream.start_time) * time_base(stream)))


def configure(path, stream, *, threads: int) -> None:
    """Decoder threads of ``path`` 's ``stream`` (fewer where frame threads would not give one
    decoder's pictures: :func:`._carried.frame_threads`). The deblocking filter stays on: skipping
    it makes pictures drift from the true decode through each GOP, so keyframes look like changes
    (false cuts)."""
    context = stream.codec_context
    context.thread_type = "AUTO"
    context.thread_count = frame_threads(path, threads)


def all_timed(stream, frames: Iterator[av.VideoFrame],
               origin: float | None = None) -> Generator[tuple[int, float, av.VideoFrame], None, None]:
    """``(index, time_s, frame)`` of every decoded frame; time relative to ``origin`` (default:
    the first frame's time).

    A frame without a timestamp, or whose timestamp is not after the one before (recordings
    joined end to end, a reset clock), is placed one average frame interval after the one before.
    """
    step = 1.0 / frame_rate(stream)
    time_s = -step
    for index, frame in enumerate(frames):
        if frame.time is not None:
            origin = frame.time if origin is None else origin
        stamped = None if frame.time is None else frame.time - origin
        time_s = stamped if stamped is not None and stamped > time_s else time_s + step
        yield index, time_s, frame


def _timed_frames(path, container, stream, *, size, keep_factory, threads: int, keyframes_only: bool,
                  reference_only: bool, seek_pts: int | None,
                  origin_s: float | None) -> tuple[Generator[tuple[int, float, Any], None, None], Callable]:
    """``(decoded, convert)``: ``decoded`` yields ``(index, time_s, frame)`` for every frame in
    order, ``frame`` None where it was not decoded; ``convert(frame)`` is the RGB array handed out.

    Frames are timed from a scan of the packet headers (through a container of its own, so that
    ``container`` stays at its start: raw streams cannot seek back) where only some are decoded
    (keyframes only, reference frames only: FFmpeg's ``skip_frame`` modes ``"NONKEY"``, ``"NONREF"``)
    or where the GOPs are decoded side by side; else as they are decoded (:func:`all_timed`).
    Where the packets are not timed in decoding order (raw streams, recordings joined end to end),
    every frame is decoded in one decoder, or (keyframes only) a :class:`VideoError` is raised.
    """
    scaler = Scaler(stream, size)
    if seek_pts is not None:
        container.seek(seek_pts, stream=stream)
    skip: SkipMode = "NONKEY" if keyframes_only else nonref_skip(stream) if reference_only else "DEFAULT"
    scan = None
    if seek_pts is None and (skip != "DEFAULT" or threads > 1):
        scan = scan_file(path)
    if keyframes_only and not (scan and scan.in_order):
        raise VideoError(path, "decoding keyframes only needs frame timestamps in order; analyse every frame")
    if scan is not None and scan.in_order:
        times_s = stamps_s(scan.pts, time_base(stream))
        plan = _gop_plan(path, size, scan, workers=threads) if skip != "NONKEY" and threads > 1 else None
        if plan is not None:
            pixels = _gop_pixels(path, container, stream, scan, times_s, size=plan[0], keep_factory=keep_factory,
                                 workers=threads, ahead=plan[1], skip=skip)
            return _skipping(scan.pts, times_s, pixels), _converted
        if skip != "DEFAULT":
            stream.codec_context.skip_frame = skip
            stamped = ((frame.pts, frame) for frame in decoded_frames(path, container, stream))
            return read_ahead(_skipping(scan.pts, times_s, stamped), depth=_DECODED_AHEAD,
                              name="framepick-decoder"), scaler
    return read_ahead(all_timed(stream, decoded_frames(path, container, stream), origin=origin_s),
                      depth=_DECODED_AHEAD, name="framepick-decoder"), scaler


def _converted(pixels: np.ndarray) -> np.ndarray:
    """The ``convert`` of frames scaled where they were decoded."""
    return pixels


def _gop_plan(path, size, scan: PacketScan, *, workers: int) -> tuple[tuple[int, int], int] | None:
    """``((width, height), ahead)`` for decoding the GOPs side by side: the size of the scaled
    frames (:func:`side_by_side_size`) and the GOPs to decode ahead (:func:`._gops.gops_ahead`);
    None where they cannot be (see :func:`side_by_side_size`; too long for memory)."""
    frame_size = side_by_side_size(path, scan, size)
    if frame_size is None:
        return None
    width, height = frame_size
    ahead = gops_ahead(workers, scan.longest_gop * width * height * 3)
    return (frame_size, ahead) if ahead else None


def side_by_side_size(path, scan: PacketScan, size: int | tuple[int, int] | None) -> tuple[int, int] | None:
    """(width, height) in pixels of the frames of ``path`` at ``size`` (fixed by its first frame, as
    :class:`Scaler` fixes it) where its GOPs can be decoded side by side: the packets
    :attr:`~framepick.probe.PacketScan.splits_into_gops` (``scan``), the codec's GOPs decode alone
    (:func:`._carried.gops_decode_alone`) and a first frame decodes; else None."""
    if not scan.splits_into_gops:
        return None
    with open_video(path) as (container, stream):
        first = next(decoded_frames(path, container, stream), None)
        if first is None or not gops_decode_alone(stream.codec_context.name):
            return None
        return Scaler(stream, size).output_size(first)


def _gop_pixels(path, container, stream, scan: PacketScan, times_s: np.ndarray, *, size: tuple[int, int],
                keep_factory, workers: int, ahead: int,
                skip: SkipMode) -> Generator[tuple[int | None, np.ndarray | None], None, None]:
    """``(pts, pixels or None)`` of every decoded frame, its GOP decoded and scaled to ``size`` by
    one of ``workers`` threads (:func:`._gops.decode_gops`); None where a ``keep`` made for the GOP
    (see :func:`pyav_chunks`) turns the frame down."""
    index_of = {int(stamp): index for index, stamp in enumerate(scan.pts)}

    def converter(worker_stream):
        scaler = Scaler(worker_stream, size)

        def for_gop():
            keep = keep_factory()

            def convert(frame: av.VideoFrame) -> np.ndarray | None:
                index = index_of.get(frame.pts, -1) if frame.pts is not None else -1
                return scaler(frame) if index >= 0 and keep(index, float(times_s[index])) else None

            return convert

        return for_gop

    decoded = 0
    try:
        gops = decode_gops(os.fspath(path), container.demux(stream), workers=workers, ahead=ahead, skip=skip,
                           converter=converter)
        with contextlib.closing(gops) as frames:
            for item in frames:
                decoded += 1
                yield item
    except av.error.FFmpegError as exc:
        raise VideoError(path, f"corrupt video data after frame {decoded}: {exc.strerror}") from exc


def _skipping(pts: np.ndarray, times_s: np.ndarray,
              frames: Iterator[tuple[int | None, Item]]) -> Generator[tuple[int, float, Item | None], None, None]:
    """Every frame of ``pts`` with its time, the decoded ``frames`` (``(pts, frame)``, in
    presentation order) placed by their timestamps."""
    index_of = {int(stamp): index for index, stamp in enumerate(pts)}
    next_index = 0
    for stamp, frame in frames:
        index = -1 if stamp is None else index_of.get(stamp, -1)
        if index < next_index:
            continue
        for skipped in range(next_index, index):
            yield skipped, float(times_s[skipped]), None
        yield index, float(times_s[index]), frame
        next_index = index + 1
    for skipped in range(next_index, len(pts)):
        yield skipped, float(times_s[skipped]), None


def decoded_frames(path, container, stream, *,
                    needed_pts: frozenset[int] | None = None) -> Generator[av.VideoFrame, None, None]:
    """The stream's frames in presentation order; decoder errors become :class:`VideoError`.

    With ``needed_pts``, a non-reference frame (one no other frame is predicted from) whose
    packet timestamp is not among them is not decoded at all (FFmpeg's ``skip_frame=nonref``,
    set packet by packet, where the frames are reordered: :func:`._gops.nonref_skip`): about half
    the frames of a typical H.264 file, which nothing else needs.
    """
    decoded = 0
    context = stream.codec_context
    try:
        if needed_pts is None:
            frames = container.decode(stream)
        else:
            skip = nonref_skip(stream)
            frames = (frame for packet in container.demux(stream)
                      for frame in decode_packet(context, packet, skip=skip, needed_pts=needed_pts))
        for frame in frames:
            decoded += 1
            yield frame
    except av.error.FFmpegError as exc:
        raise VideoError(path, f"corrupt video data after frame {decoded}: {exc.strerror}") from exc

