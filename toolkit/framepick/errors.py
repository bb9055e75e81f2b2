"""One error hierarchy for everything framepick raises on purpose.

Every message is one line that names the file (where there is one) and the cause, so that a batch
log or a CLI error is readable without a traceback; FFmpeg's own log lines, which would come
before it, are silent unless asked for (:data:`FFMPEG_LOG_ENV`).
"""

from __future__ import annotations

import os

__all__ = ["FramepickError", "PathError", "VideoError", "OutputError", "ConfigError", "ArgumentError",
           "FFMPEG_LOG_ENV", "ffmpeg_log_shown"]

FFMPEG_LOG_ENV = "FRAMEPICK_FFMPEG_LOG"
"""Set to ``1`` (the command line's ``--verbose`` does) to let FFmpeg print its own log lines
(``[h264 @ 0x...] ...``) from both decoders; they are silent otherwise, since every problem they
report reaches the user as framepick's one-line error. An environment variable, so that worker
processes inherit it."""


def ffmpeg_log_shown() -> bool:
    """Whether FFmpeg's log lines are wanted (see :data:`FFMPEG_LOG_ENV`)."""
    return os.environ.get(FFMPEG_LOG_ENV, "") not in ("", "0")


class FramepickError(Exception):
    """Base class of every error framepick raises on purpose."""


class PathError(FramepickError):
    """An error about one file or folder: its message is ``"<path>: <cause>"``, on one line.

    Parameters
    ----------
    path : str or os.PathLike
        The offending file or folder.
    cause : str
        What is wrong with it, in a few words.
    """

    def __init__(self, path: str | os.PathLike, cause: str) -> None:
        self.path = os.fspath(path)
        self.cause = " ".join(str(cause).split())  # always one line
        super().__init__(f"{self.path}: {self.cause}")


class VideoError(PathError):
    """A video cannot be used: missing, not a video, truncated, zero frames, audio-only, ..."""


class OutputError(PathError):
    """A video's output cannot be written (a full disk, no permission, a read-only folder); ``path``
    is the output folder."""


class ConfigError(FramepickError, ValueError):
    """A parameter or a configuration value is out of range or of the wrong kind."""


class ArgumentError(ConfigError, TypeError):
    """An argument of a public function is of the wrong kind or names the wrong thing (``None``
    where a folder is needed, an analysis of another video, a file that is not a manifest). Its
    message is one line that starts with the argument's name. A :class:`ConfigError`, and a
    ``TypeError`` as Python's own argument errors are."""
