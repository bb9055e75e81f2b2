"""Every configuration class: how a video is analysed (:class:`AnalysisConfig`), how frames are
written (:class:`OutputConfig`), and the whole job (:class:`JobConfig`: strategy, analysis, output
and limits) as one frozen value and a TOML file, and the parameters of every selection strategy
(:func:`strategy_defaults`, :func:`strategy_params`). Every setting is checked here, on
construction, whatever it comes from (TOML, the command line, the API): its type, its range (the
``*_SPANS`` tables below, with the limits of :mod:`framepick.checks`) and its relations to the
others, each failure one :class:`~framepick.errors.ConfigError` line naming the setting, the
allowed values and the value given. Only what needs the video (a time range holding fewer than two
frames) is left to :func:`framepick.select.select`.

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
import numbers
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .checks import (
    MAX_FPS,
    MAX_FRAMES,
    MAX_SECONDS,
    MAX_SIDE,
    MAX_THREADS,
    Span,
    check_pixels,
    flag,
    integer,
    shown,
    usable_cores,
)
from .errors import ConfigError
from .qwen import PAIR_S, listed_frame_size

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["BACKENDS", "DETECTORS", "RESIZE_RULES", "STRATEGIES", "PARAM_SPANS", "ANALYSIS_SPANS", "LIMIT_SPANS",
           "AnalysisConfig", "OutputConfig", "JobConfig", "load_config", "save_config", "config_hash",
           "strategy_defaults", "strategy_params"]

BACKENDS = ("auto", "pyav", "decord")
DETECTORS = ("adaptive", "content", "histogram", "hash")
RESIZE_RULES = ("qwen", "longest", "none")

HASH_VERSION = 2
_NONE = "none"
_TABLES = ("strategy", "analysis", "output", "limits")

# --------------------------------------------------------------------------- strategy parameters

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


# --------------------------------------------------------------------------- detector parameters

_SCENE_LEN = Span(float, 0.0, 100_000.0)  # frames (an integer) or seconds (a float), as PySceneDetect reads it
_DETECTOR_SPANS: dict[str, dict[str, Span]] = {
    "adaptive": {"adaptive_threshold": Span(float, 0.0, 255.0), "min_scene_len": _SCENE_LEN,
                 "window_width": Span(int, 1, 100), "min_content_val": Span(float, 0.0, 255.0),
                 "kernel_size": Span(int, 3, 255, none=True)},
    "content": {"threshold": Span(float, 0.0, 255.0), "min_scene_len": _SCENE_LEN,
                "kernel_size": Span(int, 3, 255, none=True)},
    "histogram": {"threshold": Span(float, 0.0, 1.0), "bins": Span(int, 1, 256), "min_scene_len": _SCENE_LEN},
    "hash": {"threshold": Span(float, 0.0, 1.0), "size": Span(int, 2, 64), "lowpass": Span(int, 1, 16),
             "min_scene_len": _SCENE_LEN},
}
"""The values of the PySceneDetect detectors' numeric parameters (their other checks, and unknown
names, are the detector's own: :func:`framepick.scenes.make_detector`)."""
_WEIGHTS = ("delta_hue", "delta_sat", "delta_lum", "delta_edges")  # ContentDetector.Components


def _check_detector_params(detector: str, params: Any) -> None:
    """Types and spans of the detector parameters that have them (:data:`_DETECTOR_SPANS`,
    ``luma_only``, ``weights``); checked without importing PySceneDetect."""
    if not isinstance(params, dict):
        raise ConfigError(f"detector_params must be a table of parameters, got {shown(params)}")
    spans = _DETECTOR_SPANS.get(detector, {})
    for key, value in params.items():
        name = f"the {detector} detector's {key}"
        if key == "luma_only":
            flag(name, value)
        elif key == "weights" and getattr(value, "_fields", None) != _WEIGHTS:
            raise ConfigError(f"{name} must be PySceneDetect's ContentDetector.Components({', '.join(_WEIGHTS)}) "
                              f"(not settable from TOML or the command line), got {shown(value)}")
        elif key in spans:
            span = spans[key]
            if not (value is None and span.none) and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
                raise ConfigError(f"{name} must be a number, got {shown(value)}")
            span.check(name, value)  # checked, not converted: an int and a float mean frames and seconds


# --------------------------------------------------------------------------- the config classes

ANALYSIS_SPANS: dict[str, Span] = {
    "size": Span(int, 16, 4096),
    "rate_fps": Span(float, 0.0, MAX_FPS, low_included=False, none=True),
    "thumb_fps": Span(float, 0.0, 100.0, low_included=False),
    "thumb_size": Span(int, 8, 1024),
    "threads": Span(int, 0, MAX_THREADS),
}
"""The values of :class:`AnalysisConfig`'s numeric settings."""
LIMIT_SPANS: dict[str, Span] = {"timeout_s": Span(float, 1.0, MAX_SECONDS), "timeout_ratio": Span(float, 0.0, 1000.0)}
"""The values of :class:`JobConfig`'s time limits (seconds, and seconds per second of video)."""


