"""Genre benchmark: what each strategy holds, and the scene cuts, on seven kinds of video.

The videos (``genre_videos.py``: lecture, screen recording, broadcast, surveillance, film,
handheld, calm; 640x360 25 fps H.264 with ground truth) are analysed by ``framepick.analyze``
(the settings given, default ones unless asked), each in a fresh process (``_harness``) with the
cache off, and by PySceneDetect's own ``detect(path, AdaptiveDetector())`` and
``detect(path, ContentDetector())`` on the same full-size file. Then, per genre, strategy and
budget (16, 32, 64 frames), in two modes: framepick's defaults (``pair_s`` as
``framepick.sample`` sets it: 0.5 s where the strategy takes it) and pairs off (``pair_s = 0``):

- *held*: the share of the true states and events with a selected frame inside, and with a
  *Qwen temporal pair* inside: Qwen merges the frames it is given two by two (0+1, 2+3, ...; an
  odd last frame with itself), and a span counts only if both frames of one pair lie in it;
- the largest gap between consecutive selected frames, seconds;
- per analysis (and per baseline): false cuts per minute (scene boundaries farther than
  :data:`TOLERANCE_FRAMES` from every true cut and outside every true transition), the cut F1
  (true cuts and transitions; a boundary inside a transition finds it) and the hard-cut F1
  (true hard cuts only, boundaries inside transitions left out), the analysis time and its ratio
  to ``detect()``'s, both without imports. The two real clips' cut F1 is measured the same way.

Measuring functions (:func:`evaluate`, :func:`cut_counts`, :func:`f1`) import without side
effects. Videos are cached in ``--work``; a rerun re-analyses them (other settings:
``--detector``, ``--set``) and, with ``--reuse-baselines``, keeps PySceneDetect's earlier results.

Usage::

    python reports/bench/bench_genres.py                      # 7 genres x 3 videos of 5 min: reports/genres.md
    python reports/bench/bench_genres.py --quick              # 1 video of 1.5 min each: WORK/genres-quick.md
    python reports/bench/bench_genres.py --reuse-baselines --detector content --set size=160
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

import _harness
import genre_videos
from framepick.cache import load
from framepick.config import JobConfig
from framepick.select import STRATEGIES, select
from framepick.settings import AnalysisConfig
from framepick.types import Analysis
from genre_videos import GENRES, Truth

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from helpers import BIKES, KNOWN_CUTS, SAMPLE  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "reports" / "genres.md"
BUDGETS = (16, 32, 64)
MODES = {"default": None, "pairs off": 0.0}  # pair_s: None = as framepick.sample sets it
DETECTORS = ("adaptive", "content")  # PySceneDetect's, run on the full-size file
TOLERANCE_FRAMES = 3
REAL_CLIPS = {BIKES.name: (BIKES, ()), SAMPLE.name: (SAMPLE, ((0, 46, "fade_in"),))}  # the sample fades in


# --------------------------------------------------------------------------- selection measures


def selection_params(analysis: Analysis, strategy: str, frames: int, pair_s: float | None) -> dict[str, Any]:
    """Parameters giving ``strategy`` a budget of ``frames`` frames (``fps``, which has no frame
    count: ``frames`` per video duration, capped at ``frames``) with temporal pairs ``pair_s``
    (seconds; None: as ``framepick.sample`` sets them; ignored where the strategy has none)."""
    defaults = JobConfig(strategy).resolved_params()
    params = {"frames": frames} if "frames" in defaults else {"fps": frames / analysis.info.duration_s,
                                                              "max_frames": frames}
    if "pair_s" in defaults:
        params["pair_s"] = defaults["pair_s"] if pair_s is None else pair_s
    return params


def qwen_pairs(indices: np.ndarray) -> np.ndarray:
    """The frames as Qwen merges them: consecutive frames two by two, an odd last one with itself
    (Qwen repeats the last frame to fill its temporal patch); int64 (n, 2)."""
    frames = np.asarray(indices, dtype=np.int64)
    if len(frames) % 2:
        frames = np.append(frames, frames[-1:])
    return frames.reshape(-1, 2)


def held(spans: list[tuple[int, int]], indices: np.ndarray, pairs: np.ndarray) -> tuple[int, int]:
    """How many ``[start, end)`` frame spans hold a frame of ``indices``, and how many hold both
    frames of one of ``pairs`` (:func:`qwen_pairs`)."""
    frame = sum(bool(np.any((indices >= lo) & (indices < hi))) for lo, hi in spans)
    pair = sum(bool(np.any((pairs[:, 0] >= lo) & (pairs[:, 1] < hi))) for lo, hi in spans)
    return frame, pair


def evaluate(analysis: Analysis, truth: Truth, strategy: str, frames: int, pair_s: float | None = None) -> dict:
    """The selection measures of ``strategy`` at ``frames`` frames (``pair_s``: see
    :func:`selection_params`) on an analysed genre video: ``states_frame``/``states_pair`` and
    ``events_frame``/``events_pair`` (counts of true spans held, out of ``states``/``events``),
    ``picked`` (frames selected) and ``max_gap_s`` (largest gap between consecutive selected
    frames, seconds)."""
    selection = select(analysis, strategy, **selection_params(analysis, strategy, frames, pair_s))
    indices = selection.indices
    pairs = qwen_pairs(indices)
    states_frame, states_pair = held(truth.states, indices, pairs)
    events_frame, events_pair = held(truth.events, indices, pairs)
    times_s = analysis.times_of(indices)
    return {"strategy": strategy, "frames": frames, "pair_s": selection.params.get("pair_s"), "picked": len(indices),
            "states": len(truth.states), "states_frame": states_frame, "states_pair": states_pair,
            "events": len(truth.events), "events_frame": events_frame, "events_pair": events_pair,
            "max_gap_s": float(np.diff(times_s).max()) if len(times_s) > 1 else analysis.info.duration_s}


# --------------------------------------------------------------------------- cut measures


@dataclass(frozen=True)
class CutCounts:
    """Scene boundaries against the true cuts and transitions of one or more videos (frames).

    ``cuts_found``: true hard cuts with a boundary within the tolerance; ``transitions_found``:
    true transitions with a boundary inside (their span widened by the tolerance); ``false``:
    boundaries that do neither (several boundaries at one true cut or transition are neither
    found nor false); ``minutes``: the videos' length."""

    cuts: int = 0
    transitions: int = 0
    cuts_found: int = 0
    transitions_found: int = 0
    false: int = 0
    boundaries: int = 0
    minutes: float = 0.0

    def __add__(self, other: CutCounts) -> CutCounts:
        return CutCounts(*(a + b for a, b in zip(asdict(self).values(), asdict(other).values())))

    @property
    def false_per_minute(self) -> float:
        return self.false / self.minutes if self.minutes else float("nan")


