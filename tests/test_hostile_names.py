"""Hostile inputs (issue 28): file names FFmpeg would read as protocols, a relative path analysed
from one folder and sampled from another, a file replaced while it is analysed.

Every case puts the video asked for beside a decoy of another size, length and colour, so that
frames of the wrong file cannot pass for the right ones.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from framepick.analysis import Accumulator, analyze
from framepick.cache import cache_dir
from framepick.config import AnalysisConfig, JobConfig, OutputConfig
from framepick.errors import VideoError
from framepick.pipeline import sample
from framepick.probe import probe
from videos import write_flat, write_video

MINE_FRAMES, MINE_SIZE = 40, (64, 48)
DECOY_FRAMES, DECOY_SIZE = 10, (160, 96)

# Names FFmpeg reads as a protocol and its arguments: most open ``other.mp4`` (the decoy), the
# rest open standard input, a decryption layer or the network.
PROTOCOL_NAMES = ["file:other.mp4", "concat:other.mp4", "subfile,,start,0,end,0,,:other.mp4", "cache:other.mp4",
                  "async:other.mp4", "pipe:0.mp4", "fd:0.mp4", "crypto:other.mp4", "http:x.mp4"]


@pytest.fixture(scope="module")
def originals(tmp_path_factory) -> dict[str, Path]:
    """``mine``: two scenes of 20 frames, 64x48; ``decoy``: 10 flat green frames, 160x96."""
    folder = tmp_path_factory.mktemp("hostile")
    write_video(folder / "mine.mp4", [20, 20], width=MINE_SIZE[0], height=MINE_SIZE[1])
    write_flat(folder / "decoy.mp4", DECOY_FRAMES, DECOY_SIZE, (0, 255, 0))
    return {"mine": folder / "mine.mp4", "decoy": folder / "decoy.mp4"}


@pytest.fixture(scope="module")
def mine_pictures(originals) -> np.ndarray:
    """Every decoded frame of ``mine`` (uint8, (40, 48, 64, 3)), read under a plain name."""
    with av.open(str(originals["mine"])) as container:
        return np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)])


def _manifest_pictures(manifest_path: Path) -> tuple[dict, list[np.ndarray]]:
    """The manifest and its frames as RGB arrays."""
    manifest = json.loads(manifest_path.read_text())
    return manifest, [np.asarray(Image.open(manifest_path.parent / f["file"]).convert("RGB"))
                      for f in manifest["frames"]]


def _check_mine(manifest_path: Path, mine_pictures: np.ndarray, *, name: str | Path,
                decoder: str | None = None) -> None:
    """The extraction at ``manifest_path`` holds frames of ``mine`` (size, count and pixels) read
    from ``name``."""
    manifest, pictures = _manifest_pictures(manifest_path)
    assert manifest["video"]["frames"] == MINE_FRAMES
    assert manifest["video"]["path"] == str(Path(name).resolve())
    if decoder is not None:
        assert manifest["decoder"] == decoder
    for frame, picture in zip(manifest["frames"], pictures):
        assert picture.shape == (MINE_SIZE[1], MINE_SIZE[0], 3)
        difference = np.abs(picture.astype(int) - mine_pictures[frame["index"]]).mean()
        assert difference < 8, (name, frame["index"], difference)


def _check_decoy(manifest_path: Path) -> None:
    manifest, pictures = _manifest_pictures(manifest_path)
    assert manifest["video"]["frames"] == DECOY_FRAMES
    assert all(np.abs(p.astype(int) - (0, 255, 0)).mean() < 8 for p in pictures)


@pytest.fixture
def hostile_folder(tmp_path, monkeypatch, originals) -> Path:
    """The test's folder, made current, holding the decoy as ``other.mp4`` and ``x.mp4`` and a copy
    of ``mine`` under every name of :data:`PROTOCOL_NAMES`."""
    shutil.copy(originals["decoy"], tmp_path / "other.mp4")
    shutil.copy(originals["decoy"], tmp_path / "x.mp4")
    for name in PROTOCOL_NAMES:
        shutil.copy(originals["mine"], tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("name", PROTOCOL_NAMES)
def test_a_name_ffmpeg_reads_as_a_protocol_opens_that_file(name, hostile_folder, mine_pictures):
    info = probe(name)
    assert (info.frames, info.width, info.height) == (MINE_FRAMES, *MINE_SIZE)
    assert info.path == str(hostile_folder / name)
    analysis = analyze(name)
    assert (analysis.info.frames, len(analysis.frame_times_s), analysis.decoder) == (MINE_FRAMES, MINE_FRAMES, "pyav")
    assert analysis.scenes.tolist() == [[0, 20], [20, 40]]
    manifest = sample(name, "adaptive", out_dir="out", frames=4, config=JobConfig(output=OutputConfig(resize="none")))
    _check_mine(manifest, mine_pictures, name=name, decoder="pyav")
    timed = sample(name, "uniform", out_dir="timed", frames=5, cache=False,
                   config=JobConfig(output=OutputConfig(resize="none")))
    _check_mine(timed, mine_pictures, name=name, decoder="pyav")


@pytest.mark.parametrize("name", ["concat:other.mp4", "subfile,,start,0,end,0,,:other.mp4", "pipe:0.mp4"])
def test_a_name_ffmpeg_reads_as_a_protocol_opens_that_file_with_decord(name, hostile_folder, mine_pictures):
    decord = AnalysisConfig(backend="decord")
    analysis = analyze(name, decord)
    assert (analysis.info.frames, analysis.decoder) == (MINE_FRAMES, "decord")
    assert analysis.scenes.tolist() == [[0, 20], [20, 40]]
    config = JobConfig(analysis=decord, output=OutputConfig(resize="none"))
    _check_mine(sample(name, "adaptive", out_dir="out", frames=4, config=config), mine_pictures, name=name,
                decoder="decord")


@pytest.mark.parametrize(("name", "cause"), [("concat:missing.mp4", "file not found"),
                                             ("concat:other.txt", "not a readable video")])
def test_errors_name_the_file_as_given(name, cause, hostile_folder):
    if name.endswith(".txt"):
        Path(name).write_text("not a video\n")
    for run in (probe, analyze, lambda p: sample(p, out_dir="out")):
        with pytest.raises(VideoError, match=f"^{name}: {cause}"):
            run(name)


def test_dot_dot_after_a_symlink_is_resolved_as_the_system_does(tmp_path, monkeypatch, originals, mine_pictures):
    """``link/../video.mp4`` with ``link`` a symlink to ``deep/sub`` is ``deep/video.mp4`` (the file
    the system opens), not ``video.mp4`` beside ``link`` (what ``os.path.abspath`` would name)."""
    (tmp_path / "deep" / "sub").mkdir(parents=True)
    shutil.copy(originals["mine"], tmp_path / "deep" / "video.mp4")
    shutil.copy(originals["decoy"], tmp_path / "video.mp4")
    (tmp_path / "link").symlink_to(tmp_path / "deep" / "sub")
    monkeypatch.chdir(tmp_path)
    name = os.path.join("link", "..", "video.mp4")
    assert probe(name).frames == MINE_FRAMES
    _check_mine(sample(name, "adaptive", out_dir="out", frames=4, config=JobConfig(output=OutputConfig(resize="none"))),
                mine_pictures, name=name)


@pytest.mark.parametrize("strategy", ["adaptive", "uniform"])
def test_a_relative_path_analysed_in_one_folder_is_sampled_from_another(strategy, tmp_path, monkeypatch, originals,
                                                                        mine_pictures):
    """A cached analysis names the file it was made of (absolute), and extraction opens the file the
    caller names, not the file that had the same relative name when the analysis was made."""
    relative = Path("rel") / "video.mp4"
    for folder, original in (("a", "mine"), ("b", "decoy")):
        (tmp_path / folder / "rel").mkdir(parents=True)
        shutil.copy(originals[original], tmp_path / folder / relative)
    mine, output = tmp_path / "a" / relative, JobConfig(output=OutputConfig(resize="none"))
    monkeypatch.chdir(tmp_path / "a")
    assert analyze(relative).info.path == str(mine)  # cached
    monkeypatch.chdir(tmp_path / "b")
    assert analyze(mine).info.path == str(mine)  # from the cache
    _check_mine(sample(mine, strategy, out_dir=tmp_path / "by-absolute", frames=4, config=output), mine_pictures,
                name=mine)
    _check_decoy(sample(relative, strategy, out_dir=tmp_path / "by-relative", frames=4, config=output))
    aliased = Path("..") / "a" / relative  # the same file by another name: the cache's analysis, named so
    assert analyze(aliased).info.path == str(tmp_path / "b" / aliased)
    _check_mine(sample(aliased, strategy, out_dir=tmp_path / "by-alias", frames=4, config=output), mine_pictures,
                name=mine)


def test_an_analysis_given_to_sample_reads_the_file_the_caller_names(tmp_path, monkeypatch, originals, mine_pictures):
    relative = Path("rel") / "video.mp4"
    for folder, original in (("a", "mine"), ("b", "decoy")):
        (tmp_path / folder / "rel").mkdir(parents=True)
        shutil.copy(originals[original], tmp_path / folder / relative)
    monkeypatch.chdir(tmp_path / "a")
    analysis = analyze(relative, cache=False)
    (tmp_path / "a" / relative).rename(tmp_path / "a" / "moved.mp4")
    manifest = sample(tmp_path / "a" / "moved.mp4", "adaptive", out_dir=tmp_path / "out", frames=4, analysis=analysis,
                      config=JobConfig(output=OutputConfig(resize="none")))
    _check_mine(manifest, mine_pictures, name=tmp_path / "a" / "moved.mp4")


@pytest.mark.parametrize("change", ["replaced", "removed"])
def test_a_file_changed_while_it_is_analysed_is_not_cached(change, tmp_path, originals):
    """The analysis describes the file as it was when it began; if the file's identity is another
    when it ends, the analysis is refused and nothing is cached under either identity."""
    path = tmp_path / "video.mp4"
    shutil.copy(originals["mine"], path)
    shutil.copy(originals["decoy"], tmp_path / "new.mp4")
    update = Accumulator.update

    def update_then_change(self, chunk):  # another process, while the frames are being analysed
        update(self, chunk)
        if change == "replaced":
            os.replace(tmp_path / "new.mp4", path)
        else:
            path.unlink(missing_ok=True)

    with pytest.MonkeyPatch.context() as patch:  # not ``monkeypatch``: its undo would drop the private cache
        patch.setattr(Accumulator, "update", update_then_change)
        with pytest.raises(VideoError, match=f"^{path}: changed while it was analysed"):
            analyze(path)
    assert cache_dir() == tmp_path / "cache" and not list(cache_dir().glob("*.npz"))
    if change == "replaced":
        assert analyze(path).info.frames == DECOY_FRAMES  # the new content, analysed afresh
        assert len(list(cache_dir().glob("*.npz"))) == 1
