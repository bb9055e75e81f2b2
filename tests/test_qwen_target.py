"""The model family a manifest's frames were sized for: written in the manifest, read back from
older manifests, and checked (refused or resized) when the frames go to a model of the other
family, with the real qwen-vl-utils and transformers processors."""

from __future__ import annotations

import json

import pytest

from framepick import qwen, sample_video
from framepick.config import JobConfig, OutputConfig
from framepick.errors import ArgumentError
from framepick.pipeline import sample
from tiny_qwen import MODELS, load_processor, message, processed


def extraction(path, out, *, factor: int = 28, resize: str = "qwen", frames: int = 8):
    """The manifest path and manifest of ``frames`` uniform frames of ``path`` extracted into ``out``."""
    config = JobConfig(output=OutputConfig(resize=resize, factor=factor))
    manifest_path = sample(path, out_dir=out, config=config, frames=frames)
    return manifest_path, json.loads(manifest_path.read_text())


@pytest.mark.parametrize(("factor", "resize", "target"), [
    (28, "qwen", {"family": "Qwen2.5-VL", "patch_size": 14, "merge_size": 2, "temporal_patch_size": 2, "factor": 28}),
    (32, "qwen", {"family": "Qwen3-VL", "patch_size": 16, "merge_size": 2, "temporal_patch_size": 2, "factor": 32}),
    (56, "qwen", {"family": None, "factor": 56}),
    (28, "none", None),
], ids=["qwen2.5", "qwen3", "other factor", "not qwen-sized"])
def test_the_manifest_names_its_target(cut_video, tmp_path, factor, resize, target):
    _, manifest = extraction(cut_video[0], tmp_path, factor=factor, resize=resize)
    assert manifest["manifest_version"] == 3
    assert manifest["target"] == target == qwen.manifest_target_of(manifest)


def test_a_manifest_before_version_3_has_its_target_taken_from_its_output(cut_video, tmp_path):
    path, manifest = extraction(cut_video[0], tmp_path, factor=32)
    del manifest["target"]
    manifest["manifest_version"] = 2
    path.write_text(json.dumps(manifest))
    assert qwen.manifest_target_of(manifest)["family"] == "Qwen3-VL"
    assert qwen.from_manifest(path, "Qwen3-VL") == qwen.from_manifest(path)
    with pytest.raises(ArgumentError, match="sized for Qwen3-VL"):
        qwen.from_manifest(path, "Qwen2.5-VL")


@pytest.mark.parametrize(("factor", "resize", "model", "sized"), [
    (32, "qwen", "Qwen2.5-VL", "Qwen3-VL (factor 32)"),
    (28, "qwen", "Qwen3-VL", "Qwen2.5-VL (factor 28)"),
    (28, "none", "Qwen3-VL", "no model"),
])
def test_frames_sized_for_another_model_are_refused_in_one_line(cut_video, tmp_path, factor, resize, model, sized):
    path, _ = extraction(cut_video[0], tmp_path, factor=factor, resize=resize)
    with pytest.raises(ArgumentError) as caught:
        qwen.from_manifest(path, model)
    message_ = str(caught.value)
    assert "\n" not in message_ and message_.startswith("manifest_path: ")
    assert f"sized for {sized}, not {model} (factor {MODELS[model][0]})" in message_ and "resize=True" in message_


@pytest.mark.parametrize("model", ["Qwen4", 28, object()], ids=["unknown family", "a number", "an object"])
def test_an_unknown_model_is_refused(cut_video, tmp_path, model):
    path, _ = extraction(cut_video[0], tmp_path)
    with pytest.raises(ArgumentError, match="^model must be one of"):
        qwen.from_manifest(path, model)


@pytest.mark.parametrize(("written", "model"), [("Qwen3-VL", "Qwen2.5-VL"), ("Qwen2.5-VL", "Qwen3-VL")])
@pytest.mark.slow
def test_frames_for_the_other_family_are_resized_as_framepick_writes_them(qwen_vl_utils, tiny_qwen, tmp_path,
                                                                          written, model):
    processor = load_processor(tiny_qwen[model])
    factor, patch = MODELS[model]
    path, _ = extraction(sample_video(), tmp_path / "written", factor=MODELS[written][0])  # 1280x720
    _, right = extraction(sample_video(), tmp_path / "right", factor=factor)
    size = (right["output"]["height"], right["output"]["width"])
    # as they are, qwen-vl-utils silently resizes them to another size than framepick writes for the model
    _, as_they_are = qwen_vl_utils.process_vision_info(message(qwen.from_manifest(path).entry), image_patch_size=patch)
    assert tuple(as_they_are[0].shape[2:]) != size
    inputs = qwen.from_manifest(path, processor, resize=True)  # the family read from the processor
    assert (inputs.entry["resized_height"], inputs.entry["resized_width"]) == size
    _, videos = qwen_vl_utils.process_vision_info(message(inputs.entry), image_patch_size=patch)
    assert tuple(videos[0].shape) == (8, 3, *size)
    batch = processed(processor, message(inputs.entry), videos, video_metadata=[inputs.video_metadata],
                      **inputs.processor_kwargs)
    assert batch["video_grid_thw"][0].tolist() == [4, size[0] // patch, size[1] // patch]
    with pytest.raises(ArgumentError, match=f"not {model} "):
        qwen.from_manifest(path, processor)
