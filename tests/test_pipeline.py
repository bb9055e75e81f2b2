"""One video end to end: sample() and the ``framepick sample`` command."""

from __future__ import annotations

import json

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
    manifest_path = sample(bikes, "adaptive", out_dir=tmp_path / "out", frames=12)
    assert manifest_path == tmp_path / "out" / "bikes" / "manifest.json"
    # Qwen's size rule (the default) turns temporal pairs on: 6 moments of 2 frames each
    expected = select(analyze(bikes), "adaptive", frames=12, pair_s=0.5)
    assert frames_of(manifest_path) == expected.indices.tolist()
    analysis = analyze(bikes)
    pairs = np.asarray(frames_of(manifest_path)).reshape(6, 2)
    assert np.all(analysis.scene_of(pairs[:, 0]) == analysis.scene_of(pairs[:, 1]))
    assert np.all(np.diff(analysis.times_of(pairs), axis=1) <= 0.5)
    unpaired = sample(bikes, "adaptive", out_dir=tmp_path / "off", frames=12, pair_s=None)
    assert frames_of(unpaired) == select(analysis, "adaptive", frames=12).indices.tolist()
    manifest = json.loads(manifest_path.read_text())
    assert manifest["strategy"] == {"name": "adaptive", **expected.params}
    assert manifest["config_hash"] == config_hash(JobConfig(strategy="adaptive", params={"frames": 12}))
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
    assert main(["sample", str(bad_videos["audio-only"]), "--out", str(tmp_path), "--param", "floor=1"]) == 2
    assert "unknown parameter(s) ['floor'] for 'uniform'" in capsys.readouterr().err


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
