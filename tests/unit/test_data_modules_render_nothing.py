"""Only the command line and the report sinks draw: every other module returns data.

Tables, consoles and colours live in hil/cli/ and hil/report/; a data module that
imported rich would tie what it computes to one way of showing it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import hil

PACKAGE = Path(hil.__file__).parent
RENDERING_PACKAGES = ("cli", "report")
DATA_MODULES = sorted(
    p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] not in RENDERING_PACKAGES
)


def rich_imports(source: str) -> list[str]:
    """Every import of rich or one of its modules, wherever in the module it is."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [n for n in names if n == "rich" or n.startswith("rich.")]
    return found


def test_the_scan_sees_the_data_layers():
    parts = {p.relative_to(PACKAGE).parts[0] for p in DATA_MODULES}
    assert {"validate", "bench", "device", "model"} <= parts
    assert not parts & set(RENDERING_PACKAGES)


@pytest.mark.parametrize(
    "source",
    [
        "import rich",
        "from rich.table import Table",
        "def f():\n    import rich.console as c\n",
        "import os, rich.markup",
    ],
)
def test_every_form_of_import_is_caught(source):
    assert rich_imports(source)


def test_lookalike_names_are_not_rich():
    assert not rich_imports("import richer\nfrom .rich import x\nfrom enriched import rich\n")


@pytest.mark.parametrize("module", DATA_MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_data_module_does_not_import_rich(module):
    assert not rich_imports(module.read_text()), (
        f"{module.relative_to(PACKAGE)} imports rich: return data and draw it in "
        "hil/cli/ or hil/report/"
    )
