"""Genre videos with ground truth, for the frame-selection benchmark (``bench_genres.py``).

Seven genres, each a seeded, deterministic generator of 640x360 25 fps H.264 (x264 ``veryfast``,
CRF 23-28, so compression noise is there) built from the real footage of ``genre_drawing.py``,
planned in ``genre_screens.py`` (lecture, screen) and ``genre_cameras.py`` (the others):

- ``lecture``: a slide deck (one template, bullets or bars revealed one at a time, hard cuts and
  0.5 s dissolves between slides), a live speaker inset of real footage, a wandering pointer.
  Truth: the *states* (each reveal), dissolves, the hard cuts between slides.
- ``screen``: a screen recording of an editor, a terminal and a document: scrolling, typing, a
  blinking cursor, a pointer, window switches. Truth: states (bounded by switches and scroll
  stops), typing bursts as *events*, switches as cuts.
- ``broadcast``: real shots (2-9 s, reframed) with hard cuts under a scrolling ticker, a score
  and clock box and a logo. Truth: the shots as states, the cuts.
- ``surveillance``: a fixed camera on a real still with sensor noise, lighting drift and a
  running clock; rare people crossing (2-6 s) and a car that parks and stays. Truth: events; no cut.
- ``film``: reframed real shots (2.5-10 s, letterboxed, grain) joined by hard cuts, dissolves
  (0.5-1.5 s) and fades through black, opening and closing fades. Truth: shots, cuts, transitions.
- ``handheld``: one shot panning slowly over a large real frame (a live picture in it) with
  handheld shake and two jolts; objects appear and stay a while, captions appear. Truth: events; no cut.
- ``calm``: still real pictures with sensor noise (30-70 s each), hard cuts and 1.5 s
  cross-fades, fades from and to black, one slow pan; three inserts of moving footage (a cut at
  each end) and three small moving overlays (no cut). Truth: the slides as states, the inserts
  and overlays as events.

Spans are ``[start, end)`` frame ranges; a state's span leaves out the transitions at its ends.
Each video is cached in ``WORK/videos`` under a hash of its parameters (genre, seed, minutes,
:data:`GENERATOR_VERSION`, size, rate, CRF, preset), its truth in a JSON beside it written last.

Usage::

    python reports/bench/genre_videos.py [--work /tmp/framepick-genres] [--quick]
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from genre_cameras import broadcast, calm, film, handheld, surveillance
from genre_drawing import FPS, HEIGHT, PRESET, WIDTH, Footage, Plan, Span, encode, load_footage
from genre_screens import lecture, screen

GENERATOR_VERSION = 1  # raise when a generator draws differently: cached videos are then made again
DEFAULT_WORK = Path("/tmp/framepick-genres")


@dataclass
class Truth:
    """Ground truth of one genre video (frames at ``fps``; spans ``[start, end)``).

    ``states`` are what a selection should show one frame of each (slide states, shots, views),
    ``events`` the short happenings (typing, people crossing, inserts), ``cuts`` the first frames
    of new shots after hard cuts and ``transitions`` the gradual ones, ``(start, end, kind)``.
    """

    genre: str
    seed: int
    fps: int
    frames: int
    states: list[Span] = field(default_factory=list)
    events: list[Span] = field(default_factory=list)
    cuts: list[int] = field(default_factory=list)
    transitions: list[tuple[int, int, str]] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Plain JSON-able dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Truth:
        """Inverse of :meth:`to_dict` (extra keys of the sidecar ignored)."""
        return cls(genre=data["genre"], seed=data["seed"], fps=data["fps"], frames=data["frames"],
                   states=[tuple(s) for s in data["states"]], events=[tuple(e) for e in data["events"]],
                   cuts=list(data["cuts"]), transitions=[tuple(t) for t in data["transitions"]])


# --------------------------------------------------------------------------- the set


@dataclass(frozen=True)
class Genre:
    """A genre: its planner, the x264 CRF of its videos, and what its truth is mostly about
    (``held``: ``"states"`` or ``"events"``, the column the benchmark's summary reads)."""

    plan: Callable[[np.random.Generator, Footage, int], Plan]
    crf: int
    held: str


GENRES = {
    "lecture": Genre(lecture, 28, "states"),
    "screen": Genre(screen, 24, "states"),
    "broadcast": Genre(broadcast, 23, "states"),
    "surveillance": Genre(surveillance, 27, "events"),
    "film": Genre(film, 23, "states"),
    "handheld": Genre(handheld, 25, "events"),
    "calm": Genre(calm, 26, "events"),
}


def video_path(work: Path, genre: str, seed: int, minutes: float) -> Path:
    """Where the video of these parameters is cached (named by a hash of every parameter)."""
    params = {"genre": genre, "seed": seed, "minutes": minutes, "version": GENERATOR_VERSION, "size": [WIDTH, HEIGHT],
              "fps": FPS, "crf": GENRES[genre].crf, "preset": PRESET}
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:10]
    return work / "videos" / f"{genre}-{seed}-{minutes:g}min-{digest}.mp4"


