"""The ``framepick`` command line. It parses arguments and calls the library; no logic lives here.

Errors are printed as one line (``framepick: <file>: <cause>``) with exit status 2; ``--verbose``
(before or after the subcommand) shows the traceback above that line, with the same status.
Warnings (e.g. an analysis that could not be cached) are one line too. ``analyze`` and ``sample``
run under a per-video time limit (:func:`framepick.limits.time_limit`; exit status 3 when it
passes). SIGTERM and SIGHUP stop a command as Ctrl-C does (exit status 130).

The analysis options are defined once (:func:`_analysis_options`) and shared by every subcommand
that analyses; with ``--config`` they override the file's ``[analysis]`` table, one by one.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import traceback
import warnings
from collections.abc import Sequence

from .errors import FFMPEG_LOG_ENV, FramepickError


def _common_options(*, in_subcommand: bool) -> argparse.ArgumentParser:
    """``--verbose``, before or after the subcommand: the subcommand's copy has no default, so
    that it does not reset a ``--verbose`` given before the subcommand."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS if in_subcommand else False,
                        help="show tracebacks on errors, and FFmpeg's own log")
    return parser


def _analysis_options() -> argparse.ArgumentParser:
    """The analysis settings, shared by every subcommand that analyses. An option not given is
    None, so that the config file's setting stands."""
    from .config import BACKENDS, DETECTORS, AnalysisConfig

    default = AnalysisConfig()
    parser = argparse.ArgumentParser(add_help=False)
    group = parser.add_argument_group("analysis (override the config file)")
    group.add_argument("--size", type=int, help=f"longer side of analysis frames, px (default {default.size})")
    group.add_argument("--rate", type=float, metavar="FPS",
                       help="analyse FPS frames per second (default: every frame)")
    group.add_argument("--keyframes-only", action="store_true", default=None,
                       help="quick look: decode keyframes only (cuts only as fine as keyframe spacing)")
    group.add_argument("--every-frame", action="store_true", default=None,
                       help="decode every frame (default: reference frames only, most B-frames skipped: faster, "
                            "the same cuts and selections within noise; see docs/limits.md)")
    group.add_argument("--backend", choices=BACKENDS,
                       help=f"frame source (default {default.backend} = pyav, streaming)")
    group.add_argument("--detector", choices=DETECTORS,
                       help=f"scene detector (default {default.detector}; transnetv2 needs framepick[transnetv2])")
    group.add_argument("--detector-param", action="append", metavar="NAME=VALUE",
                       help="detector constructor argument, e.g. threshold=27 (repeatable)")
    group.add_argument("--threads", type=int,
                       help="decoder threads (default: one per core; batch: per worker, cores / workers)")
    group.add_argument("--no-cache", action="store_true", help="neither read nor write the analysis cache")
    return parser


_ANALYSIS_FIELDS = {"size": "size", "rate": "rate_fps", "keyframes_only": "keyframes_only", "backend": "backend",
                    "detector": "detector", "threads": "threads"}  # option dest -> AnalysisConfig field


def _analysis_config(args: argparse.Namespace, base=None):
    """``base`` (default: the default settings) with the analysis options given."""
    from .config import AnalysisConfig

    settings = {name: getattr(args, dest) for dest, name in _ANALYSIS_FIELDS.items() if getattr(args, dest) is not None}
    if args.every_frame:
        settings["reference_only"] = False
    if args.detector_param is not None:
        settings["detector_params"] = _parse_params(args.detector_param)
    return (base or AnalysisConfig()).with_overrides(**settings)


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


def _timeout_option(parser: argparse.ArgumentParser) -> None:
    from .config import JobConfig

    default = JobConfig()
    parser.add_argument("--timeout", type=float, metavar="S",
                        help="wall-clock seconds per video, plus the config's timeout_ratio x duration "
                             f"(default: the config's timeout_s; without one {default.timeout_s:g} "
                             f"+ {default.timeout_ratio:g} x duration)")


