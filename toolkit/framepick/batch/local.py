"""The local executor of the batch job: worker processes on this machine (:mod:`._pool`).

Each worker is a ``spawn`` process with its own decoder and ``task.threads`` threads; a video
that outlives its wall-clock limit (:func:`.task.time_limit_s` of its duration) has its worker
killed and replaced, and so has a worker that crashes.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from contextlib import closing
from typing import Any

from ..checks import THREAD_ENV
from ..errors import ConfigError
from .task import VideoTask, process_video, time_limit_s, warm_kernels, warm_worker, worker_lost

__all__ = ["run"]


def run(tasks: list[VideoTask], *, workers: int, on_event: Callable[[str, dict[str, Any]], None] | None,
        address: str | None, segment_s: float | None) -> Generator[dict[str, Any], None, None]:
    """Status lines of ``tasks`` as they finish, processed by ``workers`` local processes."""
    from ._pool import imap_unordered

    if address is not None or segment_s is not None:
        raise ConfigError("ray_address and segment_s need executor='ray'")
    warm_kernels()
    threads = str(tasks[0].threads)
    env = {name: threads for name in THREAD_ENV}
    on_start = None if on_event is None else (
        lambda task, pid: on_event("start", {"task": task, "worker_pid": pid}))
    outcomes = imap_unordered(process_video, tasks, workers=workers, env=env, initializer=warm_worker,
                              on_start=on_start, limit_s=time_limit_s)
    with closing(outcomes):
        for outcome in outcomes:
            if outcome.failure is None:
                yield outcome.result
            else:
                yield worker_lost(outcome.task, outcome.failure, outcome.elapsed_s)
