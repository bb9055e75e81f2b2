"""Small synthetic videos with known cuts, written with PyAV, for the tests.

Every scene has its own hue, brightness, gradient direction and a square drifting across it, so consecutive
scenes differ strongly while frames inside a scene change a little. The first frame of every scene
but the first is a known cut.
"""

from __future__ import annotations

import colorsys
import re
import subprocess
from collections.abc import Iterable, Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

GOLDEN = 0.618033988749895


def scene_frame(scene: int, step: int, *, width: int, height: int) -> np.ndarray:
    """RGB frame ``step`` of scene number ``scene``, uint8 array of shape (height, width, 3)."""
    hue = (scene * GOLDEN) % 1.0
    value = 0.35 + 0.6 * ((scene * 0.382) % 1.0)
    base = np.array(colorsys.hsv_to_rgb(hue, 0.75, value)) * 255.0
    other = np.array(colorsys.hsv_to_rgb((hue + 0.5) % 1.0, 0.6, 1.3 - value)) * 255.0
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    ramp = (xx / width) if scene % 2 == 0 else (yy / height)
    frame = base * (1.0 - ramp[..., None]) + other * ramp[..., None]
    side = max(4, min(width, height) // 4)
    x0 = (step * 2 + scene * 37) % max(1, width - side)
    y0 = (scene * 23) % max(1, height - side)
    frame[y0 : y0 + side, x0 : x0 + side] = 255.0 - base
    return frame.astype(np.uint8)


def write_video(
    path: Path,
    scene_lengths: Sequence[int],
    *,
    fps: int = 25,
    width: int = 160,
    height: int = 96,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    rotation: int = 0,
    sample_aspect_ratio: Fraction | None = None,
    frame_durations_ms: Sequence[int] | None = None,
    audio: bool = False,
    audio_s: float | None = None,
    gop: int = 50,
    options: dict[str, str] | None = None,
) -> list[int]:
    """Encode a video made of scenes of the given lengths (in frames) and return its cuts.

    Parameters
    ----------
    path : Path
        Output file; the container is chosen from its suffix.
    scene_lengths : sequence of int
        Frames in each scene.
    fps : int
        Nominal frame rate (frames per second).
    width, height : int
        Coded size in pixels.
    codec : str
        FFmpeg encoder name (``libx264``, ``libx265``, ``libvpx-vp9``, ``libaom-av1``, ...).
    pix_fmt : str
        Pixel format of the encoded stream.
    rotation : int
        Display rotation to store in the metadata, degrees counter-clockwise.
    sample_aspect_ratio : Fraction, optional
        Pixel aspect ratio to store (an anamorphic video); default square pixels.
    frame_durations_ms : sequence of int, optional
        Duration of every frame in milliseconds, for variable frame rate files.
    audio : bool
        Also write a silent AAC/Opus audio stream.
    audio_s : float, optional
        Length of that audio in seconds; default: the video's.
    gop : int
        Keyframe interval in frames.
    options : dict, optional
        Encoder options, e.g. ``{"profile": "baseline"}`` (H.264 without B-frames).

    Returns
    -------
    list of int
        First frame index of every scene but the first.
    """
    total = int(sum(scene_lengths))
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = pix_fmt
        stream.codec_context.gop_size = gop
        if options:
            stream.options = options
        if frame_durations_ms is not None:
            stream.codec_context.time_base = Fraction(1, 1000)
            stream.time_base = Fraction(1, 1000)
            pts = np.concatenate([[0], np.cumsum(frame_durations_ms)[:-1]]).astype(np.int64)
        else:
            pts = None
        if sample_aspect_ratio is not None:
            stream.codec_context.sample_aspect_ratio = sample_aspect_ratio
        if rotation:
            stream.set_display_rotation(rotation)
        audio_stream = _add_silent_audio(container, path) if audio else None
        index = 0
        for scene, length in enumerate(scene_lengths):
            for step in range(length):
                frame = av.VideoFrame.from_ndarray(
                    scene_frame(scene, step, width=width, height=height), format="rgb24"
                )
                if pts is not None:
                    frame.pts = int(pts[index])
                    frame.time_base = Fraction(1, 1000)
                container.mux(stream.encode(frame))
                index += 1
        container.mux(stream.encode())
        if audio_stream is not None:
            _write_silence(container, audio_stream, seconds=total / fps if audio_s is None else audio_s)
    return [int(c) for c in np.cumsum(scene_lengths)[:-1]]


def write_audio_only(path: Path, *, seconds: float = 2.0) -> None:
    """Write a file with one silent audio stream and no video."""
    with av.open(str(path), "w") as container:
        _write_silence(container, _add_silent_audio(container, path), seconds=seconds)


def _add_silent_audio(container: av.container.OutputContainer, path: Path) -> av.AudioStream:
    codec = "libopus" if Path(path).suffix in {".webm", ".mkv"} else "aac"
    stream = container.add_stream(codec, rate=48000)
    stream.layout = "mono"
    return stream


def _write_silence(container, stream, *, seconds: float) -> None:
    samples = 960
    for start in range(0, int(seconds * 48000), samples):
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, samples), dtype=np.float32), format="fltp", layout="mono"
        )
        frame.sample_rate = 48000
        frame.pts = start
        container.mux(stream.encode(frame))
    container.mux(stream.encode())


