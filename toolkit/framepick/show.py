"""Static pictures of an analysis and its selections, for notebooks and written reports.

Display is layered, as in mediapy: arrays -> PNG bytes or an HTML string -> notebook display. Every
function but :func:`show_comparison` returns plain data (bytes, ``str``, a numpy array or a
matplotlib ``Figure``), so what a notebook shows can be tested as a string and saved to
``reports/`` without a live kernel:

- :class:`Timeline` (and :func:`timeline_png`): the content score over time in seconds, scene cuts
  as vertical lines, the frames of each selection as a row of ticks. It is one figure whose artists
  are updated in place, so the comparison app redraws it in a few milliseconds;
- :func:`strip_array` / :func:`strip_html`: the selected frames as thumbnails with their times,
  and :func:`frame_image` for one of them at a larger size;
- :func:`metrics_html`: the rows of :func:`framepick.metrics.compare`, the better value marked;
- :func:`comparison_html`: all of it in one self-contained HTML fragment.

matplotlib is imported only when a :class:`Timeline` is made (never by ``import framepick``).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import VideoError
from .metrics import BETTER, best_rows, compare, nearest
from .types import Analysis, Selection

__all__ = [
    "COLORS",
    "CUT_COLOR",
    "Timeline",
    "timeline_png",
    "shown_positions",
    "pick_thumbs",
    "frame_image",
    "format_time",
    "to_png",
    "png_data_url",
    "strip_array",
    "grid",
    "strip_html",
    "metrics_html",
    "comparison_html",
    "show_comparison",
]

COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")
"""Colour of selection A, B, ... in the timeline and the strip titles (matplotlib's tab10)."""

CUT_COLOR = "#d9534f"
"""Colour of the scene cuts in the timeline."""

TRANSITION_COLOR = "#f0ad4e"
"""Colour of the shaded gradual transitions (fades, dissolves) in the timeline."""

_LABELS = "ABCD"
_SCORE_COLOR = "#555555"
_METRIC_NAMES = {
    "scene_coverage": "scene coverage",
    "max_gap_s": "largest gap (s)",
    "mean_gap_s": "mean gap (s)",
    "redundancy": "redundancy",
    "representativeness": "representativeness",
}


# --------------------------------------------------------------------------- timeline


class Timeline:
    """One matplotlib figure of an analysis and up to four selections, updated in place.

    The top axes show the change score against time in seconds with every scene cut as a vertical
    line and every gradual transition (fade, dissolve) as a shaded span; the bottom axes show one
    row of ticks per selection (A on top). The figure is rendered once per analysis; the
    selection rows are drawn on a copy of that render (blitting), so :meth:`set_selections`
    followed by :meth:`png` costs the same whatever the video's length (no figure, axes or artist
    is rebuilt; timed in reports/widgets.md).

    Parameters
    ----------
    analysis : Analysis
        The analysed video.
    selections : sequence of Selection
        One to four selections of ``analysis``; their number is fixed for the figure's life.
    width_in, height_in : float
        Figure size in inches.
    dpi : int
        Pixels per inch of the rendered PNG.

    Attributes
    ----------
    figure : matplotlib.figure.Figure
        The figure (not registered with pyplot: no global state, no GUI window).
    """

    _LEFT_IN, _RIGHT_IN, _TOP_IN, _BOTTOM_IN = 1.45, 0.15, 0.3, 0.45  # fixed margins, inches

    def __init__(self, analysis: Analysis, selections: Sequence[Selection], *, width_in: float = 10.0,
                 height_in: float = 3.0, dpi: int = 100) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.collections import LineCollection, PolyCollection
        from matplotlib.figure import Figure

        if not 1 <= len(selections) <= len(_LABELS):
            raise ValueError(f"a timeline shows 1 to {len(_LABELS)} selections, got {len(selections)}")
        self.figure = Figure(figsize=(width_in, height_in), dpi=dpi)
        self.figure.subplots_adjust(left=self._LEFT_IN / width_in, right=1 - self._RIGHT_IN / width_in,
                                    top=1 - self._TOP_IN / height_in, bottom=self._BOTTOM_IN / height_in,
                                    hspace=0.08)
        self._canvas = FigureCanvasAgg(self.figure)
        self._background = None
        self._score_ax, self._ticks_ax = self.figure.subplots(
            2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 0.45 * len(selections) + 0.3]})
        self._score_line, = self._score_ax.plot([], [], color=_SCORE_COLOR, linewidth=0.8)
        self._cuts = [LineCollection([], colors=CUT_COLOR, linewidths=0.8,
                                     transform=ax.get_xaxis_transform()) for ax in self.figure.axes]
        self._transitions = [PolyCollection([], facecolors=TRANSITION_COLOR, edgecolors="none", alpha=0.35,
                                            transform=ax.get_xaxis_transform()) for ax in self.figure.axes]
        for ax, cuts, transitions in zip(self.figure.axes, self._cuts, self._transitions):
            ax.add_collection(transitions, autolim=False)
            ax.add_collection(cuts, autolim=False)
        self._rows = [LineCollection([], colors=COLORS[row], linewidths=1.0, animated=True)
                      for row in range(len(selections))]
        self._row_labels = [
            self._ticks_ax.text(-0.01, self._row_y(row), "", color=COLORS[row], ha="right", va="center",
                                transform=self._ticks_ax.get_yaxis_transform(), animated=True)
            for row in range(len(selections))
        ]
        for row in self._rows:
            self._ticks_ax.add_collection(row, autolim=False)
        self._style()
        self.set_analysis(analysis)
        self.set_selections(selections)

    def _row_y(self, row: int) -> float:
        """y of selection ``row``'s ticks (row 0, selection A, on top)."""
        return float(len(self._rows) - 1 - row)

    def _style(self) -> None:
        score_ax, ticks_ax = self._score_ax, self._ticks_ax
        score_ax.set_ylabel("change score")
        score_ax.grid(axis="y", alpha=0.3)
        score_ax.plot([], [], color=CUT_COLOR, linewidth=0.8, label="scene cut")
        score_ax.fill_between([], [], color=TRANSITION_COLOR, alpha=0.35, label="fade / dissolve")
        score_ax.legend(loc="upper right", fontsize="small", frameon=False)
        ticks_ax.set_ylim(-0.5, len(self._rows) - 0.5)
        ticks_ax.set_yticks([])
        ticks_ax.set_xlabel("time (s)")
        for spine in ("top", "right"):
            score_ax.spines[spine].set_visible(False)
            ticks_ax.spines[spine].set_visible(False)

    def set_analysis(self, analysis: Analysis) -> None:
        """Show ``analysis``: its score, its cuts, its transitions and its duration as the time axis."""
        times_s = analysis.times_of(analysis.score_indices)
        self._score_line.set_data(times_s, analysis.score)
        cuts_s = analysis.times_of(analysis.cuts)
        segments = np.zeros((len(cuts_s), 2, 2))
        segments[:, :, 0] = cuts_s[:, None]
        segments[:, 1, 1] = 1.0
        for cuts in self._cuts:
            cuts.set_segments(list(segments))
        spans_s = analysis.times_of(analysis.transitions)
        boxes = [[(start, 0.0), (end, 0.0), (end, 1.0), (start, 1.0)] for start, end in spans_s.tolist()]
        for transitions in self._transitions:
            transitions.set_verts(boxes)
        self._score_ax.set_xlim(0.0, analysis.info.duration_s)
        top = float(analysis.score.max()) if len(analysis.score) else 0.0
        self._score_ax.set_ylim(0.0, max(0.05, min(1.0, top * 1.1)))
        self._score_ax.set_title(f"{_file_name(analysis)}: {len(analysis.scenes)} scenes, "
                                 f"{format_time(analysis.info.duration_s)}", loc="left", fontsize="medium")
        self._background = None

    def set_selections(self, selections: Sequence[Selection]) -> None:
        """Show ``selections`` as rows of ticks (as many as the figure was made with)."""
        if len(selections) != len(self._rows):
            raise ValueError(f"this timeline shows {len(self._rows)} selections, got {len(selections)}")
        for number, selection in enumerate(selections):
            y = self._row_y(number)
            segments = np.empty((len(selection), 2, 2))
            segments[:, :, 0] = np.asarray(selection.times_s)[:, None]
            segments[:, 0, 1], segments[:, 1, 1] = y - 0.35, y + 0.35
            self._rows[number].set_segments(list(segments))
            count = f"{len(selection)} = {selection.moments} pairs" if selection.paired else str(len(selection))
            self._row_labels[number].set_text(f"{_LABELS[number]}: {selection.strategy} ({count})")

    def png(self) -> bytes:
        """Render the figure and return it as PNG bytes (RGB)."""
        if self._background is None:
            self._canvas.draw()  # everything but the animated rows and their labels
            self._background = self._canvas.copy_from_bbox(self.figure.bbox)
        self._canvas.restore_region(self._background)
        for artist in (*self._rows, *self._row_labels):
            self.figure.draw_artist(artist)
        return to_png(np.asarray(self._canvas.buffer_rgba())[..., :3])


