"""Qwen2.5-VL / Qwen3-VL and qwen-vl-utils' rules, as pure functions (no I/O): the bottom layer
every strategy, setting and writer that follows Qwen reads.

- how many frames (:func:`frame_budget`, qwen-vl-utils' ``smart_nframes``) and which
  (:func:`qwen_linspace`, its ``torch.linspace(...).round()``), for the ``uniform`` strategy;
- the size frames are given (:func:`qwen_frame_size`, its ``smart_resize`` with the per-frame
  pixel budget of a video);
- the message entry of extracted frames and the metadata that tells the processor their true
  times (:func:`video_entry`, :func:`video_metadata`, :func:`times_prompt`).

The model families, the tokens their frames take and the count and size within a budget of
tokens are :mod:`framepick.qwen_models`.

qwen-vl-utils 0.0.14 (``qwen-vl-utils/src/qwen_vl_utils/vision_process.py`` in QwenLM's
repositories) is the reference; ``tests/`` check these functions against the installed package.
The integration on top (reading manifests, ``fetch_video``, ``process_vision_info``) is
:mod:`framepick.qwen`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import ConfigError

__all__ = [
    "FRAME_FACTOR",
    "IMAGE_MAX_TOKENS",
    "IMAGE_MIN_TOKENS",
    "PAIR_S",
    "PROCESSOR_KWARGS",
    "SPATIAL_MERGE",
    "VIDEO_MAX_TOKENS",
    "VIDEO_MIN_TOKENS",
    "frame_budget",
    "qwen_linspace",
    "qwen_frame_size",
    "listed_frame_size",
    "smart_resize",
    "video_entry",
    "video_metadata",
    "times_prompt",
    "evenly_spaced",
]

# qwen-vl-utils 0.0.14 (vision_process.py): tokens per frame and the model's sequence length.
VIDEO_MIN_TOKENS = 128  # qwen-vl-utils' least and most tokens a video frame takes
VIDEO_MAX_TOKENS = 768
_QWEN_SEQ_LEN = 128000
FRAME_FACTOR = 2  # frames go to the model in temporal pairs (temporal_patch_size)
IMAGE_MAX_TOKENS = 16384  # smart_resize's default pixel cap, for explicit resized_height/width
IMAGE_MIN_TOKENS = 4
SPATIAL_MERGE = 2  # patches merged 2x2: the size factor is image_patch_size * 2
PAIR_S = 0.5  # seconds: the longest span of one temporal pair (two frames of Qwen's 2 fps sampling)
PROCESSOR_KWARGS = {"do_sample_frames": False, "cap_pixels_per_frame": True}
"""For the processor: the frames are chosen, so it must not sample them again; and transformers 5's
per-frame pixel cap as qwen-vl-utils applies it (its future default, said explicitly: no warning;
it changes no frame passed with ``do_resize=False``)."""


def _floor_to(count: float, factor: int) -> int:
    return math.floor(count / factor) * factor


def frame_budget(
    range_frames: int,
    video_fps: float,
    *,
    frames: int | None = None,
    sample_fps: float = 2.0,
    min_frames: int = 4,
    max_frames: int | None = 768,
    multiple_of: int = 2,
) -> int:
    """Number of frames to select, by qwen-vl-utils 0.0.14's ``smart_nframes``.

    An explicit ``frames`` is rounded to the nearest multiple of ``multiple_of`` (Python's
    ``round``: halves go to even, so 5 -> 4 and 7 -> 8 with the default 2). Otherwise the count is
    ``range_frames / video_fps * sample_fps`` clamped to ``[ceil(min_frames / m) * m,
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
        Explicit count (qwen-vl-utils' ``nframes``); ``sample_fps``, ``min_frames`` and
        ``max_frames`` are then ignored.
    sample_fps : float
        Selected frames per second of video (qwen-vl-utils' ``fps``; the ``uniform`` strategy's
        ``fps`` parameter).
    min_frames, max_frames : int
        Bounds of the count from ``sample_fps``; ``max_frames=None`` leaves only ``range_frames``.
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
        count = _floor_to(min(min(max(range_frames / video_fps * sample_fps, low), high), range_frames), m)
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
    (``ATEN_CPU_CAPABILITY=default``) does not fuse and rounds a few indices otherwise (counted
    in that file's ``generator`` note).

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


def _pixel_bounds(frames: int, factor: int, min_pixels: int | None, max_pixels: int | None,
                  total_pixels: int | None) -> tuple[float, float]:
    """qwen-vl-utils 0.0.14's per-frame pixel bounds ``(min_pixels, budget)`` for a video of
    ``frames`` frames: the budget is ``max(min(768 f², total_pixels / n * 2), int(min_pixels *
    1.05))`` with ``n`` the count rounded up to even, capped by ``max_pixels``."""
    low = min_pixels if min_pixels is not None else VIDEO_MIN_TOKENS * factor * factor
    total = total_pixels if total_pixels is not None else _QWEN_SEQ_LEN * factor * factor * 0.9
    padded = math.ceil(frames / FRAME_FACTOR) * FRAME_FACTOR
    budget = max(min(VIDEO_MAX_TOKENS * factor * factor, total / padded * FRAME_FACTOR), int(low * 1.05))
    return low, budget if max_pixels is None else min(budget, max_pixels)


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
    """Size qwen-vl-utils 0.0.14's ``fetch_video`` gives each of ``frames`` frames of a video file
    shown ``width`` x ``height`` pixels: ``smart_resize`` to multiples of ``factor`` within the
    per-frame pixel bounds of a video (see :func:`_pixel_bounds`).

    Returns
    -------
    (int, int)
        Output (width, height) in pixels, both multiples of ``factor``.

    Raises
    ------
    ConfigError
        If the aspect ratio exceeds 200 (qwen-vl-utils refuses it too).
    """
    low, budget = _pixel_bounds(frames, factor, min_pixels, max_pixels, total_pixels)
    out_height, out_width = smart_resize(height, width, factor, low, budget)
    return out_width, out_height


def listed_frame_size(width: int, height: int, frames: int, *, factor: int = 28, min_pixels: int | None = None,
                      max_pixels: int | None = None, total_pixels: int | None = None) -> tuple[int, int]:
    """Size to write ``frames`` frames at so that qwen-vl-utils 0.0.14 reads them back, as a list
    of image files, without resizing them: (width, height), multiples of ``2 * factor``.

    For a list of frames ``fetch_video`` first resizes each by ``fetch_image`` with the factor
    passed where the patch size is expected (so to multiples of ``2 * factor``), then the whole
    video to multiples of ``factor`` within the video's pixel bounds. A size that is a multiple of
    ``2 * factor`` within those bounds passes both unchanged; this is the closest such size to
    :func:`qwen_frame_size` (``smart_resize`` at ``2 * factor``, same bounds).
    """
    low, budget = _pixel_bounds(frames, factor, min_pixels, max_pixels, total_pixels)
    out_height, out_width = smart_resize(height, width, 2 * factor, low, budget)
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


# --------------------------------------------------------------------------- true times


def video_metadata(indices: np.ndarray, times_s: np.ndarray, *, fps: float, span_frames: int) -> dict[str, Any]:
    """Video metadata under which the Qwen2.5-VL and Qwen3-VL processors of transformers 5 see
    the frames' true times (with ``do_sample_frames=False``, :data:`PROCESSOR_KWARGS`).

    Qwen3-VL's processor writes one ``<t seconds>`` marker per temporal pair: the mean of
    ``frames_indices / fps`` over the pair's two frames. Where every frame's index over the
    average ``fps`` is its true time (within a quarter frame: constant frame rate), the metadata
    holds the source frame indices and ``fps``; otherwise (variable frame rate) a millisecond
    clock: ``fps = 1000`` and ``frames_indices`` the times in milliseconds, so the markers are
    the true times in both cases.

    Qwen2.5-VL's processor spaces the temporal pairs evenly by ``second_per_grid_ts = 2 /
    sampled_fps``, with ``sampled_fps = len(frames_indices) / total_num_frames * fps``. As in
    qwen-vl-utils' own metadata, ``total_num_frames`` is the span the frames were chosen from
    (``span_frames``: the whole video, or the frames of ``video_start``..``video_end``), so
    ``sampled_fps`` is qwen-vl-utils' ``sample_fps`` (``n / span_frames * fps``) on either
    clock: for evenly spaced frames the true seconds per pair, for others the mean spacing
    (their times then go in the prompt: :func:`times_prompt`).

    Parameters
    ----------
    indices : int array, shape (n,)
        Source frame indices of the frames given to the model, in order.
    times_s : float array, shape (n,)
        Their presentation times in seconds.
    fps : float
        The video's average frame rate.
    span_frames : int
        Frames in the range the selection was chosen from (qwen-vl-utils' ``total_frames``).

    Returns
    -------
    dict
        Keys of ``transformers.video_utils.VideoMetadata``: ``fps``, ``frames_indices``,
        ``total_num_frames``, ``duration`` (of the span, in seconds), ``video_backend``.

    Examples
    --------
    >>> meta = video_metadata([0, 25, 50, 75], [0.0, 1.0, 2.0, 3.0], fps=25.0, span_frames=100)
    >>> meta["frames_indices"], meta["total_num_frames"], meta["duration"]
    ([0, 25, 50, 75], 100, 4.0)
    >>> 2 / (len(meta["frames_indices"]) / meta["total_num_frames"] * meta["fps"])  # Qwen2.5-VL's seconds per pair
    2.0
    """
    indices = np.asarray(indices, dtype=np.int64)
    times_s = np.asarray(times_s, dtype=np.float64)
    span_s = span_frames / fps
    if np.all(np.abs(indices / fps - times_s) <= 0.25 / fps):
        clock, ticks, total = float(fps), indices, int(span_frames)
    else:
        clock, ticks, total = 1000.0, np.rint(times_s * 1000).astype(np.int64), round(span_s * 1000)
    return {"fps": clock, "frames_indices": [int(t) for t in ticks], "total_num_frames": total,
            "duration": round(float(span_s), 6), "video_backend": "framepick"}


def times_prompt(times_s: np.ndarray, *, paired: bool = False) -> str:
    """A sentence giving the frames' true times, for models that can express one spacing only.

    Qwen2.5-VL spaces a video's temporal pairs evenly (its processor's ``second_per_grid_ts``:
    the mean spacing, see :func:`video_metadata`), so a non-uniform selection needs its times in
    the prompt. With ``paired``, consecutive frames are temporal pairs of one moment each, and
    each moment is given one time (the pair's mean).

    >>> times_prompt([0.0, 0.5, 12.0, 12.5], paired=True)
    'The video is shown as 2 moments of two frames each, at 0.2 s and 12.2 s (not evenly spaced).'
    >>> times_prompt([3.0], paired=True)
    'The video is shown as 1 moment, at 3.0 s (not evenly spaced).'
    >>> times_prompt([1.0, 4.0, 30.0])
    'The video is shown as 3 frames, at 1.0 s, 4.0 s and 30.0 s (not evenly spaced).'
    """
    times_s = np.asarray(times_s, dtype=np.float64)
    if paired:  # a last frame without a partner (an odd count) is a moment of its own
        even = len(times_s) // 2 * 2
        each = " of two frames each" if even == len(times_s) else ""
        times_s = np.append(times_s[:even].reshape(-1, 2).mean(axis=1), times_s[even:])
        what = f"{len(times_s)} moment{'s' if len(times_s) != 1 else ''}{each}"
    else:
        what = f"{len(times_s)} frames"
    stamps = [f"{t:.1f} s" for t in times_s]
    listed = stamps[0] if len(stamps) == 1 else f"{', '.join(stamps[:-1])} and {stamps[-1]}"
    return f"The video is shown as {what}, at {listed} (not evenly spaced)."


def evenly_spaced(times_s: np.ndarray, frame_s: float) -> bool:
    """Whether ``times_s`` (seconds) are evenly spaced to within one frame (``frame_s``: the
    rounding of frame indices to a linspace moves each by up to half a frame)."""
    times_s = np.asarray(times_s, dtype=np.float64)
    if len(times_s) < 3:
        return True
    even = np.linspace(times_s[0], times_s[-1], len(times_s))
    return bool(np.max(np.abs(times_s - even)) <= frame_s)


def video_entry(frames: list[str], *, sample_fps: float, options: dict[str, int] | None = None) -> dict[str, Any]:
    """The message entry of extracted frames for qwen-vl-utils: ``{"type": "video", "video":
    [frame paths], "sample_fps": frames per second}`` plus the size ``options`` that differ from
    qwen-vl-utils' defaults (so it does not resize the frames again)."""
    return {"type": "video", "video": list(frames), "sample_fps": sample_fps, **(options or {})}
