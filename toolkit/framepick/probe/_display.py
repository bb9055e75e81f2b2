"""How a stream is shown: its display matrix (rotation and flips) as ffmpeg's autorotate filters,
and its sample aspect ratio."""

from __future__ import annotations

import math
import os
from fractions import Fraction
from typing import Any

import av
import numpy as np

from ..errors import VideoError
from ._open import open_video

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
