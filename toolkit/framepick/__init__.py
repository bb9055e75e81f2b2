"""framepick: a few well-chosen frames from long videos for vision-language models.

>>> import framepick
>>> analysis = framepick.analyze(framepick.sample_video())       # doctest: +SKIP
>>> picks = framepick.select(analysis, "adaptive", frames=16)    # doctest: +SKIP

Importing the package is cheap: the decoders, PySceneDetect, Numba kernels, matplotlib and
ipywidgets load when a function that needs them is first called.
"""

from __future__ import annotations

import importlib
from typing import Any

from .about import __version__, sample_video
from .config import AnalysisConfig, JobConfig, OutputConfig, load_config
from .errors import ConfigError, FramepickError, VideoError
from .types import Analysis, Selection, VideoInfo

# public name -> module that defines it, imported on first access. ``select`` is its own module,
# made callable as the function (importing the module puts it on the package under that name).
_MODULES = ("select",)
_LAZY = {
    "analyze": "analysis",
    "compare": "metrics",
    "compare_app": "widgets",
    "sample": "pipeline",
    "run_batch": "batch",
}

__all__ = [
    "__version__",
    "Analysis",
    "AnalysisConfig",
    "ConfigError",
    "FramepickError",
    "JobConfig",
    "OutputConfig",
    "Selection",
    "VideoError",
    "VideoInfo",
    "load_config",
    "sample_video",
    *_MODULES,
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    if name in _MODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'framepick' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
