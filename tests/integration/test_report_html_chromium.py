"""The HTML report in headless Chromium: after its scripts ran, the table, the chart
and (for a mismatch) the heatmap are in the DOM, and a screenshot is a real PNG.
HIL_KEEP_HTML=<dir> keeps the pages and screenshots."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from hil.report.html import write_html

from helpers.html_reports import make_report


def _chromium() -> str:  # tests that call it carry needs_chromium
    return next(p for p in (shutil.which(n) for n in ("chromium", "chromium-browser")) if p)


def _chromium_run(tmp_path: Path, html: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        *args,
        html.as_uri(),
    ]
    env = dict(os.environ, HOME=str(tmp_path))
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.needs_chromium
@pytest.mark.parametrize("perturb", [False, True], ids=["pass", "mismatch"])
def test_renders_in_headless_chromium(tmp_path, perturb):
    page = tmp_path / "report.html"
    write_html(make_report(perturb=perturb), page)
    if os.environ.get("HIL_KEEP_HTML"):
        shutil.copy(
            page,
            Path(os.environ["HIL_KEEP_HTML"]) / f"report-{'mismatch' if perturb else 'pass'}.html",
        )
    dom = _chromium_run(tmp_path, page, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    # The DOM after scripts ran: the table, the chart and (for a mismatch) the heatmap are there.
    assert '<table class="sortable" id="layers">' in dom.stdout
    assert '<svg id="counts"' in dom.stdout
    assert ('class="heatmap"' in dom.stdout) == perturb
    shot = tmp_path / "shot.png"
    res = _chromium_run(
        tmp_path, page, f"--screenshot={shot}", "--window-size=1400,1600", "--hide-scrollbars"
    )
    assert res.returncode == 0 and shot.is_file(), res.stderr[-2000:]
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    if os.environ.get("HIL_KEEP_HTML"):
        shutil.copy(
            shot,
            Path(os.environ["HIL_KEEP_HTML"]) / f"report-{'mismatch' if perturb else 'pass'}.png",
        )
