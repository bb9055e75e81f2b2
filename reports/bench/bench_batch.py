"""Batch benchmark: 768 frames from a long 1080p video, and the batch job's parallel throughput.

Part 1, on the generated 30-minute 1080p video (``make_videos.py``), side by side in one run,
each measurement in a fresh process (wall time, peak RSS):

a. ``ffmpeg -threads 2 -f null``: decoding every frame and nothing else (the floor);
b. the qwen-vl-utils 0.0.14 decord path (``bench_baselines.decord_qwen_batch``): one
   ``get_batch`` of its 768 linspace frames at full size;
c. ``framepick.sample(path, "adaptive")`` with an empty analysis cache: the analysis pass
   (reference frames, the default), the adaptive selection at Qwen's budget (768 frames) and the
   extraction (decode, scale to Qwen's size, JPEG, manifest) -- the whole job for a video never
   seen;
d. the extraction of the same frames alone, the analysis being cached (a video explored in the
   notebook first, or a batch run again with another strategy).

Part 2: ``framepick batch`` (adaptive, 32 frames) on a folder of 8 copies of the 1-minute 1080p
video, each with an empty analysis cache: 1 worker with as many threads as cores (the default for
``--workers 1``), 1 worker with 1 thread, 2 workers (the default on 2 cores).

Writes ``reports/batch.md`` (raw results kept in ``batch.json`` beside the benchmark videos, so
one part can be measured again). Usage::

    nice -n 10 python reports/bench/bench_batch.py                 # 30 min, 8 x 1 min
    python reports/bench/bench_batch.py --only folder --repeat 3   # the throughput part again
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import _harness as h
from make_videos import cache_dir, ensure_video

REPORT_PATH = Path(__file__).resolve().parents[1] / "batch.md"
RESULTS_NAME = "batch.json"  # raw results, in the benchmark video folder


# --- run in fresh child processes through _harness.run_python ---------------------------------


def sample_child(path: str, out: str) -> dict:
    """The whole job for a new video: analysis (cache empty), adaptive selection, extraction."""
    from framepick.config import JobConfig
    from framepick.pipeline import sample

    started = time.perf_counter()
    manifest = json.loads(sample(path, out_dir=out, config=JobConfig(strategy="adaptive"), progress=False).read_text())
    return {"frames": len(manifest["frames"]), "indices": [f["index"] for f in manifest["frames"]],
            "size": [manifest["output"]["width"], manifest["output"]["height"]],
            "decoder": manifest["decoder"], "extract_s": manifest["elapsed_s"],
            "analysis_s": time.perf_counter() - started - manifest["elapsed_s"]}


def extract_child(path: str, out: str) -> dict:
    """The extraction alone of ``sample_child`` 's frames: the analysis comes from the cache."""
    from framepick.analysis import analyze
    from framepick.config import JobConfig
    from framepick.extract import extract
    from framepick.select import select

    analysis = analyze(path, progress=False)
    selection = select(analysis, "adaptive", **JobConfig(strategy="adaptive").resolved_params())
    manifest = json.loads(extract(analysis, selection, out).read_text())
    return {"frames": len(manifest["frames"]), "indices": [f["index"] for f in manifest["frames"]]}


# -----------------------------------------------------------------------------------------------


