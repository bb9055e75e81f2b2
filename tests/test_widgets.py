"""The comparison app, driven from Python: set control values, click buttons, check what it shows."""

from __future__ import annotations

import html
import json
import re
import shlex
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

import framepick
from framepick import show
from framepick.config import load_config
from framepick.metrics import compare
from framepick.select import select
from framepick.widgets import compare_app, detector_threshold
from helpers import synthetic_analysis


@pytest.fixture(scope="module")
def analysis(cut_video):
    """The 125-frame test video (cuts at 30, 50, 85), analysed once for the module."""
    return framepick.analyze(cut_video[0], cache=False, progress=False)


@pytest.fixture
def app(analysis):
    return compare_app(analysis)


def shown_times(strip) -> list[str]:
    return [b.description for b in strip.buttons if b.layout.display != "none"]


def background_rules(strip) -> list[str]:
    return re.findall(r"\.(fp-\w+-\w-\d+)\{background-image:url\(data:image/png;base64,", strip.style.value)


def assert_shows(app, a, b) -> None:
    """The app shows selections ``a`` and ``b``: state, timeline, strips and metrics."""
    assert app.selection_a.indices.tolist() == a.indices.tolist()
    assert app.selection_b.indices.tolist() == b.indices.tolist()
    assert app.selection_a.params == a.params and app.selection_b.params == b.params
    assert app.timeline.value == show.Timeline(app.analysis, [a, b]).png()
    for strip, selection in ((app.strip_a, a), (app.strip_b, b)):
        shown = selection.indices[show.shown_positions(len(selection), len(strip.buttons))]
        assert strip.indices.tolist() == shown.tolist()
        assert shown_times(strip) == [show.format_time(t) for t in app.analysis.times_of(shown)]
        assert len(background_rules(strip)) == len(shown)
    assert app.metrics.value == show.metrics_html(compare(app.analysis, a, b))
    assert app.status.value == ""


def test_defaults_compare_uniform_with_adaptive_at_16_frames(app, analysis):
    assert (app.strategy_a.value, app.strategy_b.value, app.frames.value) == ("uniform", "adaptive", 16)
    assert_shows(app, select(analysis, "uniform", frames=16), select(analysis, "adaptive", frames=16))
    assert app.selection_a.indices.tolist() == [0, 8, 17, 25, 33, 41, 50, 58, 66, 74, 83, 91, 99, 107, 116, 124]


def test_changing_the_budget_reselects_and_redraws_in_place(app, analysis):
    figure, image = app.plot.figure, app.timeline
    app.frames.value = 6
    assert_shows(app, select(analysis, "uniform", frames=6), select(analysis, "adaptive", frames=6))
    assert app.plot.figure is figure and app.timeline is image
    assert len(shown_times(app.strip_a)) == 6


def test_duration_rule_budget(app, analysis):
    app.budget_mode.value = "fps rule"
    app.fps.value = 4.0
    assert app.frames.disabled and not app.fps.disabled
    rule = {"frames": None, "fps": 4.0, "min_frames": 4, "max_frames": 768}
    assert_shows(app, select(analysis, "uniform", **rule), select(analysis, "adaptive", **rule))
    assert len(app.selection_a) == 20  # 5 s at 4 fps
    app.max_frames.value = 8
    assert len(app.selection_a) == len(app.selection_b) == 8


def test_strategy_parameters_have_their_own_controls(app, analysis):
    assert app.panel_a.params == app.panel_b.params == {}  # uniform and adaptive: the budget alone
    app.strategy_b.value = "novelty"
    assert sorted(app.panel_b.params) == ["threshold"]
    app.panel_b.params["threshold"].value = 0.5
    expected = select(analysis, "novelty", frames=16, threshold=0.5)
    assert_shows(app, select(analysis, "uniform", frames=16), expected)


def test_changing_a_strategy_rebuilds_its_parameter_controls(app, analysis):
    app.strategy_a.value = "novelty"
    assert list(app.panel_a.params) == ["threshold"]
    app.panel_a.params["threshold"].value = 0.05
    assert_shows(app, select(analysis, "novelty", frames=16, threshold=0.05), select(analysis, "adaptive", frames=16))
    app.strategy_b.value = "fps"
    assert_shows(app, select(analysis, "novelty", frames=16, threshold=0.05), select(analysis, "fps", max_frames=16))


def test_invalid_budget_is_reported_and_keeps_the_last_selection(app):
    app.budget_mode.value = "fps rule"
    before = app.selection_a.indices.tolist()
    app.min_frames.value = 800
    assert "min_frames (800) is above max_frames (768)" in app.status.value
    assert app.selection_a.indices.tolist() == before
    app.min_frames.value = 4
    assert app.status.value == ""


def test_clicking_a_thumbnail_shows_the_frame_larger(app, analysis):
    app.strip_b.buttons[2].click()
    index = int(app.selection_b.indices[2])
    assert app.zoom.value == show.to_png(show.frame_image(analysis, index))
    time_s = show.format_time(float(analysis.times_of(np.array([index]))[0]))
    scene = int(analysis.scene_of(np.array([index]))[0]) + 1
    assert app.zoom_caption.value == f"frame {index} at {time_s} (scene {scene} of 4)"


