"""The camera genres of ``genre_videos.py``, made of the real footage: broadcast, surveillance,
film, handheld and calm. Each genre is a planner ``(rng, footage, frames) -> Plan``; units as in
``genre_drawing.py``."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import cv2
import numpy as np
from PIL import Image, ImageDraw

from genre_drawing import (
    FPS,
    HEIGHT,
    WIDTH,
    Footage,
    Framing,
    Join,
    NoiseBank,
    Plan,
    blend,
    fit_timeline,
    framed,
    random_framing,
    rgba_sprite,
    text_strip,
    words,
)


def _log_uniform(rng: np.random.Generator, low_s: float, high_s: float) -> int:
    """A length in frames, log-uniform between ``low_s`` and ``high_s`` seconds."""
    return int(math.exp(rng.uniform(math.log(low_s), math.log(high_s))) * FPS)


# --------------------------------------------------------------------------- broadcast

TICKER_Y, BAND = 318, 32
TEAMS = ("RED", "BLU", "FCB", "OLY", "NOR", "SUD")


def broadcast(rng: np.random.Generator, footage: Footage, frames: int) -> Plan:
    """Real shots of 2-9 s with hard cuts under a ticker, a score box and a logo (module docstring)."""
    lengths, framings = [], []
    while sum(lengths) < frames + 20 * FPS:
        lengths.append(_log_uniform(rng, 2, 9))
        framings.append(random_framing(rng, footage, avoid=framings[-1].shot if framings else -1, zoom=(1.0, 1.7),
                                       pan=0.3))
    timeline = fit_timeline(lengths, [Join("cut")] * len(lengths), frames, shortest=FPS)
    ticker = text_strip("   +++   ".join(words(rng, 5, 9) for _ in range(12)), size=17, height=BAND,
                        colour=(255, 255, 255), background=(14, 32, 80))
    ticker = np.concatenate([ticker, ticker[:, :WIDTH]], axis=1)
    label = text_strip("LIVE", size=16, height=BAND, colour=(255, 255, 255), background=(200, 20, 30), bold=True)
    logo = text_strip("FP 24", size=18, height=30, colour=(255, 255, 255), background=(0, 0, 0), bold=True)
    home, away = rng.choice(TEAMS, 2, replace=False)
    goals = np.sort(rng.integers(0, frames, 3))
    scorer = rng.integers(0, 2, 3)
    clock_s = int(rng.integers(0, 45 * 60))

    @functools.lru_cache(maxsize=4)
    def scoreboard(home_goals: int, away_goals: int, second: int) -> np.ndarray:
        return text_strip(f"{home} {home_goals} - {away_goals} {away}   {second // 60:02d}:{second % 60:02d}", size=16,
                          height=28, colour=(255, 255, 255), background=(20, 20, 20), bold=True)

    def picture(index: int) -> np.ndarray:
        k, step = timeline.segment_of(index)
        frame = framed(footage, framings[k], step, int(timeline.lengths[k]), (WIDTH, HEIGHT))
        shift = (2 * index) % (ticker.shape[1] - WIDTH)
        frame[TICKER_Y:TICKER_Y + BAND] = ticker[:, shift:shift + WIDTH]
        frame[TICKER_Y:TICKER_Y + BAND, :label.shape[1]] = label
        scored = goals <= index
        board = scoreboard(int(np.sum(scored & (scorer == 0))), int(np.sum(scored & (scorer == 1))),
                           clock_s + index // FPS)
        frame[14:42, 16:16 + board.shape[1]] = board
        frame[14:44, WIDTH - 16 - logo.shape[1]:WIDTH - 16] = logo
        return frame

    return Plan(picture, states=timeline.cores, cuts=timeline.cuts)


# --------------------------------------------------------------------------- people and cars


def _walker_poses(rng: np.random.Generator, height: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Four walking poses of a person ``height`` px tall, for :func:`genre_drawing.blend`."""
    width = max(12, height * 2 // 5)
    jacket, trousers = tuple(int(c) for c in rng.integers(20, 200, 3)), tuple(int(c) for c in rng.integers(10, 70, 3))
    poses = []
    for swing in (-0.18, 0.0, 0.18, 0.0):
        image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
        draw = ImageDraw.Draw(image)
        middle, hip, head = width / 2, 0.55 * height, 0.16 * height
        for side in (-1, 1):
            draw.line((middle, hip, middle + side * swing * height, height - 1), fill=(*trousers, 255),
                      width=max(2, width // 4))
        draw.rounded_rectangle((middle - width * 0.3, head, middle + width * 0.3, hip + 2), radius=3,
                               fill=(*jacket, 255))
        draw.ellipse((middle - head / 2, 0, middle + head / 2, head), fill=(224, 182, 150, 255))
        poses.append(rgba_sprite(image))
    return poses


def _car_sprite(rng: np.random.Generator, width: int) -> tuple[np.ndarray, np.ndarray]:
    """A side view of a car ``width`` px long."""
    height = width * 2 // 5
    body = tuple(int(c) for c in rng.integers(30, 230, 3))
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, height * 0.4, width - 1, height * 0.85), radius=6, fill=(*body, 255))
    draw.polygon([(width * 0.2, height * 0.42), (width * 0.32, height * 0.05), (width * 0.7, height * 0.05),
                  (width * 0.82, height * 0.42)], fill=(*body, 255))
    draw.polygon([(width * 0.27, height * 0.4), (width * 0.35, height * 0.12), (width * 0.67, height * 0.12),
                  (width * 0.76, height * 0.4)], fill=(40, 60, 80, 255))
    for x in (0.22, 0.78):
        draw.ellipse((width * x - height * 0.2, height * 0.6, width * x + height * 0.2, height - 1),
                     fill=(15, 15, 15, 255))
    return rgba_sprite(image)


Mover = tuple[int, int, Callable[[int], tuple[np.ndarray, np.ndarray, int, int]]]
"""An event on screen: ``(start, end, place)``, ``place(index)`` giving (sprite, alpha, x, y)."""


def _crossing(rng: np.random.Generator, start: int) -> Mover:
    """A person crossing the picture in 2-6 s, bigger nearer the camera."""
    count, feet = int(rng.uniform(2, 6) * FPS), int(rng.uniform(220, 340))
    poses = _walker_poses(rng, int(50 + (feet - 200) * 0.6))
    width, height = poses[0][0].shape[1], poses[0][0].shape[0]
    x0, x1 = (-width, WIDTH) if rng.random() < 0.5 else (WIDTH, -width)

    def place(index: int) -> tuple[np.ndarray, np.ndarray, int, int]:
        share = (index - start) / count
        return (*poses[(index // 4) % 4], round(x0 + (x1 - x0) * share), feet - height + round(2 * math.sin(index)))

    return start, start + count, place


def _parking(rng: np.random.Generator, start: int, frames: int) -> Mover:
    """A car driving in (3-5 s), parking for 20-80 s, driving out (3-5 s), or staying to the end."""
    arrive, stay, leave = (int(rng.uniform(*span) * FPS) for span in ((3, 5), (20, 80), (3, 5)))
    sprite, alpha = _car_sprite(rng, int(rng.uniform(130, 180)))
    width, height = sprite.shape[1], sprite.shape[0]
    spot, ground = int(rng.uniform(60, WIDTH - width - 60)), int(rng.uniform(280, 350))
    enter, leave_to = (-width, WIDTH) if rng.random() < 0.5 else (WIDTH, -width)

    def place(index: int) -> tuple[np.ndarray, np.ndarray, int, int]:
        step = index - start
        if step < arrive:
            t = step / arrive
            x = enter + (spot - enter) * (1 - (1 - t) ** 2)
        elif step < arrive + stay:
            x = spot
        else:
            x = spot + (leave_to - spot) * ((step - arrive - stay) / leave) ** 2
        return sprite, alpha, round(x), ground - height

    return start, min(frames, start + arrive + stay + leave), place


def _background(rng: np.random.Generator, footage: Footage) -> np.ndarray:
    """A still for a fixed camera: a street of ``bikes.mp4`` (frames 150-230) or a Big Buck
    Bunny landscape (the first two stills), cropped to the picture's aspect."""
    if rng.random() < 0.5:
        street = footage.clips["bikes"][int(rng.integers(150, 230))]
        x = int(rng.integers(0, street.shape[1] - street.shape[0] * WIDTH // HEIGHT))
        crop = street[:, x:x + street.shape[0] * WIDTH // HEIGHT]
    else:
        zoom = rng.uniform(1.0, 1.5)
        width, height = round(1280 / zoom), round(720 / zoom)
        x, y = int(rng.integers(0, 1281 - width)), int(rng.integers(0, 721 - height))
        crop = footage.stills[int(rng.integers(2))][y:y + height, x:x + width]
    return cv2.resize(np.ascontiguousarray(crop), (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA)


def surveillance(rng: np.random.Generator, footage: Footage, frames: int) -> Plan:
    """A fixed camera with rare people crossing and a car parking (module docstring)."""
    scene = _background(rng, footage).astype(np.float32)
    scene = (0.5 * scene + 0.5 * scene.mean(axis=2, keepdims=True)).astype(np.uint8)
    seconds = np.arange(frames) / FPS
    gain = 1 + rng.uniform(0.04, 0.09) * np.sin(2 * np.pi * seconds / rng.uniform(100, 250) + rng.uniform(0, 6.3))
    gain -= 0.06 * seconds / seconds[-1]
    noise = NoiseBank(rng, 3.5)
    movers: list[Mover] = []
    start, car = int(rng.uniform(6, 25) * FPS), False
    while start < frames - 8 * FPS:
        parks = not car and rng.random() < 0.35
        movers.append(_parking(rng, start, frames) if parks else _crossing(rng, start))
        car |= parks
        start = movers[-1][1] + int(rng.uniform(15, 55) * FPS)
    camera = f"CAM {int(rng.integers(1, 9)):02d}"

    @functools.lru_cache(maxsize=2)
    def stamp(second: int) -> np.ndarray:
        return text_strip(f"{camera}  2026-03-14  {8 + second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}",
                          size=13, height=20, colour=(235, 235, 235), background=(0, 0, 0))

    def picture(index: int) -> np.ndarray:
        frame = cv2.convertScaleAbs(scene, alpha=float(gain[index]))
        for begin, end, place in movers:
            if begin <= index < end:
                blend(frame, *place(index))
        frame = noise.add(frame, index)
        label = stamp(index // FPS)
        frame[8:28, 8:8 + label.shape[1]] = label
        return frame

    return Plan(picture, events=[(begin, end) for begin, end, _ in movers])


# --------------------------------------------------------------------------- film


def film(rng: np.random.Generator, footage: Footage, frames: int) -> Plan:
    """Letterboxed real shots joined by cuts, dissolves and fades through black (module docstring)."""
    lengths = [_log_uniform(rng, 3, 10)]
    framings = [random_framing(rng, footage, zoom=(1.0, 1.5), pan=0.4)]
    joins: list[Join] = []
    while sum(lengths) < frames + 30 * FPS:
        lengths.append(_log_uniform(rng, 3, 10))
        framings.append(random_framing(rng, footage, avoid=framings[-1].shot, zoom=(1.0, 1.5), pan=0.4))
        roll, room = rng.random(), min(lengths[-2:]) // 3
        if roll < 0.55:
            joins.append(Join("cut"))
        elif roll < 0.8:
            joins.append(Join("dissolve", (min(room, int(rng.uniform(0.5, 1.5) * FPS)),)))
        else:
            joins.append(Join("fade", tuple(int(rng.uniform(*span) * FPS) for span in ((0.3, 1), (0, 0.5), (0.3, 1)))))
    timeline = fit_timeline(lengths, joins, frames, fade_in=FPS, fade_out=FPS)
    grain = NoiseBank(rng, 3.0)
    bar = (HEIGHT - 268) // 2

    def shot(k: int, step: int) -> np.ndarray:
        canvas = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
        canvas[bar:bar + 268] = framed(footage, framings[k], step, int(timeline.lengths[k]), (WIDTH, 268))
        return canvas

    return Plan(lambda index: grain.add(timeline.picture(index, shot), index), states=timeline.cores,
                cuts=timeline.cuts, transitions=timeline.transitions)


# --------------------------------------------------------------------------- handheld


def _shake(rng: np.random.Generator, seconds: np.ndarray) -> np.ndarray:
    """Handheld camera motion, per frame: (dx px, dy px, angle degrees, zoom), with two jolts."""

    def wobble(amplitude: float, low_hz: float, high_hz: float) -> np.ndarray:
        return sum(amplitude / 3 * np.sin(2 * np.pi * rng.uniform(low_hz, high_hz) * seconds + rng.uniform(0, 6.3))
                   for _ in range(3))

    motion = np.stack([wobble(6, 0.2, 2.0), wobble(5, 0.2, 2.0), wobble(0.5, 0.1, 1.0), 1 + wobble(0.01, 0.05, 0.3)],
                      axis=1)
    for at in rng.uniform(0.1, 0.9, 2) * seconds[-1]:
        envelope = np.exp(-(((seconds - at) / 0.3) ** 2))
        motion[:, 0] += 16 * envelope * np.sin(2 * np.pi * 3.5 * (seconds - at))
        motion[:, 1] += 12 * envelope * np.cos(2 * np.pi * 3.5 * (seconds - at))
    return motion


def _prop(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """An object put down in the scene: a box, a ball or a sign."""
    kind, size = int(rng.integers(3)), int(rng.uniform(40, 70))
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if kind == 0:
        draw.rectangle((0, size // 4, size - 1, size - 1), fill=(160, 115, 60, 255), outline=(90, 60, 30, 255), width=2)
        draw.line((size // 2, size // 4, size // 2, size - 1), fill=(210, 190, 140, 255), width=4)
    elif kind == 1:
        draw.ellipse((0, 0, size - 1, size - 1), fill=(210, 30, 40, 255))
        draw.ellipse((size // 5, size // 5, size // 2, size // 2), fill=(250, 140, 140, 255))
    else:
        draw.line((size // 2, size // 2, size // 2, size - 1), fill=(80, 80, 80, 255), width=3)
        draw.polygon([(size // 2, 0), (size - 1, size * 0.6), (0, size * 0.6)], fill=(250, 200, 20, 255),
                     outline=(20, 20, 20, 255))
    return rgba_sprite(image)


def handheld(rng: np.random.Generator, footage: Footage, frames: int) -> Plan:
    """One handheld shot panning over a large real frame; objects and captions appear (module docstring)."""
    world = np.array(footage.stills[int(rng.integers(len(footage.stills)))])
    seconds = np.arange(frames) / FPS
    centre_x = 380 + 520 * (0.5 - 0.5 * np.cos(2 * np.pi * seconds / (seconds[-1] * rng.uniform(0.9, 1.3))))
    centre_y = 360 + 110 * np.sin(2 * np.pi * seconds / (seconds[-1] * rng.uniform(0.5, 0.8)) + rng.uniform(0, 6.3))
    motion = _shake(rng, seconds)
    gain = 1 + 0.04 * np.sin(2 * np.pi * seconds / rng.uniform(60, 120) + rng.uniform(0, 6.3))
    noise = NoiseBank(rng, 3.0)
    bikes = [k for k, shot in enumerate(footage.shots) if shot[0] == "bikes"]
    screen_framing = random_framing(rng, footage, among=bikes, zoom=(1.3, 1.5), pan=0.0)
    screen_xy, screen_size = (int(rng.uniform(100, 1000)), int(rng.uniform(80, 560))), (176, 99)
    screen_alpha = np.ones((screen_size[1], screen_size[0], 1), np.float32)
    props = []
    for _ in range(2):
        begin = int(rng.uniform(0.05, 0.75) * frames)
        end = frames if rng.random() < 0.3 else min(frames, begin + int(rng.uniform(15, 40) * FPS))
        sprite, alpha = _prop(rng)
        x = int(centre_x[begin:end].mean() + rng.uniform(-80, 80)) - sprite.shape[1] // 2
        y = int(centre_y[begin:end].mean() + rng.uniform(-40, 60)) - sprite.shape[0] // 2
        props.append((begin, end, sprite, alpha, x, y))
    captions = []
    for _ in range(int(rng.integers(1, 3))):
        begin = int(rng.uniform(0.05, 0.9) * frames)
        strip = text_strip(words(rng, 2, 4), size=20, height=34, colour=(255, 255, 255), background=(0, 0, 0))
        captions.append((begin, min(frames, begin + int(rng.uniform(3, 5) * FPS)), strip))

    def picture(index: int) -> np.ndarray:
        left, top = int(centre_x[index]) - 368, int(centre_y[index]) - 228
        region = world[top:top + 456, left:left + 736].copy()
        live = framed(footage, screen_framing, index, 1, screen_size)
        blend(region, live, screen_alpha, screen_xy[0] - left, screen_xy[1] - top)
        for begin, end, sprite, alpha, x, y in props:
            if begin <= index < end:
                blend(region, sprite, alpha, x - left, y - top)
        dx, dy, angle, zoom = motion[index]
        cos, sin = zoom * math.cos(math.radians(angle)), zoom * math.sin(math.radians(angle))
        origin_x, origin_y = centre_x[index] - left + dx, centre_y[index] - top + dy
        matrix = np.array([[cos, -sin, origin_x - cos * WIDTH / 2 + sin * HEIGHT / 2],
                           [sin, cos, origin_y - sin * WIDTH / 2 - cos * HEIGHT / 2]])
        frame = cv2.warpAffine(region, matrix, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_REFLECT)
        for begin, end, strip in captions:
            if begin <= index < end:
                x = (WIDTH - strip.shape[1]) // 2
                frame[296:296 + strip.shape[0], x:x + strip.shape[1]] = strip
        return noise.add(cv2.convertScaleAbs(frame, alpha=float(gain[index])), index)

    events = sorted([(begin, end) for begin, end, *_ in props] + [(begin, end) for begin, end, _ in captions])
    return Plan(picture, events=events)


# --------------------------------------------------------------------------- calm


CROSSFADE = int(1.5 * FPS)
OVERLAY_SIZE = (WIDTH // 4, HEIGHT // 4)


def calm(rng: np.random.Generator, footage: Footage, frames: int) -> Plan:
    """Still real pictures with three inserts and three overlays (module docstring)."""
    lengths, joins, stills = [], [], []
    while sum(lengths) < frames + 60 * FPS:
        lengths.append(int(rng.uniform(30, 70) * FPS))
        joins.append(Join("dissolve", (CROSSFADE,)) if rng.random() < 0.5 else Join("cut"))
        stills.append(random_framing(rng, footage, avoid=stills[-1].shot if stills else -1, zoom=(1.0, 1.4), pan=0.0))
    timeline = fit_timeline(lengths, joins, frames, fade_in=CROSSFADE, fade_out=CROSSFADE, shortest=20 * FPS)
    count = len(timeline.lengths)
    pictures = [framed(footage, stills[k], 0, 1, (WIDTH, HEIGHT)) for k in range(count)]
    panned, world = int(rng.integers(count)), footage.stills[int(rng.integers(len(footage.stills)))]
    pan_y = int(rng.integers(0, 720 - HEIGHT))
    hosts = [k for k in range(count) if k != panned and timeline.cores[k][1] - timeline.cores[k][0] >= 20 * FPS]
    needles: dict[int, tuple[str, int, int, Framing]] = {}
    for number, k in enumerate(rng.choice(hosts, size=min(6, len(hosts)), replace=False).tolist()):
        kind = "insert" if number % 2 == 0 else "overlay"
        span = int((rng.uniform(1.5, 3.0) if kind == "insert" else 2.0) * FPS)
        low, high = timeline.cores[k]
        at = int(rng.integers(low + 5 * FPS, high - 5 * FPS - span))
        needles[k] = (kind, at, at + span, random_framing(rng, footage, avoid=stills[k].shot, pan=0.3))
    overlay_xy = (int(rng.integers(0, WIDTH - OVERLAY_SIZE[0])), int(rng.integers(0, HEIGHT - OVERLAY_SIZE[1])))
    noise = NoiseBank(rng, 2.5)

    def slide(k: int, step: int) -> np.ndarray:
        if k == panned:
            x = round((1280 - WIDTH) * step / max(1, int(timeline.lengths[k]) - 1))
            picture = np.ascontiguousarray(world[pan_y:pan_y + HEIGHT, x:x + WIDTH])
        else:
            picture = pictures[k]
        index = int(timeline.starts[k]) + step
        if k in needles and needles[k][1] <= index < needles[k][2]:
            kind, at, end, framing = needles[k]
            if kind == "insert":
                return framed(footage, framing, index - at, end - at, (WIDTH, HEIGHT))
            picture = picture.copy()
            x, y = overlay_xy
            picture[y:y + OVERLAY_SIZE[1], x:x + OVERLAY_SIZE[0]] = framed(footage, framing, index - at, end - at,
                                                                           OVERLAY_SIZE)
        return picture

    inserts = [(at, end) for kind, at, end, _ in needles.values() if kind == "insert"]
    return Plan(lambda index: noise.add(timeline.picture(index, slide), index), states=timeline.cores,
                events=sorted((at, end) for _, at, end, _ in needles.values()),
                cuts=sorted(timeline.cuts + [edge for span in inserts for edge in span]),
                transitions=timeline.transitions)
