"""The two flavours of "uniform, exactly as Qwen": qwen-vl-utils' (``uniform``, checked frame for
frame against its ``fetch_video`` in test_qwen.py) and transformers' Qwen3-VL processor's
(``uniform_transformers``), checked here against ``Qwen3VLVideoProcessor.sample_frames``."""

from __future__ import annotations

import pytest

from framepick import analyze, sample_video
from framepick.select import select
from helpers import make_analysis

PARAMS = [{}, {"frames": 8}, {"frames": 7}, {"frames": 33}, {"fps": 0.5}, {"fps": 0.7}, {"fps": 50.0},
          {"fps": 1.0, "min_frames": 6, "max_frames": 10}]


@pytest.mark.parametrize("params", PARAMS, ids=str)
@pytest.mark.parametrize("clip", ["bikes", "sample", "cuts", "variable rate"])
@pytest.mark.slow
def test_uniform_transformers_is_the_qwen3_processors_sampling(bikes, cut_video, vfr_video, clip, params):
    from transformers import Qwen3VLVideoProcessor
    from transformers.video_utils import VideoMetadata

    path = {"bikes": bikes, "sample": sample_video(), "cuts": cut_video[0], "variable rate": vfr_video[0]}[clip]
    analysis = analyze(path)
    bounds = {key: params[key] for key in ("min_frames", "max_frames") if key in params}  # the processor's config
    processor = Qwen3VLVideoProcessor(**bounds)
    theirs = processor.sample_frames(VideoMetadata(total_num_frames=analysis.info.frames, fps=analysis.info.fps),
                                     num_frames=params.get("frames"), fps=params.get("fps"))
    assert select(analysis, "uniform_transformers", **params).indices.tolist() == theirs.tolist()


def test_the_flavours_differ_in_the_count_and_the_rounding(bikes):
    analysis = analyze(bikes)  # 250 frames at 25 fps
    for params, counts in (({"frames": 7}, (8, 7)), ({"fps": 0.7}, (6, 7))):  # qwen-vl-utils rounds to even
        assert (len(select(analysis, "uniform", **params)), len(select(analysis, "uniform_transformers", **params))) \
            == counts
    long = make_analysis(54_000, 30.0)  # 30 min: float32 torch.linspace and float64 np.linspace round apart
    ours, theirs = (select(long, flavour, frames=196).indices for flavour in ("uniform", "uniform_transformers"))
    assert len(ours) == len(theirs) == 196 and (ours != theirs).sum() == 1
