"""Videos as the ``ffmpeg`` command line shows them (issue 28): the display matrix in full (rotation
and flips), tiny and extreme sizes, an MP4 whose edit list cuts the start, an MPEG-TS that starts
mid-GOP, a one-frame video.

The reference is the ffmpeg binary bundled with imageio-ffmpeg (RGB frames through its own filter
graph, autorotate included) and PyAV's ``container.decode()`` for the frame times. Pixels are
compared exactly through :func:`framepick.decode.read_frames`; the JPEGs :func:`framepick.sample`
writes are compared with Pillow's JPEG of the reference frame.
"""

from __future__ import annotations

import io
import json
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

import framepick
from framepick.config import JobConfig, OutputConfig
from framepick.decode import iter_chunks, read_frames, scaled_size
from framepick.errors import VideoError
from framepick.probe import display_filters, probe, probe_timing, scan_file
from videos import (
    ffmpeg_exe,
    write_edit_list_cut,
    write_mid_gop_ts,
    write_oriented,
    write_video,
    write_with_display_flags,
)

ISSUE_VIDEOS = ("rotation_270_hflip.mp4", "edit_list.mp4", "mid_gop.ts", "open_gop.ts", "2x2.mp4", "3x5.mp4",
                "16x9000.mp4")
HIDING_FRAMES = ("edit_list.mp4", "mid_gop.ts", "open_gop.ts")  # packets whose frames FFmpeg does not show
FILTERS = {"rotation_270_hflip.mp4": (("transpose", "cclock_flip"),)}  # ffmpeg's autorotate; none for the others


def _keyframe_positions(path: Path) -> list[int]:
    """Positions in decoding order of the keyframe packets of ``path`` 's video stream."""
    with av.open(str(path)) as container:
        packets = [packet for packet in container.demux(video=0) if packet.size]
    return [position for position, packet in enumerate(packets) if packet.is_keyframe]


def _write_issue_video(folder: Path, name: str) -> Path:
    """One of :data:`ISSUE_VIDEOS` in ``folder``."""
    path = folder / name
    if name == "rotation_270_hflip.mp4":
        write_video(folder / "upright.mp4", [20, 20], gop=10)
        write_with_display_flags(folder / "upright.mp4", path, "-display_rotation", "270", "-display_hflip")
    elif name == "edit_list.mp4":
        write_video(folder / "whole.mp4", [30, 30, 30], gop=25)
        write_edit_list_cut(folder / "whole.mp4", path, start_s=0.5)  # half a second into the first GOP
    elif name == "mid_gop.ts":
        write_video(folder / "whole.ts", [30, 30, 30], gop=50)
        write_mid_gop_ts(folder / "whole.ts", path, drop_packets=10)
    elif name == "open_gop.ts":  # cut at an MPEG-2 keyframe whose leading B-frames lack the GOP before
        write_video(folder / "open.ts", [30, 30, 30], codec="mpeg2video", gop=12, options={"bf": "2"})
        write_mid_gop_ts(folder / "open.ts", path, drop_packets=_keyframe_positions(folder / "open.ts")[1])
    else:
        width, height = (int(side) for side in Path(name).stem.split("x"))
        write_video(path, [4, 3], width=width, height=height, pix_fmt="yuv420p" if width % 2 == 0 else "yuv444p")
    return path


@pytest.fixture(scope="module", params=ISSUE_VIDEOS)
def issue_video(request, tmp_path_factory) -> Path:
    return _write_issue_video(tmp_path_factory.mktemp("geometry"), request.param)


def ffmpeg_frames(path: Path, *, filters: str | None = None) -> np.ndarray:
    """Every frame the ffmpeg command line decodes from ``path`` (autorotate on), through
    ``filters`` if given, as RGB: uint8, shape (n, h, w, 3)."""
    chain = ["-vf", filters] if filters else []
    first = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), *chain, "-frames:v", "1", "-f", "image2pipe",
                            "-vcodec", "png", "-"], capture_output=True, check=True).stdout
    width, height = Image.open(io.BytesIO(first)).size
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), *chain, "-f", "rawvideo", "-pix_fmt", "rgb24",
                          "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3)


def pyav_times_s(path: Path) -> np.ndarray:
    """Time in seconds of every frame PyAV's ``container.decode()`` gives, relative to the first."""
    with av.open(str(path)) as container:
        times = [frame.time for frame in container.decode(video=0)]
    return np.asarray(times, dtype=np.float64) - times[0]


def read_all(path: Path, indices, **options) -> tuple[list[int], np.ndarray]:
    """Indices and frames (uint8, (n, h, w, 3)) :func:`read_frames` gives for ``indices``."""
    got = list(read_frames(path, np.asarray(indices), **options))
    return [index for index, _, _ in got], np.stack([frame for _, _, frame in got])


