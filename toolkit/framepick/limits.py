"""A wall-clock limit on one video's work outside the batch (the batch kills its workers itself).

The ``analyze`` and ``sample`` commands run under :func:`time_limit`: a watchdog thread that,
when the limit passes, prints the one-line error, removes this process' half-written output and
ends the process. A thread, because a decoder stuck inside FFmpeg never returns to Python; ending
the process, because such a call cannot be interrupted any other way.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .config import JobConfig

__all__ = ["TIMEOUT_STATUS", "time_limit"]

TIMEOUT_STATUS = 3  # exit status of a command whose video ran past its time limit


@contextmanager
def time_limit(path: str | os.PathLike, config: JobConfig, *,
               on_expiry: Callable[[], None] | None = None) -> Iterator[None]:
    """Run the body under a wall-clock limit for video ``path``, or end the process.

    The limit is the batch's, ``config.timeout_for(duration)``: ``config.timeout_s`` seconds for
    opening the file, then that plus ``config.timeout_ratio`` seconds per second of video once the
    probe knows the duration.

    Parameters
    ----------
    path : str or os.PathLike
        The video (named in the error).
    config : JobConfig
        Its ``timeout_s`` and ``timeout_ratio`` set the limit.
    on_expiry : callable, optional
        Called (in the watchdog thread) before the process ends, e.g. to remove half-written output.

    Raises
    ------
    VideoError
        The probe cannot open ``path`` (the error the body would raise).
    """
    from .probe import probe

    begin, done = time.monotonic(), threading.Event()
    limit_s = config.timeout_s  # raised below once the duration is known; the watchdog reads it live

    def watch() -> None:
        while not done.wait(timeout=0.1):
            if time.monotonic() - begin >= limit_s:
                print(f"framepick: {os.fspath(path)}: timed out after {limit_s:.0f} s (a longer limit: "
                      "--timeout, or timeout_s and timeout_ratio in the config)", file=sys.stderr, flush=True)
                if on_expiry is not None:
                    on_expiry()
                os._exit(TIMEOUT_STATUS)

    watchdog = threading.Thread(target=watch, name="framepick-time-limit", daemon=True)
    watchdog.start()
    try:
        limit_s = config.timeout_for(probe(path, keyframes=False).duration_s)
        yield
    finally:
        done.set()
        watchdog.join()
