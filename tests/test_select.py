"""Selection strategies on hand-made analyses with known answers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from framepick.errors import ConfigError
from framepick.qwen import frame_budget, qwen_linspace
from framepick.select import STRATEGIES, select, strategy_defaults
from framepick.types import Analysis
from helpers import make_analysis

DATA = Path(__file__).parent / "data"


def picks(analysis: Analysis, strategy: str, **params) -> list[int]:
    return select(analysis, strategy, **params).indices.tolist()


def spiky(frames: int = 3000, fps: float = 30.0, seed: int = 1) -> Analysis:
    """Noise with spikes at random cuts: scenes of 0.5 to 20 s."""
    rng = np.random.default_rng(seed)
    cuts = np.cumsum(rng.integers(round(fps / 2), round(20 * fps), size=frames // 15))
    cuts = cuts[cuts < frames].tolist()
    score = np.abs(rng.normal(0, 0.01, frames))
    score[cuts] = rng.uniform(0.3, 0.8, len(cuts))
    return make_analysis(frames, fps, scenes=cuts, score=score)


# --------------------------------------------------------------------------- uniform


def _fixture_cases():
    data = json.loads((DATA / "qwen_linspace.json").read_text())
    for group in data["groups"]:
        low, high = group["steps"]
        yield group["start"], group["end"], range(low, high + 1), group["diffs"]


def _exact(start: int, end: int, steps: int) -> np.ndarray:
    if steps == 1:
        return np.array([start])
    j = np.arange(steps, dtype=np.float64)
    return np.round(start + (end - start) * j / (steps - 1)).astype(np.int64)


@pytest.mark.parametrize("start, end, steps, diffs", list(_fixture_cases()), ids=lambda v: str(v)[:12])
def test_qwen_linspace_equals_torch(start, end, steps, diffs):
    for n in steps:
        expected = _exact(start, end, n)
        for position, index in diffs.get(str(n), []):
            expected[position] = index
        np.testing.assert_array_equal(qwen_linspace(start, end, n), expected, err_msg=f"steps={n}")


def test_fixture_holds_float32_rounding_cases():
    """The fixture is only a real check if torch's float32 result differs from exact rounding."""
    differing = sum(len(diffs) for *_, diffs in _fixture_cases())
    assert differing > 1000


@pytest.mark.parametrize(
    "frames, fps, expected",
    [(54000, 30.0, 768), (15000, 25.0, 768), (300, 30.0, 20), (30, 30.0, 4), (3, 30.0, 2), (1, 30.0, 1)],
)
def test_uniform_count_by_qwen_rule(frames, fps, expected):
    sel = select(make_analysis(frames, fps), "uniform")
    assert len(sel) == expected
    np.testing.assert_array_equal(sel.indices, qwen_linspace(0, frames - 1, expected))


def test_uniform_worked_examples():
    assert picks(make_analysis(300, 30.0), "uniform") == [
        0, 16, 31, 47, 63, 79, 94, 110, 126, 142, 157, 173, 189, 205, 220, 236, 252, 268, 283, 299,
    ]  # fmt: skip
    assert picks(make_analysis(30, 30.0), "uniform") == [0, 10, 19, 29]
    assert picks(make_analysis(3, 30.0), "uniform") == [0, 2]
    assert picks(make_analysis(1, 30.0), "uniform") == [0]


@pytest.mark.parametrize("asked, expected", [(1, 1), (2, 2), (3, 4), (5, 4), (7, 8), (9, 8), (11, 12), (20, 20)])
def test_explicit_frames_round_half_to_even(asked, expected):
    assert len(select(make_analysis(300, 30.0), "uniform", frames=asked)) == expected


def test_explicit_frames_without_rounding_and_above_the_frame_count():
    analysis = make_analysis(30, 30.0)
    assert picks(analysis, "uniform", frames=5, multiple_of=1) == qwen_linspace(0, 29, 5).tolist()
    assert picks(analysis, "uniform", frames=100) == list(range(30))  # qwen-vl-utils would raise
    assert picks(make_analysis(31, 30.0), "uniform", frames=100) == qwen_linspace(0, 30, 30).tolist()


