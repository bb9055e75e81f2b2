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
import os
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .checks import MAX_SIDE, check_pixels, flag, instance_argument, integer, path_argument, shown
from .errors import ArgumentError, ConfigError

__all__ = [
    "FRAME_FACTOR",
    "PAIR_S",
    "frame_budget",
    "qwen_linspace",
    "qwen_frame_size",
    "listed_frame_size",
    "smart_resize",
    "video_entry",
    "video_metadata",
    "times_prompt",
    "QwenInputs",
    "from_manifest",
    "fetch_video",
    "process_vision_info",
]

# qwen-vl-utils 0.0.14 (vision_process.py): tokens per frame and the model's sequence length.
_QWEN_MIN_TOKENS = 128
_QWEN_MAX_TOKENS = 768
_QWEN_SEQ_LEN = 128000
FRAME_FACTOR = 2  # frames go to the model in temporal pairs (temporal_patch_size)
_IMAGE_MAX_TOKENS = 16384  # smart_resize's default pixel cap, for explicit resized_height/width
_IMAGE_MIN_TOKENS = 4
_SPATIAL_MERGE = 2  # patches merged 2x2: the size factor is image_patch_size * 2
PAIR_S = 0.5  # seconds: the longest span of one temporal pair (two frames of Qwen's 2 fps sampling)
PROCESSOR_KWARGS = {"do_sample_frames": False}  # the frames are chosen: the processor must not resample



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


def _pixel_bounds(frames: int, factor: int, min_pixels: int | None, max_pixels: int | None,
                  total_pixels: int | None) -> tuple[float, float]:
    """qwen-vl-utils 0.0.14's per-frame pixel bounds ``(min_pixels, budget)`` for a video of
    ``frames`` frames: the budget is ``max(min(768 f², total_pixels / n * 2), int(min_pixels *
    1.05))`` with ``n`` the count rounded up to even, capped by ``max_pixels``."""
    low = min_pixels if min_pixels is not None else _QWEN_MIN_TOKENS * factor * factor
    total = total_pixels if total_pixels is not None else _QWEN_SEQ_LEN * factor * factor * 0.9
    padded = math.ceil(frames / FRAME_FACTOR) * FRAME_FACTOR
    budget = max(min(_QWEN_MAX_TOKENS * factor * factor, total / padded * FRAME_FACTOR), int(low * 1.05))
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


def video_metadata(indices: np.ndarray, times_s: np.ndarray, *, fps: float, total_frames: int,
                   duration_s: float) -> dict[str, Any]:
    """Video metadata under which Qwen3-VL's processor states the frames' true times.

    transformers' Qwen3-VL processor writes one ``<t seconds>`` marker per temporal pair: the
    mean of ``frames_indices / fps`` over the pair's two frames. Where every frame's index over
    the average ``fps`` is its true time (within a quarter frame: constant frame rate), the
    metadata holds the source frame indices, ``fps`` and frame count; otherwise (variable frame
    rate) a millisecond clock: ``fps = 1000`` and ``frames_indices`` the times in milliseconds,
    so the markers are the true times in both cases.

    Parameters
    ----------
    indices : int array, shape (n,)
        Source frame indices of the frames given to the model, in order.
    times_s : float array, shape (n,)
        Their presentation times in seconds.
    fps : float
        The video's average frame rate.
    total_frames : int
        Frames in the video.
    duration_s : float
        The video's duration in seconds.

    Returns
    -------
    dict
        Keys of ``transformers.video_utils.VideoMetadata``: ``fps``, ``frames_indices``,
        ``total_num_frames``, ``duration``, ``video_backend``.
    """
    indices = np.asarray(indices, dtype=np.int64)
    times_s = np.asarray(times_s, dtype=np.float64)
    if np.all(np.abs(indices / fps - times_s) <= 0.25 / fps):
        clock, ticks, total = float(fps), indices, int(total_frames)
    else:
        clock, ticks, total = 1000.0, np.rint(times_s * 1000).astype(np.int64), round(duration_s * 1000)
    return {"fps": clock, "frames_indices": [int(t) for t in ticks], "total_num_frames": total,
            "duration": round(float(duration_s), 6), "video_backend": "framepick"}


