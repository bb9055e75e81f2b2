"""Reliability: hostile inputs, names, settings, concurrent batches and killed runs, tabulated.

Cases (seeded, so a run is repeatable):

- corruptions: copies of the bundled clips with random bytes overwritten (1-400 bytes at random
  offsets) and truncations at random lengths, plus empty and garbage files, run as one batch
  (2 workers, a 30 s limit per video). A case is clean when it is ``ok`` or fails with a one-line
  reason from framepick (not a Python exception's name), and nothing of it is left half written;
- names: hostile file names in one batch: every video ok, every result inside ``--out``;
- settings: bad values of every setting through the API: a ConfigError naming the setting;
- concurrency: a second batch into the same ``--out`` while one runs: refused, the first unharmed;
- kills: a batch killed with SIGKILL or SIGTERM at a random moment, then run again: no worker left,
  the rerun complete, nothing left in the staging area;
- openers: files that make FFmpeg open other files or block (a FIFO named .mp4, HLS and ffconcat
  playlists naming a FIFO or another video, a sparse TS file), and a video past ``sample``'s time
  limit, each through ``framepick sample``: a one-line error naming the file within seconds, nothing
  written;
- full disk (as root only): ``sample`` and ``batch`` into a small tmpfs, the cache on a full tmpfs:
  a one-line error or a failed status line, nothing half written; a full cache is only a warning.

Usage::

    python reports/bench/bench_reliability.py [--corruptions 350] [--truncations 80]

Writes ``reports/reliability.md``.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from helpers import BIKES, SAMPLE, listing  # noqa: E402
from videos import write_slow_video, write_video  # noqa: E402

REPORT = ROOT / "reports" / "reliability.md"
HOSTILE = ["..mp4", "....mp4", ".partial-x.mp4", ".old-y.mp4", "batch.jsonl.mp4", "Batch.JSONL.mp4",
           "new\nline.mp4", "tab\there.mp4", " spaced .mp4", "ünïcödé 🎬.mp4", "x" * 240 + ".mp4", "X.mp4", "x.mp4",
           "semi;colon.mp4", "quote'\"s.mp4", "$(touch pwned).mp4", "-rf.mp4", "star*.mp4"]


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
    from framepick import run_batch
    from framepick.config import JobConfig

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
    summary = run_batch([folder], out_dir=out, workers=2, progress=False,
                        config=JobConfig(strategy="adaptive", params={"frames": 8}, timeout_s=30.0))
    lines = summary.results
    reasons = Counter(line.get("reason", "ok").split(" (")[0].split(": ")[-1][:60] for line in lines)
    return {"cases": len(lines), "clean": sum(_clean(line) for line in lines),
            "ok": sum(line["status"] == "ok" for line in lines),
            "timed_out": sum("timed out" in line.get("reason", "") for line in lines),
            "left_over": len(listing(out)) - len([line for line in lines if line["status"] == "ok"]) - 1,
            "unclean": [line for line in lines if not _clean(line)][:5],
            "reasons": reasons.most_common(8), "seconds": time.perf_counter() - started}


def names(folder: Path, out: Path) -> dict:
    from framepick import run_batch

    folder.mkdir()
    for name in HOSTILE:
        shutil.copy(BIKES, folder / name)
    summary = run_batch([folder], out_dir=out, workers=2, progress=False)
    inside = all(Path(line["manifest"]).resolve().parent.parent == out.resolve() for line in summary.results
                 if line["status"] == "ok")
    ok = summary.counts["ok"] == len(HOSTILE) and inside and len(listing(out)) == len(HOSTILE) + 1
    return {"cases": len(HOSTILE), "clean": len(HOSTILE) if ok else summary.counts["ok"]}


def settings() -> dict:
    from framepick.config import AnalysisConfig, JobConfig, OutputConfig
    from framepick.errors import ConfigError

    bad = [
        *[(AnalysisConfig, {k: v}) for k, v in (("size", 0), ("size", 10**9), ("size", "a"), ("rate_fps", -1),
                                               ("rate_fps", math.inf), ("rate_fps", math.nan), ("thumb_fps", 0),
                                               ("thumb_fps", math.inf), ("thumb_size", 2), ("threads", -1),
                                               ("threads", 100_000), ("backend", "x"), ("detector", "x"),
                                               ("detector_params", "x"))],
        *[(OutputConfig, {k: v}) for k, v in (("factor", 0), ("factor", 100_000), ("min_pixels", 10**12),
                                             ("max_pixels", 1), ("total_pixels", -1), ("jpeg_quality", 0),
                                             ("jpeg_quality", 100), ("resize", "x"), ("factor", True))],
        *[(JobConfig, {k: v}) for k, v in (("timeout_s", 0), ("timeout_s", math.inf), ("timeout_ratio", math.nan),
                                          ("timeout_ratio", -1), ("strategy", "x"))],
    ]
    clean = 0
    for cls, kwargs in bad:
        try:
            cls(**kwargs)
        except ConfigError as exc:
            clean += "\n" not in str(exc)
        except Exception:  # noqa: BLE001 - counted as unclean
            pass
    return {"cases": len(bad), "clean": clean}


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
    return {"cases": runs, "clean": clean}


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
    return {"cases": runs, "clean": clean, "unclean": unclean}


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
    from framepick.config import JobConfig, save_config

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
    clean = 0
    for name in [*files, "sparse.ts"]:
        out = folder / f"out-{name}"
        try:
            finished = _sample(folder / name, out, "--strategy", "adaptive", timeout=60)
        except subprocess.TimeoutExpired:
            continue
        clean += _one_line_error(finished, folder / name) and not out.exists()
    limits = save_config(JobConfig(strategy="adaptive", timeout_ratio=0.0), folder / "limits.toml")
    long_video = folder / "long.mp4"
    write_slow_video(long_video)  # about 16 s of analysis
    started = time.monotonic()
    finished = _sample(long_video, folder / "out-long", "--config", str(limits), "--timeout", "2")
    clean += (_one_line_error(finished, long_video, status=3) and time.monotonic() - started < 10
              and not (folder / "out-long" / "long").exists())
    return {"cases": len(files) + 2, "clean": clean}


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
        batch_clean = batch.returncode in (1, 2) and "Traceback" not in batch.stderr and (
            "No space left" in status or "No space left" in batch.stderr)
        shutil.rmtree(disk / "out", ignore_errors=True)
        shutil.rmtree(disk / "batch", ignore_errors=True)
        _fill(disk)
        env = {**os.environ, "FRAMEPICK_CACHE": str(disk / "cache")}
        cached = subprocess.run([sys.executable, "-m", "framepick.cli", "analyze", str(BIKES)],
                                capture_output=True, text=True, timeout=120, env=env)
        cache_clean = cached.returncode == 0 and "Traceback" not in cached.stderr
    finally:
        subprocess.run(["umount", str(disk)], check=False)
    return {"cases": 3, "clean": sample_clean + batch_clean + cache_clean}


def _fill(folder: Path) -> None:
    """Write zeros into ``folder`` until its file system is full."""
    try:
        with open(folder / "filler", "wb") as handle:
            while True:
                handle.write(b"\0" * 4096)
                handle.flush()
    except OSError:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corruptions", type=int, default=350)
    parser.add_argument("--truncations", type=int, default=80)
    parser.add_argument("--concurrent", type=int, default=5)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
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
    total = sum(r["cases"] for r in results.values())
    clean = sum(r["clean"] for r in results.values())
    bad = results["corrupt and truncated files"]
    lines = [
        "# Reliability: hostile inputs, names, settings, concurrency, kills",
        "",
        f"`python reports/bench/bench_reliability.py --corruptions {args.corruptions} --truncations "
        f"{args.truncations} --concurrent {args.concurrent} --kills {args.kills} --seed {args.seed}`. "
        "Clean: ok, or a one-line error of framepick's naming the file and the cause; nothing lost, "
        "nothing outside `--out`, nothing half written, no worker left behind.",
        "",
        "| class | cases | clean |",
        "|---|---:|---:|",
        *[f"| {name} | {r['cases']} | {r['clean']} ({100 * r['clean'] / r['cases']:.1f}%) |"
          for name, r in results.items()],
        f"| **all** | **{total}** | **{clean} ({100 * clean / total:.1f}%)** |",
        "",
        f"Corrupt and truncated files: {bad['ok']} still analysed and extracted, {bad['timed_out']} killed at "
        f"the time limit (a hang caught by the batch), {bad['cases'] - bad['ok']} failed with a reason; "
        f"{bad['seconds']:.0f} s for the batch. Most frequent reasons:",
        "",
        *[f"- {count} x `{reason}`" for reason, count in bad["reasons"]],
        "",
        *(["Unclean cases (first five):", "", *[f"- `{line}`" for line in bad["unclean"]], ""] if bad["unclean"]
          else []),
        *[f"- {name}: `{line}`" for name, r in results.items() if name != "corrupt and truncated files"
          for line in r.get("unclean", [])],
        *([] if os.geteuid() == 0 else ["Not covered in this run: a full disk (needs a tmpfs mounted as root).", ""]),
    ]
    REPORT.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
