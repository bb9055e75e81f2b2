"""Every setting and every argument of the public API is checked at the boundary: a bad one ends in
one line naming it (a ConfigError, or an ArgumentError for an argument), never in a traceback from
deep inside, and memory follows the video and the budget, never a parameter's value."""

from __future__ import annotations

import math
import shutil
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import framepick
from framepick import AnalysisConfig, JobConfig, compare, load_config, run_batch, sample, select
from framepick.checks import MAX_FPS, MAX_FRAMES
from framepick.cli import main
from framepick.errors import ArgumentError, ConfigError, VideoError
from framepick.qwen import fetch_video, from_manifest, process_vision_info
from framepick.types import Selection
from helpers import make_analysis
from videos import write_video


def one_line_naming(error: BaseException, name: str, *, first: bool = False) -> str:
    """The message of ``error``, checked to be one line that names ``name`` (first, if asked)."""
    message = str(error)
    assert "\n" not in message and name in message, message
    if first:
        assert message.startswith(name), message
    return message


@pytest.fixture(scope="module")
def other_video(tmp_path_factory) -> Path:
    """Another video than ``cut_video``: 40 frames of 128x80."""
    path = tmp_path_factory.mktemp("other") / "other.mp4"
    write_video(path, [20, 20], width=128, height=80)
    return path


# --------------------------------------------------------------------------- memory follows the budget


def peak_bytes(function) -> tuple[int, object]:
    """Peak of the memory Python allocates while ``function()`` runs, and what it returned or raised."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        try:
            outcome: object = function()
        except Exception as exc:  # noqa: BLE001 - returned for the test to check
            outcome = exc
        return tracemalloc.get_traced_memory()[1], outcome
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("strategy, params, name", [
    ("fps", {"fps": 1e9}, "fps"),
    ("uniform", {"fps": 1e308}, "fps"),
    ("uniform", {"frames": 10**12}, "frames"),
    ("adaptive", {"max_frames": 10**30}, "max_frames"),
    ("adaptive", {"max_gap_s": 1e300}, "max_gap_s"),
    ("uniform", {"multiple_of": 10**12}, "multiple_of"),
], ids=str)
def test_a_huge_value_is_refused_before_any_allocation(strategy, params, name):
    analysis = make_analysis(50, 25.0)  # a 2 s clip
    peak, outcome = peak_bytes(lambda: select(analysis, strategy, **params))
    assert isinstance(outcome, ConfigError)
    one_line_naming(outcome, f"{name} must be")
    assert peak < 100_000  # bytes: the check, not an array of the value's size


def test_an_fps_above_the_video_rate_takes_every_frame_in_memory_of_the_frame_count():
    analysis = make_analysis(30_000, 25.0)  # 20 minutes: MAX_FPS asks for 1.2 million intervals
    peak, picked = peak_bytes(lambda: select(analysis, "fps", fps=MAX_FPS, multiple_of=1))
    at_own_rate, _ = peak_bytes(lambda: select(analysis, "fps", fps=25.0, multiple_of=1))
    assert isinstance(picked, Selection) and picked.indices.tolist() == list(range(30_000))
    assert peak < 2 * at_own_rate  # not 40 times as much: memory follows the frames, not the intervals


def naive_fps_picks(times_s: np.ndarray, duration_s: float, fps: float) -> list[int]:
    """The fps strategy's frames over the whole video, every interval centre computed."""
    count = max(1, math.floor((duration_s - times_s[0]) * fps + 1e-6))
    centres_s = times_s[0] + (np.arange(count) + 0.5) * ((duration_s - times_s[0]) / count)
    shown = np.searchsorted(times_s, centres_s, side="right") - 1
    return np.unique(np.clip(shown, 0, len(times_s) - 1)).tolist()


@pytest.mark.parametrize("seed", [7, 8, 9])
@pytest.mark.parametrize("fps", [7.0, 24.0, 41.5, 333.3, MAX_FPS])
def test_fps_picks_equal_every_centre_computed_at_any_rate(fps, seed):
    gaps_s = np.random.default_rng(seed).choice([0.001, 0.004, 0.04, 0.08], size=60)  # variable frame rate
    times_s = np.concatenate(([0.0], np.cumsum(gaps_s[:-1])))
    duration_s = float(times_s[-1] + gaps_s[-1])
    analysis = make_analysis(60, 60 / duration_s, frame_times_s=times_s, duration_s=duration_s)
    picks = select(analysis, "fps", fps=fps, multiple_of=1).indices.tolist()
    assert picks == naive_fps_picks(times_s, duration_s, fps)


