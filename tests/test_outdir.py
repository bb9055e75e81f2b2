"""The output folder: hostile names, a second batch, planted links and replaced videos lose nothing."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from framepick import analyze
from framepick.batch import run_batch
from framepick.errors import ConfigError
from framepick.outdir import MAX_ID_BYTES, RESERVED, check_video_id, locked, video_id, video_ids
from framepick.pipeline import sample
from helpers import listing
from videos import write_video

HOSTILE = ["..mp4", ".mp4", "....mp4", ".partial-x.mp4", ".old-y.mp4", "batch.jsonl.mp4", "Batch.JSONL.mp4",
           "new\nline.mp4", "tab\there.mp4", " spaced .mp4", "ünïcödé 🎬.mp4", "x" * 240 + ".mp4", "X.mp4", "x.mp4"]


@pytest.mark.parametrize("name", HOSTILE)
def test_video_ids_are_safe_folder_names(name):
    made = video_id(name)
    assert check_video_id(made) == made
    assert "/" not in made and not made.startswith(".") and made not in ("", ".", "..")
    assert len(made.encode()) <= MAX_ID_BYTES


def test_clashing_ids_get_distinct_suffixes():
    ids = video_ids(["a/x.mp4", "b/X.mp4", "c/x.mkv", "..mp4", "....mp4"])
    assert len({i.casefold() for i in ids}) == 5
    assert ids == video_ids(["a/x.mp4", "b/X.mp4", "c/x.mkv", "..mp4", "....mp4"])  # stable


@pytest.mark.parametrize("bad", ["../x", "/abs/x", "a/b", ".", "..", ".framepick", "", "batch.jsonl", "x\0y",
                                 "y" * (MAX_ID_BYTES + 1)])
def test_api_refuses_ids_that_leave_the_folder(cut_video, tmp_path, bad):
    out = tmp_path / "out"
    with pytest.raises(ConfigError, match="video id"):
        sample(cut_video[0], out_dir=out, video_id=bad, frames=2)
    assert not out.exists() and {p.name for p in tmp_path.iterdir()} <= {"cache"}  # refused before any write


BATCHED = [name for name in HOSTILE if name != ".mp4"]  # a hidden file named ".mp4" has no extension


@pytest.fixture(scope="module")
def hostile_folder(tmp_path_factory, cut_video):
    folder = tmp_path_factory.mktemp("hostile")
    for name in BATCHED:
        shutil.copy(cut_video[0], folder / name)
    return folder


@pytest.mark.slow
def test_a_batch_of_hostile_names_keeps_every_result_inside(hostile_folder, tmp_path):
    out = tmp_path / "out"
    first = run_batch([hostile_folder], out_dir=out, workers=1, progress=False)
    assert first.counts == {"ok": len(BATCHED), "skipped": 0, "failed": 0}
    ids = [line["id"] for line in first.results]
    assert len(set(ids)) == len(BATCHED) and listing(out) == sorted([*ids, "batch.jsonl"])
    for line in first.results:
        assert os.path.dirname(os.path.abspath(line["manifest"])) == str(out / line["id"])
    again = run_batch([hostile_folder], out_dir=out, workers=1, progress=False)  # resumed: nothing lost
    assert again.counts["skipped"] == len(BATCHED) and listing(out) == sorted([*ids, "batch.jsonl"])
    assert {p.name for p in tmp_path.iterdir()} <= {"cache", "out"}  # nothing written beside --out


def test_a_second_batch_into_the_same_folder_is_refused(cut_video, tmp_path):
    out = tmp_path / "out"
    with locked(out), pytest.raises(ConfigError, match=r"another batch \(pid \d+\) is writing into this folder"):
        run_batch([cut_video[0]], out_dir=out, workers=1, progress=False)
    assert run_batch([cut_video[0]], out_dir=out, workers=1, progress=False).counts["ok"] == 1  # free again


def test_planted_links_are_not_followed(cut_video, tmp_path):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("precious")
    (out / RESERVED).symlink_to(elsewhere, target_is_directory=True)
    (out / "batch.jsonl").symlink_to(elsewhere / "keep.txt")
    (out / "cuts").symlink_to(elsewhere, target_is_directory=True)  # where the video's folder goes
    summary = run_batch([cut_video[0]], out_dir=out, workers=1, force=True, progress=False)
    assert summary.counts["ok"] == 1
    assert sorted(p.name for p in elsewhere.iterdir()) == ["keep.txt"]
    assert (elsewhere / "keep.txt").read_text() == "precious"
    assert not any(p.is_symlink() for p in out.iterdir())
    assert (out / "cuts" / "manifest.json").is_file()


def _replace_keeping_size_and_mtime(path, lengths):
    """Write another video over ``path``, padded to its old size, its modification time put back."""
    stat = path.stat()
    replacement = path.with_name("replacement" + path.suffix)
    write_video(replacement, lengths)
    data = replacement.read_bytes()
    assert len(data) <= stat.st_size
    path.write_bytes(data + b"\0" * (stat.st_size - len(data)))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


@pytest.mark.slow
def test_a_replaced_video_is_redone_and_not_served_from_the_cache(tmp_path):
    path = tmp_path / "clip.mp4"
    write_video(path, [40, 40, 45])
    out = tmp_path / "out"
    first = analyze(path)
    assert run_batch([path], out_dir=out, workers=1, progress=False).counts["ok"] == 1
    _replace_keeping_size_and_mtime(path, [60, 65])
    second = analyze(path)  # not the cached analysis of the old content
    assert second.cuts.tolist() != first.cuts.tolist() and abs(second.cuts[0] - 60) <= 1
    rerun = run_batch([path], out_dir=out, workers=1, progress=False)
    assert rerun.counts == {"ok": 1, "skipped": 0, "failed": 0}  # redone, not skipped
    manifest = json.loads((out / "clip" / "manifest.json").read_text())
    assert manifest["video"]["frames"] == 125 and np.all([f["index"] < 125 for f in manifest["frames"]])
