"""The screen genres of ``genre_videos.py``, their text drawn with Pillow: a recorded lecture
(slides revealed state by state, a live speaker inset of real footage, a wandering pointer) and
a screen recording (an editor, a terminal and a document: scrolling, typing, window switches).
Each genre is a planner ``(rng, footage, frames) -> Plan``; units as in ``genre_drawing.py``."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from genre_drawing import (
    FPS,
    HEIGHT,
    WIDTH,
    WORDS,
    Footage,
    Join,
    Plan,
    Span,
    blend,
    fit_timeline,
    font,
    framed,
    pil_array,
    pointer_path,
    pointer_sprite,
    random_framing,
    words,
)

# --------------------------------------------------------------------------- lecture

THEMES = ((31, 78, 145), (140, 30, 45), (20, 110, 90), (90, 60, 140))
INSET_SIZE, INSET_XY = (176, 99), (WIDTH - 188, HEIGHT - 111)
SLIDE_DISSOLVE = 12  # frames: 0.48 s


def _fitted(text: str, size: int, width: int) -> str:
    """``text`` without its last words until it fits ``width`` px at ``size`` px."""
    while font(size).getlength(text) > width and " " in text:
        text = text.rsplit(" ", 1)[0]
    return text


def _slide_pictures(rng: np.random.Generator, kind: str, reveals: int, number: int, theme: tuple[int, int, int],
                    course: str) -> list[np.ndarray]:
    """The pictures of one slide's states: ``kind`` "title", "bullets" or "bars", its last
    ``reveals - 1`` bullets or bars appearing one state after another."""
    title = course if kind == "title" else _fitted(words(rng, 2, 5), 22, 560)
    items = [_fitted(words(rng, 3, 6), 19, 570) for _ in range(min(5, reveals + int(rng.integers(0, 3))))]
    bars = rng.uniform(0.15, 1.0, len(items))
    subtitle = words(rng, 3, 5)
    pictures = []
    for reveal in range(reveals):
        shown = len(items) - reveals + 1 + reveal
        image = Image.new("RGB", (WIDTH, HEIGHT), (250, 250, 246))
        draw = ImageDraw.Draw(image)
        if kind == "title":
            draw.text((40, 120), title, font=font(26, bold=True), fill=theme)
            draw.text((40, 170), subtitle, font=font(18), fill=(90, 90, 90))
        else:
            draw.rectangle((0, 0, WIDTH, 50), fill=theme)
            draw.text((20, 25), title, font=font(22, bold=True), fill=(255, 255, 255), anchor="lm")
        if kind == "bullets":
            for row, item in enumerate(items[:shown]):
                draw.text((28, 80 + 34 * row), "\u2022  " + item, font=font(19), fill=(40, 40, 40))
        elif kind == "bars":
            draw.line((50, 90, 50, 300, 420, 300), fill=(80, 80, 80), width=2)
            for row, height in enumerate(bars[:shown]):
                draw.rectangle((66 + 64 * row, 300 - 200 * height, 106 + 64 * row, 299), fill=theme)
        draw.line((20, 332, 430, 332), fill=(200, 200, 200))
        draw.text((20, 346), f"{course}   \u00b7   {number}", font=font(11), fill=(120, 120, 120), anchor="lm")
        x, y = INSET_XY
        draw.rectangle((x - 2, y - 2, x + INSET_SIZE[0] + 1, y + INSET_SIZE[1] + 1), fill=(60, 60, 60))
        pictures.append(pil_array(image))
    return pictures


def lecture(rng: np.random.Generator, footage: Footage, frames: int) -> Plan:
    """A recorded lecture: slide states of 8-26 s, a speaker inset, a pointer (module docstring)."""
    theme = THEMES[int(rng.integers(len(THEMES)))]
    course = f"Lecture {int(rng.integers(2, 15))}: {words(rng, 2, 3)}"
    slides: list[list[np.ndarray]] = []
    offsets: list[np.ndarray] = []
    lengths: list[int] = []
    joins: list[Join] = []
    while sum(lengths) < frames + 60 * FPS:
        kind = "title" if not slides else "bars" if rng.random() < 0.2 else "bullets"
        reveals = 1 if kind == "title" else int(rng.integers(1, 5 if kind == "bullets" else 3))
        slides.append(_slide_pictures(rng, kind, reveals, len(slides) + 1, theme, course))
        durations = (rng.uniform(8, 26, reveals) * FPS).astype(np.int64)
        offsets.append(np.concatenate(([0], np.cumsum(durations)[:-1])))
        lengths.append(int(durations.sum()))
        joins.append(Join("dissolve", (SLIDE_DISSOLVE,)) if rng.random() < 0.4 else Join("cut"))
    timeline = fit_timeline(lengths, joins, frames)
    states = []
    for k, (low, high) in enumerate(timeline.cores):
        edges = [*(timeline.starts[k] + offsets[k]).tolist(), int(timeline.starts[k] + timeline.lengths[k])]
        states += [(max(a, low), min(b, high)) for a, b in zip(edges, edges[1:]) if min(b, high) > max(a, low)]
    long_shots = [k for k, (_, start, end) in enumerate(footage.shots) if end - start >= 60]
    speaker = random_framing(rng, footage, among=long_shots, zoom=(1.5, 2.2), pan=0.0)
    _, start, end = footage.shots[speaker.shot]
    inset = [framed(footage, speaker, step, 1, INSET_SIZE) for step in range(2 * (end - start) - 2)]
    path = pointer_path(rng, frames)
    arrow, alpha = pointer_sprite()

    def slide(k: int, step: int) -> np.ndarray:
        return slides[k][int(np.searchsorted(offsets[k], step, side="right")) - 1]

    def picture(index: int) -> np.ndarray:
        frame = timeline.picture(index, slide).copy()
        x, y = INSET_XY
        frame[y:y + INSET_SIZE[1], x:x + INSET_SIZE[0]] = inset[index % len(inset)]
        blend(frame, arrow, alpha, *path[index])
        return frame

    return Plan(picture, states=states, cuts=timeline.cuts, transitions=timeline.transitions)


# --------------------------------------------------------------------------- screen recording

CHROME = 26  # px of window title bar
LINE_PX = {"editor": 18, "terminal": 17, "browser": 20}
ACTIONS = {"editor": ("scroll", "scroll", "type"), "terminal": ("type",), "browser": ("scroll",)}


def _name(rng: np.random.Generator) -> str:
    """An identifier of one or two :data:`WORDS`."""
    return "_".join(rng.choice(WORDS, int(rng.integers(1, 3))))


def _code_line(rng: np.random.Generator, indent: int) -> str:
    """One line of Python-like code, indented by ``indent`` spaces."""
    forms = (lambda: f"{_name(rng)} = {_name(rng)}({_name(rng)}, {int(rng.integers(1, 100))})",
             lambda: f"{_name(rng)}.{_name(rng)}({_name(rng)})", lambda: f"if {_name(rng)} > {rng.uniform():.2f}:",
             lambda: f"return {_name(rng)}", lambda: f"# {words(rng, 3, 7).lower()}")
    return " " * indent + forms[int(rng.integers(len(forms)))]()


def _code_lines(rng: np.random.Generator, count: int) -> list[str]:
    """``count`` lines of a Python-like file: functions of 3-9 lines."""
    lines: list[str] = []
    while len(lines) < count:
        lines += ["", f"def {_name(rng)}({_name(rng)}, {_name(rng)}):"]
        lines += [_code_line(rng, 4) for _ in range(int(rng.integers(3, 10)))]
    return lines[:count]


def _command(rng: np.random.Generator) -> str:
    """A shell command typed at the prompt."""
    return str(rng.choice(["python train.py --epochs", "pytest -q tests/test_", "git log --oneline -n",
                           "du -sh data/", "ls -la runs/"])) + str(int(rng.integers(1, 9)))


def _output(rng: np.random.Generator) -> list[str]:
    """2-6 lines of a command's output."""
    count = int(rng.integers(2, 7))
    return [f"{_name(rng)}  {rng.uniform(0, 1):.3f}  {words(rng, 1, 3).lower()}" for _ in range(count)]


