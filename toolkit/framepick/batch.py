"""The batch job: a folder of long videos in, a frame set out, resumable and hang-proof.

>>> summary = run_batch(["videos/"], out_dir="frames", config=load_config("strategy.toml"))  # doctest: +SKIP

Every video goes through :func:`process_video` (analyse, select, extract; see
:mod:`framepick.pipeline`), on one of two executors:

- ``"local"``: worker processes on this machine (``spawn``), each with its own decoder and
  ``cores // workers`` threads. A video that outlives its wall-clock limit
  (:meth:`JobConfig.timeout_for` its duration) has its worker killed and replaced; so has a
  worker that crashes. See :mod:`framepick._pool`.
- ``"ray"``: the same function as Ray tasks, for several machines (``pip install framepick[ray]``).

A video whose folder holds a complete manifest with the same config hash is skipped (``force``
redoes it). ``OUT/batch.jsonl`` receives one status line per video as it finishes (``ok``,
``skipped`` or ``failed`` with the reason), between a ``batch`` line and a ``summary`` line.
A Ctrl-C stops the batch cleanly: finished videos stay, unfinished ones leave nothing behind.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from collections.abc import Callable, Generator, Iterable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .config import JobConfig, config_hash
from .errors import ConfigError, FramepickError, VideoError
from .extract import MANIFEST_NAME, finished_manifest
from .outdir import STATUS_FILE, clean_staging, locked, prepare, video_ids
from .probe import content_id
from .types import THREAD_ENV, usable_cores

__all__ = [
    "EXECUTORS",
    "STATUS_FILE",
    "VIDEO_EXTENSIONS",
    "BatchSummary",
    "VideoTask",
    "find_videos",
    "video_ids",
    "process_video",
    "run_batch",
]

EXECUTORS = ("local", "ray")
VIDEO_EXTENSIONS = frozenset({
    ".3gp", ".avi", ".flv", ".m2ts", ".m4v", ".mkv", ".mov", ".mp4", ".mpeg", ".mpg", ".mts", ".ogv",
    ".ts", ".webm", ".wmv",
})
LIST_EXTENSIONS = frozenset({".txt", ".list", ".lst"})


def find_videos(inputs: Iterable[str | os.PathLike]) -> list[Path]:
    """The videos named by ``inputs``, in order, each once.

    A folder is searched recursively for files with a video extension (:data:`VIDEO_EXTENSIONS`,
    in sorted order, hidden folders skipped); a ``.txt``/``.list``/``.lst`` file is read as a
    list of paths, one per line (blank lines and ``#`` comments skipped, relative paths taken
    from the list's folder); anything else is taken as a video, even if it does not exist (it
    then fails in the batch with the reason).
    """
    found: dict[str, Path] = {}
    for item in inputs:
        for path in _expand(Path(item)):
            found.setdefault(os.path.abspath(path), path)
    return list(found.values())


def _expand(path: Path) -> Generator[Path, None, None]:
    if path.is_dir():
        for root, folders, files in os.walk(path):
            folders[:] = sorted(f for f in folders if not f.startswith("."))
            yield from (Path(root) / f for f in sorted(files) if Path(f).suffix.lower() in VIDEO_EXTENSIONS)
    elif path.suffix.lower() in LIST_EXTENSIONS and path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            cause = "not a UTF-8 text file" if isinstance(exc, UnicodeDecodeError) else exc.strerror
            raise ConfigError(f"{path}: cannot read the list of videos ({cause})") from None
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                yield path.parent / Path(line).expanduser()
    else:
        yield path


@dataclass(frozen=True)
class VideoTask:
    """One video of a batch: where it is, where it goes, how.

    ``threads`` caps the decoder and kernel threads of the worker that runs it.
    """

    path: str
    video_id: str
    out_dir: str
    config: JobConfig
    config_hash: str
    force: bool = False
    threads: int = 1


def process_video(task: VideoTask, report: Callable[[float], None] | None = None,
                  *, analysis=None) -> dict[str, Any]:
    """Run one video of a batch; the function both executors run. Never raises for a bad video.

    Parameters
    ----------
    task : VideoTask
    report : callable, optional
        Called with the video's duration in seconds before the work starts (the local executor
        scales the video's time limit with it).
    analysis : Analysis, optional
        A ready analysis (from a segment-parallel pass), instead of analysing here.

    Returns
    -------
    dict
        The status line: ``video``, ``id``, ``status`` (``"ok"``, ``"skipped"`` or
        ``"failed"``), ``frames`` written, ``seconds`` taken, and ``manifest`` or ``reason``.
    """
    started = time.perf_counter()
    line: dict[str, Any] = {"video": task.path, "id": task.video_id}
    try:
        manifest, status = (None if task.force else _up_to_date(task)), "skipped"
        if manifest is None:
            from .pipeline import sample

            if report is not None:
                from .probe import probe

                report(probe(task.path, keyframes=False).duration_s)
            path = sample(task.path, out_dir=task.out_dir, config=task.config, video_id=task.video_id,
                          analysis=analysis, threads=task.threads, progress=False)
            manifest, status = json.loads(path.read_text()), "ok"
    except Exception as exc:  # noqa: BLE001 - one bad video must not end the batch
        return {**line, "status": "failed", "frames": 0, "seconds": _since(started), "reason": _failure_reason(exc)}
    return {**line, "status": status, "frames": len(manifest["frames"]), "seconds": _since(started),
            "manifest": str(Path(task.out_dir) / task.video_id / MANIFEST_NAME)}


def _failure_reason(exc: BaseException) -> str:
    """One line saying why a video failed."""
    if isinstance(exc, VideoError):
        return exc.cause
    text = " ".join(str(exc).split())
    return text if isinstance(exc, FramepickError) else f"{type(exc).__name__}: {text}"


def _up_to_date(task: VideoTask) -> dict[str, Any] | None:
    """The manifest of a finished extraction of this video with this config, if there is one."""
    manifest = finished_manifest(task.out_dir, task.video_id)
    if manifest is None or manifest.get("config_hash") != task.config_hash:
        return None
    video = manifest.get("video", {})
    if video.get("path") != str(Path(task.path).resolve()) or video.get("content_id") != content_id(task.path):
        return None  # another file, or this one replaced since: redone
    return manifest


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 3)


@dataclass(frozen=True)
class BatchSummary:
    """How a batch went.

    Attributes
    ----------
    results : tuple of dict
        The status line of every video that finished, in the order they finished.
    interrupted : bool
        The batch was stopped (Ctrl-C) before every video was done.
    elapsed_s : float
        Wall-clock seconds.
    status_path : Path
        The ``batch.jsonl`` file.
    videos : int
        Videos in the batch (finished or not).
    counts : dict
        Number of videos ``"ok"``, ``"skipped"`` and ``"failed"``.
    """

    results: tuple[dict[str, Any], ...]
    interrupted: bool
    elapsed_s: float
    status_path: Path
    videos: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> list[dict[str, Any]]:
        """Status lines of the videos that failed."""
        return [r for r in self.results if r["status"] == "failed"]

    @property
    def exit_status(self) -> int:
        """0 if every video is ok or skipped, 1 if any failed, 130 if interrupted."""
        return 130 if self.interrupted else (1 if self.failed else 0)

    def to_dict(self) -> dict[str, Any]:
        """The ``summary`` line of ``batch.jsonl``."""
        return {"videos": self.videos, **self.counts, "interrupted": self.interrupted,
                "seconds": round(self.elapsed_s, 3), "frames": sum(r.get("frames", 0) for r in self.results)}

    def __str__(self) -> str:
        counts = ", ".join(f"{n} {status}" for status, n in self.counts.items())
        stopped = " (interrupted)" if self.interrupted else ""
        return (f"{self.videos} videos: {counts} in {self.elapsed_s:.1f} s{stopped}; "
                f"status lines in {self.status_path}")


def run_batch(
    inputs: Iterable[str | os.PathLike],
    *,
    out_dir: str | os.PathLike,
    config: JobConfig | None = None,
    workers: int | None = None,
    threads: int | None = None,
    executor: str = "local",
    force: bool = False,
    progress: bool | None = None,
    on_event: Callable[[str, dict[str, Any]], None] | None = None,
    ray_address: str | None = None,
    segment_s: float | None = None,
) -> BatchSummary:
    """Turn every video of ``inputs`` into frames under ``out_dir``.

    Parameters
    ----------
    inputs : iterable of str or os.PathLike
        Video files, folders and lists of paths (see :func:`find_videos`).
    out_dir : str or os.PathLike
        Output folder: ``out_dir/<video_id>/`` per video, and ``out_dir/batch.jsonl``.
    config : JobConfig, optional
        Strategy, analysis, output and time limits; default: uniform with Qwen's frame count.
    workers : int, optional
        Videos processed at once; default: one per usable core of this machine. Each worker
        decodes with ``threads`` threads.
    threads : int, optional
        Decoder and kernel threads per worker; default ``cores // workers`` (at least 1), so that
        the workers together use every core once.
    executor : {"local", "ray"}
        Where the videos are processed (see the module docstring).
    force : bool
        Redo videos whose output is already up to date.
    progress : bool, optional
        Progress bar over videos on stderr; default: when stderr is a terminal.
    on_event : callable (kind, data), optional
        Called in this process with ``("start", {"task", "worker_pid"})`` when a video is
        handed to a worker and ``("done", status line)`` when it is over.
    ray_address : str, optional
        Ray cluster to join (``ray.init(address=...)``); default: a local Ray instance.
    segment_s : float, optional
        Ray only: analyse videos longer than this many seconds in segments of about this length
        on several workers (:mod:`framepick.segments`; the result equals a single pass).

    Returns
    -------
    BatchSummary
        What happened; ``exit_status`` is non-zero if any video failed or the batch was
        interrupted. Ctrl-C is caught: the summary says ``interrupted``.

    Raises
    ------
    ConfigError
        Unknown executor, bad worker count, or no inputs.

    Notes
    -----
    Worker processes are started with ``spawn``, which imports the calling script again: in a
    script, call this under ``if __name__ == "__main__":`` (notebooks need nothing).
    """
    started = time.perf_counter()
    config = config or JobConfig()
    if executor not in EXECUTORS:
        raise ConfigError(f"unknown executor {executor!r}; choose one of {EXECUTORS}")
    if executor == "ray" and importlib.util.find_spec("ray") is None:
        raise ConfigError("executor 'ray' needs Ray: pip install -e \".[ray]\"")
    for name, value in (("workers", workers), ("threads", threads)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
    paths = find_videos(inputs)
    if not paths:
        raise ConfigError("no videos found in the inputs")
    out_dir = prepare(out_dir)
    workers = min(workers or usable_cores(), len(paths))
    threads = threads or max(1, usable_cores() // workers)
    digest = config_hash(config)
    tasks = [VideoTask(path=str(p), video_id=i, out_dir=str(out_dir), config=config, config_hash=digest,
                       force=force, threads=threads) for p, i in zip(paths, video_ids(paths))]
    status_path = out_dir / STATUS_FILE
    results: list[dict[str, Any]] = []
    interrupted = False
    from tqdm.auto import tqdm

    show = sys.stderr.isatty() if progress is None else progress
    with (locked(out_dir), _status_file(status_path) as status,
          tqdm(total=len(tasks), unit="video", file=sys.stderr, dynamic_ncols=True, disable=not show) as bar):
        clean_staging(out_dir)  # what an earlier, killed run left
        _write_line(status, {"batch": {"started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                       "videos": len(tasks), "config_hash": digest, "executor": executor,
                                       "workers": workers, "config": config.to_dict()}})
        run = _run_ray if executor == "ray" else _run_local
        lines = run(tasks, workers=workers, on_event=on_event, ray_address=ray_address, segment_s=segment_s)
        try:
            for line in lines:
                results.append(line)
                _write_line(status, line)
                bar.set_postfix_str(f"{line['status']} {line['id']}", refresh=False)
                bar.update()
                if on_event is not None:
                    on_event("done", line)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            lines.close()  # stops the workers
            clean_staging(out_dir)  # what a killed worker left behind
        counts = {s: sum(r["status"] == s for r in results) for s in ("ok", "skipped", "failed")}
        summary = BatchSummary(results=tuple(results), interrupted=interrupted, videos=len(tasks),
                               counts=counts, elapsed_s=time.perf_counter() - started, status_path=status_path)
        _write_line(status, {"summary": summary.to_dict()})
    return summary


def _status_file(path: Path):
    """``path`` opened for appending status lines; a link planted there is removed, not followed."""
    if path.is_symlink():
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    return os.fdopen(fd, "a", encoding="utf-8")


def _write_line(handle, data: dict[str, Any]) -> None:
    handle.write(json.dumps(data) + "\n")
    handle.flush()


def _run_local(tasks: list[VideoTask], *, workers: int, on_event, ray_address,
               segment_s) -> Generator[dict, None, None]:
    """Status lines of ``tasks`` processed by local worker processes."""
    from ._pool import imap_unordered

    if ray_address is not None or segment_s is not None:
        raise ConfigError("ray_address and segment_s need executor='ray'")
    _warm_kernels()
    threads = str(tasks[0].threads)
    env = {name: threads for name in THREAD_ENV}
    on_start = None if on_event is None else (
        lambda task, pid: on_event("start", {"task": task, "worker_pid": pid}))
    outcomes = imap_unordered(process_video, tasks, workers=workers, env=env, initializer=_warm_worker,
                              on_start=on_start, limit_s=_limit_s)
    with closing(outcomes):
        for outcome in outcomes:
            if outcome.failure is None:
                yield outcome.result
            else:
                yield _failed(outcome.task, outcome.failure, outcome.elapsed_s)


def _limit_s(task: VideoTask, duration_s: float | None) -> float:
    return task.config.timeout_for(duration_s or 0.0)


def _failed(task: VideoTask, reason: str, elapsed_s: float) -> dict[str, Any]:
    """The status line of a video whose worker was killed or died."""
    clean_staging(task.out_dir)  # the killed worker's half-written extraction
    return {"video": task.path, "id": task.video_id, "status": "failed", "frames": 0,
            "seconds": round(elapsed_s, 3), "reason": reason}


def _warm_worker() -> None:
    """Run once in every worker: import what a video needs and load the compiled kernels."""
    from . import pipeline, probe  # noqa: F401
    from .scenes import make_detector

    make_detector("adaptive")
    _warm_kernels()


def _warm_kernels() -> None:
    """Compile (or load from Numba's cache) the scoring kernels once, before the workers start,
    so that they do not all compile at the same time."""
    import numpy as np

    from .score import ChangeScorer

    ChangeScorer().update(np.zeros((2, 16, 16, 3), np.uint8))


def _run_ray(tasks: list[VideoTask], *, workers: int, on_event, ray_address, segment_s) -> Generator[dict, None, None]:
    from ._ray import run_ray

    return run_ray(tasks, workers=workers, on_event=on_event, address=ray_address, segment_s=segment_s,
                   failed=_failed)
