"""One video end to end: sample() and the ``framepick sample`` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from framepick.analysis import analyze
from framepick.cli import main
from framepick.config import JobConfig, OutputConfig, config_hash, save_config
from framepick.errors import VideoError
from framepick.pipeline import sample
from framepick.select import select


def frames_of(manifest_path):
    return [frame["index"] for frame in json.loads(manifest_path.read_text())["frames"]]


def test_sample_is_analyse_select_extract(bikes, tmp_path):
    manifest_path = sample(bikes, "adaptive", out_dir=tmp_path / "out", frames=20)
    assert manifest_path == tmp_path / "out" / "bikes" / "manifest.json"
    # Qwen's size rule (the default) turns temporal pairs on: 10 moments of 2 frames each, at
    # least one per state (6 scenes, some split by state changes)
    expected = select(analyze(bikes), "adaptive", frames=20, pair_s=0.5)
    assert frames_of(manifest_path) == expected.indices.tolist() and expected.params["pair_s"] == 0.5
    analysis = analyze(bikes)
    pairs = np.asarray(frames_of(manifest_path)).reshape(10, 2)
    assert np.all(analysis.scene_of(pairs[:, 0]) == analysis.scene_of(pairs[:, 1]))
    assert np.all(np.diff(analysis.times_of(pairs), axis=1) <= 0.5)
    unpaired = sample(bikes, "adaptive", out_dir=tmp_path / "off", frames=20, pair_s=None)
    assert frames_of(unpaired) == select(analysis, "adaptive", frames=20).indices.tolist()
    manifest = json.loads(manifest_path.read_text())
    assert manifest["strategy"] == {"name": "adaptive", **expected.params}
    assert manifest["config_hash"] == config_hash(JobConfig(strategy="adaptive", params={"frames": 20}))
    assert manifest["scenes"] == [[0, 30], [30, 76], [76, 137], [137, 187], [187, 242], [242, 250]]


def test_default_is_qwens_uniform_rule(cut_video, tmp_path):
    # qwen-vl-utils on 125 frames at 25 fps: 5 s * 2 fps = 10 frames, linspace(0, 124, 10).round()
    manifest_path = sample(cut_video[0], out_dir=tmp_path / "out")
    assert frames_of(manifest_path) == [0, 14, 28, 41, 55, 69, 83, 96, 110, 124]


def test_config_and_overrides(cut_video, tmp_path):
    config = JobConfig(strategy="scenes", params={"frames": 8}, output=OutputConfig(resize="none"))
    by_config = sample(cut_video[0], out_dir=tmp_path / "a", config=config)
    assert json.loads(by_config.read_text())["strategy"]["name"] == "scenes"
    assert len(frames_of(by_config)) == 8
    overridden = sample(cut_video[0], "uniform", out_dir=tmp_path / "b", config=config, frames=4, video_id="x")
    assert overridden == tmp_path / "b" / "x" / "manifest.json"
    assert frames_of(overridden) == [0, 41, 83, 124]
    assert json.loads(overridden.read_text())["output"]["width"] == 160  # the config's output kept


@pytest.mark.parametrize("kind", ["missing", "not a video", "audio-only", "truncated", "zero frames", "empty file"])
def test_bad_videos_raise_video_error(bad_videos, tmp_path, kind):
    with pytest.raises(VideoError, match=str(bad_videos[kind])):
        sample(bad_videos[kind], out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_cli_analysis_modes():
    """Reference frames by default; ``--every-frame`` asks for the exact mode."""
    from framepick.cli import _analysis_config, build_parser

    for options, reference_only in (([], True), (["--every-frame"], False)):
        args = build_parser().parse_args(["analyze", "video.mp4", *options])
        assert _analysis_config(args).reference_only is reference_only


def test_cli_sample(cut_video, tmp_path, capsys):
    config_path = save_config(JobConfig(strategy="adaptive", params={"frames": 6}), tmp_path / "strategy.toml")
    out = tmp_path / "out"
    assert main(["sample", str(cut_video[0]), "--out", str(out), "--config", str(config_path),
                 "--strategy", "uniform", "--fps", "1", "--max-frames", "4"]) == 0
    manifest_path = out / "cuts" / "manifest.json"
    assert capsys.readouterr().out == f"{manifest_path}\n"
    manifest = json.loads(manifest_path.read_text())
    assert manifest["strategy"]["name"] == "uniform"
    assert (manifest["strategy"]["frames"], manifest["strategy"]["fps"], manifest["strategy"]["max_frames"]) == (
        None, 1.0, 4)  # --fps replaces the config's frame count
    assert frames_of(manifest_path) == [0, 41, 83, 124]


def test_cli_sample_errors_are_one_line(bad_videos, tmp_path, capsys):
    assert main(["sample", str(bad_videos["audio-only"]), "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"framepick: {bad_videos['audio-only']}: no video stream (has audio)\n"
    assert main(["sample", str(bad_videos["audio-only"]), "--out", str(tmp_path), "--param", "max_gap_s=1"]) == 2
    assert "unknown parameter(s) ['max_gap_s'] for strategy 'uniform'" in capsys.readouterr().err


@pytest.mark.parametrize("strategy, params", [("uniform", {"frames": 8}), ("fps", {"fps": 3.0})])
def test_uniform_and_fps_need_no_analysis(cut_video, vfr_video, tmp_path, strategy, params):
    from framepick import cache
    from framepick.analysis import timing

    for path in (cut_video[0], vfr_video[0]):
        fast = timing(path)
        assert not fast.scored and fast.scenes.tolist() == [[0, fast.info.frames]]
        assert not cache.cache_path(path, fast.config).exists()
        manifest = json.loads(sample(path, strategy, out_dir=tmp_path / "fast", **params).read_text())
        assert not cache.cache_path(path, fast.config).exists()  # nothing was analysed
        assert manifest["scenes"] is None and {frame["scene"] for frame in manifest["frames"]} == {None}
        full = analyze(path)  # now cached: the manifest takes its scenes
        np.testing.assert_allclose(fast.frame_times_s, full.frame_times_s, atol=1e-9)
        assert select(fast, strategy, **params).indices.tolist() == select(full, strategy, **params).indices.tolist()
        again = json.loads(sample(path, strategy, out_dir=tmp_path / "cached", **params).read_text())
        assert again["frames"][0]["index"] == manifest["frames"][0]["index"]
        assert again["scenes"] == full.scenes.tolist()


def test_cli_fps_strategy_takes_a_rate(cut_video, tmp_path, capsys):
    # --fps used to set frames=None, a parameter the fps strategy does not take
    assert main(["sample", str(cut_video[0]), "--strategy", "fps", "--fps", "1", "--out", str(tmp_path)]) == 0
    manifest = json.loads((tmp_path / "cuts" / "manifest.json").read_text())
    # 5 s at 1 per second, floored to 4 (even): the centres of four 1.25 s intervals
    assert [f["index"] for f in manifest["frames"]] == [15, 46, 78, 109]


@pytest.mark.slow
def test_cli_sample_has_a_time_limit(slow_video, tmp_path):
    """``framepick sample`` outside a batch stops a video past its limit with one line, exit status 3,
    and leaves nothing in --out (the analysis alone takes about 16 s here)."""
    config = save_config(JobConfig(strategy="adaptive", params={"frames": 4}, timeout_ratio=0.0),
                         tmp_path / "strategy.toml")
    out = tmp_path / "out"
    finished = subprocess.run([sys.executable, "-m", "framepick.cli", "sample", "--config", str(config),
                               "--timeout", "3", "--out", str(out), str(slow_video)],
                              capture_output=True, text=True, timeout=600)  # only if it hangs
    assert finished.returncode == 3
    assert finished.stderr == (f"framepick: {slow_video}: timed out after 3 s (a longer limit: --timeout, "
                               "or timeout_s and timeout_ratio in the config)\n")
    assert not (out / "slow").exists() and not any((out / ".framepick" / "staging").glob("*"))


def test_cli_sample_that_cannot_write_is_one_line_and_leaves_nothing(bikes, tmp_path):
    """A full disk, as a file size limit (RLIMIT_FSIZE: writes past 4 KB fail with EFBIG) in a child
    process: a one-line error naming the output folder, nothing half written, the analysis' failed
    cache write only a one-line warning."""
    out = tmp_path / "out"
    child = ("import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
             "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096)); from framepick.cli import main; "
             "sys.exit(main(sys.argv[1:]))")
    finished = subprocess.run([sys.executable, "-c", child, "sample", "--strategy", "adaptive", "--frames", "4",
                               "--out", str(out), str(bikes)], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "FRAMEPICK_CACHE": str(tmp_path / "cache")})
    assert finished.returncode == 2
    assert finished.stderr.splitlines() == [
        f"framepick: warning: {bikes}: the analysis is not cached (File too large: {tmp_path / 'cache'})",
        f"framepick: {out / 'bikes'}: cannot write the output (File too large)",
    ]
    assert sorted(p.name for p in out.iterdir()) == [".framepick"]
    assert list((out / ".framepick" / "staging").iterdir()) == []
