"""Process faults (issue 28): a batch worker killed in the middle of a video or between videos, and
a ``framepick sample`` killed while it writes; what each leaves behind and what the next run does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from framepick.batch import run_batch
from framepick.cli import main
from framepick.config import JobConfig
from framepick.outdir import RESERVED
from helpers import child_states, children, has_open, listing, state

# waits end as soon as what they wait for happens; the limit is only for a hang, far above what
# even a machine with load 20 on 2 cores needs
HANG_S = 600.0
POLL_S = 0.01


def reaped(pid: int) -> bool:
    """Whether ``pid``, once a child of this process, has been waited for: no zombie is left and it is
    no longer this process' child."""
    if state(pid) == "Z":
        return False
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def zombie_children() -> list[int]:
    """Children of this process that ended and were not waited for."""
    return [pid for pid, letter in child_states(os.getpid()).items() if letter == "Z"]


def poll(condition, what: str) -> None:
    """Wait until ``condition()`` holds (for :data:`HANG_S` at most)."""
    deadline = time.monotonic() + HANG_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not after {HANG_S:.0f} s")
        time.sleep(POLL_S)


class KillMidVideo:
    """An ``on_event`` for :func:`run_batch` that SIGKILLs the worker of video ``victim`` once it
    has the file open (in the middle of the video, not at the hand-over), from a thread, and
    records which pid it killed and whether that worker was reaped when the batch reported it."""

    def __init__(self, victim: Path) -> None:
        self.victim = victim
        self.pid: int | None = None
        self.reaped_at_report: bool | None = None
        self.zombies_at_end: list[int] | None = None
        self.thread: threading.Thread | None = None

    def __call__(self, kind: str, data: dict) -> None:
        if kind == "start" and data["task"].path == str(self.victim) and self.pid is None:
            self.pid = data["worker_pid"]
            self.thread = threading.Thread(target=self._kill, args=(self.pid,), daemon=True)
            self.thread.start()
        elif kind == "done" and data["video"] == str(self.victim):
            assert self.pid is not None
            self.reaped_at_report = reaped(self.pid)

    def _kill(self, pid: int) -> None:
        deadline = time.monotonic() + HANG_S
        while not has_open(pid, self.victim) and state(pid) not in (None, "Z") and time.monotonic() < deadline:
            time.sleep(POLL_S)
        os.kill(pid, signal.SIGKILL)

    def join(self) -> None:
        if self.thread is not None:
            self.thread.join(HANG_S)


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_a_worker_killed_mid_video_is_a_recorded_failure(slow_video, cut_video, bikes, tmp_path, workers):
    out = tmp_path / "out"
    config = JobConfig(strategy="adaptive", params={"frames": 4})
    killer = KillMidVideo(slow_video)
    try:
        summary = run_batch([slow_video, cut_video[0], bikes], out_dir=out, config=config, workers=workers,
                            progress=False, on_event=killer)
    finally:
        killer.join()
    lines = {line["id"]: line for line in summary.results}
    assert lines["slow"]["status"] == "failed" and lines["slow"]["frames"] == 0
    assert lines["slow"]["reason"] == "worker died (killed by SIGKILL)"
    assert lines["cuts"]["status"] == lines["bikes"]["status"] == "ok"  # the batch went on
    assert summary.exit_status == 1 and summary.counts == {"ok": 2, "skipped": 0, "failed": 1}
    assert killer.reaped_at_report is True  # waited for before its failure was reported
    assert killer.pid not in zombie_children()
    assert listing(out) == ["batch.jsonl", "bikes", "cuts"]  # nothing half written left behind


@pytest.mark.slow
def test_a_worker_killed_between_videos_costs_no_video(cut_video, bikes, rotated_video, tmp_path):
    """A worker that dies after finishing a video and before picking up the next (the OOM killer
    picks an idle process too) is reaped, and the next video goes to a fresh worker, not to a
    failure line."""
    pids: dict[str, int] = {}
    reaped_later: list[bool] = []

    def kill_when_idle(kind: str, data: dict) -> None:
        if kind == "start":
            pids[data["task"].video_id] = data["worker_pid"]
        elif data["id"] == "cuts":  # its worker is idle now, the next video not yet handed over
            os.kill(pids["cuts"], signal.SIGKILL)
            poll(lambda: state(pids["cuts"]) in ("Z", None), "the killed worker to end")
        else:
            reaped_later.append(reaped(pids["cuts"]))

    summary = run_batch([cut_video[0], bikes, rotated_video], out_dir=tmp_path / "out", workers=1,
                        config=JobConfig(params={"frames": 4}), progress=False, on_event=kill_when_idle)
    assert summary.counts == {"ok": 3, "skipped": 0, "failed": 0} and summary.exit_status == 0
    assert pids["bikes"] != pids["cuts"] and reaped_later == [True, True]
    assert pids["cuts"] not in zombie_children()


@pytest.mark.slow
def test_a_killed_batch_worker_on_the_command_line(own_session, slow_video, cut_video, tmp_path):
    """``framepick batch``: one line for the killed video, no traceback, the failure exit status."""
    out = tmp_path / "out"
    command = [sys.executable, "-m", "framepick.cli", "batch", "--out", str(out), "--workers", "1", "--strategy",
               "adaptive", "--frames", "4", "--timeout", "600", str(slow_video), str(cut_video[0])]
    with own_session(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        worker: list[int] = []

        def find_worker() -> bool:
            worker[:] = [pid for pid in children(process.pid) if has_open(pid, slow_video)]
            return bool(worker) or process.poll() is not None

        poll(find_worker, "a worker with the slow video open")
        assert worker, "the batch ended before its worker opened the slow video"
        os.kill(worker[0], signal.SIGKILL)
        stdout, stderr = (text.decode() for text in process.communicate(timeout=HANG_S))
    assert process.returncode == 1, stderr
    assert "failed   slow: worker died (killed by SIGKILL)" in stderr and "ok       cuts: 4 frames" in stderr
    assert "Traceback" not in stderr
    assert "2 videos: 1 ok, 0 skipped, 1 failed" in stdout
    assert listing(out) == ["batch.jsonl", "cuts"]


@pytest.mark.slow
def test_a_killed_sample_leaves_staging_that_the_next_run_removes(own_session, slow_video, cut_video, tmp_path):
    out = tmp_path / "out"
    folder = out / RESERVED / "staging"
    command = [sys.executable, "-m", "framepick.cli", "sample", str(slow_video), "--out", str(out),
               "--frames", "768"]  # many frames to write: a while in its staging folder
    with own_session(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as process:
        poll(lambda: (folder.is_dir() and any(folder.iterdir())) or process.poll() is not None,
             "sample to start writing")
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=HANG_S)
        assert process.returncode == -signal.SIGKILL, process.stderr.read().decode()
    stale = [p.name for p in folder.iterdir()]
    assert len(stale) == 1 and stale[0].startswith(f"slow.{process.pid}-")  # what kill -9 leaves
    assert main(["sample", str(cut_video[0]), "--out", str(out), "--frames", "2"]) == 0
    assert listing(out) == ["cuts"]  # listing checks that staging is empty
