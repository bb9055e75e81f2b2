"""Static rendering: the timeline's pixels, the strips' HTML and arrays, the metrics table."""

from __future__ import annotations

import base64
import io
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import framepick
from framepick import show
from framepick.types import Selection
from helpers import synthetic_analysis
from videos import scene_frame


@pytest.fixture(scope="module")
def short():
    """30 s at 30 fps, 5 scenes, 30 thumbnails."""
    return synthetic_analysis(900, 30.0, scenes=5, seed=3)


def picks(analysis, indices, strategy="hand") -> Selection:
    indices = np.asarray(indices, dtype=np.int64)
    return Selection(indices=indices, times_s=analysis.times_of(indices), strategy=strategy)


def decode_png(png: bytes) -> np.ndarray:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def columns_of_colour(image: np.ndarray, colour: str, rows: slice, timeline: show.Timeline) -> np.ndarray:
    """x of the pixel columns inside the axes holding ``colour`` (nearly) somewhere in ``rows``."""
    rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    close = np.abs(image[rows].astype(int) - rgb).sum(axis=2) < 40
    columns = np.flatnonzero(close.any(axis=0))
    left, right = timeline.figure.axes[1].bbox.x0, timeline.figure.axes[1].bbox.x1
    return columns[(columns >= left - 1) & (columns <= right + 1)]


def pixel_x(timeline: show.Timeline, time_s: float) -> float:
    ax = timeline.figure.axes[1]
    return float(ax.transData.transform((time_s, 0.0))[0])


def row_band(timeline: show.Timeline, row: int, rows: int = 2) -> slice:
    """Image rows (top-down) of tick row ``row`` (0 = A) of ``rows``."""
    ax = timeline.figure.axes[1]
    height = timeline.figure.bbox.height
    y = rows - 1 - row
    low, high = (height - ax.transData.transform((0.0, y + dy))[1] for dy in (0.3, -0.3))
    return slice(int(np.ceil(low)), int(high))


def tick_columns(timeline: show.Timeline, image: np.ndarray, row: int, rows: int = 2) -> np.ndarray:
    """x of the columns where tick row ``row`` (0 = A, in A's colour) of ``rows`` is drawn."""
    return columns_of_colour(image, show.COLORS[row], row_band(timeline, row, rows), timeline)


def assert_ticks_at(columns: np.ndarray, expected_x: list[float]) -> None:
    """Every expected x has a coloured column within 1.5 px, and every coloured column is near one."""
    expected = np.asarray(expected_x)
    assert all(np.abs(columns - x).min() <= 1.5 for x in expected), (columns, expected)
    assert all(np.abs(expected - c).min() <= 1.5 for c in columns), (columns, expected)


def test_timeline_draws_ticks_where_the_frames_are(short):
    a, b = picks(short, [150, 300]), picks(short, [60, 600, 899])
    timeline = show.Timeline(short, [a, b])
    image = decode_png(timeline.png())
    assert image.shape == (300, 1000, 3)
    assert_ticks_at(tick_columns(timeline, image, 0), [pixel_x(timeline, t) for t in (5.0, 10.0)])
    assert_ticks_at(tick_columns(timeline, image, 1), [pixel_x(timeline, t) for t in (2.0, 20.0, 29.9667)])


def test_timeline_updates_in_place_and_forgets_old_ticks(short):
    timeline = show.Timeline(short, [picks(short, [150, 300]), picks(short, [60])])
    first = timeline.png()
    axes = list(timeline.figure.axes)
    timeline.set_selections([picks(short, [450]), picks(short, [60])])
    image = decode_png(timeline.png())
    assert timeline.figure.axes == axes
    assert_ticks_at(tick_columns(timeline, image, 0), [pixel_x(timeline, 15.0)])
    timeline.set_selections([picks(short, [150, 300]), picks(short, [60])])
    assert timeline.png() == first


def test_timeline_draws_scene_cuts_over_the_score(short):
    timeline = show.Timeline(short, [picks(short, [0])])
    image = decode_png(timeline.png())
    ax = timeline.figure.axes[0]
    middle = int(timeline.figure.bbox.height - ax.transAxes.transform((0.0, 0.5))[1])
    cut_columns = columns_of_colour(image, show.CUT_COLOR, slice(middle - 3, middle + 3), timeline)
    assert_ticks_at(cut_columns, [pixel_x(timeline, t) for t in short.times_of(short.cuts)])


