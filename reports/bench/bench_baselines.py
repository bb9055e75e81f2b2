"""Measure the baselines framepick is compared with and write ``reports/baselines.md``.

On each generated video (see ``make_videos.py``), every measurement in a fresh process:

a. ``ffmpeg -threads T -i VIDEO -f null -`` with T = 2 and 1: the decode floor;
b. the qwen-vl-utils 0.0.14 decord path: ``decord.VideoReader(path, num_threads=...)``, then one
   ``vr.get_batch(idx).asnumpy()`` of its linspace indices at full size (``smart_nframes`` with its
   defaults: 2 frames per second, at most 768);
c. PySceneDetect's ``scenedetect.detect(path, AdaptiveDetector())``, with its cuts checked against
   the known cuts (a cut counts as found when detected within +-1 frame).

Raw results are merged into ``baselines.json`` in the video cache folder, so a quick run of a few
lengths updates the report without dropping the others.

Usage::

    python reports/bench/bench_baselines.py                 # 1, 3, 10 and 30 minutes
    python reports/bench/bench_baselines.py --lengths 1 3 --repeat 3
    python reports/bench/bench_baselines.py --report-only     # rewrite the report only
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import _harness as h
from make_videos import cache_dir, ensure_video

REPORT_PATH = Path(__file__).resolve().parents[1] / "baselines.md"
RESULTS_NAME = "baselines.json"
CUT_TOLERANCE_FRAMES = 1

# qwen-vl-utils 0.0.14 defaults (vision_process.py: FPS, FPS_MIN_FRAMES, FPS_MAX_FRAMES, FRAME_FACTOR).
QWEN_FPS = 2.0
QWEN_MIN_FRAMES = 4
QWEN_MAX_FRAMES = 768
QWEN_FRAME_FACTOR = 2


def qwen_nframes(total_frames: int, video_fps: float) -> int:
    """Number of frames qwen-vl-utils 0.0.14 samples (``smart_nframes`` with default settings)."""
    factor = QWEN_FRAME_FACTOR
    min_frames = math.ceil(QWEN_MIN_FRAMES / factor) * factor
    max_frames = math.floor(min(QWEN_MAX_FRAMES, total_frames) / factor) * factor
    wanted = total_frames / video_fps * QWEN_FPS
    return math.floor(min(max(wanted, min_frames), max_frames, total_frames) / factor) * factor


def qwen_indices(total_frames: int, nframes: int) -> list[int]:
    """Frame indices qwen-vl-utils reads: ``linspace(0, total - 1, nframes).round()``.

    qwen-vl-utils computes the linspace with torch in float32; this float64 one can differ by one
    frame on an index whose fraction is within float32 precision of .5.
    """
    import numpy as np

    return np.linspace(0, total_frames - 1, nframes).round().astype(int).tolist()


# --- run in fresh child processes through _harness.run_python ---------------------------------


def decord_qwen_batch(path: str, num_threads: int) -> dict:
    """The qwen-vl-utils 0.0.14 decord read: one ``get_batch`` of all sampled frames at full size.

    The real path then copies the array into a torch tensor (one more copy of the frames), which is
    left out here; torch is not installed.
    """
    import decord

    reader = decord.VideoReader(path, num_threads=num_threads)
    total_frames, fps = len(reader), reader.get_avg_fps()
    indices = qwen_indices(total_frames, qwen_nframes(total_frames, fps))
    video = reader.get_batch(indices).asnumpy()
    return {"decord_frames": total_frames, "shape": list(video.shape)}


def scenedetect_adaptive(path: str) -> list[int]:
    """Cut frames (first frame of each new scene) found by ``detect(path, AdaptiveDetector())``."""
    import scenedetect

    scenes = scenedetect.detect(path, scenedetect.AdaptiveDetector())
    return [start.frame_num for start, _ in scenes[1:]]


# -----------------------------------------------------------------------------------------------


def match_cuts(found: list[int], known: list[int], *, tolerance: int = CUT_TOLERANCE_FRAMES) -> dict:
    """Match detected cuts to known cuts within ``tolerance`` frames, each used at most once."""
    unused = sorted(found)
    missed = []
    for cut in known:
        near = [f for f in unused if abs(f - cut) <= tolerance]
        if near:
            unused.remove(min(near, key=lambda f: abs(f - cut)))
        else:
            missed.append(cut)
    return {"known": len(known), "found": len(known) - len(missed), "missed": missed, "extra": unused}


def measure_video(meta: dict, *, repeat: int, slow_repeat: int, decord_threads: int) -> dict:
    """Measure all baselines on one video; return a JSON-ready dict of medians and details."""
    path = meta["path"]
    rows = {}
    for threads in (2, 1):
        rows[f"ffmpeg_t{threads}"] = h.ffmpeg_null_decode(path, threads, n=repeat)
        print(f"  ffmpeg -threads {threads}: {rows[f'ffmpeg_t{threads}'].wall_s:.1f} s", flush=True)
    rows["decord"] = h.repeat(
        lambda: h.run_python("bench_baselines:decord_qwen_batch", path, decord_threads), slow_repeat
    )
    print(f"  decord get_batch: {rows['decord'].wall_s:.1f} s", flush=True)
    rows["scenedetect"] = h.repeat(
        lambda: h.run_python("bench_baselines:scenedetect_adaptive", path), slow_repeat
    )
    print(f"  scenedetect: {rows['scenedetect'].wall_s:.1f} s", flush=True)
    return {
        "video": {k: meta[k] for k in ("file", "frames", "fps", "duration_s", "size_bytes")}
        | {"cuts": len(meta["cuts"])},
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_after": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "decord_threads": decord_threads,
        "decord_result": rows["decord"].result,
        "cuts": match_cuts(rows["scenedetect"].result, meta["cuts"]),
        "rows": {
            name: {
                "wall_s": s.wall_s,
                "call_s": s.call_s,
                "peak_rss_mb": s.peak_rss_mb,
                "runs": len(s.runs),
                "walls_s": [r.wall_s for r in s.runs],
            }
            for name, s in rows.items()
        },
    }


LABELS = {
    "ffmpeg_t2": "`ffmpeg -threads 2 -f null` decode",
    "ffmpeg_t1": "`ffmpeg -threads 1 -f null` decode",
    "decord": "qwen-vl-utils decord `get_batch` (full size)",
    "scenedetect": "PySceneDetect `detect(AdaptiveDetector())`",
}


def video_section(minutes: str, entry: dict) -> str:
    """Markdown for one video: its table of baselines."""
    video, rows, cuts = entry["video"], entry["rows"], entry["cuts"]
    floor_s = rows["ffmpeg_t2"]["wall_s"]
    table = []
    for name, label in LABELS.items():
        row = rows[name]
        walls = row["walls_s"]
        note = ""
        if name == "decord":
            shape = entry["decord_result"]["shape"]
            note = f"{shape[0]} frames of {shape[2]}x{shape[1]}, num_threads={entry['decord_threads']}"
        elif name == "scenedetect":
            note = f"{cuts['found']}/{cuts['known']} cuts found, {len(cuts['extra'])} extra"
        table.append([
            label, row["runs"], row["wall_s"], f"{min(walls):.3g}-{max(walls):.3g}",
            row["wall_s"] / floor_s, row["peak_rss_mb"], note,
        ])  # fmt: skip
    headers = ["baseline", "runs", "wall s (median)", "range s", "x ffmpeg t2", "peak RSS MiB", "notes"]
    title = (
        f"### {minutes} min: `{video['file']}` ({video['frames']} frames, {video['cuts']} cuts, "
        f"{video['size_bytes'] / 1e6:.0f} MB)\n\n"
        f"Measured {entry['measured_at']}; load average after: {entry['load_after']}.\n\n"
    )
    extra = ""
    if cuts["missed"] or cuts["extra"]:
        extra = f"\nPySceneDetect missed {cuts['missed']}, extra {cuts['extra']}.\n"
    return title + h.markdown_table(headers, table) + extra


def scaling_table(results: dict) -> str:
    """Markdown table of the medians against video length."""
    rows = []
    for minutes, e in sorted(results.items(), key=lambda kv: float(kv[0])):
        r = e["rows"]
        rows.append([
            float(minutes), e["video"]["size_bytes"] / 1e6, r["ffmpeg_t2"]["wall_s"], r["ffmpeg_t1"]["wall_s"],
            r["decord"]["wall_s"], r["decord"]["peak_rss_mb"], r["scenedetect"]["wall_s"],
            r["scenedetect"]["peak_rss_mb"], f"{e['cuts']['found']}/{e['cuts']['known']}",
        ])  # fmt: skip
    headers = [
        "minutes", "file MB", "ffmpeg t2 s", "ffmpeg t1 s", "decord s", "decord RSS MiB",
        "PySceneDetect s", "PySceneDetect RSS MiB", "cuts found",
    ]  # fmt: skip
    return h.markdown_table(headers, rows)


def write_report(results: dict, *, versions: dict, machine: dict, command: str) -> str:
    """Return the full ``baselines.md`` text."""
    sections = "\n".join(video_section(m, e) for m, e in sorted(results.items(), key=lambda kv: float(kv[0])))
    return f"""# Baselines

