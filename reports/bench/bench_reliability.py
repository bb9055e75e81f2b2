"""Reliability: hostile inputs, names, settings, outputs, geometry, killed runs and the API, tabulated.

Only the public API (``import framepick``, ``framepick.qwen``) and the command line (``python -m
framepick.cli`` in a child process) are used, so that moving modules inside the package does not
break this script. A case is clean when it ends in its documented outcome: the right frames, or a
one-line error naming the file or argument and the cause (exit status 2, or the documented
status), nothing half written, nothing outside ``--out``, no traceback, no stale staging.

Families (seeded, so a run is repeatable):

- corruptions: copies of the bundled clips with random bytes overwritten (1-400 bytes at random
  offsets) and truncations at random lengths, plus empty and garbage files, run as one batch
  (2 workers, a 30 s limit per video): ``ok`` or a one-line reason of framepick's own;
- names: hostile file names in one batch: every video ok, every result inside ``--out``;
- settings: bad values of every setting through the API: a ConfigError naming the setting;
- concurrency: a second batch into the same ``--out`` while one runs: refused, the first unharmed;
- kills: a batch killed with SIGKILL or SIGTERM at a random moment, then run again: no worker left,
  the rerun complete, nothing left in the staging area;
- openers: files that make FFmpeg open other files or block (a FIFO named .mp4, HLS and ffconcat
  playlists naming a FIFO or another video, a sparse TS file), and a video past ``sample``'s time
  limit: a one-line error naming the file within seconds, nothing written;
- full disk (as root only): ``sample`` and ``batch`` into a small tmpfs, the cache on a full tmpfs;
- protocol names: real files named as FFmpeg protocols (``file:other.mp4``, ``concat:other.mp4``,
  ``pipe:0.mp4``, ...) beside a decoy ``other.mp4`` of another size, length and colour: each gives
  its own frames (count, size and pixels), by ``sample`` and by a batch of the folder;
- cache: a relative path analysed in one folder and sampled from another that holds a different
  ``rel/video.mp4`` (the file named now, not the cached one); ``--no-cache`` on analyze, sample
  and batch (the result right, the cache folder untouched);
- huge and wrong settings: ``--fps 1e8``, ``--frames 1e12``, ``--fps 1e308``, ``--timeout 1e-9``,
  ``min_scene_len=1e12``, ``--out ''``, an ``--out`` longer than PATH_MAX, ``--threads 0`` (the
  default) and ``100000``, TOML values of the wrong type; in Python ``select`` with huge values
  (refused quickly, in little memory) and ``run_batch`` of a folder given as a str;
- outputs: two batches of different same-stem files into one ``--out`` (both kept, then both
  skipped), twelve ``v.<container>`` files in a folder (twelve outputs from a batch of the folder
  and from ``sample``), truncated, swapped and altered JPEGs in a finished output (redone);
- geometry: rotation 270 + hflip, 2x2, 3x5, 16x9000, an MP4 whose edit list cuts the start, an
  MPEG-TS starting mid-GOP, a one-frame video: the JPEGs are ffmpeg's own decode (its display
  transform included), pixel for pixel after the same JPEG encoding, and its frame count;
- process faults: a batch worker SIGKILLed mid-video (a recorded failure, exit 1, no zombie),
  ``sample`` SIGKILLed while writing (its staging removed by the next run) and sent SIGTERM or
  SIGHUP (stops as Ctrl-C does: exit 130, one line, no staging), a batch sent SIGINT (to its
  process group, as a terminal does) or SIGTERM (exit 130, no "leaked semaphore" warning, no
  process left, the rerun complete);
- Python API: wrong arguments to ``sample``, ``compare``, ``fetch_video``,
  ``process_vision_info`` and ``from_manifest``: a FramepickError whose one-line message names the
  argument, nothing written; a ``pathlib.Path`` in ``fetch_video`` read as its str.

Usage::

    python reports/bench/bench_reliability.py [--corruptions 350] [--truncations 80] [--concurrent 5]
        [--kills 10] [--seed 1]

Writes ``reports/reliability.md``.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np
from PIL import Image

import framepick

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from helpers import children, has_open, state  # noqa: E402 - tests/helpers.py
from videos import (  # noqa: E402 - tests/videos.py: PyAV and the ffmpeg binary only, no framepick
    ffmpeg_exe,
    write_edit_list_cut,
    write_flat,
    write_mid_gop_ts,
    write_slow_video,
    write_video,
    write_with_display_flags,
)

REPORT = ROOT / "reports" / "reliability.md"
BIKES = ROOT / "tests" / "data" / "bikes.mp4"
SAMPLE = framepick.sample_video()
OWN = ".framepick"  # framepick's own folder in an output folder (README: staging, replaced outputs, the lock)
HOSTILE = ["..mp4", "....mp4", ".partial-x.mp4", ".old-y.mp4", "batch.jsonl.mp4", "Batch.JSONL.mp4",
           "new\nline.mp4", "tab\there.mp4", " spaced .mp4", "ünïcödé 🎬.mp4", "x" * 240 + ".mp4", "X.mp4", "x.mp4",
           "semi;colon.mp4", "quote'\"s.mp4", "$(touch pwned).mp4", "-rf.mp4", "star*.mp4"]
PROTOCOL_NAMES = ["file:other.mp4", "concat:other.mp4", "subfile,,start,0,end,0,,:other.mp4", "cache:other.mp4",
                  "async:other.mp4", "pipe:0.mp4", "fd:0.mp4", "crypto:other.mp4", "http:x.mp4"]
# the video asked for and the decoy beside it: another size, length and colour
MINE_FRAMES, MINE_SIZE = 40, (64, 48)
DECOY_FRAMES, DECOY_SIZE = 10, (160, 96)
# extension -> extra ffmpeg output options (the container from the extension unless given)
CONTAINERS = {"asf": [], "vob": [], "mxf": [], "m2v": [], "ogg": [],
              "dv": ["-vf", "scale=720:576", "-c:v", "dvvideo", "-f", "dv"], "y4m": [], "nut": [], "f4v": [],
              "divx": ["-c:v", "mpeg4", "-vtag", "DIVX", "-f", "avi"], "mk3d": ["-f", "matroska"], "MOV": []}
SLOW_FRAMES = 20_000  # 96x96 noise at 25 fps: about 10 s of analysis on 2 cores
POLL_S = 0.01
TRACEBACK = "Traceback"


# --------------------------------------------------------------------------- cases and families


@dataclass
class Case:
    name: str
    expected: str
    clean: bool
    got: str


@dataclass
class Family:
    """Cases of one family, each with its expected outcome and what happened."""

    expected: str
    cases: list[Case] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def case(self, name: str, expected: str, check: Callable[[], tuple[bool, str]]) -> None:
        """Run ``check`` (it returns whether the outcome is the expected one and what happened); a
        check that raises is an unclean case, described by its exception."""
        try:
            clean, got = check()
        except Exception as exc:  # noqa: BLE001 - what happened, recorded as an unclean case
            clean, got = False, f"{type(exc).__name__}: {_line(exc)}"
        self.cases.append(Case(name, expected, bool(clean), got))
        print(f"{'clean  ' if clean else 'UNCLEAN'} {name}: {got[:200]}", file=sys.stderr, flush=True)

    def result(self) -> dict:
        unclean = [f"{c.name} (expected {c.expected}): {c.got}" for c in self.cases if not c.clean]
        return {"cases": len(self.cases), "clean": sum(c.clean for c in self.cases), "unclean": unclean,
                "expected": self.expected, "notes": self.notes}


def _line(value: object, limit: int = 300) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _cli(*args: object, cwd: Path | None = None, env: dict | None = None,
         timeout: float = 300.0) -> subprocess.CompletedProcess:
    """``python -m framepick.cli ARGS`` in a child process, its output captured."""
    return subprocess.run([sys.executable, "-m", "framepick.cli", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _said(finished: subprocess.CompletedProcess) -> str:
    """Exit status and stderr, a traceback shown by its last line."""
    if TRACEBACK in finished.stderr:
        last = finished.stderr.strip().splitlines()[-1]
        return f"exit {finished.returncode}, a traceback ending {_line(last, 240)!r}"
    return f"exit {finished.returncode}, stderr {_line(finished.stderr, 240)!r}"


def _refused(finished: subprocess.CompletedProcess, *words: str, status: int = 2) -> tuple[bool, str]:
    """``finished`` ended with ``status`` and one stderr line ``framepick: ...`` holding ``words``."""
    clean = (finished.returncode == status and finished.stderr.count("\n") == 1
             and finished.stderr.startswith("framepick: ") and all(w in finished.stderr for w in words)
             and TRACEBACK not in finished.stderr)
    return clean, _said(finished)


def _stale(out: Path) -> list[str]:
    """What is left in ``out``'s staging and replaced-output folders."""
    return [f"{kind}/{p.name}" for kind in ("staging", "replaced") if (out / OWN / kind).is_dir()
            for p in (out / OWN / kind).iterdir()]


