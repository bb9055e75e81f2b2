"""The notebooks run top to bottom (nbclient) on the bundled sample, in a temporary working folder."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import nbformat

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
VIDEO_LINE = "VIDEO = framepick.sample_video()"

pytestmark = pytest.mark.slow

# nbformat and nbclient are imported where they are used: nbformat's schema checks take seconds
# to import, which every collection of the suite would pay


def execute(name: str, workdir: Path, *, video: Path | None = None) -> nbformat.NotebookNode:
    """Run notebook ``name`` in ``workdir``, with ``VIDEO`` set to ``video`` when given."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    if video is not None:
        first = next(cell for cell in notebook.cells if cell.cell_type == "code")
        assert VIDEO_LINE in first.source
        first.source = first.source.replace(VIDEO_LINE, f"VIDEO = {str(video)!r}")
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(workdir)}}).execute()
    return notebook


def assert_ignored_by_git(workdir: Path) -> None:
    """Everything a notebook wrote in ``workdir`` would be ignored by git in ``notebooks/``, where
    the notebooks run in place: a fresh clone stays clean."""
    written = [f"notebooks/{path.name}" + ("/" if path.is_dir() else "") for path in workdir.iterdir()]
    assert written
    for name in written:  # a trailing slash: a folder, which git's folder patterns need to know
        checked = subprocess.run(["git", "check-ignore", "--no-index", "-q", name], cwd=NOTEBOOKS.parent)
        assert checked.returncode == 0, f"{name} is not ignored by git"


def outputs(notebook: nbformat.NotebookNode, kind: str) -> list[str]:
    """Every output of MIME type ``kind`` (``"stdout"`` for printed text), in order."""
    found = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if kind == "stdout" and output.get("name") == "stdout":
                found.append(output["text"])
            elif kind in output.get("data", {}):
                found.append(output["data"][kind])
    return found


@pytest.mark.parametrize("name", ["01_explore.ipynb", "02_compare.ipynb", "03_batch.ipynb"])
def test_notebook_is_stored_without_outputs(name):
    import nbformat

    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert VIDEO_LINE in code[0].source
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert "framepick._" not in "".join(cell.source for cell in code)  # only the public API


def test_explore_on_the_sample(tmp_path):
    notebook = execute("01_explore.ipynb", tmp_path)
    printed = "".join(outputs(notebook, "stdout"))
    assert "30.0 s, 720 frames at 24 fps, 1280x720 vp8" in printed
    assert "4 scenes;" in printed
    assert re.findall(r"scene +(\d+): frames +(\d+) to +(\d+)", printed) == [
        ("1", "0", "282"), ("2", "283", "375"), ("3", "376", "550"), ("4", "551", "719")]
    assert re.findall(r"(\w+): frames +(\d+) to +(\d+)\n", printed) == [("fade_in", "0", "47")]
    assert len(outputs(notebook, "image/png")) == 1
    assert len(re.findall("<img", outputs(notebook, "text/html")[-1])) == 4
    # the analysis shows its progress as tqdm's notebook bar (a widget) in a kernel
    assert outputs(notebook, "application/vnd.jupyter.widget-view+json")


def test_explore_on_another_video(tmp_path, cut_video):
    path, cuts = cut_video
    printed = "".join(outputs(execute("01_explore.ipynb", tmp_path, video=path), "stdout"))
    assert "125 frames at 25 fps" in printed
    starts = [int(start) for start in re.findall(r"scene +\d+: frames +(\d+) to", printed)]
    assert starts == [0, *cuts]


def test_compare_on_the_sample(tmp_path):
    tmp_path = tmp_path / "run"  # apart from the test's own analysis cache in tmp_path
    tmp_path.mkdir()
    notebook = execute("02_compare.ipynb", tmp_path)
    views = outputs(notebook, "application/vnd.jupyter.widget-view+json")
    assert views, "the comparison app is displayed"
    tables = [html for html in outputs(notebook, "text/html") if 'class="fp-metrics"' in html]
    assert len(tables) == 1 and "A: uniform" in tables[0] and "B: adaptive" in tables[0]
    report = (tmp_path / "framepick-out" / "comparison.html").read_text()
    assert report.count('data-label="') == 2 and report.count('class="fp-metrics"') == 1
    assert_ignored_by_git(tmp_path)


def test_batch_on_the_sample(tmp_path):
    tmp_path = tmp_path / "run"  # apart from the test's own analysis cache in tmp_path
    tmp_path.mkdir()
    notebook = execute("03_batch.ipynb", tmp_path)
    frames = tmp_path / "framepick-out" / "batch_demo" / "job" / "frames"
    manifests = sorted(path.parent.name for path in frames.glob("*/manifest.json"))
    assert manifests == ["first", "second"]
    first = json.loads((frames / "first" / "manifest.json").read_text())
    assert len(first["frames"]) == 16 and first["strategy"]["name"] == "adaptive"
    assert all((frames / "first" / frame["file"]).is_file() for frame in first["frames"])
    assert len(outputs(notebook, "image/png")) == 1  # the contact sheet
    assert_ignored_by_git(tmp_path)
