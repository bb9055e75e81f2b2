"""The registry of selection strategies: each one's function and parameter table, and the one
check of parameters (:func:`strategy_params`) that the API, the TOML file and the command line share.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeVar, overload

import numpy as np

from ..checks import Span, shown
from ..errors import ConfigError
from ._common import FRAME_COUNT, PAIRS, RANGE, SHARED_SPANS

__all__ = ["Strategy", "register", "unregister", "lookup", "STRATEGIES", "TIMING_ONLY", "PARAM_SPANS",
           "strategy_defaults", "strategy_params"]

Function = TypeVar("Function", bound=Callable[..., np.ndarray])


@dataclass(frozen=True)
class Strategy:
    """One selection strategy: a function and its parameter table.

    Attributes
    ----------
    name : str
        What ``select(analysis, name)``, the TOML file and the command line call it.
    function : callable
        ``function(analysis, **params)``: the frame indices chosen (sorted, unique, int), given
        every parameter of ``defaults``, each checked.
    defaults : Mapping[str, Any]
        Every parameter with its default value (read-only).
    timing_only : bool
        The function reads only the analysis's frame times, no scores, scenes or transitions,
        so that the frame times alone serve it (:func:`framepick.pipeline.for_strategy`).
    doc : str
        What it does, in one paragraph: the first of the function's docstring.
    spans : Mapping[str, Span]
        The values each parameter allows (read-only; the same span as every other strategy's
        parameter of that name).
    """

    name: str
    function: Callable[..., np.ndarray]
    defaults: Mapping[str, Any]
    timing_only: bool
    doc: str
    spans: Mapping[str, Span]

    def params(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """The full parameters: the defaults updated with ``given``, every value checked against
        its span and made plain (``int``, ``float`` or None).

        Raises
        ------
        ConfigError
            An unknown parameter, a value of the wrong type or out of its span, or
            ``min_frames`` above ``max_frames``; the message names the parameter and the strategy.
        """
        if not isinstance(given, Mapping):
            raise ConfigError(f"strategy {self.name!r}: params must be a dict of parameters, got {shown(given)}")
        unknown = sorted(set(given) - set(self.defaults), key=str)
        if unknown:
            raise ConfigError(
                f"unknown parameter(s) {unknown} for strategy {self.name!r}; expected some of {sorted(self.defaults)}"
            )
        try:
            resolved = {name: self.spans[name].check(name, value) for name, value in {**self.defaults, **given}.items()}
        except ConfigError as error:
            raise ConfigError(f"strategy {self.name!r}: {error}") from None
        low, high = resolved.get("min_frames"), resolved.get("max_frames")
        if low is not None and high is not None and low > high:
            raise ConfigError(f"strategy {self.name!r}: min_frames ({low}) is above max_frames ({high})")
        return resolved


_REGISTRY: dict[str, Strategy] = {}
_SPANS: dict[str, Span] = dict(SHARED_SPANS)


class _Names(Sequence[str]):
    """The names of the registered strategies (those with ``timing_only`` set, if asked), in
    registration order: a read-only view, so that a strategy registered later is in it."""

    def __init__(self, *, timing_only: bool = False) -> None:
        self._timing_only = timing_only

    def _names(self) -> tuple[str, ...]:
        return tuple(name for name, strategy in _REGISTRY.items() if strategy.timing_only or not self._timing_only)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[str, ...]: ...

    def __getitem__(self, index: int | slice) -> str | tuple[str, ...]:
        return self._names()[index]

    def __len__(self) -> int:
        return len(self._names())

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def __eq__(self, other: object) -> bool:
        return self._names() == (other._names() if isinstance(other, _Names) else other)

    __hash__ = None  # type: ignore[assignment]  # equal to a tuple that changes

    def __repr__(self) -> str:
        return repr(self._names())


STRATEGIES: Sequence[str] = _Names()
"""The strategies' names, in registration order (compares equal to a tuple of them)."""
TIMING_ONLY: Sequence[str] = _Names(timing_only=True)
"""The strategies that need frame times only, no scores or scenes (see :attr:`Strategy.timing_only`)."""
PARAM_SPANS: Mapping[str, Span] = MappingProxyType(_SPANS)
"""The values every strategy parameter allows (None only where shown): one span per name, whichever
strategy takes it (read-only)."""


