"""``uniform``: exactly what qwen-vl-utils 0.0.14 feeds Qwen2.5-VL (``smart_nframes`` for the count,
``torch.linspace(start, end, n).round()`` for the indices, float32 rounding included)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..qwen_rules import qwen_linspace
from ..types import Analysis
from ._common import BUDGET, RANGE, budget, frame_range
from ._registry import register

__all__ = ["select_uniform"]


@register("uniform", defaults={**BUDGET, **RANGE, "multiple_of": 2}, timing_only=True)
def select_uniform(analysis: Analysis, **params: Any) -> np.ndarray:
    """qwen-vl-utils 0.0.14: ``frame_budget`` frames at ``torch.linspace(first, last, n).round()``.

    An explicit ``frames`` takes precedence over ``fps`` (qwen-vl-utils refuses both together).
    """
    first, last = frame_range(analysis, params["start_s"], params["end_s"])
    return qwen_linspace(first, last, budget(analysis, first, last, params))