def test_frames_times_and_size_are_ffmpegs(issue_video):
    reference = ffmpeg_frames(issue_video)
    info, times_s = probe_timing(issue_video)
    assert (info.frames, info.height, info.width) == reference.shape[:3]
    assert (scan_file(issue_video).hidden > 0) == (issue_video.name in HIDING_FRAMES)
    assert display_filters(issue_video) == FILTERS.get(issue_video.name, ())
    np.testing.assert_array_equal(times_s, pyav_times_s(issue_video))
    indices, frames = read_all(issue_video, np.arange(info.frames), size=None, threads=1)
    assert indices == list(range(info.frames))
    np.testing.assert_array_equal(frames, reference)  # frame i is ffmpeg's frame i, pixel for pixel


def test_chosen_frames_are_ffmpegs_on_every_path(issue_video):
    """Seeking by the frame times, or decoding GOPs side by side, gives the same frames."""
    reference = ffmpeg_frames(issue_video)
    info, times_s = probe_timing(issue_video)
    wanted = np.unique([0, 1, info.frames // 3, info.frames // 2, info.frames - 2, info.frames - 1])
    for threads in (1, 2):
        indices, frames = read_all(issue_video, wanted, size=None, threads=threads, frame_times_s=times_s,
                                   keyframes=np.asarray(info.keyframes))
        assert indices == wanted.tolist()
        np.testing.assert_array_equal(frames, reference[wanted])


def as_jpeg(pixels: np.ndarray, *, quality: int) -> np.ndarray:
    """``pixels`` (RGB) after a round trip through a JPEG as Pillow writes it at ``quality``: what
    a JPEG of exactly these pixels reads back as, JPEG's loss included (the same on every run)."""
    encoded = io.BytesIO()
    Image.fromarray(pixels).save(encoded, "JPEG", quality=quality)
    return np.asarray(Image.open(encoded).convert("RGB"))


def test_decord_shows_ffmpegs_frames_or_refuses(issue_video):
    """decord shows a mirrored picture unmirrored: it refuses it (the frame source falls back to
    PyAV). It hands out the frames an edit list hides, or that do not decode before a stream's
    first keyframe (not refused yet: see the xfail below)."""
    if issue_video.name in HIDING_FRAMES:
        pytest.skip("decord hands out the frames FFmpeg hides: test_decord_counts_ffmpegs_frames")
    reference = ffmpeg_frames(issue_video)
    try:
        _, frames = read_all(issue_video, np.arange(len(reference)), size=None, backend="decord", fallback=False)
    except VideoError as exc:
        assert "decord" in str(exc)
        return
    assert issue_video.name != "rotation_270_hflip.mp4"
    assert frames.shape == reference.shape and np.abs(frames.astype(int) - reference).mean() < 2


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="issue 28: decord counts the frames FFmpeg hides (decode/_decord.py)")
@pytest.mark.parametrize("name", HIDING_FRAMES)
def test_decord_counts_ffmpegs_frames(name, tmp_path):
    path = _write_issue_video(tmp_path, name)
    chunks = iter_chunks(path, size=32, backend="decord", fallback=False)
    assert sum(len(chunk.times_s) for chunk in chunks) == probe(path).frames


def _jpegs(manifest_path: Path) -> tuple[dict, list[np.ndarray]]:
    manifest = json.loads(manifest_path.read_text())
    return manifest, [np.asarray(Image.open(manifest_path.parent / frame["file"]).convert("RGB"))
                      for frame in manifest["frames"]]


@pytest.mark.parametrize("strategy", ["uniform", "scenes"])  # frame times from the packets, or from a decode
def test_sample_writes_ffmpegs_frames(issue_video, strategy, tmp_path):
    reference, times_s = ffmpeg_frames(issue_video), pyav_times_s(issue_video)
    config = JobConfig(output=OutputConfig(resize="none", jpeg_quality=95))
    manifest, jpegs = _jpegs(framepick.sample(issue_video, strategy, out_dir=tmp_path, config=config, frames=6,
                                              threads=2, cache=False))
    indices = [frame["index"] for frame in manifest["frames"]]
    assert manifest["video"]["frames"] == len(reference) and indices[-1] <= len(reference) - 1
    if strategy == "uniform":
        assert indices[0] == 0 and indices[-1] == len(reference) - 1
    for frame, jpeg in zip(manifest["frames"], jpegs):
        assert frame["time_s"] == pytest.approx(times_s[frame["index"]], abs=1e-6)
        np.testing.assert_array_equal(jpeg, as_jpeg(reference[frame["index"]], quality=95))


def test_scaled_frames_keep_the_aspect_and_are_ffmpegs_scale(issue_video, tmp_path):
    info = probe(issue_video)
    width, height = scaled_size(info.width, info.height, 64)
    assert width <= info.width and height <= info.height and max(width, height) == min(64, max(info.width, info.height))
    scale = max(width, height) / max(info.width, info.height)
    assert abs(width - info.width * scale) <= 1 and abs(height - info.height * scale) <= 1
    reference = ffmpeg_frames(issue_video, filters=f"scale={width}:{height}:flags=area")
    _, frames = read_all(issue_video, np.arange(info.frames), size=(width, height), threads=1)
    np.testing.assert_array_equal(frames, reference)
    config = JobConfig(output=OutputConfig(resize="longest", longest_side=64))
    manifest, jpegs = _jpegs(framepick.sample(issue_video, "uniform", out_dir=tmp_path, config=config, frames=4,
                                              cache=False))
    assert (manifest["output"]["width"], manifest["output"]["height"]) == (width, height)
    assert all(jpeg.shape == (height, width, 3) for jpeg in jpegs)


ORIENTATIONS = [(0, False, True), (0, True, False), (0, True, True), (90, False, False), (90, True, False),
                (90, False, True), (180, False, False), (180, True, False), (270, False, False),
                (270, True, False), (270, False, True), (30, False, False), (135, True, False)]


@pytest.mark.parametrize(("rotation", "hflip", "vflip"), ORIENTATIONS)
def test_every_orientation_is_ffmpegs(rotation, hflip, vflip, tmp_path):
    path = tmp_path / "oriented.mp4"
    write_oriented(path, rotation=rotation, hflip=hflip, vflip=vflip)
    reference = ffmpeg_frames(path)
    info = probe(path)
    assert (info.frames, info.height, info.width) == reference.shape[:3]
    _, frames = read_all(path, np.arange(info.frames), size=None, threads=1)
    np.testing.assert_array_equal(frames, reference)
    if hflip != vflip or rotation % 90:  # mirrored, or off the right angles: decord would show it otherwise
        with pytest.raises(VideoError, match="decord cannot show"):
            list(read_frames(path, np.arange(info.frames), backend="decord", fallback=False))


@pytest.mark.parametrize(("width", "height", "sar", "shown_width"),
                         [(2, 2, Fraction(3, 2), 3), (3, 5, Fraction(5, 2), 7), (16, 9000, Fraction(199, 20), 159)])
def test_anamorphic_width_is_ffmpegs_stretch(width, height, sar, shown_width, tmp_path):
    """A 3x5 picture of 5:2 pixels is 7.5 pixels wide: ffmpeg's ``scale=iw*sar:ih`` makes it 7
    (not an even 8), and framepick shows it so."""
    path = tmp_path / "anamorphic.mp4"
    write_video(path, [3], width=width, height=height, pix_fmt="yuv444p", sample_aspect_ratio=sar)
    info = probe(path)
    assert (info.width, info.height) == (shown_width, height)
    assert info.sample_aspect_ratio == (sar.numerator, sar.denominator)
    reference = ffmpeg_frames(path, filters="scale=iw*sar:ih:flags=area")
    _, frames = read_all(path, np.arange(info.frames), size=None, threads=1)
    np.testing.assert_array_equal(frames, reference)


@pytest.mark.parametrize(("width", "height"), [(2, 2), (3, 5), (16, 9000), (9000, 16), (1, 1), (99, 57), (1920, 1080),
                                               (101, 100), (100, 100)])
@pytest.mark.parametrize("longer_side", [1, 2, 3, 4, 5, 63, 64, 99, 128, 4000])
def test_scaled_size_keeps_the_aspect_within_a_pixel(width, height, longer_side):
    out_w, out_h = scaled_size(width, height, longer_side)
    if max(width, height) <= longer_side:
        assert (out_w, out_h) == (width, height)  # never enlarged, never rounded
        return
    assert max(out_w, out_h) == longer_side and min(out_w, out_h) >= 1
    assert out_w <= width and out_h <= height
    scale = longer_side / max(width, height)
    assert abs(out_w - width * scale) <= 1 and abs(out_h - height * scale) <= 1


@pytest.fixture(scope="module")
def one_frame(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("one_frame") / "one.mp4"
    write_video(path, [1])
    return path


def test_one_frame_video_gives_its_frame(one_frame, tmp_path):
    info = probe(one_frame)
    assert info.frames == 1
    config = JobConfig(output=OutputConfig(resize="none"))
    manifest, jpegs = _jpegs(framepick.sample(one_frame, "uniform", out_dir=tmp_path, config=config, cache=False))
    assert [frame["index"] for frame in manifest["frames"]] == [0]
    np.testing.assert_array_equal(jpegs[0], as_jpeg(ffmpeg_frames(one_frame)[0], quality=90))


@pytest.mark.parametrize("strategy", ["scenes", "adaptive", "novelty"])
def test_one_frame_video_with_pairs_gives_its_frame(one_frame, strategy, tmp_path):
    """Temporal pairs (on for Qwen's size rule) keep a moment with no partner where it is all there is."""
    manifest = json.loads(framepick.sample(one_frame, strategy, out_dir=tmp_path, cache=False).read_text())
    assert [frame["index"] for frame in manifest["frames"]] == [0]
