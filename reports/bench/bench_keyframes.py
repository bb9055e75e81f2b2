"""Keyframe-only scan against the full analysis: how much faster, and which cuts it still finds.

For each video, in fresh processes: the full analysis (every frame) and the keyframe scan
(``keyframes_only=True``, ContentDetector with ``min_scene_len=1``, since only a handful of frames
reach the detector). A cut counts as found exactly when a reported cut is within one frame of it,
and as *located* when a reported cut falls on the first keyframe at or after it (the best a scan
that never sees the frames between keyframes can do). Writes ``reports/keyframe_scan.md``.

    python reports/bench/bench_keyframes.py --lengths 3 30
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import _harness
import make_videos

REPORT = Path(__file__).resolve().parents[1] / "keyframe_scan.md"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "videos"
REAL_CLIPS = {  # known cuts, from shared/videos/README.md
    "bikes.mp4": [30, 76, 137, 187, 242],
    "big_buck_bunny_0_30.webm": [283, 376, 551],
}
QUICK = {"keyframes_only": True, "detector": "content", "detector_params": {"min_scene_len": 1}}


def analysis_child(path: str, settings: dict) -> dict:
    """Run in the measured process: one uncached analysis with ``settings``."""
    import framepick

    analysis = framepick.analyze(path, cache=False, progress=False, threads=2, **settings)
    return {"cuts": analysis.cuts.tolist(), "analysed": len(analysis.score_indices),
            "keyframes": list(analysis.info.keyframes), "frames": analysis.info.frames}


def located(found: list[int], truth: list[int], keyframes: list[int]) -> int:
    """Cuts whose first keyframe at or after them is a reported cut."""
    keys = np.asarray(keyframes)
    after = [int(keys[np.searchsorted(keys, t)]) for t in truth if t <= keys[-1]]
    return sum(k in set(found) for k in after)


def exact(found: list[int], truth: list[int]) -> int:
    return sum(any(abs(f - t) <= 1 for f in found) for t in truth)


def measure(name: str, path: str, truth: list[int]) -> list:
    full = _harness.run_python("bench_keyframes:analysis_child", path, {})
    quick = _harness.run_python("bench_keyframes:analysis_child", path, QUICK)
    q = quick.result
    row = [name, q["frames"], q["analysed"], f"{full.wall_s:.1f}", f"{quick.wall_s:.1f}",
           f"{full.wall_s / quick.wall_s:.1f}x", f"{exact(full.result['cuts'], truth)}/{len(truth)}",
           f"{exact(q['cuts'], truth)}/{len(truth)}", f"{located(q['cuts'], truth, q['keyframes'])}/{len(truth)}",
           len(q["cuts"])]
    print(row, file=sys.stderr)
    return row


HEADERS = ["video", "frames", "keyframes analysed", "full s", "keyframe scan s", "speed-up",
           "full: cuts ±1", "scan: cuts ±1", "scan: cuts at next keyframe", "scan: cuts reported"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=float, nargs="+", default=[3, 30], help="generated video lengths, minutes")
    args = parser.parse_args(argv)
    rows = [measure(name, str(SHARED / name), cuts) for name, cuts in REAL_CLIPS.items()]
    for minutes in args.lengths:
        video = make_videos.ensure_video(minutes)
        rows.append(measure(f"generated {minutes:g} min 1080p", video["path"], video["cuts"]))
    REPORT.write_text(f"""# Keyframe-only scan: the coverage trade-off

Regenerate: `python reports/bench/bench_keyframes.py` (each number is one fresh process, wall time
including start-up; 2 decoder threads).

`analyze(path, keyframes_only=True)` (CLI `--keyframes-only`) decodes keyframes only (FFmpeg's
`skip_frame=nonkey`), timing every other frame from its packet header. It is meant for a quick
first look at very long videos. What it gives up: scores and cuts exist only at keyframes, so a cut
is at best reported at the first keyframe after it ("cuts at next keyframe"), and a cut with no
keyframe before the next shot's keyframe is missed. Encoders that place keyframes at shot changes
(x264's scenecut, used by the generated videos) make it far better than its keyframe spacing
suggests; the scan also reports keyframes inside long moving shots as cuts ("cuts reported" is
all of them).

{_harness.markdown_table(HEADERS, rows)}

## Tools

{_harness.dict_table(_harness.tool_versions(), key="tool", value="version")}
""")
    print(f"wrote {REPORT}")


if __name__ == "__main__":
    main()
