"""Cases ``reports/bench/bench_reliability.py`` found unclean (issue 28 item 7), now fixed: a batch
of a folder takes every container FFmpeg reads, an ``--out`` longer than PATH_MAX is a one-line
error, a short complete ASF is not refused as truncated. Public API and command line only."""

from __future__ import annotations

import framepick
from framepick.cli import main
from videos import write_video


def test_a_batch_of_a_folder_takes_every_container_ffmpeg_reads(tmp_path):
    folder = tmp_path / "videos"
    folder.mkdir()
    for number, (extension, codec) in enumerate([("mp4", "libx264"), ("m2v", "mpeg2video"), ("nut", "libx264"),
                                                 ("f4v", "libx264")]):
        write_video(folder / f"v.{extension}", [10 + number, 10], codec=codec)
    summary = framepick.run_batch(folder, out_dir=tmp_path / "out", workers=1, progress=False,
                                  config=framepick.JobConfig(params={"frames": 2}))
    assert summary.videos == 4 and summary.counts["ok"] == 4


def test_an_out_longer_than_path_max_is_one_line(tmp_path, capsys):
    video = tmp_path / "clip.mp4"
    write_video(video, [10, 10])
    out = tmp_path / "long" / "/".join(["d" * 200] * 22)  # 4,400 characters, each part below NAME_MAX
    assert main(["sample", str(video), "--out", str(out), "--frames", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("framepick: ") and err.count("\n") == 1
    assert not (tmp_path / "long").exists()


def test_a_complete_ten_frame_asf_is_not_truncated(tmp_path):
    path = tmp_path / "short.asf"
    write_video(path, [10], codec="wmv2")
    assert framepick.analyze(path, cache=False).info.frames == 10
