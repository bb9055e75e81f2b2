"""Shared helpers for the framepick benchmark scripts in this folder.

Every measurement runs in a fresh child process, so imports, caches and memory of one run never
leak into the next, and the peak RSS is that of the child alone:

- :func:`run_command` runs a command through a tiny wrapper process that starts it and reaps it
  with ``os.wait4``; the kernel's ``ru_maxrss`` of that child (the maximum over it and the
  descendants it waited for) is its peak RSS. The wrapper is needed because a child forked (or
  vforked) straight from a big parent inherits the parent's RSS high-water mark; the wrapper is
  small (~10 MB), far below any measured process.
- :func:`run_python` runs ``module:function(*args)`` that way and also returns its JSON result and
  the time spent inside the call (``call_s``, without interpreter start-up and imports).
- :func:`repeat` runs one of those ``n`` times and keeps the median wall time and peak RSS.

Plus :func:`ffmpeg_null_decode`, :func:`tool_versions`, :func:`machine_info` and
:func:`markdown_table`. Scripts in this folder import it as ``import _harness`` (a script's own
folder is on ``sys.path``).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import imageio_ffmpeg

BENCH_DIR = Path(__file__).resolve().parent

# Runs argv[2:] as a child, reaps it with wait4 and writes wall time and ru_maxrss to argv[1].
_WRAPPER = """
import json, os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
wall_s = time.perf_counter() - started
with open(sys.argv[1], "w") as f:
    json.dump({"wall_s": wall_s, "maxrss_kib": usage.ru_maxrss,
               "returncode": os.waitstatus_to_exitcode(status)}, f)
"""

# Imports module argv[1] (with argv[2] prepended to sys.path), calls function argv[3] with the JSON
# list argv[4] as arguments, and writes {"call_s", "result"} to argv[5].
_CALLER = """
import importlib, json, sys, time
sys.path[:0] = json.loads(sys.argv[2])
function = getattr(importlib.import_module(sys.argv[1]), sys.argv[3])
args = json.loads(sys.argv[4])
started = time.perf_counter()
result = function(*args)
call_s = time.perf_counter() - started
with open(sys.argv[5], "w") as f:
    json.dump({"call_s": call_s, "result": result}, f)
"""


@dataclass(frozen=True)
class Run:
    """One measured child process.

    Attributes
    ----------
    wall_s : float
        Wall time from starting the child to its exit, seconds.
    peak_rss_mb : float
        Peak resident set size of the child (and descendants it waited for), MiB.
    call_s : float or None
        Seconds spent inside the called function (:func:`run_python` only).
    result : Any
        The function's JSON-decoded return value (:func:`run_python` only).
    """

    wall_s: float
    peak_rss_mb: float
    call_s: float | None = None
    result: Any = None


@dataclass(frozen=True)
class Summary:
    """Medians over repeated :class:`Run` s (each field is the median of that field)."""

    wall_s: float
    peak_rss_mb: float
    call_s: float | None
    runs: tuple[Run, ...]

    @property
    def result(self) -> Any:
        """The first run's result (runs are expected to agree)."""
        return self.runs[0].result


def run_command(
    cmd: Sequence[str], *, env: dict[str, str] | None = None, quiet: bool = True
) -> Run:
    """Run ``cmd`` in a fresh process and measure its wall time and peak RSS.

    Parameters
    ----------
    cmd : sequence of str
        The command and its arguments.
    env : dict, optional
        Extra environment variables for the child (added to the current environment).
    quiet : bool
        Discard the child's stdout and stderr (default). Otherwise they pass through.

    Raises
    ------
    subprocess.CalledProcessError
        If the command exits with a non-zero status.
    """
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "run.json"
        wrapper = [sys.executable, "-c", _WRAPPER, str(report), *cmd]
        out = subprocess.DEVNULL if quiet else None
        subprocess.run(wrapper, env={**os.environ, **(env or {})}, stdout=out, stderr=out, check=True)
        measured = json.loads(report.read_text())
    if measured["returncode"] != 0:
        raise subprocess.CalledProcessError(measured["returncode"], list(cmd))
    return Run(wall_s=measured["wall_s"], peak_rss_mb=measured["maxrss_kib"] / 1024)


def run_python(
    target: str,
    *args: Any,
    env: dict[str, str] | None = None,
    sys_path: Sequence[str | Path] = (BENCH_DIR,),
    quiet: bool = True,
) -> Run:
    """Call ``module:function(*args)`` in a fresh Python process and measure it.

    Parameters
    ----------
    target : str
        ``"module:function"``; the module is imported in the child, from ``sys_path`` first.
    *args
        JSON-serialisable positional arguments.
    env : dict, optional
        Extra environment variables for the child, e.g. ``{"NUMBA_NUM_THREADS": "2"}``.
    sys_path : sequence of path
        Folders prepended to the child's ``sys.path`` (default: this bench folder).
    quiet : bool
        Discard the child's output (default).

    Returns
    -------
    Run
        With ``call_s`` (seconds inside the function) and ``result`` (its return value, which
        must be JSON-serialisable) besides the process's wall time and peak RSS.
    """
    module, function = target.split(":")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        paths = json.dumps([str(p) for p in sys_path])
        cmd = [sys.executable, "-c", _CALLER, module, paths, function, json.dumps(list(args)), str(out)]
        run = run_command(cmd, env=env, quiet=quiet)
        called = json.loads(out.read_text())
    return Run(run.wall_s, run.peak_rss_mb, called["call_s"], called["result"])