def cut_counts(boundaries: list[int], truth: Truth, *, tolerance: int = TOLERANCE_FRAMES) -> CutCounts:
    """:class:`CutCounts` of ``boundaries`` (first frames of new scenes) against ``truth``. A fade
    in at the start or out at the end of the video joins no two shots: nothing to find there, but
    a boundary inside is not false either."""
    found = np.asarray(boundaries, dtype=np.int64)
    spans = [(lo - tolerance, hi + tolerance) for lo, hi, _ in truth.transitions]
    joining = [span for span, (start, end, _) in zip(spans, truth.transitions) if 0 < start and end < truth.frames]
    near_cut = np.array([any(abs(b - c) <= tolerance for c in truth.cuts) for b in found.tolist()], dtype=bool)
    inside = np.array([any(lo <= b < hi for lo, hi in spans) for b in found.tolist()], dtype=bool)
    return CutCounts(cuts=len(truth.cuts), transitions=len(joining),
                     cuts_found=sum(bool(np.any(np.abs(found - c) <= tolerance)) for c in truth.cuts),
                     transitions_found=sum(bool(np.any((found >= lo) & (found < hi))) for lo, hi in joining),
                     false=int(np.sum(~near_cut & ~inside)), boundaries=len(found),
                     minutes=truth.frames / truth.fps / 60)


def f1(counts: CutCounts, *, hard_only: bool = False) -> float:
    """Cut F1 of pooled :class:`CutCounts`: recall over the true cuts and transitions (or the hard
    cuts only), precision over the boundaries found true and the false ones; NaN without truth."""
    truths = counts.cuts + (0 if hard_only else counts.transitions)
    hits = counts.cuts_found + (0 if hard_only else counts.transitions_found)
    if not truths:
        return float("nan")
    recall, precision = hits / truths, hits / (hits + counts.false) if hits + counts.false else 1.0
    return 2 * recall * precision / (recall + precision) if recall + precision else 0.0


