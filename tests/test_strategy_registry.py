"""The strategies' registry: one table per strategy, one check, one error format, and a strategy
added by one module (registered at test time, or a file dropped into the package)."""

from __future__ import annotations

import inspect
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import framepick
from framepick.checks import MAX_FRAMES, Span
from framepick.errors import ConfigError
from framepick.select import TIMING_ONLY, select
from framepick.strategies import (
    PARAM_SPANS,
    STRATEGIES,
    frame_range,
    lookup,
    register,
    strategy_defaults,
    strategy_params,
    unregister,
)
from helpers import make_analysis, synthetic_analysis

BUILT_IN = ("uniform", "fps", "scenes", "adaptive", "novelty")
REGISTERED = tuple(STRATEGIES)  # the built-in ones and any other module of the package
SPANS = dict(PARAM_SPANS)


def test_the_registry_order():
    """The built-in strategies in their order, then those of other modules alphabetically."""
    assert REGISTERED[:5] == BUILT_IN and list(REGISTERED[5:]) == sorted(REGISTERED[5:])
    assert STRATEGIES == REGISTERED and list(STRATEGIES[1:3]) == ["fps", "scenes"]
    assert len(STRATEGIES) == len(REGISTERED) and repr(STRATEGIES) == repr(REGISTERED)
    assert TIMING_ONLY[:2] == ("uniform", "fps") and "fps" in TIMING_ONLY and "scenes" not in TIMING_ONLY


@pytest.mark.parametrize("name", REGISTERED)
def test_every_strategy_is_a_documented_function_and_one_table(name):
    strategy = lookup(name)
    assert strategy.name == name
    doc = inspect.getdoc(strategy.function)
    assert doc and strategy.doc == " ".join(doc.split("\n\n")[0].split())
    assert strategy.function.__module__ == f"framepick.strategies.{name}"
    assert set(strategy.defaults) <= set(PARAM_SPANS)
    assert dict(strategy.spans) == {key: PARAM_SPANS[key] for key in strategy.defaults}
    assert strategy_params(name, {}) == strategy_defaults(name) == dict(strategy.defaults)  # defaults pass
    inspect.signature(strategy.function).bind(None, **strategy.defaults)  # it takes every parameter


def test_the_tables_are_read_only():
    strategy = lookup("adaptive")
    with pytest.raises(TypeError):
        strategy.defaults["max_gap_s"] = 0.1
    with pytest.raises(TypeError):
        PARAM_SPANS["max_gap_s"] = Span(float)
    with pytest.raises(AttributeError):
        strategy.name = "other"


# --------------------------------------------------------------------------- a strategy added at test time


@pytest.fixture
def every_nth() -> Iterator[str]:
    """A toy strategy, every ``step``-th frame of the range, registered for one test."""

    @register("toy_every_nth", defaults={"step": 10, "start_s": None, "end_s": None},
              spans={"step": Span(int, 1, MAX_FRAMES)}, timing_only=True)
    def select_toy_every_nth(analysis, *, step, start_s, end_s):
        """Every ``step``-th frame of the range, from its first."""
        first, last = frame_range(analysis, start_s, end_s)
        return np.arange(first, last + 1, step)

    yield "toy_every_nth"
    if "toy_every_nth" in STRATEGIES:
        unregister("toy_every_nth")


def test_a_registered_strategy_is_selected_with_its_own_parameters(every_nth):
    analysis = make_analysis(100, 10.0)
    assert select(analysis, every_nth).indices.tolist() == list(range(0, 100, 10))
    picked = select(analysis, every_nth, step=25, start_s=1.0)
    assert picked.indices.tolist() == [10, 35, 60, 85]
    assert picked.params == {"step": 25, "start_s": 1.0, "end_s": None} and picked.strategy == every_nth
    assert framepick.select(analysis, every_nth, step=50).indices.tolist() == [0, 50]  # the package's call
    assert STRATEGIES == (*REGISTERED, every_nth) and every_nth in TIMING_ONLY
    assert PARAM_SPANS["step"] == Span(int, 1, MAX_FRAMES)
    assert lookup(every_nth).doc == "Every ``step``-th frame of the range, from its first."


def test_one_error_format_for_every_strategy(every_nth):
    analysis = make_analysis(100, 10.0)
    for name in (*REGISTERED, every_nth):
        with pytest.raises(ConfigError, match=rf"^unknown parameter\(s\) \['nope'\] for strategy '{name}'; "
                                              rf"expected some of \[.*'start_s'.*\]$"):
            select(analysis, name, nope=1)
    with pytest.raises(ConfigError, match=r"^strategy 'toy_every_nth': step must be an integer >= 1"):
        select(analysis, every_nth, step=0)
    with pytest.raises(ConfigError, match=r"^strategy 'uniform': frames must be an integer >= 1"):
        select(analysis, "uniform", frames=0)
    with pytest.raises(ConfigError, match=r"^unknown parameter\(s\) \['step'\] for strategy 'fps'"):
        select(analysis, "fps", step=2)  # another strategy's parameter


