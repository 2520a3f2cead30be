"""The JUnit XML sink: one test case per layer, one for the run's completeness, and the
devices lost during the run in the suite's system-err."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from hil.outputs import write_text
from hil.text import plural
from hil.validate.run_report import RunReport


def write_junit(report: RunReport, path: Path) -> None:
    suite_name = f"hil.{report.info.board}.{report.info.model}"
    failures = sum(s.vectors > s.matched for s in report.layers)
    suite = ET.Element(
        "testsuite",
        name=suite_name,
        tests=str(len(report.layers) + (not report.complete)),
        failures=str(failures),
        errors=str(int(not report.complete)),
    )
    props = ET.SubElement(suite, "properties")
    for k, v in (
        ("board", report.info.board),
        ("model", report.info.model),
        ("variant", report.info.variant),
        ("backend", report.info.backend),
        ("count_source", report.info.count_source.name),
        ("vectors", str(report.vectors_done)),
        ("vectors_requested", str(report.vectors_requested or "")),
        ("complete", str(report.complete).lower()),
    ):
        ET.SubElement(props, "property", name=k, value=v)
    if not report.complete:
        # A run cut short is an error of the run itself, not of any one layer.
        case = ET.SubElement(suite, "testcase", classname=suite_name, name="run_complete")
        err = ET.SubElement(
            case, "error", type="incomplete", message=f"INCOMPLETE: {report.incomplete_text()}"
        )
        err.text = (
            f"{report.vectors_done} of {report.vectors_requested} requested vectors "
            "were judged; the layer results below cover those only"
        )
    for s in report.layers:
        case = ET.SubElement(
            suite, "testcase", classname=suite_name, name=f"{s.index:02d}_{s.name}"
        )
        cprops = ET.SubElement(case, "properties")
        n = report.count(s)
        for k, v in (
            ("function", s.function),
            ("macs", str(s.macs)),
            ("count", "" if n is None else str(n)),
            ("count_unit", report.info.count_source.unit),
            ("count_source", report.info.count_source.name),
        ):
            ET.SubElement(cprops, "property", name=k, value=v)
        if s.vectors == 0:
            ET.SubElement(case, "skipped", message="not judged: the run ended before it")
        if s.vectors > s.matched:
            ff = s.first_failure or {}
            msg = (
                f"{s.vectors - s.matched} of {plural(s.vectors, 'vector')} differ; "
                f"{s.mismatching_elements} elements, max |diff| {s.max_abs_diff}"
            )
            blame = report.blame_text(s)
            if blame:
                msg += f"; {blame}"
            fail = ET.SubElement(case, "failure", message=msg, type="mismatch")
            fail.text = json.dumps(ff)
    if report.device_failures:
        # A lost device is a warning, not a failed case; CI shows the suite's system-err.
        err = ET.SubElement(suite, "system-err")
        err.text = "\n".join(f"warning: {f.text()}" for f in report.device_failures)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    write_text(path, ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n", "--junit")
