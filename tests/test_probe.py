"""probe: metadata of good files, one clear error for bad ones."""

from __future__ import annotations

import os
import subprocess
import sys

import av
import numpy as np
import pytest
from PIL import Image

import framepick
from framepick.errors import VideoError
from framepick.probe import probe
from helpers import BIKES_CUTS
from videos import write_joined, write_video


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


def test_probe_truncated_file_that_declares_no_stream_duration(tmp_path):
    # the bundled sample (VP8 + Vorbis WebM) declares 30 s for the file but no duration per
    # stream; cut in half, its data ends near 15 s, which the packet scan must notice
    data = framepick.sample_video().read_bytes()
    path = tmp_path / "half.webm"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(VideoError, match=r"half\.webm: truncated: "
                                         r"data end at 1\d\.\d\d s but the file declares 30\.00 s"):
        probe(path)


def test_probe_video_shorter_than_its_audio_is_not_truncated(tmp_path):
    # a legitimate file: 1 s of video, 3 s of audio; the data reach the declared end
    path = tmp_path / "short_video.mkv"
    write_video(path, [25], audio=True, audio_s=3.0)
    info = probe(path)
    assert info.frames == 25 and info.duration_s == pytest.approx(1.0)


def test_probe_of_joined_recordings_lists_no_keyframes(tmp_path):
    # timestamps start again in the second part: sorted timestamps no longer give the decoder's
    # frame order, so keyframe positions (used to seek) are not trusted
    path = tmp_path / "restarted.ts"
    write_joined(path, [(160, 96), (160, 96)], restart_timestamps=True)
    info = probe(path)
    assert info.frames == 50 and info.keyframes == ()
    steady = tmp_path / "steady.ts"
    write_joined(steady, [(160, 96), (160, 96)])
    assert probe(steady).keyframes[0] == 0


def test_cover_art_and_playlists_are_not_videos(tmp_path, cut_video):
    import shutil
    import subprocess

    import imageio_ffmpeg

    song = tmp_path / "song.mp3"
    cover = tmp_path / "cover.png"
    Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(cover)
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "sine=d=2", "-i", str(cover),
                    "-map", "0", "-map", "1", "-c:a", "libmp3lame", "-c:v", "mjpeg", "-disposition:v", "attached_pic",
                    str(song)], check=True)
    with pytest.raises(VideoError, match=r"song\.mp3: no video stream \(has audio, cover art\)"):
        probe(song)
    shutil.copy(cut_video[0], tmp_path / "real.mp4")
    playlist = tmp_path / "list.mp4"  # an ffconcat playlist named like a video, naming another file
    playlist.write_text("ffconcat version 1.0\nfile 'real.mp4'\n")
    with pytest.raises(VideoError, match=r"list\.mp4: not a video file: FFmpeg reads it as a playlist"):
        probe(playlist)


_NESTING = ("not a video file: FFmpeg reads it as a playlist, image sequence or other format that opens the "
            "files it names")


@pytest.mark.parametrize("kind", ["hls", "ffconcat", "fifo", "endless"])
def test_files_that_would_hang_or_spin_the_opener_fail_at_once(kind, fifo_playlist, tmp_path):
    """An HLS playlist or an ffconcat list (named .mp4) naming a FIFO used to block FFmpeg forever, a
    FIFO named .mp4 blocked the cache key's read, a TS file whose data turns to zeros after its
    first packets ended in a traceback; each is now a one-line error, in a child process that a
    hang cannot take the tests down with."""
    if kind == "hls":
        path, cause = fifo_playlist, _NESTING
    elif kind == "ffconcat":
        path, cause = tmp_path / "concat.mp4", _NESTING
        path.write_text(f"ffconcat version 1.0\nfile '{fifo_playlist.parent / 'segment.ts'}'\n")
    elif kind == "fifo":
        path, cause = tmp_path / "fifo.mp4", "not a regular file"
        os.mkfifo(path)
    else:
        path, cause = tmp_path / "endless.ts", "corrupt data after packet 24: Resource temporarily unavailable"
        write_video(path, [25], width=64, height=64)
        with open(path, "r+b") as handle:
            handle.truncate(1 << 40)  # 1 TiB, sparse: zeros after the real packets
    command = [sys.executable, "-m", "framepick.cli", "analyze", str(path)]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert finished.returncode == 2
    assert finished.stderr == f"framepick: {path}: {cause}\n"


def test_a_file_scan_is_remembered_until_the_file_changes(tmp_path):
    from framepick.probe import scan_file

    path = tmp_path / "clip.mp4"
    write_video(path, [20, 15])
    first = scan_file(path)
    assert scan_file(path) is first and len(first.pts) == 35 and not first.pts.flags.writeable
    write_video(path, [20, 25])  # replaced in place
    assert len(scan_file(path).pts) == 45
