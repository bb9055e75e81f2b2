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


def test_adaptive_is_uniform_where_every_state_is_held():
    analysis = spiky()
    for frames in (4, 64, 500):
        np.testing.assert_array_equal(picks(analysis, "adaptive", frames=frames, max_gap_s=0.0),
                                      picks(analysis, "uniform", frames=frames))
    assert picks(make_analysis(100, 10.0), "adaptive", frames=4) == [0, 33, 66, 99]


def test_adaptive_moves_a_frame_into_a_state_uniform_misses():
    # states [0, 20), [20, 80), [80, 90), [90, 100): uniform's 0, 33, 66, 99 leave [80, 90) empty.
    # Moving 66 to its middle (85) leaves a gap of 52 frames, moving 33 one of 66
    analysis = make_analysis(100, 10.0, states={20: 0.1, 80: 0.1, 90: 0.1})
    assert picks(analysis, "adaptive", frames=4) == [0, 33, 85, 99]
    assert picks(analysis, "adaptive", frames=4, max_gap_s=5) == [0, 33, 66, 99]  # a gap of 52 is too long


def test_adaptive_keeps_the_states_qwen_sees_as_pairs():
    # states [0, 40), [40, 50), [50, 100): uniform's Qwen pairs 0+33 and 66+99 lie in the first and
    # the last; a move into [40, 50) would break one (33 -> 45 pairs 0+45 and 66+99 no longer)
    analysis = make_analysis(100, 10.0, states={40: 0.1, 50: 0.1})
    assert picks(analysis, "adaptive", frames=4) == [0, 33, 66, 99]


def test_adaptive_moves_two_frames_where_one_would_break_a_pair():
    # states [0, 28), [28, 39), [39, 94), [94, 100): uniform's Qwen pairs 0+20 and 40+59 lie in the
    # first and the third. One frame moved into [28, 39) shifts the pairs after it (33+40 or 33+59);
    # two (40 and 59, to 33 and the frame 0.5 s on, 38) keep them, and the new state holds a pair
    analysis = make_analysis(100, 10.0, states={28: 0.5, 39: 0.5, 94: 0.5})
    assert picks(analysis, "adaptive", frames=6) == [0, 20, 33, 38, 79, 99]


def test_adaptive_serves_the_strongest_change_first():
    # two unheld states, [20, 30) and [70, 80), one frame to give (from [30, 70), which holds two)
    for (early, late), moved in (((0.1, 0.5), 75), ((0.5, 0.1), 25)):
        analysis = make_analysis(100, 10.0, states={20: early, 30: 1.0, 70: late, 80: 1.0})
        chosen = picks(analysis, "adaptive", frames=4, multiple_of=1)
        assert moved in chosen and len(chosen) == 4


def test_adaptive_keeps_frames_out_of_transitions():
    analysis = make_analysis(100, 10.0, transitions=[(25, 45)])
    assert picks(analysis, "adaptive", frames=4) == [0, 24, 66, 99]  # 33 moved to the nearest frame outside
    assert not set(picks(analysis, "adaptive", frames=10)) & set(range(25, 45))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_adaptive_holds_every_state_uniform_holds_and_bounds_the_gap(seed):
    rng = np.random.default_rng(seed)
    analysis = spiky(seed=seed)
    changes = rng.choice(np.arange(1, analysis.info.frames), 60, replace=False)
    analysis = make_analysis(analysis.info.frames, analysis.info.fps, scenes=analysis.cuts.tolist(),
                             states={int(c): float(s) for c, s in zip(changes, rng.uniform(0.02, 1, 60))})
    bounds = np.unique(np.concatenate([analysis.cuts, analysis.state_changes]))
    for frames in (8, 32, 64, 128):
        held = {name: set(np.searchsorted(bounds, picks(analysis, name, frames=frames), side="right").tolist())
                for name in ("uniform", "adaptive")}
        assert held["uniform"] <= held["adaptive"]
        chosen = picks(analysis, "adaptive", frames=frames)
        assert len(chosen) == frames and np.all(np.diff(chosen) > 0)
        gaps = np.diff(np.concatenate(([-1], chosen, [analysis.info.frames])))
        assert gaps.max() <= 3 * analysis.info.frames / frames
    assert len(held["adaptive"]) > len(held["uniform"])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_adaptive_covers_every_scene_and_keeps_the_budget(seed):
    analysis = spiky(seed=seed)
    sel = select(analysis, "adaptive", frames=2 * len(analysis.scenes))
    assert len(sel) == 2 * len(analysis.scenes)
    assert np.all(np.diff(sel.indices) > 0)
    assert set(analysis.scene_of(sel.indices).tolist()) == set(range(len(analysis.scenes)))


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
    sel = select(make_analysis(300, 30.0), "adaptive", frames=np.int64(6), max_gap_s=np.float32(0.5), start_s=1)
    assert sel.params["frames"] == 6 and type(sel.params["frames"]) is int
    assert type(sel.params["max_gap_s"]) is float and type(sel.params["start_s"]) is float


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
        ("adaptive", {"max_gap_s": -0.1}, "max_gap_s must be a finite number >= 0"),
        ("adaptive", {"floor": 0.5}, r"unknown parameter\(s\) \['floor'\] for strategy 'adaptive'"),
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
    defaults["max_gap_s"] = 0.9
    assert strategy_defaults("adaptive")["max_gap_s"] is None  # a copy
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
