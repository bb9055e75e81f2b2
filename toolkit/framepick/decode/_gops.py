"""Decoding a stream's GOPs side by side, one single-threaded FFmpeg decoder per worker thread.

FFmpeg's frame threads decode one chain of frames, each thread waiting for the rows of the
frame it predicts from. With the non-reference frames skipped the chain is all that is left, and
two frame threads overlap badly: on 1080p H.264 the reference frames took 8.3 s of CPU in 5.5 s
of wall time on 2 cores. A GOP (a keyframe and the frames up to the next one, in decoding
order) of a stream whose GOPs are closed (:attr:`framepick.probe.PacketScan.closed_gops`) decodes
to the same pictures on its own, so workers that each decode whole GOPs, single-threaded, never
wait for each other: the same frames took 4.5 s there, scaling included, bit for bit the same.

Packets are read in one thread and handed out GOP by GOP; each worker has a decoder of its own
(the file opened once more, so configured as FFmpeg configures the stream's) and runs ``convert`` on every
frame it decodes, so the scaling is spread over the workers too. Results come back in order;
up to four GOPs per worker are decoded ahead of the consumer (:func:`gops_ahead`), so that a long
GOP does not leave the other workers idle (3-min 1080p, reference frames: 6.1 s against 6.6 s
with one GOP ahead).
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

__all__ = ["SkipMode", "decode_gops", "decode_packet", "gops_ahead"]

AHEAD_BYTES = 128 << 20  # converted frames of the GOPs decoded ahead may take this much memory

SkipMode = Literal["DEFAULT", "NONREF", "NONKEY"]  # FFmpeg's skip_frame modes used here

# A converter per GOP: called with each decoded frame of the GOP in presentation order.
GopConverter = Callable[[av.VideoFrame], Any]


def decode_gops(
    path: str,
    packets: Iterator[av.Packet],
    *,
    workers: int,
    ahead: int,
    skip: SkipMode,
    converter: Callable[[av.VideoStream], Callable[[], GopConverter]],
    needed_pts: frozenset[int] | None = None,
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
    ahead : int
        GOPs decoded or waiting to be taken ahead of the consumer, more than ``workers``
        (:func:`gops_ahead`).
    skip : SkipMode
        FFmpeg's ``skip_frame`` mode of the decoders (``"DEFAULT"``, ``"NONREF"``).
    converter : callable
        ``converter(stream)`` is called once per worker with the worker's stream and returns a
        factory; the factory is called once per GOP and returns ``convert``.
    needed_pts : frozenset of int, optional
        Decode only what the frames with these packet timestamps need: GOPs without one are not
        decoded, a GOP's packets after its last needed one are not decoded, and non-reference
        frames that are not needed are skipped (:func:`decode_packet`).

    Raises
    ------
    av.error.FFmpegError
        As decoding raises it, when the consumer reaches the GOP.
    """
    jobs: queue.Queue = queue.Queue()
    stop = threading.Event()
    with contextlib.ExitStack() as opened:  # every decoder's file opened now, closed after its thread ends
        streams = [opened.enter_context(open_video(path))[1] for _ in range(workers)]
        threads = [threading.Thread(target=_work, args=(stream, skip, needed_pts, converter, jobs, stop),
                                    daemon=True, name=f"framepick-gop-{number}")
                   for number, stream in enumerate(streams)]
        for thread in threads:
            thread.start()
        pending: list[Future] = []
        try:
            for gop in _gops(packets, needed_pts):
                result: Future = Future()
                jobs.put((gop, result))
                pending.append(result)
                if len(pending) >= ahead:
                    yield from pending.pop(0).result()
            for result in pending:
                yield from result.result()
        finally:
            stop.set()
            for _ in threads:
                jobs.put(None)
            for thread in threads:
                thread.join()


def gops_ahead(workers: int, gop_bytes: int) -> int:
    """GOPs to decode ahead of the consumer (``ahead`` of :func:`decode_gops`): four per worker,
    fewer where their converted frames (``gop_bytes`` each, at most) would take more than
    ``AHEAD_BYTES``; 0 where not even one more than ``workers`` fits (then decode in one decoder).

    >>> gops_ahead(2, 250 * 128 * 72 * 3), gops_ahead(2, 30 << 20), gops_ahead(2, 50 << 20)
    (8, 4, 0)
    """
    ahead = min(4 * workers, AHEAD_BYTES // max(gop_bytes, 1))
    return ahead if ahead > workers else 0


def _gops(packets: Iterator[av.Packet], needed_pts: frozenset[int] | None) -> Generator[list[av.Packet], None, None]:
    """The packets grouped from each keyframe up to the next (the flushing empty packets dropped);
    with ``needed_pts``, each GOP up to its last needed packet, and only GOPs with one."""
    gop: list[av.Packet] = []
    for packet in packets:
        if packet.size == 0:
            continue
        if packet.is_keyframe and gop:
            yield from _needed(gop, needed_pts)
            gop = []
        gop.append(packet)
    yield from _needed(gop, needed_pts)


def _needed(gop: list[av.Packet], needed_pts: frozenset[int] | None) -> list[list[av.Packet]]:
    if needed_pts is None:
        return [gop] if gop else []
    needed = [position for position, packet in enumerate(gop) if _is_needed(packet, needed_pts)]
    return [gop[:needed[-1] + 1]] if needed else []


def _is_needed(packet: av.Packet, needed_pts: frozenset[int] | None) -> bool:
    return needed_pts is None or packet.pts is None or packet.pts in needed_pts


def decode_packet(context, packet: av.Packet, *, skip: SkipMode,
                  needed_pts: frozenset[int] | None = None) -> list[av.VideoFrame]:
    """Decode ``packet`` with FFmpeg's ``skip_frame`` mode ``skip``, or, if ``needed_pts`` holds its
    timestamp, without skipping (set packet by packet: a single-threaded decoder, or one whose
    frame threads copy the mode with each packet)."""
    context.skip_frame = "DEFAULT" if needed_pts is not None and _is_needed(packet, needed_pts) else skip
    return context.decode(packet)


def _work(stream: av.VideoStream, skip: SkipMode, needed_pts: frozenset[int] | None,
          converter: Callable[[av.VideoStream], Callable[[], GopConverter]], jobs: queue.Queue,
          stop: threading.Event) -> None:
    """One worker: decode the GOPs it takes from ``jobs`` with ``stream`` 's decoder, single-threaded,
    until it takes None."""
    context = stream.codec_context
    context.thread_count = 1
    for_gop = None
    while (job := jobs.get()) is not None:
        gop, result = job
        if stop.is_set() or not result.set_running_or_notify_cancel():
            continue
        try:
            for_gop = for_gop or converter(stream)
            result.set_result(_decode(context, gop, for_gop(), skip=skip, needed_pts=needed_pts))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            result.set_exception(exc)


def _decode(context, gop: list[av.Packet], convert: GopConverter, *, skip: SkipMode,
            needed_pts: frozenset[int] | None) -> list[tuple[int | None, Any]]:
    """Decode one GOP from a decoder in its initial state, and leave it so."""
    out = []
    for packet in gop:
        out += [(frame.pts, convert(frame)) for frame in decode_packet(context, packet, skip=skip,
                                                                      needed_pts=needed_pts)]
    out += [(frame.pts, convert(frame)) for frame in context.decode(None)]  # the frames held for reordering
    context.flush_buffers()
    return out
