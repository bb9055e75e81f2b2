"""Selection benchmark: speed of every strategy, and scene coverage of uniform against adaptive.

Speed: ``select`` with default parameters on a 30-minute 30 fps analysis (54,000 scores), median
of many calls after a warm-up call. The analysis is synthetic (selection never decodes, so only
its arrays matter).

Quality: videos made of long near-static stretches (20-60 s) and bursts of 3-8 scenes of 1-4 s,
with known ground-truth scenes. Coverage (share of true scenes holding a selected frame) is
measured at budgets of 0.5 to 4 times the true scene count, for two sources:

- ``video``: real videos encoded with ``tests/videos.py`` (PyAV) and analysed with
  ``framepick.analysis.analyze``, so the scenes and scores are the detector's own;
- ``synthetic``: analyses built to mimic them (noise, a score spike at each cut, 10% of the cuts
  missed by the "detector" and a few false cuts in the still stretches); fast, no decoding.

And on the real clips (``tests/data/bikes.mp4`` and the bundled Big Buck Bunny sample, whose hard
cuts are known): coverage of their true shots, largest gap and redundancy of every strategy at
the same budgets.

Short events and transitions (``needles.py``), per strategy and budget (16, 32, 64 frames):

- *needle videos*: 10-minute calm videos (320x180, 25 fps) of still slides with sensor noise,
  hard cuts and 1.5 s cross-fades, fades from and to black, a slow pan, and three *inserts*
  (1.5-3 s of other footage between two cuts) and three *overlays* (a small moving picture for
  2 s, no cut) each, one layout per seed;
- *real mixes*: real shots in motion from the two clips (1.2-4 s each) joined by hard cuts,
  dissolves of 0.3-1.6 s and fades through black, one order per seed.

Measured: inserts and overlays holding a pick, picks inside transitions against the transitions'
share of the time (1.0 = as many as uniform sampling puts there), slides or shots holding a pick,
the largest gap; and the transitions the analysis finds (a true and a found span match when
they overlap by half of the shorter).

Usage::

    python reports/bench/bench_selection.py                 # everything, writes the report
    python reports/bench/bench_selection.py --source synthetic --seeds 2 --needle-seeds 1 --needle-minutes 3

Writes ``reports/selection.md`` and ``reports/selection_coverage.png``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from framepick.metrics import compare, scene_coverage
from framepick.select import STRATEGIES, select
from framepick.types import Analysis

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[2] / "tests")]
from helpers import KNOWN_CUTS, make_analysis  # noqa: E402
from needles import Truth, make_needle_video, make_real_mix_video, needle_measures, transitions_found  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "reports" / "selection.md"
PLOT = ROOT / "reports" / "selection_coverage.png"
MULTIPLES = (0.5, 1.0, 2.0, 3.0, 4.0)
COMPARED = ("uniform", "adaptive", "scenes", "novelty")
# Real clips and their known hard cuts (first frame of each new shot; ``../shared/videos/README.md``).
REAL_CLIPS = {
    "bikes.mp4": (ROOT / "tests" / "data" / "bikes.mp4", tuple(KNOWN_CUTS["bikes.mp4"])),
    "big_buck_bunny_0_30.webm": (ROOT / "toolkit" / "framepick" / "data" / "big_buck_bunny_0_30.webm",
                                 tuple(KNOWN_CUTS["big_buck_bunny_0_30.webm"])),
}
SPEED_FRAMES, SPEED_FPS = 54_000, 30.0
NEEDLE_BUDGETS = (16, 32, 64)


# --------------------------------------------------------------------------- test material


def scene_lengths(seed: int, fps: float, *, stretches: int = 4) -> list[int]:
    """Frames per scene: still stretches of 20-60 s around bursts of 3-8 scenes of 1-4 s."""
    rng = np.random.default_rng(seed)
    lengths = []
    for burst in range(stretches):
        lengths.append(round(rng.uniform(20, 60) * fps))
        if burst < stretches - 1:
            lengths += [round(rng.uniform(1, 4) * fps) for _ in range(rng.integers(3, 9))]
    return lengths


def scenes_of(lengths: list[int]) -> np.ndarray:
    """``[start, end)`` ranges (int64, shape (k, 2)) of consecutive scenes of ``lengths`` frames."""
    bounds = np.concatenate(([0], np.cumsum(lengths)))
    return np.stack([bounds[:-1], bounds[1:]], axis=1)


def synthetic_analysis(lengths: list[int], fps: float, seed: int) -> Analysis:
    """An analysis like the pass would return for such a video, with an imperfect detector."""
    rng = np.random.default_rng(seed)
    truth = scenes_of(lengths)
    frames = int(truth[-1, 1])
    short = (truth[:, 1] - truth[:, 0]) < 5 * fps
    motion = np.repeat(np.where(short, 0.015, 0.004), truth[:, 1] - truth[:, 0])
    score = np.abs(rng.normal(0.0, motion)) + 0.002
    cuts = truth[1:, 0]
    score[cuts] = rng.uniform(0.3, 0.7, len(cuts))
    score[0] = 0.0
    detected = cuts[rng.random(len(cuts)) >= 0.1]  # the detector misses 10% of the cuts
    still = np.flatnonzero(np.repeat(~short, truth[:, 1] - truth[:, 0]))
    false_cuts = rng.choice(still[still > 0], size=max(1, len(cuts) // 20), replace=False)
    thumb_indices = np.arange(0, frames, round(fps))
    colours = rng.integers(0, 256, (len(truth), 3))
    owner = np.searchsorted(truth[:, 0], thumb_indices, side="right") - 1
    noise = rng.integers(-6, 7, (len(thumb_indices), 24, 40, 3))
    thumbs = np.clip(colours[owner][:, None, None, :] + noise, 0, 255).astype(np.uint8)
    return make_analysis(frames, fps, scenes=np.unique(np.concatenate([detected, false_cuts])).tolist(),
                         score=score, thumbs=thumbs, thumb_indices=thumb_indices, path=f"synthetic-{seed}",
                         size=(1280, 720))


def video_analysis(lengths: list[int], fps: float, folder: Path, seed: int) -> Analysis:
    """Encode the scenes with ``tests/videos.py`` and analyse the file with framepick."""
    sys.path.insert(0, str(ROOT / "tests"))
    from framepick.analysis import analyze
    from videos import write_video

    path = folder / f"bursts-{seed}.mp4"
    write_video(path, lengths, fps=round(fps))
    return analyze(path, cache=False, progress=False)


def real_analysis(path: Path) -> Analysis:
    """Analyse a real clip with framepick's default settings."""
    from framepick.analysis import analyze

    return analyze(path, cache=False, progress=False)