def write_joined(path: Path, sizes: Sequence[tuple[int, int]], *, frames_each: int = 25, fps: int = 25,
                 restart_timestamps: bool = False) -> list[int]:
    """An MPEG-TS H.264 video made of parts joined end to end, as concatenated broadcast
    recordings are: one scene of ``frames_each`` frames per (width, height) in ``sizes`` (the
    coded size may change from part to part). Timestamps run on across parts, or start again at 0
    in each part with ``restart_timestamps``. Returns the cuts (first frames of the parts after
    the first)."""
    with open(path, "wb") as out:
        for scene, (width, height) in enumerate(sizes):
            part = path.with_name(f"{path.stem}.part{scene}.ts")
            with av.open(str(part), "w") as container:
                stream = container.add_stream("libx264", rate=fps)
                stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
                stream.codec_context.max_b_frames = 0  # parts whose timestamps join up exactly
                for step in range(frames_each):
                    frame = av.VideoFrame.from_ndarray(scene_frame(scene, step, width=width, height=height),
                                                       format="rgb24")
                    frame.pts = step if restart_timestamps else scene * frames_each + step
                    container.mux(stream.encode(frame))
                container.mux(stream.encode())
            out.write(part.read_bytes())
            part.unlink()
    return [frames_each * scene for scene in range(1, len(sizes))]


