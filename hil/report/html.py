"""A self-contained HTML page of a run: table, per-layer count chart, mismatch heatmaps.

Everything is inline (CSS, a few lines of JS, SVG, heatmaps as PNG data URIs) and a Content-Security-Policy
forbids loading anything, so the file can be archived as a CI artifact and
opened anywhere offline.
"""

from __future__ import annotations

import math
from html import escape
from pathlib import Path

import numpy as np

from hil.outputs import write_text
from hil.report.png import png_data_uri
from hil.validate.compare import HISTOGRAM_BINS
from hil.validate.run_report import LayerDiff, LayerSummary, RunReport

_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
_HEATMAP_PX = 512  # longest side of a heatmap, before rounding to a whole scale
_STRIP_WRAP = 512  # elements per row of a flat tensor's strip
_MAX_LISTED = 12  # mismatching elements listed under a heatmap

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:28px 0 8px}
.meta{color:#555} .meta b{color:#222}
.pass{color:#fff;background:#2e7d32;padding:2px 8px;border-radius:4px}
.fail{color:#fff;background:#c62828;padding:2px 8px;border-radius:4px}
.note{background:#fff8e1;border-left:4px solid #f9a825;padding:6px 10px;margin:10px 0}
table{border-collapse:collapse;margin:6px 0;max-width:100%;font-size:13px}
th,td{border:1px solid #ddd;padding:2px 6px;vertical-align:top}
th{background:#f3f3f3;cursor:pointer;user-select:none}
td.n{text-align:right;white-space:nowrap}
tr.bad td{background:#ffebee}
.ok{color:#2e7d32;white-space:nowrap} .no{color:#c62828;font-weight:600} .none{color:#b26a00}
.incomplete{color:#fff;background:#b26a00;padding:2px 8px;border-radius:4px}
.banner{background:#fff3e0;border:2px solid #b26a00;color:#5d3a00;padding:10px 14px;border-radius:6px;margin:0 0 12px}
svg text{font:12px system-ui,sans-serif;fill:#222} svg text.over{fill:#c62828;font-weight:600}
.layer{border:1px solid #ddd;border-radius:6px;padding:10px 14px;margin:12px 0}
.heatmap{image-rendering:pixelated;border:1px solid #ccc}
.blame{color:#fff;background:#6a1b9a;padding:1px 6px;border-radius:4px;margin-left:6px}
.stats{margin:4px 0;font-size:13px} .hint{color:#c62828;font-weight:600}
.context{display:flex;flex-wrap:wrap;gap:2px 18px;margin:6px 0;font-size:13px}
.context dt{display:inline;color:#555} .context dt:after{content:": "}
.context dd{display:inline;margin:0;font-weight:600;overflow-wrap:anywhere}
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
        _device_failures(report),
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
    from hil.validate.accuracy import accuracy_line, reference_name

    acc = report.accuracy
    if acc is None:
        return []
    family = report.network.family
    rows = (
        "".join(
            f"<tr><td>{escape(name)}</td><td class=n>{_pct(acc[key])}</td></tr>"
            for name, key in (("float model", "float"), (reference_name(family), "q7_reference"))
            if acc[key] is not None or key == "q7_reference"
        )
        + f"<tr><td>device</td><td class=n>{_pct(acc['device'])}</td></tr>"
    )
    parts = [
        "<h2>Accuracy</h2>",
        f"<p><b>{escape(accuracy_line(acc, family))}</b></p>",
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
    if acc.get("confusion"):
        parts.append(_confusion(acc["confusion"]))
    if report.diagnostics is not None:
        parts.append(_diagnostics(report.diagnostics))
    return parts


def _confusion(c: dict) -> str:
    """Labels down, device classes across; the diagonal is right, the rest is where they went."""
    counts = c["counts"]
    n = len(counts)
    top = max((v for row in counts for v in row), default=0) or 1
    head = "".join(f"<th>{k}</th>" for k in range(n))
    body = []
    for label, row in enumerate(counts):
        cells = []
        for cls, v in enumerate(row):
            # Shade by count: green on the diagonal, red off it.
            alpha = 0.12 + 0.6 * v / top if v else 0
            colour = "46,160,67" if cls == label else "218,54,51"
            style = f' style="background:rgba({colour},{alpha:.2f})"' if v else ""
            cells.append(f"<td class=n{style}>{v or ''}</td>")
        body.append(f"<tr><th>{label}</th>{''.join(cells)}</tr>")
    unknown = (
        f"<p class=meta>{c['unknown']:,} vectors whose device class is unknown (digest only, "
        "and it differed) are not in the matrix.</p>"
        if c["unknown"]
        else ""
    )
    return (
        "<h2>Confusion matrix</h2><p class=meta>rows: label; columns: the class the device "
        f'chose (top-1)</p><table id="confusion"><thead><tr><th></th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>{unknown}"
    )


def _diagnostics(d: dict) -> str:
    """Per-layer reference vs float model; the layer with the largest SNR drop marked."""
    from hil.report.accuracy_table import units

    fmt = "scale, zero point" if d.get("family") == "s8" else "Q (frac bits)"
    head = "".join(
        f"<th>{h}</th>"
        for h in ("#", "layer", "float tensor", fmt, "cosine", "RMSE", "SNR dB",
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
            escape(units(row)),
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
        f"<p class=meta>{escape(d['note'])}.</p>{_snr_chart(d)}"
        f"<table class=sortable><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _snr_chart(d: dict) -> str:
    """SNR of the q7 reference against the float model, one bar per layer (longer is better);
    an exact layer is drawn at the chart's end, the largest SNR drop in red."""
    rows = [r for r in d["layers"] if "skipped" not in r]
    if not rows:
        return ""
    finite = [r["snr_db"] for r in rows if r["snr_db"] is not None]
    top = max([*finite, 1.0])
    label_w, bar_w, row_h = 160, 420, 20
    out = [
        f'<svg id="snr" xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 120}" '
        f'height="{row_h * len(rows) + 10}" role="img" aria-label="SNR dB per layer">'
    ]
    for i, r in enumerate(rows):
        y = 5 + i * row_h
        snr = r["snr_db"]
        w = bar_w if snr is None else max(0, round(bar_w * snr / top))
        color = "#e53935" if r.get("worst") else "#43a047"
        text = "exact" if snr is None else f"{snr:.1f} dB"
        out.append(
            f'<g><text x="{label_w - 6}" y="{y + 14}" text-anchor="end">'
            f"{escape(str(r['index']))} {escape(r['name'])}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{w}" height="{row_h - 6}" fill="{color}"/>'
            f'<text x="{label_w + w + 6}" y="{y + 14}">{escape(text)}</text></g>'
        )
    out.append("</svg>")
    return "".join(out)


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
        (k.replace("_", " "), str(dev[k]))
        for k in ("core", "build_id", "model_hash", "export_hash")
        if k in dev
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
        f'<p class="meta">{meta}</p>{_context(report)}'
        f"<p>{escape(report.summary_line())}</p>{total}"
    )


def _device_failures(report: RunReport) -> str:
    """The devices lost during the run, if any: a warning, the verdict is unchanged."""
    if not report.device_failures:
        return ""
    items = "".join(f"<li>{escape(f.text())}</li>" for f in report.device_failures)
    return (
        f'<div class="note" id="device-failures" role="status"><b>Devices lost during the '
        f"run</b><ul>{items}</ul></div>"
    )


def _inputs_text(report: RunReport) -> str | None:
    made, digest = report.info.inputs, report.info.inputs_sha256
    if "path" in made:
        where = f"file {made['path']}"
    elif "seed" in made:
        where = f"generated, seed {made['seed']}"
    else:
        where = ""
    short = f"sha256 {digest[:16]}" if digest else ""
    return ", ".join(w for w in (where, short) if w) or None


def _link_text(stats: list[dict]) -> str:
    """Link counters summed over the devices: "clean" when nothing had to be recovered."""
    total: dict[str, int] = {}
    for device in stats:
        for key, n in device.items():
            if key != "stale_frames":  # the boot HELLO is one on every run
                total[key] = total.get(key, 0) + int(n)
    busy = ", ".join(f"{k.replace('_', ' ')} {n:,}" for k, n in total.items() if n)
    return busy or "clean"


def _context(report: RunReport) -> str:
    """Where and how the run happened (hil.report.context), as a definition grid."""
    c = report.context
    facts = [
        ("date", c.get("date")),
        ("hil", c.get("hil_version")),
        ("git commit", c.get("git_commit")),
        ("compiler", c.get("compiler")),
        ("QEMU", c.get("qemu")),
        ("Renode", c.get("renode")),
        ("probe", c.get("probe")),
        ("pyOCD", c.get("pyocd_version")),
        ("inputs", _inputs_text(report)),
        ("dump", c.get("dump")),
        ("wall time", None if "wall_time_s" not in c else f"{c['wall_time_s']:.1f} s"),
        ("link", None if "link_stats" not in c else _link_text(c["link_stats"])),
        ("flash", None if "flash_bytes" not in c else f"{c['flash_bytes']:,} bytes"),
        ("RAM (static)", None if "ram_bytes" not in c else f"{c['ram_bytes']:,} bytes"),
    ]
    items = "".join(
        f"<div><dt>{escape(k)}</dt><dd>{escape(str(v))}</dd></div>"
        for k, v in facts
        if v is not None
    )
    return f'<dl class="context" id="context">{items}</dl>'


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


def _baseline_rows(report: RunReport) -> dict[int, dict]:
    """Layer index -> its --baseline comparison (hil.report.context.baseline_entry)."""
    entry = report.context.get("baseline") or {}
    return {row["index"]: row for row in entry.get("layers", [])}


def _baseline_text(row: dict) -> str:
    change = "new cost" if row["change"] is None else f"{row['change']:+.2%}"
    return f"baseline {row['baseline']:,}, {change}" + (" over budget" if row["over"] else "")


def _bar_chart(report: RunReport) -> str:
    counts = [report.count(s) for s in report.layers]
    if not any(counts):
        return '<p class="meta">The device reported no counts.</p>'
    baseline = _baseline_rows(report)
    top = max([n or 0 for n in counts] + [row["baseline"] for row in baseline.values()])
    label_w, bar_w, row_h = 160, 520, 22
    height = row_h * len(report.layers) + 10
    per = _per_unit(report)
    out = []
    if baseline:
        entry = report.context["baseline"]
        out.append(
            f'<p class="meta">Black ticks: the baseline {escape(entry["path"])} '
            f"(budget {entry['max_regression']:.2%} per layer).</p>"
        )
    out.append(
        f'<svg id="counts" xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 420}" '
        f'height="{height}" role="img" aria-label="{escape(count_label(report))} per layer">'
    )
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
        row = baseline.get(s.index)
        if row is not None:
            x = label_w + round(bar_w * row["baseline"] / top)
            out.append(
                f'<line class="baseline" x1="{x}" x2="{x}" y1="{y}" y2="{y + row_h}" '
                'stroke="#000" stroke-width="2"/>'
            )
            text += f"  {_baseline_text(row)}"
        end = label_w + max(w, 0 if row is None else x - label_w)
        css = ' class="over"' if row is not None and row["over"] else ""
        out.append(f'<text{css} x="{end + 6}" y="{y + 15}">{escape(text)}</text></g>')
    out.append("</svg>")
    return "".join(out)


def _mismatches(report: RunReport) -> str:
    bad = [s for s in report.layers if not s.passed and s.vectors]
    if not bad:
        return ""
    # Layers wrong in isolation first: they hold the broken kernel, the rest inherit.
    bad.sort(key=lambda s: (not s.wrong_in_isolation, s.index))
    out = ["<h2>Where the mismatching layers differ</h2>"]
    for s in bad:
        blame = report.blame_text(s, short=True)
        out.append(
            f'<div class="layer" id="diff-{s.index}"><b>{s.index} {escape(s.name)}</b> '
            f"({escape(s.function)}, output {'x'.join(map(str, s.output_shape))})"
            + (f' <span class="blame">{escape(blame)}</span>' if blame else "")
            + _stats_lines(s)
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


def _stats_lines(s: LayerSummary) -> str:
    """Chained and isolated error statistics of a layer, one line each."""
    lines = []
    for name, stats in (("isolated", s.isolated_stats), ("chained", s.chained_stats)):
        if stats is None or not stats.differing:
            continue
        bins = " ".join(
            f'<span title="got - expected {b}">{escape(b)}:&nbsp;{n:,}</span>'
            for b, n in zip(HISTOGRAM_BINS, stats.histogram)
            if n and b != "0"
        )
        hint = stats.hint()
        lines.append(
            f'<p class="stats"><b>{name}</b>: {stats.share:.2%} of {stats.elements:,} elements '
            f"differ, signed mean {stats.mean_diff:+.4f}, max |diff| {stats.max_abs_diff}; "
            f"got&minus;expected {bins}"
            + (f' &mdash; <span class="hint">{escape(hint)}</span>' if hint else "")
            + "</p>"
        )
    return "".join(lines)


def diff_image(shape: tuple[int, ...], diff: np.ndarray) -> tuple[np.ndarray, int, bool]:
    """(image of |diff|, tile columns, per channel?) for a flat ``diff`` of a layer output.

    HWC outputs become one H x W tile per channel, tiles in a row-major mosaic
    separated by a line of -1 (drawn as background). Anything else is a strip:
    elements in order, wrapped every ``_STRIP_WRAP``.
    """
    if len(shape) == 3 and int(np.prod(shape)) == diff.size:
        h, w, c = shape
        per_row = max(1, min(c, math.ceil(math.sqrt(c * h / w))))
        tile_rows = math.ceil(c / per_row)
        image = np.full((tile_rows * (h + 1) - 1, per_row * (w + 1) - 1), -1, dtype=np.int32)
        cube = diff.reshape(h, w, c)
        for ch in range(c):
            r, col = divmod(ch, per_row)
            image[r * (h + 1) : r * (h + 1) + h, col * (w + 1) : col * (w + 1) + w] = cube[:, :, ch]
        return image, per_row, True
    width = min(diff.size, _STRIP_WRAP) or 1
    rows = math.ceil(diff.size / width)
    flat = np.full(rows * width, -1, dtype=np.int32)
    flat[: diff.size] = diff
    return flat.reshape(rows, width), width, False


def _heat_rgb(image: np.ndarray, top: int) -> np.ndarray:
    """Colours of |diff| values: grey for 0, yellow (small) to dark red (largest), white for -1."""
    t = np.clip(image, 0, None).astype(np.float64) / top
    rgb = np.stack([255 - 80 * t, 220 * (1 - t), 60 * (1 - t)], axis=-1).round()
    rgb[image == 0] = (0xEE, 0xEE, 0xEE)
    rgb[image < 0] = (0xFF, 0xFF, 0xFF)
    return rgb.astype(np.uint8)


def _layer_diff(s: LayerSummary, d: LayerDiff) -> str:
    diff = np.abs(d.expected.astype(np.int16) - d.got.astype(np.int16))
    image, per_row, spatial = diff_image(s.output_shape, diff)
    top = int(diff.max()) or 1
    rows, cols = image.shape
    # Integer upscaling keeps pixels square and sharp; a short strip gets bigger cells.
    scale = max(1, min(8 if spatial else 24, _HEATMAP_PX // max(rows, cols)))
    height = rows * scale if spatial else rows * max(scale, 6)
    if spatial:
        h, w, c = s.output_shape
        title = f"|diff| per channel: {c} tiles of {h}x{w}, channel 0 top left, {per_row} a row"
    else:
        title = f"|diff| of each element in order, {cols} a row"
    img = (
        f'<img class="heatmap" src="{png_data_uri(_heat_rgb(image, top))}" '
        f'width="{cols * scale}" height="{height}" alt="{escape(title)}" title="{escape(title)}">'
    )
    parts = [
        f'<p class="meta">vector {d.vector}: {int(np.count_nonzero(diff)):,} of '
        f"{diff.size:,} elements differ, max |diff| {int(diff.max())}. "
        f"Heatmap: {escape(title)}.</p>",
        '<div class="row"><div>',
        img,
        _legend(top),
        "</div>",
    ]
    if spatial:
        parts.append(_channel_strip(s.output_shape, diff))
    parts.append(_listing(s.output_shape, d, diff))
    parts.append("</div>")
    return "".join(parts)


def _heat(v: int, top: int) -> str:
    r, g, b = (int(x) for x in _heat_rgb(np.array([v]), top)[0])
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
