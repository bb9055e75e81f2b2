"""A video for vLLM's OpenAI-compatible chat API: JPEG frames with their true times.

Without vLLM installed, the payload is checked against the structure vLLM 0.34 reads
(``MediaConnector._load_data_url`` and ``VideoMediaIO.load_base64``, PR #40133), step for step;
where vLLM imports, its own request model, chat parser, media loader and Qwen3-VL timestamps
read the payload (vLLM needs a torch of its own release: run with it on ``PYTHONPATH``, see
docs/qwen.md)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest

from framepick import analyze
from framepick.config import JobConfig, OutputConfig
from framepick.errors import ArgumentError
from framepick.pipeline import sample
from framepick.select import select
from framepick.vllm_request import vllm_video, vllm_video_of
from tiny_qwen import MODELS, pair_times


def extraction(path, out, *, factor: int, strategy: str = "adaptive", **params) -> Path:
    return sample(path, strategy, out_dir=out, config=JobConfig(output=OutputConfig(factor=factor)), **params)


def as_vllm_reads_it(video) -> tuple[list[bytes], dict]:
    """The JPEG frames and the metadata vLLM 0.34 makes of ``video``, step for step as its
    ``MediaConnector._load_data_url`` and ``VideoMediaIO.load_base64`` (``video/jpeg``) do."""
    url = video.part["video_url"]["url"]
    assert video.part["type"] == "video_url" and url.startswith("data:")
    data_spec, separator, data = url[5:].partition(",")
    media_type, separator, encoding = data_spec.rpartition(";")
    assert separator and encoding == "base64" and media_type.partition(";")[0] == "video/jpeg"
    kwargs = dict(video.extra_body["media_io_kwargs"]["video"])
    num_frames = kwargs.pop("num_frames")
    frames = data.split(",", num_frames)[:num_frames] if num_frames > 0 else data.split(",")
    indices, total = kwargs["frames_indices"], kwargs["total_num_frames"]
    assert isinstance(indices, list) and all(isinstance(i, int) for i in indices) and len(indices) == len(frames)
    assert isinstance(total, int) and total >= len(frames)
    assert isinstance(kwargs["duration"], (int, float)) and kwargs["duration"] >= 0
    metadata = {"total_num_frames": total, "fps": float(kwargs.get("fps", 1)), "duration": kwargs["duration"],
                "video_backend": "jpeg_sequence", "frames_indices": indices,
                "do_sample_frames": kwargs.get("do_sample_frames", False)}
    return [base64.b64decode(frame, validate=True) for frame in frames], metadata


@pytest.mark.parametrize("kind", list(MODELS))
def test_a_manifest_becomes_the_video_vllm_reads(bikes, tmp_path, kind):
    factor = MODELS[kind][0]
    manifest_path = extraction(bikes, tmp_path, factor=factor, frames=40, pair_s=0.5)  # more than vLLM's 32
    manifest = json.loads(manifest_path.read_text())
    video = vllm_video(manifest_path, kind)
    jpegs, metadata = as_vllm_reads_it(video)
    assert jpegs == [(manifest_path.parent / frame["file"]).read_bytes() for frame in manifest["frames"]]
    expected = manifest["qwen_inputs"]["video_metadata"]
    assert {key: metadata[key] for key in ("fps", "frames_indices", "total_num_frames", "duration")} == \
        {key: expected[key] for key in ("fps", "frames_indices", "total_num_frames", "duration")}
    assert metadata["do_sample_frames"] is False
    assert video.extra_body["mm_processor_kwargs"] == {"videos_kwargs": {"do_sample_frames": False, "do_resize": False}}
    assert video.times_prompt == manifest["qwen_inputs"]["times_prompt"] is not None
    body = json.loads(json.dumps(video.request("What happens when?", model="served")))
    assert body["messages"][0]["content"][1]["text"] == f"{video.times_prompt} What happens when?"
    assert body["media_io_kwargs"] == video.extra_body["media_io_kwargs"]


def test_a_variable_frame_rate_goes_on_a_millisecond_clock(vfr_video, tmp_path):
    path, times = vfr_video
    video = vllm_video(extraction(path, tmp_path, factor=28, strategy="uniform", frames=8), "Qwen2.5-VL")
    _, metadata = as_vllm_reads_it(video)
    assert metadata["fps"] == 1000.0 and isinstance(metadata["total_num_frames"], int)
    picks = select(analyze(path), "uniform", frames=8).indices
    np.testing.assert_allclose(np.asarray(metadata["frames_indices"]) / 1000.0, np.asarray(times)[picks], atol=5e-4)


def test_a_selection_in_memory_is_the_same_video_as_its_extraction(bikes, tmp_path):
    analysis = analyze(bikes)
    selection = select(analysis, "scenes", frames=12, pair_s=0.5, tokens=2000, factor=32)
    manifest_path = extraction(bikes, tmp_path, factor=32, strategy="scenes", frames=12, pair_s=0.5, tokens=2000)
    assert vllm_video_of(analysis, selection, "Qwen3-VL") == vllm_video(manifest_path, "Qwen3-VL")


def test_frames_sized_for_another_model_are_refused(bikes, tmp_path):
    manifest_path = extraction(bikes, tmp_path, factor=28, frames=8)
    with pytest.raises(ArgumentError, match="sized for Qwen2.5-VL .* not Qwen3-VL"):
        vllm_video(manifest_path, "Qwen3-VL")
    with pytest.raises(ArgumentError, match="^model must be one of"):
        vllm_video_of(analyze(bikes), select(analyze(bikes), frames=4), "Qwen9")


@pytest.mark.slow
def test_vllm_parses_the_request_and_states_the_true_times(tiny_qwen, bikes, tmp_path):
    protocol = pytest.importorskip("vllm.entrypoints.openai.chat_completion.protocol")
    from vllm.config import ModelConfig
    from vllm.multimodal import MULTIMODAL_REGISTRY
    from vllm.renderers.chat_utils.chat_message import parse_chat_messages

    manifest_path = extraction(bikes, tmp_path, factor=32, frames=12, pair_s=0.5)
    video = vllm_video(manifest_path, "Qwen3-VL")
    request = protocol.ChatCompletionRequest.model_validate(video.request("What happens when?", model="tiny"))
    folder = str(tiny_qwen["Qwen3-VL"])
    model_config = ModelConfig(model=folder, tokenizer=folder)
    conversation, data, _ = parse_chat_messages(request.messages, model_config, "openai",
                                                media_io_kwargs=request.media_io_kwargs,
                                                mm_processor_kwargs=request.mm_processor_kwargs)
    assert conversation[0]["content"][0] == {"type": "video"}
    frames, metadata = data["video"][0]
    jpegs, expected = as_vllm_reads_it(video)
    assert frames.shape[0] == len(jpegs) == 12 and metadata == expected
    processor = MULTIMODAL_REGISTRY.create_processor(model_config)
    analysis = analyze(bikes)
    true = pair_times(analysis.times_of(select(analysis, "adaptive", frames=12, pair_s=0.5).indices))
    np.testing.assert_allclose(processor.info._get_video_second_idx(metadata), true, atol=1e-6)
