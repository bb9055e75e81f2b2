"""probe: metadata of good files, one clear error for bad ones."""

from __future__ import annotations

import av
import pytest

from framepick.errors import VideoError
from framepick.probe import probe

from conftest import BIKES_CUTS


def test_probe_bikes(bikes):
    info = probe(bikes)
    assert (info.frames, info.fps, info.duration_s) == (250, 25.0, 10.0)
    assert (info.width, info.height, info.codec, info.rotation) == (640, 272, "h264", 0)
    # every shot of this clip starts on a keyframe
    assert info.keyframes == (0, *BIKES_CUTS)


def test_probe_generated(cut_video):
    path = cut_video[0]
    info = probe(path)
    assert (info.frames, info.fps, info.width, info.height) == (125, 25.0, 160, 96)
    assert info.stream_index == 0
    with av.open(str(path)) as container:
        decoded_keys = [i for i, f in enumerate(container.decode(video=0)) if f.key_frame]
    assert info.keyframes == tuple(decoded_keys) and info.keyframes[0] == 0


def test_probe_rotated_reports_display_size(rotated_video):
    info = probe(rotated_video)
    assert (info.rotation, info.width, info.height) == (90, 96, 160)


def test_probe_without_keyframe_scan_estimates(cut_video):
    info = probe(cut_video[0], keyframes=False)
    assert info.keyframes == () and info.frames == 125


@pytest.mark.parametrize(
    "kind, cause",
    [
        ("missing", "file not found"),
        ("not a video", "not a readable video"),
        ("empty file", "not a readable video"),
        ("audio-only", r"no video stream \(has audio\)"),
        ("truncated", "not a readable video"),
        ("zero frames", "zero frames"),
    ],
)
def test_probe_bad_input_names_file_and_cause(bad_videos, kind, cause):
    path = bad_videos[kind]
    with pytest.raises(VideoError, match=cause) as error:
        probe(path)
    message = str(error.value)
    assert message.startswith(str(path)) and "\n" not in message
