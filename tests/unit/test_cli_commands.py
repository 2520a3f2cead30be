"""Commands register themselves: every hil.cli module with register(app) adds its commands."""

from __future__ import annotations

import importlib
import pkgutil

import typer

import hil.cli


def _registering_modules() -> list[str]:
    names = []
    for info in pkgutil.iter_modules(hil.cli.__path__):
        module = importlib.import_module(f"hil.cli.{info.name}")
        if callable(getattr(module, "register", None)):
            names.append(info.name)
    return names


def _names(app: typer.Typer) -> set[str]:
    commands = {c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands}
    return commands | {g.name for g in app.registered_groups}


def test_every_registering_module_adds_its_commands():
    group = typer.main.get_command(hil.cli.app)
    for name in _registering_modules():
        probe = typer.Typer()
        importlib.import_module(f"hil.cli.{name}").register(probe)
        added = _names(probe)
        assert added and added <= set(group.commands), f"hil.cli.{name} registered {added}"


def test_the_known_commands_are_all_there():
    group = typer.main.get_command(hil.cli.app)
    assert {"bench", "boards", "build", "conformance", "flash", "model", "run", "soak"} <= set(
        group.commands
    )