@dataclass(frozen=True)
class AnalysisConfig:
    """Parameters of the analysis pass; together with the file's identity they key the cache.

    Parameters
    ----------
    size : int
        Longer side of the analysis frames in pixels (the shorter side keeps the aspect ratio and
        is rounded to an even number).
    rate_fps : float or None
        Analysed frames per second; ``None`` analyses every frame. Every frame is still decoded
        (codecs need it) and timed, but only the analysed ones are scaled and scored.
    keyframes_only : bool
        A quick first look: decode and analyse keyframes only (every frame is still timed from its
        packet header). Much faster on long videos; scores and cuts are only as fine as the
        keyframe spacing (see reports/keyframe_scan.md).
    reference_only : bool
        Decode and analyse only the reference frames (the default; PyAV, FFmpeg's
        ``skip_frame=nonref``: most B-frames skipped, every decoded picture exact, every frame timed
        from its packet): scores between consecutive decoded frames, blend windows of as many
        seconds as with every frame, the scene detector reading the gaps between decoded frames
        both as blends and as they are (:class:`framepick.scenes.SceneTracker`). 1.4-1.6x faster
        than every frame (reports/analysis.md), with the same cuts and, video by video, the same
        selections within noise (reports/modes.md). ``False`` decodes every frame
        (``--every-frame``), as do streams without non-reference frames (intra-only, H.264
        baseline), packets without timestamps in order, decord and ``keyframes_only``; only an
        every-frame analysis can be split into segments (:mod:`framepick.segments`).
    backend : {"auto", "pyav", "decord"}
        Frame source. ``"auto"`` picks PyAV, which streams in flat memory (see reports/analysis.md).
    detector : {"adaptive", "content", "histogram", "hash"}
        PySceneDetect detector; ``detector_params`` are passed to its constructor as they are.
    thumb_fps : float
        Thumbnails kept per second of video (for widgets and metrics).
    thumb_size : int
        Longer side of the thumbnails in pixels.
    threads : int
        Decoder threads; 0 means one per core. With PyAV, where the stream's packets are timed
        and start at a keyframe (almost every file, open GOPs included) that many single-threaded
        decoders each decode whole GOPs side by side, each scaling what it decodes; otherwise one
        decoder runs that many threads.
    """

    size: int = 128
    rate_fps: float | None = None
    keyframes_only: bool = False
    reference_only: bool = True
    backend: str = "auto"
    detector: str = "adaptive"
    detector_params: dict[str, Any] = field(default_factory=dict)
    thumb_fps: float = 1.0
    thumb_size: int = 64
    threads: int = 0

    def __post_init__(self) -> None:
        for name, span in ANALYSIS_SPANS.items():
            span.check("analysis size" if name == "size" else name, getattr(self, name))
        flag("keyframes_only", self.keyframes_only)
        flag("reference_only", self.reference_only)
        if self.keyframes_only and self.rate_fps is not None:
            raise ConfigError("keyframes_only and rate_fps exclude each other")
        if self.backend not in BACKENDS:
            raise ConfigError(f"unknown backend {shown(self.backend)}; choose one of {BACKENDS}")
        if self.detector not in DETECTORS:
            raise ConfigError(f"unknown detector {shown(self.detector)}; choose one of {DETECTORS}")
        _check_detector_params(self.detector, self.detector_params)

    @property
    def skips_nonreference(self) -> bool:
        """Whether the pass decodes reference frames only: ``reference_only``, unless
        ``keyframes_only`` asks for less."""
        return self.reference_only and not self.keyframes_only

    @property
    def fills_gaps(self) -> bool:
        """Whether the scene detector is given the frames between decoded ones as blends: a
        reference-frames pass meant to see every frame (not one at ``rate_fps``)."""
        return self.skips_nonreference and self.rate_fps is None

    @property
    def thread_count(self) -> int:
        """``threads`` with 0 resolved to the number of usable cores."""
        return self.threads or usable_cores()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict of every field."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnalysisConfig:
        """Inverse of :meth:`to_dict`; unknown keys are a :class:`ConfigError`."""
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ConfigError(f"unknown analysis settings: {sorted(unknown)}")
        return cls(**data)

    def with_overrides(self, **settings: Any) -> AnalysisConfig:
        """A copy with some settings replaced, checked as the TOML file's are (the detector is
        built once with its parameters).

        Another ``detector`` drops the parameters of the one it replaces; ``detector_params`` are
        added to the ones kept.
        """
        if not settings:
            return self
        unknown = sorted(set(settings) - {f.name for f in dataclasses.fields(self)}, key=str)
        if unknown:
            raise ConfigError(f"unknown analysis settings: {unknown}")
        detector = settings.get("detector", self.detector)
        params = dict(self.detector_params) if detector == self.detector else {}
        added = settings.pop("detector_params", None) or {}
        _check_detector_params(detector, added)
        params.update(added)
        config = dataclasses.replace(self, **settings, detector_params=params)
        if (config.detector, config.detector_params) != (self.detector, self.detector_params):
            config = _analysis_config(config.to_dict())
        return config

    def key(self) -> str:
        """Canonical JSON of the settings that change the result (``threads`` does not)."""
        data = self.to_dict()
        del data["threads"]
        return json.dumps(data, sort_keys=True, default=str)


