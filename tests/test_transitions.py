"""Gradual transitions: fades and dissolves found in the analysis pass, kept free of picks."""

from __future__ import annotations

import json

import av
import numpy as np
import pytest

from framepick import analyze, sample_video
from framepick.analysis import summarize
from framepick.config import AnalysisConfig
from framepick.score import ChangeScorer, blend_lag
from framepick.segments import analyze_segment, merge_segments, plan_segments
from framepick.select import select
from framepick.transitions import find_transitions
from videos import write_transitions_video


@pytest.fixture(scope="session")
def transitions_video(video_dir):
    path = video_dir / "transitions.mp4"
    return path, write_transitions_video(path)


def spans_of(analysis):
    return [(start, end, str(kind)) for (start, end), kind in zip(analysis.transitions.tolist(),
                                                                   analysis.transition_kinds)]


def assert_found(analysis, truth, *, tolerance=2):
    found = spans_of(analysis)
    assert [kind for *_, kind in found] == [kind for *_, kind in truth]
    for (start, end, _), (true_start, true_end, _) in zip(found, truth):
        assert abs(start - true_start) <= tolerance and abs(end - true_end) <= tolerance, (found, truth)


@pytest.mark.parametrize("backend", ["pyav", "decord"])
def test_fades_and_dissolves_found_with_kind_and_span(transitions_video, backend):
    path, truth = transitions_video
    analysis = analyze(path, backend=backend, cache=False)
    assert_found(analysis, truth["transitions"])
    # a title fading in over a shot and an exposure ramp are not transitions
    for start, end in truth["distractors"]:
        assert not analysis.in_transition()[start:end].any()
    # scene boundaries: the dissolve's middle, the hard cut, where the fade out meets the fade in
    assert np.all(np.abs(analysis.cuts - truth["cuts"]) <= 2)


def test_the_samples_fade_in_is_a_transition_not_a_cut():
    analysis = analyze(sample_video(), cache=False)
    assert spans_of(analysis) == [(0, 48, "fade_in")]  # black to frame 8, luma ramps up to frame 47
    assert analysis.cuts.tolist() == [283, 376, 551]
    summary = json.loads(json.dumps(summarize(analysis)))
    assert summary["transitions"] == [{"kind": "fade_in", "frames": [0, 48], "times_s": [0.0, 2.0]}]


