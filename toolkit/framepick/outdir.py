"""The output folder: video ids, the tool's own corner of it, and writes that never escape it.

Layout of ``OUT``::

    OUT/<video id>/...          one finished extraction per video (see framepick.extract)
    OUT/batch.jsonl             the batch's status lines
    OUT/.framepick/staging/     extractions being written, one folder per writer
    OUT/.framepick/replaced/    finished extractions being replaced, removed once the new one is in
    OUT/.framepick/lock         held by the batch writing into OUT

A folder in ``staging`` or ``replaced`` is named ``<video id>.<pid>-<origin>-<start>.<random>``:
the process writing it, where that pid means something (8 hex digits of the host name and pid
namespace) and when the process started (clock ticks since boot, Linux). A writer killed
outright (``kill -9``, the OOM killer, a time limit) cannot remove its folder, so every new
writer removes those of writers of its own origin that are no longer running (:func:`staging`);
a pid now held by a process that started at another time counts as no longer running, as in a
container where every run is pid 1. Folders of another origin (another machine writing into a
shared folder) are left alone: their writers cannot be seen from here.

A video id never starts with a dot, so no id can take ``.framepick``; ids hold no path separator
and are never ``.`` or ``..``, so ``OUT / id`` is always a child of ``OUT``. Nothing here follows a
symbolic link to write or delete: a link found where a folder of the tool's should be is removed
(the link, not what it points to).
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .errors import ConfigError

__all__ = ["RESERVED", "STATUS_FILE", "MAX_ID_BYTES", "MAX_FALLBACKS", "video_id", "video_ids", "fallback_ids",
           "check_video_id", "prepare", "staging", "move_into_place", "remove", "clean_staging", "locked"]

RESERVED = ".framepick"  # the tool's own folder in OUT: no video id starts with a dot
STATUS_FILE = "batch.jsonl"  # the batch's status lines, beside the video folders
RESERVED_NAMES = (STATUS_FILE,)  # names of the tool's files in OUT, which no video id takes
MAX_ID_BYTES = 96  # file systems allow 255 bytes per name; room for suffixes and staging names
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")  # separators, control and Windows-reserved characters
MAX_FALLBACKS = 100  # ids :func:`fallback_ids` offers for one video


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogateescape")).hexdigest()[:8]


def _bounded(name: str, tag: str) -> str:
    """``name`` cut to fit ``MAX_ID_BYTES`` with ``-<tag>`` appended (cut at a character boundary)."""
    room = MAX_ID_BYTES - len(tag) - 1
    cut = name.encode("utf-8", "surrogateescape")[:room].decode("utf-8", "ignore")
    return f"{cut}-{tag}"


def video_id(path: str | os.PathLike) -> str:
    """The output folder name of the video at ``path``: its file stem made safe.

    Path separators, control characters and characters Windows refuses become ``_``, leading dots
    and spaces go, and an empty result becomes ``video``. A name longer than ``MAX_ID_BYTES``
    (UTF-8), or equal to one of the tool's own file names, is cut and given ``-`` and 8 hex digits
    of the absolute path's SHA-1, so it stays unique and stable across runs.

    >>> video_id("talks/day 1.mp4"), video_id("..mp4"), video_id(".partial-x.mp4")
    ('day 1', 'video', 'partial-x')
    >>> video_id("batch.jsonl.mp4")[:12], len(video_id("x" * 300 + ".mp4"))
    ('batch.jsonl-', 96)
    """
    name = _UNSAFE.sub("_", Path(path).stem).lstrip(". ") or "video"
    name = name.rstrip(" .") or "video"  # Windows drops trailing dots and spaces
    if len(name.encode("utf-8", "surrogateescape")) > MAX_ID_BYTES or name.lower() in RESERVED_NAMES:
        name = _bounded(name, _digest(os.path.abspath(path)))
    return name


def video_ids(paths: Sequence[str | os.PathLike]) -> list[str]:
    """:func:`video_id` of every path, with ``-`` and 8 hex digits of the absolute path's SHA-1
    appended where two would share a name (compared case-insensitively: some file systems are)."""
    ids = [video_id(p) for p in paths]
    folded = [i.casefold() for i in ids]
    shared = {f for f in folded if folded.count(f) > 1}
    return [_bounded(i, _digest(os.path.abspath(p))) if f in shared else i for i, f, p in zip(ids, folded, paths)]


def fallback_ids(path: str | os.PathLike) -> Iterator[str]:
    """The ids the video at ``path`` takes, in this order, when the folder of its :func:`video_id`
    holds another video's output: ``<id>-<8 hex digits of the absolute path's SHA-1>`` (the id
    :func:`video_ids` gives it when it shares a name within one batch), then that with ``-2``,
    ``-3``, ... (:data:`MAX_FALLBACKS` in all).

    >>> ids = list(fallback_ids("/videos/a/v.mp4"))
    >>> len(ids), len(ids[0]), ids[1] == ids[0] + "-2", ids[2] == ids[0] + "-3"
    (100, 10, True, True)
    """
    name, digest = video_id(path), _digest(os.path.abspath(path))
    yield _bounded(name, digest)
    for number in range(2, MAX_FALLBACKS + 1):
        yield _bounded(name, f"{digest}-{number}")


def check_video_id(name: str) -> str:
    """``name`` if it is a safe output folder name (what :func:`video_id` can return), else a
    :class:`ConfigError` saying why."""
    if not isinstance(name, str) or not name:
        raise ConfigError(f"video id must be a non-empty string, got {name!r}")
    if _UNSAFE.search(name) or name.startswith((".", " ")) or name.endswith((".", " ")):
        raise ConfigError(f"video id {name!r} must not hold path separators or control characters, nor start "
                          "with a dot or end with a dot or space (it names a folder inside the output folder)")
    if len(name.encode("utf-8", "surrogateescape")) > MAX_ID_BYTES:
        raise ConfigError(f"video id {name[:40]!r}... is longer than {MAX_ID_BYTES} bytes")
    if name.lower() in RESERVED_NAMES:
        raise ConfigError(f"video id {name!r} is the name of one of framepick's own files")
    return name


def prepare(out_dir: str | os.PathLike) -> Path:
    """``out_dir``, created if needed, as a :class:`Path`; a :class:`ConfigError` if it is a file
    or cannot be created or written to."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ConfigError(f"{out_dir}: the output folder is a file") from None
    except OSError as exc:
        raise ConfigError(f"{out_dir}: cannot create the output folder ({exc.strerror or exc})") from None
    if not out_dir.is_dir():
        raise ConfigError(f"{out_dir}: the output folder is not a folder")
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise ConfigError(f"{out_dir}: the output folder is not writable")
    return out_dir


