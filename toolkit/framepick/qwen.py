"""Qwen integration on top of the pipeline: the Qwen inputs of an extraction's manifest
(:func:`from_manifest`, checked against the model family they go to), and qwen-vl-utils'
``fetch_video`` / ``process_vision_info`` with framepick's selection in place of its sampling.
The rules these follow (frame budget, linspace, sizes, metadata) are :mod:`framepick.qwen_rules`,
the model families and token budgets :mod:`framepick.qwen_models`, both re-exported here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .checks import MAX_SIDE, check_pixels, flag, instance_argument, integer, path_argument, shown
from .errors import ArgumentError, ConfigError
from .qwen_models import (
    FAMILIES,
    check_tokens_alone,
    manifest_target,
    model_factor,
    token_frame_size,
    token_frames,
    video_tokens,
)
from .qwen_rules import (
    FRAME_FACTOR,
    IMAGE_MAX_TOKENS,
    IMAGE_MIN_TOKENS,
    PAIR_S,
    PROCESSOR_KWARGS,
    SPATIAL_MERGE,
    evenly_spaced,
    frame_budget,
    listed_frame_size,
    qwen_frame_size,
    qwen_linspace,
    smart_resize,
    times_prompt,
    video_entry,
    video_metadata,
)

__all__ = [
    "FAMILIES",
    "FRAME_FACTOR",
    "PAIR_S",
    "PROCESSOR_KWARGS",
    "frame_budget",
    "qwen_linspace",
    "qwen_frame_size",
    "listed_frame_size",
    "smart_resize",
    "video_tokens",
    "token_frames",
    "token_frame_size",
    "video_entry",
    "video_metadata",
    "times_prompt",
    "evenly_spaced",
    "QwenInputs",
    "from_manifest",
    "manifest_target_of",
    "model_factor",
    "fetch_video",
    "process_vision_info",
]


class QwenInputs(NamedTuple):
    """What a manifest gives a Qwen model: the message ``entry`` (for ``process_vision_info``),
    the true-time ``video_metadata`` and ``processor_kwargs`` for the processor (Qwen2.5-VL's
    and Qwen3-VL's alike: ``processor(..., video_metadata=[inputs.video_metadata],
    **inputs.processor_kwargs)``), and the ``times_prompt`` for Qwen2.5-VL (None when the frames
    are evenly spaced)."""

    entry: dict[str, Any]
    video_metadata: dict[str, Any]
    processor_kwargs: dict[str, Any]
    times_prompt: str | None


def from_manifest(manifest_path: str | os.PathLike, model: Any = None, *, resize: bool = False) -> QwenInputs:
    """The Qwen inputs of an extraction, frame paths made absolute where the manifest is now.

    Parameters
    ----------
    manifest_path : str or os.PathLike
        A ``manifest.json`` written by framepick.
    model : str or processor, optional
        The model the frames go to: a family name of :data:`FAMILIES` (``"Qwen2.5-VL"``,
        ``"Qwen3-VL"``), or a transformers processor or video processor (its ``patch_size`` and
        ``merge_size``). Given, the frames must have been sized for it (the manifest's ``target``,
        :func:`manifest_target_of`); otherwise they are refused, or resized with ``resize``.
    resize : bool
        With ``model``: frames sized for another model, or for none, get ``resized_width`` and
        ``resized_height`` in the entry: the size framepick writes for ``model`` (pixels), to
        which qwen-vl-utils resizes them, instead of being refused.

    Raises
    ------
    ArgumentError
        ``manifest_path`` is not a path, or not that of a ``manifest.json`` written by framepick;
        ``model`` is neither a family name nor a processor; the frames were sized for another
        model than ``model`` and ``resize`` is False (one line naming both).
    """
    from .extract import qwen_entry

    path = Path(path_argument("manifest_path", manifest_path))
    flag("resize", resize, error=ArgumentError)
    wanted = None if model is None else model_factor(model)
    manifest = _read_manifest(path)
    qwen = manifest["qwen_inputs"]
    entry = qwen_entry(path)
    if wanted is not None:
        entry = _entry_for(entry, manifest, path, wanted, resize=resize)
    kwargs = {**PROCESSOR_KWARGS, **qwen["processor_kwargs"]}  # older manifests' lack the cap
    return QwenInputs(entry, qwen["video_metadata"], kwargs, qwen["times_prompt"])


def manifest_target_of(manifest: dict[str, Any]) -> dict[str, Any] | None:
    """The model family a manifest's frames were sized for (its ``target``, see
    :func:`manifest_target`), or None if no model's rule sized them. A manifest written before
    version 3 names none: its target is taken from its ``output`` (``resize`` and ``factor``),
    which those versions wrote."""
    if "target" in manifest:
        return manifest["target"]
    output = manifest.get("output") or {}
    return manifest_target(output.get("resize", "none"), output.get("factor", 0))


def _entry_for(entry: dict[str, Any], manifest: dict[str, Any], path: Path, wanted: tuple[str, int], *,
               resize: bool) -> dict[str, Any]:
    """``entry`` if the manifest's frames were sized for the model ``wanted`` (name, factor); with
    ``resize``, the entry with the size framepick writes for that model; an error otherwise."""
    name, factor = wanted
    target = manifest_target_of(manifest)
    if target is not None and target.get("factor") == factor:
        return entry
    if not resize:
        sized = "no model" if target is None else f"{target.get('family') or 'a model'} (factor {target.get('factor')})"
        raise ArgumentError(f"manifest_path: {path} holds frames sized for {sized}, not {name} (factor {factor}): "
                            f"extract them with factor = {factor}, or pass resize=True")
    video, output = manifest["video"], manifest["output"]
    width, height = listed_frame_size(video["width"], video["height"], len(entry["video"]), factor=factor,
                                      min_pixels=output.get("min_pixels"), max_pixels=output.get("max_pixels"),
                                      total_pixels=output.get("total_pixels"))
    return {**entry, "resized_width": width, "resized_height": height}


_QWEN_INPUTS = ("video_metadata", "processor_kwargs", "times_prompt")


def _read_manifest(path: Path) -> dict[str, Any]:
    """The manifest at ``path`` if it is one (its ``qwen``, ``qwen_inputs``, ``video``, ``output``
    and ``frames``; ``target`` is missing from those written before manifest version 3)."""
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
            and all(isinstance(manifest.get(key), dict) for key in ("qwen", "video", "output"))
            and isinstance(frames, list) and all(isinstance(frame, dict) and "file" in frame for frame in frames)):
        raise ArgumentError(f"manifest_path: {path} is not a framepick manifest "
                            "(no qwen, qwen_inputs, video, output and frames)")
    return manifest


# --------------------------------------------------------------------------- in memory

# qwen-vl-utils' element keys and the selection parameters they stand for.
_ELEMENT_PARAMS = {"nframes": "frames", "fps": "fps", "min_frames": "min_frames", "max_frames": "max_frames",
                   "video_start": "start_s", "video_end": "end_s"}
_SIZE_KEYS = ("min_pixels", "max_pixels", "total_pixels", "resized_height", "resized_width")


def _selection_params(ele: dict[str, Any], strategy: str, factor: int) -> dict[str, Any]:
    """The selection parameters an element asks for: qwen-vl-utils' keys translated, and any
    parameter of ``strategy`` given under its own name; a budget of ``tokens`` is counted at
    ``factor`` (``image_patch_size * 2``), and sets the frame size alone."""
    from .strategies import strategy_defaults

    accepted = strategy_defaults(strategy)
    params = {_ELEMENT_PARAMS[key]: value for key, value in ele.items() if key in _ELEMENT_PARAMS}
    params.update({key: value for key, value in ele.items() if key in accepted and key not in _ELEMENT_PARAMS})
    if "nframes" in ele and "fps" in ele:
        raise ConfigError("give either nframes or fps, not both (as qwen-vl-utils)")
    if "nframes" in ele and strategy == "fps":
        raise ConfigError("the fps strategy takes fps, not nframes")
    if "tokens" in ele and "tokens" not in accepted:
        raise ConfigError(f"the {strategy} strategy takes no tokens budget")
    if ele.get("factor", factor) != factor:
        raise ConfigError(f"factor is image_patch_size x {SPATIAL_MERGE} ({factor}), got {shown(ele['factor'])}")
    if ele.get("tokens") is not None:
        check_tokens_alone("qwen", {key: ele.get(key) for key in _SIZE_KEYS})
    if "factor" in accepted:
        params["factor"] = factor
    return {key: value for key, value in params.items() if key in accepted}


def _element_video(ele: Any, image_patch_size: Any) -> str:
    """The video file an element names (``video``: a path or ``file://`` URL), once every key
    :func:`fetch_video` reads is checked; an :class:`ArgumentError` naming ``ele`` otherwise."""
    from .strategies import strategy_params

    instance_argument("ele", ele, dict, "a dict of qwen-vl-utils' keys with 'video'")
    if "video" not in ele:
        raise ArgumentError("ele: has no 'video' key (the video file's path or file:// URL)")
    video = os.fspath(ele["video"]) if isinstance(ele["video"], os.PathLike) else ele["video"]
    if not isinstance(video, str) or not video:
        raise ArgumentError(f"ele['video'] must be a video file's path (str or os.PathLike) or file:// URL, "
                            f"got {shown(ele['video'])}")
    factor = integer("image_patch_size", image_patch_size, low=1, high=512, error=ArgumentError) * SPATIAL_MERGE
    try:
        check_pixels(factor, min_pixels=ele.get("min_pixels"), max_pixels=ele.get("max_pixels"),
                     total_pixels=ele.get("total_pixels"))
        for key in ("resized_height", "resized_width"):
            if key in ele:
                integer(key, ele[key], low=1, high=MAX_SIDE)
        strategy = ele.get("strategy", "uniform")
        strategy_params(strategy, _selection_params(ele, strategy, factor))
    except ConfigError as exc:
        raise ArgumentError(f"ele: {exc}") from None
    return video[len("file://"):] if video.startswith("file://") else video


def _frame_size(ele: dict[str, Any], width: int, height: int, frames: int, factor: int) -> tuple[int, int]:
    """(width, height) qwen-vl-utils' ``fetch_video`` gives ``frames`` frames of a video shown
    ``width`` x ``height``; with a budget of ``tokens``, the size a manifest has within it."""
    if ele.get("tokens") is not None:
        return token_frame_size(width, height, frames, tokens=ele["tokens"], factor=factor)
    if "resized_height" in ele and "resized_width" in ele:
        out_h, out_w = smart_resize(ele["resized_height"], ele["resized_width"], factor,
                                    IMAGE_MIN_TOKENS * factor * factor, IMAGE_MAX_TOKENS * factor * factor)
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
    parameters under their own names (``max_gap_s``, ``pair_s``, ``tokens``, ... see
    :mod:`framepick.select`; ``tokens`` is counted at ``image_patch_size * 2`` and gives the
    frames the size a manifest has, :func:`token_frame_size`).
    The video is analysed once (cached) when the strategy needs it; ``uniform`` and ``fps``
    need the frame times alone (:func:`framepick.pipeline.for_strategy`). The chosen frames are decoded
    straight to the output size (no JPEG round trip); memory holds the output frames.

    Returns
    -------
    torch.Tensor, float32, shape (n, 3, height, width)
        The frames, as qwen-vl-utils returns them (``n`` even: the last frame repeats if needed);
        with ``return_video_metadata`` a ``(frames, metadata)`` pair whose metadata gives the true
        times of the selected frames (:func:`video_metadata`; the repeated frame is not listed),
        and with ``return_video_sample_fps`` also the average frames per second of the
        selection over its span, qwen-vl-utils' ``sample_fps``.

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
    from .decode import read_frames
    from .errors import VideoError
    from .pipeline import for_strategy
    from .select import select

    strategy = ele.get("strategy", "uniform")
    analysis = for_strategy(path, strategy, progress=False)
    factor = image_patch_size * SPATIAL_MERGE
    selection = select(analysis, strategy, **_selection_params(ele, strategy, factor))
    indices = selection.indices
    info = analysis.info
    width, height = _frame_size(ele, info.width, info.height, len(indices), factor)
    frames = np.empty((len(indices), height, width, 3), np.uint8)
    got = 0
    for got, (_, _, pixels) in enumerate(read_frames(path, indices, size=(width, height),
                                                      frame_times_s=analysis.frame_times_s,
                                                      keyframes=np.asarray(info.keyframes)), 1):
        frames[got - 1] = pixels
    if got != len(indices):
        raise VideoError(path, f"{len(indices) - got} of the {len(indices)} chosen frames do not decode")
    if len(indices) % FRAME_FACTOR:  # as qwen-vl-utils pads a list of frames
        frames = np.concatenate([frames, frames[-1:]])
    import torch  # seconds to import: only once there are frames to hand over

    video = torch.from_numpy(frames).permute(0, 3, 1, 2).float()
    first, last = _span(analysis, selection)
    metadata = video_metadata(indices, analysis.times_of(indices), fps=info.fps, span_frames=last - first + 1)
    sample_fps = len(selection) / (last - first + 1) * info.fps
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
    video_kwargs)``, for ``processor(text=..., images=images, videos=..., **video_kwargs)``.
    ``video_kwargs`` holds :data:`PROCESSOR_KWARGS` (``do_sample_frames=False``,
    ``cap_pixels_per_frame=True``) and, without
    ``return_video_metadata``, ``video_metadata``: one true-time metadata per video
    (:func:`video_metadata`). With ``return_video_metadata`` the videos are ``(frames,
    metadata)`` pairs, as qwen-vl-utils gives them, and the metadata goes to the processor as
    ``video_metadata=[...]``. Either way the processor states the true times (Qwen3-VL) or the
    true spacing (Qwen2.5-VL's ``second_per_grid_ts``, ``2 / sample_fps``). Unlike
    qwen-vl-utils 0.0.14 the kwargs hold no ``fps`` list: transformers 5 refuses a list there,
    and with ``do_sample_frames=False`` reads the rate from the metadata alone.

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

    images, videos, metadata = [], [], []
    for element in qwen_vl_utils.extract_vision_info(conversations):
        if "image" in element or "image_url" in element:
            images.append(qwen_vl_utils.fetch_image(element, image_patch_size=image_patch_size))
        elif "video" in element:
            fetch = fetch_video if isinstance(element["video"], (str, os.PathLike)) else qwen_vl_utils.fetch_video
            frames, meta = fetch(element, image_patch_size=image_patch_size, return_video_metadata=True)
            videos.append((frames, meta) if return_video_metadata else frames)
            metadata.append(meta)
        else:
            raise ArgumentError(f"conversations: an element of type {shown(element.get('type'))} has no 'image', "
                                "'image_url' or 'video' key")
    video_kwargs: dict[str, Any] = dict(PROCESSOR_KWARGS)
    if videos and not return_video_metadata:
        video_kwargs["video_metadata"] = metadata
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
