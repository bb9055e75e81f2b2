"""How a video is analysed (:class:`AnalysisConfig`) and how frames are written
(:class:`OutputConfig`): the settings the layers below the job read, checked on construction
whatever they come from (TOML, the command line, the API). Each failure is one
:class:`~framepick.errors.ConfigError` line naming the setting, the allowed values and the value
given. The whole job (strategy, these settings, limits, TOML) is :mod:`framepick.config`.

The names a setting may take are registries read by the command line, the config and the docs
alike: :data:`BACKENDS` (frame sources, :mod:`framepick.decode`), :data:`DETECTORS`
(scene detectors, :mod:`framepick.scenes`), :data:`RESIZE_RULES`.
"""

from __future__ import annotations

import dataclasses
import json
import numbers
from dataclasses import dataclass, field
from typing import Any

from .checks import MAX_FPS, MAX_SIDE, MAX_THREADS, Span, check_pixels, flag, integer, shown, usable_cores
from .errors import ConfigError
from .qwen_rules import listed_frame_size
from .sizes import scaled_size

__all__ = ["BACKENDS", "DETECTORS", "RESIZE_RULES", "ANALYSIS_SPANS", "AnalysisConfig", "OutputConfig"]

BACKENDS = ("auto", "pyav", "decord")
"""Frame sources: ``"auto"`` (PyAV, which streams in flat memory) or one by name."""
DETECTORS = ("adaptive", "content", "histogram", "hash", "transnetv2")
"""Scene detectors, by the names of :func:`framepick.scenes.make_detector`: PySceneDetect's four,
and TransNetV2 (:mod:`framepick.transnet`; the optional extra ``framepick[transnetv2]``)."""
RESIZE_RULES = ("qwen", "longest", "none")
"""How output frames are sized (:class:`OutputConfig`)."""


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
    "transnetv2": {"threshold": Span(float, 0.0, 1.0), "min_scene_len": _SCENE_LEN},
}
"""The values of the detectors' numeric parameters (their other checks, and unknown names, are the
detector's own: :func:`framepick.scenes.make_detector`)."""
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


ANALYSIS_SPANS: dict[str, Span] = {
    "size": Span(int, 16, 4096),
    "rate_fps": Span(float, 0.0, MAX_FPS, low_included=False, none=True),
    "thumb_fps": Span(float, 0.0, 100.0, low_included=False),
    "thumb_size": Span(int, 8, 1024),
    "threads": Span(int, 0, MAX_THREADS),
}
"""The values of :class:`AnalysisConfig`'s numeric settings."""


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
        both as blends and as they are (:class:`framepick.scenes.SceneTracker`). Faster than
        every frame, since the skipped frames are never decoded (measured in reports/analysis.md),
        with the same cuts and, video by video, the same selections within noise (measured in
        reports/modes.md). ``False`` decodes every frame
        (``--every-frame``), as do streams without non-reference frames (intra-only, H.264
        baseline), packets without timestamps in order, decord and ``keyframes_only``; only an
        every-frame analysis can be split into segments (:mod:`framepick.segments`).
    backend : {"auto", "pyav", "decord"}
        Frame source. ``"auto"`` picks PyAV, which streams in flat memory (see reports/analysis.md).
    detector : {"adaptive", "content", "histogram", "hash", "transnetv2"}
        Scene detector (:data:`DETECTORS`); ``detector_params`` are passed to its constructor as
        they are. ``"transnetv2"`` reads every frame of the video (the frames between decoded
        ones as blends), so not with ``rate_fps`` or ``keyframes_only``.
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
        if self.detector == "transnetv2" and (self.rate_fps is not None or self.keyframes_only):
            raise ConfigError("the transnetv2 detector reads every frame: not with rate_fps or keyframes_only")
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
        """A copy with some settings replaced, each checked as on construction (the detector's own
        checks of its parameters run when an analysis builds it: :func:`framepick.scenes.make_detector`).

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
        return dataclasses.replace(self, **settings, detector_params=params)

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