The reference numbers framepick's benchmarks compare with, measured on generated 1080p30 H.264
videos with known hard cuts. Later benchmarks re-measure the baselines they need in their own run
(same machine, same moment) with the same helpers; these tables settle the methods and give the
expected magnitudes.

Reproduce (videos are made once and cached in `~/.cache/framepick-bench` or `$FRAMEPICK_BENCH_DIR`):

```
python reports/bench/make_videos.py --lengths 1 3 10 30
{command}
```

## Method

- **Videos** (`reports/bench/make_videos.py`): lavfi-generated shots (test patterns, fractal zooms and
  pans, Game of Life, gradients, zone plates, grainy flat colour, near-static colour bars with a small
  moving inset) of 1-60 s, log-uniform, no two adjacent shots of one kind, concatenated and encoded in
  one pass with x264 `superfast`, 3.5 Mbit/s target (easy shots use less), GOP 250, yuv420p,
  `+faststart`. The cut frames are known exactly (JSON sidecar); the frame count is verified by a full
  decode.
- **Process isolation**: each measurement runs in a fresh process started by a small wrapper that reaps
  it with `wait4`; wall time is from start to exit (interpreter start-up and imports included), peak
  RSS is the kernel's `ru_maxrss` of that process (`reports/bench/_harness.py`). Medians over the
  number of runs in the `runs` column (`--repeat`; decord and PySceneDetect run once on videos of 10
  minutes or more).
