"""Decoding a stream's GOPs side by side, one single-threaded FFmpeg decoder per worker thread.

FFmpeg's frame threads decode one chain of frames, each thread waiting for the rows of the
frame it predicts from. With the non-reference frames skipped the chain is all that is left, and
two frame threads overlap badly: on 1080p H.264 the reference frames took 8.3 s of CPU in 5.5 s
of wall time on 2 cores. A GOP (a keyframe and the frames up to the next one, in decoding
order) of a stream whose GOPs are closed (:attr:`framepick.probe.PacketScan.closed_gops`) decodes
to the same pictures on its own, so workers that each decode whole GOPs, single-threaded, never
wait for each other: the same frames took 4.5 s there, scaling included, bit for bit the same.

Packets are read in one thread and handed out GOP by GOP; each worker opens the file for a
decoder of its own (configured as FFmpeg configures the stream's) and runs ``convert`` on every
frame it decodes, so the scaling is spread over the workers too. Results come back in order,
at most ``workers + 1`` GOPs ahead of the consumer.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future
from typing import Any, Literal

import av

from ..probe import open_video

__all__ = ["SkipMode", "decode_gops"]

SkipMode = Literal["DEFAULT", "NONREF", "NONKEY"]  # FFmpeg's skip_frame modes used here

# A converter per GOP: called with each decoded frame of the GOP in presentation order.
GopConverter = Callable[[av.VideoFrame], Any]


def decode_gops(
    path: str,
    packets: Iterator[av.Packet],
    *,
    workers: int,
    skip: SkipMode,
    converter: Callable[[av.VideoStream], Callable[[], GopConverter]],
) -> Generator[tuple[int | None, Any], None, None]:
    """``(pts, convert(frame))`` of every frame the stream's ``packets`` decode to, in presentation
    order, the GOPs decoded by ``workers`` threads side by side.

    Parameters
    ----------
    path : str
        The video, opened once more by every worker for its decoder.
    packets : iterator of av.Packet
        The stream's packets in decoding order, from the first keyframe; the GOPs must be closed.
    workers : int
        Decoder threads, each decoding single-threaded.
    skip : str
        FFmpeg's ``skip_frame`` mode of the decoders (``"DEFAULT"``, ``"NONREF"``).
    converter : callable
        ``converter(stream)`` is called once per worker with the worker's stream and returns a
        factory; the factory is called once per GOP and returns ``convert``.

    Raises
    ------
    av.error.FFmpegError
        As decoding raises it, when the consumer reaches the GOP.
    """
    jobs: queue.Queue = queue.Queue()
    stop = threading.Event()
    threads = [threading.Thread(target=_work, args=(path, skip, converter, jobs, stop), daemon=True,
                                name=f"framepick-gop-{number}") for number in range(workers)]
    for thread in threads:
        thread.start()
    pending: list[Future] = []
    try:
        for gop in _gops(packets):
            result: Future = Future()
            jobs.put((gop, result))
            pending.append(result)
            if len(pending) > workers:
                yield from pending.pop(0).result()
        for result in pending:
            yield from result.result()
    finally:
        stop.set()
        for _ in threads:
            jobs.put(None)
        for thread in threads:
            thread.join()


def _gops(packets: Iterator[av.Packet]) -> Generator[list[av.Packet], None, None]:
    """The packets grouped from each keyframe up to the next (the flushing empty packets dropped)."""
    gop: list[av.Packet] = []
    for packet in packets:
        if packet.size == 0:
            continue
        if packet.is_keyframe and gop:
            yield gop
            gop = []
        gop.append(packet)
    if gop:
        yield gop


def _work(path: str, skip: SkipMode, converter: Callable[[av.VideoStream], Callable[[], GopConverter]],
          jobs: queue.Queue, stop: threading.Event) -> None:
    """One worker: decode the GOPs it takes from ``jobs`` until it takes None."""
    with contextlib.ExitStack() as stack:
        context = None
        while (job := jobs.get()) is not None:
            gop, result = job
            if stop.is_set() or not result.set_running_or_notify_cancel():
                continue
            try:
                if context is None:
                    _, stream = stack.enter_context(open_video(path))
                    context, for_gop = _decoder(stream, skip), converter(stream)
                result.set_result(_decode(context, gop, for_gop()))
            except BaseException as exc:  # handed to the consumer, which re-raises it
                result.set_exception(exc)


def _decoder(stream: av.VideoStream, skip: SkipMode):
    context = stream.codec_context
    context.thread_count = 1
    context.skip_frame = skip
    return context


def _decode(context, gop: list[av.Packet], convert: GopConverter) -> list[tuple[int | None, Any]]:
    """Decode one GOP from a decoder in its initial state, and leave it so."""
    out = []
    for packet in [*gop, None]:  # None drains the frames the decoder holds for reordering
        out += [(frame.pts, convert(frame)) for frame in context.decode(packet)]
    context.flush_buffers()
    return out
