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