# --------------------------------------------------------------------------- measured children


def analysis_child(path: str, settings: dict) -> dict:
    """Run in the measured process: one uncached analysis with ``settings``, stored in the cache
    (``$FRAMEPICK_CACHE``, the work folder's) for the parent to load; its pass time in seconds."""
    import framepick
    from framepick.cache import save

    analysis = framepick.analyze(path, cache=False, progress=False, **settings)
    save(analysis)
    return {"analysis_s": analysis.elapsed_s, "frames": analysis.info.frames}


def detect_child(path: str, detector: str) -> dict:
    """Run in the measured process: PySceneDetect's ``detect()`` with ``detector`` (``"adaptive"``
    or ``"content"``) at its defaults; its cuts (frames) and seconds inside ``detect()``."""
    import scenedetect

    started = time.perf_counter()
    scenes = scenedetect.detect(path, scenedetect.AdaptiveDetector() if detector == "adaptive"
                                else scenedetect.ContentDetector())
    return {"cuts": [start.frame_num for start, _ in scenes[1:]], "detect_s": time.perf_counter() - started}


def analysed(path: Path, settings: dict) -> tuple[Analysis, float]:
    """``path`` analysed in a fresh process with ``settings``; the analysis and its pass time (s)."""
    run = _harness.run_python("bench_genres:analysis_child", str(path), settings)
    analysis = load(path, AnalysisConfig(**settings))
    if analysis is None:
        raise RuntimeError(f"{path}: the analysis child stored no analysis in {os.environ['FRAMEPICK_CACHE']}")
    return analysis, run.result["analysis_s"]


def baseline(path: Path, detector: str, work: Path, *, reuse: bool) -> dict:
    """PySceneDetect's cuts and time on ``path`` (a fresh process), kept in ``work/baselines``;
    with ``reuse``, an earlier run's result where there is one (its ``measured`` date says when)."""
    stored = work / "baselines" / f"{path.stem}.{detector}.json"
    if reuse and stored.exists():
        return json.loads(stored.read_text())
    result = {**_harness.run_python("bench_genres:detect_child", str(path), detector).result,
              "measured": time.strftime("%Y-%m-%d %H:%M")}
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_text(json.dumps(result))
    return result


# --------------------------------------------------------------------------- one video


def measure_video(path: Path, truth: Truth, settings: dict, work: Path, *, reuse: bool,
                  strategies: tuple[str, ...]) -> dict:
    """Everything measured on one video: the analysis (time, boundaries, counts), the baselines
    and the selection measures of every strategy, budget and mode."""
    analysis, analysis_s = analysed(path, settings)
    if analysis.info.frames != truth.frames:
        raise RuntimeError(f"{path}: {analysis.info.frames} frames decoded, {truth.frames} made")
    rows = [{**evaluate(analysis, truth, strategy, frames, pair_s), "mode": mode}
            for strategy in strategies for frames in BUDGETS for mode, pair_s in MODES.items()]
    baselines = {detector: baseline(path, detector, work, reuse=reuse) for detector in DETECTORS}
    result = {"name": path.name, "genre": truth.genre, "truth": truth.to_dict(), "analysis_s": analysis_s,
              "boundaries": analysis.cuts.tolist(), "transitions_found": len(analysis.transitions), "rows": rows,
              "baselines": baselines}
    print(f"{path.name}: analysis {analysis_s:.1f} s, {len(analysis.cuts)} boundaries; "
          + ", ".join(f"{d} {b['detect_s']:.1f} s" for d, b in baselines.items()), flush=True)
    return result


def real_clip(name: str, settings: dict, work: Path, *, reuse: bool) -> dict:
    """Cut measures of framepick and the baselines on a real clip with known cuts."""
    path, transitions = REAL_CLIPS[name]
    analysis, analysis_s = analysed(path, settings)
    truth = Truth("real", 0, round(analysis.info.fps), analysis.info.frames, cuts=list(KNOWN_CUTS[name]),
                  transitions=list(transitions))
    return {"name": name, "genre": "real", "truth": truth.to_dict(), "analysis_s": analysis_s,
            "boundaries": analysis.cuts.tolist(), "rows": [],
            "baselines": {detector: baseline(path, detector, work, reuse=reuse) for detector in DETECTORS}}


