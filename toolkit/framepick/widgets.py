"""The comparison app: two selection strategies side by side on one analysed video, and the export
of the chosen one as a batch job.

>>> app = compare_app("talk.mp4")        # doctest: +SKIP
>>> app                                  # doctest: +SKIP

The widgets only wire controls to plain library functions: :func:`framepick.analyze` (cached) when
the scene detector changes, :func:`framepick.select.select` and :func:`framepick.metrics.compare`
when anything else changes, :mod:`framepick.show` for the pictures and :func:`framepick.export.export_strategy`
for the Export button. Nothing is rebuilt on a change: the timeline is one matplotlib figure whose
artists are updated (:class:`framepick.show.Timeline`), and each thumbnail strip is a fixed row of
buttons whose pictures are set by a CSS rule. Everything the app shows is also an attribute (the
current ``analysis``, ``selection_a``/``selection_b``, ``rows``), and every control is a public
attribute, so it can be driven from code by setting ``.value`` and calling ``.click()``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import html
import inspect
import json
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import numpy as np

from . import show
from .analysis import analyze
from .config import DETECTORS, AnalysisConfig
from .errors import FramepickError
from .export import Export, export_strategy
from .metrics import compare, nearest
from .scenes import make_detector
from .select import STRATEGIES, select, strategy_defaults
from .types import Analysis, Selection

__all__ = ["CompareApp", "compare_app", "detector_threshold"]

BUDGET_PARAMS = ("frames", "fps", "min_frames", "max_frames")
"""Parameters set by the app's shared budget controls rather than per strategy."""

_FIXED_PARAMS = ("start_s", "end_s", "multiple_of", "max_gap_s", "pair_s", "tokens", "factor")  # left at defaults
_SLIDERS = {  # parameter -> (min, max, step) of its slider; other parameters get a text box
    "threshold": (0.01, 2.0, 0.01),
}
_FRAMES, _RULE = "frames", "fps rule"


# --------------------------------------------------------------------------- plain functions


def detector_threshold(detector: str) -> tuple[str, float]:
    """Name and default value of the threshold parameter of PySceneDetect detector ``detector``
    (``("adaptive_threshold", 3.0)`` for ``"adaptive"``, ``("threshold", 27.0)`` for
    ``"content"``, ...)."""
    signature = inspect.signature(type(make_detector(detector)))
    name = next(p for p in signature.parameters if p.endswith("threshold"))
    return name, float(signature.parameters[name].default)


# --------------------------------------------------------------------------- pieces of the app


def _labelled(kind: type[widgets.DOMWidget], description: str, *, width: str = "230px", **options: Any):
    """A ``kind`` widget with a 90 px label and a fixed width, so the columns line up."""
    return kind(description=description, style={"description_width": "90px"},
                layout=widgets.Layout(width=width), **options)


def _heading(text: str) -> widgets.HTML:
    return widgets.HTML(f"<b>{html.escape(text)}</b>")


def _param_widget(name: str, value: Any) -> widgets.ValueWidget:
    if name in _SLIDERS:
        low, high, step = _SLIDERS[name]
        return _labelled(widgets.FloatSlider, name, width="300px", value=value, min=low, max=high, step=step,
                         continuous_update=False, readout_format=".2f")
    return _labelled(widgets.IntText if isinstance(value, int) else widgets.FloatText, name, value=value)


class _StrategyPanel:
    """A strategy dropdown and the controls of that strategy's own parameters."""

    def __init__(self, label: str, strategy: str, on_change: Callable[[], None]) -> None:
        self._on_change = on_change
        self.dropdown = _labelled(widgets.Dropdown, "strategy", width="300px", options=STRATEGIES, value=strategy)
        self.params: dict[str, widgets.ValueWidget] = {}
        self._box = widgets.VBox()
        self.box = widgets.VBox([_heading(f"strategy {label}"), self.dropdown, self._box])
        self._build()
        self.dropdown.observe(self._strategy_changed, "value")

    def _build(self) -> None:
        defaults = strategy_defaults(self.dropdown.value)
        skipped = (*BUDGET_PARAMS, *_FIXED_PARAMS)
        self.params = {name: _param_widget(name, value) for name, value in defaults.items()
                       if name not in skipped}
        for control in self.params.values():
            control.observe(lambda _change: self._on_change(), "value")
        self._box.children = tuple(self.params.values())

    def _strategy_changed(self, _change: Any) -> None:
        self._build()
        self._on_change()

    def values(self) -> dict[str, Any]:
        return {name: control.value for name, control in self.params.items()}


