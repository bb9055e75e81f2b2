"""Opening a local file as FFmpeg's input, whatever its name, and picking its video stream as the
``ffmpeg`` command line does."""

from __future__ import annotations

import errno
import functools
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import av

from ..errors import VideoError, ffmpeg_log_shown

# FFmpeg demuxers that open other files or URLs named inside the file (playlists, manifests, image
# sequences, network sessions): a name can point anywhere, a FIFO among them hangs the opener. They
# are kept off FFmpeg's format whitelist, so such a file fails before it opens anything.
NESTING_FORMATS = frozenset({"concat", "dash", "hls", "image2", "imf", "rtp", "rtsp", "sdp"})


@functools.cache
def _format_whitelist() -> str:
    """FFmpeg's ``format_whitelist`` option: every demuxer of this build but :data:`NESTING_FORMATS`."""
    names = set()
    for name in av.formats_available:
        try:
            names.add(av.format.ContainerFormat(name, "r").name)
        except ValueError:  # a muxer only
            continue
    return ",".join(sorted(n for n in names if not set(n.split(",")) & NESTING_FORMATS))


def check_regular_file(path: str | os.PathLike) -> int:
    """The size in bytes of ``path`` if it is a regular file (opened without blocking, so a FIFO or
    a device is refused rather than waited on).

    Raises
    ------
    VideoError
        Missing, not a regular file, or unreadable.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        cause = "file not found" if exc.errno == errno.ENOENT else f"cannot read the file ({exc.strerror})"
        raise VideoError(path, cause) from None
    try:
        status = os.fstat(fd)
    finally:
        os.close(fd)
    if not stat.S_ISREG(status.st_mode):
        raise VideoError(path, "not a regular file")
    return status.st_size


def absolute_path(path: str | os.PathLike) -> str:
    """``path`` made absolute against the current folder, its ``..`` kept: ``link/../a.mp4`` is not
    ``a.mp4`` when ``link`` is a symlink to another folder (``os.path.abspath`` would drop both, and
    name another file than the one the system opens)."""
    return str(Path(path).absolute())


def local_url(path: str | os.PathLike) -> str:
    """The URL under which FFmpeg opens the local file ``path``, never another: ``file:`` and its
    :func:`absolute_path`.

    FFmpeg reads a name such as ``concat:a.mp4``, ``subfile,,start,0,end,0,,:a.mp4``,
    ``cache:a.mp4`` or ``pipe:0.mp4`` as a protocol and its arguments (so it opens ``a.mp4``, or
    standard input); its ``file`` protocol strips the ``file:`` prefix and opens the rest as a path.
    """
    return "file:" + absolute_path(path)


@contextmanager
def open_video(path: str | os.PathLike) -> Iterator[tuple[av.container.InputContainer, av.VideoStream]]:
    """Open ``path`` and yield ``(container, stream)`` for its default video stream.

    ``path`` is always opened as a local file, whatever its name (see :func:`local_url`). The
    stream is the one the ``ffmpeg`` command line maps by default, see :func:`default_video_stream`.

    Raises
    ------
    VideoError
        If the file is missing, unreadable, not a media file, or has no video stream.
    """
    path = os.fspath(path)
    check_regular_file(path)
    av.logging.set_level(av.logging.WARNING if ffmpeg_log_shown() else None)  # None: FFmpeg prints nothing
    try:
        container = av.open(local_url(path), metadata_errors="ignore",
                            options={"format_whitelist": _format_whitelist()})
    except av.error.EOFError as exc:
        raise VideoError(path, "no video data: zero frames, or truncated") from exc
    except av.error.ArgumentError as exc:  # EINVAL: the demuxer FFmpeg found is off the whitelist
        raise VideoError(path, "not a video file: FFmpeg reads it as a playlist, image sequence or other "
                               "format that opens the files it names") from exc
    except av.error.FFmpegError as exc:
        raise VideoError(path, f"not a readable video (truncated, corrupt or not a video): {exc.strerror}") from exc
    try:
        stream = default_video_stream(container)
        if stream is None or video_stream_count(container) == 0:
            kinds = sorted({"cover art" if s is stream else s.type for s in container.streams})
            raise VideoError(path, f"no video stream (has {', '.join(kinds) or 'no streams at all'})")
        yield container, stream
    finally:
        container.close()


def default_video_stream(container: av.container.InputContainer) -> av.VideoStream | None:
    """The video stream the ``ffmpeg`` command line picks when no ``-map`` is given.

    Its rule (``map_auto_video`` in fftools): the largest picture (width x height), a stream
    flagged *default* first, cover art (attached pictures) last; ties go to the lower index.
    """

    def score(stream: av.VideoStream) -> int:
        flags = int(stream.disposition)
        if flags & int(av.stream.Disposition.attached_pic):
            return 1
        default = bool(flags & int(av.stream.Disposition.default))
        return stream.width * stream.height + 5_000_000 * default

    return max(container.streams.video, key=score, default=None)


def video_stream_count(container: av.container.InputContainer) -> int:
    """Number of video streams that are not cover art."""
    attached = int(av.stream.Disposition.attached_pic)
    return sum(1 for s in container.streams.video if not int(s.disposition) & attached)
