"""Every decode path gives the pixels of one decoder reading the stream from its start, for
streams whose decoder state is written once (:mod:`framepick.decode._carried`)."""

from __future__ import annotations

import av
import numpy as np
import pytest

from framepick.config import AnalysisConfig
from framepick.decode import decodes_from_any_keyframe, read_frames
from framepick.decode._carried import carried_state, frame_threads
from framepick.probe import probe_timing
from framepick.segments import SegmentMismatch, plan_segments
from helpers import SAMPLE, decode_all
from videos import write_old_x264, write_video

WANTED = np.array([31, 47, 61, 66, 70, 85, 89])  # none in the first GOP: no worker reads its SEI


@pytest.fixture(scope="module", params=["mp4", "ts"])  # NAL units length-prefixed, or after start codes
def old_x264(tmp_path_factory, request):
    """An old-x264 stream whose later GOPs, decoded alone, come out wrong (checked here, so that
    the tests below cannot pass on a stream that does not need the carried state)."""
    folder = tmp_path_factory.mktemp("old_x264")
    path = folder / f"old_x264.{request.param}"
    write_old_x264(folder / "old_x264.mp4")
    if request.param != "mp4":
        _remux(folder / "old_x264.mp4", path)
    with av.logging.Capture() as logged:
        one = _one_decoder(path)
    assert not [line for line in logged if line[0] <= av.logging.ERROR]  # one decoder's pictures are well defined
    alone = {pts: frame for start in _later_keyframes(path) for pts, frame in _gop_alone(path, start).items()}
    assert max(np.abs(frame - one[pts]).max() for pts, frame in alone.items()) > 50
    return path


