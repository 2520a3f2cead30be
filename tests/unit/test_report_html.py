"""The HTML report: self-contained, labelled counts, heatmaps of where a layer differs.

Reports come from the real check flow (hil.validate.check) driven by a fake device
that returns the reference outputs, optionally with one layer perturbed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from hil.device.counts import count_source
from hil.device.session import LayerResult
from hil.model.inputs import generated_inputs
from hil.model.io import load_model
from hil.reference.network import run_network
from hil.report.html import heatmap_grid, render_html, write_html
from hil.validate.check import check_vectors
from hil.validate.run_report import RunInfo, RunReport

BAD_LAYER = 3  # lenet5 conv2, output 10x10x16
BAD_CHANNEL = 5


class FakeSession:
    """Answers like a device: the reference outputs, with conv2's channel 5 broken in a patch."""

    def __init__(self, network, perturb: bool, dump_digests: bool = False) -> None:
        self.network, self.perturb, self.digests = network, perturb, dump_digests

    def infer(self, x, dump="all", next_x=None):
        outs = run_network(self.network, x, "dsp")
        results = []
        for i, y in enumerate(outs):
            y = y.copy()
            if self.perturb and i == BAD_LAYER:
                cube = y.reshape(self.network.layers[i].output_shape)
                cube[2:5, 6:9, BAD_CHANNEL] += 3
            ticks = 100 + self.network.layers[i].macs // 4
            results.append(LayerResult(i, None if self.digests else y, 0, ticks, 0))
        return results


def make_report(
    *, perturb: bool, source: str = "systick", digests: bool = False, vectors: int = 2
) -> RunReport:
    net = load_model("lenet5")
    cs = count_source(source, emulated=source != "dwt", icount_shift=3)
    report = RunReport(
        net,
        RunInfo(
            net.name,
            "qemu-m7",
            "dsp",
            "portable",
            cs,
            device={"build_id": "0123abcd", "model_hash": "e86dbf0aa1a84bf8"},
        ),
    )
    check_vectors(
        FakeSession(net, perturb, digests),
        net,
        generated_inputs(net, vectors, 0),
        report,
        variant="dsp",
        dump="digest" if digests else "all",
    )
    return report


class _Scan(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _scan(html: str) -> list[tuple[str, dict]]:
    p = _Scan()
    p.feed(html)
    return p.tags


def test_check_flow_keeps_the_first_mismatching_tensors_only():
    r = make_report(perturb=True, vectors=3)
    assert set(r.diffs) == {BAD_LAYER}
    d = r.diffs[BAD_LAYER]
    assert d.vector == 0 and d.expected.size == d.got.size == 10 * 10 * 16
    diff = (d.got.astype(int) - d.expected.astype(int)).reshape(10, 10, 16)
    assert np.count_nonzero(diff) > 0
    assert set(np.argwhere(diff)[:, 2]) == {BAD_CHANNEL}


def test_passing_report_is_self_contained_and_labels_emulated_counts():
    r = make_report(perturb=False)
    html = render_html(r)
    tags = _scan(html)
    for tag, attrs in tags:
        for key in ("src", "href"):
            assert key not in attrs or attrs[key].startswith(("#", "data:")), (tag, attrs)
    assert not re.search(r"\b(src|href)\s*=\s*[\"']?https?:", html)
    assert "Content-Security-Policy" in html
    assert "PASS" in html and "instructions (qemu-icount)" in html
    assert "not silicon cycles" in html
    assert not re.search(r"\bcycles \(qemu", html)
    rows = html.split("<tbody>")[1].split("</tbody>")[0].count("<tr")
    assert rows == len(r.layers)
    chart = html.split('<svg id="counts"')[1].split("</svg>")[0]
    assert chart.count("<rect") == len(r.layers)
    assert "MACs/instruction" in chart
    assert "heatmap" not in html


def test_silicon_counts_are_called_cycles():
    html = render_html(make_report(perturb=False, source="dwt"))
    assert "cycles (dwt)" in html and "MACs/cycle" in html and "not silicon cycles" not in html


def test_mismatch_report_has_a_heatmap_locating_the_difference():
    r = make_report(perturb=True)
    html = render_html(r)
    assert "FAIL" in html and f'id="diff-{BAD_LAYER}"' in html
    section = html.split(f'id="diff-{BAD_LAYER}"')[1]
    heat = section.split('class="heatmap"')[1].split("</svg>")[0]
    cells = re.findall(
        r'<rect x="(\d+)" y="(\d+)" width="(\d+)" height="\d+" fill="(#[0-9a-f]{6})"', heat
    )
    assert len(cells) == 10 * 10
    size = int(cells[0][2])
    hot = {(int(y) // size, int(x) // size) for x, y, _, fill in cells if fill != "#eeeeee"}
    assert hot and hot <= {(r_, c) for r_ in range(2, 5) for c in range(6, 9)}
    strip = section.split('class="channels"')[1].split("</svg>")[0]
    heights = [int(h) for h in re.findall(r'height="(\d+)" fill', strip)]
    assert len(heights) == 16 and heights[BAD_CHANNEL] > 0 and sum(heights) == heights[BAD_CHANNEL]


def test_digest_only_mismatch_says_how_to_get_the_heatmap():
    r = make_report(perturb=True, digests=True)
    assert not r.diffs and not r.passed
    html = render_html(r)
    assert "--dump all" in html and 'class="heatmap"' not in html


def test_flat_outputs_wrap_into_a_square_grid():
    diff = np.zeros(10, dtype=np.int16)
    diff[7] = 4
    peak, counts, spatial = heatmap_grid((10,), diff)
    assert not spatial and peak.shape == (3, 4) and peak[1, 3] == 4 and counts.sum() == 1


def test_names_are_escaped():
    r = make_report(perturb=False)
    r.info.model = "<script>alert(1)</script>"
    assert "<script>alert(1)" not in render_html(r)


# -- headless Chromium ------------------------------------------------------


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
