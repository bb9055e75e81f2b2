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

import errno
import functools
import math
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any, NamedTuple

import av
import numpy as np

from .errors import VideoError, ffmpeg_log_shown
from .types import VideoInfo

__all__ = ["probe", "probe_timing", "content_id", "frame_rate", "open_video", "absolute_path", "local_url",
           "default_video_stream", "display_rotation", "display_matrix", "display_angle", "upright_filters",
           "display_filters", "swaps_sides", "Filters", "sample_aspect_ratio", "display_width", "scan_packets",
           "scan_file", "PacketScan", "declared_duration_s", "check_not_truncated", "stamps_s", "file_identity"]

# FFmpeg demuxers that open other files or URLs named inside the file (playlists, manifests, image
# sequences, network sessions): a name can point anywhere, a FIFO among them hangs the opener. They
# are kept off FFmpeg's format whitelist, so such a file fails before it opens anything.
NESTING_FORMATS = frozenset({"concat", "dash", "hls", "image2", "imf", "rtp", "rtsp", "sdp"})

# A file whose frames or data end before this share of the duration it declares is truncated.
TRUNCATED_SHARE = 0.9
# Packet timestamps spanning more than this share of the declared duration (plus a second) are
# corrupt (a damaged index): frames are then timed by the decoder, not by their packets.
OVERLONG_SHARE = 1.5


@functools.cache
def _format_whitelist() -> str:
    """FFmpeg's ``format_whitelist`` option: every demuxer of this build but :data:`NESTING_FORMATS`."""
    names = set()
    for name in av.formats_available:
        try:
            names.add(av.format.ContainerFormat(name, "r").name)
        except ValueError:  # a muxer only
            continue
    return ",".join(sorted(n for n in names if not set(n.split(",")) & NESTING_FORMATS))