def _cmd_analyze(args: argparse.Namespace) -> int:
    from .analysis import analyze, summarize
    from .limits import time_limit

    config = _job_config(args)
    with time_limit(args.video, config):
        analysis = analyze(args.video, config.analysis, cache=not args.no_cache,
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


def _job_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("strategy (override the config file)")
    group.add_argument("--config", metavar="TOML",
                       help="job configuration, e.g. strategy.toml exported by the notebook")
    group.add_argument("--strategy",
                       help="uniform, fps, scenes, adaptive or novelty (default: the config's, or uniform)")
    budget = group.add_mutually_exclusive_group()
    budget.add_argument("--frames", type=int, metavar="N", help="frame count")
    budget.add_argument("--fps", type=float, metavar="F", help="frames per second of video (Qwen's rule)")
    group.add_argument("--min-frames", type=int, metavar="A", help="least frames with --fps")
    group.add_argument("--max-frames", type=int, metavar="B", help="most frames with --fps")
    group.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                       help="any other strategy parameter, e.g. max_gap_s=30 (repeatable)")


def _job_config(args: argparse.Namespace):
    """The job of a subcommand: the config file (if any) with the strategy, analysis and
    ``--timeout`` options given."""
    import dataclasses

    from .config import JobConfig, load_config
    from .select import strategy_defaults

    config = load_config(args.config) if getattr(args, "config", None) else JobConfig()
    if hasattr(args, "strategy"):  # the strategy options (sample, batch)
        flags = {"frames": args.frames, "fps": args.fps, "min_frames": args.min_frames,
                 "max_frames": args.max_frames}
        params = {name: value for name, value in flags.items() if value is not None}
        strategy = args.strategy or config.strategy
        if args.fps is not None and args.frames is None and "frames" in strategy_defaults(strategy):
            params["frames"] = None  # a rate replaces the config's frame count (the fps strategy has none)
        config = config.with_overrides(strategy=args.strategy, **params, **_parse_params(args.param))
    timeout = {} if args.timeout is None else {"timeout_s": args.timeout}
    return dataclasses.replace(config, analysis=_analysis_config(args, config.analysis), **timeout)


def _cmd_sample(args: argparse.Namespace) -> int:
    from .limits import time_limit
    from .outdir import clean_staging
    from .pipeline import sample

    config = _job_config(args)
    with time_limit(args.video, config, on_expiry=lambda: clean_staging(args.out)):
        manifest = sample(args.video, out_dir=args.out, config=config, cache=not args.no_cache,
                          threads=config.analysis.threads)
    print(manifest)
    return 0