def test_unregister_forgets_the_strategy_and_its_own_spans(every_nth):
    unregister(every_nth)
    assert STRATEGIES == REGISTERED and PARAM_SPANS == SPANS
    with pytest.raises(ConfigError, match=r"^unknown strategy 'toy_every_nth'; choose one of \('uniform', "):
        select(make_analysis(100, 10.0), every_nth)


def test_any_strategy_taking_pair_s_gets_pairs():
    @register("evenly", defaults={"frames": None, "fps": 2.0, "min_frames": 4, "max_frames": 768,
                                  "start_s": None, "end_s": None, "multiple_of": 2, "pair_s": None})
    def select_evenly(analysis, *, frames, start_s, end_s, **params):
        """``frames`` frames evenly spaced (4 by default)."""
        first, last = frame_range(analysis, start_s, end_s)
        return np.linspace(first, last, frames or 4).round().astype(np.int64)

    try:
        analysis = synthetic_analysis(frames=3000, scenes=4)
        plain = select(analysis, "evenly", frames=8).indices
        paired = select(analysis, "evenly", frames=8, pair_s=0.5).indices
    finally:
        unregister("evenly")
    assert STRATEGIES == REGISTERED
    assert len(plain) == 8 and len(paired) % 2 == 0 and 0 < len(paired) <= 8
    assert np.all(np.diff(paired)[::2] <= 15)  # each moment and its partner, 0.5 s at 30 fps


def _documented(analysis, **params):
    """Takes anything."""
    return np.array([0])


def _undocumented(analysis, **params):
    return np.array([0])


def _fixed(analysis, *, start_s, end_s):
    """Takes only the range."""
    return np.array([0])


@pytest.mark.parametrize(("name", "function", "defaults", "spans", "message"), [
    ("uniform", _documented, {}, None, r"strategy name 'uniform' is taken"),
    ("two words", _documented, {}, None, r"strategy name 'two words' is taken or not an identifier"),
    ("toy", _undocumented, {}, None, r"strategy 'toy': its function needs a docstring"),
    ("toy", _documented, {"nope": 1}, None, r"strategy 'toy': parameter\(s\) \['nope'\] have no span"),
    ("toy", _documented, {}, {"toy_only": Span(int, 1)}, r"span\(s\) \['toy_only'\] no parameter"),
    ("toy", _documented, {"frames": 3}, {"frames": Span(int, 0, 5)},
     r"strategy 'toy': parameter\(s\) \['frames'\] already have another span"),
    ("toy", _documented, {"frames": 0}, None, r"strategy 'toy': frames must be an integer >= 1"),
    ("toy", _documented, {"pair_s": 0.5}, None, r"strategy 'toy': pair_s needs the budget and range parameters"),
    ("toy", _fixed, {"frames": None, "start_s": None, "end_s": None}, None,
     r"strategy 'toy': its function does not take its parameters"),
])
def test_register_refuses_a_bad_table(name, function, defaults, spans, message):
    with pytest.raises(ConfigError, match=message):
        register(name, defaults=defaults, spans=spans)(function)
    assert STRATEGIES == REGISTERED and PARAM_SPANS == SPANS  # nothing half-registered


# --------------------------------------------------------------------------- a strategy added as a file


def test_a_module_dropped_into_the_package_registers_itself(tmp_path):
    """A copy of the package with two new strategy modules: they come after the built-in ones,
    alphabetically, and select them with no other file touched."""
    package = Path(framepick.__file__).parent
    shutil.copytree(package, tmp_path / "framepick", ignore=shutil.ignore_patterns("__pycache__"))
    for name, step in (("toy_every_third", 3), ("toy_every_other", 2)):
        (tmp_path / "framepick" / "strategies" / f"{name}.py").write_text(
            f'"""Toy strategy {name}."""\n\n'
            "import numpy as np\n\n"
            "from ._common import RANGE, frame_range\n"
            "from ._registry import register\n\n\n"
            f"@register({name!r}, defaults={{**RANGE}})\n"
            "def pick(analysis, *, start_s, end_s):\n"
            f'    """Every {step}-th frame."""\n'
            "    first, last = frame_range(analysis, start_s, end_s)\n"
            f"    return np.arange(first, last + 1, {step})\n",
            encoding="utf-8")
    code = ("import framepick, helpers\n"
            "from framepick.strategies import STRATEGIES\n"
            "assert framepick.__file__.startswith(%r), framepick.__file__\n"
            "print(list(STRATEGIES))\n"
            "print(framepick.select(helpers.make_analysis(12, 10.0), 'toy_every_third').indices.tolist())\n"
            % str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(Path(__file__).parent)])})
    others = sorted({*REGISTERED[5:], "toy_every_other", "toy_every_third"})
    assert out.stdout.splitlines() == [str([*BUILT_IN, *others]), "[0, 3, 6, 9]"]
