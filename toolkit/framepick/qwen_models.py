"""The Qwen model families and what their frames cost, as pure functions: each family's frame
geometry (:data:`FAMILIES`, :func:`model_factor`), the model a manifest's frames were sized for
(:func:`manifest_target`), the video tokens frames take (:func:`video_tokens`), and the frame
count and size that fit a budget of tokens (:func:`token_frames`, :func:`token_frame_size`),
read from transformers 5's Qwen2-VL and Qwen3-VL video processors (their ``patch_size``,
``merge_size``, ``temporal_patch_size`` and ``video_grid_thw``) on top of qwen-vl-utils' size
rule (:mod:`framepick.qwen_rules`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .checks import shown
from .errors import ArgumentError, ConfigError
from .qwen_rules import FRAME_FACTOR, SPATIAL_MERGE, VIDEO_MIN_TOKENS, listed_frame_size

__all__ = ["FAMILIES", "ModelFamily", "family_of", "model_factor", "manifest_target", "video_tokens",
           "token_frame_size", "token_frames", "check_tokens_alone"]


@dataclass(frozen=True)
class ModelFamily:
    """A Qwen vision model family's frame geometry, as its processor reads frames: square patches
    of ``patch_size`` pixels, ``merge_size`` x ``merge_size`` patches merged into one token, and
    ``temporal_patch_size`` consecutive frames in one temporal patch."""

    name: str
    patch_size: int
    merge_size: int = SPATIAL_MERGE
    temporal_patch_size: int = FRAME_FACTOR

    @property
    def factor(self) -> int:
        """Pixels per token along each side (``patch_size * merge_size``): frame sides are multiples of it."""
        return self.patch_size * self.merge_size

    def to_dict(self) -> dict[str, Any]:
        """What a manifest's ``target`` records: the family's name, sizes and factor."""
        return {"family": self.name, "patch_size": self.patch_size, "merge_size": self.merge_size,
                "temporal_patch_size": self.temporal_patch_size, "factor": self.factor}


FAMILIES: dict[str, ModelFamily] = {family.name: family for family in (ModelFamily("Qwen2.5-VL", 14),
                                                                        ModelFamily("Qwen3-VL", 16))}
"""The model families framepick sizes frames for, by name (transformers' processors' sizes)."""


def family_of(factor: int) -> ModelFamily | None:
    """The family whose frames are multiples of ``factor`` pixels (28: Qwen2.5-VL, 32: Qwen3-VL), if any."""
    return next((family for family in FAMILIES.values() if family.factor == factor), None)


def model_factor(model: Any) -> tuple[str, int]:
    """(name, factor) of the model ``model`` names: a family name of :data:`FAMILIES`, or a
    transformers processor or video processor whose ``patch_size * merge_size`` is the factor
    (read without importing transformers); an :class:`ArgumentError` otherwise.

    >>> model_factor("Qwen3-VL")
    ('Qwen3-VL', 32)
    """
    if isinstance(model, str):
        if model not in FAMILIES:
            raise ArgumentError(f"model must be one of {tuple(FAMILIES)} or a Qwen processor, got {shown(model)}")
        return model, FAMILIES[model].factor
    video = getattr(model, "video_processor", model)
    patch, merge = getattr(video, "patch_size", None), getattr(video, "merge_size", None)
    if not (isinstance(patch, int) and isinstance(merge, int) and patch > 0 and merge > 0):
        raise ArgumentError(f"model must be one of {tuple(FAMILIES)} or a processor with patch_size and "
                            f"merge_size, got {shown(model)}")
    family = family_of(patch * merge)
    return (family.name if family else f"a model of {patch} px patches"), patch * merge


def manifest_target(resize: str, factor: int) -> dict[str, Any] | None:
    """The model a manifest's frames were sized for (its ``target``), from the output's size rule
    ``resize`` and ``factor``: the family's :meth:`~ModelFamily.to_dict`; ``{"family": None,
    "factor": factor}`` for a factor no family has; None unless Qwen's rule (``"qwen"``) sized them.

    >>> manifest_target("qwen", 32)["family"], manifest_target("qwen", 56), manifest_target("none", 28)
    ('Qwen3-VL', {'family': None, 'factor': 56}, None)
    """
    if resize != "qwen":
        return None
    family = family_of(factor)
    return family.to_dict() if family is not None else {"family": None, "factor": factor}


def video_tokens(width: int, height: int, frames: int, *, factor: int) -> int:
    """Tokens Qwen's processors give ``frames`` frames of ``width`` x ``height`` pixels (multiples
    of ``factor``): one per ``factor`` x ``factor`` pixels of each temporal pair, an odd last frame
    padded to a pair (transformers' ``video_grid_thw`` product over ``merge_size**2``).

    >>> video_tokens(448, 252, 16, factor=28)  # 8 pairs of 16 x 9 tokens
    1152
    """
    return math.ceil(frames / FRAME_FACTOR) * (width // factor) * (height // factor)


def token_frame_size(width: int, height: int, frames: int, *, tokens: int, factor: int) -> tuple[int, int]:
    """Size to write ``frames`` frames of a video shown ``width`` x ``height`` at, within a budget
    of ``tokens`` video tokens: :func:`listed_frame_size` with qwen-vl-utils' ``total_pixels`` set
    to ``tokens * factor**2``, so that each temporal pair takes at most ``tokens / pairs`` tokens
    (and qwen-vl-utils' 768). Its floor (128 tokens a frame) may exceed that share: the count
    that fits is :func:`token_frames`'s.

    Returns
    -------
    (int, int)
        (width, height) in pixels, multiples of ``2 * factor``.
    """
    return listed_frame_size(width, height, frames, factor=factor, total_pixels=tokens * factor * factor)


def token_frames(width: int, height: int, frames: int, *, tokens: int, factor: int,
                 multiple_of: int = FRAME_FACTOR) -> int:
    """The most frames, ``frames`` or fewer by steps of ``multiple_of``, that fit a budget of
    ``tokens`` video tokens at their :func:`token_frame_size`, each frame keeping at least
    qwen-vl-utils' 128 tokens (so that neither it nor transformers' processor enlarges it).

    Fewer frames never take more tokens (each gets a larger share, and a frame held at the floor
    keeps its size), so the count is found by bisection.

    Parameters
    ----------
    width, height : int
        The video's displayed size in pixels.
    frames : int
        The count wanted (``>= 1``), e.g. qwen-vl-utils' count for the duration.
    tokens : int
        The budget: video tokens of the whole selection (:func:`video_tokens`).
    factor : int
        Pixels per token along each side (28: Qwen2.5-VL, 32: Qwen3-VL).
    multiple_of : int
        The step by which the count is lowered.

    Raises
    ------
    ConfigError
        Not even the smallest count (one temporal pair) fits.

    Examples
    --------
    >>> token_frames(1280, 720, 60, tokens=4000, factor=28), token_frames(1280, 720, 60, tokens=100_000, factor=28)
    (54, 60)
    """
    low = VIDEO_MIN_TOKENS * factor * factor

    def fits(count: int) -> bool:
        out_width, out_height = token_frame_size(width, height, count, tokens=tokens, factor=factor)
        return out_width * out_height >= low and video_tokens(out_width, out_height, count, factor=factor) <= tokens

    steps = (frames - 1) // multiple_of  # counts frames, frames - multiple_of, ..., the last >= 1
    if not fits(frames - steps * multiple_of):
        raise ConfigError(f"tokens={tokens} is below what one temporal pair of this {width}x{height} video takes "
                          f"at factor {factor} (at least {VIDEO_MIN_TOKENS} tokens a frame)")
    fewest, most = 0, steps  # the fewest steps down that fit
    while fewest < most:
        middle = (fewest + most) // 2
        fewest, most = (fewest, middle) if fits(frames - middle * multiple_of) else (middle + 1, most)
    return frames - fewest * multiple_of


def check_tokens_alone(resize: str, sizes: dict[str, Any]) -> None:
    """``tokens`` sets the frame size: a :class:`ConfigError` unless Qwen's size rule (``resize``
    ``"qwen"``) sizes the frames and no other size setting of ``sizes`` (name: value) is given."""
    if resize != "qwen":
        raise ConfigError(f'tokens sets the frame size by Qwen\'s rule: it needs resize = "qwen", not {resize!r}')
    given = sorted(name for name, value in sizes.items() if value is not None)
    if given:
        raise ConfigError(f"tokens sets the frame size: give it without {', '.join(given)}")
