"""The job configuration: TOML round trip, strict checking, the config hash."""

from __future__ import annotations

import dataclasses

import pytest

from framepick.config import AnalysisConfig, JobConfig, OutputConfig, config_hash, load_config, save_config
from framepick.errors import ConfigError
from framepick.select import strategy_defaults


@pytest.fixture
def toml(tmp_path):
    def write(text: str):
        path = tmp_path / "strategy.toml"
        path.write_text(text)
        return path

    return write


def test_defaults_are_uniform_with_qwens_budget():
    config = JobConfig()
    assert config.strategy == "uniform"
    assert config.resolved_params() == strategy_defaults("uniform")
    assert config.output == OutputConfig(resize="qwen", factor=28, jpeg_quality=90)
    assert config.timeout_for(600.0) == 900.0


def test_round_trip(tmp_path):
    config = JobConfig(
        strategy="adaptive",
        params={"frames": 32, "max_gap_s": 20.0, "max_frames": None},
        analysis=AnalysisConfig(size=96, rate_fps=4.0, detector="content", detector_params={"threshold": 20.0}),
        output=OutputConfig(resize="longest", longest_side=448, jpeg_quality=80),
        timeout_s=60.0,
        timeout_ratio=0.25,
    )
    path = save_config(config, tmp_path / "job.toml")
    text = path.read_text()
    assert '[strategy]\nname = "adaptive"\nframes = 32\n' in text
    assert 'max_frames = "none"' in text  # None where the default is 768
    assert 'start_s = "none"' in text  # every parameter spelled out, None ones too
    loaded = load_config(path)
    assert loaded.strategy == "adaptive"
    assert loaded.resolved_params() == config.resolved_params()
    assert loaded.params["max_frames"] is None
    assert loaded.analysis == dataclasses.replace(config.analysis, threads=0)
    assert loaded.output == config.output
    assert (loaded.timeout_s, loaded.timeout_ratio) == (60.0, 0.25)
    assert config_hash(loaded) == config_hash(config)


def test_empty_file_is_the_default(toml):
    assert config_hash(load_config(toml(""))) == config_hash(JobConfig())


def test_hash_follows_what_changes_the_frames():
    base = JobConfig(strategy="adaptive", params={"frames": 16})
    same = [
        JobConfig(strategy="adaptive", params={"frames": 16, "max_gap_s": None}),  # a default spelled out
        JobConfig(strategy="adaptive", params={"frames": 16, "fps": 2}),  # 2 is 2.0
        dataclasses.replace(base, timeout_s=5.0, timeout_ratio=3.0),  # limits do not change frames
        dataclasses.replace(base, analysis=AnalysisConfig(threads=1)),
    ]
    different = [
        JobConfig(strategy="adaptive", params={"frames": 18}),
        JobConfig(strategy="scenes", params={"frames": 16}),
        dataclasses.replace(base, analysis=AnalysisConfig(size=160)),
        dataclasses.replace(base, analysis=AnalysisConfig(detector_params={"adaptive_threshold": 2.0})),
        dataclasses.replace(base, output=OutputConfig(jpeg_quality=80)),
        dataclasses.replace(base, output=OutputConfig(factor=32)),
    ]
    digest = config_hash(base)
    assert len(digest) == 16 and int(digest, 16) >= 0
    assert [config_hash(c) for c in same] == [digest] * len(same)
    assert len({config_hash(c) for c in different} | {digest}) == len(different) + 1


def test_overrides():
    config = JobConfig(strategy="adaptive", params={"frames": 16, "max_gap_s": 20.0, "start_s": 2.0})
    uniform = config.with_overrides(strategy="uniform", max_frames=64)
    assert uniform.strategy == "uniform"
    assert uniform.params == {"frames": 16, "start_s": 2.0, "max_frames": 64}  # max_gap_s is adaptive's only
    assert config.with_overrides(frames=None, fps=1.0).params == {"frames": None, "max_gap_s": 20.0,
                                                                  "start_s": 2.0, "fps": 1.0}


@pytest.mark.parametrize("text, message", [
    ("[strategy]\nname = 'best'\n", "unknown strategy 'best'"),
    ("[strategy]\nframez = 3\n", r"unknown parameter\(s\) \['framez'\]"),
    ("[strategy]\nframes = 'many'\n", "frames must be a number"),
    ("[strategy]\nmultiple_of = 2.5\n", "multiple_of must be an integer"),
    ("[strategy]\nframes = true\n", "frames must be a number"),
    ("[analysis]\nsize = 4\n", r"\[analysis\] analysis size must be an integer >= 16 and <= 4096"),
    ("[analysis]\nsizes = 128\n", r"\[analysis\] unknown analysis settings: \['sizes'\]"),
    ("[analysis]\ndetector = 'content'\n[analysis.detector_params]\nadaptive_threshold = 2.0\n",
     r"\[analysis\] bad parameters for the content detector"),
    ("[output]\nresize = 'square'\n", r"\[output\] resize: unknown rule 'square'"),
    ("[output]\njpeg_quality = 101\n", r"\[output\] jpeg_quality"),
    ("[output]\nquality = 90\n", r"\[output\] unknown output setting\(s\) \['quality'\]"),
    ("[limits]\ntimeout_s = -1\n", "limits: timeout_s must be"),
    ("[limits]\ntimeout = 10\n", r"\[limits\] unknown key\(s\) \['timeout'\]"),
    ("[extra]\nx = 1\n", r"unknown table\(s\) or key\(s\) \['extra'\]"),
    ("strategy = 'uniform'\n", r"\[strategy\] must be a table"),
    ("[strategy\n", "not valid TOML"),
])
def test_bad_files_name_the_file_and_the_key(toml, text, message):
    path = toml(text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: ")


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="missing.toml: cannot read the config file"):
        load_config(tmp_path / "missing.toml")


def test_unknown_params_are_refused_in_code_too():
    with pytest.raises(ConfigError, match="max_gap_s"):
        JobConfig(strategy="uniform", params={"max_gap_s": 20.0})
