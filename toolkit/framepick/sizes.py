"""Picture sizes in pixels: a picture scaled to a longer side, and the size frames are handed
out at. The bottom layer both the frame sources (:mod:`framepick.decode`) and the output
settings (:class:`framepick.settings.OutputConfig`) read."""

from __future__ import annotations

__all__ = ["output_size", "scaled_size"]


def scaled_size(width: int, height: int, longer_side: int) -> tuple[int, int]:
    """(width, height) in pixels of a ``width`` x ``height`` picture scaled so that its longer side
    is ``longer_side``, the aspect ratio kept; never enlarged (the picture's own size where it is
    no larger).

    The shorter side is rounded to an even number (chroma-subsampled formats like those), unless
    that is 0 or longer than ``longer_side``: then to the nearest whole pixel, at least 1. So it is
    within a pixel of the exact ratio and never beyond the picture's or ``longer_side``.

    >>> scaled_size(1920, 1080, 128), scaled_size(3, 5, 8), scaled_size(16, 9000, 64), scaled_size(99, 99, 63)
    ((128, 72), (3, 5), (1, 64), (63, 63))
    """
    longest = max(width, height)
    if longest <= longer_side:
        return width, height

    def scaled(side: int) -> int:
        return longer_side if side == longest else _scaled_side(side * longer_side / longest, longer_side)

    return scaled(width), scaled(height)


def output_size(width: int, height: int, size: int | tuple[int, int] | None) -> tuple[int, int]:
    """(width, height) in pixels of the frames of an upright ``width`` x ``height`` video handed out
    at ``size``: a (width, height) pair as it is, an int as the longer side (:func:`scaled_size`),
    None as the video's own size."""
    if size is None:
        return width, height
    if isinstance(size, tuple):
        return size
    return scaled_size(width, height, size)


def _scaled_side(exact: float, limit: int) -> int:
    """A side ``exact`` pixels long rounded to an even number, or to the nearest whole number
    (at least 1) where the even one is 0 or above ``limit``."""
    even = 2 * round(exact / 2)
    return even if 2 <= even <= limit else min(limit, max(1, round(exact)))
