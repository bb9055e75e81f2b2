"""The hand-off to Qwen, checked against the real qwen-vl-utils and transformers (CPU torch)."""

from __future__ import annotations

import json
import re
import shutil
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from framepick import analyze, qwen, sample_video
from framepick.config import JobConfig, OutputConfig
from framepick.pipeline import sample
from framepick.select import select
from tiny_qwen import (
    MODELS,
    load_processor,
    markers_s,
    message,
    pair_times,
    processed,
    qwen3_timestamps,
    seconds_per_pair,
)
from videos import write_video

DOCS = Path(__file__).resolve().parents[1] / "docs" / "qwen.md"

# torch, transformers and qwen-vl-utils take seconds to load: they are imported by the tests that
# use them (not at collection), and those tests are marked slow; the others here are quick


ELEMENTS = [
    {"fps": 2.0},
    {"nframes": 8},
    {"video_start": 2.0, "video_end": 8.0, "fps": 1.0},
    {"nframes": 6, "max_pixels": 150_000},
    {"fps": 0.1, "min_frames": 6, "max_frames": 10},
    {"nframes": 4, "resized_height": 200, "resized_width": 300},
    {"nframes": 4, "total_pixels": 2_000_000},
]


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
    ele = {"video": str(bikes), "strategy": "adaptive", "nframes": 20, "pair_s": 0.5}
    frames, metadata = qwen.fetch_video(ele, return_video_metadata=True)
    analysis = analyze(bikes)
    picks = select(analysis, "adaptive", frames=20, pair_s=0.5).indices
    assert metadata["frames_indices"] == picks.tolist() and frames.shape[0] == 20
    true = pair_times(analysis.times_of(picks))
    np.testing.assert_allclose(qwen3_timestamps(metadata), true, atol=1e-9)
    # the same frames written out and read back by qwen-vl-utils as a list: evenly spaced fake times
    manifest = sample(bikes, "adaptive", out_dir=tmp_path, frames=20)
    inputs = qwen.from_manifest(manifest)
    _, fake = qwen_vl_utils.fetch_video(dict(inputs.entry), return_video_metadata=True)
    assert np.max(np.abs(np.asarray(qwen3_timestamps(fake)) - true)) > 0.5  # seconds off
    np.testing.assert_allclose(qwen3_timestamps(inputs.video_metadata), true, atol=1e-9)
    assert inputs.processor_kwargs == qwen.PROCESSOR_KWARGS
    assert inputs.times_prompt.startswith("The video is shown as 10 moments of two frames each, at ")


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
    assert images is None and kwargs == qwen.PROCESSOR_KWARGS
    assert metadata["frames_indices"] == select(analyze(bikes), "adaptive", frames=8).indices.tolist()
    # without return_video_metadata the kwargs carry the metadata (no fps list: transformers 5 refuses it)
    _, plain, together = qwen.process_vision_info(messages, return_video_kwargs=True)
    assert together == {**qwen.PROCESSOR_KWARGS, "video_metadata": [metadata]}
    assert tuple(plain[0].shape) == tuple(frames.shape)


@pytest.mark.parametrize("strategy", ["scenes", "adaptive", "novelty"])
@pytest.mark.parametrize("frames", [20, 24, 32])
def test_pairs_show_one_moment(bikes, strategy, frames):
    analysis = analyze(bikes)
    picks = select(analysis, strategy, frames=frames, pair_s=qwen.PAIR_S).indices
    assert len(picks) % 2 == 0 and len(picks) >= (frames if strategy != "novelty" else 2)
    pairs = picks.reshape(-1, 2)
    assert np.all(analysis.scene_of(pairs[:, 0]) == analysis.scene_of(pairs[:, 1]))
    assert np.all(np.diff(analysis.times_of(pairs), axis=1) <= qwen.PAIR_S)


@pytest.mark.parametrize("strategy", ["scenes", "adaptive", "novelty"])
def test_no_pairs_where_they_would_cost_a_state(bikes, strategy):
    """bikes.mp4 has 6 scenes and state changes inside some: twice as many frames as states less
    two make one moment too few."""
    analysis = analyze(bikes)
    states = len(analysis.scenes) + len(analysis.state_changes)
    assert states > len(analysis.scenes)
    paired = select(analysis, strategy, frames=2 * states - 2, pair_s=qwen.PAIR_S)
    single = select(analysis, strategy, frames=2 * states - 2, pair_s=0)
    assert paired.params["pair_s"] == 0 and not paired.paired
    assert paired.indices.tolist() == single.indices.tolist()


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


# --------------------------------------------------------------------------- real processors and models

# The tiny models and their processors: tiny_qwen.py; the fixtures: conftest.py.


