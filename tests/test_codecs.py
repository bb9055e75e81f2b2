"""Decoder coverage: every common codec and container, fallback, multi-stream, rotation, keyframes."""

from __future__ import annotations

import json

import av
import numpy as np
import pytest

import framepick
from framepick import analyze
from framepick.decode import iter_chunks
from framepick.errors import VideoError
from framepick.probe import probe
from helpers import decode_all
from videos import scene_frame, write_video

SCENES = [20, 15, 25]
CUTS = [20, 35]
# (encoder, container); AV1 in .mov is left out: FFmpeg's mov muxer refuses it.
FORMATS = [
    ("libx264", "mp4"), ("libx264", "mkv"), ("libx264", "mov"),
    ("libx265", "mp4"), ("libx265", "mkv"), ("libx265", "mov"),
    ("libvpx-vp9", "webm"), ("libvpx-vp9", "mkv"), ("libvpx-vp9", "mp4"),
    ("libsvtav1", "mp4"), ("libsvtav1", "mkv"), ("libsvtav1", "webm"),
]
DECORD_OPENS = {"libx264", "libx265", "libvpx-vp9"}  # decord 0.6 (FFmpeg 4.1) has no AV1 decoder


@pytest.fixture(scope="module", params=FORMATS, ids=lambda f: f"{f[0]}-{f[1]}")
def coded_video(request, tmp_path_factory):
    codec, container = request.param
    path = tmp_path_factory.mktemp("codecs") / f"clip.{container}"
    write_video(path, SCENES, codec=codec)
    return path, codec


def test_cuts_found_in_every_format(coded_video):
    path, _ = coded_video
    analysis = analyze(path)
    assert analysis.info.frames == sum(SCENES)
    assert np.all(np.abs(analysis.cuts - CUTS) <= 1) and len(analysis.cuts) == len(CUTS)


def test_backends_conform_where_decord_opens(coded_video):
    path, codec = coded_video
    if codec not in DECORD_OPENS:
        with pytest.raises(VideoError, match="decord cannot open it: cannot find video stream"):
            decode_all(path, "decord", size=None)
        return
    times_a, _, frames_a = decode_all(path, "pyav", size=None)
    times_b, _, frames_b = decode_all(path, "decord", size=None)
    np.testing.assert_allclose(times_a, times_b, atol=1e-3)
    assert frames_a.shape == frames_b.shape == (sum(SCENES), 96, 160, 3)
    assert np.abs(frames_a.astype(int) - frames_b).mean() < 3


def test_decord_falls_back_to_pyav_and_says_so(coded_video):
    path, codec = coded_video
    analysis = analyze(path, backend="decord")
    assert analysis.decoder == ("decord" if codec in DECORD_OPENS else "pyav")
    assert len(analysis.cuts) == len(CUTS)


@pytest.fixture(scope="module")
def two_video_streams(tmp_path_factory):
    """mkv with a 64x48 stream (index 0) and a 160x96 stream (index 1) showing other scenes."""
    path = tmp_path_factory.mktemp("multi") / "two.mkv"
    sizes = [(64, 48), (160, 96)]
    with av.open(str(path), "w") as container:
        streams = []
        for width, height in sizes:
            stream = container.add_stream("libx264", rate=25)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            streams.append(stream)
        for step in range(30):
            for number, (stream, (width, height)) in enumerate(zip(streams, sizes)):
                picture = scene_frame(3 * number + (step >= 15), step, width=width, height=height)
                container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        for stream in streams:
            container.mux(stream.encode())
    return path