def test_strips_show_at_most_max_thumbs(analysis):
    app = compare_app(analysis, max_thumbs=4, frames=12)
    # uniform picks 0 11 23 34 45 56 68 79 90 101 113 124; the strip shows picks 0, 4, 7 and 11
    assert app.strip_a.indices.tolist() == [0, 45, 79, 124]
    assert shown_times(app.strip_a) == ["0.00 s", "1.80 s", "3.16 s", "4.96 s"]
    assert "(12 frames, 4 shown)" in app.strip_a.title.value
    app.strip_a.buttons[3].click()
    assert app.zoom_caption.value.startswith("frame 124 at ")


def test_metrics_mark_the_better_strategy(app):
    app.frames.value = 6
    app.strategy_b.value = "scenes"  # at least one frame per scene; uniform misses frames 30-49
    cells = re.search(r"scene coverage.*?</tr>", app.metrics.value).group(0)
    assert re.findall(r"<td[^>]*>(.*?)</td>", cells) == ["0.750", "<b>1.000 &#9733;</b>"]


def test_changing_the_detector_reanalyses_with_its_threshold(app, cut_video):
    assert (app.detector.value, app.threshold.value) == ("adaptive", 3.0)
    app.detector.value = "content"
    assert app.threshold.value == 27.0
    assert (app.analysis.config.detector, app.analysis.config.detector_params) == ("content", {"threshold": 27.0})
    assert app.analysis.cuts.tolist() == [30, 50, 85]
    app.threshold.value = 255.0
    assert app.analysis.cuts.tolist() == []
    assert_shows(app, select(app.analysis, "uniform", frames=16), select(app.analysis, "adaptive", frames=16))
    assert "1 scenes" in app.plot.figure.axes[0].get_title(loc="left")
    again = compare_app(cut_video[0], config=app.analysis.config, progress=False)
    assert again.analysis.elapsed_s == app.analysis.elapsed_s  # from the cache


def test_detector_threshold_names_and_defaults():
    assert detector_threshold("adaptive") == ("adaptive_threshold", 3.0)
    assert detector_threshold("content") == ("threshold", 27.0)
    assert detector_threshold("histogram")[0] == detector_threshold("hash")[0] == "threshold"


def test_app_on_a_long_video_redraws_without_rebuilding():
    app = compare_app(synthetic_analysis(54_000, 30.0), frames=None)
    assert len(app.selection_a) == len(app.selection_b) == 768
    assert len(shown_times(app.strip_b)) == 48
    axes = list(app.plot.figure.axes)
    app.frames.value = 100
    app.budget_mode.value = "frames"
    assert len(app.selection_b) == 100 and list(app.plot.figure.axes) == axes


def export_from(app, tmp_path, which: str):
    app.export_which.value = which
    app.export_folder.value = str(tmp_path / "job")
    app.export_inputs.value = str(tmp_path / "videos")
    app.export_button.click()
    return app.exported


def test_export_writes_a_config_that_reproduces_the_selection_shown(app, cut_video, tmp_path):
    app.frames.value = 10
    app.strategy_b.value = "novelty"
    app.panel_b.params["threshold"].value = 0.2
    app.detector.value = "histogram"
    exported = export_from(app, tmp_path, "B")
    assert exported.config == tmp_path / "job" / "strategy.toml"
    assert exported.script == tmp_path / "job" / "run_batch.py"
    job = load_config(exported.config)
    assert (job.strategy, job.analysis) == ("novelty", app.analysis.config)
    reanalysed = framepick.analyze(cut_video[0], job.analysis, cache=False, progress=False)
    again = select(reanalysed, job.strategy, **job.params)
    assert again.indices.tolist() == app.selection_b.indices.tolist()
    assert again.params == app.selection_b.params and again.params["threshold"] == 0.2
    assert html.escape(exported.command) in app.export_result.value
    assert exported.cli_command == (f"framepick batch --config {tmp_path}/job/strategy.toml "
                                    f"--out {tmp_path}/job/frames {tmp_path}/videos")


def test_export_of_strategy_a_with_the_duration_rule(app, tmp_path):
    app.budget_mode.value = "fps rule"
    app.fps.value = 1.0
    job = load_config(export_from(app, tmp_path, "A").config)
    params = job.resolved_params()
    assert (job.strategy, params["frames"], params["fps"]) == ("uniform", None, 1.0)
    assert select(app.analysis, job.strategy, **job.params).indices.tolist() == app.selection_a.indices.tolist()


@pytest.mark.slow
def test_exported_script_runs_the_batch_job(app, cut_video, tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    shutil.copy(cut_video[0], videos / "clip.mp4")
    app.frames.value = 6
    exported = export_from(app, tmp_path, "B")
    run = subprocess.run(shlex.split(exported.command), capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    manifest = json.loads((tmp_path / "job" / "frames" / "clip" / "manifest.json").read_text())
    assert [frame["index"] for frame in manifest["frames"]] == app.selection_b.indices.tolist()
    for frame in manifest["frames"]:
        with Image.open(tmp_path / "job" / "frames" / "clip" / frame["file"]) as image:
            assert image.format == "JPEG"


def test_export_error_is_shown(app, tmp_path):
    (tmp_path / "file").write_text("")
    app.export_folder.value = str(tmp_path / "file" / "job")
    app.export_button.click()
    assert "Not a directory" in app.export_result.value or "File exists" in app.export_result.value
