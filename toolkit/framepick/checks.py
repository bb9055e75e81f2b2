"""Checks of setting and argument values, shared by every config class, strategy and public
function. A bad value becomes one line that names the setting, says what it must be and shows what
it got, whether it came from TOML, the command line or the API::

    frames must be an integer >= 1 and <= 100000, got [1, 2]
    fps must be a finite number > 0 and <= 1000, got 1e+09
    keyframes_only must be true or false, got 'yes'

Settings raise :class:`~framepick.errors.ConfigError`; the arguments of public functions
:class:`~framepick.errors.ArgumentError`, whose message starts with the argument's name.

The limits below bound what any setting may ask for, so that memory and time follow the video and
the frame budget, never the size of a number typed by mistake.
"""

from __future__ import annotations

import math
import numbers
import os
from dataclasses import dataclass
from typing import Any

from .errors import ArgumentError, ConfigError

__all__ = ["Span", "integer", "real", "flag", "shown", "check_pixels", "path_argument", "instance_argument",
           "usable_cores", "MAX_THREADS", "MAX_PIXELS", "MAX_FRAMES", "MAX_FPS", "MAX_SECONDS", "MAX_SIDE",
           "THREAD_ENV"]

MAX_THREADS = 256  # decoder and kernel threads: more only thrash
MAX_PIXELS = 1 << 28  # a frame of 16384 x 16384: any pixel setting beyond is a typo
MAX_SIDE = 16384  # pixels on one side of a frame
MAX_FRAMES = 100_000  # frames one selection may hold; Qwen reads at most 768 by default
MAX_FPS = 1000.0  # frames per second asked for (sampling, analysis): above any video's own rate
MAX_SECONDS = 7 * 24 * 3600.0  # any span of time a setting gives (gaps, smoothing, time limits): a week
THREAD_ENV = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
"""Environment variables that cap the threads of Numba and the BLAS libraries in a worker."""

_SHOWN_CHARS = 60  # a value longer than this is cut in messages


def usable_cores() -> int:
    """Number of CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def shown(value: Any) -> str:
    """``repr(value)`` on one line and at most ``_SHOWN_CHARS`` characters, for messages."""
    text = " ".join(repr(value).split())
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


def integer(name: str, value: Any, *, low: int, high: int | None = None,
            error: type[ConfigError] = ConfigError) -> int:
    """``value`` as an ``int`` if it is an integer (not a bool) in ``[low, high]``."""
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not ok or value < low or (high is not None and value > high):
        span = f">= {low}" if high is None else f">= {low} and <= {high}"
        raise error(f"{name} must be an integer {span}, got {shown(value)}")
    return int(value)


def real(name: str, value: Any, *, low: float = -math.inf, low_included: bool = True, high: float = math.inf,
         error: type[ConfigError] = ConfigError) -> float:
    """``value`` as a ``float`` if it is a finite number (not a bool) above ``low`` (or equal to it,
    with ``low_included``) and at most ``high``."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not (value >= low if low_included else value > low) or value > high:
        bounds = [f"{'>=' if low_included else '>'} {low:g}"] if low > -math.inf else []
        bounds += [f"<= {high:g}"] if high < math.inf else []
        span = f" {' and '.join(bounds)}" if bounds else ""
        raise error(f"{name} must be a finite number{span}, got {shown(value)}")
    return float(value)


def flag(name: str, value: Any, *, error: type[ConfigError] = ConfigError) -> bool:
    """``value`` if it is a bool (``1`` or ``"yes"`` are typos, not switches)."""
    if not isinstance(value, bool):
        raise error(f"{name} must be true or false, got {shown(value)}")
    return value


@dataclass(frozen=True)
class Span:
    """The values one numeric setting allows: integers (``kind=int``) or finite floats from ``low``
    to ``high`` (``low`` itself unless ``low_included`` is False), and None where ``none``."""

    kind: type
    low: float = -math.inf
    high: float = math.inf
    low_included: bool = True
    none: bool = False

    def check(self, name: str, value: Any, *, error: type[ConfigError] = ConfigError) -> Any:
        """``value`` made plain (``int``, ``float`` or None), or ``error`` naming ``name``."""
        if value is None and self.none:
            return None
        if self.kind is int:
            return integer(name, value, low=int(self.low), high=None if self.high == math.inf else int(self.high),
                           error=error)
        return real(name, value, low=self.low, low_included=self.low_included, high=self.high, error=error)


def check_pixels(factor: int, *, min_pixels: Any, max_pixels: Any, total_pixels: Any,
                 error: type[ConfigError] = ConfigError) -> None:
    """Qwen's pixel settings (see :class:`framepick.config.OutputConfig`): each None or an integer
    from one patch of ``factor`` x ``factor`` pixels to :data:`MAX_PIXELS`, ``min_pixels`` at most
    ``max_pixels``."""
    for name, value in (("min_pixels", min_pixels), ("max_pixels", max_pixels), ("total_pixels", total_pixels)):
        if value is not None:
            integer(name, value, low=factor * factor, high=MAX_PIXELS, error=error)
    if min_pixels is not None and max_pixels is not None and min_pixels > max_pixels:
        raise error(f"min_pixels ({min_pixels}) is above max_pixels ({max_pixels})")


def path_argument(name: str, value: Any) -> str | os.PathLike:
    """``value`` if it is a path (``str`` or ``os.PathLike``), else :class:`ArgumentError`."""
    if not isinstance(value, (str, os.PathLike)) or (isinstance(value, str) and not value):
        raise ArgumentError(f"{name} must be a path (str or os.PathLike), got {shown(value)}")
    return value


def instance_argument(name: str, value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    """``value`` if it is a ``kind``, else :class:`ArgumentError` saying it must be ``what``."""
    if not isinstance(value, kind):
        raise ArgumentError(f"{name} must be {what}, got {shown(value)}")
    return value
