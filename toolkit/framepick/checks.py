"""Checks of setting values, shared by every config class and strategy: a bad value becomes a
:class:`~framepick.errors.ConfigError` naming the setting, whether it came from TOML, the CLI or
the API."""

from __future__ import annotations

import math
import numbers
import os
from typing import Any

from .errors import ConfigError

__all__ = ["integer", "real", "usable_cores", "MAX_THREADS", "MAX_PIXELS", "THREAD_ENV"]

MAX_THREADS = 256  # decoder and kernel threads: more only thrash
MAX_PIXELS = 1 << 28  # a frame of 16384 x 16384: any pixel setting beyond is a typo
THREAD_ENV = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
"""Environment variables that cap the threads of Numba and the BLAS libraries in a worker."""


def usable_cores() -> int:
    """Number of CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def integer(name: str, value: Any, *, low: int, high: int | None = None) -> int:
    """``value`` as an ``int`` if it is an integer (not a bool) in ``[low, high]``."""
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not ok or value < low or (high is not None and value > high):
        span = f">= {low}" if high is None else f"from {low} to {high}"
        raise ConfigError(f"{name} must be an integer {span}, got {value!r}")
    return int(value)


def real(name: str, value: Any, *, low: float, low_included: bool = True, high: float = math.inf) -> float:
    """``value`` as a ``float`` if it is a finite number (not a bool) above ``low`` (or equal to it,
    with ``low_included``) and at most ``high``."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not (value >= low if low_included else value > low) or value > high:
        bound = f">= {low:g}" if low_included else f"> {low:g}"
        span = f"{bound} and <= {high:g}" if high < math.inf else bound
        raise ConfigError(f"{name} must be a finite number {span}, got {value!r}")
    return float(value)
