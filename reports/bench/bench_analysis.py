"""Analysis pass against its baselines: ffmpeg's plain decode and PySceneDetect's detect().

For each generated 1080p video (``make_videos.py``; known cuts), in the same run and on this
machine, each measurement in a fresh process (wall time and peak RSS of that process):

- ``ffmpeg -threads T -i f -f null -``: decoding every frame and nothing else (the floor);
- ``framepick.analyze`` with the PyAV backend (the default), with PyAV decoding reference frames
  only (``reference_only``, ``--reference-frames``) and with decord;
- ``scenedetect.detect(f, AdaptiveDetector())``: PySceneDetect on its own.

Writes ``reports/analysis.md``. Usage::

    python reports/bench/bench_analysis.py --lengths 3 30 --repeat 3
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import _harness
import make_videos

REPORT = Path(__file__).resolve().parents[1] / "analysis.md"


def analysis_child(path: str, backend: str, threads: int, reference_only: bool = False) -> dict:
    """Run in the measured process: one uncached analysis."""
    import framepick

    analysis = framepick.analyze(path, cache=False, progress=False, backend=backend, threads=threads,
                                 reference_only=reference_only)
    return {"elapsed_s": analysis.elapsed_s, "cuts": analysis.cuts.tolist(), "decoder": analysis.decoder,
            "frames": analysis.info.frames, "analysed": len(analysis.score_indices)}


def detect_child(path: str) -> dict:
    """Run in the measured process: PySceneDetect's own detect() with its default settings."""
    import scenedetect

    scenes = scenedetect.detect(path, scenedetect.AdaptiveDetector())
    return {"cuts": [start.frame_num for start, _ in scenes[1:]]}


def cut_recall(found: list[int], truth: list[int], *, tolerance: int = 1) -> str:
    """``hits/len(truth)`` and false cuts, with hits within ``tolerance`` frames."""
    hits = sum(any(abs(f - t) <= tolerance for f in found) for t in truth)
    false = sum(not any(abs(f - t) <= tolerance for t in truth) for f in found)
    return f"{hits}/{len(truth)} ({false} false)"


def measure(minutes: float, *, threads: int, repeat: int) -> list[list]:
    """Rows of the results table for one video."""
    video = make_videos.ensure_video(minutes)
    path, truth = video["path"], video["cuts"]
    floor = _harness.ffmpeg_null_decode(path, threads, n=repeat)
    rows = [[f"{minutes:g} min", "ffmpeg -f null", f"{floor.wall_s:.1f}", "1.00", f"{floor.peak_rss_mb:.0f}", "-"]]
    for backend, reference in (("pyav", False), ("pyav", True), ("decord", False)):
        run = _harness.repeat(
            lambda b=backend, r=reference: _harness.run_python("bench_analysis:analysis_child", path, b, threads, r),
            repeat,
        )
        what = f"{run.result['decoder']}, reference frames ({run.result['analysed']} of {run.result['frames']})" \
            if reference else run.result["decoder"]
        rows.append([f"{minutes:g} min", f"framepick analyze ({what})", f"{run.wall_s:.1f}",
                     f"{run.wall_s / floor.wall_s:.2f}", f"{run.peak_rss_mb:.0f}",
                     cut_recall(run.result["cuts"], truth)])
    detect = _harness.repeat(lambda: _harness.run_python("bench_analysis:detect_child", path), 1)
    rows.append([f"{minutes:g} min", "scenedetect.detect(AdaptiveDetector)", f"{detect.wall_s:.1f}",
                 f"{detect.wall_s / floor.wall_s:.2f}", f"{detect.peak_rss_mb:.0f}",
                 cut_recall(detect.result["cuts"], truth)])
    print(_harness.markdown_table(HEADERS, rows), file=sys.stderr)
    return rows


HEADERS = ["video", "what", "wall s", "x ffmpeg decode", "peak RSS MB", "cuts found (±1 frame)"]


def write_report(rows: list[list], *, threads: int, repeat: int) -> None:
    text = f"""# Analysis pass: speed and memory against the baselines

Regenerate: `python reports/bench/bench_analysis.py` (videos from `make_videos.py`, cached).

Every row is a fresh process on this machine, in the same run; wall time and peak RSS are the
median of {repeat} run(s) (PySceneDetect: 1 run). Decoder threads: {threads} everywhere
(`ffmpeg -threads {threads}`, `framepick analyze --threads {threads}`). Videos: generated 1080p
30 fps H.264 with known cuts (`make_videos.py`). framepick analyses every frame at 128 px
(scores + AdaptiveDetector + thumbnails); "x ffmpeg decode" is wall time over the plain
`ffmpeg -f null` decode of the same file.

{_harness.markdown_table(HEADERS, rows)}

## Reading it

- Time: the analysis decodes every frame (a normal decode, deblocking on) and scales it to
  128 px in an FFmpeg filter graph, in a decode thread; with reference frames only it skips the
  frames nothing is predicted from (`skip_frame=nonref`, most B-frames) and times them from their
  packets; the Numba scores, PySceneDetect's AdaptiveDetector and the
  thumbnails run in the main thread on the chunk before. The decode thread (decode and scaling,
  one after the other) is the bottleneck: the main thread mostly waits for it. Start-up (imports,
  loading the cached Numba kernels, about 1.5 s) weighs on short videos, so the ratio to ffmpeg
  is higher at 3 minutes than at 30 (target: at most 1.15x). It is faster than PySceneDetect's own
  `detect()` with its default AdaptiveDetector on the same file.
- Memory: PyAV streams; peak RSS is flat from 3 to 30 minutes (mostly the imported libraries:
  Numba, OpenCV, PyAV, scenedetect). decord reads the whole compressed file (peak RSS above the
  file's size), so `backend="auto"` picks PyAV; decord stays selectable (`--backend decord`) and
  passes the same conformance tests.

## Tools

{_harness.dict_table(_harness.tool_versions(), key="tool", value="version")}

## Machine

{_harness.dict_table(_harness.machine_info())}
"""
    REPORT.write_text(text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=float, nargs="+", default=[3, 30], help="video lengths in minutes")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    rows = [row for minutes in args.lengths for row in measure(minutes, threads=args.threads, repeat=args.repeat)]
    write_report(rows, threads=args.threads, repeat=args.repeat)
    print(f"wrote {REPORT}")


if __name__ == "__main__":
    main()