def register(name: str, *, defaults: Mapping[str, Any], spans: Mapping[str, Span] | None = None,
             timing_only: bool = False) -> Callable[[Function], Function]:
    """Register the decorated function as strategy ``name``, with its parameters' ``defaults``.

    Parameters
    ----------
    name : str
        The strategy's name (an identifier not registered yet).
    defaults : Mapping[str, Any]
        Every parameter the function takes, with its default; the shared ones (``frames``,
        ``start_s``, ``pair_s``, ... see :mod:`framepick.select`) mean what they mean everywhere.
    spans : Mapping[str, Span], optional
        The values each of the strategy's own parameters allows (a parameter already known,
        shared or another strategy's, keeps its span and needs none here).
    timing_only : bool
        The function reads only the frame times (see :class:`Strategy`).

    Returns
    -------
    callable
        A decorator that registers ``function(analysis, **params)`` and returns it unchanged. The
        function needs a docstring (the strategy's :attr:`~Strategy.doc`).

    Raises
    ------
    ConfigError
        A name taken or not an identifier, a function without a docstring or that does not take
        every parameter, a parameter with no span or a span that differs from the one its name
        has, a default out of its span, ``pair_s`` without the budget and range parameters.
    """
    own = dict(spans or {})

    def decorator(function: Function) -> Function:
        _REGISTRY[name] = _strategy(name, function, dict(defaults), own, timing_only)
        _SPANS.update(own)
        return function

    return decorator


def _strategy(name: str, function: Callable[..., np.ndarray], defaults: dict[str, Any], own: dict[str, Span],
              timing_only: bool) -> Strategy:
    """``Strategy`` ``name``, every fact about it checked (see :func:`register`)."""
    if not isinstance(name, str) or not name.isidentifier() or name in _REGISTRY:
        raise ConfigError(f"strategy name {shown(name)} is taken or not an identifier")
    doc = inspect.getdoc(function)
    if not doc:
        raise ConfigError(f"strategy {name!r}: its function needs a docstring")
    known = {**_SPANS, **own}
    clashes = sorted(key for key, span in own.items() if _SPANS.get(key, span) != span)
    if clashes:
        raise ConfigError(f"strategy {name!r}: parameter(s) {clashes} already have another span")
    if not set(defaults) <= set(known) or not set(own) <= set(defaults):
        raise ConfigError(f"strategy {name!r}: parameter(s) {sorted(set(defaults) - set(known))} have no span, "
                          f"span(s) {sorted(set(own) - set(defaults))} no parameter")
    if "pair_s" in defaults and not {*FRAME_COUNT, *RANGE, *PAIRS, "multiple_of"} <= set(defaults):
        raise ConfigError(f"strategy {name!r}: pair_s needs the budget and range parameters")
    try:
        inspect.signature(function).bind(None, **defaults)
    except TypeError as error:
        raise ConfigError(f"strategy {name!r}: its function does not take its parameters: {error}") from None
    table = {key: known[key] for key in defaults}
    strategy = Strategy(name, function, MappingProxyType(defaults), bool(timing_only),
                        " ".join(doc.split("\n\n")[0].split()), MappingProxyType(table))
    strategy.params(defaults)  # the defaults pass their own checks
    return strategy


def unregister(name: str) -> Strategy:
    """Remove strategy ``name`` from the registry (a strategy tried out in a test or a notebook),
    with the spans of the parameters no other strategy takes; returns it."""
    strategy = lookup(name)
    del _REGISTRY[name]
    used = set(SHARED_SPANS).union(*(other.spans for other in _REGISTRY.values()))
    for key in set(strategy.spans) - used:
        del _SPANS[key]
    return strategy


def lookup(name: str) -> Strategy:
    """Strategy ``name``; a :class:`ConfigError` naming the registered ones if there is none."""
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ConfigError(f"unknown strategy {shown(name)}; choose one of {tuple(_REGISTRY)}")
    return _REGISTRY[name]


def strategy_defaults(name: str) -> dict[str, Any]:
    """Every parameter of strategy ``name`` with its default value (a new dict)."""
    return dict(lookup(name).defaults)


def strategy_params(strategy: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The full parameters of ``strategy``: its defaults updated with ``params``, every value
    checked against :data:`PARAM_SPANS` and made plain (``int``, ``float`` or None).

    Raises
    ------
    ConfigError
        Unknown strategy or parameter, a value of the wrong type or out of its span, or
        ``min_frames`` above ``max_frames``; the message names the parameter and the strategy.
    """
    return lookup(strategy).params(params)
