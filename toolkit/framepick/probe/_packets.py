"""What the packet headers tell without decoding: timestamps, keyframes, the frames FFmpeg's
decoder hands out, where the data ends; and frame timing."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from fractions import Fraction
from typing import NamedTuple

import av
import numpy as np

from ..errors import VideoError
from ._open import open_video

# A file whose frames or data end before this share of the duration it declares is truncated.
TRUNCATED_SHARE = 0.9
# Packet timestamps spanning more than this share of the declared duration (plus a second) are
# corrupt (a damaged index): frames are then timed by the decoder, not by their packets.
OVERLONG_SHARE = 1.5


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
