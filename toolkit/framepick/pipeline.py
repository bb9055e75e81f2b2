"""One video, end to end: analyse, select, extract.

>>> manifest = sample("talk.mp4", "adaptive", out_dir="frames", frames=32)   # doctest: +SKIP

writes ``frames/talk/frame_*.jpg`` and ``frames/talk/manifest.json`` and returns the manifest's
path. The batch job (:mod:`framepick.batch`) runs exactly this for every video.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from .analysis import for_strategy
from .config import JobConfig, config_hash
from .extract import extract
from .outdir import check_video_id
from .probe import absolute_path
from .select import select
from .types import Analysis

__all__ = ["sample"]


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
        Strategy, analysis and output settings (e.g. from :func:`framepick.config.load_config`);
        ``strategy`` and ``params`` override its strategy and single parameters.
    video_id : str, optional
        Name of the video's output folder; default: the file stem.
    analysis : Analysis, optional
        An analysis of ``path`` made with ``config.analysis`` (e.g. a segment-parallel one; the
        frames are read from ``path``, not from the path it names);
        default: :func:`framepick.analysis.for_strategy` (a cached full analysis; for ``uniform``
        and ``fps`` without one, the frame times from the packet headers, and the manifest's
        scene fields are null).
    cache : bool
        Read and write the analysis cache.
    progress : bool, optional
        Progress bar of the analysis on stderr; default: when stderr is a terminal.
    threads : int
        Decoder and kernel threads; 0 means one per usable core.
    **params
        Strategy parameters, e.g. ``frames=32`` or ``fps=1.0, max_frames=64`` (None: the
        strategy's default).

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
    """
    if video_id is not None:
        check_video_id(video_id)  # before any work
    config = (config or JobConfig()).with_overrides(strategy=strategy, **params)
    if threads:
        config = dataclasses.replace(config, analysis=dataclasses.replace(config.analysis, threads=threads))
    if analysis is None:  # uniform and fps need the frame times only
        analysis = for_strategy(path, config.strategy, config.analysis, cache=cache, progress=progress)
    else:  # the frames come from the file the caller names, whatever name the analysis was made with
        analysis = dataclasses.replace(analysis, info=dataclasses.replace(analysis.info, path=absolute_path(path)))
    selection = select(analysis, config.strategy, **config.resolved_params())
    return extract(analysis, selection, out_dir, video_id=video_id, output=config.output,
                   config_hash=config_hash(config), threads=threads)
