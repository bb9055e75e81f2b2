"""Decoder state a stream carries once, and handing it to decoders that start at a later keyframe.

A decoder that starts at a GOP other than the first (a GOP worker, :mod:`._gops`; decord after a
seek) has not read the stream's first packet. For most codecs that costs nothing: the
parameters are in the container's extradata, which every decoder gets, and each keyframe holds
the rest. Two kinds of H.264 / HEVC state are written into the first packet only:

- parameter sets (SPS, PPS; HEVC's VPS too) in streams whose extradata lacks them: a decoder
  that has not seen them cannot decode at all;
- x264's version SEI (user data unregistered): FFmpeg's H.264 decoder reads the encoder's build
  from it and decodes lossless streams (High 4:4:4 Predictive) of builds before
  :data:`X264_DECODED_AS_WRITTEN` differently, as those encoders wrote them (their intra
  prediction). Without it, frames of such a stream come out wrong, with no error. FFmpeg's frame
  threads do not reliably hand it on either (the same file decoded twice gave different
  pictures), so such a stream is decoded by single-threaded decoders only (:func:`frame_threads`).

:func:`carried_state` finds those NAL units in the first packet that the second keyframe's packet
lacks, and :func:`with_carried` puts them in front of a later GOP's first packet, which makes its
decoder's pictures the same as one decoder's reading from the start. Other codecs whose keyframes
are known to carry everything a decoder needs are listed in :data:`SELF_CONTAINED`; for any
codec outside both, GOPs are not decoded side by side (:func:`gops_decode_alone`): MPEG-4 part 2
streams, for one, carry the encoder's name and build (which FFmpeg's workarounds key on) in a
header that may be written once.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from typing import NamedTuple

import av

from ..probe import file_identity, open_video

__all__ = ["SELF_CONTAINED", "X264_DECODED_AS_WRITTEN", "carried_state", "decodes_from_any_keyframe",
           "frame_threads", "gops_decode_alone", "with_carried"]

# Codecs whose keyframes (with the extradata every decoder gets) hold everything their decoder
# needs, so that a GOP decodes alone to one decoder's pictures.
SELF_CONTAINED = frozenset({"vp8", "vp9", "av1"})

# NAL unit types a decoder keeps as state: parameter sets, and (H.264) SEI.
_STATE_TYPES = {"h264": frozenset({6, 7, 8}), "hevc": frozenset({32, 33, 34})}
_H264_SEI = 6
_USER_DATA_UNREGISTERED = 5  # SEI payload type: x264 writes its version in one
_X264_VERSION = re.compile(rb"x264 - core (\d+)")

# The first x264 build whose lossless streams FFmpeg's H.264 decoder decodes by the standard alone;
# for earlier ones it works around what those encoders did (``x264_build < 151U`` with
# ``profile_idc == 244`` in libavcodec's h264_mb.c).
X264_DECODED_AS_WRITTEN = 151
_WORKAROUND_PROFILE = "High 4:4:4 Predictive"  # FFmpeg's name of profile_idc 244


def gops_decode_alone(codec: str) -> bool:
    """Whether GOPs of a stream of ``codec`` (FFmpeg's decoder name) decode alone to one decoder's
    pictures, given :func:`carried_state` in front of each one's first packet."""
    return codec in SELF_CONTAINED or codec in _STATE_TYPES


def carried_state(path: str | os.PathLike) -> bytes:
    """The NAL units (in the stream's own framing) of the first packet of ``path`` 's video stream
    that a decoder keeps as state and that the packet of its second keyframe lacks; empty for
    codecs other than H.264 and HEVC, or where nothing is missing.

    Remembered while the file keeps its identity (:func:`framepick.probe.file_identity`).
    """
    return _state_of(path).carried


def frame_threads(path: str | os.PathLike, threads: int) -> int:
    """FFmpeg frame threads for a decoder of ``path``: ``threads``, or 1 for a lossless H.264 stream
    of an x264 build before :data:`X264_DECODED_AS_WRITTEN`, whose pictures frame threads do not
    decode reliably."""
    return 1 if _state_of(path).old_x264 else threads


def decodes_from_any_keyframe(path: str | os.PathLike) -> bool:
    """Whether a decoder that starts at any keyframe of ``path`` (after a seek, in a process of its
    own), without the stream's first packet, gives one decoder's pictures: the codec's keyframes
    hold what it needs, no parameter set is written once only, and it is no old lossless x264
    stream."""
    state = _state_of(path)
    return gops_decode_alone(state.codec) and not state.sets_once and not state.old_x264


class _StreamState(NamedTuple):
    codec: str
    carried: bytes
    sets_once: bool  # the carried units hold a parameter set
    old_x264: bool  # lossless, of an x264 build FFmpeg decodes as it was written


def _state_of(path: str | os.PathLike) -> _StreamState:
    return _stream_state(os.fspath(path), file_identity(path))


@functools.lru_cache(maxsize=8)
def _stream_state(path: str, identity: tuple[int, ...] | None) -> _StreamState:
    with open_video(path) as (container, stream):
        codec = stream.codec_context.name
        if codec not in _STATE_TYPES:
            return _StreamState(codec, b"", False, False)
        lossless = stream.codec_context.profile == _WORKAROUND_PROFILE
        framing = _Framing.of(codec, bytes(stream.codec_context.extradata or b""))
        keyframes = (bytes(packet) for packet in container.demux(stream) if packet.size and packet.is_keyframe)
        first, second = next(keyframes, b""), next(keyframes, b"")
    kept = set(framing.units(second))
    missing = [unit for unit in framing.units(first) if framing.is_state(unit) and unit not in kept]
    version = next((found for unit in missing if (found := _X264_VERSION.search(unit))), None)
    return _StreamState(codec, b"".join(map(framing.wrap, missing)),
                        any(framing.is_parameter_set(unit) for unit in missing),
                        lossless and version is not None and int(version.group(1)) < X264_DECODED_AS_WRITTEN)


def with_carried(packet: av.Packet, carried: bytes) -> av.Packet:
    """``packet`` with ``carried`` in front of its data (timestamps and keyframe flag kept);
    ``packet`` itself where ``carried`` is empty."""
    if not carried:
        return packet
    joined = av.Packet(carried + bytes(packet))
    joined.pts, joined.dts, joined.duration = packet.pts, packet.dts, packet.duration
    joined.time_base = packet.time_base
    joined.is_keyframe = packet.is_keyframe
    return joined


class _Framing:
    """How a codec's packets frame their NAL units: length-prefixed (MP4, Matroska: the
    extradata is an ``avcC`` / ``hvcC`` record) or with start codes (Annex B: MPEG-TS, raw)."""

    def __init__(self, codec: str, length_size: int | None) -> None:
        self.codec = codec
        self.length_size = length_size  # None: Annex B start codes

    @classmethod
    def of(cls, codec: str, extradata: bytes) -> _Framing:
        if not extradata or extradata[0] != 1:
            return cls(codec, None)
        size_byte = extradata[4] if codec == "h264" else extradata[21] if len(extradata) > 21 else 3
        return cls(codec, (size_byte & 3) + 1)

    def units(self, data: bytes) -> Iterator[bytes]:
        """The NAL units of ``data``, without their framing."""
        return _length_prefixed(data, self.length_size) if self.length_size else _annex_b(data)

    def wrap(self, unit: bytes) -> bytes:
        """``unit`` framed as this stream frames it."""
        if self.length_size:
            return len(unit).to_bytes(self.length_size, "big") + unit
        return b"\x00\x00\x00\x01" + unit

    def is_state(self, unit: bytes) -> bool:
        """Whether a decoder keeps ``unit`` as state (for H.264 SEI: only user data, not the
        timing of the picture it came with)."""
        kind = self._kind(unit)
        if kind not in _STATE_TYPES[self.codec]:
            return False
        return kind != _H264_SEI or self.codec != "h264" or _first_sei_payload(unit) == _USER_DATA_UNREGISTERED

    def is_parameter_set(self, unit: bytes) -> bool:
        return self._kind(unit) in _STATE_TYPES[self.codec] - {_H264_SEI}

    def _kind(self, unit: bytes) -> int:
        """The NAL unit type of ``unit`` (-1 for an empty one)."""
        if not unit:
            return -1
        return unit[0] & 0x1F if self.codec == "h264" else (unit[0] >> 1) & 0x3F


def _length_prefixed(data: bytes, length_size: int) -> Iterator[bytes]:
    position = 0
    while position + length_size <= len(data):
        length = int.from_bytes(data[position:position + length_size], "big")
        position += length_size
        yield data[position:position + length]
        position += length


def _annex_b(data: bytes) -> Iterator[bytes]:
    starts = []
    position = data.find(b"\x00\x00\x01")
    while position >= 0:
        starts.append(position + 3)
        position = data.find(b"\x00\x00\x01", position + 3)
    for start, end in zip(starts, [*starts[1:], len(data) + 3]):
        yield data[start:end - 3].rstrip(b"\x00")


def _first_sei_payload(unit: bytes) -> int:
    """The payload type of the first message of the H.264 SEI NAL unit ``unit``.

    >>> _first_sei_payload(bytes([6, 5, 16])), _first_sei_payload(bytes([6, 255, 2, 0]))
    (5, 257)
    """
    kind = 0
    for byte in unit[1:]:
        kind += byte
        if byte != 0xFF:
            break
    return kind
