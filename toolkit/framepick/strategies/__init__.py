"""Selection strategies: a strategy is a function plus its parameter table, one module each.

A module of this package that registers a function (:func:`register`) adds a strategy, with no
other file touched: the package imports its modules when it is first imported, the built-in ones
in this order, then any other alphabetically:

- ``uniform``: exactly what qwen-vl-utils 0.0.14 feeds Qwen2.5-VL;
- ``fps``: a fixed number of frames per second of presentation time;
- ``scenes``: frames shared among scenes in proportion to their length, at least one per scene;
- ``adaptive``: more frames where the content changes, at least one per scene;
- ``novelty``: a frame whenever enough change has accumulated since the last one.

Each strategy's parameters, their defaults (:func:`strategy_defaults`) and the values each allows
(:data:`PARAM_SPANS`) make one table, checked in one place with one error format for the API, the
TOML file and the command line (:func:`strategy_params`). What the shared parameters mean
(``frames``, ``start_s``, ``pair_s``, ...): :mod:`framepick.select`, which calls the strategies.

A new strategy, ``strategies/every_nth.py``::

    import numpy as np

    from ..checks import MAX_FRAMES, Span
    from ._common import RANGE, frame_range
    from ._registry import register

    @register("every_nth", defaults={"step": 10, **RANGE}, spans={"step": Span(int, 1, MAX_FRAMES)},
              timing_only=True)
    def select_every_nth(analysis, *, step, start_s, end_s):
        \"\"\"Every ``step``-th frame of the range, from its first.\"\"\"
        first, last = frame_range(analysis, start_s, end_s)
        return np.arange(first, last + 1, step)
"""

from __future__ import annotations

import importlib
import pkgutil

from ._common import frame_range
from ._pairs import paired, pairs_fit
from ._registry import (
    PARAM_SPANS,
    STRATEGIES,
    TIMING_ONLY,
    Strategy,
    lookup,
    register,
    strategy_defaults,
    strategy_params,
    unregister,
)

__all__ = ["Strategy", "register", "unregister", "lookup", "STRATEGIES", "TIMING_ONLY", "PARAM_SPANS",
           "strategy_defaults", "strategy_params", "frame_range", "paired", "pairs_fit"]

_BUILT_IN = ("uniform", "fps", "scenes", "adaptive", "novelty")  # the registration order


def _import_strategies() -> None:
    """Import every public module of this package (each registers its strategy): the built-in
    ones in their order, then the others alphabetically."""
    found = {module.name for module in pkgutil.iter_modules(__path__) if not module.name.startswith("_")}
    for name in [*(name for name in _BUILT_IN if name in found), *sorted(found - set(_BUILT_IN))]:
        importlib.import_module(f"{__name__}.{name}")


_import_strategies()
