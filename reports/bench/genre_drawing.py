"""Drawing parts of the genre videos (``genre_videos.py``): real footage, reframed shots, sprites,
text, sensor noise and the encoder.

The real footage is the two bundled clips (``needles.REAL_SHOTS``: ``bikes.mp4``, 640x272 25 fps,
and the Big Buck Bunny sample, 1280x720 24 fps, the same files as ``../shared/videos``), decoded
once by PyAV into ``.npy`` files of the work folder and memory-mapped from there: bikes at its
own size, Big Buck Bunny at 640x360, and a few of its frames at full size for the pans. A *shot*
is a frame range of one real shot (no cut inside), played forwards and backwards (ping-pong)
when a video needs it longer.

Pictures are RGB ``uint8`` arrays of shape (height, width, 3); positions and sizes are pixels,
``step``/``index`` are frame numbers. Everything random comes from a ``numpy`` generator that the
caller seeds.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from needles import REAL_SHOTS

WIDTH, HEIGHT, FPS = 640, 360, 25
PRESET = "veryfast"  # x264: B-frames and reference frames as in real files, fast enough
STILL_FRAMES = (150, 330, 470, 640)  # Big Buck Bunny frames kept at full size, one per real shot
BBB_SIZE = (640, 360)


Span = tuple[int, int]
"""A ``[start, end)`` frame range."""


@dataclass
class Plan:
    """A planned genre video: ``picture(index)`` paints frame ``index``; the rest is its truth
    (``genre_videos.Truth``): states, events, the first frames after hard cuts, and the gradual
    transitions as ``(start, end, kind)``."""

    picture: Callable[[int], np.ndarray]
    states: list[Span] = field(default_factory=list)
    events: list[Span] = field(default_factory=list)
    cuts: list[int] = field(default_factory=list)
    transitions: list[tuple[int, int, str]] = field(default_factory=list)


# --------------------------------------------------------------------------- real footage


@dataclass(frozen=True)
class Footage:
    """The real clips, decoded once.

    Attributes
    ----------
    clips : dict of str to uint8 array (n, h, w, 3)
        ``"bikes"`` (640x272) and ``"bbb"`` (640x360), every frame, memory-mapped.
    shots : list of (clip, start, end)
        ``[start, end)`` frame ranges of the real shots (no cut inside; Big Buck Bunny's fade-in
        left out).
    stills : uint8 array (k, 720, 1280, 3)
        Big Buck Bunny frames :data:`STILL_FRAMES` at full size.
    """

    clips: dict[str, np.ndarray]
    shots: list[tuple[str, int, int]]
    stills: np.ndarray


def _decode(path: Path, size: tuple[int, int] | None, keep: tuple[int, ...] | None = None) -> np.ndarray:
    """Frames of ``path`` (all, or the indices ``keep``) as RGB, scaled to ``size`` (w, h) if given."""
    with av.open(str(path)) as container:
        frames = [frame.to_ndarray(format="rgb24", **({"width": size[0], "height": size[1]} if size else {}))
                  for index, frame in enumerate(container.decode(video=0)) if keep is None or index in keep]
    return np.stack(frames)


def _cached_array(target: Path, make: Callable[[], np.ndarray]) -> np.ndarray:
    """``target`` (an ``.npy``) memory-mapped, written first by ``make`` if missing."""
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial.npy")
        np.save(partial, make())
        partial.rename(target)
    return np.load(target, mmap_mode="r")


def load_footage(folder: Path) -> Footage:
    """The real footage, decoded into ``folder`` on first use (a few seconds), then mapped."""
    (bikes, bikes_shots), (bbb, bbb_shots) = REAL_SHOTS
    clips = {"bikes": _cached_array(folder / "bikes.npy", lambda: _decode(bikes, None)),
             "bbb": _cached_array(folder / "bbb.npy", lambda: _decode(bbb, BBB_SIZE))}
    stills = _cached_array(folder / "bbb_stills.npy", lambda: _decode(bbb, None, STILL_FRAMES))
    shots = [("bikes", *span) for span in bikes_shots] + [("bbb", *span) for span in bbb_shots]
    return Footage(clips=clips, shots=shots, stills=stills)


def ping_pong(length: int, step: int) -> int:
    """Frame ``step`` of a clip of ``length`` frames played forwards, backwards, forwards, ..."""
    if length < 2:
        return 0
    phase = step % (2 * length - 2)
    return phase if phase < length else 2 * length - 2 - phase


@dataclass(frozen=True)
class Framing:
    """A real shot reframed: a crop ``zoom`` times smaller than the largest one of the output's
    aspect, moving from ``start_xy`` to ``end_xy`` (fractions of the room left around it) while
    the shot plays from frame ``offset`` (ping-pong)."""

    shot: int
    offset: int
    zoom: float
    start_xy: tuple[float, float]
    end_xy: tuple[float, float]


def random_framing(rng: np.random.Generator, footage: Footage, *, among: Sequence[int] | None = None,
                   avoid: int = -1, zoom: tuple[float, float] = (1.0, 1.6), pan: float = 0.5) -> Framing:
    """A framing of a random shot (of ``among``, default any) other than ``avoid``; the crop
    moves by up to ``pan`` of its room."""
    shot = int(rng.choice([k for k in (range(len(footage.shots)) if among is None else among) if k != avoid]))
    _, start, end = footage.shots[shot]
    xy = rng.uniform(0, 1, 2)
    moved = np.clip(xy + rng.uniform(-pan, pan, 2), 0, 1)
    return Framing(shot, int(rng.integers(0, end - start)), float(rng.uniform(*zoom)),
                   (float(xy[0]), float(xy[1])), (float(moved[0]), float(moved[1])))


def framed(footage: Footage, framing: Framing, step: int, length: int, size: tuple[int, int]) -> np.ndarray:
    """Frame ``step`` (of ``length`` frames) of the ``framing``, resized to ``size`` (w, h)."""
    clip, start, end = footage.shots[framing.shot]
    source = footage.clips[clip][start + ping_pong(end - start, framing.offset + step)]
    height, width = source.shape[:2]
    crop_w = min(width, height * size[0] / size[1]) / framing.zoom
    crop_h = crop_w * size[1] / size[0]
    share = step / max(1, length - 1)
    fx, fy = (a + (b - a) * share for a, b in zip(framing.start_xy, framing.end_xy))
    x, y = round(fx * (width - crop_w)), round(fy * (height - crop_h))
    crop = source[y:y + round(crop_h), x:x + round(crop_w)]
    return cv2.resize(crop, size, interpolation=cv2.INTER_AREA if framing.zoom < 1 else cv2.INTER_LINEAR)


# --------------------------------------------------------------------------- noise, sprites, text


class NoiseBank:
    """Sensor noise: ``count`` fields of Gaussian noise (standard deviation ``sigma``, in 8-bit
    levels) made once and added in a seeded order, saturating (``cv2.add``/``cv2.subtract``)."""

    def __init__(self, rng: np.random.Generator, sigma: float, *, shape: tuple[int, int] = (HEIGHT, WIDTH),
                 count: int = 12) -> None:
        fields = rng.normal(0, sigma, (count, *shape, 3))
        self._up = np.clip(fields, 0, 255).astype(np.uint8)
        self._down = np.clip(-fields, 0, 255).astype(np.uint8)
        self._order = rng.integers(0, count, 997)

    def add(self, picture: np.ndarray, index: int) -> np.ndarray:
        """``picture`` with the noise of frame ``index`` (a new array)."""
        k = self._order[index % len(self._order)]
        return cv2.subtract(cv2.add(picture, self._up[k]), self._down[k])


@functools.lru_cache(maxsize=None)
def font(size: int, *, mono: bool = False, bold: bool = False) -> ImageFont.FreeTypeFont:
    """DejaVu Sans (Mono, Bold) of ``size`` px, or Pillow's own font where DejaVu is missing."""
    name = "DejaVuSansMono" if mono else "DejaVuSans"
    try:
        return ImageFont.truetype(f"{name}{'-Bold' if bold else ''}.ttf", size)
    except OSError:
        return ImageFont.load_default(size)


