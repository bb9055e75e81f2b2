"""Every bad setting ends in one ConfigError naming it, from the API, TOML and the CLI alike."""

from __future__ import annotations

import math
import os

import pytest

from framepick.batch import find_videos, run_batch
from framepick.cli import main
from framepick.config import AnalysisConfig, JobConfig, OutputConfig, load_config
from framepick.errors import ConfigError
from framepick.pipeline import sample

BAD_ANALYSIS = [
    {"rate_fps": math.inf}, {"rate_fps": math.nan}, {"thumb_fps": math.inf}, {"threads": 100_000},
    {"size": 10**9}, {"thumb_size": 1.5}, {"detector_params": "threshold=3"},
]
BAD_OUTPUT = [
    {"factor": 100_000}, {"min_pixels": 10**12}, {"max_pixels": 1}, {"total_pixels": -5},
    {"min_pixels": 200_000, "max_pixels": 100_000}, {"jpeg_quality": 100}, {"factor": True},
]
BAD_LIMITS = [{"timeout_ratio": math.nan}, {"timeout_s": math.inf}, {"timeout_s": 0}, {"timeout_ratio": -1}]


@pytest.mark.parametrize("settings", BAD_ANALYSIS, ids=str)
def test_bad_analysis_settings(settings):
    with pytest.raises(ConfigError, match=next(iter(settings)).replace("size", "size")):
        AnalysisConfig(**settings)


@pytest.mark.parametrize("settings", BAD_OUTPUT, ids=str)
def test_bad_output_settings(settings):
    with pytest.raises(ConfigError, match="factor|pixels|quality"):
        OutputConfig(**settings)


@pytest.mark.parametrize("settings", BAD_LIMITS, ids=str)
def test_bad_limits(settings):
    with pytest.raises(ConfigError, match="limits: timeout"):
        JobConfig(**settings)


def test_detector_parameters_of_the_wrong_type_fail_before_decoding():
    with pytest.raises(ConfigError, match="content detector's threshold must be a number, got 'abc'"):
        AnalysisConfig(detector="content", detector_params={"threshold": "abc"})


@pytest.mark.parametrize("content", [b"\xff\xfe\x00binary", "strategy = 3".encode("utf-16")])
def test_binary_or_non_utf8_files_are_one_line_errors(tmp_path, content):
    toml, listed = tmp_path / "job.toml", tmp_path / "videos.txt"
    toml.write_bytes(content)
    listed.write_bytes(content)
    with pytest.raises(ConfigError, match="job.toml: not a text file"):
        load_config(toml)
    with pytest.raises(ConfigError, match="videos.txt: cannot read the list of videos"):
        list(find_videos([listed]))


def test_a_fifo_as_config_does_not_hang(tmp_path):
    fifo = tmp_path / "job.toml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="not a regular file"):
        load_config(fifo)


def test_out_that_is_a_file_or_unwritable(cut_video, tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("x")
    with pytest.raises(ConfigError, match="the output folder is a file"):
        run_batch([cut_video[0]], out_dir=taken, progress=False)
    with pytest.raises(ConfigError, match="output folder"):
        sample(cut_video[0], out_dir=taken / "below", frames=2)
    locked_out = tmp_path / "readonly"
    locked_out.mkdir()
    locked_out.chmod(0o500)
    try:
        if os.access(locked_out, os.W_OK):
            pytest.skip("running as a user who may write anywhere")
        with pytest.raises(ConfigError, match="not writable"):
            run_batch([cut_video[0]], out_dir=locked_out, progress=False)
    finally:
        locked_out.chmod(0o700)


@pytest.mark.parametrize("argv", [
    ["--rate", "inf"], ["--threads", "100000"], ["--detector-param", "threshold=abc", "--detector", "content"],
], ids=lambda a: " ".join(a))
def test_cli_settings_are_one_line_errors(cut_video, tmp_path, capsys, argv):
    status = main(["analyze", str(cut_video[0]), "--no-cache", *argv])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("framepick: ") and err.count("\n") == 1 and "Traceback" not in err