def test_min_and_max_frames():
    assert len(select(make_analysis(30, 30.0), "uniform", min_frames=5)) == 6  # ceil to even
    assert len(select(make_analysis(54000, 30.0), "uniform", max_frames=7)) == 6  # floor to even
    assert len(select(make_analysis(54000, 30.0), "uniform", max_frames=None)) == 3600
    assert len(select(make_analysis(300, 30.0), "uniform", fps=0.5)) == 4  # 5 frames -> min 4
    assert len(select(make_analysis(300, 30.0), "uniform", fps=0.75, multiple_of=1)) == 7


def test_frame_budget_examples():
    assert frame_budget(54000, 30.0) == 768
    assert frame_budget(15000, 25.0) == 768
    assert frame_budget(300, 30.0) == 20
    assert frame_budget(30, 30.0) == 4
    assert frame_budget(301, 30.0) == 20  # 20.07 floored
    assert frame_budget(10, 30.0, min_frames=1, max_frames=1) == 1  # qwen-vl-utils would raise


def test_uniform_time_range_like_qwen():
    analysis = make_analysis(300, 30.0)
    # frames ceil(1.5 * 30) = 45 .. floor(4.2 * 30) = 126: 82 frames, 5.5 at 2 fps -> 4
    assert picks(analysis, "uniform", start_s=1.5, end_s=4.2) == [45, 72, 99, 126]
    assert picks(analysis, "uniform", start_s=-3.0, end_s=99.0) == picks(analysis, "uniform")
    assert picks(analysis, "uniform", start_s=9.0) == qwen_linspace(270, 299, 4).tolist()
    assert picks(analysis, "uniform", end_s=1.0) == [0, 10, 20, 30]


def test_uniform_time_range_matches_fixture_with_offsets():
    analysis = make_analysis(100_000, 1.0)
    for n in (2, 300, 767, 768):
        sel = select(analysis, "uniform", frames=n, start_s=1234.0, end_s=98765.0, multiple_of=1)
        assert sel.indices.tolist() == qwen_linspace(1234, 98765, n).tolist()


@pytest.mark.parametrize("start_s, end_s", [(5.0, 5.0), (6.0, 5.0), (9.99, None), (None, 0.0)])
def test_time_range_with_fewer_than_two_frames(start_s, end_s):
    with pytest.raises(ConfigError, match="fewer than two frames"):
        select(make_analysis(300, 30.0), "uniform", start_s=start_s, end_s=end_s)


# --------------------------------------------------------------------------- fps


def test_fps_takes_the_frame_at_each_interval_centre():
    analysis = make_analysis(100, 10.0)
    assert picks(analysis, "fps", fps=1.0) == [5, 15, 25, 35, 45, 55, 65, 75, 85, 95]
    assert picks(analysis, "fps", fps=0.5) == [12, 37, 62, 87]  # 5 floored to 4
    assert picks(analysis, "fps", fps=0.5, multiple_of=1) == [10, 30, 50, 70, 90]
    assert picks(analysis, "fps", fps=1.0, max_frames=3, multiple_of=1) == [16, 50, 83]
    assert picks(analysis, "fps", fps=1.0, start_s=2.0, end_s=5.95) == [25, 35, 45, 55]


def test_fps_uses_presentation_times_of_variable_frame_rate():
    times = np.concatenate([np.arange(20) * 0.04, 0.8 + np.arange(20) * 0.08])
    analysis = make_analysis(40, 1 / 0.06, frame_times_s=times, duration_s=2.4)
    assert picks(analysis, "fps", fps=5.0, multiple_of=1) == [2, 7, 12, 17, 21, 23, 26, 28, 31, 33, 36, 38]


def test_fps_above_the_frame_rate_returns_each_frame_once():
    analysis = make_analysis(30, 30.0)
    assert picks(analysis, "fps", fps=60.0, multiple_of=1) == list(range(30))
    assert picks(analysis, "fps", fps=60.0, multiple_of=4) == list(range(28))


# --------------------------------------------------------------------------- scenes


def test_scenes_share_in_proportion_to_length():
    analysis = make_analysis(100, 10.0, scenes=[10, 40])  # lengths 10, 30, 60
    # one each, then 3 more shared by 9 : 29 : 59 -> 0.28, 0.90, 1.82 -> 0, 1, 2 by largest remainder
    assert picks(analysis, "scenes", frames=6) == [5, 17, 32, 50, 70, 90]
    assert picks(analysis, "scenes", frames=2) == [25, 70]  # fewer frames than scenes: the longest
    assert picks(analysis, "scenes", frames=100, multiple_of=1) == list(range(100))