def blend(picture: np.ndarray, sprite: np.ndarray, alpha: np.ndarray, x: int, y: int) -> None:
    """Blend ``sprite`` (h, w, 3) with opacity ``alpha`` (h, w, 1 float32 in [0, 1]) onto
    ``picture`` in place, its top-left corner at (x, y); parts outside the picture are dropped."""
    height, width = sprite.shape[:2]
    top, left = max(0, y), max(0, x)
    bottom, right = min(picture.shape[0], y + height), min(picture.shape[1], x + width)
    if bottom <= top or right <= left:
        return
    region = picture[top:bottom, left:right]
    a = alpha[top - y:bottom - y, left - x:right - x]
    s = sprite[top - y:bottom - y, left - x:right - x]
    region[:] = (region * (1 - a) + s * a).astype(np.uint8)


def rgba_sprite(image: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    """An RGBA Pillow image as (RGB uint8, alpha float32 (h, w, 1)) for :func:`blend`."""
    pixels = np.asarray(image.convert("RGBA"))
    return np.ascontiguousarray(pixels[..., :3]), pixels[..., 3:].astype(np.float32) / 255


def pointer_sprite() -> tuple[np.ndarray, np.ndarray]:
    """A mouse pointer (white arrow, black outline), 13x20 px, for :func:`blend`."""
    image = Image.new("RGBA", (13, 20), (0, 0, 0, 0))
    ImageDraw.Draw(image).polygon([(0, 0), (0, 16), (4, 12), (7, 19), (9, 18), (6, 11), (11, 11)],
                                  fill=(255, 255, 255, 255), outline=(0, 0, 0, 255))
    return rgba_sprite(image)


def pointer_path(rng: np.random.Generator, frames: int, *, area: tuple[int, int, int, int] = (20, 60, 600, 330),
                 rest_s: tuple[float, float] = (12.0, 45.0), move_s: tuple[float, float] = (1.5, 5.0)) -> np.ndarray:
    """Pointer position of every frame (int, (frames, 2) x, y): at rest for ``rest_s`` seconds,
    then wandering for ``move_s`` seconds along an eased curve through a random waypoint to a
    random point of ``area`` (x0, y0, x1, y1), and so on."""
    low, high = np.array(area[:2]), np.array(area[2:])
    path = np.empty((frames, 2))
    here, index = rng.uniform(low, high), 0
    while index < frames:
        rest = int(rng.uniform(*rest_s) * FPS)
        path[index:index + rest] = here
        index += rest
        move = int(rng.uniform(*move_s) * FPS)
        via, there = rng.uniform(low, high), rng.uniform(low, high)
        t = (np.arange(move) + 1) / move
        eased = (3 * t**2 - 2 * t**3)[:, None]
        curve = (1 - eased) ** 2 * here + 2 * (1 - eased) * eased * via + eased**2 * there
        path[index:index + move] = curve[:max(0, min(move, frames - index))]
        index += move
        here = there
    return path.round().astype(np.int64)


def pil_array(image: Image.Image) -> np.ndarray:
    """A Pillow image as a C-contiguous RGB uint8 array."""
    return np.ascontiguousarray(np.asarray(image.convert("RGB")))


def text_strip(text: str, *, size: int, height: int, colour: tuple[int, int, int],
               background: tuple[int, int, int], bold: bool = False, pad: int = 8) -> np.ndarray:
    """``text`` on one line, ``height`` px high, as wide as it needs (plus ``pad`` each side)."""
    face = font(size, bold=bold)
    width = int(face.getlength(text)) + 2 * pad
    image = Image.new("RGB", (width, height), background)
    ImageDraw.Draw(image).text((pad, height // 2), text, fill=colour, font=face, anchor="lm")
    return pil_array(image)


WORDS = ("signal filter model gradient kernel sample matrix vector noise frame scene budget cache "
         "stream decoder encoder latency memory buffer tensor layer weight bias loss error metric "
         "result input output spectrum phase energy window average variance estimate update "
         "training dataset batch epoch network feature motion camera pixel colour contrast video "
         "audio timeline analysis selection transition detector threshold score cut shot pair "
         "moment").split()


def words(rng: np.random.Generator, low: int, high: int) -> str:
    """A capitalised phrase of ``low`` to ``high`` words of :data:`WORDS`."""
    phrase = " ".join(rng.choice(WORDS, int(rng.integers(low, high + 1))))
    return phrase[:1].upper() + phrase[1:]


# --------------------------------------------------------------------------- segments and joins


@dataclass(frozen=True)
class Join:
    """How a segment follows the previous one: ``"cut"``; ``"dissolve"`` over ``frames[0]``
    frames (the two overlap); ``"fade"`` through black: ``frames`` = (down, black, up)."""

    kind: str
    frames: tuple[int, ...] = ()


class Timeline:
    """Segments of ``lengths`` frames (each drawn by step from its own first frame) joined by
    :class:`Join` s, with an optional fade in from and out to black (``fade_in``/``fade_out`` frames).

    Attributes
    ----------
    frames : int
        Length of the whole video.
    starts : int array
        First output frame of each segment (a dissolve overlaps it with the previous one).
    cuts : list of int
        The first frame of each segment that follows a hard cut.
    transitions : list of (start, end, kind)
        ``[start, end)`` of every dissolve, fade through black (the black included) and the
        opening and closing fades.
    cores : list of (start, end)
        Each segment's span outside transitions.
    """

    def __init__(self, lengths: list[int], joins: list[Join], *, fade_in: int = 0, fade_out: int = 0) -> None:
        starts = [0]
        for length, join in zip(lengths, joins):
            starts.append(_next_start(starts[-1], length, join))
        self.starts = np.asarray(starts, dtype=np.int64)
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.frames = int(self.starts[-1] + self.lengths[-1])
        self._top = np.full(self.frames, -1, np.int64)
        self._under = np.full(self.frames, -1, np.int64)
        self._mix = np.ones(self.frames)
        self._gain = np.ones(self.frames)
        for k, (start, length) in enumerate(zip(starts, lengths)):
            self._top[start:start + length] = k
        heads, tails = [fade_in] + [0] * len(joins), [0] * len(joins) + [fade_out]
        self.cuts: list[int] = []
        self.transitions: list[tuple[int, int, str]] = []
        self._ramp(0, fade_in, up=True, kind="fade_in")
        self._ramp(self.frames - fade_out, self.frames, up=False, kind="fade_out")
        for k, join in enumerate(joins, start=1):
            start, end = starts[k], starts[k - 1] + lengths[k - 1]
            if join.kind == "cut":
                self.cuts.append(start)
            elif join.kind == "dissolve":
                self._under[start:end] = k - 1
                self._mix[start:end] = (np.arange(end - start) + 0.5) / (end - start)
                self.transitions.append((start, end, "dissolve"))
                heads[k] = tails[k - 1] = end - start
            else:
                down, _, up = join.frames
                self._ramp(end - down, end, up=False)
                self._ramp(start, start + up, up=True)
                self.transitions.append((end - down, start + up, "fade"))
                heads[k], tails[k - 1] = up, down
        self.transitions.sort()
        self.cores = [(int(s + h), int(s + n - t)) for s, n, h, t in zip(starts, lengths, heads, tails)]

    def _ramp(self, start: int, end: int, *, up: bool, kind: str | None = None) -> None:
        """Multiply the gain of frames ``[start, end)`` by a linear ramp from or to black."""
        if end <= start:
            return
        ramp = (np.arange(end - start) + 0.5) / (end - start)
        self._gain[start:end] *= ramp if up else ramp[::-1]
        if kind:
            self.transitions.append((start, end, kind))

    def segment_of(self, index: int) -> tuple[int, int]:
        """(segment, step) shown on top at frame ``index``; segment -1 for black."""
        k = int(self._top[index])
        return k, index - int(self.starts[k]) if k >= 0 else 0

    def picture(self, index: int, draw: Callable[[int, int], np.ndarray]) -> np.ndarray:
        """Frame ``index``: ``draw(segment, step)`` of the segment(s) shown, mixed and faded."""
        k, step = self.segment_of(index)
        if k < 0:
            return np.zeros((HEIGHT, WIDTH, 3), np.uint8)
        picture = draw(k, step)
        under = int(self._under[index])
        if under >= 0:
            picture = cv2.addWeighted(picture, float(self._mix[index]),
                                      draw(under, index - int(self.starts[under])), 1 - float(self._mix[index]), 0)
        gain = float(self._gain[index])
        return cv2.convertScaleAbs(picture, alpha=gain) if gain < 1 else picture


def _next_start(start: int, length: int, join: Join) -> int:
    """First frame of the segment that follows one of ``length`` frames from ``start`` by ``join``."""
    end = start + length
    return end - join.frames[0] if join.kind == "dissolve" else end + join.frames[1] if join.kind == "fade" else end


def fit_timeline(lengths: list[int], joins: list[Join], frames: int, *, fade_in: int = 0, fade_out: int = 0,
                 shortest: int = 3 * FPS) -> Timeline:
    """The :class:`Timeline` of the first segments of ``lengths`` (``joins[k]`` joining segment
    ``k`` to ``k + 1``) that reach ``frames``, the last one cut to end exactly there; a last
    segment shorter than ``shortest`` frames is dropped and the one before lengthened instead.

    Raises
    ------
    ValueError
        If the segments do not reach ``frames``.
    """
    starts = [0]
    for k, length in enumerate(lengths):
        if k:
            starts.append(_next_start(starts[-1], lengths[k - 1], joins[k - 1]))
        if starts[k] + length >= frames:
            if frames - starts[k] >= shortest or k == 0:
                return Timeline([*lengths[:k], frames - starts[k]], joins[:k], fade_in=fade_in, fade_out=fade_out)
            return Timeline([*lengths[:k - 1], frames - starts[k - 1]], joins[:k - 1], fade_in=fade_in,
                            fade_out=fade_out)
    raise ValueError(f"{len(lengths)} segments of {sum(lengths)} frames do not reach {frames} frames")


# --------------------------------------------------------------------------- encoding


def encode(path: Path, frames: int, picture: Callable[[int], np.ndarray], *, crf: int) -> None:
    """Encode ``picture(index)`` for ``index`` in ``range(frames)`` as H.264 (x264 :data:`PRESET`,
    constant rate factor ``crf``) at :data:`FPS` into ``path``, via a partial file renamed at the end."""
    partial = path.with_name(path.stem + ".partial" + path.suffix)
    with av.open(str(partial), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.time_base = Fraction(1, FPS)
        stream.options = {"preset": PRESET, "crf": str(crf)}
        for index in range(frames):
            image = av.VideoFrame.from_ndarray(picture(index), format="rgb24")
            image.pts = index
            container.mux(stream.encode(image))
        container.mux(stream.encode())
    partial.rename(path)