def test_timeline_shows_a_new_analysis(short):
    longer = synthetic_analysis(1800, 30.0, scenes=3, seed=4)
    timeline = show.Timeline(short, [picks(short, [300])])
    timeline.set_analysis(longer)
    timeline.set_selections([picks(longer, [300])])
    image = decode_png(timeline.png())
    assert timeline.figure.axes[1].get_xlim() == (0.0, 60.0)
    assert_ticks_at(tick_columns(timeline, image, 0, rows=1), [pixel_x(timeline, 10.0)])


def test_timeline_keeps_its_number_of_rows(short):
    timeline = show.Timeline(short, [picks(short, [1]), picks(short, [2])])
    with pytest.raises(ValueError, match="shows 2 selections, got 1"):
        timeline.set_selections([picks(short, [1])])
    with pytest.raises(ValueError, match="1 to 4 selections"):
        show.Timeline(short, [])


def test_timeline_png_is_the_timeline_rendered(short):
    a = picks(short, [10, 20])
    assert show.timeline_png(short, a) == show.Timeline(short, [a]).png()


@pytest.mark.parametrize(("count", "max_frames", "expected"), [
    (0, 3, []), (3, None, [0, 1, 2]), (3, 3, [0, 1, 2]), (10, 3, [0, 4, 9]), (10, 1, [0]),
])
def test_shown_positions(count, max_frames, expected):
    assert show.shown_positions(count, max_frames).tolist() == expected


def test_pick_thumbs_are_the_nearest_thumbnails(short):
    # thumbnails every 30 frames; frame 44 is nearest to 30, frame 46 to 60, 15 ties to 0
    assert np.array_equal(show.pick_thumbs(short, np.array([44, 46, 15])), short.thumbs[[1, 2, 0]])


def test_strip_array_lays_thumbnails_side_by_side(short):
    selection = picks(short, [0, 100, 899])
    strip = show.strip_array(short, selection, gap_px=3)
    assert strip.shape == (36, 3 * 64 + 2 * 3, 3)
    assert np.array_equal(strip[:, 67:131], short.thumbs[3])
    assert np.array_equal(strip[:, 134:], short.thumbs[29])
    assert (strip[:, 64:67] == 255).all()
    assert show.strip_array(short, selection, max_frames=2).shape == (36, 2 * 64 + 2, 3)


def test_strip_html_shows_every_frame_with_its_time(short):
    text = show.strip_html(short, picks(short, [0, 45, 899], "uniform"), label="B", color="#123456")
    assert re.findall(r'data-index="(\d+)"', text) == ["0", "45", "899"]
    assert re.findall(r"<figcaption[^>]*>([^<]*)</figcaption>", text) == ["0.00 s", "1.50 s", "29.97 s"]
    assert "B: uniform (3 frames)" in text and "#123456" in text
    img = re.search(r'src="data:image/png;base64,([^"]+)"', text).group(1)
    assert np.array_equal(decode_png(base64.b64decode(img)), short.thumbs[0])


def test_strip_html_says_how_many_frames_it_hides(short):
    text = show.strip_html(short, picks(short, np.arange(0, 900, 9)), max_frames=10)
    assert len(re.findall("<img", text)) == 10
    assert "(100 frames, 10 shown)" in text


def test_strip_html_escapes_names(short):
    assert "&lt;b&gt;" in show.strip_html(short, picks(short, [1], "<b>"))


ROWS = [
    {"strategy": "uniform", "frames": 8, "scene_coverage": 0.5, "max_gap_s": 4.0, "mean_gap_s": 3.0,
     "redundancy": 0.9, "representativeness": 0.2},
    {"strategy": "adaptive", "frames": 8, "scene_coverage": 1.0, "max_gap_s": 6.0, "mean_gap_s": 3.0,
     "redundancy": 0.7, "representativeness": 0.1},
]


def table_cells(text: str) -> dict[str, list[str]]:
    rows = re.findall(r"<tr><th[^>]*>(.*?)</th>(.*?)</tr>", text)
    return {re.sub(r" \(.*", "", name): re.findall(r"<td[^>]*>(.*?)</td>", cells) for name, cells in rows}