def test_a_frame_count_never_exceeds_the_video():
    analysis = make_analysis(50, 25.0)
    peak, picked = peak_bytes(lambda: select(analysis, "uniform", frames=MAX_FRAMES))
    assert isinstance(picked, Selection) and len(picked) == 50 and peak < 100_000


def test_a_huge_fps_on_the_command_line_is_one_line(tmp_path, capsys):
    status = main(["sample", str(tmp_path / "never-read.mp4"), "--out", str(tmp_path / "out"),
                   "--strategy", "fps", "--fps", "1e8"])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert err.rstrip().endswith(f"fps must be a finite number > 0 and <= {MAX_FPS:g}, got 100000000.0")


# --------------------------------------------------------------------------- run_batch's inputs


def test_run_batch_takes_one_folder_as_one_input(cut_video, tmp_path):
    folder = tmp_path / "videos"
    folder.mkdir()
    with pytest.raises(ConfigError, match="no videos found"):  # not a walk of "/", "t", "m", "p", ...
        run_batch(str(folder), out_dir=tmp_path / "out", progress=False)
    shutil.copy(cut_video[0], folder / "clip.mp4")
    summary = run_batch(str(folder), out_dir=tmp_path / "out", workers=1, progress=False,
                        config=JobConfig(params={"frames": 2}))
    assert summary.videos == 1 and summary.counts["ok"] == 1
    assert run_batch(folder, out_dir=tmp_path / "out", workers=1, progress=False,
                     config=JobConfig(params={"frames": 2})).counts["skipped"] == 1  # a Path too


@pytest.mark.parametrize("inputs, name", [(None, "inputs"), (3, "inputs"), (["a.mp4", 3], "inputs[1]"),
                                          ([None], "inputs[0]")], ids=str)
def test_run_batch_refuses_inputs_that_are_not_paths(tmp_path, inputs, name):
    with pytest.raises(ArgumentError) as caught:
        run_batch(inputs, out_dir=tmp_path / "out", progress=False)
    one_line_naming(caught.value, name, first=True)
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- one check per setting

SOURCES = [  # setting, TOML file, command-line options, API call: one message's ending for all three
    ("frames", "[strategy]\nframes = 1000000000000\n", ["--frames", "1000000000000"],
     lambda: JobConfig(params={"frames": 10**12}),
     f"frames must be an integer >= 1 and <= {MAX_FRAMES}, got 1000000000000"),
    ("fps", "[strategy]\nname = 'fps'\nfps = 1e308\n", ["--strategy", "fps", "--fps", "1e308"],
     lambda: JobConfig(strategy="fps", params={"fps": 1e308}),
     f"fps must be a finite number > 0 and <= {MAX_FPS:g}, got 1e+308"),
    ("timeout", "[limits]\ntimeout_s = 1e-9\n", ["--timeout", "1e-9"], lambda: JobConfig(timeout_s=1e-9),
     "timeout_s must be a finite number >= 1 and <= 604800, got 1e-09"),
    ("min_scene_len", "[analysis.detector_params]\nmin_scene_len = 1e12\n", ["--detector-param", "min_scene_len=1e12"],
     lambda: AnalysisConfig(detector_params={"min_scene_len": 1e12}),
     "the adaptive detector's min_scene_len must be a finite number >= 0 and <= 100000, got 1000000000000.0"),
    ("threads high", "[analysis]\nthreads = 100000\n", ["--threads", "100000"], lambda: AnalysisConfig(threads=100_000),
     "threads must be an integer >= 0 and <= 256, got 100000"),
    ("threads low", "[analysis]\nthreads = -1\n", ["--threads", "-1"], lambda: AnalysisConfig(threads=-1),
     "threads must be an integer >= 0 and <= 256, got -1"),
]


