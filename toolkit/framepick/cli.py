"""The ``framepick`` command line. It parses arguments and calls the library; no logic lives here.

Errors are printed as one line (``framepick: <file>: <cause>``) with exit status 2; ``--verbose``
shows the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from .errors import FramepickError


def _analysis_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("analysis")
    group.add_argument("--size", type=int, default=128, help="longer side of analysis frames, px (default 128)")
    group.add_argument("--rate", type=float, default=None, metavar="FPS",
                       help="analyse FPS frames per second (default: every frame)")
    group.add_argument("--keyframes-only", action="store_true",
                       help="quick look: decode keyframes only (cuts only as fine as keyframe spacing)")
    group.add_argument("--backend", choices=("auto", "pyav", "decord"), default="auto",
                       help="frame source (default auto = pyav, streaming)")
    group.add_argument("--detector", choices=("adaptive", "content", "histogram", "hash"), default="adaptive",
                       help="PySceneDetect detector (default adaptive)")
    group.add_argument("--detector-param", action="append", default=[], metavar="NAME=VALUE",
                       help="detector constructor argument, e.g. threshold=27 (repeatable)")
    group.add_argument("--threads", type=int, default=0, help="decoder threads (default: one per core)")
    group.add_argument("--no-cache", action="store_true", help="neither read nor write the analysis cache")


def _analysis_config(args: argparse.Namespace):
    from .types import AnalysisConfig

    return AnalysisConfig(size=args.size, rate_fps=args.rate, keyframes_only=args.keyframes_only,
                          backend=args.backend, detector=args.detector,
                          detector_params=_parse_params(args.detector_param), threads=args.threads)


def _parse_params(pairs: Sequence[str]) -> dict:
    """``["threshold=27", "min_scene_len=0.5"]`` -> ``{"threshold": 27, "min_scene_len": 0.5}``."""
    params = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise FramepickError(f"expected NAME=VALUE, got {pair!r}")
        try:
            params[name] = json.loads(value)
        except json.JSONDecodeError:
            params[name] = value
    return params


def _cmd_analyze(args: argparse.Namespace) -> int:
    from .analysis import analyze, summarize

    analysis = analyze(args.video, _analysis_config(args), cache=not args.no_cache,
                       progress=None if not args.json else False)
    summary = summarize(analysis)
    if args.json:
        print(json.dumps(summary))
    else:
        print(
            f"{summary['path']}: {summary['duration_s']:.1f} s, {summary['frames']} frames at "
            f"{summary['fps']:.3g} fps, {summary['width']}x{summary['height']} {summary['codec']}; "
            f"{len(summary['scenes'])} scenes; analysed in {summary['elapsed_s']:.2f} s "
            f"with {summary['decoder']}"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``framepick`` command."""
    parser = argparse.ArgumentParser(
        prog="framepick",
        description="Pick a few well-chosen frames from long videos for vision-language models.",
    )
    parser.add_argument("--verbose", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    analyze = commands.add_parser(
        "analyze", help="one streaming pass: scores, scenes, thumbnails (cached)",
        description="Analyse a video in one streaming decode and print a summary.",
    )
    analyze.add_argument("video", help="video file")
    analyze.add_argument("--json", action="store_true",
                         help='print one JSON object, with "scenes": [[start_frame, end_frame], ...]')
    _analysis_options(analyze)
    analyze.set_defaults(run=_cmd_analyze)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``framepick`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except FramepickError as exc:
        if args.verbose:
            raise
        print(f"framepick: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("framepick: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
