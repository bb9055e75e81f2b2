"""Generate long 1080p30 H.264 benchmark videos with known scene cuts (made once, cached).

Each video is a concatenation of lavfi-generated shots (test patterns, fractal zooms and pans,
Game of Life, gradients, zone plates, grainy flat colour, near-static bars with a small moving
inset), so the first frame of every shot is known exactly. Shot lengths are drawn log-uniformly
between 1 s and 60 s from a fixed seed, and no two adjacent shots are of the same kind. Every shot
kind was checked to hold no cut-like jump of its own (no false cuts from PySceneDetect's
AdaptiveDetector, including at keyframes). The whole video is encoded in one x264 pass
(``superfast``, 3.5 Mbit/s target that easy shots undershoot, GOP 250 plus x264's scene-cut
keyframes), so a 30-minute file is several hundred MB, like the 610 MB file in the issues.

Next to ``NAME.mp4`` a ``NAME.json`` sidecar holds ``fps``, ``frames`` (verified by a full
decode), ``width``, ``height``, ``cuts`` (first frame of each new shot, 0 excluded), ``scenes``
(``[start, end)`` frame ranges), ``kinds``, ``size_bytes`` and the generation settings. The
sidecar is written last, so a video without one is incomplete and is made again.

The cache folder is ``~/.cache/framepick-bench`` unless ``FRAMEPICK_BENCH_DIR`` is set.

Usage::

    python reports/bench/make_videos.py --lengths 1 3 10 30

From another bench script (this folder is on ``sys.path`` when a script in it runs)::

    from make_videos import ensure_video
    meta = ensure_video(30)          # dict from the sidecar, plus "path"
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import imageio_ffmpeg

GENERATOR_VERSION = 1
FPS = 30
WIDTH, HEIGHT = 1920, 1080
MIN_SHOT_S, MAX_SHOT_S = 1.0, 60.0
ENCODER_ARGS = (
    "-c:v", "libx264", "-preset", "superfast", "-b:v", "3500k", "-maxrate", "8000k",
    "-bufsize", "16000k", "-g", "250", "-pix_fmt", "yuv420p", "-movflags", "+faststart",
)  # fmt: skip
BASELINE_ARGS = ("-profile:v", "baseline")  # no B-frames: every frame is a reference frame
DEFAULT_LENGTHS_MIN = (1, 3, 10, 30)


def cache_dir() -> Path:
    """Return the benchmark video folder (``$FRAMEPICK_BENCH_DIR`` or ``~/.cache/framepick-bench``)."""
    env = os.environ.get("FRAMEPICK_BENCH_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "framepick-bench"


def video_path(minutes: float, *, folder: Path | None = None, baseline: bool = False) -> Path:
    """Return the path of the cached ``minutes``-long video (it may not exist yet); ``baseline``:
    the same shots in H.264's baseline profile (no B-frames)."""
    name = f"cuts_1080p30_{minutes:g}min{'_baseline' if baseline else ''}_v{GENERATOR_VERSION}.mp4"
    return (folder or cache_dir()) / name


def _hex_colour(rng: random.Random) -> str:
    return "0x%02x%02x%02x" % tuple(rng.randrange(40, 256) for _ in range(3))


def _upscale(chain: str, *, nearest: bool = False) -> str:
    flags = ":flags=neighbor" if nearest else ""
    return f"{chain},scale={WIDTH}:{HEIGHT}{flags}"


def _shot_testsrc2(rng: random.Random, label: str) -> str:
    return f"testsrc2=s={WIDTH}x{HEIGHT}:r={FPS},hue=h={rng.randrange(360)}[{label}]"


def _shot_mandelbrot(rng: random.Random, label: str) -> str:
    x, y = rng.choice([(-0.743643887, 0.131825904), (-0.16, 1.0405), (0.2549, 0.0005)])
    src = (
        f"mandelbrot=s=480x270:r={FPS}:maxiter=160:start_x={x}:start_y={y}"
        f":start_scale={rng.uniform(1.5, 3.0):.3f}:end_scale=0.001:end_pts={rng.randrange(200, 600)}"
    )
    return _upscale(src) + f"[{label}]"


