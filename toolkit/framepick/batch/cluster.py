"""The Ray executor of the batch job: the same per-video function as Ray tasks.

Each video runs as a short chain of stages, each one Ray task with its own wall-clock limit:

1. ``probe``: the video's duration (limit ``timeout_s``), which scales the limits that follow;
2. for a video longer than ``segment_s`` whose analysis can be split (every frame decoded,
   ``--every-frame``; :func:`framepick.segments.splittable`): ``plan`` its segments, analyse
   each ``segment`` (in parallel, limit per segment), then ``merge`` them
   (:mod:`framepick.segments`; a video whose segments do not join up exactly is analysed in one
   pass instead);
3. ``video``: :func:`.task.process_video` (limit for the whole duration).

Failure reasons name the stage (``"timed out after 8 s in video (worker killed)"``). The status
line of a video analysed in segments says how many (``"segments"``).

Each stage is one small object (:class:`_Stage`): what it submits, its limit, and what follows
its result or its failure. The runner only keeps the queue and the tasks in flight.

At most ``workers`` tasks are in flight, so a task's clock starts when it can run. A task past
its limit is cancelled with ``force=True``, which kills the Ray worker process running it; Ray
starts another. Ray must be installed (``pip install framepick[ray]``).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..checks import THREAD_ENV
from ..config import AnalysisConfig, JobConfig
from ..errors import FramepickError
from ..probe import probe
from ..segments import Segment, SegmentPart, analyze_segment, merge_segments, plan_segments, splittable
from ..select import TIMING_ONLY
from ..types import Analysis
from .task import VideoTask, process_video, warm_worker, worker_lost

__all__ = ["run"]

_StatusLine = dict[str, Any]


def run(tasks: list[VideoTask], *, workers: int, on_event: Callable[[str, dict[str, Any]], None] | None,
        address: str | None, segment_s: float | None) -> Generator[_StatusLine, None, None]:
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


# --------------------------------------------------------------------------- run in the workers


def _duration(path: str) -> float | None:
    """The video's duration in seconds, or None if it cannot be probed (the ``video`` stage will
    say why)."""
    try:
        return probe(path, keyframes=False).duration_s
    except Exception:  # noqa: BLE001 - reported by process_video
        return None


def _merge(path: str, config: AnalysisConfig, *parts: SegmentPart) -> Analysis:
    """:func:`framepick.segments.merge_segments`, the parts passed one by one: Ray resolves object
    refs given as arguments, not refs inside a list."""
    return merge_segments(path, config, parts)


# --------------------------------------------------------------------------- where a video is


@dataclass(eq=False)
class _Video:
    """One video's progress through its stages (compared by identity).

    ``started`` is the monotonic time its ``probe`` was submitted; ``part_refs`` maps a segment's
    number to the object ref of its analysed part.
    """

    task: VideoTask
    started: float = 0.0
    duration_s: float = 0.0
    segments: list[Segment] = field(default_factory=list)
    part_refs: dict[int, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Step:
    """One stage of one video: queued until a worker is free, then in flight."""

    video: _Video
    stage: _Stage


@dataclass(frozen=True, eq=False)
class _Flight:
    """A submitted step: its Ray object ref, when it started (monotonic clock) and its limit."""

    step: _Step
    ref: Any
    started: float
    limit_s: float

    @property
    def deadline(self) -> float:
        """Monotonic time past which the task is cancelled."""
        return self.started + self.limit_s

    def timeout_reason(self) -> str:
        """The failure reason of a video whose task ran past its limit."""
        return f"timed out after {self.limit_s:.0f} s in {self.step.stage.name} (worker killed)"


# --------------------------------------------------------------------------- the stages


class _Stage(ABC):
    """One stage of a video's chain: a Ray task with its own wall-clock limit.

    :meth:`submit` starts the task. When it ends, :meth:`on_result` or :meth:`on_failure` decides
    what follows (queue the next stages through the runner, or end the video) and returns the
    video's status line if the video is done, None if it goes on. ``name`` names the stage in
    failure reasons.
    """

    name: ClassVar[str]

    @abstractmethod
    def submit(self, runner: _Runner, video: _Video) -> Any:
        """Start this stage's task for ``video``; its object ref."""

    def limit_s(self, video: _Video) -> float:
        """Wall-clock seconds the task may take: the job's base limit (work that does not grow
        with the video's duration)."""
        return video.task.config.timeout_for(0.0)

    @abstractmethod
    def on_result(self, runner: _Runner, video: _Video, ref: Any, value: Any) -> _StatusLine | None:
        """Go on from the task's ``value`` (``ref`` is its object ref); the status line if ``video``
        is done."""

    def on_failure(self, runner: _Runner, video: _Video, exc: Exception) -> _StatusLine | None:
        """The task raised ``exc``, or its worker died: ``video`` fails."""
        return runner.abandon(video, _crash_reason(runner.ray, exc, self.name))


