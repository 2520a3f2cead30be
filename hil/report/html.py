"""A self-contained HTML page of a run: table, per-layer count chart, mismatch heatmaps.

Everything is inline (CSS, a few lines of JS, SVG) and a Content-Security-Policy
forbids loading anything, so the file can be archived as a CI artifact and
opened anywhere offline.
"""

from __future__ import annotations

import math
from html import escape
from pathlib import Path

import numpy as np

from hil.outputs import write_text
from hil.validate.run_report import LayerDiff, LayerSummary, RunReport

_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
_HEATMAP_PX = 360  # longest side of a heatmap
_MAX_LISTED = 12  # mismatching elements listed under a heatmap

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:28px 0 8px}
.meta{color:#555} .meta b{color:#222}
.pass{color:#fff;background:#2e7d32;padding:2px 8px;border-radius:4px}
.fail{color:#fff;background:#c62828;padding:2px 8px;border-radius:4px}
.note{background:#fff8e1;border-left:4px solid #f9a825;padding:6px 10px;margin:10px 0}
table{border-collapse:collapse;margin:6px 0}
th,td{border:1px solid #ddd;padding:3px 8px;white-space:nowrap}
th{background:#f3f3f3;cursor:pointer;user-select:none} td.n{text-align:right}
tr.bad td{background:#ffebee}
.ok{color:#2e7d32} .no{color:#c62828;font-weight:600} .none{color:#b26a00}
.incomplete{color:#fff;background:#b26a00;padding:2px 8px;border-radius:4px}
.banner{background:#fff3e0;border:2px solid #b26a00;color:#5d3a00;padding:10px 14px;border-radius:6px;margin:0 0 12px}
svg text{font:12px system-ui,sans-serif;fill:#222}
.layer{border:1px solid #ddd;border-radius:6px;padding:10px 14px;margin:12px 0}
.row{display:flex;gap:32px;flex-wrap:wrap;align-items:flex-start}
"""

# Click a column header to sort by it; numbers sort numerically.
_JS = """
document.querySelectorAll('table.sortable th').forEach((th, col) => {
  th.addEventListener('click', () => {
    const body = th.closest('table').tBodies[0];
    const key = r => { const t = r.cells[col].dataset.v ?? r.cells[col].textContent;
                       const n = parseFloat(t.replace(/,/g, '')); return isNaN(n) ? t : n; };
    const asc = th.dataset.asc !== '1'; th.dataset.asc = asc ? '1' : '0';
    [...body.rows].sort((a, b) => { const x = key(a), y = key(b);
      return (x > y ? 1 : x < y ? -1 : 0) * (asc ? 1 : -1); }).forEach(r => body.appendChild(r));
  });
});
"""


def write_html(report: RunReport, path: Path) -> None:
    """Write ``report`` as one self-contained HTML file."""
    write_text(path, render_html(report), "--html")


def render_html(report: RunReport) -> str:
    info = report.info
    title = f"hil: {info.model} on {info.board}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        _header(report),
        "<h2>Layers</h2>",
        _table(report),
        f"<h2>{escape(count_label(report).capitalize())} per layer</h2>",
        _count_note(report),
        _bar_chart(report),
        _mismatches(report),
        *_accuracy_parts(report),
        f"<script>{_JS}</script></body></html>",
    ]
    return "\n".join(parts) + "\n"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}%"


def _metric(value: float | None, fmt: str) -> str:
    return "exact" if value is None else format(value, fmt)


def _accuracy_parts(report: RunReport) -> list[str]:
    """The accuracy and quantisation-diagnostics sections; none for a run without labels."""
    from hil.validate.accuracy import accuracy_line

    acc = report.accuracy
    if acc is None:
        return []
    rows = (
        "".join(
            f"<tr><td>{escape(name)}</td><td class=n>{_pct(acc[key])}</td></tr>"
            for name, key in (("float model", "float"), ("q7 reference", "q7_reference"))
            if acc[key] is not None or key == "q7_reference"
        )
        + f"<tr><td>device</td><td class=n>{_pct(acc['device'])}</td></tr>"
    )
    parts = [
        "<h2>Accuracy</h2>",
        f"<p><b>{escape(accuracy_line(acc))}</b></p>",
        f"<p class=meta>{escape(acc['top1'])}.</p>",
        f"<table><thead><tr><th>top-1 of</th><th>accuracy</th></tr></thead><tbody>{rows}"
        "</tbody></table>",
    ]
    if acc.get("float_note"):
        parts.append(f"<p class=note>{escape(acc['float_note'])}</p>")
    metrics = acc.get("output_metrics") or {}
    pairs = [(k, metrics[k]) for k in ("device_vs_float", "device_vs_reference") if k in metrics]
    if pairs:
        keys = list(pairs[0][1])
        head = "".join(f"<th>{escape(k)}</th>" for k in keys)
        body = "".join(
            f"<tr><td>{escape(name.replace('_', ' '))}</td>"
            + "".join(f"<td class=n>{m[k]:.4g}</td>" for k in keys)
            + "</tr>"
            for name, m in pairs
        )
        parts.append(
            f"<h2>Final-output metrics ({metrics['vectors']:,} vectors, {metrics['units']} units)"
            f"</h2><table><thead><tr><th>pair</th>{head}</tr></thead><tbody>{body}</tbody></table>"
        )
    if report.diagnostics is not None:
        parts.append(_diagnostics(report.diagnostics))
    return parts


def _diagnostics(d: dict) -> str:
    """Per-layer q7 reference vs float model; the layer with the largest SNR drop marked."""
    head = "".join(
        f"<th>{h}</th>"
        for h in ("#", "layer", "float tensor", "Q (frac bits)", "cosine", "RMSE", "SNR dB",
                  "SNR drop dB", "max |err|", "saturated")
    )  # fmt: skip
    rows = []
    for row in [{"index": "", "name": "input", "float_tensor": "", **d["input"]}, *d["layers"]]:
        if "skipped" in row:
            cells = [str(row["index"]), row["name"], row["float_tensor"] or "", row["skipped"]]
            rows.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
            continue
        drop = row.get("snr_drop_db")
        worst = row.get("worst", False)
        cells = [
            escape(str(row["index"])),
            escape(row["name"]) + (" <b class=no>largest SNR drop</b>" if worst else ""),
            escape(row["float_tensor"] or ""),
            str(row["out_frac_bits"]),
            _metric(row["cosine"], ".4f"),
            _metric(row["rmse"], ".4g"),
            _metric(row["snr_db"], ".1f"),
            "" if drop is None else f"{drop:.1f}",
            _metric(row["max_abs_error"], ".4g"),
            f"{row['saturated_share']:.2%}",
        ]
        rows.append(
            f"<tr{' class=bad' if worst else ''}>"
            + "".join(f"<td class=n>{c}</td>" if i > 2 else f"<td>{c}</td>"
                      for i, c in enumerate(cells))
            + "</tr>"
        )  # fmt: skip
    return (
        f"<h2>Quantisation diagnostics ({d['vectors']:,} inputs)</h2>"
        f"<p class=meta>{escape(d['note'])}.</p>"
        f"<table class=sortable><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def count_label(report: RunReport) -> str:
    """What the counts are, never calling an emulated count 'cycles'."""
    src = report.info.count_source
    return f"{src.unit} ({src.name})"


def _per_unit(report: RunReport) -> str:
    unit = report.info.count_source.unit
    return unit[:-1] if unit.endswith("s") else unit


def _count_note(report: RunReport) -> str:
    src = report.info.count_source
    if src.unit == "cycles":
        return (
            f'<p class="meta">Core cycles measured on the device by <b>{escape(src.name)}</b>.</p>'
        )
    if src.unit == "instructions":
        why = (
            "an emulator counts executed instructions and models no pipeline or memory "
            "timing. They repeat run to run, so they are good for spotting regressions, "
            "not for predicting latency on a board."
        )
    else:
        why = "the device reported raw ticks of an unscaled source; compare them only with each other."
    return (
        f'<p class="note">These are <b>{escape(src.unit)}</b> counted by '
        f"<b>{escape(src.name)}</b>, not silicon cycles: {escape(why)}</p>"
    )


def _header(report: RunReport) -> str:
    info = report.info
    badge = {
        "pass": '<span class="pass">PASS</span>',
        "fail": '<span class="fail">FAIL</span>',
        "incomplete": '<span class="incomplete">INCOMPLETE</span>',
    }[report.verdict]
    dev = info.device
    facts = [
        ("board", info.board),
        ("reference variant", info.variant),
        ("kernel backend", info.backend),
        ("vectors", report.progress_text()),
        ("counts", count_label(report)),
    ]
    facts += [
        (k.replace("_", " "), str(dev[k])) for k in ("core", "build_id", "model_hash") if k in dev
    ]
    meta = " &middot; ".join(f"{escape(k)} <b>{escape(v)}</b>" for k, v in facts)
    totals = [report.count(s) for s in report.layers]
    total = ""
    if totals and all(n is not None for n in totals):
        total = (
            f'<p class="meta">total per inference: <b>{sum(totals):,}</b> '
            f"{escape(count_label(report))}</p>"
        )
    banner = ""
    if not report.complete:
        # Never green: a run cut short says so before anything else.
        banner = (
            f'<div class="banner" role="alert"><b>INCOMPLETE</b>: '
            f"{escape(report.incomplete_text())}. Only the vectors judged before that "
            "are shown; this run did not pass.</div>"
        )
    return (
        f"{banner}<h1>{badge} {escape(info.model)} on {escape(info.board)}</h1>"
        f'<p class="meta">{meta}</p><p>{escape(report.summary_line())}</p>{total}'
    )


def _table(report: RunReport) -> str:
    cols = [
        "#",
        "layer",
        "function",
        "output",
        "verdict",
        "mismatching elements",
        "max |diff|",
        "first mismatch",
        count_label(report),
        "MACs",
        f"MACs/{_per_unit(report)}",
    ]
    head = "".join(f"<th>{escape(c)}</th>" for c in cols)
    rows = []
    for s in report.layers:
        n = report.count(s)
        kind, words = s.verdict()
        css = {"match": "ok", "differ": "no", "not judged": "none"}[kind]
        verdict = f'<span class="{css}">{escape(words)}</span>'
        ff = s.first_failure
        first = (
            ""
            if ff is None
            else (
                f"v{ff['vector']}[{ff['index']}] {ff['expected']}&rarr;{ff['got']}"
                if ff["index"] is not None
                else f"v{ff['vector']} (digest only)"
            )
        )
        mism = f"{s.mismatching_elements:,}" + ("+?" if s.unknown_mismatches else "")
        cells = [
            _num(s.index),
            f"<td>{escape(s.name)}</td>",
            f"<td>{escape(s.function)}</td>",
            f"<td>{'x'.join(map(str, s.output_shape))}</td>",
            f"<td>{verdict}</td>",
            _num(s.mismatching_elements, mism),
            _num(s.max_abs_diff),
            f"<td>{first}</td>",
            _num(n),
            _num(s.macs),
            _num(_mpu(s, n), "" if _mpu(s, n) is None else f"{_mpu(s, n):.3f}"),
        ]
        rows.append(f"<tr{' class=bad' if kind == 'differ' else ''}>{''.join(cells)}</tr>")
    return (
        f'<table class="sortable" id="layers"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _num(value: float | int | None, shown: str | None = None) -> str:
    if value is None:
        return '<td class="n" data-v="-1"></td>'
    text = shown if shown is not None else f"{value:,}"
    return f'<td class="n" data-v="{value}">{text}</td>'


def _mpu(s: LayerSummary, n: int | None) -> float | None:
    return s.macs / n if n and s.macs else None


def _bar_chart(report: RunReport) -> str:
    counts = [report.count(s) for s in report.layers]
    if not any(counts):
        return '<p class="meta">The device reported no counts.</p>'
    top = max(n or 0 for n in counts)
    label_w, bar_w, row_h = 260, 520, 22
    height = row_h * len(report.layers) + 10
    per = _per_unit(report)
    out = [
        f'<svg id="counts" xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 260}" '
        f'height="{height}" role="img" aria-label="{escape(count_label(report))} per layer">'
    ]
    for i, (s, n) in enumerate(zip(report.layers, counts)):
        y = 5 + i * row_h
        w = 0 if not n else max(1, round(bar_w * n / top))
        color = "#1e88e5" if s.passed else "#e53935"
        tip = f"{s.name} ({s.function}): {'no count' if n is None else f'{n:,}'} {count_label(report)}"
        out.append(
            f"<g><title>{escape(tip)}</title>"
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">'
            f"{s.index} {escape(s.name)}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{w}" height="{row_h - 6}" fill="{color}"/>'
        )
        mpu = _mpu(s, n)
        text = "" if n is None else f"{n:,}" + ("" if mpu is None else f"  ({mpu:.3f} MACs/{per})")
        out.append(f'<text x="{label_w + w + 6}" y="{y + 15}">{escape(text)}</text></g>')
    out.append("</svg>")
    return "".join(out)


def _mismatches(report: RunReport) -> str:
    bad = [s for s in report.layers if not s.passed and s.vectors]
    if not bad:
        return ""
    out = ["<h2>Where the mismatching layers differ</h2>"]
    for s in bad:
        out.append(
            f'<div class="layer" id="diff-{s.index}"><b>{s.index} {escape(s.name)}</b> '
            f"({escape(s.function)}, output {'x'.join(map(str, s.output_shape))})"
        )
        d = report.diffs.get(s.index)
        if d is None:
            out.append(
                '<p class="meta">No element-wise data: the device sent only digests '
                "for this layer (or the kernel failed). Run with <code>--dump all</code> "
                "or <code>--dump mismatch</code> to see where it differs.</p></div>"
            )
            continue
        out.append(_layer_diff(s, d))
        out.append("</div>")
    return "".join(out)


def heatmap_grid(shape: tuple[int, ...], diff: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """(max |diff| per cell, mismatching elements per cell, spatial?) for a flat ``diff``.

    HWC outputs map to an H x W grid over channels; anything else wraps into
    a near-square grid of single elements.
    """
    if len(shape) == 3 and int(np.prod(shape)) == diff.size:
        h, w, c = shape
        cube = diff.reshape(h, w, c)
        return cube.max(axis=2), np.count_nonzero(cube, axis=2), True
    width = max(1, math.ceil(math.sqrt(diff.size)))
    rows = math.ceil(diff.size / width)
    padded = np.zeros(rows * width, dtype=diff.dtype)
    padded[: diff.size] = diff
    grid = padded.reshape(rows, width)
    return grid, (grid != 0).astype(int), False


def _layer_diff(s: LayerSummary, d: LayerDiff) -> str:
    diff = np.abs(d.expected.astype(np.int16) - d.got.astype(np.int16))
    peak, counts, spatial = heatmap_grid(s.output_shape, diff)
    top = int(diff.max()) or 1
    rows, cols = peak.shape
    cell = max(2, min(24, _HEATMAP_PX // max(rows, cols)))
    title = (
        "max |diff| over channels at each (row, column)"
        if spatial
        else "|diff| of each element, row-major"
    )
    grid = ' stroke="#fff" stroke-width="1"' if cell >= 6 else ""
    svg = [
        f'<svg class="heatmap" xmlns="http://www.w3.org/2000/svg" width="{cols * cell}" '
        f'height="{rows * cell}" role="img" aria-label="{escape(title)}"><g{grid}>'
    ]
    for r in range(rows):
        for c in range(cols):
            v = int(peak[r, c])
            where = f"({r}, {c})" if spatial else f"[{r * cols + c}]"
            tip = f"{where}: max |diff| {v}" + (
                f", {int(counts[r, c])} channels" if spatial else ""
            )
            svg.append(
                f'<rect x="{c * cell}" y="{r * cell}" width="{cell}" height="{cell}" '
                f'fill="{_heat(v, top)}"><title>{escape(tip)}</title></rect>'
            )
    svg.append("</g></svg>")
    parts = [
        f'<p class="meta">vector {d.vector}: {int(np.count_nonzero(diff)):,} of '
        f"{diff.size:,} elements differ, max |diff| {int(diff.max())}. "
        f"Heatmap: {escape(title)}.</p>",
        '<div class="row"><div>',
        "".join(svg),
        _legend(top),
        "</div>",
    ]
    if spatial:
        parts.append(_channel_strip(s.output_shape, diff))
    parts.append(_listing(s.output_shape, d, diff))
    parts.append("</div>")
    return "".join(parts)


def _heat(v: int, top: int) -> str:
    if v == 0:
        return "#eeeeee"
    t = v / top  # yellow (small) -> dark red (largest)
    r, g, b = (round(255 - 80 * t), round(220 * (1 - t)), round(60 * (1 - t)))
    return f"#{r:02x}{g:02x}{b:02x}"


def _legend(top: int) -> str:
    steps = [0, *sorted({max(1, round(top * f)) for f in (0.25, 0.5, 0.75, 1.0)})]
    items = "".join(
        f'<rect x="{i * 46}" y="0" width="14" height="14" fill="{_heat(v, top)}"/>'
        f'<text x="{i * 46 + 18}" y="12">{v}</text>'
        for i, v in enumerate(steps)
    )
    return (
        f'<div><svg xmlns="http://www.w3.org/2000/svg" width="{46 * len(steps)}" height="16">'
        f'{items}</svg> <span class="meta">|diff|</span></div>'
    )


def _channel_strip(shape: tuple[int, ...], diff: np.ndarray) -> str:
    """Mismatching elements per output channel: a bad filter shows up as one tall bar."""
    h, w, c = shape
    per = np.count_nonzero(diff.reshape(h, w, c), axis=(0, 1))
    top = int(per.max()) or 1
    bw = max(3, min(16, 320 // c))
    bars = "".join(
        f'<rect x="{i * bw}" y="{80 - round(78 * n / top)}" width="{bw - 1}" '
        f'height="{round(78 * n / top)}" fill="#e53935"><title>channel {i}: {int(n)} '
        f"mismatching of {h * w}</title></rect>"
        for i, n in enumerate(per)
    )
    return (
        f'<div><div class="meta">mismatching elements per channel (0..{c - 1})</div>'
        f'<svg class="channels" xmlns="http://www.w3.org/2000/svg" width="{bw * c}" '
        f'height="80">{bars}</svg></div>'
    )


def _listing(shape: tuple[int, ...], d: LayerDiff, diff: np.ndarray) -> str:
    idx = np.flatnonzero(diff)[:_MAX_LISTED]
    rows = []
    for i in idx:
        where = (
            f"({', '.join(map(str, np.unravel_index(int(i), shape)))})"
            if int(np.prod(shape)) == diff.size
            else ""
        )
        rows.append(
            f"<tr><td class=n>{int(i)}</td><td>{where}</td>"
            f"<td class=n>{int(d.expected[i])}</td><td class=n>{int(d.got[i])}</td></tr>"
        )
    more = np.count_nonzero(diff) - len(idx)
    tail = f'<p class="meta">and {more:,} more</p>' if more > 0 else ""
    return (
        "<div><table><thead><tr><th>index</th><th>position</th><th>expected</th>"
        f"<th>got</th></tr></thead><tbody>{''.join(rows)}</tbody></table>{tail}</div>"
    )
