"""Session-wide test videos, made once with PyAV, with known cuts; a Ray instance for the session;
child processes that are always waited for."""

from __future__ import annotations

import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import av
import pytest

from helpers import HANG_S
from tiny_qwen import MODELS, tiny_qwen_model
from videos import write_audio_only, write_slow_video, write_video

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """Every test gets its own empty analysis cache."""
    monkeypatch.setenv("FRAMEPICK_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="session")
def video_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("videos")


@pytest.fixture(scope="session")
def bikes() -> Path:
    return DATA / "bikes.mp4"


@pytest.fixture(scope="session")
def cut_video(video_dir) -> tuple[Path, list[int]]:
    """H.264 mp4, 25 fps, 160x96, 125 frames, with an audio track; returns (path, cuts)."""
    path = video_dir / "cuts.mp4"
    cuts = write_video(path, [30, 20, 35, 40], audio=True)
    return path, cuts


@pytest.fixture(scope="session")
def rotated_video(video_dir) -> Path:
    """160x96 coded, displayed rotated 90 degrees counter-clockwise (so 96x160 upright)."""
    path = video_dir / "rotated.mp4"
    write_video(path, [20, 20], rotation=90)
    return path


@pytest.fixture(scope="session")
def vfr_video(video_dir) -> tuple[Path, list[float]]:
    """Variable frame rate mkv: 20 frames of 40 ms then 20 of 80 ms; returns (path, times_s)."""
    path = video_dir / "vfr.mkv"
    durations = [40] * 20 + [80] * 20
    write_video(path, [20, 20], frame_durations_ms=durations)
    times = [sum(durations[:i]) / 1000 for i in range(len(durations))]
    return path, times


@pytest.fixture(scope="session")
def odd_size_video(video_dir) -> Path:
    path = video_dir / "odd.mkv"
    write_video(path, [12, 12], width=99, height=57, codec="ffv1", pix_fmt="yuv444p")
    return path


@pytest.fixture(scope="session")
def bad_videos(video_dir, cut_video) -> dict[str, Path]:
    """Files that are not usable videos, by the cause they should be reported with."""
    out = {"missing": video_dir / "missing.mp4"}
    out["not a video"] = video_dir / "text.mp4"
    out["not a video"].write_text("this is not a video\n")
    out["empty file"] = video_dir / "empty.mp4"
    out["empty file"].write_bytes(b"")
    out["audio-only"] = video_dir / "audio.m4a"
    write_audio_only(out["audio-only"])
    data = cut_video[0].read_bytes()
    out["truncated"] = video_dir / "truncated.mp4"
    out["truncated"].write_bytes(data[: len(data) // 2])
    out["truncated mkv"] = video_dir / "truncated.mkv"
    write_video(out["truncated mkv"], [40])
    data = out["truncated mkv"].read_bytes()
    out["truncated mkv"].write_bytes(data[: len(data) * 2 // 3])
    out["zero frames"] = video_dir / "zero.mkv"
    with av.open(str(out["zero frames"]), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        container.start_encoding()
    return out


@pytest.fixture
def copy_of(tmp_path):
    """Copy a file into the test's own folder (to modify it or its cache safely)."""

    def copy(path: Path) -> Path:
        return Path(shutil.copy(path, tmp_path / Path(path).name))

    return copy


@pytest.fixture(scope="session")
def slow_video(video_dir) -> Path:
    """A real video that keeps a worker busy far past a short time limit: 1600 s of 96x96 noise,
    about 16 s of analysis here (see :func:`videos.write_slow_video`)."""
    path = video_dir / "slow.mp4"
    write_slow_video(path)
    return path


@pytest.fixture(scope="session")
def fifo_playlist(video_dir) -> Path:
    """An HLS playlist whose one segment is a named pipe nobody writes to: FFmpeg's HLS demuxer
    would block forever opening it, so framepick must refuse the playlist before it opens anything."""
    folder = video_dir / "playlist"
    folder.mkdir()
    os.mkfifo(folder / "segment.ts")
    path = folder / "stuck.m3u8"
    path.write_text("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-PLAYLIST-TYPE:VOD\n"
                    "#EXTINF:1.0,\nsegment.ts\n#EXT-X-ENDLIST\n")
    return path


# --------------------------------------------------------------------------- child processes



def end_session(process: subprocess.Popen, *, grace_s: float = 0.0) -> None:
    """End ``process``, the leader of a session of its own, and every process left in its process
    group, and wait for it. With ``grace_s``, SIGTERM it first and give it that long to end on its
    own; then SIGKILL the whole group (whatever did not leave it: workers, helpers, the process
    itself), reap the process and close its pipes. Safe to call more than once."""
    if grace_s and process.returncode is None:
        with suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace_s)
    with suppress(ProcessLookupError):  # no process left in the group
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def _default_signals() -> None:
    """In the child, before it runs: SIGINT and SIGHUP back to their default handling. A test
    suite started in the background (``cmd &`` in a script, ``nohup``) has them ignored, and an
    ignored signal stays ignored across exec, so the command under test would never see them."""
    for number in (signal.SIGINT, signal.SIGHUP):
        signal.signal(number, signal.SIG_DFL)


@contextmanager
def _own_session(command: list[str], **options) -> Iterator[subprocess.Popen]:
    process = subprocess.Popen(command, start_new_session=True, preexec_fn=_default_signals, **options)
    try:
        yield process
    finally:
        end_session(process)  # on every path, a failed assertion included: no process is left running


@pytest.fixture(scope="session")
def own_session():
    """``own_session(command, **popen_options)``: a context manager that starts ``command`` as the
    leader of a new session (so of its own process group, as a terminal runs a command) and, on
    leaving it however it is left, kills whatever is left of that group and waits for the command
    (:func:`end_session`)."""
    return _own_session


# --------------------------------------------------------------------------- Ray


@dataclass(frozen=True)
class RayCluster:
    address: str  # for ``framepick batch --ray-address``
    env: dict[str, str]  # the environment a process that joins it needs (its auth token)


# how long Ray's own waits may take: under load its processes start slowly (Ray waits 30 s for
# its GCS port by default, and 60 s for a worker to register)
RAY_WAITS = {"RAY_gcs_server_port_wait_time_s": "600", "RAY_worker_register_timeout_seconds": "600",
             "RAY_gcs_server_request_timeout_seconds": "600",
             "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0"}  # stop at once at the end of the session
RAY_START_ATTEMPTS = 3  # Ray waits 30 s (not configurable) for its node to register; a retry helps


def _ray_address(folder: Path) -> str:
    """The address ``ray start --temp-dir=folder`` writes once it has started, or ""."""
    try:
        return (folder / "ray_current_cluster").read_text().strip()
    except FileNotFoundError:
        return ""


# Ports handed to a server that binds them later: below the kernel's ephemeral range (Linux:
# 32768-60999), from which Ray's own processes take theirs meanwhile, and above Ray's worker
# ports (10002-19999), so nothing started in between takes them first.
FIXED_PORTS = range(20000, 32768)


def free_port() -> int:
    """A port of ``FIXED_PORTS`` that nothing listens on now, chosen at random."""
    for port in random.sample(FIXED_PORTS, 200):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {FIXED_PORTS}")


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[RayCluster]:
    """One local Ray instance for the whole session, which the tests' ``framepick batch --executor
    ray`` join (``--ray-address``), rather than each starting and stopping one of its own.

    ``ray start --head --block`` in a session of its own, with its own temporary folder (short:
    Ray's socket paths must fit in 107 bytes), ports and auth token, so no other Ray on this
    machine finds it or is found by it; it counts as started when it writes its address there.
    Stopped at the end of the session with SIGTERM, then SIGKILL to whatever is left of its
    process group."""
    pytest.importorskip("ray")
    root = Path(tempfile.mkdtemp(prefix="ray-"))
    env = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32), **RAY_WAITS}
    failures = []
    try:
        for attempt in range(RAY_START_ATTEMPTS):
            folder = root / str(attempt)
            folder.mkdir()
            command = [sys.executable, "-m", "ray.scripts.scripts", "start", "--head", "--block",
                       f"--temp-dir={folder}", "--port=0", f"--ray-client-server-port={free_port()}",
                       f"--dashboard-agent-listen-port={free_port()}", "--include-dashboard=false",
                       "--disable-usage-stats"]
            with (folder / "start.log").open("w") as log, \
                    _own_session(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                 env={**os.environ, **env}) as process:
                deadline = time.monotonic() + HANG_S
                while not (address := _ray_address(folder)) and process.poll() is None \
                        and time.monotonic() < deadline:
                    time.sleep(0.2)
                if address and process.poll() is None:
                    try:
                        yield RayCluster(address=address, env=env)
                    finally:
                        end_session(process, grace_s=60)
                    return
                how = "exit status {}" if process.poll() is not None else f"no address in {HANG_S:.0f} s"
                end_session(process)
                failures.append(f"attempt {attempt + 1}: {how.format(process.returncode)}\n"
                                + (folder / "start.log").read_text()[-3000:])
        pytest.fail("Ray did not start:\n" + "\n".join(failures))
    finally:
        shutil.rmtree(root, ignore_errors=True)


# --------------------------------------------------------------------------- Qwen


@pytest.fixture(scope="session")
def qwen_vl_utils():
    """qwen-vl-utils, reading videos with decord: it reads FORCE_QWENVL_VIDEO_READER once, when
    imported, so every test that loads it (itself or through framepick.qwen) takes this fixture."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FORCE_QWENVL_VIDEO_READER", os.environ.get("FORCE_QWENVL_VIDEO_READER", "decord"))
        import qwen_vl_utils
    return qwen_vl_utils


@pytest.fixture(scope="session")
def tiny_qwen(tmp_path_factory) -> dict[str, Path]:
    """Folders of a tiny Qwen2.5-VL and Qwen3-VL, each loadable offline by ``from_pretrained``."""
    return {kind: tiny_qwen_model(kind, tmp_path_factory.mktemp(kind)) for kind in MODELS}
