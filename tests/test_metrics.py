"""Selection metrics on hand-made cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from framepick.metrics import (
    BETTER,
    compare,
    gaps_s,
    max_gap_s,
    mean_gap_s,
    nearest,
    redundancy,
    representativeness,
    scene_coverage,
    thumb_distance,
)
from framepick.select import select
from framepick.types import Selection
from helpers import make_analysis


def flat(*levels: int) -> np.ndarray:
    """Thumbnails of one grey level each, shape (len(levels), 2, 3, 3)."""
    return np.stack([np.full((2, 3, 3), level, np.uint8) for level in levels])


SCENES = np.array([[0, 4], [4, 8], [8, 10]])


@pytest.mark.parametrize(
    "indices, expected", [([0, 5], 2 / 3), ([0, 4, 8], 1.0), ([3], 1 / 3), ([1, 2, 3], 1 / 3), ([], 0.0)]
)
def test_scene_coverage(indices, expected):
    assert scene_coverage(np.array(indices, dtype=np.int64), SCENES) == pytest.approx(expected)


def test_gaps_include_the_start_and_the_end():
    np.testing.assert_allclose(gaps_s(np.array([1.0, 4.0]), 10.0), [1.0, 3.0, 6.0])
    np.testing.assert_allclose(gaps_s(np.array([]), 10.0), [10.0])
    assert max_gap_s(np.array([1.0, 4.0]), 10.0) == 6.0
    assert max_gap_s(np.array([0.0, 9.0]), 10.0) == 9.0
    assert mean_gap_s(np.array([1.0, 4.0]), 10.0) == pytest.approx(10 / 3)
    assert mean_gap_s(np.array([0.0, 9.0]), 10.0) == pytest.approx(10 / 3)  # the count, not the placement


def test_thumb_distance():
    np.testing.assert_allclose(thumb_distance(flat(0, 51, 255), flat(255, 0, 255)), [1.0, 0.2, 0.0])
    half = flat(0)
    half[0, 0] = 255  # one of two rows white
    np.testing.assert_allclose(thumb_distance(half, flat(0)), [0.5])


def test_nearest():
    np.testing.assert_array_equal(nearest(np.array([0, 30, 60]), np.array([0, 14, 15, 16, 100])), [0, 0, 0, 1, 2])
    np.testing.assert_array_equal(nearest(np.array([7]), np.array([0, 100])), [0, 0])


def test_redundancy():
    assert redundancy(flat(51, 51, 0)) == pytest.approx(0.9)
    assert redundancy(flat(0, 255, 0, 255)) == 0.0
    assert redundancy(flat(9, 9, 9)) == 1.0
    assert redundancy(flat(9)) == 0.0


@pytest.mark.parametrize("indices, expected", [([0], 0.5), ([0, 30], 0.0), ([12, 18], 0.0), ([14], 0.5), ([30], 0.5)])
def test_representativeness(indices, expected):
    thumbs, thumb_indices = flat(0, 0, 255, 255), np.array([0, 10, 20, 30])
    assert representativeness(thumbs, thumb_indices, np.array(indices)) == pytest.approx(expected)


def test_compare():
    analysis = make_analysis(100, 10.0, scenes=[50], thumbs=flat(*[0] * 5, *[255] * 5))
    ends = select(analysis, "uniform", frames=2)
    early = Selection(indices=np.array([10, 20]), times_s=np.array([1.0, 2.0]), strategy="early")
    rows = compare(analysis, ends, early)
    assert rows == [
        {
            "strategy": "uniform",
            "frames": 2,
            "moments": 2,
            "scene_coverage": 1.0,
            "max_gap_s": pytest.approx(9.9),
            "mean_gap_s": pytest.approx(10 / 3),
            "redundancy": 0.0,
            "representativeness": 0.0,
        },
        {
            "strategy": "early",
            "frames": 2,
            "moments": 2,
            "scene_coverage": 0.5,
            "max_gap_s": pytest.approx(8.0),
            "mean_gap_s": pytest.approx(10 / 3),
            "redundancy": 1.0,
            "representativeness": 0.5,
        },
    ]
    assert set(BETTER) == set(rows[0]) - {"strategy", "frames", "moments"}
    assert set(BETTER.values()) == {"higher", "lower"} and BETTER["scene_coverage"] == "higher"
