"""Result types shared by every step: what a video is, how it was analysed, what was selected.

Units are in the names: ``*_frames`` and ``index`` are frame indices (0-based, in decode order of the
chosen video stream), ``*_s`` are seconds. Scenes are ``[start, end)`` frame ranges everywhere.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .settings import AnalysisConfig

__all__ = ["VideoInfo", "Analysis", "Selection"]

@dataclass(frozen=True)
class VideoInfo:
    """What a video is, as far as framepick needs to know.

    ``width`` and ``height`` are the *display* size in pixels, as players and ffmpeg show the
    video: the stored width stretched by the sample aspect ratio (``sample_aspect_ratio``, SAR:
    an anamorphic 704x576 file with SAR 16:11 shows as 1024x576), then the rotation metadata
    applied (a phone video recorded upright has ``height > width``). ``stored_width`` and
    ``stored_height`` are the decoded pictures' own size, before either. ``frames`` is the number of
    frames the decoder delivers, ``fps`` their average rate, ``duration_s`` the span from the
    first frame's time to the end of the last frame. ``keyframes`` are frame indices.
    ``stream_index`` is the container's index of the video stream used, out of ``video_streams``
    video streams (cover art not counted).
    """

    path: str
    frames: int
    fps: float
    duration_s: float
    width: int
    height: int
    codec: str
    rotation: int = 0
    stream_index: int = 0
    video_streams: int = 1
    keyframes: tuple[int, ...] = ()
    stored_width: int | None = None
    stored_height: int | None = None
    sample_aspect_ratio: tuple[int, int] = (1, 1)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict of every field."""
        out = dataclasses.asdict(self)
        out["keyframes"] = list(self.keyframes)
        out["sample_aspect_ratio"] = list(self.sample_aspect_ratio)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VideoInfo:
        """Inverse of :meth:`to_dict`."""
        return cls(**{**data, "keyframes": tuple(int(k) for k in data.get("keyframes", ())),
                      "sample_aspect_ratio": tuple(data.get("sample_aspect_ratio", (1, 1)))})


