"""The hand-off to Qwen, checked against the real qwen-vl-utils and transformers (CPU torch)."""

from __future__ import annotations

import json
import os
from fractions import Fraction

import numpy as np
import pytest
from PIL import Image

from framepick import analyze, qwen, sample_video
from framepick.config import JobConfig, OutputConfig
from framepick.pipeline import sample
from framepick.select import select
from videos import write_video

# torch, transformers and qwen-vl-utils take seconds to load: they are imported by the tests that
# use them (not at collection), and those tests are marked slow; the others here are quick


@pytest.fixture(scope="module")
def qwen_vl_utils():
    """qwen-vl-utils, reading videos with decord: it reads FORCE_QWENVL_VIDEO_READER once, when
    imported, so every test that loads it (itself or through framepick.qwen) takes this fixture."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FORCE_QWENVL_VIDEO_READER", os.environ.get("FORCE_QWENVL_VIDEO_READER", "decord"))
        import qwen_vl_utils
    return qwen_vl_utils


ELEMENTS = [
    {"fps": 2.0},
    {"nframes": 8},
    {"video_start": 2.0, "video_end": 8.0, "fps": 1.0},
    {"nframes": 6, "max_pixels": 150_000},
    {"fps": 0.1, "min_frames": 6, "max_frames": 10},
    {"nframes": 4, "resized_height": 200, "resized_width": 300},
    {"nframes": 4, "total_pixels": 2_000_000},
]


def qwen3_timestamps(metadata: dict) -> list[float]:
    """The ``<t seconds>`` of each temporal pair, as transformers' Qwen3-VL processor computes them."""
    from transformers.models.qwen3_vl.processing_qwen3_vl import Qwen3VLProcessor

    return Qwen3VLProcessor._calculate_timestamps(None, list(metadata["frames_indices"]), metadata["fps"], 2)


def pair_times(times_s) -> np.ndarray:
    return np.asarray(times_s, dtype=np.float64).reshape(-1, 2).mean(axis=1)


@pytest.mark.parametrize("element", ELEMENTS, ids=lambda e: ",".join(e))
@pytest.mark.parametrize("clip", ["bikes", "sample"])
@pytest.mark.slow
def test_uniform_fetch_video_is_qwen_vl_utils(qwen_vl_utils, bikes, clip, element):
    import torch

    ele = {"video": str(bikes if clip == "bikes" else sample_video()), **element}
    (theirs, their_meta), their_fps = qwen_vl_utils.fetch_video(dict(ele), return_video_metadata=True,
                                                               return_video_sample_fps=True)
    (ours, our_meta), our_fps = qwen.fetch_video(dict(ele), return_video_metadata=True, return_video_sample_fps=True)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype == torch.float32
    assert our_meta["frames_indices"] == their_meta["frames_indices"]
    assert our_meta["fps"] == pytest.approx(their_meta["fps"]) and our_fps == pytest.approx(their_fps)
    # decoded straight to the output size by FFmpeg's area filter, theirs by torchvision's
    # antialiased bicubic from the full frame: levels differ by ~1 on average
    difference = (ours - theirs).abs()
    assert difference.mean() < 2.0 and torch.quantile(difference.flatten()[::7], 0.99) <= 8.0


@pytest.mark.slow
def test_adaptive_times_reach_qwen3_true_and_not_through_a_frame_list(qwen_vl_utils, bikes, tmp_path):
    ele = {"video": str(bikes), "strategy": "adaptive", "nframes": 12, "pair_s": 0.5}
    frames, metadata = qwen.fetch_video(ele, return_video_metadata=True)
    analysis = analyze(bikes)
    picks = select(analysis, "adaptive", frames=12, pair_s=0.5).indices
    assert metadata["frames_indices"] == picks.tolist() and frames.shape[0] == 12
    true = pair_times(analysis.times_of(picks))
    np.testing.assert_allclose(qwen3_timestamps(metadata), true, atol=1e-9)
    # the same frames written out and read back by qwen-vl-utils as a list: evenly spaced fake times
    manifest = sample(bikes, "adaptive", out_dir=tmp_path, frames=12)
    inputs = qwen.from_manifest(manifest)
    _, fake = qwen_vl_utils.fetch_video(dict(inputs.entry), return_video_metadata=True)
    assert np.max(np.abs(np.asarray(qwen3_timestamps(fake)) - true)) > 1.0  # seconds off
    np.testing.assert_allclose(qwen3_timestamps(inputs.video_metadata), true, atol=1e-9)
    assert inputs.processor_kwargs == {"do_sample_frames": False}
    assert inputs.times_prompt.startswith("The video is shown as 6 moments of two frames each, at ")


@pytest.mark.slow
def test_variable_frame_rate_times_use_a_millisecond_clock(vfr_video):
    path, times = vfr_video
    frames, metadata = qwen.fetch_video({"video": str(path), "nframes": 8}, return_video_metadata=True)
    picks = select(analyze(path), "uniform", frames=8).indices
    assert metadata["fps"] == 1000.0
    np.testing.assert_allclose(qwen3_timestamps(metadata), pair_times(np.asarray(times)[picks]), atol=1e-3)
    # index over the average rate would misplace them: the second half runs at half the rate
    wrong = pair_times(picks / analyze(path).info.fps)
    assert np.max(np.abs(wrong - pair_times(np.asarray(times)[picks]))) > 0.1