def truth_of(cuts: tuple[int, ...], frames: int) -> np.ndarray:
    """``[start, end)`` ranges of the shots of a ``frames``-long clip with hard ``cuts``."""
    return scenes_of(np.diff([0, *cuts, frames]).tolist())


# --------------------------------------------------------------------------- measurements


def time_strategies(analysis: Analysis, runs: int) -> list[dict]:
    rows = []
    for strategy in STRATEGIES:
        select(analysis, strategy)  # warm-up
        times_ms = []
        for _ in range(runs):
            started = time.perf_counter()
            selection = select(analysis, strategy)
            times_ms.append((time.perf_counter() - started) * 1e3)
        rows.append({"strategy": strategy, "frames": len(selection), "median_ms": statistics.median(times_ms),
                     "max_ms": max(times_ms)})
    return rows


def even_budget(multiple: float, scenes: int) -> int:
    return max(2, 2 * round(multiple * scenes / 2))


def coverage_rows(analyses: list[tuple[Analysis, np.ndarray]]) -> dict[tuple[str, float], list[float]]:
    """Coverage of the true scenes, per (strategy, budget multiple), one value per video."""
    out: dict[tuple[str, float], list[float]] = {}
    for analysis, truth in analyses:
        for multiple in MULTIPLES:
            budget = even_budget(multiple, len(truth))
            for strategy in COMPARED:
                indices = select(analysis, strategy, frames=budget).indices
                out.setdefault((strategy, multiple), []).append(scene_coverage(indices, truth))
    return out


