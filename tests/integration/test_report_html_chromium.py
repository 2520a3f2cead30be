"""The HTML report in headless Chromium: after its scripts ran, the header context, the
table, the chart and (for a mismatch) the captioned PNG heatmaps are in the DOM, and a
1,280 px wide screenshot is kept as a test artifact (its path is printed; run with -s).
HIL_KEEP_HTML=<dir> also copies the pages and screenshots there."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from hil.report.html import write_html

from helpers.html_reports import make_report, run_context


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
    name = "mismatch" if perturb else "pass"
    page = tmp_path / f"report-{name}.html"
    report = make_report(perturb=perturb)
    report.context = run_context("qemu-m7")
    write_html(report, page)
    dom = _chromium_run(tmp_path, page, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    # The DOM after scripts ran: header context, table, chart, and for a mismatch the heatmaps.
    assert '<dl class="context" id="context">' in dom.stdout
    assert "<dt>flash</dt><dd>61,234 bytes</dd>" in dom.stdout
    assert '<table class="sortable" id="layers">' in dom.stdout
    assert '<svg id="counts"' in dom.stdout
    assert ('<img class="heatmap" src="data:image/png;base64,' in dom.stdout) == perturb
    assert ('<span class="blame">first wrong kernel</span>' in dom.stdout) == perturb
    shot = tmp_path / f"report-{name}.png"
    res = _chromium_run(
        tmp_path, page, f"--screenshot={shot}", "--window-size=1280,1600", "--hide-scrollbars"
    )
    assert res.returncode == 0 and shot.is_file(), res.stderr[-2000:]
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    print(f"screenshot of the {name} page: {shot}")
    if os.environ.get("HIL_KEEP_HTML"):
        for kept in (page, shot):
            shutil.copy(kept, Path(os.environ["HIL_KEEP_HTML"]) / kept.name)