@functools.lru_cache(maxsize=None)
def _footage(work: Path) -> Footage:
    """The real footage of ``work`` (decoded there on first use), once per process."""
    return load_footage(work / "footage")


def make_video(path: Path, genre: str, seed: int, minutes: float, footage: Footage) -> Truth:
    """Generate the video to ``path`` and its truth sidecar (``path`` with ``.json``); return the truth."""
    frames = round(minutes * 60 * FPS)
    rng = np.random.default_rng([zlib.crc32(genre.encode()), seed])
    started = time.perf_counter()
    plan = GENRES[genre].plan(rng, footage, frames)
    path.parent.mkdir(parents=True, exist_ok=True)
    encode(path, frames, plan.picture, crf=GENRES[genre].crf)
    truth = Truth(genre, seed, FPS, frames, plan.states, plan.events, plan.cuts, plan.transitions)
    sidecar = {**truth.to_dict(), "minutes": minutes, "width": WIDTH, "height": HEIGHT, "crf": GENRES[genre].crf,
               "preset": PRESET, "generator_version": GENERATOR_VERSION,
               "made_s": round(time.perf_counter() - started, 1)}
    path.with_suffix(".json").write_text(json.dumps(sidecar))
    return truth


def ensure_video(work: Path, genre: str, seed: int, minutes: float) -> tuple[Path, Truth]:
    """The cached video of these parameters and its truth, generated first if missing."""
    path = video_path(work, genre, seed, minutes)
    sidecar = path.with_suffix(".json")
    if path.exists() and sidecar.exists():
        return path, Truth.from_dict(json.loads(sidecar.read_text()))
    return path, make_video(path, genre, seed, minutes, _footage(work))


def _timed_video(work: Path, genre: str, seed: int, minutes: float) -> tuple[Path, Truth, float]:
    """:func:`ensure_video` and the seconds it took (a worker of :func:`ensure_set`)."""
    started = time.perf_counter()
    return *ensure_video(work, genre, seed, minutes), time.perf_counter() - started


def ensure_set(work: Path, genres: list[str], seeds: int, minutes: float, *,
               jobs: int = 1) -> list[tuple[Path, Truth]]:
    """Every genre's videos of seeds ``1..seeds``, ``minutes`` long, the missing ones generated
    ``jobs`` at a time (one process each)."""
    wanted = [(genre, seed) for genre in genres for seed in range(1, seeds + 1)]
    if not all(video_path(work, g, s, minutes).with_suffix(".json").exists() for g, s in wanted):
        _footage(work)  # decoded once, before the workers map it
    with ProcessPoolExecutor(max(1, jobs)) as pool:
        made = list(pool.map(_timed_video, *zip(*[(work, g, s, minutes) for g, s in wanted])))
    for path, truth, seconds in made:
        print(f"{path.name}: {len(truth.states)} states, {len(truth.events)} events, {len(truth.cuts)} cuts, "
              f"{len(truth.transitions)} transitions ({seconds:.1f} s)", flush=True)
    return [(path, truth) for path, truth, _ in made]


QUICK = {"seeds": 1, "minutes": 1.5}
FULL = {"seeds": 3, "minutes": 5.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="cache folder (default %(default)s)")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK['seeds']} video of {QUICK['minutes']:g} min "
                        f"per genre instead of {FULL['seeds']} of {FULL['minutes']:g}")
    parser.add_argument("--genres", nargs="+", choices=list(GENRES), default=list(GENRES))
    parser.add_argument("--jobs", type=int, default=2, help="videos generated at once (default %(default)s)")
    args = parser.parse_args()
    size = QUICK if args.quick else FULL
    ensure_set(args.work, args.genres, int(size["seeds"]), size["minutes"], jobs=args.jobs)


if __name__ == "__main__":
    main()