def check_regular_file(path: str | os.PathLike) -> int:
    """The size in bytes of ``path`` if it is a regular file (opened without blocking, so a FIFO or
    a device is refused rather than waited on).

    Raises
    ------
    VideoError
        Missing, not a regular file, or unreadable.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        cause = "file not found" if exc.errno == errno.ENOENT else f"cannot read the file ({exc.strerror})"
        raise VideoError(path, cause) from None
    try:
        status = os.fstat(fd)
    finally:
        os.close(fd)
    if not stat.S_ISREG(status.st_mode):
        raise VideoError(path, "not a regular file")
    return status.st_size


def absolute_path(path: str | os.PathLike) -> str:
    """``path`` made absolute against the current folder, its ``..`` kept: ``link/../a.mp4`` is not
    ``a.mp4`` when ``link`` is a symlink to another folder (``os.path.abspath`` would drop both, and
    name another file than the one the system opens)."""
    return str(Path(path).absolute())


def local_url(path: str | os.PathLike) -> str:
    """The URL under which FFmpeg opens the local file ``path``, never another: ``file:`` and its
    :func:`absolute_path`.

    FFmpeg reads a name such as ``concat:a.mp4``, ``subfile,,start,0,end,0,,:a.mp4``,
    ``cache:a.mp4`` or ``pipe:0.mp4`` as a protocol and its arguments (so it opens ``a.mp4``, or
    standard input); its ``file`` protocol strips the ``file:`` prefix and opens the rest as a path.
    """
    return "file:" + absolute_path(path)


@contextmanager
def open_video(path: str | os.PathLike) -> Iterator[tuple[av.container.InputContainer, av.VideoStream]]:
    """Open ``path`` and yield ``(container, stream)`` for its default video stream.

    ``path`` is always opened as a local file, whatever its name (see :func:`local_url`). The
    stream is the one the ``ffmpeg`` command line maps by default, see :func:`default_video_stream`.

    Raises
    ------
    VideoError
        If the file is missing, unreadable, not a media file, or has no video stream.
    """
    path = os.fspath(path)
    check_regular_file(path)
    av.logging.set_level(av.logging.WARNING if ffmpeg_log_shown() else None)  # None: FFmpeg prints nothing
    try:
        container = av.open(local_url(path), metadata_errors="ignore",
                            options={"format_whitelist": _format_whitelist()})
    except av.error.EOFError as exc:
        raise VideoError(path, "no video data: zero frames, or truncated") from exc
    except av.error.ArgumentError as exc:  # EINVAL: the demuxer FFmpeg found is off the whitelist
        raise VideoError(path, "not a video file: FFmpeg reads it as a playlist, image sequence or other "
                               "format that opens the files it names") from exc
    except av.error.FFmpegError as exc:
        raise VideoError(path, f"not a readable video (truncated, corrupt or not a video): {exc.strerror}") from exc
    try:
        stream = default_video_stream(container)
        if stream is None or video_stream_count(container) == 0:
            kinds = sorted({"cover art" if s is stream else s.type for s in container.streams})
            raise VideoError(path, f"no video stream (has {', '.join(kinds) or 'no streams at all'})")
        yield container, stream
    finally:
        container.close()


def default_video_stream(container: av.container.InputContainer) -> av.VideoStream | None:
    """The video stream the ``ffmpeg`` command line picks when no ``-map`` is given.

    Its rule (``map_auto_video`` in fftools): the largest picture (width x height), a stream
    flagged *default* first, cover art (attached pictures) last; ties go to the lower index.
    """

    def score(stream: av.VideoStream) -> int:
        flags = int(stream.disposition)
        if flags & int(av.stream.Disposition.attached_pic):
            return 1
        default = bool(flags & int(av.stream.Disposition.default))
        return stream.width * stream.height + 5_000_000 * default

    return max(container.streams.video, key=score, default=None)


def video_stream_count(container: av.container.InputContainer) -> int:
    """Number of video streams that are not cover art."""
    attached = int(av.stream.Disposition.attached_pic)
    return sum(1 for s in container.streams.video if not int(s.disposition) & attached)


Filters = tuple[tuple[str, str], ...]
"""FFmpeg video filters as ``(name, arguments)`` pairs, in the order they are applied."""


def display_rotation(frame: av.VideoFrame) -> int:
    """Counter-clockwise rotation in degrees (0, 90, 180 or 270) of ``frame`` 's display matrix
    (a mirrored picture's flips aside: :func:`upright_filters` shows it as FFmpeg does)."""
    return int(round(frame.rotation / 90.0)) % 4 * 90


def display_matrix(frame: av.VideoFrame) -> np.ndarray | None:
    """``frame`` 's display matrix (FFmpeg's ``AV_FRAME_DATA_DISPLAYMATRIX``: int32, shape (9,), a
    3x3 matrix row by row, 16.16 fixed point but for the last column), or None where it has none.
    Decoders attach the stream's matrix to every frame."""
    side_data: Any = frame.side_data  # PyAV's stubs know one kind of side data
    if "DISPLAYMATRIX" not in side_data:
        return None
    data = side_data["DISPLAYMATRIX"]
    return np.frombuffer(bytes(data), dtype=np.int32, count=9).copy() if data.buffer_size >= 9 * 4 else None


def _c_round(value: float) -> float:
    """C's ``round``: halves away from zero (Python's ``round`` takes them to the even side)."""
    return math.copysign(math.floor(abs(value) + 0.5), value)


def display_angle(matrix: np.ndarray) -> float:
    """Clockwise rotation of display ``matrix`` (see :func:`display_matrix`) in whole degrees in
    [0, 360), as the ``ffmpeg`` command line reads it (fftools' ``get_rotation`` of FFmpeg's
    ``av_display_rotation_get``); 0 for a degenerate matrix."""
    a, b, c, d = (float(matrix[i]) for i in (0, 1, 3, 4))
    scale_x, scale_y = math.hypot(a, c), math.hypot(b, d)
    if scale_x == 0 or scale_y == 0:
        return 0.0
    theta = _c_round(math.degrees(math.atan2(b / scale_y, a / scale_x)))
    return theta - 360 * math.floor(theta / 360 + 0.9 / 360)


def upright_filters(frame: av.VideoFrame) -> Filters:
    """The filters the ``ffmpeg`` command line (its ``autorotate``) puts before everything else to
    show ``frame`` as its whole display matrix says, rotation and flips: a transpose (which swaps
    width and height), ``hflip`` / ``vflip``, or ``rotate`` for an angle off the right angles (the
    picture keeps its size). Empty for a picture stored upright."""
    matrix = display_matrix(frame)
    if matrix is None:
        return ()
    theta = display_angle(matrix)
    if abs(theta - 90) < 1:
        return (("transpose", "cclock_flip" if matrix[3] > 0 else "clock"),)
    if abs(theta - 180) < 1:
        return tuple((name, "") for name, flipped in (("hflip", matrix[0] < 0), ("vflip", matrix[4] < 0)) if flipped)
    if abs(theta - 270) < 1:
        return (("transpose", "clock_flip" if matrix[3] < 0 else "cclock"),)
    if abs(theta) > 1:
        return (("rotate", f"{theta:f}*PI/180"),)
    return (("vflip", ""),) if matrix[4] < 0 else ()


def swaps_sides(filters: Filters) -> bool:
    """Whether ``filters`` (:func:`upright_filters`) show the picture with width and height swapped."""
    return any(name == "transpose" for name, _ in filters)


def display_filters(path: str | os.PathLike) -> Filters:
    """:func:`upright_filters` of the first frame of ``path`` 's default video stream (empty where
    no frame decodes).

    Raises
    ------
    VideoError
        As :func:`open_video`, or the stream does not decode.
    """
    with open_video(path) as (container, stream):
        try:
            first = next(container.decode(stream), None)
        except av.error.FFmpegError as exc:
            raise VideoError(path, f"video stream does not decode: {exc.strerror}") from exc
    return () if first is None else upright_filters(first)


def sample_aspect_ratio(stream: av.VideoStream) -> Fraction:
    """The stream's sample (pixel) aspect ratio; 1 where it is unset, zero or absurd."""
    sar = stream.sample_aspect_ratio or stream.codec_context.sample_aspect_ratio
    return Fraction(sar) if sar and 1 / 16 <= sar <= 16 else Fraction(1)


def display_width(stored_width: int, sar: Fraction) -> int:
    """Width in pixels of a picture ``stored_width`` wide shown with pixel aspect ``sar``: as
    ffmpeg's ``scale=iw*sar:ih`` gives it (the product's whole part), at least 1."""
    return stored_width if sar == 1 else max(1, math.floor(stored_width * sar))


IDENTITY_BLOCKS, IDENTITY_BLOCK_BYTES = 17, 1 << 16  # sampled: 1 MiB read whatever the size


DEFAULT_FPS = 25.0  # frames per second assumed where a stream declares no rate at all


def frame_rate(stream: av.VideoStream) -> float:
    """The stream's average frame rate in frames per second: its average, else guessed, else base
    rate, else ``DEFAULT_FPS``."""
    return float(stream.average_rate or stream.guessed_rate or stream.base_rate or 0) or DEFAULT_FPS


def time_base(stream: av.VideoStream) -> Fraction:
    """The stream's time base (seconds per timestamp unit); PyAV types it optional, but a demuxed
    stream always has one."""
    assert stream.time_base is not None, "a demuxed stream has a time base"
    return Fraction(stream.time_base)


def stamps_s(pts: np.ndarray, base: Fraction) -> np.ndarray:
    """Timestamps ``pts`` (stream units) relative to the first, in seconds (float64), computed as
    PyAV computes ``frame.time`` (``pts * num / den``), so that packet-timed and decoded frames agree
    to the last bit."""
    def seconds(stamps: np.ndarray) -> np.ndarray:
        return np.asarray(stamps, dtype=np.float64) * base.numerator / base.denominator

    return seconds(pts) - seconds(pts[:1])[0] if len(pts) else np.empty(0)


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
    import hashlib

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


class PacketScan(NamedTuple):
    """What the packet headers of a file tell, without decoding."""

    pts: np.ndarray
    """int64, shape (n,): the video stream's packet timestamps (``stream.time_base`` units) in
    presentation order; for packets without timestamps, one average frame interval apart."""
    is_key: np.ndarray
    """bool, shape (n,): whether packet ``i`` (in that order) is a keyframe."""
    span_s: float
    """Seconds from the first video frame to the end of the last."""
    data_end_s: float | None
    """Seconds from the container's start at which the last timed packet of any stream ends
    (None: no packet carries a timestamp)."""
    in_order: bool
    """Whether ``pts[i]`` is the decoder's frame ``i``: every video packet is timed, the decoding
    timestamps never go backwards (they do in recordings joined end to end) and the timestamps'
    span agrees with the duration the file declares (:data:`OVERLONG_SHARE`)."""
    starts_at_keyframe: bool = False
    """Whether the first packet in decoding order is a keyframe, so that the packets split into
    GOPs from the start (decoded side by side: :mod:`framepick.decode._gops`)."""
    longest_gop: int = 0
    """Packets from a keyframe up to the next one (decoding order), the most of any GOP."""
    hidden: int = 0
    """Packets of the stream whose frames the decoder does not hand out, so not listed: an edit
    list's discarded ones, the lead of a stream cut mid-GOP (see :func:`scan_packets`)."""

    @property
    def splits_into_gops(self) -> bool:
        """Whether the GOPs can be decoded side by side (:mod:`framepick.decode._gops`): the packets
        are timed in order, start at a keyframe and hold more than one GOP."""
        return self.in_order and self.starts_at_keyframe and int(np.count_nonzero(self.is_key)) > 1


def scan_file(path: str | os.PathLike) -> PacketScan:
    """:func:`scan_packets` of the default video stream of ``path``, read from its start by a reader
    of its own (some inputs cannot seek back: raw H.264 streams).

    The last few scans are remembered while the file keeps its identity (:func:`file_identity`),
    so that probing, analysing and extracting in one process read the packets once. Their arrays
    are read-only.

    Raises
    ------
    VideoError
        As :func:`open_video`, or a demuxing error.
    """
    return _scan_file(os.fspath(path), file_identity(path))


def file_identity(path: str | os.PathLike) -> tuple[int, ...] | None:
    """(device, inode, size, modification time in ns) of ``path``, or None if it cannot be read:
    what a result remembered for the file is keyed by, so that a file replaced or rewritten is
    read again."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns


@functools.lru_cache(maxsize=4)
def _scan_file(path: str, identity: tuple[int, ...] | None) -> PacketScan:
    with open_video(path) as (container, stream):
        scan = scan_packets(container, stream, path=path)
    for array in (scan.pts, scan.is_key):
        array.flags.writeable = False
    return scan


def _packets(container, path: str | os.PathLike | None) -> Iterator[av.Packet]:
    """``container.demux()``, with a demuxing error (corrupt data, or a demuxer that gives up
    resyncing: EAGAIN) as a :class:`VideoError` naming ``path`` (None: the file the container
    opened, without :func:`local_url`'s ``file:``)."""
    read = 0
    try:
        for packet in container.demux():
            read += 1
            yield packet
    except av.error.FFmpegError as exc:
        name = container.name.removeprefix("file:") if path is None else path
        raise VideoError(name, f"corrupt data after packet {read}: {exc.strerror}") from exc


def scan_packets(container, stream, *, path: str | os.PathLike | None = None) -> PacketScan:
    """Read every packet header of the container from its current position (no decoding, but for
    the start of a stream cut mid-GOP: :func:`_shown`).

    Packets of every stream are read (so that :attr:`PacketScan.data_end_s` shows where the
    file's data really ends); only ``stream`` 's are listed, and of those only the ones whose
    frames FFmpeg's decoder hands out (:func:`_shown`). A demuxing error names ``path``
    (default: the absolute path the container opened).
    """
    stamps, keys, durations, dts, discarded = [], [], [], [], []  # in decoding order
    start_s = (container.start_time or 0) / av.time_base
    data_end_s = None
    frame_s = 1.0 / frame_rate(stream)  # a video packet without a duration (ASF) lasts a frame
    for packet in _packets(container, path):
        if packet.size == 0:
            continue  # the flushing packets at the end
        stamp = packet.pts if packet.pts is not None else packet.dts
        if stamp is not None and packet.time_base is not None:
            lasts_s = float(packet.duration * packet.time_base) if packet.duration else (
                frame_s if packet.stream_index == stream.index else 0.0)
            end_s = float(stamp * packet.time_base) - start_s + lasts_s
            data_end_s = end_s if data_end_s is None else max(data_end_s, end_s)
        if packet.stream_index != stream.index:
            continue
        stamps.append(stamp)
        keys.append(packet.is_keyframe)
        durations.append(packet.duration or 0)
        discarded.append(packet.is_discard)
        if packet.dts is not None:
            dts.append(packet.dts)
    if len(stamps) == 0:
        return PacketScan(np.empty(0, np.int64), np.empty(0, bool), 0.0, data_end_s, True)
    if any(stamp is None for stamp in stamps):  # raw streams (.h264): frames one interval apart
        interval = 1 / (frame_rate(stream) * float(stream.time_base))
        pts = np.round(np.arange(len(stamps)) * interval).astype(np.int64)
        return PacketScan(pts, np.asarray(keys, dtype=bool), float(len(stamps) * interval * stream.time_base),
                          data_end_s, False)
    keys_decoded = np.asarray(keys, dtype=bool)
    name = container.name.removeprefix("file:") if path is None else path
    shown = _shown(name, stream.index, np.asarray(stamps, dtype=np.int64), keys_decoded,
                   np.asarray(discarded, dtype=bool))
    jumps_back = bool(np.any(np.diff(np.asarray(dts, dtype=np.int64)) < 0))
    order = np.flatnonzero(shown)[np.argsort(np.asarray(stamps, dtype=np.int64)[shown], kind="stable")]
    if len(order) == 0:
        return PacketScan(np.empty(0, np.int64), np.empty(0, bool), 0.0, data_end_s, True, hidden=len(stamps))
    pts = np.asarray(stamps, dtype=np.int64)[order]
    tail = durations[order[-1]] or (np.median(np.diff(pts)) if len(pts) > 1 else 0)
    span = float((pts[-1] - pts[0] + tail) * time_base(stream))
    declared_s = declared_duration_s(container, stream)
    overlong = declared_s is not None and span > OVERLONG_SHARE * declared_s + 1.0
    return PacketScan(pts, keys_decoded[order], span, data_end_s, not (jumps_back or overlong),
                      *_gop_layout(keys_decoded), hidden=len(stamps) - len(order))


def _shown(path: str | os.PathLike, stream_index: int, stamps: np.ndarray, keys: np.ndarray,
           discarded: np.ndarray) -> np.ndarray:
    """Whether FFmpeg's decoder hands out the frame of each packet (bool, shape (n,); the packets'
    ``stamps``, keyframe flags ``keys`` and discard flags ``discarded`` in decoding order), as
    ``ffmpeg -i f -f null -`` and PyAV's ``container.decode()`` count frames.

    Not the packets an edit list discards (MP4 cut without re-encoding: the GOP before the cut is
    stored, its frames are decoded but not shown). Nor the frames before the first keyframe that
    do not decode: a stream cut mid-GOP (an MPEG-TS cut anywhere) starts with packets predicted
    from frames it lacks, which decoders drop (H.264 up to the keyframe or a recovery point), and
    the leading frames of an open GOP may go too. Those lead packets, the ones decoded before the
    first keyframe or after it in its GOP but shown before it, are few: a decoder of their own
    decodes the stream up to the first keyframe's frame to see which of them it hands out. Most
    streams have none. (Timestamps that start again later, in recordings joined end to end, are
    not a lead.)
    """
    shown = ~discarded
    key_positions = np.flatnonzero(keys)
    if len(key_positions) == 0:
        return shown  # no keyframe to decode up to: every frame counts
    first_key, key_pts = int(key_positions[0]), int(stamps[key_positions[0]])
    first_gop_end = int(key_positions[1]) if len(key_positions) > 1 else len(stamps)
    position = np.arange(len(stamps))
    lead = (position < first_key) | ((position < first_gop_end) & (stamps < key_pts))
    if not np.any(lead & shown):
        return shown
    decoded = _decoded_before(path, stream_index, key_pts)
    return shown if decoded is None else shown & (~lead | np.isin(stamps, list(decoded)))


def _decoded_before(path: str | os.PathLike, stream_index: int, key_pts: int) -> set[int] | None:
    """Timestamps of the frames the decoder of stream ``stream_index`` hands out before the frame
    at ``key_pts`` (stream units), decoding from the start; None where a frame carries none.

    Raises
    ------
    VideoError
        The stream does not decode.
    """
    decoded: set[int] = set()
    with open_video(path) as (container, _):
        stream = next(s for s in container.streams.video if s.index == stream_index)
        try:
            for frame in container.decode(stream):
                if frame.pts is None:
                    return None
                if frame.pts >= key_pts:
                    break
                decoded.add(frame.pts)
        except av.error.FFmpegError as exc:
            raise VideoError(path, f"video stream does not decode: {exc.strerror}") from exc
    return decoded


def _gop_layout(keys: np.ndarray) -> tuple[bool, int]:
    """(:attr:`PacketScan.starts_at_keyframe`, :attr:`PacketScan.longest_gop`) of packets with
    keyframe flags ``keys`` (bool, (n,)) in decoding order.

    >>> _gop_layout(np.array([1, 0, 0, 0, 1, 0, 0], bool)), _gop_layout(np.array([0, 1, 0], bool))
    ((True, 4), (False, 3))
    """
    starts = np.flatnonzero(keys)
    if len(starts) == 0 or starts[0] != 0:
        return False, len(keys)
    return True, int(np.diff(np.append(starts, len(keys))).max())


def check_not_truncated(path: str | os.PathLike, end_s: float, declared_s: float | None, *,
                        what: str, cause: str = "truncated") -> None:
    """Raise :class:`VideoError` (``cause``) if ``what`` ends (``end_s``, seconds) well before the
    duration the file declares (``declared_s``, seconds; None: declares none, nothing to check)."""
    if declared_s and end_s < TRUNCATED_SHARE * declared_s:
        raise VideoError(path, f"{cause}: {what} end at {end_s:.2f} s but the file declares {declared_s:.2f} s")


def _container_duration_s(container) -> float | None:
    """The container's declared duration in seconds (the longest stream's), or None."""
    return container.duration / av.time_base if container.duration else None


def declared_duration_s(container, stream) -> float | None:
    """Duration the file declares for ``stream`` in seconds, or None if it declares none.

    From the stream's own duration, else its ``DURATION`` tag (Matroska), else the container's
    duration when the stream is the only one (with several, the container's is the longest).
    """
    if stream.duration:
        return float(stream.duration * stream.time_base)
    tag = stream.metadata.get("DURATION")
    if tag:
        hours, minutes, seconds = tag.split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    if len(container.streams) == 1:
        return _container_duration_s(container)
    return None
