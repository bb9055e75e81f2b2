"""The batch job: a folder of long videos in, a frame set out, resumable and hang-proof.

>>> summary = run_batch(["videos/"], out_dir="frames", config=load_config("strategy.toml"))  # doctest: +SKIP

Every video goes through one task function, :func:`process_video` (analyse, select, extract; see
:mod:`framepick.pipeline`), on one of two executors behind one interface (:mod:`.run`):

- ``"local"`` (:mod:`.local`): worker processes on this machine (``spawn``), each with its own
  decoder and ``cores // workers`` threads. A video that outlives its wall-clock limit
  (:meth:`JobConfig.timeout_for` its duration) has its worker killed and replaced; so has a
  worker that crashes (:mod:`._pool`).
- ``"ray"`` (:mod:`.cluster`): the same function as Ray tasks, for several machines
  (``pip install framepick[ray]``).

A video whose folder holds a complete manifest with the same config hash and content id is
skipped (``force`` redoes it). ``OUT/batch.jsonl`` receives one status line per video as it
finishes (:func:`.task.status_line`: ``ok``, ``skipped`` or ``failed`` with the reason), between a
``batch`` line and a ``summary`` line. A Ctrl-C or SIGTERM stops the batch cleanly: finished
videos stay, unfinished ones leave nothing behind.
"""

from ..outdir import STATUS_FILE, video_ids
from .run import EXECUTORS, VIDEO_EXTENSIONS, BatchSummary, find_videos, run_batch
from .task import VideoTask, process_video

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
