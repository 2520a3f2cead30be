"""The version is written once, in hil/__init__.py; the package metadata and the CLI read it."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

import hil
from hil.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_pyproject_takes_the_version_from_the_package():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "version" not in project["project"]
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "hil.__version__"}


def test_installed_metadata_and_cli_agree_with_the_package(capsys):
    assert version("hil") == hil.__version__
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"hil {hil.__version__}"


def test_the_licence_named_in_the_metadata_is_shipped():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert project["project"]["license"] == "Apache-2.0"
    text = (REPO / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