def _cmd_batch(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from .batch import run_batch
    from .batch.task import status_text

    def log(kind: str, line: dict) -> None:
        if kind == "done":
            tqdm.write(status_text(line), file=sys.stderr)

    summary = run_batch(args.inputs, out_dir=args.out, config=_job_config(args), workers=args.workers,
                        threads=args.threads or None, executor=args.executor, force=args.force,
                        cache=not args.no_cache, on_event=log, ray_address=args.ray_address,
                        segment_s=None if args.segment_minutes is None else args.segment_minutes * 60)
    print(summary)
    return summary.exit_status


def _cmd_demo(args: argparse.Namespace) -> int:
    from .about import sample_video
    from .report import run_demo

    report_dir = args.report_dir or os.path.join(args.out, "report")
    result = run_demo(args.video or sample_video(), out_dir=args.out, report_dir=report_dir,
                      strategies=args.strategies, frames=args.frames)
    for strategy, manifest in result.manifests.items():
        print(f"{strategy:>9} frames and manifest: {manifest}")
    print(f"   report: {result.report}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``framepick`` command."""
    parser = argparse.ArgumentParser(
        prog="framepick", parents=[_common_options(in_subcommand=False)],
        description="Pick a few well-chosen frames from long videos for vision-language models.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common, analysis = _common_options(in_subcommand=True), _analysis_options()

    analyze = commands.add_parser(
        "analyze", parents=[common, analysis], help="one streaming pass: scores, scenes, thumbnails (cached)",
        description="Analyse a video in one streaming decode and print a summary.",
    )
    analyze.add_argument("video", help="video file")
    analyze.add_argument("--json", action="store_true",
                         help='print one JSON object, with "scenes": [[start_frame, end_frame], ...]')
    _timeout_option(analyze)
    analyze.set_defaults(run=_cmd_analyze)

    sample = commands.add_parser(
        "sample", parents=[common, analysis], help="analyse, select and extract one video; prints the manifest path",
        description="Write the frames a strategy selects as OUT/<video>/frame_*.jpg with a manifest.json.",
    )
    sample.add_argument("video", help="video file")
    sample.add_argument("--out", required=True, metavar="DIR", help="output folder")
    _job_options(sample)
    _timeout_option(sample)
    sample.set_defaults(run=_cmd_sample)

    batch = commands.add_parser(
        "batch", parents=[common, analysis],
        help="sample every video of folders, lists or files (resumable, hang-proof)",
        description="Run sample on many videos in parallel; one status line per video in OUT/batch.jsonl. "
                    "Exit status 1 if any video failed.",
    )
    batch.add_argument("inputs", nargs="+", metavar="INPUT", help="video files, folders, or .txt lists of paths")
    batch.add_argument("--out", required=True, metavar="DIR", help="output folder")
    batch.add_argument("--workers", type=int, help="videos at once (default: one per core)")
    from .batch import EXECUTORS

    batch.add_argument("--executor", choices=EXECUTORS, default="local",
                       help="local processes (default) or Ray tasks (pip install framepick[ray])")
    batch.add_argument("--force", action="store_true", help="redo videos whose output is up to date")
    _timeout_option(batch)
    batch.add_argument("--ray-address", metavar="ADDR", help="Ray cluster to join (default: start a local one)")
    batch.add_argument("--segment-minutes", type=float, metavar="M",
                       help="Ray: analyse videos longer than M minutes in M-minute segments in parallel "
                            "(with --every-frame; reference-frames analyses run whole)")
    _job_options(batch)
    batch.set_defaults(run=_cmd_batch)

    demo = commands.add_parser(
        "demo", parents=[common],
        help="the main job: compare uniform and adaptive on a video, write JPEGs and a report",
        description="Analyse a video (default: the bundled Big Buck Bunny sample), select frames with two "
                    "strategies at the same budget, write both as JPEGs with manifests, and write a markdown "
                    "report with a timeline and contact sheets.",
    )
    demo.add_argument("video", nargs="?", help="video file (default: the bundled sample)")
    demo.add_argument("--out", default="framepick-out", metavar="DIR",
                      help="JPEGs and manifests go to DIR/<strategy>/<video>/ (default framepick-out)")
    demo.add_argument("--report-dir", metavar="DIR",
                      help="where report.md, timeline.png and contact sheets go (default: OUT/report; "
                           "reports/demo regenerates the tracked example)")
    demo.add_argument("--strategies", nargs="+", default=["uniform", "adaptive"], metavar="NAME",
                      help="strategies to compare (default: uniform adaptive)")
    from .report import DEMO_FRAMES

    demo.add_argument("--frames", type=int, default=DEMO_FRAMES, metavar="N",
                      help=f"frame budget of each strategy (default {DEMO_FRAMES})")
    demo.set_defaults(run=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``framepick`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    previous = _stop_on_signals()
    log_before = os.environ.get(FFMPEG_LOG_ENV)
    if args.verbose:
        os.environ[FFMPEG_LOG_ENV] = "1"
    try:
        with warnings.catch_warnings():  # restores the formatter on the way out
            warnings.showwarning = _one_line_warning
            return args.run(args)
    except FramepickError as exc:
        if args.verbose:
            traceback.print_exc()
        print(f"framepick: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("framepick: interrupted", file=sys.stderr)
        return 130
    finally:
        for number, handler in previous.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)
        if log_before is None:
            os.environ.pop(FFMPEG_LOG_ENV, None)
        else:
            os.environ[FFMPEG_LOG_ENV] = log_before


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Print a warning as ``framepick: warning: <message>`` (no source line)."""
    print(f"framepick: warning: {message}", file=file or sys.stderr)


_STOP_SIGNALS = ("SIGTERM", "SIGHUP")  # stop a command as Ctrl-C does


def _stop_on_signals() -> dict:
    """Make SIGTERM and SIGHUP (a closed terminal or SSH session) stop a command as Ctrl-C does,
    cleanly; a signal ignored on purpose (``nohup``) stays ignored. Returns the handlers replaced.
    Signal handlers belong to the main thread: elsewhere (a notebook's thread) nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous = {}
    for name in _STOP_SIGNALS:
        number = getattr(signal, name, None)  # no SIGHUP on Windows
        if number is not None and signal.getsignal(number) is not signal.SIG_IGN:
            previous[number] = signal.signal(number, _terminated)
    return previous


def _terminated(_signum: int, _frame) -> None:
    """SIGTERM and SIGHUP handler: raise KeyboardInterrupt, which every command stops on cleanly."""
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