def repeat(measure: Callable[[], Run], n: int) -> Summary:
    """Call ``measure`` ``n`` times (one after another) and return the medians."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    runs = tuple(measure() for _ in range(n))
    calls = [r.call_s for r in runs if r.call_s is not None]
    return Summary(
        wall_s=statistics.median(r.wall_s for r in runs),
        peak_rss_mb=statistics.median(r.peak_rss_mb for r in runs),
        call_s=statistics.median(calls) if calls else None,
        runs=runs,
    )


def ffmpeg_null_decode_cmd(path: str | Path, threads: int, *, skip_frame: str | None = None) -> list[str]:
    """Return ``ffmpeg -threads T [-skip_frame S] -i PATH -f null -`` for imageio-ffmpeg's ffmpeg."""
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    skip = ["-skip_frame", skip_frame] if skip_frame else []
    return [exe, "-hide_banner", "-nostats", "-threads", str(threads), *skip, "-i", str(path), "-f", "null", "-"]


def ffmpeg_null_decode(path: str | Path, threads: int, *, n: int = 1, skip_frame: str | None = None) -> Summary:
    """Measure an ``ffmpeg -f null`` decode of ``path`` with ``threads`` decoder threads.

    Without ``skip_frame`` this is the floor every analysis is compared with: decoding every frame
    and nothing else; ``skip_frame="noref"`` decodes the reference frames only.
    """
    return repeat(lambda: run_command(ffmpeg_null_decode_cmd(path, threads, skip_frame=skip_frame)), n)


def ffmpeg_null_decode_s(path: str | Path, threads: int, *, n: int = 1) -> float:
    """Median wall time in seconds of :func:`ffmpeg_null_decode`."""
    return ffmpeg_null_decode(path, threads, n=n).wall_s


_VERSIONS = """
import importlib.metadata as md, json, platform
def dist(name):
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return "not installed"
versions = {"python": platform.python_version()}
for key, name in [("numpy", "numpy"), ("numba", "numba"), ("decord", "decord"), ("av", "av"),
                  ("scenedetect", "scenedetect-headless"), ("opencv", "opencv-python-headless"),
                  ("imageio-ffmpeg", "imageio-ffmpeg"), ("framepick", "framepick")]:
    versions[key] = dist(name)
if versions["scenedetect"] == "not installed":
    versions["scenedetect"] = dist("scenedetect")
try:
    import av
    versions["av FFmpeg"] = ".".join(map(str, av.ffmpeg_version_info)) if isinstance(
        av.ffmpeg_version_info, tuple) else str(av.ffmpeg_version_info)
except Exception as error:
    versions["av FFmpeg"] = f"unknown ({error})"
try:  # decord's wheel bundles its own FFmpeg libraries; their file names carry the version
    files = [f for f in md.files("decord") if f.name.startswith("libavcodec")]
    versions["decord libavcodec"] = files[0].name.split(".so.")[1]
except Exception:
    versions["decord libavcodec"] = "unknown"
print(json.dumps(versions))
"""


def tool_versions() -> dict[str, str]:
    """Versions of Python, the Python packages used and the ffmpeg binary (read in a child)."""
    out = subprocess.run([sys.executable, "-c", _VERSIONS], capture_output=True, text=True, check=True)
    versions = json.loads(out.stdout)
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    banner = subprocess.run([exe, "-version"], capture_output=True, text=True, check=True).stdout
    versions["ffmpeg binary"] = banner.split()[2]
    return versions


def machine_info() -> dict[str, str]:
    """CPU model, usable cores, total RAM, OS and current load average."""
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown")  # fmt: skip
    mem_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))  # fmt: skip
    return {
        "cpu": model,
        "cores": str(len(os.sched_getaffinity(0))),
        "ram": f"{mem_kib / 1024**2:.1f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "load average (1, 5, 15 min)": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Return a GitHub markdown table; numbers right-aligned, floats with 3 significant digits."""

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
        return str(value)

    numeric = [all(isinstance(row[i], (int, float)) for row in rows) for i in range(len(headers))]
    lines = [
        "| " + " | ".join(headers) + " |",
        "| " + " | ".join("---:" if n else "---" for n in numeric) + " |",
    ]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def dict_table(info: dict[str, str], *, key: str = "what", value: str = "value") -> str:
    """Return a two-column markdown table of ``info``."""
    return markdown_table([key, value], list(info.items()))