def timeline_png(analysis: Analysis, *selections: Selection, width_in: float = 10.0,
                 height_in: float = 3.0, dpi: int = 100) -> bytes:
    """PNG bytes of a :class:`Timeline` of ``analysis`` with ``selections`` (1 to 4)."""
    return Timeline(analysis, selections, width_in=width_in, height_in=height_in, dpi=dpi).png()


# --------------------------------------------------------------------------- thumbnails


def shown_positions(count: int, max_frames: int | None) -> np.ndarray:
    """Positions (into a selection of ``count`` frames) of the frames a strip shows: all of them,
    or ``max_frames`` spread evenly from the first to the last.

    Examples
    --------
    >>> shown_positions(5, None)
    array([0, 1, 2, 3, 4])
    >>> shown_positions(768, 4)
    array([  0, 256, 511, 767])
    """
    if max_frames is None or count <= max_frames:
        return np.arange(count)
    return np.unique(np.round(np.linspace(0, count - 1, max_frames)).astype(np.int64))


def pick_thumbs(analysis: Analysis, indices: np.ndarray) -> np.ndarray:
    """The analysis thumbnail nearest in frame index to each of ``indices`` (the one the metrics
    use too): uint8 array, shape (n, h, w, 3)."""
    return analysis.thumbs[nearest(analysis.thumb_indices, np.asarray(indices))]