def _listing(out: Path) -> list[str]:
    """Names in an output folder, framepick's own folder left out."""
    return sorted(p.name for p in out.iterdir() if p.name != OWN) if out.is_dir() else []


def listing(out: Path) -> list[str]:
    """:func:`_listing`, checked to leave nothing in the staging area (AssertionError otherwise)."""
    stale = _stale(out)
    assert not stale, f"{out / OWN} holds {stale}"
    return _listing(out)


def _toml(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _decoded(path: Path) -> np.ndarray:
    """Every frame PyAV decodes from ``path``, RGB."""
    with av.open(str(path)) as container:
        return np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)])


def _pictures(manifest_path: Path) -> tuple[dict, list[np.ndarray]]:
    manifest = json.loads(Path(manifest_path).read_text())
    return manifest, [np.asarray(Image.open(Path(manifest_path).parent / f["file"]).convert("RGB"))
                      for f in manifest["frames"]]


def _frames_of(manifest_path: Path, source: Path, reference: np.ndarray) -> tuple[bool, str]:
    """The extraction at ``manifest_path`` is of ``source``: its frame count and the size and
    pixels of every image (``reference``: every frame of the file meant)."""
    manifest, pictures = _pictures(manifest_path)
    frames, named = manifest["video"]["frames"], manifest["video"]["path"]
    size = pictures[0].shape[:2] if pictures else None
    worst = max((float(np.abs(p.astype(int) - reference[f["index"]]).mean()) if p.shape == reference.shape[1:]
                 else math.inf for f, p in zip(manifest["frames"], pictures)), default=math.inf)
    clean = frames == len(reference) and named == str(source.resolve()) and worst < 8
    return clean, f"{frames} frames of {named}, images {size}, mean difference {worst:.1f} from the file meant"


def _fresh_cache(folder: Path) -> dict:
    """The environment with the cache in ``folder`` (a new name: not created)."""
    return {**os.environ, "FRAMEPICK_CACHE": str(folder)}


def _files_in(folder: str) -> list[str]:
    return [str(p) for p in Path(folder).rglob("*")] if Path(folder).exists() else []


def _wait_for(condition: Callable[[], bool], limit_s: float) -> bool:
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL_S)
    return True


