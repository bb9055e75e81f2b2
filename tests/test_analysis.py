"""The analysis pass: cuts as PySceneDetect finds them, scores, thumbnails, cache."""

from __future__ import annotations

import numpy as np
import pytest
import scenedetect

from framepick import AnalysisConfig, analyze, cache, sample_video
from framepick.errors import ConfigError, VideoError
from helpers import BIKES_CUTS, SAMPLE_CUTS
from videos import write_video


def test_bikes_cuts_equal_pyscenedetect(bikes):
    standalone = [start.frame_num for start, _ in scenedetect.detect(str(bikes), scenedetect.AdaptiveDetector())]
    analysis = analyze(bikes)
    assert analysis.cuts.tolist() == standalone[1:] == BIKES_CUTS
    np.testing.assert_array_equal(analysis.scenes[:, 1], [*BIKES_CUTS, 250])


@pytest.mark.slow
def test_backends_give_the_same_cuts_on_real_clips(bikes):
    # the analysis decodes with the deblocking filter on, as decord does: no drift through the
    # GOP that made keyframes look like changes (the sample had a false cut at its keyframe 139);
    # the sample's fade-in (frames 0-45) is a transition, not a cut at 31 as the detector had it
    for path, cuts in ((bikes, BIKES_CUTS), (sample_video(), SAMPLE_CUTS)):
        by_backend = [analyze(path, backend=backend, cache=False).cuts.tolist() for backend in ("pyav", "decord")]
        assert by_backend == [cuts, cuts]


@pytest.mark.parametrize("backend", ["pyav", "decord"])
def test_generated_cuts_found_within_one_frame(cut_video, backend):
    path, cuts = cut_video
    analysis = analyze(path, backend=backend)
    assert analysis.decoder == backend
    assert len(analysis.cuts) == len(cuts)
    assert np.all(np.abs(analysis.cuts - cuts) <= 1)


@pytest.mark.parametrize(
    "detector, cls",
    [
        ("adaptive", scenedetect.AdaptiveDetector),
        ("content", scenedetect.ContentDetector),
        ("histogram", scenedetect.HistogramDetector),
        ("hash", scenedetect.HashDetector),
    ],
)
def test_every_detector_agrees_with_pyscenedetect_alone(cut_video, detector, cls):
    path, _ = cut_video
    params = {"min_scene_len": 5}
    standalone = [start.frame_num for start, _ in scenedetect.detect(str(path), cls(**params))][1:]
    assert analyze(path, detector=detector, detector_params=params).cuts.tolist() == standalone


def test_result_arrays_describe_the_video(cut_video):
    path, cuts = cut_video
    analysis = analyze(path, reference_only=False)  # every frame decoded and scored
    info = analysis.info
    assert (info.frames, info.fps, info.duration_s) == (125, 25.0, pytest.approx(5.0))
    np.testing.assert_array_equal(analysis.score_indices, np.arange(125))
    assert analysis.score.dtype == np.float32 and analysis.score[0] == 0
    # the score peaks exactly at the cuts and stays low elsewhere
    assert sorted(np.argsort(analysis.score)[-3:]) == cuts
    assert analysis.score[cuts].min() > 5 * np.median(analysis.score)
    np.testing.assert_array_equal(analysis.scenes, [[0, 30], [30, 50], [50, 85], [85, 125]])
    np.testing.assert_allclose(analysis.scene_times_s, [[0, 1.2], [1.2, 2.0], [2.0, 3.4], [3.4, 5.0]])
    # one thumbnail per second, 64 px on the longer side
    np.testing.assert_array_equal(analysis.thumb_indices, [0, 25, 50, 75, 100])
    assert analysis.thumbs.shape == (5, 38, 64, 3)


def test_analysis_rate_subsamples_scores_but_times_every_frame(cut_video):
    analysis = analyze(cut_video[0], rate_fps=5.0, reference_only=False)
    np.testing.assert_array_equal(analysis.score_indices, np.arange(0, 125, 5))
    assert len(analysis.frame_times_s) == 125
    # cuts are reported at the first analysed frame of the new scene
    assert analysis.cuts.tolist() == [30, 50, 85]


def test_scores_are_looked_up_by_frame_index(cut_video):
    """``score[i]`` is analysed frame ``score_indices[i]`` 's; ``score_at`` takes frame indices: a
    frame gets the change measured across the stretch it lies in."""
    analysis = analyze(cut_video[0], rate_fps=5.0, reference_only=False)
    np.testing.assert_array_equal(analysis.score_at(analysis.score_indices), analysis.score)
    at_cut = analysis.score_at(np.arange(46, 51))  # analysed frames 45 and 50; the cut is at 50
    np.testing.assert_array_equal(at_cut, np.full(5, analysis.score[10], np.float32))
    assert analysis.score[10] > 0.5 and analysis.score_at(124) == 0
    np.testing.assert_array_equal(analysis.score_at(np.arange(6), "luma_diff"),
                                  analysis.luma_diff[[0, 1, 1, 1, 1, 1]])
    with pytest.raises(ValueError, match="measure"):
        analysis.score_at(3, "colour")


