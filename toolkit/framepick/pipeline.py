"""One video, end to end: analyse, select, extract.

>>> manifest = sample("talk.mp4", "adaptive", out_dir="frames", frames=32)   # doctest: +SKIP

writes ``frames/talk/frame_*.jpg`` and ``frames/talk/manifest.json`` and returns the manifest's
path. The batch job (:mod:`framepick.batch`) runs exactly this for every video.
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path
from typing import Any

from . import cache as cache_module
from .analysis import analyze, timing
from .checks import flag, instance_argument, path_argument
from .config import ANALYSIS_SPANS, AnalysisConfig, JobConfig, config_hash
from .errors import ArgumentError
from .extract import extract
from .outdir import check_video_id
from .probe import absolute_path, content_id, probe
from .select import TIMING_ONLY, select
from .types import Analysis, VideoInfo

__all__ = ["for_strategy", "sample"]


def for_strategy(path: str | os.PathLike, strategy: str, config: AnalysisConfig | None = None, *,
                 cache: bool = True, progress: bool | None = None) -> Analysis:
    """What ``strategy`` needs of ``path``: the full pass (:func:`~framepick.analysis.analyze`,
    cached), or for the strategies of :data:`framepick.select.TIMING_ONLY` a cached full analysis
    if there is one and the frame times alone (:func:`~framepick.analysis.timing`) otherwise."""
    config = config or AnalysisConfig()
    if strategy not in TIMING_ONLY:
        return analyze(path, config, cache=cache, progress=progress)
    cached = cache_module.load(os.fspath(path), config) if cache else None
    return cached if cached is not None else timing(path, config)


def sample(
    path: str | os.PathLike,
    strategy: str | None = None,
    *,
    out_dir: str | os.PathLike,
    config: JobConfig | None = None,
    video_id: str | None = None,
    analysis: Analysis | None = None,
    cache: bool = True,
    progress: bool | None = None,
    threads: int = 0,
    **params: Any,
) -> Path:
    """Analyse ``path``, select frames, write them as JPEGs with a manifest; return its path.

    Parameters
    ----------
    path : str or os.PathLike
        The video.
    strategy : str, optional
        Selection strategy (see :mod:`framepick.select`); default: the config's, which is
        ``"uniform"`` (Qwen's frame count for the duration) without a config.
    out_dir : str or os.PathLike
        Output folder; the frames go to ``out_dir/<video_id>/``.
    config : JobConfig, optional
        Strategy, analysis and output settings (a TOML file: :func:`framepick.config.load_config`
        first); ``strategy`` and ``params`` override its strategy and single parameters.
    video_id : str, optional
        Name of the video's output folder; default: the file stem.
    analysis : Analysis, optional
        An analysis of ``path`` made with ``config.analysis`` (e.g. a segment-parallel one; the
        frames are read from ``path``, not from the path it names, which must hold the same
        content or, where it is gone, a video of the same size, frame rate and duration);
        default: :func:`for_strategy` (a cached full analysis; for ``uniform``
        and ``fps`` without one, the frame times from the packet headers, and the manifest's
        scene fields are null).
    cache : bool
        Read and write the analysis cache.
    progress : bool, optional
        Progress bars of the analysis and of the frames written; default:
        :func:`framepick.analysis.shows_progress` (a terminal, or a notebook kernel).
    threads : int
        Decoder and kernel threads; 0 means one per usable core.
    **params
        Strategy parameters, e.g. ``frames=32`` or ``fps=1.0, max_frames=64`` (None is a value:
        no explicit count, no cap; see :data:`framepick.config.PARAM_SPANS`).

    Returns
    -------
    Path
        ``out_dir/<video_id>/manifest.json``.

    Raises
    ------
    VideoError
        The video cannot be decoded.
    ConfigError
        A strategy, parameter or setting is invalid.
    ArgumentError
        An argument is of the wrong kind, or ``analysis`` describes another video.
    """
    config = _job(path, out_dir, config, strategy, video_id=video_id, cache=cache, progress=progress,
                  threads=threads, params=params)
    if analysis is None:  # uniform and fps need the frame times only
        analysis = for_strategy(path, config.strategy, config.analysis, cache=cache, progress=progress)
    else:  # the frames come from the file the caller names, whatever name the analysis was made with
        instance_argument("analysis", analysis, Analysis, "a framepick Analysis (from framepick.analyze) or None")
        _check_analysis_of(analysis, path)
        analysis = dataclasses.replace(analysis, info=dataclasses.replace(analysis.info, path=absolute_path(path)))
    selection = select(analysis, config.strategy, **config.resolved_params())
    return extract(analysis, selection, out_dir, video_id=video_id, output=config.output,
                   config_hash=config_hash(config), threads=threads, progress=progress)


def _job(path: Any, out_dir: Any, config: Any, strategy: Any, *, video_id: Any, cache: Any, progress: Any,
         threads: Any, params: dict[str, Any]) -> JobConfig:
    """The arguments of :func:`sample` checked, before any work; the job they make."""
    path_argument("path", path)
    path_argument("out_dir", out_dir)
    if config is not None and not isinstance(config, JobConfig):
        hint = " (read a TOML file with framepick.load_config)" if isinstance(config, (str, os.PathLike)) else ""
        instance_argument("config", config, JobConfig, f"a framepick.JobConfig or None{hint}")
    if strategy is not None:
        instance_argument("strategy", strategy, str, "a strategy name or None")
    if video_id is not None:
        check_video_id(instance_argument("video_id", video_id, str, "a folder name (str) or None"))
    flag("cache", cache, error=ArgumentError)
    if progress is not None:
        flag("progress", progress, error=ArgumentError)
    ANALYSIS_SPANS["threads"].check("threads", threads, error=ArgumentError)
    job = (config or JobConfig()).with_overrides(strategy=strategy, **params)
    if threads:
        job = dataclasses.replace(job, analysis=dataclasses.replace(job.analysis, threads=threads))
    return job


def _check_analysis_of(analysis: Analysis, path: str | os.PathLike) -> None:
    """Refuse an analysis of another video than ``path``: its file must hold the same content
    (:func:`~framepick.probe.content_id`) or, where it is gone or changed, ``path`` must be a video
    of the same size, frame rate, codec and duration (within two frames or 1%: the container's
    duration, which is all a quick probe reads, may differ a little from the decoded frames')."""
    made_of = analysis.info.path
    if made_of == absolute_path(path) or (os.path.isfile(made_of) and content_id(made_of) == content_id(path)):
        return
    given = probe(path, keyframes=False)
    info = analysis.info
    same = ((given.width, given.height, given.codec) == (info.width, info.height, info.codec)
            and math.isclose(given.fps, info.fps, rel_tol=1e-3)
            and (given.duration_s <= 0 or abs(given.duration_s - info.duration_s)
                 <= max(2.0 / info.fps, 0.01 * info.duration_s)))
    if not same:
        raise ArgumentError(f"analysis: made of another video than {os.fspath(path)} ({_described(given)}): "
                            f"{made_of} ({_described(info)})")


def _described(info: VideoInfo) -> str:
    """``"160x96 h264, 25 fps, 2.00 s"``."""
    return f"{info.width}x{info.height} {info.codec}, {info.fps:.3g} fps, {info.duration_s:.2f} s"
