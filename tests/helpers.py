"""Helpers shared by the tests and the benchmarks (imported as ``helpers``; no test module imports
another): the one hand-made :class:`Analysis` builder, a long seeded synthetic analysis, a
decode-everything helper, the real clips' known cuts, a check of the output folder, and the
child-process helpers of the batch and CLI tests.

``reports/bench`` scripts put ``tests/`` on ``sys.path`` to import it.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from framepick.config import AnalysisConfig, JobConfig, save_config
from framepick.decode import iter_chunks
from framepick.outdir import RESERVED
from framepick.scenes import scenes_from_cuts
from framepick.types import Analysis, VideoInfo

ROOT = Path(__file__).resolve().parents[1]
BIKES = ROOT / "tests" / "data" / "bikes.mp4"
SAMPLE = ROOT / "toolkit" / "framepick" / "data" / "big_buck_bunny_0_30.webm"
BIKES_CUTS = [30, 76, 137, 187, 242]  # ../shared/videos/README.md
SAMPLE_CUTS = [283, 376, 551]  # hard cuts; frames 0-45 fade in from black (a transition, not a cut)
KNOWN_CUTS = {BIKES.name: BIKES_CUTS, SAMPLE.name: SAMPLE_CUTS}
# A limit on waits for something that takes a second or two on an idle machine, and that only a
# hang would make take this long; far above what even a machine with load 20 on 2 cores needs.
HANG_S = 600.0


def make_analysis(
    frames: int,
    fps: float,
    *,
    scenes: list[int] | None = None,
    score: np.ndarray | None = None,
    score_indices: np.ndarray | None = None,
    frame_times_s: np.ndarray | None = None,
    duration_s: float | None = None,
    thumbs: np.ndarray | None = None,
    thumb_indices: np.ndarray | None = None,
    path: str = "made.mp4",
    size: tuple[int, int] = (64, 36),
    states: dict[int, float] | None = None,
    transitions: list[tuple[int, int]] | None = None,
) -> Analysis:
    """An Analysis made by hand. ``scenes`` lists the cuts (first frames of scenes but the first);
    ``states`` maps state changes to their strengths, ``transitions`` lists dissolves as
    ``[start, end)`` frames; the score defaults to zeros at every frame, thumbnails to one black
    4x4 per second; ``path`` and the display size go into its :class:`VideoInfo`."""
    times = np.arange(frames) / fps if frame_times_s is None else np.asarray(frame_times_s, dtype=np.float64)
    indices = np.arange(frames) if score_indices is None else np.asarray(score_indices, dtype=np.int64)
    values = np.zeros(len(indices), np.float32) if score is None else np.asarray(score, dtype=np.float32)
    bounds = np.array([0, *(scenes or []), frames], dtype=np.int64)
    if thumb_indices is None:
        thumb_indices = np.arange(0, frames, max(1, round(fps)), dtype=np.int64)
    if thumbs is None:
        thumbs = np.zeros((len(thumb_indices), 4, 4, 3), np.uint8)
    duration = frames / fps if duration_s is None else duration_s
    return Analysis(
        info=VideoInfo(path=path, frames=frames, fps=fps, duration_s=duration, width=size[0], height=size[1],
                       codec="h264"),
        config=AnalysisConfig(),
        decoder="pyav",
        frame_times_s=times,
        score_indices=indices,
        score=values,
        luma_diff=values,
        hist_diff=values,
        scenes=np.stack([bounds[:-1], bounds[1:]], axis=1),
        thumb_indices=np.asarray(thumb_indices, dtype=np.int64),
        thumbs=thumbs,
        transitions=np.asarray(transitions or [], dtype=np.int64).reshape(-1, 2),
        transition_kinds=np.full(len(transitions or []), "dissolve", "<U8"),
        state_changes=np.asarray(sorted(states or {}), dtype=np.int64),
        state_strengths=np.asarray([(states or {})[k] for k in sorted(states or {})], dtype=np.float32),
    )


def synthetic_analysis(frames: int = 54_000, fps: float = 30.0, *, scenes: int = 300, seed: int = 0,
                       path: str = "synthetic.mp4") -> Analysis:
    """A seeded analysis of a made-up video of ``frames`` frames at ``fps``: a low noisy score with
    a spike at each of ``scenes - 1`` random cuts, one thumbnail per second (36 x 64, one flat
    colour per scene with a little noise)."""
    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.choice(np.arange(1, frames), size=scenes - 1, replace=False))
    score = (0.02 + 0.02 * rng.random(frames)).astype(np.float32)
    score[0] = 0.0
    score[cuts] = rng.uniform(0.4, 0.9, size=len(cuts)).astype(np.float32)
    scene_table = scenes_from_cuts(cuts, frames)
    thumb_indices = np.arange(0, frames, round(fps), dtype=np.int64)
    scene_of_thumb = np.searchsorted(scene_table[:, 0], thumb_indices, side="right") - 1
    colours = rng.integers(0, 256, size=(len(scene_table), 3))
    noise = rng.integers(-8, 9, size=(len(thumb_indices), 36, 64, 3))
    thumbs = np.clip(colours[scene_of_thumb][:, None, None, :] + noise, 0, 255).astype(np.uint8)
    return make_analysis(frames, fps, scenes=cuts.tolist(), score=score, thumbs=thumbs, thumb_indices=thumb_indices,
                         path=path, size=(1920, 1080))


def decode_all(path, backend, **options):
    stream = iter_chunks(path, backend=backend, fallback=False, **options)
    chunks = list(stream)
    assert stream.decoder == backend
    starts = [c.start for c in chunks]
    assert starts == list(np.cumsum([0] + [len(c.times_s) for c in chunks[:-1]]))
    return (
        np.concatenate([c.times_s for c in chunks]),
        np.concatenate([c.indices for c in chunks]),
        np.concatenate([c.frames for c in chunks]),
    )


def listing(out: Path) -> list[str]:
    """Names in an output folder, the tool's own ``.framepick`` left out once it is checked to
    hold no staging or replaced extraction (nothing half written, nothing stale)."""
    own = out / RESERVED
    for kind in ("staging", "replaced"):
        assert not (own / kind).exists() or list((own / kind).iterdir()) == [], f"{own / kind} is not empty"
    return sorted(p.name for p in out.iterdir() if p.name != RESERVED)


# --------------------------------------------------------------------------- child processes


def live_processes_in_group(group: int, *, marker: str = "") -> list[int]:
    """Processes of process group ``group`` that are not zombies, and whose command line holds
    ``marker`` (Linux /proc)."""
    live = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z" and marker in command:
            live.append(int(stat.parent.name))
    return live


def read_until(process: subprocess.Popen, prefix: str) -> str:
    """The first line of ``process``'s stderr (an unbuffered pipe, so that what select sees is
    what readline reads) that starts with ``prefix``; fails if the process closes its stderr
    first or nothing comes for :data:`HANG_S`."""
    lines: list[str] = []
    with selectors.DefaultSelector() as selector:
        selector.register(process.stderr, selectors.EVENT_READ)
        while True:
            if not selector.select(HANG_S):
                pytest.fail(f"nothing on stderr for {HANG_S:.0f} s after:\n{''.join(lines)}")
            line = process.stderr.readline().decode()
            if not line:
                pytest.fail(f"stderr closed before a line starting {prefix!r}:\n{''.join(lines)}")
            if line.startswith(prefix):
                return line
            lines.append(line)


@contextmanager
def batch_with_one_video_done(own_session, slow_video, cut_video, out: Path,
                              tmp_path: Path) -> Iterator[subprocess.Popen]:
    """``framepick batch`` (2 workers) in a session of its own on a slow video and a good one,
    handed over once the good one is reported done, with both workers still alive (the slow one's
    analysis takes far longer). On leaving, however the test went, whatever is left of the batch
    is killed and waited for."""
    config = save_config(JobConfig(strategy="adaptive", params={"frames": 4}), tmp_path / "strategy.toml")
    command = [sys.executable, "-m", "framepick.cli", "batch", "--config", str(config), "--out", str(out),
               "--workers", "2", "--timeout", "600", str(slow_video), str(cut_video[0])]
    with own_session(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0) as process:
        assert read_until(process, "ok").startswith("ok       cuts: 4 frames")  # status lines as videos finish
        assert len(live_processes_in_group(process.pid, marker="spawn_main")) == 2  # the two workers
        yield process


def has_open(pid: int, path: Path) -> bool:
    """Whether process ``pid`` has the file ``path`` open (Linux /proc); False once it is gone."""
    target = str(path.resolve())
    try:
        links = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for link in links:
        try:
            if os.readlink(link) == target:
                return True
        except OSError:
            continue
    return False


def state(pid: int) -> str | None:
    """The state letter of process ``pid`` (``"Z"`` for a zombie), None if there is none (Linux /proc)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def child_states(parent: int) -> dict[int, str]:
    """The state letter of every child process of ``parent`` (Linux /proc), by pid."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            found[int(stat.parent.name)] = fields[0]
    return found


def children(parent: int) -> list[int]:
    """Live child processes of ``parent`` (Linux /proc)."""
    return [pid for pid, letter in child_states(parent).items() if letter != "Z"]
