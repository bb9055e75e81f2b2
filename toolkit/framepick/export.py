"""Export a chosen selection strategy as a batch job: ``strategy.toml`` plus ``run_batch.py``.

The comparison app's Export button calls :func:`export_strategy`; notebooks and scripts can call it
directly (it needs no widgets).
"""

from __future__ import annotations

import os
import shlex
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

from .config import AnalysisConfig, JobConfig, OutputConfig, save_config
from .types import Selection

__all__ = ["Export", "export_strategy"]


@dataclass(frozen=True)
class Export:
    """What :func:`export_strategy` wrote and how to run it.

    Attributes
    ----------
    config : Path
        The job's ``strategy.toml``.
    script : Path
        ``run_batch.py``, which runs the batch job with that config.
    command : str
        The shell command that runs the job: this Python interpreter running ``run_batch.py``.
    cli_command : str
        The same job as one ``framepick batch`` command line.
    """

    config: Path
    script: Path
    command: str
    cli_command: str


def export_strategy(selection: Selection, folder: str | os.PathLike, *, inputs: list[str | os.PathLike],
                    out: str | os.PathLike | None = None, analysis_config: AnalysisConfig | None = None,
                    output: OutputConfig | None = None) -> Export:
    """Write ``selection``'s strategy as a batch job into ``folder``: ``strategy.toml`` (a
    :class:`framepick.config.JobConfig`) and ``run_batch.py``.

    The config holds the strategy with its full parameters and the analysis settings, so the batch
    job picks exactly the frames ``selection`` holds on the video it was made from.

    Parameters
    ----------
    selection : Selection
        The selection whose strategy and parameters to export.
    folder : str or os.PathLike
        Where to write the two files (created if needed).
    inputs : list of str or os.PathLike
        Videos, folders of videos or text files of paths for the batch job to process.
    out : str or os.PathLike, optional
        Output folder of the batch job; default ``folder / "frames"``.
    analysis_config : AnalysisConfig, optional
        Analysis settings the selection was made with (default settings if omitted).
    output : OutputConfig, optional
        Size rule and JPEG quality of the frames written (the batch job's defaults if omitted).

    Returns
    -------
    Export
    """
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    out = Path(out).resolve() if out is not None else folder / "frames"
    paths = [str(Path(p).resolve()) for p in inputs]
    job = JobConfig(strategy=selection.strategy, params=dict(selection.params),
                    analysis=analysis_config or AnalysisConfig(), output=output or OutputConfig())
    config_path = save_config(job, folder / "strategy.toml")
    script_path = folder / "run_batch.py"
    script_path.write_text(_batch_script(out, paths))
    cli = ["framepick", "batch", "--config", str(config_path), "--out", str(out), *paths]
    return Export(config=config_path, script=script_path,
                  command=shlex.join([sys.executable, str(script_path)]),
                  cli_command=shlex.join(cli))


def _batch_script(out: Path, inputs: list[str]) -> str:
    return textwrap.dedent(f'''\
        #!/usr/bin/env python3
        """Run the framepick batch job exported by the comparison app.

        Usage: python run_batch.py [more `framepick batch` options, e.g. --workers 2 --force]
        The strategy is in strategy.toml beside this script.
        """

        import sys
        from pathlib import Path

        from framepick.cli import main

        CONFIG = Path(__file__).resolve().parent / "strategy.toml"
        OUT = {str(out)!r}
        INPUTS = {inputs!r}

        if __name__ == "__main__":
            sys.exit(main(["batch", "--config", str(CONFIG), "--out", OUT, *INPUTS, *sys.argv[1:]]))
        ''')
