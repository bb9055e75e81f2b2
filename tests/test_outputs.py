"""Outputs are never lost and never trusted damaged (issue 28): one folder per source file across
runs into one output folder, images checked against the manifest's sizes and CRC-32s on resume,
staging folders of dead writers removed by the next writer."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from framepick.batch import run_batch
from framepick.cli import main
from framepick.config import JobConfig
from framepick.errors import OutputError
from framepick.extract import MANIFEST_NAME, finished_manifest, output_id
from framepick.outdir import RESERVED, fallback_ids, staging
from framepick.pipeline import sample
from helpers import listing
from videos import write_video

FOUR = JobConfig(params={"frames": 4})


def run(inputs, out, **options):
    return run_batch(inputs, out_dir=out, config=FOUR, progress=False, **{"workers": 1, **options})


def manifest_of(out: Path, video_id: str) -> dict:
    return json.loads((out / video_id / MANIFEST_NAME).read_text())


def statuses(summary) -> dict[str, str]:
    return {line["id"]: line["status"] for line in summary.results}


# --------------------------------------------------------------------------- one folder per source file


@pytest.fixture(scope="module")
def same_stem(tmp_path_factory) -> list[Path]:
    """Two different videos named ``v.mp4``: ``a/v.mp4`` (40 frames) and ``b/v.mp4`` (50 frames)."""
    folder = tmp_path_factory.mktemp("same-stem")
    paths = [folder / "a" / "v.mp4", folder / "b" / "v.mp4"]
    for path, scenes in zip(paths, ([20, 20], [15, 25, 10])):
        path.parent.mkdir()
        write_video(path, scenes)
    return paths


def test_two_batches_of_same_stem_videos_keep_both(same_stem, tmp_path):
    a, b = same_stem
    out = tmp_path / "out"
    first, second = run([a], out), run([b], out)
    assert first.exit_status == second.exit_status == 0
    assert statuses(first) == {"v": "ok"} and statuses(second) == {next(fallback_ids(b)): "ok"}
    b_id = next(fallback_ids(b))
    assert listing(out) == sorted(["batch.jsonl", "v", b_id])
    assert (manifest_of(out, "v")["video"]["path"], manifest_of(out, "v")["video"]["frames"]) == (str(a), 40)
    assert (manifest_of(out, b_id)["video"]["path"], manifest_of(out, b_id)["video"]["frames"]) == (str(b), 50)
    assert second.results[0]["manifest"] == str(out / b_id / MANIFEST_NAME)
    # resumed, alone or together (in one batch they are given other ids first): found where they are
    assert statuses(run([b], out)) == {b_id: "skipped"}
    assert statuses(run([b, a], out, workers=2)) == {"v": "skipped", b_id: "skipped"}
    assert listing(out) == sorted(["batch.jsonl", "v", b_id])


def test_a_replaced_file_is_redone_in_its_own_folder(same_stem, tmp_path):
    """The same source file with new content is the same video: redone where it was."""
    path = tmp_path / "v.mp4"
    path.write_bytes(same_stem[0].read_bytes())
    out = tmp_path / "out"
    assert statuses(run([path], out)) == {"v": "ok"}
    path.write_bytes(same_stem[1].read_bytes())
    assert statuses(run([path], out)) == {"v": "ok"}
    assert listing(out) == ["batch.jsonl", "v"] and manifest_of(out, "v")["video"]["frames"] == 50


def test_sample_never_takes_another_videos_folder(same_stem, tmp_path):
    a, b = same_stem
    out = tmp_path / "out"
    first = sample(a, out_dir=out, frames=2)
    second = sample(b, out_dir=out, frames=2)
    assert first == out / "v" / MANIFEST_NAME and second == out / next(fallback_ids(b)) / MANIFEST_NAME
    assert sample(a, out_dir=out, frames=6) == first  # its own folder, redone
    assert len(listing(out)) == 2 and len(json.loads(first.read_text())["frames"]) == 6
    assert output_id(b, out) == second.parent.name and output_id(tmp_path / "new" / "v.mp4", out) != "v"


def test_an_output_under_a_fallback_id_is_found_first(same_stem, tmp_path):
    """Once its own folder, not the free stem, even when the stem's folder has gone since."""
    a, b = same_stem
    out = tmp_path / "out"
    sample(a, out_dir=out, frames=2)
    placed = sample(b, out_dir=out, frames=2).parent.name
    shutil.rmtree(out / "v")
    assert output_id(b, out) == placed
    assert statuses(run([b], out)) == {placed: "ok"} and listing(out) == sorted(["batch.jsonl", placed])


