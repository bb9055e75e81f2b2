"""Extraction: the selected frames as JPEGs of the right size, the manifest, the atomic folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from framepick.analysis import analyze
from framepick.config import OutputConfig
from framepick.errors import ConfigError, VideoError
from framepick.extract import extract, finished_manifest, qwen_entry
from framepick.probe import content_id
from framepick.qwen import listed_frame_size, qwen_frame_size
from framepick.types import Selection
from helpers import listing
from videos import scene_frame

DATA = Path(__file__).parent / "data"


def selection_of(analysis, indices, strategy="uniform", **params):
    indices = np.asarray(indices, dtype=np.int64)
    return Selection(indices=indices, times_s=analysis.times_of(indices), strategy=strategy, params=params)


def read_jpeg(path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


@pytest.fixture
def cut_analysis(cut_video):
    return analyze(cut_video[0], progress=False)


@pytest.fixture
def out(tmp_path):
    return tmp_path / "out"


# --------------------------------------------------------------------------- output size


@pytest.mark.parametrize("case", json.loads((DATA / "qwen_smart_resize.json").read_text())["cases"],
                         ids=lambda c: f"{c['width']}x{c['height']}-n{c['frames']}-f{c['factor']}")
def test_qwen_frame_size_is_qwen_vl_utils(case):
    size = qwen_frame_size(case["width"], case["height"], case["frames"], factor=case["factor"])
    assert size == (case["out_width"], case["out_height"])


@pytest.mark.parametrize("width, height", [(1920, 1080), (1080, 1920), (640, 272), (99, 57), (3840, 1600)])
@pytest.mark.parametrize("frames", [2, 16, 64, 768])
def test_qwen_sized_frames_are_kept_as_they_are(width, height, frames):
    out = qwen_frame_size(width, height, frames)
    assert out[0] % 28 == 0 and out[1] % 28 == 0
    assert qwen_frame_size(*out, frames) == out  # qwen-vl-utils does not resize them again


def test_qwen_budget_settings():
    assert qwen_frame_size(1920, 1080, 8) == (1008, 560)  # 768 tokens of 28x28 at most
    assert qwen_frame_size(1920, 1080, 8, max_pixels=200_000) == (588, 308)
    assert qwen_frame_size(1920, 1080, 768, factor=32) == (736, 384)
    with pytest.raises(ConfigError, match="aspect ratio"):
        qwen_frame_size(4000, 10, 4)


def test_output_size_rules():
    assert OutputConfig(resize="none").frame_size(160, 96, 5) == (160, 96)
    assert OutputConfig(resize="longest", longest_side=64).frame_size(160, 96, 5) == (64, 38)
    assert OutputConfig(resize="longest", longest_side=640).frame_size(160, 96, 5) == (160, 96)  # never enlarged
    # Qwen's rule writes what qwen-vl-utils keeps reading a frame list: multiples of 2 * 28 here,
    # where a video file would be sized in multiples of 28
    assert OutputConfig().frame_size(160, 96, 5) == listed_frame_size(160, 96, 5) == (448, 280)
    assert qwen_frame_size(160, 96, 5) == (420, 252)


@pytest.mark.parametrize("settings, key", [
    ({"resize": "square"}, "resize"),
    ({"resize": "longest"}, "longest_side"),
    ({"jpeg_quality": 100}, "jpeg_quality"),
    ({"jpeg_quality": 9.5}, "jpeg_quality"),
    ({"factor": 0}, "factor"),
    ({"min_pixels": -1}, "min_pixels"),
    ({"longest_side": True, "resize": "longest"}, "longest_side"),
])
def test_output_config_rejects(settings, key):
    with pytest.raises(ConfigError, match=key):
        OutputConfig(**settings)


# --------------------------------------------------------------------------- extract


def test_writes_exactly_the_selected_frames(cut_analysis, out):
    wanted = [0, 29, 30, 50, 99, 124]
    manifest_path = extract(cut_analysis, selection_of(cut_analysis, wanted, frames=6), out,
                            output=OutputConfig(resize="none"), config_hash="abc")
    folder = out / "cuts"
    assert manifest_path == folder / "manifest.json"
    assert sorted(p.name for p in folder.iterdir()) == [f"frame_{i:06d}.jpg" for i in wanted] + ["manifest.json"]
    assert listing(out) == ["cuts"]  # nothing left beside it
    # frame 99 is step 14 of scene 3 (which starts at 85)
    expected = scene_frame(3, 14, width=160, height=96)
    assert np.abs(read_jpeg(folder / "frame_000099.jpg").astype(int) - expected).mean() < 5


def test_manifest(cut_analysis, cut_video, out):
    wanted = [0, 29, 30, 50, 99, 124]
    manifest = json.loads(extract(cut_analysis, selection_of(cut_analysis, wanted, frames=6), out,
                                  output=OutputConfig(resize="none"), config_hash="abc").read_text())
    assert manifest["video"] == {
        "path": str(cut_video[0].resolve()), "content_id": content_id(cut_video[0]),
        "id": "cuts", "frames": 125, "fps": 25.0, "duration_s": 5.0,
        "width": 160, "height": 96, "stored_width": 160, "stored_height": 96, "sample_aspect_ratio": [1, 1],
        "codec": "h264", "stream_index": 0,
    }
    assert manifest["decoder"] == "pyav"
    assert manifest["strategy"] == {"name": "uniform", "frames": 6}
    assert manifest["config_hash"] == "abc"
    assert manifest["frames"] == [
        {"index": i, "time_s": i / 25, "file": f"frame_{i:06d}.jpg", "scene": s}
        for i, s in zip(wanted, [0, 0, 1, 2, 3, 3])
    ]
    assert manifest["scenes"] == [[0, 30], [30, 50], [50, 85], [85, 125]]
    assert manifest["output"] == {"resize": "none", "factor": 28, "jpeg_quality": 90, "width": 160, "height": 96}


def test_qwen_entry(cut_analysis, tmp_path):
    manifest_path = extract(cut_analysis, selection_of(cut_analysis, [10, 60, 110, 120]), tmp_path / "a")
    entry = json.loads(manifest_path.read_text())["qwen"]
    assert entry == {
        "type": "video",
        "video": [str((tmp_path / "a" / "cuts" / f"frame_{i:06d}.jpg").resolve()) for i in (10, 60, 110, 120)],
        "sample_fps": 0.8,  # 4 frames over 5 s, as qwen-vl-utils computes it
    }
    assert all(read_jpeg(path).shape == (280, 448, 3) for path in entry["video"])  # Qwen's size
    moved = shutil.move(tmp_path / "a", tmp_path / "b")
    assert qwen_entry(Path(moved) / "cuts" / "manifest.json")["video"] == [
        str((tmp_path / "b" / "cuts" / f"frame_{i:06d}.jpg").resolve()) for i in (10, 60, 110, 120)
    ]


def test_qwen_entry_repeats_non_default_sizes(cut_analysis, out):
    output = OutputConfig(max_pixels=50_000, min_pixels=20_000)
    manifest_path = extract(cut_analysis, selection_of(cut_analysis, [10, 60]), out, output=output)
    entry = qwen_entry(manifest_path)
    assert entry["max_pixels"] == 50_000 and entry["min_pixels"] == 20_000 and "total_pixels" not in entry
    assert read_jpeg(entry["video"][0]).shape == (112, 224, 3)


def test_sample_fps_over_a_time_range(cut_analysis, out):
    selection = selection_of(cut_analysis, [25, 50, 75], start_s=1.0, end_s=4.0)
    assert qwen_entry(extract(cut_analysis, selection, out))["sample_fps"] == 1.0


def test_longest_side(cut_analysis, tmp_path):
    manifest = extract(cut_analysis, selection_of(cut_analysis, [60]), tmp_path / "out",
                       output=OutputConfig(resize="longest", longest_side=64))
    assert read_jpeg(manifest.parent / "frame_000060.jpg").shape == (38, 64, 3)


def test_jpeg_quality(cut_analysis, tmp_path):
    expected = scene_frame(2, 10, width=160, height=96).astype(int)  # frame 60
    sizes, errors = [], []
    for quality in (20, 95):
        manifest = extract(cut_analysis, selection_of(cut_analysis, [60]), tmp_path / str(quality),
                           output=OutputConfig(resize="none", jpeg_quality=quality))
        path = manifest.parent / "frame_000060.jpg"
        sizes.append(path.stat().st_size)
        errors.append(np.abs(read_jpeg(path).astype(int) - expected).mean())
    assert sizes[0] < sizes[1] and errors[0] > errors[1]


def test_rotated_frames_are_upright(rotated_video, tmp_path):
    analysis = analyze(rotated_video, progress=False)
    manifest = extract(analysis, selection_of(analysis, [0]), tmp_path, output=OutputConfig(resize="none"))
    upright = np.rot90(scene_frame(0, 0, width=160, height=96))
    frame = read_jpeg(manifest.parent / "frame_000000.jpg")
    assert frame.shape == (160, 96, 3)
    assert np.abs(frame.astype(int) - upright).mean() < 5


def test_variable_frame_rate_keeps_true_times(vfr_video, tmp_path):
    path, times = vfr_video
    analysis = analyze(path, progress=False)
    manifest = json.loads(extract(analysis, selection_of(analysis, [5, 19, 20, 39]), tmp_path).read_text())
    assert [f["time_s"] for f in manifest["frames"]] == pytest.approx([times[i] for i in (5, 19, 20, 39)], abs=1e-6)


def test_video_id_and_replacing_an_older_extraction(cut_analysis, out):
    extract(cut_analysis, selection_of(cut_analysis, [1, 2, 3]), out, video_id="clip")
    extract(cut_analysis, selection_of(cut_analysis, [4]), out, video_id="clip")
    assert sorted(p.name for p in (out / "clip").iterdir()) == ["frame_000004.jpg", "manifest.json"]
    assert listing(out) == ["clip"]


def test_a_failed_extraction_leaves_nothing(cut_video, copy_of, tmp_path):
    path = copy_of(cut_video[0])
    analysis = analyze(path, cache=False, progress=False)
    extract(analysis, selection_of(analysis, [1]), tmp_path / "out")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])  # the file is cut short after its analysis
    with pytest.raises(VideoError, match=str(path)):
        extract(analysis, selection_of(analysis, [2, 120]), tmp_path / "out")
    assert listing(tmp_path / "out") == ["cuts"]  # the older one, untouched
    assert finished_manifest(tmp_path / "out", "cuts")["frames"][0]["index"] == 1


@pytest.mark.parametrize("indices", [[], [3, 3], [5, 2], [125], [-1]])
def test_bad_selections_are_refused(cut_analysis, out, indices):
    with pytest.raises(ConfigError):
        extract(cut_analysis, selection_of(cut_analysis, np.asarray(indices, dtype=np.int64)), out)
    assert not out.exists() or listing(out) == []


def test_finished_manifest(cut_analysis, out):
    assert finished_manifest(out, "cuts") is None
    manifest_path = extract(cut_analysis, selection_of(cut_analysis, [1, 2]), out)
    assert finished_manifest(out, "cuts")["frames"][1]["index"] == 2
    (manifest_path.parent / "frame_000002.jpg").unlink()
    assert finished_manifest(out, "cuts") is None
    manifest_path.write_text("{not json")
    assert finished_manifest(out, "cuts") is None


def test_progress_of_the_frames_written_is_shown_when_asked(cut_analysis, tmp_path, capsys):
    extract(cut_analysis, selection_of(cut_analysis, [3, 60, 99]), tmp_path, progress=True)
    shown = capsys.readouterr().err
    assert "cuts.mp4: writing" in shown and "3/3" in shown
    extract(cut_analysis, selection_of(cut_analysis, [3]), tmp_path, progress=False)
    assert capsys.readouterr().err == ""


def test_an_empty_selection_names_the_file(cut_analysis, tmp_path):
    with pytest.raises(ConfigError, match=f"^{cut_analysis.info.path}: nothing to extract"):
        extract(cut_analysis, selection_of(cut_analysis, []), tmp_path)