def pairing_lines(material: dict[str, list[tuple[Analysis, np.ndarray]]], budget: int = 32) -> list[str]:
    """Scene coverage at ``budget`` frames with temporal pairs off and on (``pair_s = PAIR_S``):
    what pairing costs in shots covered, and that every pair lies in one scene within PAIR_S."""
    from framepick.qwen import PAIR_S

    lines = ["| source | strategy | true scenes covered, pairs off | pairs on (budget/2 moments) | "
             "pairs in one scene and <= 0.5 s |", "|---|---|---:|---:|---:|"]
    for source, analyses in material.items():
        for strategy in ("scenes", "adaptive", "novelty"):
            off, on, coherent, pairs = [], [], 0, 0
            for analysis, truth in analyses:
                off.append(scene_coverage(select(analysis, strategy, frames=budget).indices, truth))
                paired = select(analysis, strategy, frames=budget, pair_s=PAIR_S).indices
                on.append(scene_coverage(paired, truth))
                halves = paired.reshape(-1, 2)
                same = analysis.scene_of(halves[:, 0]) == analysis.scene_of(halves[:, 1])
                close = np.diff(analysis.times_of(halves), axis=1)[:, 0] <= PAIR_S + 1e-9
                coherent += int(np.sum(same & close))
                pairs += len(halves)
            lines.append(f"| {source} | {strategy} | {100 * np.mean(off):.1f}% | {100 * np.mean(on):.1f}% | "
                         f"{coherent} of {pairs} |")
    return lines


def needle_rows(material: list[tuple[Analysis, Truth]]) -> dict[tuple[str, int], list[dict[str, float]]]:
    """The needle measures per (strategy, budget), one dict per video."""
    out: dict[tuple[str, int], list[dict[str, float]]] = {}
    for analysis, truth in material:
        for strategy in COMPARED:
            for budget in NEEDLE_BUDGETS:
                picks = select(analysis, strategy, frames=budget).indices
                out.setdefault((strategy, budget), []).append(needle_measures(picks, truth))
    return out


def make_material(kind: str, seeds: int, minutes: float, folder: Path) -> tuple[list, list[str]]:
    """Needle videos or real mixes, made and analysed: ``[(analysis, truth), ...]`` and notes."""
    from framepick.analysis import analyze

    material, notes = [], []
    for seed in range(1, seeds + 1):
        path = folder / f"{kind}-{seed}.mp4"
        started = time.perf_counter()
        if kind == "needles":
            truth = make_needle_video(path, seed=seed, minutes=minutes)
        else:
            truth = make_real_mix_video(path, seed=seed)
        made = time.perf_counter() - started
        analysis = analyze(path, cache=False, progress=False)
        found, true, detected = transitions_found(analysis.transitions, truth)
        notes.append(f"seed {seed}: {truth.frames / truth.fps:.0f} s, {len(truth.slides)} "
                     f"{'slides' if kind == 'needles' else 'shots'}, {found} of {len(truth.transitions)} "
                     f"transitions found ({detected - true} false), {len(analysis.scenes)} scenes; made in "
                     f"{made:.0f} s, analysed in {analysis.elapsed_s:.1f} s")
        print(f"{kind} {notes[-1]}")
        material.append((analysis, truth))
    return material, notes


# --------------------------------------------------------------------------- report


def needle_table(rows: dict[tuple[str, int], list[dict[str, float]]], *, needles: bool) -> list[str]:
    head = "| strategy | budget | inserts hit | overlays hit |" if needles else "| strategy | budget |"
    held = "slides held" if needles else "shots held"
    lines = [f"{head} picks in transitions / their share | {held} | largest gap s (worst) |",
             "|---|---:|" + ("---:|---:|" if needles else "") + "---:|---:|---:|"]
    for (strategy, budget), results in rows.items():
        mean = {key: float(np.mean([r[key] for r in results])) for key in results[0]}
        worst = max(r["gap_s"] for r in results)
        events = f" {mean['inserts']:.0%} | {mean['overlays']:.0%} |" if needles else ""
        lines.append(f"| {strategy} | {budget} |{events} {mean['transitions']:.2f}x | {mean['slides']:.0%} | "
                     f"{mean['gap_s']:.1f} ({worst:.1f}) |")
    return lines