# --------------------------------------------------------------------------- pooling


def rows_of(results: list[dict], genre: str, strategy: str, frames: int, mode: str) -> list[dict]:
    """The selection rows of one genre's videos for one strategy, budget and mode."""
    return [row for result in results if result["genre"] == genre for row in result["rows"]
            if (row["strategy"], row["frames"], row["mode"]) == (strategy, frames, mode)]


def share(rows: list[dict], target: str, kind: str) -> float:
    """Pooled share of the ``target`` spans (``"states"`` or ``"events"``) held by a frame or a pair
    (``kind``), over the videos' rows; NaN if they have none."""
    total = sum(row[target] for row in rows)
    return sum(row[f"{target}_{kind}"] for row in rows) / total if total else float("nan")


def cut_sources(result: dict) -> dict[str, list[int]]:
    """Scene boundaries of one video by framepick and by each PySceneDetect detector."""
    baselines = {f"PySceneDetect {detector}": found["cuts"] for detector, found in result["baselines"].items()}
    return {"framepick": result["boundaries"], **baselines}


def pooled_cuts(results: list[dict]) -> dict[str, CutCounts]:
    """:class:`CutCounts` per source (:func:`cut_sources`), pooled over ``results``."""
    pooled: dict[str, CutCounts] = {}
    for result in results:
        truth = Truth.from_dict(result["truth"])
        for source, boundaries in cut_sources(result).items():
            pooled[source] = pooled.get(source, CutCounts()) + cut_counts(boundaries, truth)
    return pooled


def times(results: list[dict]) -> tuple[float, dict[str, float]]:
    """Mean analysis seconds per video, and mean ``detect()`` seconds per detector."""
    return (float(np.mean([r["analysis_s"] for r in results])),
            {d: float(np.mean([r["baselines"][d]["detect_s"] for r in results])) for d in DETECTORS})


# --------------------------------------------------------------------------- report


def pct(value: float) -> str:
    """A share in [0, 1] as a whole percentage; ``-`` for NaN (nothing to hold)."""
    return "-" if np.isnan(value) else f"{100 * value:.0f}%"


def genres_of(results: list[dict]) -> list[str]:
    """The genres measured, in :data:`genre_videos.GENRES` order."""
    return [genre for genre in GENRES if any(r["genre"] == genre for r in results)]


def videos_table(results: list[dict]) -> str:
    """Per genre: videos, their length (minutes), CRF and the truth's counts."""
    rows = []
    for genre in genres_of(results):
        truths = [Truth.from_dict(r["truth"]) for r in results if r["genre"] == genre]
        minutes = sum(t.frames for t in truths) / truths[0].fps / 60
        rows.append([genre, len(truths), f"{minutes / len(truths):.1f}", GENRES[genre].crf,
                     sum(len(t.states) for t in truths), sum(len(t.events) for t in truths),
                     sum(len(t.cuts) for t in truths), sum(len(t.transitions) for t in truths),
                     f"{sum(len(t.states) + len(t.events) for t in truths) / minutes:.1f}"])
    return _harness.markdown_table(["genre", "videos", "minutes each", "CRF", "states", "events", "hard cuts",
                                    "transitions", "states + events a minute"], rows)


def summary_table(results: list[dict], mode: str) -> str:
    """Per genre: uniform and adaptive, share of the genre's main target held (frame / pair)."""
    rows = []
    for genre in genres_of(results):
        target = GENRES[genre].held
        cells = []
        for frames in BUDGETS[1:]:
            for strategy in ("uniform", "adaptive"):
                chosen = rows_of(results, genre, strategy, frames, mode)
                cells.append(f"{pct(share(chosen, target, 'frame'))} / {pct(share(chosen, target, 'pair'))}")
        rows.append([genre, target, *cells])
    headers = ["genre", "held"] + [f"{s} {n}" for n in BUDGETS[1:] for s in ("uniform", "adaptive")]
    return _harness.markdown_table(headers, rows)


