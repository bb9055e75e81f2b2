"""Running a batch: find the videos, hand them to an executor, record each outcome.

An executor is a module of this package with one function ``run(tasks, *, workers, on_event,
address, segment_s)`` that yields a status line (:func:`.task.status_line`) per video as it
finishes: :mod:`.local` (worker processes) or :mod:`.cluster` (Ray). Both run
:func:`.task.process_video`.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..checks import shown, usable_cores
from ..config import JobConfig, config_hash
from ..errors import ArgumentError, ConfigError
from ..outdir import STATUS_FILE, clean_staging, locked, prepare, video_ids
from .task import VideoTask, counted

__all__ = ["EXECUTORS", "VIDEO_EXTENSIONS", "BatchSummary", "find_videos", "run_batch"]

_EXECUTOR_MODULES = {"local": "local", "ray": "cluster"}  # executor name -> module of this package
EXECUTORS = tuple(_EXECUTOR_MODULES)
VIDEO_EXTENSIONS = frozenset({
    ".3gp", ".asf", ".avi", ".divx", ".dv", ".f4v", ".flv", ".m2ts", ".m2v", ".m4v", ".mk3d", ".mkv", ".mov",
    ".mp4", ".mpeg", ".mpg", ".mts", ".mxf", ".nut", ".ogg", ".ogv", ".ts", ".vob", ".webm", ".wmv", ".y4m",
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
    return [path for path, _ in _named_videos(inputs)]


def _named_videos(inputs: Iterable[str | os.PathLike]) -> list[tuple[Path, str | None]]:
    """:func:`find_videos`, each video with ``"<list file>:<line>"`` if a list named it first."""
    found: dict[str, tuple[Path, str | None]] = {}
    for item in inputs:
        for path, listed_at in _expand(Path(item)):
            found.setdefault(os.path.abspath(path), (path, listed_at))
    return list(found.values())


def _expand(path: Path) -> Generator[tuple[Path, str | None], None, None]:
    if path.is_dir():
        for root, folders, files in os.walk(path):
            folders[:] = sorted(f for f in folders if not f.startswith("."))
            yield from ((Path(root) / f, None) for f in sorted(files)
                        if Path(f).suffix.lower() in VIDEO_EXTENSIONS)
    elif path.suffix.lower() in LIST_EXTENSIONS and path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            cause = "not a UTF-8 text file" if isinstance(exc, UnicodeDecodeError) else exc.strerror
            raise ConfigError(f"{path}: cannot read the list of videos ({cause})") from None
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.split("#", 1)[0].strip()
            if line:
                yield path.parent / Path(line).expanduser(), f"{path}:{number}"
    else:
        yield path, None


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
        return (f"{counted(self.videos, 'video')}: {counts} in {self.elapsed_s:.1f} s{stopped}; "
                f"status lines in {self.status_path}")


def run_batch(
    inputs: Iterable[str | os.PathLike] | str | os.PathLike,
    *,
    out_dir: str | os.PathLike,
    config: JobConfig | None = None,
    workers: int | None = None,
    threads: int | None = None,
    executor: str = "local",
    force: bool = False,
    cache: bool = True,
    progress: bool | None = None,
    on_event: Callable[[str, dict[str, Any]], None] | None = None,
    ray_address: str | None = None,
    segment_s: float | None = None,
) -> BatchSummary:
    """Turn every video of ``inputs`` into frames under ``out_dir``.

    Parameters
    ----------
    inputs : iterable of str or os.PathLike, or one str or os.PathLike
        Video files, folders and lists of paths (see :func:`find_videos`). A single path is one
        input (``run_batch("videos/", ...)`` is ``run_batch(["videos/"], ...)``), never a
        sequence of one-character paths.
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
    cache : bool
        Read and write the analysis cache.
    progress : bool, optional
        Progress bar over videos on stderr; default: when stderr is a terminal.
    on_event : callable (kind, data), optional
        Called in this process with ``("start", {"task", "worker_pid"})`` when a video is
        handed to a worker and ``("done", status line)`` when it is over.
    ray_address : str, optional
        Ray cluster to join (``ray.init(address=...)``); default: a local Ray instance.
    segment_s : float, optional
        Ray only: analyse videos longer than this many seconds in segments of about this length
        on several workers (:mod:`framepick.segments`; the result equals a single pass). Only
        every-frame analyses are split (``reference_only=False``); the others run whole.

    Returns
    -------
    BatchSummary
        What happened; ``exit_status`` is non-zero if any video failed or the batch was
        interrupted. Ctrl-C is caught: the summary says ``interrupted``.

    Raises
    ------
    ConfigError
        Unknown executor, bad worker count, or no inputs.
    ArgumentError
        ``inputs`` is neither a path nor an iterable of paths.

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
    named = _named_videos(_input_paths(inputs))
    if not named:
        raise ConfigError("no videos found in the inputs")
    out_dir = prepare(out_dir)
    paths = [path for path, _ in named]
    workers = min(workers or usable_cores(), len(paths))
    threads = threads or max(1, usable_cores() // workers)
    digest = config_hash(config)
    tasks = [VideoTask(path=str(p), video_id=i, out_dir=str(out_dir), config=config, config_hash=digest,
                       force=force, threads=threads, cache=cache, listed_at=listed_at)
             for (p, listed_at), i in zip(named, video_ids(paths))]
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
        run = importlib.import_module(f".{_EXECUTOR_MODULES[executor]}", __package__).run
        lines = run(tasks, workers=workers, on_event=on_event, address=ray_address, segment_s=segment_s)
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


def _input_paths(inputs: Any) -> list[str | os.PathLike]:
    """``inputs`` as a list of paths: one path alone, or each of an iterable of paths."""
    if isinstance(inputs, (str, os.PathLike)):
        return [inputs]
    if not isinstance(inputs, Iterable):
        raise ArgumentError(f"inputs must be a path (str or os.PathLike) or a list of paths, got {shown(inputs)}")
    items = list(inputs)
    for number, item in enumerate(items):
        if not isinstance(item, (str, os.PathLike)):
            raise ArgumentError(f"inputs[{number}] must be a path (str or os.PathLike), got {shown(item)}")
    return items


def _status_file(path: Path):
    """``path`` opened for appending status lines; a link planted there is removed, not followed."""
    if path.is_symlink():
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    return os.fdopen(fd, "a", encoding="utf-8")


def _write_line(handle, data: dict[str, Any]) -> None:
    handle.write(json.dumps(data) + "\n")
    handle.flush()