- **ffmpeg floor**: imageio-ffmpeg's ffmpeg binary, `ffmpeg -threads T -i VIDEO -f null -`.
- **qwen-vl-utils decord path**: what qwen-vl-utils 0.0.14's `_read_video_decord` does with default
  settings: `decord.VideoReader(path)` (num_threads 0: decord's automatic choice), `smart_nframes`
  (2 frames/s, 4 to 768 frames, even), indices `linspace(0, n - 1, nframes).round()`, then
  `vr.get_batch(idx).asnumpy()` at full size. The real path also copies the result into a torch
  tensor (one more full copy); that copy is not included. Its peak RSS is dominated by the frames:
  768 x 1920 x 1080 x 3 bytes = 4.6 GiB, held twice (decord's NDArray and the `asnumpy` copy).
- **PySceneDetect**: `scenedetect.detect(path, AdaptiveDetector())` with defaults (OpenCV backend,
  automatic downscale). A known cut counts as found when a detected cut lies within +-1 frame.
- The machine has {machine['cores']} cores shared with other work (other jobs ran at the same time);
  the script ran under `nice -n 10` and the load average is reported with each video. Absolute times
  are therefore pessimistic; ratios measured in one run are what later benchmarks should use.

## Scaling with video length

{scaling_table(results)}
## Per video

{sections}
## Tool versions

{h.dict_table(versions, key="tool", value="version")}
## Machine

{h.dict_table(machine)}"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=float, nargs="+", default=[1, 3, 10, 30], help="minutes")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--slow-repeat-above-min", type=float, default=10,
                        help="from this length on, decord and PySceneDetect run once")  # fmt: skip
    parser.add_argument("--decord-threads", type=int, default=0,
                        help="decord num_threads (0: decord's default, as qwen-vl-utils)")  # fmt: skip
    parser.add_argument("--report", type=Path, default=REPORT_PATH)
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite the report from the stored results, measure nothing")  # fmt: skip
    args = parser.parse_args(argv)

    results_path = cache_dir() / RESULTS_NAME
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    for minutes in [] if args.report_only else args.lengths:
        meta = ensure_video(minutes)
        slow_repeat = 1 if minutes >= args.slow_repeat_above_min else args.repeat
        print(f"{minutes:g} min: {meta['path']}", flush=True)
        results[f"{minutes:g}"] = measure_video(
            meta, repeat=args.repeat, slow_repeat=slow_repeat, decord_threads=args.decord_threads
        )
        results_path.write_text(json.dumps(results, indent=1))
    command = "python reports/bench/bench_baselines.py --lengths 1 3 10 30 --repeat 3"
    report = write_report(results, versions=h.tool_versions(), machine=h.machine_info(), command=command)
    args.report.write_text(report)
    print(f"wrote {args.report}")


if __name__ == "__main__":
    main()