def test_variable_frame_rate_duration(vfr_video):
    path, times = vfr_video
    analysis = analyze(path)
    np.testing.assert_allclose(analysis.frame_times_s, times, atol=1e-3)
    assert analysis.info.duration_s == pytest.approx(times[-1] + 0.08, abs=1e-3)


def test_cache_is_reused_and_keyed_by_settings(copy_of, cut_video, tmp_path):
    path = copy_of(cut_video[0])
    first = analyze(path)
    again = analyze(path)
    assert again.elapsed_s == first.elapsed_s  # loaded, not recomputed
    np.testing.assert_array_equal(again.score, first.score)
    assert again.info == first.info and again.config == first.config
    assert cache.cache_path(path, first.config).parent == tmp_path / "cache"
    other = analyze(path, size=64)
    assert other.thumbs.shape == first.thumbs.shape and other.elapsed_s != first.elapsed_s


def test_stale_or_corrupt_cache_is_recomputed(copy_of, cut_video):
    path = copy_of(cut_video[0])
    first = analyze(path)
    target = cache.cache_path(path, first.config)
    target.write_bytes(target.read_bytes()[:100])
    assert cache.load(path, first.config) is None
    second = analyze(path)
    np.testing.assert_array_equal(second.score, first.score)
    # a changed file (new mtime and size) never uses the old entry
    write_video(path, [10, 10])
    assert analyze(path).info.frames == 20


def test_a_cache_that_cannot_be_written_is_a_warning(cut_video, tmp_path):
    (tmp_path / "cache").write_text("a file where the cache folder should be")
    with pytest.warns(cache.CacheWarning, match="the analysis is not cached"):
        analysis = analyze(cut_video[0])
    assert analysis.cuts.tolist() == cut_video[1]


def test_a_tampered_cache_file_with_a_valid_header_is_recomputed(copy_of, cut_video):
    path = copy_of(cut_video[0])
    first = analyze(path)
    target = cache.cache_path(path, first.config)
    with np.load(target) as data:
        arrays = {name: data[name] for name in data.files}
    arrays["scenes"] = np.array([[0, 10**6]])  # beyond the video: select would index past its end
    np.savez(target, **arrays)
    assert cache.load(path, first.config) is None
    np.testing.assert_array_equal(analyze(path).scenes, first.scenes)


def test_no_cache_leaves_no_file(cut_video, tmp_path):
    analyze(cut_video[0], cache=False)
    assert not (tmp_path / "cache").exists()


def test_bad_settings(cut_video):
    with pytest.raises(ConfigError, match="rate_fps"):
        analyze(cut_video[0], rate_fps=-1)
    with pytest.raises(ConfigError, match="unknown backend"):
        AnalysisConfig(backend="opencv")
    with pytest.raises(ConfigError, match="bad parameters for the content detector"):
        analyze(cut_video[0], detector="content", detector_params={"no_such": 1})


@pytest.mark.parametrize("kind", ["missing", "not a video", "audio-only", "truncated", "zero frames"])
@pytest.mark.parametrize("backend", ["pyav", "decord"])
def test_bad_videos(bad_videos, kind, backend):
    with pytest.raises(VideoError, match=str(bad_videos[kind])):
        analyze(bad_videos[kind], backend=backend)


def test_truncated_stream_is_an_error_not_a_fallback(bad_videos):
    # the Matroska header declares 1.6 s; the data stop after about a third of it
    with pytest.raises(VideoError, match=r"truncated: data end at 0\.\d+ s but the file declares 1\.60 s"):
        analyze(bad_videos["truncated mkv"])


@pytest.mark.parametrize("reference_only", [True, False])
def test_the_analysis_is_the_same_whether_gops_are_decoded_side_by_side(tmp_path, reference_only):
    """Two threads decode a file of closed GOPs side by side; one decodes it front to back."""
    path = tmp_path / "gops.mp4"
    cuts = write_video(path, [45, 30, 60, 25, 40], gop=15)
    one, two = (analyze(path, cache=False, threads=threads, reference_only=reference_only) for threads in (1, 2))
    assert one.cuts.tolist() == two.cuts.tolist() == cuts
    for name in ("frame_times_s", "score_indices", "score", "luma_diff", "hist_diff", "scenes", "thumb_indices",
                 "thumbs", "transitions"):
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name))