def test_scenes_in_a_time_range():
    analysis = make_analysis(100, 10.0, scenes=[10, 40])
    # frames 20..60: scenes [20, 40) and [40, 61), two frames each
    assert picks(analysis, "scenes", frames=4, start_s=2.0, end_s=6.0) == [25, 35, 45, 55]


def test_scenes_never_exceed_a_short_scene():
    analysis = make_analysis(12, 10.0, scenes=[1, 2])  # lengths 1, 1, 10
    # 7 more frames all go to the third scene: 2 + (2j + 1) * 10 // 16 for j < 8
    assert picks(analysis, "scenes", frames=10) == [0, 1, 2, 3, 5, 6, 7, 8, 10, 11]


# --------------------------------------------------------------------------- adaptive


def test_adaptive_uniform_density_is_stratified():
    analysis = make_analysis(100, 10.0)
    assert picks(analysis, "adaptive", frames=4, floor=1.0, min_gap_s=0.0) == [12, 37, 62, 87]


def test_adaptive_lifts_a_short_scene_to_one_frame():
    analysis = make_analysis(100, 10.0, scenes=[50, 53])  # lengths 50, 3, 47
    assert picks(analysis, "adaptive", frames=4, floor=1.0, min_gap_s=0.0) == [16, 48, 52, 83]


def test_adaptive_with_fewer_frames_than_scenes_takes_the_heaviest_at_their_median():
    analysis = make_analysis(100, 10.0, scenes=[50, 53])
    assert picks(analysis, "adaptive", frames=2, floor=1.0, min_gap_s=0.0) == [24, 76]


def test_adaptive_follows_the_score():
    score = np.zeros(100)
    score[40:60] = 1.0
    analysis = make_analysis(100, 10.0, score=score)
    common = {"frames": 4, "smooth_s": 0.0, "min_gap_s": 0.0, "max_gap_s": 0.0}
    assert picks(analysis, "adaptive", floor=0.0, **common) == [42, 47, 52, 57]
    assert picks(analysis, "adaptive", floor=0.5, **common) == [24, 45, 54, 74]
    assert picks(analysis, "adaptive", floor=0.0, **{**common, "min_gap_s": 1.0}) == [42, 52, 62, 72]
    # a 5 s gap cannot fit 4 frames in 10 s: the largest that fits (33 frames) spans the range
    assert picks(analysis, "adaptive", floor=0.0, **{**common, "min_gap_s": 5.0}) == [0, 33, 66, 99]


def test_adaptive_smooths_and_sharpens():
    score = np.zeros(100)
    score[50] = 1.0
    analysis = make_analysis(100, 10.0, score=score)
    common = {"frames": 2, "floor": 0.0, "min_gap_s": 0.0, "max_gap_s": 0.0, "multiple_of": 1}
    assert picks(analysis, "adaptive", smooth_s=0.0, **common) == [50, 51]  # all mass on frame 50
    # an 11-frame window spreads it evenly over 45..55; quantiles 2.75 and 8.25 of 11
    assert picks(analysis, "adaptive", smooth_s=1.0, **common) == [47, 53]
    assert picks(analysis, "adaptive", smooth_s=1.0, sharpness=2.0, **common) == [47, 53]


def test_adaptive_does_not_crowd_the_cuts():
    # the score spikes at the cut (frame 50) and is flat elsewhere: the cut is answered by one
    # frame per scene, the density stays uniform, and no frame lands beside the cut
    score = np.full(100, 0.01)
    score[50] = 0.9
    analysis = make_analysis(100, 10.0, scenes=[50], score=score)
    assert picks(analysis, "adaptive", frames=4, floor=0.0, min_gap_s=0.0) == [12, 37, 62, 87]
    # motion right after the cut still draws frames: the cut frame takes the next frame's score
    score[51:60] = 0.5
    analysis = make_analysis(100, 10.0, scenes=[50], score=score)
    assert picks(analysis, "adaptive", frames=4, floor=0.0, smooth_s=0.0, min_gap_s=0.0, max_gap_s=0.0) == [
        24, 51, 54, 58]


def test_adaptive_reads_subsampled_scores():
    score_indices = np.arange(0, 100, 5)
    score = np.where((score_indices >= 40) & (score_indices < 60), 1.0, 0.0)
    analysis = make_analysis(100, 10.0, score=score, score_indices=score_indices)
    sel = select(analysis, "adaptive", frames=4, floor=0.0, sharpness=1.0, smooth_s=0.0, min_gap_s=0.0,
                 max_gap_s=0.0)
    # interpolated: ramps 0.2..0.8 at 36..39 and 56..59 around a plateau 40..55; total mass 20
    assert sel.indices.tolist() == [40, 45, 50, 55]