def frame_image(analysis: Analysis, index: int, *, size: int = 480) -> np.ndarray:
    """Frame ``index`` of the analysed video, decoded with its longer side ``size`` pixels (PyAV
    seeks to the keyframe before it), or its nearest thumbnail when the video file is gone.

    Returns
    -------
    uint8 array, shape (h, w, 3)
    """
    if not Path(analysis.info.path).is_file():
        return pick_thumbs(analysis, np.array([index]))[0]
    from .decode import read_frames

    frames = read_frames(analysis.info.path, np.array([index]), size=size, backend=analysis.decoder,
                         frame_times_s=analysis.frame_times_s,
                         keyframes=np.asarray(analysis.info.keyframes, dtype=np.int64))
    for _index, _time_s, frame in frames:
        return frame
    raise VideoError(analysis.info.path, f"frame {index} could not be decoded")


def format_time(time_s: float) -> str:
    """A timestamp as people read it: ``"12.34 s"`` under a minute, else ``"1:02:03.4"`` /
    ``"2:03.4"``.

    Examples
    --------
    >>> format_time(12.3456), format_time(123.46), format_time(3723.4)
    ('12.35 s', '2:03.5', '1:02:03.4')
    """
    if time_s < 60.0:
        return f"{time_s:.2f} s"
    tenths = round(time_s * 10)
    hours, rest = divmod(tenths, 36000)
    minutes, rest = divmod(rest, 600)
    clock = f"{minutes:d}:{rest // 10:02d}.{rest % 10:d}"
    return f"{hours:d}:{minutes:02d}:{rest // 10:02d}.{rest % 10:d}" if hours else clock


def to_png(image: np.ndarray, *, compress_level: int = 1) -> bytes:
    """PNG bytes of a uint8 image, shape (h, w), (h, w, 3) or (h, w, 4)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buffer, format="png", compress_level=compress_level)
    return buffer.getvalue()


def png_data_url(png: bytes) -> str:
    """``data:image/png;base64,...`` URL of PNG bytes, for ``<img src>`` or CSS."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def strip_array(analysis: Analysis, selection: Selection, *, max_frames: int | None = None,
                gap_px: int = 2) -> np.ndarray:
    """The selection's thumbnails side by side, in time order, on a white background.

    Parameters
    ----------
    max_frames : int, optional
        Show at most this many frames, spread evenly over the selection (see
        :func:`shown_positions`).
    gap_px : int
        White pixels between thumbnails.

    Returns
    -------
    uint8 array, shape (h, n * w + (n - 1) * gap_px, 3)
    """
    thumbs = pick_thumbs(analysis, selection.indices[shown_positions(len(selection), max_frames)])
    return grid(thumbs, columns=max(1, len(thumbs)), gap_px=gap_px)