def _end_group(process: subprocess.Popen) -> None:
    """Kill whatever is left of the process group that ``process`` leads (started by this script)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        pass


# --------------------------------------------------------------------------- corruptions, names, settings


def _clean(line: dict) -> bool:
    """A status line framepick handled: ok, or a one-line reason of its own."""
    if line["status"] == "ok":
        return True
    reason = line.get("reason", "")
    own = not any(reason.startswith(f"{name}:") for name in ("IndexError", "ValueError", "TypeError", "KeyError",
                                                              "AttributeError", "RuntimeError", "OSError",
                                                              "ZeroDivisionError", "AssertionError"))
    return own and "\n" not in reason and bool(reason)


def corruptions(folder: Path, out: Path, count: int, truncations: int, rng: random.Random) -> dict:
    sources = [BIKES.read_bytes(), SAMPLE.read_bytes()]
    suffixes = [".mp4", ".webm"]
    folder.mkdir()
    for n in range(count):
        k = n % 2
        data = bytearray(sources[k])
        for _ in range(rng.randint(1, 400)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        (folder / f"corrupt{n:03d}{suffixes[k]}").write_bytes(data)
    for n in range(truncations):
        k = n % 2
        (folder / f"cut{n:03d}{suffixes[k]}").write_bytes(sources[k][: rng.randrange(1, len(sources[k]))])
    (folder / "empty.mp4").write_bytes(b"")
    for n in range(9):
        (folder / f"garbage{n}.mp4").write_bytes(os.urandom(rng.randint(1, 200_000)))
    started = time.perf_counter()
    summary = framepick.run_batch([folder], out_dir=out, workers=2, progress=False,
                                  config=framepick.JobConfig(strategy="adaptive", params={"frames": 8},
                                                             timeout_s=30.0))
    lines = summary.results
    reasons = Counter(line.get("reason", "ok").split(" (")[0].split(": ")[-1][:60] for line in lines)
    unclean = [f"`{line}`" for line in lines if not _clean(line)][:5]
    left_over = len(listing(out)) - len([line for line in lines if line["status"] == "ok"]) - 1
    if left_over:
        unclean.append(f"{left_over} entries in --out beside the ok videos' folders and batch.jsonl")
    return {"cases": len(lines), "clean": sum(_clean(line) for line in lines),
            "expected": "ok, or failed with a one-line reason of framepick's own; nothing half written",
            "ok": sum(line["status"] == "ok" for line in lines),
            "timed_out": sum("timed out" in line.get("reason", "") for line in lines),
            "unclean": unclean, "reasons": reasons.most_common(8), "seconds": time.perf_counter() - started}


def names(folder: Path, out: Path) -> dict:
    folder.mkdir()
    for name in HOSTILE:
        shutil.copy(BIKES, folder / name)
    summary = framepick.run_batch([folder], out_dir=out, workers=2, progress=False)
    inside = all(Path(line["manifest"]).resolve().parent.parent == out.resolve() for line in summary.results
                 if line["status"] == "ok")
    ok = summary.counts["ok"] == len(HOSTILE) and inside and len(listing(out)) == len(HOSTILE) + 1
    return {"cases": len(HOSTILE), "clean": len(HOSTILE) if ok else summary.counts["ok"],
            "expected": "every video ok, every output inside --out"}


def settings() -> dict:
    analysis, output, job = framepick.AnalysisConfig, framepick.OutputConfig, framepick.JobConfig
    bad = [
        *[(analysis, {k: v}) for k, v in (("size", 0), ("size", 10**9), ("size", "a"), ("rate_fps", -1),
                                         ("rate_fps", math.inf), ("rate_fps", math.nan), ("thumb_fps", 0),
                                         ("thumb_fps", math.inf), ("thumb_size", 2), ("threads", -1),
                                         ("threads", 100_000), ("backend", "x"), ("detector", "x"),
                                         ("detector_params", "x"))],
        *[(output, {k: v}) for k, v in (("factor", 0), ("factor", 100_000), ("min_pixels", 10**12),
                                       ("max_pixels", 1), ("total_pixels", -1), ("jpeg_quality", 0),
                                       ("jpeg_quality", 100), ("resize", "x"), ("factor", True))],
        *[(job, {k: v}) for k, v in (("timeout_s", 0), ("timeout_s", math.inf), ("timeout_ratio", math.nan),
                                    ("timeout_ratio", -1), ("strategy", "x"))],
    ]
    clean, unclean = 0, []
    for cls, kwargs in bad:
        try:
            cls(**kwargs)
            unclean.append(f"{cls.__name__}(**{kwargs}) accepted")
        except framepick.ConfigError as exc:
            clean += "\n" not in str(exc)
        except Exception as exc:  # noqa: BLE001 - counted as unclean
            unclean.append(f"{cls.__name__}(**{kwargs}): {type(exc).__name__}: {_line(exc)}")
    return {"cases": len(bad), "clean": clean, "unclean": unclean,
            "expected": "a one-line ConfigError naming the setting"}


# --------------------------------------------------------------------------- concurrency, kills


def _batch_command(out: Path, inputs: list[Path], *extra: str, frames: int = 8) -> list[str]:
    return [sys.executable, "-m", "framepick.cli", "batch", "--out", str(out), "--frames", str(frames), *extra,
            *map(str, inputs)]


def _copies(folder: Path, count: int) -> list[Path]:
    """``count`` copies of bikes.mp4 in a new ``folder``."""
    folder.mkdir()
    clips = [folder / f"clip{n}.mp4" for n in range(count)]
    for clip in clips:
        shutil.copy(BIKES, clip)
    return clips


def concurrency(folder: Path, runs: int) -> dict:
    clips = _copies(folder, 6)
    clean = 0
    for n in range(runs):
        out = folder / f"out{n}"
        first = subprocess.Popen(_batch_command(out, clips, "--workers", "1"), stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        second = subprocess.run(_batch_command(out, clips, "--workers", "1"), capture_output=True, text=True)
        first.communicate(timeout=300)
        refused = second.returncode == 2 and "another batch" in second.stderr
        finished = first.returncode == 0 and len(listing(out)) == len(clips) + 1
        clean += (refused or second.returncode == 0) and finished
    return {"cases": runs, "clean": clean,
            "expected": "the second refused (exit 2, another batch) or finished, the first complete"}


def kills(folder: Path, runs: int, rng: random.Random) -> dict:
    clips = _copies(folder, 4)
    clean, unclean = 0, []
    for n in range(runs):
        out = folder / f"out{n}"
        process = subprocess.Popen(_batch_command(out, clips, "--workers", "2"), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
        how = signal.SIGKILL if n % 2 else signal.SIGTERM
        time.sleep(rng.uniform(0.5, 6.0))
        process.send_signal(how)
        process.wait(timeout=60)
        deadline = time.monotonic() + 10.0  # workers notice their parent's death within a second or two
        while (orphans := _group(process.pid)) and time.monotonic() < deadline:
            time.sleep(0.2)
        rerun = subprocess.run(_batch_command(out, clips, "--workers", "2"), capture_output=True, text=True)
        try:
            complete = len(listing(out)) == len(clips) + 1
        except AssertionError as exc:  # something left in the staging area
            complete, rerun.stderr = False, f"{rerun.stderr}{exc}"
        if not orphans and rerun.returncode == 0 and complete:
            clean += 1
        else:
            unclean.append(f"{how.name}: orphans {orphans}, rerun exit {rerun.returncode}, "
                           f"{rerun.stderr.strip()[-300:]!r}")
    return {"cases": runs, "clean": clean, "unclean": unclean,
            "expected": "no process left, the rerun complete (exit 0), nothing left in the staging area"}


def _group(pgid: int) -> list[str]:
    """Processes still alive in process group ``pgid``."""
    return subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True, text=True).stdout.split()


def _one_line_error(finished: subprocess.CompletedProcess, path: Path, status: int = 2) -> bool:
    """``finished`` ended with ``status`` and one stderr line naming ``path`` (the video, or the
    output folder it cannot write), no traceback."""
    return (finished.returncode == status and finished.stderr.count("\n") == 1
            and finished.stderr.startswith(f"framepick: {path}: "))


def _sample(path: Path, out: Path, *extra: str, timeout: float = 60) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "framepick.cli", "sample", "--out", str(out), *extra, str(path)]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def openers(folder: Path) -> dict:
    """Files that open other files or block the opener, and a video past its time limit."""
    folder.mkdir()
    os.mkfifo(folder / "pipe.ts")
    os.mkfifo(folder / "fifo.mp4")
    shutil.copy(BIKES, folder / "other.mp4")
    hls = "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n{}\n#EXT-X-ENDLIST\n"
    files = {"fifo.mp4": None, "hls-fifo.mp4": hls.format("pipe.ts"), "hls-video.m3u8": hls.format("other.mp4"),
             "concat-fifo.mp4": "ffconcat version 1.0\nfile 'pipe.ts'\n",
             "concat-relative.mp4": "ffconcat version 1.0\nfile 'other.mp4'\n",
             "concat-absolute.mp4": f"ffconcat version 1.0\nfile '{folder / 'other.mp4'}'\n"}
    for name, text in files.items():
        if text is not None:
            (folder / name).write_text(text)
    write_video(folder / "sparse.ts", [25], width=64, height=64)
    with open(folder / "sparse.ts", "r+b") as handle:
        handle.truncate(1 << 40)  # zeros after the real data
    clean, unclean = 0, []
    for name in [*files, "sparse.ts"]:
        out = folder / f"out-{name}"
        try:
            finished = _sample(folder / name, out, "--strategy", "adaptive", timeout=60)
        except subprocess.TimeoutExpired:
            unclean.append(f"{name}: no answer in 60 s")
            continue
        ok = _one_line_error(finished, folder / name) and not out.exists()
        clean += ok
        if not ok:
            unclean.append(f"{name}: {_said(finished)}")
    limits = _toml(folder / "limits.toml", '[strategy]\nname = "adaptive"\n\n[limits]\ntimeout_ratio = 0.0\n')
    long_video = folder / "long.mp4"
    write_slow_video(long_video, frames=SLOW_FRAMES + 1)  # about 10 s of analysis, not in the cache
    started = time.monotonic()
    finished = _sample(long_video, folder / "out-long", "--config", str(limits), "--timeout", "2")
    ok = (_one_line_error(finished, long_video, status=3) and time.monotonic() - started < 10
          and not (folder / "out-long" / "long").exists())
    clean += ok
    if not ok:
        unclean.append(f"time limit: {_said(finished)} after {time.monotonic() - started:.1f} s")
    return {"cases": len(files) + 2, "clean": clean, "unclean": unclean,
            "expected": "a one-line error naming the file within seconds (exit 2; exit 3 at the time limit), "
                        "nothing written"}


def full_disk(folder: Path) -> dict:
    """``sample`` and ``batch`` into a 1 MB tmpfs, and an analysis whose cache folder is full."""
    folder.mkdir()
    disk = folder / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], check=True)
    try:
        big = ("--frames", "64", "--strategy", "uniform")
        finished = _sample(SAMPLE, disk / "out", *big)
        sample_clean = _one_line_error(finished, disk / "out" / SAMPLE.stem) and "No space left" in finished.stderr
        sample_clean &= listing(disk / "out") == [] and not any((disk / "out").rglob("*.jpg"))
        command = _batch_command(disk / "batch", [SAMPLE, BIKES], "--workers", "1", frames=64)
        batch = subprocess.run(command, capture_output=True, text=True, timeout=300)
        status = (disk / "batch" / "batch.jsonl").read_text() if (disk / "batch" / "batch.jsonl").exists() else ""
        batch_clean = batch.returncode in (1, 2) and TRACEBACK not in batch.stderr and (
            "No space left" in status or "No space left" in batch.stderr)
        shutil.rmtree(disk / "out", ignore_errors=True)
        shutil.rmtree(disk / "batch", ignore_errors=True)
        _fill(disk)
        env = {**os.environ, "FRAMEPICK_CACHE": str(disk / "cache")}
        cached = subprocess.run([sys.executable, "-m", "framepick.cli", "analyze", str(BIKES)],
                                capture_output=True, text=True, timeout=120, env=env)
        cache_clean = cached.returncode == 0 and TRACEBACK not in cached.stderr
    finally:
        subprocess.run(["umount", str(disk)], check=False)
    unclean = [f"{what}: {_said(run)}" for what, run, ok in (("sample", finished, sample_clean),
                                                             ("batch", batch, batch_clean),
                                                             ("cache", cached, cache_clean)) if not ok]
    return {"cases": 3, "clean": sample_clean + batch_clean + cache_clean, "unclean": unclean,
            "expected": "a one-line error or a failed status line naming the full disk, nothing half written; a "
                        "full cache only a warning"}


def _fill(folder: Path) -> None:
    """Write zeros into ``folder`` until its file system is full."""
    try:
        with open(folder / "filler", "wb") as handle:
            while True:
                handle.write(b"\0" * 4096)
                handle.flush()
    except OSError:
        pass


# --------------------------------------------------------------------------- shared videos


@dataclass
class Clips:
    """Videos the new families share: ``mine`` (2 scenes of 20 frames, 64x48) and its ``decoy``
    (10 flat green frames, 160x96), both decoded in full, and a ``slow`` one (20,000 frames of noise)."""

    folder: Path
    mine: Path
    decoy: Path
    slow: Path
    mine_frames: np.ndarray
    decoy_frames: np.ndarray
    none_toml: Path  # output at the video's own size

    @classmethod
    def make(cls, folder: Path) -> Clips:
        folder.mkdir()
        mine, decoy, slow = folder / "mine.mp4", folder / "decoy.mp4", folder / "slow.mp4"
        write_video(mine, [20, 20], width=MINE_SIZE[0], height=MINE_SIZE[1])
        write_flat(decoy, DECOY_FRAMES, DECOY_SIZE, (0, 255, 0))
        write_slow_video(slow, frames=SLOW_FRAMES)
        none_toml = _toml(folder / "none.toml", '[output]\nresize = "none"\n')
        return cls(folder, mine, decoy, slow, _decoded(mine), _decoded(decoy), none_toml)


# --------------------------------------------------------------------------- protocol names


def protocol_names(folder: Path, clips: Clips) -> Family:
    family = Family("its own frames (count, size and pixels of the file named, not of the decoy other.mp4)")
    folder.mkdir()
    shutil.copy(clips.decoy, folder / "other.mp4")
    shutil.copy(clips.decoy, folder / "x.mp4")
    for name in PROTOCOL_NAMES:
        shutil.copy(clips.mine, folder / name)

    def sample_named(number: int, name: str) -> tuple[bool, str]:
        outcomes = []
        for extra in (("--strategy", "adaptive"), ("--strategy", "uniform", "--no-cache")):
            out = f"out{number}-{extra[1]}"
            finished = _cli("sample", "--config", clips.none_toml, "--frames", "4", *extra, "--out", out, name,
                            cwd=folder)
            if finished.returncode != 0:
                return False, f"{extra[1]}: {_said(finished)}"
            outcomes.append(_frames_of(folder / finished.stdout.strip(), folder / name, clips.mine_frames))
        return all(ok for ok, _ in outcomes), "; ".join(got for _, got in outcomes)

    for number, name in enumerate(PROTOCOL_NAMES):
        family.case(f"`sample {name}` (adaptive, and uniform --no-cache)", "its own frames",
                    lambda number=number, name=name: sample_named(number, name))

    def batch_folder() -> tuple[bool, str]:
        finished = _cli("batch", "--config", clips.none_toml, "--frames", "4", "--workers", "2", "--out", "batch-out",
                        ".", cwd=folder)
        lines = [json.loads(line) for line in (folder / "batch-out" / "batch.jsonl").read_text().splitlines()]
        results = {Path(line["video"]).name: line for line in lines if "video" in line}
        wrong = []
        for name in PROTOCOL_NAMES:
            line = results.get(name)
            if line is None or line["status"] != "ok":
                wrong.append(f"{name}: {line}")
                continue
            ok, got = _frames_of(folder / line["manifest"] if not Path(line["manifest"]).is_absolute()
                                 else Path(line["manifest"]), folder / name, clips.mine_frames)
            if not ok:
                wrong.append(f"{name}: {got}")
        return finished.returncode == 0 and not wrong, f"{_said(finished)}; wrong: {wrong}" if wrong else \
            f"exit {finished.returncode}, all nine their own frames"

    family.case("batch of the folder holding the nine and the decoy", "exit 0, each of the nine its own frames",
                batch_folder)
    return family


# --------------------------------------------------------------------------- the cache


def cache(folder: Path, clips: Clips) -> Family:
    family = Family("the file named now (not the one cached under the same relative name); with --no-cache the "
                    "right result and the cache folder left untouched")
    relative = Path("rel") / "video.mp4"
    for side, source in (("a", clips.mine), ("b", clips.decoy)):
        (folder / side / "rel").mkdir(parents=True)
        shutil.copy(source, folder / side / relative)
    a, b = folder / "a", folder / "b"
    env = _fresh_cache(folder / "cache")
    analysed = _cli("analyze", relative, cwd=a, env=env)

    def sampled(name: Path, strategy: str, source: Path, reference: np.ndarray, out: str) -> tuple[bool, str]:
        if analysed.returncode != 0:
            return False, f"analyze in a/: {_said(analysed)}"
        finished = _cli("sample", "--config", clips.none_toml, "--strategy", strategy, "--frames", "4",
                        "--out", folder / out, name, cwd=b, env=env)
        if finished.returncode != 0:
            return False, _said(finished)
        return _frames_of(Path(finished.stdout.strip()), source, reference)

    for strategy in ("adaptive", "uniform"):
        family.case(f"`analyze rel/video.mp4` in a/, then `sample --strategy {strategy} rel/video.mp4` in b/",
                    "b/rel/video.mp4's frames",
                    lambda s=strategy: sampled(relative, s, b / relative, clips.decoy_frames, f"rel-{s}"))
    family.case("then `sample` of a/'s file by its absolute path, in b/", "a/rel/video.mp4's frames",
                lambda: sampled(a / relative, "adaptive", a / relative, clips.mine_frames, "absolute"))
    family.case("then `sample ../a/rel/video.mp4` in b/", "a/rel/video.mp4's frames",
                lambda: sampled(Path("..") / "a" / relative, "adaptive", a / relative, clips.mine_frames, "alias"))

    def no_cache(command: str) -> tuple[bool, str]:
        env = _fresh_cache(folder / f"no-cache-{command}-cache")
        out = folder / f"no-cache-{command}"
        extra = {"analyze": [], "sample": ["--frames", "4", "--out", out],
                 "batch": ["--frames", "4", "--workers", "1", "--out", out]}[command]
        finished = _cli(command, "--no-cache", *extra, clips.mine, env=env)
        written = _files_in(env["FRAMEPICK_CACHE"])
        right = finished.returncode == 0 and TRACEBACK not in finished.stderr
        if command == "sample" and right:
            right = json.loads(Path(finished.stdout.strip()).read_text())["video"]["frames"] == MINE_FRAMES
        if command == "batch" and right:
            right = _listing(out) == ["batch.jsonl", "mine"] and not _stale(out)
        return right and not written, f"{_said(finished)}; cache files written: {len(written)}"

    for command in ("analyze", "sample", "batch"):
        family.case(f"`{command} --no-cache`", "exit 0, the result, nothing in the cache folder",
                    lambda c=command: no_cache(c))
    return family


# --------------------------------------------------------------------------- huge and wrong settings


def huge_settings(folder: Path, clips: Clips) -> Family:
    family = Family("exit 2 and one line naming the setting within seconds, nothing written (--threads 0: the "
                    "default, frames written); in Python a ConfigError naming it, in under 1 MB and 1 s")
    folder.mkdir()

    def refused(*options: object, words: tuple[str, ...], command: str = "sample") -> tuple[bool, str]:
        out = folder / f"out-{len(family.cases)}"
        started = time.monotonic()
        finished = _cli(command, *options, "--out", out, clips.mine, cwd=folder)
        clean, got = _refused(finished, *words)
        seconds = time.monotonic() - started
        return clean and seconds < 10 and not out.exists(), f"{got} in {seconds:.1f} s, out written: {out.exists()}"

    for options, words in [(("--strategy", "fps", "--fps", "1e8"), ("fps",)),
                           (("--frames", "1000000000000"), ("frames",)),
                           (("--strategy", "fps", "--fps", "1e308"), ("fps",)),
                           (("--timeout", "1e-9"), ("timeout",)),
                           (("--detector-param", "min_scene_len=1e12"), ("min_scene_len",)),
                           (("--threads", "100000"), ("threads",))]:
        family.case(f"`sample {' '.join(options)}`", f"exit 2, one line naming {words[0]}",
                    lambda o=options, w=words: refused(*o, words=w))

    def threads_zero() -> tuple[bool, str]:
        out = folder / "threads0"
        finished = _cli("sample", "--threads", "0", "--frames", "4", "--out", out, clips.mine)
        clean = finished.returncode == 0 and len(list((out / "mine").glob("*.jpg"))) == 4
        return clean, _said(finished)

    family.case("`sample --threads 0`", "exit 0, 4 frames (0 = one thread per core)", threads_zero)

    def empty_out() -> tuple[bool, str]:
        where = folder / "empty-out"
        where.mkdir()
        finished = _cli("sample", "--frames", "4", "--out", "", clips.mine, cwd=where)
        clean, got = _refused(finished, "out")
        return clean and list(where.iterdir()) == [], f"{got}; written in the working folder: " \
                                                       f"{[p.name for p in where.iterdir()]}"

    family.case("`sample --out ''`", "exit 2, one line naming --out, nothing written", empty_out)

    def long_out(command: str) -> tuple[bool, str]:
        top = folder / f"long-{command}"
        out = top / "/".join(["d" * 200] * 22)  # 4,400 characters: past PATH_MAX (4096), each part < NAME_MAX
        finished = _cli(command, "--frames", "4", "--out", out, clips.mine)
        clean, got = _refused(finished)
        made = [str(p.relative_to(folder))[:40] + "..." for p in top.rglob("*")] if top.exists() else []
        return clean and not made, f"{got}; made under it: {len(made)} entries"

    for command in ("sample", "batch"):
        family.case(f"`{command} --out <4,400 characters>`", "exit 2, one line, nothing created",
                    lambda c=command: long_out(c))

    for text, shown in (("[1, 2]", "[1, 2]"), ("true", "true"), ('"8"', '"8"')):
        def wrong_type(text: str = text) -> tuple[bool, str]:
            path = _toml(folder / f"frames-{len(family.cases)}.toml", f"[strategy]\nframes = {text}\n")
            outcomes = []
            for command in ("sample", "batch"):
                out = folder / f"toml-{command}-{len(family.cases)}"
                finished = _cli(command, "--config", path, "--out", out, clips.mine)
                clean, got = _refused(finished, str(path), "frames")
                outcomes.append((clean and not out.exists(), f"{command}: {got}"))
            try:
                framepick.load_config(path)
                outcomes.append((False, "load_config accepted it"))
            except framepick.ConfigError as exc:
                outcomes.append(("\n" not in str(exc) and "frames" in str(exc), f"load_config: {_line(exc)}"))
            return all(ok for ok, _ in outcomes), "; ".join(got for _, got in outcomes)

        family.case(f"TOML `frames = {shown}` in sample, batch and load_config",
                    "exit 2 / ConfigError, one line naming the file and frames", wrong_type)

    analysis = framepick.analyze(clips.mine)
    framepick.select(analysis, "fps", fps=1.0)  # the modules imported before memory is measured
    framepick.select(analysis, "uniform", frames=4)
    for strategy, params in (("fps", {"fps": 1e9}), ("uniform", {"frames": 10**12}), ("uniform", {"fps": 1e308})):
        def huge(strategy: str = strategy, params: dict = params) -> tuple[bool, str]:
            tracemalloc.start()
            started = time.monotonic()
            try:
                tracemalloc.reset_peak()
                try:
                    outcome: object = framepick.select(analysis, strategy, **params)
                except Exception as exc:  # noqa: BLE001 - the outcome to check
                    outcome = exc
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            seconds = time.monotonic() - started
            name = next(iter(params))
            clean = (isinstance(outcome, framepick.ConfigError) and "\n" not in str(outcome)
                     and name in str(outcome) and peak < 1_000_000 and seconds < 1)
            return clean, f"{type(outcome).__name__}: {_line(outcome, 160)}; peak {peak / 1e3:.0f} kB, {seconds:.2f} s"

        family.case(f"`select(analysis, {strategy!r}, {', '.join(f'{k}={v:g}' for k, v in params.items())})`",
                    "ConfigError naming it, quickly, little memory", huge)

    def batch_of_str() -> tuple[bool, str]:
        videos = folder / "one video"
        videos.mkdir()
        shutil.copy(clips.mine, videos / "clip.mp4")
        summary = framepick.run_batch(str(videos), out_dir=folder / "str-out", workers=1, progress=False,
                                      config=framepick.JobConfig(params={"frames": 2}))
        return (summary.videos == 1 and summary.counts["ok"] == 1,
                f"{summary.videos} videos, counts {summary.counts}")

    family.case('`run_batch("folder")` (a str)', "one input: the folder's one video", batch_of_str)
    return family


# --------------------------------------------------------------------------- outputs


def _make_container(path: Path, options: list[str], frames: int) -> str | None:
    """``frames`` frames of ffmpeg's test picture in ``path``; None, or why ffmpeg could not write it."""
    made = subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=160x96:rate=25",
                           "-frames:v", str(frames), "-pix_fmt", "yuv420p", *options, str(path)],
                          capture_output=True, text=True)
    if made.returncode != 0 or not path.is_file() or path.stat().st_size == 0:
        path.unlink(missing_ok=True)
        return _line(made.stderr, 160)
    return None


