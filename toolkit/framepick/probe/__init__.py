"""What a video file is, before anything is decoded in bulk.

:func:`probe` opens the file with PyAV (FFmpeg), picks the video stream FFmpeg itself would pick,
decodes the first frame (to prove the stream decodes and to read its display matrix: rotation and
flips) and, optionally, reads every packet header (no decoding) for the frame count, timestamps and
keyframes. Frames are the ones FFmpeg's decoder hands out, as ``ffmpeg -i f -f null -`` counts them
(not the packets an edit list discards, nor those before the first keyframe that do not decode),
shown as the ``ffmpeg`` command line shows them (its autorotate: :func:`upright_filters`).
Anything that makes the file unusable raises :class:`~framepick.errors.VideoError` naming the file
and the cause.
"""

from __future__ import annotations

import hashlib
import os
from fractions import Fraction

import av
import numpy as np

from ..errors import VideoError
from ..types import VideoInfo
from ._display import (
    Filters,
    display_angle,
    display_filters,
    display_matrix,
    display_rotation,
    display_width,
    sample_aspect_ratio,
    swaps_sides,
    upright_filters,
)
from ._open import (
    absolute_path,
    check_regular_file,
    default_video_stream,
    local_url,
    open_video,
    video_stream_count,
)
from ._packets import (
    TRUNCATED_SHARE,
    PacketScan,
    _container_duration_s,
    check_not_truncated,
    declared_duration_s,
    file_identity,
    frame_rate,
    scan_file,
    scan_packets,
    stamps_s,
    time_base,
)

__all__ = ["probe", "probe_timing", "content_id", "frame_rate", "open_video", "absolute_path", "local_url",
           "default_video_stream", "display_rotation", "display_matrix", "display_angle", "upright_filters",
           "display_filters", "swaps_sides", "Filters", "sample_aspect_ratio", "display_width", "scan_packets",
           "scan_file", "PacketScan", "declared_duration_s", "check_not_truncated", "stamps_s", "file_identity",
           "check_regular_file", "video_stream_count", "time_base", "TRUNCATED_SHARE"]


IDENTITY_BLOCKS, IDENTITY_BLOCK_BYTES = 17, 1 << 16  # sampled: 1 MiB read whatever the size


def content_id(path: str | os.PathLike) -> str:
    """An identity of the file's content: its size and a SHA-256 of ``IDENTITY_BLOCKS`` blocks of
    64 KiB spread evenly over it (the first and the last included). A replaced or re-encoded video
    gets another id even when its size and modification time are put back; an edit of the same
    size that touches none of the sampled blocks is not seen (a whole read would cost as much as
    decoding).

    Raises
    ------
    VideoError
        The file cannot be read.
    """

    check_regular_file(path)  # a FIFO would block the open below
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            digest = hashlib.sha256(str(size).encode())
            last = max(size - IDENTITY_BLOCK_BYTES, 0)
            for offset in sorted({last * k // (IDENTITY_BLOCKS - 1) for k in range(IDENTITY_BLOCKS)}):
                handle.seek(offset)
                digest.update(handle.read(IDENTITY_BLOCK_BYTES))
    except OSError as exc:
        raise VideoError(path, f"cannot read the file ({exc.strerror or exc})") from None
    return f"{size}-{digest.hexdigest()[:24]}"


def probe(path: str | os.PathLike, *, keyframes: bool = True) -> VideoInfo:
    """Describe the default video stream of ``path`` (:func:`probe_timing` also times every frame).

    Parameters
    ----------
    path : str or os.PathLike
        The video file.
    keyframes : bool
        Read every packet header to count frames exactly and list the keyframes. Without it the
        frame count is the container's estimate (``duration * fps``) and ``keyframes`` is empty.

    Returns
    -------
    VideoInfo
        ``frames``, ``duration_s`` and ``keyframes`` come from packet timestamps (demuxing only);
        the analysis pass later replaces them with what the decoder really delivers.

    Raises
    ------
    VideoError
        Missing file, not a video, audio-only, undecodable stream or zero frames.
    """
    return _probe(path, keyframes=keyframes)[0]


def probe_timing(path: str | os.PathLike) -> tuple[VideoInfo, np.ndarray]:
    """:func:`probe` and the presentation time in seconds of every frame (float64, shape
    ``(info.frames,)``, relative to the first frame), from the packet headers alone: what the
    ``uniform`` and ``fps`` strategies need. Where the packets' order is not the decoder's
    (timestamps missing or going backwards), frames are timed at the average rate instead.

    Raises
    ------
    VideoError
        As :func:`probe`.
    """
    info, scan, time_base = _probe(path, keyframes=True)
    assert scan is not None  # keyframes=True scans the packets
    if scan.in_order:
        times_s = stamps_s(scan.pts, time_base)
    else:
        times_s = np.arange(info.frames) / info.fps
    return info, times_s


def _probe(path: str | os.PathLike, *, keyframes: bool) -> tuple[VideoInfo, PacketScan | None, Fraction]:
    """:func:`probe`'s description, the packet scan (None without ``keyframes``) and the stream's
    time base (seconds per timestamp unit)."""
    with open_video(path) as (container, stream):
        first = _first_frame(os.fspath(path), container, stream)
        rotation = display_rotation(first)
        swapped = swaps_sides(upright_filters(first))
        fps = frame_rate(stream)
        if keyframes:
            scan = scan_file(path)
            if scan.data_end_s is not None:
                check_not_truncated(path, scan.data_end_s, _container_duration_s(container), what="data")
            pts, duration_s = scan.pts, scan.span_s
            # keyframe positions are trusted (to seek to) only where they are the decoder's
            is_key = scan.is_key & scan.in_order
        else:
            pts, is_key, scan = np.empty(0, np.int64), np.empty(0, bool), None
            duration_s = declared_duration_s(container, stream) or _container_duration_s(container) or 0.0
        frames = len(pts) if keyframes else max(1, round(duration_s * fps))
        if frames == 0:
            raise VideoError(path, "video stream has zero frames")
        coded_w, coded_h = first.width, first.height
        sar = sample_aspect_ratio(stream)
        shown_w = display_width(coded_w, sar)
        width, height = (coded_h, shown_w) if swapped else (shown_w, coded_h)
        info = VideoInfo(
            path=absolute_path(path),
            frames=frames,
            fps=fps,
            duration_s=duration_s,
            width=width,
            height=height,
            codec=stream.codec_context.name,
            rotation=rotation,
            stream_index=stream.index,
            video_streams=video_stream_count(container),
            keyframes=tuple(int(i) for i in np.flatnonzero(is_key)),
            stored_width=coded_w,
            stored_height=coded_h,
            sample_aspect_ratio=(sar.numerator, sar.denominator),
        )
        return info, (scan if keyframes else None), time_base(stream)


def _first_frame(path: str, container, stream) -> av.VideoFrame:
    try:
        for frame in container.decode(stream):
            return frame
    except av.error.FFmpegError as exc:
        raise VideoError(path, f"video stream does not decode: {exc.strerror}") from exc
    raise VideoError(path, "video stream has zero decodable frames")
