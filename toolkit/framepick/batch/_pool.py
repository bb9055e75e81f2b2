"""A process pool that can kill one task: the local executor of the batch job.

``multiprocessing.Pool`` (and ``concurrent.futures``) cannot stop a single task: a worker stuck
in a decoder stays stuck, and terminating the pool kills every task. Here every worker is a
``spawn`` process of its own, fed one task at a time over a pipe, so the parent can kill exactly
the worker whose task outlived its wall-clock limit (or notice one that died) and start a fresh
one while the others carry on. This is ``Pool.imap_unordered`` with a deadline per task.

A task's clock starts when its worker picks it up (after the worker's start-up and
``initializer``), and its limit can be revised once the worker reports the video's duration
(``report(duration_s)``), so the limit scales with the video without the parent ever opening a
file that might hang it.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any

__all__ = ["Outcome", "imap_unordered"]

_STOP = None  # sent to a worker: no more tasks
_JOIN_S = 5.0  # how long an idle worker may take to exit before it is killed
_STARTUP_S = 120.0  # allowed on top of a task's limit for a new worker to start and pick it up


@dataclass(frozen=True)
class Outcome:
    """What became of one task.

    Attributes
    ----------
    task : object
        The task as submitted.
    result : object
        What ``work`` returned (None if it did not return).
    failure : str or None
        Why there is no result: the task timed out, its worker died, or ``work`` raised.
    worker_pid : int
        The worker process that ran it.
    elapsed_s : float
        Wall-clock seconds from start to outcome.
    """

    task: Any
    result: Any
    failure: str | None
    worker_pid: int
    elapsed_s: float


def imap_unordered(
    work: Callable[[Any, Callable[[float], None]], Any],
    tasks: Iterable[Any],
    *,
    workers: int,
    limit_s: Callable[[Any, float | None], float],
    env: dict[str, str] | None = None,
    initializer: Callable[[], None] | None = None,
    on_start: Callable[[Any, int], None] | None = None,
) -> Generator[Outcome, None, None]:
    """Run ``work(task, report)`` for every task in ``workers`` processes; yield outcomes as they come.

    Parameters
    ----------
    work : callable
        A module-level function (it is pickled by name). ``report(duration_s)`` tells the parent
        the length of the task's video, which revises its limit.
    tasks : iterable
        Picklable tasks.
    workers : int
        Number of worker processes.
    limit_s : callable (task, duration_s or None) -> float
        Wall-clock limit in seconds of a task, before and after its duration is reported.
    env : dict, optional
        Environment variables set in every worker before the first task (thread caps).
    initializer : callable, optional
        A module-level function every worker runs once before its first task (imports, warm-up),
        outside any task's time limit.
    on_start : callable (task, worker_pid), optional
        Called in the parent when a task is handed to a worker.

    Notes
    -----
    A worker that dies (killed by a signal, crashed) is waited for at once, so no zombie is left,
    and replaced. Its task fails (``"worker died (killed by SIGKILL)"``), unless the worker died
    between tasks, after its previous task and before it picked this one up: then the task is
    handed to a fresh worker. Closing the iterator (or an exception in the consumer, such as
    ``KeyboardInterrupt``) kills the busy workers, stops the idle ones and waits for all of them.
    Workers ignore SIGINT, so a Ctrl-C in a terminal reaches the parent only, which decides.
    """
    context = multiprocessing.get_context("spawn")
    pending = deque(tasks)
    idle: list[_Worker] = []
    busy: list[_Worker] = []
    try:
        while pending or busy:
            idle = [worker for worker in idle if worker.running()]  # reaps one that died while idle
            while pending and len(busy) < workers:
                worker = idle.pop() if idle else _Worker(context, work, env or {}, initializer)
                worker.start(pending.popleft(), limit_s)
                busy.append(worker)
                if on_start is not None:
                    on_start(worker.task, worker.pid)
            for worker, outcome in _next_outcomes(busy, idle, limit_s):
                busy.remove(worker)
                if worker.alive:
                    idle.append(worker)
                if worker.died_between_tasks:
                    pending.appendleft(worker.task)  # it never ran: not its failure; a fresh worker takes it
                else:
                    yield outcome
    finally:
        for worker in busy:
            worker.kill()
        for worker in idle:
            worker.stop()
        for worker in busy + idle:
            worker.join()


def _next_outcomes(busy: list[_Worker], idle: list[_Worker], limit_s) -> list[tuple[_Worker, Outcome]]:
    """Wait until some busy worker has news or passes its deadline, or an idle worker dies (the
    caller reaps it); return the busy workers that are finished, with their outcomes."""
    timeout = max(0.0, min(w.deadline for w in busy) - time.monotonic())
    ready = set(wait([w.connection for w in busy] + [w.sentinel for w in busy + idle], timeout))
    finished = []
    for worker in busy:
        outcome = None
        if worker.connection in ready or worker.sentinel in ready:
            outcome = worker.receive(limit_s)
        if outcome is None and time.monotonic() >= worker.deadline:
            outcome = worker.time_out()
        if outcome is not None:
            finished.append((worker, outcome))
    return finished


class _Worker:
    """One worker process and the task it runs."""

    def __init__(self, context, work, env: dict[str, str], initializer) -> None:
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, work, env, initializer), daemon=True)
        with _sigint_ignored():  # inherited through exec: the worker never sees a Ctrl-C
            self.process.start()
        child.close()
        self.pid = self.process.pid
        self.sentinel = self.process.sentinel
        self.task: Any = None
        self.started = self.deadline = 0.0
        self.alive = True
        self.picked = False  # the worker has picked up its current task
        self.served = 0  # tasks it has finished
        self.died_between_tasks = False  # it died after finishing a task, before picking up the next

    def start(self, task: Any, limit_s) -> None:
        """Hand ``task`` over; its clock starts when the worker picks it up."""
        self.task, self.started, self.picked = task, time.monotonic(), False
        self.deadline = self.started + limit_s(task, None) + _STARTUP_S
        try:
            self.connection.send(task)
        except OSError:
            pass  # it died since it was last seen: its sentinel says so, and receive() tells why

    def running(self) -> bool:
        """Whether the (idle) worker is still there; one that is gone is waited for (reaped)."""
        if self.process.is_alive():
            return True
        self.alive = False
        self.join()
        return False

    def receive(self, limit_s) -> Outcome | None:
        """Read the worker's messages; an outcome when the task is over."""
        try:
            while self.connection.poll():
                kind, value = self.connection.recv()
                if kind == "picked":
                    self.started, self.picked = time.monotonic(), True
                    self.deadline = self.started + limit_s(self.task, None)
                elif kind == "duration":
                    self.deadline = self.started + limit_s(self.task, value)
                elif kind == "done":
                    self.served += 1
                    return self._outcome(value, None)
                else:
                    self.served += 1
                    return self._outcome(None, f"worker error: {value}")
        except (EOFError, OSError):
            pass
        if self.process.is_alive():
            return None
        self.process.join()  # reaped: no zombie left
        self.alive = False
        self.died_between_tasks = not self.picked and self.served > 0
        return self._outcome(None, f"worker died ({_exit_cause(self.process.exitcode)})")

    def time_out(self) -> Outcome:
        limit = self.deadline - self.started
        self.kill()
        self.join()
        return self._outcome(None, f"timed out after {limit:.0f} s (worker killed)")

    def _outcome(self, result: Any, failure: str | None) -> Outcome:
        return Outcome(task=self.task, result=result, failure=failure, worker_pid=self.pid,
                       elapsed_s=time.monotonic() - self.started)

    def kill(self) -> None:
        self.alive = False
        if self.process.is_alive():
            self.process.kill()

    def stop(self) -> None:
        try:
            self.connection.send(_STOP)
        except OSError:
            self.kill()

    def join(self) -> None:
        self.process.join(_JOIN_S)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.connection.close()


