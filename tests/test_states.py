"""State changes on a recorded lecture: slides with a moving speaker inset, bullets revealed one by one."""

from __future__ import annotations

import av
import numpy as np
import pytest
from PIL import Image

from framepick.analysis import analyze
from framepick.score import MEASURES
from framepick.select import select
from framepick.states import find_state_changes
from videos import write_lecture

# (first frame, slide, bullets shown): two slide changes, a dissolve (450), four bullets revealed
STATES = [(0, 0, 1), (100, 0, 2), (200, 1, 1), (300, 1, 2), (375, 1, 3), (450, 2, 2), (600, 3, 1), (650, 3, 2),
          (760, 4, 3)]
FRAMES = 900  # 36 s at 25 fps


@pytest.fixture(scope="module")
def inset(bikes):
    """One shot of real footage (bikes.mp4 frames 187-241, between two cuts), 80 x 34."""
    with av.open(str(bikes)) as container:
        shot = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)][187:242]
    return np.stack([np.asarray(Image.fromarray(picture).resize((80, 34))) for picture in shot])


@pytest.fixture(scope="module")
def lecture(tmp_path_factory, inset):
    path = tmp_path_factory.mktemp("lecture") / "lecture.mp4"
    write_lecture(path, STATES, inset, frames=FRAMES, dissolve_at=[450], pointer=(500, 570))
    return analyze(path, cache=False)


def test_every_slide_change_and_bullet_is_found_and_the_inset_is_not(lecture):
    expected = [first for first, _, _ in STATES[1:]]
    found = lecture.state_changes.tolist()
    assert len(found) == len(expected)
    # each within two frames (one B-frame gap); the dissolve (frames 444-455) by its middle
    assert np.abs(np.asarray(found) - expected).max() <= 2, found
    assert lecture.cuts.tolist() == []  # PySceneDetect's detector sees none of them (text on one template)


def test_motion_alone_is_no_state(tmp_path, inset):
    path = tmp_path / "one_slide.mp4"
    write_lecture(path, [(0, 0, 3)], inset, frames=400, pointer=(100, 250))
    assert analyze(path, cache=False).state_changes.tolist() == []


def held(indices: np.ndarray) -> tuple[set[int], set[int]]:
    """The states holding a frame, and those holding both frames of a Qwen pair (``2k``, ``2k + 1``)."""
    state = np.searchsorted([first for first, _, _ in STATES], indices, side="right")
    return set(state.tolist()), set(state[::2][state[::2] == state[1::2]].tolist())


@pytest.mark.parametrize("frames", [8, 10, 12, 16])
def test_adaptive_holds_every_state_it_can_without_losing_a_qwen_pair(lecture, frames):
    """Each state holding a pair takes two frames: with uniform's pairs kept, ``frames - pairs``
    states at most can hold a frame, and adaptive reaches that."""
    uniform, uniform_pairs = held(select(lecture, "uniform", frames=frames).indices)
    adaptive, adaptive_pairs = held(select(lecture, "adaptive", frames=frames, pair_s=0).indices)
    assert uniform <= adaptive and len(adaptive_pairs) >= len(uniform_pairs)
    assert len(adaptive) == min(len(STATES), frames - len(uniform_pairs))
    assert len(adaptive) > len(uniform) or frames in (8, 12)  # at 8 and 12, a state more would cost a pair


def test_a_change_is_placed_at_its_largest_frame_change():
    """Rows 6-8 see a change in their middle third (third = 2): it began at row 4 or 5; row 5
    holds the larger luma change."""
    measures = np.zeros((14, len(MEASURES)), np.float32)
    measures[6:9, MEASURES.index("step")] = 0.3
    measures[5, MEASURES.index("luma_diff")] = 0.2
    frames, strengths = find_state_changes(measures, np.arange(0, 28, 2), third=2)
    assert frames.tolist() == [10] and strengths.tolist() == [pytest.approx(0.3)]
