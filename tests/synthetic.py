"""Analyses made without a video, at any length, for tests and benchmarks of what comes after it.

``python reports/bench/widgets_redraw.py`` imports this too (it puts ``tests/`` on ``sys.path``).
"""

from __future__ import annotations

import numpy as np

from framepick.scenes import scenes_from_cuts
from framepick.types import Analysis, AnalysisConfig, VideoInfo


def synthetic_analysis(frames: int = 54_000, fps: float = 30.0, *, scenes: int = 300, seed: int = 0,
                       path: str = "synthetic.mp4") -> Analysis:
    """A seeded analysis of a made-up video of ``frames`` frames at ``fps``: a low noisy score with
    a spike at each of ``scenes - 1`` random cuts, one thumbnail per second (36 x 64, one flat
    colour per scene with a little noise)."""
    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.choice(np.arange(1, frames), size=scenes - 1, replace=False))
    score = (0.02 + 0.02 * rng.random(frames)).astype(np.float32)
    score[0] = 0.0
    score[cuts] = rng.uniform(0.4, 0.9, size=len(cuts)).astype(np.float32)
    scene_table = scenes_from_cuts(cuts, frames)
    thumb_indices = np.arange(0, frames, round(fps), dtype=np.int64)
    scene_of_thumb = np.searchsorted(scene_table[:, 0], thumb_indices, side="right") - 1
    colours = rng.integers(0, 256, size=(len(scene_table), 3))
    noise = rng.integers(-8, 9, size=(len(thumb_indices), 36, 64, 3))
    thumbs = np.clip(colours[scene_of_thumb][:, None, None, :] + noise, 0, 255).astype(np.uint8)
    info = VideoInfo(path=path, frames=frames, fps=fps, duration_s=frames / fps, width=1920,
                     height=1080, codec="h264")
    return Analysis(
        info=info,
        config=AnalysisConfig(),
        decoder="pyav",
        frame_times_s=np.arange(frames) / fps,
        score_indices=np.arange(frames, dtype=np.int64),
        score=score,
        luma_diff=score,
        hist_diff=score,
        scenes=scene_table,
        thumb_indices=thumb_indices,
        thumbs=thumbs,
    )
