"""On-disk cache of analyses, keyed by the file's identity and the analysis settings.

A cache file is an ``.npz`` holding the analysis arrays and a JSON header. It is found by a hash
of (absolute path, content identity (:func:`framepick.probe.content_id`: size and a hash of
sampled blocks), settings, format version) and trusted only if its header repeats exactly that
identity; anything unreadable or stale is ignored (and recomputed by
the caller). Files are written under a temporary name and renamed into place.

The folder is ``$FRAMEPICK_CACHE`` if set, else the user cache dir (platformdirs).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .probe import absolute_path, content_id
from .settings import AnalysisConfig
from .types import Analysis, VideoInfo

__all__ = ["CacheWarning", "cache_dir", "cache_path", "load", "save"]


class CacheWarning(UserWarning):
    """The analysis cache could not be written; the analysis goes on without it."""

# Raised whenever the analysis of the same file with the same settings changes (frame times,
# checks that reject a file): older cache files are then recomputed, not trusted.
FORMAT_VERSION = 8  # 8: state changes
_ARRAYS = ("frame_times_s", "score_indices", "score", "luma_diff", "hist_diff", "scenes",
           "thumb_indices", "thumbs", "transitions", "transition_kinds", "state_changes", "state_strengths")


def cache_dir() -> Path:
    """Folder of the analysis cache (``$FRAMEPICK_CACHE`` or the user cache dir)."""
    override = os.environ.get("FRAMEPICK_CACHE")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("framepick"))


def _identity(path: str | os.PathLike, config: AnalysisConfig, content: str | None) -> dict[str, Any]:
    """What a cache file is found by and must repeat; ``content``: the file's
    :func:`~framepick.probe.content_id` (None: read it now)."""
    resolved = Path(path).resolve()
    return {
        "version": FORMAT_VERSION,
        "path": str(resolved),
        "content": content_id(resolved) if content is None else content,
        "config": config.key(),
    }


def cache_path(path: str | os.PathLike, config: AnalysisConfig, *, content: str | None = None) -> Path:
    """Where the analysis of ``path`` with ``config`` is cached; ``content`` as for :func:`load`."""
    identity = _identity(path, config, content)
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
    return cache_dir() / f"{Path(path).stem[:40]}-{digest[:20]}.npz"


def load(path: str | os.PathLike, config: AnalysisConfig, *, content: str | None = None) -> Analysis | None:
    """The cached analysis of ``path`` with ``config``, or None if absent, stale or unreadable.

    ``content`` is the file's :func:`~framepick.probe.content_id` if the caller has just taken it
    (None: it is read here). The analysis returned names ``path`` (made absolute), whatever name the
    file had when it was cached (a symlink to it, another relative path)."""
    try:
        identity = _identity(path, config, content)
        target = cache_path(path, config, content=identity["content"])
        with open(target, "rb") as handle, np.load(handle, allow_pickle=False) as data:
            header = json.loads(str(data["header"]))
            if header["identity"] != identity:
                return None
            arrays = {name: data[name] for name in _ARRAYS}
        analysis = Analysis(
            info=dataclasses.replace(VideoInfo.from_dict(header["info"]), path=absolute_path(path)),
            config=AnalysisConfig.from_dict(header["config"]),
            decoder=header["decoder"],
            elapsed_s=float(header["elapsed_s"]),
            **arrays,
        )
        return analysis if _consistent(analysis) else None
    except Exception:  # missing, truncated zip, wrong keys or types: never trusted, recomputed
        return None


def _consistent(analysis: Analysis) -> bool:
    """Whether the arrays of a loaded analysis fit together (a tampered file may not)."""
    frames, analysed = analysis.info.frames, analysis.score_indices
    scenes, spans = analysis.scenes, analysis.transitions
    return bool(
        analysis.frame_times_s.shape == (frames,)
        and analysed.ndim == 1 and all(getattr(analysis, name).shape == analysed.shape
                                       for name in ("score", "luma_diff", "hist_diff"))
        and (len(analysed) == 0 or (analysed.min() >= 0 and analysed.max() < frames and np.all(np.diff(analysed) > 0)))
        and scenes.ndim == 2 and scenes.shape[1:] == (2,) and len(scenes) > 0 and scenes[0, 0] == 0
        and scenes[-1, 1] == frames and np.all(scenes[1:, 0] == scenes[:-1, 1]) and np.all(scenes[:, 1] > scenes[:, 0])
        and spans.ndim == 2 and spans.shape[1:] == (2,) and analysis.transition_kinds.shape == (len(spans),)
        and (len(spans) == 0 or (spans.min() >= 0 and spans.max() <= frames))
        and analysis.thumbs.ndim == 4 and len(analysis.thumbs) == len(analysis.thumb_indices)
        and analysis.state_changes.ndim == 1 and analysis.state_strengths.shape == analysis.state_changes.shape
        and np.all(np.diff(analysis.state_changes) > 0)
        and (len(analysis.state_changes) == 0 or (analysis.state_changes.min() > 0
                                                  and analysis.state_changes.max() < frames))
    )


def save(analysis: Analysis, *, content: str | None = None) -> Path | None:
    """Write ``analysis`` to the cache atomically and return the cache file's path.

    ``content`` is the :func:`~framepick.probe.content_id` of the file the analysis describes,
    taken before it began (:func:`framepick.analysis.analyze` checks that the file still has it);
    None: the file's identity now, which is another file's if it was replaced meanwhile.

    The cache is optional: where it cannot be written (its folder is a file, read-only or full),
    a :class:`CacheWarning` says so and None is returned; the analysis itself is not lost."""
    try:
        return _write(analysis, content)
    except OSError as exc:
        warnings.warn(f"{analysis.info.path}: the analysis is not cached ({exc.strerror or exc}: {cache_dir()})",
                      CacheWarning, stacklevel=2)
        return None


def _write(analysis: Analysis, content: str | None) -> Path:
    identity = _identity(analysis.info.path, analysis.config, content)
    target = cache_path(analysis.info.path, analysis.config, content=identity["content"])
    target.parent.mkdir(parents=True, exist_ok=True)
    header = {
        "identity": identity,
        "info": analysis.info.to_dict(),
        "config": analysis.config.to_dict(),
        "decoder": analysis.decoder,
        "elapsed_s": analysis.elapsed_s,
    }
    arrays = {name: getattr(analysis, name) for name in _ARRAYS}
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, header=np.asarray(json.dumps(header)), **arrays)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
