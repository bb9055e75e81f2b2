"""``uniform_transformers``: uniform frames as transformers' Qwen3-VL video processor samples them
itself (``Qwen3VLVideoProcessor.sample_frames``, with ``do_sample_frames=True``; vLLM's Qwen3-VL
computes the same): ``np.linspace(first, last, n).round()`` in float64, and a count that is not
rounded to a multiple of 2. ``uniform`` stays qwen-vl-utils' (float32 ``torch.linspace``, an even
count)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..types import Analysis
from ._common import BUDGET, RANGE, budget, frame_range
from ._registry import register

__all__ = ["select_uniform_transformers"]


@register("uniform_transformers", defaults={**BUDGET, **RANGE, "multiple_of": 1}, timing_only=True)
def select_uniform_transformers(analysis: Analysis, **params: Any) -> np.ndarray:
    """transformers' Qwen3-VL processor: ``n`` frames at ``np.linspace(first, last, n).round()``.

    ``n`` is ``frames`` as given, or ``int(range_frames / video_fps * fps)`` clamped to
    ``[min_frames, max_frames]``, both capped at the range's frames (the processor, with no range,
    would repeat frames; it reads ``min_frames`` and ``max_frames`` from its config, 4 and 768).
    """
    first, last = frame_range(analysis, params["start_s"], params["end_s"])
    return np.linspace(first, last, budget(analysis, first, last, params)).round().astype(np.int64)
