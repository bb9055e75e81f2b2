"""Selection from a reference-frames analysis (the default) against an every-frame one.

The same videos, analysed both ways: calm needle videos (still slides, short inserts and
overlays, fades and cross-fades; ``needles.make_needle_video``) and real-footage mixes (shots of
the bundled clips joined by hard cuts, dissolves and fades; ``needles.make_real_mix_video``).
For each analysis mode: the needle measures of every compared strategy at each budget (as in
``bench_selection.py``), the transitions found, and the analysis time. The cut F1 of the two
modes is in ``reports/analysis.md``.

Writes ``reports/modes.md``. Usage::

    python reports/bench/bench_modes.py --needle-seeds 3 --mix-seeds 24
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from bench_selection import needle_rows, needle_table, transitions_summary
from needles import make_needle_video, make_real_mix_video

REPORT = Path(__file__).resolve().parents[1] / "modes.md"
MODES = {"reference frames (the default)": True, "every frame (`--every-frame`)": False}


def analysed(paths_truths: list[tuple[Path, object]], reference_only: bool) -> list[tuple]:
    """``[(analysis, truth), ...]`` of the videos in one analysis mode."""
    from framepick.analysis import analyze

    return [(analyze(path, cache=False, progress=False, reference_only=reference_only), truth)
            for path, truth in paths_truths]


def paired_table(reference: dict, every: dict, measures: dict[str, str]) -> list[str]:
    """Per strategy and budget (uniform aside: frame times only, the same frames in both modes),
    the mean per-video difference of each measure, reference frames minus every frame, in
    percentage points, with its 95% interval (1.96 standard errors of the paired differences) and
    the number of videos on which reference frames did better / worse."""
    lines = ["Each cell: the mean per-video difference, reference frames minus every frame, in percentage points; "
             "its 95% interval (1.96 standard errors of the differences); the videos on which reference frames "
             "did better / worse.", "",
             "| strategy | budget | " + " | ".join(measures.values()) + " |", "|---|---:|" + "---:|" * len(measures)]
    for key, results in reference.items():
        if key[0] == "uniform":
            continue
        cells = []
        for measure in measures:
            diffs = 100 * (np.array([r[measure] for r in results]) - [r[measure] for r in every[key]])
            half = 1.96 * diffs.std(ddof=1) / np.sqrt(len(diffs))
            cells.append(f"{diffs.mean():+.1f} ±{half:.1f}, {np.sum(diffs > 0)} / {np.sum(diffs < 0)}")
        lines.append(f"| {key[0]} | {key[1]} | " + " | ".join(cells) + " |")
    return lines


def section(title: str, material: dict[str, list[tuple]], *, needles: bool) -> list[str]:
    lines = [f"## {title}", ""]
    rows = {}
    for mode, pairs in material.items():
        seconds = sum(analysis.elapsed_s for analysis, _ in pairs)
        decoded = np.mean([len(analysis.score_indices) / analysis.info.frames for analysis, _ in pairs])
        rows[mode] = needle_rows(pairs)
        lines += [f"### {mode}: analysed in {seconds:.1f} s ({100 * decoded:.0f}% of the frames decoded)", "",
                  *needle_table(rows[mode], needles=needles), "", transitions_summary(pairs), ""]
    measures = {"inserts": "inserts hit", "overlays": "overlays hit"} if needles else {}
    measures["slides"] = "slides held" if needles else "shots held"
    lines += ["### Paired differences, video by video", "",
              *paired_table(*(rows[mode] for mode in MODES), measures), ""]
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--needle-seeds", type=int, default=3)
    parser.add_argument("--needle-minutes", type=float, default=10.0)
    parser.add_argument("--mix-seeds", type=int, default=24)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        needles = [(Path(tmp) / f"needles-{seed}.mp4", seed) for seed in range(1, args.needle_seeds + 1)]
        needles = [(path, make_needle_video(path, seed=seed, minutes=args.needle_minutes)) for path, seed in needles]
        mixes = [(Path(tmp) / f"mix-{seed}.mp4", seed) for seed in range(1, args.mix_seeds + 1)]
        mixes = [(path, make_real_mix_video(path, seed=seed)) for path, seed in mixes]
        results = {kind: {mode: analysed(videos, reference) for mode, reference in MODES.items()}
                   for kind, videos in (("needles", needles), ("mixes", mixes))}
    lines = [
        "# Selection from reference frames against every frame",
        "",
        f"`python reports/bench/bench_modes.py --needle-seeds {args.needle_seeds} --needle-minutes "
        f"{args.needle_minutes:g} --mix-seeds {args.mix_seeds}`. The same videos analysed both ways "
        "(`AnalysisConfig(reference_only=...)`), then every strategy at each budget; means over the videos, "
        "the largest gap's worst video in brackets. Cut F1 of the two modes: `analysis.md`.",
        "",
        *section(f"{args.needle_seeds} calm needle videos of {args.needle_minutes:g} minutes", results["needles"],
                 needles=True),
        *section(f"{args.mix_seeds} real-footage mixes", results["mixes"], needles=False),
    ]
    REPORT.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
