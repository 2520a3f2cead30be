"""Where and how a run happened, for the HTML page's header and the JSON report.

Everything here is best effort: a tool that is missing or fails to answer
leaves its entry out rather than failing a run whose verdicts are already in.
"""

from __future__ import annotations

import importlib.metadata
import math
import shutil
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import hil
from hil.device.target import Target
from hil.errors import ConfigError
from hil.firmware.build import FirmwareImage
from hil.validate.baseline import Baseline, baseline_from_report, compare_counts
from hil.validate.run_report import RunReport

_TOOL_TIMEOUT = 5.0  # seconds; a hung --version must not hold up the report


def _first_line(cmd: list[str], cwd: Path | None = None) -> str | None:
    try:
        out = subprocess.run(
            cmd, capture_output=True, text=True, timeout=_TOOL_TIMEOUT, check=False, cwd=cwd
        )
    except (OSError, subprocess.SubprocessError):
        return None
    lines = out.stdout.strip().splitlines()
    return lines[0].strip() if out.returncode == 0 and lines else None


def git_commit() -> str | None:
    """The commit of the checkout hil runs from; None for an installed copy."""
    if shutil.which("git") is None:
        return None
    checkout = Path(hil.__file__).resolve().parent.parent
    top = _first_line(["git", "rev-parse", "--show-toplevel"], cwd=checkout)
    # Only this checkout's own repository counts, not one it happens to sit inside.
    if top is None or Path(top).resolve() != checkout:
        return None
    commit = _first_line(["git", "rev-parse", "HEAD"], cwd=checkout)
    if commit is None:
        return None
    dirty = _first_line(["git", "status", "--porcelain", "--untracked-files=no"], cwd=checkout)
    return commit + ("-dirty" if dirty else "")


def _package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _tools(target: Target) -> dict[str, Any]:
    board = target.board
    if not board.emulated:
        lab = target.lab.board(board.id) if target.lab is not None else None
        places = ", ".join(b.probe for b in target.benches if b.probe) or None
        return {
            "probe": places or target.probe or (lab.probe if lab is not None else None),
            "pyocd_version": _package_version("pyocd"),
        }
    tools: dict[str, Any] = {"compiler": _first_line(["arm-none-eabi-gcc", "--version"])}
    if board.kind == "qemu":
        tools["qemu"] = _first_line(["qemu-system-arm", "--version"])
    elif board.kind == "renode":
        tools["renode"] = _first_line(["renode", "--version"])
    return tools


def started_clock() -> tuple[datetime, float]:
    """(UTC start time, monotonic start) of a run, taken before any work."""
    return datetime.now(timezone.utc), time.monotonic()


def collect_context(
    target: Target, image: FirmwareImage, *, dump: str, started: datetime
) -> dict[str, Any]:
    """The run's context once the image is built and the device is connected."""
    context: dict[str, Any] = {
        "date": started.isoformat(timespec="seconds"),
        "hil_version": hil.__version__,
        "git_commit": git_commit(),
        **_tools(target),
        "dump": dump,
        "flash_bytes": image.flash_bytes,
        "ram_bytes": image.ram_bytes,
        "farm": _farm(target),
        "attached": True if target.attach else None,
    }
    return {k: v for k, v in context.items() if v is not None}


def _farm(target: Target) -> dict[str, Any] | None:
    """The labgrid coordinator and the places the run held, when it ran on a farm."""
    if target.farm is None:
        return None
    return {
        "coordinator": target.farm.coordinator,
        "asked": target.farm.describe(),
        "places": [
            {"place": b.place, "port": b.port, "probe": b.probe, "board": b.board}
            for b in target.benches
        ],
    }


def finish_context(context: dict[str, Any], started: float, link_stats: list[dict]) -> None:
    """What is known only at the end: the wall time and each device's link counters."""
    context["wall_time_s"] = round(time.monotonic() - started, 3)
    context["link_stats"] = link_stats


def baseline_entry(
    report: RunReport, baseline: Baseline, path: Path, max_regression: float
) -> dict[str, Any] | None:
    """This run's counts against ``--baseline``, per layer, for the count chart; None when
    the run has no counts to compare (the gate itself says why, after the reports)."""
    try:
        comparison = compare_counts(baseline, baseline_from_report(report), max_regression)
    except ConfigError:
        return None
    return {
        "path": str(path),
        "max_regression": max_regression,
        "layers": [
            {
                "index": row.index,
                "baseline": row.baseline,
                "now": row.now,
                "change": None if math.isinf(row.change) else row.change,
                "over": row.over,
            }
            for row in comparison.rows
        ],
    }
