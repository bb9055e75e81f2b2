"""Segment-parallel analysis equals the single pass, exactly."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from framepick.analysis import analyze
from framepick.config import AnalysisConfig
from framepick.errors import ConfigError
from framepick.segments import (
    SegmentMismatch,
    analyze_parallel,
    analyze_segment,
    merge_segments,
    plan_segments,
    splittable,
)
from videos import write_joined, write_repeated, write_video

EVERY_FRAME = AnalysisConfig(reference_only=False)  # what segments split (not the default)

ARRAYS = ("frame_times_s", "score_indices", "score", "luma_diff", "hist_diff", "scenes", "thumb_indices", "thumbs",
          "transitions", "transition_kinds", "state_changes", "state_strengths")


@pytest.fixture(scope="module")
def long_cuts(tmp_path_factory):
    """40 scenes of 60 frames (cuts every 2.4 s at 25 fps), a keyframe every 30 frames."""
    path = tmp_path_factory.mktemp("segments") / "long_cuts.mp4"
    write_video(path, [60] * 40, gop=30)
    return path


def assert_same_analysis(merged, single):
    assert merged.info == single.info
    assert merged.config == single.config and merged.decoder == single.decoder
    for name in ARRAYS:
        got, expected = getattr(merged, name), getattr(single, name)
        assert got.dtype == expected.dtype and got.shape == expected.shape, name
        np.testing.assert_array_equal(got, expected, err_msg=name)


def segmented(path, config, segment_s):
    segments = plan_segments(path, config, segment_s=segment_s)
    return segments, merge_segments(path, config, [analyze_segment(path, config, s) for s in segments[::-1]])


@pytest.mark.parametrize("detector, params", [
    ("adaptive", {}),
    ("adaptive", {"min_scene_len": 70, "window_width": 3}),  # the minimum length drops cuts
    ("content", {}),
    ("content", {"min_scene_len": 100}),  # the flash filter merges cuts
    ("histogram", {"min_scene_len": 90}),
    ("hash", {}),
])
@pytest.mark.parametrize("rate_fps", [None, 5.0])
@pytest.mark.slow  # 3 to 4 s each (test_parallel_in_processes_and_cached is the quick check)
def test_merged_equals_single_pass(long_cuts, detector, params, rate_fps):
    config = AnalysisConfig(reference_only=False, detector=detector, detector_params=params, rate_fps=rate_fps)
    single = analyze(long_cuts, config, cache=False)
    segments, merged = segmented(long_cuts, config, 14.0)
    assert len(segments) >= 5
    assert_same_analysis(merged, single)
    assert len(single.cuts) >= 5 or params.get("min_scene_len", 0) >= 100


def test_min_scene_len_is_exercised(long_cuts):
    # the filters above are not no-ops: they change the cuts of the single pass
    cuts = {length: analyze(long_cuts, AnalysisConfig(reference_only=False, detector="content",
                                                      detector_params={"min_scene_len": length}),
                            cache=False).cuts.tolist() for length in (15, 100)}
    assert cuts[15] == list(range(60, 2400, 60)) and cuts[100] != cuts[15]


@pytest.fixture(scope="module")
def other_videos(tmp_path_factory, bikes):
    """Each long enough for two segments after a warm-up (the step measure's reach, ~14 s)."""
    folder = tmp_path_factory.mktemp("segments")
    vfr, rotated, webm = folder / "vfr.mkv", folder / "rotated.mp4", folder / "vp9.webm"
    write_video(vfr, [60] * 10, frame_durations_ms=[40] * 300 + [80] * 300, gop=10)
    write_video(rotated, [60] * 14, rotation=90, gop=15)
    write_video(webm, [60] * 14, codec="libvpx-vp9", gop=15)
    return {"bikes": write_repeated(bikes, folder / "bikes3.mp4", 3), "vfr": vfr, "rotated": rotated, "vp9": webm}


@pytest.mark.parametrize("name", ["bikes", "vfr", "rotated", "vp9"])
def test_other_videos(other_videos, name):
    path = other_videos[name]
    config = AnalysisConfig(reference_only=False, thumb_fps=4.0)
    segments, merged = segmented(path, config, 12.0)
    assert len(segments) >= 2
    assert_same_analysis(merged, analyze(path, config, cache=False))


def test_segments_start_at_keyframes(long_cuts):
    config = EVERY_FRAME
    segments = plan_segments(long_cuts, config, segment_s=10.0)
    analysis = analyze(long_cuts, config)
    keyframe_times = analysis.frame_times_s[list(analysis.info.keyframes)]
    starts = [s.start_s for s in segments[1:]]
    assert segments[0].start_s is None and segments[-1].end_s is None
    assert [s.end_s for s in segments[:-1]] == starts
    assert all(start in keyframe_times for start in starts)
    assert np.all(np.diff(starts) >= 12.0) and len(segments) >= 5  # 96 s in pieces of 12 s or more
    assert all(s.seek_pts is not None for s in segments[1:])  # the warm-up starts at an earlier keyframe


def test_parallel_in_processes_and_cached(long_cuts):
    config = AnalysisConfig(reference_only=False, rate_fps=10.0)
    parallel = analyze_parallel(long_cuts, config, segment_s=20.0, workers=2)
    single = analyze(long_cuts, dataclasses.replace(config, threads=1), cache=False)
    assert_same_analysis(parallel, dataclasses.replace(single, config=parallel.config))
    assert analyze(long_cuts, config).elapsed_s == parallel.elapsed_s  # the cache holds the merged analysis


def test_parts_that_do_not_join_are_refused(long_cuts):
    config = EVERY_FRAME
    segments = plan_segments(long_cuts, config, segment_s=30.0)
    parts = [analyze_segment(long_cuts, config, s) for s in segments]
    changed = dataclasses.replace(parts[1], tail_measures=parts[1].tail_measures + np.float32(0.01))
    with pytest.raises(SegmentMismatch, match="segments 1 and 2: the pictures differ"):
        merge_segments(long_cuts, config, [parts[0], changed, *parts[2:]])
    shifted = dataclasses.replace(parts[2], times_s=parts[2].times_s + 0.001)
    with pytest.raises(SegmentMismatch, match="segments 1 and 2: frame times differ"):
        merge_segments(long_cuts, config, [parts[0], parts[1], shifted, *parts[3:]])
    with pytest.raises(SegmentMismatch, match="missing"):
        merge_segments(long_cuts, config, [parts[0], *parts[2:]])


def test_a_warmup_that_does_not_count_as_planned_is_refused(long_cuts):
    segment = plan_segments(long_cuts, EVERY_FRAME, segment_s=30.0)[1]
    assert segment.start_index == round(segment.start_s * 25) and 0 < segment.first_index < segment.start_index
    miscounted = dataclasses.replace(segment, first_index=segment.first_index + 1)
    with pytest.raises(SegmentMismatch, match="frames before the boundary"):
        analyze_segment(long_cuts, EVERY_FRAME, miscounted)


def test_settings_that_cannot_be_split(long_cuts):
    with pytest.raises(ConfigError, match="keyframes_only"):
        plan_segments(long_cuts, AnalysisConfig(reference_only=False, keyframes_only=True), segment_s=10.0)
    with pytest.raises(ConfigError, match="PyAV"):
        plan_segments(long_cuts, AnalysisConfig(reference_only=False, backend="decord"), segment_s=10.0)
    with pytest.raises(ConfigError, match="segment_s"):
        plan_segments(long_cuts, EVERY_FRAME, segment_s=0)
    with pytest.raises(ConfigError, match="reference_only analysis cannot be split"):
        plan_segments(long_cuts, AnalysisConfig(), segment_s=10.0)  # the default decodes reference frames
    assert splittable(EVERY_FRAME) and not splittable(AnalysisConfig())
    for config in (AnalysisConfig(keyframes_only=True), AnalysisConfig()):
        whole = analyze_parallel(long_cuts, config, segment_s=10.0, cache=False)  # one pass
        assert_same_analysis(whole, analyze(long_cuts, config, cache=False))


def test_joined_recordings_are_not_split(tmp_path):
    path = tmp_path / "restarted.ts"
    write_joined(path, [(160, 96), (160, 96)], frames_each=50, restart_timestamps=True)
    with pytest.raises(SegmentMismatch, match="timestamps are missing or go backwards"):
        plan_segments(path, EVERY_FRAME, segment_s=1.0)