@dataclass(frozen=True)
class OutputConfig:
    """How extracted frames are sized and encoded.

    Parameters
    ----------
    resize : {"qwen", "longest", "none"}
        Size rule, see the module docstring.
    longest_side : int, optional
        Longer side in pixels for ``resize="longest"`` (required there, unused otherwise).
    factor : int
        ``"qwen"``: both sides are multiples of it; 28 for Qwen2.5-VL (14 px patches merged 2x2),
        32 for Qwen3-VL.
    min_pixels, max_pixels, total_pixels : int, optional
        ``"qwen"``: qwen-vl-utils' ``min_pixels`` (default ``128 * factor**2``), an extra cap
        ``max_pixels`` on each frame (default none beyond qwen's ``768 * factor**2``), and the
        ``total_pixels`` budget of the whole clip (default ``128000 * factor**2 * 0.9``).
        Non-default values are repeated in the manifest's Qwen entry, so qwen-vl-utils keeps
        the size.
    jpeg_quality : int
        JPEG quality, 1 to 95 (Pillow's scale).
    """

    resize: str = "qwen"
    longest_side: int | None = None
    factor: int = 28
    min_pixels: int | None = None
    max_pixels: int | None = None
    total_pixels: int | None = None
    jpeg_quality: int = 90

    def __post_init__(self) -> None:
        if self.resize not in RESIZE_RULES:
            raise ConfigError(f"resize: unknown rule {shown(self.resize)}; choose one of {RESIZE_RULES}")
        if self.resize == "longest" and self.longest_side is None:
            raise ConfigError('longest_side: required when resize = "longest"')
        integer("factor", self.factor, low=1, high=1024)
        integer("jpeg_quality", self.jpeg_quality, low=1, high=95)
        if self.longest_side is not None:
            integer("longest_side", self.longest_side, low=1, high=MAX_SIDE)
        check_pixels(self.factor, min_pixels=self.min_pixels, max_pixels=self.max_pixels,
                     total_pixels=self.total_pixels)

    def frame_size(self, width: int, height: int, frames: int) -> tuple[int, int]:
        """(width, height) in pixels of the output frames of a ``width`` x ``height`` video (upright)
        when ``frames`` frames are extracted."""
        if self.resize == "qwen":
            return listed_frame_size(width, height, frames, factor=self.factor, min_pixels=self.min_pixels,
                                     max_pixels=self.max_pixels, total_pixels=self.total_pixels)
        if self.resize == "longest":
            from .decode import scaled_size

            assert self.longest_side is not None  # required with "longest" (__post_init__)
            return scaled_size(width, height, self.longest_side)
        return width, height

    def qwen_options(self) -> dict[str, int]:
        """The qwen-vl-utils settings that differ from its defaults (for the Qwen entry)."""
        if self.resize != "qwen":
            return {}
        names = ("min_pixels", "max_pixels", "total_pixels")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the fields that are set (None ones are left out)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OutputConfig:
        """Inverse of :meth:`to_dict`; unknown keys are a :class:`ConfigError`."""
        unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ConfigError(f"unknown output setting(s) {unknown}")
        return cls(**data)


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

    def timeout_for(self, duration_s: float) -> float:
        """Wall-clock limit in seconds for a video lasting ``duration_s`` seconds."""
        return self.timeout_s + self.timeout_ratio * max(0.0, duration_s)

    def resolved_params(self) -> dict[str, Any]:
        """The strategy's full parameters: its defaults updated with ``params``, and temporal
        pairs (``pair_s``, see :mod:`framepick.select`) on for Qwen's output size rule where the
        strategy takes them and ``params`` does not name them (an explicit ``None`` or 0 keeps
        them off)."""
        params = {**strategy_defaults(self.strategy), **self.params}
        if "pair_s" in params and "pair_s" not in self.params and self.output.resize == "qwen":
            params["pair_s"] = PAIR_S
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
    from .scenes import make_detector

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
