"""Tiny, randomly initialised Qwen2.5-VL and Qwen3-VL, built from their config classes (no
weights: no hub), with a byte-level BPE tokenizer holding Qwen's special tokens and a chat
template of Qwen's layout reduced to what the recipes use. The processors are transformers' own
classes, with the families' real patch, merge and temporal sizes."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

SPECIAL_TOKENS = ["<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"]
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}{% for item in message['content'] %}"
    "{% if item['type'] == 'video' %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif item['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif item['type'] == 'text' %}{{ item['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
MODELS = {"Qwen2.5-VL": (28, 14), "Qwen3-VL": (32, 16)}  # model: (framepick's factor, image_patch_size)


def tiny_qwen_model(kind: str, folder: Path) -> Path:
    """Save a tiny ``kind`` model with its processor to ``folder``; return the folder."""
    import torch
    from tokenizers.pre_tokenizers import ByteLevel
    from transformers import (
        GenerationConfig,
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2_5_VLProcessor,
        Qwen2Tokenizer,
        Qwen2VLImageProcessor,
        Qwen2VLVideoProcessor,
        Qwen3VLConfig,
        Qwen3VLForConditionalGeneration,
        Qwen3VLProcessor,
        Qwen3VLVideoProcessor,
    )

    tokenizer = Qwen2Tokenizer(vocab={char: i for i, char in enumerate(sorted(ByteLevel.alphabet()))}, merges=[])
    tokenizer.add_special_tokens({"additional_special_tokens": SPECIAL_TOKENS})
    ids = dict(zip(SPECIAL_TOKENS, tokenizer.convert_tokens_to_ids(SPECIAL_TOKENS)))
    special = {"image_token_id": ids["<|image_pad|>"], "video_token_id": ids["<|video_pad|>"],
               "vision_start_token_id": ids["<|vision_start|>"], "vision_end_token_id": ids["<|vision_end|>"]}
    text = {"vocab_size": len(tokenizer), "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
            "num_attention_heads": 2, "num_key_value_heads": 1, "bos_token_id": None,
            "eos_token_id": ids["<|im_end|>"], "pad_token_id": tokenizer.pad_token_id}
    rope = {"rope_type": "default", "mrope_section": [2, 3, 3], "rope_theta": 10000.0}  # head_dim 16
    vision = {"hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "out_hidden_size": 32}
    torch.manual_seed(0)
    if kind == "Qwen2.5-VL":
        config = Qwen2_5_VLConfig(text_config={**text, "rope_parameters": rope},
                                  vision_config={**vision, "depth": 2, "fullatt_block_indexes": [1]}, **special)
        model = Qwen2_5_VLForConditionalGeneration(config)
        processor = Qwen2_5_VLProcessor(image_processor=Qwen2VLImageProcessor(), tokenizer=tokenizer,
                                        video_processor=Qwen2VLVideoProcessor(), chat_template=CHAT_TEMPLATE)
    else:
        text.update(head_dim=16, rope_parameters={**rope, "mrope_interleaved": True})
        config = Qwen3VLConfig(text_config=text, vision_config={**vision, "depth": 1, "num_position_embeddings": 64,
                                                                "deepstack_visual_indexes": [0]}, **special)
        model = Qwen3VLForConditionalGeneration(config)
        processor = Qwen3VLProcessor(image_processor=Qwen2VLImageProcessor(patch_size=16), tokenizer=tokenizer,
                                     video_processor=Qwen3VLVideoProcessor(), chat_template=CHAT_TEMPLATE)
    model.generation_config = GenerationConfig(eos_token_id=ids["<|im_end|>"], pad_token_id=tokenizer.pad_token_id)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def load_processor(folder: Path):
    from transformers import AutoProcessor

    return AutoProcessor.from_pretrained(folder)


def processed(processor, messages: list, videos: list, **kwargs):
    text = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return processor(text=[text], videos=videos, do_resize=False, return_tensors="pt", **kwargs)


def qwen3_timestamps(metadata: dict) -> list[float]:
    """The ``<t seconds>`` of each temporal pair, as transformers' Qwen3-VL processor computes them."""
    from transformers.models.qwen3_vl.processing_qwen3_vl import Qwen3VLProcessor

    return Qwen3VLProcessor._calculate_timestamps(None, list(metadata["frames_indices"]), metadata["fps"], 2)


def pair_times(times_s) -> np.ndarray:
    return np.asarray(times_s, dtype=np.float64).reshape(-1, 2).mean(axis=1)


def markers_s(processor, batch) -> list[float]:
    """The ``<t seconds>`` markers Qwen3-VL's processor wrote into the prompt."""
    text = processor.batch_decode(batch["input_ids"])[0]
    return [float(t) for t in re.findall(r"<([0-9.]+) seconds>", text)]


def seconds_per_pair(batch) -> float:
    return float(batch["second_per_grid_ts"][0])


def message(entry: dict, text: str = "What happens when?") -> list:
    return [{"role": "user", "content": [entry, {"type": "text", "text": text}]}]
