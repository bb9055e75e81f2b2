"""Decoding a stream's GOPs side by side, one single-threaded FFmpeg decoder per worker thread.

FFmpeg's frame threads decode one chain of frames, each thread waiting for the rows of the
frame it predicts from. With the non-reference frames skipped the chain is all that is left, and
two frame threads overlap badly, each waiting for the other (measured in reports/analysis.md,
"Reading it"). A GOP (a keyframe and the packets up to the next one, in decoding
order) decodes to the same pictures on its own, except for the leading frames of an open GOP:
frames after its keyframe in decoding order but shown before it, predicted from the GOP before
too (x265's CRA keyframes, x264 ``open-gop``, MPEG-2). So a worker decodes a GOP and then the
next GOP's keyframe and leading frames, and hands out its own frames and those leading frames;
the worker of the next GOP drops them (its own decode of them lacks the GOP before). Workers
that each decode whole GOPs, single-threaded, never wait for each other, and hand out the same
frames bit for bit (tests/test_decode.py and tests/test_exact_pixels.py compare them with one
decoder's).

Packets are read in one thread and handed out GOP by GOP; each worker has a decoder of its own
(the file opened once more, so configured as FFmpeg configures the stream's) and runs ``convert``
on every frame it hands out, so the scaling is spread over the workers too. Results come back in order;
up to four GOPs per worker are decoded ahead of the consumer (:func:`gops_ahead`), so that a long
GOP does not leave the other workers idle, within ``AHEAD_BYTES`` of converted frames.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Literal

import av

from ..probe import open_video
from ._carried import carried_state, with_carried

__all__ = ["SkipMode", "decode_gops", "decode_packet", "gops_ahead", "nonref_skip"]

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
        The video, opened once more by every worker for its decoder. The state its stream carries
        once (:func:`._carried.carried_state`) goes in front of each later GOP's first packet.
    packets : iterator of av.Packet
        The stream's packets in decoding order, the first a keyframe.
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
        decoded, a GOP's packets (with the next GOP's leading ones) after its last needed one are
        not decoded, and non-reference frames that are not needed are skipped
        (:func:`decode_packet`).

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
            for job in _jobs(packets, needed_pts, carried_state(path)):
                result: Future = Future()
                jobs.put((job, result))
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


@dataclass(frozen=True)
class _Job:
    """What one worker decodes: a GOP's packets, then the next GOP's up to its last leading one."""

    packets: list[av.Packet]
    handed_out_elsewhere: frozenset[int]
    """Timestamps of frames decoded here that another job hands out: this GOP's leading frames
    (the job before decodes them right), the next GOP's keyframe and its other frames."""

    def carrying(self, carried: bytes) -> _Job:
        """This job with ``carried`` (decoder state) in front of its first packet."""
        return _Job([with_carried(self.packets[0], carried), *self.packets[1:]], self.handed_out_elsewhere)


def _jobs(packets: Iterator[av.Packet], needed_pts: frozenset[int] | None,
          carried: bytes = b"") -> Generator[_Job, None, None]:
    """One job per GOP, in decoding order, each after the first with ``carried`` in front; with
    ``needed_pts``, only jobs handing out a needed frame, each up to its last needed packet."""
    gops = _gops(packets)
    gop, leading = next(gops, None), frozenset[int]()
    first = True
    while gop is not None:
        following = next(gops, None)
        tail, leading_next = _leading_part(following or [])
        elsewhere = leading | (frozenset(packet.pts for packet in tail if packet.pts is not None) - leading_next)
        job = _needed(_Job(gop + tail, elsewhere), needed_pts)
        if job is not None:
            yield job if first else job.carrying(carried)
        gop, leading, first = following, leading_next, False


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


def _leading_part(gop: list[av.Packet]) -> tuple[list[av.Packet], frozenset[int]]:
    """``gop`` 's packets up to its last leading one (shown before its keyframe), and the leading
    ones' timestamps; none if it has none (a closed GOP) or its keyframe has no timestamp."""
    key_pts = gop[0].pts if gop else None
    if key_pts is None:
        return [], frozenset()
    leading = [(position, packet.pts) for position, packet in enumerate(gop)
               if packet.pts is not None and packet.pts < key_pts]
    if not leading:
        return [], frozenset()
    return gop[:leading[-1][0] + 1], frozenset(pts for _, pts in leading)


def _needed(job: _Job, needed_pts: frozenset[int] | None) -> _Job | None:
    """``job`` up to the last packet of a needed frame it hands out; None if it hands out none."""
    if needed_pts is None:
        return job
    needed = [position for position, packet in enumerate(job.packets)
              if _is_needed(packet, needed_pts) and packet.pts not in job.handed_out_elsewhere]
    return _Job(job.packets[:needed[-1] + 1], job.handed_out_elsewhere) if needed else None


def _is_needed(packet: av.Packet, needed_pts: frozenset[int] | None) -> bool:
    return needed_pts is None or packet.pts is None or packet.pts in needed_pts


def nonref_skip(stream: av.VideoStream) -> SkipMode:
    """The ``skip_frame`` mode that leaves out ``stream`` 's non-reference frames: ``"NONREF"`` where
    its frames are reordered (B-frames), else ``"DEFAULT"``: nothing worth skipping, and libdav1d
    (AV1) reads the mode once, when it starts, so it cannot be switched packet by packet
    (:func:`decode_packet`; frames went missing)."""
    return "NONREF" if stream.codec_context.has_b_frames else "DEFAULT"


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
    while (taken := jobs.get()) is not None:
        job, result = taken
        if stop.is_set() or not result.set_running_or_notify_cancel():
            continue
        try:
            for_gop = for_gop or converter(stream)
            result.set_result(_decode(context, job, for_gop(), skip=skip, needed_pts=needed_pts))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            result.set_exception(exc)


def _decode(context, job: _Job, convert: GopConverter, *, skip: SkipMode,
            needed_pts: frozenset[int] | None) -> list[tuple[int | None, Any]]:
    """Decode one job from a decoder in its initial state, and leave it so: ``(pts, convert(frame))``
    of the frames it hands out."""
    out = []
    for packet in [*job.packets, None]:  # None: the frames held for reordering
        frames = context.decode(None) if packet is None else decode_packet(context, packet, skip=skip,
                                                                           needed_pts=needed_pts)
        out += [(frame.pts, convert(frame)) for frame in frames if frame.pts not in job.handed_out_elsewhere]
    context.flush_buffers()
    return out
