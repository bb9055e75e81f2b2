"""A budget of video tokens (``tokens=N``): the count and the frame size chosen together, checked
against a brute-force twin and against the real Qwen2.5-VL and Qwen3-VL processors, whose token
counts must equal framepick's prediction and never exceed the budget."""

from __future__ import annotations

import json
import math

import pytest

from framepick import analyze, qwen
from framepick.config import JobConfig, OutputConfig
from framepick.errors import ArgumentError, ConfigError
from framepick.pipeline import sample
from framepick.select import select
from tiny_qwen import MODELS, load_processor, message, processed

SIZES = [(1280, 720), (640, 272), (160, 96), (720, 1280), (3840, 1600)]


def most_that_fit(width: int, height: int, frames: int, *, tokens: int, factor: int, multiple_of: int = 2) -> int:
    """``qwen.token_frames``'s twin: every count from ``frames`` down, the first that fits."""
    for count in range(frames, 0, -multiple_of):
        out_width, out_height = qwen.token_frame_size(width, height, count, tokens=tokens, factor=factor)
        if (out_width * out_height >= 128 * factor * factor
                and qwen.video_tokens(out_width, out_height, count, factor=factor) <= tokens):
            return count
    raise AssertionError("nothing fits")


@pytest.mark.parametrize("factor", [28, 32])
@pytest.mark.parametrize(("width", "height"), SIZES)
def test_token_frames_is_the_most_that_fit(width, height, factor):
    for frames in (2, 20, 64, 768):
        for tokens in (300, 1000, 4096, 16_384, 100_000):
            try:
                twin = most_that_fit(width, height, frames, tokens=tokens, factor=factor)
            except AssertionError:
                with pytest.raises(ConfigError, match=f"^tokens={tokens} is below what one temporal pair"):
                    qwen.token_frames(width, height, frames, tokens=tokens, factor=factor)
                continue
            assert qwen.token_frames(width, height, frames, tokens=tokens, factor=factor) == twin


def test_a_selection_within_tokens_is_the_frame_budget_lowered(bikes):
    analysis = analyze(bikes)  # 640x272, 10 s: 20 frames by Qwen's rule
    assert len(select(analysis, "uniform", tokens=100_000)) == len(select(analysis, "uniform")) == 20
    within = select(analysis, "uniform", tokens=1000)
    assert len(within) == qwen.token_frames(640, 272, 20, tokens=1000, factor=28) < 20
    assert within.params["tokens"] == 1000 and within.params["factor"] == 28
    assert len(select(analysis, "adaptive", tokens=1000, factor=32, pair_s=0.5)) <= \
        qwen.token_frames(640, 272, 20, tokens=1000, factor=32)
    with pytest.raises(ConfigError, match="tokens=50 is below"):
        select(analysis, "scenes", tokens=50)


@pytest.mark.parametrize(("output", "params", "wrong"), [
    (OutputConfig(resize="none"), {"tokens": 2000}, 'needs resize = "qwen"'),
    (OutputConfig(total_pixels=1_000_000), {"tokens": 2000}, "give it without total_pixels"),
    (OutputConfig(factor=32), {"tokens": 2000, "factor": 28}, "tokens counted at factor 28, but [output] factor is 32"),
], ids=["another size rule", "pixel settings", "another factor"])
def test_a_job_with_tokens_sets_the_size_by_them_alone(output, params, wrong):
    with pytest.raises(ConfigError) as caught:
        JobConfig(strategy="adaptive", params=params, output=output)
    assert wrong in str(caught.value) and "\n" not in str(caught.value)


def test_a_jobs_tokens_are_counted_at_its_output_factor():
    assert JobConfig(params={"tokens": 2000}, output=OutputConfig(factor=32)).resolved_params()["factor"] == 32
    assert JobConfig(params={"factor": 28}, output=OutputConfig(factor=32)).resolved_params()["factor"] == 32


@pytest.mark.parametrize(("ele", "wrong"), [
    ({"tokens": 2000, "max_pixels": 100_000}, "ele: tokens sets the frame size: give it without max_pixels"),
    ({"tokens": 2000, "strategy": "fps"}, "ele: the fps strategy takes no tokens budget"),
    ({"tokens": 2000, "factor": 32}, "ele: factor is image_patch_size x 2 (28)"),
])
def test_an_element_with_tokens_sets_the_size_by_them_alone(bikes, ele, wrong):
    with pytest.raises(ArgumentError, match=wrong.replace("(", r"\(").replace(")", r"\)")):
        qwen.fetch_video({"video": str(bikes), **ele})


