"""One video of a batch: the task both executors run, and its status record.

:func:`process_video` analyses, selects and extracts one video (:func:`framepick.pipeline.sample`)
and never raises for a bad video; :func:`status_line` is the record of what became of a video,
written to ``batch.jsonl`` whether the task returned or its worker was killed.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import JobConfig
from ..errors import FramepickError, VideoError
from ..extract import MANIFEST_NAME, finished_manifest, output_id
from ..outdir import clean_staging
from ..probe import content_id

__all__ = ["VideoTask", "process_video", "status_line", "status_text", "counted", "worker_lost", "time_limit_s",
           "warm_worker", "warm_kernels"]


@dataclass(frozen=True)
class VideoTask:
    """One video of a batch: where it is, where it goes, how.

    ``threads`` caps the decoder and kernel threads of the worker that runs it; ``cache`` reads and
    writes the analysis cache; ``listed_at`` is ``"<list file>:<line>"`` for a video named by a
    line of a list of paths (None for one named directly or found in a folder).
    """

    path: str
    video_id: str
    out_dir: str
    config: JobConfig
    config_hash: str
    force: bool = False
    threads: int = 1
    cache: bool = True
    listed_at: str | None = None


def status_line(task: VideoTask, status: str, *, seconds: float, frames: int = 0,
                **fields: Any) -> dict[str, Any]:
    """The status record of one video: ``video``, ``id``, ``status`` (``"ok"``, ``"skipped"`` or
    ``"failed"``), ``frames`` written, ``seconds`` taken (wall clock, rounded to ms), then
    ``fields`` (``manifest`` or ``reason``; ``segments`` from the Ray executor), and ``listed_at``
    for a video named by a line of a list file."""
    listed = {} if task.listed_at is None else {"listed_at": task.listed_at}
    return {"video": task.path, "id": task.video_id, "status": status, "frames": frames,
            "seconds": round(seconds, 3), **fields, **listed}


def status_text(line: dict[str, Any]) -> str:
    """A :func:`status_line` for a person, e.g. ``"ok       talk: 32 frames (41.0 s)"``; a failed
    video named by a line of a list file is named by that line:
    ``"failed   videos.txt:3: talk.mp4: file not found (0.0 s)"``."""
    if line["status"] != "failed":
        what, detail = line["id"], counted(line["frames"], "frame")
    elif "listed_at" in line:
        what, detail = f"{line['listed_at']}: {line['video']}", line["reason"]
    else:
        what, detail = line["id"], line["reason"]
    return f"{line['status']:8} {what}: {detail} ({line['seconds']:.1f} s)"


def counted(number: int, noun: str) -> str:
    """``"1 video"``, ``"2 videos"``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


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
        The :func:`status_line`, with ``manifest`` (ok, skipped) or ``reason`` (failed). Its ``id``
        is the folder the video went to: ``task.video_id`` unless that folder holds another
        video's output (:func:`framepick.extract.output_id`).
    """
    started = time.perf_counter()
    try:
        task = dataclasses.replace(task, video_id=output_id(task.path, task.out_dir, preferred=task.video_id))
        manifest, status = (None if task.force else _up_to_date(task)), "skipped"
        if manifest is None:
            from ..pipeline import sample

            if report is not None:
                from ..probe import probe

                report(probe(task.path, keyframes=False).duration_s)
            path = sample(task.path, out_dir=task.out_dir, config=task.config, video_id=task.video_id,
                          analysis=analysis, cache=task.cache, threads=task.threads, progress=False)
            manifest, status = json.loads(path.read_text()), "ok"
    except Exception as exc:  # noqa: BLE001 - one bad video must not end the batch
        return status_line(task, "failed", seconds=time.perf_counter() - started, reason=_failure_reason(exc))
    return status_line(task, status, seconds=time.perf_counter() - started, frames=len(manifest["frames"]),
                       manifest=str(Path(task.out_dir) / task.video_id / MANIFEST_NAME))


def worker_lost(task: VideoTask, reason: str, elapsed_s: float) -> dict[str, Any]:
    """The status line of a video whose worker was killed (time limit) or died; what it left
    half written is removed."""
    clean_staging(task.out_dir)
    return status_line(task, "failed", seconds=elapsed_s, reason=reason)


def time_limit_s(task: VideoTask, duration_s: float | None) -> float:
    """Wall-clock seconds ``task`` may take, for a video of ``duration_s`` seconds (unknown: 0)."""
    return task.config.timeout_for(duration_s or 0.0)


def _failure_reason(exc: BaseException) -> str:
    """One line saying why a video failed."""
    if isinstance(exc, VideoError):
        return exc.cause
    text = " ".join(str(exc).split())
    return text if isinstance(exc, FramepickError) else f"{type(exc).__name__}: {text}"


def _up_to_date(task: VideoTask) -> dict[str, Any] | None:
    """The manifest of a finished extraction of this video with this config, if there is one and
    its images are intact (:func:`framepick.extract.finished_manifest`)."""
    manifest = finished_manifest(task.out_dir, task.video_id)
    if manifest is None or manifest.get("config_hash") != task.config_hash:
        return None
    video = manifest.get("video", {})
    if video.get("path") != str(Path(task.path).resolve()) or video.get("content_id") != content_id(task.path):
        return None  # another file, or this one replaced since: redone
    return manifest


def warm_worker() -> None:
    """Run once in every worker: import what a video needs and load the compiled kernels.

    tqdm is given a thread lock: its default one holds a named semaphore, created with the
    worker's first (hidden) progress bar, that a worker killed mid-video (time limit, Ctrl-C,
    SIGTERM) never releases, and multiprocessing's resource tracker then warns of "leaked
    semaphore objects" when the batch ends. A worker shows no progress bar: a thread lock will do.
    """
    import threading

    from tqdm import tqdm

    from .. import pipeline, probe  # noqa: F401
    from ..scenes import make_detector

    tqdm.set_lock(threading.RLock())

    make_detector("adaptive")
    warm_kernels()


def warm_kernels() -> None:
    """Compile (or load from Numba's cache) the scoring kernels once, before the workers start,
    so that they do not all compile at the same time."""
    import numpy as np

    from ..score import ChangeScorer

    ChangeScorer().update(np.zeros((2, 16, 16, 3), np.uint8))