def test_adaptive_bounds_the_largest_gap():
    # 100 s at 10 fps, all change in 40..42 s: by default no gap exceeds twice the uniform
    # spacing (10 frames: 100 frames apart, 200 frames at most), and the change still draws frames
    score = np.zeros(1000)
    score[400:420] = 1.0
    analysis = make_analysis(1000, 10.0, score=score)
    common = {"frames": 10, "floor": 0.0, "smooth_s": 0.0, "min_gap_s": 0.0}
    bounded = np.asarray(picks(analysis, "adaptive", **common))
    assert np.diff(np.concatenate(([0], bounded, [999]))).max() <= 200
    assert np.sum((bounded >= 400) & (bounded < 420)) >= 3
    unbounded = np.asarray(picks(analysis, "adaptive", max_gap_s=0.0, **common))
    assert np.all((unbounded >= 400) & (unbounded < 420))
    tight = np.asarray(picks(analysis, "adaptive", max_gap_s=12.0, **common))
    assert np.diff(np.concatenate(([0], tight, [999]))).max() <= 120


def test_adaptive_is_not_flattened_by_one_large_peak():
    # a 2 s change of 0.1 and a 0.4 s flash of 1.0: the flash saturates instead of taking the
    # density away from the longer change (normalised by its peak, the change got half the frames)
    score = np.zeros(1000)
    score[200:220] = 0.1
    score[600:604] = 1.0
    analysis = make_analysis(1000, 10.0, score=score)
    chosen = np.asarray(picks(analysis, "adaptive", frames=10, floor=0.0, smooth_s=0.0, min_gap_s=0.0,
                              max_gap_s=0.0))
    assert np.sum((chosen >= 200) & (chosen < 220)) >= 8


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_adaptive_covers_every_scene_and_keeps_the_budget(seed):
    analysis = spiky(seed=seed)
    sel = select(analysis, "adaptive", frames=2 * len(analysis.scenes), min_gap_s=0.0)
    assert len(sel) == 2 * len(analysis.scenes)
    assert np.all(np.diff(sel.indices) > 0)
    assert set(analysis.scene_of(sel.indices).tolist()) == set(range(len(analysis.scenes)))


def test_adaptive_keeps_the_minimum_gap():
    analysis = spiky()
    sel = select(analysis, "adaptive", frames=200, min_gap_s=0.3)
    assert len(sel) == 200
    assert np.diff(sel.indices).min() >= 9


# --------------------------------------------------------------------------- novelty


def _novelty_analysis(level: float = 0.0) -> Analysis:
    score = np.full(20, level)
    score[[5, 12, 13, 17]] += [0.5, 0.2, 0.2, 0.9]
    return make_analysis(20, 10.0, score=score)


def test_novelty_picks_when_change_accumulates():
    assert picks(_novelty_analysis(), "novelty", threshold=0.3) == [0, 5, 13, 17]
    assert picks(_novelty_analysis(), "novelty", threshold=0.3, frames=2) == [0, 17]
    assert picks(_novelty_analysis(), "novelty", threshold=0.3, frames=3, multiple_of=1) == [0, 5, 17]
    assert picks(_novelty_analysis(), "novelty", threshold=0.45, multiple_of=1) == [0, 5, 17]


def test_novelty_ignores_the_noise_level():
    assert picks(_novelty_analysis(level=0.05), "novelty", threshold=0.3) == [0, 5, 13, 17]


def test_novelty_returns_few_frames_on_a_still_video():
    still = make_analysis(300, 30.0, score=np.full(300, 0.02))
    assert picks(still, "novelty") == [0]


def test_novelty_in_a_time_range():
    in_range = {"threshold": 0.3, "start_s": 0.6, "end_s": 1.9}  # frames 6..19
    assert picks(_novelty_analysis(), "novelty", multiple_of=1, **in_range) == [6, 13, 17]
    assert picks(_novelty_analysis(), "novelty", **in_range) == [6, 17]  # 3 floored to 2