@pytest.mark.parametrize("setting, text, options, build, ending", SOURCES, ids=[s[0] for s in SOURCES])
def test_one_check_and_one_message_from_toml_cli_and_api(tmp_path, capsys, setting, text, options, build, ending):
    path = tmp_path / "job.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as from_toml:
        load_config(path)
    assert one_line_naming(from_toml.value, str(path), first=True).endswith(ending)
    status = main(["sample", str(tmp_path / "never-read.mp4"), "--out", str(tmp_path / "out"), *options])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("framepick: ") and err.count("\n") == 1 and err.rstrip().endswith(ending)
    with pytest.raises(ConfigError) as from_api:
        build()
    assert one_line_naming(from_api.value, setting.split()[0]).endswith(ending)


@pytest.mark.parametrize("text, name", [
    ("[strategy]\nframes = [1, 2]\n", "frames must be a number"),
    ("[strategy]\nframes = true\n", "frames must be a number"),
    ("[strategy]\nframes = '8'\n", "frames must be a number"),
    ("[strategy]\nname = [1, 2]\n", "unknown strategy [1, 2]"),
    ("[strategy]\nname = 'adaptive'\nmax_gap_s = -1\n", "max_gap_s must be a finite number >= 0"),
    ("[strategy]\nmin_frames = 9\nmax_frames = 8\n", "min_frames (9) is above max_frames (8)"),
    ("[analysis]\nkeyframes_only = '8'\n", "keyframes_only must be true or false, got '8'"),
    ("[analysis]\nreference_only = 1\n", "reference_only must be true or false, got 1"),
    ("[analysis]\nsize = true\n", "analysis size must be an integer"),
    ("[analysis]\nbackend = [1]\n", "unknown backend [1]"),
    ("[analysis.detector_params]\nweights = 3\n", "weights must be PySceneDetect's ContentDetector.Components"),
    ("[analysis.detector_params]\nluma_only = 'x'\n", "luma_only must be true or false"),
    ("[analysis.detector_params]\nwindow_width = 1e9\n", "window_width must be an integer >= 1 and <= 100"),
    ("[output]\nfactor = [28]\n", "factor must be an integer"),
    ("[output]\nmin_pixels = 200000\nmax_pixels = 100000\n", "min_pixels (200000) is above max_pixels (100000)"),
    ("[limits]\ntimeout_ratio = '1'\n", "timeout_ratio must be a finite number"),
], ids=lambda value: value if isinstance(value, str) and "\n" not in value else None)
def test_toml_values_of_the_wrong_type_or_range_are_one_line(tmp_path, text, name):
    path = tmp_path / "job.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert one_line_naming(caught.value, name).startswith(f"{path}: ")


@pytest.mark.parametrize("settings, name", [
    ({"frames": True}, "frames must be an integer"),
    ({"multiple_of": 2.0}, "multiple_of must be an integer"),
    ({"fps": float("inf")}, "fps must be a finite number"),
    ({"pair_s": 5.0}, "pair_s must be a finite number >= 0 and <= 0.5"),
], ids=str)
def test_bools_and_floats_are_not_integers_in_code_either(settings, name):
    with pytest.raises(ConfigError) as caught:
        JobConfig(strategy="adaptive", params=settings)
    one_line_naming(caught.value, name)


def test_unknown_analysis_settings_in_code_are_one_line():
    with pytest.raises(ConfigError) as caught:
        AnalysisConfig().with_overrides(sizes=96)
    one_line_naming(caught.value, "unknown analysis settings: ['sizes']")


# --------------------------------------------------------------------------- sample


@pytest.mark.parametrize("arguments, name", [
    ({"out_dir": None}, "out_dir"),
    ({"out_dir": 3}, "out_dir"),
    ({"config": "x.toml"}, "config"),
    ({"config": Path("x.toml")}, "config"),
    ({"config": {"strategy": "uniform"}}, "config"),
    ({"strategy": 3}, "strategy"),
    ({"video_id": 3}, "video_id"),
    ({"cache": "no"}, "cache"),
    ({"progress": 1}, "progress"),
    ({"threads": "4"}, "threads"),
    ({"analysis": "an analysis"}, "analysis"),
], ids=str)
def test_sample_refuses_bad_arguments_before_any_work(cut_video, tmp_path, arguments, name):
    with pytest.raises(ArgumentError) as caught:
        sample(cut_video[0], **{"out_dir": tmp_path / "out", **arguments})
    message = one_line_naming(caught.value, name, first=True)
    if name == "config" and isinstance(arguments["config"], (str, Path)):
        assert "framepick.load_config" in message
    assert not (tmp_path / "out").exists()