@pytest.mark.slow
def test_qwen3_video_processor_takes_the_frames_and_metadata(bikes):
    from transformers import Qwen3VLVideoProcessor

    # Qwen3-VL: 16 px patches (frames in multiples of 32)
    frames, metadata = qwen.fetch_video({"video": str(bikes), "strategy": "scenes", "nframes": 8, "pair_s": 0.5},
                                        image_patch_size=16, return_video_metadata=True)
    out = Qwen3VLVideoProcessor()(videos=[frames], video_metadata=[metadata], do_sample_frames=False,
                                  do_resize=False, return_metadata=True)
    assert frames.shape[2] % 32 == 0 and frames.shape[3] % 32 == 0
    assert out["video_grid_thw"][0].tolist() == [4, frames.shape[2] // 16, frames.shape[3] // 16]
    assert out["video_metadata"][0].frames_indices == metadata["frames_indices"]


@pytest.mark.parametrize(("factor", "patch"), [(28, 14), (32, 16)])  # Qwen2.5-VL, Qwen3-VL
@pytest.mark.parametrize("video", ["cuts", "bikes", "sample"])
@pytest.mark.slow
def test_manifest_entry_goes_through_process_vision_info_unchanged_in_size(qwen_vl_utils, cut_video, bikes, tmp_path,
                                                                           video, factor, patch):
    path = {"cuts": cut_video[0], "bikes": bikes, "sample": sample_video()}[video]
    config = JobConfig(output=OutputConfig(factor=factor))
    manifest_path = sample(path, "adaptive", out_dir=tmp_path, frames=8, config=config)
    manifest = json.loads(manifest_path.read_text())
    entry = qwen.from_manifest(manifest_path).entry
    messages = [{"role": "user", "content": [entry, {"type": "text", "text": "What happens?"}]}]
    _, videos = qwen_vl_utils.process_vision_info(messages, image_patch_size=patch)
    assert tuple(videos[0].shape) == (8, 3, manifest["output"]["height"], manifest["output"]["width"])
    with Image.open(entry["video"][0]) as image:
        assert image.size == (manifest["output"]["width"], manifest["output"]["height"])
    uniform = json.loads(sample(path, out_dir=tmp_path / "u", config=config).read_text())
    assert uniform["qwen_inputs"]["times_prompt"] is None  # evenly spaced: sample_fps says it all


@pytest.mark.slow
@pytest.mark.usefixtures("qwen_vl_utils")
def test_process_vision_info_in_memory(bikes):
    video = {"type": "video", "video": f"file://{bikes}", "strategy": "adaptive", "nframes": 8}
    messages = [{"role": "user", "content": [video, {"type": "text", "text": "Describe."}]}]
    images, videos, kwargs = qwen.process_vision_info(messages, return_video_kwargs=True, return_video_metadata=True)
    frames, metadata = videos[0]
    assert images is None and kwargs == {"do_sample_frames": False}
    assert metadata["frames_indices"] == select(analyze(bikes), "adaptive", frames=8).indices.tolist()
    _, _, qwen25 = qwen.process_vision_info(messages, return_video_kwargs=True)
    assert qwen25["do_sample_frames"] is False and qwen25["fps"] == [pytest.approx(8 / 250 * 25)]


@pytest.mark.parametrize("strategy", ["scenes", "adaptive", "novelty"])
@pytest.mark.parametrize("frames", [8, 16, 32])
def test_pairs_show_one_moment(bikes, strategy, frames):
    analysis = analyze(bikes)
    picks = select(analysis, strategy, frames=frames, pair_s=qwen.PAIR_S).indices
    assert len(picks) % 2 == 0 and len(picks) >= (frames if strategy != "novelty" else 2)
    pairs = picks.reshape(-1, 2)
    assert np.all(analysis.scene_of(pairs[:, 0]) == analysis.scene_of(pairs[:, 1]))
    assert np.all(np.diff(analysis.times_of(pairs), axis=1) <= qwen.PAIR_S)


def test_anamorphic_frames_have_the_displayed_shape(video_dir, tmp_path):
    path = video_dir / "anamorphic.mp4"
    write_video(path, [20, 20], width=352, height=288, sample_aspect_ratio=Fraction(16, 11))
    manifest_path = sample(path, out_dir=tmp_path, config=JobConfig(output=OutputConfig(resize="none")), frames=2)
    manifest = json.loads(manifest_path.read_text())
    assert (manifest["video"]["stored_width"], manifest["video"]["stored_height"]) == (352, 288)
    assert manifest["video"]["sample_aspect_ratio"] == [16, 11]
    assert (manifest["output"]["width"], manifest["output"]["height"]) == (512, 288)  # 16:9, as players show it
    with Image.open(manifest_path.parent / manifest["frames"][0]["file"]) as image:
        assert image.size == (512, 288)
    qwen_size = json.loads(sample(path, out_dir=tmp_path / "q", frames=2).read_text())["output"]
    assert qwen_size["width"] / qwen_size["height"] == pytest.approx(16 / 9, rel=0.05)