# (qwen-vl-utils' element keys, framepick's selection parameters): evenly spaced frames, whose
# seconds per temporal pair is 2 / qwen-vl-utils' sample_fps
SPANS = [({}, {}), ({"nframes": 8}, {"frames": 8}),
         ({"video_start": 2.0, "video_end": 8.0, "fps": 1.0}, {"start_s": 2.0, "end_s": 8.0, "fps": 1.0})]


@pytest.mark.parametrize(("element", "params"), SPANS, ids=["whole", "nframes", "range"])
@pytest.mark.slow
def test_qwen25_processor_takes_the_true_spacing_from_a_manifest_and_in_memory(qwen_vl_utils, tiny_qwen, bikes,
                                                                              tmp_path, element, params):
    processor = load_processor(tiny_qwen["Qwen2.5-VL"])
    (_, their_meta), their_fps = qwen_vl_utils.fetch_video({"video": str(bikes), **element},
                                                           return_video_metadata=True, return_video_sample_fps=True)
    inputs = qwen.from_manifest(sample(bikes, out_dir=tmp_path, **params))
    assert inputs.video_metadata["frames_indices"] == their_meta["frames_indices"]
    _, videos = qwen_vl_utils.process_vision_info(message(inputs.entry))
    from_manifest = processed(processor, message(inputs.entry), videos, video_metadata=[inputs.video_metadata],
                              **inputs.processor_kwargs)
    video = {"type": "video", "video": str(bikes), **element}
    _, frames, kwargs = qwen.process_vision_info(message(video), return_video_kwargs=True)
    in_memory = processed(processor, message(video), frames, **kwargs)
    for batch in (from_manifest, in_memory):
        assert seconds_per_pair(batch) == pytest.approx(2 / their_fps, rel=1e-6)  # float32 in the processor
        assert batch["video_grid_thw"][0][0] == len(their_meta["frames_indices"]) // 2


@pytest.mark.slow
def test_qwen25_spacing_of_pairs_and_of_a_variable_frame_rate(qwen_vl_utils, tiny_qwen, bikes, vfr_video, tmp_path):
    processor = load_processor(tiny_qwen["Qwen2.5-VL"])
    # a non-uniform selection in pairs: the mean spacing, and its times in the prompt
    inputs = qwen.from_manifest(sample(bikes, "adaptive", out_dir=tmp_path, frames=20, pair_s=0.5))
    _, videos = qwen_vl_utils.process_vision_info(message(inputs.entry))
    batch = processed(processor, message(inputs.entry), videos, video_metadata=[inputs.video_metadata],
                      **inputs.processor_kwargs)
    assert seconds_per_pair(batch) == pytest.approx(2 * 10.0 / 20, rel=1e-6)  # 10 s, 10 pairs
    assert inputs.times_prompt.startswith("The video is shown as 10 moments of two frames each, at ")
    # variable frame rate, a millisecond clock: 8 frames over the 40 frames' 2.4 s
    path, _ = vfr_video
    video = {"type": "video", "video": str(path), "nframes": 8}
    _, frames, kwargs = qwen.process_vision_info(message(video), return_video_kwargs=True)
    assert kwargs["video_metadata"][0]["fps"] == 1000.0
    info = analyze(path).info
    spacing = seconds_per_pair(processed(processor, message(video), frames, **kwargs))
    assert spacing == pytest.approx(2 * info.frames / (8 * info.fps), rel=1e-3)  # times in whole ms


@pytest.mark.slow
def test_qwen3_processor_writes_the_true_times_from_a_manifest_and_in_memory(qwen_vl_utils, tiny_qwen, bikes,
                                                                            tmp_path):
    processor = load_processor(tiny_qwen["Qwen3-VL"])
    config = JobConfig(output=OutputConfig(factor=32))
    inputs = qwen.from_manifest(sample(bikes, "adaptive", out_dir=tmp_path, config=config, frames=8, pair_s=0.5))
    _, videos = qwen_vl_utils.process_vision_info(message(inputs.entry), image_patch_size=16)
    from_manifest = processed(processor, message(inputs.entry), videos, video_metadata=[inputs.video_metadata],
                              **inputs.processor_kwargs)
    video = {"type": "video", "video": str(bikes), "strategy": "adaptive", "nframes": 8, "pair_s": 0.5}
    _, frames, kwargs = qwen.process_vision_info(message(video), return_video_kwargs=True, image_patch_size=16)
    in_memory = processed(processor, message(video), frames, **kwargs)
    analysis = analyze(bikes)
    true = pair_times(analysis.times_of(select(analysis, "adaptive", frames=8, pair_s=0.5).indices))
    for batch in (from_manifest, in_memory):
        np.testing.assert_allclose(markers_s(processor, batch), true, atol=0.05 + 1e-9)  # written to 0.1 s