def held_table(results: list[dict], genre: str, strategies: tuple[str, ...]) -> str:
    """Per strategy and budget: states and events held, frame / pair, in both modes; largest gap."""
    targets = [t for t in ("states", "events") if sum(len(r["truth"][t]) for r in results if r["genre"] == genre)]
    headers = ["strategy", "frames", "picked"] + [f"{t}, {mode}" for t in targets for mode in MODES] + \
        [f"largest gap s, {mode}" for mode in MODES]
    rows = []
    for strategy in strategies:
        for frames in BUDGETS:
            chosen = {mode: rows_of(results, genre, strategy, frames, mode) for mode in MODES}
            picked = " / ".join(f"{np.mean([r['picked'] for r in chosen[mode]]):.0f}" for mode in MODES)
            cells = [f"{pct(share(chosen[mode], t, 'frame'))} / {pct(share(chosen[mode], t, 'pair'))}"
                     for t in targets for mode in MODES]
            gaps = [f"{np.mean([r['max_gap_s'] for r in chosen[mode]]):.1f}" for mode in MODES]
            rows.append([strategy, frames, picked, *cells, *gaps])
    return _harness.markdown_table(headers, rows)


def cuts_table(results: list[dict], names: list[str], group: str) -> str:
    """Per group of videos: false cuts a minute, cut F1 and hard-cut F1 of each source, times."""
    rows = []
    for name in names:
        chosen = [r for r in results if r[group] == name]
        pooled = pooled_cuts(chosen)
        analysis_s, detect_s = times(chosen)
        rows.append([name, " / ".join(f"{c.false_per_minute:.2f}" for c in pooled.values()),
                     " / ".join(f"{f1(c):.3f}" for c in pooled.values()),
                     " / ".join(f"{f1(c, hard_only=True):.3f}" for c in pooled.values()),
                     f"{analysis_s:.1f}", " / ".join(f"{s:.1f}" for s in detect_s.values()),
                     " / ".join(f"{analysis_s / s:.2f}" for s in detect_s.values())])
    sources = " / ".join(["framepick", *(f"PSD {d}" for d in DETECTORS)])
    return _harness.markdown_table([group, f"false cuts a minute ({sources})", "cut F1", "hard-cut F1",
                                    "framepick analysis s", "PSD detect() s", "analysis / detect()"], rows)


def losses(results: list[dict], real: list[dict], strategies: tuple[str, ...]) -> list[str]:
    """Where framepick does worse, read off the numbers, one line per genre or clip: adaptive
    holding less of the genre's main target than uniform, or 10 points less than another
    strategy; its largest gap (pairs off) over 2.5x uniform's; a lower cut F1 or more false cuts
    than a PySceneDetect detector; an analysis slower than ``detect()``."""
    lines = []
    for genre in genres_of(results):
        chosen = [r for r in results if r["genre"] == genre]
        parts = held_losses(results, genre, strategies) + cut_losses(chosen)
        lines += [f"**{genre}** ({GENRES[genre].held}): " + "; ".join(parts) + "."] if parts else []
    for result in real:
        parts = cut_losses([result])
        lines += [f"**{result['name']}**: " + "; ".join(parts) + "."] if parts else []
    return lines or ["No loss by these rules."]


def held_losses(results: list[dict], genre: str, strategies: tuple[str, ...]) -> list[str]:
    """:func:`losses`' fragments on what adaptive holds and its gaps, at 32 and 64 frames."""
    target, parts = GENRES[genre].held, []
    for frames in BUDGETS[1:]:
        for mode in MODES:
            for kind in ("frame", "pair"):
                held_by = {s: share(rows_of(results, genre, s, frames, mode), target, kind) for s in strategies}
                best = max(held_by, key=lambda s: held_by[s])
                rival = "uniform" if held_by["adaptive"] < held_by["uniform"] else best
                if held_by["adaptive"] < held_by["uniform"] or held_by[best] - held_by["adaptive"] >= 0.1:
                    parts.append(f"{frames} frames {mode}, a {kind} inside: adaptive {pct(held_by['adaptive'])}, "
                                 f"{rival} {pct(held_by[rival])}")
        gaps = {s: max(r["max_gap_s"] for r in rows_of(results, genre, s, frames, "pairs off"))
                for s in ("uniform", "adaptive")}
        if gaps["adaptive"] > 2.5 * gaps["uniform"]:
            parts.append(f"{frames} frames pairs off: largest gap {gaps['adaptive']:.1f} s, uniform's "
                         f"{gaps['uniform']:.1f} s")
    return parts