def _doc_lines(rng: np.random.Generator, count: int) -> list[str]:
    """``count`` lines of a document: headings (``# ``) over paragraphs of 3-7 lines."""
    lines: list[str] = []
    while len(lines) < count:
        lines += ["# " + words(rng, 2, 4), *(words(rng, 7, 10) for _ in range(int(rng.integers(3, 8)))), ""]
    return lines[:count]


@dataclass
class _Window:
    """One window of the screen recording while it is planned."""

    name: str
    lines: list[str]
    offset: int = 0  # px scrolled
    cursor: int = -1  # line of the text cursor, -1: none
    snapshot: int = -1  # its content: an index into the plan's snapshots

    def bottom(self) -> int:
        """Largest scroll offset in px."""
        return max(0, len(self.lines) * LINE_PX[self.name] - (HEIGHT - CHROME))


class _ScreenPlan:
    """Plans a screen recording frame by frame: ``view`` holds, per frame, the snapshot of the
    window shown, its scroll offset (px), the characters typed so far on the snapshot's typed line
    (-1: the whole line) and the cursor's line; states, events and cuts are collected on the way."""

    def __init__(self, rng: np.random.Generator, frames: int) -> None:
        self.rng, self.frames, self.index = rng, frames, 0
        terminal = [line for _ in range(6) for line in (f"$ {_command(rng)}", *_output(rng))] + ["$ "]
        self.windows = {"editor": _Window("editor", _code_lines(rng, 160), cursor=6),
                        "terminal": _Window("terminal", terminal, cursor=len(terminal) - 1),
                        "browser": _Window("browser", _doc_lines(rng, 150))}
        self.windows["terminal"].offset = self.windows["terminal"].bottom()
        self.snapshots: list[tuple[str, tuple[str, ...], int, int]] = []  # window, lines, typed line, its indent
        self.view = np.zeros((frames, 4), np.int64)
        self.states: list[Span] = []
        self.events: list[Span] = []
        self.cuts: list[int] = []
        self._state_start = 0
        for window in self.windows.values():
            self._save(window)

    def run(self) -> None:
        """Visits of 12-40 s to windows in turn, each idling, scrolling and typing."""
        current = ""
        while self.index < self.frames:
            current = str(self.rng.choice([name for name in self.windows if name != current]))
            if self.index:
                self._close()
                self.cuts.append(self.index)
            window, leave = self.windows[current], self.index + int(self.rng.uniform(12, 40) * FPS)
            while self.index < min(leave, self.frames):
                self._hold(window, int(self.rng.uniform(1.5, 6) * FPS))
                if self.rng.choice(ACTIONS[current]) == "scroll":
                    self._scroll(window)
                else:
                    self._type(window)
        self._close()

    def _save(self, window: _Window, typed: int = -1, indent: int = 0) -> None:
        self.snapshots.append((window.name, tuple(window.lines), typed, indent))
        window.snapshot = len(self.snapshots) - 1

    def _hold(self, window: _Window, count: int, chars: int = -1) -> None:
        end = min(self.frames, self.index + count)
        self.view[self.index:end] = (window.snapshot, window.offset, chars, window.cursor)
        self.index = end

    def _close(self) -> None:
        """End the current state here."""
        if self.index > self._state_start:
            self.states.append((self._state_start, self.index))
        self._state_start = self.index

    def _scroll(self, window: _Window) -> None:
        """Scroll by 80-600 px over 0.6-1.8 s: a state ends where it starts, the next at its end."""
        start = window.offset
        target = int(np.clip(start + self.rng.choice([-1, 1]) * self.rng.uniform(80, 600), 0, window.bottom()))
        if abs(target - start) < 24:
            return
        self._close()
        count = int(self.rng.uniform(0.6, 1.8) * FPS)
        for step in range(count):
            t = (step + 1) / count
            window.offset = round(start + (target - start) * (3 * t**2 - 2 * t**3))
            self._hold(window, 1)
        self._state_start = self.index

    def _type(self, window: _Window) -> None:
        """Type a line at 7-13 characters a second: a new code line in view (editor), or a command
        at the prompt followed by its output (terminal). One event."""
        begin, rate = self.index, self.rng.uniform(7, 13)
        if window.name == "editor":
            rows = (HEIGHT - CHROME) // LINE_PX["editor"]
            above = min(window.offset // LINE_PX["editor"] + int(self.rng.integers(2, rows - 3)), len(window.lines) - 1)
            code = window.lines[above]
            indent = len(code) - len(code.lstrip()) + 4 * code.endswith(":")
            line, text = above + 1, _code_line(self.rng, indent)
            window.lines.insert(line, text)
        else:
            line, indent, text = len(window.lines) - 1, 2, "$ " + _command(self.rng)
            window.lines[line] = text
        window.cursor = line
        self._save(window, line, indent)
        count = math.ceil((len(text) - indent) * FPS / rate)
        for step in range(count):
            self._hold(window, 1, chars=min(len(text) - indent, int((step + 1) * rate / FPS)))
        if window.name == "terminal":
            window.lines += [*_output(self.rng), "$ "]
            window.offset, window.cursor = window.bottom(), len(window.lines) - 1
        self._save(window)
        self._hold(window, 1)
        if self.index > begin:
            self.events.append((begin, self.index))


class _ScreenPainter:
    """Paints the frames of a :class:`_ScreenPlan`, re-rendering a view only when it changes."""

    BACKGROUND = {"editor": (30, 32, 38), "terminal": (12, 12, 12), "browser": (255, 255, 255)}

    def __init__(self, plan: _ScreenPlan, rng: np.random.Generator) -> None:
        self.plan = plan
        self.chrome = {name: self._chrome(name, title) for name, title in
                       (("editor", f"{_name(rng)}.py - Code"), ("terminal", "bash - 80x24"),
                        ("browser", f"docs.example.org/{_name(rng)}"))}
        self.path = pointer_path(rng, plan.frames)
        self.arrow, self.alpha = pointer_sprite()
        self._key: tuple[int, ...] = ()
        self._image = np.zeros((HEIGHT, WIDTH, 3), np.uint8)

    @staticmethod
    def _chrome(name: str, title: str) -> Image.Image:
        colour, ink = ((222, 222, 222), (40, 40, 40)) if name == "browser" else ((52, 54, 62), (220, 220, 220))
        image = Image.new("RGB", (WIDTH, CHROME), colour)
        draw = ImageDraw.Draw(image)
        if name == "browser":
            draw.rounded_rectangle((70, 4, 560, CHROME - 5), radius=8, fill=(255, 255, 255))
        draw.text((80 if name == "browser" else 12, CHROME // 2), title, font=font(12), fill=ink, anchor="lm")
        for k, dot in enumerate(((237, 106, 94), (245, 191, 79), (98, 197, 84))):
            draw.ellipse((WIDTH - 60 + 16 * k, 8, WIDTH - 50 + 16 * k, 18), fill=dot)
        return image

    @staticmethod
    def _ink(name: str, text: str) -> tuple[tuple[int, int, int], int, bool]:
        """Colour, size and monospace of a line of window ``name``."""
        if name == "browser":
            return ((20, 20, 20), 18, False) if text.startswith("# ") else ((70, 70, 70), 14, False)
        if name == "terminal":
            return ((120, 220, 120) if text.startswith("$") else (200, 200, 200)), 13, True
        stripped = text.strip()
        colour = ((198, 120, 221) if stripped.startswith("def") else (106, 153, 85) if stripped.startswith("#")
                  else (86, 156, 214) if stripped.startswith(("return", "if")) else (212, 212, 212))
        return colour, 13, True

    def _render(self, snapshot: int, offset: int, chars: int, cursor: int) -> np.ndarray:
        name, lines, typed, indent = self.plan.snapshots[snapshot]
        step, left = LINE_PX[name], 44 if name == "editor" else 10
        image = Image.new("RGB", (WIDTH, HEIGHT), self.BACKGROUND[name])
        draw = ImageDraw.Draw(image)
        first = offset // step
        for row in range(first, min(len(lines), first + (HEIGHT - CHROME) // step + 2)):
            y = CHROME + row * step - offset
            text = lines[row][:indent + chars] if row == typed and chars >= 0 else lines[row]
            colour, size, mono = self._ink(name, text)
            face = font(size, mono=mono)
            if name == "editor":
                draw.text((36, y), str(row + 1), font=face, fill=(110, 110, 120), anchor="ra")
            draw.text((left, y), text.replace("# ", "", 1) if name == "browser" else text, font=face, fill=colour)
            if row == cursor:
                x = left + face.getlength(text)
                draw.rectangle((x + 1, y + 2, x + 2, y + step - 3), fill=(230, 230, 230))
        image.paste(self.chrome[name], (0, 0))
        return pil_array(image)

    def __call__(self, index: int) -> np.ndarray:
        snapshot, offset, chars, cursor = (int(v) for v in self.plan.view[index])
        key = (snapshot, offset, chars, cursor if chars >= 0 or (index // 12) % 2 == 0 else -1)
        if key != self._key:
            self._key, self._image = key, self._render(*key)
        frame = self._image.copy()
        blend(frame, self.arrow, self.alpha, *self.path[index])
        return frame


def screen(rng: np.random.Generator, footage: Footage, frames: int) -> Plan:
    """A screen recording (module docstring); ``footage`` is not used."""
    plan = _ScreenPlan(rng, frames)
    plan.run()
    return Plan(_ScreenPainter(plan, rng), states=plan.states, events=plan.events, cuts=plan.cuts)