@pytest.mark.parametrize("kind", list(MODELS))
@pytest.mark.slow
def test_framepicks_processor_kwargs_leave_no_cap_warning(qwen_vl_utils, tiny_qwen, bikes, kind):
    import logging

    from transformers.utils import logging as transformers_logging

    processor = load_processor(tiny_qwen[kind])
    video = {"type": "video", "video": str(bikes), "nframes": 4}
    _, frames, kwargs = qwen.process_vision_info(message(video), return_video_kwargs=True,
                                                 image_patch_size=MODELS[kind][1])
    without_cap = {key: value for key, value in kwargs.items() if key != "cap_pixels_per_frame"}
    records: list[logging.LogRecord] = []

    class Kept(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Kept()
    library = logging.getLogger("transformers")
    library.addHandler(handler)
    try:
        warned = []
        for given in (kwargs, without_cap):
            transformers_logging.warning_once.cache_clear()  # a first call each time
            records.clear()
            processed(processor, message(video), frames, **given)
            warned.append(any("cap_pixels_per_frame" in record.getMessage() for record in records))
    finally:
        library.removeHandler(handler)
    assert warned == [False, True]


@pytest.mark.slow
def test_qwen25_model_positions_follow_the_true_spacing(qwen_vl_utils, tiny_qwen, bikes, tmp_path):
    import torch
    from transformers import Qwen2_5_VLForConditionalGeneration

    processor = load_processor(tiny_qwen["Qwen2.5-VL"])
    model = Qwen2_5_VLForConditionalGeneration.from_pretrained(tiny_qwen["Qwen2.5-VL"])
    inputs = qwen.from_manifest(sample(bikes, out_dir=tmp_path, frames=8))  # 8 frames over 10 s: 4 pairs
    _, videos = qwen_vl_utils.process_vision_info(message(inputs.entry))
    batch = processed(processor, message(inputs.entry), videos, video_metadata=[inputs.video_metadata],
                      **inputs.processor_kwargs)
    positions, _ = model.model.get_rope_index(batch["input_ids"], batch["mm_token_type_ids"],
                                              video_grid_thw=batch["video_grid_thw"],
                                              second_per_grid_ts=batch["second_per_grid_ts"])
    temporal = torch.unique(positions[0, 0][batch["mm_token_type_ids"][0] == 2])
    per_second = model.config.vision_config.tokens_per_second
    assert (temporal - temporal[0]).tolist() == [int(pair * 2.5 * per_second) for pair in range(4)]
    answer = model.generate(**batch, max_new_tokens=4)
    assert answer.shape[1] > batch["input_ids"].shape[1]


def python_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", markdown, flags=re.MULTILINE | re.DOTALL)


@pytest.mark.parametrize("number", range(len(python_blocks(DOCS.read_text(encoding="utf-8")))))
@pytest.mark.slow
@pytest.mark.usefixtures("qwen_vl_utils")
def test_docs_recipes_run_on_tiny_models(tiny_qwen, bikes, tmp_path, monkeypatch, capsys, number):
    code = python_blocks(DOCS.read_text(encoding="utf-8"))[number]
    kind = next(kind for kind in MODELS if f'"Qwen/{kind}-' in code)
    code, replaced = re.subn(r'"Qwen/Qwen[^"]*"', repr(str(tiny_qwen[kind])), code)
    assert replaced == 1
    # the files the recipes name: a 10 s talk.mp4 and its extraction at the model's factor
    monkeypatch.chdir(tmp_path)
    shutil.copy(bikes, "talk.mp4")
    sample("talk.mp4", "adaptive", out_dir="framepick-out", frames=16, pair_s=0.5,
           config=JobConfig(output=OutputConfig(factor=MODELS[kind][0])))
    namespace: dict = {}
    exec(compile(code, f"{DOCS.name}, python block {number + 1}", "exec"), namespace)
    assert capsys.readouterr().out.endswith("\n")  # the answer was printed
    if kind == "Qwen2.5-VL":  # the frames span the whole 10 s video
        frames = namespace["batch"]["video_grid_thw"][0][0] * 2
        assert seconds_per_pair(namespace["batch"]) == pytest.approx(2 * 10.0 / float(frames), rel=1e-6)


def test_docs_have_a_recipe_per_model_and_route():
    blocks = python_blocks(DOCS.read_text(encoding="utf-8"))
    routes = {(kind, "from_manifest" in code) for code in blocks for kind in MODELS if f'"Qwen/{kind}-' in code}
    assert routes == {(kind, manifest) for kind in MODELS for manifest in (True, False)}