def _shot_life(rng: random.Random, label: str) -> str:
    src = (
        f"life=s=320x180:r={FPS}:mold=8:ratio={rng.uniform(0.08, 0.3):.2f}:seed={rng.randrange(2**31)}"
        f":life_color={_hex_colour(rng)}:death_color=0x101010:mold_color=0x203050"
    )
    return _upscale(src, nearest=True) + f"[{label}]"


def _shot_gradients(rng: random.Random, label: str) -> str:
    colours = ":".join(f"c{i}={_hex_colour(rng)}" for i in range(4))
    src = (
        f"gradients=s=960x540:r={FPS}:n=4:{colours}:speed={rng.uniform(0.005, 0.03):.3f}"
        f":seed={rng.randrange(2**31)}:type={rng.choice(['linear', 'radial', 'circular', 'spiral'])}"
    )
    return _upscale(src) + f"[{label}]"


def _shot_pan(rng: random.Random, label: str) -> str:
    """A slow camera pan over one still fractal image."""
    period_s = rng.uniform(20, 60)
    src = (
        f"mandelbrot=s=2880x1620:r={FPS}:maxiter=200:start_scale={rng.uniform(0.3, 1.5):.3f}"
        f":start_x={rng.uniform(-1.2, -0.3):.3f}:start_y={rng.uniform(-0.4, 0.4):.3f},"
        f"trim=end_frame=1,loop=loop=-1:size=1,setpts=N/{FPS}/TB,"
        f"crop={WIDTH}:{HEIGHT}:x='(iw-ow)*(0.5-0.5*cos(2*PI*t/{period_s:.1f}))'"
        f":y='(ih-oh)*(0.5-0.5*sin(2*PI*t/{period_s:.1f}))',hue=h={rng.randrange(360)}"
    )
    return f"{src}[{label}]"


def _shot_grain(rng: random.Random, label: str) -> str:
    """Near-static: a flat colour with light film grain and a faint grid."""
    return (
        f"color=c={_hex_colour(rng)}:s={WIDTH}x{HEIGHT}:r={FPS},"
        f"drawgrid=w={rng.randrange(80, 300)}:h={rng.randrange(80, 300)}:t=2:c=white@0.3,"
        f"noise=alls=4:allf=t[{label}]"
    )


def _shot_bars(rng: random.Random, label: str) -> str:
    """Near-static: colour bars with a small moving test-pattern inset."""
    bars = rng.choice(["smptehdbars", "pal75bars", "rgbtestsrc"])
    speed = rng.randrange(20, 120)
    return (
        f"{bars}=s={WIDTH}x{HEIGHT}:r={FPS}[{label}b];"
        f"testsrc2=s=240x135:r={FPS}[{label}i];"
        f"[{label}b][{label}i]overlay=x='mod(t*{speed},{WIDTH - 240})':y={rng.randrange(0, HEIGHT - 135)}"
        f":shortest=1[{label}]"
    )


def _shot_zoneplate(rng: random.Random, label: str) -> str:
    ring = rng.randrange(60, 140)
    src = f"zoneplate=s=960x540:r={FPS}:kx2={ring}:ky2={ring}:kt={rng.randrange(5, 25)}"
    return _upscale(src) + f",hue=h={rng.randrange(360)}:s=2[{label}]"


SHOT_KINDS = {
    "testsrc2": _shot_testsrc2,
    "mandelbrot": _shot_mandelbrot,
    "life": _shot_life,
    "gradients": _shot_gradients,
    "pan": _shot_pan,
    "grain": _shot_grain,
    "bars": _shot_bars,
    "zoneplate": _shot_zoneplate,
}


def plan_shots(total_frames: int, *, seed: int) -> list[tuple[str, int]]:
    """Return ``(kind, n_frames)`` per shot, summing to ``total_frames``.

    Lengths are log-uniform in [1 s, 60 s]; the last shot absorbs the remainder (or, when that
    remainder is under 1 s, the previous shot does). No two adjacent shots share a kind.
    """
    rng = random.Random(seed)
    shots: list[tuple[str, int]] = []
    left = total_frames
    while left > 0:
        seconds = math.exp(rng.uniform(math.log(MIN_SHOT_S), math.log(MAX_SHOT_S)))
        n = min(left, max(round(seconds * FPS), int(MIN_SHOT_S * FPS)))
        if left - n < MIN_SHOT_S * FPS:
            n = left
        previous = shots[-1][0] if shots else None
        kind = rng.choice([k for k in SHOT_KINDS if k != previous])
        shots.append((kind, n))
        left -= n
    return shots