def _statuses(out: Path) -> dict[str, dict]:
    """The last status line of every video in ``out/batch.jsonl``, by the video's path as given."""
    lines = [json.loads(line) for line in (out / "batch.jsonl").read_text().splitlines()]
    return {line["video"]: line for line in lines if "video" in line}


def outputs(folder: Path, clips: Clips) -> Family:
    family = Family("every source file its own output, kept across runs; a damaged output redone on the rerun")
    folder.mkdir()
    same = [folder / "a" / "v.mp4", folder / "b" / "v.mp4"]
    for path, scenes in zip(same, ([20, 20], [15, 25, 10])):
        path.parent.mkdir()
        write_video(path, scenes)
    out = folder / "same-out"

    def both_kept() -> tuple[bool, str]:
        runs = [_cli("batch", "--frames", "4", "--workers", "1", "--out", out, path) for path in same]
        kept = {}
        for name in _listing(out):
            if (out / name / "manifest.json").is_file():
                video = json.loads((out / name / "manifest.json").read_text())["video"]
                kept[video["path"]] = video["frames"]
        clean = all(r.returncode == 0 for r in runs) and kept == {str(same[0]): 40, str(same[1]): 50}
        return clean and not _stale(out), f"exits {[r.returncode for r in runs]}, outputs {kept}"

    family.case("two batches of a/v.mp4 and b/v.mp4 into one --out", "both kept, each with its own frames",
                both_kept)

    def both_skipped() -> tuple[bool, str]:
        rerun = _cli("batch", "--frames", "4", "--workers", "2", "--out", out, *same)
        statuses = {Path(k).parent.name: v["status"] for k, v in _statuses(out).items()}
        clean = rerun.returncode == 0 and statuses == {"a": "skipped", "b": "skipped"} and len(_listing(out)) == 3
        return clean, f"exit {rerun.returncode}, {statuses}, {_listing(out)}"

    family.case("then one batch of both", "both skipped, still two outputs", both_skipped)

    twelve = folder / "twelve"
    twelve.mkdir()
    made = []
    for number, (extension, options) in enumerate(CONTAINERS.items()):
        why = _make_container(twelve / f"v.{extension}", options, 10 + 3 * number)
        if why is None:
            made.append(extension)
        else:
            family.notes.append(f"v.{extension} not made (this FFmpeg cannot write it: {why}); not counted")
    if len(made) == len(CONTAINERS):
        family.notes.append(f"all {len(made)} made by the ffmpeg binary of imageio-ffmpeg from its test picture, "
                            "10 to 43 frames (v.dv as PAL DV at 720x576, v.divx as AVI with the DIVX tag, v.mk3d "
                            "as Matroska)")
    batch_out, sample_out = folder / "twelve-batch", folder / "twelve-sample"
    batch = _cli("batch", "--frames", "2", "--workers", "2", "--out", batch_out, twelve)
    found = {Path(video).name: line for video, line in _statuses(batch_out).items()} \
        if (batch_out / "batch.jsonl").is_file() else {}
    family.notes.append(f"batch of the folder of {len(made)}: {_said(batch)}; {len(found)} status lines")
    samples = {extension: _cli("sample", "--frames", "2", "--out", sample_out, twelve / f"v.{extension}")
               for extension in made}

    def own_output(extension: str, how: str) -> tuple[bool, str]:
        path = twelve / f"v.{extension}"
        if how == "batch":
            line = found.get(path.name)
            if line is None:
                return False, "no status line: the batch did not take it (not among the folder's videos)"
            if line["status"] != "ok":
                return False, f"{line['status']}: {line.get('reason')}"
            manifest = Path(line["manifest"])
        else:
            if samples[extension].returncode != 0:
                return False, _said(samples[extension])
            manifest = Path(samples[extension].stdout.strip())
        video = json.loads(manifest.read_text())["video"]
        return video["path"] == str(path), f"{manifest.parent.name}/ of {video['path']}, {video['frames']} frames"

    for extension in made:
        family.case(f"v.{extension}: batch of the folder", "its own output", lambda e=extension: own_output(e, "batch"))
        family.case(f"v.{extension}: `sample` into a shared --out", "its own output",
                    lambda e=extension: own_output(e, "sample"))

    def damaged(how: str) -> tuple[bool, str]:
        out = folder / f"damaged-{how}"
        first = _cli("batch", "--frames", "4", "--workers", "1", "--out", out, clips.mine)
        names = sorted(p.name for p in (out / "mine").glob("frame_*.jpg"))
        images = {name: (out / "mine" / name).read_bytes() for name in names}
        if first.returncode != 0 or len(names) != 4:
            return False, f"first run: {_said(first)}"
        if how == "truncated":
            (out / "mine" / names[0]).write_bytes(images[names[0]][:100])
        elif how == "swapped":
            (out / "mine" / names[1]).write_bytes(images[names[2]])
            (out / "mine" / names[2]).write_bytes(images[names[1]])
        else:
            data = bytearray(images[names[3]])
            data[len(data) // 2] ^= 0xFF
            (out / "mine" / names[3]).write_bytes(bytes(data))
        rerun = _cli("batch", "--frames", "4", "--workers", "1", "--out", out, clips.mine)
        status = _statuses(out)[str(clips.mine)]["status"]
        now = {p.name: p.read_bytes() for p in (out / "mine").glob("frame_*.jpg")}
        clean = rerun.returncode == 0 and status == "ok" and now == images and not _stale(out)
        return clean, f"rerun exit {rerun.returncode}, status {status}, images as first written: {now == images}"

    for how in ("truncated", "swapped", "altered"):
        family.case(f"{'an' if how[0] == 'a' else 'a'} {how} JPEG in a finished output, then the batch again",
                    "redone (status ok), the images as first written", lambda h=how: damaged(h))
    return family


# --------------------------------------------------------------------------- geometry


def ffmpeg_frames(path: Path) -> np.ndarray:
    """Every frame the ffmpeg command line decodes from ``path`` (autorotate on), RGB (n, h, w, 3)."""
    first = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-frames:v", "1", "-f", "image2pipe",
                            "-vcodec", "png", "-"], capture_output=True, check=True).stdout
    width, height = Image.open(io.BytesIO(first)).size
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3)


