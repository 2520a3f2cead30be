"""The HTML report: self-contained, labelled counts, heatmaps of where a layer differs.

Reports come from the real check flow (hil.validate.check) driven by a fake device
that returns the reference outputs, optionally with one layer perturbed
(tests/helpers/html_reports.py). Rendered in headless Chromium:
tests/integration/test_report_html_chromium.py.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np

from hil.report.html import heatmap_grid, render_html

from helpers.html_reports import BAD_CHANNEL, BAD_LAYER, make_report


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