class _SegmentStage(_Stage):
    """A stage of the analysis in segments: an error raised by its task (segments that cannot be
    made, or do not join up) sends the video to a single pass instead of failing it."""

    def on_failure(self, runner: _Runner, video: _Video, exc: Exception) -> _StatusLine | None:
        if not isinstance(exc, runner.ray.exceptions.RayTaskError):  # the worker died
            return super().on_failure(runner, video, exc)
        runner.single_pass(video)
        return None


@dataclass(frozen=True)
class _Probe(_Stage):
    """The video's duration, which picks what follows; submitting it starts the video's clock and
    reports the video as started."""

    segment_s: float | None
    name: ClassVar[str] = "probe"

    def submit(self, runner: _Runner, video: _Video) -> Any:
        ref = runner.remote(_duration).remote(video.task.path)
        video.started = time.monotonic()
        runner.announce(video)
        return ref

    def on_result(self, runner: _Runner, video: _Video, ref: Any, value: float | None) -> _StatusLine | None:
        video.duration_s = value or 0.0
        runner.queue_next(video, [self._next(video.task.config, value)])
        return None

    def _next(self, config: JobConfig, duration_s: float | None) -> _Stage:
        """Segments for a video longer than ``segment_s`` whose analysis can be split, else the
        whole video."""
        segment_s = self.segment_s
        if (segment_s is not None and duration_s is not None and duration_s > segment_s
                and config.strategy not in TIMING_ONLY  # uniform and fps analyse nothing
                and splittable(config.analysis)):
            return _Plan(segment_s)
        return _Extract()


@dataclass(frozen=True)
class _Plan(_SegmentStage):
    """Split the video into segments of about ``segment_s`` seconds; queue their analyses, first
    segment first."""

    segment_s: float
    name: ClassVar[str] = "plan"

    def submit(self, runner: _Runner, video: _Video) -> Any:
        task = video.task
        return runner.remote(plan_segments).remote(task.path, task.config.analysis, segment_s=self.segment_s)

    def on_result(self, runner: _Runner, video: _Video, ref: Any, value: list[Segment]) -> _StatusLine | None:
        video.segments = value
        runner.queue_next(video, [_AnalyzeSegment(segment, self.segment_s) for segment in value])
        return None


@dataclass(frozen=True)
class _AnalyzeSegment(_SegmentStage):
    """Analyse one segment (limit for ``segment_s`` seconds of video); the last part in queues the
    merge."""

    segment: Segment
    segment_s: float
    name: ClassVar[str] = "segment"

    def submit(self, runner: _Runner, video: _Video) -> Any:
        task = video.task
        return runner.remote(analyze_segment, threaded=True).remote(task.path, task.config.analysis, self.segment)

    def limit_s(self, video: _Video) -> float:
        return video.task.config.timeout_for(self.segment_s)

    def on_result(self, runner: _Runner, video: _Video, ref: Any, value: SegmentPart) -> _StatusLine | None:
        video.part_refs[self.segment.number] = ref
        if len(video.part_refs) == len(video.segments):
            runner.queue_next(video, [_Merge()])
        return None


@dataclass(frozen=True)
class _Merge(_SegmentStage):
    """Join the segments' parts into the video's analysis; its ``video`` stage is submitted at once,
    in the worker slot the merge frees."""

    name: ClassVar[str] = "merge"

    def submit(self, runner: _Runner, video: _Video) -> Any:
        parts = [video.part_refs[number] for number in range(len(video.segments))]
        return runner.remote(_merge).remote(video.task.path, video.task.config.analysis, *parts)

    def on_result(self, runner: _Runner, video: _Video, ref: Any, value: Analysis) -> _StatusLine | None:
        runner.submit(_Step(video, _Extract(analysis=ref)))
        return None


@dataclass(frozen=True)
class _Extract(_Stage):
    """:func:`.task.process_video`, given the merged analysis (an object ref) if there is one;
    limit for the video's duration. Its status line ends the video, with the number of segments
    if it was analysed in segments."""

    analysis: Any = None
    name: ClassVar[str] = "video"

    def submit(self, runner: _Runner, video: _Video) -> Any:
        return runner.remote(process_video, threaded=True).remote(video.task, analysis=self.analysis)

    def limit_s(self, video: _Video) -> float:
        return video.task.config.timeout_for(video.duration_s)

    def on_result(self, runner: _Runner, video: _Video, ref: Any, value: _StatusLine) -> _StatusLine | None:
        return {**value, "segments": len(video.part_refs)} if video.part_refs else value


# --------------------------------------------------------------------------- the runner


