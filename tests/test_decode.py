"""One conformance suite that every frame source passes, on the same files."""

from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from framepick.decode import SOURCES, iter_chunks, read_frames, scaled_size
from framepick.decode._pyav_at import _gop_frames_at
from framepick.errors import VideoError
from helpers import BIKES_CUTS, decode_all
from videos import scene_frame, write_joined, write_video


@pytest.fixture(params=list(SOURCES))
def backend(request):
    """Every registered frame source, by name: the conformance suite runs against each."""
    return request.param


def test_every_frame_in_order_with_true_times(cut_video, backend):
    times, indices, frames = decode_all(cut_video[0], backend, chunk_frames=16)
    np.testing.assert_array_equal(indices, np.arange(125))
    np.testing.assert_allclose(times, np.arange(125) / 25, atol=1e-6)
    assert frames.shape == (125, 76, 128, 3) and frames.dtype == np.uint8


def test_frames_are_the_encoded_pictures(cut_video, backend):
    _, _, frames = decode_all(cut_video[0], backend, size=None)
    expected = scene_frame(2, 5, width=160, height=96)  # frame 55: scene 2 starts at 50
    assert np.abs(frames[55].astype(int) - expected).mean() < 4


def test_backends_agree(cut_video, bikes):
    for path in (cut_video[0], bikes):
        times_a, _, frames_a = decode_all(path, "pyav")
        times_b, _, frames_b = decode_all(path, "decord")
        np.testing.assert_allclose(times_a, times_b, atol=1e-3)
        assert frames_a.shape == frames_b.shape
        assert np.abs(frames_a.astype(int) - frames_b).mean() < 3


def test_rate_gate_keeps_the_same_frames(cut_video, backend):
    _, indices, frames = decode_all(cut_video[0], backend, rate_fps=2.0)
    # 25 fps, 2 per second: the first frame of every half second
    np.testing.assert_array_equal(indices, [0, 13, 25, 38, 50, 63, 75, 88, 100, 113])
    assert len(frames) == 10


def test_variable_frame_rate_times_come_from_timestamps(vfr_video, backend):
    path, expected = vfr_video
    times, _, _ = decode_all(path, backend)
    np.testing.assert_allclose(times, expected, atol=1e-3)


def test_rotation_is_applied(rotated_video, backend):
    _, _, frames = decode_all(rotated_video, backend, size=None)
    upright = np.rot90(scene_frame(0, 0, width=160, height=96))
    assert frames.shape[1:] == upright.shape == (160, 96, 3)
    assert np.abs(frames[0].astype(int) - upright).mean() < 4


def test_odd_size_is_scaled_to_even(odd_size_video, backend):
    _, _, frames = decode_all(odd_size_video, backend, size=64)
    assert frames.shape == (24, *scaled_size(99, 57, 64)[::-1], 3) == (24, 36, 64, 3)


def test_a_resolution_change_keeps_the_first_size(tmp_path, backend):
    path = tmp_path / "joined.ts"
    assert write_joined(path, [(160, 96), (240, 136), (96, 160)]) == [25, 50]
    times, indices, frames = decode_all(path, backend, size=64)
    np.testing.assert_allclose(times, np.arange(75) / 25, atol=1e-6)
    assert frames.shape == (75, 38, 64, 3)  # every frame at the first part's analysis size
    full = list(read_frames(path, [10, 30, 60], backend=backend))
    assert [frame.shape for _, _, frame in full] == [(96, 160, 3)] * 3
    # the portrait third part is squeezed into the first part's frame, content kept
    expected = np.asarray(Image.fromarray(scene_frame(2, 10, width=96, height=160)).resize((160, 96)))
    assert np.abs(full[2][2].astype(int) - expected).mean() < 6


def test_read_frames_returns_exactly_the_wanted(cut_video, backend):
    got = list(read_frames(cut_video[0], [99, 3, 50, 3], backend=backend))
    assert [index for index, _, _ in got] == [3, 50, 99]
    assert [time_s for _, time_s, _ in got] == pytest.approx([0.12, 2.0, 3.96])
    assert all(frame.shape == (96, 160, 3) for _, _, frame in got)
    expected = scene_frame(3, 14, width=160, height=96)  # frame 99: scene 3 starts at 85
    assert np.abs(got[2][2].astype(int) - expected).mean() < 4


@pytest.mark.parametrize("kind", ["missing", "not a video", "audio-only", "zero frames"])
def test_bad_input_raises_video_error(bad_videos, backend, kind):
    with pytest.raises(VideoError, match=str(bad_videos[kind])):
        decode_all(bad_videos[kind], backend)