# --------------------------------------------------------------------------- all strategies


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_selection_is_reproducible_from_its_params(strategy):
    analysis = spiky()
    sel = select(analysis, strategy, start_s=10.0)
    assert set(sel.params) == set(strategy_defaults(strategy))
    params = json.loads(json.dumps(sel.params))
    again = select(analysis, sel.strategy, **params)
    np.testing.assert_array_equal(again.indices, sel.indices)
    np.testing.assert_array_equal(sel.times_s, analysis.frame_times_s[sel.indices])
    assert sel.indices.dtype == np.int64 and sel.times_s.dtype == np.float64


@pytest.mark.parametrize("strategy", ["uniform", "scenes", "adaptive", "novelty"])
@pytest.mark.parametrize("frames", [1, 2, 10, 64, 500])
def test_count_within_budget(strategy, frames):
    analysis = spiky()
    sel = select(analysis, strategy, frames=frames)
    budget = frame_budget(analysis.info.frames, analysis.info.fps, frames=frames)
    assert np.all(np.diff(sel.indices) > 0)
    assert 0 <= sel.indices[0] and sel.indices[-1] < analysis.info.frames
    if strategy == "novelty":
        assert 1 <= len(sel) <= budget
    else:
        assert len(sel) == budget


def test_params_are_plain_values():
    sel = select(make_analysis(300, 30.0), "adaptive", frames=np.int64(6), floor=np.float32(0.5), smooth_s=1)
    assert sel.params["frames"] == 6 and type(sel.params["frames"]) is int
    assert type(sel.params["floor"]) is float and type(sel.params["smooth_s"]) is float


@pytest.mark.parametrize(
    "strategy, params, message",
    [
        ("uniform", {"frames": 0}, "frames must be an integer >= 1"),
        ("scenes", {"frames": 2.5}, "frames must be an integer >= 1"),
        ("uniform", {"frames": True}, "frames must be an integer >= 1"),
        ("uniform", {"min_frames": 10, "max_frames": 8}, r"min_frames \(10\) is above max_frames \(8\)"),
        ("fps", {"fps": -1.0}, "fps must be a finite number > 0"),
        ("uniform", {"fps": 0}, "fps must be a finite number > 0"),
        ("adaptive", {"fps": float("nan")}, "fps must be a finite number > 0"),
        ("adaptive", {"floor": 1.5}, "floor must be a finite number >= 0 and <= 1"),
        ("adaptive", {"min_gap_s": -0.1}, "min_gap_s must be a finite number >= 0"),
        ("novelty", {"threshold": 0}, "threshold must be a finite number > 0"),
        ("uniform", {"multiple_of": 0}, "multiple_of must be an integer >= 1"),
        ("uniform", {"start_s": "1"}, "start_s must be a finite number"),
        ("uniform", {"nframes": 8}, r"unknown parameter\(s\) \['nframes'\] for strategy 'uniform'"),
        ("fps", {"min_frames": 8}, r"unknown parameter\(s\) \['min_frames'\] for strategy 'fps'"),
        ("best", {}, "unknown strategy 'best'"),
    ],
)
def test_invalid_params(strategy, params, message):
    with pytest.raises(ConfigError, match=message) as caught:
        select(make_analysis(300, 30.0), strategy, **params)
    assert "\n" not in str(caught.value)


def test_strategy_defaults():
    assert STRATEGIES[:5] == ("uniform", "fps", "scenes", "adaptive", "novelty")  # the built-in ones first
    assert strategy_defaults("uniform") == {
        "frames": None, "fps": 2.0, "min_frames": 4, "max_frames": 768, "tokens": None, "factor": 28,
        "start_s": None, "end_s": None, "multiple_of": 2,
    }  # fmt: skip
    defaults = strategy_defaults("adaptive")
    defaults["floor"] = 0.9
    assert strategy_defaults("adaptive")["floor"] == 0.5  # a copy
    with pytest.raises(ConfigError, match="unknown strategy"):
        strategy_defaults("nope")


def test_select_is_callable_from_the_package():
    import subprocess
    import sys

    # in a fresh interpreter: before and after the module is imported, and by the old path
    code = ("import framepick\n"
            "import helpers\n"
            "a = helpers.make_analysis(30, 30.0)\n"
            "first = framepick.select(a, 'uniform', frames=4).indices.tolist()\n"
            "from framepick.select import select\n"
            "import framepick.select as module\n"
            "assert first == select(a, 'uniform', frames=4).indices.tolist() == module(a, frames=4).indices.tolist()\n"
            "assert framepick.select is module\n"
            "print(first)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent)
    assert out.stdout.strip() == "[0, 10, 19, 29]"