@contextmanager
def _sigint_ignored() -> Generator[None, None, None]:
    """Ignore SIGINT in this process meanwhile (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _exit_cause(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit status {exitcode}"


def _die_with_parent() -> None:
    """End this worker when its parent ends, however it ends (even ``kill -9``): Linux's
    parent-death signal where there is one, else a thread watching the parent's pid."""
    parent = os.getppid()
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(1, signal.SIGKILL, 0, 0, 0) == 0:  # PR_SET_PDEATHSIG
            if os.getppid() != parent:  # the parent went before the signal was armed
                os._exit(1)
            return
    except (OSError, AttributeError):
        pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="framepick-parent-watch", daemon=True).start()


def _serve(connection, work, env: dict[str, str], initializer) -> None:
    """Worker main loop: run tasks until told to stop or the parent goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent()
    os.environ.update(env)
    if initializer is not None:
        initializer()

    def report(duration_s: float) -> None:
        connection.send(("duration", float(duration_s)))

    try:
        while True:
            try:
                task = connection.recv()
            except (EOFError, OSError):
                return
            if task is _STOP:
                return
            connection.send(("picked", None))
            try:
                message = ("done", work(task, report))
            except (BrokenPipeError, EOFError):
                raise
            except Exception as exc:  # noqa: BLE001 - a task's failure must not end the worker
                message = ("error", f"{type(exc).__name__}: {' '.join(str(exc).split())}")
            connection.send(message)
    except (BrokenPipeError, EOFError, ConnectionResetError):
        return  # the parent is gone: nobody to tell, nothing to print
