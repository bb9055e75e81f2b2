"""The registry of selection strategies' parameters: every strategy's name, its parameters with
their defaults (:func:`strategy_defaults`) and the values each allows (:data:`PARAM_SPANS`), one
table and one error format for the API, the TOML file and the command line
(:func:`strategy_params`). What the parameters mean: :mod:`framepick.select`, which registers
one function per name here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .checks import MAX_FPS, MAX_FRAMES, MAX_SECONDS, Span, shown
from .errors import ConfigError
from .qwen_rules import PAIR_S

__all__ = ["STRATEGIES", "PARAM_SPANS", "strategy_defaults", "strategy_params"]

# Every strategy's parameters and their defaults; what they mean: framepick.select's docstring.
_BUDGET = {"frames": None, "fps": 2.0, "min_frames": 4, "max_frames": 768}
_RANGE = {"start_s": None, "end_s": None}
_PAIRS = {"pair_s": None}
_DEFAULTS: dict[str, dict[str, Any]] = {
    "uniform": {**_BUDGET, **_RANGE, "multiple_of": 2},
    "fps": {"fps": 2.0, "max_frames": None, **_RANGE, "multiple_of": 2},
    "scenes": {**_BUDGET, **_RANGE, "multiple_of": 2, **_PAIRS},
    "adaptive": {
        **_BUDGET,
        **_RANGE,
        "floor": 0.5,
        "sharpness": 0.75,
        "smooth_s": 0.5,
        "min_gap_s": 0.2,
        "max_gap_s": None,
        "multiple_of": 2,
        **_PAIRS,
    },
    "novelty": {**_BUDGET, **_RANGE, "threshold": 0.3, "multiple_of": 2, **_PAIRS},
}
STRATEGIES = tuple(_DEFAULTS)

PARAM_SPANS: dict[str, Span] = {
    "frames": Span(int, 1, MAX_FRAMES, none=True),
    "fps": Span(float, 0.0, MAX_FPS, low_included=False),  # above the video's rate: every frame
    "min_frames": Span(int, 1, MAX_FRAMES),
    "max_frames": Span(int, 1, MAX_FRAMES, none=True),
    "start_s": Span(float, none=True),  # any time: clamped to the video, as qwen-vl-utils does
    "end_s": Span(float, none=True),
    "multiple_of": Span(int, 1, MAX_FRAMES),
    "floor": Span(float, 0.0, 1.0),
    "sharpness": Span(float, 0.0, 100.0, low_included=False),  # an exponent
    "smooth_s": Span(float, 0.0, MAX_SECONDS),
    "min_gap_s": Span(float, 0.0, MAX_SECONDS),
    "max_gap_s": Span(float, 0.0, MAX_SECONDS, none=True),
    "threshold": Span(float, 0.0, 1000.0, low_included=False),  # summed change scores, each <= 1
    "pair_s": Span(float, 0.0, PAIR_S, none=True),
}
"""The values every strategy parameter allows (None only where shown)."""


def strategy_defaults(name: str) -> dict[str, Any]:
    """Every parameter of strategy ``name`` with its default value (a new dict)."""
    if not isinstance(name, str) or name not in _DEFAULTS:
        raise ConfigError(f"unknown strategy {shown(name)}; choose one of {STRATEGIES}")
    return dict(_DEFAULTS[name])


def strategy_params(strategy: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The full parameters of ``strategy``: its defaults updated with ``params``, every value
    checked against :data:`PARAM_SPANS` and made plain (``int``, ``float`` or None).

    Raises
    ------
    ConfigError
        Unknown strategy or parameter, a value of the wrong type or out of its span, or
        ``min_frames`` above ``max_frames``; the message names the parameter and the strategy.
    """
    defaults = strategy_defaults(strategy)
    if not isinstance(params, Mapping):
        raise ConfigError(f"strategy {strategy!r}: params must be a dict of parameters, got {shown(params)}")
    unknown = sorted(set(params) - set(defaults), key=str)
    if unknown:
        raise ConfigError(
            f"unknown parameter(s) {unknown} for strategy {strategy!r}; expected some of {sorted(defaults)}"
        )
    merged = {**defaults, **params}
    try:
        resolved = {name: PARAM_SPANS[name].check(name, value) for name, value in merged.items()}
    except ConfigError as error:
        raise ConfigError(f"strategy {strategy!r}: {error}") from None
    low, high = resolved.get("min_frames"), resolved.get("max_frames")
    if low is not None and high is not None and low > high:
        raise ConfigError(f"strategy {strategy!r}: min_frames ({low}) is above max_frames ({high})")
    return resolved