def test_metrics_html_marks_the_better_value():
    cells = table_cells(show.metrics_html(ROWS))
    star = " &#9733;"
    assert cells["frames"] == ["8", "8"]
    assert cells["scene coverage"] == ["0.500", f"<b>1.000{star}</b>"]           # higher is better
    assert cells["largest gap"] == [f"<b>4.000{star}</b>", "6.000"]              # lower is better
    assert cells["mean gap"] == ["3.000", "3.000"]                               # a tie marks nothing
    assert cells["redundancy"] == ["0.900", f"<b>0.700{star}</b>"]
    assert cells["representativeness"] == ["0.200", f"<b>0.100{star}</b>"]
    assert show.metrics_html(ROWS).count('class="fp-best"') == 4


def test_metrics_html_heads_columns_with_label_and_strategy():
    text = show.metrics_html(ROWS, labels=["left", "right"])
    assert "<th>left: uniform</th><th>right: adaptive</th>" in text


def test_comparison_html_holds_timeline_strips_and_metrics(short):
    a, b = picks(short, [0, 450], "uniform"), picks(short, [100, 200, 800], "adaptive")
    text = show.comparison_html(short, a, b)
    timeline = re.search(r'class="fp-timeline" src="data:image/png;base64,([^"]+)"', text).group(1)
    assert base64.b64decode(timeline) == show.timeline_png(short, a, b)
    assert re.findall(r'data-label="(\w)"', text) == ["A", "B"]
    assert re.findall(r'data-index="(\d+)"', text) == ["0", "450", "100", "200", "800"]
    assert text.count('class="fp-metrics"') == 1


@pytest.mark.parametrize(("time_s", "text"), [
    (0.0, "0.00 s"), (59.994, "59.99 s"), (60.0, "1:00.0"), (599.96, "10:00.0"), (3600.0, "1:00:00.0"),
])
def test_format_time(time_s, text):
    assert show.format_time(time_s) == text


def test_show_imports_no_plotting_or_widget_library():
    code = ("import sys, framepick, framepick.show; "
            "print(sorted({'matplotlib', 'ipywidgets', 'IPython'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_frame_image_decodes_the_frame_of_the_video(cut_video):
    path, _cuts = cut_video
    analysis = framepick.analyze(path, progress=False)
    image = show.frame_image(analysis, 60, size=160)  # scene 2 (frames 50-84), its 11th frame
    assert image.shape == (96, 160, 3)
    distances = [np.abs(image.astype(int) - scene_frame(scene, 60 - start, width=160, height=96)).mean()
                 for scene, start in enumerate([0, 30, 50, 85])]
    assert distances[2] < 6 and min(distances[:2] + distances[3:]) > 30, distances


def test_frame_image_falls_back_to_the_thumbnail_without_the_video(short):
    assert np.array_equal(show.frame_image(short, 100), short.thumbs[3])


def test_grid_tiles_images_row_by_row():
    images = [np.full((2, 3, 3), value, np.uint8) for value in (10, 20, 30)]
    sheet = show.grid(images, columns=2, gap_px=1)
    assert sheet.shape == (5, 7, 3)
    assert (sheet[:2, :3] == 10).all() and (sheet[:2, 4:] == 20).all() and (sheet[3:, :3] == 30).all()
    assert (sheet[2] == 255).all() and (sheet[:, 3] == 255).all() and (sheet[3:, 4:] == 255).all()
    assert show.grid([], columns=3).shape == (0, 0, 3)
    with pytest.raises(ValueError, match="one shape"):
        show.grid([np.zeros((2, 2, 3), np.uint8), np.zeros((3, 2, 3), np.uint8)])


def test_show_comparison_displays_the_comparison_html(short):
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    a, b = picks(short, [0, 450], "uniform"), picks(short, [100, 800], "adaptive")
    InteractiveShell.instance(history_load_length=0)  # display() publishes to a shell, as in a notebook
    try:
        with capture_output() as captured:
            show.show_comparison(short, a, b, max_frames=1)
    finally:
        InteractiveShell.clear_instance()
    assert [output.data["text/html"] for output in captured.outputs] == [
        show.comparison_html(short, a, b, max_frames=1)]
