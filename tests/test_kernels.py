"""Each compiled kernel against a plain NumPy reference."""

from __future__ import annotations

import numpy as np
import pytest

import framepick.score
from framepick import _kernels
from framepick.errors import ConfigError
from framepick.score import MEASURES, ChangeScorer, histogram_difference, local_difference, luma_difference


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


def naive_blend_sums(planes, lag, first, grid):
    """Per-block sums of ``d * d``, ``d * e``, ``e * e`` with ``d = end - start``, ``e = middle - start``."""
    planes = planes.astype(np.float64)
    h, w = planes.shape[1:]
    rows = [(by * h // grid, (by + 1) * h // grid) for by in range(grid)]
    cols = [(bx * w // grid, (bx + 1) * w // grid) for bx in range(grid)]
    out = []
    for j in range(first, len(planes)):
        d, e = planes[j] - planes[j - 2 * lag], planes[j - lag] - planes[j - 2 * lag]
        out.append([[(x * y)[y0:y1, x0:x1].sum() for y0, y1 in rows for x0, x1 in cols]
                    for x, y in ((d, d), (d, e), (e, e))])
    return np.asarray(out)


def naive_blend_fit(planes, lag, first, keep_share):
    """The blend fit over all pixels, then over the ``keep_share`` best fitting of an 8x8 grid."""
    planes = planes.astype(np.float64)
    h, w = planes.shape[1:]
    row_block = np.searchsorted(np.arange(1, 9) * h // 8, np.arange(h), side="right")
    col_block = np.searchsorted(np.arange(1, 9) * w // 8, np.arange(w), side="right")
    labels = row_block[:, None] * 8 + col_block[None, :]
    rows = []
    for j in range(first, len(planes)):
        d, e = planes[j] - planes[j - 2 * lag], planes[j - lag] - planes[j - 2 * lag]
        alpha = (d * e).sum() / (d * d).sum() if (d * d).sum() > 0 else 0.5
        block_residual = np.bincount(labels.ravel(), ((e - alpha * d) ** 2).ravel(), minlength=64)
        kept = np.isin(labels, np.argsort(block_residual, kind="stable")[:round(64 * keep_share)])
        alpha = (d * e)[kept].sum() / (d * d)[kept].sum() if (d * d)[kept].sum() > 0 else 0.5
        rows.append([alpha, np.sqrt(np.mean((e - alpha * d)[kept] ** 2)), np.sqrt(np.mean(d[kept] ** 2))])
    return np.asarray(rows)


def naive_total_variation(hists, previous):
    everything = np.concatenate([previous[None], hists])
    return 0.5 * np.abs(np.diff(everything, axis=0)).sum(axis=1)


def naive_block_diffs(planes, references, grid, min_std):
    def standardised(stack):
        stack = stack.astype(np.float64)
        means = stack.mean(axis=(1, 2), keepdims=True)
        return (stack - means) / np.maximum(stack.std(axis=(1, 2), keepdims=True), min_std)

    change = np.abs(standardised(planes) - standardised(references))
    h, w = planes.shape[1:]
    rows = [(by * h // grid, (by + 1) * h // grid) for by in range(grid)]
    cols = [(bx * w // grid, (bx + 1) * w // grid) for bx in range(grid)]
    return np.stack([[change[i, y0:y1, x0:x1].mean() for y0, y1 in rows for x0, x1 in cols]
                     for i in range(len(planes))])


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


def test_plane_moments_match_numpy(frames):
    planes = np.ascontiguousarray(frames[..., 1])
    got = _kernels.plane_moments(planes)
    np.testing.assert_allclose(got[:, 0], planes.mean(axis=(1, 2)), rtol=1e-12)
    np.testing.assert_allclose(got[:, 1], planes.std(axis=(1, 2)), rtol=1e-9)


@pytest.mark.parametrize(("grid", "min_std"), [(1, 8.0), (4, 8.0), (8, 200.0)])
def test_block_diffs_match_numpy(frames, grid, min_std):
    planes = np.ascontiguousarray(frames[..., 2])
    references = np.ascontiguousarray(planes[::-1])
    got = _kernels.block_diffs(planes, references, grid, min_std)
    np.testing.assert_allclose(got, naive_block_diffs(planes, references, grid, min_std), rtol=1e-5)


@pytest.mark.parametrize(("lag", "first", "grid"), [(1, 2, 1), (2, 4, 8), (3, 7, 4)])
def test_blend_sums_match_numpy(frames, lag, first, grid):
    planes = np.ascontiguousarray(frames[..., 0])
    got = _kernels.blend_sums(planes, lag, first, grid)
    np.testing.assert_allclose(got, naive_blend_sums(planes, lag, first, grid), rtol=1e-12)


@pytest.fixture
def blend_planes():
    """Planes 0-8 dissolve linearly between two random pictures; an object moves over a
    sixteenth of the picture throughout; planes 9-13 show a pan."""
    rng = np.random.default_rng(11)
    start, end = rng.uniform(0, 255, (2, 64, 64))
    planes = [start + (end - start) * k / 8 for k in range(9)]
    for plane in planes:
        plane[:16, :16] = rng.uniform(0, 255, (16, 16))  # the moving object: unrelated every frame
    texture = rng.uniform(0, 255, (64, 128))
    planes += [texture[:, 4 * k:4 * k + 64] for k in range(5)]
    return np.ascontiguousarray(np.stack(planes).round().astype(np.uint8))


def test_blend_fit_matches_numpy_and_ignores_local_motion(blend_planes):
    sums = _kernels.blend_sums(blend_planes, 2, 4, framepick.score.GRID)
    got = framepick.score.blend_fit(sums, framepick.score.block_pixels(64, 64))
    np.testing.assert_allclose(got, naive_blend_fit(blend_planes, 2, 4, framepick.score.BLEND_SHARE), rtol=1e-9)
    alpha, residual, span = got.T
    dissolving, panning = slice(0, 5), slice(9, 10)  # windows ending at planes 4-8, and at 13
    np.testing.assert_allclose(alpha[dissolving], 0.5, atol=0.01)
    assert np.all(residual[dissolving] < 0.05 * span[dissolving])  # the moving corner is left out
    assert np.all(residual[panning] > 0.4 * span[panning])
    everywhere = framepick.score.blend_fit(sums, framepick.score.block_pixels(64, 64), share=1.0)
    assert np.all(everywhere[dissolving, 1] > 0.2 * everywhere[dissolving, 2])  # what the corner costs


@pytest.fixture
def still():
    rng = np.random.default_rng(3)
    return rng.integers(40, 216, size=(96, 128, 3), dtype=np.uint8)


def test_local_difference_ignores_fades_and_exposure(still):
    fade = [(still * level).astype(np.uint8) for level in np.linspace(1.0, 0.3, 8)]
    drift = [np.clip(still.astype(int) + offset, 0, 255).astype(np.uint8) for offset in (0, 10, 20, 30)]
    assert local_difference(np.stack(fade)).max() < 0.02
    assert local_difference(np.stack(drift)).max() < 0.02
    # the same fade moves every pixel's level a lot
    assert luma_difference(np.stack(fade))[1:].min() > 0.02


def test_local_difference_sees_a_sixteenth_above_noise(still):
    rng = np.random.default_rng(4)

    def noisy(frame):
        return np.clip(frame + rng.normal(0, 3, frame.shape), 0, 255).astype(np.uint8)

    overlay = still.copy()
    overlay[30:54, 40:72] = rng.integers(0, 256, size=(24, 32, 3), dtype=np.uint8)  # 1/16 of the area
    quiet = local_difference(np.stack([noisy(still) for _ in range(6)]))[1:]
    event = local_difference(np.stack([noisy(still), noisy(overlay)]))[1]
    assert event > 0.4 > 10 * quiet.max()
    # the global measure dilutes the same event sixteenfold, into the noise's range
    assert luma_difference(np.stack([noisy(still), noisy(overlay)]))[1] < 0.05


def test_scores_of_known_frames():
    black = np.zeros((1, 4, 4, 3), np.uint8)
    white = np.full((1, 4, 4, 3), 255, np.uint8)
    frames = np.concatenate([black, black, white, white])
    np.testing.assert_allclose(luma_difference(frames), [0, 0, 1, 0], atol=1e-6)
    np.testing.assert_allclose(histogram_difference(frames), [0, 0, 1, 0], atol=1e-6)
    scene = np.random.default_rng(5).integers(0, 256, size=(1, 16, 16, 3), dtype=np.uint8)
    inverted = 255 - scene
    np.testing.assert_allclose(local_difference(np.concatenate([scene, scene, inverted])), [0, 0, 1])


def test_streaming_scorer_equals_one_batch(frames):
    scorer = ChangeScorer(lag=2)
    streamed = np.concatenate([scorer.update(frames[:3]), scorer.update(frames[3:4]), scorer.update(frames[4:])])
    batch = ChangeScorer(lag=2).update(frames)
    np.testing.assert_array_equal(streamed, batch)
    local, luma, hist = (streamed[:, MEASURES.index(name)] for name in ("score", "luma_diff", "hist_diff"))
    np.testing.assert_array_equal(local, local_difference(frames))
    np.testing.assert_array_equal(luma, luma_difference(frames))
    np.testing.assert_array_equal(hist, histogram_difference(frames))
    assert local[0] == 0 and luma[0] == 0 and hist[0] == 0
    planes = _kernels.luma_planes(frames)
    np.testing.assert_allclose(streamed[:, MEASURES.index("contrast")], planes.std(axis=(1, 2)), rtol=1e-5)
    blend = streamed[:, [MEASURES.index(name) for name in ("blend_alpha", "blend_residual", "blend_span")]]
    assert np.isnan(blend[:4]).all()  # no full window before the fifth frame
    np.testing.assert_allclose(blend[4:], naive_blend_fit(planes, 2, 4, framepick.score.BLEND_SHARE), rtol=1e-5)


def test_scores_reject_wrong_input(frames):
    with pytest.raises(ConfigError, match="uint8 RGB"):
        luma_difference(frames.astype(np.float32))
    with pytest.raises(ConfigError, match="previous frame"):
        luma_difference(frames, frames[0, :5])
    with pytest.raises(ConfigError, match="bins"):
        histogram_difference(frames, bins=1)


def naive_cell_means(planes, cells):
    h, w = planes.shape[1:]
    rows = [(cy * h // cells, max((cy + 1) * h // cells, cy * h // cells + 1)) for cy in range(cells)]
    cols = [(cx * w // cells, max((cx + 1) * w // cells, cx * w // cells + 1)) for cx in range(cells)]
    return np.asarray([[[plane[y0:y1, x0:x1].astype(np.float64).mean() for x0, x1 in cols] for y0, y1 in rows]
                       for plane in planes])


def naive_step_diffs(cells, third, first, grid):
    """Per-block mean absolute change of the cells across each third of the windows ending at ``first..``."""
    side = cells.shape[1] // grid
    out = []
    for j in range(first, len(cells)):
        points = [cells[j - 3 * third], cells[j - 2 * third], cells[j - third], cells[j]]
        out.append([np.abs(b - a).reshape(grid, side, grid, side).mean(axis=(1, 3)).ravel()
                    for a, b in zip(points, points[1:])])
    return np.asarray(out)


@pytest.mark.parametrize("shape", [(2, 36, 64), (1, 16, 30), (3, 100, 33)])  # tiny planes repeat rows
def test_cell_means_equal_numpy(shape):
    planes = np.random.default_rng(7).integers(0, 256, shape, dtype=np.uint8)
    np.testing.assert_allclose(_kernels.cell_means(planes, 32), naive_cell_means(planes, 32), rtol=1e-6)


def test_step_diffs_equal_numpy():
    cells = np.random.default_rng(8).normal(size=(14, 16, 16)).astype(np.float32)
    np.testing.assert_allclose(_kernels.step_diffs(cells, 3, 9, 4), naive_step_diffs(cells, 3, 9, 4), rtol=1e-5)


def _steps(frames, **scorer):
    measures = ChangeScorer(**scorer).update(frames)
    return measures[:, MEASURES.index("step")], measures[:, MEASURES.index("step_share")]


def test_a_lasting_change_is_a_step_and_a_passing_one_is_not(still):
    """Twelve frames of a still, then a sixteenth of it changes (for good, or for two frames)."""
    changed = still.copy()
    changed[:24, :32] = 255 - changed[:24, :32]
    lasting = np.stack([still] * 12 + [changed] * 12)
    passing = np.stack([still] * 12 + [changed] * 2 + [still] * 10)
    step, share = _steps(lasting, third=3, normal=4)
    assert np.isnan(step[:9]).all()
    # the change at frame 12 is in the middle third of the windows ending at frames 15 to 17
    assert np.flatnonzero(step > 0.2).tolist() == [15, 16, 17]
    np.testing.assert_allclose(share[15:18], 4 / 64)  # 2 x 2 of the 8 x 8 blocks
    assert np.nanmax(_steps(passing, third=3, normal=4)[0]) < 0.01


def test_steady_motion_and_a_busy_corner_are_no_step(still):
    """A pan, and a corner that keeps changing, then a lasting change in that corner alone."""
    rng = np.random.default_rng(9)
    pan = np.stack([np.roll(still, 3 * k, axis=1) for k in range(24)])
    assert np.nanmax(_steps(pan, third=3, normal=4)[0]) < 0.05
    busy = np.stack([still] * 40)
    busy[:, :24, :32] = rng.integers(0, 256, (40, 24, 32, 3), dtype=np.uint8)  # noise in one corner
    assert np.nanmax(_steps(busy, third=3, normal=8)[0]) < 0.05
    busy[30:, 48:72, 64:96] = 0  # a lasting change elsewhere
    assert np.nanmax(_steps(busy, third=3, normal=8)[0][30:40]) > 0.2


def test_streamed_steps_equal_one_batch(frames):
    """The step window and each block's normal carried across chunks of any size."""
    scorer = ChangeScorer(lag=2, third=1, normal=3)
    streamed = np.concatenate([scorer.update(frames[:2]), scorer.update(frames[2:3]), scorer.update(frames[3:])])
    np.testing.assert_array_equal(streamed, ChangeScorer(lag=2, third=1, normal=3).update(frames))
    assert np.isnan(streamed[:3, MEASURES.index("step")]).all() and not np.isnan(streamed[3:, -2:]).any()


def pair_held_states(state_of):
    """States holding both picks of a Qwen pair (picks 2k and 2k + 1), counted directly."""
    return len({a for a, b in zip(state_of[::2], state_of[1::2], strict=False) if a == b})


def naive_cover_states(picks, state_of, held, order, targets, partners, max_gap, length, keep_pairs):
    picks, state_of, held = list(picks), list(state_of), held.copy()
    start_pairs = pair_held_states(state_of)

    def best_move(count, frames):
        """(gap, -gain, i) of the best allowed move of picks i..i+count-1 to ``frames``, or None."""
        ranks = []
        for i in range(len(picks) - count + 1):
            donors = state_of[i:i + count]
            if any(held[d] - donors.count(d) < 1 for d in donors):
                continue
            before = picks[i - 1] if i else -1
            after = picks[i + count] if i + count < len(picks) else length
            inside = before < frames[0] and frames[-1] < after
            gap = max(frames[0] - before, after - frames[-1]) if inside else after - before
            kept, kept_states = picks[:i] + picks[i + count:], state_of[:i] + state_of[i + count:]
            at = int(np.searchsorted(kept, frames[0]))
            moved = kept_states[:at] + [state] * count + kept_states[at:]
            gain = pair_held_states(moved) - pair_held_states(state_of) if keep_pairs else 0
            if gap <= max_gap and (not keep_pairs or pair_held_states(moved) >= start_pairs):
                ranks.append((gap, -gain, i))
        return min(ranks, default=None)

    again = True
    while again:  # passes while one gains a pair
        again = False
        for state in (s for s in order if not held[s]):
            frames = [targets[state]]
            move = best_move(1, frames)
            if move is None and keep_pairs and partners[state] >= 0:
                frames = sorted([targets[state], partners[state]])
                move = best_move(2, frames)
            if move is not None:
                i, again = move[2], again or move[1] < 0
                for donor in state_of[i:i + len(frames)]:
                    held[donor] -= 1
                del picks[i:i + len(frames)], state_of[i:i + len(frames)]
                held[state] += len(frames)
                at = int(np.searchsorted(picks, frames[0]))
                picks[at:at] = frames
                state_of[at:at] = [state] * len(frames)
    return np.asarray(picks)


@pytest.mark.parametrize("keep_pairs", [False, True])
@pytest.mark.parametrize("seed", range(5))
def test_cover_states_equals_python(seed, keep_pairs):
    rng = np.random.default_rng(seed)
    length = 5000
    bounds = np.unique(rng.integers(1, length, 80))
    starts = np.concatenate([[0], bounds])
    ends = np.append(bounds, length)
    picks = np.unique(rng.integers(0, length, 40))
    state_of = np.searchsorted(starts, picks, side="right") - 1
    held = np.bincount(state_of, minlength=len(starts))
    order = rng.permutation(len(starts))
    targets = (starts + ends) // 2
    partners = np.where(ends - starts >= 4, targets + 1, -1)
    for max_gap in (150.0, 400.0, np.inf):
        got = _kernels.cover_states(picks, state_of, held, order, targets, partners, max_gap, length, keep_pairs)
        want = naive_cover_states(picks, state_of, held, order, targets, partners, max_gap, length, keep_pairs)
        np.testing.assert_array_equal(got, want)
        assert np.all(np.diff(got) > 0) and len(got) == len(picks)
    assert not np.array_equal(got, picks)  # frames were moved


@pytest.mark.parametrize("seed", range(5))
def test_cover_states_keeps_qwen_pairs(seed):
    """With ``keep_pairs`` the states holding a Qwen pair never drop, and they do without it."""
    rng = np.random.default_rng(seed)
    starts = np.concatenate([[0], np.unique(rng.integers(1, 3000, 60))])
    picks = np.unique(rng.integers(0, 3000, 40))
    state_of = np.searchsorted(starts, picks, side="right") - 1
    held = np.bincount(state_of, minlength=len(starts))
    targets = (starts + np.append(starts[1:], 3000)) // 2
    partners = np.full(len(starts), -1)
    order = rng.permutation(len(starts))
    pairs = [pair_held_states(list(np.searchsorted(starts, chosen, side="right") - 1)) for chosen in
             (picks, *(_kernels.cover_states(picks, state_of, held, order, targets, partners, np.inf, 3000, keep)
                       for keep in (True, False)))]
    assert pairs[1] >= pairs[0] > pairs[2]
