"""Needle benchmark: do the strategies find short events in calm videos, skip fades, cover every slide?

Generated needle videos (``needles.py``: 10 minutes, 360p-like 320x180 at 25 fps, still slides
with sensor noise, hard cuts and cross-fades, fades from and to black, a slow pan, three inserts
and three overlays per video), one per seed, analysed by ``framepick.analyze`` (the detector's own
scenes and scores). Per strategy and budget (16, 32, 64 frames), means over the seeds:

- inserts / overlays hit: share of needles holding at least one pick;
- transitions: share of picks inside fades and cross-fades, divided by their share of the time
  (1.0 = as many as uniform sampling would put there, 0 = none);
- slides held: share of slides (transitions excluded) holding a pick;
- largest gap: between neighbouring picks (and the video's ends), in seconds.

Usage::

    python reports/bench/bench_needles.py [--seeds 3] [--minutes 10]

Writes ``reports/needles.md``.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import framepick
from framepick.select import select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from needles import Truth, make_needle_video  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "reports" / "needles.md"
BUDGETS = (16, 32, 64)
STRATEGIES = ("uniform", "scenes", "adaptive", "novelty")


def _hit(picks: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
    """Whether each ``[start, end)`` span holds a pick (bool, one per span)."""
    return np.array([np.any((picks >= lo) & (picks < hi)) for lo, hi in spans], dtype=bool)


def measure(picks: np.ndarray, truth: Truth) -> dict[str, float]:
    """The needle measures of one selection (frame indices) against its video's truth."""
    inside = sum(int(np.sum((picks >= lo) & (picks < hi))) for lo, hi in truth.transitions)
    share = sum(hi - lo for lo, hi in truth.transitions) / truth.frames
    edges = np.concatenate(([0], picks, [truth.frames]))
    return {
        "inserts": float(_hit(picks, truth.inserts).mean()),
        "overlays": float(_hit(picks, truth.overlays).mean()),
        "transitions": inside / len(picks) / share,
        "slides": float(_hit(picks, truth.slides).mean()),
        "gap_s": float(np.diff(edges).max() / truth.fps),
    }


def run(seeds: int, minutes: float) -> tuple[dict, list[str]]:
    results: dict[tuple[str, int], list[dict[str, float]]] = {}
    notes = []
    with tempfile.TemporaryDirectory() as folder:
        for seed in range(1, seeds + 1):
            path = Path(folder) / f"needles_{seed}.mp4"
            started = time.perf_counter()
            truth = make_needle_video(path, seed=seed, minutes=minutes)
            made = time.perf_counter() - started
            analysis = framepick.analyze(path, cache=False, progress=False)
            notes.append(f"seed {seed}: {len(truth.slides)} slides, {len(truth.transitions)} transitions, "
                         f"{len(analysis.scenes)} detected scenes; made in {made:.0f} s, "
                         f"analysed in {analysis.elapsed_s:.0f} s")
            for strategy in STRATEGIES:
                for budget in BUDGETS:
                    picks = select(analysis, strategy, frames=budget).indices
                    results.setdefault((strategy, budget), []).append(measure(picks, truth))
    return results, notes


def write_report(results: dict, notes: list[str], seeds: int, minutes: float) -> str:
    lines = [
        "# Needles: short events in calm videos",
        "",
        f"`python reports/bench/bench_needles.py --seeds {seeds} --minutes {minutes:g}` on "
        f"{platform.machine()}, Python {platform.python_version()}. {__doc__.split('Usage')[0].strip()}",
        "",
        "| strategy | budget | inserts hit | overlays hit | picks in transitions / their share | slides held "
        "| largest gap (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for (strategy, budget), rows in results.items():
        mean = {key: float(np.mean([row[key] for row in rows])) for key in rows[0]}
        worst_gap = max(row["gap_s"] for row in rows)
        lines.append(f"| {strategy} | {budget} | {mean['inserts']:.0%} | {mean['overlays']:.0%} | "
                     f"{mean['transitions']:.1f}x | {mean['slides']:.0%} | {mean['gap_s']:.0f} (max {worst_gap:.0f}) |")
    lines += ["", *[f"- {note}" for note in notes], ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=REPORT)
    args = parser.parse_args()
    results, notes = run(args.seeds, args.minutes)
    text = write_report(results, notes, args.seeds, args.minutes)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