def test_sample_refuses_a_path_that_is_not_one(tmp_path):
    with pytest.raises(ArgumentError) as caught:
        sample(None, out_dir=tmp_path)
    one_line_naming(caught.value, "path", first=True)


def test_sample_refuses_an_analysis_of_another_video(cut_video, other_video, tmp_path):
    analysis = framepick.analyze(other_video)
    with pytest.raises(ArgumentError) as caught:
        sample(cut_video[0], "adaptive", out_dir=tmp_path / "out", analysis=analysis, frames=4)
    message = one_line_naming(caught.value, "analysis", first=True)
    assert str(other_video) in message and str(cut_video[0]) in message
    with pytest.raises(ArgumentError):  # a hand-made analysis of no file: described otherwise
        sample(cut_video[0], "uniform", out_dir=tmp_path / "out", analysis=make_analysis(50, 25.0), frames=4)
    assert not (tmp_path / "out").exists()


def test_sample_takes_an_analysis_of_the_same_content_under_another_name(cut_video, copy_of, tmp_path):
    analysis = framepick.analyze(cut_video[0])
    copy = copy_of(cut_video[0])
    manifest = sample(copy, "adaptive", out_dir=tmp_path / "out", analysis=analysis, frames=4)
    assert manifest.is_file()
    moved = copy.rename(tmp_path / "moved.mp4")  # the analysed file gone: the video's description decides
    analysis = framepick.analyze(moved, cache=False)
    moved.rename(tmp_path / "moved again.mp4")
    manifest = sample(tmp_path / "moved again.mp4", "adaptive", out_dir=tmp_path / "out", analysis=analysis, frames=4)
    assert manifest.is_file()


# --------------------------------------------------------------------------- compare and select


def bad_selections() -> list[tuple[object, str]]:
    return [
        (None, "selections[0] must be a framepick Selection"),
        ("adaptive", "selections[0] must be a framepick Selection"),
        (Selection(np.array([-5, 3]), np.array([0.0, 0.1]), "x"), "selections[0]: frame indices must be from 0 to 49"),
        (Selection(np.array([3, 500]), np.array([0.0, 0.1]), "x"), "selections[0]: frame indices must be from 0 to 49"),
        (Selection(np.array([], np.int64), np.array([]), "x"), "selections[0]: indices must be a non-empty"),
        (Selection(np.array([3, 3]), np.array([0.1, 0.1]), "x"), "selections[0]: frame indices must be sorted"),
        (Selection(np.array([3, 4]), np.array([0.1]), "x"), "selections[0]: 1 times for 2 frame indices"),
    ]


@pytest.mark.parametrize("selection, message", bad_selections(), ids=lambda value: str(value)[:40])
def test_compare_refuses_what_is_not_a_selection_of_the_video(selection, message):
    analysis = make_analysis(50, 25.0)
    with pytest.raises(ArgumentError) as caught:
        compare(analysis, selection)
    one_line_naming(caught.value, message, first=True)


def test_compare_names_the_bad_selection_among_several():
    analysis = make_analysis(50, 25.0)
    good = select(analysis, "uniform", frames=4)
    with pytest.raises(ArgumentError) as caught:
        compare(analysis, good, good, None)
    one_line_naming(caught.value, "selections[2]", first=True)


@pytest.mark.parametrize("analysis, message", [
    (None, "analysis must be a framepick Analysis"),
    ("video.mp4", "analysis must be a framepick Analysis"),
    (make_analysis(50, 25.0, thumbs=np.empty((0, 4, 4, 3), np.uint8), thumb_indices=np.empty(0, np.int64)),
     "analysis: has no thumbnails"),
], ids=["None", "str", "timing only"])
def test_compare_and_select_refuse_what_is_not_an_analysis(analysis, message):
    selection = select(make_analysis(50, 25.0), "uniform", frames=4)
    with pytest.raises(ArgumentError) as caught:
        compare(analysis, selection)
    one_line_naming(caught.value, message, first=True)
    if not isinstance(analysis, framepick.Analysis):
        with pytest.raises(ArgumentError) as caught:
            select(analysis, "uniform")
        one_line_naming(caught.value, message, first=True)