def write_transitions_video(path: Path, *, fps: int = 25, width: int = 160, height: int = 96,
                            repeats: int = 1) -> dict:
    """Encode a 250-frame H.264 video of moving scenes joined by every kind of transition
    (``repeats`` times over, hard cuts between the copies).

    Scene 0 fades in from black over frames 0-19 and dissolves into scene 1 over frames 60-79;
    a hard cut at 120 starts scene 2, on which a bright title fades in over frames 130-149 (no
    transition: a sixth of the picture changes); scene 2 fades out to black over 170-184, black
    holds to 194 and scene 3 fades in over 195-209; its exposure then rises by 30% over frames
    220-239 (no transition either). Returns the truth: ``transitions`` as ``(start, end, kind)``
    frame spans (a fade's span includes the black next to it, split between a fade out and the
    fade in that follows), the expected ``cuts``, and the ``distractors`` spans.
    """
    def picture(scene: int, index: int) -> np.ndarray:
        return scene_frame(scene, index, width=width, height=height).astype(np.float32)

    def ramp(index: int, start: int, length: int) -> float:
        return float(np.clip((index - start + 0.5) / length, 0.0, 1.0))

    def frame(index: int) -> np.ndarray:
        if index < 60:
            return picture(0, index) * ramp(index, 0, 20)
        if index < 120:
            weight = ramp(index, 60, 20)
            return (1 - weight) * picture(0, index) + weight * picture(1, index)
        if index < 195:
            shot = picture(2, index)
            title = ramp(index, 130, 20)
            shot[height // 8: height // 3, width // 4: 3 * width // 4] *= 1 - title
            shot[height // 8: height // 3, width // 4: 3 * width // 4] += 255 * title
            return shot * (1 - ramp(index, 170, 15))
        return picture(3, index) * ramp(index, 195, 15) * (1 + 0.3 * ramp(index, 220, 20))

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(250 * repeats):
            pixels = np.clip(frame(index % 250), 0, 255).astype(np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        container.mux(stream.encode())
    return {
        "transitions": [(0, 20, "fade_in"), (60, 80, "dissolve"), (170, 190, "fade_out"), (190, 210, "fade_in")],
        "cuts": [70, 120, 190],
        "distractors": [(130, 150), (220, 240)],
    }


def write_slow_video(path: Path, *, frames: int = 40_000, side: int = 96) -> None:
    """Encode ``frames`` frames of moving noise, ``side`` x ``side``, at 25 fps: a real video that
    takes a worker far longer to analyse (about 16 s on 2 cores here) than a batch's ``timeout_s``
    of a few seconds allows (with ``timeout_ratio = 0``), so the limit cuts it off for real."""
    noise = np.random.default_rng(0).integers(0, 256, (side, side, 3), dtype=np.uint8)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = side, side, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for index in range(frames):
            picture = av.VideoFrame.from_ndarray(np.roll(noise, index % side, axis=1), format="rgb24")
            container.mux(stream.encode(picture))
        container.mux(stream.encode())


def write_old_x264(path: Path, *, frames: int = 90, gop: int = 30) -> None:
    """A lossless 4:4:4 H.264 stream as an old x264 (build 150) wrote it: its version SEI, which
    makes FFmpeg decode lossless intra prediction the way those builds encoded it, is in the first
    packet only. Made by today's x264 with the build number in that SEI rewritten; the pictures
    (drifting gradients over fixed noise) are ones that FFmpeg decodes without an error either way."""
    noise = np.random.default_rng(0).integers(100, 164, (96, 160), dtype=np.uint8)
    columns, rows = np.arange(160)[None, :], np.arange(96)[:, None]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv444p"
        stream.options = {"qp": "0", "g": str(gop), "keyint_min": str(gop), "sc_threshold": "0", "bframes": "2"}
        for index in range(frames):
            picture = np.stack([(columns * 1.5 + index * 3) % 256 + 0 * rows, (rows * 2 + index) % 256 + 0 * columns,
                                noise], axis=-1).astype(np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        container.mux(stream.encode())
    data = path.read_bytes()
    version = re.search(rb"x264 - core \d+", data)
    old = b"x264 - core 150"
    assert version is not None and data.count(b"x264 - core") == 1 and len(version.group(0)) == len(old)
    path.write_bytes(data.replace(version.group(0), old))  # the same length: the MP4's sizes still hold


def ffmpeg_exe() -> str:
    """The ``ffmpeg`` command-line binary bundled with imageio-ffmpeg (a test extra): the reference
    for what FFmpeg's own tools give."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def write_repeated(source: Path, target: Path, times: int) -> Path:
    """``source`` played ``times`` times in a row, stream-copied by FFmpeg's concat demuxer."""
    listing = target.with_suffix(".txt")
    listing.write_text(f"file '{source.resolve()}'\n" * times)
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy",
                    str(target)], check=True)
    listing.unlink()
    return target


def write_oriented(path: Path, *, rotation: float = 0, hflip: bool = False, vflip: bool = False,
                   frames: int = 3, width: int = 48, height: int = 32) -> None:
    """A lossless H.264 MP4 (4:4:4) of ``frames`` frames stored ``width`` x ``height``, its display
    matrix set by PyAV: ``rotation`` degrees counter-clockwise (any angle), then mirrored
    left-right (``hflip``) and top-bottom (``vflip``)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv444p"
        stream.options = {"qp": "0"}
        stream.set_display_rotation(rotation, hflip=hflip, vflip=vflip)
        for index in range(frames):
            picture = scene_frame(index, index, width=width, height=height)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        container.mux(stream.encode())


def write_with_display_flags(source: Path, target: Path, *args: str) -> None:
    """``source`` copied (no re-encoding) by the ffmpeg binary into ``target`` with the display
    options ``args`` set on its input, e.g. ``"-display_rotation", "270", "-display_hflip"``."""
    import subprocess

    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args, "-i", str(source), "-c", "copy", str(target)],
                   check=True)


def write_edit_list_cut(source: Path, target: Path, *, start_s: float) -> None:
    """``source`` (an MP4) cut at ``start_s`` seconds without re-encoding, by the ffmpeg binary: the
    MP4 keeps the GOP the cut falls in and an edit list that hides its frames before the cut."""
    import subprocess

    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-ss", str(start_s), "-i", str(source), "-c", "copy",
                    str(target)], check=True)


def write_mid_gop_ts(source: Path, target: Path, *, drop_packets: int) -> None:
    """``source``'s video stream remuxed by PyAV into the MPEG-TS ``target`` without its first
    ``drop_packets`` packets (decoding order): a stream that starts mid-GOP, as a broadcast
    recording or a TS cut anywhere does."""
    with av.open(str(source)) as reading, av.open(str(target), "w", format="mpegts") as writing:
        stream = writing.add_stream_from_template(reading.streams.video[0])
        packets = (p for p in reading.demux(reading.streams.video[0]) if p.dts is not None)
        for number, packet in enumerate(packets):
            if number >= drop_packets:
                packet.stream = stream
                writing.mux(packet)


def write_flat(path: Path, frames: int, size: tuple[int, int], rgb: tuple[int, int, int]) -> None:
    """``frames`` frames of one flat colour, ``size`` (width, height) pixels."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = *size, "yuv420p"
        picture = np.empty((size[1], size[0], 3), np.uint8)
        picture[:] = rgb
        for _ in range(frames):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        container.mux(stream.encode())


def _encode_frames(path: Path, frames: Iterable[np.ndarray], *, fps: int, size: tuple[int, int],
                   crf: int = 23) -> None:
    """Encode RGB ``frames`` (uint8 (height, width, 3) each) as H.264 at ``fps``."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = *size, "yuv420p"
        stream.options = {"crf": str(crf)}
        for picture in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        container.mux(stream.encode())


def slide_picture(slide: int, bullets: int, *, width: int, height: int) -> np.ndarray:
    """Slide ``slide`` of a deck in one template (light page, a title bar, a title) with its first
    ``bullets`` lines of text shown: uint8 (height, width, 3)."""
    from PIL import Image, ImageDraw

    page = Image.new("RGB", (width, height), (246, 246, 242))
    draw = ImageDraw.Draw(page)
    bar = height // 7
    draw.rectangle([0, 0, width, bar], fill=(28, 52, 110))
    draw.text((8, bar // 4), f"Lecture 3 - part {slide + 1}: results", fill=(255, 255, 255))
    rng = np.random.default_rng(slide)
    for line in range(bullets):
        words = " ".join("".join(rng.choice(list("abcdefghilmnoprstu"), int(rng.integers(2, 8))))
                         for _ in range(int(rng.integers(3, 7))))
        draw.text((14, bar + 10 + line * (height // 9)), f"- {words}", fill=(30, 30, 30))
    return np.asarray(page)


def write_lecture(path: Path, states: Sequence[tuple[int, int, int]], inset: np.ndarray, *, frames: int,
                  dissolve_at: Sequence[int] = (), pointer: tuple[int, int] | None = None, fps: int = 25,
                  width: int = 320, height: int = 180) -> None:
    """A recorded lecture: slides (:func:`slide_picture`) with a moving speaker inset in the
    bottom-right corner the whole time.

    Parameters
    ----------
    states : sequence of (first_frame, slide, bullets)
        Each slide state and the frame it starts at (hard changes, sorted, the first at frame 0).
    inset : uint8 array, shape (t, h, w, 3)
        Inset footage, played forwards and backwards in a loop.
    frames : int
        Length of the video in frames.
    dissolve_at : sequence of int
        State starts reached by a dissolve of ``fps // 2`` frames centred on them instead of a cut.
    pointer : (int, int), optional
        Frames ``[start, end)`` during which a mouse pointer crosses the page.
    """
    starts = [first for first, _, _ in states]
    pictures = [slide_picture(slide, bullets, width=width, height=height) for _, slide, bullets in states]
    loop = np.concatenate([inset, inset[::-1]])
    top, left = height - inset.shape[1] - 6, width - inset.shape[2] - 6
    half = fps // 4

    def frame(index: int) -> np.ndarray:
        state = int(np.searchsorted(starts, index, side="right")) - 1
        picture = pictures[state].astype(np.float32)
        for start in dissolve_at:
            k = starts.index(start)
            if start - half <= index < start + half:
                weight = (index - (start - half) + 0.5) / (2 * half)
                picture = (1 - weight) * pictures[k - 1] + weight * pictures[k]
        out = picture.astype(np.uint8)
        out[top:top + inset.shape[1], left:left + inset.shape[2]] = loop[index % len(loop)]
        if pointer is not None and pointer[0] <= index < pointer[1]:
            x = 20 + (index - pointer[0]) * (width - 60) // max(1, pointer[1] - pointer[0])
            y = height // 2 + int(20 * np.sin(index / 5))
            out[y:y + 8, x:x + 4] = 0
        return out

    _encode_frames(path, (frame(i) for i in range(frames)), fps=fps, size=(width, height))