def _remux(source, target) -> None:
    with av.open(str(source)) as reading, av.open(str(target), "w") as writing:
        stream = writing.add_stream_from_template(reading.streams.video[0])
        for packet in reading.demux(reading.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                writing.mux(packet)


def _one_decoder(path) -> dict[int, np.ndarray]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_count = 1
        return {frame.pts: frame.to_ndarray(format="rgb24").astype(int) for frame in container.decode(stream)}


def _packets(path) -> list[av.Packet]:
    with av.open(str(path)) as container:
        return [packet for packet in container.demux(container.streams.video[0]) if packet.size]


def _later_keyframes(path) -> list[int]:
    """Positions in decoding order of the keyframes after the first."""
    return [position for position, packet in enumerate(_packets(path)) if packet.is_keyframe][1:]


def _gop_alone(path, start: int) -> dict[int, np.ndarray]:
    """A fresh decoder's frames from the packet at ``start`` (decoding order) on."""
    with av.open(str(path)) as container:
        context = container.streams.video[0].codec_context
        context.thread_count = 1
        packets = [*_packets(path)[start:], None]
        return {frame.pts: frame.to_ndarray(format="rgb24").astype(int)
                for packet in packets for frame in context.decode(packet)}


def test_the_state_in_the_first_packet_only_is_carried(old_x264, tmp_path):
    assert b"x264 - core 150" in carried_state(old_x264)
    assert frame_threads(old_x264, 2) == 1  # FFmpeg's frame threads do not hand the build on reliably
    assert not decodes_from_any_keyframe(old_x264)
    today = tmp_path / "today.mp4"
    write_video(today, [30, 30], gop=12)
    assert b"x264 - core" in carried_state(today)  # carried, though today's build changes nothing
    assert frame_threads(today, 2) == 2 and decodes_from_any_keyframe(today)
    vp9 = tmp_path / "clip.webm"
    write_video(vp9, [30, 30], codec="libvpx-vp9", gop=12)
    assert carried_state(vp9) == b""


@pytest.mark.parametrize("reference_only", [True, False])
def test_gops_side_by_side_give_one_decoders_frames(old_x264, reference_only):
    """Analysis frames, GOPs decoded side by side, are one single-threaded decoder's, every time."""
    expected = decode_all(old_x264, "pyav", threads=1, reference_only=reference_only)
    for _ in range(3):
        got = decode_all(old_x264, "pyav", threads=2, reference_only=reference_only)
        for part, reference in zip(got, expected):
            np.testing.assert_array_equal(part, reference)


@pytest.mark.parametrize("threads", [1, 2])  # 1: seeking to keyframes; 2: the GOPs holding them side by side
def test_chosen_frames_are_one_decoders_frames(old_x264, threads):
    info, times_s = probe_timing(old_x264)
    one = _one_decoder(old_x264)
    expected = np.stack([one[pts] for pts in sorted(one)])[WANTED]
    for forward_threads in (1, 2):  # no timing given: read front to back (2: FFmpeg's frame threads)
        np.testing.assert_array_equal(_frames_at(old_x264, threads=forward_threads), expected)
    for _ in range(3):
        got = _frames_at(old_x264, threads=threads, frame_times_s=times_s, keyframes=info.keyframes)
        np.testing.assert_array_equal(got, expected)


def test_decord_gives_its_in_order_frames_wherever_it_starts(old_x264):
    """decord seeks to a later keyframe for a frame far ahead; its frames there are the ones it
    gives reading every frame in order."""
    every = decode_all(old_x264, "decord", size=None)[2]
    np.testing.assert_array_equal(every, np.stack([frame for _, frame in sorted(_one_decoder(old_x264).items())]))
    every = decode_all(old_x264, "decord")[2]
    np.testing.assert_array_equal(decode_all(old_x264, "decord")[2], every)  # the same every time
    _, indices, sparse = decode_all(old_x264, "decord", rate_fps=2.0)
    assert indices[-1] > 60
    np.testing.assert_array_equal(sparse, every[indices])
    chosen = np.stack([frame for _, _, frame in read_frames(old_x264, WANTED, size=128, backend="decord",
                                                           fallback=False)])
    np.testing.assert_array_equal(chosen, every[WANTED])


def test_segments_of_an_old_x264_stream_are_refused(old_x264):
    """A segment decoded in a process of its own starts at a later keyframe, without the first
    packet's state: such a stream is analysed in one pass."""
    with pytest.raises(SegmentMismatch, match="decoder state"):
        plan_segments(old_x264, AnalysisConfig(reference_only=False), segment_s=1.0)


def _frames_at(path, *, threads: int, **timing) -> np.ndarray:
    stream = read_frames(path, WANTED, threads=threads, backend="pyav", fallback=False, **timing)
    frames = list(stream)
    assert [index for index, _, _ in frames] == WANTED.tolist()
    return np.stack([frame for _, _, frame in frames])


SIZE = 320  # longer side, px: scaled alike, so a decoding difference still shows, in little memory

# Streams a current encoder can make that stress a decoder's state: (encoder, suffix, pixel
# format, options). The conformance test below runs each through every decode path.
CORPUS = {
    "x264 4:4:4": ("libx264", "mp4", "yuv444p", {}),
    "x264 10-bit": ("libx264", "mp4", "yuv420p10le", {}),
    "x264 interlaced (MBAFF)": ("libx264", "mp4", "yuv420p", {"x264-params": "interlaced=1:bframes=2"}),
    "x264 four slices": ("libx264", "mp4", "yuv420p", {"x264-params": "slices=4"}),
    "x264 open GOPs": ("libx264", "mp4", "yuv420p", {"x264-params": "open-gop=1:bframes=3"}),
    "x264 in MPEG-TS": ("libx264", "ts", "yuv420p", {}),
    "x265 10-bit": ("libx265", "mkv", "yuv420p10le", {}),
    "MPEG-2": ("mpeg2video", "mpg", "yuv420p", {}),
}


@pytest.fixture(scope="module", params=[*CORPUS, "bikes.mp4 (real)", "big_buck_bunny_0_30.webm (real)"])
def corpus_video(request, tmp_path_factory, bikes):
    if request.param.startswith("bikes"):
        return bikes
    if request.param.startswith("big_buck_bunny"):
        return SAMPLE
    codec, suffix, pix_fmt, options = CORPUS[request.param]
    path = tmp_path_factory.mktemp("corpus") / f"clip.{suffix}"
    write_video(path, [40, 33, 47], codec=codec, pix_fmt=pix_fmt, gop=12, options=options)
    return path


def test_every_decode_path_gives_one_decoders_frames(corpus_video):
    """GOPs side by side (analysis, every frame), GOP extraction and seeking give, frame for frame
    (a hash of each, scaled alike), the pictures of one single-threaded decoder reading from the
    start."""
    expected = decode_all(corpus_video, "pyav", threads=1, size=SIZE, reference_only=False)
    got = decode_all(corpus_video, "pyav", threads=2, size=SIZE, reference_only=False)
    assert _hashes(got[2]) == _hashes(expected[2])
    info, times_s = probe_timing(corpus_video)
    wanted = np.unique(np.linspace(1, info.frames - 1, 9).round().astype(np.int64))
    for threads in (1, 2):
        chosen = read_frames(corpus_video, wanted, size=SIZE, threads=threads, backend="pyav", fallback=False,
                             frame_times_s=times_s, keyframes=info.keyframes)
        assert _hashes(np.stack([frame for _, _, frame in chosen])) == _hashes(expected[2][wanted])


def _hashes(frames: np.ndarray) -> list[str]:
    import hashlib

    return [hashlib.sha256(frame.tobytes()).hexdigest()[:16] for frame in frames]