def times_prompt(times_s: np.ndarray, *, paired: bool = False) -> str:
    """A sentence giving the frames' true times, for models that can express one spacing only.

    Qwen2.5-VL spaces a video's temporal pairs evenly (``second_per_grid_ts = 2 / fps``), so a
    non-uniform selection needs its times in the prompt. With ``paired``, consecutive frames are
    temporal pairs of one moment each, and each moment is given one time (the pair's mean).

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


class QwenInputs(NamedTuple):
    """What a manifest gives a Qwen model: the message ``entry`` (for ``process_vision_info``),
    the true-time ``video_metadata`` and ``processor_kwargs`` for Qwen3-VL's processor, and the
    ``times_prompt`` for Qwen2.5-VL (None when the frames are evenly spaced)."""

    entry: dict[str, Any]
    video_metadata: dict[str, Any]
    processor_kwargs: dict[str, Any]
    times_prompt: str | None


def from_manifest(manifest_path: str | os.PathLike) -> QwenInputs:
    """The Qwen inputs of an extraction, frame paths made absolute where the manifest is now.

    Raises
    ------
    ArgumentError
        ``manifest_path`` is not a path, or not that of a ``manifest.json`` written by framepick.
    """
    from .extract import qwen_entry

    path = Path(path_argument("manifest_path", manifest_path))
    qwen = _read_manifest(path)["qwen_inputs"]
    return QwenInputs(qwen_entry(path), qwen["video_metadata"], qwen["processor_kwargs"], qwen["times_prompt"])


_QWEN_INPUTS = ("video_metadata", "processor_kwargs", "times_prompt")


def _read_manifest(path: Path) -> dict[str, Any]:
    """The manifest at ``path`` if it is one (its ``qwen``, ``qwen_inputs`` and ``frames``)."""
    import json

    if path.exists() and not path.is_file():  # a folder, or a FIFO that would block the read
        raise ArgumentError(f"manifest_path: {path} is not a regular file")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ArgumentError(f"manifest_path: cannot read {path} ({exc.strerror or exc})") from None
    except ValueError:  # not UTF-8, or not JSON
        raise ArgumentError(f"manifest_path: {path} is not a framepick manifest (not JSON)") from None
    inputs = manifest.get("qwen_inputs") if isinstance(manifest, dict) else None
    frames = manifest.get("frames") if isinstance(manifest, dict) else None
    if not (isinstance(inputs, dict) and all(key in inputs for key in _QWEN_INPUTS)
            and isinstance(manifest.get("qwen"), dict) and isinstance(frames, list)
            and all(isinstance(frame, dict) and "file" in frame for frame in frames)):
        raise ArgumentError(f"manifest_path: {path} is not a framepick manifest (no qwen, qwen_inputs and frames)")
    return manifest


# --------------------------------------------------------------------------- in memory

# qwen-vl-utils' element keys and the selection parameters they stand for.
_ELEMENT_PARAMS = {"nframes": "frames", "fps": "fps", "min_frames": "min_frames", "max_frames": "max_frames",
                   "video_start": "start_s", "video_end": "end_s"}
_SIZE_KEYS = ("min_pixels", "max_pixels", "total_pixels", "resized_height", "resized_width")


def _selection_params(ele: dict[str, Any], strategy: str) -> dict[str, Any]:
    """The selection parameters an element asks for: qwen-vl-utils' keys translated, and any
    parameter of ``strategy`` given under its own name."""
    from .config import strategy_defaults

    accepted = strategy_defaults(strategy)
    params = {_ELEMENT_PARAMS[key]: value for key, value in ele.items() if key in _ELEMENT_PARAMS}
    params.update({key: value for key, value in ele.items() if key in accepted and key not in _ELEMENT_PARAMS})
    if "nframes" in ele and "fps" in ele:
        raise ConfigError("give either nframes or fps, not both (as qwen-vl-utils)")
    if "nframes" in ele and strategy == "fps":
        raise ConfigError("the fps strategy takes fps, not nframes")
    return {key: value for key, value in params.items() if key in accepted}


def _element_video(ele: Any, image_patch_size: Any) -> str:
    """The video file an element names (``video``: a path or ``file://`` URL), once every key
    :func:`fetch_video` reads is checked; an :class:`ArgumentError` naming ``ele`` otherwise."""
    from .config import strategy_params

    instance_argument("ele", ele, dict, "a dict of qwen-vl-utils' keys with 'video'")
    if "video" not in ele:
        raise ArgumentError("ele: has no 'video' key (the video file's path or file:// URL)")
    video = os.fspath(ele["video"]) if isinstance(ele["video"], os.PathLike) else ele["video"]
    if not isinstance(video, str) or not video:
        raise ArgumentError(f"ele['video'] must be a video file's path (str or os.PathLike) or file:// URL, "
                            f"got {shown(ele['video'])}")
    factor = integer("image_patch_size", image_patch_size, low=1, high=512, error=ArgumentError) * _SPATIAL_MERGE
    try:
        check_pixels(factor, min_pixels=ele.get("min_pixels"), max_pixels=ele.get("max_pixels"),
                     total_pixels=ele.get("total_pixels"))
        for key in ("resized_height", "resized_width"):
            if key in ele:
                integer(key, ele[key], low=1, high=MAX_SIDE)
        strategy = ele.get("strategy", "uniform")
        strategy_params(strategy, _selection_params(ele, strategy))
    except ConfigError as exc:
        raise ArgumentError(f"ele: {exc}") from None
    return video[len("file://"):] if video.startswith("file://") else video


def _frame_size(ele: dict[str, Any], width: int, height: int, frames: int, factor: int) -> tuple[int, int]:
    """(width, height) qwen-vl-utils' ``fetch_video`` gives ``frames`` frames of a video shown
    ``width`` x ``height``."""
    if "resized_height" in ele and "resized_width" in ele:
        out_h, out_w = smart_resize(ele["resized_height"], ele["resized_width"], factor,
                                    _IMAGE_MIN_TOKENS * factor * factor, _IMAGE_MAX_TOKENS * factor * factor)
        return out_w, out_h
    return qwen_frame_size(width, height, frames, factor=factor, min_pixels=ele.get("min_pixels"),
                           max_pixels=ele.get("max_pixels"), total_pixels=ele.get("total_pixels"))


def fetch_video(ele: dict[str, Any], image_patch_size: int = 14, return_video_sample_fps: bool = False,
                return_video_metadata: bool = False):
    """qwen-vl-utils' ``fetch_video`` for a video file, with framepick choosing the frames.

    ``ele`` takes qwen-vl-utils' keys (``video``: a path, ``str`` or ``os.PathLike``, or a
    ``file://`` URL; ``fps`` or
    ``nframes``, ``min_frames``, ``max_frames``, ``video_start``, ``video_end``, ``min_pixels``,
    ``max_pixels``, ``total_pixels``, ``resized_height`` and ``resized_width``) plus
    ``strategy`` (default ``"uniform"``: the frames qwen-vl-utils takes) and that strategy's
    parameters under their own names (``floor``, ``pair_s``, ... see :mod:`framepick.select`).
    The video is analysed once (cached) when the strategy needs it; ``uniform`` and ``fps``
    need the frame times alone (:func:`framepick.analysis.for_strategy`). The chosen frames are decoded
    straight to the output size (no JPEG round trip); memory holds the output frames.

    Returns
    -------
    torch.Tensor, float32, shape (n, 3, height, width)
        The frames, as qwen-vl-utils returns them (``n`` even: the last frame repeats if needed);
        with ``return_video_metadata`` a ``(frames, metadata)`` pair whose metadata gives the true
        times (:func:`video_metadata`), and with ``return_video_sample_fps`` also the average
        frames per second of the selection.

    Raises
    ------
    ArgumentError
        A key of ``ele`` or an argument is of the wrong kind or out of range (sizes from one
        patch to :data:`framepick.checks.MAX_PIXELS`, ``min_pixels`` at most ``max_pixels``); the
        message starts with its name. Checked before torch is imported or the video is read.
    VideoError
        The video cannot be read.
    """
    path = _element_video(ele, image_patch_size)
    flag("return_video_sample_fps", return_video_sample_fps, error=ArgumentError)
    flag("return_video_metadata", return_video_metadata, error=ArgumentError)
    from .analysis import for_strategy
    from .decode import read_frames
    from .errors import VideoError
    from .select import select

    strategy = ele.get("strategy", "uniform")
    analysis = for_strategy(path, strategy, progress=False)
    selection = select(analysis, strategy, **_selection_params(ele, strategy))
    indices = selection.indices
    info = analysis.info
    width, height = _frame_size(ele, info.width, info.height, len(indices), image_patch_size * _SPATIAL_MERGE)
    frames = np.empty((len(indices), height, width, 3), np.uint8)
    got = 0
    for got, (_, _, pixels) in enumerate(read_frames(path, indices, size=(width, height),
                                                      frame_times_s=analysis.frame_times_s,
                                                      keyframes=np.asarray(info.keyframes)), 1):
        frames[got - 1] = pixels
    if got != len(indices):
        raise VideoError(path, f"{len(indices) - got} of the {len(indices)} chosen frames do not decode")
    if len(indices) % FRAME_FACTOR:  # as qwen-vl-utils pads a list of frames
        frames, indices = np.concatenate([frames, frames[-1:]]), np.append(indices, indices[-1])
    import torch  # seconds to import: only once there are frames to hand over

    video = torch.from_numpy(frames).permute(0, 3, 1, 2).float()
    metadata = video_metadata(indices, analysis.times_of(indices), fps=info.fps, total_frames=info.frames,
                              duration_s=info.duration_s)
    first, last = _span(analysis, selection)
    sample_fps = len(selection) / max(last - first + 1, 1e-6) * info.fps
    result = (video, metadata) if return_video_metadata else video
    return (result, sample_fps) if return_video_sample_fps else result


def _span(analysis, selection) -> tuple[int, int]:
    """First and last frame of the range a selection was chosen from (qwen-vl-utils' rule)."""
    from .select import frame_range

    return frame_range(analysis, selection.params.get("start_s"), selection.params.get("end_s"))


def process_vision_info(conversations: list, return_video_kwargs: bool = False, return_video_metadata: bool = False,
                        image_patch_size: int = 14):
    """qwen-vl-utils' ``process_vision_info``, with video files read by :func:`fetch_video`.

    Images and videos given as lists of frames go to qwen-vl-utils itself. Returns what it
    returns: ``(images, videos)`` or, with ``return_video_kwargs``, ``(images, videos,
    video_kwargs)``; ``video_kwargs`` holds ``do_sample_frames=False`` and, without
    ``return_video_metadata`` (Qwen2.5-VL), ``fps``: one average rate per video.

    Raises
    ------
    ArgumentError
        ``conversations`` is not a list of messages (dicts with ``content``) or a list of such
        lists, an element has no image or video, or an argument is of the wrong kind; checked
        before qwen-vl-utils is imported. Video files are checked as :func:`fetch_video` does.
    """
    _check_conversations(conversations)
    for name, value in (("return_video_kwargs", return_video_kwargs), ("return_video_metadata", return_video_metadata)):
        flag(name, value, error=ArgumentError)
    integer("image_patch_size", image_patch_size, low=1, high=512, error=ArgumentError)
    import qwen_vl_utils

    images, videos, rates = [], [], []
    for element in qwen_vl_utils.extract_vision_info(conversations):
        if "image" in element or "image_url" in element:
            images.append(qwen_vl_utils.fetch_image(element, image_patch_size=image_patch_size))
        elif "video" in element:
            fetch = fetch_video if isinstance(element["video"], (str, os.PathLike)) else qwen_vl_utils.fetch_video
            video, rate = fetch(element, image_patch_size=image_patch_size, return_video_sample_fps=True,
                                return_video_metadata=return_video_metadata)
            videos.append(video)
            rates.append(rate)
        else:
            raise ArgumentError(f"conversations: an element of type {shown(element.get('type'))} has no 'image', "
                                "'image_url' or 'video' key")
    video_kwargs: dict[str, Any] = dict(PROCESSOR_KWARGS)
    if not return_video_metadata:
        video_kwargs["fps"] = rates
    out = (images or None, videos or None)
    return (*out, video_kwargs) if return_video_kwargs else out


def _check_conversations(conversations: Any) -> None:
    """What qwen-vl-utils' ``extract_vision_info`` reads: one conversation (a list of messages,
    dicts with ``content``: a string, or a list of dicts) or a list of conversations."""
    what = "a list of messages (dicts with 'role' and 'content') or a list of such lists"
    if not isinstance(conversations, (list, tuple)) or not conversations:
        raise ArgumentError(f"conversations must be {what}, got {shown(conversations)}")
    batch = [conversations] if isinstance(conversations[0], dict) else conversations
    for number, conversation in enumerate(batch):
        if not isinstance(conversation, (list, tuple)):
            raise ArgumentError(f"conversations must be {what}, got {shown(conversation)} at [{number}]")
        for message in conversation:
            content = message.get("content") if isinstance(message, dict) else None
            if not isinstance(content, (str, list)) or (
                    isinstance(content, list) and not all(isinstance(item, dict) for item in content)):
                raise ArgumentError(f"conversations: a message must be a dict whose 'content' is a string or a list "
                                    f"of dicts, got {shown(message)}")
