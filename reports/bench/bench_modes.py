"""Selection from a reference-frames analysis against an every-frame one (the default).

The same videos, analysed both ways: calm needle videos (still slides, short inserts and
overlays, fades and cross-fades; ``needles.make_needle_video``) and real-footage mixes (shots of
the bundled clips joined by hard cuts, dissolves and fades; ``needles.make_real_mix_video``).
For each analysis mode: the needle measures of every compared strategy at each budget (as in
``bench_selection.py``), the transitions found, and the analysis time. The cut F1 of the two
modes is in ``reports/analysis.md``.

Writes ``reports/modes.md``. Usage::

    python reports/bench/bench_modes.py --needle-seeds 3 --mix-seeds 8
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from bench_selection import needle_rows, needle_table, transitions_summary
from needles import make_needle_video, make_real_mix_video

REPORT = Path(__file__).resolve().parents[1] / "modes.md"
MODES = {"reference frames (`--reference-frames`)": True, "every frame (the default)": False}


def analysed(paths_truths: list[tuple[Path, object]], reference_only: bool) -> list[tuple]:
    """``[(analysis, truth), ...]`` of the videos in one analysis mode."""
    from framepick.analysis import analyze

    return [(analyze(path, cache=False, progress=False, reference_only=reference_only), truth)
            for path, truth in paths_truths]


def section(title: str, material: dict[str, list[tuple]], *, needles: bool) -> list[str]:
    lines = [f"## {title}", ""]
    for mode, pairs in material.items():
        seconds = sum(analysis.elapsed_s for analysis, _ in pairs)
        decoded = np.mean([len(analysis.score_indices) / analysis.info.frames for analysis, _ in pairs])
        lines += [f"### {mode}: analysed in {seconds:.1f} s ({100 * decoded:.0f}% of the frames decoded)", "",
                  *needle_table(needle_rows(pairs), needles=needles), "", transitions_summary(pairs), ""]
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--needle-seeds", type=int, default=3)
    parser.add_argument("--needle-minutes", type=float, default=10.0)
    parser.add_argument("--mix-seeds", type=int, default=8)
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