@pytest.fixture(scope="session")
def real_footage_video(video_dir, bikes):
    """Real shots with motion: bikes 76-136 dissolving into the sample's shot at 380 over frames
    51-70, which fades out to black over 171-190; black to 200; bikes 137- fades in over 201-220."""
    def decoded(path, start, stop):
        with av.open(str(path)) as container:
            frames = [frame.to_ndarray(format="rgb24", width=320, height=176)
                      for index, frame in zip(range(stop), container.decode(video=0)) if index >= start]
        return np.asarray(frames, dtype=np.float32)

    first, second, third = decoded(bikes, 76, 137), decoded(sample_video(), 380, 520), decoded(bikes, 137, 187)
    weights = ((np.arange(20) + 0.5) / 20)[:, None, None, None]
    parts = [first[:51], (1 - weights) * first[41:61] + weights * second[:20], second[20:120],
             second[120:140] * (1 - weights), np.zeros((10, *first.shape[1:]), np.float32),
             third[:20] * weights, third[20:]]
    path = video_dir / "real_dissolve.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 320, 176, "yuv420p"
        for pixels in np.concatenate(parts):
            frame = av.VideoFrame.from_ndarray(np.clip(pixels, 0, 255).astype(np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path, [(51, 71, "dissolve"), (171, 196, "fade_out"), (196, 221, "fade_in")]


@pytest.mark.slow  # its video takes 2 to 3 s to make
def test_transitions_between_real_shots_in_motion(real_footage_video, bikes):
    path, truth = real_footage_video
    every_frame = analyze(path, reference_only=False, cache=False)
    assert_found(every_frame, truth, tolerance=1)
    assert spans_of(every_frame)[0] == truth[0]  # the dissolve's faint first and last frames included
    # from reference frames only, a transition's ends fall on decoded frames: one frame further off
    assert_found(analyze(path, reference_only=True, cache=False), truth, tolerance=2)
    assert len(analyze(bikes, cache=False).transitions) == 0  # hard cuts and motion only


def scored(frames, fps=25.0):
    lag = blend_lag(fps)
    measures = ChangeScorer(lag=lag).update(np.clip(frames, 0, 255).astype(np.uint8))
    return find_transitions(measures, np.arange(len(frames)), lag=lag, total_frames=len(frames))


def test_a_long_flat_stretch_is_no_fade_and_a_fade_takes_in_one_second_of_it():
    """12 s of a dark, flickering picture (contrast below ``FLAT_STD``), a 0.8 s fade in, a shot;
    then the shot brightens from black over 8 s (a slow gradient)."""
    rng = np.random.default_rng(4)
    shot = np.repeat(rng.uniform(0, 255, (24, 32)), 4, axis=0).repeat(4, axis=1)
    dark = 20 + rng.normal(0, 2, (300, 96, 128))
    ramp = np.clip((np.arange(100) - 0.5) / 20, 0, 1)[:, None, None] * shot
    spans, kinds = scored(np.repeat(np.concatenate([dark, ramp])[..., None], 3, axis=3))
    assert kinds.tolist() == ["fade_in"] and 300 - 25 <= spans[0, 0] < 300 and spans[0, 1] <= 322
    slow = np.linspace(0, 1, 200)[:, None, None] * shot
    assert len(scored(np.repeat(np.concatenate([dark[:50], slow])[..., None], 3, axis=3))[0]) == 0


def test_pans_noise_and_lighting_are_not_transitions():
    rng = np.random.default_rng(2)
    texture = np.repeat(rng.uniform(0, 255, (24, 64)), 4, axis=0).repeat(4, axis=1)  # 96 x 256, blocky
    texture = (texture + np.roll(texture, 2, axis=1)) / 2
    pan = np.stack([texture[:, k // 3: k // 3 + 128] for k in range(150)])  # a third of a pixel a frame
    still = texture[:, :128] + rng.normal(0, 3, (150, 96, 128))  # sensor noise on a still
    lighting = texture[:, :128] * np.linspace(0.6, 1.2, 150)[:, None, None]  # a slow exposure ramp
    for frames in (pan, still, lighting):
        spans, kinds = scored(np.repeat(frames[..., None], 3, axis=3))
        assert len(spans) == 0, (spans, kinds)


def test_a_cross_fade_between_pictures_is_a_dissolve():
    rng = np.random.default_rng(3)
    one, two = (np.repeat(rng.uniform(0, 255, (12, 16, 3)), 8, axis=0).repeat(8, axis=1) for _ in range(2))
    weights = np.clip((np.arange(100) - 40 + 0.5) / 20, 0, 1)[:, None, None, None]
    frames = (1 - weights) * one + weights * two + rng.normal(0, 2, (100, 96, 128, 3))
    spans, kinds = scored(frames)
    assert kinds.tolist() == ["dissolve"]
    assert abs(spans[0, 0] - 40) <= 2 and abs(spans[0, 1] - 60) <= 2


@pytest.mark.parametrize("strategy", ["adaptive", "scenes", "novelty"])
@pytest.mark.parametrize("frames", [4, 8, 16, 32])
def test_no_pick_inside_a_transition(transitions_video, strategy, frames):
    analysis = analyze(transitions_video[0])
    picks = select(analysis, strategy, frames=frames).indices
    assert not analysis.in_transition()[picks].any(), (picks, spans_of(analysis))


def test_uniform_keeps_qwen_indices_through_transitions(transitions_video):
    analysis = analyze(transitions_video[0])
    assert select(analysis, "uniform", frames=8).indices.tolist() == [0, 36, 71, 107, 142, 178, 213, 249]


@pytest.mark.slow
def test_segments_join_transitions_across_boundaries(video_dir):
    path = video_dir / "transitions_x8.mp4"
    write_transitions_video(path, repeats=8)
    config = AnalysisConfig(reference_only=False)  # what segments split
    single = analyze(path, config, cache=False)
    segments = plan_segments(path, config, segment_s=3.0)
    merged = merge_segments(path, config, [analyze_segment(path, config, s) for s in segments])
    assert len(segments) >= 5 and len(single.transitions) == 32  # segments >= ~14 s apart (the warm-up)
    np.testing.assert_array_equal(merged.transitions, single.transitions)
    np.testing.assert_array_equal(merged.transition_kinds, single.transition_kinds)
    np.testing.assert_array_equal(merged.scenes, single.scenes)