def filtergraph(shots: list[tuple[str, int]], *, seed: int) -> str:
    """Build one ``-filter_complex`` graph that renders ``shots`` and concatenates them to ``[out]``."""
    rng = random.Random(seed + 1)
    parts = []
    for i, (kind, n) in enumerate(shots):
        parts.append(SHOT_KINDS[kind](rng, f"s{i}"))
        parts.append(
            f"[s{i}]trim=end_frame={n},setpts=PTS-STARTPTS,format=yuv420p,setsar=1[v{i}]"
        )
    inputs = "".join(f"[v{i}]" for i in range(len(shots)))
    parts.append(f"{inputs}concat=n={len(shots)}:v=1:a=0[out]")
    return ";\n".join(parts)


def count_frames(path: Path, *, threads: int = 2) -> int:
    """Return the number of frames a full ``ffmpeg -f null`` decode of ``path`` outputs."""
    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostats", "-threads", str(threads),
        "-i", str(path), "-map", "0:v:0", "-f", "null", "-", "-progress", "pipe:1",
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return int(re.findall(r"^frame=(\d+)", out, flags=re.M)[-1])


def generate(minutes: float, path: Path, *, baseline: bool = False) -> dict:
    """Encode the ``minutes``-long video to ``path`` and write its sidecar; return the sidecar."""
    encoder_args = (*ENCODER_ARGS, *BASELINE_ARGS) if baseline else ENCODER_ARGS
    total = round(minutes * 60 * FPS)
    seed = int(minutes * 1000)
    shots = plan_shots(total, seed=seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    graph_file = path.with_suffix(".graph.txt")
    graph_file.write_text(filtergraph(shots, seed=seed))
    partial = path.with_suffix(".partial.mp4")
    cmd = [
        "nice", "-n", "15", imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error",
        "-y", "-/filter_complex", str(graph_file), "-map", "[out]", *encoder_args,
        str(partial),
    ]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(cmd, check=True)
    encode_s = time.perf_counter() - started
    frames = count_frames(partial)
    if frames != total:
        raise RuntimeError(f"{partial}: decoded {frames} frames, planned {total}")
    partial.rename(path)
    graph_file.unlink()
    starts = [sum(n for _, n in shots[:i]) for i in range(len(shots))]
    meta = {
        "file": path.name,
        "fps": FPS,
        "frames": frames,
        "duration_s": frames / FPS,
        "width": WIDTH,
        "height": HEIGHT,
        "cuts": starts[1:],
        "scenes": [[s, s + n] for s, (_, n) in zip(starts, shots)],
        "kinds": [k for k, _ in shots],
        "size_bytes": path.stat().st_size,
        "seed": seed,
        "generator_version": GENERATOR_VERSION,
        "encoder_args": list(encoder_args),
        "encode_s": round(encode_s, 1),
    }
    path.with_suffix(".json").write_text(json.dumps(meta, indent=1))
    return meta


def ensure_video(minutes: float, *, folder: Path | None = None, baseline: bool = False) -> dict:
    """Return the sidecar of the ``minutes``-long video (with ``"path"``), generating it if needed."""
    path = video_path(minutes, folder=folder, baseline=baseline)
    sidecar = path.with_suffix(".json")
    if path.exists() and sidecar.exists():
        meta = json.loads(sidecar.read_text())
    else:
        meta = generate(minutes, path, baseline=baseline)
    return {**meta, "path": str(path)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=float, nargs="+", default=DEFAULT_LENGTHS_MIN,
                        help="video lengths in minutes (default: 1 3 10 30)")  # fmt: skip
    parser.add_argument("--baseline", action="store_true", help="H.264 baseline profile (no B-frames)")
    args = parser.parse_args(argv)
    for minutes in args.lengths:
        meta = ensure_video(minutes, baseline=args.baseline)
        print(
            f"{meta['path']}: {meta['frames']} frames, {len(meta['cuts'])} cuts, "
            f"{meta['size_bytes'] / 1e6:.0f} MB",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