class _ThumbStrip:
    """A fixed row of buttons showing a selection's thumbnails, each captioned with its time.

    A button's picture is a CSS background set by a rule in ``style`` (a button cannot hold an
    image); clicking a button calls ``on_pick(frame_index)``.
    """

    def __init__(self, label: str, color: str, slots: int, app_id: str, on_pick: Callable[[int], None],
                 thumb_wh: tuple[int, int]) -> None:
        self._label, self._color, self._app_id = label, color, app_id
        self.indices = np.empty(0, dtype=np.int64)
        self.title = widgets.HTML()
        self.style = widgets.HTML()
        width, height = thumb_wh
        self.buttons = [widgets.Button(layout=widgets.Layout(width=f"{width}px", height=f"{height + 18}px",
                                                             padding=f"{height}px 0 0 0", margin="1px"))
                        for _ in range(slots)]
        for slot, button in enumerate(self.buttons):
            button.add_class("fp-thumb")
            button.add_class(f"fp-{app_id}")
            button.add_class(self._css_class(slot))
            button.on_click(lambda _button, slot=slot: on_pick(int(self.indices[slot])))
        row = widgets.Box(self.buttons, layout=widgets.Layout(flex_flow="row wrap"))
        self.box = widgets.VBox([self.title, row, self.style])
        self.box.add_class(f"fp-strip-{label.lower()}")
        self._thumb_wh = thumb_wh

    def _css_class(self, slot: int) -> str:
        return f"fp-{self._app_id}-{self._label.lower()}-{slot}"

    def show(self, selection: Selection, urls: list[str]) -> None:
        """Show ``selection``, whose shown frames have thumbnails at the data URLs ``urls``."""
        positions = show.shown_positions(len(selection), len(self.buttons))
        self.indices = selection.indices[positions]
        width, height = self._thumb_wh
        rules = [f".fp-{self._app_id}.fp-thumb{{background-size:{width}px {height}px!important;"
                 f"background-repeat:no-repeat!important;background-position:top center!important;"
                 f"font-size:11px!important}}"]
        for slot, button in enumerate(self.buttons):
            if slot < len(positions):
                time_s = float(selection.times_s[positions[slot]])
                button.description = show.format_time(time_s)
                button.tooltip = f"frame {self.indices[slot]} at {show.format_time(time_s)}: click to enlarge"
                button.layout.display = None
                rules.append(f".{self._css_class(slot)}{{background-image:url({urls[slot]})!important}}")
            else:
                button.layout.display = "none"
        self.style.value = f"<style>{''.join(rules)}</style>"
        shown = "" if len(positions) == len(selection) else f", {len(positions)} shown"
        self.title.value = (f'<b style="color:{self._color}">{self._label}: {html.escape(selection.strategy)} '
                            f"({len(selection)} frames{shown})</b>")


# --------------------------------------------------------------------------- the app