# --------------------------------------------------------------------------- Qwen


@pytest.mark.parametrize("ele, name", [
    ({}, "ele: has no 'video' key"),
    (None, "ele must be a dict"),
    ("video.mp4", "ele must be a dict"),
    ({"video": None}, "ele['video'] must be a video file's path"),
    ({"video": ["a.jpg"]}, "ele['video'] must be a video file's path"),
    ({"video": "v.mp4", "min_pixels": 500_000, "max_pixels": 100_000}, "ele: min_pixels (500000) is above max_pixels"),
    ({"video": "v.mp4", "max_pixels": -5}, "ele: max_pixels must be an integer >= 784"),
    ({"video": "v.mp4", "total_pixels": 1.5e6}, "ele: total_pixels must be an integer"),
    ({"video": "v.mp4", "resized_height": -5, "resized_width": 0}, "ele: resized_height must be an integer >= 1"),
    ({"video": "v.mp4", "nframes": 10**12}, "ele: strategy 'uniform': frames must be an integer >= 1"),
    ({"video": "v.mp4", "fps": 1e9}, "ele: strategy 'uniform': fps must be a finite number > 0"),
    ({"video": "v.mp4", "nframes": 4, "fps": 2.0}, "ele: give either nframes or fps"),
    ({"video": "v.mp4", "strategy": "best"}, "ele: unknown strategy 'best'"),
], ids=str)
def test_fetch_video_checks_the_element_before_reading_anything(ele, name):
    with pytest.raises(ArgumentError) as caught:
        fetch_video(ele)
    one_line_naming(caught.value, name, first=True)


@pytest.mark.parametrize("arguments, name", [
    ({"image_patch_size": 0}, "image_patch_size"), ({"return_video_metadata": "yes"}, "return_video_metadata"),
], ids=str)
def test_fetch_video_checks_its_other_arguments(tmp_path, arguments, name):
    with pytest.raises(ArgumentError) as caught:
        fetch_video({"video": str(tmp_path / "missing.mp4")}, **arguments)
    one_line_naming(caught.value, name, first=True)


@pytest.mark.parametrize("make_path", [Path, str, lambda p: f"file://{p}"], ids=["Path", "str", "URL"])
def test_fetch_video_takes_a_path_like_a_str(tmp_path, make_path):
    missing = tmp_path / "missing.mp4"
    with pytest.raises(VideoError) as caught:  # read as the file it names: it is missing
        fetch_video({"video": make_path(missing)})
    one_line_naming(caught.value, str(missing), first=True)


@pytest.mark.parametrize("conversations, name", [
    (None, "conversations must be"),
    ([], "conversations must be"),
    ("describe the video", "conversations must be"),
    ([{"role": "user"}], "conversations: a message must be a dict whose 'content'"),
    ([{"role": "user", "content": ["video.mp4"]}], "conversations: a message must be a dict whose 'content'"),
    ([[{"role": "user", "content": "hi"}], "not a conversation"], "conversations must be"),
], ids=str)
def test_process_vision_info_checks_the_conversations_before_importing_qwen_vl_utils(conversations, name):
    with pytest.raises(ArgumentError) as caught:
        process_vision_info(conversations)
    one_line_naming(caught.value, name, first=True)


@pytest.mark.parametrize("content, name", [
    (None, "manifest_path must be a path"),
    ("{}", "manifest_path: cannot read {}"),
    ("folder", "manifest_path: "),
    ("notjson", "manifest_path: "),
    ("other json", "manifest_path: "),
], ids=str)
def test_from_manifest_refuses_what_is_not_a_manifest(tmp_path, monkeypatch, content, name):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder").mkdir()
    (tmp_path / "notjson").write_text("frames: 3\n")
    (tmp_path / "other json").write_text('{"frames": [], "qwen": {}}')
    with pytest.raises(ArgumentError) as caught:
        from_manifest(content)
    one_line_naming(caught.value, name, first=True)


def test_from_manifest_takes_a_path_like_a_str(cut_video, tmp_path):
    manifest = sample(cut_video[0], out_dir=tmp_path, frames=2)
    assert from_manifest(manifest) == from_manifest(str(manifest))