def cut_losses(results: list[dict]) -> list[str]:
    """:func:`losses`' fragments on the cuts and the time of one group of videos."""
    pooled = pooled_cuts(results)
    ours = pooled.pop("framepick")
    parts = []
    for source, counts in pooled.items():
        for hard_only, what in ((False, "cut F1"), (True, "hard-cut F1")):
            if f1(ours, hard_only=hard_only) < f1(counts, hard_only=hard_only) - 0.005:
                parts.append(f"{what} {f1(ours, hard_only=hard_only):.3f}, {source} "
                             f"{f1(counts, hard_only=hard_only):.3f}")
        if ours.false_per_minute > counts.false_per_minute:
            parts.append(f"{ours.false_per_minute:.2f} false cuts a minute, {source} {counts.false_per_minute:.2f}")
    analysis_s, detect_s = times(results)
    if analysis_s > min(detect_s.values()):
        detected = " / ".join(f"{s:.1f} s ({d})" for d, s in detect_s.items())
        parts.append(f"analysis {analysis_s:.1f} s, detect() {detected}")
    return parts


def header(args: argparse.Namespace, settings: dict, made_s: float, measured_s: float) -> list[str]:
    """The report's opening: date, command, commit, settings, machine; ``made_s`` and ``measured_s``
    are the seconds spent making the videos and measuring them."""
    commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True,
                            text=True).stdout.strip()
    date = subprocess.run(["date"], capture_output=True, text=True).stdout.strip()
    command = "python reports/bench/bench_genres.py " + shlex.join(sys.argv[1:])
    reused = "PySceneDetect's results reused from earlier runs (`--reuse-baselines`)" if args.reuse_baselines \
        else "PySceneDetect measured in the same run"
    machine = _harness.machine_info()
    return [f"Made {date} by `{command.strip()}` at commit {commit}: videos ready in {made_s:.0f} s (cached in "
            f"`{args.work}` unless made), measured in {measured_s:.0f} s; {reused}. Analysis settings: "
            f"`{json.dumps(settings) if settings else 'the defaults'}`. Each analysis and each `detect()` ran in a "
            f"fresh process; times are the pass alone (no imports). Machine: {machine['cpu']}, {machine['cores']} "
            f"cores, shared with other jobs (load average at the end {machine['load average (1, 5, 15 min)']})."]


def write_report(path: Path, results: list[dict], real: list[dict], args: argparse.Namespace, settings: dict,
                 made_s: float, measured_s: float) -> None:
    """Write the markdown report of ``results`` (genre videos) and ``real`` (the real clips) to ``path``."""
    strategies = tuple(args.strategies)
    lines = ["# Frame selection by genre", "", *header(args, settings, made_s, measured_s), "",
             "Videos (`reports/bench/genre_videos.py`, 640x360 25 fps H.264, x264 `veryfast`; states and events "
             "are `[start, end)` spans of the truth, states without the transitions at their ends):", "",
             videos_table(results), "",
             "## Summary", "",
             "Share of each genre's main target held at 32 and 64 frames: *a frame inside* / *a Qwen temporal pair "
             "inside* (Qwen merges frames 0+1, 2+3, ...: both frames of one pair must lie in the span), pooled over "
             "the genre's videos. Default: `pair_s` as `framepick.sample` sets it (0.5 s for the strategies that "
             "take it; uniform has none, so its frames are the same in both modes).", ""]
    for mode in MODES:
        lines += [f"### {mode}", "", summary_table(results, mode), ""]
    lines += ["### Scene cuts", "",
              f"A boundary within {TOLERANCE_FRAMES} frames of a true hard cut finds it, one inside a true "
              "transition (widened as much) finds that; others are false cuts. Cut F1: true cuts and transitions; "
              "hard-cut F1: hard cuts only (boundaries in transitions left out). `-`/`nan`: no true cut. PSD: "
              "PySceneDetect's `detect()` on the full-size file, default settings.", "",
              cuts_table(results, genres_of(results), "genre"), "",
              "Real clips (`bikes.mp4`: cuts 30, 76, 137, 187, 242; the Big Buck Bunny sample: cuts 283, 376, 551 "
              "and a fade-in over frames 0-45):", "", cuts_table(real, [r["name"] for r in real], "name"), "",
              "## Where framepick loses", "",
              "Generated from the numbers above and below (rules: `losses` in `bench_genres.py`):", "",
              *[f"- {line}" for line in losses(results, real, strategies)], "",
              "## Per genre", "",
              "Each cell: a frame inside / a pair inside, pooled over the genre's videos; picked: frames selected "
              "(mean, default / pairs off; `novelty` may take fewer than its budget); largest gap: between "
              "consecutive selected frames, mean over the videos.", ""]
    for genre in genres_of(results):
        lines += [f"### {genre}", "", held_table(results, genre, strategies), ""]
    lines += ["## Videos", "", *[f"- `{r['name']}`: analysis {r['analysis_s']:.1f} s, {len(r['boundaries'])} "
                                  f"boundaries, {r['transitions_found']} transitions found; PySceneDetect "
                                  + ", ".join(f"{d} {len(b['cuts'])} cuts in {b['detect_s']:.1f} s "
                                              f"({r['analysis_s'] / b['detect_s']:.2f}x)"
                                              for d, b in r["baselines"].items()) for r in results], "",
              "## Tools", "", _harness.dict_table(_harness.tool_versions(), key="tool", value="version"),
              "## Machine", "", _harness.dict_table(_harness.machine_info())]
    path.write_text("\n".join(lines))


