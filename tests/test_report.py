"""The main job: uniform against adaptive, JPEGs, manifests and a markdown report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from framepick.cli import main
from framepick.report import contact_sheet, run_demo


def test_demo_writes_frames_manifests_and_report(bikes, tmp_path):
    result = run_demo(bikes, out_dir=tmp_path / "out", report_dir=tmp_path / "report", frames=8)
    assert set(result.manifests) == {"uniform", "adaptive"}
    uniform = json.loads(result.manifests["uniform"].read_text())
    adaptive = json.loads(result.manifests["adaptive"].read_text())
    # qwen-vl-utils' linspace over 250 frames, 8 of them
    assert [f["index"] for f in uniform["frames"]] == [0, 36, 71, 107, 142, 178, 213, 249]
    assert len(adaptive["frames"]) == 8
    for manifest in (uniform, adaptive):
        folder = result.manifests["uniform"].parents[2] / manifest["strategy"]["name"] / "bikes"
        assert all((folder / f["file"]).is_file() for f in manifest["frames"])
    text = result.report.read_text()
    assert "| uniform | 8 |" in text and "| adaptive | 8 |" in text
    assert text.count("\n| ") >= 2 + 6  # metrics rows and one row per scene
    assert "| 5 | 242-249 | 9.68 s - 10.00 s |" in text
    for name in ("timeline.png", "contact_uniform.jpg", "contact_adaptive.jpg"):
        assert (result.report.parent / name).stat().st_size > 1000


def test_contact_sheet_tiles_the_written_jpegs(bikes, tmp_path):
    result = run_demo(bikes, out_dir=tmp_path / "out", report_dir=tmp_path / "report", frames=10)
    sheet = contact_sheet(result.manifests["uniform"], thumb_px=64, columns=4)
    with Image.open(result.manifests["uniform"].parent / "frame_000000.jpg") as jpeg:
        height = round(64 * jpeg.height / jpeg.width)  # the default output size follows Qwen's rule
        first = np.asarray(jpeg.resize((64, height)))
    # 10 thumbnails in rows of 4 with 2 px gaps
    assert sheet.shape == (3 * height + 2 * 2, 4 * 64 + 3 * 2, 3)
    assert np.abs(sheet[:height, :64].astype(int) - first).mean() < 12


def test_demo_command_prints_where_to_look(bikes, tmp_path, capsys):
    status = main(["demo", str(bikes), "--out", str(tmp_path / "out"), "--report-dir", str(tmp_path / "r"),
                   "--frames", "4"])
    out = capsys.readouterr().out
    assert status == 0
    assert f"report: {tmp_path / 'r' / 'report.md'}" in out
    assert str(tmp_path / "out" / "adaptive" / "bikes" / "manifest.json") in out


def test_demo_writes_nothing_outside_its_output_folder(bikes, tmp_path, monkeypatch, capsys):
    work = tmp_path / "clone"
    work.mkdir()
    monkeypatch.chdir(work)
    assert main(["demo", str(bikes)]) == 0
    assert sorted(p.name for p in work.iterdir()) == ["framepick-out"]  # no reports/ in the working tree
    report = work / "framepick-out" / "report" / "report.md"
    assert f"report: {Path('framepick-out') / 'report' / 'report.md'}" in capsys.readouterr().out
    assert "| uniform | 16 |" in report.read_text() and "| adaptive | 16 |" in report.read_text()