def manifest_within(path, out, *, strategy: str, tokens: int, factor: int, **params):
    config = JobConfig(output=OutputConfig(factor=factor))
    manifest_path = sample(path, strategy, out_dir=out, config=config, tokens=tokens, **params)
    return manifest_path, json.loads(manifest_path.read_text())


def video_pads(processor, batch) -> int:
    """The video tokens the processor put into the prompt."""
    token = processor.tokenizer.convert_tokens_to_ids("<|video_pad|>")
    return int((batch["input_ids"][0] == token).sum())


def same_budget(kind: str, tokens: int) -> dict:
    """The processor's own resize with the same budget, by transformers 5's semantics of
    ``cap_pixels_per_frame`` (read in its Qwen2-VL and Qwen3-VL video processors): Qwen2.5-VL's
    ``max_video_tokens`` is a context of which 90% is the video's pixels (``total * 2 / frames``
    per frame); Qwen3-VL's is a per-frame ceiling (768) and ``size["longest_edge"]`` the video's
    pixels (``longest_edge / frames`` per frame: one pair's tokens are two frames' share)."""
    factor = MODELS[kind][0]
    if kind == "Qwen2.5-VL":
        return {"cap_pixels_per_frame": True, "max_video_tokens": math.ceil(tokens / 0.9)}
    return {"cap_pixels_per_frame": True, "size": {"shortest_edge": 128 * factor ** 2,
                                                   "longest_edge": 2 * tokens * factor ** 2}}


@pytest.mark.parametrize("tokens", [600, 1500, 5000])
@pytest.mark.parametrize(("strategy", "params"), [("uniform", {}), ("adaptive", {"pair_s": 0.5}),
                                                  ("scenes", {"pair_s": None})])
@pytest.mark.parametrize("kind", list(MODELS))
@pytest.mark.slow
def test_the_processors_count_the_tokens_framepick_predicts(qwen_vl_utils, tiny_qwen, bikes, tmp_path, kind,
                                                            strategy, params, tokens):
    processor = load_processor(tiny_qwen[kind])
    factor, patch = MODELS[kind]
    _, manifest = manifest_within(bikes, tmp_path, strategy=strategy, tokens=tokens, factor=factor, **params)
    width, height, frames = manifest["output"]["width"], manifest["output"]["height"], len(manifest["frames"])
    predicted = qwen.video_tokens(width, height, frames, factor=factor)
    assert predicted <= tokens and (width, height) == qwen.token_frame_size(640, 272, frames, tokens=tokens,
                                                                           factor=factor)
    inputs = qwen.from_manifest(tmp_path / "bikes" / "manifest.json", kind)
    assert inputs.entry["total_pixels"] == tokens * factor ** 2
    _, videos = qwen_vl_utils.process_vision_info(message(inputs.entry), image_patch_size=patch)
    assert tuple(videos[0].shape[2:]) == (height, width)  # qwen-vl-utils keeps the size
    kwargs = {"video_metadata": [inputs.video_metadata], **inputs.processor_kwargs}
    assert video_pads(processor, processed(processor, message(inputs.entry), videos, **kwargs)) == predicted
    text = [processor.apply_chat_template(message(inputs.entry), tokenize=False)]

    def resized(budget: int) -> int:  # the video tokens with the processor's own resize and budget
        return video_pads(processor, processor(text=text, videos=videos, return_tensors="pt",
                                               **{**kwargs, **same_budget(kind, budget)}))

    assert resized(tokens) == resized(predicted) == predicted  # the same budget keeps the frames as they are
    if width * height > 1.05 * 128 * factor ** 2:  # above the processors' floor: one token less shrinks them
        assert resized(predicted - 1) < predicted
    # in memory: the same frames, at the same size
    video = {"type": "video", "video": str(bikes), "strategy": strategy, "tokens": tokens, **params}
    _, in_memory, video_kwargs = qwen.process_vision_info(message(video), return_video_kwargs=True,
                                                          image_patch_size=patch)
    assert video_kwargs["video_metadata"][0]["frames_indices"] == [frame["index"] for frame in manifest["frames"]]
    assert tuple(in_memory[0].shape[2:]) == (height, width)
    assert video_pads(processor, processed(processor, message(video), in_memory, **video_kwargs)) == predicted