def measure_long(minutes: float, *, repeat: int) -> dict:
    """Part 1 on the ``minutes``-long video."""
    meta = ensure_video(minutes)
    path = meta["path"]
    rows = {}
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        env = {"FRAMEPICK_CACHE": str(Path(tmp) / "cache")}
        rows["ffmpeg"] = h.ffmpeg_null_decode(path, 2, n=repeat)
        print(f"  ffmpeg: {rows['ffmpeg'].wall_s:.1f} s", flush=True)
        rows["decord"] = h.repeat(lambda: h.run_python("bench_baselines:decord_qwen_batch", path, 0), 1)
        print(f"  qwen decord: {rows['decord'].wall_s:.1f} s, {rows['decord'].peak_rss_mb:.0f} MiB", flush=True)

        def sample_run() -> h.Run:
            shutil.rmtree(env["FRAMEPICK_CACHE"], ignore_errors=True)
            return h.run_python("bench_batch:sample_child", path, str(Path(tmp) / "sample"), env=env)

        rows["sample"] = h.repeat(sample_run, repeat)  # leaves the analysis in the cache
        print(f"  framepick sample: {rows['sample'].wall_s:.1f} s", flush=True)
        rows["extract"] = h.repeat(
            lambda: h.run_python("bench_batch:extract_child", path, str(Path(tmp) / "extract"), env=env), repeat)
        print(f"  framepick extract: {rows['extract'].wall_s:.1f} s", flush=True)
    return {"video": meta, "rows": {name: _plain(run) for name, run in rows.items()}, "load_after": _load(),
            "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def _plain(summary: h.Summary) -> dict:
    return {"wall_s": summary.wall_s, "peak_rss_mb": summary.peak_rss_mb, "result": summary.result,
            "runs": len(summary.runs)}


def measure_folder(minutes: float, copies: int, *, repeat: int) -> dict:
    """Part 2: the batch job on ``copies`` copies of the ``minutes``-long video, 1 and 2 workers."""
    source = Path(ensure_video(minutes)["path"])
    runs = {}
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        folder = Path(tmp) / "videos"
        folder.mkdir()
        for n in range(copies):
            shutil.copyfile(source, folder / f"clip{n + 1}.mp4")
        cores = len(os.sched_getaffinity(0))
        for workers, threads in ((1, cores), (1, 1), (2, max(1, cores // 2))):
            cpu_s = []

            def batch_run(workers: int = workers, threads: int = threads, cpu_s: list = cpu_s) -> h.Run:
                cache, out = Path(tmp) / "cache", Path(tmp) / "out"
                shutil.rmtree(cache, ignore_errors=True)
                shutil.rmtree(out, ignore_errors=True)
                command = [sys.executable, "-m", "framepick.cli", "batch", "--workers", str(workers),
                           "--threads", str(threads), "--strategy", "adaptive", "--frames", "32",
                           "--out", str(out), str(folder)]
                before = _children_cpu_s()
                run = h.run_command(command, env={"FRAMEPICK_CACHE": str(cache)})
                cpu_s.append(_children_cpu_s() - before)
                return run

            summary = h.repeat(batch_run, repeat)
            runs[f"{workers}x{threads}"] = {**_plain(summary), "cpu_s": statistics.median(cpu_s),
                                           "workers": workers, "threads": threads}
            print(f"  batch, {workers} worker(s) x {threads} thread(s): {summary.wall_s:.1f} s", flush=True)
    return {"minutes": minutes, "copies": copies, "runs": runs, "load_after": _load(),
            "cores": len(os.sched_getaffinity(0)), "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def _children_cpu_s() -> float:
    """CPU seconds (user + system) of this process's finished, waited-for descendants."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def long_section(part: dict) -> str:
    video, rows = part["video"], part["rows"]
    floor, decord = rows["ffmpeg"]["wall_s"], rows["decord"]
    sample, extract = rows["sample"], rows["extract"]
    shape = decord["result"]["shape"]
    picked = sample["result"]
    labels = [
        ("`ffmpeg -threads 2 -f null` (every frame, nothing else)", rows["ffmpeg"], "-"),
        ("qwen-vl-utils decord: `get_batch` of 768 frames, full size", decord,
         f"{shape[0]} frames of {shape[2]}x{shape[1]} in memory"),
        ("framepick `sample`: analysis + extraction (cache empty)", sample,
         f"analysis {picked['analysis_s']:.0f} s + extraction {picked['extract_s']:.0f} s; "
         f"{picked['frames']} JPEGs of {picked['size'][0]}x{picked['size'][1]}"),
        ("framepick extraction, analysis cached", extract, f"{extract['result']['frames']} JPEGs"),
    ]
    table = [[label, run["wall_s"], run["wall_s"] / floor, run["wall_s"] / decord["wall_s"], run["peak_rss_mb"], note]
             for label, run, note in labels]
    headers = ["768 frames", "wall s", "x ffmpeg", "x qwen decord", "peak RSS MiB", "notes"]
    same = picked["indices"] == extract["result"]["indices"]
    return (
        f"### {video['duration_s'] / 60:g} minutes: `{video['file']}` ({video['frames']} frames, "
        f"{video['size_bytes'] / 1e6:.0f} MB, 1080p30 H.264)\n\n"
        + h.markdown_table(headers, table)
        + f"\nMeasured {part['measured_at']}; load average after: {part['load_after']}. framepick picked the "
          f"same {picked['frames']} frames in both runs: {same}.\n"
    )


def folder_section(part: dict) -> str:
    runs = part["runs"]
    default_one = runs[f"1x{part['cores']}"]["wall_s"]
    table = [[f"{run['workers']} worker(s) x {run['threads']} decoder thread(s)", run["wall_s"], run["cpu_s"],
              run["cpu_s"] / run["wall_s"], run["peak_rss_mb"], default_one / run["wall_s"]]
             for run in runs.values()]
    headers = ["`framepick batch`", "wall s", "CPU s", "cores busy", "peak RSS MiB", "speed-up"]
    two = runs[f"2x{max(1, part['cores'] // 2)}"]["wall_s"]
    return (
        f"### Throughput: {part['copies']} videos of {part['minutes']:g} minute(s), 1080p30\n\n"
        + h.markdown_table(headers, table)
        + f"\nTwo workers (the default on {part['cores']} cores): {default_one / two:.2f}x one worker with "
          f"{part['cores']} threads, {runs['1x1']['wall_s'] / two:.2f}x one worker with one thread. "
          f"Measured {part['measured_at']}; load average after: {part['load_after']}.\n"
    )


def write_report(long_part: dict, folder_part: dict, *, versions: dict, machine: dict, command: str) -> str:
    return f"""# Batch job: extraction and throughput

Written by `{command}`. Every measurement runs in a fresh process (`_harness.py`): wall time, and
peak RSS of that process with its workers.

## 768 frames from a long 1080p video

{long_section(long_part)}
How to read it. The qwen-vl-utils path decodes the 768 frames with decord's random access and
holds them all at full size (768 x 1920 x 1080 x 3 bytes = 4.8 GB, copied once more by
`asnumpy`), so its memory grows with the frame count. framepick's extraction decodes only the
GOPs that hold a selected frame, side by side in one single-threaded decoder per core, each up to
the last frame it needs and without the non-reference frames it does not need, and converts one
frame at a time, scaled by FFmpeg straight to Qwen's size, so it runs below the plain decode of
every frame. The analysis pass decodes the reference frames once more (at 128 px, for scores,
scenes and thumbnails); it is cached, so a video analysed in the notebook, or a batch run again
with another strategy, pays only the extraction. A video never seen pays both.

## Parallel throughput

{folder_section(folder_part)}
One worker decodes its GOPs side by side, one single-threaded decoder per thread, each scaling
what it decodes, so with a thread per core it keeps both cores nearly busy and two workers add
little; a worker with one thread leaves part of a core idle. "cores busy" is CPU seconds over wall
seconds: on this shared machine other jobs may run at the same time, which lowers it and the
speed-up.

## Machine and versions

{h.dict_table(machine)}
{h.dict_table(versions, key="package")}"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30, help="length of the long video (default 30)")
    parser.add_argument("--folder-minutes", type=float, default=1, help="length of each folder video (default 1)")
    parser.add_argument("--copies", type=int, default=8, help="videos in the folder (default 8)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per framepick measurement (median)")
    parser.add_argument("--only", choices=("long", "folder"),
                        help="measure one part again, keep the other from the last run (batch.json)")
    args = parser.parse_args(argv)
    results_path = cache_dir() / RESULTS_NAME
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    if args.only in (None, "long"):
        print(f"{args.minutes:g}-minute video:", flush=True)
        results["long"] = measure_long(args.minutes, repeat=args.repeat)
    if args.only in (None, "folder"):
        print(f"folder of {args.copies} x {args.folder_minutes:g} min:", flush=True)
        results["folder"] = measure_folder(args.folder_minutes, args.copies, repeat=args.repeat)
    results_path.write_text(json.dumps(results, indent=1))
    if not {"long", "folder"} <= set(results):
        raise SystemExit(f"{results_path} lacks a part; run without --only first")
    report = write_report(results["long"], results["folder"], versions=h.tool_versions(), machine=h.machine_info(),
                          command="python reports/bench/bench_batch.py [--only long|folder]")
    REPORT_PATH.write_text(report)
    print(f"wrote {REPORT_PATH}")


if __name__ == "__main__":
    main()
