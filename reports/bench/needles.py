"""Calm "needle" videos with known slides, transitions and short events, for the selection benchmark.

A video is a sequence of still *slides* (smooth random pictures with per-frame sensor noise), each
40-90 s, joined by hard cuts or 1.5 s cross-fades, opening with a fade in from black and closing
with a fade out to black; one slide pans slowly over a larger picture. Six *needles* hide inside
slides: three *inserts* (1.5-3 s of other moving footage, a hard cut at each end) and three
*overlays* (a small moving picture, a quarter of the width and height, shown for 2 s: no cut).
Everything is drawn from one seed, so each seed is another layout; the ground truth (frame spans)
comes back with the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

FADE_S = 1.5


@dataclass
class Truth:
    """Frame spans ``[start, end)`` of a needle video's parts (frames at ``fps``)."""

    fps: int
    frames: int
    slides: list[tuple[int, int]] = field(default_factory=list)
    transitions: list[tuple[int, int]] = field(default_factory=list)  # fades and cross-fades
    cuts: list[int] = field(default_factory=list)  # hard cuts: the first frame of the new shot (0 excluded)
    inserts: list[tuple[int, int]] = field(default_factory=list)
    overlays: list[tuple[int, int]] = field(default_factory=list)


def _picture(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A smooth random RGB picture (float32, 0..255): coarse noise enlarged bilinearly."""
    coarse = rng.uniform(0, 255, size=(6, 8, 3)).astype(np.float32)
    ys = np.linspace(0, 5, height)
    xs = np.linspace(0, 7, width)
    y0, x0 = np.floor(ys).astype(int).clip(0, 4), np.floor(xs).astype(int).clip(0, 6)
    fy, fx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    top = coarse[y0][:, x0] * (1 - fx) + coarse[y0][:, x0 + 1] * fx
    bottom = coarse[y0 + 1][:, x0] * (1 - fx) + coarse[y0 + 1][:, x0 + 1] * fx
    picture = top * (1 - fy) + bottom * fy
    stripes = 30 * np.sin(np.arange(width) / rng.uniform(3, 9))[None, :, None]
    return np.clip(picture + stripes, 0, 255).astype(np.float32)


def _moving(rng: np.random.Generator, height: int, width: int, steps: int) -> list[np.ndarray]:
    """``steps`` frames of moving footage: a random picture scrolling fast with a bouncing box."""
    base = _picture(rng, height, 2 * width)
    frames = []
    for step in range(steps):
        shift = (step * 7) % width
        frame = base[:, shift:shift + width].copy()
        side = max(4, height // 3)
        x = (step * 5) % max(1, width - side)
        frame[height // 3: height // 3 + side, x:x + side] = 255 - frame[height // 3: height // 3 + side, x:x + side]
        frames.append(frame)
    return frames


def make_needle_video(path: Path, *, seed: int, minutes: float = 10.0, width: int = 320, height: int = 180,
                      fps: int = 25) -> Truth:
    """Write a needle video to ``path`` (H.264) and return its ground truth."""
    rng = np.random.default_rng(seed)
    total = int(minutes * 60 * fps)
    fade = int(FADE_S * fps)
    lengths = []
    while sum(lengths) < total:
        lengths.append(int(rng.uniform(40, 90) * fps))
    lengths[-1] -= sum(lengths) - total
    if lengths[-1] < 20 * fps:
        short = lengths.pop()
        lengths[-1] += short
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    truth = Truth(fps=fps, frames=total)
    crossfade = rng.random(len(lengths) - 1) < 0.5
    panned = int(rng.integers(len(lengths)))
    pictures = [_picture(rng, height, width * (2 if k == panned else 1)) for k in range(len(lengths))]
    # slides and transitions
    truth.transitions.append((0, fade))
    truth.transitions.append((total - fade, total))
    for k, (start, length) in enumerate(zip(starts, lengths)):
        lo = start + (fade if k == 0 else 0)
        hi = start + length - (fade if k == len(lengths) - 1 else 0)
        if k > 0 and crossfade[k - 1]:
            truth.transitions.append((start - fade // 2, start + fade - fade // 2))
            lo = start + fade - fade // 2
        if k < len(lengths) - 1 and crossfade[k]:
            hi = start + length - fade // 2
        truth.slides.append((int(lo), int(hi)))
    # needles: six slides other than the panned one, one needle each, away from the slide's ends
    candidates = [k for k in range(len(lengths)) if k != panned]
    hosts = rng.choice(candidates, size=min(6, len(candidates)), replace=False)
    needles: dict[int, tuple[str, int, int, list[np.ndarray]]] = {}
    for number, k in enumerate(hosts):
        lo, hi = truth.slides[k]
        kind = "insert" if number % 2 == 0 else "overlay"
        span = int((rng.uniform(1.5, 3.0) if kind == "insert" else 2.0) * fps)
        at = int(rng.integers(lo + 5 * fps, hi - 5 * fps - span))
        size = (height, width) if kind == "insert" else (height // 4, width // 4)
        needles[int(k)] = (kind, at, at + span, _moving(rng, *size, span))
        (truth.inserts if kind == "insert" else truth.overlays).append((at, at + span))
    truth.inserts.sort()
    truth.overlays.sort()
    overlay_y, overlay_x = int(rng.integers(0, height - height // 4)), int(rng.integers(0, width - width // 4))

    def slide_frame(k: int, index: int) -> np.ndarray:
        picture = pictures[k]
        if k == panned:
            offset = int(np.clip((index - starts[k]) / lengths[k] * width, 0, width))
            picture = picture[:, offset:offset + width]
        frame = picture
        if k in needles:
            kind, at, end, clip = needles[k]
            if at <= index < end:
                frame = picture.copy()
                if kind == "insert":
                    frame = clip[index - at]
                else:
                    frame[overlay_y:overlay_y + height // 4, overlay_x:overlay_x + width // 4] = clip[index - at]
        return frame

    slide_of = np.repeat(np.arange(len(lengths)), lengths)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = Fraction(1, fps)
        stream.options = {"g": "250", "preset": "veryfast", "crf": "23"}
        for index in range(total):
            k = int(slide_of[index])
            frame = slide_frame(k, index)
            into = index - starts[k]
            if k > 0 and crossfade[k - 1] and into < fade - fade // 2:
                weight = (into + fade // 2 + 0.5) / fade
                frame = weight * frame + (1 - weight) * slide_frame(k - 1, index)
            elif k < len(lengths) - 1 and crossfade[k] and lengths[k] - into <= fade // 2:
                weight = (fade // 2 + (lengths[k] - into) - 0.5) / fade
                frame = weight * frame + (1 - weight) * slide_frame(k + 1, index)
            if index < fade:
                frame = frame * (index + 0.5) / fade
            elif index >= total - fade:
                frame = frame * (total - index - 0.5) / fade
            noisy = np.clip(frame + rng.normal(0, 2.0, frame.shape), 0, 255).astype(np.uint8)
            image = av.VideoFrame.from_ndarray(noisy, format="rgb24")
            image.pts = index
            container.mux(stream.encode(image))
        container.mux(stream.encode())
    return truth


# --------------------------------------------------------------------------- real footage

ROOT = Path(__file__).resolve().parents[2]
# Real shots (frame ranges) of the two bundled clips, between their known hard cuts; the sample's
# own fade-in (frames 0-45) is left out.
REAL_SHOTS = [
    (ROOT / "tests" / "data" / "bikes.mp4", [(0, 30), (30, 76), (76, 137), (137, 187), (187, 242)]),
    (ROOT / "toolkit" / "framepick" / "data" / "big_buck_bunny_0_30.webm", [(46, 283), (283, 376), (376, 551),
                                                                           (551, 720)]),
]


def _real_shots(width: int, height: int) -> list[np.ndarray]:
    """Every shot of ``REAL_SHOTS`` decoded at ``width`` x ``height`` (float32 RGB frames)."""
    shots = []
    for path, spans in REAL_SHOTS:
        with av.open(str(path)) as container:
            frames = [frame.to_ndarray(format="rgb24", width=width, height=height)
                      for frame in container.decode(video=0)]
        shots += [np.asarray(frames[start:end], dtype=np.float32) for start, end in spans]
    return shots


def make_real_mix_video(path: Path, *, seed: int, shots: int = 10, width: int = 320, height: int = 176,
                        fps: int = 25) -> Truth:
    """Write real shots in motion (bikes and Big Buck Bunny, 1.2-4 s each, in a random order) joined
    by hard cuts, dissolves of 0.3-1.6 s (both shots moving) and fades through black, and return
    the truth: ``slides`` are the shots' spans outside transitions (split at the hard cuts),
    ``transitions`` the dissolves' and fades' spans (a fade through black as one span, the black
    included)."""
    rng = np.random.default_rng(seed)
    library = _real_shots(width, height)
    truth = Truth(fps=fps, frames=0)
    out: list[np.ndarray] = []
    previous, settled = -1, 0  # the last shot drawn; frames before ``settled`` hold a transition
    cuts: list[int] = []
    for number in range(shots):
        choice = int(rng.choice([k for k in range(len(library)) if k != previous]))
        shot, previous = library[choice], choice
        length = min(len(shot), int(rng.uniform(1.2, 4.0) * fps))
        start = int(rng.integers(0, len(shot) - length + 1))
        clip = list(shot[start:start + length])
        join = "cut" if number == 0 else str(rng.choice(["cut", "dissolve", "fade"]))
        if join == "cut":
            cuts.append(len(out))
        elif join == "dissolve":
            span = min(int(rng.uniform(0.3, 1.6) * fps), length // 2, (len(out) - settled) // 2)
            weights = (np.arange(span) + 0.5) / span
            for k, weight in enumerate(weights):
                out[len(out) - span + k] = (1 - weight) * out[len(out) - span + k] + weight * clip[k]
            truth.transitions.append((len(out) - span, len(out)))
            clip = clip[span:]
        elif join == "fade":
            down = min(int(rng.uniform(0.3, 1.0) * fps), len(out) - settled)
            black, up = int(rng.integers(0, 12)), min(int(rng.uniform(0.3, 1.0) * fps), length // 2)
            for k in range(down):
                out[len(out) - down + k] = out[len(out) - down + k] * (1 - (k + 0.5) / down)
            begin = len(out) - down
            out += [np.zeros_like(clip[0])] * black
            for k in range(up):
                clip[k] = clip[k] * ((k + 0.5) / up)
            truth.transitions.append((begin, len(out) + up))
        settled = len(out) + (up if join == "fade" else 0)
        out += clip
    truth.frames, truth.cuts = len(out), [cut for cut in cuts if cut > 0]
    bounds = sorted({0, truth.frames, *cuts, *[edge for span in truth.transitions for edge in span]})
    inside = [any(lo <= a and b <= hi for lo, hi in truth.transitions) for a, b in zip(bounds, bounds[1:])]
    truth.slides = [(a, b) for (a, b), skip in zip(zip(bounds, bounds[1:]), inside) if not skip]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "23"}
        for pixels in out:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.clip(pixels, 0, 255).astype(np.uint8),
                                                                   format="rgb24")))
        container.mux(stream.encode())
    return truth


# --------------------------------------------------------------------------- measures


def _hit(picks: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
    """Whether each ``[start, end)`` span holds a pick (bool, one per span)."""
    return np.array([np.any((picks >= lo) & (picks < hi)) for lo, hi in spans], dtype=bool)


def needle_measures(picks: np.ndarray, truth: Truth) -> dict[str, float]:
    """The measures of one selection (frame indices) against its video's truth: share of inserts,
    overlays and slides (or shots) holding a pick, picks inside transitions divided by the
    transitions' share of the time (1 = as many as uniform sampling would put there), and the
    largest gap between neighbouring picks and the video's ends, in seconds."""
    inside = sum(int(np.sum((picks >= lo) & (picks < hi))) for lo, hi in truth.transitions)
    share = sum(hi - lo for lo, hi in truth.transitions) / truth.frames
    edges = np.concatenate(([0], picks, [truth.frames]))
    return {
        "inserts": float(_hit(picks, truth.inserts).mean()) if truth.inserts else float("nan"),
        "overlays": float(_hit(picks, truth.overlays).mean()) if truth.overlays else float("nan"),
        "transitions": inside / len(picks) / share if share else float("nan"),
        "slides": float(_hit(picks, truth.slides).mean()),
        "gap_s": float(np.diff(edges).max() / truth.fps),
    }


def transitions_found(spans: np.ndarray, truth: Truth) -> tuple[int, int, int]:
    """``(true transitions found, detected transitions that are true, detected)``: a detected span
    and a true one match when they overlap by half of the shorter."""
    def match(a, b):
        return min(a[1], b[1]) - max(a[0], b[0]) >= 0.5 * min(a[1] - a[0], b[1] - b[0])

    detected = [tuple(span) for span in spans.tolist()]
    found = sum(any(match(t, d) for d in detected) for t in truth.transitions)
    true = sum(any(match(d, t) for t in truth.transitions) for d in detected)
    return found, true, len(detected)