def _own_folder(out_dir: Path, *parts: str) -> Path:
    """``out_dir/.framepick/<parts>``, created; a link or file in the way is removed first."""
    folder = out_dir
    for part in (RESERVED, *parts):
        folder = folder / part
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            folder.unlink()
        folder.mkdir(exist_ok=True)
    return folder


def remove(path: Path) -> None:
    """Delete ``path`` (a folder tree, a file or a link) without following any link."""
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.exists():
        shutil.rmtree(path, ignore_errors=True)  # rmtree never follows links inside the tree


def staging(out_dir: str | os.PathLike, name: str) -> Path:
    """A new empty folder to write video ``name`` 's extraction into, unique to this writer:
    ``OUT/.framepick/staging/<name>.<pid>-<origin>-<start>.<random>``. What writers that are no longer
    running left in ``OUT/.framepick`` is removed first (:func:`clean_staging`); this process'
    other folders are kept (other threads may be writing them)."""
    out_dir = prepare(out_dir)
    clean_staging(out_dir, keep_own=True)
    prefix = f"{check_video_id(name)}.{_writer_tag()}."
    return Path(tempfile.mkdtemp(prefix=prefix, dir=_own_folder(out_dir, "staging")))


def move_into_place(folder: Path, out_dir: str | os.PathLike, name: str) -> Path:
    """Rename the finished ``folder`` to ``OUT/<name>``; an older one is moved into
    ``.framepick/replaced`` first and removed after (a link there is removed, not followed)."""
    out_dir = Path(out_dir)
    final = out_dir / check_video_id(name)
    if final.is_symlink() or final.is_file():
        final.unlink()
    elif final.exists():
        aside = Path(tempfile.mkdtemp(prefix=f"{name}.{_writer_tag()}.", dir=_own_folder(out_dir, "replaced")))
        final.rename(aside / name)
        folder.rename(final)
        remove(aside)
        return final
    folder.rename(final)
    return final


def _origin() -> str:
    """8 hex digits naming where this process' pid means something: the host and pid namespace."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    return _digest(f"{socket.gethostname()}/{namespace}")


def _start_ticks(pid: int) -> str:
    """When process ``pid`` started, in clock ticks since boot (Linux ``/proc``); "" if unknown."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]  # field 22
    except (OSError, IndexError):
        return ""


def _writer_tag() -> str:
    """``<pid>-<origin>-<start ticks>``: this process, in the names of its folders in ``.framepick``."""
    pid = os.getpid()
    return f"{pid}-{_origin()}-{_start_ticks(pid)}"


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _writer_gone(entry: Path, *, keep_own: bool) -> bool:
    """Whether the writer of ``entry`` (a folder in ``staging`` or ``replaced``) is no longer
    running: its pid is dead, or now belongs to a process that started at another time. A name
    without a pid (left by an older framepick) counts as gone; a writer of another origin does not
    (it cannot be seen from here); this process does unless ``keep_own``."""
    fields = entry.name.rsplit(".", 2)
    pid_text, origin, ticks = ((fields[1] if len(fields) == 3 else "").split("-") + ["", ""])[:3]
    if not pid_text.isdigit():
        return True
    if origin and origin != _origin():
        return False
    pid = int(pid_text)
    if pid == os.getpid() and not keep_own:
        return True
    if not _running(pid):
        return True
    now = _start_ticks(pid)
    return bool(ticks and now and ticks != now)  # the pid was taken over: e.g. pid 1 of a container


def clean_staging(out_dir: str | os.PathLike, *, keep_own: bool = False) -> None:
    """Remove what writers that are no longer running left in ``OUT/.framepick`` (a killed worker's
    half-written extraction, a replaced one a crash kept), and this process' own folders unless
    ``keep_own`` (a time limit that ends this process removes them)."""
    own = Path(out_dir) / RESERVED
    if own.is_symlink() or not own.is_dir():
        return
    for kind in ("staging", "replaced"):
        folder = own / kind
        if folder.is_symlink() or not folder.is_dir():
            continue
        for entry in folder.iterdir():
            if _writer_gone(entry, keep_own=keep_own):
                remove(entry)


@contextmanager
def locked(out_dir: str | os.PathLike) -> Iterator[None]:
    """Hold ``OUT/.framepick/lock`` while writing a batch into ``OUT``: a second batch into the same
    folder gets a :class:`ConfigError` naming the holder, instead of writing beside it."""
    out_dir = prepare(out_dir)
    path = _own_folder(out_dir) / "lock"
    if path.is_symlink():
        path.unlink()
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "another process"
            raise ConfigError(f"{out_dir}: another batch (pid {holder}) is writing into this folder; "
                              "wait for it or choose another --out") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)