def transitions_summary(material: list[tuple[Analysis, Truth]]) -> str:
    counts = np.sum([[len(t.transitions), *transitions_found(a.transitions, t)] for a, t in material], axis=0)
    total, found, true, detected = (int(c) for c in counts)
    return (f"The analysis found {found} of the {total} true transitions ({found / total:.0%}); "
            f"{true} of its {detected} transitions are true ({true / max(detected, 1):.0%}).")


def real_clip_table(analysis: Analysis, truth: np.ndarray) -> list[str]:
    """Coverage of the true shots, largest gap and redundancy per strategy and budget."""
    lines = ["| budget | strategy | frames | true shots covered | max_gap_s | redundancy |",
             "|---|---|---:|---:|---:|---:|"]
    for multiple in MULTIPLES:
        budget = even_budget(multiple, len(truth))
        selections = [select(analysis, s, frames=budget) for s in COMPARED]
        for strategy, selection, row in zip(COMPARED, selections, compare(analysis, *selections)):
            lines.append(f"| {budget} ({multiple:g} x shots) | {strategy} | {len(selection)} | "
                         f"{100 * scene_coverage(selection.indices, truth):.0f}% | {row['max_gap_s']:.2f} | "
                         f"{row['redundancy']:.3f} |")
    return lines


def speed_table(rows: list[dict]) -> list[str]:
    lines = ["| strategy | frames returned | median ms | slowest ms | under 50 ms |", "|---|---:|---:|---:|---|"]
    for row in rows:
        ok = "yes" if row["median_ms"] < 50 else "**no**"
        lines.append(f"| {row['strategy']} | {row['frames']} | {row['median_ms']:.2f} | {row['max_ms']:.2f} | {ok} |")
    return lines


def coverage_table(coverage: dict[tuple[str, float], list[float]]) -> list[str]:
    lines = ["| budget | " + " | ".join(COMPARED) + " |", "|---|" + "---:|" * len(COMPARED)]
    for multiple in MULTIPLES:
        cells = [f"{100 * np.mean(coverage[(s, multiple)]):.1f}% (min {100 * min(coverage[(s, multiple)]):.0f}%)"
                 for s in COMPARED]
        lines.append(f"| {multiple:g} x scenes | " + " | ".join(cells) + " |")
    return lines


def compare_table(analysis: Analysis, budget: int) -> list[str]:
    rows = compare(analysis, *(select(analysis, s, frames=budget) for s in COMPARED))
    keys = [k for k in rows[0] if k != "strategy"]
    lines = ["| strategy | " + " | ".join(keys) + " |", "|---|" + "---:|" * len(keys)]
    for row in rows:
        cells = [f"{row[k]:.3f}" if isinstance(row[k], float) else str(row[k]) for k in keys]
        lines.append(f"| {row['strategy']} | " + " | ".join(cells) + " |")
    return lines


