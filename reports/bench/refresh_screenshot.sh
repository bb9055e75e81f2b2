#!/usr/bin/env bash
# Refresh reports/compare_app.png: run the browser test with its screenshot sent to the tracked file.
set -euo pipefail
cd "$(dirname "$0")/../.."
FRAMEPICK_SCREENSHOT="$PWD/reports/compare_app.png" .venv/bin/python -m pytest -q tests/test_browser.py
