"""The comparison notebook in a real browser: Voila serves it on localhost, headless Chromium (Debian's
``chromium`` package, driven by Playwright with that executable) shows it.

Playwright never downloads a browser here: it is given ``/usr/bin/chromium``. Every request to
anything but the local Voila server is aborted, so the test needs no network.
"""

from __future__ import annotations

import os
import selectors
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import framepick
from framepick.select import select
from framepick.show import format_time

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
# the screenshot goes to the test's temporary folder; `reports/bench/refresh_screenshot.sh` sets this
# variable to refresh the tracked reports/compare_app.png on purpose
SCREENSHOT_ENV = "FRAMEPICK_SCREENSHOT"
ROOT = Path(__file__).resolve().parents[1]
STARTUP_S = 120.0
PAGE_MS = 240_000  # the page shows the app once the notebook has run (a cold analysis included)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: install Debian's chromium package "
                                                     "(apt-get install -y chromium), as .ci/run does"),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_line(process: subprocess.Popen, marker: str, timeout_s: float) -> list[str]:
    """Lines of ``process``'s stderr up to the one holding ``marker``; fails on exit or timeout."""
    lines: list[str] = []
    deadline = time.monotonic() + timeout_s
    with selectors.DefaultSelector() as selector:
        selector.register(process.stderr, selectors.EVENT_READ)
        while marker not in "".join(lines[-2:]):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                pytest.fail(f"voila did not start in {timeout_s:.0f} s:\n{''.join(lines)}")
            line = process.stderr.readline()
            if not line:
                pytest.fail(f"voila exited with status {process.wait()}:\n{''.join(lines)}")
            lines.append(line)
    return lines


@pytest.fixture
def voila(tmp_path) -> Iterator[str]:
    """URL of ``notebooks/02_compare.ipynb`` served by Voila from ``tmp_path`` (its working folder)."""
    shutil.copy(ROOT / "notebooks" / "02_compare.ipynb", tmp_path)
    port = free_port()
    command = [sys.executable, "-m", "voila", "02_compare.ipynb", f"--port={port}", "--no-browser",
               "--Voila.ip=127.0.0.1"]
    with subprocess.Popen(command, cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"}) as process:
        drain = threading.Thread(target=process.stderr.read, daemon=True)  # never let the pipe fill up
        try:
            wait_for_line(process, "running at", STARTUP_S)
            drain.start()
            yield f"http://127.0.0.1:{port}/"
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if drain.is_alive():
                drain.join(timeout=30)


def thumb_times(page, strip: str) -> list[str]:
    return page.locator(f".fp-strip-{strip} .fp-thumb:visible").all_inner_texts()


def test_comparison_app_in_chromium(voila, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 2300})
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(voila)
                       else route.abort())
            page.goto(voila, timeout=PAGE_MS)
            app = page.locator(".fp-compare-app")
            expect(app.locator(".fp-strip-b .fp-thumb").first).to_be_visible(timeout=PAGE_MS)

            analysis = framepick.analyze(framepick.sample_video(), progress=False)  # cached by the notebook
            expected = {frames: [format_time(t) for t in select(analysis, "uniform", frames=frames).times_s]
                        for frames in (16, 6)}

            # the timeline, both strips (pictures set by CSS) and the controls render
            timeline = app.locator("img.fp-timeline")
            expect(timeline).to_be_visible()
            assert timeline.evaluate("image => [image.naturalWidth, image.naturalHeight]") == [1000, 300]
            assert thumb_times(page, "a") == expected[16]
            assert len(thumb_times(page, "b")) == 16
            backgrounds = app.locator(".fp-thumb:visible").evaluate_all(
                "buttons => buttons.map(b => getComputedStyle(b).backgroundImage.slice(0, 26))")
            assert backgrounds == ['url("data:image/png;base64'] * 32
            assert app.locator("select").evaluate_all("selects => selects.map(s => s.value)") == \
                ["uniform", "adaptive", "adaptive"]
            assert app.locator(".widget-slider").count() == 0  # uniform and adaptive: the budget alone
            expect(app.locator("table.fp-metrics")).to_contain_text("scene coverage")
            expect(app.get_by_role("button", name="Export")).to_be_visible()

            # change the budget: the thumbnails follow
            first_timeline = timeline.get_attribute("src")
            budget = app.locator(".fp-frames input")
            budget.fill("6")
            budget.press("Enter")
            expect(app.locator(".fp-strip-a .fp-thumb:visible")).to_have_count(6)
            assert thumb_times(page, "a") == expected[6]
            expect(app.locator(".fp-strip-b .fp-thumb:visible")).to_have_count(6)
            assert timeline.get_attribute("src") != first_timeline
            expect(app.locator(".fp-strip-a")).to_contain_text("A: uniform (6 frames)")

            # click a thumbnail: it is shown larger
            app.locator(".fp-strip-a .fp-thumb:visible").nth(5).click()
            expect(app.locator(".fp-zoom-caption")).to_contain_text(f"frame 719 at {expected[6][5]}")

            # export: the files are written and the command to run them is shown
            app.get_by_role("button", name="Export").click()
            job = tmp_path / "framepick_job"
            expect(app.locator("pre").first).to_contain_text(f"{job}/run_batch.py")
            assert (job / "strategy.toml").is_file() and (job / "run_batch.py").is_file()

            screenshot = Path(os.environ.get(SCREENSHOT_ENV) or tmp_path / "compare_app.png")
            app.screenshot(path=str(screenshot))
            assert screenshot.stat().st_size > 10_000
        finally:
            browser.close()