class _Runner:
    """Keeps at most ``workers`` steps in flight, the front of the queue first, and settles each
    when its task ends or runs past its limit.

    The stages act through :meth:`remote`, :meth:`announce`, :meth:`queue_next`, :meth:`submit`,
    :meth:`single_pass` and :meth:`abandon`.
    """

    def __init__(self, ray: Any, tasks: list[VideoTask], *, workers: int,
                 on_event: Callable[[str, dict[str, Any]], None] | None, segment_s: float | None) -> None:
        self.ray = ray
        self.workers = workers
        self.on_event = on_event
        self.threads = tasks[0].threads if tasks else 1
        self.queue: deque[_Step] = deque(_Step(_Video(task), _Probe(segment_s)) for task in tasks)
        self.flights: list[_Flight] = []
        self._remotes: dict[tuple[Callable[..., Any], bool], Any] = {}

    def run(self) -> Generator[_StatusLine, None, None]:
        """Status lines of the videos as they finish."""
        while self.queue or self.flights:
            while self.queue and len(self.flights) < self.workers:
                self.submit(self.queue.popleft())
            ready = self._wait()
            for flight in list(self.flights):
                line = self._settle(flight, ready)
                if line is not None:
                    yield line

    def cancel_all(self) -> None:
        """Cancel every task in flight (killing its worker)."""
        for flight in list(self.flights):
            self._cancel(flight)

    def _wait(self) -> list[Any]:
        """Object refs of finished tasks: waits until one finishes or the earliest deadline."""
        timeout = max(0.0, min(flight.deadline for flight in self.flights) - time.monotonic())
        ready, _ = self.ray.wait([flight.ref for flight in self.flights], num_returns=1, timeout=timeout)
        return ready

    def _settle(self, flight: _Flight, ready: list[Any]) -> _StatusLine | None:
        """Go on from ``flight`` if its task is ``ready`` or past its deadline; the status line if
        its video is done."""
        if flight not in self.flights:  # dropped with its video while an earlier flight was settled
            return None
        if flight.ref in ready:
            self.flights.remove(flight)
            return self._finished(flight)
        if time.monotonic() >= flight.deadline:
            return self.abandon(flight.step.video, flight.timeout_reason())
        return None

    def _finished(self, flight: _Flight) -> _StatusLine | None:
        """Hand the ended task's value, or why it failed, to its stage."""
        video, stage = flight.step.video, flight.step.stage
        try:
            value = self.ray.get(flight.ref)
        except Exception as exc:  # noqa: BLE001 - a crashed worker or an error inside the task
            return stage.on_failure(self, video, exc)
        return stage.on_result(self, video, flight.ref, value)

    # ----------------------------------------------------------------------- what stages do

    def remote(self, function: Callable[..., Any], *, threaded: bool = False) -> Any:
        """``function`` as a Ray remote function, never retried, on one CPU or (``threaded``) on as
        many as a video task's threads."""
        key = (function, threaded)
        if key not in self._remotes:
            cpus = self.threads if threaded else 1
            self._remotes[key] = self.ray.remote(function).options(num_cpus=cpus, max_retries=0)
        return self._remotes[key]

    def announce(self, video: _Video) -> None:
        """Report ``video`` as started (``on_event("start", ...)``; Ray does not say which worker)."""
        if self.on_event is not None:
            self.on_event("start", {"task": video.task, "worker_pid": None})

    def queue_next(self, video: _Video, stages: list[_Stage]) -> None:
        """Queue ``stages`` of ``video``, in order, before every other step: a started video goes on
        before new ones start."""
        self.queue.extendleft(_Step(video, stage) for stage in reversed(stages))

    def submit(self, step: _Step) -> None:
        """Start ``step``'s task now (whether or not a worker is free) and its clock."""
        ref = step.stage.submit(self, step.video)
        limit_s = step.stage.limit_s(step.video)
        self.flights.append(_Flight(step, ref, started=time.monotonic(), limit_s=limit_s))

    def single_pass(self, video: _Video) -> None:
        """Give up on segments for ``video``: drop its other steps, queue it whole."""
        self._drop(video)
        video.part_refs.clear()
        self.queue_next(video, [_Extract()])

    def abandon(self, video: _Video, reason: str) -> _StatusLine:
        """``video`` failed for ``reason``: drop its other steps; its status line."""
        self._drop(video)
        return worker_lost(video.task, reason, time.monotonic() - video.started)

    def _drop(self, video: _Video) -> None:
        """Cancel ``video``'s tasks in flight and take its steps off the queue."""
        for flight in [flight for flight in self.flights if flight.step.video is video]:
            self._cancel(flight)
        self.queue = deque(step for step in self.queue if step.video is not video)

    def _cancel(self, flight: _Flight) -> None:
        """Forget ``flight`` and cancel its task, killing the worker running it."""
        self.flights.remove(flight)
        self.ray.cancel(flight.ref, force=True)


def _crash_reason(ray: Any, exc: Exception, stage: str) -> str:
    """Why a task of ``stage`` failed: its worker died, or the error it raised, on one line."""
    if isinstance(exc, ray.exceptions.WorkerCrashedError):
        return f"worker died in {stage}"
    if isinstance(exc, ray.exceptions.RayTaskError):
        cause = exc.cause
        return f"{type(cause).__name__} in {stage}: {' '.join(str(cause).split())}"
    return f"{type(exc).__name__} in {stage}: {' '.join(str(exc).split())}"