def test_no_id_left_is_an_error(same_stem, tmp_path):
    out = tmp_path / "out"
    for name in ["v", *fallback_ids(same_stem[0])]:
        (out / name).mkdir(parents=True)
        (out / name / MANIFEST_NAME).write_text(json.dumps({"video": {"path": f"/elsewhere/{name}.mp4"}}))
    with pytest.raises(OutputError, match="fallback ids hold other videos' outputs"):
        output_id(same_stem[0], out)


def test_a_folder_that_is_not_an_output_is_taken(same_stem, tmp_path):
    """A folder without a manifest (not an extraction, or a damaged one) holds nothing to keep."""
    out = tmp_path / "out"
    (out / "v").mkdir(parents=True)
    (out / "v" / "notes.txt").write_text("not framepick's")
    assert output_id(same_stem[0], out) == "v"
    (out / "v" / MANIFEST_NAME).write_text("{cut off")
    assert output_id(same_stem[1], out) == "v"


# (extension, encoder): 12 containers FFmpeg writes and reads, one stem; v.mov and v.MOV both
TWELVE = [("asf", "mpeg4"), ("vob", "mpeg2video"), ("mxf", "mpeg2video"), ("mp4", "libx264"), ("mkv", "libx264"),
          ("avi", "mpeg4"), ("mov", "libx264"), ("MOV", "libx264"), ("webm", "libvpx-vp9"), ("ts", "libx264"),
          ("flv", "flv"), ("3gp", "mpeg4")]


@pytest.fixture(scope="module")
def twelve(tmp_path_factory) -> Path:
    """A folder of 12 different videos named ``v.<extension>``."""
    folder = tmp_path_factory.mktemp("twelve")
    for number, (extension, codec) in enumerate(TWELVE):
        write_video(folder / f"v.{extension}", [10 + number, 20], codec=codec)
    return folder


@pytest.mark.slow
def test_a_folder_of_twelve_same_stem_videos_gives_twelve_outputs(twelve, tmp_path):
    out = tmp_path / "out"
    summary = run([twelve], out, workers=2)
    assert summary.counts == {"ok": 12, "skipped": 0, "failed": 0}
    ids = sorted(statuses(summary))
    assert len(set(ids)) == 12 and listing(out) == sorted([*ids, "batch.jsonl"])
    sources = {manifest_of(out, i)["video"]["path"] for i in ids}
    assert sources == {str(twelve / f"v.{extension}") for extension, _ in TWELVE}
    assert run([twelve], out, workers=2).counts["skipped"] == 12


@pytest.mark.slow
def test_twelve_sample_commands_into_one_folder_give_twelve_outputs(twelve, tmp_path, capsys):
    out = tmp_path / "out"
    for extension, _ in TWELVE:
        assert main(["sample", str(twelve / f"v.{extension}"), "--out", str(out), "--frames", "2"]) == 0
    printed = capsys.readouterr().out.split()
    assert len(set(printed)) == 12 and len(listing(out)) == 12
    assert {manifest_of(out, name)["video"]["path"] for name in listing(out)} == \
        {str(twelve / f"v.{extension}") for extension, _ in TWELVE}


# --------------------------------------------------------------------------- damaged images


@pytest.fixture
def done(cut_video, tmp_path) -> tuple[Path, dict[str, bytes]]:
    """A finished batch output of ``cuts`` (4 frames) and the bytes of its images."""
    out = tmp_path / "out"
    assert statuses(run([cut_video[0]], out)) == {"cuts": "ok"}
    return out, {p.name: p.read_bytes() for p in sorted((out / "cuts").glob("frame_*.jpg"))}


def test_the_manifest_records_every_images_size_and_crc32(done):
    import zlib

    out, images = done
    manifest = manifest_of(out, "cuts")
    assert manifest["manifest_version"] == 3
    assert manifest["files"] == {name: {"bytes": len(data), "crc32": f"{zlib.crc32(data):08x}"}
                                 for name, data in images.items()}
    assert [frame["file"] for frame in manifest["frames"]] == list(images)


def _truncate(folder: Path, names: list[str]) -> None:
    path = folder / names[0]
    path.write_bytes(path.read_bytes()[:100])


def _swap(folder: Path, names: list[str]) -> None:
    first, second = folder / names[1], folder / names[2]
    data = first.read_bytes()
    first.write_bytes(second.read_bytes())
    second.write_bytes(data)


def _flip_a_byte(folder: Path, names: list[str]) -> None:
    """The same size, another content: only the checksum tells."""
    path = folder / names[3]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _old_manifest(folder: Path, names: list[str]) -> None:
    """A manifest as framepick wrote it before version 2: no sizes or checksums to check."""
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    del manifest["files"]
    manifest["manifest_version"] = 1
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest))