# --------------------------------------------------------------------------- command line


def setting(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` with VALUE read as JSON where it is (``false``, ``160``), else as a string."""
    key, _, value = text.partition("=")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def analysis_settings(args: argparse.Namespace) -> dict:
    """The analysis settings of ``--detector``, ``--detector-param`` and ``--set`` (checked)."""
    settings = dict(args.set)
    if args.detector:
        settings["detector"] = args.detector
    if args.detector_param:
        settings["detector_params"] = dict(args.detector_param)
    AnalysisConfig(**settings)
    return settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=genre_videos.DEFAULT_WORK,
                        help="videos, analyses and baselines (default %(default)s)")
    parser.add_argument("--quick", action="store_true", help="one 1.5-minute video per genre; report in WORK")
    parser.add_argument("--genres", nargs="+", choices=list(GENRES), default=list(GENRES))
    parser.add_argument("--strategies", nargs="+", choices=list(STRATEGIES), default=list(STRATEGIES))
    parser.add_argument("--detector", choices=("adaptive", "content", "histogram", "hash"),
                        help="framepick's scene detector (default: its own default)")
    parser.add_argument("--detector-param", type=setting, action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--set", type=setting, action="append", default=[], metavar="KEY=VALUE",
                        help="another analysis setting, e.g. reference_only=false or size=160")
    parser.add_argument("--reuse-baselines", action="store_true", help="PySceneDetect's results of an earlier run")
    parser.add_argument("--jobs", type=int, default=2, help="videos generated at once")
    parser.add_argument("--report", type=Path, help="default: reports/genres.md, or WORK/genres-quick.md")
    args = parser.parse_args()
    settings = analysis_settings(args)
    os.environ["FRAMEPICK_CACHE"] = str(args.work / "analyses")  # the children store their analyses there
    size = genre_videos.QUICK if args.quick else genre_videos.FULL
    started = time.perf_counter()
    videos = genre_videos.ensure_set(args.work, args.genres, int(size["seeds"]), size["minutes"], jobs=args.jobs)
    made_s = time.perf_counter() - started
    results = [measure_video(path, truth, settings, args.work, reuse=args.reuse_baselines,
                             strategies=tuple(args.strategies)) for path, truth in videos]
    real = [real_clip(name, settings, args.work, reuse=args.reuse_baselines) for name in REAL_CLIPS]
    (args.work / "genres-results.json").write_text(json.dumps({"results": results, "real": real}))
    report = args.report or (args.work / "genres-quick.md" if args.quick else REPORT)
    write_report(report, results, real, args, settings, made_s, time.perf_counter() - started - made_s)
    print(f"wrote {report}")


if __name__ == "__main__":
    main()