def as_jpeg(pixels: np.ndarray, quality: int) -> np.ndarray:
    """``pixels`` after a round trip through a JPEG as Pillow writes it at ``quality``."""
    encoded = io.BytesIO()
    Image.fromarray(pixels).save(encoded, "JPEG", quality=quality)
    return np.asarray(Image.open(encoded).convert("RGB"))


def geometry(folder: Path) -> Family:
    family = Family("ffmpeg's frame count and size, each JPEG ffmpeg's decoded frame (display transform "
                    "included) after the same JPEG encoding, pixel for pixel; uniform and scenes")
    folder.mkdir()
    toml = _toml(folder / "q95.toml", '[output]\nresize = "none"\njpeg_quality = 95\n')

    def rotation(path: Path) -> None:
        write_video(folder / "upright.mp4", [20, 20], gop=10)
        write_with_display_flags(folder / "upright.mp4", path, "-display_rotation", "270", "-display_hflip")

    def sized(width: int, height: int) -> Callable[[Path], object]:
        return lambda path: write_video(path, [4, 3], width=width, height=height,
                                        pix_fmt="yuv420p" if width % 2 == 0 else "yuv444p")

    def edit_list(path: Path) -> None:
        write_video(folder / "whole.mp4", [30, 30, 30], gop=25)
        write_edit_list_cut(folder / "whole.mp4", path, start_s=0.5)  # half a second into the first GOP

    def mid_gop(path: Path) -> None:
        write_video(folder / "whole.ts", [30, 30, 30], gop=50)
        write_mid_gop_ts(folder / "whole.ts", path, drop_packets=10)

    makers = {"rotation 270 + hflip (display matrix)": ("rot270-hflip.mp4", rotation),
              "2x2": ("2x2.mp4", sized(2, 2)), "3x5": ("3x5.mp4", sized(3, 5)),
              "16x9000": ("16x9000.mp4", sized(16, 9000)),
              "MP4 whose edit list cuts the first 0.5 s": ("edit-list.mp4", edit_list),
              "MPEG-TS starting mid-GOP": ("mid-gop.ts", mid_gop),
              "one frame": ("one.mp4", lambda path: write_video(path, [1]))}

    def as_ffmpeg(path: Path) -> tuple[bool, str]:
        reference = ffmpeg_frames(path)
        said = []
        for strategy in ("uniform", "scenes"):
            finished = _cli("sample", "--config", toml, "--strategy", strategy, "--frames", "6", "--no-cache",
                            "--out", folder / f"out-{strategy}", path)
            if finished.returncode != 0:
                return False, f"{strategy}: {_said(finished)}"
            manifest, jpegs = _pictures(Path(finished.stdout.strip()))
            indices = [frame["index"] for frame in manifest["frames"]]
            if manifest["video"]["frames"] != len(reference) or max(indices) >= len(reference):
                return False, f"{strategy}: {manifest['video']['frames']} frames, ffmpeg {len(reference)}"
            for index, jpeg in zip(indices, jpegs):
                expected = as_jpeg(reference[index], 95)
                if jpeg.shape != expected.shape:
                    return False, f"{strategy}: frame {index} is {jpeg.shape[1]}x{jpeg.shape[0]}, ffmpeg's " \
                                  f"{expected.shape[1]}x{expected.shape[0]}"
                if not np.array_equal(jpeg, expected):
                    difference = np.abs(jpeg.astype(int) - expected).mean()
                    return False, f"{strategy}: frame {index} differs from ffmpeg's by {difference:.2f} on average"
            said.append(f"{strategy} {indices}")
        return True, f"{len(reference)} frames of {reference.shape[2]}x{reference.shape[1]}, as ffmpeg: " \
                     + ", ".join(said)

    for name, (file_name, make) in makers.items():
        path = folder / file_name
        family.case(name, "ffmpeg's frames", lambda make=make, path=path: (make(path), as_ffmpeg(path))[1])
    return family


