"""The command line does what the README says: every flag it names, on every subcommand it names,
reaches what it should (files written, manifests, the analysis settings), errors are one line
whatever the flag order, and a stopped batch stops cleanly."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from framepick import cache
from framepick.batch import STATUS_FILE
from framepick.cli import build_parser, main
from framepick.config import AnalysisConfig, JobConfig, save_config
from helpers import HANG_S, ROOT, batch_with_one_video_done

README = ROOT / "README.md"
ANALYSING = ("analyze", "sample", "batch")  # the subcommands that take the analysis options
ANALYSIS_FLAGS = ("--size", "--rate", "--keyframes-only", "--every-frame", "--backend", "--detector",
                  "--detector-param", "--threads", "--no-cache")


def run_command(command: str, video: Path, tmp_path: Path, *options: str) -> int:
    """``framepick <command> VIDEO ...`` with an adaptive selection of 4 frames where there is one
    (so that the video is analysed, not only timed); returns the exit status."""
    out = ["--out", str(tmp_path / "out")]
    argv = {
        "analyze": ["analyze", str(video), "--json"],
        "sample": ["sample", str(video), *out, "--strategy", "adaptive", "--frames", "4"],
        "batch": ["batch", *out, "--strategy", "adaptive", "--frames", "4", str(video)],
    }[command]
    return main([*argv, *options])


def manifest(tmp_path: Path, video_id: str = "cuts") -> dict:
    return json.loads((tmp_path / "out" / video_id / "manifest.json").read_text())


def status_lines(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / STATUS_FILE).read_text().splitlines()]


def cached_files() -> list[Path]:
    folder = Path(os.environ["FRAMEPICK_CACHE"])  # each test's own (conftest)
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


# --------------------------------------------------------------------------- help and the README


def help_text(capsys, *command: str) -> str:
    with pytest.raises(SystemExit) as stopped:
        main([*command, "--help"])
    assert stopped.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command, flags", [
    ((), ("--verbose", "analyze", "sample", "batch", "demo")),
    (("analyze",), ("--json", "--timeout", "--verbose", *ANALYSIS_FLAGS)),
    (("sample",), ("--out", "--config", "--strategy", "--frames", "--fps", "--min-frames", "--max-frames", "--param",
                   "--timeout", "--verbose", *ANALYSIS_FLAGS)),
    (("batch",), ("--out", "--config", "--strategy", "--frames", "--workers", "--executor", "--force", "--timeout",
                  "--ray-address", "--segment-minutes", "--verbose", *ANALYSIS_FLAGS)),
    (("demo",), ("--out", "--report-dir", "--strategies", "--frames", "--verbose")),
], ids=["framepick", "analyze", "sample", "batch", "demo"])
def test_help_of_every_subcommand(capsys, command, flags):
    text = help_text(capsys, *command)
    for flag in flags:
        assert flag in text, flag


def test_every_flag_in_the_readme_is_an_option(capsys):
    readme = README.read_text()
    flags = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", readme))
    helps = {command: help_text(capsys, command) for command in ("analyze", "sample", "batch", "demo")}
    helps[""] = help_text(capsys)
    assert {"--every-frame", "--verbose", "--segment-minutes"} <= flags  # the pattern finds them
    for flag in sorted(flags):
        assert any(re.search(rf"{flag}\b", text) for text in helps.values()), flag
    # "the same with --every-frame" of `framepick sample` and `framepick analyze --every-frame`:
    # every analysis option on every subcommand that analyses
    for command in ANALYSING:
        for flag in ANALYSIS_FLAGS:
            assert re.search(rf"{flag}\b", helps[command]), (command, flag)


def test_the_readmes_command_lines_parse():
    block = README.read_text().split("## Command line", 1)[1].split("```")[1]
    usages = [line.split("#")[0].split() for line in block.splitlines() if line.startswith("framepick ")]
    assert [usage[1] for usage in usages] == ["analyze", "sample", "batch", "demo"]
    for argv in (["analyze", "v.mp4", "--json", "--every-frame", "--keyframes-only", "--backend", "decord",
                  "--detector", "hash"],
                 ["sample", "v.mp4", "--strategy", "adaptive", "--frames", "64", "--out", "DIR", "--every-frame"],
                 ["batch", "--config", "strategy.toml", "--out", "DIR", "--workers", "2", "--executor", "ray",
                  "--every-frame", "a.mp4", "videos/"],
                 ["demo", "v.mp4", "--frames", "8", "--strategies", "uniform", "adaptive"]):
        assert build_parser().parse_args(argv).command == argv[0]


# --------------------------------------------------------------------------- analysis options

OPTION_SETS = {
    "every frame, size, detector": (
        ["--every-frame", "--size", "64", "--detector", "content", "--detector-param", "threshold=20",
         "--backend", "pyav", "--threads", "1"],
        {"reference_only": False, "size": 64, "detector": "content", "detector_params": {"threshold": 20},
         "backend": "pyav"}),
    "keyframes only": (["--keyframes-only"], {"keyframes_only": True}),
    "rate, decord": (["--rate", "5", "--backend", "decord"], {"rate_fps": 5.0, "backend": "decord"}),
}


@pytest.mark.parametrize("options, settings", OPTION_SETS.values(), ids=OPTION_SETS.keys())
@pytest.mark.parametrize("command", ANALYSING)
def test_analysis_options_reach_the_analysis(cut_video, tmp_path, capsys, command, options, settings):
    """The analysis is cached under exactly the settings given (the cache key is the settings),
    and it is the analysis they ask for; the manifest records them."""
    path = cut_video[0]
    assert run_command(command, path, tmp_path, "--timeout", "120", *options) == 0
    analysis = cache.load(path, AnalysisConfig(**settings))
    assert analysis is not None and len(cached_files()) == 1
    every = np.arange(analysis.info.frames)
    if settings.get("reference_only") is False:  # B-frames too: every frame scored
        assert analysis.score_indices.tolist() == every.tolist()
    elif settings.get("keyframes_only"):
        assert set(analysis.score_indices.tolist()) <= set(analysis.info.keyframes)
    else:  # 5 of 25 per second
        assert 20 <= len(analysis.score_indices) <= 30
    if command == "analyze":
        assert json.loads(capsys.readouterr().out)["frames"] == 125
    else:
        recorded = manifest(tmp_path)["analysis"]
        assert {name: recorded[name] for name in settings} == settings
        assert len(manifest(tmp_path)["frames"]) == 4


def test_every_frame_is_not_the_default(cut_video, tmp_path):
    assert run_command("sample", cut_video[0], tmp_path) == 0
    assert manifest(tmp_path)["analysis"]["reference_only"] is True
    analysis = cache.load(cut_video[0], AnalysisConfig())
    assert analysis is not None and len(analysis.score_indices) < analysis.info.frames  # B-frames skipped


@pytest.mark.parametrize("command", ANALYSING)
def test_no_cache(cut_video, tmp_path, command):
    assert run_command(command, cut_video[0], tmp_path, "--no-cache", "--every-frame") == 0
    assert cached_files() == []
    if command != "analyze":
        assert manifest(tmp_path)["analysis"]["reference_only"] is False


def test_options_override_the_config_file_one_by_one(cut_video, tmp_path):
    every_frame = AnalysisConfig(reference_only=False, size=96, detector="content",
                                 detector_params={"threshold": 20})
    config = save_config(JobConfig(strategy="adaptive", params={"frames": 4}, analysis=every_frame),
                         tmp_path / "strategy.toml")
    assert main(["sample", str(cut_video[0]), "--out", str(tmp_path / "out"), "--config", str(config),
                 "--size", "64", "--detector-param", "min_scene_len=2"]) == 0
    recorded = manifest(tmp_path)["analysis"]
    assert (recorded["reference_only"], recorded["size"], recorded["detector"]) == (False, 64, "content")
    assert recorded["detector_params"] == {"threshold": 20, "min_scene_len": 2}
    assert main(["sample", str(cut_video[0]), "--out", str(tmp_path / "other"), "--config", str(config),
                 "--detector", "adaptive"]) == 0  # another detector: the content detector's threshold goes
    other = json.loads((tmp_path / "other" / "cuts" / "manifest.json").read_text())["analysis"]
    assert (other["detector"], other["detector_params"], other["size"]) == ("adaptive", {}, 96)


@pytest.mark.parametrize("command", ANALYSING)
@pytest.mark.parametrize("options, message", [
    (["--threads", "100000"], "threads"),
    (["--size", "8"], "analysis size"),
    (["--detector", "content", "--detector-param", "threshold=abc"], "threshold must be a number"),
    (["--rate", "5", "--keyframes-only"], "keyframes_only and rate_fps exclude each other"),
], ids=["threads", "size", "detector-param", "rate"])
def test_bad_analysis_options_are_one_line_errors(cut_video, tmp_path, capsys, command, options, message):
    assert run_command(command, cut_video[0], tmp_path, *options) == 2
    err = capsys.readouterr().err
    assert err.startswith("framepick: ") and err.count("\n") == 1 and message in err
    assert not (tmp_path / "out").exists()  # refused before any work


# --------------------------------------------------------------------------- --verbose and errors


@pytest.mark.parametrize("before", [True, False], ids=["before", "after"])
def test_verbose_before_or_after_the_subcommand(bad_videos, tmp_path, capsys, before):
    missing = str(bad_videos["missing"])
    argv = ["sample", missing, "--out", str(tmp_path)]
    assert main(["--verbose", *argv] if before else [*argv, "--verbose"]) == 2  # the documented status
    err = capsys.readouterr().err
    assert "Traceback" in err and err.endswith(f"\nframepick: {missing}: file not found\n")
    assert main(argv) == 2
    assert capsys.readouterr().err == f"framepick: {missing}: file not found\n"


@pytest.mark.parametrize("command", ["analyze", "sample", "batch", "demo"])
def test_verbose_is_taken_on_every_subcommand(command):
    argv = {"analyze": ["analyze", "v.mp4"], "sample": ["sample", "v.mp4", "--out", "o"],
            "batch": ["batch", "--out", "o", "v.mp4"], "demo": ["demo"]}[command]
    parser = build_parser()
    assert parser.parse_args(argv).verbose is False
    assert parser.parse_args(["--verbose", *argv]).verbose is True
    assert parser.parse_args([*argv, "--verbose"]).verbose is True


# --------------------------------------------------------------------------- sample


def test_sample_writes_the_frames_its_manifest_counts(cut_video, tmp_path, capsys):
    """``--frames 3``: uniform rounds to an even count as qwen-vl-utils does; the manifest says 4."""
    out = tmp_path / "out"
    assert main(["sample", str(cut_video[0]), "--out", str(out), "--frames", "3"]) == 0
    manifest_path = out / "cuts" / "manifest.json"
    assert capsys.readouterr().out == f"{manifest_path}\n"
    written = sorted(p.name for p in (out / "cuts").glob("frame_*.jpg"))
    data = json.loads(manifest_path.read_text())
    assert len(written) == len(data["frames"]) == data["strategy"]["frames"] == 4
    assert [frame["file"] for frame in data["frames"]] == written


def test_sample_strategy_config_param_and_timeout(cut_video, tmp_path):
    config = save_config(JobConfig(strategy="scenes", params={"frames": 8}), tmp_path / "strategy.toml")
    assert main(["sample", str(cut_video[0]), "--out", str(tmp_path / "out"), "--config", str(config),
                 "--strategy", "adaptive", "--param", "max_gap_s=30", "--param", "pair_s=0", "--timeout", "120"]) == 0
    data = manifest(tmp_path)
    assert data["strategy"]["name"] == "adaptive"
    assert (data["strategy"]["frames"], data["strategy"]["max_gap_s"], data["strategy"]["pair_s"]) == (8, 30.0, 0)
    assert len(data["frames"]) == 8


# --------------------------------------------------------------------------- batch


def test_batch_flags(cut_video, tmp_path, capsys):
    out = tmp_path / "out"
    config = save_config(JobConfig(strategy="adaptive", params={"frames": 4}), tmp_path / "strategy.toml")
    argv = ["batch", "--config", str(config), "--out", str(out), "--workers", "1", "--executor", "local",
            "--timeout", "120", str(cut_video[0])]
    assert main(argv) == 0
    assert main(argv) == 0
    assert main([*argv, "--force"]) == 0
    captured = capsys.readouterr()
    assert [line.split(":")[0].strip() for line in captured.err.splitlines()] == ["ok       cuts", "skipped  cuts",
                                                                                 "ok       cuts"]
    assert captured.out.startswith("1 video: 1 ok, 0 skipped, 0 failed in ")  # not "1 videos"
    first = status_lines(out)[0]["batch"]
    assert (first["workers"], first["executor"]) == (1, "local")
    assert first["config"]["limits"]["timeout_s"] == 120.0 and first["config"]["strategy"]["name"] == "adaptive"
    assert len(json.loads((out / "cuts" / "manifest.json").read_text())["frames"]) == 4


def test_batch_writes_the_frames_its_manifest_counts(cut_video, tmp_path, capsys):
    assert main(["batch", "--out", str(tmp_path / "out"), "--frames", "3", str(cut_video[0])]) == 0
    assert "ok       cuts: 4 frames" in capsys.readouterr().err
    data = manifest(tmp_path)
    assert len(data["frames"]) == data["strategy"]["frames"] == 4
    assert len(list((tmp_path / "out" / "cuts").glob("frame_*.jpg"))) == 4


@pytest.mark.parametrize("options", [["--ray-address", "127.0.0.1:6379"], ["--segment-minutes", "1"]],
                         ids=["ray-address", "segment-minutes"])
def test_ray_options_without_ray_are_one_line_errors(cut_video, tmp_path, capsys, options):
    """The Ray executor itself runs in test_batch.py (test_ray_executor, ``--segment-minutes``)."""
    assert main(["batch", "--out", str(tmp_path / "out"), *options, str(cut_video[0])]) == 2
    assert capsys.readouterr().err == "framepick: ray_address and segment_s need executor='ray'\n"


def test_a_bad_line_of_a_list_is_named_by_the_list_and_line(cut_video, tmp_path, capsys):
    listing = tmp_path / "videos.txt"
    listing.write_text(f"{cut_video[0]}\n# the next one is not there\n\nmissing.mp4\n")
    out = tmp_path / "out"
    assert main(["batch", "--out", str(out), "--frames", "4", str(listing)]) == 1
    captured = capsys.readouterr()
    assert f"failed   {listing}:4: {tmp_path / 'missing.mp4'}: file not found (" in captured.err
    assert "ok       cuts: 4 frames (" in captured.err
    assert captured.out.startswith("2 videos: 1 ok, 0 skipped, 1 failed in ")
    lines = {line["id"]: line for line in status_lines(out)[1:-1]}
    assert lines["missing"]["listed_at"] == f"{listing}:4" and lines["missing"]["reason"] == "file not found"
    assert lines["cuts"]["listed_at"] == f"{listing}:1"


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGHUP, signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_a_stopped_batch_stops_cleanly(own_session, slow_video, cut_video, tmp_path, how):
    """SIGHUP (a closed terminal) as SIGTERM as Ctrl-C: a summary, status 130, nothing on stderr
    (no traceback, no "leaked semaphore" warning from multiprocessing's resource tracker for the
    worker killed mid-video; the next test makes sure that worker is past its first progress bar)."""
    with batch_with_one_video_done(own_session, slow_video, cut_video, tmp_path / "out", tmp_path) as process:
        if how == signal.SIGINT:
            os.killpg(process.pid, how)  # a terminal's Ctrl-C reaches the whole group
        else:
            os.kill(process.pid, how)
        stdout, stderr = process.communicate(timeout=HANG_S)  # the resource tracker holds stderr until it ends
    assert process.returncode == 130
    assert "2 videos: 1 ok, 0 skipped, 0 failed" in stdout.decode() and "(interrupted)" in stdout.decode()
    assert stderr.decode() == "", stderr


@pytest.mark.slow
def test_a_worker_killed_at_its_time_limit_leaks_nothing(slow_video, cut_video, tmp_path):
    """A worker killed 3 s into its analysis (so past the progress bar that, with tqdm's default
    lock, made a named semaphore) leaves nothing for the resource tracker to warn about."""
    config = save_config(JobConfig(strategy="adaptive", params={"frames": 4}, timeout_ratio=0.0),
                         tmp_path / "strategy.toml")
    finished = subprocess.run([sys.executable, "-m", "framepick.cli", "batch", "--config", str(config),
                               "--timeout", "3", "--out", str(tmp_path / "out"), str(slow_video), str(cut_video[0])],
                              capture_output=True, text=True, timeout=HANG_S)
    assert finished.returncode == 1
    assert "2 videos: 1 ok, 0 skipped, 1 failed" in finished.stdout
    ok, failed = sorted(finished.stderr.splitlines(), key=lambda line: not line.startswith("ok"))
    assert ok.startswith("ok       cuts: 4 frames (") and failed.startswith(
        "failed   slow: timed out after 3 s (worker killed) (")  # and nothing else: no "leaked semaphore"


# --------------------------------------------------------------------------- demo


def test_demo_flags(cut_video, tmp_path, capsys):
    out, report = tmp_path / "out", tmp_path / "report"
    assert main(["demo", str(cut_video[0]), "--out", str(out), "--report-dir", str(report), "--frames", "4",
                 "--strategies", "uniform", "scenes", "--verbose"]) == 0
    printed = capsys.readouterr().out
    for strategy in ("uniform", "scenes"):
        manifest_path = out / strategy / "cuts" / "manifest.json"
        assert str(manifest_path) in printed
        data = json.loads(manifest_path.read_text())
        assert data["strategy"]["name"] == strategy and len(data["frames"]) == 4
    assert (report / "report.md").is_file() and f"report: {report / 'report.md'}" in printed