def test_multi_stream_uses_ffmpegs_default_stream(two_video_streams):
    info = probe(two_video_streams)
    # ffmpeg's command line maps the largest picture when no stream is flagged default
    assert (info.stream_index, info.video_streams, info.width, info.height) == (1, 2, 160, 96)
    times, _, frames = decode_all(two_video_streams, "pyav", size=None)
    assert frames.shape == (30, 96, 160, 3)
    assert np.abs(frames[20].astype(int) - scene_frame(4, 20, width=160, height=96)).mean() < 4
    # decord 0.6 cannot be told which stream to read: it declines, and the analysis falls back
    with pytest.raises(VideoError, match="decord cannot choose among 2 video streams"):
        decode_all(two_video_streams, "decord", size=None)
    analysis = analyze(two_video_streams, backend="decord")
    assert analysis.decoder == "pyav" and analysis.info.stream_index == 1
    assert analysis.cuts.tolist() == [15]


@pytest.mark.parametrize("rotation", [90, 180, 270])
@pytest.mark.parametrize("backend", ["pyav", "decord"])
def test_rotation_metadata_is_honoured(tmp_path, rotation, backend):
    path = tmp_path / f"rot{rotation}.mp4"
    write_video(path, [5], rotation=rotation)
    _, _, frames = decode_all(path, backend, size=None)
    upright = np.rot90(scene_frame(0, 0, width=160, height=96), k=rotation // 90)
    assert frames[0].shape == upright.shape
    assert np.abs(frames[0].astype(int) - upright).mean() < 4


@pytest.mark.parametrize("backend", ["pyav", "decord"])
def test_keyframes_only_decodes_just_the_keyframes(bikes, backend):
    stream = iter_chunks(bikes, backend=backend, fallback=False, keyframes_only=True)
    chunks = list(stream)
    indices = np.concatenate([c.indices for c in chunks])
    times = np.concatenate([c.times_s for c in chunks])
    np.testing.assert_array_equal(indices, probe(bikes).keyframes)
    np.testing.assert_allclose(times, np.arange(250) / 25)


def test_keyframe_scan_analysis(bikes):
    quick = analyze(bikes, keyframes_only=True, detector_params={"min_scene_len": 1})
    np.testing.assert_array_equal(quick.score_indices, [0, 30, 76, 137, 187, 242])
    assert quick.info.frames == 250 and len(quick.frame_times_s) == 250


def test_raw_h264_stream_without_timestamps(tmp_path):
    # an Annex B elementary stream (.h264, as some cameras write): no container, no timestamps,
    # no seeking back; frames are timed one interval apart and never seeked to by timestamp
    path = tmp_path / "camera.h264"
    write_video(path, SCENES, codec="libx264")
    info = probe(path)
    assert (info.frames, info.keyframes) == (60, ())
    analysis = analyze(path, cache=False)
    assert analysis.decoder == "pyav" and analysis.info.frames == 60
    np.testing.assert_allclose(analysis.frame_times_s, np.arange(60) / 25, atol=1e-6)
    assert analysis.cuts.tolist() == CUTS
    with pytest.raises(VideoError, match="camera.h264: decoding keyframes only needs"):
        analyze(path, cache=False, keyframes_only=True)
    manifest = json.loads(framepick.sample(path, "uniform", out_dir=tmp_path / "out", frames=4).read_text())
    assert [frame["index"] for frame in manifest["frames"]] == [0, 20, 39, 59]
    assert all((tmp_path / "out" / "camera" / frame["file"]).is_file() for frame in manifest["frames"])


def test_decord_on_a_large_rotated_file_falls_back_to_pyav(tmp_path):
    # decord 0.6 scales a 1280x720 file rotated by 90 degrees to 4-channel pictures
    path = tmp_path / "phone.mp4"
    write_video(path, [10, 10], width=1280, height=720, rotation=90)
    analysis = analyze(path, backend="decord", cache=False)
    assert analysis.decoder == "pyav" and analysis.thumbs.shape[1:] == (64, 36, 3)
    with pytest.raises(VideoError, match=r"phone\.mp4: decord gave .* 4 channels where 72x128 RGB was asked for"):
        list(iter_chunks(path, backend="decord", fallback=False, size=128))