@pytest.mark.parametrize("damage", [_truncate, _swap, _flip_a_byte, _old_manifest],
                         ids=["truncated", "swapped", "flipped byte", "old manifest"])
def test_a_damaged_output_is_redone(done, cut_video, damage):
    out, images = done
    damage(out / "cuts", list(images))
    assert finished_manifest(out, "cuts") is None
    rerun = run([cut_video[0]], out)
    assert statuses(rerun) == {"cuts": "ok"} and rerun.exit_status == 0  # redone, not skipped
    assert {p.name: p.read_bytes() for p in (out / "cuts").glob("frame_*.jpg")} == images
    assert finished_manifest(out, "cuts") is not None
    assert statuses(run([cut_video[0]], out)) == {"cuts": "skipped"}


def test_an_intact_output_is_skipped(done, cut_video):
    out, _ = done
    before = (out / "cuts" / MANIFEST_NAME).stat().st_mtime_ns
    assert statuses(run([cut_video[0]], out)) == {"cuts": "skipped"}
    assert (out / "cuts" / MANIFEST_NAME).stat().st_mtime_ns == before


def test_a_manifest_naming_files_outside_its_folder_is_not_trusted(done):
    out, images = done
    manifest = manifest_of(out, "cuts")
    outside = out / "outside.jpg"
    outside.write_bytes(next(iter(images.values())))
    manifest["frames"][0]["file"] = "../outside.jpg"
    manifest["files"]["../outside.jpg"] = manifest["files"][next(iter(images))]
    (out / "cuts" / MANIFEST_NAME).write_text(json.dumps(manifest))
    assert finished_manifest(out, "cuts") is None


# --------------------------------------------------------------------------- staging folders of dead writers


def _child_staging(out: Path, name: str, *, wait: bool) -> subprocess.Popen:
    """A Python process that makes a staging folder for ``name`` in ``out``, prints it, and then
    either ends or waits for a line on its standard input."""
    code = ("import sys; from framepick.outdir import staging; "
            f"print(staging({str(out)!r}, {name!r}), flush=True); "
            + ("sys.stdin.readline()" if wait else ""))
    return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def _dead_writer_staging(out: Path, name: str) -> tuple[subprocess.Popen, Path]:
    """A process that made a staging folder for ``name`` in ``out`` and ended, and that folder."""
    ended = _child_staging(out, name, wait=False)
    try:
        return ended, Path(ended.communicate()[0].strip())
    finally:
        ended.wait()


def _staged(out: Path) -> set[str]:
    return {p.name for p in (out / RESERVED / "staging").iterdir()}


def test_a_new_staging_folder_removes_those_of_dead_writers_only(tmp_path):
    out = tmp_path / "out"
    ended, dead = _dead_writer_staging(out, "ended")
    mine = staging(out, "mine")  # this process writes one: the ended writer's goes
    assert _staged(out) == {mine.name}
    pid, origin, started = mine.name.split(".")[1].split("-")
    other = "0" * 8 if origin != "0" * 8 else "1" * 8
    kept = out / RESERVED / "staging" / f"far.{ended.pid}-{other}-1.abcdefgh"
    kept.mkdir()  # a writer on another machine: it cannot be seen from here, so it is kept
    gone = [
        out / RESERVED / "staging" / f"before.{pid}-{origin}-{int(started) + 1}.abcdefgh",  # this pid, but an
        # earlier process (started at another time), as pid 1 of a container run again
        out / RESERVED / "staging" / "older.abcdefgh",  # no pid: left by an older framepick
        dead,  # left by a writer that ended
    ]
    for folder in gone:
        folder.mkdir()
    running = _child_staging(out, "running", wait=True)
    try:
        alive = Path(running.stdout.readline().strip())
        assert _staged(out) == {mine.name, kept.name, alive.name}
        latest = staging(out, "latest")
        assert _staged(out) == {mine.name, kept.name, alive.name, latest.name}  # a running writer's is kept
    finally:
        running.communicate("\n")
        running.wait()
    staging(out, "after")
    assert alive.name not in _staged(out) and {mine.name, latest.name, kept.name} <= _staged(out)


def test_a_batch_removes_staging_of_dead_writers_and_its_own(cut_video, tmp_path):
    out = tmp_path / "out"
    _, dead = _dead_writer_staging(out, "cuts")
    assert dead.is_dir()
    assert run([cut_video[0]], out).counts["ok"] == 1
    assert listing(out) == ["batch.jsonl", "cuts"]  # listing checks that staging is empty


def test_staging_names_hold_this_process(tmp_path):
    made = staging(tmp_path / "out", "x")
    name, writer, _ = made.name.split(".")
    assert name == "x" and writer.split("-")[0] == str(os.getpid()) and len(writer.split("-")[1]) == 8