# --------------------------------------------------------------------------- process faults


def _signalled_batch(folder: Path, clips: Clips, how: signal.Signals, number: int) -> tuple[bool, str]:
    """A batch of the slow video and ``mine`` (2 workers) sent ``how`` once a worker has the slow
    video open: SIGINT to its process group (a terminal's Ctrl-C), SIGTERM to the batch alone."""
    out = folder / f"batch-{how.name}"
    command = ["batch", "--size", str(96 + 2 * number), "--strategy", "adaptive", "--frames", "4", "--workers", "2",
               "--out", out, clips.slow, clips.mine]  # a size of its own: an analysis not in the cache
    process = subprocess.Popen([sys.executable, "-m", "framepick.cli", *map(str, command)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        opened = _wait_for(lambda: any(has_open(pid, clips.slow) for pid in children(process.pid))
                           or process.poll() is not None, 120)
        if not opened or process.poll() is not None:
            return False, "no worker opened the slow video"
        time.sleep(0.5)
        if how == signal.SIGINT:
            os.killpg(process.pid, how)
        else:
            process.send_signal(how)
        _, stderr = process.communicate(timeout=120)  # to the end of stderr: the resource tracker's too
        _wait_for(lambda: not _group(process.pid), 10)
        left = _group(process.pid)
    finally:
        _end_group(process)
    rerun = _cli(*command)
    complete = rerun.returncode == 0 and _listing(out) == ["batch.jsonl", "mine", "slow"] and not _stale(out)
    clean = (process.returncode == 130 and "leaked" not in stderr and TRACEBACK not in stderr and not left
             and complete)
    return clean, (f"exit {process.returncode}, stderr {_line(stderr, 200)!r}, processes left {left}; rerun exit "
                   f"{rerun.returncode}, outputs {_listing(out)}, stale {_stale(out)}")


def faults(folder: Path, clips: Clips) -> Family:
    family = Family("a killed worker: its video failed (exit 1), reaped, the batch goes on; SIGKILLed sample: "
                    "staging gone after the next run; SIGTERM/SIGHUP/SIGINT: exit 130, one line, no staging, "
                    "no 'leaked semaphore' warning, no process left, the rerun complete")
    folder.mkdir()

    def worker_killed() -> tuple[bool, str]:
        out = folder / "worker-killed"
        command = ["batch", "--size", "94", "--strategy", "adaptive", "--frames", "4", "--workers", "1",
                   "--timeout", "600", "--out", out, clips.slow, clips.mine]
        process = subprocess.Popen([sys.executable, "-m", "framepick.cli", *map(str, command)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            worker: list[int] = []

            def found() -> bool:
                worker[:] = [pid for pid in children(process.pid) if has_open(pid, clips.slow)]
                return bool(worker) or process.poll() is not None

            _wait_for(found, 120)
            if not worker:
                return False, "no worker opened the slow video"
            os.kill(worker[0], signal.SIGKILL)

            def reported() -> bool:
                status = out / "batch.jsonl"
                return process.poll() is not None or (status.is_file() and '"failed"' in status.read_text())

            _wait_for(reported, 120)
            zombie = state(worker[0]) == "Z"
            stdout, stderr = process.communicate(timeout=300)
        finally:
            _end_group(process)
        lines = _statuses(out)
        slow, mine = lines.get(str(clips.slow), {}), lines.get(str(clips.mine), {})
        clean = (process.returncode == 1 and slow.get("status") == "failed" and "SIGKILL" in slow.get("reason", "")
                 and mine.get("status") == "ok" and not zombie and TRACEBACK not in stderr
                 and _listing(out) == ["batch.jsonl", "mine"] and not _stale(out))
        return clean, (f"exit {process.returncode}, slow: {slow.get('status')} ({slow.get('reason')}), mine: "
                       f"{mine.get('status')}, zombie when reported: {zombie}, outputs {_listing(out)}")

    family.case("SIGKILL of one batch worker mid-video", "recorded failure, exit 1, no zombie, the batch goes on",
                worker_killed)

    def sample_signalled(how: signal.Signals) -> tuple[bool, str]:
        out = folder / f"sample-{how.name}"
        staging = out / OWN / "staging"
        # uniform: the frame times alone, then 768 frames to write, a while in the staging folder
        process = subprocess.Popen([sys.executable, "-m", "framepick.cli", "sample", "--frames", "768", "--out",
                                    str(out), str(clips.slow)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, start_new_session=True)
        try:
            _wait_for(lambda: (staging.is_dir() and any(staging.iterdir())) or process.poll() is not None, 120)
            if process.poll() is not None:
                return False, f"sample ended before it wrote: exit {process.returncode}"
            process.send_signal(how)
            _, stderr = process.communicate(timeout=120)
        finally:
            _end_group(process)
        stale_after = _stale(out)
        half = (out / "slow").exists()
        after = _cli("sample", "--frames", "2", "--out", out, clips.mine)
        next_clean = after.returncode == 0 and _listing(out) == ["mine"] and not _stale(out)
        if how == signal.SIGKILL:
            clean = process.returncode == -signal.SIGKILL and next_clean
        else:
            clean = (process.returncode == 130 and stderr == "framepick: interrupted\n" and not stale_after
                     and not half and next_clean)
        return clean, (f"exit {process.returncode}, stderr {_line(stderr, 120)!r}, staging after it "
                       f"{len(stale_after)}, output folder: {half}; next run exit {after.returncode}, "
                       f"staging after it {_stale(out)}")

    family.case("SIGKILL of `sample` while it writes", "the next run leaves no staging",
                lambda: sample_signalled(signal.SIGKILL))
    for how in (signal.SIGTERM, signal.SIGHUP):
        family.case(f"{how.name} of `sample` while it writes", "exit 130, `framepick: interrupted`, no staging, "
                    "no output folder", lambda h=how: sample_signalled(h))
    for number, how in enumerate((signal.SIGINT, signal.SIGTERM)):
        where = "its process group" if how == signal.SIGINT else "the batch"
        family.case(f"{how.name} to {where} mid-video", "exit 130, no 'leaked semaphore' warning, no process left, "
                    "the rerun complete", lambda h=how, n=number: _signalled_batch(folder, clips, h, n))
    return family


# --------------------------------------------------------------------------- the Python API


def python_api(folder: Path, clips: Clips) -> Family:
    family = Family("a FramepickError whose one-line message starts with (or names) the argument, before any work, "
                    "nothing written; a pathlib.Path read as its str")
    from framepick.qwen import fetch_video, from_manifest, process_vision_info

    folder.mkdir()
    out = folder / "out"
    mine = framepick.analyze(clips.mine)
    other = framepick.analyze(clips.decoy)
    uniform = framepick.select(mine, "uniform", frames=4)

    def refused(call: Callable[[], object], name: str) -> Callable[[], tuple[bool, str]]:
        def check() -> tuple[bool, str]:
            before = sorted(p.name for p in folder.iterdir())
            try:
                outcome = call()
                return False, f"returned {_line(outcome, 120)}"
            except framepick.FramepickError as exc:
                message = str(exc)
                written = sorted(p.name for p in folder.iterdir()) != before
                clean = "\n" not in message and name in message and not written
                return clean, f"{type(exc).__name__}: {_line(message, 200)}; written: {written}"
            except Exception as exc:  # noqa: BLE001 - not framepick's: unclean
                return False, f"{type(exc).__name__} (not a FramepickError): {_line(exc, 200)}"
        return check

    cases = [
        ("`sample(path, out_dir=None)`", lambda: framepick.sample(clips.mine, out_dir=None), "out_dir"),
        ('`sample(path, config="x.toml")`', lambda: framepick.sample(clips.mine, out_dir=out, config="x.toml"),
         "config"),
        ("`sample(video, analysis=<another video's>)`",
         lambda: framepick.sample(clips.mine, "adaptive", out_dir=out, analysis=other, frames=4), "analysis"),
        ("`compare(A, None)`", lambda: framepick.compare(mine, None), "selections[0]"),
        ('`compare(A, "adaptive")`', lambda: framepick.compare(mine, "adaptive"), "selections[0]"),
        ("`compare(A, good, <indices -5, 3>)`",
         lambda: framepick.compare(mine, uniform, framepick.Selection(np.array([-5, 3]), np.array([0.0, 0.1]), "x")),
         "selections[1]"),
        ("`compare(A, <indices 3, 500>)` (40 frames)",
         lambda: framepick.compare(mine, framepick.Selection(np.array([3, 500]), np.array([0.1, 20.0]), "x")),
         "selections[0]"),
        ("`fetch_video({})`", lambda: fetch_video({}), "ele"),
        ("`fetch_video` min_pixels > max_pixels",
         lambda: fetch_video({"video": str(clips.mine), "min_pixels": 500_000, "max_pixels": 100_000}), "min_pixels"),
        ("`fetch_video` max_pixels=-5", lambda: fetch_video({"video": str(clips.mine), "max_pixels": -5}),
         "max_pixels"),
        ("`fetch_video` resized_height=-5, resized_width=-7",
         lambda: fetch_video({"video": str(clips.mine), "resized_height": -5, "resized_width": -7}), "resized_"),
        ("`fetch_video({\"video\": Path(<missing>)})`", lambda: fetch_video({"video": folder / "missing.mp4"}),
         str(folder / "missing.mp4")),
        ("`process_vision_info(None)`", lambda: process_vision_info(None), "conversations"),
        ('`from_manifest("{}")`', lambda: from_manifest("{}"), "manifest_path"),
    ]
    for name, call, argument in cases:
        family.case(name, f"one line naming {argument}", refused(call, argument))

    def path_like_str() -> tuple[bool, str]:
        by_path = fetch_video({"video": clips.mine, "nframes": 4})
        by_str = fetch_video({"video": str(clips.mine), "nframes": 4})
        same = tuple(by_path.shape) == tuple(by_str.shape) and bool((by_path == by_str).all())
        return same, f"{tuple(by_path.shape)} frames, the same as for its str: {same}"

    family.case('`fetch_video({"video": Path(<video>)})`', "the frames a str gives", path_like_str)
    return family


# --------------------------------------------------------------------------- the report


def _tree() -> str:
    """Which framepick was measured: the commit of this tree, and whether its toolkit/ had changes."""
    imported = Path(framepick.__file__).resolve()
    where = "" if imported.is_relative_to(ROOT.resolve()) else f" (imported from {imported.parent}, outside this tree)"
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        changed = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "toolkit"],
                                 capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"framepick from a tree outside git{where}"
    return f"framepick at commit {commit}" + (" with uncommitted changes in toolkit/" if changed else "") + where


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corruptions", type=int, default=350)
    parser.add_argument("--truncations", type=int, default=80)
    parser.add_argument("--concurrent", type=int, default=5)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    # run in the background (nohup, `cmd &`), this process and every command it starts would have
    # SIGINT and SIGHUP ignored: the signal cases need them as a terminal delivers them
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    rng = random.Random(args.seed)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["FRAMEPICK_CACHE"] = str(Path(tmp) / "cache")
        work = Path(tmp)
        results = {
            "corrupt and truncated files": corruptions(work / "bad", work / "bad-out", args.corruptions,
                                                      args.truncations, rng),
            "hostile names": names(work / "names", work / "names-out"),
            "bad settings": settings(),
            "two batches into one --out": concurrency(work / "concurrent", args.concurrent),
            "SIGKILL / SIGTERM mid-batch, then a rerun": kills(work / "kills", args.kills, rng),
            "playlists, FIFOs, sparse files, a time limit": openers(work / "openers"),
        }
        if os.geteuid() == 0:
            results["full disk (1 MB tmpfs): sample, batch, cache"] = full_disk(work / "full")
        clips = Clips.make(work / "clips")
        results.update({
            "names FFmpeg reads as protocols": protocol_names(work / "protocols", clips).result(),
            "the cache: relative paths, --no-cache": cache(work / "cache-cases", clips).result(),
            "huge and wrong settings (CLI, TOML, Python)": huge_settings(work / "huge", clips).result(),
            "outputs: same stems, twelve containers, damaged JPEGs": outputs(work / "outputs", clips).result(),
            "geometry and containers as ffmpeg shows them": geometry(work / "geometry").result(),
            "process faults: killed workers, signals": faults(work / "faults", clips).result(),
            "Python API arguments": python_api(work / "api", clips).result(),
        })
    minutes = (time.monotonic() - started) / 60
    total = sum(r["cases"] for r in results.values())
    clean = sum(r["clean"] for r in results.values())
    bad = results["corrupt and truncated files"]
    lines = [
        "# Reliability: hostile inputs, names, settings, outputs, geometry, faults, the API",
        "",
        f"{datetime.date.today().isoformat()}, `python reports/bench/bench_reliability.py --corruptions "
        f"{args.corruptions} --truncations {args.truncations} --concurrent {args.concurrent} --kills {args.kills} "
        f"--seed {args.seed}`, {_tree()} ({minutes:.1f} min on this 2-core machine, shared with other jobs). "
        "Clean: the "
        "documented outcome, i.e. the right frames, or a one-line error of framepick's naming the file or "
        "argument and the cause (exit 2 or the documented status); nothing lost, nothing outside `--out`, "
        "nothing half written, no traceback, no stale staging, no worker left behind.",
        "",
        "| family | cases | clean | unclean |",
        "|---|---:|---:|---:|",
        *[f"| {name} | {r['cases']} | {r['clean']} ({100 * r['clean'] / max(r['cases'], 1):.1f}%) | "
          f"{r['cases'] - r['clean']} |" for name, r in results.items()],
        f"| **all** | **{total}** | **{clean} ({100 * clean / total:.1f}%)** | **{total - clean}** |",
        "",
        f"Corrupt and truncated files: {bad['ok']} still analysed and extracted, {bad['timed_out']} killed at "
        f"the time limit (a hang caught by the batch), {bad['cases'] - bad['ok']} failed with a reason; "
        f"{bad['seconds']:.0f} s for the batch. Most frequent reasons:",
        "",
        *[f"- {count} x `{reason}`" for reason, count in bad["reasons"]],
        "",
        "## Expected outcome and unclean cases, by family",
        "",
    ]
    for name, r in results.items():
        lines.append(f"**{name}**: expected {r['expected']}.")
        lines.extend(f"- note: {note}" for note in r.get("notes", []))
        lines.extend(f"- unclean: {case}" for case in r.get("unclean", []))
        if not r.get("unclean"):
            lines.append("- no unclean case")
        lines.append("")
    if os.geteuid() != 0:
        lines += ["Not covered in this run: a full disk (needs a tmpfs mounted as root).", ""]
    text = "\n".join(lines).replace(str(work), "$TMP")  # the run's temporary folder
    REPORT.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