def grid(images: Sequence[np.ndarray] | np.ndarray, *, columns: int = 8, gap_px: int = 2) -> np.ndarray:
    """Images of one size tiled row by row, ``columns`` to a row, on a white background (a
    contact sheet).

    Parameters
    ----------
    images : sequence of uint8 arrays, each of shape (h, w, 3)
        The images, all of the same shape.
    columns : int
        Images per row.
    gap_px : int
        White pixels between images.

    Returns
    -------
    uint8 array, shape (rows * h + (rows - 1) * gap_px, c * w + (c - 1) * gap_px, 3)
        With ``c = min(columns, len(images))`` and ``rows = ceil(len(images) / columns)``.
    """
    if len(images) == 0:
        return np.full((0, 0, 3), 255, np.uint8)
    height, width = images[0].shape[:2]
    if any(image.shape != images[0].shape for image in images):
        raise ValueError(f"grid() needs images of one shape, got {sorted({i.shape for i in images})}")
    across, down = min(columns, len(images)), -(-len(images) // columns)
    sheet = np.full((down * (height + gap_px) - gap_px, across * (width + gap_px) - gap_px, 3), 255, np.uint8)
    for number, image in enumerate(images):
        top, left = (number // columns) * (height + gap_px), (number % columns) * (width + gap_px)
        sheet[top : top + height, left : left + width] = image
    return sheet


def strip_html(analysis: Analysis, selection: Selection, *, label: str = "A", color: str = COLORS[0],
               max_frames: int | None = None, thumb_width_px: int = 96) -> str:
    """An HTML strip of the selection's thumbnails, each captioned with its time.

    Every thumbnail is an ``<img>`` with a PNG data URL and ``data-index`` (its frame index), so
    the fragment is self-contained. When ``max_frames`` hides frames, a note says how many.
    """
    positions = shown_positions(len(selection), max_frames)
    indices, times_s = selection.indices[positions], selection.times_s[positions]
    figures = [
        f'<figure class="fp-thumb" style="margin:0;text-align:center">'
        f'<img src="{png_data_url(to_png(thumb))}" data-index="{index}" width="{thumb_width_px}" '
        f'title="frame {index}" style="display:block">'
        f'<figcaption style="font-size:11px">{format_time(time_s)}</figcaption></figure>'
        for index, time_s, thumb in zip(indices, times_s, pick_thumbs(analysis, indices))
    ]
    shown = "" if len(positions) == len(selection) else f", {len(positions)} shown"
    title = (f'<div style="font-weight:bold;color:{color}">{html.escape(label)}: '
             f"{html.escape(selection.strategy)} ({selection.count_text()}{shown})</div>")
    return (f'<div class="fp-strip" data-label="{html.escape(label)}">{title}'
            f'<div style="display:flex;flex-wrap:wrap;gap:4px">{"".join(figures)}</div></div>')


# --------------------------------------------------------------------------- metrics


def metrics_html(rows: Sequence[dict[str, Any]], *, labels: Sequence[str] = _LABELS) -> str:
    """An HTML table of :func:`framepick.metrics.compare` rows, one column per selection.

    The better value of each metric (by :data:`framepick.metrics.BETTER`) is bold and marked with
    a star and the cell gets ``class="fp-best"``; nothing is marked where all selections tie.
    """
    head = "".join(f"<th>{html.escape(label)}: {html.escape(str(row['strategy']))}</th>"
                   for label, row in zip(labels, rows))
    counts = "".join(f"<td>{row['frames']}</td>" for row in rows)
    lines = [f"<tr><th>frames</th>{counts}</tr>"]
    for metric, better in BETTER.items():
        best = best_rows(rows, metric)
        cells = "".join(
            f'<td class="fp-best"><b>{row[metric]:.3f} &#9733;</b></td>' if number in best
            else f"<td>{row[metric]:.3f}</td>"
            for number, row in enumerate(rows)
        )
        name = _METRIC_NAMES.get(metric, metric)
        lines.append(f'<tr><th title="{better} is better">{html.escape(name)} '
                     f'({"&#8593;" if better == "higher" else "&#8595;"})</th>{cells}</tr>')
    return (f"<style>.fp-metrics th,.fp-metrics td{{padding:2px 12px;text-align:right}}"
            f".fp-metrics tr>th:first-child{{text-align:left}}</style>"
            f'<table class="fp-metrics" style="border-collapse:collapse">'
            f"<thead><tr><th>metric</th>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table>")


# --------------------------------------------------------------------------- the whole comparison


def comparison_html(analysis: Analysis, *selections: Selection, max_frames: int | None = 64) -> str:
    """A self-contained HTML fragment comparing ``selections`` (1 to 4) of ``analysis``: the
    timeline as a PNG, one thumbnail strip per selection and the metrics table."""
    timeline = png_data_url(timeline_png(analysis, *selections))
    strips = "".join(
        strip_html(analysis, selection, label=label, color=color, max_frames=max_frames)
        for label, color, selection in zip(_LABELS, COLORS, selections)
    )
    return (f'<div class="fp-comparison" style="font-family:sans-serif;font-size:13px">'
            f'<img class="fp-timeline" src="{timeline}" style="max-width:100%">'
            f"{strips}{metrics_html(compare(analysis, *selections))}</div>")


def show_comparison(analysis: Analysis, *selections: Selection, max_frames: int | None = 64) -> None:
    """Display :func:`comparison_html` in the notebook."""
    from IPython.display import HTML, display

    display(HTML(comparison_html(analysis, *selections, max_frames=max_frames)))


def _file_name(analysis: Analysis) -> str:
    return analysis.info.path.replace("\\", "/").rsplit("/", 1)[-1]
