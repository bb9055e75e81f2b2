"""The Ray executor of the batch job: the same per-video function as Ray tasks.

Each video runs as a short chain of tasks, each with its own wall-clock limit:

1. ``probe``: the video's duration (limit ``timeout_s``), which scales the limits that follow;
2. for a video longer than ``segment_s`` whose analysis can be split (every frame decoded,
   ``--every-frame``; :func:`framepick.segments.splittable`): ``plan`` its segments,
   ``analyze_segment`` each of them (in parallel, limit per segment), then ``merge``
   (:mod:`framepick.segments`; a video whose segments do not join up exactly is analysed in one
   pass instead);
3. ``process_video`` (:func:`.task.process_video`, limit for the whole duration).

The status line of a video analysed in segments says how many (``"segments"``).

At most ``workers`` tasks are in flight, so a task's clock starts when it can run. A task past
its limit is cancelled with ``force=True``, which kills the Ray worker process running it; Ray
starts another. Ray must be installed (``pip install framepick[ray]``).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

from ..checks import THREAD_ENV
from ..errors import FramepickError
from ..segments import splittable
from ..select import TIMING_ONLY
from .task import VideoTask, process_video, warm_worker, worker_lost

__all__ = ["run"]


def _duration(path: str) -> float | None:
    """The video's duration in seconds, or None if it cannot be probed (the video task will say
    why)."""
    from ..probe import probe

    try:
        return probe(path, keyframes=False).duration_s
    except Exception:  # noqa: BLE001 - reported by process_video
        return None


def _plan(path: str, config, segment_s: float):
    from ..segments import plan_segments

    return plan_segments(path, config, segment_s=segment_s)


def _merge(path: str, config, *parts):
    from ..segments import merge_segments

    return merge_segments(path, config, parts)


def _video(task: VideoTask, analysis=None) -> dict[str, Any]:
    return process_video(task, analysis=analysis)


@dataclass
class _Video:
    """Where one video is in its chain of tasks."""

    task: Any
    started: float = 0.0
    duration_s: float = 0.0
    segments: list = field(default_factory=list)
    part_refs: dict = field(default_factory=dict)


@dataclass
class _Flight:
    ref: Any
    video: _Video
    stage: str
    deadline: float
    started: float
    number: int = -1


def run(tasks: list[VideoTask], *, workers: int, on_event: Callable[[str, dict[str, Any]], None] | None,
        address: str | None, segment_s: float | None) -> Generator[dict[str, Any], None, None]:
    """Status lines of ``tasks`` as they finish, processed as Ray tasks (see the module docstring)."""
    import ray

    threads = tasks[0].threads if tasks else 1
    started_here = not ray.is_initialized()
    if started_here:  # the thread caps go to every worker of this job
        env = {name: str(threads) for name in THREAD_ENV}
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False,
                     runtime_env={"env_vars": env})
        except Exception as exc:
            ray.shutdown()  # what did start
            raise FramepickError(f"Ray did not start: {' '.join(str(exc).split())}") from exc
    runner = _Runner(ray, tasks, workers=workers, on_event=on_event, segment_s=segment_s)
    try:
        # start the workers and load framepick in them before any video's clock runs
        ray.get([ray.remote(warm_worker).options(num_cpus=threads, max_retries=0).remote() for _ in range(workers)])
        yield from runner.run()
    finally:
        runner.cancel_all()
        if started_here:
            ray.shutdown()


class _Runner:
    def __init__(self, ray, tasks: list[VideoTask], *, workers: int, on_event, segment_s: float | None) -> None:
        self.ray = ray
        self.workers = workers
        self.on_event = on_event
        self.segment_s = segment_s
        self.queue: deque = deque((_Video(task), "probe", -1) for task in tasks)
        self.flights: list[_Flight] = []
        options = {"num_cpus": tasks[0].threads if tasks else 1, "max_retries": 0}
        self.remote = {
            "probe": ray.remote(_duration).options(num_cpus=1, max_retries=0),
            "plan": ray.remote(_plan).options(num_cpus=1, max_retries=0),
            "segment": ray.remote(_analyze_segment).options(**options),
            "merge": ray.remote(_merge).options(num_cpus=1, max_retries=0),
            "video": ray.remote(_video).options(**options),
        }

    def run(self) -> Generator[dict, None, None]:
        while self.queue or self.flights:
            while self.queue and len(self.flights) < self.workers:
                self._submit(*self.queue.popleft())
            now = time.monotonic()
            timeout = max(0.0, min(f.deadline for f in self.flights) - now)
            ready, _ = self.ray.wait([f.ref for f in self.flights], num_returns=1, timeout=timeout)
            for flight in list(self.flights):
                if flight.ref in ready:
                    self.flights.remove(flight)
                    yield from self._finished(flight)
                elif time.monotonic() >= flight.deadline:
                    self.flights.remove(flight)
                    self.ray.cancel(flight.ref, force=True)
                    limit = flight.deadline - flight.started
                    yield from self._abandon(flight.video, f"timed out after {limit:.0f} s in {flight.stage} "
                                                           "(worker killed)")

    def _submit(self, video: _Video, stage: str, number: int, analysis=None) -> None:
        task, config = video.task, video.task.config
        path = task.path
        if stage == "probe":
            ref, limit = self.remote["probe"].remote(path), config.timeout_for(0.0)
            video.started = time.monotonic()
            if self.on_event is not None:
                self.on_event("start", {"task": task, "worker_pid": None})
        elif stage == "plan":
            ref, limit = self.remote["plan"].remote(path, config.analysis, self.segment_s), config.timeout_for(0.0)
        elif stage == "segment":
            segment = video.segments[number]
            ref = self.remote["segment"].remote(path, config.analysis, segment)
            limit = config.timeout_for(self.segment_s)
        elif stage == "merge":
            parts = [video.part_refs[n] for n in range(len(video.segments))]
            ref, limit = self.remote["merge"].remote(path, config.analysis, *parts), config.timeout_for(0.0)
        else:
            ref, limit = self.remote["video"].remote(task, analysis), config.timeout_for(video.duration_s)
        now = time.monotonic()
        self.flights.append(_Flight(ref=ref, video=video, stage=stage, deadline=now + limit, started=now,
                                    number=number))

    def _finished(self, flight: _Flight) -> Generator[dict, None, None]:
        video, stage = flight.video, flight.stage
        try:
            value = self.ray.get(flight.ref)
        except Exception as exc:  # noqa: BLE001 - a crashed worker or an error inside the task
            if stage in ("plan", "segment", "merge") and _is_task_error(self.ray, exc):
                self._single_pass(video)  # segments do not join up, or cannot be made: one pass
                return
            yield from self._abandon(video, _crash_reason(self.ray, exc, stage))
            return
        if stage == "probe":
            video.duration_s = value or 0.0
            config = video.task.config
            split = (self.segment_s is not None and value is not None and value > self.segment_s
                     and config.strategy not in TIMING_ONLY  # uniform and fps analyse nothing
                     and splittable(config.analysis))
            self.queue.appendleft((video, "plan", -1) if split else (video, "video", -1))
        elif stage == "plan":
            video.segments = value
            self.queue.extendleft((video, "segment", n) for n in reversed(range(len(value))))
        elif stage == "segment":
            video.part_refs[flight.number] = flight.ref
            if len(video.part_refs) == len(video.segments):
                self.queue.appendleft((video, "merge", -1))
        elif stage == "merge":
            self._submit(video, "video", -1, analysis=flight.ref)
        else:
            yield {**value, "segments": len(video.part_refs)} if video.part_refs else value

    def _single_pass(self, video: _Video) -> None:
        """Give up on segments for ``video``: cancel its other segment tasks, run it whole."""
        for flight in [f for f in self.flights if f.video is video]:
            self.flights.remove(flight)
            self.ray.cancel(flight.ref, force=True)
        self.queue = deque(item for item in self.queue if item[0] is not video)
        video.part_refs.clear()
        self.queue.appendleft((video, "video", -1))

    def _abandon(self, video: _Video, reason: str) -> Generator[dict, None, None]:
        """``video`` failed: drop its other tasks and report it."""
        for flight in [f for f in self.flights if f.video is video]:
            self.flights.remove(flight)
            self.ray.cancel(flight.ref, force=True)
        self.queue = deque(item for item in self.queue if item[0] is not video)
        yield worker_lost(video.task, reason, time.monotonic() - video.started)

    def cancel_all(self) -> None:
        for flight in self.flights:
            self.ray.cancel(flight.ref, force=True)
        self.flights.clear()


def _analyze_segment(path, config, segment):
    from ..segments import analyze_segment

    return analyze_segment(path, config, segment)


def _is_task_error(ray, exc: Exception) -> bool:
    """The task raised (rather than its worker dying)."""
    return isinstance(exc, ray.exceptions.RayTaskError)


def _crash_reason(ray, exc: Exception, stage: str) -> str:
    if isinstance(exc, ray.exceptions.WorkerCrashedError):
        return f"worker died in {stage}"
    if isinstance(exc, ray.exceptions.RayTaskError):
        cause = exc.cause
        return f"{type(cause).__name__} in {stage}: {' '.join(str(cause).split())}"
    return f"{type(exc).__name__} in {stage}: {' '.join(str(exc).split())}"
