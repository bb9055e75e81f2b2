"""A video for vLLM's OpenAI-compatible chat API, sent as JPEG frames with their true times.

vLLM reads a ``video_url`` whose data URL has the media type ``video/jpeg`` as a list of JPEG
frames, base64 each, joined by commas, and takes their source frame indices, the video's frame
rate, frame count and duration from the request's ``media_io_kwargs["video"]``
(``VideoMediaIO.load_base64`` in ``vllm/multimodal/media/video.py``, vLLM PR #40133): the same
metadata transformers' processors read (:func:`framepick.qwen_rules.video_metadata`), so the
Qwen3-VL ``<t seconds>`` markers and the Qwen2.5-VL spacing are the true ones there too. vLLM
keeps only ``num_frames`` of the frames sent (32 unless given), so the count is given; the
frames are sized for the served model, so its processor is told not to resize them
(``mm_processor_kwargs``, scoped to videos), nor to sample them again.

With the ``openai`` client::

    video = vllm_video("framepick-out/talk/manifest.json", "Qwen3-VL")
    content = [video.part, {"type": "text", "text": "What happens when?"}]
    client.chat.completions.create(model=served, messages=[{"role": "user", "content": content}],
                                   extra_body=video.extra_body)

``media_io_kwargs`` hold for every video of a request: one video a request.
"""

from __future__ import annotations

import base64
import os
from typing import Any, NamedTuple

from .checks import instance_argument, integer
from .errors import ArgumentError
from .qwen import from_manifest
from .qwen_models import model_factor
from .settings import OutputConfig
from .types import Analysis, Selection

__all__ = ["VllmVideo", "vllm_video", "vllm_video_of"]

MEDIA_TYPE = "video/jpeg"  # vLLM's media type of a list of JPEG frames


class VllmVideo(NamedTuple):
    """A video for a vLLM chat request: the message ``part`` (``{"type": "video_url", "video_url":
    {"url": "data:video/jpeg;base64,..."}}``), the request fields ``extra_body``
    (``media_io_kwargs`` and ``mm_processor_kwargs``, for the ``openai`` client's
    ``extra_body``), and the ``times_prompt`` for Qwen2.5-VL (None when the frames are evenly
    spaced)."""

    part: dict[str, Any]
    extra_body: dict[str, Any]
    times_prompt: str | None

    def request(self, question: str, *, model: str) -> dict[str, Any]:
        """The whole chat request body: one user message holding the video and ``question`` (after
        the ``times_prompt``, if any), for the served model named ``model``."""
        text = " ".join(filter(None, [self.times_prompt, question]))
        content = [self.part, {"type": "text", "text": text}]
        return {"model": model, "messages": [{"role": "user", "content": content}], **self.extra_body}


def vllm_video(manifest_path: str | os.PathLike, model: Any) -> VllmVideo:
    """The frames of an extraction as a vLLM video: its JPEG files as they are, with the manifest's
    true-time metadata.

    Parameters
    ----------
    manifest_path : str or os.PathLike
        A ``manifest.json`` written by framepick.
    model : str or processor
        The served model's family (``"Qwen2.5-VL"``, ``"Qwen3-VL"``) or its processor: the frames
        must have been sized for it (see :func:`framepick.qwen.from_manifest`).

    Raises
    ------
    ArgumentError
        Not a framepick manifest, a frame file unreadable, or frames sized for another model.
    """
    inputs = from_manifest(manifest_path, model)
    jpegs = []
    for path in inputs.entry["video"]:
        try:
            with open(path, "rb") as handle:
                jpegs.append(handle.read())
        except OSError as exc:
            raise ArgumentError(f"manifest_path: cannot read its frame {path} ({exc.strerror or exc})") from None
    return _video(jpegs, inputs.video_metadata, inputs.times_prompt)


def vllm_video_of(analysis: Analysis, selection: Selection, model: Any = "Qwen2.5-VL", *,
                  jpeg_quality: int = 90) -> VllmVideo:
    """The frames of ``selection`` as a vLLM video, decoded and encoded in memory: the JPEGs and
    metadata an extraction sized for ``model`` would have (:func:`framepick.extract.jpeg_frames`,
    :func:`framepick.extract.qwen_inputs`), no file written.

    Parameters
    ----------
    analysis : Analysis
        The analysis the selection was made from.
    selection : Selection
        The frames (with ``tokens``, counted at ``model``'s factor).
    model : str or processor
        The served model's family or its processor: the frames' size factor.
    jpeg_quality : int
        JPEG quality, 1 to 95 (Pillow's scale).

    Raises
    ------
    ArgumentError
        An argument of the wrong kind.
    VideoError
        A selected frame cannot be decoded.
    """
    from .extract import jpeg_frames, qwen_inputs  # the decoders: only once there are frames to read

    instance_argument("analysis", analysis, Analysis, "a framepick Analysis (from framepick.analyze)")
    instance_argument("selection", selection, Selection, "a framepick Selection (from framepick.select)")
    output = OutputConfig(factor=model_factor(model)[1],
                          jpeg_quality=integer("jpeg_quality", jpeg_quality, low=1, high=95, error=ArgumentError))
    inputs = qwen_inputs(analysis, selection)
    return _video(jpeg_frames(analysis, selection, output=output), inputs["video_metadata"], inputs["times_prompt"])


def _video(jpegs: list[bytes], metadata: dict[str, Any], times_prompt: str | None) -> VllmVideo:
    """``jpegs`` with ``metadata`` (:func:`framepick.qwen_rules.video_metadata`) as vLLM reads them."""
    url = f"data:{MEDIA_TYPE};base64," + ",".join(base64.b64encode(jpeg).decode("ascii") for jpeg in jpegs)
    video = {"num_frames": len(jpegs), "fps": float(metadata["fps"]),
             "frames_indices": [int(index) for index in metadata["frames_indices"]],
             "total_num_frames": int(metadata["total_num_frames"]), "duration": float(metadata["duration"]),
             "do_sample_frames": False}
    extra_body = {"media_io_kwargs": {"video": video},
                  "mm_processor_kwargs": {"videos_kwargs": {"do_sample_frames": False, "do_resize": False}}}
    return VllmVideo({"type": "video_url", "video_url": {"url": url}}, extra_body, times_prompt)
