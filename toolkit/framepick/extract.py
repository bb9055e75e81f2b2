"""Extraction: decode the selected frames, resize them, write JPEGs and a manifest.

Layout of one video's output::

    OUT/<video_id>/frame_<index:06d>.jpg
    OUT/<video_id>/manifest.json

The manifest records the source file (``video.path``, ``video.content_id``), the model family
the frames were sized for (``target``, :func:`framepick.qwen_models.manifest_target`) and, under
``"files"``, every image's size in bytes and CRC-32, so a later run can tell a complete, intact
output of this video with these settings (:func:`finished_manifest`) from a damaged one. The
default video id never takes another video's output: :func:`output_id`.

Everything is written to a staging folder of its own under ``OUT/.framepick/`` first and renamed
into place when complete (:mod:`framepick.outdir`), so a folder named after a video always holds a
complete extraction, and writers into one ``OUT`` never share a half-written folder. Only the selected frames are
converted (in increasing order, seeking over long gaps, see :func:`framepick.decode.read_frames`),
scaled by FFmpeg straight from the decoded picture to the output size, so memory holds a few
output-size frames at a time.

Output size rules (:class:`OutputConfig`):

- ``"qwen"``: the size qwen-vl-utils 0.0.14 keeps when it reads the frames back as a list
  (:func:`framepick.qwen_rules.listed_frame_size`: both sides multiples of ``2 * factor``, pixels within
  Qwen's per-frame budget for a video, which shrinks with the frame count, aspect ratio kept);
  ``process_vision_info`` does not resize them again. A selection made with a budget of
  ``tokens`` is written at :func:`framepick.qwen_models.token_frame_size`, and its Qwen entry
  carries that budget as ``total_pixels``.
- ``"longest"``: the longer side becomes ``longest_side`` pixels (never enlarged).
- ``"none"``: the decoded size.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from . import outdir
from .about import __version__
from .analysis import shows_progress
from .decode import read_frames
from .errors import ConfigError, OutputError, VideoError
from .probe import content_id
from .qwen_models import check_tokens_alone, manifest_target, token_frame_size
from .qwen_rules import PROCESSOR_KWARGS, evenly_spaced, times_prompt, video_entry, video_metadata
from .select import frame_range
from .settings import OutputConfig
from .types import Analysis, Selection, VideoInfo

__all__ = [
    "MANIFEST_NAME",
    "extract",
    "finished_manifest",
    "jpeg_frames",
    "output_id",
    "qwen_entry",
    "qwen_inputs",
]

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 3  # 2: "files" records each image's size and CRC-32; 3: "target" names the model family
_CHUNK_BYTES = 1 << 20  # read size when checking an image's CRC-32

def extract(
    analysis: Analysis,
    selection: Selection,
    out_dir: str | os.PathLike,
    *,
    video_id: str | None = None,
    output: OutputConfig | None = None,
    config_hash: str | None = None,
    backend: str | None = None,
    threads: int = 0,
    progress: bool | None = None,
) -> Path:
    """Decode the frames of ``selection``, write them as JPEGs with a manifest; return its path.

    Parameters
    ----------
    analysis : Analysis
        The analysis the selection was made from (for times, scenes, seeking).
    selection : Selection
        The frames to write.
    out_dir : str or os.PathLike
        Parent folder; the frames go to ``out_dir/<video_id>/``, replacing what was there.
    video_id : str, optional
        Folder name (checked by :func:`framepick.outdir.check_video_id`); default:
        :func:`output_id`, the video's file stem made safe, unless that folder holds another
        video's output.
    output : OutputConfig, optional
        Size rule and JPEG quality (default: Qwen's size rule, quality 90).
    config_hash : str, optional
        Recorded in the manifest, so a batch can tell whether the folder is up to date.
    backend : str, optional
        Frame source; default: the one the analysis was configured with.
    threads : int
        Decoder threads; 0 means one per usable core.
    progress : bool, optional
        Show a progress bar of the frames written; default:
        :func:`framepick.analysis.shows_progress` (a terminal, or a notebook kernel).

    Returns
    -------
    Path
        ``out_dir/<video_id>/manifest.json``.

    Raises
    ------
    VideoError
        A selected frame cannot be decoded.
    ConfigError
        Empty selection, or indices outside the video.
    """
    started = time.perf_counter()
    output = output or OutputConfig()
    info = analysis.info
    indices = _checked_indices(analysis, selection)
    out_dir = Path(out_dir)
    video_id = outdir.check_video_id(video_id) if video_id is not None else output_id(info.path, out_dir)
    target = out_dir / video_id
    with _writing(target):
        staging = outdir.staging(out_dir, video_id)
    try:
        size = _frame_size(info, selection.params, output, len(indices))
        decoder, files = _write_frames(analysis, indices, staging, size=size, output=output,
                                       backend=backend or analysis.config.backend, threads=threads, target=target,
                                       progress=shows_progress() if progress is None else progress)
        manifest = _manifest(analysis, selection, video_id=video_id, size=size, output=output,
                             config_hash=config_hash, decoder=decoder, folder=target.resolve(), files=files)
        manifest["elapsed_s"] = round(time.perf_counter() - started, 3)
        with _writing(target):
            (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1) + "\n")
            final = outdir.move_into_place(staging, out_dir, video_id)
    except BaseException:
        outdir.remove(staging)
        raise
    return final / MANIFEST_NAME


def jpeg_frames(analysis: Analysis, selection: Selection, *, output: OutputConfig | None = None,
                backend: str | None = None, threads: int = 0) -> list[bytes]:
    """The JPEG files :func:`extract` would write for ``selection``, as bytes in memory, in the
    selection's order (same size rule, quality and decoding; no file is written).

    Raises
    ------
    VideoError
        A selected frame cannot be decoded.
    ConfigError
        Empty selection, or indices outside the video.
    """
    output = output or OutputConfig()
    indices = _checked_indices(analysis, selection)
    size = _frame_size(analysis.info, selection.params, output, len(indices))
    frames = _decoded(analysis, indices, size=size, backend=backend or analysis.config.backend, threads=threads)
    jpegs = {index: _jpeg(pixels, output.jpeg_quality) for index, _time_s, pixels in frames}
    _check_all_decoded(analysis, indices, set(jpegs))
    return [jpegs[index] for index in indices.tolist()]


def _checked_indices(analysis: Analysis, selection: Selection) -> np.ndarray:
    """The selection's indices (int64) if they are frames of the video, sorted and unique."""
    info = analysis.info
    indices = np.asarray(selection.indices, dtype=np.int64)
    if len(indices) == 0:
        raise ConfigError(f"{info.path}: nothing to extract: the selection is empty")
    if indices.min() < 0 or indices.max() >= info.frames or np.any(np.diff(indices) <= 0):
        raise ConfigError(f"selection indices must be sorted, unique and within [0, {info.frames})")
    return indices


def _decoded(analysis: Analysis, indices: np.ndarray, *, size: tuple[int, int], backend: str, threads: int):
    """The frames ``indices`` of the video decoded at ``size`` (:func:`framepick.decode.read_frames`)."""
    return read_frames(analysis.info.path, indices, size=size, backend=backend, threads=threads,
                       frame_times_s=analysis.frame_times_s, keyframes=np.asarray(analysis.info.keyframes))


def _jpeg(pixels: np.ndarray, quality: int) -> bytes:
    """``pixels`` (uint8, height x width x 3) as a JPEG file's bytes."""
    from PIL import Image

    encoded = io.BytesIO()  # Pillow ignores a short write (a file cut off at a full disk) on a file
    Image.fromarray(pixels).save(encoded, "JPEG", quality=quality)
    return encoded.getvalue()


def _check_all_decoded(analysis: Analysis, indices: np.ndarray, decoded: set[int]) -> None:
    """A :class:`VideoError` naming the frames of ``indices`` not in ``decoded``, if any."""
    missing = [int(i) for i in indices if int(i) not in decoded]
    if missing:
        raise VideoError(analysis.info.path, f"frames {missing[:5]}{'...' if len(missing) > 5 else ''} "
                                             f"do not decode (of {analysis.info.frames} analysed)")


@contextmanager
def _writing(target: Path) -> Iterator[None]:
    """An :class:`OSError` raised in the body (a full disk, no permission) as an :class:`OutputError`
    naming ``target``, the video's output folder."""
    try:
        yield
    except OSError as exc:
        raise OutputError(target, f"cannot write the output ({exc.strerror or exc})") from exc


def _frame_file(index: int) -> str:
    return f"frame_{index:06d}.jpg"


def _file_record(data: bytes) -> dict[str, Any]:
    """What the manifest records of a written file: its size in bytes and CRC-32 (8 hex digits)."""
    return {"bytes": len(data), "crc32": f"{zlib.crc32(data):08x}"}


def _write_frames(analysis: Analysis, indices: np.ndarray, folder: Path, *, size: tuple[int, int],
                  output: OutputConfig, backend: str, threads: int, target: Path,
                  progress: bool) -> tuple[str, dict[str, dict[str, Any]]]:
    """Decode, resize and write every selected frame into ``folder`` (a progress bar of them with
    ``progress``); return the decoder that delivered them and :func:`_file_record` of every file by
    name. A write error is an :class:`OutputError` naming ``target``."""
    from tqdm.auto import tqdm

    frames = _decoded(analysis, indices, size=size, backend=backend, threads=threads)
    written = set()
    files = {}
    bar = tqdm(frames, total=len(indices), unit="frame", desc=f"{Path(analysis.info.path).name}: writing",
               file=sys.stderr, disable=not progress, dynamic_ncols=True)
    for index, _time_s, pixels in bar:
        data = _jpeg(pixels, output.jpeg_quality)
        with _writing(target):
            (folder / _frame_file(index)).write_bytes(data)
        written.add(index)
        files[_frame_file(index)] = _file_record(data)
    _check_all_decoded(analysis, indices, written)
    assert frames.decoder is not None  # a backend delivered the frames written
    return frames.decoder, files


def _manifest(analysis: Analysis, selection: Selection, *, video_id: str, size: tuple[int, int],
              output: OutputConfig, config_hash: str | None, decoder: str, folder: Path,
              files: dict[str, dict[str, Any]]) -> dict[str, Any]:
    info = analysis.info
    indices = np.asarray(selection.indices, dtype=np.int64)
    times_s = analysis.times_of(indices)
    scene_numbers = analysis.scene_of(indices) if analysis.scored else [None] * len(indices)
    names = [_frame_file(int(i)) for i in indices]
    return {
        "manifest_version": MANIFEST_VERSION,
        "framepick_version": __version__,
        "video": {
            "path": str(Path(info.path).resolve()),
            "content_id": content_id(info.path),
            "id": video_id,
            "frames": info.frames,
            "fps": info.fps,
            "duration_s": info.duration_s,
            "width": info.width,
            "height": info.height,
            "stored_width": info.stored_width,
            "stored_height": info.stored_height,
            "sample_aspect_ratio": list(info.sample_aspect_ratio),
            "codec": info.codec,
            "stream_index": info.stream_index,
        },
        "decoder": decoder,
        "analysis": {"decoder": analysis.decoder, **_without_threads(analysis.config.to_dict())},
        "strategy": _strategy_entry(selection),
        "config_hash": config_hash,
        "output": {**output.to_dict(), "width": size[0], "height": size[1]},
        "target": manifest_target(output.resize, output.factor),
        "frames": [
            {"index": int(i), "time_s": round(float(t), 6), "file": f, "scene": None if s is None else int(s)}
            for i, t, s, f in zip(indices, times_s, scene_numbers, names)
        ],
        "files": files,
        "scenes": analysis.scenes.tolist() if analysis.scored else None,
        "transitions": [{"kind": str(kind), "frames": span} for span, kind in
                        zip(analysis.transitions.tolist(), analysis.transition_kinds)] if analysis.scored else None,
        "qwen": video_entry([str(folder / name) for name in names], sample_fps=_sample_fps(analysis, selection),
                            options=_entry_options(output, selection.params.get("tokens"))),
        "qwen_inputs": qwen_inputs(analysis, selection),
    }


_PIXEL_SETTINGS = ("min_pixels", "max_pixels", "total_pixels")


def _frame_size(info: VideoInfo, params: dict[str, Any], output: OutputConfig, frames: int) -> tuple[int, int]:
    """(width, height) in pixels to write ``frames`` frames of the video at: the output's size
    rule, or, for a selection made with ``tokens`` (at the output's factor), the size within that
    budget."""
    tokens = params.get("tokens")
    if tokens is None:
        return output.frame_size(info.width, info.height, frames)
    check_tokens_alone(output.resize, {name: getattr(output, name) for name in _PIXEL_SETTINGS})
    if params.get("factor", output.factor) != output.factor:
        raise ConfigError(f"the selection's tokens were counted at factor {params['factor']}, "
                          f"the output writes factor {output.factor}")
    return token_frame_size(info.width, info.height, frames, tokens=tokens, factor=output.factor)


def _entry_options(output: OutputConfig, tokens: int | None) -> dict[str, int]:
    """The size settings the Qwen entry repeats so that qwen-vl-utils keeps the frames' size: the
    output's, or a token budget as qwen-vl-utils' ``total_pixels``."""
    return output.qwen_options() if tokens is None else {"total_pixels": tokens * output.factor ** 2}


def _strategy_entry(selection: Selection) -> dict[str, Any]:
    """The strategy and its parameters, an explicit ``frames`` replaced by the count written: the
    budget is rounded to a multiple of ``multiple_of`` as qwen-vl-utils rounds it (3 -> 4) and
    capped by the video's frames, and novelty or pairs may give fewer."""
    params = dict(selection.params)
    if params.get("frames") is not None:
        params["frames"] = len(selection.indices)
    return {"name": selection.strategy, **params}


def qwen_inputs(analysis: Analysis, selection: Selection) -> dict[str, Any]:
    """What the Qwen2.5-VL and Qwen3-VL processors need beside the frames to state their true
    times (Qwen3-VL) or spacing (Qwen2.5-VL), and the times as a sentence for Qwen2.5-VL when
    the frames are not evenly spaced: the manifest's ``qwen_inputs``, ``{"video_metadata",
    "processor_kwargs", "times_prompt"}``."""
    info = analysis.info
    times_s = analysis.times_of(selection.indices)
    paired = bool(selection.params.get("pair_s"))
    even = not paired and evenly_spaced(times_s, 1.0 / info.fps)
    first, last = frame_range(analysis, selection.params.get("start_s"), selection.params.get("end_s"))
    return {
        "video_metadata": video_metadata(selection.indices, times_s, fps=info.fps, span_frames=last - first + 1),
        "processor_kwargs": dict(PROCESSOR_KWARGS),
        "times_prompt": None if even else times_prompt(times_s, paired=paired),
    }


def _without_threads(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k != "threads"}


def _sample_fps(analysis: Analysis, selection: Selection) -> float:
    """Frames per second of the selection over the span it was chosen from, as qwen-vl-utils
    computes ``sample_fps`` (frames / span): the whole video, or ``start_s``..``end_s``."""
    duration_s = analysis.info.duration_s
    start_s = min(max(selection.params.get("start_s") or 0.0, 0.0), duration_s)
    end_s = selection.params.get("end_s")
    end_s = duration_s if end_s is None else min(max(end_s, start_s), duration_s)
    span_s = end_s - start_s
    return round(len(selection) / span_s, 6) if span_s > 0 else float(len(selection))


def qwen_entry(manifest_path: str | os.PathLike) -> dict[str, Any]:
    """The manifest's ``"qwen"`` entry, with the frame paths made absolute where the manifest is
    now (the folder may have moved since it was written).

    The entry goes into a Qwen2.5-VL / Qwen3-VL message as it is: ``{"type": "video", "video":
    [frame paths], "sample_fps": frames per second}``, plus the size settings that differ from
    qwen-vl-utils' defaults. qwen-vl-utils 0.0.14 spaces a list of frames evenly at
    ``sample_fps``; the true times reach the Qwen2.5-VL and Qwen3-VL processors through
    ``manifest["qwen_inputs"]`` (see :func:`framepick.qwen.from_manifest`).
    """
    manifest_path = Path(manifest_path).resolve()
    manifest = json.loads(manifest_path.read_text())
    entry = dict(manifest["qwen"])
    entry["video"] = [str(manifest_path.parent / frame["file"]) for frame in manifest["frames"]]
    return entry


def finished_manifest(out_dir: str | os.PathLike, video_id: str) -> dict[str, Any] | None:
    """The manifest of a complete, intact extraction in ``out_dir/<video_id>``, or None.

    Complete and intact means: the manifest reads, and every frame file it lists is a file of the
    size and CRC-32 its ``"files"`` entry records (each file is read once). A manifest without
    those records (written by framepick before manifest version 2) is not taken as intact.
    """
    folder = Path(out_dir) / video_id
    if folder.is_symlink():
        return None  # not the tool's: never read through or trusted
    try:
        manifest = json.loads((folder / MANIFEST_NAME).read_text())
        names = [frame["file"] for frame in manifest["frames"]]
        records = [manifest["files"][name] for name in names]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return manifest if all(_intact(folder, name, record) for name, record in zip(names, records)) else None


def _intact(folder: Path, name: Any, record: Any) -> bool:
    """Whether ``folder/name`` is a plain file (no link, no path) of the size and CRC-32 ``record`` gives."""
    if not isinstance(name, str) or Path(name).name != name or not isinstance(record, dict):
        return False
    path = folder / name
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size != record.get("bytes"):
            return False
        return _crc32(path) == record.get("crc32")
    except OSError:
        return False


def _crc32(path: Path) -> str:
    """CRC-32 of the file at ``path`` (8 hex digits), read in chunks."""
    crc = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            crc = zlib.crc32(chunk, crc)
    return f"{crc:08x}"


def output_id(path: str | os.PathLike, out_dir: str | os.PathLike, *, preferred: str | None = None) -> str:
    """The folder in ``out_dir`` that the output of the video at ``path`` goes to: never one that
    holds another video's output.

    A folder is this video's when its manifest names this file as its source (``video.path``,
    resolved): the file itself, even if its content has changed since (then the output is redone
    there). Another file of the same name, or a copy of this one elsewhere, is another video.

    Parameters
    ----------
    path : str or os.PathLike
        The video.
    out_dir : str or os.PathLike
        The output folder.
    preferred : str, optional
        The id to use if it is free (default :func:`framepick.outdir.video_id` of ``path``; a batch
        passes the id :func:`framepick.outdir.video_ids` gave it, unique within the batch).

    Returns
    -------
    str
        The first of these that holds this video's output: ``preferred``, the file stem
        (:func:`framepick.outdir.video_id`), its :func:`framepick.outdir.fallback_ids` (up to the
        first that is free); else ``preferred`` if it is free, else the first free fallback. A
        folder without a readable manifest (damaged, or not framepick's) is free.

    Raises
    ------
    OutputError
        Every fallback id holds another video's output.
    """
    out_dir = Path(out_dir)
    source, stem = str(Path(path).resolve()), outdir.video_id(path)
    first = outdir.check_video_id(preferred) if preferred is not None else stem
    for name in dict.fromkeys([first, stem]):
        if _source_of(out_dir / name) == source:
            return name
    fallback = None
    for name in outdir.fallback_ids(path):
        owner = _source_of(out_dir / name)
        if owner == source:
            return name
        if owner is None:
            fallback = name
            break  # fallbacks are taken in order: none after a free one holds this video
    if _source_of(out_dir / first) is None:
        return first
    if fallback is not None:
        return fallback
    raise OutputError(out_dir / first, f"this folder and all {outdir.MAX_FALLBACKS} fallback ids "
                                       "hold other videos' outputs")


def _source_of(folder: Path) -> str | None:
    """The source file named by the manifest in ``folder`` (``video.path``), or None if there is no
    readable manifest there (no folder, a link, a damaged or foreign one)."""
    try:
        if folder.is_symlink():
            return None
        source = json.loads((folder / MANIFEST_NAME).read_text())["video"]["path"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return source if isinstance(source, str) else None
