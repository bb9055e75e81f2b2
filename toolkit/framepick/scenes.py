"""Scene boundaries from a detector fed the frames the analysis already decoded: one of
PySceneDetect's own, or TransNetV2 (:mod:`framepick.transnet`).

framepick does not reimplement scene detection: :class:`SceneTracker` hands each analysed frame
(converted to BGR, as PySceneDetect expects) to a ``scenedetect`` detector and collects its cuts,
:class:`NetworkTracker` hands every frame to TransNetV2, so a video is decoded once for scores,
scenes and thumbnails together (:func:`make_tracker` builds the one a detector needs).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from .errors import ConfigError
from .transnet import REACH_FRAMES, Probabilities, TransNetDetector, TransNetRunner

__all__ = ["make_detector", "make_tracker", "SceneTracker", "NetworkTracker", "in_between", "scenes_from_cuts",
           "detector_reach", "threshold_params", "cuts_from_candidates"]


def _detector_classes() -> dict[str, type]:
    from scenedetect.detectors import (
        AdaptiveDetector,
        ContentDetector,
        HashDetector,
        HistogramDetector,
    )

    return {
        "adaptive": AdaptiveDetector,
        "content": ContentDetector,
        "histogram": HistogramDetector,
        "hash": HashDetector,
        "transnetv2": TransNetDetector,
    }


def make_detector(name: str, params: dict[str, Any] | None = None):
    """A new detector ``name`` built with ``params`` (its constructor's arguments).

    Parameters
    ----------
    name : {"adaptive", "content", "histogram", "hash", "transnetv2"}
        PySceneDetect's ``AdaptiveDetector``, ``ContentDetector``, ``HistogramDetector`` or
        ``HashDetector``, or :class:`framepick.transnet.TransNetDetector`.
    params : dict, optional
        Keyword arguments of that class, e.g. ``{"threshold": 27.0, "min_scene_len": 15}`` for
        ``content``; ``min_scene_len`` counts analysed frames (or seconds, given as a float).

    Raises
    ------
    ConfigError
        Unknown detector, a parameter the detector does not take or rejects, or ``transnetv2``
        without its package.
    """
    classes = _detector_classes()
    if name not in classes:
        raise ConfigError(f"unknown scene detector {name!r}; choose one of {sorted(classes)}")
    defaults = _settings(name, {})
    for key, value in (params or {}).items():  # a number where the detector expects one: "abc" fails late
        if isinstance(defaults.get(key), (int, float)) and not isinstance(defaults.get(key), bool) and (
                isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ConfigError(f"the {name} detector's {key} must be a number, got {value!r}")
    try:
        return classes[name](**(params or {}))
    except ConfigError:  # a detector's own: transnetv2 without its package
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"bad parameters for the {name} detector {params!r}: {exc}") from exc


def make_tracker(detector: str, params: dict[str, Any], *, fps: float, fill_gaps: bool = False,
                 first_index: int = 0) -> SceneTracker | NetworkTracker:
    """The tracker of detector ``detector``: a :class:`NetworkTracker` for TransNetV2 (which reads
    ``first_index``), else a :class:`SceneTracker` (which reads ``fill_gaps``). Arguments as theirs."""
    if _detector_classes().get(detector) is TransNetDetector:
        return NetworkTracker(detector, params, fps=fps, first_index=first_index)
    return SceneTracker(detector, params, fps=fps, fill_gaps=fill_gaps)


class SceneTracker:
    """Feeds analysed frames to a PySceneDetect detector and turns its cuts into ``[start, end)`` scenes.

    Parameters
    ----------
    detector : str
        Detector name, see :func:`make_detector`.
    params : dict
        Detector parameters.
    fps : float
        The video's average frame rate, which gives the detector its notion of time.
    fill_gaps : bool
        For an analysis of reference frames only, which means to see every frame: read the gaps
        between analysed frames two ways (below) and keep the cuts of either.

    Each frame is given to the detector with its true frame index, so a subsampled analysis (or
    keyframes only) keeps the detector's frame-based settings, such as ``min_scene_len``, in
    frames of the video.

    Why ``fill_gaps``: decoding reference frames only leaves gaps of one to a few frames,
    irregularly, and neither way of reading them sees every cut. Given the decoded frames alone,
    the adaptive detector (which divides a frame's change by its neighbours' average) sees
    neighbours' changes that span two or three frames of motion, and a marginal cut's ratio can
    fall below the threshold (tests/data/bikes.mp4's cut at frame 76 does; tests/test_decode.py
    checks that both modes find its known cuts). Given the gaps as :func:`in_between` blends, as
    steady motion would fill them, the ratios come back, but a cut that falls inside a gap is
    spread over its frames: after fast motion (a short insert of moving footage ending on a still
    picture) its ratio drops below the threshold. So a second detector of the same kind reads the
    decoded frames alone, both report every frame where their threshold is met, and the cuts are
    the union of the two, thinned by the detector's own rule (``min_scene_len``, the content
    detector's flash filter; :func:`cuts_from_candidates`). Until the first gap the two readings
    see the same frames, so the second is a copy of the first made there (a stream without
    non-reference frames runs one detector).
    """

    def __init__(self, detector: str, params: dict[str, Any], *, fps: float, fill_gaps: bool = False) -> None:
        from scenedetect import FrameTimecode

        self._timecode = FrameTimecode
        self._name, self._params = detector, params
        self._fps = float(fps)
        self._first_index: int | None = None
        self._last_index: int | None = None
        self._last_frame: np.ndarray | None = None
        self._fill_gaps = fill_gaps  # then threshold candidates: of the blends, then also of the frames alone
        self._readings = [_Reading(make_detector(detector, threshold_params(params) if fill_gaps else params))]

    def update(self, indices: np.ndarray, frames: np.ndarray) -> None:
        """Process analysed frames (uint8 RGB, (n, h, w, 3)) with their frame ``indices``."""
        for index, frame, bgr in zip(indices.tolist(), frames, _bgr(frames)):
            last = self._last_index
            if last is None:
                self._first_index = index
            elif self._fill_gaps and index > last + 1:
                assert self._last_frame is not None
                if len(self._readings) == 1:  # the first gap: the frames alone are read from here on
                    self._readings.append(copy.deepcopy(self._readings[0]))
                blends = _bgr(in_between(self._last_frame, frame, index - last - 1))
                for between, blend in enumerate(blends, start=last + 1):
                    self._readings[0].process(self._at(between), blend)
            timecode = self._at(index)
            for reading in self._readings:
                reading.process(timecode, bgr)
            self._last_index = index
            if self._fill_gaps:
                self._last_frame = frame.copy()

    def scenes(self, total_frames: int) -> np.ndarray:
        """Finish detection and return the scenes tiling ``[0, total_frames)`` (int64, (k, 2))."""
        if self._last_index is None:
            return scenes_from_cuts(np.empty(0, np.int64), total_frames)
        last = self._at(self._last_index)
        cuts = np.concatenate([reading.finish(last) for reading in self._readings])
        if self._fill_gaps:
            assert self._first_index is not None
            cuts = cuts_from_candidates(self._name, self._params, fps=self._fps, candidates=cuts,
                                        analysed=np.arange(self._first_index, self._last_index + 1))
        return scenes_from_cuts(cuts, total_frames)

    def _at(self, index: int):
        return self._timecode(index, fps=self._fps)


class _Reading:
    """One detector and the cuts it has reported."""

    def __init__(self, detector) -> None:
        self.detector = detector
        self.cuts: list[int] = []

    def process(self, timecode, bgr: np.ndarray) -> None:
        self.cuts += [cut.frame_num for cut in self.detector.process_frame(timecode, bgr)]

    def finish(self, last) -> np.ndarray:
        """The cuts, once the detector has seen frame ``last`` (a ``FrameTimecode``), int64."""
        self.cuts += [cut.frame_num for cut in self.detector.post_process(last)]
        return np.asarray(self.cuts, dtype=np.int64)


class NetworkTracker:
    """Feeds analysed frames to TransNetV2 (:mod:`framepick.transnet`) and turns the frames where
    its scenes start into ``[start, end)`` scenes; :class:`SceneTracker`'s interface.

    The network reads every frame of the video: the frames between analysed ones (an analysis of
    reference frames only) are given to it as :func:`in_between` blends, as ``SceneTracker``'s
    ``fill_gaps`` gives them. The minimum scene length is applied at the end, to every frame
    where a scene starts (:func:`cuts_from_candidates`). The network's transition probabilities
    are not used: fades and dissolves are the scorer's (:mod:`framepick.transitions`).

    Parameters
    ----------
    detector : str
        ``"transnetv2"``.
    params : dict
        Its parameters (:class:`framepick.transnet.TransNetDetector`).
    fps : float
        The video's average frame rate (the clock of ``min_scene_len`` in seconds).
    first_index : int
        Frame index in the video of the frame numbered 0 in :meth:`update`'s ``indices`` (a
        segment's first decoded frame; the network's windows are aligned on the video's frames).
    """

    def __init__(self, detector: str, params: dict[str, Any], *, fps: float, first_index: int = 0) -> None:
        self._name, self._params, self._fps = detector, params, float(fps)
        self._detector = make_detector(detector, params)
        self._first_index = first_index
        self._runner: TransNetRunner | None = None  # made at the first frame, which it is told
        self._first: int | None = None
        self._last_index: int | None = None
        self._last_frame: np.ndarray | None = None
        self._before = 0.0  # cut probability of the frame before the next one given: none, so not above
        self._candidates: list[int] = []  # frames where a scene starts, any minimum length aside

    def update(self, indices: np.ndarray, frames: np.ndarray) -> None:
        """Process analysed frames (uint8 RGB, (n, h, w, 3)) with their frame ``indices``."""
        if len(indices) == 0:
            return
        if self._runner is None:
            self._first = int(indices[0])
            self._runner = TransNetRunner(first_index=self._first_index + self._first)
        self._take(self._runner.update(self._every_frame(indices, frames)))

    def scenes(self, total_frames: int) -> np.ndarray:
        """Finish detection and return the scenes tiling ``[0, total_frames)`` (int64, (k, 2))."""
        if self._runner is None:
            return scenes_from_cuts(np.empty(0, np.int64), total_frames)
        assert self._first is not None and self._last_index is not None
        self._take(self._runner.finish())
        cuts = cuts_from_candidates(self._name, self._params, fps=self._fps, candidates=np.asarray(self._candidates),
                                    analysed=np.arange(self._first, self._last_index + 1))
        return scenes_from_cuts(cuts, total_frames)

    def _every_frame(self, indices: np.ndarray, frames: np.ndarray) -> np.ndarray:
        """``frames`` with the frames missing between them and since the previous call's last
        frame as :func:`in_between` blends: every frame up to ``indices[-1]`` (uint8, (m, h, w, 3))."""
        parts = []
        for index, frame in zip(indices.tolist(), frames):
            gap = 0 if self._last_index is None else index - self._last_index - 1
            if gap > 0:
                assert self._last_frame is not None
                parts.append(in_between(self._last_frame, frame, gap))
            parts.append(frame[np.newaxis])
            self._last_index, self._last_frame = index, frame
        self._last_frame = frames[-1].copy()  # the chunk's frames are not kept
        return np.concatenate(parts)

    def _take(self, found: Probabilities) -> None:
        """Keep the frames where scenes start among the network's :class:`~framepick.transnet.Probabilities`."""
        starts = self._detector.scene_starts(found.cut, before=self._before)
        self._candidates += (found.start - self._first_index + starts).tolist()
        if len(found.cut):
            self._before = float(found.cut[-1])


def _bgr(frames: np.ndarray) -> np.ndarray:
    """RGB frames (uint8, (n, h, w, 3)) as the contiguous BGR arrays PySceneDetect expects, in
    one OpenCV call (rather than numpy's slower copy of the reversed channels)."""
    import cv2

    n, height, width, _ = frames.shape
    if n == 0:
        return frames
    flat = np.ascontiguousarray(frames).reshape(n * height, width, 3)
    return cv2.cvtColor(flat, cv2.COLOR_RGB2BGR).reshape(frames.shape)


def in_between(before: np.ndarray, after: np.ndarray, count: int) -> np.ndarray:
    """The ``count`` frames evenly between ``before`` and ``after`` (uint8, shape (h, w, c)) as
    linear blends: frame ``k`` of ``count`` is ``before + (k + 1) / (count + 1) * (after - before)``,
    rounded. Returns uint8, shape (count, h, w, c).

    >>> in_between(np.zeros((1, 1, 1), np.uint8), np.full((1, 1, 1), 90, np.uint8), 2).ravel().tolist()
    [30, 60]
    """
    weights = (np.arange(1, count + 1, dtype=np.float32) / (count + 1))[:, None, None, None]
    start = before.astype(np.float32)
    return np.rint(start + weights * (after.astype(np.float32) - start)).astype(np.uint8)


def scenes_from_cuts(cuts: np.ndarray, total_frames: int) -> np.ndarray:
    """``[start, end)`` scenes (int64, (k, 2)) tiling ``[0, total_frames)`` split at ``cuts``.

    Cuts are first frames of new scenes; duplicates and cuts outside ``(0, total_frames)`` are
    dropped.
    """
    cuts = np.unique(np.asarray(cuts, dtype=np.int64))
    cuts = cuts[(cuts > 0) & (cuts < total_frames)]
    bounds = np.concatenate([[0], cuts, [total_frames]]).astype(np.int64)
    return np.stack([bounds[:-1], bounds[1:]], axis=1)


# Segment-parallel detection (see framepick.segments). Whether a detector's threshold is met at a
# frame depends on a few analysed frames around it; only its minimum scene length links distant
# frames. So segments run the detector with ``min_scene_len = 0`` (every frame where the
# threshold is met is reported), and the minimum length is applied once, to all of them, by the
# same rule the detector follows.


def _settings(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """The detector's constructor arguments: its defaults updated with ``params``."""
    import inspect

    signature = inspect.signature(_detector_classes()[name])
    defaults = {k: p.default for k, p in signature.parameters.items() if p.default is not inspect.Parameter.empty}
    return {**defaults, **params}


def detector_reach(name: str, params: dict[str, Any]) -> tuple[int, int]:
    """Analysed frames (before, after) a frame that decide whether detector ``name``'s threshold is
    met there: the adaptive detector compares a frame's score with ``window_width`` scores on
    either side (each score needs the frame before it); TransNetV2 reads the windows around it and
    the frame before it (:data:`framepick.transnet.REACH_FRAMES`); the others compare two frames."""
    if name == "adaptive":
        width = int(_settings(name, params)["window_width"])
        return width + 1, width
    if _detector_classes()[name] is TransNetDetector:
        return REACH_FRAMES
    return 1, 0


def threshold_params(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with ``min_scene_len = 0``: the detector then reports every frame where its
    threshold is met, candidates for :func:`cuts_from_candidates`."""
    return {**params, "min_scene_len": 0}


def cuts_from_candidates(name: str, params: dict[str, Any], *, fps: float, analysed: np.ndarray,
                         candidates: np.ndarray) -> np.ndarray:
    """The cuts detector ``name`` built with ``params`` reports on analysed frames ``analysed``
    (sorted frame indices), given the ``candidates`` among them where its threshold is met.

    The content detector passes every frame through PySceneDetect's ``FlashFilter``; the
    adaptive, histogram, hash and transnetv2 detectors accept a candidate that lies at least
    ``min_scene_len`` after the last cut (the first analysed frame at first).
    """
    from scenedetect import FrameTimecode
    from scenedetect.detector import FlashFilter

    settings = _settings(name, params)
    length = settings["min_scene_len"]
    wanted = set(np.asarray(candidates, dtype=np.int64).tolist())
    cuts: list[int] = []
    if len(analysed) == 0:
        return np.empty(0, np.int64)
    if name == "content":
        flash = FlashFilter(mode=settings["filter_mode"], length=length)
        for index in np.asarray(analysed, dtype=np.int64).tolist():
            cuts += [cut.frame_num for cut in flash.filter(FrameTimecode(index, fps=fps), index in wanted)]
    else:
        last_cut = FrameTimecode(int(analysed[0]), fps=fps)
        for index in sorted(wanted):
            timecode = FrameTimecode(index, fps=fps)
            if (timecode - last_cut) >= length:
                cuts.append(index)
                last_cut = timecode
    return np.asarray(cuts, dtype=np.int64)
