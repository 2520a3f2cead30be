"""Data flows down the layers: a lower package never imports a higher one, and the
errors a user can meet are declared in hil/errors.py."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import hil
from hil import errors

PACKAGE = Path(hil.__file__).parent
# Lower layers, and what they must never reach for (the device session and up).
HIGHER = (
    "hil.session",
    "hil.deploy",
    "hil.shard",
    "hil.check",
    "hil.report",
    "hil.cli",
    "hil.pytest_plugin",
)
LOWER = ("errors.py", "model", "reference", "firmware", "protocol", "runners")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(part: str) -> list[Path]:
    path = PACKAGE / part
    return [path] if path.is_file() else sorted(path.rglob("*.py"))


@pytest.mark.parametrize("part", LOWER)
def test_lower_layers_never_import_higher_ones(part):
    for module in _modules(part):
        upward = {n for n in _imports(module) if n.startswith(HIGHER)}
        assert not upward, f"{module.relative_to(PACKAGE)} imports {sorted(upward)}"


def test_the_pytest_plugin_does_not_depend_on_the_cli():
    assert not {n for n in _imports(PACKAGE / "pytest_plugin.py") if n.startswith("hil.cli")}


def test_device_errors_are_declared_in_errors_py():
    for name in (
        "DeviceGone",
        "LinkTimeout",
        "DeviceReset",
        "WatchdogReset",
        "ImageChanged",
        "KernelRefused",
        "Interrupted",
    ):
        assert getattr(errors, name).__module__ == "hil.errors"
    # What a failed vector had produced is a declared field, not an attribute added later.
    assert errors.DeviceError("x").results == []
    assert errors.DeviceError("x", results=[1]).results == [1]