@dataclass(frozen=True, eq=False)
class Analysis:
    """Everything one streaming decode pass learns about a video.

    Attributes
    ----------
    info : VideoInfo
    config : AnalysisConfig
    decoder : str
        The backend that decoded the frames (``"pyav"`` or ``"decord"``).
    frame_times_s : float64 array, shape (info.frames,)
        Presentation time of every frame in seconds, from the decoder's timestamps (true times for
        variable frame rate), relative to the first frame.
    score_indices : int64 array, shape (m,)
        Frame indices that were analysed (all frames unless ``config.rate_fps`` is set).
    score : float32 array, shape (m,)
        One value per analysed frame, not per frame: ``score[i]`` is frame ``score_indices[i]`` 's
        (by frame index: :meth:`score_at`). The change score in [0, 1] of each analysed frame
        against the previous analysed frame: the fade-invariant local measure of
        :func:`framepick.score.local_difference` (a fade or an exposure drift scores near 0, a
        change on a sixteenth of the frame scores high). ``score[0]`` is 0.
    luma_diff : float32 array, shape (m,)
        Mean absolute luma difference, divided by 255.
    hist_diff : float32 array, shape (m,)
        Total-variation distance between colour histograms, in [0, 1].
    scenes : int64 array, shape (k, 2)
        ``[start, end)`` frame ranges of the detected scenes; they tile ``[0, info.frames)``.
    thumb_indices : int64 array, shape (t,)
        Frame index of each thumbnail.
    thumbs : uint8 array, shape (t, h, w, 3)
        RGB thumbnails, longer side ``config.thumb_size``.
    transitions : int64 array, shape (j, 2)
        ``[start, end)`` frame ranges of the gradual transitions (fades, dissolves; see
        :mod:`framepick.transitions`), sorted and disjoint. Scenes are split at them; the
        selection puts no frame inside one while the scene around can take it. Empty for a
        ``keyframes_only`` analysis.
    transition_kinds : str array, shape (j,)
        ``"fade_in"``, ``"fade_out"`` or ``"dissolve"``, one per transition.
    state_changes : int64 array, shape (s,)
        First frame of every new *state* (see :mod:`framepick.states`): where part of the picture
        changed and stayed changed (a slide, a bullet revealed, a caption, a window switch, an
        object that arrives and stays), ongoing motion aside. Sorted; cuts may be among them.
        Empty for a ``keyframes_only`` analysis.
    state_strengths : float32 array, shape (s,)
        How strong each state change is (the ``step`` measure, in [0, 1]).
    elapsed_s : float
        Wall time of the analysis pass in seconds.
    """

    info: VideoInfo
    config: AnalysisConfig
    decoder: str
    frame_times_s: np.ndarray
    score_indices: np.ndarray
    score: np.ndarray
    luma_diff: np.ndarray
    hist_diff: np.ndarray
    scenes: np.ndarray
    thumb_indices: np.ndarray
    thumbs: np.ndarray
    transitions: np.ndarray = field(default_factory=lambda: np.empty((0, 2), np.int64))
    transition_kinds: np.ndarray = field(default_factory=lambda: np.empty(0, "<U8"))
    state_changes: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    state_strengths: np.ndarray = field(default_factory=lambda: np.empty(0, np.float32))
    elapsed_s: float = 0.0

    @property
    def scored(self) -> bool:
        """Whether this is a full analysis; False for the frame times alone (see
        :func:`framepick.analysis.timing`): no scores, one scene, no thumbnails."""
        return len(self.score_indices) > 0

    @property
    def cuts(self) -> np.ndarray:
        """First frame of every scene but the first (int64, shape (k - 1,))."""
        return self.scenes[1:, 0].copy()

    def times_of(self, indices: np.ndarray) -> np.ndarray:
        """Presentation times in seconds of frame ``indices`` (an index equal to ``info.frames``
        maps to the end of the video)."""
        ends = np.append(self.frame_times_s, self.info.duration_s)
        return ends[np.asarray(indices, dtype=np.int64)]

    @property
    def scene_times_s(self) -> np.ndarray:
        """``[start, end)`` of every scene in seconds (float64, shape (k, 2))."""
        return self.times_of(self.scenes)

    def in_transition(self) -> np.ndarray:
        """Whether each frame lies inside a gradual transition (bool, shape (info.frames,))."""
        inside = np.zeros(self.info.frames + 1, dtype=np.int64)
        np.add.at(inside, self.transitions[:, 0], 1)
        np.add.at(inside, self.transitions[:, 1], -1)
        return np.cumsum(inside[:-1]) > 0

    def scene_of(self, indices: np.ndarray) -> np.ndarray:
        """Scene number (0-based) of every frame index in ``indices``."""
        return np.searchsorted(self.scenes[:, 0], np.asarray(indices), side="right") - 1

    def score_at(self, frames: np.ndarray | int, measure: str = "score") -> np.ndarray:
        """The change ``measure`` (``"score"``, ``"luma_diff"`` or ``"hist_diff"``) at frame
        indices ``frames``, float32 of their shape.

        ``score`` and its siblings hold one value per *analysed* frame (``score_indices``), not
        per frame: ``score[i]`` belongs to frame ``score_indices[i]``. This looks frames up: a
        frame gets the value of the first analysed frame at or after it, the change measured
        across the stretch it lies in (0 after the last analysed frame).

        Raises
        ------
        ValueError
            An unknown ``measure``, or a frame index that is negative.
        """
        if measure not in ("score", "luma_diff", "hist_diff"):
            raise ValueError(f"measure: must be 'score', 'luma_diff' or 'hist_diff', got {measure!r}")
        frames = np.asarray(frames, dtype=np.int64)
        if np.any(frames < 0):
            raise ValueError("frames: frame indices must not be negative")
        values = np.append(getattr(self, measure), np.float32(0)).astype(np.float32)
        return values[np.searchsorted(self.score_indices, frames, side="left")]


@dataclass(frozen=True, eq=False)
class Selection:
    """Frames chosen by one strategy, with everything needed to reproduce the choice.

    Attributes
    ----------
    indices : int64 array, shape (n,)
        Sorted, unique frame indices.
    times_s : float64 array, shape (n,)
        Their presentation times in seconds.
    strategy : str
        Name of the strategy that chose them.
    params : dict
        The strategy's full parameters, defaults included (JSON-able).
    """

    indices: np.ndarray
    times_s: np.ndarray
    strategy: str
    params: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def paired(self) -> bool:
        """Whether the frames come in temporal pairs, two per moment (``params["pair_s"]``)."""
        return bool(self.params.get("pair_s"))

    @property
    def moments(self) -> int:
        """Moments shown: one per frame, or one per pair of frames when :attr:`paired`."""
        return len(self) // 2 if self.paired else len(self)

    def count_text(self) -> str:
        """``"16 frames"``, or ``"16 frames in 8 pairs"`` when paired."""
        return f"{len(self)} frames in {self.moments} pairs" if self.paired else f"{len(self)} frames"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        return {
            "strategy": self.strategy,
            "params": dict(self.params),
            "indices": [int(i) for i in self.indices],
            "times_s": [float(t) for t in self.times_s],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Selection:
        """Inverse of :meth:`to_dict`."""
        return cls(
            indices=np.asarray(data["indices"], dtype=np.int64),
            times_s=np.asarray(data["times_s"], dtype=np.float64),
            strategy=data["strategy"],
            params=dict(data.get("params", {})),
        )
