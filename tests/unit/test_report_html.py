"""The HTML report: self-contained, labelled counts, heatmaps of where a layer differs.

Reports come from the real check flow (hil.validate.check) driven by a fake device
that returns the reference outputs, optionally with one layer perturbed
(tests/helpers/html_reports.py). Rendered in headless Chromium:
tests/integration/test_report_html_chromium.py.
"""

from __future__ import annotations

import base64
import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from hil.report.html import diff_image, render_html
from hil.report.png import encode_png
from hil.validate.run_report import DeviceFailure

from helpers.html_reports import BAD_CHANNEL, BAD_LAYER, make_report, run_context


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
    assert 'class="heatmap"' not in html


def test_silicon_counts_are_called_cycles():
    html = render_html(make_report(perturb=False, source="dwt"))
    assert "cycles (dwt)" in html and "MACs/cycle" in html and "not silicon cycles" not in html


def _decode_png(data: bytes) -> np.ndarray:
    """The pixels of a PNG as written by hil.report.png (8-bit RGB, filter 0), checked."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]
        assert struct.unpack(">I", data[pos + 8 + n : pos + 12 + n])[0] == zlib.crc32(kind + body)
        chunks[kind] = body
        pos += 12 + n
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 2) and b"IEND" in chunks
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, -1)
    assert (rows[:, 0] == 0).all()
    return rows[:, 1:].reshape(height, width, 3)


def _heatmaps(html: str) -> list[np.ndarray]:
    uris = re.findall(r'<img class="heatmap" src="data:image/png;base64,([^"]+)"', html)
    return [_decode_png(base64.b64decode(u)) for u in uris]


def test_png_encoder_round_trips():
    rgb = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    assert (_decode_png(encode_png(rgb)) == rgb).all()
    with pytest.raises(ValueError):
        encode_png(rgb[:, :, :2])


def test_mismatch_report_has_a_heatmap_locating_the_difference():
    r = make_report(perturb=True)
    html = render_html(r)
    assert "FAIL" in html and f'id="diff-{BAD_LAYER}"' in html
    section = html.split(f'id="diff-{BAD_LAYER}"')[1]
    assert "<rect" not in section.split('class="heatmap"')[1].split(">")[0]
    (pixels,) = _heatmaps(section.split("</div></div>")[0] + "</div>")
    # 16 channels of 10x10 as tiles 4 a row, 1 px apart: only channel 5's patch is hot.
    assert pixels.shape == (4 * 11 - 1, 4 * 11 - 1, 3)
    hot = {tuple(p) for p in np.argwhere((pixels != 0xEE).any(-1) & (pixels != 0xFF).any(-1))}
    row, col = divmod(BAD_CHANNEL, 4)
    assert hot == {(row * 11 + y, col * 11 + x) for y in range(2, 5) for x in range(6, 9)}
    strip = section.split('class="channels"')[1].split("</svg>")[0]
    heights = [int(h) for h in re.findall(r'height="(\d+)" fill', strip)]
    assert len(heights) == 16 and heights[BAD_CHANNEL] > 0 and sum(heights) == heights[BAD_CHANNEL]
    assert '<span class="blame">first wrong kernel</span>' in section.split("<p")[0]
    assert "<b>isolated</b>: " in section and "+3:&nbsp;18<" in section  # 9 a vector, 2 vectors


def test_isolated_mismatches_come_first_with_their_blame():
    r = make_report(perturb=False, model="cifar10", noisy=True, vectors=1)
    html = render_html(r).split("Where the mismatching layers differ")[1]
    order = [int(i) for i in re.findall(r'id="diff-(\d+)"', html)]
    isolated = [s.index for s in r.layers if s.wrong_in_isolation]
    assert isolated and order[: len(isolated)] == isolated
    assert sorted(order) == [s.index for s in r.layers if s.failed]
    for s in r.layers:
        if r.inherits_from(s) is not None:
            assert f"inherits the error from layer {r.inherits_from(s)}" in html


@pytest.mark.parametrize(("vectors", "limit"), [(4, 1_000_000), (100, 2_000_000)])
def test_every_layer_wrong_page_stays_small(vectors, limit):
    # Every cifar10 layer wrong in about half its elements: 41,000 SVG cells made 4 MB.
    r = make_report(perturb=False, model="cifar10", noisy=True, vectors=vectors)
    assert all(s.failed for s in r.layers) and len(r.diffs) == len(r.layers)
    html = render_html(r)
    assert len(_heatmaps(html)) == len(r.layers)
    assert len(html.encode()) < limit


def test_digest_only_mismatch_says_how_to_get_the_heatmap():
    r = make_report(perturb=True, digests=True)
    assert not r.diffs and not r.passed
    html = render_html(r)
    assert "--dump all" in html and 'class="heatmap"' not in html


def test_flat_outputs_are_a_strip_not_a_square():
    diff = np.zeros(10, dtype=np.int16)
    diff[7] = 4
    image, per_row, spatial = diff_image((10,), diff)
    assert not spatial and image.shape == (1, 10) and per_row == 10 and image[0, 7] == 4
    long, per_row, _ = diff_image((1100,), np.ones(1100, dtype=np.int16))
    assert long.shape == (3, 512) and (long.ravel()[1100:] == -1).all()


def test_hwc_outputs_are_one_tile_per_channel():
    diff = np.zeros((2, 3, 4), dtype=np.int16)
    diff[1, 2, 3] = 9
    image, per_row, spatial = diff_image((2, 3, 4), diff.ravel())
    assert spatial and per_row == 2 and image.shape == (2 * 3 - 1, 2 * 4 - 1)
    assert image[3 + 1, 4 + 2] == 9 and image.max() == 9 and (image[2, :] == -1).all()


def test_header_shows_the_run_context_of_an_emulated_board():
    r = make_report(perturb=False)
    r.context = run_context("qemu-m7")
    header = render_html(r).split('id="context">')[1].split("</dl>")[0]
    facts = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]*)</dd>", header))
    assert facts["date"] == "2026-01-02T03:04:05+00:00" and facts["dump"] == "all"
    assert facts["flash"] == "61,234 bytes" and facts["RAM (static)"] == "18,432 bytes"
    assert facts["wall time"] == "12.5 s" and facts["link"] == "retries 2"
    assert facts["inputs"] == f"generated, seed 0, sha256 {r.info.inputs_sha256[:16]}"
    if shutil.which("arm-none-eabi-gcc"):
        assert facts["compiler"].startswith("arm-none-eabi-gcc")
    if shutil.which("qemu-system-arm"):
        assert facts["QEMU"].startswith("QEMU emulator version")
    assert "probe" not in facts and "pyOCD" not in facts


def test_header_names_the_probe_of_a_pyocd_board():
    r = make_report(perturb=False)
    r.context = run_context("nucleo-f746")
    header = render_html(r).split('id="context">')[1].split("</dl>")[0]
    assert "<dt>probe</dt><dd>0669FF</dd>" in header
    assert "<dt>compiler</dt>" not in header and "<dt>QEMU</dt>" not in header


def test_count_chart_shows_the_baseline_per_layer():
    import dataclasses

    from hil.report.context import baseline_entry
    from hil.validate.baseline import baseline_from_report

    r = make_report(perturb=False)
    saved = baseline_from_report(r)
    # The baseline had conv1 at half its count now: conv1 is over any small budget.
    layers = list(saved.layers)
    layers[0] = dataclasses.replace(layers[0], count=layers[0].count // 2)
    r.context["baseline"] = baseline_entry(
        r, dataclasses.replace(saved, layers=tuple(layers)), Path("base.json"), 0.02
    )
    chart = render_html(r).split('<svg id="counts"')[1].split("</svg>")[0]
    assert chart.count('<line class="baseline"') == len(r.layers)
    over = re.findall(r'<text class="over"[^>]*>([^<]*)</text>', chart)
    assert len(over) == 1 and "+100.00% over budget" in over[0]
    assert "baseline 500, +0.00%" in chart  # relu1 unchanged


def test_snr_chart_has_a_bar_per_judged_layer_and_marks_the_largest_drop():
    from hil.report.html import _snr_chart

    layers = [
        {"index": 0, "name": "conv1", "snr_db": 40.0},
        {"index": 1, "name": "relu1", "snr_db": 20.0, "worst": True},
        {"index": 2, "name": "pool1", "snr_db": None},  # exact
        {"index": 3, "name": "ip1", "skipped": "no float tensor"},
    ]
    chart = _snr_chart({"layers": layers})
    bars = re.findall(r'<rect x="\d+" y="\d+" width="(\d+)" height="\d+" fill="(#\w+)"', chart)
    assert [int(w) for w, _ in bars] == [420, 210, 420]
    assert [fill for _, fill in bars] == ["#43a047", "#e53935", "#43a047"]
    assert "exact" in chart and "ip1" not in chart


def test_git_commit_is_the_checkout_head():
    from hil.report.context import git_commit

    if shutil.which("git") is None:
        pytest.skip("no git")
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=Path(__file__).parents[2]
    ).stdout.strip()
    commit = git_commit()
    assert commit is not None and commit.removesuffix("-dirty") == head


def test_names_are_escaped():
    r = make_report(perturb=False)
    r.info.model = "<script>alert(1)</script>"
    assert "<script>alert(1)" not in render_html(r)


def test_lost_devices_get_a_notice_only_when_there_are_any():
    r = make_report(perturb=False)
    assert 'id="device-failures"' not in render_html(r)
    r.add_device_failure(DeviceFailure("<place-b>", 1, "the device is gone: a & b", True))
    html = render_html(r)
    notice = re.search(r'<div class="note" id="device-failures"[^>]*>(.*?)</div>', html)
    assert notice is not None
    assert "<li>device &lt;place-b&gt; failed at vector 1 (the device is gone: a &amp; b); " in (
        notice.group(1)
    )
    assert "vector 1 was re-run on the other devices</li>" in notice.group(1)
    assert '<span class="pass">PASS</span>' in html  # a warning, the verdict is unchanged