def test_timestamps_that_start_again_are_made_to_run_on(tmp_path):
    path = tmp_path / "restarted.ts"
    assert write_joined(path, [(160, 96), (160, 96)], restart_timestamps=True) == [25]
    times, indices, _ = decode_all(path, "pyav")
    np.testing.assert_allclose(times, np.arange(50) / 25, atol=1e-6)
    # decord orders frames by timestamp, which would interleave the parts: it refuses the file
    with pytest.raises(VideoError, match=r"restarted\.ts: timestamps go backwards"):
        decode_all(path, "decord")
    got = list(read_frames(path, [30], backend="pyav"))
    expected = scene_frame(1, 5, width=160, height=96)  # frame 30: the second part's sixth
    assert got[0][0] == 30 and np.abs(got[0][2].astype(int) - expected).mean() < 4


def test_decord_stopping_midway_is_an_error_not_the_end(bikes, tmp_path):
    # 20 kB of zeros in the middle of the data: decord stops decoding there
    data = bytearray(bikes.read_bytes())
    data[len(data) // 2: len(data) // 2 + 20_000] = bytes(20_000)
    path = tmp_path / "holed.mp4"
    path.write_bytes(data)
    with pytest.raises(VideoError, match=r"holed\.mp4: corrupt or truncated: "
                                         r"frames end at \d\.\d\d s but the file declares 10\.00 s"):
        decode_all(path, "decord")


def test_decord_that_cannot_open_a_file_says_so_in_one_line(bad_videos):
    """decord raises a bare RuntimeError("Error reading <path>...") when FFmpeg cannot open the file,
    after its C++ log printed "video_reader.cc:83: ERROR opening: ..." on stderr whatever
    decord.logging says; the error is one VideoError and stderr stays empty (in a child process,
    whose stderr the test can read)."""
    path = bad_videos["not a video"]
    child = ("import sys; from framepick.decode._decord import decord_reader; from framepick.errors import VideoError\n"
             "try: decord_reader(sys.argv[1], width=64, height=64, threads=1)\n"
             "except VideoError as exc: print(exc)")
    run = subprocess.run([sys.executable, "-c", child, str(path)], capture_output=True, text=True, timeout=60)
    assert run.stderr == ""
    assert run.stdout == f"{path}: decord cannot open it (not a video FFmpeg can read, or its header is corrupt)\n"


@pytest.mark.parametrize("verbose", [False, True])
def test_ffmpeg_log_shows_only_when_asked(bikes, tmp_path, verbose):
    # 300 random bytes in bikes.mp4: decord's FFmpeg logs "[h264 @ 0x...] error while decoding MB"
    data, rng = bytearray(bikes.read_bytes()), random.Random(3)
    for _ in range(300):
        data[rng.randrange(1000, len(data))] = rng.randrange(256)
    path = tmp_path / "corrupt.mp4"
    path.write_bytes(data)
    command = [sys.executable, "-m", "framepick.cli", *(["--verbose"] if verbose else []), "analyze", "--no-cache",
               "--backend", "decord", str(path)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.startswith(f"{path}: 10.0 s")
    assert ("[h264 @ 0x" in run.stderr) is verbose


def test_scaled_size():
    assert scaled_size(1920, 1080, 128) == (128, 72)
    assert scaled_size(1080, 1920, 128) == (72, 128)
    assert scaled_size(640, 272, 128) == (128, 54)
    assert scaled_size(100, 60, 128) == (100, 60)  # never enlarged


@pytest.fixture(scope="module")
def many_keyframes(tmp_path_factory):
    """2400 frames in 40 scenes of 60, a keyframe every 30 frames (and at the cuts)."""
    path = tmp_path_factory.mktemp("seek") / "many_keyframes.mp4"
    write_video(path, [60] * 40, gop=30)
    return path


def _seek_map(path):
    from framepick.analysis import analyze

    analysis = analyze(path, cache=False, progress=False)
    return {"frame_times_s": analysis.frame_times_s, "keyframes": np.asarray(analysis.info.keyframes)}


@pytest.mark.parametrize("threads", [1, 2])  # 2: the GOPs holding wanted frames decoded side by side
@pytest.mark.parametrize("name", ["many_keyframes", "bikes", "vfr_video", "rotated_video", "cut_video"])
def test_read_frames_seeking_gives_the_forward_frames(request, name, threads):
    import threading

    path = request.getfixturevalue(name)
    path = path[0] if isinstance(path, tuple) else path
    seek_map = _seek_map(path)
    frames = len(seek_map["frame_times_s"])
    wanted = sorted({0, 1, frames // 3, frames // 3 + 1, frames // 2, frames - 2, frames - 1})
    forward = read_frames(path, wanted)
    seeking = read_frames(path, wanted, threads=threads, **seek_map)
    got_forward, got_seeking, workers = list(forward), [], set()
    for item in seeking:
        got_seeking.append(item)
        workers |= {thread.name for thread in threading.enumerate() if thread.name.startswith("framepick-gop")}
    if threads == 1:
        assert not workers
    elif name == "many_keyframes":  # closed GOPs, many of them
        assert workers
    assert forward.decoder == seeking.decoder == "pyav"
    assert [i for i, _, _ in got_seeking] == [i for i, _, _ in got_forward] == wanted
    for (_, time_a, frame_a), (_, time_b, frame_b) in zip(got_forward, got_seeking):
        assert time_a == time_b
        np.testing.assert_array_equal(frame_a, frame_b)


def test_read_frames_off_grid_times_fall_back_to_forward(cut_video):
    seek_map = _seek_map(cut_video[0])
    seek_map["frame_times_s"] = seek_map["frame_times_s"] + 0.01  # not this video's times
    got = list(read_frames(cut_video[0], [3, 99], **seek_map))
    assert [i for i, _, _ in got] == [3, 99]
    assert np.abs(got[1][2].astype(int) - scene_frame(3, 14, width=160, height=96)).mean() < 4


def test_read_frames_reports_the_decoder_and_handles_nothing_wanted(cut_video, backend):
    stream = read_frames(cut_video[0], [], backend=backend)
    assert list(stream) == [] and stream.decoder == backend


def test_read_frames_at_an_exact_size(cut_video, backend):
    got = list(read_frames(cut_video[0], [99], size=(120, 90), backend=backend))
    frame = got[0][2]
    assert frame.shape == (90, 120, 3)
    expected = np.asarray(Image.fromarray(scene_frame(3, 14, width=160, height=96)).resize((120, 90), Image.BOX))
    assert np.abs(frame.astype(int) - expected).mean() < 6


@pytest.mark.parametrize("threads", [1, 2])  # 2: the GOPs holding wanted frames decoded side by side
@pytest.mark.parametrize("codec, suffix, options", [
    ("libx264", "mp4", {}), ("libx264", "mp4", {"x264-params": "open-gop=1:bframes=3"}), ("libx265", "mkv", {}),
    ("libvpx-vp9", "webm", {}), ("libsvtav1", "mp4", {}), ("mpeg4", "avi", {})])
def test_read_frames_seeking_and_skipping_in_every_codec(tmp_path, codec, suffix, options, threads):
    """Seeking, or decoding GOPs side by side, and leaving out unneeded non-reference frames give
    the forward read's frames, open GOPs' leading frames (just before a keyframe) included."""
    path = tmp_path / f"clip.{suffix}"
    write_video(path, [40, 40, 40], codec=codec, gop=12, options=options)
    seek_map = _seek_map(path)
    wanted = [3, 11, 17, 18, 35, 40, 77, 90, 119]
    forward = list(read_frames(path, wanted))
    seeking = list(read_frames(path, wanted, threads=threads, **seek_map))
    if threads == 2:  # the GOPs' frames themselves, not the forward read it falls back to if lost
        seeking = list(_gop_frames_at(path, np.array(wanted), size=None, workers=2, ahead=4,
                                      frame_times_s=seek_map["frame_times_s"]))
    assert [i for i, _, _ in seeking] == [i for i, _, _ in forward] == wanted
    for (_, _, frame_a), (_, _, frame_b) in zip(forward, seeking):
        np.testing.assert_array_equal(frame_a, frame_b)


def test_reference_frames_only_are_exact_and_every_frame_is_timed(bikes):
    times, indices, frames = decode_all(bikes, "pyav", size=None)
    stream = iter_chunks(bikes, backend="pyav", fallback=False, size=None, reference_only=True)
    chunks = list(stream)
    ref_times = np.concatenate([c.times_s for c in chunks])
    ref_indices = np.concatenate([c.indices for c in chunks])
    ref_frames = np.concatenate([c.frames for c in chunks])
    np.testing.assert_allclose(ref_times, times)  # every frame timed, from the packets
    assert 0.3 * len(indices) < len(ref_indices) < 0.8 * len(indices)  # the B-frames are skipped
    np.testing.assert_array_equal(ref_frames, frames[ref_indices])  # what is decoded is exact


def test_reference_only_analysis_finds_the_cuts(cut_video):
    from framepick import analyze

    path, cuts = cut_video
    analysis = analyze(path, reference_only=True, cache=False)
    assert len(analysis.score_indices) < analysis.info.frames
    assert len(analysis.cuts) == len(cuts) and np.all(np.abs(analysis.cuts - cuts) <= 2)


def test_reference_only_analysis_finds_the_marginal_cut_of_real_footage(bikes):
    """bikes.mp4's cut at frame 76 is marginal (the adaptive ratio is 3.47 with every frame, the
    threshold 3.0); without the gaps between reference frames filled with blends the detector saw
    2.48 there and missed it. All known cuts are found, at the every-frame analysis' frames."""
    from framepick import analyze

    every = analyze(bikes, cache=False)
    reference = analyze(bikes, reference_only=True, cache=False)
    assert len(reference.score_indices) == 135  # of 250 frames
    assert reference.cuts.tolist() == every.cuts.tolist() == BIKES_CUTS


# x264 with two non-reference B-frames between reference frames, always, and no keyframe at cuts
FIXED_IBBP = {"x264-params": "bframes=2:b-adapt=0:b-pyramid=none:scenecut=0"}


def test_reference_only_analysis_finds_cuts_that_fall_between_reference_frames(tmp_path):
    """A fixed I-B-B-P pattern (no keyframe at the cuts, as a camera or a fixed-GOP encoder writes)
    puts both cuts on skipped B-frames. Blends spread each cut over three frames, below the
    adaptive detector's threshold (that reading alone finds neither); the decoded frames alone see
    each in one step: both are found, at the first decoded frame of the new scene."""
    from framepick import analyze

    path = tmp_path / "fixed_gop.mp4"
    cuts = write_video(path, [61, 39, 60], gop=250, options=FIXED_IBBP)
    reference = analyze(path, reference_only=True, cache=False)
    assert reference.score_indices.tolist() == list(range(0, 160, 3))  # 61 and 100 are skipped
    assert analyze(path, reference_only=False, cache=False).cuts.tolist() == cuts == [61, 100]
    assert reference.cuts.tolist() == [63, 102]


def test_reference_only_blend_window_spans_the_seconds_of_every_frame(tmp_path):
    """One frame in three decoded: the scorer's blend window reaches a third as many analysed
    frames (``BLEND_WINDOW_S`` seconds either way), measured on the first chunk."""
    from framepick.analysis import Accumulator
    from framepick.config import AnalysisConfig
    from framepick.score import blend_lag

    path = tmp_path / "fixed_gop.mp4"
    write_video(path, [200], gop=250, options=FIXED_IBBP)
    lags = {}
    for reference in (True, False):
        collected = Accumulator(AnalysisConfig(reference_only=reference), fps=25.0, thumb_wh=(16, 10))
        for chunk in iter_chunks(path, reference_only=reference, fallback=False):
            collected.update(chunk)
        lags[reference] = blend_lag(collected.analysed_fps)
    assert blend_lag(25.0) == lags[False] == 6
    assert blend_lag(25.0 * 64 / 190) == lags[True] == 2  # 64 decoded frames in the first 190


def test_in_between_blends_evenly():
    from framepick.scenes import in_between

    before, after = np.zeros((2, 3, 3), np.uint8), np.full((2, 3, 3), 200, np.uint8)
    after[0, 0] = (0, 100, 255)
    between = in_between(before, after, 3)  # a gap of 3 frames: weights 1/4, 2/4, 3/4
    assert between.shape == (3, 2, 3, 3) and between.dtype == np.uint8
    assert between[:, 1, 1, 0].tolist() == [50, 100, 150]
    assert between[:, 0, 0].tolist() == [[0, 25, 64], [0, 50, 128], [0, 75, 191]]  # rounded to nearest
    assert in_between(before, after, 0).shape == (0, 2, 3, 3)


def test_a_stream_without_b_frames_is_analysed_every_frame(tmp_path):
    """H.264 baseline has no frame reordering, so nothing to skip: the reference-frames analysis is
    the every-frame one, array for array."""
    from framepick import analyze

    path = tmp_path / "baseline.mp4"
    cuts = write_video(path, [30, 20, 25], options={"profile": "baseline"})
    reference, every = analyze(path, cache=False), analyze(path, reference_only=False, cache=False)
    assert len(reference.score_indices) == reference.info.frames == 75
    assert reference.cuts.tolist() == cuts
    for name in ("frame_times_s", "score_indices", "score", "scenes", "thumbs"):
        np.testing.assert_array_equal(getattr(reference, name), getattr(every, name))


def _decoded_with(path, threads, **options):
    """(times, indices, frames) of an iter_chunks pass, and the names of the threads it ran."""
    import threading

    names, parts = set(), []
    for chunk in iter_chunks(path, backend="pyav", fallback=False, threads=threads, chunk_frames=5, **options):
        names |= {thread.name for thread in threading.enumerate()}
        parts.append(chunk)
    return [np.concatenate([getattr(c, key) for c in parts]) for key in ("times_s", "indices", "frames")], names


def _has_leading_frames(path) -> bool:
    """Whether a packet after a keyframe (decoding order) is shown before it: an open GOP."""
    from framepick.probe import open_video

    with open_video(path) as (container, stream):
        key_pts = None
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            if packet.is_keyframe:
                key_pts = packet.pts
            elif key_pts is not None and packet.pts < key_pts:
                return True
    return False


@pytest.mark.parametrize("codec, suffix, options, open_gops, side_by_side", [
    ("libx264", "mp4", {}, False, True),
    ("libx264", "mp4", {"x264-params": "open-gop=1:bframes=3"}, True, True),
    ("libx265", "mkv", {}, True, True),  # CRA keyframes with leading pictures
    ("libvpx-vp9", "webm", {}, False, True),
    ("mpeg4", "avi", {}, False, False),  # the encoder's build may be in a header written once: one decoder
])
@pytest.mark.parametrize("reference_only", [True, False])
def test_gops_side_by_side_give_the_single_decoders_frames(tmp_path, codec, suffix, options, open_gops, side_by_side,
                                                          reference_only):
    """GOPs decoded by parallel workers give one decoder's frames, open GOPs' leading frames
    included; codecs whose GOPs may not decode alone are decoded by one decoder."""
    from framepick.probe import scan_file

    path = tmp_path / f"clip.{suffix}"
    write_video(path, [40, 33, 47], codec=codec, gop=12, options=options)
    scan = scan_file(path)
    assert scan.in_order and scan.starts_at_keyframe and np.count_nonzero(scan.is_key) > 5
    assert _has_leading_frames(path) is open_gops
    single, _ = _decoded_with(path, 1, reference_only=reference_only)
    parallel, names = _decoded_with(path, 2, reference_only=reference_only, rate_fps=None)
    assert ("framepick-gop-1" in names) is side_by_side
    assert len(single[1]) > 60
    for got, expected in zip(parallel, single):
        np.testing.assert_array_equal(got, expected)


def test_gop_jobs_hand_an_open_gops_leading_frames_to_the_gop_before():
    """Each job decodes its GOP and the next GOP's keyframe and leading frames; the leading frames
    are handed out by it, the rest of what it decodes by the next job."""
    from types import SimpleNamespace

    from framepick.decode._gops import _jobs

    # decoding order: I0 P3 B1 B2 | I6 B4 B5 P9 B7 B8 (open: 4, 5 lead) | I10 P11 (closed)
    stamps = [0, 3, 1, 2, 6, 4, 5, 9, 7, 8, 10, 11]
    packets = [SimpleNamespace(pts=pts, size=1, is_keyframe=pts in (0, 6, 10)) for pts in stamps]
    jobs = list(_jobs(iter(packets), None))
    assert [[p.pts for p in job.packets] for job in jobs] == [[0, 3, 1, 2, 6, 4, 5], [6, 4, 5, 9, 7, 8], [10, 11]]
    assert [set(job.handed_out_elsewhere) for job in jobs] == [{6}, {4, 5}, set()]
    needed = list(_jobs(iter(packets), frozenset({5, 11})))  # 5: leading, so from the first job
    assert [[p.pts for p in job.packets] for job in needed] == [[0, 3, 1, 2, 6, 4, 5], [10, 11]]


def test_gops_side_by_side_keep_what_one_decoder_keeps(many_keyframes):
    """A rate gate or a set of indices keeps the same frames when GOPs are decoded in parallel."""
    for options in ({"rate_fps": 3.0}, {"indices": np.array([0, 29, 30, 31, 61, 1000, 2399])}):
        single, _ = _decoded_with(many_keyframes, 1, **options)
        parallel, names = _decoded_with(many_keyframes, 2, **options)
        assert "framepick-gop-1" in names
        for got, expected in zip(parallel, single):
            np.testing.assert_array_equal(got, expected)


def test_a_corrupt_gop_decoded_in_parallel_is_a_one_line_error(many_keyframes, tmp_path):
    data = bytearray(many_keyframes.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 4000] = bytes(random.Random(1).getrandbits(8) for _ in range(4000))
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(bytes(data))
    for threads in (1, 2):
        with pytest.raises(VideoError, match="corrupt video data after frame 15") as raised:
            _decoded_with(broken, threads)
        assert str(raised.value).startswith(str(broken)) and "\n" not in str(raised.value)
