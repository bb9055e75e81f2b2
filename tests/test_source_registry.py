"""The frame-source registry: the sources the decode modules define are the backends the settings
name; a source registered at run time is used by name, and tried in its turn on fallback; a new
module of the decode package that defines ``SOURCE`` is found without other changes."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

from framepick.decode import SOURCES, FrameSource, iter_chunks, read_frames, resolve_backend
from framepick.decode._sources import discover
from framepick.errors import ConfigError, VideoError
from framepick.settings import BACKENDS


class CountingSource(FrameSource):
    """A toy source: PyAV's frames, counting the calls."""

    name = "counting"
    preference = 10

    def __init__(self) -> None:
        self.calls: list[str] = []

    def chunks(self, path, **options):
        self.calls.append("chunks")
        return SOURCES["pyav"].chunks(path, **options)

    def frames_at(self, path, wanted, **options):
        self.calls.append("frames_at")
        return SOURCES["pyav"].frames_at(path, wanted, **options)


class FailingSource(CountingSource):
    """A toy source that cannot open any file."""

    name = "failing"

    def chunks(self, path, **options):
        raise VideoError(path, "the failing source cannot open it")


@pytest.fixture
def counting(monkeypatch):
    source = CountingSource()
    monkeypatch.setitem(SOURCES, source.name, source)
    return source


def test_the_registry_is_the_settings_backends():
    assert tuple(SOURCES) == tuple(name for name in BACKENDS if name != "auto")
    assert all(isinstance(source, FrameSource) and source.name == name for name, source in SOURCES.items())
    assert list(SOURCES)[:2] == ["pyav", "decord"] and resolve_backend("auto") == "pyav"
    assert SOURCES["pyav"].seeks and not SOURCES["decord"].seeks


def test_importing_the_sources_loads_no_decord():
    child = "import sys, framepick.decode as d; print('decord' in d.SOURCES, 'decord' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=120)
    assert run.stdout == "True False\n", run.stderr


def test_a_registered_source_is_used_by_name(cut_video, counting):
    path = cut_video[0]
    wanted = [3, 50, 99]
    stream = read_frames(path, wanted, backend="counting", fallback=False)
    got = list(stream)
    expected = list(read_frames(path, wanted, backend="pyav", fallback=False))
    assert stream.decoder == "counting" and counting.calls == ["frames_at"]
    assert [index for index, _, _ in got] == wanted
    for (_, time_a, frame_a), (_, time_b, frame_b) in zip(got, expected):
        assert time_a == time_b
        np.testing.assert_array_equal(frame_a, frame_b)

    chunks = iter_chunks(path, backend="counting", fallback=False, rate_fps=2.0)
    indices = np.concatenate([chunk.indices for chunk in chunks])
    assert chunks.decoder == "counting" and counting.calls == ["frames_at", "chunks"]
    np.testing.assert_array_equal(indices, [0, 13, 25, 38, 50, 63, 75, 88, 100, 113])


def test_fallback_tries_the_sources_in_registry_order(cut_video, counting):
    path = cut_video[0]
    others = [name for name in SOURCES if name not in ("pyav", "decord", "counting")]
    assert iter_chunks(path).backends == ["pyav", "decord", *others, "counting"]
    assert iter_chunks(path, backend="decord").backends == ["decord", "pyav", *others, "counting"]
    assert iter_chunks(path, backend="counting", fallback=False).backends == ["counting"]


def test_a_source_that_cannot_open_the_file_falls_back(cut_video, monkeypatch):
    failing = FailingSource()
    monkeypatch.setitem(SOURCES, failing.name, failing)
    stream = iter_chunks(cut_video[0], backend="failing", chunk_frames=200)
    assert len(next(iter(stream)).indices) == 125 and stream.decoder == "pyav"
    with pytest.raises(VideoError, match="the failing source cannot open it"):
        list(iter_chunks(cut_video[0], backend="failing", fallback=False))


def test_an_unknown_name_lists_the_registry(counting):
    assert list(SOURCES)[-1] == "counting"
    with pytest.raises(ConfigError, match=re.escape(f"unknown backend 'opencv'; choose one of {('auto', *SOURCES)}")):
        iter_chunks("v.mp4", backend="opencv")


def test_seeking_needs_a_source_that_seeks(cut_video, counting):
    with pytest.raises(ConfigError, match=r"seek_pts and origin_s need a backend that seeks, one of \('pyav',.*\); "
                                          r"not 'counting'"):
        list(iter_chunks(cut_video[0], backend="counting", fallback=False, seek_pts=0))


TOY = '''
from framepick.decode import SOURCES, FrameSource


class Toy(FrameSource):
    name = "toy"
    preference = {preference}

    def chunks(self, path, **options):
        return SOURCES["pyav"].chunks(path, **options)

    def frames_at(self, path, wanted, **options):
        return SOURCES["pyav"].frames_at(path, wanted, **options)


SOURCE = Toy()
'''


@pytest.fixture
def package(tmp_path, monkeypatch, request):
    """An empty package of its own name on ``sys.path``; its modules are forgotten afterwards."""
    name = f"sources_{request.node.name.replace('[', '_').replace(']', '').replace('-', '_')}"
    (tmp_path / name).mkdir()
    (tmp_path / name / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name, tmp_path / name
    for module in [module for module in sys.modules if module.split(".")[0] == name]:
        del sys.modules[module]


def test_a_module_that_defines_a_source_is_found(package, cut_video):
    name, folder = package
    (folder / "_toy.py").write_text(TOY.format(preference=5))
    (folder / "_helpers.py").write_text("SHARED = 1\n")  # no SOURCE: not a source
    found = discover(name, [str(folder)])
    assert list(found) == ["toy"] and type(found["toy"]).__module__ == f"{name}._toy"
    frames = list(found["toy"].frames_at(cut_video[0], np.array([7]), size=64, threads=1, frame_times_s=None,
                                         keyframes=None))
    assert [(index, frame.shape) for index, _, frame in frames] == [(7, (38, 64, 3))]


def test_discovery_orders_by_preference_and_refuses_what_is_not_a_source(package):
    name, folder = package
    (folder / "_toy.py").write_text(TOY.format(preference=5))
    (folder / "_early.py").write_text(TOY.format(preference=-1).replace('"toy"', '"early"'))
    assert list(discover(name, [str(folder)])) == ["early", "toy"]
    (folder / "_twin.py").write_text(TOY.format(preference=7))
    with pytest.raises(TypeError, match="two frame sources are named 'toy'"):
        discover(name, [str(folder)])
    (folder / "_twin.py").unlink()
    (folder / "_wrong.py").write_text("SOURCE = 'pyav'\n")
    with pytest.raises(TypeError, match=r"\._wrong\.SOURCE is not a FrameSource: 'pyav'"):
        discover(name, [str(folder)])