def plot(coverages: dict[str, dict[tuple[str, float], list[float]]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(coverages), figsize=(5.5 * len(coverages), 4), squeeze=False)
    for ax, (source, coverage) in zip(axes[0], coverages.items()):
        for strategy in COMPARED:
            ax.plot(MULTIPLES, [100 * np.mean(coverage[(strategy, m)]) for m in MULTIPLES], marker="o",
                    label=strategy)
        ax.axhline(95, color="grey", linestyle=":", linewidth=1)
        ax.axvline(2, color="grey", linestyle=":", linewidth=1)
        ax.set(title=f"{source} analyses", xlabel="budget (x true scene count)", ylabel="true scenes covered (%)",
               ylim=(0, 102), xticks=MULTIPLES)
        ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(PLOT, dpi=110)
    plt.close(fig)


def machine() -> str:
    return (f"{platform.machine()}, {os.cpu_count()} cores (shared with other jobs while measured), "
            f"Python {platform.python_version()}, NumPy {np.__version__}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=("synthetic", "video", "both"), default="both")
    parser.add_argument("--seeds", type=int, default=3, help="videos per source")
    parser.add_argument("--runs", type=int, default=25, help="timed calls per strategy")
    parser.add_argument("--needle-seeds", type=int, default=3, help="needle videos")
    parser.add_argument("--needle-minutes", type=float, default=10.0, help="length of each needle video")
    parser.add_argument("--mix-seeds", type=int, default=8, help="real-footage mixes")
    args = parser.parse_args()

    ends = np.minimum(np.cumsum(scene_lengths(0, SPEED_FPS, stretches=60)), SPEED_FRAMES)
    speed_lengths = np.diff(np.unique(np.concatenate(([0], ends)))).tolist()  # cut at 30 minutes
    speed_analysis = synthetic_analysis(speed_lengths, SPEED_FPS, seed=0)
    speed_rows = time_strategies(speed_analysis, args.runs)
    print("\n".join(speed_table(speed_rows)))

    sources = ("synthetic", "video") if args.source == "both" else (args.source,)
    coverages, material = {}, {}
    with tempfile.TemporaryDirectory() as folder:
        for source in sources:
            analyses = []
            for seed in range(1, args.seeds + 1):
                fps = 25.0 if source == "video" else 30.0
                lengths = scene_lengths(seed, fps)
                started = time.perf_counter()
                if source == "video":
                    analysis = video_analysis(lengths, fps, Path(folder), seed)
                else:
                    analysis = synthetic_analysis(lengths, fps, seed)
                analyses.append((analysis, scenes_of(lengths)))
                print(f"{source} {seed}: {len(lengths)} true scenes, {len(analysis.scenes)} detected, "
                      f"{analysis.info.duration_s:.0f} s, made in {time.perf_counter() - started:.1f} s")
            coverages[source] = coverage_rows(analyses)
            material[source] = analyses
            print("\n".join(coverage_table(coverages[source])))
        events = {kind: make_material(kind, seeds, args.needle_minutes, Path(folder))
                  for kind, seeds in (("needles", args.needle_seeds), ("mixes", args.mix_seeds))}
    plot(coverages)
    real = {name: real_analysis(path) for name, (path, _) in REAL_CLIPS.items()}
    write_report(speed_analysis, speed_rows, args.runs, coverages, material, real, events, args)


def events_section(events: dict[str, tuple[list, list[str]]], args: argparse.Namespace) -> list[str]:
    (needles, needle_notes), (mixes, mix_notes) = events["needles"], events["mixes"]
    return [
        "## Short events and transitions",
        "",
        f"### Needle videos: {len(needles)} calm videos of {args.needle_minutes:g} minutes",
        "",
        "Still slides with sensor noise, hard cuts and 1.5 s cross-fades, a fade in from black and out "
        "to black, a slow pan, three inserts and three overlays each (`needles.py`). Means over the "
        "videos; the largest gap's worst video in brackets.",
        "",
        *needle_table(needle_rows(needles), needles=True),
        "",
        transitions_summary(needles),
        "",
        *[f"- {note}" for note in needle_notes],
        "",
        f"### Real footage: {len(mixes)} mixes of real shots in motion",
        "",
        "Shots of bikes.mp4 and the Big Buck Bunny sample, 1.2-4 s each, joined by hard cuts, "
        "dissolves of 0.3-1.6 s (both shots moving) and fades through black (`needles.py`).",
        "",
        *needle_table(needle_rows(mixes), needles=False),
        "",
        transitions_summary(mixes),
        "",
        *[f"- {note}" for note in mix_notes],
        "",
    ]


def write_report(speed_analysis, speed_rows, runs, coverages, material, real, events, args) -> None:
    lines = [
        "# Selection: speed and scene coverage",
        "",
        "Made by `python reports/bench/bench_selection.py`; numbers below are from its last run.",
        f"Machine: {machine()}.",
        "",
        "## Speed",
        "",
        f"`select(analysis, strategy)` with default parameters on a {SPEED_FRAMES}-frame analysis "
        f"(30 min at 30 fps, one score per frame, {len(speed_analysis.scenes)} scenes): median and "
        f"slowest of {runs} calls after a warm-up call. Target: under 50 ms for every strategy.",
        "",
        *speed_table(speed_rows),
        "",
        "`uniform` equals qwen-vl-utils 0.0.14 index for index: `tests/test_select.py` checks "
        "`qwen_linspace` against `torch.linspace(...).round()` (torch 2.13 CPU, AVX2) for 10,029 "
        "(start, end, steps) cases, 13,050 of whose indices differ from exactly rounded float64 values.",
        "",
        "## Scene coverage",
        "",
        "Videos of four near-static stretches of 20-60 s separated by bursts of 3-8 scenes of 1-4 s. "
        "Coverage is the share of the *true* scenes holding at least one selected frame (mean over the "
        "videos, worst video in brackets); every strategy gets the same even budget "
        "(`frames=`, a multiple of the true scene count). Target: adaptive >= 95% at 2 x scenes.",
        "",
    ]
    for source, coverage in coverages.items():
        analyses = material[source]
        truth = sum(len(t) for _, t in analyses)
        detected = sum(len(a.scenes) for a, _ in analyses)
        what = ("encoded with `tests/videos.py` (PyAV, 160x96, 25 fps) and analysed by "
                "`framepick.analysis.analyze` with default settings" if source == "video" else
                "synthetic analyses at 30 fps: noise, a score spike at each cut, 10% of the cuts missed and "
                "a few false cuts in the still stretches")
        adaptive, uniform = (100 * np.mean(coverage[(s, 2.0)]) for s in ("adaptive", "uniform"))
        verdict = "met" if min(coverage[("adaptive", 2.0)]) >= 0.95 else "**not met**"
        lines += [
            f"### {source}: {len(analyses)} videos, {truth} true scenes, {detected} detected",
            "",
            f"Source: {what}.",
            "",
            *coverage_table(coverage),
            "",
            f"At 2 x scenes adaptive covers {adaptive:.1f}% of the true scenes (uniform {uniform:.1f}%): "
            f"target {verdict} on every video.",
            "",
        ]
        first, truth_scenes = analyses[0]
        budget = even_budget(2.0, len(truth_scenes))
        lines += [f"All metrics (`framepick.metrics.compare`) on video 1 of this source at 2 x scenes "
                  f"({budget} frames; scene coverage here is of the *detected* scenes; `mean_gap_s` counts "
                  "the gaps before the first and after the last frame, so it only reflects the count):",
                  "", *compare_table(first, budget), ""]
    lines += [f"![coverage against budget]({PLOT.name})", ""]
    lines += ["### Temporal pairs", "",
              "Qwen merges consecutive frames two by two into one set of tokens. With `pair_s` set (the "
              "default for Qwen's output size rule), a strategy picks half the budget as moments and gives "
              "each a second frame up to 0.5 s later in the same scene. At 32 frames on the videos above "
              "(long still stretches and bursts of 1-4 s scenes), the cost in true scenes covered:", "",
              *pairing_lines(material), ""]
    lines += ["## Real clips", "",
              "The two real clips with known hard cuts (`../shared/videos/README.md`), analysed with the "
              "default settings. Coverage is of the true shots; the largest gap (s) includes the start and "
              "the end of the clip; redundancy is the mean similarity of consecutive picks (lower is better).",
              ""]
    for name, analysis in real.items():
        cuts = REAL_CLIPS[name][1]
        truth = truth_of(cuts, analysis.info.frames)
        lines += [f"### `{name}`: {analysis.info.frames} frames, {analysis.info.duration_s:g} s, "
                  f"{len(truth)} true shots (cuts {', '.join(map(str, cuts))}); the detector found "
                  f"{len(analysis.scenes)} scenes (cuts {', '.join(map(str, analysis.cuts))})", "",
                  *real_clip_table(analysis, truth), ""]
    lines += events_section(events, args)
    REPORT.write_text("\n".join(lines))
    print(f"wrote {REPORT} and {PLOT}")


if __name__ == "__main__":
    main()
