"""Every rule of Qwen2.5-VL / Qwen3-VL and qwen-vl-utils that framepick follows, in one place.

- how many frames (:func:`frame_budget`, qwen-vl-utils' ``smart_nframes``) and which
  (:func:`qwen_linspace`, its ``torch.linspace(...).round()``), for the ``uniform`` strategy;
- the size frames are given (:func:`qwen_frame_size`, its ``smart_resize`` with the per-frame
  pixel budget of a video);
- the message entry of extracted frames and the metadata that tells the processor their true
  times (:func:`video_entry`, :func:`video_metadata`, :func:`times_prompt`).

qwen-vl-utils 0.0.14 (``qwen-vl-utils/src/qwen_vl_utils/vision_process.py`` in QwenLM's
repositories) is the reference; ``tests/`` check these functions against the installed package.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import ConfigError

__all__ = ["FRAME_FACTOR", "frame_budget", "qwen_linspace", "qwen_frame_size", "smart_resize"]

# qwen-vl-utils 0.0.14 (vision_process.py): tokens per frame and the model's sequence length.
_QWEN_MIN_TOKENS = 128
_QWEN_MAX_TOKENS = 768
_QWEN_SEQ_LEN = 128000
FRAME_FACTOR = 2  # frames go to the model in temporal pairs (temporal_patch_size)



def _floor_to(count: float, factor: int) -> int:
    return math.floor(count / factor) * factor


def frame_budget(
    range_frames: int,
    video_fps: float,
    *,
    frames: int | None = None,
    fps: float = 2.0,
    min_frames: int = 4,
    max_frames: int | None = 768,
    multiple_of: int = 2,
) -> int:
    """Number of frames to select, by qwen-vl-utils 0.0.14's ``smart_nframes``.

    An explicit ``frames`` is rounded to the nearest multiple of ``multiple_of`` (Python's
    ``round``: halves go to even, so 5 -> 4 and 7 -> 8 with the default 2). Otherwise the count is
    ``range_frames / video_fps * fps`` clamped to ``[ceil(min_frames / m) * m,
    floor(max_frames / m) * m]``, capped at ``range_frames``, then floored to a multiple ``m``.

    Where qwen-vl-utils raises instead (a count below ``multiple_of``, or ``frames`` above the
    frame count), the count becomes ``min(multiple_of, range_frames, frames or max_frames)``, or
    ``range_frames`` floored to the multiple: a 1-frame video still gives its frame.

    Parameters
    ----------
    range_frames : int
        Frames in the range to select from (``>= 1``).
    video_fps : float
        The video's average frame rate (frames per second).
    frames : int, optional
        Explicit count (qwen-vl-utils' ``nframes``); ``fps``, ``min_frames`` and ``max_frames``
        are then ignored.
    fps : float
        Selected frames per second of video.
    min_frames, max_frames : int
        Bounds of the count from ``fps``; ``max_frames=None`` leaves only ``range_frames``.
    multiple_of : int
        The count's factor (qwen-vl-utils' ``FRAME_FACTOR``).

    Returns
    -------
    int
        Between 1 and ``range_frames``.

    Examples
    --------
    >>> frame_budget(54000, 30.0), frame_budget(300, 30.0), frame_budget(30, 30.0)
    (768, 20, 4)
    >>> frame_budget(300, 30.0, frames=5), frame_budget(300, 30.0, frames=7)
    (4, 8)
    """
    m = multiple_of
    if frames is not None:
        count = round(frames / m) * m
        cap = frames
    else:
        high = range_frames if max_frames is None else _floor_to(max_frames, m)
        low = math.ceil(min_frames / m) * m
        count = _floor_to(min(min(max(range_frames / video_fps * fps, low), high), range_frames), m)
        cap = range_frames if max_frames is None else max_frames
    if count > range_frames:
        count = _floor_to(range_frames, m)
    return max(count, min(m, range_frames, cap))


def qwen_linspace(start: int, end: int, steps: int) -> np.ndarray:
    """``torch.linspace(start, end, steps).round().long()`` on the CPU, without torch.

    torch computes in float32: ``step = (end - start) / (steps - 1)``, then the first half as
    ``start + step * i`` and the second half as ``end - step * (steps - 1 - i)``. Its AVX2 kernel
    (what x86-64 machines run) contracts each into one fused multiply-add, a single float32
    rounding of the exact value, reproduced here through float64 (exact while
    ``steps <= end - start + 1 < 2**24``). Rounding is half to even, as ``torch.round``. Checked
    against torch 2.13 (tests/data/qwen_linspace.json); torch forced to its non-SIMD kernel
    (``ATEN_CPU_CAPABILITY=default``) does not fuse and rounds about 0.08% of indices otherwise.

    Parameters
    ----------
    start, end : int
        First and last frame index, both included.
    steps : int
        Number of frames, ``1 <= steps <= end - start + 1``.

    Returns
    -------
    int64 array, shape (steps,)
        Sorted frame indices.

    Examples
    --------
    >>> qwen_linspace(0, 29, 4)
    array([ 0, 10, 19, 29])
    """
    if steps == 1:
        return np.array([start], dtype=np.int64)
    step = (np.float32(end) - np.float32(start)) / np.float32(steps - 1)
    i = np.arange(steps)
    first_half = i < steps // 2
    offset = np.where(first_half, i, i - (steps - 1)) * np.float64(step)
    values = (np.where(first_half, start, end) + offset).astype(np.float32)
    return np.rint(values).astype(np.int64)


def qwen_frame_size(
    width: int,
    height: int,
    frames: int,
    *,
    factor: int = 28,
    min_pixels: int | None = None,
    max_pixels: int | None = None,
    total_pixels: int | None = None,
) -> tuple[int, int]:
    """Size qwen-vl-utils 0.0.14 gives each of ``frames`` frames of ``width`` x ``height`` pixels
    passed as a list of images (``fetch_video``, then ``smart_resize``).

    The per-frame budget is ``max(min(768 f², total_pixels / n * 2), int(min_pixels * 1.05))``
    with ``n`` the frame count rounded up to even, capped by ``max_pixels``; ``smart_resize``
    then rounds both sides to multiples of ``f`` within ``[min_pixels, budget]``.

    Returns
    -------
    (int, int)
        Output (width, height) in pixels, both multiples of ``factor``.

    Raises
    ------
    ConfigError
        If the aspect ratio exceeds 200 (qwen-vl-utils refuses it too).
    """
    min_pixels = min_pixels if min_pixels is not None else _QWEN_MIN_TOKENS * factor * factor
    total_pixels = total_pixels if total_pixels is not None else _QWEN_SEQ_LEN * factor * factor * 0.9
    padded = math.ceil(frames / FRAME_FACTOR) * FRAME_FACTOR
    budget = max(min(_QWEN_MAX_TOKENS * factor * factor, total_pixels / padded * FRAME_FACTOR),
                 int(min_pixels * 1.05))
    if max_pixels is not None:
        budget = min(budget, max_pixels)
    out_height, out_width = smart_resize(height, width, factor, min_pixels, budget)
    return out_width, out_height


def smart_resize(height: int, width: int, factor: int, min_pixels: float, max_pixels: float) -> tuple[int, int]:
    """qwen-vl-utils 0.0.14 ``smart_resize``, step for step: ``(height, width)`` in pixels, both
    multiples of ``factor``, their product within ``[min_pixels, max_pixels]`` (note the order)."""
    if max(height, width) / min(height, width) > 200:
        raise ConfigError(f"aspect ratio above 200 ({width}x{height}): Qwen cannot take these frames")
    h_bar = max(factor, round(height / factor) * factor)
    w_bar = max(factor, round(width / factor) * factor)
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = math.floor(height / beta / factor) * factor
        w_bar = math.floor(width / beta / factor) * factor
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar
