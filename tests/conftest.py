"""Session-wide test videos, made once with PyAV, with known cuts."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import av
import pytest

from videos import write_audio_only, write_slow_video, write_video

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """Every test gets its own empty analysis cache."""
    monkeypatch.setenv("FRAMEPICK_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="session")
def video_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("videos")


@pytest.fixture(scope="session")
def bikes() -> Path:
    return DATA / "bikes.mp4"


@pytest.fixture(scope="session")
def cut_video(video_dir) -> tuple[Path, list[int]]:
    """H.264 mp4, 25 fps, 160x96, 125 frames, with an audio track; returns (path, cuts)."""
    path = video_dir / "cuts.mp4"
    cuts = write_video(path, [30, 20, 35, 40], audio=True)
    return path, cuts


@pytest.fixture(scope="session")
def rotated_video(video_dir) -> Path:
    """160x96 coded, displayed rotated 90 degrees counter-clockwise (so 96x160 upright)."""
    path = video_dir / "rotated.mp4"
    write_video(path, [20, 20], rotation=90)
    return path


@pytest.fixture(scope="session")
def vfr_video(video_dir) -> tuple[Path, list[float]]:
    """Variable frame rate mkv: 20 frames of 40 ms then 20 of 80 ms; returns (path, times_s)."""
    path = video_dir / "vfr.mkv"
    durations = [40] * 20 + [80] * 20
    write_video(path, [20, 20], frame_durations_ms=durations)
    times = [sum(durations[:i]) / 1000 for i in range(len(durations))]
    return path, times


@pytest.fixture(scope="session")
def odd_size_video(video_dir) -> Path:
    path = video_dir / "odd.mkv"
    write_video(path, [12, 12], width=99, height=57, codec="ffv1", pix_fmt="yuv444p")
    return path


@pytest.fixture(scope="session")
def bad_videos(video_dir, cut_video) -> dict[str, Path]:
    """Files that are not usable videos, by the cause they should be reported with."""
    out = {"missing": video_dir / "missing.mp4"}
    out["not a video"] = video_dir / "text.mp4"
    out["not a video"].write_text("this is not a video\n")
    out["empty file"] = video_dir / "empty.mp4"
    out["empty file"].write_bytes(b"")
    out["audio-only"] = video_dir / "audio.m4a"
    write_audio_only(out["audio-only"])
    data = cut_video[0].read_bytes()
    out["truncated"] = video_dir / "truncated.mp4"
    out["truncated"].write_bytes(data[: len(data) // 2])
    out["truncated mkv"] = video_dir / "truncated.mkv"
    write_video(out["truncated mkv"], [40])
    data = out["truncated mkv"].read_bytes()
    out["truncated mkv"].write_bytes(data[: len(data) * 2 // 3])
    out["zero frames"] = video_dir / "zero.mkv"
    with av.open(str(out["zero frames"]), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        container.start_encoding()
    return out


@pytest.fixture
def copy_of(tmp_path):
    """Copy a file into the test's own folder (to modify it or its cache safely)."""

    def copy(path: Path) -> Path:
        return Path(shutil.copy(path, tmp_path / Path(path).name))

    return copy


@pytest.fixture(scope="session")
def slow_video(video_dir) -> Path:
    """A real video that keeps a worker busy far past a short time limit: 1600 s of 96x96 noise,
    about 16 s of analysis here (see :func:`videos.write_slow_video`)."""
    path = video_dir / "slow.mp4"
    write_slow_video(path)
    return path


@pytest.fixture(scope="session")
def fifo_playlist(video_dir) -> Path:
    """An HLS playlist whose one segment is a named pipe nobody writes to: FFmpeg's HLS demuxer
    would block forever opening it, so framepick must refuse the playlist before it opens anything."""
    folder = video_dir / "playlist"
    folder.mkdir()
    os.mkfifo(folder / "segment.ts")
    path = folder / "stuck.m3u8"
    path.write_text("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-PLAYLIST-TYPE:VOD\n"
                    "#EXTINF:1.0,\nsegment.ts\n#EXT-X-ENDLIST\n")
    return path
