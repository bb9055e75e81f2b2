"""Each compiled kernel against a plain NumPy reference."""

from __future__ import annotations

import numpy as np
import pytest

from framepick import _kernels
from framepick.errors import ConfigError
from framepick.score import ChangeScorer, combine, histogram_difference, luma_difference


def naive_luma(frames: np.ndarray) -> np.ndarray:
    rgb = frames.astype(np.int64)
    return (77 * rgb[..., 0] + 150 * rgb[..., 1] + 29 * rgb[..., 2]) >> 8


def naive_mean_abs_diff(planes, previous):
    everything = np.concatenate([previous[None], planes]).astype(np.int64)
    return np.abs(np.diff(everything, axis=0)).mean(axis=(1, 2))


def naive_histograms(frames, bins):
    codes = (frames.astype(np.int64) * bins) >> 8
    cell = (codes[..., 0] * bins + codes[..., 1]) * bins + codes[..., 2]
    hists = [np.bincount(c.ravel(), minlength=bins**3) for c in cell]
    return np.asarray(hists, dtype=np.float64) / cell[0].size


def naive_total_variation(hists, previous):
    everything = np.concatenate([previous[None], hists])
    return 0.5 * np.abs(np.diff(everything, axis=0)).sum(axis=1)


@pytest.fixture
def frames():
    rng = np.random.default_rng(7)
    return rng.integers(0, 256, size=(9, 23, 31, 3), dtype=np.uint8)


def test_luma_planes_match_numpy(frames):
    np.testing.assert_array_equal(_kernels.luma_planes(frames), naive_luma(frames))


def test_mean_abs_diff_matches_numpy(frames):
    planes = frames[..., 0]
    got = _kernels.mean_abs_diff(np.ascontiguousarray(planes[1:]), np.ascontiguousarray(planes[0]))
    np.testing.assert_allclose(got, naive_mean_abs_diff(planes[1:], planes[0]), rtol=1e-6)


@pytest.mark.parametrize("bins", [2, 8, 16])
def test_rgb_histograms_match_numpy(frames, bins):
    got = _kernels.rgb_histograms(frames, bins)
    np.testing.assert_allclose(got, naive_histograms(frames, bins), atol=1e-6)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)


def test_total_variation_matches_numpy(frames):
    hists = naive_histograms(frames, 8).astype(np.float32)
    got = _kernels.total_variation(hists[1:], hists[0])
    np.testing.assert_allclose(got, naive_total_variation(hists[1:], hists[0]), atol=1e-6)


def test_scores_of_known_frames():
    black = np.zeros((1, 4, 4, 3), np.uint8)
    white = np.full((1, 4, 4, 3), 255, np.uint8)
    frames = np.concatenate([black, black, white, white])
    np.testing.assert_allclose(luma_difference(frames), [0, 0, 1, 0], atol=1e-6)
    np.testing.assert_allclose(histogram_difference(frames), [0, 0, 1, 0], atol=1e-6)
    np.testing.assert_allclose(combine(luma_difference(frames), histogram_difference(frames)), [0, 0, 1, 0])


def test_streaming_scorer_equals_one_batch(frames):
    scorer = ChangeScorer()
    parts = [scorer.update(frames[:4]), scorer.update(frames[4:5]), scorer.update(frames[5:])]
    luma = np.concatenate([p[0] for p in parts])
    hist = np.concatenate([p[1] for p in parts])
    np.testing.assert_array_equal(luma, luma_difference(frames))
    np.testing.assert_array_equal(hist, histogram_difference(frames))
    assert luma[0] == 0 and hist[0] == 0


def test_scores_reject_wrong_input(frames):
    with pytest.raises(ConfigError, match="uint8 RGB"):
        luma_difference(frames.astype(np.float32))
    with pytest.raises(ConfigError, match="previous frame"):
        luma_difference(frames, frames[0, :5])
    with pytest.raises(ConfigError, match="bins"):
        histogram_difference(frames, bins=1)
