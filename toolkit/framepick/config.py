"""The whole job (:class:`JobConfig`: strategy and its parameters, analysis and output settings,
time limits) as one frozen value and a TOML file, and its fingerprint. The settings it holds are
:mod:`framepick.settings` (re-exported here), the strategies' parameters
:mod:`framepick.strategies`. Every setting is checked on construction, whatever it comes from
(TOML, the command line, the API), each failure one :class:`~framepick.errors.ConfigError` line
naming the setting, the allowed values and the value given. Only what needs the video (a time
range holding fewer than two frames) is left to :func:`framepick.select.select`.

The notebook's Export button writes the TOML file, ``framepick batch --config`` reads it::

    [strategy]            # the selection strategy and its parameters (see framepick.select)
    name = "adaptive"
    frames = 32

    [analysis]            # framepick.AnalysisConfig fields
    size = 128
    detector = "adaptive"

    [analysis.detector_params]
    adaptive_threshold = 3.0

    [output]              # framepick.OutputConfig fields
    resize = "qwen"
    jpeg_quality = 90

    [limits]              # per-video wall-clock limit: timeout_s + timeout_ratio * duration
    timeout_s = 300.0
    timeout_ratio = 1.0

Every table and key is optional; unknown ones are errors. TOML has no null: a parameter that is
None where its default is not is written as the string ``"none"``.

:func:`config_hash` fingerprints everything that changes the frames written (not the limits, not
thread counts), so a batch can skip videos whose output is up to date.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .checks import MAX_SECONDS, Span, shown
from .errors import ConfigError
from .qwen_models import check_tokens_alone
from .qwen_rules import PAIR_S
from .scenes import make_detector
from .settings import ANALYSIS_SPANS, BACKENDS, DETECTORS, RESIZE_RULES, AnalysisConfig, OutputConfig
from .strategies import PARAM_SPANS, STRATEGIES, strategy_defaults, strategy_params

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["BACKENDS", "DETECTORS", "RESIZE_RULES", "STRATEGIES", "PARAM_SPANS", "ANALYSIS_SPANS", "LIMIT_SPANS",
           "AnalysisConfig", "OutputConfig", "JobConfig", "load_config", "save_config", "config_hash",
           "strategy_defaults", "strategy_params"]

HASH_VERSION = 2
_NONE = "none"
_TABLES = ("strategy", "analysis", "output", "limits")

LIMIT_SPANS: dict[str, Span] = {"timeout_s": Span(float, 1.0, MAX_SECONDS), "timeout_ratio": Span(float, 0.0, 1000.0)}
"""The values of :class:`JobConfig`'s time limits (seconds, and seconds per second of video)."""


