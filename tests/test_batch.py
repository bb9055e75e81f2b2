"""The batch job: inputs, ids, status lines, bad videos, resuming, hangs, crashes and Ctrl-C."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from framepick.batch import STATUS_FILE, find_videos, run_batch, video_ids
from framepick.config import AnalysisConfig, JobConfig, config_hash, save_config
from framepick.errors import ConfigError
from helpers import HANG_S, batch_with_one_video_done, listing, live_processes_in_group
from videos import write_repeated

FOUR = JobConfig(params={"frames": 4})


def run(inputs, out, config=FOUR, **options):
    return run_batch(inputs, out_dir=out, config=config, progress=False, **options)


def status_lines(out):
    return [json.loads(line) for line in (out / STATUS_FILE).read_text().splitlines()]


def by_id(summary):
    return {line["id"]: line for line in summary.results}


def assert_gone(pid):
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def frames_in(out, video_id):
    return json.loads((out / video_id / "manifest.json").read_text())["frames"]


# --------------------------------------------------------------------------- inputs


def test_find_videos(tmp_path):
    folder = tmp_path / "videos"
    for name in ["b.mp4", "a.MKV", "sub/c.webm", ".hidden/d.mp4", "notes.txt", "cover.jpg"]:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"")
    listing = tmp_path / "list.txt"
    listing.write_text("# my videos\nvideos/b.mp4\n\n/elsewhere/e.mov  # absolute\nnot-yet.mp4\n")
    found = find_videos([folder, listing, tmp_path / "f.avi", folder / "a.MKV"])
    assert found == [folder / "a.MKV", folder / "b.mp4", folder / "sub" / "c.webm", Path("/elsewhere/e.mov"),
                     tmp_path / "not-yet.mp4", tmp_path / "f.avi"]


def test_video_ids_are_stems_made_unique():
    paths = ["x/clip.mp4", "y/clip.mp4", "z/other.mkv"]
    ids = video_ids(paths)
    digest = hashlib.sha1(os.path.abspath("x/clip.mp4").encode()).hexdigest()[:8]
    assert ids == [f"clip-{digest}", ids[1], "other"]
    assert ids[1].startswith("clip-") and ids[1] != ids[0]
    assert video_ids(paths[::-1]) == ids[::-1]  # not order-dependent


def test_refuses_bad_arguments(tmp_path):
    with pytest.raises(ConfigError, match="no videos"):
        run([tmp_path], tmp_path / "out")
    with pytest.raises(ConfigError, match="executor"):
        run(["a.mp4"], tmp_path / "out", executor="slurm")
    with pytest.raises(ConfigError, match="workers"):
        run(["a.mp4"], tmp_path / "out", workers=0)
    with pytest.raises(ConfigError, match="threads"):
        run(["a.mp4"], tmp_path / "out", threads=0)


# --------------------------------------------------------------------------- outcomes


@pytest.fixture(scope="module")
def mixed_batch(cut_video, bikes, bad_videos, tmp_path_factory):
    """One batch over two good videos and every kind of bad one, two workers."""
    out = tmp_path_factory.mktemp("batch") / "out"
    summary = run([cut_video[0], bikes, *bad_videos.values()], out, workers=2)
    return out, summary


BAD_REASONS = {  # the start of each kind's failure reason
    "missing": "file not found",
    "not a video": "not a readable video",
    "empty file": "not a readable video",
    "audio-only": "no video stream (has audio)",
    "truncated": "not a readable video (truncated",  # the mp4 index is cut off
    "truncated mkv": "truncated: data end at",
    "zero frames": "no video data: zero frames",
}


def test_bad_videos_become_failure_lines(mixed_batch, bad_videos, cut_video, bikes):
    out, summary = mixed_batch
    lines = {line["video"]: line for line in summary.results}
    assert set(bad_videos) == set(BAD_REASONS)
    for kind, path in bad_videos.items():
        line = lines[str(path)]
        assert line["status"] == "failed" and line["frames"] == 0, kind
        assert line["reason"].startswith(BAD_REASONS[kind]), (kind, line["reason"])
    assert lines[str(cut_video[0])]["status"] == lines[str(bikes)]["status"] == "ok"
    assert summary.exit_status == 1 and not summary.interrupted
    assert summary.counts == {"ok": 2, "skipped": 0, "failed": len(bad_videos)}


def test_outputs_and_status_file(mixed_batch):
    out, summary = mixed_batch
    assert listing(out) == ["batch.jsonl", "bikes", "cuts"]
    assert [f["index"] for f in frames_in(out, "cuts")] == [0, 41, 83, 124]
    lines = status_lines(out)
    videos = summary.videos
    assert lines[0]["batch"]["videos"] == videos and lines[0]["batch"]["config_hash"] == config_hash(FOUR)
    assert lines[1:-1] == list(summary.results)
    assert lines[-1] == {"summary": {"videos": videos, "ok": 2, "skipped": 0, "failed": videos - 2,
                                     "interrupted": False, "seconds": round(summary.elapsed_s, 3), "frames": 8}}
    ok = by_id(summary)["cuts"]
    assert ok["frames"] == 4 and ok["manifest"] == str(out / "cuts" / "manifest.json") and ok["seconds"] > 0


@pytest.mark.slow
def test_resume_skips_what_is_done(cut_video, bikes, bad_videos, tmp_path):
    out = tmp_path / "out"
    inputs = [cut_video[0], bikes, bad_videos["missing"]]
    run(inputs, out, workers=1)
    before = (out / "cuts" / "manifest.json").stat().st_mtime_ns
    again = run(inputs, out, workers=1)
    assert {i: line["status"] for i, line in by_id(again).items()} == {
        "cuts": "skipped", "bikes": "skipped", "missing": "failed"}
    assert by_id(again)["cuts"]["frames"] == 4 and again.exit_status == 1
    assert (out / "cuts" / "manifest.json").stat().st_mtime_ns == before
    forced = run(inputs[:2], out, workers=1, force=True)
    assert [line["status"] for line in forced.results] == ["ok", "ok"] and forced.exit_status == 0
    changed = run(inputs[:2], out, config=JobConfig(params={"frames": 6}), workers=1)
    assert [line["status"] for line in changed.results] == ["ok", "ok"]
    assert len(frames_in(out, "cuts")) == 6
    assert len([line for line in status_lines(out) if "summary" in line]) == 4  # appended, run after run


def test_same_stem_in_two_folders(cut_video, tmp_path):
    copies = []
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        copies.append(tmp_path / folder / "cuts.mp4")
        copies[-1].write_bytes(cut_video[0].read_bytes())
    summary = run([tmp_path / "a", tmp_path / "b"], tmp_path / "out", workers=2)
    ids = video_ids(copies)
    assert sorted(by_id(summary)) == sorted(ids) and ids[0] != ids[1]
    assert all(json.loads((tmp_path / "out" / i / "manifest.json").read_text())["video"]["path"] == str(p)
               for i, p in zip(ids, copies))


# --------------------------------------------------------------------------- hangs, crashes, Ctrl-C


@pytest.mark.slow
def test_a_video_past_its_time_limit_is_killed_and_the_batch_goes_on(slow_video, cut_video, bikes, tmp_path):
    pids = {}
    # 6 s for every video: the slow one's analysis needs about 13 s on an idle machine here (and
    # more on a busy one), the two others 0.1 and 0.2 s (in a worker that has framepick loaded)
    config = JobConfig(strategy="adaptive", params={"frames": 4}, timeout_s=6.0, timeout_ratio=0.0)
    summary = run([slow_video, cut_video[0], bikes], tmp_path / "out", config=config, workers=1,
                  on_event=lambda kind, data: kind == "start"
                  and pids.update({data["task"].video_id: data["worker_pid"]}))
    lines = by_id(summary)
    assert lines["slow"]["status"] == "failed"
    assert lines["slow"]["reason"] == "timed out after 6 s (worker killed)"
    assert lines["slow"]["seconds"] >= 6.0  # not before its limit (when after it depends on the load)
    assert lines["cuts"]["status"] == lines["bikes"]["status"] == "ok"
    assert pids["cuts"] == pids["bikes"] != pids["slow"]  # a fresh worker took over
    assert_gone(pids["slow"])
    assert listing(tmp_path / "out") == ["batch.jsonl", "bikes", "cuts"]


@pytest.mark.slow
def test_a_crashed_worker_is_replaced(slow_video, cut_video, tmp_path):
    pids = {}

    def crash(kind, data):
        if kind == "start":
            pids[data["task"].video_id] = data["worker_pid"]
            if data["task"].video_id == "slow":
                os.kill(data["worker_pid"], signal.SIGKILL)  # as the OOM killer would

    summary = run([slow_video, cut_video[0]], tmp_path / "out", workers=1, on_event=crash)
    lines = by_id(summary)
    assert lines["slow"] == {"video": str(slow_video), "id": "slow", "status": "failed", "frames": 0,
                             "seconds": lines["slow"]["seconds"], "reason": "worker died (killed by SIGKILL)"}
    assert lines["cuts"]["status"] == "ok" and pids["cuts"] != pids["slow"]
    assert summary.exit_status == 1


@pytest.mark.slow
def test_interrupt_keeps_what_is_finished(slow_video, cut_video, tmp_path):
    pids = []

    def interrupt(kind, data):
        if kind == "start":
            pids.append(data["worker_pid"])
        elif data["id"] == "cuts":
            raise KeyboardInterrupt  # Ctrl-C, just after the first video is done

    out = tmp_path / "out"
    summary = run([slow_video, cut_video[0]], out, workers=2, on_event=interrupt)
    assert summary.interrupted and summary.exit_status == 130
    assert [line["id"] for line in summary.results] == ["cuts"]
    assert listing(out) == ["batch.jsonl", "cuts"]
    assert len(frames_in(out, "cuts")) == 4
    assert status_lines(out)[-1]["summary"]["interrupted"] is True
    assert len(pids) == 2
    for pid in pids:
        assert_gone(pid)


# waits in these tests end as soon as what they wait for happens (a second or two on an idle machine);
# the limit is only for a hang, far above what even a machine with load 20 on 2 cores needs
def wait_until_gone(group: int) -> list[int]:
    """Poll until no worker of process group ``group`` is left (for :data:`HANG_S` at most); those left."""
    deadline = time.monotonic() + HANG_S
    while (left := live_processes_in_group(group, marker="spawn_main")) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


@pytest.mark.slow
def test_ctrl_c_on_the_command_line(own_session, slow_video, cut_video, tmp_path):
    out = tmp_path / "out"
    with batch_with_one_video_done(own_session, slow_video, cut_video, out, tmp_path) as process:
        os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole group
        stdout = process.communicate(timeout=HANG_S)[0].decode()
        assert process.returncode == 130
        assert "2 videos: 1 ok, 0 skipped, 0 failed" in stdout and "(interrupted)" in stdout
        # no worker left behind: the batch waits for its workers before it exits (multiprocessing's
        # resource tracker, not a worker, leaves on its own a moment later)
        assert live_processes_in_group(process.pid, marker="spawn_main") == []
    assert listing(out) == ["batch.jsonl", "cuts"]


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_workers_end_with_the_batch_however_it_ends(own_session, slow_video, cut_video, tmp_path, how):
    with batch_with_one_video_done(own_session, slow_video, cut_video, tmp_path / "out", tmp_path) as process:
        os.kill(process.pid, how)  # the parent only, as a service manager or the OOM killer would
        stdout, stderr = (output.decode() for output in process.communicate(timeout=HANG_S))
        assert wait_until_gone(process.pid) == []  # no orphan left hanging
    if how == signal.SIGTERM:  # handled like Ctrl-C: a clean stop with a summary, no traceback
        assert process.returncode == 130 and "(interrupted)" in stdout and "Traceback" not in stderr


@pytest.mark.slow
def test_cli_batch_exit_status(cut_video, bad_videos, tmp_path, capsys):
    from framepick.cli import main

    out = tmp_path / "out"
    assert main(["batch", "--out", str(out), "--frames", "4", str(cut_video[0])]) == 0
    assert main(["batch", "--out", str(out), "--frames", "4", str(cut_video[0]), str(bad_videos["missing"])]) == 1
    captured = capsys.readouterr()
    assert "skipped  cuts: 4 frames" in captured.err and "failed   missing: file not found" in captured.err
    assert "2 videos: 0 ok, 1 skipped, 1 failed" in captured.out


# --------------------------------------------------------------------------- Ray


def _ray_batch(ray_cluster, config: JobConfig, inputs: list[Path], out: Path, tmp_path: Path,
               *options: str) -> subprocess.CompletedProcess:
    """``framepick batch --executor ray`` with 2 workers, in a child process (as users run it: Ray's
    warnings stay there), on the session's Ray instance (started once: starting Ray takes 10 s
    or more, and fails under heavy load more often than anything else here)."""
    command = [sys.executable, "-m", "framepick.cli", "batch", "--executor", "ray", "--workers", "2", *options,
               "--ray-address", ray_cluster.address,
               "--config", str(save_config(config, tmp_path / "strategy.toml")), "--out", str(out),
               *map(str, inputs)]
    return subprocess.run(command, capture_output=True, text=True, timeout=HANG_S,
                          env={**os.environ, **ray_cluster.env})


@pytest.mark.slow
def test_ray_executor(ray_cluster, cut_video, bikes, bad_videos, tmp_path):
    """The command line on a local Ray instance: segments for bikes played 4 times (40 s, in pieces
    of at least the analysis' warm-up, ~14 s), one for a 5 s video, a missing file; the frames
    equal the local executor's."""
    from framepick.segments import plan_segments

    (tmp_path / "long").mkdir()
    long_bikes = write_repeated(bikes, tmp_path / "long" / "bikes.mp4", 4)
    inputs = [cut_video[0], long_bikes, bad_videos["missing"]]
    every_frame = AnalysisConfig(reference_only=False)  # what segments split
    config = JobConfig(strategy="adaptive", params={"frames": 6}, analysis=every_frame)
    finished = _ray_batch(ray_cluster, config, inputs, tmp_path / "ray", tmp_path, "--segment-minutes", "0.05")
    assert finished.returncode == 1, finished.stderr[-2000:]
    assert "3 videos: 2 ok, 0 skipped, 1 failed" in finished.stdout
    lines = {line["id"]: line for line in status_lines(tmp_path / "ray")[1:-1]}
    assert lines["missing"]["reason"] == "file not found"
    # analysed in segments:
    assert lines["bikes"]["segments"] == len(plan_segments(long_bikes, every_frame, segment_s=3.0)) >= 2
    assert lines["cuts"].get("segments", 1) == len(plan_segments(cut_video[0], every_frame, segment_s=3.0)) == 1
    local = run(inputs[:2], tmp_path / "local", config=config)
    assert local.exit_status == 0
    for video_id in ("cuts", "bikes"):
        ray_manifest, local_manifest = (json.loads((tmp_path / out / video_id / "manifest.json").read_text())
                                        for out in ("ray", "local"))
        assert ray_manifest["frames"] == local_manifest["frames"]
        assert ray_manifest["scenes"] == local_manifest["scenes"]


@pytest.mark.slow
def test_ray_executor_kills_a_video_past_its_time_limit(ray_cluster, slow_video, cut_video, tmp_path):
    config = JobConfig(strategy="adaptive", params={"frames": 4}, timeout_s=8.0, timeout_ratio=0.0)
    finished = _ray_batch(ray_cluster, config, [slow_video, cut_video[0]], tmp_path / "ray", tmp_path)
    assert finished.returncode == 1, finished.stderr[-2000:]
    lines = {line["id"]: line for line in status_lines(tmp_path / "ray")[1:-1]}
    assert lines["slow"]["reason"] == "timed out after 8 s in video (worker killed)"
    assert lines["cuts"]["status"] == "ok"
