"""Data flows down the layers: a lower package never imports a higher one, and the
errors a user can meet are declared in hil/errors.py."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import hil
from hil import errors

PACKAGE = Path(hil.__file__).parent
# The layers, lowest first. A module may import its own layer and the ones below,
# never one above: data flows from the model file down to the reports.
LAYERS = (
    ("errors", "text", "datadirs", "outputs"),
    ("config",),
    ("kernels", "model", "reference"),
    ("export", "firmware", "protocol"),
    ("runners", "transport", "farm"),
    ("device",),
    ("validate",),
    ("report",),
    ("bench",),
    ("cli", "pytest_plugin"),
)
LEVEL = {name: level for level, names in enumerate(LAYERS) for name in names}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _part(name: str) -> str:
    return name.split(".")[1] if name.startswith("hil.") else ""


def test_every_package_and_top_level_module_has_a_layer():
    # Python modules and packages; data folders (hil/datasets/) hold no code.
    paths = [p for p in PACKAGE.iterdir() if p.suffix == ".py" or (p / "__init__.py").is_file()]
    parts = {p.stem if p.is_file() else p.name for p in paths}
    parts = {p for p in parts if not p.startswith(("_", "."))}
    assert parts - {"__init__"} <= set(LEVEL), sorted(parts - set(LEVEL) - {"__init__"})


@pytest.mark.parametrize("part", sorted(LEVEL))
def test_no_layer_imports_a_higher_one(part):
    path = PACKAGE / part
    modules = [PACKAGE / f"{part}.py"] if not path.is_dir() else sorted(path.rglob("*.py"))
    for module in modules:
        upward = {n for n in _imports(module) if LEVEL.get(_part(n), -1) > LEVEL[part]}
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
