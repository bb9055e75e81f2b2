"""The main job's report: uniform against adaptive on one video, as markdown with pictures.

:func:`run_demo` analyses a video, selects frames with two strategies at the same frame budget,
writes both selections as JPEGs with their manifests (through :func:`framepick.pipeline.sample`)
and writes ``report.md`` beside a timeline PNG and one contact sheet per strategy made from the
JPEGs that were written. Everything is computed by the library; this module only lays it out.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .analysis import analyze
from .config import JobConfig
from .metrics import BETTER, best_rows, compare
from .pipeline import sample
from .select import select
from .show import format_time, grid, timeline_png
from .types import Analysis, Selection

__all__ = ["DemoResult", "contact_sheet", "run_demo", "write_report"]

CONTACT_THUMB_PX = 160  # longer side of a contact-sheet thumbnail
CONTACT_COLUMNS = 8


@dataclass(frozen=True)
class DemoResult:
    """Where :func:`run_demo` put things."""

    report: Path
    manifests: dict[str, Path]


DEMO_FRAMES = 16  # frames each strategy gets in the demo


def run_demo(
    video: str | os.PathLike,
    *,
    out_dir: str | os.PathLike,
    report_dir: str | os.PathLike,
    strategies: Sequence[str] = ("uniform", "adaptive"),
    frames: int | None = DEMO_FRAMES,
    progress: bool | None = None,
) -> DemoResult:
    """Analyse ``video``, pick frames with each of ``strategies``, write JPEGs and a report.

    Parameters
    ----------
    video : str or os.PathLike
        The video (e.g. :func:`framepick.sample_video`).
    out_dir : str or os.PathLike
        JPEGs and manifests go to ``out_dir/<strategy>/<video id>/``.
    report_dir : str or os.PathLike
        ``report.md``, ``timeline.png`` and ``contact_<strategy>.jpg`` go here.
    strategies : sequence of str
        Strategies to compare, all at the same frame count.
    frames : int, optional
        Frame budget (default ``DEMO_FRAMES``, where uniform and adaptive differ visibly on a
        short clip); None: Qwen's rule for the duration (2 frames per second, 4 to 768).
    """
    analysis = analyze(video, progress=progress)
    first = select(analysis, strategies[0], frames=frames)
    selections = [first, *(select(analysis, name, frames=len(first)) for name in strategies[1:])]
    manifests = {
        selection.strategy: sample(video, selection.strategy, out_dir=Path(out_dir) / selection.strategy,
                                   config=JobConfig(), analysis=analysis, **selection.params)
        for selection in selections
    }
    return DemoResult(write_report(analysis, selections, manifests, report_dir), manifests)


def write_report(
    analysis: Analysis,
    selections: Sequence[Selection],
    manifests: dict[str, Path],
    report_dir: str | os.PathLike,
) -> Path:
    """Write ``report.md`` with its timeline and contact sheets into ``report_dir``; return it."""
    folder = Path(report_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "timeline.png").write_bytes(timeline_png(analysis, *selections))
    from PIL import Image

    for strategy, manifest in manifests.items():
        Image.fromarray(contact_sheet(manifest)).save(folder / f"contact_{strategy}.jpg", quality=88)
    path = folder / "report.md"
    path.write_text(_markdown(analysis, selections, manifests, folder))
    return path


def contact_sheet(manifest: str | os.PathLike, *, thumb_px: int = CONTACT_THUMB_PX,
                  columns: int = CONTACT_COLUMNS) -> np.ndarray:
    """The JPEGs a manifest lists, shrunk to ``thumb_px`` on the longer side and tiled in time
    order: uint8 array (h, w, 3)."""
    from PIL import Image

    manifest = Path(manifest)
    frames = json.loads(manifest.read_text())["frames"]
    thumbs = []
    for frame in frames:
        with Image.open(manifest.parent / frame["file"]) as image:
            image.thumbnail((thumb_px, thumb_px))
            thumbs.append(np.asarray(image.convert("RGB")))
    return grid(thumbs, columns=columns)


def _markdown(analysis: Analysis, selections: Sequence[Selection], manifests: dict[str, Path],
              folder: Path) -> str:
    info = analysis.info
    rows = compare(analysis, *selections)
    lines = [
        f"# framepick: {' vs '.join(s.strategy for s in selections)} on `{Path(info.path).name}`",
        "",
        f"{info.duration_s:.1f} s, {info.frames} frames at {info.fps:.3g} fps, {info.width}x{info.height} "
        f"{info.codec}; analysed in {analysis.elapsed_s:.2f} s with {analysis.decoder} "
        f"({len(analysis.scenes)} scenes, {analysis.config.detector} detector).",
        "",
        "![timeline: change score, scene cuts, picked frames](timeline.png)",
        "",
        "## Metrics",
        "",
        _metrics_table(rows),
        "",
        "Scene coverage: share of scenes with a picked frame. Gaps: seconds between picks (and to the ends). "
        "Redundancy: mean similarity of consecutive picks. Representativeness: mean distance of every "
        "thumbnail to its nearest pick (lower is better).",
        "",
        "## Scenes",
        "",
        "| scene | frames | seconds |",
        "| --- | --- | --- |",
        *(f"| {n} | {start}-{end - 1} | {format_time(t0)} - {format_time(t1)} |"
          for n, ((start, end), (t0, t1)) in enumerate(zip(analysis.scenes, analysis.scene_times_s))),
        "",
    ]
    for selection in selections:
        manifest = manifests[selection.strategy]
        lines += [
            f"## {selection.strategy}: {len(selection)} frames",
            "",
            f"![{selection.strategy} contact sheet](contact_{selection.strategy}.jpg)",
            "",
            f"JPEGs and manifest: `{os.path.relpath(manifest, folder)}`",
            "",
        ]
    return "\n".join(lines)


def _metrics_table(rows: list[dict]) -> str:
    metrics = list(BETTER)
    header = ["strategy", "frames", *(f"{m} ({BETTER[m]} is better)" for m in metrics)]
    best = {m: best_rows(rows, m) for m in metrics}
    body = [
        [row["strategy"], str(row["frames"]),
         *(f"**{row[m]:.3f}**" if number in best[m] else f"{row[m]:.3f}" for m in metrics)]
        for number, row in enumerate(rows)
    ]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in [header, ["---"] * len(header), *body])