class CompareApp(widgets.VBox):
    """The comparison app (see :func:`compare_app`); every control is a public attribute.

    Attributes
    ----------
    analysis : Analysis
        The analysis shown (replaced when the detector or its threshold changes).
    selection_a, selection_b : Selection
        The selections shown; ``rows`` their :func:`framepick.metrics.compare` rows.
    strategy_a, strategy_b : ipywidgets.Dropdown
        The strategies; ``panel_a.params`` / ``panel_b.params`` map each of their own parameters
        to its control.
    budget_mode : ipywidgets.ToggleButtons
        ``"frames"`` (the ``frames`` control) or ``"fps rule"`` (``fps``, ``min_frames``,
        ``max_frames``, as qwen-vl-utils counts frames); the budget is shared by A and B.
    detector, threshold : ipywidgets.Dropdown, ipywidgets.FloatText
        The scene detector and its threshold parameter (see :func:`detector_threshold`).
    plot : framepick.show.Timeline
        The one timeline figure, shown as PNG in ``timeline``.
    strip_a, strip_b
        The thumbnail strips: ``buttons`` (click one to enlarge it into ``zoom``, captioned by
        ``zoom_caption``) and ``indices`` (the frames they show).
    metrics : ipywidgets.HTML
        The metrics table (:func:`framepick.show.metrics_html`).
    export_which, export_folder, export_inputs, export_out, export_button
        Which strategy to export, where, for which videos and to which output folder; clicking
        ``export_button`` calls :func:`export_strategy`, puts the result in ``exported`` and the
        command to run in ``export_result``.
    status : ipywidgets.HTML
        Empty, or the last error (an invalid budget, a video that cannot be analysed).
    """

    def __init__(self, analysis: Analysis, *, a: str = "uniform", b: str = "adaptive",
                 frames: int | None = 16, fps: float = 2.0, min_frames: int = 4, max_frames: int = 768,
                 max_thumbs: int = 48, progress: bool = True) -> None:
        self.analysis = analysis
        self._base_config = analysis.config
        self._progress = progress
        self._muted = False
        self._urls: dict[int, str] = {}  # thumbnail position -> PNG data URL
        self._rows: dict[tuple[str, str], dict[str, Any]] = {}  # (strategy, params) -> metrics row
        self.selection_a: Selection | None = None
        self.selection_b: Selection | None = None
        self.rows: list[dict[str, Any]] = []

        self.status = widgets.HTML()
        self.progress = widgets.Output()
        self.panel_a = _StrategyPanel("A", a, self.refresh)
        self.panel_b = _StrategyPanel("B", b, self.refresh)
        self.strategy_a, self.strategy_b = self.panel_a.dropdown, self.panel_b.dropdown
        self._build_budget(frames, fps, min_frames, max_frames)
        self._build_detector()
        self.plot: show.Timeline | None = None
        self.timeline = widgets.Image(format="png", layout=widgets.Layout(width="100%", max_width="1000px"))
        self.timeline.add_class("fp-timeline")
        app_id = uuid.uuid4().hex[:8]
        thumb_wh = (96, max(1, round(96 * analysis.thumbs.shape[1] / max(1, analysis.thumbs.shape[2]))))
        self.strip_a = _ThumbStrip("A", show.COLORS[0], max_thumbs, app_id, self.enlarge, thumb_wh)
        self.strip_b = _ThumbStrip("B", show.COLORS[1], max_thumbs, app_id, self.enlarge, thumb_wh)
        self.zoom = widgets.Image(format="png", layout=widgets.Layout(max_width="480px", display="none"))
        self.zoom_caption = widgets.HTML("<i>click a thumbnail to enlarge it</i>")
        self.zoom_caption.add_class("fp-zoom-caption")
        self.metrics = widgets.HTML()
        self._build_export()

        controls = widgets.Box([self.panel_a.box, self.panel_b.box, self._budget_box, self._detector_box],
                               layout=widgets.Layout(flex_flow="row wrap", justify_content="space-between"))
        zoom = widgets.VBox([self.zoom_caption, self.zoom], layout=widgets.Layout(margin="0 0 0 24px"))
        results = widgets.HBox([self.metrics, zoom])
        super().__init__([self.status, self.progress, controls, self.timeline, self.strip_a.box,
                          self.strip_b.box, results, self._export_box])
        self.add_class("fp-compare-app")
        self._show_analysis()

    # ---- controls

    def _build_budget(self, frames: int | None, fps: float, min_frames: int, max_frames: int) -> None:
        total = self.analysis.info.frames
        self.budget_mode = widgets.ToggleButtons(options=[_FRAMES, _RULE], value=_FRAMES if frames else _RULE,
                                                 style={"button_width": "80px"})
        self.frames = _labelled(widgets.BoundedIntText, "frames", value=min(frames or 16, total), min=1, max=total)
        self.fps = _labelled(widgets.BoundedFloatText, "fps", value=fps, min=0.01, max=1000.0, step=0.5)
        self.min_frames = _labelled(widgets.BoundedIntText, "min frames", value=min_frames, min=1, max=100_000)
        self.max_frames = _labelled(widgets.BoundedIntText, "max frames", value=max_frames, min=1, max=100_000)
        for control in (self.budget_mode, self.frames, self.fps, self.min_frames, self.max_frames):
            control.observe(lambda _change: self.refresh(), "value")
        self.frames.add_class("fp-frames")
        self._budget_box = widgets.VBox([_heading("frame budget (both)"), self.budget_mode, self.frames, self.fps,
                                         self.min_frames, self.max_frames])

    def _build_detector(self) -> None:
        config = self.analysis.config
        name, default = detector_threshold(config.detector)
        self.detector = _labelled(widgets.Dropdown, "detector", options=DETECTORS, value=config.detector)
        self.threshold = _labelled(widgets.FloatText, "threshold",
                                   value=float(config.detector_params.get(name, default)))
        self.detector.observe(self._detector_changed, "value")
        self.threshold.observe(lambda _change: self.reanalyse(), "value")
        self._detector_box = widgets.VBox([_heading("scene detection"), self.detector, self.threshold])

    def _build_export(self) -> None:
        video = Path(self.analysis.info.path)
        self.export_which = widgets.ToggleButtons(options=["A", "B"], value="B", style={"button_width": "60px"},
                                                  tooltips=["export strategy A", "export strategy B"])
        self.export_folder = _labelled(widgets.Text, "job folder", width="640px",
                                       value=str(Path.cwd() / "framepick_job"))
        self.export_inputs = _labelled(widgets.Text, "videos", width="640px", value=str(video.parent))
        self.export_out = _labelled(widgets.Text, "output", width="640px", value="",
                                    placeholder="default: job folder/frames")
        self.export_button = widgets.Button(description="Export", button_style="primary")
        self.export_button.on_click(lambda _button: self.export())
        self.export_result = widgets.HTML()
        self.exported: Export | None = None
        self._export_box = widgets.VBox([
            _heading("export the chosen strategy as a batch job"),
            widgets.HBox([widgets.HTML("strategy", layout=widgets.Layout(width="90px")), self.export_which,
                          self.export_button]),
            self.export_folder, self.export_inputs, self.export_out, self.export_result,
        ])

    @contextlib.contextmanager
    def _quiet(self) -> Iterator[None]:
        """Set controls without triggering the updates their observers run."""
        self._muted = True
        try:
            yield
        finally:
            self._muted = False

    def _detector_changed(self, change: Any) -> None:
        with self._quiet():
            self.threshold.value = detector_threshold(change.new)[1]
        self.reanalyse()

    # ---- actions

    def budget(self, strategy: str) -> dict[str, Any]:
        """The budget parameters of the controls that ``strategy`` takes."""
        if self.budget_mode.value == _FRAMES:
            wanted = {"frames": self.frames.value} if "frames" in strategy_defaults(strategy) \
                else {"max_frames": self.frames.value}
        else:
            wanted = {"frames": None, "fps": self.fps.value, "min_frames": self.min_frames.value,
                      "max_frames": self.max_frames.value}
        defaults = strategy_defaults(strategy)
        return {name: value for name, value in wanted.items() if name in defaults}

    def params(self, label: str) -> dict[str, Any]:
        """Parameters the controls give strategy ``label`` (``"A"`` or ``"B"``)."""
        panel = self.panel_a if label == "A" else self.panel_b
        return {**self.budget(panel.dropdown.value), **panel.values()}

    def refresh(self) -> None:
        """Select with both strategies and redraw the timeline, the strips and the metrics."""
        if self._muted:
            return
        fixed = self.budget_mode.value == _FRAMES
        self.frames.disabled = not fixed
        for control in (self.fps, self.min_frames, self.max_frames):
            control.disabled = fixed
        try:
            a = select(self.analysis, self.strategy_a.value, **self.params("A"))
            b = select(self.analysis, self.strategy_b.value, **self.params("B"))
        except FramepickError as error:
            self.status.value = f'<span style="color:#c0392b">{html.escape(str(error))}</span>'
            return
        self.status.value = ""
        self.selection_a, self.selection_b = a, b
        if self.plot is None:
            self.plot = show.Timeline(self.analysis, [a, b])
        else:
            self.plot.set_selections([a, b])
        self.timeline.value = self.plot.png()
        self.strip_a.show(a, self._thumb_urls(self.strip_a, a))
        self.strip_b.show(b, self._thumb_urls(self.strip_b, b))
        self.rows = [self._metrics_row(a), self._metrics_row(b)]
        self.metrics.value = show.metrics_html(self.rows)

    def _metrics_row(self, selection: Selection) -> dict[str, Any]:
        """``compare()``'s row for ``selection``, computed once per strategy and parameters (a change
        to one strategy leaves the other's row as it was)."""
        key = (selection.strategy, json.dumps(selection.params, sort_keys=True))
        if key not in self._rows:
            self._rows[key] = compare(self.analysis, selection)[0]
        return self._rows[key]

    def _thumb_urls(self, strip: _ThumbStrip, selection: Selection) -> list[str]:
        """Data URLs of the thumbnails ``strip`` will show for ``selection`` (cached per thumbnail)."""
        shown = selection.indices[show.shown_positions(len(selection), len(strip.buttons))]
        urls = []
        for position in nearest(self.analysis.thumb_indices, shown).tolist():
            if position not in self._urls:
                self._urls[position] = show.png_data_url(show.to_png(self.analysis.thumbs[position]))
            urls.append(self._urls[position])
        return urls

    def reanalyse(self) -> None:
        """Analyse the video again (cached) with the detector and threshold of the controls."""
        if self._muted:
            return
        name, _default = detector_threshold(self.detector.value)
        params = dict(self._base_config.detector_params) if self.detector.value == self._base_config.detector else {}
        params[name] = self.threshold.value
        config = dataclasses.replace(self.analysis.config, detector=self.detector.value, detector_params=params)
        self.status.value = "<i>analysing...</i>"
        self.progress.clear_output()
        try:
            with self.progress:
                analysis = analyze(self.analysis.info.path, config, progress=self._progress)
        except FramepickError as error:
            self.status.value = f'<span style="color:#c0392b">{html.escape(str(error))}</span>'
            return
        self.progress.clear_output()
        self.analysis = analysis
        self._show_analysis()

    def _show_analysis(self) -> None:
        self._urls, self._rows = {}, {}
        if self.plot is not None:
            self.plot.set_analysis(self.analysis)
        self.refresh()

    def enlarge(self, index: int) -> None:
        """Show frame ``index`` larger, with its time and scene."""
        image = show.frame_image(self.analysis, index)
        self.zoom.value = show.to_png(image)
        self.zoom.layout.display = None
        time_s = float(self.analysis.times_of(np.array([index]))[0])
        scene = int(self.analysis.scene_of(np.array([index]))[0])
        self.zoom_caption.value = (f"frame {index} at {show.format_time(time_s)} "
                                   f"(scene {scene + 1} of {len(self.analysis.scenes)})")

    def export(self) -> Export | None:
        """Export the strategy of the selection chosen by ``export_which`` (what the button does)."""
        selection = self.selection_a if self.export_which.value == "A" else self.selection_b
        if selection is None:
            self.export_result.value = '<span style="color:#c0392b">nothing selected to export</span>'
            return None
        try:
            exported = export_strategy(selection, self.export_folder.value, inputs=[self.export_inputs.value],
                                       out=self.export_out.value or None, analysis_config=self.analysis.config)
        except (FramepickError, OSError) as error:
            self.export_result.value = f'<span style="color:#c0392b">{html.escape(str(error))}</span>'
            return None
        self.exported = exported
        self.export_result.value = (
            f"wrote <code>{html.escape(str(exported.config))}</code> and "
            f"<code>{html.escape(str(exported.script))}</code>; run:<br>"
            f"<pre>{html.escape(exported.command)}</pre>or<pre>{html.escape(exported.cli_command)}</pre>"
        )
        return exported


def compare_app(video_or_analysis: str | os.PathLike | Analysis, *, config: AnalysisConfig | None = None,
                progress: bool = True, **options: Any) -> CompareApp:
    """The comparison app for a video (analysed first, from the cache when it can) or an analysis.

    Parameters
    ----------
    video_or_analysis : str, os.PathLike or Analysis
        The video, or its analysis.
    config : AnalysisConfig, optional
        Analysis settings for a video (default settings if omitted).
    progress : bool
        Show a progress bar while the video is analysed.
    **options
        ``a`` and ``b`` (the strategies, default ``"uniform"`` and ``"adaptive"``), ``frames``
        (the budget, default 16; None for Qwen's rule with ``fps``, ``min_frames`` and
        ``max_frames``), ``max_thumbs`` (thumbnails per strip, default 48).

    Returns
    -------
    CompareApp
        An ``ipywidgets.VBox``: display it (the last expression of a cell).
    """
    if isinstance(video_or_analysis, Analysis):
        analysis = video_or_analysis
    else:
        analysis = analyze(video_or_analysis, config, progress=progress)
    return CompareApp(analysis, progress=progress, **options)