@dataclass(frozen=True)
class JobConfig:
    """Everything a batch needs to know to turn one video into frames.

    Parameters
    ----------
    strategy : str
        Selection strategy, one of ``framepick.select.STRATEGIES``.
    params : dict
        Its parameters; missing ones take the strategy's defaults.
    analysis : AnalysisConfig
        Analysis settings (``threads`` is set per worker by the batch).
    output : OutputConfig
        Output size rule and JPEG quality.
    timeout_s : float
        Wall-clock seconds every video may take, plus ``timeout_ratio`` seconds per second of
        video (see :meth:`timeout_for`).
    timeout_ratio : float
        Extra wall-clock seconds per second of video.
    """

    strategy: str = "uniform"
    params: dict[str, Any] = field(default_factory=dict)
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    timeout_s: float = 300.0
    timeout_ratio: float = 1.0

    def __post_init__(self) -> None:
        strategy_params(self.strategy, self.params)
        for name, kind in (("analysis", AnalysisConfig), ("output", OutputConfig)):
            if not isinstance(getattr(self, name), kind):
                raise ConfigError(f"{name} must be a framepick.{kind.__name__}, got {shown(getattr(self, name))}")
        for name, span in LIMIT_SPANS.items():
            span.check(f"limits: {name}", getattr(self, name))
        self._check_token_budget()

    def _check_token_budget(self) -> None:
        """A budget of ``tokens`` is counted at ``[output] factor`` and sets the frame size itself."""
        if self.params.get("tokens") is None:
            return  # factor is read with tokens only
        factor = self.params.get("factor", self.output.factor)
        if factor != self.output.factor:
            raise ConfigError(f"strategy {self.strategy!r}: tokens counted at factor {factor}, but [output] factor "
                              f"is {self.output.factor}: the output's factor is the one counted")
        sizes = {name: getattr(self.output, name) for name in ("min_pixels", "max_pixels", "total_pixels")}
        try:
            check_tokens_alone(self.output.resize, sizes)
        except ConfigError as error:
            raise ConfigError(f"strategy {self.strategy!r}: {error} ([output])") from None

    def timeout_for(self, duration_s: float) -> float:
        """Wall-clock limit in seconds for a video lasting ``duration_s`` seconds."""
        return self.timeout_s + self.timeout_ratio * max(0.0, duration_s)

    def resolved_params(self) -> dict[str, Any]:
        """The strategy's full parameters: its defaults updated with ``params``, temporal pairs
        (``pair_s``, see :mod:`framepick.select`) on for Qwen's output size rule where the
        strategy takes them and ``params`` does not name them (an explicit ``None`` or 0 keeps
        them off), and the ``factor`` a budget of ``tokens`` is counted at: the output's."""
        params = {**strategy_defaults(self.strategy), **self.params}
        if "pair_s" in params and "pair_s" not in self.params and self.output.resize == "qwen":
            params["pair_s"] = PAIR_S
        if "factor" in params:
            params["factor"] = self.output.factor
        return params

    def with_overrides(self, *, strategy: str | None = None, **params: Any) -> JobConfig:
        """A copy with another strategy and/or some parameters replaced (None is a value: no frame
        count, no cap, ...; parameters that take it are None in :data:`PARAM_SPANS`).

        Switching strategy keeps the parameters the new strategy also takes (the frame budget,
        the time range) and drops the others.
        """
        name = self.strategy if strategy is None else strategy
        accepted = strategy_defaults(name)
        kept = {k: v for k, v in self.params.items() if k in accepted}
        return dataclasses.replace(self, strategy=name, params={**kept, **params})

    def to_dict(self) -> dict[str, Any]:
        """The TOML tables as plain dicts (see the module docstring)."""
        params = {name: _NONE if value is None else value for name, value in self.resolved_params().items()}
        analysis = {k: v for k, v in self.analysis.to_dict().items() if v is not None and k != "threads"}
        return {
            "strategy": {"name": self.strategy, **params},
            "analysis": analysis,
            "output": self.output.to_dict(),
            "limits": {"timeout_s": float(self.timeout_s), "timeout_ratio": float(self.timeout_ratio)},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "config") -> JobConfig:
        """Build and check a config from the TOML tables; errors name ``source`` and the key."""
        unknown = sorted(set(data) - set(_TABLES))
        if unknown:
            raise ConfigError(f"{source}: unknown table(s) or key(s) {unknown}; expected {list(_TABLES)}")
        tables = {}
        for table in _TABLES:
            value = data.get(table, {})
            if not isinstance(value, dict):
                raise ConfigError(f"{source}: [{table}] must be a table, got {value!r}")
            tables[table] = value
        strategy = dict(tables["strategy"])
        name = strategy.pop("name", "uniform")
        params = {k: (None if v == _NONE else v) for k, v in strategy.items()}
        try:
            _section(source, "strategy", lambda: _check_toml_params(name, params))
            analysis = _section(source, "analysis", lambda: _analysis_config(tables["analysis"]))
            output = _section(source, "output", lambda: OutputConfig.from_dict(tables["output"]))
            limits = tables["limits"]
            unknown = sorted(set(limits) - {"timeout_s", "timeout_ratio"})
            if unknown:
                raise ConfigError(f"{source}: [limits] unknown key(s) {unknown}")
            config = _section(source, "strategy", lambda: cls(strategy=name, params=params, analysis=analysis,
                                                              output=output, **limits))
        except TypeError as exc:
            raise ConfigError(f"{source}: {exc}") from None
        return config


def _analysis_config(table: dict[str, Any]) -> AnalysisConfig:
    """The analysis settings, with the detector built once to check its parameters."""
    config = AnalysisConfig.from_dict(table)
    make_detector(config.detector, config.detector_params)
    return config


def _section(source: str, table: str, build):
    try:
        return build()
    except ConfigError as exc:
        message = str(exc)
        prefix = "" if message.startswith(("strategy ", "limits:")) else f"[{table}] "
        raise ConfigError(f"{source}: {prefix}{message}") from None


def _check_toml_params(strategy: str, params: dict[str, Any]) -> None:
    """What only a TOML file can get wrong: a strategy parameter that is neither a number nor the
    file's spelling of None (``"none"``). Spans are checked with every other setting
    (:func:`strategy_params`)."""
    strategy_defaults(strategy)
    for name, value in params.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ConfigError(f'{name} must be a number or "{_NONE}", got {shown(value)}')


def load_config(path: str | os.PathLike) -> JobConfig:
    """Read a job configuration from a TOML file.

    Raises
    ------
    ConfigError
        The file is missing, is not TOML, or holds an unknown key or a bad value; the message
        names the file and the key.
    """
    path = Path(path)
    if path.exists() and not path.is_file():  # a folder, or a FIFO that would block the read
        raise ConfigError(f"{path}: the config is not a regular file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file (TOML is UTF-8)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    return JobConfig.from_dict(data, source=str(path))


def save_config(config: JobConfig, path: str | os.PathLike) -> Path:
    """Write ``config`` as TOML (every strategy parameter spelled out) and return the path."""
    import tomli_w

    path = Path(path)
    header = "# framepick job configuration: framepick batch --config {} --out OUT VIDEOS...\n".format(path.name)
    path.write_text(header + tomli_w.dumps(config.to_dict()), encoding="utf-8")
    return path


def config_hash(config: JobConfig) -> str:
    """A 16-hex-digit fingerprint of everything that changes the frames written: the strategy and
    its resolved parameters, the analysis settings (not threads) and the output settings."""
    defaults = strategy_defaults(config.strategy)
    params = {k: _like_default(v, defaults[k]) for k, v in config.resolved_params().items()}
    payload = {
        "version": HASH_VERSION,
        "strategy": config.strategy,
        "params": params,
        "analysis": json.loads(config.analysis.key()),
        "output": config.output.to_dict(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _like_default(value: Any, default: Any) -> Any:
    """``2`` and ``2.0`` hash alike where the default is a float."""
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value
